//! Daemon progress: runs, per-engine counters, and the seed cursor with the
//! ranges handed out but not finished, so a restart resumes exactly.

use super::database::{seed_from_sql, seed_to_sql, Store};
use super::sql::{params, Row, Value};
use anyhow::{Context, Result};
use std::collections::BTreeMap;

/// Counter values keyed by `(engine, counter)`; engine `*` holds the
/// per-case totals (`cases`, `verdict:<label>`).
pub type Counters = BTreeMap<(String, String), u64>;

/// Seeds `start..end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeedRange {
    /// First seed.
    pub start: u64,
    /// One past the last seed.
    pub end: u64,
}

/// One daemon run.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    /// Row id.
    pub id: i64,
    /// Unix seconds.
    pub started_at: i64,
    /// Unix seconds of the latest checkpoint.
    pub updated_at: i64,
    /// Unix seconds; `None` while running (or if the daemon was killed and
    /// no daemon has started since).
    pub ended_at: Option<i64>,
    /// Why it stopped: `signal`, `duration`, `cases`, `killed`, `error`.
    pub stop_reason: Option<String>,
    /// Worker processes.
    pub workers: i64,
    /// The matrix, oracle first, comma-separated.
    pub engines: String,
    /// The crosscheck version.
    pub version: String,
    /// Cases finished.
    pub cases: i64,
    /// Findings first seen in this run.
    pub new_findings: i64,
    /// The host the daemon ran on (`[daemon] host`, else the machine's
    /// name); none in runs of stores older than fleets.
    pub host: Option<String>,
}

/// A pending seed range and who holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    /// The seeds.
    pub range: SeedRange,
    /// The run working on them, if one is.
    pub run: Option<i64>,
    /// Until when (Unix seconds); after that any daemon may take them.
    pub until: Option<i64>,
}

/// Counters written by one statement of a checkpoint (3 parameters each,
/// well under SQLite's and PostgreSQL's limits).
const COUNTERS_PER_STATEMENT: usize = 500;

/// The key under which the next never-handed-out seed is kept.
const NEXT_SEED: &str = "next_seed";

impl Store {
    /// Starts a run of a daemon on `host`. Runs left without an end by a
    /// killed daemon are closed as `killed` at their last checkpoint: on
    /// SQLite every such run (the daemon lock says none is alive); on a
    /// fleet's store, this host's, and any other host's that has not
    /// reported since `stale_before`.
    pub fn begin_run(
        &mut self,
        workers: usize,
        engines: &str,
        host: &str,
        now: i64,
        stale_before: i64,
    ) -> Result<i64> {
        let only_one_daemon = !self.is_shared();
        self.db
            .transaction(|tx| {
                tx.execute(
                    "UPDATE runs SET ended_at = updated_at, stop_reason = 'killed'
                     WHERE ended_at IS NULL AND (?1 = 1 OR host IS NULL OR host = ?2 OR updated_at < ?3)",
                    params![only_one_daemon, host, stale_before],
                )?;
                tx.value(
                    "INSERT INTO runs (started_at, updated_at, workers, engines, version, host)
                     VALUES (?1, ?1, ?2, ?3, ?4, ?5) RETURNING id",
                    params![now, workers as i64, engines, env!("CARGO_PKG_VERSION"), host],
                )
            })
            .context("starting a run")
    }

    /// Ends a run, and frees the seeds it still held for any daemon to take
    /// at once (not when their lease runs out).
    pub fn end_run(&mut self, run: i64, reason: &str, now: i64) -> Result<()> {
        self.db
            .transaction(|tx| {
                tx.execute(
                    "UPDATE runs SET ended_at = ?2, updated_at = ?2, stop_reason = ?3 WHERE id = ?1",
                    params![run, now, reason],
                )?;
                tx.execute(
                    "UPDATE pending SET lease_until = NULL WHERE run = ?1",
                    params![run],
                )
            })
            .context("ending a run")?;
        Ok(())
    }

    /// Ranges handed out and not finished, lowest first.
    pub fn pending_ranges(&self) -> Result<Vec<SeedRange>> {
        Ok(self.leases()?.into_iter().map(|l| l.range).collect())
    }

    /// Every pending range with its holder, lowest first.
    pub fn leases(&self) -> Result<Vec<Lease>> {
        self.db
            .rows(
                "SELECT start, \"end\", run, lease_until FROM pending ORDER BY start",
                &[],
            )?
            .iter()
            .map(|row| {
                Ok(Lease {
                    range: range_of(row)?,
                    run: row.get(2)?,
                    until: row.get(3)?,
                })
            })
            .collect::<Result<Vec<_>>>()
            .context("reading pending seed ranges")
    }

