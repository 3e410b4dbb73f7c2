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
    /// A tighter limit of the current step than the phase's: a call of an
    /// engine without a budget that the engines with one ended quickly.
    pub step_limit: Option<Duration>,
}

impl CaseClock {
    /// A case beginning now.
    pub fn start() -> CaseClock {
        let now = Instant::now();
        CaseClock {
            case_since: now,
            phase_since: now,
            step_limit: None,
        }
    }

    /// A new phase begins now.
    pub fn next_phase(&mut self) {
        self.phase_since = Instant::now();
        self.step_limit = None;
    }

    /// A call begins now; `budgeted` is the longest an engine with a
    /// budget took to end it, for an engine without one.
    pub fn next_call(&mut self, budgeted: Option<Duration>) {
        self.next_phase();
        self.step_limit = budgeted.map(allowance);
    }
}

/// How long an engine without fuel or epochs may take over a call that
/// the engines with a budget ended within `budgeted`: twenty times as
/// long, and at least a second. The engine runs the same code without the
/// budget's checks, so it is faster if anything; far slower is a hang,
/// and a known one found again costs a second, not the phase limit.
pub fn allowance(budgeted: Duration) -> Duration {
    (budgeted * 20).max(Duration::from_secs(1))
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
            let limit = clock.step_limit.map_or(limit, |step| step.min(limit));
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
        death.call = Some(*index);
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
            step_limit: None,
        }
    }

    #[test]
    fn a_call_the_budgeted_engines_ended_quickly_has_a_tighter_limit() {
        let limits = limits();
        let mut quick = clock(5, 2);
        quick.step_limit = Some(allowance(Duration::from_millis(3)));
        assert_eq!(
            limits.passed(&quick, Some("a"), false),
            Some(Duration::from_secs(1))
        );
        // Twenty times a slow call, and never past the phase limit.
        assert_eq!(
            allowance(Duration::from_millis(500)),
            Duration::from_secs(10)
        );
        let mut slow = clock(40, 31);
        slow.step_limit = Some(allowance(Duration::from_secs(5)));
        assert_eq!(
            limits.passed(&slow, Some("a"), false),
            Some(Duration::from_secs(30))
        );
        // A new phase forgets the call's limit.
        quick.next_phase();
        assert_eq!(quick.step_limit, None);
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
