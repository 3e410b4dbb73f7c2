//! `crosscheck bundle ID`: write a finding's reproduction bundle.

use crate::config::Config;
use crate::store::Store;
use crate::triage::bundle;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `crosscheck bundle`.
#[derive(Args)]
pub struct BundleArgs {
    /// The finding's id.
    id: i64,
    /// The directory to write (default: `bundles/finding-ID` in the store).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Runs the command.
pub fn run(config: &Config, args: BundleArgs) -> Result<ExitCode> {
    let store = Store::open_existing(&config.store)?;
    let f = store.require_finding(args.id)?;
    let dir = args
        .out
        .unwrap_or_else(|| bundle::default_dir(config, f.id));
    bundle::write(config, &store, &f, &dir)?;
    println!("{}", dir.display());
    Ok(ExitCode::SUCCESS)
}
