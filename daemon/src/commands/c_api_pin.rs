//! `crosscheck c-api-pin VERSION`: the entry that pins another Wasmtime
//! release's C API library (`oracles::engine::c_api::pinned::PINNED`).
//! It fetches the release's wheel without a pin, hashes the wheel and the
//! library inside it, and prints both with the Rust entry to paste; it
//! loads nothing. Check the wheel's hash against PyPI's page of the
//! release before committing the entry.

use crate::releases::c_api_release::{download_wheel, extract_library, sha256_of_file};
use anyhow::{bail, Context, Result};
use clap::Args;
use std::process::ExitCode;

/// Arguments of `crosscheck c-api-pin`.
#[derive(Args)]
pub struct CApiPinArgs {
    /// The exact release (`51.0.1`).
    version: String,
}

/// Runs the command.
pub fn run(args: CApiPinArgs) -> Result<ExitCode> {
    let version = args.version.trim();
    if version.is_empty() || !version.split('.').all(|p| p.parse::<u64>().is_ok()) {
        bail!("{:?} is not a release version such as 51.0.1", args.version);
    }
    let work = oracles::temp::private_dir("crosscheck-pin-")?;
    let wheel = download_wheel(version, None, &work.path().join("wheel"))?;
    let library = work.path().join("libwasmtime.so");
    extract_library(&wheel, &library)?;
    let name = wheel
        .file_name()
        .and_then(|n| n.to_str())
        .context("the wheel's file name is not text")?;
    let wheel_sha256 = sha256_of_file(&wheel)?;
    let library_sha256 = sha256_of_file(&library)?;
    println!("wheel:   {name}");
    println!("         sha256 {wheel_sha256}");
    println!(
        "library: {}",
        crate::releases::c_api_release::LIBRARY_IN_WHEEL
    );
    println!("         sha256 {library_sha256}");
    println!();
    println!("The entry for PINNED in oracles/src/engine/c_api/pinned.rs (it replaces the");
    println!("entry of the same major):");
    println!();
    println!("PinnedRelease {{");
    println!("    version: {version:?},");
    println!("    wheel: {name:?},");
    println!("    wheel_sha256: {wheel_sha256:?},");
    println!("    library_sha256: {library_sha256:?},");
    println!("}}");
    Ok(ExitCode::SUCCESS)
}
