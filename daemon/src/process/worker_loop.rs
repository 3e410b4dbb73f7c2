//! The worker process's loop: it runs the seed ranges and modules it is
//! ordered to and reports every step on stdout, so that if it dies the
//! supervisor knows which case, and which engine, did it. The findings of
//! each case are the library's (`oracles::pipeline::findings`).

use super::protocol::{
    CaseResult, CompileSample, Order, Reply, ScaleOrder, ScaleResult, Shown, SingleCall,
};
use crate::config::{Config, WORKER_CONFIG_ENV};
use crate::health::counter::Counter;
use crate::health::distribution::Distribution;
use crate::health::stats::case_events;
use anyhow::{Context, Result};
use oracles::cost::baseline::Baseline;
use oracles::cost::heap::{Heap, PeakHeap};
use oracles::cost::scaling_check::{confirmed, Clock, Subject};
use oracles::engine::clock::CompileCost;
use oracles::pipeline::findings::{self, CostEvidence};
use oracles::profile::{self, Stage};
use oracles::Finding;
use oracles::Step;
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};

/// Runs orders from stdin until stdin closes. Exits 0 when told to stop.
pub fn run(config: &Config) -> Result<ExitCode> {
    let mut config = match std::env::var(WORKER_CONFIG_ENV) {
        Ok(text) => Config::parse(&text, "the supervisor's configuration")?,
        Err(_) => config.clone(),
    };
    // The supervisor kills this process when an engine runs on, so engines
    // without fuel or epochs run here (and nowhere in-process).
    config.library.execution.supervised = true;
    config.ready_other_releases();
    let matrix = config.library.matrix()?;
    let stop = Arc::new(AtomicBool::new(false));
    let orders = read_orders(stop.clone());
    report_calls()?;
    let mut out = std::io::stdout().lock();
    send(
        &mut out,
        &Reply::Ready {
            engines: matrix.all_names().iter().map(|n| n.to_string()).collect(),
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
                    run_seed(&config, &matrix, seed, baseline.as_ref(), &mut out)?;
                }
            }
            Order::Check {
                seed,
                wasm_hex,
                flips,
                blowup_margin,
                baseline,
                call,
                dead,
                show,
            } => {
                let wasm = hex::decode(&wasm_hex).context("a malformed module in an order")?;
                send(&mut out, &Reply::Started { seed })?;
                let case = Case {
                    seed,
                    module: Some(wasm),
                    flips,
                    blowup_margin: blowup_margin.unwrap_or(1.0),
                    baseline: baseline.as_ref(),
                    call,
                    dead: dead
                        .into_iter()
                        .map(|(engine, death)| (engine, oracles::EngineRun::Died(death)))
                        .collect(),
                    show,
                };
                let result = run_case(&config, &matrix, case, &mut out)?;
                send(&mut out, &Reply::Finished(Box::new(result)))?;
            }
            Order::Scale(order) => {
                let result = scale(&matrix, &order);
                send(&mut out, &Reply::Scaled(Box::new(result)))?;
            }
        }
        send(&mut out, &Reply::Idle)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// One seed of a range, as a worker runs it: announced, run on the
