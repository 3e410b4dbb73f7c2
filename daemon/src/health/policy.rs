//! The release gate's policy (`[gate]` in `config.toml`): what a healthy
//! store must show. Judged by `health::gate`.

use oracles::judge::kind::FindingKind;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The policy (`[gate]`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatePolicy {
    /// Cases at least, over the window.
    pub min_cases: u64,
    /// Cases each engine of the matrix compiled and ran, at least.
    pub min_cases_per_variant: u64,
    /// Findings that need attention (open, no suppression rule covers
    /// them) hit in the window, at most, per kind; kinds not listed are
    /// not limited.
    pub max_open: BTreeMap<FindingKind, u64>,
    /// Share of cases whose verdict is inconclusive, at most.
    pub max_inconclusive_share: f64,
    /// Share of cases that hit a flaky finding (one that gave its
    /// signature in fewer triage re-runs than were made), at most: flaky
    /// findings are judged by this rule, not as open bugs of their kind.
    pub max_flaky_share: f64,
    /// Share of cases too few engines accepted, at most.
    pub max_rejected_share: f64,
    /// Cases per second of running, at least.
    pub min_cases_per_second: f64,
    /// Every instruction of `instruction_proposals` occurs at least this
    /// often in the generated modules; 0 turns the rule off.
    pub min_instruction_count: u64,
    /// The proposals (wasmparser's names) whose instructions
    /// `min_instruction_count` covers.
    pub instruction_proposals: Vec<String>,
    /// With `--baseline`: findings needing attention whose signature the
    /// baseline store lacks, at most.
    pub max_new_vs_baseline: u64,
    /// What must really have run, at least: `exercised:` counters by name
    /// (`tail-loop-completed`, `feature:custom-page-sizes`, ...).
    pub min_exercised: BTreeMap<String, u64>,
    /// Cases in which each engine of the matrix trapped with stack
    /// overflow, at least: its stack check was reached.
    pub min_overflows_per_engine: u64,
    /// With two releases in the matrix: the share of the rules that
    /// changed between them (and can be aimed at) that the candidate ran
    /// at least `min_candidate_runs_per_changed_rule` cases aimed at; 0
    /// turns the rule off.
    pub min_changed_rules_share: f64,
    /// Cases aimed at a changed rule the candidate must run for the rule
    /// to count as covered.
    pub min_candidate_runs_per_changed_rule: u64,
}

impl Default for GatePolicy {
    fn default() -> Self {
        GatePolicy {
            min_cases: 10_000,
            min_cases_per_variant: 5_000,
            // Every kind but a fix (the candidate right where the reference
            // release was wrong) and a breach (which always fails).
            max_open: FindingKind::ALL
                .into_iter()
                .filter(|kind| !matches!(kind, FindingKind::Fix | FindingKind::Breach))
                .map(|kind| (kind, 0))
                .collect(),
            max_inconclusive_share: 0.1,
            max_flaky_share: 0.001,
            max_rejected_share: 0.05,
            min_cases_per_second: 5.0,
            min_instruction_count: 1,
            instruction_proposals: [
                "mvp",
                "sign_extension",
                "saturating_float_to_int",
                "bulk_memory",
                "tail_call",
                "simd",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            max_new_vs_baseline: 0,
            min_exercised: [
                ("tail-loop-completed", 100),
                ("stack-args-called", 100),
                ("all-overflowed", 50),
                ("two-instances-called", 100),
                ("feature:wide-arithmetic", 1000),
                ("feature:custom-page-sizes", 1000),
            ]
            .into_iter()
            .map(|(what, n)| (what.to_string(), n))
            .collect(),
            min_overflows_per_engine: 50,
            min_changed_rules_share: 0.5,
            min_candidate_runs_per_changed_rule: 1,
        }
    }
}
