//! Coverage-guided differential fuzzing: the input's bytes are wasm-smith's
//! entropy, the case runs on the matrix of `CROSSCHECK_CONFIG` (default: the
//! workspace's config.toml), and a finding panics with the signature the
//! daemon would record, unless a suppression rule of that file covers it.
//! `crosscheck import` takes the crashing input into the store as that same
//! finding.

#![no_main]

use libfuzzer_sys::fuzz_target;
use oracles::generate::generate_from_fuzz_input;

fuzz_target!(
    init: crosscheck_fuzz::init(),
    // On the daemon's case stack: libFuzzer's main thread has 8 MiB.
    |data: &[u8]| oracles::stack::on_case_stack(|| run(data))
);

fn run(data: &[u8]) {
    let (settings, matrix) = crosscheck_fuzz::setup();
    // Inputs wasm-smith cannot use are not cases (as in the daemon).
    let Ok(module) = generate_from_fuzz_input(data, &settings.generator) else {
        return;
    };
    let case = oracles::run_module_observed(module, &settings.execution, matrix, &mut |_| {})
        .expect("wasm-smith modules parse");
    let verdict = &case.report.comparison.verdict;
    let Some(signature) = verdict.signature() else {
        return;
    };
    let suspect = oracles::attribution::suspect(verdict);
    // A known bug (a rule of `[[triage.suppress]]`) is not worth stopping for.
    if settings
        .triage
        .rule_for(&signature, suspect.as_deref(), &case.module.wasm)
        .is_none()
    {
        panic!("crosscheck finding: {signature}\n{verdict}");
    }
}
