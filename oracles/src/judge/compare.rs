//! Comparing what the engines observed, point by point, into a verdict.

use crate::case::imports::HostLog;
use crate::case::plan::Plan;
use crate::case::stack_program::StackExpectation;
use crate::case::value::{display_values, Value};
use crate::engine::id::EngineId;
use crate::engine::outcome::{EngineRun, Execution, InconclusiveReason, Outcome};
use crate::judge::attribution::blame;
use crate::judge::verdict::{Group, Mismatch, Phase, Rejection, Verdict};
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
        .filter(|t| m.groups.iter().any(|g| g.engines.iter().any(|e| e == *t)))
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
        stopped: None,
    };
    walk.all_points(plan);
    let mut mismatches = walk.mismatches.into_iter();
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

    fn all_points(&mut self, plan: &Plan) {
        if !self.point(Phase::Instantiate, &|e| Observation::Step(&e.instantiation)) {
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
        for index in 0..plan.calls.len() {
            if !self.point(call_phase(plan, index), &|e| {
                Observation::Step(&e.calls[index])
            }) || !self.host_point(index + 1, plan)
            {
                return;
            }
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
    let groups: Vec<Group> = groups
        .into_iter()
        .map(|(engines, observation)| Group {
            engines: engines.into_iter().map(EngineId::parse).collect(),
            observed: observation.describe(),
            class: observation.class(),
        })
        .collect();
    Some(Verdict::Mismatch(Mismatch {
        phase,
        blame: blame(&groups).parties,
        groups,
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
