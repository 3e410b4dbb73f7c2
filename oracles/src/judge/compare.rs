//! Comparing what the engines observed, point by point, into a verdict.

use crate::case::imports::HostLog;
use crate::case::plan::Plan;
use crate::case::stack_program::StackExpectation;
use crate::case::value::{display_values, Value};
use crate::engine::id::EngineId;
use crate::engine::outcome::{EngineRun, Execution, InconclusiveReason, Outcome, TrapKind};
use crate::judge::attribution::blame;
use crate::judge::verdict::{Mismatch, Phase, Rejection, Side, Verdict};
use std::borrow::Borrow;

/// The result of comparing one case.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// The verdict.
    pub verdict: Verdict,
    /// Every refusal, expected or not (expected ones are counted per engine).
    pub rejections: Vec<Rejection>,
    /// Disagreements after the verdict's mismatch that blame someone it
    /// does not (the engines go on being compared after a first
    /// disagreement; a later one blamed on the same parties is taken as a
    /// consequence of the first).
    pub further: Vec<Mismatch>,
}

/// One engine's view of one comparison point.
enum Observation<'a> {
    Step(&'a Outcome),
    Memory(&'a [u8]),
    Global(&'a Value),
    Table(&'a [Value]),
    Host(&'a HostLog),
}

impl Observation<'_> {
    fn same_as(&self, other: &Observation<'_>) -> bool {
        match (self, other) {
            (Observation::Step(a), Observation::Step(b)) => a.same_as(b),
            // Bytes are bytes: a store of an integer whose bits look like a
            // NaN is no NaN, and generated code stores canonical NaNs.
            (Observation::Memory(a), Observation::Memory(b)) => a == b,
            (Observation::Global(a), Observation::Global(b)) => a.same_as(b),
            (Observation::Table(a), Observation::Table(b)) => {
                a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.same_as(y))
            }
            (Observation::Host(a), Observation::Host(b)) => a.same_as(b),
            _ => false,
        }
    }

    fn describe(&self) -> String {
        match self {
            Observation::Step(outcome) => outcome.to_string(),
            Observation::Memory(bytes) => {
                let nonzero = bytes.iter().filter(|b| **b != 0).count();
                format!("{} bytes, {nonzero} non-zero", bytes.len())
            }
            Observation::Global(value) => value.to_string(),
            Observation::Table(elements) => {
                let shown: Vec<Value> = elements.iter().take(8).cloned().collect();
                let more = if elements.len() > 8 { ", ..." } else { "" };
                format!("size {} {}{more}", elements.len(), display_values(&shown))
            }
            Observation::Host(log) => log.to_string(),
        }
    }

    fn class(&self) -> String {
        match self {
            Observation::Step(outcome) => outcome.class(),
            _ => "value".into(),
        }
    }

    fn inconclusive_reason(&self) -> Option<InconclusiveReason> {
        match self {
            Observation::Step(outcome) => outcome.inconclusive_reason(),
            _ => None,
        }
    }
}

/// Compares the runs of `names[i]` (whose supported proposals are judged by
/// `expected_rejection(i)`; `tie_breaker(i)` for engines that ran only to
/// break a tie between implementation families) into a verdict.
pub fn compare<R: Borrow<EngineRun>>(
    names: &[&str],
    runs: &[R],
    plan: &Plan,
    expected_rejection: impl Fn(usize) -> bool,
    tie_breaker: impl Fn(usize) -> bool,
) -> Comparison {
    let mut rejections = Vec::new();
    let mut ran: Vec<(&str, &Execution)> = Vec::new();
    let mut crashed: Vec<(EngineId, String)> = Vec::new();
    for (i, (name, run)) in names.iter().zip(runs).enumerate() {
        match run.borrow() {
            EngineRun::Crashed(message) => crashed.push((EngineId::parse(name), message.clone())),
            EngineRun::Rejected(message) => rejections.push(Rejection {
                engine: EngineId::parse(name),
                expected: expected_rejection(i),
                message: message.clone(),
            }),
            EngineRun::Ran(execution) => ran.push((name, execution)),
            // Its death is a finding of its own (`pipeline::findings`); the
            // others are compared without it.
            EngineRun::Died(_) => {}
        }
    }
    let (survivors, mut further) = verdict_of_survivors(&ran, &rejections, plan);
    // A crash outranks everything; what the engines that ran disagree on
    // follows it, so no engine's outcome is lost.
    let verdict = if crashed.is_empty() {
        survivors
    } else {
        if let Verdict::Mismatch(m) = survivors {
            further.insert(0, m);
        }
        Verdict::Crash { engines: crashed }
    };
    let tie_breakers: Vec<EngineId> = names
        .iter()
        .enumerate()
        .filter(|(i, _)| tie_breaker(*i))
        .map(|(_, n)| EngineId::parse(n))
        .collect();
    let mut verdict = verdict;
    if let Verdict::Mismatch(m) = &mut verdict {
        mark_tie_breakers(m, &tie_breakers);
    }
    for m in &mut further {
        mark_tie_breakers(m, &tie_breakers);
    }
    Comparison {
        verdict,
        rejections,
        further,
    }
}

/// The verdict on the engines that ran, and the disagreements after the
/// first. A finding outranks an undecided comparison: a mismatch first,
/// then a refusal of a valid module, then inconclusive.
fn verdict_of_survivors(
    ran: &[(&str, &Execution)],
    rejections: &[Rejection],
    plan: &Plan,
) -> (Verdict, Vec<Mismatch>) {
    let unexpected: Vec<EngineId> = rejections
        .iter()
        .filter(|r| !r.expected)
        .map(|r| r.engine.clone())
        .collect();
    if ran.len() < 2 {
        let verdict = if rejections.is_empty() {
            Verdict::Inconclusive {
                reason: InconclusiveReason::TooFewEngines,
                engines: ran.iter().map(|(n, _)| EngineId::parse(n)).collect(),
                phase: Phase::Compile,
            }
        } else {
            Verdict::Rejected {
                expected: unexpected.is_empty(),
            }
        };
        return (verdict, Vec::new());
    }
    let (verdict, later) = compare_executions(ran, plan);
    let verdict = match verdict {
        Some(mismatch @ Verdict::Mismatch(_)) => mismatch,
        _ if !unexpected.is_empty() => Verdict::UnexpectedRejection {
            engines: unexpected,
        },
        Some(verdict) => verdict,
        None => Verdict::Agree,
    };
    (verdict, later)
}

/// Notes which of a mismatch's engines ran only to break a tie.
fn mark_tie_breakers(m: &mut Mismatch, tie_breakers: &[EngineId]) {
    m.tie_breakers = tie_breakers
        .iter()
        .filter(|t| m.sides.iter().any(|g| g.engines.iter().any(|e| e == *t)))
        .cloned()
        .collect();
}

/// Walks the comparison points in execution order, past disagreements,
/// until everything is compared, a point is inconclusive (anything after
/// fuel exhaustion, or a stack overflow of some engines when the plan does
/// not say what a correct engine does, is incomparable), or every engine
/// overflowed its stack (agreement; what follows may depend on depth). Returns the
/// verdict (the first mismatch, else the inconclusive point, else `None`
/// when everything agrees) and the later mismatches that blame a party the
/// earlier ones do not.
fn compare_executions(ran: &[(&str, &Execution)], plan: &Plan) -> (Option<Verdict>, Vec<Mismatch>) {
    let mut walk = Walk {
        ran,
        stack: plan.stack,
        mismatches: Vec::new(),
        fuel: Vec::new(),
        stopped: None,
    };
    walk.all_points(plan);
    // A difference in fuel comes after every difference in what the
    // engines computed: a known charging quirk never hides a miscompile
    // blamed on the same engines.
    let mut mismatches = walk.mismatches.into_iter().chain(walk.fuel);
    match mismatches.next() {
        Some(first) => {
            let mut blamed: Vec<String> = first.blame.clone();
            let mut further = Vec::new();
            for later in mismatches {
                let new_party = later.blame.iter().any(|p| !blamed.contains(p))
                    || (later.blame.is_empty() && !first.blame.is_empty());
                if new_party {
                    blamed.extend(later.blame.iter().cloned());
                    further.push(later);
                }
            }
            (Some(Verdict::Mismatch(first)), further)
        }
        None => (walk.stopped, Vec::new()),
    }
}

/// The state of a walk over the comparison points.
struct Walk<'a> {
    ran: &'a [(&'a str, &'a Execution)],
    /// Whether a partial stack overflow is a difference or undecided.
    stack: StackExpectation,
    mismatches: Vec<Mismatch>,
    /// Differences in the fuel steps consumed, in step order.
    fuel: Vec<Mismatch>,
    /// The inconclusive point that ended the walk.
    stopped: Option<Verdict>,
}

impl<'a> Walk<'a> {
    /// Compares one point; false when the walk must stop there.
    fn point(&mut self, phase: Phase, observe: &dyn Fn(&'a Execution) -> Observation<'a>) -> bool {
        match compare_point(self.ran, phase, observe, self.stack) {
            None => true,
            Some(Verdict::Mismatch(m)) => {
                self.mismatches.push(m);
                true
            }
            Some(Verdict::Agree) => false,
            Some(inconclusive) => {
                self.stopped = Some(inconclusive);
                false
            }
        }
    }

    /// The host function calls of step `step` (0: instantiation), where
    /// the module imports functions.
    fn host_point(&mut self, step: usize, plan: &Plan) -> bool {
        if !self.ran.iter().any(|(_, e)| !e.host_calls.is_empty()) {
            return true;
        }
        let phase = Phase::HostCalls {
            during: Box::new(match step {
                0 => Phase::Instantiate,
                n => call_phase(plan, n - 1),
            }),
        };
        self.point(phase, &|e| {
            Observation::Host(e.host_calls.get(step).unwrap_or(&NO_HOST_CALLS))
        })
    }

    /// The fuel call `step - 1` consumed on the engines that count it
    /// Wasmtime's way, where they all returned the same: fuel
    /// counts Wasm operators, so it is the same on every such engine of
    /// one release, whatever its compiler settings, and embedders rely on
    /// it as a bound. Releases are compared only with themselves (a release
    /// may price operators anew).
    fn fuel_point(&mut self, step: usize, plan: &Plan) {
        let outcome = |e: &Execution| match step {
            0 => e.instantiation.clone(),
            n => e.calls[n - 1].clone(),
        };
        let counted: Vec<(EngineId, u64, Outcome)> = self
            .ran
            .iter()
            .filter_map(|(name, e)| {
                let fuel = (*e.fuel_used.get(step)?)?;
                Some((EngineId::parse(name), fuel, outcome(e)))
            })
            .collect();
        let mut releases: Vec<Option<u64>> = counted.iter().map(|(id, ..)| id.release()).collect();
        releases.dedup();
        for release in releases {
            let same: Vec<&(EngineId, u64, Outcome)> = counted
                .iter()
                .filter(|(id, ..)| id.release() == release)
                .collect();
            // Only where the step returned: at a trap, what a compiler had
            // charged but not yet written back is lost, and compilers write
            // it back at different points.
            let agreed = same.windows(2).all(|w| w[0].2.same_as(&w[1].2))
                && same
                    .iter()
                    .all(|(_, _, o)| matches!(o, Outcome::Returned(_)));
            if same.len() < 2 || !agreed {
                continue;
            }
            let mut groups: Vec<(Vec<EngineId>, u64)> = Vec::new();
            for (id, fuel, _) in same {
                match groups.iter_mut().find(|(_, f)| f == fuel) {
                    Some((members, _)) => members.push(id.clone()),
                    None => groups.push((vec![id.clone()], *fuel)),
                }
            }
            if groups.len() < 2 {
                continue;
            }
            let groups: Vec<Side> = groups
                .into_iter()
                .map(|(engines, fuel)| Side {
                    engines,
                    observed: format!("{fuel} fuel"),
                    class: "fuel".into(),
                })
                .collect();
            self.fuel.push(Mismatch {
                phase: Phase::Fuel {
                    during: Box::new(match step {
                        0 => Phase::Instantiate,
                        n => call_phase(plan, n - 1),
                    }),
                },
                blame: blame(&groups).parties,
                sides: groups,
                detail: None,
                tie_breakers: Vec::new(),
            });
        }
    }

    /// Step `step` (0: instantiation) where engines counting fuel ran out
    /// of it while another engine ended the step: the interpreter sooner
    /// than the budget could have been spent (at most
    /// [`OPERATIONS_PER_SECOND`]), or one of the same release counting fuel
    /// with the same budget. The fuel was charged for work that was not
    /// done: a finding rather than an undecided case. Engines without fuel
    /// are timed by the wall clock, so noise only ever hides such a
    /// finding.
    fn starved(&self, step: usize, phase: &Phase) -> Option<Mismatch> {
        let outcome = |e: &'a Execution| match step {
            0 => &e.instantiation,
            n => &e.calls[n - 1],
        };
        let time = |e: &Execution| match step {
            0 => Some(e.instantiate_time),
            n => e.call_times.get(n - 1).copied(),
        };
        let starved: Vec<(EngineId, u64)> = self
            .ran
            .iter()
            .filter(|(_, e)| matches!(outcome(e), Outcome::Trap(TrapKind::OutOfFuel)))
            .filter_map(|(n, e)| Some((EngineId::parse(n), (*e.fuel_used.get(step)?)?)))
            .collect();
        let budget = starved.iter().map(|(_, fuel)| *fuel).min()?;
        let quickest = std::time::Duration::from_secs_f64(budget as f64 / OPERATIONS_PER_SECOND);
        let release = starved.first()?.0.release();
        // Ended quickly on the interpreter, which skips no operation (an
        // optimizing compiler may hoist or drop most of a loop's work, so
        // its time bounds nothing), or ended at all with the same budget
        // counted the same way (the same release).
        let ended_in_time = |n: &str, e: &Execution| match e.fuel_used.get(step) {
            None => {
                EngineId::parse(n).family() == crate::engine::family::WASMI
                    && time(e).is_some_and(|t| t < quickest)
            }
            Some(_) => EngineId::parse(n).release() == release,
        };
        let ended: Vec<(EngineId, &Outcome)> = self
            .ran
            .iter()
            .filter(|(_, e)| outcome(e).inconclusive_reason().is_none())
            .filter(|(n, e)| ended_in_time(n, e))
            .map(|(n, e)| (EngineId::parse(n), outcome(e)))
            .collect();
        let (_, first) = ended.first()?;
        let groups = vec![
            Side {
                engines: starved.iter().map(|(id, _)| id.clone()).collect(),
                observed: format!("trap out-of-fuel after {budget} fuel"),
                class: Outcome::Trap(TrapKind::OutOfFuel).class(),
            },
            Side {
                engines: ended.iter().map(|(id, _)| id.clone()).collect(),
                observed: format!("{first}, in less than {quickest:?}"),
                class: first.class(),
            },
        ];
        Some(Mismatch {
            phase: phase.clone(),
            blame: blame(&groups).parties,
            sides: groups,
            detail: Some(format!(
                "{budget} fuel cannot be spent in {quickest:?} at {OPERATIONS_PER_SECOND:e} operations per second"
            )),
            tie_breakers: Vec::new(),
        })
    }

    /// [`Walk::point`] for a step, after [`Walk::starved`].
    fn step_point(&mut self, step: usize, phase: Phase) -> bool {
        if let Some(m) = self.starved(step, &phase) {
            self.mismatches.push(m);
            return false;
        }
        self.point(phase, &|e| {
            Observation::Step(match step {
                0 => &e.instantiation,
                n => &e.calls[n - 1],
            })
        })
    }

    fn all_points(&mut self, plan: &Plan) {
        if !self.step_point(0, Phase::Instantiate) {
            return;
        }
        if !self.host_point(0, plan) {
            return;
        }
        // Past a failed instantiation there is nothing more to see; where
        // the engines disagree on it, neither is there a common state.
        if !self
            .ran
            .iter()
            .all(|(_, e)| matches!(e.instantiation, Outcome::Returned(_)))
        {
            return;
        }
        // Instantiation's fuel is not compared: Wasmtime 48 charges the
        // initialization of segments without copy-on-write memory images
        // and not with them (docs/verdicts.md), a difference of the
        // configuration in a tenth of all cases.
        for index in 0..plan.calls.len() {
            if !self.step_point(index + 1, call_phase(plan, index))
                || !self.host_point(index + 1, plan)
            {
                return;
            }
            self.fuel_point(index + 1, plan);
        }
        let first = state(self.ran[0].1);
        for (i, (name, _)) in first.memories.iter().enumerate() {
            let phase = Phase::Memory(name.clone());
            if !self.point(phase, &|e| Observation::Memory(&state(e).memories[i].1)) {
                return;
            }
        }
        for (i, (name, _)) in first.globals.iter().enumerate() {
            let phase = Phase::Global(name.clone());
            if !self.point(phase, &|e| Observation::Global(&state(e).globals[i].1)) {
                return;
            }
        }
        for (i, (name, _)) in first.tables.iter().enumerate() {
            let phase = Phase::Table(name.clone());
            if !self.point(phase, &|e| Observation::Table(&state(e).tables[i].1)) {
                return;
            }
        }
    }
}

/// Ten times more Wasm operations per second than the interpreter runs: a
/// bound on the fuel its step could have consumed in a given time (fuel
/// counts operations).
const OPERATIONS_PER_SECOND: f64 = 1e10;

/// The log of an engine that recorded none (no function is imported).
static NO_HOST_CALLS: HostLog = HostLog {
    count: 0,
    digest: [0; 8],
    first: Vec::new(),
};

/// The phase of the plan's call `index`.
fn call_phase(plan: &Plan, index: usize) -> Phase {
    let call = &plan.calls[index];
    Phase::Call {
        index,
        export: call.export.clone(),
        instance: call.instance,
        args: display_values(&call.args)
            .replacen('[', "(", 1)
            .replacen(']', ")", 1),
    }
}

fn state(execution: &Execution) -> &crate::engine::outcome::Snapshot {
    execution
        .state
        .as_ref()
        .expect("instantiated engines have state")
}

fn compare_point<'a>(
    ran: &[(&str, &'a Execution)],
    phase: Phase,
    observe: &dyn Fn(&'a Execution) -> Observation<'a>,
    stack: StackExpectation,
) -> Option<Verdict> {
    let observations: Vec<(&str, Observation<'_>)> =
        ran.iter().map(|(n, e)| (*n, observe(e))).collect();
    let reasons: Vec<(String, InconclusiveReason)> = observations
        .iter()
        .filter_map(|(n, o)| Some((n.to_string(), o.inconclusive_reason()?)))
        .collect();
    let overflowed = reasons
        .iter()
        .filter(|(_, r)| *r == InconclusiveReason::StackOverflow)
        .count();
    // Anything past fuel exhaustion or a resource limit is incomparable.
    let mut inconclusive: Vec<(String, InconclusiveReason)> = reasons
        .iter()
        .filter(|(_, r)| *r != InconclusiveReason::StackOverflow)
        .cloned()
        .collect();
    if inconclusive.is_empty() && overflowed > 0 {
        if overflowed == observations.len() {
            // Every engine overflowed: they agree. What follows may depend
            // on how deep each got, so the walk ends here.
            return Some(Verdict::Agree);
        }
        // Some overflowed where others did not. Unless a correct engine's
        // behaviour is known (a stack program, a re-run with larger
        // stacks), depths legitimately differ: undecided for now.
        if stack == StackExpectation::Unknown {
            inconclusive = reasons;
        }
    }
    if !inconclusive.is_empty() {
        inconclusive.sort_by_key(|(_, reason)| *reason);
        let reason = inconclusive[0].1;
        return Some(Verdict::Inconclusive {
            reason,
            engines: inconclusive
                .into_iter()
                .map(|(n, _)| EngineId::parse(&n))
                .collect(),
            phase,
        });
    }
    let mut groups: Vec<(Vec<&str>, &Observation<'_>)> = Vec::new();
    for (name, observation) in &observations {
        match groups.iter_mut().find(|(_, rep)| rep.same_as(observation)) {
            Some((members, _)) => members.push(name),
            None => groups.push((vec![name], observation)),
        }
    }
    if groups.len() == 1 {
        return None;
    }
    let detail = difference_detail(groups[0].1, groups[1].1);
    let groups: Vec<Side> = groups
        .into_iter()
        .map(|(engines, observation)| Side {
            engines: engines.into_iter().map(EngineId::parse).collect(),
            observed: observation.describe(),
            class: observation.class(),
        })
        .collect();
    Some(Verdict::Mismatch(Mismatch {
        phase,
        blame: blame(&groups).parties,
        sides: groups,
        detail,
        tie_breakers: Vec::new(),
    }))
}

/// Points at the first differing byte or element between two observations.
fn difference_detail(a: &Observation<'_>, b: &Observation<'_>) -> Option<String> {
    match (a, b) {
        (Observation::Memory(x), Observation::Memory(y)) => {
            if x.len() != y.len() {
                return Some(format!("sizes differ: {} vs {} bytes", x.len(), y.len()));
            }
            let first = x.iter().zip(y.iter()).position(|(p, q)| p != q)?;
            let differing = x.iter().zip(y.iter()).filter(|(p, q)| p != q).count();
            let window = first..(first + 16).min(x.len());
            let canary = [x, y]
                .iter()
                .any(|side| holds_canary(&side[window.clone()]));
            Some(format!(
                "{differing} byte(s) differ, first at offset {first:#x}: {:02x?} vs {:02x?}{}",
                &x[window.clone()],
                &y[window],
                if canary { CANARY_READ } else { "" }
            ))
        }
        (Observation::Table(x), Observation::Table(y)) => {
            if x.len() != y.len() {
                return Some(format!("sizes differ: {} vs {}", x.len(), y.len()));
            }
            let first = x.iter().zip(y.iter()).position(|(p, q)| !p.same_as(q))?;
            Some(format!(
                "first differing element [{first}]: {} vs {}",
                x[first], y[first]
            ))
        }
        _ => None,
    }
}

/// What a detail adds when a side holds the canary pattern.
const CANARY_READ: &str =
    " (\"CANARY!!\": bytes of a canary zone around linear memory, read outside it)";

/// Whether `bytes` hold the whole canary pattern (`engine::canary`).
fn holds_canary(bytes: &[u8]) -> bool {
    let pattern = &crate::engine::canary::PATTERN;
    bytes.windows(pattern.len()).any(|w| w == pattern)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::plan::Invocation;
    use std::time::Duration;

    /// A run that instantiated in no time and made one call with
    /// `outcome`, taking `took`, having consumed `fuel` (for an engine that
    /// counts it).
    fn ran(outcome: Outcome, took: Duration, fuel: Option<u64>) -> EngineRun {
        EngineRun::Ran(Execution {
            instantiation: Outcome::Returned(vec![]),
            calls: vec![outcome],
            state: Some(Default::default()),
            compile_time: Duration::ZERO,
            compile_cpu: None,
            code_bytes: None,
            run_cpu: None,
            instantiate_time: Duration::ZERO,
            run_time: took,
            call_times: vec![took],
            host_calls: vec![],
            fuel_used: fuel.map(|f| vec![Some(0), Some(f)]).unwrap_or_default(),
        })
    }

    fn plan() -> Plan {
        Plan {
            calls: vec![Invocation {
                export: "f".into(),
                args: vec![],
                instance: 0,
            }],
            ..Plan::default()
        }
    }

    const NAMES: [&str; 4] = [
        "wasmi",
        "cranelift-tail-signals",
        "cranelift-notail-explicit",
        "cranelift-tail-explicit+nofuel",
    ];

    fn verdict(runs: &[EngineRun]) -> Verdict {
        compare(&NAMES, runs, &plan(), |_| false, |_| false).verdict
    }

    #[test]
    fn engines_counting_fuel_must_count_alike_after_every_difference_in_results() {
        let value = Outcome::Returned(vec![Value::I32(1)]);
        let ms = Duration::from_millis(1);
        let alike = [
            ran(value.clone(), ms, None),
            ran(value.clone(), ms, Some(7)),
            ran(value.clone(), ms, Some(7)),
            ran(value.clone(), ms, None),
        ];
        assert_eq!(verdict(&alike), Verdict::Agree);
        let charged = [
            ran(value.clone(), ms, None),
            ran(value.clone(), ms, Some(7)),
            ran(value.clone(), ms, Some(9)),
            ran(value.clone(), ms, None),
        ];
        let Verdict::Mismatch(m) = verdict(&charged) else {
            panic!("{:?}", verdict(&charged))
        };
        assert_eq!(m.phase.kind(), "fuel");
        assert_eq!(m.phase.to_string(), "fuel consumed by call #0 \"f\"()");
        assert_eq!(m.sides[1].observed, "9 fuel");
        // A wrong result of the same engine comes first.
        let both = [
            ran(value.clone(), ms, None),
            ran(value.clone(), ms, Some(7)),
            ran(Outcome::Returned(vec![Value::I32(2)]), ms, Some(9)),
            ran(value, ms, None),
        ];
        let comparison = compare(&NAMES, &both, &plan(), |_| false, |_| false);
        let Verdict::Mismatch(m) = comparison.verdict else {
            panic!()
        };
        assert_eq!(m.phase.kind(), "call");
    }

    #[test]
    fn running_out_of_fuel_where_the_interpreter_ended_at_once_is_a_finding() {
        let value = Outcome::Returned(vec![Value::I32(1)]);
        let out = Outcome::Trap(TrapKind::OutOfFuel);
        let fuel = Some(50_000_000);
        let quick = Duration::from_micros(200);
        let starved = [
            ran(value.clone(), quick, None),
            ran(out.clone(), Duration::from_millis(80), fuel),
            ran(out.clone(), Duration::from_millis(90), fuel),
            ran(value.clone(), quick, None),
        ];
        let Verdict::Mismatch(m) = verdict(&starved) else {
            panic!("{:?}", verdict(&starved))
        };
        assert_eq!(m.sides[0].class, "trap:out-of-fuel");
        assert_eq!(
            m.sides[1].engines,
            [EngineId::parse("wasmi")],
            "only the interpreter's time bounds the work"
        );
        // The interpreter took as long as the budget allows: undecided.
        let slow = [
            ran(value.clone(), Duration::from_millis(900), None),
            ran(out.clone(), Duration::from_millis(80), fuel),
            ran(out.clone(), Duration::from_millis(90), fuel),
            ran(value.clone(), quick, None),
        ];
        assert!(
            matches!(verdict(&slow), Verdict::Inconclusive { .. }),
            "{:?}",
            verdict(&slow)
        );
        // One engine counting fuel ran out where another with the same
        // budget ended: charged for work not done, whatever the time.
        let one = [
            ran(value.clone(), Duration::from_millis(900), None),
            ran(value, Duration::from_millis(80), Some(1_000)),
            ran(out, Duration::from_millis(90), fuel),
            ran(
                Outcome::Trap(TrapKind::OutOfFuel),
                Duration::from_secs(1),
                None,
            ),
        ];
        let Verdict::Mismatch(m) = verdict(&one) else {
            panic!("{:?}", verdict(&one))
        };
        assert_eq!(
            m.sides[0].engines,
            [EngineId::parse("cranelift-notail-explicit")]
        );
    }
}
