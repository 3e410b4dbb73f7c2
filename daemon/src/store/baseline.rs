//! The run's reference of compile cost per instruction
//! (`oracles::cost::baseline`), kept so that a restarted daemon, the
//! background triage and `crosscheck shrink` judge a case against the
//! figures its finding was recorded by.

use super::database::Store;
use super::sql::params;
use anyhow::{Context, Result};
use oracles::cost::baseline::{Baseline, Metric, Reference};

impl Store {
    /// Replaces the stored reference of every engine and metric `baseline`
    /// has; others are kept.
    pub fn save_baseline(&mut self, baseline: &Baseline, now: i64) -> Result<()> {
        self.db
            .transaction(|tx| {
                for (engine, references) in &baseline.references {
                    for (metric, r) in references {
                        tx.execute(
                            "INSERT INTO cost_baseline
                             (engine, metric, log2_median, log2_mad, samples, updated)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                             ON CONFLICT (engine, metric) DO UPDATE SET log2_median = excluded.log2_median,
                               log2_mad = excluded.log2_mad, samples = excluded.samples, updated = excluded.updated",
                            params![
                                engine,
                                metric.as_str(),
                                r.log2_median,
                                r.log2_mad,
                                r.samples as i64,
                                now
                            ],
                        )?;
                    }
                }
                Ok(())
            })
            .context("saving the compile cost baseline")
    }

    /// The stored reference of compile cost per instruction (empty before
    /// a daemon has gathered enough cases). Metrics this build does not
    /// know are skipped.
    pub fn baseline(&self) -> Result<Baseline> {
        let rows = self
            .db
            .rows(
                "SELECT engine, metric, log2_median, log2_mad, samples FROM cost_baseline",
                &[],
            )?
            .iter()
            .map(|row| {
                Ok((
                    row.get::<String>(0)?,
                    row.get::<String>(1)?,
                    Reference {
                        log2_median: row.get(2)?,
                        log2_mad: row.get(3)?,
                        samples: row.get::<i64>(4)? as u64,
                    },
                ))
            })
            .collect::<Result<Vec<_>>>()
            .context("reading the compile cost baseline")?;
        let mut baseline = Baseline::default();
        for (engine, metric, reference) in rows {
            if let Some(metric) = Metric::parse(&metric) {
                baseline
                    .references
                    .entry(engine)
                    .or_default()
                    .insert(metric, reference);
            }
        }
        Ok(baseline)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn the_baseline_round_trips_and_a_partial_update_keeps_the_rest() {
        let dir = super::super::database::temp_dir("baseline");
        let mut store = Store::open_dir(&dir).unwrap();
        assert!(store.baseline().unwrap().is_empty());
        let reference = |m: f64| Reference {
            log2_median: m,
            log2_mad: 0.25,
            samples: 600,
        };
        let first = Baseline {
            references: BTreeMap::from([(
                "cranelift".to_string(),
                BTreeMap::from([
                    (Metric::CompileTime, reference(11.0)),
                    (Metric::CompileHeap, reference(12.0)),
                ]),
            )]),
        };
        store.save_baseline(&first, 1).unwrap();
        assert_eq!(store.baseline().unwrap(), first);
        let update = Baseline {
            references: BTreeMap::from([(
                "cranelift".to_string(),
                BTreeMap::from([(Metric::CompileTime, reference(10.5))]),
            )]),
        };
        store.save_baseline(&update, 2).unwrap();
        drop(store);
        let reopened = Store::open_dir_existing(&dir).unwrap();
        assert_eq!(reopened.baseline().unwrap(), first.updated_by(update));
    }
}
