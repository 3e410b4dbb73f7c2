//! Triage of recorded findings: re-running to tell deterministic from
//! flaky, shrinking in a worker process, merging findings with the same
//! code shape and suspect, reproduction bundles, and scaling checks, all
//! in one niced background process while the daemon fuzzes (or on demand
//! from `shrink`, `import`, `bundle`).
//!
//! In: findings in the store. Out: shrunk modules, merges, bundles and
//! scaling checks, written back to the store.

pub mod background;
pub mod bundle;
pub mod command_line;
pub mod inert;
pub mod one_finding;
pub mod scaling_checks;
