//! The daemon's supervisor: hands seed ranges to worker processes, records
//! what they report, turns a worker's death or a case over its time or
//! memory limit into a finding, restarts the worker, and checkpoints
//! progress so a restarted daemon resumes exactly where it stopped.

use crate::config::Config;
use crate::health::counter::Counter;
use crate::health::stats::{death_counter, findings_events, ALL_ENGINES};
use crate::process::continuation;
use crate::process::protocol::{CaseResult, Order, Reply};
use crate::process::stop_signals::StopSignals;
use crate::process::time_limits::{CasePosition, TimeLimits};
use crate::process::worker_handle::{Event, WorkerProcess};
use crate::process::write_behind::{Write, WriteBehind, Written};
use crate::store::{is_suppressed, unix_now, Counters, SeedRange, Store};
use anyhow::{bail, Context, Result};
use oracles::cost::baseline::Baseline;
use oracles::engine::clock::CompileCost;
use oracles::pipeline::run::module_for_seed;
use oracles::Finding;
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};
use tracing::{debug, info, warn};

/// How often the supervisor wakes up to check limits without events.
const TICK: Duration = Duration::from_millis(50);
/// How long workers get to finish their case when the daemon stops.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// A worker dying this many times before it is ready stops the daemon:
/// something is wrong with the setup, not with a case.
const MAX_FAILED_STARTS: u32 = 3;

/// When a run ends on its own.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunLimits {
    /// Wall-clock time.
    pub duration: Option<Duration>,
    /// Cases finished in this run.
    pub cases: Option<u64>,
}

/// What a run did.
#[derive(Clone, Debug)]
pub struct RunSummary {
    /// The run's id in the store.
    pub run: i64,
    /// `signal`, `duration` or `cases`.
    pub reason: &'static str,
    /// Cases finished.
    pub cases: u64,
    /// Wall-clock time.
    pub elapsed: Duration,
    /// Findings first seen in this run.
    pub new_findings: u64,
    /// Hits recorded in this run (new findings included).
    pub hits: u64,
    /// Findings in the store.
    pub total_findings: u64,
    /// Workers restarted after dying or being killed.
    pub restarts: u64,
    /// Wall time the supervisor spent writing hits and checkpoints.
    pub store_writes: Duration,
}

/// The case a worker is running.
struct Current {
    seed: u64,
    at: CasePosition,
}

/// A seed range a worker is working through.
struct Assignment {
    /// The part not yet checkpointed.
    range: SeedRange,
    /// The first seed not finished.
    next: u64,
    /// Counters of the finished seeds since the last checkpoint.
    counters: Counters,
    current: Option<Current>,
    /// The order finishing the current case without the engines that took
    /// workers down with it (`process::continuation`); the rest of the
    /// range goes back to the queue once it is done.
    continuing: Option<Order>,
}

struct Slot {
    process: Option<WorkerProcess>,
    generation: u64,
    engines: Vec<String>,
    ready: bool,
    failed_starts: u32,
    assignment: Option<Assignment>,
}

/// How often workers left without seeds (the store did not answer) are
/// given seeds again.
const WAITING_RETRY: Duration = Duration::from_secs(2);

/// How long one statement of the supervisor waits for a lost PostgreSQL
/// connection before its write is kept for later.
const OUTAGE_PROBE: Duration = Duration::from_secs(2);

/// Work done beside fuzzing for the length of a run, on a thread of its
/// own: the daemon's background triage, a later stage than this one.
pub trait BackgroundWork: Sync {
    /// The thread's name, for logs.
    fn name(&self) -> &'static str;
    /// Works until [`BackgroundWork::stop`].
    fn work(&self);
    /// After a run that ended as planned: lets the work finish what is
    /// left, for at most `limit` or until `signal` is raised.
    fn drain(&self, limit: Duration, signal: &AtomicBool);
    /// Asks [`BackgroundWork::work`] to return.
    fn stop(&self);
}

