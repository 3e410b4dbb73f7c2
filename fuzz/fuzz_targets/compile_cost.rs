//! Coverage-guided search for compile-time and compile-memory blowups: the
//! input's bytes are wasm-smith's entropy, every engine of the matrix of
//! `CROSSCHECK_CONFIG` compiles the module, and a compile over the `[cost]`
//! limits (re-measured first) stops the fuzzer with the finding the daemon
//! would record for it (`oracles::pipeline::findings`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use oracles::case::generate::generate_from_fuzz_input;
use oracles::cost::heap::Heap;
use oracles::pipeline::findings::blowup_findings;

oracles::install_instrumented_heap!();

fuzz_target!(
    init: crosscheck_fuzz::init(),
    // On the daemon's case stack: libFuzzer's main thread has 8 MiB.
    |data: &[u8]| oracles::pipeline::stack::on_case_stack(|| run(data))
);

fn run(data: &[u8]) {
    let (settings, matrix) = crosscheck_fuzz::setup();
    let Ok(module) = generate_from_fuzz_input(data, &settings.generator) else {
        return;
    };
    let found = blowup_findings(matrix, &module.wasm, &settings.cost, Some(&Heap));
    crosscheck_fuzz::stop_on_new(&found, &module.wasm);
}
