//! What the cases really exercised, as opposed to what was generated: stack
//! overflows reached per engine, deep tail-call loops completed, calls
//! that passed arguments on the stack and returned, re-runs with larger
//! stacks, and cases per proposal. Counted with every case under the
//! `exercised:` prefix ([`Counter::Exercised`]), shown by `status`, the dashboard and `/metrics`,
//! and judged by the gate.

use super::counter::ALL_ENGINES;
use super::counter::{Counter, Exercise};
use oracles::case::stack_program::StackShape;
use oracles::engine::outcome::{EngineRun, Execution, Outcome, TrapKind};
use oracles::SeedReport;

/// Calls where every engine that ran overflowed (a recursion that must).
pub const ALL_OVERFLOWED: &str = "all-overflowed";
/// Calls of a tail loop (10^5 to 10^6 tail calls) that returned on every
/// engine that ran it.
pub const TAIL_LOOP_COMPLETED: &str = "tail-loop-completed";
/// Calls that returned on every engine and passed arguments on the stack
/// on x86-64 (a stack program's cycle, or an export's own signature).
pub const STACK_ARGS_CALLED: &str = "stack-args-called";
/// Cases some engines overflowed where others did not, run again with
/// larger stacks.
pub const STACK_RERUN: &str = "stack-rerun";
/// Of those, cases whose re-run was no finding.
pub const STACK_RERUN_RESOLVED: &str = "stack-rerun-resolved";
/// Cases run as two instances over the same imports in which a call on
/// each instance returned on every engine: one wrote what the other
/// could read.
pub const TWO_INSTANCES_CALLED: &str = "two-instances-called";
/// The counter name of `what`.
pub fn counter(what: Exercise) -> String {
    Counter::Exercised(what).key()
}

/// The counter name of one of the per-case totals.
fn total_counter(what: &str) -> String {
    counter(Exercise::Total(what.to_string()))
}

/// The events of one case, as `(engine or "*", counter)`.
pub fn exercise_events(report: &SeedReport) -> Vec<(String, String)> {
    let all = |what: Exercise| (ALL_ENGINES.to_string(), counter(what));
    let mut events: Vec<(String, String)> = report
        .module
        .features
        .iter()
        .map(|f| all(Exercise::Feature(f.to_string())))
        .collect();
    let ran: Vec<(&str, &Execution)> = report
        .report
        .runs
        .iter()
        .filter_map(|(name, run)| match run {
            EngineRun::Ran(execution) => Some((name.as_str(), execution)),
            _ => None,
        })
        .collect();
    for (engine, execution) in &ran {
        let overflowed = std::iter::once(&execution.instantiation)
            .chain(&execution.calls)
            .any(is_overflow);
        if overflowed {
            events.push((engine.to_string(), counter(Exercise::StackOverflow)));
        }
    }
    for (engine, _) in &ran {
        if report.report.drawn.iter().any(|d| d == engine) {
            for setting in oracles::engine::swarm::settings_of(engine) {
                events.push(all(Exercise::SwarmSetting(setting.to_string())));
            }
        }
    }
    if ran.len() >= 2 {
        events.extend(pass_events(report));
    }
    if report.report.stack_rerun.is_some() {
        events.push((ALL_ENGINES.to_string(), total_counter(STACK_RERUN)));
        if !report.report.verdict().is_finding() {
            events.push((ALL_ENGINES.to_string(), total_counter(STACK_RERUN_RESOLVED)));
        }
    }
    if ran.len() < 2 {
        return events;
    }
    let program = report.info.stack_program.as_ref();
    let mut returned_on = [false; 2];
    for (index, call) in report.plan.calls.iter().enumerate() {
        let outcomes: Vec<&Outcome> = ran.iter().filter_map(|(_, e)| e.calls.get(index)).collect();
        if outcomes.len() < ran.len() {
            continue;
        }
        if outcomes.iter().all(|o| is_overflow(o)) {
            events.push((ALL_ENGINES.to_string(), total_counter(ALL_OVERFLOWED)));
        }
        if !outcomes.iter().all(|o| matches!(o, Outcome::Returned(_))) {
            continue;
        }
        returned_on[call.instance.min(1)] = true;
        if program.is_some_and(|p| p.shape == StackShape::TailLoop) {
            events.push((ALL_ENGINES.to_string(), total_counter(TAIL_LOOP_COMPLETED)));
        }
        let own_signature_on_stack = report
            .info
            .functions()
            .find(|(name, _)| *name == call.export)
            .is_some_and(|(_, signature)| signature.passes_arguments_on_stack());
        if program.is_some_and(|p| p.stack_args) || own_signature_on_stack {
            events.push((ALL_ENGINES.to_string(), total_counter(STACK_ARGS_CALLED)));
        }
    }
    if report.plan.instances > 1 && returned_on == [true, true] {
        events.push((ALL_ENGINES.to_string(), total_counter(TWO_INSTANCES_CALLED)));
    }
    events
}

