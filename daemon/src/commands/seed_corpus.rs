//! `crosscheck seed-corpus --seeds A..B DIR`: the daemon's generation
//! entropy for a seed range, one file per seed, as inputs for the
//! `differential` fuzz target.
//!
//! The fuzz target reads its input as wasm-smith's entropy, exactly as the
//! daemon reads a seed's stream, so a file written here makes the target
//! build the daemon's module for that seed (call arguments differ: the
//! target draws them from the input's hash). libFuzzer grows its own inputs
//! from a few bytes; starting from these it begins with full-size modules
//! of the daemon's distribution.

use crate::config::Config;
use crate::seeds::parse_seed_range;
use anyhow::{Context, Result};
use clap::Args;
use oracles::case::generate::{seed_stream, StreamPurpose};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `crosscheck seed-corpus`.
#[derive(Args)]
pub struct SeedCorpusArgs {
    /// Seed range START..END (END excluded).
    #[arg(long, value_name = "START..END")]
    seeds: String,
    /// Directory to write `seed-N` files into (created if missing).
    dir: PathBuf,
}

/// Runs the command.
pub fn run(config: &Config, args: SeedCorpusArgs) -> Result<ExitCode> {
    let seeds = parse_seed_range(&args.seeds)?;
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("creating {}", args.dir.display()))?;
    let count = seeds.end - seeds.start;
    for seed in seeds {
        let bytes = seed_stream(
            seed,
            StreamPurpose::Module,
            config.library.generator.entropy_bytes,
        );
        let path = args.dir.join(format!("seed-{seed}"));
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
    }
    println!(
        "{count} input(s) of {} bytes in {}",
        config.library.generator.entropy_bytes,
        args.dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
