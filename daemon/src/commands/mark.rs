//! `crosscheck mark ID open|fixed|ignored`: record a decision about a finding.

use crate::config::Config;
use crate::store::{Status, Store};
use anyhow::{bail, Result};
use clap::Args;
use std::process::ExitCode;

/// Arguments of `crosscheck mark`.
#[derive(Args)]
pub struct MarkArgs {
    /// The finding's id.
    id: i64,
    /// The new status.
    #[arg(value_enum)]
    status: Status,
}

/// Runs the command.
pub fn run(config: &Config, args: MarkArgs) -> Result<ExitCode> {
    let mut store = Store::open_existing(&config.store)?;
    if !store.set_status(args.id, args.status)? {
        bail!(
            "no finding {} in {}",
            args.id,
            config.store.data_dir.display()
        );
    }
    println!("finding {} is now {}", args.id, args.status.as_str());
    Ok(ExitCode::SUCCESS)
}