/// Runs the daemon until a limit is reached or `signals` ask it to stop,
/// with `background` (the daemon's triage of new findings) working on the side.
pub fn run(
    config: &Config,
    workers: usize,
    limits: RunLimits,
    signals: &StopSignals,
    background: Option<&dyn BackgroundWork>,
) -> Result<RunSummary> {
    let stop = signals.flag();
    // The matrix is built here once so that a bad engine name is an error
    // now, not a worker dying at startup.
    let engines = config.library.matrix()?.names().join(",");
    let mut store = Store::open(&config.store)?;
    let lock = store.lock_for_daemon()?;
    if lock.is_some() {
        // The only daemon of its store: what earlier runs left pending is
        // free now, not when their leases run out.
        store.release_leases()?;
    }
    let unfinished = store.pending_ranges()?.len();
    let cases_before = store
        .counters(None)?
        .get(&(ALL_ENGINES.to_string(), Counter::Cases.key()))
        .copied()
        .unwrap_or(0);
    let host = config.daemon.host_name();
    let now = unix_now();
    let run = store.begin_run(
        workers,
        &engines,
        &host,
        now,
        now - config.store.lease_seconds as i64,
    )?;
    signals.running(run);
    let baseline = store.baseline()?;
    // A statement fails fast when the server is gone: the supervisor keeps
    // its writes (`WriteBehind`) and fuzzing goes on meanwhile.
    store.set_reconnect_for(OUTAGE_PROBE);
    info!(
        run,
        workers,
        data_dir = %config.store.data_dir.display(),
        next_seed = store.next_seed()?.unwrap_or(config.daemon.first_seed),
        unfinished_ranges = unfinished,
        host = %host,
        store = store.location(),
        "daemon started"
    );
    let mut supervisor = Supervisor::new(
        config,
        store,
        run,
        workers,
        limits,
        stop,
        (cases_before, baseline),
    );
    let (outcome, shutdown) = supervisor.fuzz_beside(background)?;
    supervisor.finish(outcome, shutdown)
}

impl<'a> Supervisor<'a> {
    /// The supervisor of run `run` on `store`, before any worker starts;
    /// `earlier` are the store's cases and compile baseline from before it.
    fn new(
        config: &'a Config,
        store: Store,
        run: i64,
        workers: usize,
        limits: RunLimits,
        stop: Arc<AtomicBool>,
        earlier: (u64, Baseline),
    ) -> Self {
        let (cases_before, baseline) = earlier;
        let (sender, receiver) = mpsc::channel();
        Supervisor {
            config,
            store,
            run,
            slots: (0..workers)
                .map(|_| Slot {
                    process: None,
                    generation: 0,
                    engines: Vec::new(),
                    ready: false,
                    failed_starts: 0,
                    assignment: None,
                })
                .collect(),
            retry: VecDeque::new(),
            last_renewal: Instant::now(),
            writes: WriteBehind::new(run, Duration::from_secs(config.store.reconnect_seconds)),
            last_assign_try: Instant::now(),
            sender,
            receiver,
            limits,
            stop,
            stopping: false,
            claimed: 0,
            finished: 0,
            run_counters: Counters::new(),
            new_findings: 0,
            hits: 0,
            restarts: 0,
            started: Instant::now(),
            cases_before,
            last_status: (Instant::now(), 0),
            window: oracles::cost::baseline::Window::new(&config.library.cost),
            baseline,
            time_limits: TimeLimits::new(&config.daemon),
        }
    }

    /// Fuzzes until a limit or a stop, with `background` working on its own
    /// thread meanwhile; then shuts the workers down. The outcome is the
    /// reason fuzzing ended.
    fn fuzz_beside(
        &mut self,
        background: Option<&dyn BackgroundWork>,
    ) -> Result<(Result<&'static str>, Result<()>)> {
        let config = self.config;
        std::thread::scope(|scope| {
            if let Some(background) = background {
                std::thread::Builder::new()
                    .name(background.name().into())
                    .stack_size(oracles::pipeline::stack::CASE_STACK_BYTES)
                    .spawn_scoped(scope, || background.work())
                    .with_context(|| format!("starting the {}", background.name()))?;
            }
            let outcome = self.fuzz();
            let shutdown = self.shut_down();
            // A run that ended as planned finishes its side work (triaging
            // its findings); a signal ends it at once.
            if let Some(background) = background {
                if matches!(outcome, Ok("duration")) {
                    let limit = Duration::from_secs(config.library.triage.drain_seconds);
                    background.drain(limit, &self.stop);
                }
                background.stop();
            }
            anyhow::Ok((outcome, shutdown))
        })
    }