    /// The next seed never handed out, if any was.
    pub fn next_seed(&self) -> Result<Option<u64>> {
        self.db
            .row("SELECT value FROM state WHERE key = ?1", params![NEXT_SEED])?
            .map(|row| row.get::<i64>(0).map(seed_from_sql))
            .transpose()
            .context("reading the seed cursor")
    }

    /// Frees every pending range for the next daemon to take at once: on an
    /// SQLite store the daemon lock proves their holder dead.
    pub fn release_leases(&mut self) -> Result<()> {
        self.db
            .execute("UPDATE pending SET lease_until = NULL", &[])
            .context("freeing the leases of a dead daemon")?;
        Ok(())
    }

    /// Leases at most `count` seeds to `run` for the store's lease time, in one
    /// transaction: the lowest pending range nobody holds (a daemon died
    /// with it, or gave it up), else the next `count` seeds of the cursor
    /// (which starts at `first` in a new store). In a fleet, daemons skip
    /// each other's locked rows, so no seed is handed out twice.
    pub fn take_seeds(&mut self, run: i64, first: u64, count: u64, now: i64) -> Result<SeedRange> {
        let count = count.max(1);
        let until = now + self.lease_seconds;
        self.db
            .transaction(|tx| {
                let free = tx
                    .row(
                        &format!(
                            "SELECT start, \"end\" FROM pending WHERE lease_until IS NULL OR lease_until < ?1
                             ORDER BY start LIMIT 1{}",
                            tx.skip_locked()
                        ),
                        params![now],
                    )?
                    .map(|row| range_of(&row))
                    .transpose()?;
                if let Some(free) = free {
                    let end = free.end.min(free.start.saturating_add(count));
                    tx.execute(
                        "UPDATE pending SET \"end\" = ?2, run = ?3, lease_until = ?4 WHERE start = ?1",
                        params![seed_to_sql(free.start), seed_to_sql(end), run, until],
                    )?;
                    if end < free.end {
                        tx.execute(
                            "INSERT INTO pending (start, \"end\") VALUES (?1, ?2)",
                            params![seed_to_sql(end), seed_to_sql(free.end)],
                        )?;
                    }
                    return Ok(SeedRange {
                        start: free.start,
                        end,
                    });
                }
                tx.execute(
                    "INSERT INTO state (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
                    params![NEXT_SEED, seed_to_sql(first)],
                )?;
                let start = seed_from_sql(tx.value(
                    &format!("SELECT value FROM state WHERE key = ?1{}", tx.for_update()),
                    params![NEXT_SEED],
                )?);
                let range = SeedRange {
                    start,
                    end: start.saturating_add(count),
                };
                tx.execute(
                    "UPDATE state SET value = ?2 WHERE key = ?1",
                    params![NEXT_SEED, seed_to_sql(range.end)],
                )?;
                tx.execute(
                    "INSERT INTO pending (start, \"end\", run, lease_until) VALUES (?1, ?2, ?3, ?4)",
                    params![seed_to_sql(range.start), seed_to_sql(range.end), run, until],
                )?;
                Ok(range)
            })
            .context("taking seeds")
    }

    /// Extends the leases of every range `run` holds by the store's lease
    /// time from `now`, and records that the run is alive: its heartbeat.
    pub fn renew_leases(&mut self, run: i64, now: i64) -> Result<()> {
        let until = now + self.lease_seconds;
        self.db
            .transaction(|tx| {
                tx.execute(
                    "UPDATE pending SET lease_until = ?2 WHERE run = ?1",
                    params![run, until],
                )?;
                tx.execute(
                    "UPDATE runs SET updated_at = ?2 WHERE id = ?1",
                    params![run, now],
                )
            })
            .context("renewing seed leases")?;
        Ok(())
    }

    /// Splits a pending range at `at` into two pending ranges with its
    /// holder.
    pub fn split_pending(&mut self, range: SeedRange, at: u64) -> Result<(SeedRange, SeedRange)> {
        self.db
            .transaction(|tx| {
                tx.execute(
                    "INSERT INTO pending (start, \"end\", run, lease_until)
                     SELECT ?2, \"end\", run, lease_until FROM pending WHERE start = ?1",
                    params![seed_to_sql(range.start), seed_to_sql(at)],
                )?;
                tx.execute(
                    "UPDATE pending SET \"end\" = ?2 WHERE start = ?1",
                    params![seed_to_sql(range.start), seed_to_sql(at)],
                )
            })
            .context("splitting a pending range")?;
        Ok((
            SeedRange {
                start: range.start,
                end: at,
            },
            SeedRange {
                start: at,
                end: range.end,
            },
        ))
    }

