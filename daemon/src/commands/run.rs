//! `crosscheck run`: the long-running daemon.

use crate::config::Config;
use crate::process::stop_signals::StopSignals;
use crate::process::supervisor::{self, RunLimits};
use crate::triage::background::BackgroundTriage;
use anyhow::Result;
use clap::Args;
use std::process::ExitCode;
use std::time::Duration;

/// Arguments of `crosscheck run`.
#[derive(Args)]
pub struct RunArgs {
    /// Stop after this long: `8h`, `30m`, `90s`, `1h 30m`.
    #[arg(long, value_parser = humantime::parse_duration)]
    duration: Option<Duration>,
    /// Stop after this many cases.
    #[arg(long)]
    cases: Option<u64>,
    /// Worker processes (overrides `[daemon] workers`).
    #[arg(long)]
    workers: Option<usize>,
}

/// Runs the daemon until the duration, the case count or SIGINT/SIGTERM.
/// Exits 0 when it stops as asked; findings are in the store, and
/// `crosscheck status` / `crosscheck findings` show them.
pub fn run(config: &Config, args: RunArgs) -> Result<ExitCode> {
    // A second signal ends the process at once (130/143) with the run
    // recorded as killed; the store stays consistent (unfinished seeds are
    // run again next time).
    let signals = StopSignals::install(&config.store)?;
    let workers = match args.workers {
        Some(0) => anyhow::bail!("--workers must be at least 1"),
        Some(n) => {
            crate::config::check_workers("--workers", n)?;
            n
        }
        None => config.workers(),
    };
    let limits = RunLimits {
        duration: args.duration,
        cases: args.cases,
    };
    serve_dashboard(config)?;
    let triage = BackgroundTriage::of(config);
    let background = triage
        .as_ref()
        .map(|t| t as &dyn supervisor::BackgroundWork);
    let summary = supervisor::run(config, workers, limits, &signals, background)?;
    let seconds = summary.elapsed.as_secs_f64();
    println!(
        "run {} stopped ({}): {} cases in {seconds:.1} s ({:.1} cases/s) on {workers} worker(s); \
         {} hits, {} new finding(s), {} in the store; {} worker restart(s)",
        summary.run,
        summary.reason,
        summary.cases,
        summary.cases as f64 / seconds.max(1e-9),
        summary.hits,
        summary.new_findings,
        summary.total_findings,
        summary.restarts,
    );
    Ok(ExitCode::SUCCESS)
}

/// Starts the dashboard of `[dashboard] address`, once the store exists. An
/// address in use is a warning, not a reason to stop a night of fuzzing.
fn serve_dashboard(config: &Config) -> Result<()> {
    if config.dashboard.address.is_empty() {
        return Ok(());
    }
    // The store must exist before the first request; the daemon opens it
    // again (and migrates it) itself.
    crate::store::Store::open(&config.store)?;
    match crate::dashboard::start(config, &config.dashboard.address) {
        Ok(bound) => tracing::info!("dashboard on http://{bound}/"),
        Err(err) => tracing::warn!("no dashboard: {err:#}"),
    }
    Ok(())
}
