//! Running a case on the matrix and judging it: every engine's run, the
//! comparison of those runs, the tie-breakers brought in when the engines
//! disagree, and the re-run with larger stacks when some overflowed where
//! others did not. The matrix (`engine::matrix`) holds the engines; this
//! is where their runs become a verdict.

use crate::case::module_info::validates_with;
use crate::case::plan::{Horizon, Plan};
use crate::case::stack_program::StackExpectation;
use crate::engine::id::EngineId;
use crate::engine::matrix::{run_caught, Engines, Matrix, Step};
use crate::engine::outcome::{EngineRun, Execution, InconclusiveReason, Outcome, TrapKind};
use crate::engine::{runs_unbudgeted, Engine};
use crate::judge::compare::{compare, Comparison};
use crate::judge::verdict::Verdict;
use crate::profile::{self, Stage};
use std::borrow::Cow;
use std::time::Duration;

/// Every engine's run of one module, and the verdict.
#[derive(Clone, Debug)]
pub struct CaseReport {
    /// `(engine, run)` in matrix order.
    pub runs: Vec<(EngineId, EngineRun)>,
    /// The comparison of those runs.
    pub comparison: Comparison,
    /// When some engines overflowed their stack where others did not, the
    /// first run's inconclusive verdict: `runs` and `comparison` are then
    /// those of the re-run with larger stacks.
    pub stack_rerun: Option<Verdict>,
    /// The names in `runs` of engines drawn for this case by an engine
    /// that draws one per case (the configuration swarm,
    /// `engine::swarm`).
    pub drawn: Vec<EngineId>,
}

impl CaseReport {
    /// The verdict on the case.
    pub fn verdict(&self) -> &Verdict {
        &self.comparison.verdict
    }
}

impl Matrix {
    /// Runs `plan` on every engine and compares.
    pub fn run(&self, wasm: &[u8], plan: &Plan) -> CaseReport {
        self.run_observed(wasm, plan, &mut |_| {})
    }

    /// Like [`Matrix::run`], telling `observe` each engine's steps as they
    /// begin: if the process dies inside an engine, whoever watches it
    /// knows which one, and whether it was compiling or running.
    pub fn run_observed(
        &self,
        wasm: &[u8],
        plan: &Plan,
        observe: &mut dyn FnMut(Step),
    ) -> CaseReport {
        self.run_given(wasm, plan, &[], observe)
    }

    /// Like [`Matrix::run_observed`], with the runs of the engines named in
    /// `given` already known (they took an earlier worker process down:
    /// [`EngineRun::Died`]): those engines are not run again, and their
    /// runs are judged with the others'.
    pub fn run_given(
        &self,
        wasm: &[u8],
        plan: &Plan,
        given: &[(EngineId, EngineRun)],
        observe: &mut dyn FnMut(Step),
    ) -> CaseReport {
        let (set, larger) = if self.runs_on_proposal_engines(wasm) {
            (&self.proposals, &self.proposals_larger_stacks)
        } else {
            (&self.normal, &self.larger_stacks)
        };
        let majority = self.limits.majority_horizon;
        let first = run_engines(set, wasm, plan, given, observe, majority);
        let partial_overflow = matches!(
            first.comparison.verdict,
            Verdict::Inconclusive {
                reason: InconclusiveReason::StackOverflow,
                ..
            }
        );
        if !partial_overflow || plan.stack != StackExpectation::Unknown {
            return first;
        }
        let larger = larger.get_or_init(|| {
            set.rebuilt(&self.limits.with_larger_stacks())
                .map_err(|e| tracing::warn!("building the engines with larger stacks: {e:#}"))
                .ok()
        });
        let Some(larger) = larger else {
            return first;
        };
        let deeper = Plan {
            stack: StackExpectation::LargerStacks,
            ..plan.clone()
        };
        CaseReport {
            stack_rerun: Some(first.comparison.verdict),
            ..run_engines(larger, wasm, &deeper, given, observe, majority)
        }
    }
}

