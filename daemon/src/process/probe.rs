//! Running one module at a time in a worker process, for shrinking and
//! replaying findings: whatever a candidate does to its process (a
//! segfault, an endless loop), the answer is the signature the daemon would
//! have recorded for it.

use super::continuation;
use super::protocol::{CaseResult, Order, Reply, ScaleOrder, ScaleResult, Shown, SingleCall};
use super::worker_handle::{Death, Event, WorkerProcess};
use crate::config::Config;
use crate::process::time_limits::{CasePosition, TimeLimits};
use anyhow::{bail, Context, Result};
use oracles::cost::baseline::Baseline;
use oracles::Finding;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a fresh worker may take to build its matrix.
const STARTUP_LIMIT: Duration = Duration::from_secs(120);
const TICK: Duration = Duration::from_millis(20);

/// What one probe of a module gave.
#[derive(Debug)]
pub struct Probed {
    /// Every finding of the case, deaths of engines first.
    pub findings: Vec<Finding>,
    /// The case as `crosscheck check` shows it, when asked for and some
    /// worker finished it.
    pub shown: Option<Shown>,
    /// Workers the case took down (each death started a fresh one).
    pub restarts: usize,
}

/// How one order in one worker ended.
enum Ran {
    Finished(Box<CaseResult>),
    /// The worker answered nothing (the module did not parse).
    Nothing,
    Died {
        death: Death,
        engine: Option<String>,
        compiling: bool,
        pid: u32,
    },
}

/// A worker process kept for probing modules; restarted when a module kills it.
pub struct Prober<'a> {
    config: &'a Config,
    stop: Option<&'a AtomicBool>,
    background: bool,
    blowup_margin: Option<f64>,
    baseline: Option<Baseline>,
    process: Option<WorkerProcess>,
    engines: Vec<String>,
    generation: u64,
    sender: mpsc::Sender<Event>,
    receiver: mpsc::Receiver<Event>,
    /// Each engine's and phase's time limit, short for hangs seen.
    time_limits: TimeLimits,
}

impl<'a> Prober<'a> {
    /// A prober for the configuration's matrix and limits.
    pub fn new(config: &'a Config) -> Self {
        let (sender, receiver) = mpsc::channel();
        Prober {
            config,
            stop: None,
            background: false,
            blowup_margin: None,
            baseline: None,
            process: None,
            engines: Vec::new(),
            generation: 0,
            sender,
            receiver,
            time_limits: TimeLimits::new(&config.daemon),
        }
    }

    /// A prober that abandons a running module, killing its worker, as soon
    /// as `stop` is raised.
    pub fn with_stop(config: &'a Config, stop: &'a AtomicBool) -> Self {
        let mut prober = Prober::new(config);
        prober.stop = Some(stop);
        prober
    }

