//! Versions of the engines and the generator this build links (from
//! Cargo.lock, read by the build script).

/// Wasmtime.
pub const WASMTIME: &str = env!("CROSSCHECK_WASMTIME_VERSION");
/// wasmi.
pub const WASMI: &str = env!("CROSSCHECK_WASMI_VERSION");
/// wasm-smith.
pub const WASM_SMITH: &str = env!("CROSSCHECK_WASM_SMITH_VERSION");
