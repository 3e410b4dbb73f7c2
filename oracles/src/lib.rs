//! The differential core of crosscheck: generate WebAssembly cases from seeds,
//! run them on the wasmi oracle and a matrix of Wasmtime configurations,
//! compare everything observable and classify the result.

#![warn(missing_docs)]

pub mod attribution;
pub mod case;
pub mod code_shape;
pub mod compare;
pub mod compile_cost;
pub mod cost_baseline;
pub mod engine;
pub mod flip;
pub mod generate;
pub mod growth;
pub mod instructions;
pub mod matrix;
pub mod module_info;
pub mod outcome;
pub mod panics;
pub mod plan;
pub mod run_cost;
pub mod scaling;
pub mod settings;
pub mod shapes;
pub mod shrink;
pub mod stack;
pub mod suppress;
pub mod termination;
pub mod value;
pub mod verdict;

/// Versions of the engines and the generator this build links (from Cargo.lock).
pub mod versions {
    /// Wasmtime.
    pub const WASMTIME: &str = env!("CROSSCHECK_WASMTIME_VERSION");
    /// wasmi.
    pub const WASMI: &str = env!("CROSSCHECK_WASMI_VERSION");
    /// wasm-smith.
    pub const WASM_SMITH: &str = env!("CROSSCHECK_WASM_SMITH_VERSION");
}

pub use case::{run_module_observed, run_seed, run_seed_observed, SeedReport};
pub use engine::{build_engine, Engine, ExecutionConfig};
pub use generate::{generate, GeneratedModule, GeneratorConfig};
pub use matrix::{CaseReport, Matrix, Step};
pub use module_info::ModuleInfo;
pub use outcome::{EngineRun, Execution, InconclusiveReason, Outcome, TrapKind};
pub use plan::Plan;
pub use value::Value;
pub use verdict::{Mismatch, Phase, Verdict};