/// Runs `plan` on `set`'s engines, compares, and brings in the
/// tie-breakers when they disagree.
fn run_engines(
    set: &Engines,
    wasm: &[u8],
    plan: &Plan,
    given: &[(EngineId, EngineRun)],
    observe: &mut dyn FnMut(Step),
    majority: bool,
) -> CaseReport {
    let case = CaseRun {
        set,
        engines: profile::time(Stage::Draw, || CaseEngines::resolve(set, wasm, plan)),
        wasm,
        plan,
        given,
        majority,
    };
    let count = set.engines.len();
    let mut runs = case.run_set(observe);
    let mut names: Vec<&str> = (0..count).map(|i| case.engines.at(i).1.name()).collect();
    let mut expected: Vec<bool> = profile::time(Stage::Compare, || {
        (0..count)
            .map(|i| case.refusal_expected(case.engines.at(i).1, &runs[i]))
            .collect()
    });
    let (mut judged, mut comparison) = case.judge_drawn_aside(&names, &runs, &expected);
    if matches!(comparison.verdict, Verdict::Mismatch(_)) && !set.tie_breakers.is_empty() {
        let first = judged.len();
        for (offset, engine) in set.tie_breakers.iter().enumerate() {
            let engine = engine.as_ref();
            let plan = case.plan_for(engine, &names, &runs);
            runs.push(case.run_one(count + offset, (engine.name(), engine), &plan, observe));
            names.push(engine.name());
            expected.push(case.refusal_expected(engine, &runs[runs.len() - 1]));
            judged.push(names.len() - 1);
        }
        let judged_names: Vec<&str> = judged.iter().map(|i| names[*i]).collect();
        let judged_runs: Vec<&EngineRun> = judged.iter().map(|i| &runs[*i]).collect();
        let judged_expected: Vec<bool> = judged.iter().map(|i| expected[*i]).collect();
        comparison = profile::time(Stage::TieBreak, || {
            break_tie(
                &judged_names,
                &judged_runs,
                plan,
                &judged_expected,
                first,
                comparison,
            )
        });
    }
    if case.an_unbudgeted_engine_ran_on() {
        // Witnesses for the death's attribution, not compared: what they
        // ran is what the engine that ran on ran.
        let first = count + set.tie_breakers.len();
        for (offset, engine) in set.hang_witnesses.iter().enumerate() {
            let engine = engine.as_ref();
            let plan = case.plan_for(engine, &names, &runs);
            runs.push(case.run_one(first + offset, (engine.name(), engine), &plan, observe));
            names.push(engine.name());
        }
    }
    CaseReport {
        runs: names.iter().map(|n| EngineId::parse(n)).zip(runs).collect(),
        comparison,
        stack_rerun: None,
        drawn: case.engines.drawn_names(),
    }
}

/// One case on one set of engines.
struct CaseRun<'a> {
    set: &'a Engines,
    engines: CaseEngines<'a>,
    wasm: &'a [u8],
    plan: &'a Plan,
    /// Runs not made again (engines that took earlier workers down).
    given: &'a [(EngineId, EngineRun)],
    majority: bool,
}

