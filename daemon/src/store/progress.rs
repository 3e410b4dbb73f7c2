//! Daemon progress: runs, per-engine counters, and the seed cursor with the
//! ranges handed out but not finished, so a restart resumes exactly.

use super::database::{seed_from_sql, seed_to_sql, Store};
use anyhow::{Context, Result};
use rusqlite::{params, OptionalExtension, TransactionBehavior};
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
}

/// The key under which the next never-handed-out seed is kept.
const NEXT_SEED: &str = "next_seed";

impl Store {
    /// Starts a run. Runs left without an end by a killed daemon are closed
    /// as `killed` at their last checkpoint.
    pub fn begin_run(&mut self, workers: usize, engines: &str, now: i64) -> Result<i64> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "UPDATE runs SET ended_at = updated_at, stop_reason = 'killed' WHERE ended_at IS NULL",
            [],
        )?;
        tx.execute(
            "INSERT INTO runs (started_at, updated_at, workers, engines, version) VALUES (?1, ?1, ?2, ?3, ?4)",
            params![now, workers as i64, engines, env!("CARGO_PKG_VERSION")],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit().context("starting a run")?;
        Ok(id)
    }

    /// Ends a run.
    pub fn end_run(&mut self, run: i64, reason: &str, now: i64) -> Result<()> {
        self.conn
            .execute(
                "UPDATE runs SET ended_at = ?2, updated_at = ?2, stop_reason = ?3 WHERE id = ?1",
                params![run, now, reason],
            )
            .context("ending a run")?;
        Ok(())
    }

    /// Ranges handed out by an earlier run and not finished, lowest first.
    pub fn pending_ranges(&self) -> Result<Vec<SeedRange>> {
        let mut stmt = self
            .conn
            .prepare("SELECT start, end FROM pending ORDER BY start")?;
        let rows = stmt.query_map([], |row| {
            Ok(SeedRange {
                start: seed_from_sql(row.get(0)?),
                end: seed_from_sql(row.get(1)?),
            })
        })?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .context("reading pending seed ranges")
    }

    /// The next seed never handed out, if any was.
    pub fn next_seed(&self) -> Result<Option<u64>> {
        self.conn
            .query_row(
                "SELECT value FROM state WHERE key = ?1",
                params![NEXT_SEED],
                |row| row.get::<_, i64>(0),
            )
            .optional()
            .map(|v| v.map(seed_from_sql))
            .context("reading the seed cursor")
    }

    /// Hands out the next `count` seeds (from `first` in a new store) and
    /// marks them pending, in one transaction.
    pub fn claim_seeds(&mut self, first: u64, count: u64) -> Result<SeedRange> {
        let start = self.next_seed()?.unwrap_or(first);
        let range = SeedRange {
            start,
            end: start.saturating_add(count),
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT OR REPLACE INTO state (key, value) VALUES (?1, ?2)",
            params![NEXT_SEED, seed_to_sql(range.end)],
        )?;
        tx.execute(
            "INSERT INTO pending (start, end) VALUES (?1, ?2)",
            params![seed_to_sql(range.start), seed_to_sql(range.end)],
        )?;
        tx.commit().context("claiming seeds")?;
        Ok(range)
    }

    /// Splits a pending range at `at` into two pending ranges.
    pub fn split_pending(&mut self, range: SeedRange, at: u64) -> Result<(SeedRange, SeedRange)> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "UPDATE pending SET end = ?2 WHERE start = ?1",
            params![seed_to_sql(range.start), seed_to_sql(at)],
        )?;
        tx.execute(
            "INSERT INTO pending (start, end) VALUES (?1, ?2)",
            params![seed_to_sql(at), seed_to_sql(range.end)],
        )?;
        tx.commit().context("splitting a pending range")?;
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

    /// Commits the finished prefix `range.start..done_until` of a pending
    /// range with its counters: the rest stays pending. One transaction, so
    /// counters and cursor never disagree.
    pub fn checkpoint(
        &mut self,
        run: i64,
        range: SeedRange,
        done_until: u64,
        counters: &Counters,
        now: i64,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "DELETE FROM pending WHERE start = ?1",
            params![seed_to_sql(range.start)],
        )?;
        if done_until < range.end {
            tx.execute(
                "INSERT INTO pending (start, end) VALUES (?1, ?2)",
                params![seed_to_sql(done_until), seed_to_sql(range.end)],
            )?;
        }
        {
            let mut add = tx.prepare_cached(
                "INSERT INTO counters (run, engine, name, value) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (run, engine, name) DO UPDATE SET value = value + excluded.value",
            )?;
            for ((engine, name), value) in counters {
                add.execute(params![run, engine, name, *value as i64])?;
            }
        }
        let cases = (done_until - range.start) as i64;
        tx.execute(
            "UPDATE runs SET cases = cases + ?2, updated_at = ?3 WHERE id = ?1",
            params![run, cases, now],
        )?;
        if cases > 0 {
            tx.execute(
                "INSERT INTO throughput (run, minute, cases) VALUES (?1, ?2, ?3)
                 ON CONFLICT (run, minute) DO UPDATE SET cases = cases + excluded.cases",
                params![run, now.div_euclid(60), cases],
            )?;
        }
        tx.commit().context("checkpointing progress")?;
        Ok(())
    }

    /// Counters of one run, or summed over all runs.
    pub fn counters(&self, run: Option<i64>) -> Result<Counters> {
        let mut stmt = self.conn.prepare(
            "SELECT engine, name, sum(value) FROM counters
             WHERE ?1 IS NULL OR run = ?1 GROUP BY engine, name",
        )?;
        let rows = stmt.query_map(params![run], |row| {
            Ok(((row.get(0)?, row.get(1)?), row.get::<_, i64>(2)? as u64))
        })?;
        rows.collect::<rusqlite::Result<Counters>>()
            .context("reading counters")
    }

    /// The latest runs, newest first.
    pub fn runs(&self, limit: usize) -> Result<Vec<Run>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, started_at, updated_at, ended_at, stop_reason, workers, engines, version, cases, new_findings
             FROM runs ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit as i64], |row| {
            Ok(Run {
                id: row.get(0)?,
                started_at: row.get(1)?,
                updated_at: row.get(2)?,
                ended_at: row.get(3)?,
                stop_reason: row.get(4)?,
                workers: row.get(5)?,
                engines: row.get(6)?,
                version: row.get(7)?,
                cases: row.get(8)?,
                new_findings: row.get(9)?,
            })
        })?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .context("reading runs")
    }
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
        let mut store = Store::open(&dir).unwrap();
        let run = store
            .begin_run(2, "wasmi,cranelift-tail-signals", 10)
            .unwrap();
        let a = store.claim_seeds(100, 16).unwrap();
        let b = store.claim_seeds(100, 16).unwrap();
        assert_eq!((a.start, a.end, b.start, b.end), (100, 116, 116, 132));
        store
            .checkpoint(run, a, 116, &counters(&[("*", "cases", 16)]), 11)
            .unwrap();
        // b was half done when the daemon died.
        store
            .checkpoint(run, b, 124, &counters(&[("*", "cases", 8)]), 12)
            .unwrap();
        drop(store);

        let mut store = Store::open(&dir).unwrap();
        assert_eq!(
            store.pending_ranges().unwrap(),
            [SeedRange {
                start: 124,
                end: 132
            }]
        );
        assert_eq!(store.claim_seeds(0, 4).unwrap().start, 132);
        let second = store.begin_run(1, "wasmi", 20).unwrap();
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
        store.end_run(second, "signal", 30).unwrap();
        assert_eq!(
            store.runs(1).unwrap()[0].stop_reason.as_deref(),
            Some("signal")
        );
    }
}
