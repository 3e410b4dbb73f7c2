//! Running cases in worker processes: the supervisor hands seed ranges to
//! workers and records what they report; a worker runs cases and tells
//! each step; a prober runs one module at a time for triage; whatever a
//! case does to its process (abort, segfault, endless loop, exhausted
//! memory) becomes a finding naming the engine that was running, and the
//! case goes on in a fresh worker without it.
//!
//! In: the [`Config`](crate::config::Config), seed ranges or modules.
//! Out: case results and findings, recorded in the store (the supervisor)
//! or returned (the prober).

pub mod continuation;
pub mod probe;
pub mod protocol;
pub mod stop_signals;
pub mod supervisor;
pub mod time_limits;
pub mod worker_handle;
pub mod worker_loop;
pub mod write_behind;
