//! `crosscheck shrink ID`: shrink a finding's module while it still gives
//! the same signature, every candidate run in a worker process.

use crate::config::Config;
use crate::probe::{read_module, Prober};
use crate::store::Store;
use anyhow::{bail, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::process::ExitCode;
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
    let mut store = Store::open_existing(&config.store.data_dir)?;
    let finding = store.finding(args.id)?.with_context(|| {
        format!(
            "no finding {} in {}",
            args.id,
            config.store.data_dir.display()
        )
    })?;
    let wasm = read_module(&store.artifact_path(&finding.artifact))?;
    let seed = finding.first_seed.unwrap_or(0);
    let mut prober = Prober::new(config);
    let now = prober.signature_of(&wasm, seed)?;
    if now.as_deref() != Some(finding.signature.as_str()) {
        bail!(
            "finding {} does not reproduce with this build and configuration: its module now gives {}",
            finding.id,
            now.as_deref().unwrap_or("no finding")
        );
    }
    let progress = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("{spinner} {elapsed} {msg}").expect("the template is valid"),
    );
    progress.enable_steady_tick(Duration::from_millis(200));
    progress.set_message(format!("{} bytes", wasm.len()));
    let shown = progress.clone();
    let original = wasm.len();
    let attempts = args.attempts.unwrap_or(config.triage.shrink_attempts);
    let shrunk =
        oracles::shrink::shrink(
            &wasm,
            attempts,
            seed,
            &mut |candidate| {
                Ok(prober.signature_of(candidate, seed)?.as_deref()
                    == Some(finding.signature.as_str()))
            },
            move |size| shown.set_message(format!("{size} bytes (from {original})")),
        )?;
    progress.finish_and_clear();
    store.set_shrunk(finding.id, &shrunk.wasm)?;
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
    if let Ok(wat) = wasmprinter::print_bytes(&shrunk.wasm) {
        println!("\n{wat}");
    }
    Ok(ExitCode::SUCCESS)
}
