//! An in-process sweep: a seed range run on a thread pool, every case's
//! verdict counted and, when asked, its findings recorded in the store as
//! the daemon records them. Used by `crosscheck sweep` and `bench`.

use crate::config::Config;
use crate::health::stats::Stats;
use crate::store::{Hit, Store};
use anyhow::{Context, Result};
use indicatif::{ParallelProgressIterator, ProgressBar, ProgressStyle};
use oracles::pipeline::findings::{self, CostEvidence};
use oracles::pipeline::run::module_for_seed;
use oracles::pipeline::stack::CASE_STACK_BYTES;
use oracles::{Finding, SeedReport};
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// How [`sweep`] runs.
pub struct SweepOptions<'a> {
    /// Worker threads; all cores when `None`.
    pub jobs: Option<usize>,
    /// Where to record findings, if anywhere.
    pub store: Option<&'a Mutex<Store>>,
    /// Collect one line per finding in `Stats::findings`.
    pub collect_findings: bool,
    /// Show a progress bar.
    pub progress: bool,
}

/// What [`sweep`] did.
pub struct SweepResult {
    /// Totals.
    pub stats: Stats,
    /// Wall-clock time of the cases (not of building the matrix).
    pub elapsed: std::time::Duration,
    /// Threads used.
    pub threads: usize,
    /// Findings the store saw for the first time.
    pub new_findings: u64,
}

/// Runs `seeds` in-process on a thread pool.
pub fn sweep(
    config: &Config,
    matrix: &oracles::Matrix,
    seeds: std::ops::Range<u64>,
    options: &SweepOptions<'_>,
) -> Result<SweepResult> {
    let shared = Shared::default();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.jobs.unwrap_or(0))
        .stack_size(CASE_STACK_BYTES)
        .build()
        .context("starting worker threads")?;
    let progress = match options.progress {
        true => ProgressBar::new(seeds.end - seeds.start).with_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} cases, {per_sec}, eta {eta}")
                .expect("the template is valid"),
        ),
        false => ProgressBar::hidden(),
    };
    let start = Instant::now();
    let stats = pool.install(|| {
        seeds
            .clone()
            .into_par_iter()
            .progress_with(progress.clone())
            .fold(Stats::default, |mut stats, seed| {
                sweep_one(config, matrix, seed, options, &mut stats, &shared);
                stats
            })
            .reduce(Stats::default, Stats::merge)
    });
    let elapsed = start.elapsed();
    progress.finish_and_clear();
    if let Some(err) = shared.recording_error.into_inner().unwrap() {
        return Err(err.context("recording findings in the store"));
    }
    Ok(SweepResult {
        stats,
        elapsed,
        threads: pool.current_num_threads(),
        new_findings: shared.new_findings.load(Ordering::Relaxed),
    })
}

/// What the sweep's threads share: the first error recording a finding,
/// and how many findings were new.
#[derive(Default)]
struct Shared {
    recording_error: Mutex<Option<anyhow::Error>>,
    new_findings: AtomicU64,
}

impl Shared {
    fn recording_failed(&self, err: anyhow::Error) {
        self.recording_error.lock().unwrap().get_or_insert(err);
    }
}

/// One seed: its case, its findings recorded or collected, its counts.
fn sweep_one(
    config: &Config,
    matrix: &oracles::Matrix,
    seed: u64,
    options: &SweepOptions<'_>,
    stats: &mut Stats,
    shared: &Shared,
) {
    // Engine panics are caught per engine inside the matrix; this catches
    // the rest (the generator, the harness itself).
    let result = oracles::engine::panics::catch(|| {
        oracles::run_seed(
            seed,
            &config.library.generator,
            &config.library.execution,
            matrix,
        )
    });
    match result {
        Ok(Ok(report)) => {
            stats.add(&report);
            let found = if options.store.is_some() || options.collect_findings {
                findings_of(config, matrix, &report)
            } else {
                Vec::new()
            };
            if let Some(store) = options.store {
                match record(config, store, seed, &report.module.wasm, &found) {
                    Ok(true) => {
                        shared.new_findings.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(false) => {}
                    Err(err) => shared.recording_failed(err),
                }
            }
            if options.collect_findings {
                stats
                    .findings
                    .extend(found.iter().map(|f| finding_line(seed, f)));
            }
        }
        Ok(Err(err)) => stats.add_generation_failure(seed, &err),
        Err(panic) => {
            let found = [Finding::of_harness_panic(&panic)];
            if let Some(store) = options.store {
                let wasm = module_for_seed(seed, &config.library.generator);
                if let Err(err) = record(config, store, seed, &wasm, &found) {
                    shared.recording_failed(err);
                }
            }
            if options.collect_findings {
                stats.findings.push(finding_line(seed, &found[0]));
            }
            stats.add_panic(seed, panic)
        }
    }
}

/// The case's findings, as the daemon's workers take them
/// (`oracles::pipeline::findings`). Heaps are not measured: the sweep's
/// threads allocate at once.
fn findings_of(config: &Config, matrix: &oracles::Matrix, case: &SeedReport) -> Vec<Finding> {
    let evidence = CostEvidence {
        limits: config.library.cost.clone(),
        heap: None,
        case_peak_heap: None,
        compiles: findings::compiles_of(case, &Default::default()),
        instructions: oracles::case::instructions::count(&case.module.wasm),
        baseline: None,
    };
    findings::of_case_rerunning_suspects(case, matrix, &evidence, None)
}

/// Records a case's findings (a suppression rule of the configuration
/// marks a finding suppressed, as in the daemon); true if one of them is a
/// new finding.
fn record(
    config: &Config,
    store: &Mutex<Store>,
    seed: u64,
    wasm: &[u8],
    found: &[Finding],
) -> Result<bool> {
    let mut new = false;
    for finding in found {
        let hit = Hit::of_finding(finding, &config.library.triage, Some(seed), wasm);
        new |= store.lock().unwrap().record(&hit)?.new;
    }
    Ok(new)
}

/// `seed<TAB>kind<TAB>signature`.
fn finding_line(seed: u64, finding: &Finding) -> String {
    format!("{seed}\t{}\t{}", finding.kind, finding.signature)
}
