//! `crosscheck bundle ID`: write a finding's reproduction bundle.

use crate::config::Config;
use crate::store::Store;
use crate::triage::bundle;
use anyhow::{bail, Context, Result};
use clap::Args;
use std::path::{Path, PathBuf};
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
    let store = Store::open_read_only(&config.store)?;
    let f = store.require_finding(args.id)?;
    let dir = match args.out {
        Some(dir) => {
            refuse_occupied(&dir)?;
            dir
        }
        // The store's own bundle of this finding, written again.
        None => bundle::default_dir(config, f.id),
    };
    bundle::write(config, &store, &f, &dir)?;
    println!("{}", dir.display());
    Ok(ExitCode::SUCCESS)
}

/// Refuses a directory that already holds files: a bundle mixed into
/// someone's files would leave theirs beside it, or replace them.
fn refuse_occupied(dir: &Path) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    if !dir.is_dir() {
        bail!("--out {} is a file, not a directory", dir.display());
    }
    let occupied = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list --out {}", dir.display()))?
        .next()
        .is_some();
    if occupied {
        bail!(
            "--out {} is not empty; name a new or empty directory",
            dir.display()
        );
    }
    Ok(())
}
