//! Counting verdicts and reasons over many cases; nothing is dropped.

use super::counter::{Counter, Death};
use oracles::engine::outcome::EngineRun;
use oracles::judge::kind::FindingKind;
use oracles::pipeline::findings::of_deaths;
use oracles::{SeedReport, Verdict};
use serde::Serialize;
use std::collections::BTreeMap;

/// How many example seeds are kept per class.
const EXAMPLES: usize = 5;

/// Per-engine counters.
#[derive(Clone, Debug, Default, Serialize)]
pub struct EngineCounters {
    /// Cases the engine compiled and ran.
    pub ran: u64,
    /// Refusals of modules needing a proposal the engine lacks.
    pub rejected_expected: u64,
    /// Refusals of modules valid under the engine's own proposals.
    pub rejected_unexpected: u64,
    /// Cases in which the engine panicked.
    pub crashed: u64,
    /// Cases made inconclusive by this engine, by reason.
    pub inconclusive: BTreeMap<String, u64>,
}

impl EngineCounters {
    /// Counts one event of [`case_events`].
    fn count(&mut self, event: &str) {
        match Counter::parse(event) {
            Counter::Ran => self.ran += 1,
            Counter::RejectedExpected => self.rejected_expected += 1,
            Counter::RejectedUnexpected => self.rejected_unexpected += 1,
            Counter::Died(Death::Crashed) => self.crashed += 1,
            Counter::Inconclusive(reason) => *self.inconclusive.entry(reason).or_default() += 1,
            _ => {}
        }
    }
}

pub use super::counter::ALL_ENGINES;

/// The counters one case increments, as `(engine, counter)`: under
/// [`ALL_ENGINES`] `cases` and `verdict:<label>`; per engine `cases`, `ran`,
/// `agree`, `rejected-expected`, `rejected-unexpected`, `crashed` and
/// `inconclusive:<reason>` for the engines that caused it.
pub fn case_events(report: &SeedReport) -> Vec<(String, String)> {
    let verdict = report.report.verdict();
    // A case in which an engine died counts as its deaths, breaches first:
    // the verdict of the engines left is its later part.
    let deaths = of_deaths(&report.report.runs, &report.report.drawn);
    let mut events = if deaths.is_empty() {
        verdict_events(&verdict.label())
    } else {
        let mut kinds: Vec<FindingKind> = deaths.iter().map(|f| f.kind).collect();
        kinds.extend(verdict.finding_kind());
        findings_events(&kinds)
    };
    for (name, run) in &report.report.runs {
        events.push((name.to_string(), Counter::Cases.key()));
        if matches!(run, EngineRun::Ran(_)) {
            events.push((name.to_string(), Counter::Ran.key()));
        }
        if let EngineRun::Died(death) = run {
            events.push((name.to_string(), death_counter(death.kind)));
        }
        if matches!(verdict, Verdict::Agree) {
            events.push((name.to_string(), Counter::Agree.key()));
        }
    }
    events.extend(blame_events(&report.report.comparison));
    for rejection in &report.report.comparison.rejections {
        let event = match rejection.expected {
            true => Counter::RejectedExpected,
            false => Counter::RejectedUnexpected,
        };
        events.push((rejection.engine.to_string(), event.key()));
    }
    match verdict {
        Verdict::Crash { engines } => {
            for (engine, _) in engines {
                events.push((engine.to_string(), Counter::Died(Death::Crashed).key()));
            }
        }
        Verdict::Inconclusive {
            reason, engines, ..
        } => {
            for engine in engines {
                events.push((
                    engine.to_string(),
                    Counter::Inconclusive(reason.to_string()).key(),
                ));
            }
        }
        _ => {}
    }
    events.extend(super::exercised::exercise_events(report));
    events.extend(super::rule_coverage::rule_events(report));
    // An engine drawn for this case is counted as the swarm that drew it:
    // one row, not one per configuration.
    for (engine, _) in &mut events {
        if report.report.drawn.iter().any(|d| d == engine) {
            *engine = oracles::engine::swarm::SWARM.to_string();
        }
    }
    events
}

