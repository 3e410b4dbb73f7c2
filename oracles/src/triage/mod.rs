//! Triage of a finding: configuration flips (which single setting makes it
//! go away), the code shape of its shrunk module, suppression of known
//! bugs, and shrinking while the finding holds.
//!
//! In: a finding's module and verdict. Out: flips, a shape, a matching
//! suppression rule, a smaller module.

pub mod code_shape;
pub mod config;
pub mod flip;
pub mod reduce;
pub mod shrink;
pub mod suppress;
pub mod trigger;
pub mod wat_lines;
