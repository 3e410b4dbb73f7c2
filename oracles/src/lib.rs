//! The differential core of crosscheck: generate WebAssembly cases from seeds,
//! run them on the wasmi oracle and a matrix of Wasmtime configurations,
//! compare everything observable and classify the result.

#![warn(missing_docs)]

pub mod attribution;
pub mod case;
pub mod compare;
pub mod engine;
pub mod generate;
pub mod matrix;
pub mod module_info;
pub mod outcome;
pub mod panics;
pub mod plan;
pub mod shrink;
pub mod termination;
pub mod value;
pub mod verdict;

pub use case::{run_module_observed, run_seed, run_seed_observed, SeedReport};
pub use engine::{build_engine, Engine, ExecutionConfig};
pub use generate::{generate, GeneratedModule, GeneratorConfig};
pub use matrix::{CaseReport, Matrix};
pub use module_info::ModuleInfo;
pub use outcome::{EngineRun, Execution, InconclusiveReason, Outcome, TrapKind};
pub use plan::Plan;
pub use value::Value;
pub use verdict::{Mismatch, Phase, Verdict};
