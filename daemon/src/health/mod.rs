//! Fuzz health: counting what every case did, the figures of a window of
//! the store (cases/s, verdicts, per-engine counts and cost distributions,
//! coverage, findings), and the release gate judging them.
//!
//! In: case results (`process`) and the store. Out: counters written with
//! each case, [`Health`](figures::Health) for `status`, the dashboard and
//! `/metrics`, and the gate's verdict.

pub mod counter;
pub mod distribution;
pub mod exercised;
pub mod figures;
pub mod gate;
pub mod policy;
pub mod rule_coverage;
pub mod stats;
