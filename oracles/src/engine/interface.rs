//! The engine interface: what the matrix asks of every engine (compile,
//! instantiate, run a plan, observe) and the `[execution]` limits all
//! engines run under.

use crate::case::plan::Plan;
use crate::engine::clock::CompileCost;
use crate::engine::outcome::EngineRun;
use serde::{Deserialize, Serialize};
use wasmparser::WasmFeatures;

/// A WebAssembly engine the matrix can run a case on.
pub trait Engine: Send + Sync {
    /// The name used in the config and in every report.
    fn name(&self) -> &str;

    /// Human-readable settings, e.g. the Wasmtime flags, for reproduction.
    fn settings(&self) -> String;

    /// The proposals this engine accepts: a module that is invalid under
    /// these and rejected by the engine is an *expected* rejection.
    fn features(&self) -> WasmFeatures;

    /// Only compiles (or translates) the module; for benchmarks.
    fn compile(&self, wasm: &[u8]) -> Result<(), EngineError>;

    /// What this engine can do beyond compiling and running a case: the
    /// few callers that need one ask here, and every other engine has
    /// none.
    fn capabilities(&self) -> Capabilities<'_> {
        Capabilities::default()
    }

    /// Whether the engine links what a plan gives a module's imports
    /// (`case::imports`); one that cannot link them refuses the module, as
    /// expected.
    fn links_imports(&self, _imports: &[crate::case::imports::Linked]) -> bool {
        true
    }

    /// Compiles, instantiates and runs the plan on one fresh instance.
    fn execute(&self, wasm: &[u8], plan: &Plan) -> EngineRun {
        self.execute_observed(wasm, plan, &mut || {})
    }

    /// Like [`Engine::execute`], calling `compiled` when compiling is over
    /// and running begins: a watcher of a process that hangs or runs out of
    /// memory inside the engine can tell a compile blowup from a runaway
    /// run.
    fn execute_observed(&self, wasm: &[u8], plan: &Plan, compiled: &mut dyn FnMut()) -> EngineRun;
}

/// Why an engine did not do what it was asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EngineError {
    /// It refused the module (invalid under its proposals, or a compile
    /// error): its own message.
    Refused(String),
    /// It could not be built or reached: a configuration drawn for a case,
    /// another release's process that died.
    Unavailable(String),
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EngineError::Refused(message) => write!(f, "refused: {message}"),
            EngineError::Unavailable(message) => write!(f, "unavailable: {message}"),
        }
    }
}

impl std::error::Error for EngineError {}

/// The optional capabilities of one engine (`Engine::capabilities`).
#[derive(Clone, Copy, Default)]
pub struct Capabilities<'a> {
    /// It generates machine code and can hand it over
    /// (`engine::code_identity`): Wasmtime's compilers.
    pub machine_code: Option<&'a dyn GeneratesCode>,
    /// It measures its own compiles, which timing it here would get
    /// wrong (`cost::compile`): an engine in another process (the pipe
    /// would be timed too), or a release's C API library (whose heap this
    /// process's allocator does not see).
    pub measures_compiles: Option<&'a dyn MeasuresCompiles>,
    /// It stands for a configuration drawn per case (the swarm,
    /// `engine::swarm`), which the matrix runs in its place.
    pub draws: Option<&'a dyn DrawsPerCase>,
}

/// An engine that generates machine code.
pub trait GeneratesCode {
    /// The machine code the engine generates for `wasm` (its text section).
    fn machine_code(&self, wasm: &[u8]) -> Result<Vec<u8>, EngineError>;
}

/// An engine that measures its own compiles.
pub trait MeasuresCompiles {
    /// Its measurement of compiling `wasm`: time, and the peak heap where
    /// it can see it.
    fn measured_compile(&self, wasm: &[u8]) -> Result<CompileCost, EngineError>;
}

/// An engine that stands for a configuration drawn per case.
pub trait DrawsPerCase {
    /// The engine drawn for `plan`'s seed that accepts `wasm` and is none
    /// of `taken` (the engines the case also runs as themselves): `None`
    /// when no configuration qualifies (the engine then runs as itself),
    /// `Err` when the drawn one cannot be built.
    fn drawn_for(
        &self,
        wasm: &[u8],
        plan: &Plan,
        taken: &[&str],
    ) -> Option<Result<Box<dyn Engine>, EngineError>>;
}

/// The default of `[execution] epoch_deadline_ms`: how long one call (or
/// instantiation) of a variant without fuel may run before it is
/// interrupted: longer than the fuel variants' budget
/// (`[execution] fuel`, 50 million units) lasts in compiled code, while
/// generated modules end by their own termination fuel in milliseconds;
/// short enough that a few runaway calls of an imported module stay within
/// the daemon's case timeout.
pub const EPOCH_DEADLINE: std::time::Duration = std::time::Duration::from_secs(1);

