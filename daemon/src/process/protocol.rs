//! What the supervisor and its worker processes say to each other: one JSON
//! object per line on the worker's stdin (orders) and stdout (reports). The
//! supervisor closing the worker's stdin means "stop after this case".

use oracles::cost::baseline::Baseline;
use oracles::engine::death::Death;
use oracles::Finding;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Supervisor to worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "order", rename_all = "snake_case")]
pub enum Order {
    /// Run seeds `start..end`, in order.
    Run {
        /// First seed.
        start: u64,
        /// One past the last seed.
        end: u64,
        /// Each engine's compile cost per instruction in this run so far,
        /// which a case far above is a blowup against.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        baseline: Option<Baseline>,
    },
    /// Run this module (not a generated one) with the call plan `seed`
    /// draws: a stored finding or a shrinking candidate.
    Check {
        /// Draws the call arguments.
        seed: u64,
        /// The module, hex-encoded.
        wasm_hex: String,
        /// Also re-run a finding with one setting of each suspected engine
        /// changed at a time (`oracles::triage::flip`), for triage.
        #[serde(default)]
        flips: bool,
        /// Judge compile blowups against `[cost]` limits this many times
        /// higher (shrinking keeps a margin; 1 or absent: the limits).
        #[serde(default)]
        blowup_margin: Option<f64>,
        /// As in `Run`: the reference a finding of the run was judged by.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        baseline: Option<Baseline>,
        /// Make this one call instead of the plan the seed draws.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        call: Option<SingleCall>,
        /// Engines that took earlier workers down with this case: not run
        /// again, judged with the others (`oracles::Given`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        dead: Vec<(String, Death)>,
        /// Also send the case as `crosscheck check` shows it
        /// ([`CaseResult::shown`]).
        #[serde(default)]
        show: bool,
    },
    /// A scaling check (`oracles::cost::scaling_check`): grow a module to `steps`
    /// doubling sizes, compile each on every engine, fit the exponents.
    Scale(ScaleOrder),
}

/// One call of one export (`crosscheck check --invoke NAME --args ...`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SingleCall {
    /// The export.
    pub export: String,
    /// Its arguments as the command line gave them.
    pub args: Vec<String>,
}

/// A case as `crosscheck check` prints it, made by the worker that ran it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Shown {
    /// The module's summary, the engine table and the verdict.
    pub text: String,
    /// The verdict's counting label (`agree`, `mismatch`,
    /// `inconclusive:<reason>`, ...).
    pub verdict: String,
}

/// What a scaling check grows and how far.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScaleOrder {
    /// A built-in shape (`oracles::cost::scaling_shapes`) by name, grown from `start`;
    /// else `wasm_hex`'s largest function, repeated `start`, 2 `start`, ...
    /// times.
    pub shape: Option<String>,
    /// The module to grow when there is no shape, hex-encoded.
    pub wasm_hex: Option<String>,
    /// The first size.
    pub start: u32,
    /// Sizes measured.
    pub steps: u32,
    /// Compiles per size and engine.
    pub runs: u32,
    /// An exponent above this is superlinear.
    pub superlinear: f64,
}

/// Worker to supervisor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "report", rename_all = "snake_case")]
pub enum Reply {
    /// The matrix is built; ready for orders.
    Ready {
        /// Engine names, oracle first: `Engine` reports index into this.
        engines: Vec<String>,
    },
    /// A case begins (its time limit starts now).
    Started {
        /// Its seed.
        seed: u64,
    },
    /// The case moves on to this engine of the matrix, which begins
    /// compiling.
    Engine {
        /// Index into the `Ready` engine list.
        index: usize,
    },
    /// The current engine has compiled the module and begins to run it:
    /// from now on a hang or an exhausted memory is not the compiler's.
    Running,
    /// The current engine begins a call of the plan: it has a time limit
    /// of its own, and a hang names it.
    Call {
        /// Its place in the plan.
        index: usize,
        /// The export called (cut to a few hundred bytes).
        export: String,
        /// For an engine without a budget: the longest an engine with one
        /// took to end the call, in microseconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        budgeted_us: Option<u64>,
    },
    /// Every engine has run the case; the worker judges it: re-runs of
    /// cost suspects, the optimizer's rewrites of an aimed rule. No
    /// engine's step is under way, so no engine's limit applies (a step
    /// limit left running would blame the last engine's last call for
    /// this work: under load, 51's short calls "hung" for a second).
    Judging,
    /// A case is done.
    Finished(Box<CaseResult>),
    /// A scaling check is done.
    Scaled(Box<ScaleResult>),
    /// The last order is done; waiting for the next.
    Idle,
}

