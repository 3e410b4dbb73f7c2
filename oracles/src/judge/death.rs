//! An engine that took its process down, or reached outside its sandbox:
//! what the process watching it saw, and the finding kind it is.
//!
//! An engine run in a worker process can abort, segfault, hang or exhaust
//! memory; the watcher records that as the engine's [`Death`] and runs the
//! rest of the case in a fresh worker without it, so every engine's
//! outcome is judged together (`pipeline::findings::of_deaths`).

use serde::{Deserialize, Serialize};

/// Finding kind: compiled code touched memory it must not (Wasmtime's
/// "not known to any linear memory" abort, a segfault in code with
/// explicit bounds checks, a changed canary around linear memory).
pub const BREACH: &str = "breach";

/// How one engine's run ended its process, or was stopped, or breached
/// the sandbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Death {
    /// `crash`, `hang`, `oom` or [`BREACH`].
    pub kind: String,
    /// Stable description for signatures: no pids, times, sizes or addresses.
    pub how: String,
    /// Details for the report (measurements, the stderr tail, canary bytes).
    pub detail: String,
    /// Whether the engine was still compiling the module.
    pub compiling: bool,
}

impl Death {
    /// The finding kind: a case stopped at its time or memory limit while
    /// the engine was still compiling is the compiler's blowup
    /// (`compile-time`, `compile-memory`), not a hang or an exhausted
    /// memory of the code it generated.
    pub fn finding_kind(&self) -> &str {
        match (self.kind.as_str(), self.compiling) {
            ("hang", true) => "compile-time",
            ("oom", true) => "compile-memory",
            (kind, _) => kind,
        }
    }

    /// Whether this is a possible sandbox escape.
    pub fn is_breach(&self) -> bool {
        self.kind == BREACH
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn death(kind: &str, compiling: bool) -> Death {
        Death {
            kind: kind.into(),
            how: "case exceeded the time limit".into(),
            detail: String::new(),
            compiling,
        }
    }

    #[test]
    fn limits_hit_while_compiling_are_compile_blowups() {
        assert_eq!(death("hang", true).finding_kind(), "compile-time");
        assert_eq!(death("oom", true).finding_kind(), "compile-memory");
        assert_eq!(death("hang", false).finding_kind(), "hang");
        assert_eq!(death("crash", true).finding_kind(), "crash");
        assert!(death(BREACH, false).is_breach());
    }
}