/// Who a case's disagreements blame, whether tie-breakers ran, and the
/// later disagreements that blamed someone else (each a finding of its
/// own).
fn blame_events(comparison: &oracles::judge::compare::Comparison) -> Vec<(String, String)> {
    let verdict = &comparison.verdict;
    let mut events = Vec::new();
    let first = match verdict {
        Verdict::Mismatch(m) => Some(m),
        _ => None,
    };
    let mismatches: Vec<_> = first.into_iter().chain(&comparison.further).collect();
    for m in &mismatches {
        if m.blame.is_empty() {
            events.push((ALL_ENGINES.into(), Counter::Blame("undecided".into()).key()));
        }
        for party in &m.blame {
            events.push((ALL_ENGINES.into(), Counter::Blame(party.clone()).key()));
        }
    }
    if mismatches.iter().any(|m| !m.tie_breakers.is_empty()) {
        events.push((ALL_ENGINES.into(), Counter::TieBroken.key()));
    }
    for _ in &comparison.further {
        events.push((ALL_ENGINES.into(), Counter::Later("mismatch".into()).key()));
    }
    events
}

/// The totals of a case whose findings, in order, are of `kinds` (deaths
/// first): the first is its verdict; a cost finding counts as
/// `blowup:<kind>`, any other after the first as `later:<kind>`, so that
/// every finding's hits are counted once.
pub fn findings_events(kinds: &[FindingKind]) -> Vec<(String, String)> {
    let Some(first) = kinds.first() else {
        return verdict_events("agree");
    };
    let mut events = verdict_events(first.as_str());
    for (i, kind) in kinds.iter().enumerate() {
        if kind.is_cost() {
            events.push((ALL_ENGINES.into(), Counter::Blowup(kind.to_string()).key()));
        } else if i > 0 {
            events.push((ALL_ENGINES.into(), Counter::Later(kind.to_string()).key()));
        }
    }
    events
}

/// The per-engine counter an engine's death of finding kind `kind`
/// increments: `crashed`, `hung`, `oom` or `breached`.
pub fn death_counter(kind: oracles::engine::death::DeathKind) -> String {
    Counter::Died(Death::of_kind(kind)).key()
}

/// The per-case totals every case counts, whatever happened to it:
/// `cases` and `verdict:<label>` under [`ALL_ENGINES`].
pub fn verdict_events(label: &str) -> Vec<(String, String)> {
    vec![
        (ALL_ENGINES.to_string(), Counter::Cases.key()),
        (
            ALL_ENGINES.to_string(),
            Counter::Verdict(label.to_string()).key(),
        ),
    ]
}

/// A class of cases with a count and the first seeds seen.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Class {
    /// Cases in the class.
    pub count: u64,
    /// The smallest seeds of the class, at most a handful.
    pub seeds: Vec<u64>,
}

impl Class {
    fn add(&mut self, seed: u64) {
        self.count += 1;
        self.seeds.push(seed);
        self.seeds.sort_unstable();
        self.seeds.truncate(EXAMPLES);
    }

    fn merge(&mut self, other: Class) {
        self.count += other.count;
        self.seeds.extend(other.seeds);
        self.seeds.sort_unstable();
        self.seeds.truncate(EXAMPLES);
    }
}

/// Totals over a set of cases.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    /// Seeds attempted.
    pub cases: u64,
    /// Cases a human must look at: every finding verdict, and harness panics.
    pub findings_total: u64,
    /// Cases per verdict label (`agree`, `mismatch`, `inconclusive:<reason>`, ...).
    pub verdicts: BTreeMap<String, u64>,
    /// Per-engine counters.
    pub engines: BTreeMap<String, EngineCounters>,
    /// Mismatches by class (phase kind, who sides with whom, outcome classes).
    pub mismatch_classes: BTreeMap<String, Class>,
    /// Engine panics by engine and message.
    pub crashes: BTreeMap<String, Class>,
    /// Unexpected rejections by engine and first line of the message.
    pub unexpected_rejections: BTreeMap<String, Class>,
    /// Generator failures by message.
    pub generation_failures: BTreeMap<String, Class>,
    /// Cases where the harness itself panicked, by message.
    pub harness_panics: BTreeMap<String, Class>,
    /// Modules that use `return_call*`.
    pub modules_with_tail_calls: u64,
    /// Total size of generated modules, bytes.
    pub wasm_bytes: u64,
    /// Finding lines collected when the caller asks for them.
    #[serde(skip)]
    pub findings: Vec<String>,
    /// The oracle's instantiation and call outcomes by class (`value`,
    /// `trap:<kind>`, ...): how much of each case really ran.
    pub oracle_outcomes: BTreeMap<String, u64>,
    /// The `exercised:` counters and each engine's `ran`, as the daemon
    /// stores them (`health::exercised`).
    #[serde(skip)]
    pub exercised: BTreeMap<(String, String), u64>,
}

