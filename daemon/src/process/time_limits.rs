//! How long a worker may take before it is killed as hung: per engine and
//! step (compiling the module; instantiating it; each call of the plan,
//! which the worker reports as it begins), not per case, so that a module whose five engines each compile for 8 s is no
//! hang, and the engine named is the one that hung. A hang already seen in
//! this run (the same engine in the same phase) gets a short budget on
//! later hits, so that one known bug cannot stall the run 30 s at a time.
//! A whole-case limit stays as the backstop for the harness itself.

use super::protocol::Reply;
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
    /// For a call of an engine without a budget: the longest an engine
    /// with one took to end it, which makes a tighter limit than the
    /// phase's ([`allowance`]).
    pub budgeted: Option<Duration>,
}

impl CaseClock {
    /// A case beginning now.
    pub fn start() -> CaseClock {
        let now = Instant::now();
        CaseClock {
            case_since: now,
            phase_since: now,
            budgeted: None,
        }
    }

    /// A new phase begins now.
    pub fn next_phase(&mut self) {
        self.phase_since = Instant::now();
        self.budgeted = None;
    }

    /// A call begins now; `budgeted` is the longest an engine with a
    /// budget took to end it, for an engine without one.
    pub fn next_call(&mut self, budgeted: Option<Duration>) {
        self.next_phase();
        self.budgeted = budgeted;
    }
}

/// Where a worker is in its case, as its reports said: the supervisor and
/// the prober follow it the same way.
#[derive(Clone, Debug)]
pub struct CasePosition {
    /// The case's and its current step's clocks.
    pub clock: CaseClock,
    /// The engine at work, as an index into the worker's engine list;
    /// `None` before the first and while the case is judged.
    pub engine: Option<usize>,
    /// Whether `engine` is still compiling the module.
    pub compiling: bool,
    /// The call of the plan `engine` is running, if it began one.
    pub call: Option<(usize, String)>,
}

impl CasePosition {
    /// A case beginning now.
    pub fn start() -> CasePosition {
        CasePosition {
            clock: CaseClock::start(),
            engine: None,
            compiling: false,
            call: None,
        }
    }

    /// Moves on as `report` says; reports that are not steps of a case
    /// leave it.
    pub fn follow(&mut self, report: &Reply) {
        match report {
            Reply::Engine { index } => {
                self.engine = Some(*index);
                self.compiling = true;
                self.call = None;
                self.clock.next_phase();
            }
            Reply::Running => {
                self.compiling = false;
                self.clock.next_phase();
            }
            Reply::Call {
                index,
                export,
                budgeted_us,
            } => {
                self.call = Some((*index, export.clone()));
                self.clock
                    .next_call(budgeted_us.map(std::time::Duration::from_micros));
            }
            Reply::Judging => {
                self.engine = None;
                self.compiling = false;
                self.call = None;
                self.clock.next_phase();
            }
            _ => {}
        }
    }
}

/// How long an engine without fuel or epochs may take over a call that
/// the engines with a budget ended within `budgeted`: twenty times as
/// long, and at least a second, or [`KNOWN_HANG_FLOOR`] for an engine
/// already seen hanging in this run (`known`). The engine runs the same
/// code without the budget's checks, so it is faster if anything; far
/// slower is a hang.
pub fn allowance(budgeted: Duration, known: bool) -> Duration {
    let floor = if known {
        KNOWN_HANG_FLOOR
    } else {
        Duration::from_secs(1)
    };
    (budgeted * 20).max(floor)
}

/// The least a call of an engine that already hung in this run gets when
/// the engines with a budget ended it: a known bug (48's dead-store hang,
/// which pass-aimed shapes hit often) costs a quarter of a second per hit
/// instead of a second, so it does not slow the search for new ones. Still
/// a hundred times the few milliseconds such calls take, so load does not
/// turn a slow call into a hang.
pub const KNOWN_HANG_FLOOR: Duration = Duration::from_millis(250);

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
            let known = self.is_known(engine, compiling);
            let limit = clock
                .budgeted
                .map_or(limit, |budgeted| allowance(budgeted, known).min(limit));
            if clock.phase_since.elapsed() > limit {
                return Some(limit);
            }
        }
        (clock.case_since.elapsed() > self.case).then_some(self.case)
    }

    /// How long `engine` may compile (`compiling`) or run.
    pub fn phase_limit(&self, engine: &str, compiling: bool) -> Duration {
        if self.is_known(engine, compiling) {
            self.known_hang.min(self.phase)
        } else {
            self.phase
        }
    }

    /// Whether `engine` hung in this phase before.
    fn is_known(&self, engine: &str, compiling: bool) -> bool {
        // Checked every tick for every worker: no key is allocated for it.
        self.known
            .iter()
            .any(|(e, c)| e == engine && *c == compiling)
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
            budgeted: None,
        }
    }

    #[test]
    fn a_call_the_budgeted_engines_ended_quickly_has_a_tighter_limit() {
        let limits = limits();
        let mut quick = clock(5, 2);
        quick.budgeted = Some(Duration::from_millis(3));
        assert_eq!(
            limits.passed(&quick, Some("a"), false),
            Some(Duration::from_secs(1))
        );
        // Twenty times a slow call, and never past the phase limit.
        assert_eq!(
            allowance(Duration::from_millis(500), false),
            Duration::from_secs(10)
        );
        let mut slow = clock(40, 31);
        slow.budgeted = Some(Duration::from_secs(5));
        assert_eq!(
            limits.passed(&slow, Some("a"), false),
            Some(Duration::from_secs(30))
        );
        // A new phase forgets the call's limit.
        quick.next_phase();
        assert_eq!(quick.budgeted, None);
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

    #[test]
    fn a_known_hang_in_a_call_the_budgeted_engines_ended_quickly_costs_a_quarter_second() {
        let mut limits = limits();
        let mut call = CaseClock::start();
        call.next_call(Some(Duration::from_millis(3)));
        call.phase_since = Instant::now() - Duration::from_millis(400);
        // Unknown: a second.
        assert_eq!(limits.passed(&call, Some("a"), false), None);
        limits.learn("a", false);
        assert_eq!(
            limits.passed(&call, Some("a"), false),
            Some(KNOWN_HANG_FLOOR)
        );
        assert_eq!(limits.passed(&call, Some("b"), false), None);
        // Twenty times a slow call still holds.
        call.budgeted = Some(Duration::from_millis(30));
        assert_eq!(limits.passed(&call, Some("a"), false), None);
    }
}
