//! Deliberately destructive engines: wasmi that, on modules containing one
//! trigger instruction, takes its whole process down the way a JIT bug can:
//! a segmentation fault, an abort, an endless loop or unbounded allocation.
//! They exist to prove that the daemon's process isolation turns each into a
//! finding and keeps fuzzing. Run them only under `crosscheck run`: in-process
//! commands (`sweep`, `case`) die or hang with them, which is the point.

use crate::case::plan::Plan;
use crate::engine::interface::{Engine, EngineError, ExecutionConfig};
use crate::engine::outcome::EngineRun;
use crate::engine::wasmi::WasmiEngine;
use anyhow::Result;
use std::time::{Duration, Instant};
use wasmparser::{Operator, Parser, Payload, WasmFeatures};

/// How a sabotaged engine fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sabotage {
    /// Writes to an inaccessible page while "running compiled code": SIGSEGV.
    Segfault,
    /// Aborts while "compiling", like a failed assertion in a C++ JIT.
    Abort,
    /// Loops forever while "running compiled code", like a miscompiled
    /// loop exit.
    Hang,
    /// Allocates and touches memory without bound while "compiling": a
    /// compile-memory blowup the case's memory limit stops.
    Oom,
    /// "Compiles" in time and memory quadratic in the module's instruction
    /// count, like a register allocator splitting one live range at every
    /// use (../shared/seeds/003): for testing blowup detection and scaling.
    Quadratic,
    /// "Compiles" modules with the trigger 20 µs per instruction slower,
    /// about a hundred times wasmi's own translation: a compiler that is
    /// ordinary on most code and far off its usual cost per instruction on
    /// one kind, for testing blowups relative to a variant's own
    /// distribution.
    Spike,
    /// Runs every module with the trigger 50 ms slower, like a calling
    /// convention that costs call-heavy code (../shared/seeds/002): for
    /// testing `perf` detection.
    Slow,
    /// Panics after compiling, while running the module, like a bug in an
    /// engine's runtime (not its compiler): for testing that such a panic
    /// is reported as one.
    RuntimePanic,
}

impl Sabotage {
    /// Every sabotage, for the engine registry.
    pub const ALL: [Sabotage; 8] = [
        Sabotage::Segfault,
        Sabotage::Abort,
        Sabotage::Hang,
        Sabotage::Oom,
        Sabotage::Quadratic,
        Sabotage::Spike,
        Sabotage::Slow,
        Sabotage::RuntimePanic,
    ];

    /// The instruction whose presence in a function body triggers it. Each
    /// is in roughly one generated module in ten to twenty, so the daemon
    /// both trips over it and keeps running other cases, and a matrix with
    /// all four sabotages sees each of them.
    pub fn trigger(self) -> &'static str {
        match self {
            Sabotage::Segfault => "f32.mul",
            Sabotage::Abort => "f64.mul",
            Sabotage::Hang => "f32.add",
            Sabotage::Oom => "f64.div",
            Sabotage::Quadratic => "select",
            Sabotage::Spike => "f32.copysign",
            Sabotage::Slow => "call",
            Sabotage::RuntimePanic => "f64.sub",
        }
    }

    fn triggered_by(self, op: &Operator<'_>) -> bool {
        matches!(
            (self, op),
            (Sabotage::Segfault, Operator::F32Mul)
                | (Sabotage::Abort, Operator::F64Mul)
                | (Sabotage::Hang, Operator::F32Add)
                | (Sabotage::Oom, Operator::F64Div)
                | (Sabotage::Quadratic, Operator::Select)
                | (Sabotage::Spike, Operator::F32Copysign)
                | (Sabotage::Slow, Operator::Call { .. })
                | (Sabotage::RuntimePanic, Operator::F64Sub)
        )
    }

    /// The engine name selecting this sabotage in the config.
    pub fn engine_name(self) -> String {
        let suffix = match self {
            Sabotage::Segfault => "segv",
            Sabotage::Abort => "abort",
            Sabotage::Hang => "hang",
            Sabotage::Oom => "oom",
            Sabotage::Quadratic => "quadratic",
            Sabotage::Spike => "spike",
            Sabotage::Slow => "slow",
            Sabotage::RuntimePanic => "runtime-panic",
        };
        format!("wasmi-fault-{suffix}")
    }

    /// What it does, for reports.
    pub fn describe(self) -> String {
        let what = match self {
            Sabotage::Segfault => "segmentation fault when running",
            Sabotage::Abort => "abort when compiling",
            Sabotage::Hang => "endless loop when running",
            Sabotage::Oom => "unbounded allocation when compiling",
            Sabotage::Quadratic => "compile time and memory quadratic in the instruction count of",
            Sabotage::Spike => "20 us more compile time per instruction of",
            Sabotage::Slow => "50 ms more run time for",
            Sabotage::RuntimePanic => "a panic after compiling, when running",
        };
        format!("{what} a module with {}", self.trigger())
    }

    /// Whether any function body of `wasm` contains the trigger instruction.
    pub fn triggers(self, wasm: &[u8]) -> bool {
        Parser::new(0).parse_all(wasm).any(|payload| {
            let Ok(Payload::CodeSectionEntry(body)) = payload else {
                return false;
            };
            let Ok(ops) = body.get_operators_reader() else {
                return false;
            };
            ops.into_iter()
                .any(|op| op.is_ok_and(|op| self.triggered_by(&op)))
        })
    }
}

/// wasmi with a [`Sabotage`] waiting for its trigger.
pub struct SabotagedEngine {
    sabotage: Sabotage,
    inner: WasmiEngine,
}

