//! Rule coverage of rule-guided generation (`oracles::case::rules`): of the
//! linked Cranelift's rules, how many are in scope, expressible in Wasm,
//! aimed at by some case that ran, and how often; which were never
//! reached; and for how many mid-end rules Cranelift's optimizer rewrote
//! the aimed instruction. Counted per case under [`RULE`] and [`RULE_CHANGED`],
//! shown by `status`, the dashboard and `/metrics`.

use super::counter::Counter;
use super::counter::ALL_ENGINES;
use oracles::case::rules::catalog::{Catalog, Rule};
use oracles::case::rules::{self, code_change, RuleTarget};
use oracles::engine::other_release::{candidate_rewrites, rewrote_on_release, CandidateRewrites};
use oracles::engine::outcome::EngineRun;
use oracles::SeedReport;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, OnceLock};

// Per rule (`Counter::Rule`, `rule:<file>:<line>`): cases aimed at it
// that ran on at least two engines. Per mid-end rule
// (`Counter::RuleChanged`): of those, checked cases in which the optimizer
// rewrote the rule's root instruction (its count in the optimized CLIF
// differs between opt level none and speed). What is shown is whether a
// rule has any.

/// How many cases of one rule a process checks at most for a rewrite. A
/// check costs two compiles that write every function's CLIF to files
/// (about 40 ms, against about 30 ms for the whole case; checking every
/// rule-guided case cost a quarter of all cases/s), and what is shown is
/// per rule: once a rule was seen rewritten it is not checked again, and
/// a rule not seen rewritten in this many cases is left.
const REWRITE_CHECKS: u8 = 4;
/// Only cases whose seed is a multiple of this are checked at all.
const REWRITE_CHECK_EVERY: u64 = 8;

/// Whether `check` (run only if this process still checks rule `id`)
/// saw the rule's instruction rewritten.
fn rewrite_seen(id: &str, check: impl FnOnce() -> bool) -> bool {
    /// Checks done per rule; `u8::MAX` once one saw a rewrite.
    static CHECKS: Mutex<BTreeMap<String, u8>> = Mutex::new(BTreeMap::new());
    let remaining = |done: u8| done < REWRITE_CHECKS;
    let done = *CHECKS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(id)
        .unwrap_or(&0);
    if !remaining(done) {
        return false;
    }
    // Checked outside the lock: the check takes tens of milliseconds.
    let rewritten = check();
    let mut checks = CHECKS.lock().unwrap_or_else(|e| e.into_inner());
    let entry = checks.entry(id.to_string()).or_default();
    *entry = if rewritten {
        u8::MAX
    } else {
        entry.saturating_add(1)
    };
    rewritten
}

/// The rule events of one case, as `("*", counter)`.
pub fn rule_events(report: &SeedReport) -> Vec<(String, String)> {
    let Some(target) = &report.info.rule_target else {
        return Vec::new();
    };
    let ran = report
        .report
        .runs
        .iter()
        .filter(|(_, run)| matches!(run, EngineRun::Ran(_)))
        .count();
    if ran < 2 {
        return Vec::new();
    }
    let mut events = vec![(
        ALL_ENGINES.to_string(),
        Counter::Rule(target.id.clone()).key(),
    )];
    let sampled = report.module.seed.is_multiple_of(REWRITE_CHECK_EVERY);
    let rewritten = sampled
        && rewrite_seen(&target.id, || {
            code_change::optimizer_rewrote(&report.module.wasm, target.instances, target)
                .ok()
                .flatten()
                == Some(true)
        });
    if rewritten {
        events.push((
            ALL_ENGINES.to_string(),
            Counter::RuleChanged(target.id.clone()).key(),
        ));
    }
    events.extend(release_events(report, &target.id));
    if candidate_rewrote(report, target, sampled, rewritten) {
        events.push((
            ALL_ENGINES.to_string(),
            Counter::RuleCandidateRewrote(target.id.clone()).key(),
        ));
    }
    events
}

