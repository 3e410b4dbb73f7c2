//! `crosscheck shrink ID`: shrink a finding's module while it still gives
//! the same signature, every candidate run in a worker process.

use crate::config::Config;
use crate::process::probe::Prober;
use crate::store::Store;
use crate::triage::one_finding::triage;
use anyhow::{bail, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// Arguments of `crosscheck shrink`.
#[derive(Args)]
pub struct ShrinkArgs {
    /// The finding's id, as `crosscheck findings` lists it.
    id: i64,
    /// Failed candidates in a row after which the module counts as minimal
    /// (default: `[triage] shrink_attempts`).
    #[arg(long)]
    attempts: Option<u32>,
}

/// Runs the command.
pub fn run(config: &Config, args: ShrinkArgs) -> Result<ExitCode> {
    let mut store = Store::open_existing(&config.store)?;
    let finding = store.require_finding(args.id)?;
    let original = std::fs::metadata(store.artifact_path(&finding.artifact)).map_or(0, |m| m.len());
    let progress = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("{spinner} {elapsed} {msg}").expect("the template is valid"),
    );
    progress.enable_steady_tick(Duration::from_millis(200));
    progress.set_message(format!("re-running the {original}-byte module"));
    let shown = progress.clone();
    let attempts = args
        .attempts
        .unwrap_or(config.library.triage.shrink_attempts);
    let mut prober = Prober::new(config);
    let triaged = triage(
        config,
        &mut store,
        &mut prober,
        &finding,
        attempts,
        &AtomicBool::new(false),
        move |size| shown.set_message(format!("{size} bytes (from {original})")),
    )?;
    progress.finish_and_clear();
    let Some(shrunk) = triaged.shrunk else {
        bail!(
            "finding {} gave its signature in only {} of {} runs with this build and \
             configuration (flaky, or fixed); not shrunk",
            finding.id,
            triaged.reproduced,
            triaged.runs
        );
    };
    let stored = store.finding(finding.id)?.expect("the finding exists");
    let path = store.artifact_path(stored.shrunk.as_deref().expect("a shrunk module is stored"));
    println!(
        "finding {}: {} bytes -> {} bytes after {} candidates; still `{}`",
        finding.id,
        shrunk.original_size,
        shrunk.wasm.len(),
        shrunk.candidates,
        finding.signature
    );
    println!("shrunk module: {}", path.display());
    if let Some((merged, into)) = triaged.merge {
        println!(
            "finding {merged} merged into finding {into}: their shrunk modules have the same code and suspect"
        );
    }
    if let Ok(wat) = wasmprinter::print_bytes(&shrunk.wasm) {
        println!("\n{wat}");
    }
    Ok(ExitCode::SUCCESS)
}