    /// Commits the finished prefix `range.start..done_until` of a range
    /// `run` holds, with its counters: the rest stays pending, held by
    /// `run`. One transaction, so counters and cursor never disagree. A
    /// range another daemon took over (this one's lease ran out) is not
    /// counted again: returns false.
    pub fn checkpoint(
        &mut self,
        run: i64,
        range: SeedRange,
        done_until: u64,
        counters: &Counters,
        now: i64,
    ) -> Result<bool> {
        let until = now + self.lease_seconds;
        self.db
            .transaction(|tx| {
                let held = tx.execute(
                    "DELETE FROM pending WHERE start = ?1 AND (run = ?2 OR run IS NULL)",
                    params![seed_to_sql(range.start), run],
                )?;
                if held == 0 {
                    return Ok(false);
                }
                if done_until < range.end {
                    tx.execute(
                        "INSERT INTO pending (start, \"end\", run, lease_until)
                         VALUES (?1, ?2, ?3, ?4)",
                        params![seed_to_sql(done_until), seed_to_sql(range.end), run, until],
                    )?;
                }
                // Hundreds of counters per range: a few statements, not a
                // round trip to the server each.
                let rows: Vec<_> = counters.iter().collect();
                for chunk in rows.chunks(COUNTERS_PER_STATEMENT) {
                    let marks = (0..chunk.len())
                        .map(|i| format!("(?1, ?{}, ?{}, ?{})", 3 * i + 2, 3 * i + 3, 3 * i + 4))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let mut values = vec![Value::Int(run)];
                    for ((engine, name), value) in chunk {
                        values.push(engine.as_str().into());
                        values.push(name.as_str().into());
                        values.push(Value::Int(**value as i64));
                    }
                    tx.execute(
                        &format!(
                            "INSERT INTO counters (run, engine, name, value) VALUES {marks}
                             ON CONFLICT (run, engine, name) DO UPDATE SET value = counters.value + excluded.value"
                        ),
                        &values,
                    )?;
                }
                let cases = (done_until - range.start) as i64;
                tx.execute(
                    "UPDATE runs SET cases = cases + ?2, updated_at = ?3 WHERE id = ?1",
                    params![run, cases, now],
                )?;
                if cases > 0 {
                    tx.execute(
                        "INSERT INTO throughput (run, minute, cases) VALUES (?1, ?2, ?3)
                         ON CONFLICT (run, minute) DO UPDATE SET cases = throughput.cases + excluded.cases",
                        params![run, now.div_euclid(60), cases],
                    )?;
                }
                Ok(true)
            })
            .context("checkpointing progress")
    }

    /// Counters of one run, or summed over all runs.
    pub fn counters(&self, run: Option<i64>) -> Result<Counters> {
        self.db
            .rows(
                "SELECT engine, name, CAST(sum(value) AS BIGINT) FROM counters
                 WHERE CAST(?1 AS BIGINT) IS NULL OR run = ?1 GROUP BY engine, name",
                params![run],
            )?
            .iter()
            .map(|row| Ok(((row.get(0)?, row.get(1)?), row.get::<i64>(2)? as u64)))
            .collect::<Result<Counters>>()
            .context("reading counters")
    }

    /// The latest runs, newest first.
    pub fn runs(&self, limit: usize) -> Result<Vec<Run>> {
        self.runs_where("ORDER BY id DESC LIMIT ?1", params![limit as i64])
            .context("reading runs")
    }

