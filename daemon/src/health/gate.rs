//! The release gate: the `[gate]` policy of `config.toml` judged against
//! the fuzz health of a window of the store.

use super::figures::{FindingJson, Health};
use super::policy::GatePolicy;
use crate::store::Status;
use oracles::case::instructions;
use oracles::judge::kind::FindingKind;
use serde::Serialize;
use std::collections::BTreeSet;

/// One rule's outcome.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleResult {
    /// What the rule checks, e.g. `open mismatch findings`.
    pub rule: String,
    /// The measured figure, as shown.
    pub figure: String,
    /// The limit, as shown (`>= 10000`, `<= 0`).
    pub limit: String,
    /// Whether the figure is within the limit.
    pub pass: bool,
    /// What failed, when it did (the findings, the missing instructions).
    pub detail: Option<String>,
}

/// Whether a finding is a possible sandbox breach not marked fixed: what
/// fails the gate whatever its policy, and what the dashboard and
/// `/metrics` raise.
pub fn is_unfixed_breach(kind: FindingKind, status: Status) -> bool {
    kind == FindingKind::Breach && status != Status::Fixed
}

/// Judges `health` by `policy`. `engines` is the matrix (oracle first);
/// `baseline` the signatures of a baseline store, if one was given.
pub fn evaluate(
    policy: &GatePolicy,
    health: &Health,
    engines: &[String],
    baseline: Option<&BTreeSet<String>>,
) -> Vec<RuleResult> {
    let mut rules = volume(policy, health, engines);
    rules.push(unfixed_breaches(health));
    rules.extend(open_findings(policy, health));
    rules.extend(shares_and_speed(policy, health));
    rules.push(flaky_share(policy, health));
    rules.extend(instruction_coverage(policy, health));
    rules.extend(exercised(policy, health, engines));
    rules.extend(change_coverage(policy, health));
    if let Some(known) = baseline {
        rules.push(new_vs_baseline(policy, health, known));
    }
    rules
}

/// Cases in all, and cases each engine of the matrix ran.
fn volume(policy: &GatePolicy, health: &Health, engines: &[String]) -> Vec<RuleResult> {
    let mut rules = vec![at_least("cases", health.cases, policy.min_cases)];
    for engine in engines {
        let ran = health
            .engines
            .get(engine)
            .and_then(|c| c.get("ran"))
            .copied()
            .unwrap_or(0);
        rules.push(at_least(
            &format!("cases run by {engine}"),
            ran,
            policy.min_cases_per_variant,
        ));
    }
    rules
}

/// A possible sandbox escape fails the gate whatever the policy says and
/// however it was marked, until it is fixed.
fn unfixed_breaches(health: &Health) -> RuleResult {
    let breaches: Vec<_> = health
        .findings
        .iter()
        .map(|f| &f.finding)
        .filter(|f| is_unfixed_breach(f.kind, f.status))
        .collect();
    let mut rule = at_most(
        "breach findings not fixed (always 0)",
        breaches.len() as u64,
        0,
    );
    if !rule.pass {
        rule.detail = Some(lines(breaches.iter().map(|f| {
            format!("#{} ({} hits, {}): {}", f.id, f.hits, f.status, f.signature)
        })));
    }
    rule
}

/// The findings that need attention, flaky ones aside (they have a rule
/// of their own, [`flaky_share`]).
fn attention(health: &Health) -> impl Iterator<Item = &FindingJson> {
    health
        .findings
        .iter()
        .filter(|f| f.needs_attention)
        .map(|f| &f.finding)
        .filter(|f| !f.is_flaky())
}

/// The share of cases that hit a flaky finding needing attention: a
/// finding that did not give its signature every time triage re-ran it
/// (load on the machine, a timing-dependent cost) turns the gate red only
/// when such noise is common, never as an open bug.
fn flaky_share(policy: &GatePolicy, health: &Health) -> RuleResult {
    let flaky: Vec<&FindingJson> = health
        .findings
        .iter()
        .filter(|f| f.needs_attention && f.finding.is_flaky())
        .map(|f| &f.finding)
        .collect();
    let hits: i64 = flaky.iter().map(|f| f.hits).sum();
    let share = match health.cases {
        0 => 0.0,
        cases => hits.max(0) as f64 / cases as f64,
    };
    let mut rule = share_at_most(
        "flaky findings' share of cases",
        share,
        policy.max_flaky_share,
    );
    if !flaky.is_empty() {
        rule.detail = Some(lines(flaky.iter().map(|f| {
            format!(
                "#{} ({} hits, reproduced {}): {}",
                f.id,
                f.hits,
                f.reproducible.as_deref().unwrap_or("?"),
                f.signature
            )
        })));
    }
    rule
}

