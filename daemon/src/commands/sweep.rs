//! `crosscheck sweep --seeds A..B`: a seed range in-process on all cores.

use crate::config::Config;
use crate::health::exercised::Exercised;
use crate::health::stats::{Class, Stats};
use crate::seeds::parse_seed_range;
use crate::store::Store;
use crate::sweep::{sweep, SweepOptions};
use anyhow::{Context, Result};
use clap::Args;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;

/// Arguments of `crosscheck sweep`.
#[derive(Args)]
pub struct SweepArgs {
    /// Seed range START..END (END excluded).
    #[arg(long, value_name = "START..END")]
    seeds: String,
    /// Worker threads (default: all cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Also write the totals as JSON here.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Also write every finding here, one `seed<TAB>label<TAB>signature`
    /// line each, in seed order.
    #[arg(long, value_name = "FILE")]
    findings: Option<PathBuf>,
    /// Record findings in the store (`[store] data_dir`), deduplicated by
    /// signature, each durable before the sweep goes on.
    #[arg(long)]
    record: bool,
}

/// Runs the command. Exits 1 if any case is a finding.
pub fn run(config: &Config, args: SweepArgs) -> Result<ExitCode> {
    let seeds = parse_seed_range(&args.seeds)?;
    let matrix = config.library.matrix()?;
    let store = match args.record {
        true => Some(Mutex::new(Store::open(&config.store)?)),
        false => None,
    };
    let result = sweep(
        config,
        &matrix,
        seeds,
        &SweepOptions {
            jobs: args.jobs,
            store: store.as_ref(),
            collect_findings: args.findings.is_some(),
            progress: true,
        },
    )?;
    let stats = result.stats;
    print!(
        "{}",
        render(
            &stats,
            &matrix.names(),
            result.elapsed.as_secs_f64(),
            result.threads
        )
    );
    let unbudgeted: Vec<&str> = matrix
        .names()
        .into_iter()
        .filter(|name| oracles::engine::runs_unbudgeted(name))
        .collect();
    if !unbudgeted.is_empty() {
        println!(
            "\nran with an epoch deadline in this process, where nothing could stop a step that never ends (`crosscheck run` runs them as named, without fuel or epochs): {}, and the swarm's draws without a budget",
            unbudgeted.join(", ")
        );
    }
    if store.is_some() {
        println!(
            "\nrecorded in {}: {} new finding(s); `crosscheck findings` lists them",
            config.store.data_dir.display(),
            result.new_findings
        );
    }
    if let Some(path) = &args.findings {
        let mut lines = stats.findings.clone();
        lines.sort_by_key(|line| line.split('\t').next().and_then(|s| s.parse::<u64>().ok()));
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&stats).context("encoding totals")?;
        std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(ExitCode::from(if stats.findings_total > 0 {
        super::EXIT_FINDING
    } else {
        super::EXIT_AGREE
    }))
}

/// The sweep summary as text.
pub fn render(stats: &Stats, engines: &[&str], seconds: f64, threads: usize) -> String {
    let mut out = String::new();
    let pct = |n: u64| 100.0 * n as f64 / stats.cases.max(1) as f64;
    let _ = writeln!(
        out,
        "{} cases in {seconds:.1} s on {threads} thread(s): {:.0} cases/s; mean module {:.0} bytes; {} ({:.1}%) use return_call",
        stats.cases,
        stats.cases as f64 / seconds.max(1e-9),
        stats.wasm_bytes as f64 / stats.cases.max(1) as f64,
        stats.modules_with_tail_calls,
        pct(stats.modules_with_tail_calls),
    );
    let _ = writeln!(out, "\nverdicts:");
    for (label, n) in &stats.verdicts {
        let _ = writeln!(out, "  {label:<32} {n:>8}  {:>6.2}%", pct(*n));
    }
    let steps: u64 = stats.oracle_outcomes.values().sum();
    let _ = writeln!(out, "\noracle outcomes per step (instantiation and calls):");
    for (class, n) in &stats.oracle_outcomes {
        let _ = writeln!(
            out,
            "  {class:<40} {n:>8}  {:>6.2}%",
            100.0 * *n as f64 / steps.max(1) as f64
        );
    }
    let _ = writeln!(out, "\nper engine:");
    let _ = writeln!(
        out,
        "  {:<28} {:>8} {:>10} {:>12} {:>8}  inconclusive caused",
        "engine", "ran", "rej.expect", "rej.UNEXPECT", "CRASHED"
    );
    for name in engines {
        let Some(c) = stats.engines.get(*name) else {
            continue;
        };
        let causes: Vec<String> = c
            .inconclusive
            .iter()
            .map(|(r, n)| format!("{r} {n}"))
            .collect();
        let _ = writeln!(
            out,
            "  {name:<28} {:>8} {:>10} {:>12} {:>8}  {}",
            c.ran,
            c.rejected_expected,
            c.rejected_unexpected,
            c.crashed,
            causes.join(", ")
        );
    }
    out.push_str(&Exercised::from_counters(&stats.exercised).render(stats.cases));
    out.push_str(
        &crate::health::rule_coverage::RuleCoverage::from_counters(&stats.exercised).render(),
    );
    section(&mut out, "engine crashes (panics)", &stats.crashes);
    section(
        &mut out,
        "mismatch classes (first seeds)",
        &stats.mismatch_classes,
    );
    section(
        &mut out,
        "unexpected rejections",
        &stats.unexpected_rejections,
    );
    section(&mut out, "generation failures", &stats.generation_failures);
    section(&mut out, "harness panics", &stats.harness_panics);
    out
}

fn section(out: &mut String, title: &str, classes: &BTreeMap<String, Class>) {
    if classes.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{title}:");
    for (key, class) in classes {
        let _ = writeln!(
            out,
            "  {:>6}  {key}\n          seeds {:?}",
            class.count, class.seeds
        );
    }
}
