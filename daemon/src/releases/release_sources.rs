//! A Wasmtime release's compiler crates, put into Cargo's own cache with
//! `cargo fetch` (crates.io, where every build of crosscheck gets its
//! crates: no other network source), at the exact versions the release
//! depends on, for the library to read
//! (`oracles::case::release_sources`): the release diff and rule-guided
//! generation aimed at a candidate run through its C API library.

use anyhow::{bail, Context, Result};
use oracles::case::release_sources::{self, crates_of, dependency_version, ReleaseSources};
use std::process::Command;

/// The sources of Wasmtime `wasmtime` (a full version) that rule-guided
/// generation reads, its Cranelift's: those in Cargo's cache, else
/// fetched. Every process of a run calls it before its first case, so it
/// asks the registry only when the cache lacks them.
pub fn ensure_cranelift(wasmtime: &str) -> Result<ReleaseSources> {
    match release_sources::locate(wasmtime) {
        Ok(found) => Ok(found),
        Err(_) => {
            fetch_cranelift(wasmtime)?;
            release_sources::locate(wasmtime)
        }
    }
}

/// Every source a release diff compares of Wasmtime `wasmtime`: its
/// Cranelift (which must come), and Pulley's and Winch's crates where the
/// registry has them (`ReleaseSources::pulley`, `::winch`).
pub fn ensure(wasmtime: &str) -> Result<ReleaseSources> {
    if let Ok(found) = release_sources::locate(wasmtime) {
        if found.pulley.is_some() && found.winch.is_some() {
            return Ok(found);
        }
    }
    fetch_cranelift(wasmtime)?;
    for (name, version) in crates_of(wasmtime).into_iter().skip(1) {
        if let Err(e) = fetch_crate(name, &version) {
            tracing::info!(
                "{name} {version} is not fetched (the release diff leaves it out): {e:#}"
            );
        }
    }
    release_sources::locate(wasmtime)
}

/// Fetches the Cranelift integration of Wasmtime `wasmtime` and the exact
/// cranelift-codegen it names.
fn fetch_cranelift(wasmtime: &str) -> Result<()> {
    let (integration, version) = crates_of(wasmtime)
        .into_iter()
        .next()
        .expect("the integration comes first");
    fetch_crate(integration, &version)
        .with_context(|| format!("fetching Wasmtime {wasmtime}'s Cranelift"))?;
    // The integration asks for cranelift-codegen by a requirement; the
    // release was published with the version it names.
    let manifest = release_sources::crate_dir(integration, &version)
        .context("cargo fetch left no Cranelift integration in the cache")?
        .join("Cargo.toml");
    let codegen = dependency_version(&manifest, "cranelift-codegen")?;
    fetch_crate("cranelift-codegen", &codegen)
}

/// `cargo fetch` of a manifest that depends on `name` at exactly
/// `version`, in a private temporary directory.
fn fetch_crate(name: &str, version: &str) -> Result<()> {
    let dir = oracles::temp::private_dir("crosscheck-fetch-")?;
    std::fs::create_dir(dir.path().join("src"))?;
    std::fs::write(dir.path().join("src").join("lib.rs"), "")?;
    std::fs::write(
        dir.path().join("Cargo.toml"),
        format!(
            "[package]\nname = \"crosscheck-fetch\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
             [dependencies]\n{name} = \"={version}\"\n\n[workspace]\n"
        ),
    )?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(&cargo)
        .arg("fetch")
        .arg("--manifest-path")
        .arg(dir.path().join("Cargo.toml"))
        .output()
        .with_context(|| format!("running {} fetch", cargo.to_string_lossy()))?;
    if !out.status.success() {
        let error = String::from_utf8_lossy(&out.stderr);
        let last: Vec<&str> = error.lines().rev().take(4).collect();
        bail!(
            "cargo fetch of {name} {version} failed: {}",
            last.into_iter().rev().collect::<Vec<_>>().join(" / ")
        );
    }
    Ok(())
}
