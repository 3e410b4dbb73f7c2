//! `crosscheck worker`: the process the daemon's supervisor starts. It runs
//! the seed ranges it is ordered to and reports every step on stdout, so
//! that if it dies the supervisor knows which case, and which engine, did it.

use crate::config::Config;
use crate::heap::Heap;
use crate::protocol::{
    CaseResult, CompileSample, FindingReport, Order, Report, ScaleOrder, ScaleResult,
};
use crate::stats::{case_events, verdict_events};
use anyhow::{Context, Result};
use oracles::compile_cost::{CompileCost, PeakHeap};
use oracles::cost_baseline::Baseline;
use oracles::growth::{confirmed, Clock, Subject};
use oracles::Step;
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
            Order::Run {
                start,
                end,
                baseline,
            } => {
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
                        baseline: baseline.as_ref(),
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
                baseline,
            } => {
                let wasm = hex::decode(&wasm_hex).context("a malformed module in an order")?;
                send(&mut out, &Report::Started { seed })?;
                let case = Case {
                    seed,
                    module: Some(wasm),
                    flips,
                    blowup_margin: blowup_margin.unwrap_or(1.0),
                    baseline: baseline.as_ref(),
                };
                let result = run_case(&config, &matrix, case, &mut out)?;
                send(&mut out, &Report::Finished(Box::new(result)))?;
            }
            Order::Scale(order) => {
                let result = scale(&matrix, &order);
                send(&mut out, &Report::Scaled(Box::new(result)))?;
            }
        }
        send(&mut out, &Report::Idle)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A scaling check, on CPU time: the worker may share the machine with
/// fuzzing workers, whose load inflates wall time but not the compiling
/// thread's CPU time.
fn scale(matrix: &oracles::Matrix, order: &ScaleOrder) -> ScaleResult {
    let failed = |error: String| ScaleResult {
        table: String::new(),
        superlinear: Vec::new(),
        error: Some(error),
    };
    let (what, subject) = match (&order.shape, &order.wasm_hex) {
        (Some(name), _) => match oracles::shapes::Shape::from_name(name) {
            Some(shape) => (format!("shape {name}"), Subject::Shape(shape)),
            None => return failed(format!("unknown shape {name:?}")),
        },
        (None, Some(hex)) => match hex::decode(hex) {
            Ok(wasm) => (
                "the module (largest function repeated)".to_string(),
                Subject::LargestFunction(wasm),
            ),
            Err(err) => return failed(format!("a malformed module in an order: {err}")),
        },
        (None, None) => return failed("nothing to grow".into()),
    };
    let measure = || {
        oracles::growth::measure(
            matrix,
            &mut |n| subject.module(n),
            order.start,
            order.steps,
            order.runs,
            Some(&Heap),
        )
    };
    let growth = match measure() {
        Ok(growth) => growth,
        Err(err) => return failed(format!("{err:#}")),
    };
    let mut superlinear = growth.superlinear(order.superlinear, Clock::Cpu);
    let mut table = growth.table(&what, Clock::Cpu);
    // Superlinear growth is measured again, and only what the second
    // measurement confirms counts.
    if !superlinear.is_empty() {
        match measure() {
            Ok(again) => {
                superlinear = confirmed(
                    &superlinear,
                    &again.superlinear(order.superlinear, Clock::Cpu),
                );
                table += &format!(
                    "measured again: {}\n",
                    if superlinear.is_empty() {
                        "not confirmed"
                    } else {
                        "confirmed (the lower exponent of the two counts)"
                    }
                );
            }
            Err(err) => return failed(format!("{err:#}")),
        }
    }
    ScaleResult {
        table,
        superlinear: superlinear
            .iter()
            .map(oracles::growth::Superlinear::describe)
            .collect(),
        error: None,
    }
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
struct Case<'a> {
    seed: u64,
    module: Option<Vec<u8>>,
    /// Whether a finding is also re-run with single settings changed.
    flips: bool,
    /// How far over the `[cost]` limits a compile blowup must be.
    blowup_margin: f64,
    /// The run's compile cost per instruction, per engine.
    baseline: Option<&'a Baseline>,
}

/// Follows a case through the matrix: tells the supervisor each step, and
/// measures the peak heap of each engine's compile and of the whole case.
struct Watch<'a, W: Write> {
    out: &'a mut W,
    error: Option<anyhow::Error>,
    /// Peak heap of each engine's compile, by matrix index.
    compile_heap: BTreeMap<usize, u64>,
    case_peak: u64,
}

impl<W: Write> Watch<'_, W> {
    fn step(&mut self, step: Step) {
        // The peak since the last step is the previous step's.
        self.case_peak = self.case_peak.max(Heap.peak_bytes());
        let report = match step {
            Step::Compiling(index) => Report::Engine { index },
            Step::Running(index) => {
                self.compile_heap.insert(index, Heap.peak_bytes());
                Report::Running
            }
        };
        Heap.reset_peak();
        if let Err(err) = send(self.out, &report) {
            self.error.get_or_insert(err);
        }
    }
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
        baseline,
    } = case;
    let given = module.clone();
    Heap.reset_peak();
    let mut watch = Watch {
        out,
        error: None,
        compile_heap: BTreeMap::new(),
        case_peak: 0,
    };
    let mut announce = |step: Step| watch.step(step);
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
    if let Some(err) = watch.error {
        return Err(err);
    }
    let case_peak_heap = watch.case_peak.max(Heap.peak_bytes());
    let compile_heap = watch.compile_heap;
    Ok(match outcome {
        Ok(Ok(report)) => {
            let verdict = &report.report.comparison.verdict;
            // Instruction coverage of what was generated; a module the
            // engines ran always parses.
            let instructions: BTreeMap<String, u64> =
                oracles::instructions::histogram(&report.module.wasm)
                    .map(|h| h.into_iter().map(|(n, c)| (n.to_string(), c)).collect())
                    .unwrap_or_default();
            let size = instructions.values().sum::<u64>();
            let compiles = compile_samples(&report.report, &compile_heap);
            let mut events = case_events(&report);
            events.extend(cost_buckets(&report.report, &compiles));
            events.push(size_bucket(size));
            let limits = config.cost.scaled(blowup_margin);
            let mut blowups = blowups(&limits, matrix, &report, case_peak_heap);
            if let Some(baseline) = baseline {
                let outliers = outliers(&limits, matrix, &report, baseline, &compiles, size);
                blowups.extend(
                    outliers
                        .into_iter()
                        .filter(|o| blowups.iter().all(|b| b.signature != o.signature))
                        .collect::<Vec<_>>(),
                );
            }
            blowups.extend(slow_runs(&limits, matrix, &report));
            for b in &blowups {
                events.push(("*".into(), format!("blowup:{}", b.kind)));
            }
            CaseResult {
                seed,
                events,
                blowups,
                instructions,
                compiles,
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
                compiles: Vec::new(),
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
                compiles: Vec::new(),
            }
        }
    })
}