/// matrix, its findings and counters reported on `out`.
pub(crate) fn run_seed(
    config: &Config,
    matrix: &oracles::Matrix,
    seed: u64,
    baseline: Option<&Baseline>,
    out: &mut impl Write,
) -> Result<()> {
    send(out, &Reply::Started { seed })?;
    let case = Case {
        seed,
        module: None,
        flips: false,
        blowup_margin: 1.0,
        baseline,
        call: None,
        dead: Vec::new(),
        show: false,
    };
    let result = run_case(config, matrix, case, out)?;
    send(out, &Reply::Finished(Box::new(result)))
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
        (Some(name), _) => match oracles::cost::scaling_shapes::ScalingShape::from_name(name) {
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
        oracles::cost::scaling_check::measure(
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
            .map(oracles::cost::scaling_check::Superlinear::describe)
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

/// Reports every call an engine begins (`oracles::engine::run_steps`).
/// Engines run on threads of their own while this thread holds stdout
/// and waits for the case, so the reports go through a descriptor of their
/// own onto the same pipe: each is one `write` of a whole line, and this
/// thread writes nothing while an engine runs.
fn report_calls() -> Result<()> {
    use std::os::fd::AsFd;
    let pipe = std::io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .context("duplicating stdout for the reports of calls")?;
    let pipe = std::sync::Mutex::new(std::fs::File::from(pipe));
    oracles::engine::run_steps::observe(Some(Arc::new(move |step| {
        let mut export = step.export.to_string();
        if export.len() > MAX_EXPORT_SHOWN {
            let mut cut = MAX_EXPORT_SHOWN;
            while !export.is_char_boundary(cut) {
                cut -= 1;
            }
            export.truncate(cut);
        }
        let report = Reply::Call {
            index: step.index,
            export,
            budgeted_us: step.budgeted.map(|t| t.as_micros() as u64),
        };
        if let Ok(mut line) = serde_json::to_string(&report) {
            line.push('\n');
            let mut pipe = pipe.lock().unwrap_or_else(|e| e.into_inner());
            // A supervisor that is gone finds out from the next report.
            let _ = pipe.write_all(line.as_bytes());
        }
    })));
    Ok(())
}

/// The longest export name a call's report carries: enough to name it,
/// and one `write` to the pipe.
const MAX_EXPORT_SHOWN: usize = 256;

fn send(out: &mut impl Write, report: &Reply) -> Result<()> {
    profile::time(Stage::Reply, || {
        let line = serde_json::to_string(report).context("encoding a report")?;
        writeln!(out, "{line}")
            .and_then(|()| out.flush())
            .context("reporting to the supervisor (is it gone?)")
    })
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
    /// One call instead of the seed's plan.
    call: Option<SingleCall>,
    /// Engines that took earlier workers down with this case.
    dead: Vec<(String, oracles::EngineRun)>,
    /// Whether to send the case as `crosscheck check` shows it.
    show: bool,
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
            Step::Compiling(index) => Reply::Engine { index },
            Step::Running(index) => {
                self.compile_heap.insert(index, Heap.peak_bytes());
                Reply::Running
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
    mut case: Case,
    out: &mut impl Write,
) -> Result<CaseResult> {
    let seed = case.seed;
    let given = case.module.take();
    let (outcome, heap) = run_watched(config, matrix, &mut case, given.clone(), out)?;
    send(out, &Reply::Judging)?;
    Ok(match outcome {
        Ok(Ok(report)) => judged(config, matrix, &case, &report, heap),
        Ok(Err(err)) => {
            tracing::warn!(seed, "no module to run: {err:#}");
            CaseResult::unjudged(seed, "generation-failed", Vec::new(), String::new())
        }
        Err(panic) => {
            let wasm = given.unwrap_or_else(|| {
                oracles::pipeline::run::module_for_seed(seed, &config.library.generator)
            });
            let found = vec![Finding::of_harness_panic(&panic)];
            CaseResult::unjudged(seed, "crash", found, hex::encode(wasm))
        }
    })
}

/// The peak heaps the watch saw during one case.
struct HeapSeen {
    /// Peak heap of each engine's compile, by matrix index.
    compile_heap: BTreeMap<usize, u64>,
    /// Peak heap of the whole case.
    case_peak: u64,
}

/// Runs the case's seed, or its given module, through the matrix, telling
/// the supervisor each step; panics outside the engines are caught.
fn run_watched(
    config: &Config,
    matrix: &oracles::Matrix,
    case: &mut Case,
    module: Option<Vec<u8>>,
    out: &mut impl Write,
) -> Result<(Result<Result<oracles::SeedReport>, String>, HeapSeen)> {
    Heap.reset_peak();
    let mut watch = Watch {
        out,
        error: None,
        compile_heap: BTreeMap::new(),
        case_peak: 0,
    };
    let mut announce = |step: Step| watch.step(step);
    let settings = &config.library;
    let (seed, call, dead) = (case.seed, &case.call, std::mem::take(&mut case.dead));
    let outcome = oracles::engine::panics::catch(|| match module {
        Some(wasm) => {
            // A single call keeps the case's seed: the swarm draws from it.
            let plan = match call {
                Some(call) => Some(oracles::Plan {
                    seed,
                    ..oracles::Plan::single_call(
                        &oracles::ModuleInfo::parse(&wasm)?,
                        &call.export,
                        &call.args,
                    )?
                }),
                None => None,
            };
            oracles::run_case(
                oracles::CaseSource::Module(oracles::GeneratedModule {
                    seed,
                    wasm,
                    features: Vec::new(),
                }),
                &oracles::Given {
                    plan,
                    runs: dead
                        .into_iter()
                        .map(|(name, run)| (oracles::engine::id::EngineId::parse(&name), run))
                        .collect(),
                },
                &settings.execution,
                matrix,
                &mut announce,
            )
        }
        None => oracles::run_case(
            oracles::CaseSource::Seed(seed, &settings.generator),
            &oracles::Given::default(),
            &settings.execution,
            matrix,
            &mut announce,
        ),
    });
    if let Some(err) = watch.error {
        return Err(err);
    }
    let heap = HeapSeen {
        case_peak: watch.case_peak.max(Heap.peak_bytes()),
        compile_heap: watch.compile_heap,
    };
    Ok((outcome, heap))
}

/// A case that ran: its findings (engines re-run to confirm suspects), its
/// counters, its coverage and its compiles.
fn judged(
    config: &Config,
    matrix: &oracles::Matrix,
    case: &Case,
    report: &oracles::SeedReport,
    heap: HeapSeen,
) -> CaseResult {
    let settings = &config.library;
    // Instruction coverage of what was generated; a module the engines ran
    // always parses.
    let instructions: BTreeMap<String, u64> = profile::time(Stage::Coverage, || {
        oracles::case::instructions::histogram(&report.module.wasm)
            .map(|h| h.into_iter().map(|(n, c)| (n.to_string(), c)).collect())
            .unwrap_or_default()
    });
    let size = instructions.values().sum::<u64>();
    let evidence = CostEvidence {
        limits: settings.cost.scaled(case.blowup_margin),
        heap: Some(&Heap),
        case_peak_heap: Some(heap.case_peak),
        compiles: findings::compiles_of(report, &heap.compile_heap),
        instructions: size,
        baseline: case.baseline,
    };
    let found = profile::time(Stage::Findings, || {
        findings::of_case_rerunning_suspects(
            report,
            matrix,
            &evidence,
            case.flips.then_some(settings),
        )
    });
    let shown = case.show.then(|| Shown {
        text: crate::case_table::case_text(report, case.call.is_some()),
        verdict: report.report.verdict().label(),
    });
    let compiles = compile_samples(&evidence.compiles);
    let mut events = profile::time(Stage::Counters, || {
        let mut events = case_events(report);
        events.extend(cost_buckets(&report.report, &compiles));
        events
    });
    events.push(("*".into(), Distribution::Instructions.counter(size)));
    // A case with a dead engine has no measured costs
    // (`of_case_rerunning_suspects`); its deaths' compile blowups are
    // counted by `case_events`.
    let died = report
        .report
        .runs
        .iter()
        .any(|(_, run)| matches!(run, oracles::EngineRun::Died(_)));
    let measured_costs = found.iter().filter(|f| !died && f.kind.is_cost());
    for blowup in measured_costs {
        events.push(("*".into(), Counter::Blowup(blowup.kind.to_string()).key()));
    }
    CaseResult {
        seed: case.seed,
        events,
        wasm_hex: if found.is_empty() {
            String::new()
        } else {
            hex::encode(&report.module.wasm)
        },
        findings: found,
        instructions,
        compiles,
        shown,
    }
}

/// Every engine's compile of the case as the supervisor's baseline window
/// samples it.
fn compile_samples(measured: &[(String, CompileCost)]) -> Vec<CompileSample> {
    measured
        .iter()
        .map(|(engine, cost)| CompileSample {
            engine: engine.clone(),
            wall_ns: cost.wall.as_nanos() as u64,
            peak_heap: cost.peak_heap,
        })
        .collect()
}

/// The case's costs as distribution counters per engine.
fn cost_buckets(report: &oracles::CaseReport, compiles: &[CompileSample]) -> Vec<(String, String)> {
    let micros = |time: std::time::Duration| time.as_micros() as u64;
    let mut events = Vec::new();
    for (engine, run) in &report.runs {
        if let oracles::EngineRun::Ran(execution) = run {
            events.push((
                engine.to_string(),
                Distribution::CompileMicros.counter(micros(execution.compile_time)),
            ));
            events.push((
                engine.to_string(),
                Distribution::RunMicros.counter(micros(execution.run_time)),
            ));
            if let Some(cpu) = execution.compile_cpu {
                events.push((
                    engine.to_string(),
                    Distribution::CompileCpuMicros.counter(micros(cpu)),
                ));
            }
            if let Some(bytes) = execution.code_bytes {
                events.push((engine.to_string(), Distribution::CodeBytes.counter(bytes)));
            }
        }
    }
    for sample in compiles {
        if let Some(peak) = sample.peak_heap {
            events.push((
                sample.engine.clone(),
                Distribution::CompileHeap.counter(peak),
            ));
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judging_is_announced_after_the_last_engine_step_and_before_the_result() {
        // The supervisor times each engine's step from its report to the
        // next: without `Judging`, the re-runs and rule checks after the
        // matrix were timed as the last engine's last call.
        let config = Config::parse(
            "[matrix]\noracle = \"wasmi\"\nengines = [\"cranelift-tail-signals\"]\n",
            "test",
        )
        .unwrap();
        let matrix = config.library.matrix().unwrap();
        let mut out = Vec::new();
        let case = Case {
            seed: 7,
            module: None,
            flips: false,
            blowup_margin: 1.0,
            baseline: None,
            call: None,
            dead: Vec::new(),
            show: false,
        };
        let result = run_case(&config, &matrix, case, &mut out).unwrap();
        assert_eq!(result.seed, 7);
        let replies: Vec<Reply> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        let judging = replies
            .iter()
            .position(|r| *r == Reply::Judging)
            .expect("no Judging report");
        assert_eq!(judging, replies.len() - 1, "{replies:?}");
        assert!(
            replies[..judging]
                .iter()
                .filter(|r| matches!(r, Reply::Engine { .. }))
                .count()
                >= 2,
            "{replies:?}"
        );
    }
}
