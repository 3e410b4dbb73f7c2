//! Coverage-guided differential fuzzing: the input's bytes are wasm-smith's
//! entropy, the case runs on the matrix of `CROSSCHECK_CONFIG` (default: the
//! workspace's config.toml), and the case's findings (`oracles::pipeline::
//! findings`, as the daemon's workers take them) stop the fuzzer with the
//! signature the daemon would record, unless a suppression rule of that
//! file covers them. `crosscheck import` takes the crashing input into the
//! store as that same finding.

#![no_main]

use libfuzzer_sys::fuzz_target;
use oracles::case::generate::generate_from_fuzz_input;
use oracles::cost::heap::Heap;
use oracles::pipeline::findings::{self, CostEvidence};

oracles::install_instrumented_heap!();

fuzz_target!(
    init: crosscheck_fuzz::init(),
    // On the daemon's case stack: libFuzzer's main thread has 8 MiB.
    |data: &[u8]| oracles::pipeline::stack::on_case_stack(|| run(data))
);

fn run(data: &[u8]) {
    let (settings, matrix) = crosscheck_fuzz::setup();
    // Inputs wasm-smith cannot use are not cases (as in the daemon).
    let Ok(module) = generate_from_fuzz_input(data, &settings.generator) else {
        return;
    };
    let case = oracles::run_case(
        oracles::CaseSource::Module(module),
        &oracles::Given::default(),
        &settings.execution,
        matrix,
        &mut |_| {},
    )
    .expect("wasm-smith modules parse");
    let instructions = oracles::case::instructions::count(&case.module.wasm);
    let evidence = CostEvidence {
        limits: settings.cost.clone(),
        heap: Some(&Heap),
        case_peak_heap: None,
        compiles: findings::compiles_of(&case, &Default::default()),
        instructions,
        baseline: None,
    };
    let found = findings::of_case_rerunning_suspects(&case, matrix, &evidence, None);
    crosscheck_fuzz::stop_on_new(&found, &case.module.wasm);
}
