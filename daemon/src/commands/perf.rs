//! `crosscheck perf FILE --invoke F --args ...`: the run-time cost of one
//! export on every engine of the matrix, each relative to the fastest:
//! explicit stack checks and calling conventions cost call-heavy code a
//! measurable share of run time (../shared/seeds/002), and this shows how
//! much on a given module.

use crate::config::Config;
use anyhow::{bail, Context, Result};
use clap::Args;
use oracles::case::module_file::read_module_file;
use oracles::cost::run::{time_calls, CallTiming};
use oracles::{ModuleInfo, Plan};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `crosscheck perf`.
#[derive(Args)]
pub struct PerfArgs {
    /// A .wasm or .wat module.
    file: PathBuf,
    /// The export to time.
    #[arg(long, value_name = "NAME")]
    invoke: String,
    /// Comma-separated arguments, e.g. 3,8.
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    args: Vec<String>,
    /// Calls per round (one instance per round).
    #[arg(long, default_value_t = 20)]
    calls: usize,
    /// Rounds per engine; the median round counts, the spread is shown.
    #[arg(long, default_value_t = 7)]
    rounds: usize,
}

/// Runs the command.
pub fn run(config: &Config, args: PerfArgs) -> Result<ExitCode> {
    if args.calls == 0 || args.rounds == 0 {
        bail!("--calls and --rounds must be at least 1");
    }
    let wasm = read_module_file(&args.file)?;
    let info = ModuleInfo::parse(&wasm)
        .with_context(|| format!("{} cannot be run", args.file.display()))?;
    let mut plan = Plan::single_call(&info, &args.invoke, &args.args)?;
    let call = plan.calls[0].clone();
    plan.calls = vec![call; args.calls];
    let matrix = config.library.matrix()?;
    let (timings, refused) = time_calls(&matrix, &wasm, &plan, args.rounds)
        .with_context(|| format!("timing {:?} of {}", args.invoke, args.file.display()))?;
    let Some(fastest) = timings.iter().map(CallTiming::median).min() else {
        bail!("no engine ran the module: {}", refused.join("; "));
    };
    println!(
        "{} {:?}({}): {} calls per round, {} rounds, median round per call (fuel metering on, as when fuzzing)",
        args.file.display(),
        // Names come from the module: escaped, so that a name cannot send
        // the terminal escape sequences.
        args.invoke,
        args.args.join(", ").escape_debug(),
        args.calls,
        args.rounds
    );
    let width = timings
        .iter()
        .map(|t| t.engine.len())
        .max()
        .unwrap_or(0)
        .max(6)
        + 2;
    println!(
        "{:<width$}{:>14}{:>12}{:>24}  result",
        "engine", "per call", "relative", "spread (min..max)"
    );
    for t in &timings {
        let relative = t.median().as_secs_f64() / fastest.as_secs_f64().max(1e-12);
        println!(
            "{:<width$}{:>14}{:>11.2}x{:>24}  {}",
            t.engine,
            format!("{:.3} ms", t.median().as_secs_f64() * 1e3),
            relative,
            format!(
                "{:.3}..{:.3} ms",
                t.per_call[0].as_secs_f64() * 1e3,
                t.per_call[t.per_call.len() - 1].as_secs_f64() * 1e3
            ),
            t.result
        );
    }
    for line in &refused {
        println!("refused: {line}");
    }
    let results: std::collections::BTreeSet<&str> =
        timings.iter().map(|t| t.result.as_str()).collect();
    if results.len() > 1 {
        println!("the engines returned different results: run `crosscheck check` on it");
        return Ok(ExitCode::from(super::EXIT_FINDING));
    }
    Ok(ExitCode::SUCCESS)
}
