//! Rule-guided generation against injected rule bugs: Cranelift variants
//! whose rewrite of one pattern is wrong only for an edge constant and an
//! edge run-time value (`oracles::engine::RuleFault`). Cases aimed at the
//! rules of each pattern find each bug within a small budget, and the
//! default rule-guided mix, which aims at every rule of the linked
//! Cranelift, finds the division, shift and select bugs within its budget. (Plain
//! wasm-smith generation on the same bugs is measured in
//! docs/benchmarks.md: it found none of them in 6,000 cases.)

use oracles::case::generate::{seed_stream, StreamPurpose};
use oracles::case::rules::{self, catalog::Catalog, RulesConfig};
use oracles::case::stack_program::StackProgramConfig;
use oracles::{ExecutionConfig, GeneratedModule, GeneratorConfig, Matrix, Verdict};

/// The Cranelift variant each fault is injected into.
const BASE: &str = "cranelift-tail-signals+nofuel";

fn faulty(fault: &str) -> String {
    format!("{BASE}+fault-{fault}")
}

/// wasmi, the plain variant and the faulty one: a finding blamed on the
/// faulty one alone is the injected bug.
fn matrix(faults: &[&str]) -> Matrix {
    let mut engines = vec![BASE.to_string()];
    engines.extend(faults.iter().map(|f| faulty(f)));
    Matrix::new("wasmi", &engines, &ExecutionConfig::default()).unwrap()
}

fn blamed_alone(verdict: &Verdict, engine: &str) -> bool {
    match verdict {
        Verdict::Mismatch(m) => m.sides.iter().any(|g| g.engines == [engine]),
        _ => false,
    }
}

fn run(matrix: &Matrix, seed: u64, wasm: Vec<u8>) -> oracles::SeedReport {
    oracles::run_case(
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
    .unwrap()
}

/// Cases aimed at the rules `select` picks, round robin, until the fault's
/// variant alone disagrees; the number of cases it took.
fn cases_to_find(
    fault: &str,
    select: impl Fn(&rules::catalog::Rule) -> bool,
    budget: u64,
) -> Option<u64> {
    let ids: Vec<String> = rules::aimable()
        .iter()
        .map(|a| &Catalog::get().rules[a.index])
        .filter(|r| select(r))
        .map(|r| r.id())
        .collect();
    assert!(!ids.is_empty(), "no aimable rule for {fault}");
    let matrix = matrix(&[fault]);
    let engine = faulty(fault);
    (0..budget)
        .find(|&seed| {
            let entropy = seed_stream(seed, StreamPurpose::Module, 4096);
            let mut u = arbitrary::Unstructured::new(&entropy);
            let id = &ids[seed as usize % ids.len()];
            let (wasm, _) = rules::build_for(&mut u, id, &RulesConfig::default()).unwrap();
            blamed_alone(run(&matrix, seed, wasm).report.verdict(), &engine)
        })
        .map(|seed| seed + 1)
}

fn root_is(rule: &rules::catalog::Rule, op: &str) -> bool {
    rule.shape
        .as_ref()
        .is_ok_and(|s| s.ops().first() == Some(&op))
}

#[test]
fn cases_aimed_at_a_faulty_rules_patterns_find_it_within_a_small_budget() {
    // Measured: the first detection after 4 (udiv), 1 (sshr), 17 (select)
    // and 154 (extend) aimed cases.
    let found = [
        (
            "rule-udiv-pow2",
            cases_to_find("rule-udiv-pow2", |r| root_is(r, "udiv"), 400),
        ),
        (
            "rule-sshr-sign",
            cases_to_find("rule-sshr-sign", |r| root_is(r, "sshr"), 400),
        ),
        (
            "rule-select-cmp",
            cases_to_find(
                "rule-select-cmp",
                |r| {
                    root_is(r, "select")
                        && r.shape
                            .as_ref()
                            .unwrap()
                            .ops()
                            .iter()
                            .any(|o| matches!(*o, "slt" | "sgt"))
                },
                400,
            ),
        ),
        (
            "rule-uext-shift",
            cases_to_find(
                "rule-uext-shift",
                |r| root_is(r, "sshr") && r.text.contains("(uextend wide"),
                400,
            ),
        ),
    ];
    eprintln!("aimed cases to the first detection: {found:?}");
    let missed: Vec<&str> = found
        .iter()
        .filter(|(_, n)| n.is_none())
        .map(|(f, _)| *f)
        .collect();
    assert!(
        missed.is_empty(),
        "not found within 400 aimed cases: {missed:?} ({found:?})"
    );
}

#[test]
fn the_default_rule_guided_mix_finds_the_division_shift_and_select_faults_within_its_budget() {
    // The default generator's rule-guided cases (a fifth of the default
    // mix), every rule of the linked Cranelift a candidate. Measured on
    // the default mix, seeds 0..10,000: the udiv fault first at seed 446,
    // the sshr fault at 851, the select fault at 3,339 (about the 670th
    // rule-guided case). The extend fault needs one of 2 rules of 1,500 and
    // is out of any test's budget (docs/benchmarks.md). Other cases of the
    // mix are generated (that is what decides the mode) but not run: they
    // cannot find rule faults any faster.
    const BUDGET: u64 = 2_500;
    const FAULTS: [&str; 3] = ["rule-udiv-pow2", "rule-sshr-sign", "rule-select-cmp"];
    let generator = GeneratorConfig::default();
    assert_eq!(generator.rules, RulesConfig::default());
    let matrix = matrix(&FAULTS);
    let mut first: Vec<(String, Option<u64>)> = FAULTS.iter().map(|f| (faulty(f), None)).collect();
    let mut rule_cases = 0;
    let mut seed = 0;
    while rule_cases < BUDGET && first.iter().any(|(_, n)| n.is_none()) {
        let module = oracles::generate(seed, &generator).unwrap();
        seed += 1;
        if !module.features.contains(&"rule-guided") {
            continue;
        }
        rule_cases += 1;
        let verdict = run(&matrix, module.seed, module.wasm)
            .report
            .comparison
            .verdict;
        for (engine, n) in &mut first {
            if n.is_none() && blamed_alone(&verdict, engine) {
                *n = Some(rule_cases);
            }
        }
    }
    assert!(
        first.iter().all(|(_, n)| n.is_some()),
        "within {BUDGET} rule-guided cases (seeds 0..{seed}): {first:?}"
    );
    // The mix is a fifth of all cases, as configured.
    let share = rule_cases as f64 / seed as f64;
    assert!((0.12..0.3).contains(&share), "{rule_cases} of {seed}");
}

#[test]
fn plain_wasm_smith_cases_are_not_rule_guided() {
    let generator = GeneratorConfig {
        stack: StackProgramConfig {
            share: 0.0,
            ..StackProgramConfig::default()
        },
        rules: RulesConfig {
            share: 0.0,
            ..RulesConfig::default()
        },
        ..GeneratorConfig::default()
    };
    for seed in 0..100 {
        let module = oracles::generate(seed, &generator).unwrap();
        assert!(!module.features.contains(&"rule-guided"));
        assert!(oracles::ModuleInfo::parse(&module.wasm)
            .unwrap()
            .rule_target
            .is_none());
    }
}
