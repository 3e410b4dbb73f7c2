//! `crosscheck bench`: throughput of each stage on one core, as cases/s.

use crate::config::Config;
use crate::seeds::parse_seed_range;
use crate::sweep::{sweep, SweepOptions};
use anyhow::Result;
use clap::Args;
use oracles::{generate, ModuleInfo, Plan};
use std::process::ExitCode;
use std::time::Instant;

/// Arguments of `crosscheck bench`.
#[derive(Args)]
pub struct BenchArgs {
    /// Seeds to measure on.
    #[arg(long, value_name = "START..END", default_value = "0..500")]
    seeds: String,
    /// Instead of the stages: the daemon (`crosscheck run`) with 1 and 2
    /// worker processes against the in-process `sweep` with 1 and 2 threads,
    /// on the same seeds.
    #[arg(long)]
    daemon: bool,
    /// Instead of the stages: for every pair of code-generating engines of
    /// the matrix and its tie-breakers, on how many of the seeds' modules
    /// they generate byte-identical machine code.
    #[arg(long, conflicts_with = "daemon")]
    code_identity: bool,
    /// Instead of the stages: the full matrix with canaries around the
    /// explicit-checks variants' memories (`[execution] canaries`) against
    /// the same matrix without, in alternating rounds on the same seeds.
    #[arg(long, conflicts_with_all = ["daemon", "code_identity"])]
    canaries: bool,
    /// Instead of the stages: what Cranelift's optimizer removes (loads,
    /// stores, instructions: opt level none against speed) from the
    /// seeds' wasm-smith modules, with loops counting in the termination
    /// global and in locals, under fuel, an epoch check and neither.
    #[arg(long, conflicts_with_all = ["daemon", "code_identity", "canaries"])]
    optimizations: bool,
    /// Instead of the stages: where a case's time goes, per stage, engine
    /// and generation mode, on the worker's own path; then the daemon's
    /// cases/s on two workers and what it adds per case.
    #[arg(long, conflicts_with_all = ["daemon", "code_identity", "canaries", "optimizations"])]
    profile: bool,
}

