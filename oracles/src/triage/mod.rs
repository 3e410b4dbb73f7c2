//! Triage of a finding: configuration flips (which single setting makes it
//! go away), the code shape of its shrunk module, suppression of known
//! bugs, shrinking while the finding holds, reducing further to a minimal
//! module, and the trigger fingerprint that groups findings of one bug.
//!
//! In: a finding's module and verdict. Out: flips, a shape, a matching
//! suppression rule, a smaller and a minimal module, a fingerprint.

pub mod code_shape;
pub mod config;
pub mod flip;
pub mod reduce;
pub mod shrink;
pub mod suppress;
pub mod trigger;
pub mod wat_lines;
