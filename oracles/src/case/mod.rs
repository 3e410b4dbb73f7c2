//! Building a case: a seed becomes a module (wasm-smith, with per-call
//! termination fuel), the module's exports and proposals are read, and the
//! seed draws the calls made on it.
//!
//! In: a 64-bit seed and `[generator]` (or a module from elsewhere: a
//! finding, a user's file). Out: the module's bytes, its [`ModuleInfo`]
//! and its [`Plan`], handed to `engine`.
//!
//! [`ModuleInfo`]: module_info::ModuleInfo
//! [`Plan`]: plan::Plan

pub mod edge_values;
pub mod generate;
pub mod imports;
pub mod instructions;
pub mod module_file;
pub mod module_info;
pub mod passes;
pub mod plan;
pub mod release_diff;
pub mod release_sources;
pub mod rules;
pub mod stack_program;
pub mod termination;
pub mod typed_flow;
pub mod value;