/// The result of one case, as much as the supervisor needs to count and
/// record it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaseResult {
    /// The seed.
    pub seed: u64,
    /// Counter increments: `(engine or "*", counter)`.
    pub events: Vec<(String, String)>,
    /// The case's findings
    /// (`oracles::pipeline::findings::of_case_rerunning_suspects`): its
    /// verdict's first, then confirmed blowups and slow runs.
    #[serde(default)]
    pub findings: Vec<Finding>,
    /// The case's module, hex-encoded, when it has findings.
    #[serde(default)]
    pub wasm_hex: String,
    /// How often each instruction occurs in the case's module
    /// (`oracles::case::instructions::histogram`), counted as `op:<name>`.
    #[serde(default)]
    pub instructions: BTreeMap<String, u64>,
    /// Every engine's compile of the case's module, for the run's
    /// reference of compile cost per instruction.
    #[serde(default)]
    pub compiles: Vec<CompileSample>,
    /// The case as `crosscheck check` shows it, when the order asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shown: Option<Shown>,
}

impl CaseResult {
    /// A case no verdict was reached on (`generation-failed`, `crash`).
    pub fn unjudged(seed: u64, verdict: &str, findings: Vec<Finding>, wasm_hex: String) -> Self {
        CaseResult {
            seed,
            events: crate::health::stats::verdict_events(verdict),
            findings,
            wasm_hex,
            instructions: BTreeMap::new(),
            compiles: Vec::new(),
            shown: None,
        }
    }
}

/// A scaling check's answer: the table as `crosscheck scale` prints it (on
/// CPU time, which a busy machine does not inflate) and what grows too
/// fast, or why the check could not run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScaleResult {
    /// The table of figures and exponents.
    pub table: String,
    /// `cranelift time grows as size^1.85`, one per superlinear exponent.
    pub superlinear: Vec<String>,
    /// Why there is no table (an unknown shape, a module with no function
    /// to grow).
    pub error: Option<String>,
}

/// One engine's compile of a case's module, measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompileSample {
    /// The engine.
    pub engine: String,
    /// Wall time, nanoseconds.
    pub wall_ns: u64,
    /// Peak heap allocated while compiling, bytes.
    pub peak_heap: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_single_json_lines_that_round_trip() {
        let report = Reply::Finished(Box::new(CaseResult {
            seed: u64::MAX,
            events: vec![("*".into(), "cases".into())],
            instructions: [("i32.add".to_string(), 3)].into_iter().collect(),
            findings: vec![Finding {
                signature: "crash wasmi: boom\nsecond line".into(),
                kind: oracles::judge::kind::FindingKind::Crash,
                summary: "CRASH\n".into(),
                suspect: None,
                flips: vec!["wasmi with translation eager -> lazy: agrees".into()],
            }],
            wasm_hex: hex::encode(b"\0asm"),
            compiles: vec![CompileSample {
                engine: "wasmi".into(),
                wall_ns: 1500,
                peak_heap: Some(4096),
            }],
            shown: None,
        }));
        let line = serde_json::to_string(&report).unwrap();
        assert!(!line.contains('\n'));
        assert_eq!(serde_json::from_str::<Reply>(&line).unwrap(), report);
        let order = Order::Run {
            start: 3,
            end: 19,
            baseline: None,
        };
        assert_eq!(
            serde_json::to_string(&order).unwrap(),
            r#"{"order":"run","start":3,"end":19}"#
        );
    }
}
