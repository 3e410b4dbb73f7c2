//! Scaling checks the daemon ran (`oracles::cost::scaling_check`): on the built-in
//! shapes periodically, and on the shrunk module of each compile blowup.

use super::database::Store;
use super::sql::{params, Row};
use anyhow::{Context, Result};
use serde::Serialize;

/// One scaling check, as recorded.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScalingCheck {
    /// Unix seconds.
    pub at: i64,
    /// `shape:<name>` or `finding:<id>`.
    pub subject: String,
    /// The finding whose module was grown, if any.
    pub finding: Option<i64>,
    /// The table (figures and exponents per engine), or why the check
    /// failed.
    pub report: String,
    /// One line per superlinear exponent; empty when growth is linear.
    pub superlinear: Vec<String>,
}

impl ScalingCheck {
    fn from_row(row: &Row) -> Result<ScalingCheck> {
        let superlinear: String = row.get(4)?;
        Ok(ScalingCheck {
            at: row.get(0)?,
            subject: row.get(1)?,
            finding: row.get(2)?,
            report: row.get(3)?,
            superlinear: superlinear.lines().map(str::to_string).collect(),
        })
    }
}

const COLUMNS: &str = "at, subject, finding, report, superlinear";

impl Store {
    /// Records a scaling check.
    pub fn record_scaling(&mut self, check: &ScalingCheck) -> Result<()> {
        self.db
            .execute(
                "INSERT INTO scaling (at, subject, finding, report, superlinear)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    check.at,
                    check.subject.as_str(),
                    check.finding,
                    check.report.as_str(),
                    check.superlinear.join("\n")
                ],
            )
            .context("recording a scaling check")?;
        Ok(())
    }

    /// The latest check of every subject, subjects in name order.
    pub fn latest_scaling(&self) -> Result<Vec<ScalingCheck>> {
        self.db
            .rows(
                &format!(
                    "SELECT {COLUMNS} FROM scaling s
                     WHERE id = (SELECT MAX(id) FROM scaling t WHERE t.subject = s.subject)
                     ORDER BY subject"
                ),
                &[],
            )?
            .iter()
            .map(ScalingCheck::from_row)
            .collect::<Result<_>>()
            .context("reading scaling checks")
    }

    /// The latest check of a finding's module.
    pub fn scaling_of_finding(&self, finding: i64) -> Result<Option<ScalingCheck>> {
        self.db
            .row(
                &format!(
                    "SELECT {COLUMNS} FROM scaling WHERE finding = ?1 ORDER BY id DESC LIMIT 1"
                ),
                params![finding],
            )?
            .map(|row| ScalingCheck::from_row(&row))
            .transpose()
            .context("reading a finding's scaling check")
    }

    /// When `subject` was last checked (Unix seconds), if ever.
    pub fn last_scaled(&self, subject: &str) -> Result<Option<i64>> {
        self.db
            .value(
                "SELECT MAX(at) FROM scaling WHERE subject = ?1",
                params![subject],
            )
            .context("reading when a subject was last scaled")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_check_of_each_subject_is_kept_apart_from_older_ones() {
        let dir = super::super::database::temp_dir("scaling");
        let mut store = Store::open_dir(&dir).unwrap();
        let check = |at: i64, subject: &str, superlinear: &[&str]| ScalingCheck {
            at,
            subject: subject.to_string(),
            finding: None,
            report: format!("table at {at}"),
            superlinear: superlinear.iter().map(|s| s.to_string()).collect(),
        };
        assert!(store.latest_scaling().unwrap().is_empty());
        assert_eq!(store.last_scaled("shape:br-table").unwrap(), None);
        store
            .record_scaling(&check(1, "shape:br-table", &["a time grows as size^1.70"]))
            .unwrap();
        store
            .record_scaling(&check(2, "shape:br-table", &[]))
            .unwrap();
        store
            .record_scaling(&check(3, "shape:call-alternating", &["x", "y"]))
            .unwrap();
        let latest = store.latest_scaling().unwrap();
        assert_eq!(
            latest,
            [
                check(2, "shape:br-table", &[]),
                check(3, "shape:call-alternating", &["x", "y"])
            ]
        );
        assert_eq!(store.last_scaled("shape:br-table").unwrap(), Some(2));
        assert_eq!(store.scaling_of_finding(1).unwrap(), None);
    }
}