    /// The runs `SELECT_RUN` followed by `rest` gives. On SQLite, a run
    /// without an end while no daemon holds the store's lock was killed
    /// (`kill -9`, a crash, the machine going down): it is shown as ended
    /// `killed` at its last checkpoint, as the next daemon will record it,
    /// without writing (readers may not be able to).
    pub(super) fn runs_where(&self, rest: &str, params: &[Value]) -> Result<Vec<Run>> {
        let daemon_gone = !self.is_shared() && self.running_daemon().is_none();
        self.db
            .rows(&format!("{SELECT_RUN} {rest}"), params)?
            .iter()
            .map(|row| {
                let (updated_at, ended_at, stop_reason): (i64, Option<i64>, Option<String>) =
                    (row.get(2)?, row.get(3)?, row.get(4)?);
                let (ended_at, stop_reason) = match ended_at {
                    None if daemon_gone => (Some(updated_at), Some("killed".to_string())),
                    _ => (ended_at, stop_reason),
                };
                Ok(Run {
                    id: row.get(0)?,
                    started_at: row.get(1)?,
                    updated_at,
                    ended_at,
                    stop_reason,
                    workers: row.get(5)?,
                    engines: row.get(6)?,
                    version: row.get(7)?,
                    cases: row.get(8)?,
                    new_findings: row.get(9)?,
                    host: row.get(10)?,
                })
            })
            .collect()
    }
}

const SELECT_RUN: &str = "SELECT id, started_at, updated_at, ended_at, stop_reason, workers, \
     engines, version, cases, new_findings, host FROM runs";

fn range_of(row: &Row) -> Result<SeedRange> {
    Ok(SeedRange {
        start: seed_from_sql(row.get(0)?),
        end: seed_from_sql(row.get(1)?),
    })
}

#[cfg(test)]
mod tests {
    use super::super::database::temp_dir;
    use super::*;

    fn counters(pairs: &[(&str, &str, u64)]) -> Counters {
        pairs
            .iter()
            .map(|(e, n, v)| ((e.to_string(), n.to_string()), *v))
            .collect()
    }

    #[test]
    fn seeds_resume_after_a_restart_with_unfinished_ranges_first() {
        let dir = temp_dir("cursor");
        let mut store = Store::open_dir(&dir).unwrap();
        let run = store
            .begin_run(2, "wasmi,cranelift-tail-signals", "a", 10, 0)
            .unwrap();
        let a = store.take_seeds(run, 100, 16, 10).unwrap();
        let b = store.take_seeds(run, 100, 16, 10).unwrap();
        assert_eq!((a.start, a.end, b.start, b.end), (100, 116, 116, 132));
        store
            .checkpoint(run, a, 116, &counters(&[("*", "cases", 16)]), 11)
            .unwrap();
        // b was half done when the daemon died.
        store
            .checkpoint(run, b, 124, &counters(&[("*", "cases", 8)]), 12)
            .unwrap();
        drop(store);

        let mut store = Store::open_dir(&dir).unwrap();
        assert_eq!(
            store.pending_ranges().unwrap(),
            [SeedRange {
                start: 124,
                end: 132
            }]
        );
        // The daemon lock proves the first daemon dead: its range is free.
        store.release_leases().unwrap();
        let second = store.begin_run(1, "wasmi", "a", 20, 0).unwrap();
        assert_eq!(
            store.take_seeds(second, 0, 16, 20).unwrap(),
            SeedRange {
                start: 124,
                end: 132
            }
        );
        assert_eq!(store.take_seeds(second, 0, 4, 20).unwrap().start, 132);
        store
            .checkpoint(
                second,
                SeedRange {
                    start: 124,
                    end: 132,
                },
                132,
                &counters(&[("*", "cases", 8), ("wasmi", "ran", 8)]),
                21,
            )
            .unwrap();
        assert_eq!(
            store.counters(None).unwrap()[&("*".into(), "cases".into())],
            32
        );
        assert_eq!(
            store.counters(Some(second)).unwrap(),
            counters(&[("*", "cases", 8), ("wasmi", "ran", 8)])
        );
        // The second run's daemon holds the store: its run is running.
        let lock = store.lock_for_daemon().unwrap();
        let runs = store.runs(10).unwrap();
        assert_eq!(runs[0].id, second);
        assert_eq!((runs[0].cases, runs[0].ended_at), (8, None));
        // The first run never ended: it was killed at its last checkpoint.
        assert_eq!(
            (
                runs[1].cases,
                runs[1].ended_at,
                runs[1].stop_reason.as_deref()
            ),
            (24, Some(12), Some("killed"))
        );
        // Once its daemon is gone, a run without an end shows as killed
        // at its last checkpoint, though nothing wrote that down.
        drop(lock);
        let runs = store.runs(10).unwrap();
        assert_eq!(
            (runs[0].ended_at, runs[0].stop_reason.as_deref()),
            (Some(21), Some("killed"))
        );
        store.end_run(second, "signal", 30).unwrap();
        assert_eq!(
            store.runs(1).unwrap()[0].stop_reason.as_deref(),
            Some("signal")
        );
    }
}
