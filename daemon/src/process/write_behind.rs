//! What the supervisor writes to the store — hits and checkpoints — kept in
//! order while a fleet's PostgreSQL store is unreachable, and written when
//! it answers again, so that fuzzing goes on through a restarted or
//! unreachable server and nothing reported is lost. A checkpoint is queued
//! behind the hits of its range: until it is written, its seeds stay
//! pending in the store, and a daemon that dies with writes still queued
//! leaves them to be fuzzed again, not skipped.

use crate::store::{unix_now, Counters, Hit, Recorded, SeedRange, Store};
use anyhow::{bail, Result};
use oracles::Finding;
use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::{info, warn};

/// One write of the supervisor.
#[derive(Clone, Debug)]
pub enum Write {
    /// A hit of a case's finding.
    Hit {
        /// The finding.
        finding: Finding,
        /// The case's seed.
        seed: Option<u64>,
        /// The case's module, shared by the case's findings.
        wasm: Arc<[u8]>,
        /// Unix seconds of the hit.
        at: i64,
        /// Whether a rule of the config covers it (`store::is_suppressed`).
        suppressed: bool,
    },
    /// The finished prefix of a range, with its counters.
    Checkpoint {
        /// The range as the run holds it.
        range: SeedRange,
        /// The first seed not finished.
        done_until: u64,
        /// Counters of the finished seeds.
        counters: Counters,
    },
}

/// What a write did, once written.
#[derive(Clone, Debug)]
pub enum Written {
    /// The hit was recorded.
    Hit(Recorded),
    /// The checkpoint was committed; false if another daemon had taken the
    /// range over meanwhile.
    Checkpoint(bool),
}

/// The queue of writes the store could not take.
pub struct WriteBehind {
    run: i64,
    queue: VecDeque<Write>,
    /// When the store stopped answering, while it does not.
    outage: Option<Instant>,
    last_try: Instant,
    /// How long an outage is waited out before the daemon gives up.
    give_up_after: Duration,
    /// Wall time spent writing to the store, for the run's profile.
    spent: Cell<Duration>,
}

/// How often a lost store is tried again.
const RETRY_EVERY: Duration = Duration::from_secs(2);

impl WriteBehind {
    /// An empty queue for `run`, waiting out outages of up to
    /// `give_up_after`.
    pub fn new(run: i64, give_up_after: Duration) -> WriteBehind {
        WriteBehind {
            run,
            queue: VecDeque::new(),
            outage: None,
            last_try: Instant::now(),
            give_up_after,
            spent: Cell::new(Duration::ZERO),
        }
    }

    /// Wall time spent in the store's writes so far.
    pub fn time_writing(&self) -> Duration {
        self.spent.get()
    }

    /// Whether writes are queued (the store is unreachable).
    pub fn is_buffering(&self) -> bool {
        !self.queue.is_empty()
    }

    /// Writes now, and gives the write back with what it did; or, while
    /// the store is unreachable (or writes are queued before this one),
    /// queues it: `None` then.
    pub fn write(&mut self, store: &mut Store, write: Write) -> Result<Option<(Write, Written)>> {
        if self.is_buffering() {
            self.queue.push_back(write);
            return Ok(None);
        }
        match self.apply(store, &write) {
            Ok(written) => Ok(Some((write, written))),
            Err(err) if store.is_disconnected() => {
                self.unreachable(&err);
                self.last_try = Instant::now();
                self.queue.push_back(write);
                Ok(None)
            }
            Err(err) => Err(err),
        }
    }

    /// Tries the queued writes again (every few seconds), in order; what
    /// got written, for the supervisor to report. An outage longer than
    /// the limit is an error.
    pub fn flush(&mut self, store: &mut Store) -> Result<Vec<(Write, Written)>> {
        let mut done = Vec::new();
        if self.queue.is_empty() || self.last_try.elapsed() < RETRY_EVERY {
            return Ok(done);
        }
        self.last_try = Instant::now();
        while let Some(write) = self.queue.front() {
            match self.apply(store, write) {
                Ok(written) => {
                    let write = self.queue.pop_front().expect("a queued write");
                    done.push((write, written));
                }
                Err(err) if store.is_disconnected() => {
                    let since = self.outage.get_or_insert_with(Instant::now);
                    if since.elapsed() > self.give_up_after {
                        bail!(
                            "the store has been unreachable for {} s, past [store] reconnect_seconds ({} writes not written; their seeds stay pending and are fuzzed again): {err:#}",
                            since.elapsed().as_secs(),
                            self.queue.len()
                        );
                    }
                    return Ok(done);
                }
                Err(err) => return Err(err),
            }
        }
        self.reachable(done.len());
        Ok(done)
    }

    /// Notes that the store did not answer (said once per outage).
    pub fn unreachable(&mut self, err: &anyhow::Error) {
        if self.outage.is_none() {
            warn!(
                "the store is unreachable ({err:#}); fuzzing goes on, hits and checkpoints are kept here until it answers"
            );
            self.outage = Some(Instant::now());
        }
    }

    /// Notes that the store answered; the outage ends once nothing is
    /// kept any more (`written`: what the last flush wrote).
    pub fn reachable(&mut self, written: usize) {
        if !self.queue.is_empty() {
            return;
        }
        if let Some(since) = self.outage.take() {
            info!(
                writes = written,
                "the store answers again after {} s; the writes kept meanwhile are committed",
                since.elapsed().as_secs()
            );
        }
    }

    fn apply(&self, store: &mut Store, write: &Write) -> Result<Written> {
        let start = Instant::now();
        let written = self.apply_untimed(store, write);
        self.spent.set(self.spent.get() + start.elapsed());
        written
    }

    fn apply_untimed(&self, store: &mut Store, write: &Write) -> Result<Written> {
        match write {
            Write::Hit {
                finding,
                seed,
                wasm,
                at,
                suppressed,
            } => {
                let hit = Hit {
                    run: Some(self.run),
                    now: *at,
                    ..Hit::judged(finding, *seed, wasm, *suppressed)
                };
                store.record(&hit).map(Written::Hit)
            }
            Write::Checkpoint {
                range,
                done_until,
                counters,
            } => store
                .checkpoint(self.run, *range, *done_until, counters, unix_now())
                .map(Written::Checkpoint),
        }
    }
}
