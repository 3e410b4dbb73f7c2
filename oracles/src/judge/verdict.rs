//! The verdict for one case and how it is described.

use crate::engine::id::EngineId;
use crate::engine::outcome::InconclusiveReason;
use crate::judge::kind::FindingKind;
use crate::judge::signature::{MismatchSignature, SignatureSide, MISMATCH};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where in a case a difference or an inconclusive result showed up.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Phase {
    /// Compiling/validating the module.
    Compile,
    /// Instantiation, start function and segment initialization included.
    Instantiate,
    /// The `index`-th call of the plan, on `export`.
    Call {
        /// Position in the plan.
        index: usize,
        /// Exported function called.
        export: String,
        /// The instance called (`Plan::instances`): 0 for the first.
        #[serde(default)]
        instance: usize,
        /// Arguments, as text.
        args: String,
    },
    /// An exported memory after the calls.
    Memory(String),
    /// An exported global after the calls.
    Global(String),
    /// An exported table after the calls.
    Table(String),
    /// The host functions' calls during a step (instantiation or a call):
    /// their arguments, in order.
    HostCalls {
        /// The step.
        during: Box<Phase>,
    },
    /// The fuel a call consumed, on the engines that count it.
    Fuel {
        /// The step.
        during: Box<Phase>,
    },
}

impl Phase {
    /// The phase without names or positions, for signatures.
    pub fn kind(&self) -> &'static str {
        match self {
            Phase::Compile => "compile",
            Phase::Instantiate => "instantiate",
            Phase::Call { .. } => "call",
            Phase::Memory(_) => "memory",
            Phase::Global(_) => "global",
            Phase::Table(_) => "table",
            Phase::HostCalls { .. } => "host-calls",
            Phase::Fuel { .. } => "fuel",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Phase::Compile => write!(f, "compile"),
            Phase::Instantiate => write!(f, "instantiation"),
            Phase::Call {
                index,
                export,
                instance,
                args,
            } => {
                write!(f, "call #{index} {export:?}{args}")?;
                if *instance > 0 {
                    write!(f, " on instance {}", instance + 1)?;
                }
                Ok(())
            }
            Phase::Memory(name) => write!(f, "memory {name:?}"),
            Phase::Global(name) => write!(f, "global {name:?}"),
            Phase::Table(name) => write!(f, "table {name:?}"),
            Phase::HostCalls { during } => write!(f, "host calls during {during}"),
            Phase::Fuel { during } => write!(f, "fuel consumed by {during}"),
        }
    }
}

/// Engines that observed the same thing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Side {
    /// The engines, in matrix order.
    pub engines: Vec<EngineId>,
    /// What they observed, as text.
    pub observed: String,
    /// Coarse class of the observation (`value`, `trap:<kind>`, `error`, ...).
    pub class: String,
}

/// Engines disagreeing at one point of a case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mismatch {
    /// The point where the engines disagree.
    pub phase: Phase,
    /// One side per distinct observation; the oracle's side first.
    // Stores and reports written before the rename say `groups`.
    #[serde(alias = "groups")]
    pub sides: Vec<Side>,
    /// Where exactly the observations differ (first differing byte or
    /// element), when that is not obvious from `observed`.
    pub detail: Option<String>,
    /// The engines of `groups` that ran only to break a tie between
    /// implementation families (`[matrix] tie_breakers`).
    #[serde(default)]
    pub tie_breakers: Vec<EngineId>,
    /// Who the families' sides point to (`judge::attribution::blame`);
    /// empty when they cannot tell.
    #[serde(default)]
    pub blame: Vec<String>,
}

impl Mismatch {
    /// Its signature under `label` (`mismatch`, or a divergence between
    /// releases): phase kind, who of the matrix sides with whom, the class
    /// of each side's observation, and whom the families' sides blame,
    /// independently of values. Tie-breakers are left out of the sides
    /// (which of them could run varies with the module) but decide the
    /// blame, so two bugs that split the matrix alike but are blamed on
    /// different code never share a signature.
    pub fn signature(&self, label: &str) -> MismatchSignature {
        let is_tie_breaker = |e: &EngineId| self.tie_breakers.iter().any(|t| t == e);
        let side = |g: &Side, engines: &mut dyn Iterator<Item = &EngineId>| SignatureSide {
            engines: engines.map(EngineId::to_string).collect(),
            class: g.class.clone(),
        };
        let matrix_sides: Vec<SignatureSide> = self
            .sides
            .iter()
            .map(|g| side(g, &mut g.engines.iter().filter(|e| !is_tie_breaker(e))))
            .filter(|s| !s.engines.is_empty())
            .collect();
        let sides = if matrix_sides.len() >= 2 {
            matrix_sides
        } else {
            self.sides
                .iter()
                .map(|g| side(g, &mut g.engines.iter()))
                .collect()
        };
        MismatchSignature {
            label: label.to_string(),
            phase: self.phase.kind().to_string(),
            sides,
            blame: if self.blame.is_empty() {
                "undecided".to_string()
            } else {
                self.blame.join(" and ")
            },
        }
    }
}

/// An engine that refused a module.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// The engine.
    pub engine: EngineId,
    /// Whether the module needs a proposal the engine does not support.
    pub expected: bool,
    /// The engine's error message.
    pub message: String,
}