/// Open findings of each kind the policy limits.
fn open_findings(policy: &GatePolicy, health: &Health) -> Vec<RuleResult> {
    let mut rules = Vec::new();
    for (kind, max) in policy
        .max_open
        .iter()
        .filter(|(kind, _)| **kind != FindingKind::Breach)
    {
        let open: Vec<_> = attention(health).filter(|f| f.kind == *kind).collect();
        // One bug seen through several signatures counts once: findings
        // are counted by group (an ungrouped finding is its own).
        let bugs: BTreeSet<(bool, i64)> = open
            .iter()
            .map(|f| f.group.map_or((false, f.id), |g| (true, g)))
            .collect();
        let mut rule = at_most(&format!("open {kind} findings"), bugs.len() as u64, *max);
        if !rule.pass {
            rule.detail =
                Some(lines(open.iter().map(|f| {
                    format!("#{} ({} hits): {}", f.id, f.hits, f.signature)
                })));
        }
        rules.push(rule);
    }
    rules
}

fn shares_and_speed(policy: &GatePolicy, health: &Health) -> [RuleResult; 3] {
    let speed = health.cases_per_second;
    [
        share_at_most(
            "inconclusive share",
            health.verdict_share("inconclusive"),
            policy.max_inconclusive_share,
        ),
        share_at_most(
            "rejected share",
            health.verdict_share("rejected"),
            policy.max_rejected_share,
        ),
        RuleResult {
            rule: "cases/s".into(),
            figure: format!("{speed:.1}"),
            limit: format!(">= {}", policy.min_cases_per_second),
            pass: speed >= policy.min_cases_per_second,
            detail: None,
        },
    ]
}

/// Every instruction of the policy's proposals seen often enough.
fn instruction_coverage(policy: &GatePolicy, health: &Health) -> Option<RuleResult> {
    if policy.min_instruction_count == 0 {
        return None;
    }
    let missing: Vec<&str> = instructions::of_proposals(&policy.instruction_proposals)
        .filter(|i| {
            health.instructions.get(&i.name).copied().unwrap_or(0) < policy.min_instruction_count
        })
        .map(|i| i.name.as_str())
        .collect();
    let total = instructions::of_proposals(&policy.instruction_proposals).count();
    let mut rule = RuleResult {
        rule: format!(
            "instructions seen {}+ times ({})",
            policy.min_instruction_count,
            policy.instruction_proposals.join(", ")
        ),
        figure: format!("{} of {total}", total - missing.len()),
        limit: format!("{total} of {total}"),
        pass: missing.is_empty(),
        detail: None,
    };
    if !missing.is_empty() {
        const SHOWN: usize = 24;
        let mut names = missing
            .iter()
            .take(SHOWN)
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        if missing.len() > SHOWN {
            names += &format!(" ... and {} more", missing.len() - SHOWN);
        }
        rule.detail = Some(format!("below the minimum: {names}"));
    }
    Some(rule)
}

/// What the cases really ran, and each engine's stack overflows.
fn exercised(policy: &GatePolicy, health: &Health, engines: &[String]) -> Vec<RuleResult> {
    let mut rules = Vec::new();
    for (what, min) in &policy.min_exercised {
        rules.push(at_least(
            &format!("exercised {what}"),
            health.exercised.total(what),
            *min,
        ));
    }
    if policy.min_overflows_per_engine > 0 {
        for engine in engines {
            let overflowed = health
                .exercised
                .overflows
                .iter()
                .find(|e| &e.engine == engine)
                .map_or(0, |e| e.overflowed);
            rules.push(at_least(
                &format!("cases {engine} overflowed its stack in"),
                overflowed,
                policy.min_overflows_per_engine,
            ));
        }
    }
    rules
}

