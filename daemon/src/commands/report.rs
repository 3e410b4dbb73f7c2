//! `crosscheck report ID`: a finding as Markdown, ready to paste into an
//! upstream issue: what happens, who is suspected, versions, the module as
//! WAT, and the `wasmtime run` line of every Wasmtime variant.

use crate::config::Config;
use crate::store::Store;
use crate::triage::bundle::{markdown, ReportModule};
use crate::triage::inert;
use anyhow::Result;
use clap::Args;
use std::process::ExitCode;

/// Arguments of `crosscheck report`.
#[derive(Args)]
pub struct ReportArgs {
    /// The finding's id.
    id: i64,
}

/// Runs the command.
pub fn run(config: &Config, args: ReportArgs) -> Result<ExitCode> {
    let store = Store::open_read_only(&config.store)?;
    let f = store.require_finding(args.id)?;
    let module = ReportModule::of(&store, &f)?;
    let report = markdown(config, &f, &module, &format!("finding-{}.wasm", f.id))?;
    // Escaped already where the module chose the text; a terminal must
    // never act on any of it.
    print!("{}", inert::terminal(&report));
    eprintln!("module to attach: {}", module.path.display());
    Ok(ExitCode::SUCCESS)
}
