//! Generation weighted by what changed between two releases: with a
//! candidate release in which one rule changed (the mid-end's division by
//! a power of two), half the rule-guided cases aim at the rules that
//! changed (`[generator.rules] changed_share`), so a fault standing in for
//! a bug of the candidate in that rule is found in fewer cases than by
//! generation that weighs every rule alike. Its own test binary: the rule
//! catalogue is read once per process, after the candidate's rules are in.

use oracles::case::generate::{seed_stream, StreamPurpose};
use oracles::case::rules::{self, catalog, RulesConfig};
use oracles::{ExecutionConfig, GeneratedModule, Matrix, Verdict};

/// The Cranelift variant the fault is injected into, and the fault: `x
/// udiv 2^k` computed as an arithmetic shift, a bug of the mid-end's
/// division rules (`opts/arithmetic.isle`).
const BASE: &str = "cranelift-tail-signals+nofuel";
const FAULTY: &str = "cranelift-tail-signals+nofuel+fault-rule-udiv-pow2";

/// The rule that changes, as the linked release writes it.
const RULE: &str = "(rule (simplify_skeleton (udiv x (iconst_u ty (u64_extract_power_of_two d))))";

/// The linked release's ISLE sources with that one rule changed (named).
fn candidate_sources() -> Vec<(String, String)> {
    let changed = RULE.replacen("(rule ", "(rule udiv_by_power_of_two ", 1);
    catalog::embedded_sources()
        .iter()
        .map(|(file, text)| {
            let text = if *file == "opts/arithmetic.isle" {
                assert!(text.contains(RULE), "the linked Cranelift has no {RULE}");
                text.replacen(RULE, &changed, 1)
            } else {
                text.to_string()
            };
            (file.to_string(), text)
        })
        .collect()
}

/// Rule-guided cases of seeds 0.. until the faulty variant alone
/// disagrees: how many it took.
fn cases_to_find(matrix: &Matrix, config: &RulesConfig, budget: u64) -> Option<u64> {
    (0..budget)
        .find(|&seed| {
            let entropy = seed_stream(seed, StreamPurpose::Module, 4096);
            let mut u = arbitrary::Unstructured::new(&entropy);
            let Ok((wasm, _)) = rules::build(&mut u, config) else {
                return false;
            };
            let report = oracles::run_case(
                oracles::CaseSource::Module(GeneratedModule {
                    seed,
                    wasm,
                    features: vec!["rule-guided"],
                }),
                &oracles::Given::default(),
                &ExecutionConfig::default(),
                matrix,
                &mut |_| {},
            )
            .unwrap();
            matches!(report.report.verdict(), Verdict::Mismatch(m)
                if m.sides.iter().any(|g| g.engines == [FAULTY]))
        })
        .map(|seed| seed + 1)
}

#[test]
fn a_fault_in_a_changed_rule_is_found_sooner_by_diff_weighted_generation() {
    catalog::add_reference_sources(99, candidate_sources());
    let changed: Vec<&catalog::Rule> = catalog::Catalog::get()
        .rules
        .iter()
        .filter(|r| r.changed)
        .collect();
    // The linked form and the candidate's.
    assert_eq!(changed.len(), 2, "{changed:#?}");
    assert!(changed
        .iter()
        .all(|r| r.text.contains("u64_extract_power_of_two d")));
    let matrix = Matrix::new(
        "wasmi",
        &[BASE.to_string(), FAULTY.to_string()],
        &ExecutionConfig::default(),
    )
    .unwrap();
    let weighted = cases_to_find(&matrix, &RulesConfig::default(), 600);
    let unweighted = RulesConfig {
        changed_share: 0.0,
        ..RulesConfig::default()
    };
    let plain = cases_to_find(&matrix, &unweighted, 600);
    eprintln!(
        "rule-guided cases to the first detection: weighted {weighted:?}, unweighted {plain:?}"
    );
    let weighted = weighted.expect("diff-weighted generation found the fault within 600 cases");
    assert!(
        plain.is_none_or(|plain| weighted < plain),
        "weighted {weighted}, unweighted {plain:?}"
    );
}