/// Findings that need attention whose signature the baseline store lacks.
fn new_vs_baseline(policy: &GatePolicy, health: &Health, known: &BTreeSet<String>) -> RuleResult {
    let new: Vec<_> = attention(health)
        .filter(|f| !known.contains(&f.signature))
        .collect();
    let mut rule = at_most(
        "findings new vs the baseline",
        new.len() as u64,
        policy.max_new_vs_baseline,
    );
    if !rule.pass {
        rule.detail = Some(lines(
            new.iter().map(|f| format!("#{}: {}", f.id, f.signature)),
        ));
    }
    rule
}

/// With two releases in the matrix: how many of the rules that changed
/// between them the candidate ran cases aimed at; a failure names the
/// rules not covered.
fn change_coverage(policy: &GatePolicy, health: &Health) -> Option<RuleResult> {
    let change = health.rules.change.as_ref()?;
    if policy.min_changed_rules_share <= 0.0 || change.aimable == 0 {
        return None;
    }
    let runs = policy.min_candidate_runs_per_changed_rule;
    let short = change.short_of(runs);
    let covered = change.aimable - short.len();
    let share = covered as f64 / change.aimable as f64;
    let pass = share >= policy.min_changed_rules_share;
    const SHOWN: usize = 12;
    let detail = (!pass).then(|| {
        let mut names = short[..short.len().min(SHOWN)].join(" ");
        if short.len() > SHOWN {
            names += &format!(" ... and {} more", short.len() - SHOWN);
        }
        format!("changed rules the candidate ran fewer than {runs} case(s) aimed at: {names}")
    });
    Some(RuleResult {
        rule: format!("changed rules the candidate ran {runs}+ aimed cases of"),
        figure: format!("{covered} of {} ({:.1}%)", change.aimable, share * 100.0),
        limit: format!(">= {:.1}%", policy.min_changed_rules_share * 100.0),
        pass,
        detail,
    })
}

fn lines(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join("\n")
}

fn at_least(rule: &str, figure: u64, min: u64) -> RuleResult {
    RuleResult {
        rule: rule.into(),
        figure: figure.to_string(),
        limit: format!(">= {min}"),
        pass: figure >= min,
        detail: None,
    }
}

fn at_most(rule: &str, figure: u64, max: u64) -> RuleResult {
    RuleResult {
        rule: rule.into(),
        figure: figure.to_string(),
        limit: format!("<= {max}"),
        pass: figure <= max,
        detail: None,
    }
}

fn share_at_most(rule: &str, share: f64, max: f64) -> RuleResult {
    RuleResult {
        rule: rule.into(),
        figure: format!("{:.3}%", share * 100.0),
        limit: format!("<= {:.3}%", max * 100.0),
        pass: share <= max,
        detail: None,
    }
}

