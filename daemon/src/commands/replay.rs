//! `crosscheck replay`: every stored finding run again against the current
//! build and configuration, in worker processes: which still reproduce,
//! which are fixed.

use crate::config::Config;
use crate::process::probe::Prober;
use crate::store::Store;
use anyhow::Result;
use clap::Args;
use indicatif::{ParallelProgressIterator, ProgressBar, ProgressStyle};
use rayon::prelude::*;
use std::process::ExitCode;

/// Arguments of `crosscheck replay`.
#[derive(Args)]
pub struct ReplayArgs {
    /// Worker processes to replay with (default: `[daemon] workers`).
    #[arg(long)]
    jobs: Option<usize>,
}

/// What replaying one finding showed.
enum Replayed {
    Reproduces,
    Fixed,
    /// It gives another finding now.
    Changed(String),
    Failed(String),
}

/// What one finding's module gives now.
fn replay_one(
    prober: &mut Prober,
    f: &crate::store::StoredFinding,
    module: &Result<Vec<u8>>,
) -> Replayed {
    let outcome = match module {
        Ok(wasm) => prober.signature_for(wasm, f.first_seed.unwrap_or(0), f.case_signature()),
        Err(err) => Err(anyhow::anyhow!("{err:#}")),
    };
    match outcome {
        Ok(Some(now)) if oracles::judge::signature::covers(f.case_signature(), &now) => {
            Replayed::Reproduces
        }
        Ok(Some(now)) => Replayed::Changed(now),
        Ok(None) => Replayed::Fixed,
        Err(err) => Replayed::Failed(format!("{err:#}")),
    }
}

/// Runs the command.
pub fn run(config: &Config, args: ReplayArgs) -> Result<ExitCode> {
    let store = Store::open_read_only(&config.store)?;
    let findings = store.findings()?;
    let baseline = store.baseline()?;
    let jobs = args.jobs.unwrap_or_else(|| config.workers()).max(1);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs).build()?;
    let progress = ProgressBar::new(findings.len() as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} findings replayed, eta {eta}")
            .expect("the template is valid"),
    );
    // The store's connection stays on this thread; workers get the modules.
    let modules: Vec<Result<Vec<u8>>> = findings
        .iter()
        .map(|f| store.read_artifact(f.shrunk.as_ref().unwrap_or(&f.artifact)))
        .collect();
    let results: Vec<Replayed> = pool.install(|| {
        findings
            .par_iter()
            .zip(&modules)
            .progress_with(progress.clone())
            .map_init(
                || {
                    let mut prober = Prober::new(config);
                    prober.set_baseline(Some(baseline.clone()));
                    prober
                },
                |prober, (f, module)| replay_one(prober, f, module),
            )
            .collect()
    });
    progress.finish_and_clear();
    let mut fixed = 0;
    let mut reproducing = 0;
    for (f, result) in findings.iter().zip(&results) {
        let what = match result {
            Replayed::Reproduces => {
                reproducing += 1;
                "reproduces".to_string()
            }
            Replayed::Fixed => {
                fixed += 1;
                match f.status {
                    crate::store::Status::Fixed => "FIXED".to_string(),
                    _ => format!("FIXED (`crosscheck mark {} fixed`)", f.id),
                }
            }
            Replayed::Changed(now) => format!("CHANGED: now `{now}`"),
            Replayed::Failed(err) => format!("could not replay: {err}"),
        };
        println!(
            "#{:<4} {:<9} {:<8} {what} -- {}",
            f.id, f.kind, f.status, f.signature
        );
    }
    println!(
        "\n{} finding(s): {reproducing} reproduce, {fixed} fixed, {} changed or failed",
        findings.len(),
        findings.len() - reproducing - fixed
    );
    Ok(ExitCode::SUCCESS)
}
