//! `crosscheck worker`: the process the daemon's supervisor starts. It runs
//! the seed ranges it is ordered to and reports every step on stdout, so
//! that if it dies the supervisor knows which case, and which engine, did it.

use crate::config::Config;
use crate::heap::Heap;
use crate::protocol::{CaseResult, FindingReport, Order, Report};
use crate::stats::{case_events, verdict_events};
use anyhow::{Context, Result};
use oracles::compile_cost::PeakHeap;
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};

/// The environment variable through which the supervisor hands its
/// configuration text to workers.
pub const CONFIG_ENV: &str = "CROSSCHECK_WORKER_CONFIG";

/// Runs orders from stdin until stdin closes. Exits 0 when told to stop.
pub fn run(config: &Config) -> Result<ExitCode> {
    let config = match std::env::var(CONFIG_ENV) {
        Ok(text) => Config::parse(&text, "the supervisor's configuration")?,
        Err(_) => config.clone(),
    };
    let matrix = config.matrix()?;
    let stop = Arc::new(AtomicBool::new(false));
    let orders = read_orders(stop.clone());
    let mut out = std::io::stdout().lock();
    send(
        &mut out,
        &Report::Ready {
            engines: matrix.names().iter().map(|n| n.to_string()).collect(),
        },
    )?;
    while let Ok(order) = orders.recv() {
        match order {
            Order::Run { start, end } => {
                for seed in start..end {
                    if stop.load(Ordering::Relaxed) {
                        return Ok(ExitCode::SUCCESS);
                    }
                    send(&mut out, &Report::Started { seed })?;
                    let case = Case {
                        seed,
                        module: None,
                        flips: false,
                        blowup_margin: 1.0,
                    };
                    let result = run_case(&config, &matrix, case, &mut out)?;
                    send(&mut out, &Report::Finished(Box::new(result)))?;
                }
            }
            Order::Check {
                seed,
                wasm_hex,
                flips,
                blowup_margin,
            } => {
                let wasm = hex::decode(&wasm_hex).context("a malformed module in an order")?;
                send(&mut out, &Report::Started { seed })?;
                let case = Case {
                    seed,
                    module: Some(wasm),
                    flips,
                    blowup_margin: blowup_margin.unwrap_or(1.0),
                };
                let result = run_case(&config, &matrix, case, &mut out)?;
                send(&mut out, &Report::Finished(Box::new(result)))?;
            }
        }
        send(&mut out, &Report::Idle)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads orders on a thread; end of input (the supervisor stopping or
/// gone) raises `stop`, which the case loop checks between cases.
fn read_orders(stop: Arc<AtomicBool>) -> mpsc::Receiver<Order> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            match serde_json::from_str::<Order>(&line) {
                Ok(order) => {
                    if sender.send(order).is_err() {
                        break;
                    }
                }
                Err(err) => {
                    eprintln!("crosscheck worker: ignoring a malformed order {line:?}: {err}");
                }
            }
        }
        stop.store(true, Ordering::Relaxed);
    });
    receiver
}

/// The module of a seed, for the record of a case that did not finish; empty
/// if generation itself fails (the seed still reproduces it).
pub fn module_for_seed(seed: u64, generator: &oracles::GeneratorConfig) -> Vec<u8> {
    oracles::panics::catch(|| oracles::generate(seed, generator))
        .ok()
        .and_then(Result::ok)
        .map(|m| m.wasm)
        .unwrap_or_default()
}

fn send(out: &mut impl Write, report: &Report) -> Result<()> {
    let line = serde_json::to_string(report).context("encoding a report")?;
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .context("reporting to the supervisor (is it gone?)")
}

/// What to run: the seed's generated module, or `module` when given.
struct Case {
    seed: u64,
    module: Option<Vec<u8>>,
    /// Whether a finding is also re-run with single settings changed.
    flips: bool,
    /// How far over the `[cost]` limits a compile blowup must be.
    blowup_margin: f64,
}