/// Per-case execution limits shared by every engine (`[execution]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExecutionConfig {
    /// Backstop engine fuel per call; generated modules terminate through
    /// `ensure_termination` long before. Running out is inconclusive.
    pub fuel: u64,
    /// How long a step of a Wasmtime engine with an epoch deadline may run
    /// before it is interrupted, in milliseconds.
    pub epoch_deadline_ms: u64,
    /// Whether an engine without a budget runs a step only when at least
    /// half of the engines with a budget that got there ended it, instead
    /// of one: what triage's small budgets set (`Config::with_budgets`).
    pub majority_horizon: bool,
    /// Whether a supervisor kills this process when an engine runs on (the
    /// daemon's worker processes, which serve `run`, `check`, `import`,
    /// `case` and triage): only there is an engine without fuel or epochs
    /// built as it is named. Nothing could stop it inside a process that
    /// runs cases itself (`sweep`, the benchmarks, the fuzz targets, the
    /// library's tests), so there it gets an epoch deadline
    /// (`WasmtimeVariant::compiled_as`). Not a configuration key: each
    /// process says it.
    #[serde(skip)]
    pub supervised: bool,
    /// How many times each exported function is called.
    pub calls_per_export: usize,
    /// Largest linear memory an instance may have or grow to, in bytes.
    pub max_memory_bytes: usize,
    /// Largest table an instance may have or grow to, in elements.
    pub max_table_elements: usize,
    /// Wasmtime's `max_wasm_stack`, in bytes.
    pub max_wasm_stack: usize,
    /// wasmi's maximum call depth.
    pub wasmi_max_recursion_depth: usize,
    /// wasmi's maximum value stack height, in values (its frames' registers).
    pub wasmi_max_stack_values: usize,
    /// When some engines overflow their stack where others do not, the
    /// case runs again with every stack limit this many times larger; an
    /// engine still overflowing where the others complete is a finding.
    pub overflow_rerun_factor: usize,
    /// Give the Wasmtime variants with explicit bounds checks linear
    /// memories between canary zones (`engine::canary`), checked after
    /// every call: an access outside linear memory that does not fault is
    /// a `breach`.
    pub canaries: bool,
}

impl Default for ExecutionConfig {
    fn default() -> Self {
        ExecutionConfig {
            fuel: 50_000_000,
            epoch_deadline_ms: EPOCH_DEADLINE.as_millis() as u64,
            majority_horizon: false,
            supervised: false,
            calls_per_export: 2,
            max_memory_bytes: 64 << 20,
            max_table_elements: 100_000,
            max_wasm_stack: 512 << 10,
            wasmi_max_recursion_depth: 16384,
            wasmi_max_stack_values: 1_000_000,
            overflow_rerun_factor: 16,
            canaries: true,
        }
    }
}

impl ExecutionConfig {
    /// The fuel of one step of `plan`: `fuel`, divided as the plan says.
    pub fn step_fuel(&self, plan: &Plan) -> u64 {
        (self.fuel / plan.budget_divisor.max(1)).max(1)
    }

    /// The epoch deadline of one step of `plan`, in milliseconds:
    /// `epoch_deadline_ms`, divided as the plan says.
    pub fn step_epoch_deadline_ms(&self, plan: &Plan) -> u64 {
        (self.epoch_deadline_ms / plan.budget_divisor.max(1)).max(1)
    }

    /// The limits of the re-run after a partial stack overflow: every
    /// stack limit `overflow_rerun_factor` times larger.
    pub fn with_larger_stacks(&self) -> ExecutionConfig {
        let factor = self.overflow_rerun_factor.max(1);
        ExecutionConfig {
            max_wasm_stack: self.max_wasm_stack.saturating_mul(factor),
            wasmi_max_recursion_depth: self.wasmi_max_recursion_depth.saturating_mul(factor),
            wasmi_max_stack_values: self.wasmi_max_stack_values.saturating_mul(factor),
            ..self.clone()
        }
    }
}

/// The proposals the generator may use and every default engine supports:
/// Wasm 2.0 plus tail calls, extended-const, multi-memory, memory64, wide
/// arithmetic and custom page sizes.
pub fn comparable_features() -> WasmFeatures {
    WasmFeatures::WASM2
        | WasmFeatures::TAIL_CALL
        | WasmFeatures::EXTENDED_CONST
        | WasmFeatures::MULTI_MEMORY
        | WasmFeatures::MEMORY64
        | WasmFeatures::WIDE_ARITHMETIC
        | WasmFeatures::CUSTOM_PAGE_SIZES
}

/// The proposals only Wasmtime supports, fuzzed on its own sub-matrix
/// (`+proposals` variants): typed function references, GC, exceptions,
/// relaxed SIMD.
pub fn proposal_features() -> WasmFeatures {
    WasmFeatures::FUNCTION_REFERENCES
        | WasmFeatures::GC
        | WasmFeatures::GC_TYPES
        | WasmFeatures::EXCEPTIONS
        | WasmFeatures::RELAXED_SIMD
}