/// Every engine's compile of the case as it ran in the matrix.
fn compile_samples(
    report: &oracles::CaseReport,
    compile_heap: &BTreeMap<usize, u64>,
) -> Vec<CompileSample> {
    report
        .runs
        .iter()
        .enumerate()
        .filter_map(|(index, (engine, run))| match run {
            oracles::EngineRun::Ran(execution) => Some(CompileSample {
                engine: engine.clone(),
                wall_ns: execution.compile_time.as_nanos() as u64,
                peak_heap: compile_heap.get(&index).copied(),
            }),
            _ => None,
        })
        .collect()
}

/// The smallest power of two at or above `amount` (at least 1), as its
/// exponent: the bucket of a distribution counter.
fn log2_bucket(amount: u64) -> u32 {
    u64::BITS - (amount.max(1) - 1).leading_zeros()
}

/// The case's costs as distribution counters per engine, each the smallest
/// power of two at or above the figure: `compile-us<=2^k` (wall),
/// `compile-cpu-us<=2^k`, `run-us<=2^k` (instantiation and calls), `compile-heap<=2^k` (bytes) and
/// `code-bytes<=2^k` (generated machine code).
fn cost_buckets(report: &oracles::CaseReport, compiles: &[CompileSample]) -> Vec<(String, String)> {
    let micros = |time: std::time::Duration| log2_bucket(time.as_micros() as u64);
    let mut events = Vec::new();
    for (engine, run) in &report.runs {
        if let oracles::EngineRun::Ran(execution) = run {
            events.push((
                engine.clone(),
                format!("compile-us<=2^{}", micros(execution.compile_time)),
            ));
            events.push((
                engine.clone(),
                format!("run-us<=2^{}", micros(execution.run_time)),
            ));
            if let Some(cpu) = execution.compile_cpu {
                events.push((engine.clone(), format!("compile-cpu-us<=2^{}", micros(cpu))));
            }
            if let Some(bytes) = execution.code_bytes {
                events.push((
                    engine.clone(),
                    format!("code-bytes<=2^{}", log2_bucket(bytes)),
                ));
            }
        }
    }
    for sample in compiles {
        if let Some(peak) = sample.peak_heap {
            events.push((
                sample.engine.clone(),
                format!("compile-heap<=2^{}", log2_bucket(peak)),
            ));
        }
    }
    events
}

/// The module's size as a distribution counter: `instructions<=2^k`.
fn size_bucket(instructions: u64) -> (String, String) {
    (
        "*".into(),
        format!("instructions<=2^{}", log2_bucket(instructions)),
    )
}

/// The engines whose compile of the case cost far more per instruction
/// than the run's reference for them, measured again
/// (`oracles::cost_baseline`).
fn outliers(
    limits: &oracles::compile_cost::CostLimits,
    matrix: &oracles::Matrix,
    case: &oracles::SeedReport,
    baseline: &Baseline,
    compiles: &[CompileSample],
    instructions: u64,
) -> Vec<FindingReport> {
    let measured: Vec<(String, CompileCost)> = compiles
        .iter()
        .map(|c| {
            (
                c.engine.clone(),
                CompileCost {
                    wall: std::time::Duration::from_nanos(c.wall_ns),
                    cpu: None,
                    peak_heap: c.peak_heap,
                },
            )
        })
        .collect();
    oracles::cost_baseline::find_outliers(
        matrix,
        &case.module.wasm,
        instructions,
        &measured,
        baseline,
        limits,
        Some(&Heap),
    )
    .into_iter()
    .map(|blowup| blowup_report(blowup, &case.module.wasm))
    .collect()
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
        .map(|blowup| blowup_report(blowup, &case.module.wasm))
        .collect()
}

/// A confirmed compile blowup as the finding the daemon records.
fn blowup_report(blowup: oracles::compile_cost::Blowup, wasm: &[u8]) -> FindingReport {
    FindingReport {
        signature: blowup.signature,
        kind: blowup.kind.to_string(),
        summary: format!("{}\n  {}\n", blowup.kind.to_uppercase(), blowup.detail),
        wasm_hex: hex::encode(wasm),
        suspect: Some(blowup_suspect(blowup.kind, &blowup.engine)),
        flips: Vec::new(),
    }
}

/// Who a compile blowup of `kind` on `engine` points at, in words.
pub fn blowup_suspect(kind: &str, engine: &str) -> String {
    let what = if kind == "compile-time" {
        "time"
    } else {
        "memory"
    };
    format!("compiling takes {what} far over the limits: suspect {engine}")
}
