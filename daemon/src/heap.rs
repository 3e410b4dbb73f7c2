//! The process's heap as the compile-cost measurements see it: the global
//! allocator is wrapped so that the peak allocation of one compile can be
//! read (peakmem-alloc: two atomic updates per allocation).

use oracles::compile_cost::PeakHeap;
use peakmem_alloc::{PeakMemAlloc, PeakMemAllocTrait, INSTRUMENTED_SYSTEM};
use std::alloc::System;

#[global_allocator]
static ALLOCATOR: &PeakMemAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The instrumented global allocator. Other threads allocating during a
/// measurement count too: measure with nothing else running.
pub struct Heap;

impl PeakHeap for Heap {
    fn reset_peak(&self) {
        ALLOCATOR.reset_peak_memory();
    }

    fn peak_bytes(&self) -> u64 {
        ALLOCATOR.get_peak_memory() as u64
    }
}
