//! `crosscheck store copy --from A --to B`: moves a store's findings, hits,
//! runs, counters and modules into another, empty store; each side is a
//! data directory (SQLite) or a `postgres://` URL.

use crate::config::Config;
use crate::store::{redact, Store};
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use std::process::ExitCode;

/// Arguments of `crosscheck store`.
#[derive(Args)]
pub struct StoreArgs {
    #[command(subcommand)]
    action: StoreAction,
}

/// What to do with stores.
#[derive(Subcommand)]
enum StoreAction {
    /// Copy a whole store into an empty one, ids kept (e.g. an SQLite
    /// store into a fleet's PostgreSQL store).
    Copy {
        /// The store to read: a data directory or a postgres:// URL.
        #[arg(long)]
        from: String,
        /// The store to write (created if needed; must hold no findings or
        /// runs): a data directory or a postgres:// URL.
        #[arg(long)]
        to: String,
    },
}

/// A store as messages name it: its directory, or its URL without the
/// password.
fn shown(store: &crate::config::StoreConfig) -> String {
    if store.url.is_empty() {
        store.data_dir.display().to_string()
    } else {
        redact(&store.url)
    }
}

/// Runs the command.
pub fn run(config: &Config, args: StoreArgs) -> Result<ExitCode> {
    match args.action {
        StoreAction::Copy { from, to } => {
            let (from_store, to_store) = (config.store.named(&from), config.store.named(&to));
            let source = Store::open_read_only(&from_store)
                .with_context(|| format!("opening the store to copy, {}", shown(&from_store)))?;
            let target = Store::open(&to_store)
                .with_context(|| format!("opening the store to copy into, {}", shown(&to_store)))?;
            let copied = source.copy_into(&target)?;
            println!(
                "copied {} into {}: {}",
                source.location(),
                target.location(),
                copied.describe()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