impl CaseRun<'_> {
    /// One engine's run of `plan`; `index` counts the set's engines, then
    /// its tie-breakers, and `slot` is the name the supervisor knows the
    /// engine by.
    fn run_one(
        &self,
        index: usize,
        (slot, engine): (&str, &dyn Engine),
        plan: &Plan,
        observe: &mut dyn FnMut(Step),
    ) -> EngineRun {
        if let Some((_, known)) = self
            .given
            .iter()
            .find(|(name, _)| name == slot || name == engine.name())
        {
            return known.clone();
        }
        let index = self.set.first_index + index;
        profile::time_as(
            || Stage::EngineRest(engine.name().to_string()),
            || {
                observe(Step::Compiling(index));
                let run = run_caught(engine, self.wasm, plan, &mut || {
                    observe(Step::Running(index))
                });
                if let (true, EngineRun::Ran(execution)) = (profile::recording(), &run) {
                    let name = || engine.name().to_string();
                    profile::add(Stage::Compile(name()), execution.compile_time);
                    profile::add(Stage::Instantiate(name()), execution.instantiate_time);
                    let calls = execution
                        .run_time
                        .saturating_sub(execution.instantiate_time);
                    profile::add(Stage::Calls(name()), calls);
                }
                run
            },
        )
    }

    /// Every engine of the set, those with a budget first: an engine
    /// without one runs only the steps some engine with a budget ended.
    /// The swarm itself (when no engine could be drawn) runs its draw
    /// without a budget too.
    fn run_set(&self, observe: &mut dyn FnMut(Step)) -> Vec<EngineRun> {
        let count = self.set.engines.len();
        let unbudgeted: Vec<bool> = (0..count)
            .map(|index| {
                let name = self.engines.at(index).1.name();
                runs_unbudgeted(name) || name.starts_with(crate::engine::swarm::SWARM)
            })
            .collect();
        let mut slots: Vec<Option<EngineRun>> = (0..count)
            .map(|index| {
                (!unbudgeted[index])
                    .then(|| self.run_one(index, self.engines.at(index), self.plan, observe))
            })
            .collect();
        if unbudgeted.contains(&true) {
            let bounded = bounded_plan(self.plan, slots.iter().flatten().collect(), self.majority);
            for index in (0..count).filter(|i| unbudgeted[*i]) {
                slots[index] = Some(self.run_one(index, self.engines.at(index), &bounded, observe));
            }
        }
        slots.into_iter().flatten().collect()
    }

    /// Whether an engine without fuel or epochs took an earlier worker
    /// down by running on (not compiling) in a step the engines with a
    /// budget ended.
    fn an_unbudgeted_engine_ran_on(&self) -> bool {
        self.given.iter().any(|(id, run)| {
            matches!(run, EngineRun::Died(death)
                if death.kind == crate::engine::death::DeathKind::Hang && !death.compiling)
                && runs_unbudgeted(id.as_str())
        })
    }

    /// The plan a tie-breaker runs: without a budget, only the steps the
    /// engines with one ended.
    fn plan_for(&self, engine: &dyn Engine, names: &[&str], runs: &[EngineRun]) -> Cow<'_, Plan> {
        if !runs_unbudgeted(engine.name()) {
            return Cow::Borrowed(self.plan);
        }
        let budgeted = names
            .iter()
            .zip(runs)
            .filter(|(name, _)| !runs_unbudgeted(name))
            .map(|(_, run)| run)
            .collect();
        Cow::Owned(bounded_plan(self.plan, budgeted, self.majority))
    }

    /// Whether `engine`'s refusal of the module (in `run`) is expected: a
    /// feature it lacks, an import it cannot link, or a gap its compiler
    /// documents.
    fn refusal_expected(&self, engine: &dyn Engine, run: &EngineRun) -> bool {
        let documented = match run {
            EngineRun::Rejected(message) => EngineId::parse(engine.name())
                .variant()
                .is_some_and(|v| v.backend.documents_refusal(message)),
            _ => false,
        };
        documented
            || !validates_with(self.wasm, engine.features())
            || !engine.links_imports(&self.plan.imports)
    }

    /// The comparison of the engines `judged` (indexes into the others).
    fn judge(
        &self,
        judged: &[usize],
        names: &[&str],
        runs: &[EngineRun],
        expected: &[bool],
    ) -> Comparison {
        let names: Vec<&str> = judged.iter().map(|i| names[*i]).collect();
        let runs: Vec<&EngineRun> = judged.iter().map(|i| &runs[*i]).collect();
        profile::time(Stage::Compare, || {
            compare(&names, &runs, self.plan, |i| expected[judged[i]], |_| false)
        })
    }

    /// The comparison of every engine, and which were judged. A drawn
    /// engine only adds a finding of its own: when the fixed engines
    /// already have something to say (a known bug of the oracle, an
    /// overflow), they say it as they would without it, under the
    /// signature that bug always has.
    fn judge_drawn_aside(
        &self,
        names: &[&str],
        runs: &[EngineRun],
        expected: &[bool],
    ) -> (Vec<usize>, Comparison) {
        let judged: Vec<usize> = (0..names.len()).collect();
        let comparison = self.judge(&judged, names, runs, expected);
        if let Some(drawn) = self.engines.drawn_index() {
            if comparison.verdict != Verdict::Agree {
                let fixed: Vec<usize> = judged.iter().copied().filter(|i| *i != drawn).collect();
                let without = self.judge(&fixed, names, runs, expected);
                if without.verdict != Verdict::Agree {
                    return (fixed, without);
                }
            }
        }
        (judged, comparison)
    }
}

