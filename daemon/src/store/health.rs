//! What the release gate and the dashboard read: the runs of a time window,
//! their counters and throughput, the findings hit in it, hit histories.

use super::database::{seed_from_sql, Store};
use super::findings::StoredFinding;
use super::progress::Counters;
use super::progress::Run;
use super::sql::{params, Value};
use anyhow::{bail, Context, Result};
use std::collections::BTreeSet;

/// Which part of the store's history to look at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// Everything.
    All,
    /// Daemon run N and every later one.
    FromRun(i64),
    /// Since a moment (Unix seconds).
    Since(i64),
}

impl Window {
    /// Parses `--since`: a run id (`12`) or a duration back from `now`
    /// (`24h`, `90min`, `7days`).
    pub fn parse(text: &str, now: i64) -> Result<Window> {
        if let Ok(run) = text.parse::<i64>() {
            if run < 1 {
                bail!("--since {text}: run ids start at 1");
            }
            return Ok(Window::FromRun(run));
        }
        let span = humantime::parse_duration(text).with_context(|| {
            format!("--since {text:?} is neither a run id (e.g. 12) nor a duration (e.g. 24h)")
        })?;
        Ok(Window::Since(now - span.as_secs() as i64))
    }
}

/// One hit of a finding.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct HitRow {
    /// The seed, if the case came from one.
    pub seed: Option<u64>,
    /// The daemon run, if one found it.
    pub run: Option<i64>,
    /// Unix seconds.
    pub at: i64,
}

impl Store {
    /// The runs in the window, newest first: runs active at any moment of a
    /// `Since` window count whole (counters are kept per run).
    pub fn window_runs(&self, window: Window) -> Result<Vec<Run>> {
        let runs = self.runs(usize::MAX >> 1)?;
        Ok(match window {
            Window::All => runs,
            Window::FromRun(first) => runs.into_iter().filter(|r| r.id >= first).collect(),
            Window::Since(t) => runs
                .into_iter()
                .filter(|r| r.ended_at.unwrap_or(r.updated_at) >= t)
                .collect(),
        })
    }

    /// The moment the window starts (`None`: the beginning). A run id that
    /// does not exist is an error naming the runs there are.
    pub fn window_start(&self, window: Window) -> Result<Option<i64>> {
        match window {
            Window::All => Ok(None),
            Window::Since(t) => Ok(Some(t)),
            Window::FromRun(run) => {
                let started: Option<i64> = self
                    .db
                    .row("SELECT started_at FROM runs WHERE id = ?1", params![run])?
                    .map(|row| row.get(0))
                    .transpose()?;
                match started {
                    Some(t) => Ok(Some(t)),
                    None => {
                        let last: Option<i64> = self.db.value("SELECT max(id) FROM runs", &[])?;
                        match last {
                            Some(last) => bail!("no run {run} in the store (runs are 1 to {last})"),
                            None => bail!("no run {run}: the store has no runs yet"),
                        }
                    }
                }
            }
        }
    }

    /// Counters summed over the given runs.
    pub fn counters_of_runs(&self, runs: &[i64]) -> Result<Counters> {
        let mut total = Counters::new();
        for run in runs {
            for (key, value) in self.counters(Some(*run))? {
                *total.entry(key).or_default() += value;
            }
        }
        Ok(total)
    }

    /// Findings with a hit at or after `start` (all findings for `None`),
    /// merged ones excluded (their hits moved to the survivor), most hit
    /// first.
    pub fn findings_hit_since(&self, start: Option<i64>) -> Result<Vec<StoredFinding>> {
        self.findings_where(
            "WHERE status != 'merged'
             AND (CAST(?1 AS BIGINT) IS NULL OR EXISTS (SELECT 1 FROM hits h WHERE h.finding = findings.id AND h.at >= ?1))
             ORDER BY hits DESC, id",
            params![start],
        )
        .context("reading the findings of the window")
    }

