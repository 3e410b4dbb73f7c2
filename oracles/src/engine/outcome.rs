//! What one engine observed when running one case, in engine-neutral terms.

use crate::case::value::{display_values, Value};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// The one set of trap kinds that every engine's traps are mapped onto.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TrapKind {
    /// `unreachable` executed (also how `ensure_termination` stops a case).
    Unreachable,
    /// Out-of-bounds linear memory access, including data segments.
    MemoryOutOfBounds,
    /// Out-of-bounds table access, including element segments.
    TableOutOfBounds,
    /// `call_indirect` through a null table entry.
    IndirectCallToNull,
    /// `call_indirect` signature mismatch.
    BadSignature,
    /// Integer division or remainder by zero.
    IntegerDivisionByZero,
    /// Integer overflow (`i32.div_s` of MIN by -1, ...).
    IntegerOverflow,
    /// Float-to-int conversion of NaN or an out-of-range value.
    BadConversionToInteger,
    /// Call stack exhausted: depth differs between engines, never comparable.
    StackOverflow,
    /// Engine fuel exhausted: accounting differs between engines.
    OutOfFuel,
    /// Null reference dereferenced.
    NullReference,
    /// Misaligned atomic access.
    UnalignedAtomic,
    /// A GC reference cast to a type it is not an instance of.
    CastFailure,
    /// A trap kind this harness has no mapping for.
    Unknown,
}

impl TrapKind {
    /// Every kind, for exhaustive tests and reports.
    pub const ALL: [TrapKind; 14] = [
        TrapKind::Unreachable,
        TrapKind::MemoryOutOfBounds,
        TrapKind::TableOutOfBounds,
        TrapKind::IndirectCallToNull,
        TrapKind::BadSignature,
        TrapKind::IntegerDivisionByZero,
        TrapKind::IntegerOverflow,
        TrapKind::BadConversionToInteger,
        TrapKind::StackOverflow,
        TrapKind::OutOfFuel,
        TrapKind::NullReference,
        TrapKind::UnalignedAtomic,
        TrapKind::CastFailure,
        TrapKind::Unknown,
    ];

    /// Stable kebab-case name used in reports and signatures.
    pub fn as_str(self) -> &'static str {
        match self {
            TrapKind::Unreachable => "unreachable",
            TrapKind::MemoryOutOfBounds => "memory-out-of-bounds",
            TrapKind::TableOutOfBounds => "table-out-of-bounds",
            TrapKind::IndirectCallToNull => "indirect-call-to-null",
            TrapKind::BadSignature => "bad-signature",
            TrapKind::IntegerDivisionByZero => "integer-division-by-zero",
            TrapKind::IntegerOverflow => "integer-overflow",
            TrapKind::BadConversionToInteger => "bad-conversion-to-integer",
            TrapKind::StackOverflow => "stack-overflow",
            TrapKind::OutOfFuel => "out-of-fuel",
            TrapKind::NullReference => "null-reference",
            TrapKind::UnalignedAtomic => "unaligned-atomic",
            TrapKind::CastFailure => "cast-failure",
            TrapKind::Unknown => "unknown",
        }
    }
}

impl fmt::Display for TrapKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The result of one observable step (instantiation or one call).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Outcome {
    /// Completed normally with these results (empty for instantiation).
    Returned(Vec<Value>),
    /// Trapped.
    Trap(TrapKind),
    /// Stopped by a harness resource limit (store memory or table limits):
    /// limits are enforced differently per engine, so never comparable.
    Limit(String),
    /// Any other failure the engine reported; compared by its presence only.
    Error(String),
    /// Not run: an engine without fuel or epochs does not take a step that
    /// no engine with a budget ended (`case::plan::Horizon`); it would run
    /// on until killed. As incomparable as the budgets that ran out there.
    Withheld,
}

impl Outcome {
    /// Why this outcome makes the rest of the case incomparable, if it does.
    pub fn inconclusive_reason(&self) -> Option<InconclusiveReason> {
        match self {
            Outcome::Trap(TrapKind::StackOverflow) => Some(InconclusiveReason::StackOverflow),
            Outcome::Trap(TrapKind::OutOfFuel) => Some(InconclusiveReason::OutOfFuel),
            Outcome::Limit(_) => Some(InconclusiveReason::ResourceLimit),
            Outcome::Withheld => Some(InconclusiveReason::OutOfFuel),
            _ => None,
        }
    }

