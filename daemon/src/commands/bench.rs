//! `crosscheck bench`: throughput of each stage on one core, as cases/s.

use crate::config::Config;
use crate::seeds::parse_seed_range;
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
}

/// Runs the command on the calling thread (main gives it a large stack).
pub fn run(config: &Config, args: BenchArgs) -> Result<ExitCode> {
    let seeds = parse_seed_range(&args.seeds)?;
    measure(config, seeds)?;
    Ok(ExitCode::SUCCESS)
}

fn measure(config: &Config, seeds: std::ops::Range<u64>) -> Result<()> {
    let matrix = config.matrix()?;
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
        .map(|seed| generate(seed, &config.generator))
        .collect::<Result<_>>()?;
    report("generation (wasm-smith)", start.elapsed().as_secs_f64());
    let bytes: usize = modules.iter().map(|m| m.wasm.len()).sum();
    println!(
        "  (mean module size {} bytes)",
        bytes / modules.len().max(1)
    );

    let plans: Vec<Plan> = modules
        .iter()
        .map(|m| {
            let info = ModuleInfo::parse(&m.wasm)?;
            Ok(Plan::from_seed(
                &info,
                m.seed,
                config.execution.calls_per_export,
            ))
        })
        .collect::<Result<_>>()?;

    for engine in matrix.engines() {
        let start = Instant::now();
        for m in &modules {
            // A panicking engine is a finding for `sweep`; here it only
            // must not stop the measurement.
            let _ = oracles::panics::catch(|| engine.compile(&m.wasm));
        }
        report(
            &format!("compile: {}", engine.name()),
            start.elapsed().as_secs_f64(),
        );
    }
    let oracle = &matrix.engines()[0];
    let start = Instant::now();
    for (m, plan) in modules.iter().zip(&plans) {
        let _ = oracles::panics::catch(|| oracle.execute(&m.wasm, plan));
    }
    report(
        &format!("{}: compile + instantiate + run", oracle.name()),
        start.elapsed().as_secs_f64(),
    );

    let start = Instant::now();
    for seed in seeds.clone() {
        oracles::run_seed(seed, &config.generator, &config.execution, &matrix)?;
    }
    report(
        &format!("full matrix ({} engines) + compare", matrix.engines().len()),
        start.elapsed().as_secs_f64(),
    );
    Ok(())
}
