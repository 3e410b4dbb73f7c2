//! The native stack a case runs on. Cranelift compiles on the calling
//! thread and Wasmtime runs wasm on it (up to `max_wasm_stack`, plus the
//! host frames of compiling deeply nested code), so cases need far more
//! than the 8 MiB main thread or the 2 MiB of a spawned one.

/// Native stack for threads that run cases.
pub const CASE_STACK_BYTES: usize = 64 << 20;

/// Runs `f` on a new thread with [`CASE_STACK_BYTES`] of stack and returns
/// its result; a panic in `f` continues on the calling thread.
pub fn on_case_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        let thread = std::thread::Builder::new()
            .name("case".into())
            .stack_size(CASE_STACK_BYTES)
            .spawn_scoped(scope, f)
            .expect("spawning a case thread");
        thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_recursion_fits_and_panics_come_back() {
        fn depth(n: u64) -> u64 {
            let pad = std::hint::black_box([0u8; 512]);
            if n == 0 {
                u64::from(pad[0])
            } else {
                depth(n - 1) + 1
            }
        }
        // About 40 MiB of frames: more than any default stack.
        assert_eq!(on_case_stack(|| depth(60_000)), 60_000);
        let panic = std::panic::catch_unwind(|| on_case_stack(|| panic!("inside"))).unwrap_err();
        assert_eq!(panic.downcast_ref::<&str>(), Some(&"inside"));
    }
}
