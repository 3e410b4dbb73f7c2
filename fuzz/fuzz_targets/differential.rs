//! Coverage-guided differential fuzzing: the input's bytes are wasm-smith's
//! entropy, the case runs on the matrix of `CROSSCHECK_CONFIG` (default: the
//! workspace's config.toml), and a finding panics with the signature the
//! daemon would record, unless a suppression rule of that file covers it.
//! `crosscheck import` takes the crashing input into the store as that same
//! finding.

#![no_main]

use libfuzzer_sys::fuzz_target;
use oracles::generate::generate_from_fuzz_input;
use oracles::settings::CaseSettings;
use oracles::Matrix;
use std::sync::LazyLock;

static SETUP: LazyLock<(CaseSettings, Matrix)> = LazyLock::new(|| {
    let settings = CaseSettings::from_environment().unwrap_or_else(|e| panic!("{e:#}"));
    let matrix = settings.matrix().unwrap_or_else(|e| panic!("{e:#}"));
    (settings, matrix)
});

fuzz_target!(
    init: {
        // libfuzzer-sys aborts on every panic, even one the matrix catches
        // and reports as a crash verdict of its engine; oracles' hook keeps
        // those quiet (known engine panics can then be suppressed) and
        // passes every other panic on to libfuzzer's abort.
        oracles::panics::install_hook();
        LazyLock::force(&SETUP);
    },
    // On the daemon's case stack: libFuzzer's main thread has 8 MiB.
    |data: &[u8]| oracles::stack::on_case_stack(|| run(data))
);

fn run(data: &[u8]) {
    let (settings, matrix) = &*SETUP;
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