    /// Records the run's end and sums it up.
    fn finish(
        &mut self,
        outcome: Result<&'static str>,
        shutdown: Result<()>,
    ) -> Result<RunSummary> {
        let (config, run) = (self.config, self.run);
        let reason = match (&outcome, &shutdown) {
            (Ok(reason), Ok(())) => *reason,
            _ => "error",
        };
        // The last writes wait out an outage like a command does.
        self.store
            .set_reconnect_for(Duration::from_secs(config.store.reconnect_seconds));
        self.store.end_run(run, reason, unix_now())?;
        let reason = outcome?;
        shutdown?;
        let summary = RunSummary {
            run,
            reason,
            cases: self.finished,
            elapsed: self.started.elapsed(),
            new_findings: self.new_findings,
            hits: self.hits,
            total_findings: self.store.finding_count()?,
            restarts: self.restarts,
            store_writes: self.writes.time_writing(),
        };
        info!(
            run,
            reason,
            cases = summary.cases,
            new_findings = summary.new_findings,
            "daemon stopped"
        );
        Ok(summary)
    }
}

struct Supervisor<'a> {
    config: &'a Config,
    store: Store,
    run: i64,
    slots: Vec<Slot>,
    /// Ranges this run holds that a worker gave back unfinished, handed
    /// out first.
    retry: VecDeque<SeedRange>,
    /// When the leases of this run's ranges were last renewed.
    last_renewal: Instant,
    /// Hits and checkpoints the store could not take yet (a fleet's
    /// server restarting or unreachable).
    writes: WriteBehind,
    /// When idle workers were last given seeds from the loop.
    last_assign_try: Instant,
    sender: mpsc::Sender<Event>,
    receiver: mpsc::Receiver<Event>,
    limits: RunLimits,
    stop: Arc<AtomicBool>,
    stopping: bool,
    claimed: u64,
    finished: u64,
    run_counters: Counters,
    new_findings: u64,
    hits: u64,
    restarts: u64,
    started: Instant,
    cases_before: u64,
    last_status: (Instant, u64),
    /// This run's recent compile costs per instruction.
    window: oracles::cost::baseline::Window,
    /// The reference handed to workers: the stored one, updated by this
    /// run's window as it fills.
    baseline: Baseline,
    /// Each engine's and phase's time limit, short for hangs seen.
    time_limits: TimeLimits,
}

