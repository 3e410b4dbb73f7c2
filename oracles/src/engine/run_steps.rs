//! Where an engine's run of a plan is, for a supervisor that limits the
//! time of each step: the plan driver (`engine::drive`) says when each call
//! begins, so that a worker can tell its supervisor, which then gives every
//! call a time limit of its own and names the call that hung. Engines run
//! on threads of their own (`wasmtime::on_native_stack`), so the observer
//! is process-wide: a worker process runs one case at a time.

use std::sync::{Arc, RwLock};
use std::time::Duration;

/// A call of the plan that begins now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallStep<'a> {
    /// Its place in the plan.
    pub index: usize,
    /// The export called.
    pub export: &'a str,
    /// For an engine without a budget: the longest any engine with a
    /// budget took to end this call (`Plan::budgeted_times`), the measure
    /// of how long the call may take.
    pub budgeted: Option<Duration>,
}

/// What is told of each call.
pub type Observer = Arc<dyn Fn(CallStep<'_>) + Send + Sync>;

static OBSERVER: RwLock<Option<Observer>> = RwLock::new(None);

/// Tells `observer` of every call any engine of this process begins from
/// now on (`None`: nobody).
pub fn observe(observer: Option<Observer>) {
    *OBSERVER.write().unwrap_or_else(|e| e.into_inner()) = observer;
}

/// A call begins.
pub(crate) fn note(step: CallStep<'_>) {
    let observer = OBSERVER.read().unwrap_or_else(|e| e.into_inner()).clone();
    if let Some(observer) = observer {
        observer(step);
    }
}