impl Stats {
    /// Counts one case.
    pub fn add(&mut self, report: &SeedReport) {
        let seed = report.module.seed;
        self.cases += 1;
        self.wasm_bytes += report.module.wasm.len() as u64;
        self.modules_with_tail_calls += u64::from(report.info.uses_tail_calls);
        let comparison = &report.report.comparison;
        *self.verdicts.entry(comparison.verdict.label()).or_default() += 1;
        self.findings_total += u64::from(comparison.verdict.is_finding());
        if let Some((_, EngineRun::Ran(oracle))) = report.report.runs.first() {
            let outcomes = std::iter::once(("instantiate", &oracle.instantiation))
                .chain(oracle.calls.iter().map(|c| ("call", c)));
            for (step, outcome) in outcomes {
                *self
                    .oracle_outcomes
                    .entry(format!("{step} {}", outcome.class()))
                    .or_default() += 1;
            }
        }
        for (engine, event) in case_events(report) {
            let kept = matches!(
                Counter::parse(&event),
                Counter::Exercised(_)
                    | Counter::Rule(_)
                    | Counter::RuleChanged(_)
                    | Counter::RuleCandidate(_)
                    | Counter::RuleDiverged(_)
                    | Counter::RuleCandidateRewrote(_)
                    | Counter::Ran
            );
            if kept {
                *self
                    .exercised
                    .entry((engine.clone(), event.clone()))
                    .or_default() += 1;
            }
            if engine != ALL_ENGINES {
                self.engines.entry(engine).or_default().count(&event);
            }
        }
        for rejection in comparison.rejections.iter().filter(|r| !r.expected) {
            let first = rejection.message.lines().next().unwrap_or("");
            self.unexpected_rejections
                .entry(format!("{}: {first}", rejection.engine))
                .or_default()
                .add(seed);
        }
        match &comparison.verdict {
            Verdict::Crash { engines } => {
                for (engine, message) in engines {
                    self.crashes
                        .entry(format!("{engine}: {message}"))
                        .or_default()
                        .add(seed);
                }
            }
            Verdict::Mismatch(m) => self
                .mismatch_classes
                .entry(m.signature(oracles::judge::signature::MISMATCH).to_string())
                .or_default()
                .add(seed),
            _ => {}
        }
    }

    /// Counts a seed whose module could not be generated.
    pub fn add_generation_failure(&mut self, seed: u64, error: &anyhow::Error) {
        self.cases += 1;
        *self.verdicts.entry("generation-failed".into()).or_default() += 1;
        self.generation_failures
            .entry(format!("{error:#}"))
            .or_default()
            .add(seed);
    }

    /// Counts a seed on which the harness panicked.
    pub fn add_panic(&mut self, seed: u64, message: String) {
        self.cases += 1;
        *self.verdicts.entry("harness-panic".into()).or_default() += 1;
        self.findings_total += 1;
        self.harness_panics.entry(message).or_default().add(seed);
    }

    /// Combines two partial totals.
    pub fn merge(mut self, other: Stats) -> Stats {
        self.cases += other.cases;
        self.findings_total += other.findings_total;
        self.findings.extend(other.findings);
        self.modules_with_tail_calls += other.modules_with_tail_calls;
        self.wasm_bytes += other.wasm_bytes;
        for (mine, theirs) in [
            (&mut self.verdicts, other.verdicts),
            (&mut self.oracle_outcomes, other.oracle_outcomes),
        ] {
            for (k, v) in theirs {
                *mine.entry(k).or_default() += v;
            }
        }
        for (k, v) in other.exercised {
            *self.exercised.entry(k).or_default() += v;
        }
        for (k, v) in other.engines {
            let mine = self.engines.entry(k).or_default();
            mine.ran += v.ran;
            mine.rejected_expected += v.rejected_expected;
            mine.rejected_unexpected += v.rejected_unexpected;
            mine.crashed += v.crashed;
            for (reason, n) in v.inconclusive {
                *mine.inconclusive.entry(reason).or_default() += n;
            }
        }
        for (mine, theirs) in [
            (&mut self.mismatch_classes, other.mismatch_classes),
            (&mut self.crashes, other.crashes),
            (&mut self.unexpected_rejections, other.unexpected_rejections),
            (&mut self.generation_failures, other.generation_failures),
            (&mut self.harness_panics, other.harness_panics),
        ] {
            for (k, v) in theirs {
                mine.entry(k).or_default().merge(v);
            }
        }
        self
    }
}