/// How this process's candidate release shows its rewrites (asked once:
/// the other release's rules are read before the first case).
fn candidate() -> Option<&'static CandidateRewrites> {
    static CANDIDATE: OnceLock<Option<CandidateRewrites>> = OnceLock::new();
    CANDIDATE.get_or_init(candidate_rewrites).as_ref()
}

/// Whether `rule` is the candidate release's own: the linked catalog's
/// when the candidate is the linked release, else the other release's
/// (`@MAJOR`).
fn of_candidate(rule: &Rule) -> bool {
    match candidate() {
        Some(CandidateRewrites::Linked) => rule.release.is_none(),
        Some(CandidateRewrites::Build(major)) => rule.release == Some(*major),
        _ => rule.release.is_some(),
    }
}

/// Whether the candidate's optimizer rewrote the instruction of `target`,
/// a rule new or changed in the candidate, in this case: the linked
/// release's check (`linked_rewrote`) when the candidate is the linked
/// release, a sampled ask of its build when it is another; never where it
/// cannot show it (a C API library).
fn candidate_rewrote(
    report: &SeedReport,
    target: &RuleTarget,
    sampled: bool,
    linked_rewrote: bool,
) -> bool {
    // Most runs' candidate cannot show it: no lookup for them.
    let build = match candidate() {
        Some(CandidateRewrites::Linked) => None,
        Some(CandidateRewrites::Build(major)) => Some(*major),
        _ => return false,
    };
    let Some(rule) = Catalog::get()
        .find(&target.id)
        .filter(|r| r.changed && of_candidate(r))
    else {
        return false;
    };
    let Some(major) = build else {
        return linked_rewrote;
    };
    let key = format!("{} on the candidate", target.id);
    sampled
        && rewrite_seen(&key, || {
            let asked = rewrote_on_release(
                major,
                &report.module.wasm,
                target.instances,
                &rule.id_in_its_release(),
            );
            if let Err(e) = &asked {
                tracing::warn!("{e:#}");
            }
            matches!(asked, Ok(Some(true)))
        })
}

/// With two releases in the matrix: whether the candidate (the newer
/// release, `judge::releases`) ran the case aimed at rule `id`, and
/// whether the two releases disagreed on it.
fn release_events(report: &SeedReport, id: &str) -> Vec<(String, String)> {
    let releases: BTreeSet<u64> = report
        .report
        .runs
        .iter()
        .map(|(engine, _)| engine.release_or_linked())
        .collect();
    let (Some(&candidate), true) = (releases.last(), releases.len() > 1) else {
        return Vec::new();
    };
    let mut events = Vec::new();
    let ran_on_candidate = report.report.runs.iter().any(|(engine, run)| {
        engine.release_or_linked() == candidate && matches!(run, EngineRun::Ran(_))
    });
    if ran_on_candidate {
        events.push((
            ALL_ENGINES.to_string(),
            Counter::RuleCandidate(id.to_string()).key(),
        ));
    }
    let diverged = match report.report.verdict() {
        oracles::Verdict::Mismatch(m) => oracles::judge::releases::divergence(m).is_some(),
        _ => false,
    };
    if diverged {
        events.push((
            ALL_ENGINES.to_string(),
            Counter::RuleDiverged(id.to_string()).key(),
        ));
    }
    events
}

/// The change's coverage from the per-rule counts; `None` with one
/// release in the matrix (no rule changed).
fn change_coverage(
    cases: &BTreeMap<String, u64>,
    on_candidate: &BTreeMap<String, u64>,
    diverged: &BTreeSet<String>,
    rewritten: &BTreeSet<String>,
) -> Option<ChangeCoverage> {
    let (changed, aimable) = rules::changed_rules();
    if changed == 0 {
        return None;
    }
    let reached: Vec<&String> = aimable
        .iter()
        .filter(|id| cases.contains_key(*id))
        .collect();
    Some(ChangeCoverage {
        changed,
        aimable: aimable.len(),
        aimed: reached.len(),
        cases: reached.iter().map(|id| cases[*id]).sum(),
        candidate_runs: aimable
            .iter()
            .map(|id| (id.clone(), on_candidate.get(id).copied().unwrap_or(0)))
            .collect(),
        disagreeing: aimable
            .iter()
            .filter(|id| diverged.contains(*id))
            .cloned()
            .collect(),
        candidate_mid_end: aimable.iter().filter(|id| candidate_mid_end(id)).count(),
        candidate_rewrote: rewritten.iter().cloned().collect(),
        rewrites_unknown: match candidate() {
            Some(CandidateRewrites::Unobservable(why)) => Some(why.clone()),
            _ => None,
        },
    })
}

