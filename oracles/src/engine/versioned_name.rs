//! Engine names that carry a Wasmtime release: `NAME@MAJOR` runs NAME on
//! crosscheck built against Wasmtime MAJOR (`engine::other_version`); a
//! name without it runs on the linked release.

/// `(base name, release major)` of an engine name: `("cranelift-tail-signals",
/// Some(38))` for `cranelift-tail-signals@38`, `(name, None)` for an engine
/// of the linked release.
pub fn split_version(name: &str) -> (&str, Option<u64>) {
    match name.rsplit_once('@') {
        Some((base, major)) => match major.parse() {
            Ok(major) => (base, Some(major)),
            Err(_) => (name, None),
        },
        None => (name, None),
    }
}

/// The major release of Wasmtime this build links (`48` for 48.0.8).
pub fn linked_major() -> u64 {
    crate::versions::WASMTIME
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .expect("Cargo.lock names Wasmtime's version")
}

/// The release an engine runs on: its `@MAJOR`, else the linked one.
pub fn release_of(name: &str) -> u64 {
    split_version(name).1.unwrap_or_else(linked_major)
}
