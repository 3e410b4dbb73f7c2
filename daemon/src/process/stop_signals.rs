//! SIGINT and SIGTERM for the daemon. The first asks it to stop: it
//! finishes its workers' cases and records the run as stopped. A second
//! ends the process at once, as a shell expects of a program killed by a
//! signal (exit status 128 + the signal: 130, 143), after recording the
//! run as `killed`, so that neither the exit status nor the store says
//! something else happened.

use crate::config::StoreConfig;
use crate::store::Store;
use anyhow::{Context, Result};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;

/// How long the second signal waits for an unreachable PostgreSQL store
/// before it exits without recording the run.
const MARK_KILLED_WITHIN_SECS: u64 = 2;

/// The stop flag the supervisor watches, and the run a second signal
/// records as killed.
#[derive(Clone)]
pub struct StopSignals {
    stop: Arc<AtomicBool>,
    /// The run under way, once it has begun; 0 before.
    run: Arc<AtomicI64>,
}

impl StopSignals {
    /// Listens for SIGINT and SIGTERM in a thread of its own.
    pub fn install(store: &StoreConfig) -> Result<StopSignals> {
        let signals = StopSignals::inert();
        let mut incoming = Signals::new([SIGINT, SIGTERM]).context("installing signal handlers")?;
        let (stop, run) = (signals.stop.clone(), signals.run.clone());
        let mut store = store.clone();
        store.reconnect_seconds = MARK_KILLED_WITHIN_SECS;
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                for signal in incoming.forever() {
                    if !stop.swap(true, Ordering::SeqCst) {
                        tracing::info!(
                            "signal {signal}: stopping (a second one ends the daemon at once)"
                        );
                        continue;
                    }
                    mark_killed(&store, run.load(Ordering::SeqCst));
                    std::process::exit(128 + signal);
                }
            })
            .context("starting the signal thread")?;
        Ok(signals)
    }

    /// A stop flag no signal raises (benchmarks run the supervisor so).
    pub fn inert() -> StopSignals {
        StopSignals {
            stop: Arc::new(AtomicBool::new(false)),
            run: Arc::new(AtomicI64::new(0)),
        }
    }

    /// The flag the supervisor stops on.
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    /// Tells which run a second signal records as killed.
    pub fn running(&self, run: i64) {
        self.run.store(run, Ordering::SeqCst);
    }
}

/// Records `run` as killed (no run: nothing to record); a store that
/// cannot be written is said on stderr, and the process ends anyway.
fn mark_killed(store: &StoreConfig, run: i64) {
    if run == 0 {
        return;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let marked = Store::open(store).and_then(|mut store| store.end_run(run, "killed", now));
    if let Err(err) = marked {
        eprintln!("crosscheck: run {run} not recorded as killed: {err:#}");
    }
}