    /// A prober with this one's settings (stop, priority, margin,
    /// baseline) for `config`, with a worker process of its own.
    pub fn for_config<'b>(&self, config: &'b Config) -> Prober<'b>
    where
        'a: 'b,
    {
        let mut prober = Prober::new(config);
        prober.stop = self.stop;
        prober.background = self.background;
        prober.blowup_margin = self.blowup_margin;
        prober.baseline = self.baseline.clone();
        prober
    }

    /// Runs the worker at a lower scheduling priority, so that it takes only
    /// the CPU time the fuzzing workers leave.
    pub fn in_background(mut self) -> Self {
        self.background = true;
        self
    }

    /// From now on, judges compile blowups against `[cost]` limits `factor`
    /// times higher (`None`: the limits themselves).
    pub fn set_blowup_margin(&mut self, factor: Option<f64>) {
        self.blowup_margin = factor;
    }

    /// From now on, judges compile cost per instruction against `baseline`
    /// (the store's, the one the daemon judged its findings by).
    pub fn set_baseline(&mut self, baseline: Option<Baseline>) {
        self.baseline = baseline.filter(|b| !b.is_empty());
    }

    /// The finding signature of `wasm` run with the call plan of `seed`:
    /// `wanted` when the case gives it (a case can be a mismatch and a
    /// compile blowup at once), else the case's first, or `None` when it is
    /// not a finding (the engines agree, or it is inconclusive, or the
    /// module does not parse).
    pub fn signature_for(
        &mut self,
        wasm: &[u8],
        seed: u64,
        wanted: &str,
    ) -> Result<Option<String>> {
        let found = self.check(wasm, seed, false)?;
        Ok(found
            .iter()
            .find(|f| f.signature == wanted)
            .or_else(|| {
                found
                    .iter()
                    .find(|f| oracles::judge::signature::covers(wanted, &f.signature))
            })
            .or(found.first())
            .map(|f| f.signature.clone()))
    }

    /// Whether `wasm` run with the call plan of `seed` still gives the
    /// finding `signature`: the test of every shrinking candidate.
    /// More engines on the same sides count
    /// (`oracles::judge::signature::covers`).
    pub fn gives(&mut self, wasm: &[u8], seed: u64, signature: &str) -> Result<bool> {
        let found = self.check(wasm, seed, false)?;
        Ok(found
            .iter()
            .any(|f| oracles::judge::signature::covers(signature, &f.signature)))
    }

    /// The case's finding with the signature `wanted` (else its first), with
    /// its configuration flips (`oracles::triage::flip`).
    pub fn probe_with_flips(
        &mut self,
        wasm: &[u8],
        seed: u64,
        wanted: &str,
    ) -> Result<Option<Finding>> {
        let mut found = self.check(wasm, seed, true)?;
        let index = found
            .iter()
            .position(|f| oracles::judge::signature::covers(wanted, &f.signature))
            .unwrap_or(0);
        Ok((!found.is_empty()).then(|| found.swap_remove(index)))
    }

    /// Every finding of the case
    /// (`oracles::pipeline::findings::of_case_rerunning_suspects`: its
    /// verdict's, then confirmed blowups and slow runs), or the death of
    /// the worker running it.
    pub fn findings(&mut self, wasm: &[u8], seed: u64) -> Result<Vec<Finding>> {
        self.check(wasm, seed, false)
    }

    fn check(&mut self, wasm: &[u8], seed: u64, flips: bool) -> Result<Vec<Finding>> {
        let order = self.check_order(wasm, seed, flips, None, false);
        Ok(self.run_case(order)?.findings)
    }

    /// The order running `wasm` with this prober's margin and baseline.
    fn check_order(
        &self,
        wasm: &[u8],
        seed: u64,
        flips: bool,
        call: Option<SingleCall>,
        show: bool,
    ) -> Order {
        Order::Check {
            seed,
            wasm_hex: hex::encode(wasm),
            flips,
            blowup_margin: self.blowup_margin,
            baseline: self.baseline.clone(),
            call,
            dead: Vec::new(),
            show,
        }
    }

    /// Runs `wasm` as `crosscheck check` does: the plan of `seed`, or the
    /// one `call`; the answer has the case as the worker shows it, unless
    /// no engine could run it (`shown` is then `None`).
    pub fn show(&mut self, wasm: &[u8], seed: u64, call: Option<SingleCall>) -> Result<Probed> {
        let order = self.check_order(wasm, seed, false, call, true);
        self.run_case(order)
    }

    /// Runs a case order to its end: when an engine takes the worker down,
    /// the case goes on in a fresh worker without it
    /// (`process::continuation`), until every engine has run or died.
    fn run_case(&mut self, mut order: Order) -> Result<Probed> {
        let seed = match &order {
            Order::Check { seed, .. } => *seed,
            _ => 0,
        };
        let mut restarts = 0;
        loop {
            match self.run_once(&order)? {
                Ran::Finished(result) => {
                    return Ok(Probed {
                        findings: result.findings,
                        shown: result.shown,
                        restarts,
                    })
                }
                Ran::Nothing => {
                    return Ok(Probed {
                        findings: Vec::new(),
                        shown: None,
                        restarts,
                    })
                }
                Ran::Died {
                    death,
                    engine,
                    compiling,
                    pid,
                } => {
                    restarts += 1;
                    match continuation::without(&order, engine.as_deref(), &death, compiling) {
                        Some(next) => order = next,
                        None => {
                            let case = format!("call arguments from seed {seed}, worker pid {pid}");
                            return Ok(Probed {
                                findings: continuation::findings_of_stuck(
                                    &order,
                                    engine.as_deref(),
                                    &death,
                                    compiling,
                                    &case,
                                ),
                                shown: None,
                                restarts,
                            });
                        }
                    }
                }
            }
        }
    }

    /// Runs one order in the (started) worker, until it is idle or dies.
    fn run_once(&mut self, order: &Order) -> Result<Ran> {
        self.ensure_started()?;
        if let Some(process) = &mut self.process {
            process.order(order);
        }
        let memory = self.config.daemon.worker_memory_limit_mib << 20;
        let mut at: Option<CasePosition> = None;
        let mut answer = None;
        loop {
            match self.receiver.recv_timeout(TICK) {
                Ok(Event::Reply {
                    generation, report, ..
                }) if generation == self.generation => match report {
                    Reply::Started { .. } => at = Some(CasePosition::start()),
                    step @ (Reply::Engine { .. }
                    | Reply::Running
                    | Reply::Call { .. }
                    | Reply::Judging) => {
                        if let Some(at) = &mut at {
                            at.follow(&step);
                        }
                    }
                    Reply::Finished(result) => answer = Some(result),
                    Reply::Idle => {
                        return Ok(match answer {
                            Some(result) => Ran::Finished(result),
                            None => Ran::Nothing,
                        })
                    }
                    Reply::Ready { .. } | Reply::Scaled(_) => {}
                },
                Ok(Event::Closed { generation, .. }) if generation == self.generation => {
                    let process = self.process.take().expect("a running worker");
                    let pid = process.pid();
                    let (_, death) = process.reap();
                    let at = at.unwrap_or_else(CasePosition::start);
                    let engine = at.engine.and_then(|i| self.engines.get(i).cloned());
                    self.time_limits
                        .note_death(&death, engine.as_deref(), at.compiling);
                    let death = super::time_limits::in_call(&death, at.call.as_ref());
                    return Ok(Ran::Died {
                        death,
                        engine,
                        compiling: at.compiling,
                        pid,
                    });
                }
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let over_time = at.as_ref().and_then(|at| {
                        let engine = at.engine.and_then(|i| self.engines.get(i));
                        self.time_limits
                            .passed(&at.clock, engine.map(String::as_str), at.compiling)
                    });
                    self.tick(over_time, memory)?
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    unreachable!("the prober holds a sender")
                }
            }
        }
    }

    /// Runs a scaling check in the worker, killing it after `limit` or at
    /// the memory limit: a compile that blows up that far is the answer
    /// (`Err` says so), and the next probe starts a fresh worker.
    pub fn scale(&mut self, order: ScaleOrder, limit: Duration) -> Result<ScaleResult> {
        self.ensure_started()?;
        if let Some(process) = &mut self.process {
            process.order(&Order::Scale(order));
        }
        let since = Instant::now();
        let memory = self.config.daemon.worker_memory_limit_mib << 20;
        let mut answer = None;
        loop {
            match self.receiver.recv_timeout(TICK) {
                Ok(Event::Reply {
                    generation, report, ..
                }) if generation == self.generation => match report {
                    Reply::Scaled(result) => answer = Some(*result),
                    Reply::Idle => {
                        return answer
                            .context("the worker ended the scaling check without a result")
                    }
                    _ => {}
                },
                Ok(Event::Closed { generation, .. }) if generation == self.generation => {
                    let process = self.process.take().expect("a running worker");
                    let (_, death) = process.reap();
                    bail!(
                        "the scaling check's worker died: {} ({})",
                        death.how,
                        death.detail
                    );
                }
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let over_time = (since.elapsed() > limit).then_some(limit);
                    self.tick(over_time, memory)?
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    unreachable!("the prober holds a sender")
                }
            }
        }
    }

    /// Between reports: abandons the work (killing the worker) when asked
    /// to stop, and kills a worker past its time or memory limit.
    fn tick(&mut self, over_time: Option<Duration>, memory: u64) -> Result<()> {
        if self.stop.is_some_and(|stop| stop.load(Ordering::Relaxed)) {
            if let Some(mut process) = self.process.take() {
                let _ = process.kill_quietly();
                let _ = process.reap();
            }
            bail!("stopped");
        }
        if let Some(process) = &mut self.process {
            process.enforce_limits(over_time, memory);
        }
        Ok(())
    }

    fn ensure_started(&mut self) -> Result<()> {
        if self.process.is_some() {
            return Ok(());
        }
        self.generation += 1;
        self.process = Some(WorkerProcess::spawn(
            &self.config.text,
            0,
            self.generation,
            self.sender.clone(),
            if self.background {
                self.config.library.triage.niceness
            } else {
                0
            },
        )?);
        let deadline = Instant::now() + STARTUP_LIMIT;
        while Instant::now() < deadline {
            match self.receiver.recv_timeout(TICK) {
                Ok(Event::Reply {
                    generation,
                    report: Reply::Ready { engines },
                    ..
                }) if generation == self.generation => {
                    self.engines = engines;
                    return Ok(());
                }
                Ok(Event::Closed { generation, .. }) if generation == self.generation => {
                    let process = self.process.take().expect("a running worker");
                    let (_, death) = process.reap();
                    bail!(
                        "the worker process could not start ({}; is the configuration's matrix valid?): {}",
                        death.how,
                        death.detail
                    );
                }
                _ => {}
            }
        }
        self.process = None;
        bail!("the worker process did not start within {STARTUP_LIMIT:?}")
    }
}

impl Drop for Prober<'_> {
    fn drop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.request_stop();
            let _ = process.reap();
        }
    }
}