impl SabotagedEngine {
    /// Creates the engine.
    pub fn new(sabotage: Sabotage, limits: &ExecutionConfig) -> Result<Self> {
        Ok(SabotagedEngine {
            sabotage,
            inner: WasmiEngine::named(&sabotage.engine_name(), limits)?,
        })
    }

    fn compile_phase(&self, wasm: &[u8]) {
        if !self.sabotage.triggers(wasm) {
            return;
        }
        match self.sabotage {
            Sabotage::Abort => std::process::abort(),
            Sabotage::Oom => allocate_forever(),
            Sabotage::Quadratic => quadratic_work(instruction_count(wasm)),
            Sabotage::Spike => spin(Duration::from_micros(20 * instruction_count(wasm))),
            Sabotage::Segfault | Sabotage::Hang | Sabotage::Slow | Sabotage::RuntimePanic => {}
        }
    }

    fn run_phase(&self, wasm: &[u8]) {
        // Only the run-phase sabotages parse the module again here.
        match self.sabotage {
            Sabotage::Segfault if self.sabotage.triggers(wasm) => segfault(),
            Sabotage::Slow if self.sabotage.triggers(wasm) => spin(Duration::from_millis(50)),
            Sabotage::Hang if self.sabotage.triggers(wasm) => loop_forever(),
            Sabotage::RuntimePanic if self.sabotage.triggers(wasm) => {
                panic!("injected panic in the runtime")
            }
            _ => {}
        }
    }
}

/// The instructions in all function bodies.
fn instruction_count(wasm: &[u8]) -> u64 {
    Parser::new(0)
        .parse_all(wasm)
        .filter_map(|payload| match payload {
            Ok(Payload::CodeSectionEntry(body)) => body.get_operators_reader().ok(),
            _ => None,
        })
        .map(|ops| ops.into_iter().count() as u64)
        .sum()
}

/// Busy for `time` (not asleep: the time is the engine's, as a slow JIT's).
fn spin(time: Duration) {
    let start = Instant::now();
    while start.elapsed() < time {
        std::hint::spin_loop();
    }
}

/// Spins until something stops the process.
fn loop_forever() -> ! {
    let mut spins = 0u64;
    loop {
        spins = std::hint::black_box(spins.wrapping_add(1));
    }
}

/// n² steps and n²/16 bytes of touched heap, held until the steps are done.
fn quadratic_work(n: u64) {
    let bytes = vec![0x5Au8; (n * n / 16) as usize];
    let mut acc = 0u64;
    for i in 0..n * n {
        acc = std::hint::black_box(acc.wrapping_add(i));
    }
    std::hint::black_box((&bytes, acc));
}

/// Grows the heap by touched 64 MiB chunks until something stops the process.
fn allocate_forever() -> ! {
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    loop {
        chunks.push(vec![0xA5; 64 << 20]);
        std::hint::black_box(&chunks);
    }
}

/// A real segmentation fault: a store to a page mapped without access, as
/// JIT code with a bad address would do. (Raising the signal instead would
/// not do: Wasmtime's handler returns from signals it does not own.)
fn segfault() -> ! {
    // SAFETY: maps one fresh anonymous page with no access rights; the store
    // into it faults, and the process dies of SIGSEGV as intended.
    unsafe {
        let page = libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        assert_ne!(page, libc::MAP_FAILED, "mmap of a guard page failed");
        std::ptr::write_volatile(page.cast::<u8>(), 1);
    }
    unreachable!("a store to a PROT_NONE page returned")
}

impl Engine for SabotagedEngine {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn settings(&self) -> String {
        format!(
            "{} with injected process failure: {}",
            self.inner.settings(),
            self.sabotage.describe()
        )
    }

    fn features(&self) -> WasmFeatures {
        self.inner.features()
    }

    fn compile(&self, wasm: &[u8]) -> Result<(), EngineError> {
        self.compile_phase(wasm);
        self.inner.compile(wasm)
    }

    fn execute_observed(&self, wasm: &[u8], plan: &Plan, compiled: &mut dyn FnMut()) -> EngineRun {
        let start = Instant::now();
        self.compile_phase(wasm);
        let compile_sabotage = start.elapsed();
        let mut sabotage_time = Duration::ZERO;
        let mut run = self.inner.execute_observed(wasm, plan, &mut || {
            compiled();
            let start = Instant::now();
            self.run_phase(wasm);
            sabotage_time = start.elapsed();
        });
        // The injected costs are the engine's own.
        if let EngineRun::Ran(execution) = &mut run {
            execution.compile_time += compile_sabotage;
            execution.compile_cpu = execution.compile_cpu.map(|cpu| cpu + compile_sabotage);
            execution.run_time += sabotage_time;
            // The spin is busy: CPU time too.
            execution.run_cpu = execution.run_cpu.map(|cpu| cpu + sabotage_time);
        }
        run
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_triggers_only_on_its_instruction_in_code() {
        let with = wat::parse_str(
            r#"(module (func (param f32) (result f32) local.get 0 local.get 0 f32.mul))"#,
        )
        .unwrap();
        let without = wat::parse_str(
            r#"(module (func (param f32) (result f32) local.get 0 local.get 0 f32.add)
                       (data "\94\94"))"#,
        )
        .unwrap();
        assert!(Sabotage::Segfault.triggers(&with));
        assert!(!Sabotage::Abort.triggers(&with));
        assert!(!Sabotage::Segfault.triggers(&without));
        assert!(Sabotage::Hang.triggers(&without));
    }
}
