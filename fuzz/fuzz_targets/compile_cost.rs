//! Coverage-guided search for compile-time and compile-memory blowups: the
//! input's bytes are wasm-smith's entropy, every engine of the matrix of
//! `CROSSCHECK_CONFIG` compiles the module, and a compile over the `[cost]`
//! limits (re-measured first) panics with its signature.

#![no_main]

use libfuzzer_sys::fuzz_target;
use oracles::compile_cost::{find_blowup, PeakHeap};
use oracles::generate::generate_from_fuzz_input;
use peakmem_alloc::{PeakMemAlloc, PeakMemAllocTrait, INSTRUMENTED_SYSTEM};
use std::alloc::System;

#[global_allocator]
static HEAP: &PeakMemAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The instrumented allocator as the library's view of the heap.
struct Allocations;

impl PeakHeap for Allocations {
    fn reset_peak(&self) {
        HEAP.reset_peak_memory();
    }

    fn peak_bytes(&self) -> u64 {
        HEAP.get_peak_memory() as u64
    }
}

fuzz_target!(
    init: crosscheck_fuzz::init(),
    // On the daemon's case stack: libFuzzer's main thread has 8 MiB.
    |data: &[u8]| oracles::stack::on_case_stack(|| run(data))
);

fn run(data: &[u8]) {
    let (settings, matrix) = crosscheck_fuzz::setup();
    let Ok(module) = generate_from_fuzz_input(data, &settings.generator) else {
        return;
    };
    if let Some(blowup) = find_blowup(matrix, &module.wasm, &settings.cost, Some(&Allocations)) {
        panic!(
            "crosscheck finding: {}\n{}",
            blowup.signature, blowup.detail
        );
    }
}
