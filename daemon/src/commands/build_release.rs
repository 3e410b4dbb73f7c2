//! `crosscheck build-release MAJOR`: crosscheck built against a published
//! Wasmtime release (the cache `bisect` uses), to fuzz that release with it;
//! with `--c-api`, the release's published C API library instead.

use crate::config::Config;
use crate::releases::builds::{Builds, BUILT_FROM};
use crate::releases::spinner::Spinner;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `crosscheck build-release`.
#[derive(Args)]
pub struct BuildReleaseArgs {
    /// The Wasmtime major release (its newest patch release is used).
    major: u64,
    /// Fetch Wasmtime's own build of the release's C API library (its
    /// `wasmtime` wheel from PyPI, seconds) instead of building crosscheck
    /// against the release's crates (minutes): engines `NAME@MAJOR` then
    /// run through it. For releases whose crates do not resolve or build
    /// here; settings of the configuration swarm and injected faults are
    /// not available through it.
    #[arg(long)]
    c_api: bool,
    #[command(flatten)]
    builds: BuildsArgs,
}

/// Where releases are built, and from what: the options `bisect` shares.
#[derive(Args)]
pub struct BuildsArgs {
    /// Where the builds are kept (default: `<data_dir>/builds`; a target
    /// directory of a few GB shared by every release, and each release's
    /// binary).
    #[arg(long, value_name = "DIR")]
    cache: Option<PathBuf>,
    /// The crosscheck checkout to build from (default: the one this binary
    /// was built from).
    #[arg(long, value_name = "DIR")]
    source: Option<PathBuf>,
    /// Build again even when a build is cached.
    #[arg(long)]
    rebuild: bool,
}

impl BuildsArgs {
    /// The cache of builds these options name.
    pub fn builds(&self, config: &Config) -> Builds {
        let cache = self.cache.clone().unwrap_or_else(|| config.builds_dir());
        let source = self
            .source
            .clone()
            .unwrap_or_else(|| PathBuf::from(BUILT_FROM));
        Builds::new(&cache, &source, self.rebuild)
    }
}

/// Runs the command: builds (or finds) the binary and prints its path.
pub fn run(config: &Config, args: BuildReleaseArgs) -> Result<ExitCode> {
    if args.c_api {
        let release = crate::releases::c_api_release::fetch(args.major, args.builds.rebuild)?;
        println!(
            "Wasmtime {} (its C API library): {}",
            release.version,
            release.library.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let spinner = Spinner::new();
    let release = args.builds.builds(config).release(args.major, &spinner);
    spinner.finish();
    let release = release?;
    println!("Wasmtime {}: {}", release.version, release.binary.display());
    Ok(ExitCode::SUCCESS)
}