/// Runs the command on the calling thread (main gives it a large stack).
pub fn run(config: &Config, args: BenchArgs) -> Result<ExitCode> {
    let seeds = parse_seed_range(&args.seeds)?;
    if args.code_identity {
        code_identity(config, seeds)?;
    } else if args.daemon {
        daemon_vs_sweep(config, seeds)?;
    } else if args.canaries {
        canary_cost(config, seeds)?;
    } else if args.optimizations {
        optimizations(config, seeds)?;
    } else if args.profile {
        super::bench_profile::profile(config, seeds)?;
    } else {
        measure(config, seeds)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Rounds of each setting in the canary comparison; the fastest counts.
const CANARY_ROUNDS: usize = 3;

/// Cases/s of the full matrix with and without canaries, on one thread.
fn canary_cost(config: &Config, seeds: std::ops::Range<u64>) -> Result<()> {
    let settings = &config.library;
    let with = settings.matrix()?;
    let mut without_settings = settings.clone();
    without_settings.execution.canaries = false;
    let without = without_settings.matrix()?;
    let n = seeds.end - seeds.start;
    println!(
        "crosscheck bench --canaries: {n} seeds ({}..{}), full matrix, one thread, best of {CANARY_ROUNDS} alternating rounds",
        seeds.start, seeds.end
    );
    let round = |matrix: &oracles::Matrix| -> Result<f64> {
        let start = Instant::now();
        for seed in seeds.clone() {
            oracles::run_seed(seed, &settings.generator, &settings.execution, matrix)?;
        }
        Ok(n as f64 / start.elapsed().as_secs_f64())
    };
    let (mut best_with, mut best_without) = (0f64, 0f64);
    for _ in 0..CANARY_ROUNDS {
        best_without = best_without.max(round(&without)?);
        best_with = best_with.max(round(&with)?);
    }
    println!("{:<32} {:>10}", "setting", "cases/s");
    println!("{:<32} {best_without:>10.1}", "canaries off");
    println!("{:<32} {best_with:>10.1}", "canaries on (the default)");
    println!(
        "cost of canaries: {:.1}% of cases/s",
        (1.0 - best_with / best_without) * 100.0
    );
    Ok(())
}

fn measure(config: &Config, seeds: std::ops::Range<u64>) -> Result<()> {
    let matrix = config.library.matrix()?;
    let n = seeds.end - seeds.start;
    println!(
        "crosscheck bench: {n} seeds ({}..{}), one thread",
        seeds.start, seeds.end
    );
    println!("{:<40} {:>10} {:>12}", "stage", "cases/s", "ms/case");
    let report = |stage: &str, seconds: f64| {
        println!(
            "{stage:<40} {:>10.1} {:>12.3}",
            n as f64 / seconds,
            seconds * 1e3 / n as f64
        );
    };

    let start = Instant::now();
    let modules: Vec<_> = seeds
        .clone()
        .map(|seed| generate(seed, &config.library.generator))
        .collect::<Result<_>>()?;
    report("generation (wasm-smith)", start.elapsed().as_secs_f64());
    let bytes: usize = modules.iter().map(|m| m.wasm.len()).sum();
    println!(
        "  (mean module size {} bytes)",
        bytes / modules.len().max(1)
    );

    // The daemon's workers count every case's instructions (coverage).
    let start = Instant::now();
    for m in &modules {
        oracles::case::instructions::histogram(&m.wasm)?;
    }
    report(
        "instruction histogram (coverage)",
        start.elapsed().as_secs_f64(),
    );

    measure_engines(config, &matrix, &modules, &report)?;

    let start = Instant::now();
    for seed in seeds.clone() {
        oracles::run_seed(
            seed,
            &config.library.generator,
            &config.library.execution,
            &matrix,
        )?;
    }
    report(
        &format!("full matrix ({} engines) + compare", matrix.engines().len()),
        start.elapsed().as_secs_f64(),
    );
    Ok(())
}

/// Each engine's compiles of `modules`, and the oracle's whole runs.
fn measure_engines(
    config: &Config,
    matrix: &oracles::Matrix,
    modules: &[oracles::GeneratedModule],
    report: &dyn Fn(&str, f64),
) -> Result<()> {
    let plans: Vec<Plan> = modules
        .iter()
        .map(|m| {
            let info = ModuleInfo::parse(&m.wasm)?;
            Ok(Plan::from_seed(
                &info,
                m.seed,
                config.library.execution.calls_per_export,
            ))
        })
        .collect::<Result<_>>()?;

    for engine in matrix.engines() {
        let start = Instant::now();
        for m in modules {
            // A panicking engine is a finding for `sweep`; here it only
            // must not stop the measurement.
            let _ = oracles::engine::panics::catch(|| engine.compile(&m.wasm));
        }
        report(
            &format!("compile: {}", engine.name()),
            start.elapsed().as_secs_f64(),
        );
    }
    let oracle = &matrix.engines()[0];
    let start = Instant::now();
    for (m, plan) in modules.iter().zip(&plans) {
        let _ = oracles::engine::panics::catch(|| oracle.execute(&m.wasm, plan));
    }
    report(
        &format!("{}: compile + instantiate + run", oracle.name()),
        start.elapsed().as_secs_f64(),
    );
    Ok(())
}

/// Cases/s of the daemon and of the in-process sweep, side by side.
fn daemon_vs_sweep(config: &Config, seeds: std::ops::Range<u64>) -> Result<()> {
    let matrix = config.library.matrix()?;
    let n = seeds.end - seeds.start;
    let mut sweep_rates = Vec::new();
    for jobs in [1, 2] {
        let options = SweepOptions {
            jobs: Some(jobs),
            store: None,
            collect_findings: false,
            progress: false,
        };
        let result = sweep(config, &matrix, seeds.clone(), &options)?;
        sweep_rates.push(n as f64 / result.elapsed.as_secs_f64());
    }
    let mut daemon_rates = Vec::new();
    for workers in [1, 2] {
        let summary = super::bench_profile::run_daemon(config, seeds.clone(), workers)?;
        daemon_rates.push(summary.cases as f64 / summary.elapsed.as_secs_f64());
    }
    println!(
        "crosscheck bench --daemon: {n} seeds ({}..{}), matrix of {} engines",
        seeds.start,
        seeds.end,
        matrix.engines().len()
    );
    println!(
        "{:<34} {:>10} {:>16} {:>14}",
        "mode", "cases/s", "vs sweep (same)", "vs 1 of same"
    );
    for (mode, rates) in [
        ("sweep (in-process threads)", &sweep_rates),
        ("run (daemon, worker processes)", &daemon_rates),
    ] {
        for (i, rate) in rates.iter().enumerate() {
            println!(
                "{:<34} {rate:>10.1} {:>15.1}% {:>13.2}x",
                format!("{mode} x{}", i + 1),
                100.0 * rate / sweep_rates[i],
                rate / rates[0]
            );
        }
    }
    Ok(())
}

/// Prints what the optimizer removes from the seeds' wasm-smith modules
/// under each termination scheme and instrumentation.
fn optimizations(config: &Config, seeds: std::ops::Range<u64>) -> Result<()> {
    use oracles::cost::optimizer::{clif_counts, ClifCounts};
    use oracles::engine::Budget;
    println!(
        "crosscheck bench --optimizations: seeds {}..{}, wasm-smith modules only; CLIF at opt level none -> speed, summed",
        seeds.start, seeds.end
    );
    println!(
        "{:<8} {:<16} {:>7} {:>17} {:>17} {:>21} {:>14}",
        "loops", "instrumentation", "modules", "loads", "stores", "instructions", "fired in"
    );
    for (scheme, share) in [("global", 0.0), ("local", 1.0)] {
        let mut generator = config.library.generator.clone();
        generator.local_loop_counters_share = share;
        generator.stack.share = 0.0;
        generator.rules.share = 0.0;
        generator.proposals_share = 0.0;
        let modules = seeds
            .clone()
            .map(|seed| generate(seed, &generator).map(|m| m.wasm))
            .collect::<Result<Vec<_>>>()?;
        for (name, budget) in [
            ("neither", Budget::None),
            ("epoch check", Budget::Epoch),
            ("fuel", Budget::Fuel),
        ] {
            let (mut none, mut speed) = (ClifCounts::default(), ClifCounts::default());
            let (mut compiled, mut fired) = (0, 0);
            for wasm in &modules {
                let (Ok(n), Ok(s)) = (
                    clif_counts(wasm, true, budget),
                    clif_counts(wasm, false, budget),
                ) else {
                    continue;
                };
                compiled += 1;
                if s.loads < n.loads || s.stores < n.stores {
                    fired += 1;
                }
                none += n;
                speed += s;
            }
            let removed = |before: u64, after: u64| {
                let share = 100.0 * (before as f64 - after as f64) / (before.max(1) as f64);
                format!("{before}->{after} {share:>4.1}%")
            };
            println!(
                "{:<8} {:<16} {:>7} {:>17} {:>17} {:>21} {:>13.1}%",
                scheme,
                name,
                compiled,
                removed(none.loads, speed.loads),
                removed(none.stores, speed.stores),
                removed(none.instructions, speed.instructions),
                100.0 * fired as f64 / compiled.max(1) as f64
            );
        }
    }
    println!("fired in: modules where opt level speed has fewer loads or stores than none");
    Ok(())
}

/// Prints how often each pair of engines compiles a module to the same
/// machine code.
fn code_identity(config: &Config, seeds: std::ops::Range<u64>) -> Result<()> {
    let matrix = config.library.matrix()?;
    let n = seeds.end - seeds.start;
    let modules = seeds
        .clone()
        .map(|seed| generate(seed, &config.library.generator).map(|m| m.wasm))
        .collect::<Result<Vec<_>>>()?;
    let pairs = oracles::engine::code_identity::measure(&matrix, modules);
    println!(
        "crosscheck bench --code-identity: {n} seeds ({}..{}), machine code (text section) per pair of engines",
        seeds.start, seeds.end
    );
    let width = pairs
        .iter()
        .map(|p| p.a.len() + p.b.len() + 4)
        .max()
        .unwrap_or(10);
    println!(
        "{:<width$} {:>10} {:>10} {:>10}",
        "pair", "identical", "different", "refused"
    );
    for p in &pairs {
        println!(
            "{:<width$} {:>10} {:>10} {:>10}",
            format!("{} ~ {}", p.a, p.b),
            p.identical,
            p.different,
            p.refused
        );
    }
    Ok(())
}