/// The engines of one case: the set's own, with the one drawn for the case
/// in place of an engine that draws (the swarm).
struct CaseEngines<'a> {
    set: &'a Engines,
    drawn: Vec<Option<Box<dyn Engine>>>,
}

impl<'a> CaseEngines<'a> {
    fn resolve(set: &'a Engines, wasm: &[u8], plan: &Plan) -> CaseEngines<'a> {
        // Never an engine the case may also run as itself: a draw equal to
        // a hang witness would be left out of a death's signature with it,
        // and the blame would depend on what the swarm drew.
        let taken: Vec<&str> = set
            .engines
            .iter()
            .chain(&set.tie_breakers)
            .chain(&set.hang_witnesses)
            .map(|e| e.name())
            .collect();
        let drawn = set
            .engines
            .iter()
            .map(
                |engine| match engine.capabilities().draws?.drawn_for(wasm, plan, &taken)? {
                    Ok(drawn) => Some(drawn),
                    Err(error) => {
                        // The engine then runs as itself and says why it failed.
                        tracing::warn!(engine = engine.name(), seed = plan.seed, "{error}");
                        None
                    }
                },
            )
            .collect();
        CaseEngines { set, drawn }
    }

    /// The name the supervisor knows the engine at `index` by, and the
    /// engine that runs there in this case.
    fn at(&self, index: usize) -> (&str, &dyn Engine) {
        let slot = self.set.engines[index].as_ref();
        (slot.name(), self.drawn[index].as_deref().unwrap_or(slot))
    }

    /// The index of the engine drawn for this case, if any.
    fn drawn_index(&self) -> Option<usize> {
        self.drawn.iter().position(Option::is_some)
    }

    /// The names of the engines drawn for this case.
    fn drawn_names(&self) -> Vec<EngineId> {
        self.drawn
            .iter()
            .flatten()
            .map(|e| EngineId::parse(e.name()))
            .collect()
    }
}

/// `plan` as an engine without a budget runs it after `budgeted` (the runs
/// of the engines with one): up to its [`horizon`], with the longest time
/// any of them took to end each call.
fn bounded_plan(plan: &Plan, budgeted: Vec<&EngineRun>, majority: bool) -> Plan {
    Plan {
        horizon: horizon(plan, budgeted.clone(), majority),
        budgeted_times: budgeted_times(plan, &budgeted),
        ..plan.clone()
    }
}

/// For each call of `plan`, the longest time an engine of `budgeted` took
/// to end it (not counting runs out of fuel or time); `None` where none
/// did.
fn budgeted_times(plan: &Plan, budgeted: &[&EngineRun]) -> Vec<Option<Duration>> {
    let executions: Vec<&Execution> = budgeted
        .iter()
        .filter_map(|run| match run {
            EngineRun::Ran(execution) => Some(execution),
            _ => None,
        })
        .collect();
    (0..plan.calls.len())
        .map(|index| {
            executions
                .iter()
                .filter(|e| e.calls.get(index).is_some_and(|o| ended(o, plan)))
                .filter_map(|e| e.call_times.get(index).copied())
                .max()
        })
        .collect()
}

/// Whether an engine with a budget ended a step: it did not run out of
/// fuel or time there, and was not held back from it. Out of stack ends a step
/// only in a stack program, whose stack behaviour is known: elsewhere it
/// is a resource limit like fuel, and recursion that the budgeted
/// engines' frames exhaust, another engine's code may run without end,
/// legitimately (a recursive call its optimizer turned into a jump,
/// smaller frames). Measured: Wasmtime 51 without a budget ran on in 57
/// steps of a 20-minute run where every engine of 48 overflowed, each a
/// kill and a false `a change in Wasmtime 51` (docs/benchmarks.md).
fn ended(outcome: &Outcome, plan: &Plan) -> bool {
    match outcome {
        Outcome::Trap(TrapKind::OutOfFuel) | Outcome::Withheld => false,
        Outcome::Trap(TrapKind::StackOverflow) => matches!(
            plan.stack,
            StackExpectation::Completes | StackExpectation::Overflows
        ),
        _ => true,
    }
}

/// The first step of `plan` that none of `budgeted` (the runs of the
/// engines with a budget) ended, or with `majority` fewer than half of
/// those that got there: the others ran out of fuel or time there. That is
/// where an engine without a budget must stop. One is enough while
/// fuzzing: when only the oracle ends a step every Wasmtime engine with a
/// budget runs until it runs out, a Cranelift bug shared by all of them
/// (a loop's exit miscompiled) shows as the engine without a budget
/// running on. Triage asks for half: there it is mostly wasmi's known
/// bugs trapping inside a loop of a shrinking candidate, and every such
/// candidate would cost a kill. `None` when every step was ended, or when
/// the matrix has no engine with a budget (nothing to go by: a matrix of
/// unbudgeted engines only is the user's choice).
fn horizon(plan: &Plan, budgeted: Vec<&EngineRun>, majority: bool) -> Option<Horizon> {
    if budgeted.is_empty() {
        return None;
    }
    let executions: Vec<&Execution> = budgeted
        .into_iter()
        .filter_map(|run| match run {
            EngineRun::Ran(execution) => Some(execution),
            _ => None,
        })
        .collect();
    // Of the engines that got to a step, whether one (or half) ended it.
    let mostly_ended = |outcomes: Vec<&Outcome>| {
        let count = outcomes.iter().filter(|o| ended(o, plan)).count();
        count > 0 && (!majority || 2 * count >= outcomes.len())
    };
    if !mostly_ended(executions.iter().map(|e| &e.instantiation).collect()) {
        return Some(Horizon::Instantiation);
    }
    (0..plan.calls.len())
        .find(|&i| !mostly_ended(executions.iter().filter_map(|e| e.calls.get(i)).collect()))
        .map(Horizon::Call)
}

/// The comparison with the tie-breakers' runs (indices `first..`) added. A
/// tie-breaker that cannot be compared where the matrix could (it
/// overflowed its stack, ran out of fuel) is left out, and if nothing is
/// left the matrix's own `comparison` stands. One that panicked is left out
/// of the comparison too, but its crash is a finding of its own: it becomes
/// the verdict, and the disagreement follows it in `further`.
fn break_tie(
    names: &[&str],
    runs: &[&EngineRun],
    plan: &Plan,
    expected: &[bool],
    first: usize,
    comparison: Comparison,
) -> Comparison {
    let mut left_out: Vec<usize> = Vec::new();
    let mut crashed: Vec<(EngineId, String)> = Vec::new();
    let mut combined = loop {
        let kept: Vec<usize> = (0..names.len()).filter(|i| !left_out.contains(i)).collect();
        if kept.len() == first {
            break comparison;
        }
        let kept_names: Vec<&str> = kept.iter().map(|i| names[*i]).collect();
        let kept_runs: Vec<&EngineRun> = kept.iter().map(|i| runs[*i]).collect();
        let combined = compare(
            &kept_names,
            &kept_runs,
            plan,
            |i| expected[kept[i]],
            |i| kept[i] >= first,
        );
        let is_tie_breaker = |engine: &str| kept[first..].iter().any(|i| names[*i] == engine);
        let blocking: Vec<&str> = match &combined.verdict {
            Verdict::Inconclusive { engines, .. } => engines
                .iter()
                .map(EngineId::as_str)
                .filter(|e| is_tie_breaker(e))
                .collect(),
            Verdict::Crash { engines } => {
                let theirs: Vec<_> = engines.iter().filter(|(e, _)| is_tie_breaker(e)).collect();
                crashed.extend(theirs.iter().map(|c| (*c).clone()));
                theirs.iter().map(|(e, _)| e.as_str()).collect()
            }
            _ => Vec::new(),
        };
        if blocking.is_empty() {
            break combined;
        }
        left_out.extend(
            kept.iter()
                .copied()
                .filter(|i| blocking.contains(&names[*i])),
        );
    };
    if !crashed.is_empty() {
        let disagreement =
            std::mem::replace(&mut combined.verdict, Verdict::Crash { engines: crashed });
        if let Verdict::Mismatch(m) = disagreement {
            combined.further.insert(0, m);
        }
    }
    combined
}
