//! The differential core of crosscheck, one folder per pipeline stage:
//!
//! | stage | folder | in | out |
//! |---|---|---|---|
//! | observe a compile | [`observe`] | a module, a Wasmtime configuration | every function's final CLIF, at two opt levels, counted |
//! | build a case | [`case`] | a seed, `[generator]` | a module, its exports, a call plan |
//! | run it | [`engine`] | module and plan, `[matrix]`, `[execution]` | each engine's observations |
//! | judge it | [`judge`] | every engine's run | a verdict, its signature, a suspect |
//! | measure its cost | [`cost`] | compiles and runs, `[cost]` | blowups, slow runs, distributions, exponents |
//! | triage a finding | [`triage`] | a finding's module, `[triage]` | flips, shape, suppression, a smaller module |
//! | put together | [`pipeline`] | a seed or module | a case's report and its findings |
//!
//! [`config`] is the schema of `config.toml`, parsed once.

#![warn(missing_docs)]

pub mod case;
pub mod config;
pub mod config_ranges;
pub mod cost;
pub mod engine;
pub mod judge;
pub mod observe;
pub mod pipeline;
pub mod profile;
pub mod temp;
pub mod triage;
pub mod versions;

pub use case::generate::{generate, GeneratedModule, GeneratorConfig};
pub use case::module_info::ModuleInfo;
pub use case::plan::Plan;
pub use case::value::Value;
pub use engine::matrix::{Matrix, Step};
pub use engine::outcome::{EngineRun, Execution, InconclusiveReason, Outcome, TrapKind};
pub use engine::{build_engine, Engine, ExecutionConfig};
pub use judge::case::CaseReport;
pub use judge::verdict::{Mismatch, Phase, Verdict};
pub use pipeline::findings::Finding;
pub use pipeline::run::{run_case, run_seed, CaseSource, Given, SeedReport};