/// Whether `id` is a mid-end rule of the candidate release, whose
/// rewrites the candidate may show.
fn candidate_mid_end(id: &str) -> bool {
    Catalog::get()
        .find(id)
        .is_some_and(|rule| of_candidate(rule) && rule.file.starts_with("opts/"))
}

/// Rule coverage of a window (or the whole store).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct RuleCoverage {
    /// The cranelift-codegen version whose rules these are.
    pub cranelift: String,
    /// Why rule-guided generation is off in this build, if it is.
    pub problem: Option<String>,
    /// Rules in scope: mid-end simplifications and x64 lowering.
    pub in_scope: usize,
    /// Of which Wasm can express the pattern.
    pub expressible: usize,
    /// Of which a module types: what generation aims at.
    pub aimable: usize,
    /// Distinct rules some case aimed at and ran.
    pub targeted: usize,
    /// Aimable rules no case reached yet.
    pub never_reached: usize,
    /// Distinct mid-end rules whose root instruction the optimizer rewrote
    /// in some case.
    pub code_changed: usize,
    /// Distinct mid-end (`opts/`) rules targeted: what `code_changed` is
    /// out of.
    pub targeted_mid_end: usize,
    /// Cases aimed at a rule that ran.
    pub cases: u64,
    /// Cases per targeted rule: (fewest, median, most).
    pub cases_per_rule: (u64, u64, u64),
    /// Per file: (file, in scope, aimable, targeted, code changed).
    pub files: Vec<(String, usize, usize, usize, usize)>,
    /// Why the rest are out of reach, most frequent reasons first.
    pub inexpressible: Vec<(String, usize)>,
    /// A few aimable rules never reached, for the curious.
    pub never_reached_examples: Vec<String>,
    /// With two releases in the matrix: how far the cases reached the
    /// rules that changed between them.
    pub change: Option<ChangeCoverage>,
}

/// How far the cases reached the rules that changed between the reference
/// and the candidate release (`crosscheck diff-release`).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct ChangeCoverage {
    /// Rules in scope one release has and the other lacks: new, changed
    /// or removed.
    pub changed: usize,
    /// Of which generation can aim at.
    pub aimable: usize,
    /// Of those, the ones some case aimed at and ran.
    pub aimed: usize,
    /// Cases aimed at them that ran.
    pub cases: u64,
    /// Per aimable changed rule, the cases aimed at it that the candidate
    /// ran (0 for one no case reached).
    pub candidate_runs: BTreeMap<String, u64>,
    /// The changed rules on which the releases disagreed in some case.
    pub disagreeing: Vec<String>,
    /// Of the aimable changed rules, the candidate's mid-end rules: those
    /// whose rewrites the candidate may show.
    pub candidate_mid_end: usize,
    /// The changed rules whose root instruction the candidate's optimizer
    /// rewrote in some checked case (`RuleCandidateRewrote`).
    pub candidate_rewrote: Vec<String>,
    /// Why the candidate cannot show its rewrites, if it cannot: then
    /// `candidate_rewrote` is empty for want of a way to tell, not of
    /// rewrites.
    pub rewrites_unknown: Option<String>,
}

impl ChangeCoverage {
    /// What the candidate showed of its optimizer's rewrites, in one line.
    pub fn rewrites_line(&self) -> String {
        match &self.rewrites_unknown {
            Some(why) => format!("rewritten on the candidate: unknown ({why})"),
            None => format!(
                "rewritten on the candidate (the aimed instruction's count differs between opt level none and speed, in sampled cases): {} of {} changed mid-end rules",
                self.candidate_rewrote.len(),
                self.candidate_mid_end
            ),
        }
    }

