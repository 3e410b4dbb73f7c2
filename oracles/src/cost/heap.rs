//! Heap measurement: the peak allocation of one compile, read from an
//! instrumented global allocator (peakmem-alloc: two atomic updates per
//! allocation). A binary that wants compile heaps measured installs it with
//! [`install_instrumented_heap!`](crate::install_instrumented_heap); the
//! measuring code takes a [`PeakHeap`], so a program without it passes
//! `None` and measures time only.

use peakmem_alloc::PeakMemAllocTrait;

#[doc(hidden)]
pub use peakmem_alloc::{PeakMemAlloc, INSTRUMENTED_SYSTEM};

/// A program's view of its heap.
pub trait PeakHeap {
    /// Starts a new peak from the current allocation.
    fn reset_peak(&self);
    /// Bytes allocated at the peak since the reset, above the level then.
    fn peak_bytes(&self) -> u64;
}

/// The instrumented system allocator. Its figures are real only in a binary
/// that installed it as its global allocator
/// ([`install_instrumented_heap!`](crate::install_instrumented_heap)).
/// Other threads allocating during a measurement count too: measure with
/// nothing else running.
pub struct Heap;

impl PeakHeap for Heap {
    fn reset_peak(&self) {
        INSTRUMENTED_SYSTEM.reset_peak_memory();
    }

    fn peak_bytes(&self) -> u64 {
        INSTRUMENTED_SYSTEM.get_peak_memory() as u64
    }
}

/// Makes the instrumented system allocator the binary's global allocator,
/// so that [`Heap`] reads real figures. Use once, in the binary's root.
#[macro_export]
macro_rules! install_instrumented_heap {
    () => {
        #[global_allocator]
        static CROSSCHECK_INSTRUMENTED_HEAP: &$crate::cost::heap::PeakMemAlloc<
            ::std::alloc::System,
        > = &$crate::cost::heap::INSTRUMENTED_SYSTEM;
    };
}