/// One case, with panics outside the engines (generator, harness) turned
/// into a crash finding like the engines' own.
fn run_case(
    config: &Config,
    matrix: &oracles::Matrix,
    case: Case,
    out: &mut impl Write,
) -> Result<CaseResult> {
    let Case {
        seed,
        module,
        flips,
        blowup_margin,
    } = case;
    let given = module.clone();
    Heap.reset_peak();
    let mut report_error = None;
    let mut announce = |index: usize| {
        if let Err(err) = send(out, &Report::Engine { index }) {
            report_error.get_or_insert(err);
        }
    };
    let outcome = oracles::panics::catch(|| match module {
        Some(wasm) => oracles::run_module_observed(
            oracles::GeneratedModule {
                seed,
                wasm,
                features: Vec::new(),
            },
            &config.execution,
            matrix,
            &mut announce,
        ),
        None => oracles::run_seed_observed(
            seed,
            &config.generator,
            &config.execution,
            matrix,
            &mut announce,
        ),
    });
    if let Some(err) = report_error {
        return Err(err);
    }
    let case_peak_heap = Heap.peak_bytes();
    Ok(match outcome {
        Ok(Ok(report)) => {
            let verdict = &report.report.comparison.verdict;
            let mut events = case_events(&report);
            events.extend(time_buckets(&report.report));
            let limits = config.cost.scaled(blowup_margin);
            let mut blowups = blowups(&limits, matrix, &report, case_peak_heap);
            blowups.extend(slow_runs(&limits, matrix, &report));
            for b in &blowups {
                events.push(("*".into(), format!("blowup:{}", b.kind)));
            }
            // Instruction coverage of what was generated; a module the
            // engines ran always parses.
            let instructions = oracles::instructions::histogram(&report.module.wasm)
                .map(|h| h.into_iter().map(|(n, c)| (n.to_string(), c)).collect())
                .unwrap_or_default();
            events.push(size_bucket(&instructions));
            CaseResult {
                seed,
                events,
                blowups,
                instructions,
                finding: verdict.signature().map(|signature| FindingReport {
                    signature,
                    kind: verdict.label(),
                    summary: verdict.to_string(),
                    wasm_hex: hex::encode(&report.module.wasm),
                    suspect: oracles::attribution::suspect(verdict),
                    flips: if flips {
                        oracles::flip::flips(
                            &report.module.wasm,
                            &report.plan,
                            verdict,
                            &config.matrix.oracle,
                            &config.matrix.engines,
                            &config.execution,
                        )
                        .iter()
                        .map(oracles::flip::Flip::describe)
                        .collect()
                    } else {
                        Vec::new()
                    },
                }),
            }
        }
        Ok(Err(err)) => {
            tracing::warn!(seed, "no module to run: {err:#}");
            CaseResult {
                seed,
                events: verdict_events("generation-failed"),
                finding: None,
                blowups: Vec::new(),
                instructions: BTreeMap::new(),
            }
        }
        Err(panic) => {
            let wasm = given.unwrap_or_else(|| module_for_seed(seed, &config.generator));
            CaseResult {
                seed,
                events: verdict_events("crash"),
                finding: Some(FindingReport {
                    signature: format!("crash harness: {}", panic.replace(['\n', '\t'], " ")),
                    kind: "crash".into(),
                    summary: format!("CRASH\n  the harness panicked: {panic}\n"),
                    wasm_hex: hex::encode(wasm),
                    suspect: Some("the harness panicked: suspect crosscheck itself".into()),
                    flips: Vec::new(),
                }),
                blowups: Vec::new(),
                instructions: BTreeMap::new(),
            }
        }
    })
}

/// The case's compile and run times as distribution counters per engine:
/// `compile-us<=2^k` and `run-us<=2^k` (instantiation and calls), the
/// smallest power of two of microseconds at or above the time.
fn time_buckets(report: &oracles::CaseReport) -> Vec<(String, String)> {
    let bucket = |time: std::time::Duration| {
        let micros = time.as_micros().max(1);
        u128::BITS - (micros - 1).leading_zeros()
    };
    report
        .runs
        .iter()
        .filter_map(|(engine, run)| match run {
            oracles::EngineRun::Ran(execution) => Some([
                (
                    engine.clone(),
                    format!("compile-us<=2^{}", bucket(execution.compile_time)),
                ),
                (
                    engine.clone(),
                    format!("run-us<=2^{}", bucket(execution.run_time)),
                ),
            ]),
            _ => None,
        })
        .flatten()
        .collect()
}

/// The module's size as a distribution counter: `instructions<=2^k`.
fn size_bucket(instructions: &BTreeMap<String, u64>) -> (String, String) {
    let total: u64 = instructions.values().sum::<u64>().max(1);
    let bucket = u64::BITS - (total - 1).leading_zeros();
    ("*".into(), format!("instructions<=2^{bucket}"))
}

/// The engines that ran the case much slower than a sibling, measured again
/// (`[cost] perf_ratio`, `perf_floor_ms`): kind `perf`.
fn slow_runs(
    limits: &oracles::compile_cost::CostLimits,
    matrix: &oracles::Matrix,
    case: &oracles::SeedReport,
) -> Vec<FindingReport> {
    if !oracles::run_cost::is_suspect(&case.report, limits) {
        return Vec::new();
    }
    oracles::run_cost::find_slow_runs(matrix, &case.report, &case.module.wasm, &case.plan, limits)
        .into_iter()
        .map(|slow| FindingReport {
            signature: slow.signature,
            kind: "perf".into(),
            summary: format!("PERF\n  {}\n", slow.detail),
            wasm_hex: hex::encode(&case.module.wasm),
            suspect: Some(format!(
                "runs far slower than its sibling {}: suspect {}",
                slow.sibling, slow.engine
            )),
            flips: Vec::new(),
        })
        .collect()
}

/// The compile-time and compile-memory blowups of the case's module: a
/// suspect by the matrix's compile times or the case's peak heap, confirmed
/// by compiling again on every engine, measured alone (`[cost]`).
fn blowups(
    limits: &oracles::compile_cost::CostLimits,
    matrix: &oracles::Matrix,
    case: &oracles::SeedReport,
    case_peak_heap: u64,
) -> Vec<FindingReport> {
    if !oracles::compile_cost::is_suspect(&case.report, limits, Some(case_peak_heap)) {
        return Vec::new();
    }
    oracles::compile_cost::find_blowups(matrix, &case.module.wasm, limits, Some(&Heap))
        .into_iter()
        .map(|blowup| FindingReport {
            signature: blowup.signature,
            kind: blowup.kind.to_string(),
            summary: format!("{}\n  {}\n", blowup.kind.to_uppercase(), blowup.detail),
            wasm_hex: hex::encode(&case.module.wasm),
            suspect: Some(format!(
                "compiling takes {} far over the limits: suspect {}",
                if blowup.kind == "compile-time" {
                    "time"
                } else {
                    "memory"
                },
                blowup.engine
            )),
            flips: Vec::new(),
        })
        .collect()
}
