//! Deliberately wrong engines, for proving that detection, attribution,
//! deduplication and shrinking work: wasmi and Cranelift variants with an
//! injected fault (`+fault-<x>`: an instruction computed wrongly, a rule
//! or pass applied where it must not be), engines that crash, hang, abort
//! or exhaust memory on purpose, and Wasmtime variants that write past
//! their linear memory (canary tests). Never in the defaults.
//!
//! In: a module's bytes (rewritten before the engine it wraps compiles
//! them) and the engine a fault wraps. Out: engines behind the same
//! [`Engine`](crate::engine::Engine) trait as the real ones, built by name
//! through `engine::registry`.

mod body_rewrite;
pub mod faulty;
pub mod memory_sabotage;
mod pass_faults;
mod rule_faults;
pub mod sabotage;
