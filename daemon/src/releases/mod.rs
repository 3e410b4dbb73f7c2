//! Other Wasmtime releases: crosscheck built against each of them (cached)
//! or their published C API libraries, and the bisection of a finding
//! across them.
//!
//! In: this crosscheck's source tree, a range of Wasmtime major releases, a
//! finding's module, seed and signature.
//! Out: a crosscheck binary per release, and which release first shows (or
//! first fixes) a finding.

pub mod bisect;
pub mod builds;
pub mod c_api_release;
pub mod release_sources;
pub mod spinner;
pub mod toolchain;
