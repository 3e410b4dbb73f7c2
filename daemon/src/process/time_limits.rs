//! How long a worker may take before it is killed as hung: per engine and
//! step (compiling the module; instantiating it; each call of the plan,
//! which the worker reports as it begins), not per case, so that a module whose five engines each compile for 8 s is no
//! hang, and the engine named is the one that hung. A hang already seen in
//! this run (the same engine in the same phase) gets a short budget on
//! later hits, so that one known bug cannot stall the run 30 s at a time.
//! A whole-case limit stays as the backstop for the harness itself.

use crate::config::DaemonConfig;
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// Where a case is, as its worker reported it.
#[derive(Clone, Copy, Debug)]
pub struct CaseClock {
    /// When the case began.
    pub case_since: Instant,
    /// When the current phase began (an engine began compiling or running).
    pub phase_since: Instant,
}

impl CaseClock {
    /// A case beginning now.
    pub fn start() -> CaseClock {
        let now = Instant::now();
        CaseClock {
            case_since: now,
            phase_since: now,
        }
    }

    /// A new phase begins now.
    pub fn next_phase(&mut self) {
        self.phase_since = Instant::now();
    }
}

/// The limits, and the hangs this process has seen.
pub struct TimeLimits {
    phase: Duration,
    case: Duration,
    known_hang: Duration,
    /// `(engine, compiling)` of every hang seen: a handful at most.
    known: HashSet<(String, bool)>,
}

impl TimeLimits {
    /// The limits of `[daemon]`.
    pub fn new(daemon: &DaemonConfig) -> TimeLimits {
        TimeLimits {
            phase: Duration::from_secs(daemon.phase_timeout_secs),
            case: Duration::from_secs(daemon.case_timeout_secs),
            known_hang: Duration::from_secs(daemon.known_hang_secs),
            known: HashSet::new(),
        }
    }

    /// The limit the case has run past, if any: its engine's phase limit
    /// (short for a known hang), else the whole case's.
    pub fn passed(
        &self,
        clock: &CaseClock,
        engine: Option<&str>,
        compiling: bool,
    ) -> Option<Duration> {
        if let Some(engine) = engine {
            let limit = self.phase_limit(engine, compiling);
            if clock.phase_since.elapsed() > limit {
                return Some(limit);
            }
        }
        (clock.case_since.elapsed() > self.case).then_some(self.case)
    }

    /// How long `engine` may compile (`compiling`) or run.
    pub fn phase_limit(&self, engine: &str, compiling: bool) -> Duration {
        // Checked every tick for every worker: no key is allocated for it.
        let known = self
            .known
            .iter()
            .any(|(e, c)| e == engine && *c == compiling);
        if known {
            self.known_hang.min(self.phase)
        } else {
            self.phase
        }
    }

    /// Records a worker's death in `engine` while compiling (`compiling`)
    /// or running: a hang makes its later hangs in that phase cost the
    /// short budget.
    pub fn note_death(
        &mut self,
        death: &oracles::engine::death::Death,
        engine: Option<&str>,
        compiling: bool,
    ) {
        if let (Some(engine), oracles::engine::death::DeathKind::Hang) = (engine, death.kind) {
            self.learn(engine, compiling);
        }
    }

    /// Records that `engine` hung compiling (`compiling`) or running: its
    /// later hangs in that phase cost the short budget.
    pub fn learn(&mut self, engine: &str, compiling: bool) {
        if self.known.insert((engine.to_string(), compiling)) {
            tracing::info!(
                engine,
                phase = if compiling { "compiling" } else { "running" },
                budget_secs = self.known_hang.min(self.phase).as_secs(),
                "a known hang: later cases get a short budget in this phase"
            );
        }
    }
}

/// `death` with the call it happened in named in its details (not in its
/// signature: the same hang in another call is the same bug).
pub fn in_call(
    death: &oracles::engine::death::Death,
    call: Option<&(usize, String)>,
) -> oracles::engine::death::Death {
    let mut death = death.clone();
    if let Some((index, export)) = call {
        death.detail = format!(
            "{} (in call {} of the plan, {:?})",
            death.detail,
            index + 1,
            export
        );
    }
    death
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> TimeLimits {
        TimeLimits::new(&DaemonConfig {
            phase_timeout_secs: 30,
            case_timeout_secs: 600,
            known_hang_secs: 3,
            ..DaemonConfig::default()
        })
    }

    fn clock(case_ago: u64, phase_ago: u64) -> CaseClock {
        let now = Instant::now();
        CaseClock {
            case_since: now - Duration::from_secs(case_ago),
            phase_since: now - Duration::from_secs(phase_ago),
        }
    }

    #[test]
    fn each_phase_of_each_engine_has_its_own_limit() {
        let limits = limits();
        // Five engines compiling 8 s each: 40 s, no phase over 30 s.
        assert_eq!(limits.passed(&clock(40, 8), Some("a"), true), None);
        assert_eq!(
            limits.passed(&clock(40, 31), Some("a"), false),
            Some(Duration::from_secs(30))
        );
        // The backstop, with or without an engine.
        assert_eq!(
            limits.passed(&clock(601, 1), Some("a"), false),
            Some(Duration::from_secs(600))
        );
        assert_eq!(
            limits.passed(&clock(601, 601), None, false),
            Some(Duration::from_secs(600))
        );
    }

    #[test]
    fn a_known_hang_costs_a_short_budget_in_its_phase_only() {
        let mut limits = limits();
        limits.learn("a", false);
        assert_eq!(
            limits.passed(&clock(5, 4), Some("a"), false),
            Some(Duration::from_secs(3))
        );
        assert_eq!(limits.passed(&clock(5, 4), Some("a"), true), None);
        assert_eq!(limits.passed(&clock(5, 4), Some("b"), false), None);
    }
}
