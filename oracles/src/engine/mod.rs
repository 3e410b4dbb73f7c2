//! Engines behind one trait: the wasmi oracle, Wasmtime variants (of the
//! linked release, or of another release in a child process:
//! [`other_release`]), and deliberately faulty variants for testing the
//! harness itself.
//!
//! In: a module's bytes and its call plan (`case`). Out: each engine's
//! [`EngineRun`](outcome::EngineRun) (its outcomes, a [`Death`](death::Death)
//! when it took its process down, times on [`clock`]), and through the
//! [`matrix`] every engine's run of a case, handed to `judge`.

pub mod c_api;
pub mod canary;
pub mod clock;
pub mod code_identity;
pub mod death;
mod drive;
pub mod family;
pub mod faults;
pub mod id;
mod interface;
pub mod matrix;
pub mod other_release;
pub mod outcome;
pub mod panics;
mod registry;
pub mod run_steps;
pub mod swarm;
pub mod tuning;
mod wasmi;
mod wasmi_imports;
mod wasmtime;
mod wasmtime_imports;

pub use self::faults::faulty::{Fault, FaultyEngine, RuleFault};
pub use self::faults::sabotage::{Sabotage, SabotagedEngine};
pub use self::id::{has_explicit_checks, runs_unbudgeted};
pub use self::interface::{
    comparable_features, proposal_features, Capabilities, DrawsPerCase, Engine, EngineError,
    ExecutionConfig, GeneratesCode, MeasuresCompiles, EPOCH_DEADLINE,
};
pub use self::registry::{build_engine, known_engine_names};
pub use self::wasmi::{WasmiEngine, WASMI_LAZY};
pub use self::wasmtime::{
    clif_of_variant, Backend, Budget, WasmtimeEngine, WasmtimeVariant, EMBEDDER_DEFAULT, EPOCH_TICK,
};