impl Supervisor<'_> {
    /// The main loop; returns why it ended.
    fn fuzz(&mut self) -> Result<&'static str> {
        for slot in 0..self.slots.len() {
            self.spawn(slot)?;
        }
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return Ok("signal");
            }
            if self
                .limits
                .duration
                .is_some_and(|d| self.started.elapsed() >= d)
            {
                return Ok("duration");
            }
            if self.limits.cases.is_some_and(|n| self.finished >= n) {
                return Ok("cases");
            }
            match self.receiver.recv_timeout(TICK) {
                Ok(event) => self.handle(event)?,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    unreachable!("the supervisor holds a sender")
                }
            }
            self.enforce_limits();
            self.maybe_report_status()?;
            self.flush_writes()?;
            self.maybe_renew_leases()?;
            self.assign_waiting()?;
        }
    }

    /// Tries again, every few seconds, to give seeds to the ready workers
    /// that got none because the store did not answer.
    fn assign_waiting(&mut self) -> Result<()> {
        let waiting =
            |slot: &Slot| slot.ready && slot.process.is_some() && slot.assignment.is_none();
        if self.last_assign_try.elapsed() < WAITING_RETRY || !self.slots.iter().any(waiting) {
            return Ok(());
        }
        self.last_assign_try = Instant::now();
        for slot in 0..self.slots.len() {
            self.assign(slot)?;
        }
        Ok(())
    }

    /// Writes what the store could not take before, once it answers (the
    /// workers that waited for seeds meanwhile get them from
    /// `assign_waiting`).
    fn flush_writes(&mut self) -> Result<()> {
        if !self.writes.is_buffering() {
            return Ok(());
        }
        for (write, written) in self.writes.flush(&mut self.store)? {
            self.report_written(&write, &written);
        }
        Ok(())
    }

    /// Renews this run's leases, a few times per lease: a daemon that
    /// stops renewing (it died) loses its seeds to the rest of the fleet.
    fn maybe_renew_leases(&mut self) -> Result<()> {
        let every = Duration::from_secs((self.config.store.lease_seconds / 4).max(1));
        if self.writes.is_buffering() || self.last_renewal.elapsed() < every {
            return Ok(());
        }
        let renewed = self.store.renew_leases(self.run, unix_now());
        // The next write finds the outage and keeps what it must.
        if self
            .unless_unreachable("renewing seed leases", renewed)?
            .is_some()
        {
            self.last_renewal = Instant::now();
        }
        Ok(())
    }

    /// `result`, or `None` when it failed because the store is unreachable
    /// (logged): what the supervisor reads or renews waits for the store.
    fn unless_unreachable<T>(&mut self, what: &str, result: Result<T>) -> Result<Option<T>> {
        match result {
            Ok(value) => {
                self.writes.reachable(0);
                Ok(Some(value))
            }
            Err(err) if self.store.is_disconnected() => {
                let err = err.context(what.to_string());
                self.writes.unreachable(&err);
                Ok(None)
            }
            Err(err) => Err(err),
        }
    }

    fn spawn(&mut self, slot: usize) -> Result<()> {
        let state = &mut self.slots[slot];
        state.generation += 1;
        state.ready = false;
        let process = WorkerProcess::spawn(
            &self.config.text,
            slot,
            state.generation,
            self.sender.clone(),
            0,
        )?;
        debug!(worker = slot, pid = process.pid(), "worker started");
        state.process = Some(process);
        Ok(())
    }

    fn handle(&mut self, event: Event) -> Result<()> {
        match event {
            Event::Reply {
                slot,
                generation,
                report,
            } => {
                if self.slots[slot].generation != generation {
                    return Ok(());
                }
                self.on_report(slot, report)
            }
            Event::Closed { slot, generation } => {
                if self.slots[slot].generation != generation {
                    return Ok(());
                }
                self.on_exit(slot)
            }
        }
    }

    fn on_report(&mut self, slot: usize, report: Reply) -> Result<()> {
        let state = &mut self.slots[slot];
        match report {
            Reply::Ready { engines } => {
                state.engines = engines;
                state.ready = true;
                state.failed_starts = 0;
                let continuing = state.assignment.as_ref().and_then(|a| a.continuing.clone());
                match (continuing, &mut state.process) {
                    (Some(order), Some(process)) => {
                        process.order(&order);
                    }
                    _ => self.assign(slot)?,
                }
            }
            Reply::Started { seed } => {
                if let Some(assignment) = &mut state.assignment {
                    assignment.current = Some(Current {
                        seed,
                        at: CasePosition::start(),
                    });
                }
            }
            step
            @ (Reply::Engine { .. } | Reply::Running | Reply::Call { .. } | Reply::Judging) => {
                if let Some(current) = state.assignment.as_mut().and_then(|a| a.current.as_mut()) {
                    current.at.follow(&step);
                }
            }
            Reply::Finished(result) => self.finish_case(slot, *result)?,
            Reply::Scaled(_) => warn!(worker = slot, "ignoring a scaling result nobody ordered"),
            Reply::Idle => {
                if let Some(assignment) = self.slots[slot].assignment.take() {
                    self.give_back(assignment)?;
                }
                self.assign(slot)?;
            }
        }
        Ok(())
    }

    fn finish_case(&mut self, slot: usize, result: CaseResult) -> Result<()> {
        let Some(assignment) = self.slots[slot].assignment.as_mut() else {
            bail!(
                "worker {slot} finished seed {} it was not given",
                result.seed
            );
        };
        if result.seed != assignment.next {
            bail!(
                "worker {slot} finished seed {} out of order (expected {})",
                result.seed,
                assignment.next
            );
        }
        tally(
            &mut assignment.counters,
            &mut self.run_counters,
            result.events,
        );
        tally_instructions(
            &mut assignment.counters,
            &mut self.run_counters,
            &result.instructions,
        );
        let instructions = result.instructions.values().sum::<u64>();
        for sample in &result.compiles {
            self.window.add(
                &sample.engine,
                instructions,
                &CompileCost {
                    wall: Duration::from_nanos(sample.wall_ns),
                    cpu: None,
                    peak_heap: sample.peak_heap,
                },
            );
        }
        assignment.next = result.seed + 1;
        assignment.current = None;
        self.finished += 1;
        let wasm: Arc<[u8]> = hex::decode(&result.wasm_hex)
            .with_context(|| format!("worker {slot} sent a malformed module"))?
            .into();
        for finding in result.findings {
            self.record(finding, Some(result.seed), &wasm)?;
        }
        Ok(())
    }

    /// Records a hit of one of a case's findings; durable before it is
    /// logged (kept in order until the store answers, if it does not).
    fn record(&mut self, finding: Finding, seed: Option<u64>, wasm: &Arc<[u8]>) -> Result<()> {
        let suppressed = is_suppressed(&finding, &self.config.library.triage, wasm);
        let write = Write::Hit {
            finding,
            seed,
            wasm: Arc::clone(wasm),
            at: unix_now(),
            suppressed,
        };
        self.write(write)
    }

    /// Writes to the store, or keeps the write until it answers.
    fn write(&mut self, write: Write) -> Result<()> {
        if let Some((write, written)) = self.writes.write(&mut self.store, write)? {
            self.report_written(&write, &written);
        }
        Ok(())
    }

    /// Logs and counts a write the store took.
    fn report_written(&mut self, write: &Write, written: &Written) {
        match (write, written) {
            (
                Write::Hit {
                    finding,
                    seed,
                    wasm,
                    suppressed,
                    ..
                },
                Written::Hit(recorded),
            ) => {
                self.hits += 1;
                let signature = &finding.signature;
                if recorded.new && *suppressed {
                    let rule = self.config.library.triage.suppression_for(
                        signature,
                        finding.suspect.as_deref(),
                        wasm,
                    );
                    let reason = rule.map_or("", |rule| rule.reason.as_str());
                    debug!(
                        finding = recorded.id,
                        "finding #{} suppressed ({reason}): {signature}", recorded.id
                    );
                } else if recorded.new {
                    self.new_findings += 1;
                    info!(
                        finding = recorded.id,
                        kind = finding.kind.as_str(),
                        seed,
                        "new finding #{}: {signature}",
                        recorded.id
                    );
                } else {
                    debug!(
                        finding = recorded.id,
                        hits = recorded.hits,
                        seed,
                        "{signature}"
                    );
                }
            }
            (Write::Checkpoint { range, .. }, Written::Checkpoint(false)) => warn!(
                start = range.start,
                end = range.end,
                "another daemon took over this range (its lease ran out): its cases are counted there"
            ),
            _ => {}
        }
    }

    fn checkpoint(&mut self, assignment: Assignment) -> Result<()> {
        self.write(Write::Checkpoint {
            range: assignment.range,
            done_until: assignment.next,
            counters: assignment.counters,
        })
    }

    /// Gives an idle, ready worker its next range, unless the run is ending.
    fn assign(&mut self, slot: usize) -> Result<()> {
        let state = &self.slots[slot];
        if self.stopping || !state.ready || state.assignment.is_some() {
            return Ok(());
        }
        let remaining = self
            .limits
            .cases
            .map_or(u64::MAX, |n| n.saturating_sub(self.claimed));
        if remaining == 0 {
            return Ok(());
        }
        // While the store is unreachable, only a range this run holds
        // whole: taking or splitting one would wait for the store.
        let needs_store = self
            .retry
            .front()
            .is_none_or(|range| range.end - range.start > remaining);
        if self.writes.is_buffering() && needs_store {
            return Ok(());
        }
        let range = match self.retry.pop_front() {
            Some(range) if range.end - range.start > remaining => {
                let split = self.store.split_pending(range, range.start + remaining);
                let Some((head, tail)) = self.unless_unreachable("splitting a range", split)?
                else {
                    self.retry.push_front(range);
                    return Ok(());
                };
                self.retry.push_front(tail);
                head
            }
            Some(range) => range,
            None => {
                let taken = self.store.take_seeds(
                    self.run,
                    self.config.daemon.first_seed,
                    self.config.daemon.batch_size.min(remaining),
                    unix_now(),
                );
                // The worker waits; it gets seeds once the store answers.
                match self.unless_unreachable("taking seeds", taken)? {
                    Some(range) => range,
                    None => return Ok(()),
                }
            }
        };
        self.claimed += range.end - range.start;
        debug!(
            run = self.run,
            start = range.start,
            end = range.end,
            "seeds taken"
        );
        let baseline = self.refresh_baseline()?;
        let state = &mut self.slots[slot];
        state.assignment = Some(Assignment {
            range,
            next: range.start,
            counters: Counters::new(),
            current: None,
            continuing: None,
        });
        let order = Order::Run {
            start: range.start,
            end: range.end,
            baseline,
        };
        // If the worker is gone, its Closed event gives the range back.
        if let Some(process) = &mut state.process {
            process.order(&order);
        }
        Ok(())
    }

    /// The reference of compile cost per instruction for the next range:
    /// the run's window where it has enough samples, else what the store
    /// had; saved, so that the background triage judges by the same figures.
    fn refresh_baseline(&mut self) -> Result<Option<Baseline>> {
        let fresh = self
            .window
            .baseline(self.config.library.cost.outliers.min_samples);
        if !fresh.is_empty() {
            // The next range saves it again.
            let saved = self.store.save_baseline(&fresh, unix_now());
            self.unless_unreachable("saving the baseline", saved)?;
            self.baseline = std::mem::take(&mut self.baseline).updated_by(fresh);
        }
        Ok((!self.baseline.is_empty()).then(|| self.baseline.clone()))
    }

    /// The case a worker died in (not on the way out): it goes on in a
    /// fresh worker without the engine that died (true), or it is recorded
    /// as stuck and counted as finished (false).
    fn on_case_death(
        &mut self,
        slot: usize,
        pid: u32,
        assignment: &mut Assignment,
        current: Current,
        death: &oracles::engine::death::Death,
    ) -> Result<bool> {
        let at = &current.at;
        let engine = at
            .engine
            .and_then(|i| self.slots[slot].engines.get(i).cloned());
        self.time_limits
            .note_death(death, engine.as_deref(), at.compiling);
        let death = &super::time_limits::in_call(death, at.call.as_ref());
        let wasm = module_for_seed(current.seed, &self.config.library.generator);
        let order = assignment.continuing.take().unwrap_or_else(|| {
            continuation::check_of_generated(current.seed, &wasm, self.baseline_order())
        });
        let next = continuation::without(&order, engine.as_deref(), death, at.compiling)
            .filter(|_| !self.stopping);
        if let Some(next) = next {
            // The case goes on in a fresh worker without the engine;
            // its result counts and records the death.
            debug!(
                worker = slot,
                pid,
                seed = current.seed,
                "{} in {}; the case goes on without it",
                death.how,
                engine.as_deref().unwrap_or("-")
            );
            assignment.continuing = Some(next);
            return Ok(true);
        }
        let case = format!("seed {}, worker pid {pid}", current.seed);
        let found =
            continuation::findings_of_stuck(&order, engine.as_deref(), death, at.compiling, &case);
        // The case's verdict is what its first finding was recorded
        // as (a compile blowup when killed while compiling); each
        // engine's counter says what happened to it.
        let kinds: Vec<_> = found.iter().map(|f| f.kind).collect();
        let wasm: Arc<[u8]> = wasm.into();
        for finding in found {
            self.record(finding, Some(current.seed), &wasm)?;
        }
        let mut events = findings_events(&kinds);
        if let Order::Check { dead, .. } = &order {
            for (name, earlier) in dead {
                events.push((name.clone(), death_counter(earlier.kind)));
            }
        }
        if let Some(engine) = engine {
            events.push((engine, death_counter(death.kind)));
        }
        tally(&mut assignment.counters, &mut self.run_counters, events);
        assignment.next = current.seed + 1;
        self.finished += 1;
        Ok(false)
    }

    /// A worker's output closed: record its death if it was not asked to
    /// stop, give back its unfinished seeds, start a new one.
    fn on_exit(&mut self, slot: usize) -> Result<()> {
        let Some(process) = self.slots[slot].process.take() else {
            return Ok(());
        };
        let pid = process.pid();
        let (status, death) = process.reap();
        let expected = self.stopping && status.success();
        let was_ready = self.slots[slot].ready;
        self.slots[slot].ready = false;
        if let Some(mut assignment) = self.slots[slot].assignment.take() {
            if let (Some(current), false) = (assignment.current.take(), expected) {
                if self.on_case_death(slot, pid, &mut assignment, current, &death)? {
                    self.slots[slot].assignment = Some(assignment);
                    self.restarts += 1;
                    return self.spawn(slot);
                }
            }
            self.give_back(assignment)?;
        } else if !expected && was_ready {
            warn!(
                worker = slot,
                pid, "worker died between cases: {}", death.detail
            );
        }
        if self.stopping {
            return Ok(());
        }
        warn!(
            worker = slot,
            pid,
            kind = %death.kind,
            "worker {}; restarting it",
            death.how
        );
        self.restarts += 1;
        if !was_ready {
            self.slots[slot].failed_starts += 1;
            if self.slots[slot].failed_starts >= MAX_FAILED_STARTS {
                bail!(
                    "worker {slot} died {MAX_FAILED_STARTS} times before it was ready: {}",
                    death.detail
                );
            }
        }
        self.spawn(slot)
    }

    /// Checkpoints an assignment the worker is done with, and queues the
    /// seeds of its range it did not reach (the worker died, or finished
    /// a continued case) for the next idle worker.
    fn give_back(&mut self, assignment: Assignment) -> Result<()> {
        let rest = SeedRange {
            start: assignment.next,
            end: assignment.range.end,
        };
        self.checkpoint(assignment)?;
        if rest.start < rest.end && !self.stopping {
            self.claimed -= rest.end - rest.start;
            self.retry.push_front(rest);
        }
        Ok(())
    }

    /// The baseline to send with an order, if there is one yet.
    fn baseline_order(&self) -> Option<Baseline> {
        (!self.baseline.is_empty()).then(|| self.baseline.clone())
    }

    /// Kills workers whose engine's phase (or whole case) is over time or
    /// whose memory is over the limit.
    fn enforce_limits(&mut self) {
        let memory = self.config.daemon.worker_memory_limit_mib << 20;
        for state in &mut self.slots {
            let Some(process) = &mut state.process else {
                continue;
            };
            let over_time = state
                .assignment
                .as_ref()
                .and_then(|a| a.current.as_ref())
                .and_then(|c| {
                    let engine = c.at.engine.and_then(|i| state.engines.get(i));
                    self.time_limits
                        .passed(&c.at.clock, engine.map(String::as_str), c.at.compiling)
                });
            process.enforce_limits(over_time, memory);
        }
    }

    fn maybe_report_status(&mut self) -> Result<()> {
        let (at, cases_then) = self.last_status;
        let interval = Duration::from_secs(self.config.daemon.status_interval_secs);
        if at.elapsed() < interval {
            return Ok(());
        }
        let rate = (self.finished - cases_then) as f64 / at.elapsed().as_secs_f64();
        self.last_status = (Instant::now(), self.finished);
        let inconclusive: u64 = self
            .run_counters
            .iter()
            .filter(|((engine, name), _)| {
                engine == ALL_ENGINES
                    && matches!(Counter::parse(name), Counter::Verdict(v) if v.starts_with("inconclusive"))
            })
            .map(|(_, n)| n)
            .sum();
        let counted = self.store.finding_count();
        let total_findings = self
            .unless_unreachable("counting findings", counted)?
            .map_or("?".to_string(), |n| n.to_string());
        let alive = self.slots.iter().filter(|s| s.ready).count();
        info!(
            cases = self.finished,
            cases_per_s = format!("{rate:.1}"),
            store_cases = self.cases_before + self.finished,
            new_findings = self.new_findings,
            total_findings,
            "{} cases ({rate:.1}/s, {} in store); findings: {} new, {total_findings} total, {} hits; \
             inconclusive {:.2}%; {alive}/{} workers, {} restarts",
            self.finished,
            self.cases_before + self.finished,
            self.new_findings,
            self.hits,
            100.0 * inconclusive as f64 / self.finished.max(1) as f64,
            self.slots.len(),
            self.restarts,
        );
        Ok(())
    }

    /// Stops every worker after its current case (killing any that take
    /// longer than the grace period) and checkpoints what they finished.
    fn shut_down(&mut self) -> Result<()> {
        self.stopping = true;
        for state in &mut self.slots {
            if let Some(process) = &mut state.process {
                process.request_stop();
            }
        }
        let deadline = Instant::now() + STOP_GRACE;
        let mut result = Ok(());
        while self.slots.iter().any(|s| s.process.is_some()) && Instant::now() < deadline {
            match self.receiver.recv_timeout(TICK) {
                Ok(event) => {
                    if let Err(err) = self.handle(event) {
                        result = result.and(Err(err));
                    }
                }
                Err(_) => self.enforce_limits(),
            }
        }
        for slot in 0..self.slots.len() {
            if let Some(process) = self.slots[slot].process.as_mut() {
                warn!(
                    worker = slot,
                    pid = process.pid(),
                    "worker did not stop in time; killing it"
                );
                // Killed by us for stopping: not a finding.
                let _ = process.kill_quietly();
                let _ = self.slots[slot].process.take().map(WorkerProcess::reap);
            }
            if let Some(mut assignment) = self.slots[slot].assignment.take() {
                assignment.current = None;
                if let Err(err) = self.checkpoint(assignment) {
                    result = result.and(Err(err));
                }
            }
        }
        // What the store could not take yet: waited for up to
        // reconnect_seconds, then left (its seeds stay pending).
        while self.writes.is_buffering() {
            if let Err(err) = self.flush_writes() {
                result = result.and(Err(err));
                break;
            }
            std::thread::sleep(TICK);
        }
        result
    }
}

/// Counts a case's events both in its range's counters (committed at the
/// next checkpoint) and in the run's (for the status line).
fn tally(range: &mut Counters, run: &mut Counters, events: Vec<(String, String)>) {
    for event in events {
        *range.entry(event.clone()).or_default() += 1;
        *run.entry(event).or_default() += 1;
    }
}

/// Adds a case's instruction histogram as `("*", "op:<name>")` counters.
fn tally_instructions(range: &mut Counters, run: &mut Counters, counts: &BTreeMap<String, u64>) {
    for (name, count) in counts {
        let key = (ALL_ENGINES.to_string(), Counter::Op(name.clone()).key());
        *range.entry(key.clone()).or_default() += count;
        *run.entry(key).or_default() += count;
    }
}