/// Whether the optimizer acted on a pass-aimed case's shape: two more
/// compiles of a small module (a tenth of the cases), for a count of
/// what was exercised rather than generated.
fn pass_events(report: &SeedReport) -> Vec<(String, String)> {
    use oracles::case::passes;
    if !report.module.features.contains(&"pass-aimed") {
        return Vec::new();
    }
    let Some(shape) = passes::shape_of(&report.module.wasm) else {
        return Vec::new();
    };
    match passes::acted::pass_acted(&report.module.wasm, shape) {
        Ok(Some(true)) => vec![(
            ALL_ENGINES.to_string(),
            counter(Exercise::PassActed(shape.name().to_string())),
        )],
        _ => Vec::new(),
    }
}

fn is_overflow(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Trap(TrapKind::StackOverflow))
}

/// The labels of the per-case totals, in the order they are shown.
const TOTALS: [(&str, &str); 6] = [
    (
        TAIL_LOOP_COMPLETED,
        "deep tail-call loops completed (10^5-10^6 tail calls each)",
    ),
    (
        STACK_ARGS_CALLED,
        "calls passing arguments on the stack that returned",
    ),
    (
        ALL_OVERFLOWED,
        "calls every engine overflowed on (recursion that must)",
    ),
    (STACK_RERUN, "cases re-run with larger stacks"),
    (
        STACK_RERUN_RESOLVED,
        "  of which no finding on the larger stacks",
    ),
    (
        TWO_INSTANCES_CALLED,
        "cases calling both of two instances sharing imports",
    ),
];

/// What a window's (or the store's) cases exercised.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Exercised {
    /// `(counter, description, count)` of the per-case totals.
    pub totals: Vec<(String, String, u64)>,
    /// Per engine: cases it ran, and cases in which it overflowed its stack.
    pub overflows: Vec<EngineOverflows>,
    /// Cases per module feature (proposal, stack program shape).
    pub features: Vec<(String, u64)>,
    /// Cases the swarm's drawn engine ran, per setting drawn.
    pub swarm: Vec<(String, u64)>,
    /// Pass-aimed cases per shape, and of them those in which the
    /// optimizer changed the shape's code: `(shape, aimed, acted)`.
    pub passes: Vec<(String, u64, u64)>,
}

/// One engine's stack overflows.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct EngineOverflows {
    /// The engine.
    pub engine: String,
    /// Cases it compiled and ran.
    pub ran: u64,
    /// Cases in which it trapped with stack overflow.
    pub overflowed: u64,
}

