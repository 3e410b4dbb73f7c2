//! Records the versions of the engines and the generator that Cargo.lock
//! pins, for reports and reproduction bundles.

fn main() {
    let lock = std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("..")
        .join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let packages: Vec<toml::Value> = std::fs::read_to_string(&lock)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|table| table.get("package")?.as_array().cloned())
        .unwrap_or_default();
    for (krate, var) in [
        ("wasmtime", "CROSSCHECK_WASMTIME_VERSION"),
        ("wasmi", "CROSSCHECK_WASMI_VERSION"),
        ("wasm-smith", "CROSSCHECK_WASM_SMITH_VERSION"),
    ] {
        let version = packages
            .iter()
            .find(|p| p.get("name").and_then(|n| n.as_str()) == Some(krate))
            .and_then(|p| p.get("version")?.as_str())
            .unwrap_or("unknown");
        println!("cargo:rustc-env={var}={version}");
    }
}
