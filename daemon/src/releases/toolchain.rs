//! Which Rust toolchain builds crosscheck against a Wasmtime release: the
//! default one when it is new enough for every package the checkout's lock
//! file pins (Wasmtime 49 needs rustc 1.96, 50 and 51 need 1.97), else the
//! first installed rustup toolchain that is (such as a nightly), else an
//! error naming what is needed.

use anyhow::{anyhow, bail, Context, Result};
use std::path::Path;
use std::process::Command;

/// A Rust version, `major.minor.patch` (pre-release tags ignored, as Cargo
/// ignores them when it checks `rust-version`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RustVersion(u64, u64, u64);

impl RustVersion {
    /// Parses `1.97`, `1.95.0` or `1.97.0-nightly`.
    pub fn parse(text: &str) -> Option<RustVersion> {
        let text = text.split(['-', '+']).next()?;
        let mut parts = text.split('.').map(|p| p.parse::<u64>());
        let major = parts.next()?.ok()?;
        let minor = parts.next()?.ok()?;
        let patch = match parts.next() {
            Some(p) => p.ok()?,
            None => 0,
        };
        Some(RustVersion(major, minor, patch))
    }
}

impl std::fmt::Display for RustVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// How to run cargo for a build: the toolchain's name when it is not the
/// default one (run through `rustup run`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toolchain {
    /// `None`: the default toolchain (the `CARGO` that runs crosscheck, or
    /// `cargo`).
    pub name: Option<String>,
    /// Its rustc's version.
    pub version: RustVersion,
}

impl Toolchain {
    /// A cargo command on this toolchain.
    pub fn cargo(&self) -> Command {
        match &self.name {
            None => Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())),
            Some(name) => {
                let mut command = Command::new("rustup");
                command.args(["run", name, "cargo"]);
                command
            }
        }
    }
}

/// The toolchain for building the checkout at `source` (its lock file
/// already pins the release): the default when new enough, else the first
/// installed toolchain that is.
pub fn for_checkout(source: &Path) -> Result<Toolchain> {
    let default = Toolchain {
        name: None,
        version: rustc_version(None)?,
    };
    let needed = needed_rust(&default, source)?;
    let Some((package, needed)) = needed else {
        return Ok(default);
    };
    if default.version >= needed {
        return Ok(default);
    }
    let installed = installed_toolchains().unwrap_or_default();
    for name in &installed {
        if let Ok(version) = rustc_version(Some(name)) {
            if version >= needed {
                tracing::info!(toolchain = %name, %version, %package, needs = %needed, "building with another toolchain");
                return Ok(Toolchain {
                    name: Some(name.clone()),
                    version,
                });
            }
        }
    }
    bail!(
        "{package} needs rustc {needed}, the default toolchain has {} and no installed toolchain is new enough ({}); install one, e.g. `rustup toolchain install nightly`",
        default.version,
        if installed.is_empty() {
            "rustup lists none".to_string()
        } else {
            installed.join(", ")
        }
    )
}

/// The highest `rust-version` among the packages of `source`'s dependency
/// graph, with the package that asks for it.
fn needed_rust(toolchain: &Toolchain, source: &Path) -> Result<Option<(String, RustVersion)>> {
    let output = toolchain
        .cargo()
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(source.join("Cargo.toml"))
        .output()
        .context("running cargo metadata")?;
    if !output.status.success() {
        bail!(
            "cargo metadata of {} failed: {}",
            source.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("reading cargo metadata's output")?;
    Ok(highest_rust_version(&metadata))
}

/// The highest `rust_version` in cargo metadata's `packages`.
fn highest_rust_version(metadata: &serde_json::Value) -> Option<(String, RustVersion)> {
    metadata["packages"]
        .as_array()?
        .iter()
        .filter_map(|p| {
            let version = RustVersion::parse(p["rust_version"].as_str()?)?;
            let name = format!("{} {}", p["name"].as_str()?, p["version"].as_str()?);
            Some((name, version))
        })
        .max_by_key(|(_, version)| *version)
}

/// `rustc -V` of the default toolchain or of `name`.
fn rustc_version(name: Option<&str>) -> Result<RustVersion> {
    let output = match name {
        None => Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
            .arg("-V")
            .output(),
        Some(name) => Command::new("rustup")
            .args(["run", name, "rustc", "-V"])
            .output(),
    }
    .context("running rustc -V")?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.split_whitespace()
        .nth(1)
        .and_then(RustVersion::parse)
        .ok_or_else(|| anyhow!("cannot read a version from rustc -V: {text:?}"))
}

/// The toolchains rustup has installed, stable ones first.
fn installed_toolchains() -> Result<Vec<String>> {
    let output = Command::new("rustup")
        .args(["toolchain", "list"])
        .output()
        .context("running rustup toolchain list")?;
    let mut names: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect();
    names.sort_by_key(|n| n.starts_with("nightly"));
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_as_cargo_checks_rust_version() {
        let v = |t| RustVersion::parse(t).unwrap();
        assert_eq!(v("1.97"), v("1.97.0"));
        assert_eq!(v("1.97.0-nightly"), v("1.97.0"));
        assert!(v("1.95.0") < v("1.96"));
        assert!(RustVersion::parse("nightly").is_none());
        let metadata = serde_json::json!({"packages": [
            {"name": "wasmtime", "version": "50.0.2", "rust_version": "1.97.0"},
            {"name": "wasmi", "version": "2.0.0", "rust_version": "1.86"},
            {"name": "old", "version": "1.0.0", "rust_version": null},
        ]});
        assert_eq!(
            highest_rust_version(&metadata),
            Some(("wasmtime 50.0.2".to_string(), v("1.97")))
        );
    }
}
