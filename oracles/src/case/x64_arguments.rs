//! Where Cranelift's x86-64 calling conventions put a function's
//! arguments: six integer registers, two of them taken by the VM context,
//! and eight vector registers for floats and vectors. Arguments beyond
//! them go on the stack, where a tail call must rewrite the caller's frame.

/// Whether a function with `integers` integer or reference parameters and
/// `vectors` float or vector parameters gets some of them on the stack.
pub fn some_on_stack(integers: usize, vectors: usize) -> bool {
    integers > 4 || vectors > 8
}