impl Exercised {
    /// Reads the exercised counters out of `(engine, counter) -> value`.
    pub fn from_counters<'a>(
        counters: impl IntoIterator<Item = (&'a (String, String), &'a u64)>,
    ) -> Exercised {
        let mut totals: std::collections::BTreeMap<String, u64> = Default::default();
        let mut ran: std::collections::BTreeMap<&str, u64> = Default::default();
        let mut overflowed: std::collections::BTreeMap<&str, u64> = Default::default();
        let mut features = Vec::new();
        let mut swarm = Vec::new();
        let mut acted: std::collections::BTreeMap<String, u64> = Default::default();
        for ((engine, name), value) in counters {
            match (engine == ALL_ENGINES, Counter::parse(name)) {
                (true, Counter::Exercised(what)) => match what {
                    Exercise::Feature(feature) => features.push((feature, *value)),
                    Exercise::SwarmSetting(setting) => swarm.push((setting, *value)),
                    Exercise::PassActed(shape) => {
                        acted.insert(shape, *value);
                    }
                    Exercise::Total(what) => *totals.entry(what).or_default() += value,
                    Exercise::StackOverflow => {}
                },
                (false, Counter::Ran) => {
                    ran.insert(engine, *value);
                }
                (false, Counter::Exercised(Exercise::StackOverflow)) => {
                    overflowed.insert(engine, *value);
                }
                _ => {}
            }
        }
        Exercised {
            totals: TOTALS
                .iter()
                .map(|(what, label)| {
                    (
                        what.to_string(),
                        label.to_string(),
                        totals.get(*what).copied().unwrap_or(0),
                    )
                })
                .collect(),
            overflows: ran
                .iter()
                .map(|(engine, ran)| EngineOverflows {
                    engine: engine.to_string(),
                    ran: *ran,
                    overflowed: overflowed.get(engine).copied().unwrap_or(0),
                })
                .collect(),
            passes: oracles::case::passes::PassShape::ALL
                .iter()
                .map(|shape| {
                    let aimed = features
                        .iter()
                        .find(|(f, _)| f == shape.feature())
                        .map_or(0, |(_, n)| *n);
                    (
                        shape.name().to_string(),
                        aimed,
                        acted.get(shape.name()).copied().unwrap_or(0),
                    )
                })
                .filter(|(_, aimed, _)| *aimed > 0)
                .collect(),
            features,
            swarm,
        }
    }

    /// The count of an `exercised:` counter of all engines by its name
    /// after the prefix (`tail-loop-completed`, `feature:simd`).
    pub fn total(&self, what: &str) -> u64 {
        match Exercise::parse(what) {
            Exercise::Feature(feature) => self
                .features
                .iter()
                .find(|(f, _)| *f == feature)
                .map_or(0, |(_, n)| *n),
            _ => self
                .totals
                .iter()
                .find(|(w, _, _)| w == what)
                .map_or(0, |(_, _, n)| *n),
        }
    }

    /// The text `status` prints.
    pub fn render(&self, cases: u64) -> String {
        use std::fmt::Write;
        let mut out = String::from("\nexercised (what really ran, not what was generated):\n");
        for (_, label, n) in &self.totals {
            let _ = writeln!(out, "  {label:<58} {n:>10}");
        }
        let _ = writeln!(out, "  cases reaching a stack overflow, per engine:");
        for e in &self.overflows {
            let _ = writeln!(
                out,
                "    {:<54} {:>10}  {:>6.2}% of {} run",
                e.engine,
                e.overflowed,
                100.0 * e.overflowed as f64 / e.ran.max(1) as f64,
                e.ran
            );
        }
        let _ = writeln!(out, "  cases per feature:");
        for (feature, n) in &self.features {
            let _ = writeln!(
                out,
                "    {feature:<54} {n:>10}  {:>6.2}%",
                100.0 * *n as f64 / cases.max(1) as f64
            );
        }
        if !self.passes.is_empty() {
            let _ = writeln!(
                out,
                "  pass-aimed cases per shape, and those whose code Cranelift's optimizer changed:"
            );
            if let Some(weights) = oracles::case::passes::weights() {
                let weights: Vec<String> = weights
                    .iter()
                    .map(|(shape, w)| format!("{} {w}", shape.name()))
                    .collect();
                let _ = writeln!(
                    out,
                    "    (drawn by how much their pass changed between the releases: {})",
                    weights.join(", ")
                );
            }
            for (shape, aimed, acted) in &self.passes {
                let measurable = oracles::case::passes::PassShape::from_name(shape)
                    .is_some_and(oracles::case::passes::acted::measurable);
                if measurable {
                    let _ = writeln!(
                        out,
                        "    {shape:<40} {aimed:>10} aimed {acted:>8} acted  {:>6.2}%",
                        100.0 * *acted as f64 / (*aimed).max(1) as f64
                    );
                } else {
                    let _ = writeln!(
                        out,
                        "    {shape:<40} {aimed:>10} aimed   (register allocation is not in the CLIF)"
                    );
                }
            }
        }
        if !self.swarm.is_empty() {
            let _ = writeln!(
                out,
                "  cases the swarm's drawn configuration ran, per setting:"
            );
            for (setting, n) in &self.swarm {
                let _ = writeln!(
                    out,
                    "    {setting:<54} {n:>10}  {:>6.2}%",
                    100.0 * *n as f64 / cases.max(1) as f64
                );
            }
        }
        out
    }
}