/// The verdict on one case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    /// Some engine panicked: always a finding, whatever the others did.
    Crash {
        /// `(engine, panic message and location)`.
        engines: Vec<(EngineId, String)>,
    },
    /// Every engine that ran the module observed the same thing.
    Agree,
    /// Engines disagree: a finding.
    Mismatch(Mismatch),
    /// The case could not be decided.
    Inconclusive {
        /// Why.
        reason: InconclusiveReason,
        /// Which engines caused it.
        engines: Vec<EngineId>,
        /// Where it happened; points before it agreed.
        phase: Phase,
    },
    /// Too few engines accepted the module. `expected` is false when some
    /// engine refused a module that is valid under its own features: a finding.
    Rejected {
        /// Whether every refusal was expected.
        expected: bool,
    },
    /// Some engine refused a valid module it should support, while the
    /// others agreed: a finding.
    UnexpectedRejection {
        /// The refusing engines.
        engines: Vec<EngineId>,
    },
}

impl Verdict {
    /// The verdict with every engine of a crash or an unexpected refusal
    /// that `rename` maps named anew (the swarm's draws by their compiler,
    /// `engine::swarm::signed_as`), for its signature; any other verdict
    /// as it is, uncopied (this runs for every case).
    pub fn renamed(
        &self,
        rename: impl Fn(&EngineId) -> Option<EngineId>,
    ) -> std::borrow::Cow<'_, Verdict> {
        use std::borrow::Cow;
        let named = |e: &EngineId| rename(e).unwrap_or_else(|| e.clone());
        match self {
            Verdict::Crash { engines } => Cow::Owned(Verdict::Crash {
                engines: engines.iter().map(|(e, m)| (named(e), m.clone())).collect(),
            }),
            Verdict::UnexpectedRejection { engines } => {
                let mut engines: Vec<EngineId> = engines.iter().map(named).collect();
                engines.dedup();
                Cow::Owned(Verdict::UnexpectedRejection { engines })
            }
            other => Cow::Borrowed(other),
        }
    }

    /// The counting label: `crash`, `agree`, `mismatch`, `inconclusive:<reason>`,
    /// `rejected:expected`, `rejected:unexpected`.
    pub fn label(&self) -> String {
        match self {
            Verdict::Crash { .. } => "crash".into(),
            Verdict::Agree => "agree".into(),
            Verdict::Mismatch(_) => "mismatch".into(),
            Verdict::Inconclusive { reason, .. } => format!("inconclusive:{reason}"),
            Verdict::Rejected { expected: true } => "rejected:expected".into(),
            Verdict::Rejected { expected: false } | Verdict::UnexpectedRejection { .. } => {
                "rejected:unexpected".into()
            }
        }
    }

    /// The finding's signature: kind, phase, who disagrees with whom and the
    /// class of each side's observation, free of values and seeds, so that
    /// one bug hit a thousand times has one signature. `None` when the
    /// verdict is not a finding.
    pub fn signature(&self) -> Option<String> {
        match self {
            Verdict::Crash { engines } => {
                // One line, whatever the panic message holds.
                let sides: Vec<String> = engines
                    .iter()
                    .map(|(e, message)| format!("{e}: {}", message.replace(['\n', '\t'], " ")))
                    .collect();
                Some(format!("crash {}", sides.join("; ")))
            }
            Verdict::Mismatch(m) => Some(m.signature(MISMATCH).to_string()),
            Verdict::UnexpectedRejection { engines } => {
                Some(format!("rejected-unexpected {{{}}}", engines.join(",")))
            }
            Verdict::Rejected { expected: false } => {
                Some("rejected-unexpected too-few-engines".into())
            }
            _ => None,
        }
    }

    /// Whether this verdict is something a human must look at.
    pub fn is_finding(&self) -> bool {
        self.signature().is_some()
    }

    /// The kind of finding this verdict is, if it is one.
    pub fn finding_kind(&self) -> Option<FindingKind> {
        match self {
            Verdict::Crash { .. } => Some(FindingKind::Crash),
            Verdict::Mismatch(_) => Some(FindingKind::Mismatch),
            Verdict::Rejected { expected: false } | Verdict::UnexpectedRejection { .. } => {
                Some(FindingKind::UnexpectedRejection)
            }
            Verdict::Agree
            | Verdict::Inconclusive { .. }
            | Verdict::Rejected { expected: true } => None,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Crash { engines } => {
                writeln!(f, "CRASH")?;
                for (engine, message) in engines {
                    writeln!(f, "  {engine} panicked: {message}")?;
                }
                Ok(())
            }
            Verdict::Agree => write!(f, "agree"),
            Verdict::Mismatch(m) => {
                writeln!(f, "MISMATCH at {}", m.phase)?;
                for group in &m.sides {
                    writeln!(f, "  {{{}}}: {}", group.engines.join(", "), group.observed)?;
                }
                if let Some(detail) = &m.detail {
                    writeln!(f, "  {detail}")?;
                }
                let blame = match m.blame.as_slice() {
                    [] => "undecided (as many implementation families on each side)".to_string(),
                    parties => parties.join(" and "),
                };
                match m.tie_breakers.as_slice() {
                    [] => writeln!(f, "  blame: {blame}"),
                    ties => writeln!(f, "  blame: {blame} (tie-breakers: {})", ties.join(", ")),
                }
            }
            Verdict::Inconclusive {
                reason,
                engines,
                phase,
            } => {
                write!(
                    f,
                    "inconclusive ({reason}) at {phase} on {}",
                    engines.join(", ")
                )
            }
            Verdict::Rejected { expected } => write!(
                f,
                "rejected ({}): fewer than two engines accepted the module",
                if *expected { "expected" } else { "UNEXPECTED" }
            ),
            Verdict::UnexpectedRejection { engines } => {
                write!(
                    f,
                    "UNEXPECTED rejection by {} of a module it should support",
                    engines.join(", ")
                )
            }
        }
    }
}
