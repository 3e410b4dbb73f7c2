//! What kind of finding something is: one word in signatures, the store,
//! reports and the gate's policy, and one type everywhere between.

use crate::engine::death::{Death, DeathKind};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A finding's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FindingKind {
    /// Engines disagree on what they observed (or one ran on without end
    /// where the others ended).
    Mismatch,
    /// An engine panicked or took its process down.
    Crash,
    /// An engine ran on until its worker was killed.
    Hang,
    /// An engine exhausted its worker's memory.
    Oom,
    /// Compiled code touched memory it must not (Wasmtime's "not known to
    /// any linear memory" abort, a segfault in code with explicit bounds
    /// checks, a changed canary around linear memory).
    Breach,
    /// An engine with fuel or an epoch deadline ran on past the time limit,
    /// where its budget should have stopped it long before (embedders rely
    /// on it to stop untrusted code).
    LimitEscape,
    /// Compiling took time far over the limits.
    CompileTime,
    /// Compiling took memory far over the limits.
    CompileMemory,
    /// Compiling cost far more than on the reference release.
    CompileRegression,
    /// A run far slower than on its sibling configurations.
    Perf,
    /// The candidate release leaves the oracle where the reference release
    /// agreed with it (or both differ from it).
    Regression,
    /// The reference release was wrong and the candidate agrees with the
    /// oracle.
    Fix,
    /// An engine refused a module valid under the proposals it accepts.
    UnexpectedRejection,
}

impl FindingKind {
    /// Every kind.
    pub const ALL: [FindingKind; 13] = [
        FindingKind::Breach,
        FindingKind::Crash,
        FindingKind::Hang,
        FindingKind::LimitEscape,
        FindingKind::Oom,
        FindingKind::Mismatch,
        FindingKind::Regression,
        FindingKind::UnexpectedRejection,
        FindingKind::CompileTime,
        FindingKind::CompileMemory,
        FindingKind::CompileRegression,
        FindingKind::Perf,
        FindingKind::Fix,
    ];

    /// The finding a death is, before what ran on is judged
    /// (`pipeline::findings`): a case stopped at its time or memory limit
    /// while the engine was still compiling is the compiler's blowup, not
    /// a hang or an exhausted memory of the code it generated.
    pub fn of_death(death: &Death) -> FindingKind {
        match (death.kind, death.compiling) {
            (DeathKind::Hang, true) => FindingKind::CompileTime,
            (DeathKind::Oom, true) => FindingKind::CompileMemory,
            (kind, _) => FindingKind::from(kind),
        }
    }

    /// The word stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Mismatch => "mismatch",
            FindingKind::Crash => "crash",
            FindingKind::Hang => "hang",
            FindingKind::Oom => "oom",
            FindingKind::Breach => "breach",
            FindingKind::LimitEscape => "limit-escape",
            FindingKind::CompileTime => "compile-time",
            FindingKind::CompileMemory => "compile-memory",
            FindingKind::CompileRegression => "compile-regression",
            FindingKind::Perf => "perf",
            FindingKind::Regression => "regression",
            FindingKind::Fix => "fix",
            FindingKind::UnexpectedRejection => "rejected:unexpected",
        }
    }

    /// The kind `word` names; an error naming it and the kinds otherwise.
    pub fn parse(word: &str) -> Result<FindingKind, UnknownKind> {
        FindingKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == word)
            .ok_or_else(|| UnknownKind(word.to_string()))
    }

    /// How urgent a finding of this kind is, most urgent 0: possible
    /// sandbox escapes, then process deaths, wrong results, refusals, and
    /// resource blowups last.
    pub fn urgency(self) -> u8 {
        match self {
            FindingKind::Breach => 0,
            FindingKind::Crash => 1,
            FindingKind::Hang | FindingKind::Oom | FindingKind::LimitEscape => 2,
            FindingKind::Mismatch | FindingKind::Regression | FindingKind::Fix => 3,
            FindingKind::UnexpectedRejection => 4,
            FindingKind::CompileTime
            | FindingKind::CompileMemory
            | FindingKind::CompileRegression
            | FindingKind::Perf => 5,
        }
    }

    /// Whether it is measured (a compile blowup, a compile regression
    /// against the reference release, a slow run) rather than observed:
    /// counted as `blowup:<kind>`, shrunk with a margin.
    pub fn is_cost(self) -> bool {
        matches!(
            self,
            FindingKind::CompileTime
                | FindingKind::CompileMemory
                | FindingKind::CompileRegression
                | FindingKind::Perf
        )
    }
}

impl From<DeathKind> for FindingKind {
    fn from(kind: DeathKind) -> FindingKind {
        match kind {
            DeathKind::Crash => FindingKind::Crash,
            DeathKind::Hang => FindingKind::Hang,
            DeathKind::Oom => FindingKind::Oom,
            DeathKind::Breach => FindingKind::Breach,
        }
    }
}

/// A word that names no finding kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownKind(pub String);

impl fmt::Display for UnknownKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let known: Vec<&str> = FindingKind::ALL.iter().map(|k| k.as_str()).collect();
        write!(
            f,
            "{:?} is no finding kind (kinds: {})",
            self.0,
            known.join(", ")
        )
    }
}

impl std::error::Error for UnknownKind {}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, so that widths in tables apply.
        f.pad(self.as_str())
    }
}

impl std::str::FromStr for FindingKind {
    type Err = UnknownKind;

    fn from_str(word: &str) -> Result<FindingKind, UnknownKind> {
        FindingKind::parse(word)
    }
}

impl Serialize for FindingKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FindingKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<FindingKind, D::Error> {
        let word = String::deserialize(deserializer)?;
        FindingKind::parse(&word).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_and_unknown_words_are_named() {
        for kind in FindingKind::ALL {
            assert_eq!(FindingKind::parse(kind.as_str()), Ok(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("{:?}", kind.as_str()));
            assert_eq!(serde_json::from_str::<FindingKind>(&json).unwrap(), kind);
        }
        let err = FindingKind::parse("segfault").unwrap_err().to_string();
        assert!(err.contains("\"segfault\" is no finding kind"), "{err}");
        assert!(err.contains("compile-time"), "{err}");
        assert_eq!(format!("{:>8}|", FindingKind::Hang), "    hang|");
        assert!(FindingKind::Perf.is_cost() && !FindingKind::Crash.is_cost());
    }

    #[test]
    fn limits_hit_while_compiling_are_compile_blowups() {
        let death = |kind, compiling| {
            FindingKind::of_death(&Death {
                kind,
                how: "case exceeded the time limit".into(),
                detail: String::new(),
                compiling,
                call: None,
            })
        };
        assert_eq!(death(DeathKind::Hang, true), FindingKind::CompileTime);
        assert_eq!(death(DeathKind::Oom, true), FindingKind::CompileMemory);
        assert_eq!(death(DeathKind::Hang, false), FindingKind::Hang);
        assert_eq!(death(DeathKind::Crash, true), FindingKind::Crash);
        assert_eq!(death(DeathKind::Breach, false), FindingKind::Breach);
    }
}