    /// The aimable changed rules the candidate ran fewer than `runs` cases
    /// aimed at.
    pub fn short_of(&self, runs: u64) -> Vec<&str> {
        self.candidate_runs
            .iter()
            .filter(|(_, n)| **n < runs)
            .map(|(id, _)| id.as_str())
            .collect()
    }
}

impl RuleCoverage {
    /// Reads the rule counters out of `(engine, counter) -> value`.
    pub fn from_counters<'a>(
        counters: impl IntoIterator<Item = (&'a (String, String), &'a u64)>,
    ) -> RuleCoverage {
        let mut cases: BTreeMap<String, u64> = BTreeMap::new();
        let mut changed: BTreeSet<String> = BTreeSet::new();
        let mut on_candidate: BTreeMap<String, u64> = BTreeMap::new();
        let mut diverged: BTreeSet<String> = BTreeSet::new();
        let mut rewritten: BTreeSet<String> = BTreeSet::new();
        for ((engine, name), value) in counters {
            if engine != ALL_ENGINES {
                continue;
            }
            match Counter::parse(name) {
                Counter::Rule(id) => *cases.entry(id).or_default() += value,
                Counter::RuleChanged(id) if *value > 0 => {
                    changed.insert(id);
                }
                Counter::RuleCandidate(id) => *on_candidate.entry(id).or_default() += value,
                Counter::RuleDiverged(id) if *value > 0 => {
                    diverged.insert(id);
                }
                Counter::RuleCandidateRewrote(id) if *value > 0 => {
                    rewritten.insert(id);
                }
                _ => {}
            }
        }
        let change = change_coverage(&cases, &on_candidate, &diverged, &rewritten);
        let scope = rules::scope();
        let aimable = rules::aimable_ids();
        let file_of = |id: &str| id.rsplit_once(':').map_or(id, |(f, _)| f).to_string();
        let mut files = Vec::new();
        for (file, in_scope, aimable_in_file) in &scope.files {
            let targeted = cases.keys().filter(|id| file_of(id) == *file).count();
            let code_changed = changed.iter().filter(|id| file_of(id) == *file).count();
            files.push((
                file.clone(),
                *in_scope,
                *aimable_in_file,
                targeted,
                code_changed,
            ));
        }
        let never: Vec<&String> = aimable
            .iter()
            .filter(|id| !cases.contains_key(*id))
            .collect();
        let mut counts: Vec<u64> = cases.values().copied().collect();
        counts.sort_unstable();
        RuleCoverage {
            cranelift: scope.cranelift,
            problem: scope.problem,
            in_scope: scope.in_scope,
            expressible: scope.expressible,
            aimable: scope.aimable,
            targeted: cases.len(),
            never_reached: never.len(),
            code_changed: changed.len(),
            targeted_mid_end: cases.keys().filter(|id| id.starts_with("opts/")).count(),
            cases: counts.iter().sum(),
            cases_per_rule: match (counts.first(), counts.last()) {
                (Some(min), Some(max)) => (*min, counts[counts.len() / 2], *max),
                _ => (0, 0, 0),
            },
            files,
            inexpressible: scope.inexpressible.into_iter().take(8).collect(),
            never_reached_examples: never.into_iter().take(5).cloned().collect(),
            change,
        }
    }

    /// The text `status` prints.
    pub fn render(&self) -> String {
        use std::fmt::Write;
        let mut out = format!(
            "\nrule coverage (Cranelift rules of cranelift-codegen {}):\n",
            self.cranelift
        );
        if let Some(problem) = &self.problem {
            let _ = writeln!(out, "  WARNING: rule-guided generation is off: {problem}");
            return out;
        }
        let _ = writeln!(
            out,
            "  {} rules in scope, {} expressible in Wasm, {} aimed at by generation",
            self.in_scope, self.expressible, self.aimable
        );
        let (min, median, max) = self.cases_per_rule;
        let _ = writeln!(
            out,
            "  targeted: {} rules by {} cases that ran (per rule: fewest {min}, median {median}, most {max}); never reached: {}",
            self.targeted, self.cases, self.never_reached
        );
        let _ = writeln!(
            out,
            "  the optimizer rewrote the aimed instruction (opt level none vs speed): {} of {} targeted mid-end rules",
            self.code_changed, self.targeted_mid_end
        );
        let _ = writeln!(
            out,
            "  {:<28} {:>8} {:>8} {:>9} {:>8}",
            "file", "in scope", "aimable", "targeted", "rewrote"
        );
        for (file, in_scope, aimable, targeted, changed) in &self.files {
            let _ = writeln!(
                out,
                "  {file:<28} {in_scope:>8} {aimable:>8} {targeted:>9} {changed:>8}"
            );
        }
        if !self.inexpressible.is_empty() {
            let _ = writeln!(out, "  not expressible, most frequent reasons:");
            for (reason, n) in &self.inexpressible {
                let _ = writeln!(out, "    {n:>5}  {reason}");
            }
        }
        if let Some(change) = &self.change {
            let ran = change.candidate_runs.values().filter(|n| **n > 0).count();
            let _ = writeln!(
                out,
                "  the change between the releases (crosscheck diff-release): {} rules new, changed or removed in scope, {} aimable; aimed at: {} by {} cases; run on the candidate: {}; disagreeing: {}",
                change.changed, change.aimable, change.aimed, change.cases, ran, change.disagreeing.len()
            );
            for id in change.disagreeing.iter().take(5) {
                let _ = writeln!(out, "    releases disagreed on a case aimed at {id}");
            }
            let _ = writeln!(out, "    {}", change.rewrites_line());
        }
        if !self.never_reached_examples.is_empty() {
            let _ = writeln!(
                out,
                "  never reached, e.g.: {}",
                self.never_reached_examples.join(", ")
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_become_targeted_rules_per_file_and_never_reached() {
        let ids = rules::aimable_ids();
        let (a, b) = (ids[0].clone(), ids[ids.len() - 1].clone());
        let counters: BTreeMap<(String, String), u64> = [
            ((ALL_ENGINES.to_string(), Counter::Rule(a.clone()).key()), 3),
            ((ALL_ENGINES.to_string(), Counter::Rule(b.clone()).key()), 1),
            (
                (
                    ALL_ENGINES.to_string(),
                    Counter::RuleChanged(a.clone()).key(),
                ),
                2,
            ),
            (("wasmi".to_string(), Counter::Rule(a.clone()).key()), 99),
        ]
        .into_iter()
        .collect();
        let coverage = RuleCoverage::from_counters(&counters);
        assert_eq!(coverage.targeted, 2);
        assert_eq!(coverage.cases, 4);
        assert_eq!(coverage.cases_per_rule, (1, 3, 3));
        assert_eq!(coverage.code_changed, 1);
        assert_eq!(coverage.never_reached, coverage.aimable - 2);
        let targeted_in_files: usize = coverage.files.iter().map(|f| f.3).sum();
        assert_eq!(targeted_in_files, 2);
        let text = coverage.render();
        assert!(text.contains("targeted: 2 rules by 4 cases"), "{text}");
        assert!(text.contains("opts/arithmetic.isle"), "{text}");
    }

    #[test]
    fn a_candidate_that_cannot_show_its_rewrites_says_so_instead_of_zero() {
        let seen = ChangeCoverage {
            candidate_mid_end: 40,
            candidate_rewrote: vec!["opts/icmp.isle:5@51".into()],
            ..ChangeCoverage::default()
        };
        assert!(
            seen.rewrites_line()
                .ends_with(": 1 of 40 changed mid-end rules"),
            "{}",
            seen.rewrites_line()
        );
        let unknown = ChangeCoverage {
            candidate_mid_end: 40,
            rewrites_unknown: Some("Wasmtime 51 runs through its C API library".into()),
            ..ChangeCoverage::default()
        };
        assert_eq!(
            unknown.rewrites_line(),
            "rewritten on the candidate: unknown (Wasmtime 51 runs through its C API library)"
        );
    }
}