    /// A coarse class for signatures: `value`, `trap:<kind>`, `limit`, `error`.
    pub fn class(&self) -> String {
        match self {
            Outcome::Returned(_) => "value".into(),
            Outcome::Trap(kind) => format!("trap:{kind}"),
            Outcome::Limit(_) => "limit".into(),
            Outcome::Error(_) => "error".into(),
            Outcome::Withheld => "withheld".into(),
        }
    }

    /// Equality as the comparison uses it: NaN-aware values, trap kinds,
    /// errors by presence (messages are engine-specific).
    pub fn same_as(&self, other: &Outcome) -> bool {
        match (self, other) {
            (Outcome::Returned(a), Outcome::Returned(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_as(y))
            }
            (Outcome::Trap(a), Outcome::Trap(b)) => a == b,
            (Outcome::Limit(_), Outcome::Limit(_)) => true,
            (Outcome::Error(_), Outcome::Error(_)) => true,
            (Outcome::Withheld, Outcome::Withheld) => true,
            _ => false,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Returned(values) => f.write_str(&display_values(values)),
            Outcome::Trap(kind) => write!(f, "trap {kind}"),
            Outcome::Limit(msg) => write!(f, "limit: {msg}"),
            Outcome::Error(msg) => write!(f, "error: {msg}"),
            Outcome::Withheld => f.write_str(
                "not run: no engine with fuel or epochs ended this step, and this one has neither",
            ),
        }
    }
}

/// Why a case could not be decided. Each is counted, never dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum InconclusiveReason {
    /// Some engine exhausted its call stack: depths differ legitimately.
    StackOverflow,
    /// Some engine ran out of its backstop fuel: accounting differs.
    OutOfFuel,
    /// Some engine hit a harness resource limit.
    ResourceLimit,
    /// Fewer than two engines could run the module.
    TooFewEngines,
}

impl InconclusiveReason {
    /// Stable kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            InconclusiveReason::StackOverflow => "stack-overflow",
            InconclusiveReason::OutOfFuel => "out-of-fuel",
            InconclusiveReason::ResourceLimit => "resource-limit",
            InconclusiveReason::TooFewEngines => "too-few-engines",
        }
    }
}

impl fmt::Display for InconclusiveReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The exported state read after the last call.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Exported memories: name and full contents.
    pub memories: Vec<(String, Vec<u8>)>,
    /// Exported globals: name and value.
    pub globals: Vec<(String, Value)>,
    /// Exported tables: name and every element.
    pub tables: Vec<(String, Vec<Value>)>,
}

/// Everything one engine observed for one module that it accepted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Execution {
    /// Instantiation, start function included.
    pub instantiation: Outcome,
    /// One outcome per planned call, in plan order; empty if instantiation failed.
    pub calls: Vec<Outcome>,
    /// Exported state after the calls; `None` if instantiation failed.
    pub state: Option<Snapshot>,
    /// Time spent compiling (or translating) the module.
    pub compile_time: Duration,
    /// CPU time of the compiling thread for the same, when measured.
    #[serde(default)]
    pub compile_cpu: Option<Duration>,
    /// Size of the machine code the compile generated (Wasmtime's text
    /// section); `None` for an interpreter.
    #[serde(default)]
    pub code_bytes: Option<u64>,
    /// Time spent instantiating (start function included), a part of
    /// `run_time`.
    #[serde(default)]
    pub instantiate_time: Duration,
    /// Time spent instantiating and running the calls.
    pub run_time: Duration,
    /// CPU time of the running thread for the same, when measured: not
    /// inflated by other load on the machine.
    #[serde(default)]
    pub run_cpu: Option<Duration>,
    /// Wall time of each call of `calls`, in plan order.
    #[serde(default)]
    pub call_times: Vec<Duration>,
    /// The host functions' calls in instantiation and then each call of
    /// `calls` (`case::imports`); empty when the module imports no
    /// function.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub host_calls: Vec<crate::case::imports::HostLog>,
    /// The fuel instantiation and then each call of `calls` consumed, for
    /// an engine whose fuel counts Wasmtime's way (`None` for a step it did
    /// not take); empty for the other engines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fuel_used: Vec<Option<u64>>,
}

/// An engine's answer for one module.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
// One per engine and case, moved a few times: boxing the execution would
// add an allocation to every run for no measurable gain.
#[allow(clippy::large_enum_variant)]
pub enum EngineRun {
    /// The engine refused the module at compile/validation time.
    Rejected(String),
    /// The engine compiled the module and ran the plan.
    Ran(Execution),
    /// The engine panicked (message and, where known, location): a crash.
    Crashed(String),
    /// The engine took its worker process down, was stopped at the case's
    /// time or memory limit, or breached the sandbox; the rest of the case
    /// ran without it.
    Died(crate::engine::death::Death),
}