/// The rules as a JUnit report: one test case per rule, a failure per
/// failed rule.
pub fn junit(rules: &[RuleResult], window: &str) -> anyhow::Result<String> {
    use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
    let mut suite = TestSuite::new("crosscheck gate");
    for rule in rules {
        let status = if rule.pass {
            TestCaseStatus::success()
        } else {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(format!(
                "{}: {} (limit {})",
                rule.rule, rule.figure, rule.limit
            ));
            if let Some(detail) = &rule.detail {
                status.set_description(detail.clone());
            }
            status
        };
        let mut case = TestCase::new(rule.rule.clone(), status);
        case.set_classname("crosscheck.gate");
        case.set_system_out(format!("figure {} limit {}", rule.figure, rule.limit));
        suite.add_test_case(case);
    }
    suite.add_property(Property::new("window", window));
    let mut report = Report::new("crosscheck");
    report.add_test_suite(suite);
    Ok(report.to_string()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::exercised::Exercised;
    use crate::health::figures::{FindingFigures, FindingJson};
    use std::collections::BTreeMap;

    const ENGINES: [&str; 2] = ["wasmi", "cranelift-tail-signals"];

    fn finding(id: i64, kind: &str, signature: &str, needs_attention: bool) -> FindingFigures {
        FindingFigures {
            finding: FindingJson {
                id,
                signature: signature.into(),
                kind: FindingKind::parse(kind).unwrap(),
                status: if needs_attention {
                    Status::Open
                } else {
                    Status::Suppressed
                },
                hits: 3,
                first_seen: 0,
                last_seen: 0,
                first_seed: Some(1),
                suspect: None,
                reproducible: None,
                shrunk_size: None,
                source: None,
                merged_into: None,
                group: None,
            },
            needs_attention,
        }
    }

    /// A health every rule of `policy()` passes: 20,000 cases at 40/s,
    /// both engines ran them, every MVP instruction seen twice, one
    /// suppressed mismatch.
    fn healthy() -> Health {
        Health {
            runs: Vec::new(),
            cases: 20_000,
            seconds: 500,
            cases_per_second: 40.0,
            verdicts: [
                ("agree".to_string(), 19_990),
                ("inconclusive:fuel".to_string(), 10),
            ]
            .into_iter()
            .collect(),
            engines: ENGINES
                .iter()
                .map(|e| {
                    (
                        e.to_string(),
                        [("ran".to_string(), 20_000)].into_iter().collect(),
                    )
                })
                .collect(),
            costs: BTreeMap::new(),
            instructions: instructions::of_proposals(&["mvp".to_string()])
                .map(|i| (i.name.clone(), 2))
                .collect(),
            findings: vec![finding(1, "mismatch", "mismatch known", false)],
            exercised: exercised(500),
            rules: Default::default(),
        }
    }

    /// What 20,000 default cases exercise, with `overflows` stack
    /// overflows on each engine.
    fn exercised(overflows: u64) -> Exercised {
        let mut counters: BTreeMap<(String, String), u64> = [
            ("tail-loop-completed", 2_000),
            ("stack-args-called", 4_000),
            ("all-overflowed", 1_000),
            ("two-instances-called", 320),
            ("feature:wide-arithmetic", 9_000),
            ("feature:custom-page-sizes", 9_000),
        ]
        .into_iter()
        .map(|(what, n)| (("*".to_string(), format!("exercised:{what}")), n))
        .collect();
        for engine in ENGINES {
            counters.insert((engine.into(), "ran".into()), 20_000);
            counters.insert(
                (engine.into(), "exercised:stack-overflow".into()),
                overflows,
            );
        }
        Exercised::from_counters(&counters)
    }

    fn policy() -> GatePolicy {
        GatePolicy {
            instruction_proposals: vec!["mvp".into()],
            ..GatePolicy::default()
        }
    }

    fn engines() -> Vec<String> {
        ENGINES.iter().map(|e| e.to_string()).collect()
    }

    fn failing(
        health: &Health,
        policy: &GatePolicy,
        baseline: Option<&BTreeSet<String>>,
    ) -> Vec<String> {
        evaluate(policy, health, &engines(), baseline)
            .into_iter()
            .filter(|r| !r.pass)
            .map(|r| r.rule)
            .collect()
    }

    /// The change between two releases: four aimable changed rules, the
    /// candidate having run cases aimed at `ran` of them.
    fn with_change(ran: usize) -> Health {
        let ids = [
            "opts/a.isle:1",
            "opts/a.isle:9@51",
            "isa/x64/lower.isle:7",
            "opts/b.isle:3@51",
        ];
        let mut health = healthy();
        health.rules.change = Some(crate::health::rule_coverage::ChangeCoverage {
            changed: 5,
            aimable: ids.len(),
            aimed: ran,
            cases: ran as u64,
            candidate_runs: ids
                .iter()
                .enumerate()
                .map(|(i, id)| (id.to_string(), u64::from(i < ran)))
                .collect(),
            disagreeing: Vec::new(),
            ..Default::default()
        });
        health
    }

    #[test]
    fn the_gate_fails_naming_the_changed_rules_the_candidate_did_not_run() {
        let policy = policy();
        let rule = |health: &Health| {
            evaluate(&policy, health, &engines(), None)
                .into_iter()
                .find(|r| r.rule.starts_with("changed rules"))
        };
        let short = rule(&with_change(1)).expect("a rule with two releases");
        assert!(!short.pass, "{short:?}");
        assert_eq!(short.figure, "1 of 4 (25.0%)");
        let detail = short.detail.unwrap();
        assert!(
            detail.contains("isa/x64/lower.isle:7 opts/a.isle:9@51 opts/b.isle:3@51")
                && !detail.contains("opts/a.isle:1 "),
            "{detail}"
        );
        let covered = rule(&with_change(2)).unwrap();
        assert!(covered.pass, "{covered:?}");
        // One release: no such rule.
        assert!(rule(&healthy()).is_none());
    }

    #[test]
    fn open_findings_of_one_group_count_as_one_bug() {
        let mut policy = policy();
        policy.max_open.insert(FindingKind::Mismatch, 1);
        let mut health = healthy();
        for (id, group) in [(7, Some(1)), (8, Some(1)), (9, None)] {
            let mut f = finding(id, "mismatch", &format!("mismatch {id}"), true);
            f.finding.group = group;
            health.findings.push(f);
        }
        let rules = evaluate(&policy, &health, &engines(), None);
        let rule = rules
            .iter()
            .find(|r| r.rule == "open mismatch findings")
            .unwrap();
        // Group 1 (two signatures) and the ungrouped finding 9.
        assert_eq!((rule.figure.as_str(), rule.pass), ("2", false));
        health.findings.pop();
        let rules = evaluate(&policy, &health, &engines(), None);
        assert!(rules.iter().all(|r| r.pass), "{rules:#?}");
    }

    #[test]
    fn a_finding_that_does_not_reproduce_is_judged_by_the_flaky_share() {
        // Two compile-time findings that reproduced 1 and 0 times of 3: not
        // open bugs, and few cases hit them.
        let mut health = healthy();
        for (id, reproduced) in [(11, "1/3"), (12, "0/3")] {
            let mut f = finding(id, "compile-time", &format!("compile-time {id}"), true);
            f.finding.reproducible = Some(reproduced.into());
            health.findings.push(f);
        }
        let rules = evaluate(&policy(), &health, &engines(), None);
        assert!(rules.iter().all(|r| r.pass), "{rules:#?}");
        let flaky = rules
            .iter()
            .find(|r| r.rule == "flaky findings' share of cases")
            .unwrap();
        assert!(
            flaky
                .detail
                .as_deref()
                .unwrap()
                .contains("#12 (3 hits, reproduced 0/3)"),
            "{flaky:#?}"
        );
        // One that reproduced every time is an open bug again.
        health.findings[1].finding.reproducible = Some("3/3".into());
        assert_eq!(
            failing(&health, &policy(), None),
            ["open compile-time findings"]
        );
        // Noise that many cases hit turns the gate red by its own rule.
        health.findings[1].finding.reproducible = Some("0/3".into());
        health.findings[1].finding.hits = 500;
        assert_eq!(
            failing(&health, &policy(), None),
            ["flaky findings' share of cases"]
        );
    }

    #[test]
    fn a_healthy_store_passes_every_rule() {
        let baseline: BTreeSet<String> = ["mismatch known".to_string()].into();
        let rules = evaluate(&policy(), &healthy(), &engines(), Some(&baseline));
        assert!(rules.iter().all(|r| r.pass), "{rules:#?}");
        // cases, 2 engines, breaches, 11 kinds, 2 shares, speed, flaky
        // share, coverage, 6 exercised counts, overflows of 2 engines,
        // baseline.
        assert_eq!(rules.len(), 29);
    }

    #[test]
    fn each_rule_fails_alone() {
        type Break = Box<dyn Fn(&mut Health, &mut GatePolicy)>;
        let cases: Vec<(&str, Break)> = vec![
            ("cases", Box::new(|_, p| p.min_cases = 20_001)),
            (
                "cases run by cranelift-tail-signals",
                Box::new(|h, _| {
                    h.engines
                        .get_mut("cranelift-tail-signals")
                        .unwrap()
                        .insert("ran".into(), 4_999);
                }),
            ),
            (
                "open crash findings",
                Box::new(|h, _| {
                    h.findings
                        .push(finding(2, "crash", "crash wasmi: boom", true))
                }),
            ),
            (
                "open compile-time findings",
                Box::new(|h, _| {
                    h.findings.push(finding(
                        5,
                        "compile-time",
                        "compile-time cranelift-tail-signals",
                        true,
                    ))
                }),
            ),
            (
                "open hang findings",
                Box::new(|h, _| h.findings.push(finding(3, "hang", "hang wasmi", true))),
            ),
            (
                // Even suppressed, and whatever the policy allows.
                "breach findings not fixed (always 0)",
                Box::new(|h, p| {
                    p.max_open.insert(FindingKind::Breach, 5);
                    h.findings.push(finding(
                        4,
                        "breach",
                        "breach wrote outside linear memory (a canary changed) in x",
                        false,
                    ))
                }),
            ),
            (
                "inconclusive share",
                Box::new(|_, p| p.max_inconclusive_share = 0.0001),
            ),
            (
                "rejected share",
                Box::new(|h, _| {
                    h.verdicts.insert("rejected:expected".into(), 1_001);
                }),
            ),
            ("cases/s", Box::new(|h, _| h.cases_per_second = 4.9)),
            (
                "instructions seen 1+ times (mvp)",
                Box::new(|h, _| {
                    h.instructions.remove("i64.rotr");
                }),
            ),
            (
                "exercised tail-loop-completed",
                Box::new(|_, p| {
                    p.min_exercised.insert("tail-loop-completed".into(), 2_001);
                }),
            ),
            (
                "exercised feature:custom-page-sizes",
                Box::new(|_, p| {
                    p.min_exercised
                        .insert("feature:custom-page-sizes".into(), 9_001);
                }),
            ),
            (
                "cases wasmi overflowed its stack in",
                Box::new(|h, _| {
                    let mut fewer = exercised(500);
                    fewer.overflows[1].overflowed = 49;
                    h.exercised = fewer;
                }),
            ),
        ];
        for (rule, break_it) in cases {
            let (mut health, mut policy) = (healthy(), policy());
            break_it(&mut health, &mut policy);
            assert_eq!(failing(&health, &policy, None), [rule]);
        }
        // A limit per kind: two open mismatches pass `mismatch = 2`.
        let mut health = healthy();
        health
            .findings
            .push(finding(4, "mismatch", "mismatch a", true));
        health
            .findings
            .push(finding(5, "mismatch", "mismatch b", true));
        assert_eq!(
            failing(&health, &policy(), None),
            ["open mismatch findings"]
        );
        let mut lenient = policy();
        lenient.max_open.insert(FindingKind::Mismatch, 2);
        assert!(failing(&health, &lenient, None).is_empty());
        // Only findings unknown to the baseline fail it, and the failure
        // names them.
        let baseline: BTreeSet<String> = ["mismatch a".to_string()].into();
        let rules = evaluate(&lenient, &health, &engines(), Some(&baseline));
        let failed: Vec<_> = rules.iter().filter(|r| !r.pass).collect();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].rule, "findings new vs the baseline");
        assert_eq!(failed[0].figure, "1");
        assert_eq!(failed[0].detail.as_deref(), Some("#5: mismatch b"));
        // The coverage failure names what is missing.
        let mut health = healthy();
        health.instructions.remove("i64.rotr");
        let rules = evaluate(&policy(), &health, &engines(), None);
        let coverage = rules.iter().find(|r| !r.pass).unwrap();
        assert_eq!(
            coverage.detail.as_deref(),
            Some("below the minimum: i64.rotr")
        );
    }

    #[test]
    fn junit_has_one_case_per_rule_and_a_failure_per_failed_rule() {
        let mut health = healthy();
        health.cases_per_second = 1.0;
        let rules = evaluate(&policy(), &health, &engines(), None);
        let xml = junit(&rules, "since 3").unwrap();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let cases: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        assert_eq!(cases.len(), rules.len());
        let failures: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("failure"))
            .collect();
        assert_eq!(failures.len(), 1);
        assert_eq!(
            failures[0].parent().unwrap().attribute("name"),
            Some("cases/s")
        );
        assert!(failures[0]
            .attribute("message")
            .unwrap()
            .contains("1.0 (limit >= 5)"));
    }
}
