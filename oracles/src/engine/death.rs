//! An engine that took its process down, or reached outside its sandbox:
//! what the process watching it saw, and the finding kind it is.
//!
//! An engine run in a worker process can abort, segfault, hang or exhaust
//! memory; the watcher records that as the engine's [`Death`] and runs the
//! rest of the case in a fresh worker without it, so every engine's
//! outcome is judged together (`pipeline::findings::of_deaths`).

use serde::{Deserialize, Serialize};
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

/// How a run ended: the process died, or was stopped at a limit, or the
/// code reached outside its sandbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeathKind {
    /// A panic, a signal or an unexpected exit.
    Crash,
    /// Stopped at its time limit.
    Hang,
    /// Out of memory, or stopped at its memory limit.
    Oom,
    /// Compiled code touched memory it must not (Wasmtime's "not known to
    /// any linear memory" abort, a segfault in code with explicit bounds
    /// checks, a changed canary around linear memory).
    Breach,
}

impl DeathKind {
    /// The word shown (and the finding kind's, `judge::kind`).
    pub fn as_str(self) -> &'static str {
        match self {
            DeathKind::Crash => "crash",
            DeathKind::Hang => "hang",
            DeathKind::Oom => "oom",
            DeathKind::Breach => "breach",
        }
    }
}

impl std::fmt::Display for DeathKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// How one engine's run ended its process, or was stopped, or breached
/// the sandbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Death {
    /// How it ended.
    pub kind: DeathKind,
    /// Stable description for signatures: no pids, times, sizes or addresses.
    pub how: String,
    /// Details for the report (measurements, the stderr tail, canary bytes).
    pub detail: String,
    /// Whether the engine was still compiling the module.
    pub compiling: bool,
    /// The call of the plan it was in (0-based), when the watcher knew:
    /// what the other engines did in that step weighs a hang.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<usize>,
}

impl Death {
    /// Whether this is a possible sandbox escape.
    pub fn is_breach(&self) -> bool {
        self.kind == DeathKind::Breach
    }

    /// A death of `kind`, with the last lines the process wrote to stderr
    /// (`stderr_tail`) appended to `detail`; not yet tied to an engine.
    pub fn new(kind: DeathKind, how: String, detail: String, stderr_tail: &str) -> Death {
        Death {
            kind,
            how,
            detail: match stderr_tail.trim() {
                "" => detail,
                tail => format!("{detail}\nlast lines of the process's stderr:\n{tail}"),
            },
            compiling: false,
            call: None,
        }
    }

    /// How a process that nobody stopped ended, from its exit status and
    /// the last lines it wrote to stderr.
    pub fn of_exit(status: ExitStatus, stderr_tail: &str) -> Death {
        let death = |kind: DeathKind, how: String, detail: String| {
            Death::new(kind, how, detail, stderr_tail)
        };
        if stderr_tail.contains("memory allocation of") {
            return death(
                DeathKind::Oom,
                "allocation failed".into(),
                "the allocator gave up".into(),
            );
        }
        match (status.signal(), status.code()) {
            (Some(libc::SIGKILL), _) => death(
                DeathKind::Oom,
                "killed by SIGKILL from outside crosscheck".into(),
                "SIGKILL not sent by crosscheck: most likely the kernel's OOM killer".into(),
            ),
            (Some(signal), _) => death(
                DeathKind::Crash,
                format!("killed by {}", signal_name(signal)),
                format!("the process died of {}", signal_name(signal)),
            ),
            (None, Some(code)) => death(
                DeathKind::Crash,
                format!("exited with status {code}"),
                format!("the process exited with status {code} in the middle of its work"),
            ),
            (None, None) => death(
                DeathKind::Crash,
                "ended without a status".into(),
                String::new(),
            ),
        }
    }

    /// This death as the run of an engine that was compiling or running,
    /// and compiles explicit bounds checks or not
    /// (`engine::has_explicit_checks`): a crash whose evidence says
    /// compiled code touched memory it must not becomes a breach.
    pub fn in_engine(&self, compiling: bool, explicit_checks: bool) -> Death {
        let breach = (self.kind == DeathKind::Crash)
            .then(|| self.breach_evidence(compiling, explicit_checks))
            .flatten();
        let (kind, how) = match breach {
            Some(evidence) => (DeathKind::Breach, format!("{evidence} ({})", self.how)),
            None => (self.kind, self.how.clone()),
        };
        Death {
            kind,
            how,
            detail: self.detail.clone(),
            compiling,
            call: self.call,
        }
    }

    /// Why a crash of `engine` is a sandbox breach, if it is one: Wasmtime's
    /// own abort on a fault at an address of no linear memory, or a segfault
    /// running code compiled with explicit bounds checks, where no fault is
    /// part of normal operation.
    fn breach_evidence(&self, compiling: bool, explicit_checks: bool) -> Option<&'static str> {
        if self.detail.contains(NOT_LINEAR_MEMORY) {
            return Some("Wasmtime caught a fault outside every linear memory");
        }
        if self.detail.contains(GUARD_FAULT) {
            return Some("read or wrote outside linear memory (a guard page)");
        }
        let faulted = ["SIGSEGV", "SIGBUS"].iter().any(|s| self.how.ends_with(s));
        (faulted && explicit_checks && !compiling)
            .then_some("a memory fault in code compiled with explicit bounds checks")
    }
}

/// The words crosscheck's fault reporter writes to stderr when an access
/// hits the inaccessible pages around a linear memory of an engine with
/// explicit bounds checks (`engine::canary`), before the process dies.
pub const GUARD_FAULT: &str = "crosscheck: memory fault in the inaccessible guard page";

/// Wasmtime's words when compiled code faults on an address that belongs
/// to no linear memory of its store, just before it aborts.
pub const NOT_LINEAR_MEMORY: &str = "not known to any linear memory";

fn signal_name(signal: i32) -> String {
    let name = match signal {
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGBUS => "SIGBUS",
        libc::SIGILL => "SIGILL",
        libc::SIGABRT => "SIGABRT",
        libc::SIGFPE => "SIGFPE",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGSYS => "SIGSYS",
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        _ => return format!("signal {signal}"),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn death(kind: DeathKind, compiling: bool) -> Death {
        Death {
            kind,
            how: "case exceeded the time limit".into(),
            detail: String::new(),
            compiling,
            call: None,
        }
    }

    #[test]
    fn a_crash_with_the_evidence_of_a_fault_outside_linear_memory_is_a_breach() {
        let mut crash = death(DeathKind::Crash, false);
        crash.detail = format!("Wasmtime: {NOT_LINEAR_MEMORY} in use");
        assert!(crash.in_engine(false, false).is_breach());
        assert!(!death(DeathKind::Hang, false)
            .in_engine(false, true)
            .is_breach());
        assert!(death(DeathKind::Breach, false).is_breach());
    }
}