    /// Cases finished per run and minute: `(run, minute start in Unix
    /// seconds, cases)`, oldest first.
    pub fn throughput(&self, runs: &[i64]) -> Result<Vec<(i64, i64, u64)>> {
        if runs.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; runs.len()].join(",");
        let values: Vec<Value> = runs.iter().map(|r| Value::Int(*r)).collect();
        self.db
            .rows(
                &format!(
                    "SELECT run, minute, cases FROM throughput WHERE run IN ({marks}) ORDER BY minute, run"
                ),
                &values,
            )?
            .iter()
            .map(|row| {
                Ok((
                    row.get(0)?,
                    row.get::<i64>(1)? * 60,
                    row.get::<i64>(2)? as u64,
                ))
            })
            .collect::<Result<Vec<_>>>()
            .context("reading throughput")
    }

    /// A finding's hits, newest first, at most `limit`.
    pub fn hits(&self, finding: i64, limit: usize) -> Result<Vec<HitRow>> {
        self.db
            .rows(
                "SELECT seed, run, at FROM hits WHERE finding = ?1 ORDER BY at DESC, rowid DESC LIMIT ?2",
                params![finding, limit as i64],
            )?
            .iter()
            .map(|row| {
                Ok(HitRow {
                    seed: row.get::<Option<i64>>(0)?.map(seed_from_sql),
                    run: row.get(1)?,
                    at: row.get(2)?,
                })
            })
            .collect::<Result<Vec<_>>>()
            .context("reading the hits of a finding")
    }

    /// Every signature the store has seen, merged findings' included: what
    /// a baseline knows.
    pub fn signatures(&self) -> Result<BTreeSet<String>> {
        self.db
            .rows("SELECT signature FROM findings", &[])?
            .iter()
            .map(|row| row.get::<String>(0))
            .collect::<Result<BTreeSet<_>>>()
            .context("reading signatures")
    }
}

#[cfg(test)]
mod tests {
    use super::super::database::temp_dir;
    use super::super::{Hit, SeedRange};
    use super::*;

    fn hit(store: &mut Store, signature: &str, seed: u64, run: i64, now: i64) {
        store
            .record(&Hit {
                signature,
                kind: oracles::judge::kind::FindingKind::Mismatch,
                seed: Some(seed),
                run: Some(run),
                wasm: b"\0asm\x01\0\0\0",
                summary: "s",
                suspect: None,
                suppressed: false,
                now,
                source: None,
            })
            .unwrap();
    }

    #[test]
    fn windows_select_runs_findings_and_throughput() {
        let dir = temp_dir("window");
        let mut store = Store::open_dir(&dir).unwrap();
        let one = store.begin_run(1, "wasmi", "a", 1_000, 0).unwrap();
        let range = store.take_seeds(one, 0, 10, 1_000).unwrap();
        let counters: Counters = [(("*".to_string(), "cases".to_string()), 10)].into();
        store.checkpoint(one, range, 10, &counters, 1_030).unwrap();
        hit(&mut store, "old", 3, one, 1_010);
        store.end_run(one, "cases", 1_050).unwrap();
        let two = store.begin_run(1, "wasmi", "a", 5_000, 0).unwrap();
        let range = store.take_seeds(two, 0, 4, 5_000).unwrap();
        let part = SeedRange {
            start: range.start,
            end: range.end,
        };
        let counters: Counters = [(("*".to_string(), "cases".to_string()), 4)].into();
        store
            .checkpoint(two, part, range.end, &counters, 5_100)
            .unwrap();
        hit(&mut store, "new", 12, two, 5_050);
        hit(&mut store, "old", 13, two, 5_060);

        assert_eq!(store.window_runs(Window::All).unwrap().len(), 2);
        let from_two = store.window_runs(Window::FromRun(two)).unwrap();
        assert_eq!(from_two.iter().map(|r| r.id).collect::<Vec<_>>(), [two]);
        assert_eq!(store.window_runs(Window::Since(4_000)).unwrap().len(), 1);
        assert_eq!(
            store.window_start(Window::FromRun(two)).unwrap(),
            Some(5_000)
        );
        let err = format!("{:#}", store.window_start(Window::FromRun(9)).unwrap_err());
        assert!(err.contains("no run 9") && err.contains("1 to 2"), "{err}");

        let since: Vec<String> = store
            .findings_hit_since(Some(5_000))
            .unwrap()
            .into_iter()
            .map(|f| f.signature)
            .collect();
        assert_eq!(since, ["old", "new"], "both were hit in run two");
        let early = store.findings_hit_since(Some(5_055)).unwrap();
        assert_eq!(early.len(), 1);
        assert_eq!(
            store.counters_of_runs(&[one, two]).unwrap()[&("*".into(), "cases".into())],
            14
        );
        assert_eq!(
            store.throughput(&[one, two]).unwrap(),
            [(one, 1_020, 10), (two, 5_100, 4)]
        );
        let hits = store.hits(1, 10).unwrap();
        assert_eq!(
            hits[0],
            HitRow {
                seed: Some(13),
                run: Some(two),
                at: 5_060
            }
        );
        assert_eq!(hits.len(), 2);
        assert_eq!(store.signatures().unwrap().len(), 2);
    }

    #[test]
    fn since_parses_run_ids_and_durations() {
        assert_eq!(Window::parse("12", 10_000).unwrap(), Window::FromRun(12));
        assert_eq!(Window::parse("1h", 10_000).unwrap(), Window::Since(6_400));
        for bad in ["0", "yesterday", "-3"] {
            assert!(Window::parse(bad, 10_000).is_err(), "{bad}");
        }
    }
}
