//! Copying a whole store into another, empty one: an SQLite store into a
//! fleet's PostgreSQL store when a team outgrows one server (or back, to
//! take a fleet's findings home). Every row keeps its id, so finding
//! numbers, groups and hit histories read the same on both sides.

use super::database::Store;
use super::sql::{Dialect, Value};
use anyhow::{bail, Context, Result};
use std::collections::BTreeSet;

/// The tables in an order that satisfies their references.
const TABLES: [&str; 11] = [
    "runs",
    "groups",
    "findings",
    "hits",
    "counters",
    "pending",
    "state",
    "throughput",
    "cost_baseline",
    "scaling",
    "bisections",
];

/// What a copy moved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Copied {
    /// Rows per table, in [`TABLES`] order.
    pub rows: Vec<(&'static str, usize)>,
    /// Distinct modules.
    pub modules: usize,
}

impl Copied {
    /// One line: `runs 3, findings 12, hits 5,210, ..., modules 20`.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .rows
            .iter()
            .map(|(table, n)| format!("{table} {n}"))
            .collect();
        parts.push(format!("modules {}", self.modules));
        parts.join(", ")
    }
}

impl Store {
    /// Copies every row and module of `self` into `to`, which must hold no
    /// findings and no runs yet; all of it or, on an error, nothing.
    pub fn copy_into(&self, to: &Store) -> Result<Copied> {
        let used: i64 = to.db.value(
            "SELECT (SELECT count(*) FROM findings) + (SELECT count(*) FROM runs)",
            &[],
        )?;
        if used > 0 {
            bail!(
                "{} already holds findings or runs; a store is copied into an empty one only",
                to.location()
            );
        }
        let mut copied = Copied::default();
        let modules = self.module_hashes()?;
        to.db.transaction(|tx| {
            copied = Copied::default();
            for table in TABLES {
                // SQLite's hits keep their order in the implicit rowid,
                // which PostgreSQL's hits have as a column.
                let select = match (table, self.db.dialect()) {
                    ("hits", Dialect::Sqlite) => {
                        "SELECT rowid, * FROM hits ORDER BY rowid".to_string()
                    }
                    ("hits", Dialect::Postgres) => "SELECT * FROM hits ORDER BY rowid".to_string(),
                    ("findings", _) => "SELECT * FROM findings ORDER BY id".to_string(),
                    _ => format!("SELECT * FROM {table}"),
                };
                let (names, rows) = self
                    .db
                    .rows_named(&select)
                    .with_context(|| format!("reading {table} from {}", self.location()))?;
                let columns = names
                    .iter()
                    .map(|n| format!("\"{n}\""))
                    .collect::<Vec<_>>()
                    .join(", ");
                let marks = (1..=names.len())
                    .map(|i| format!("?{i}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let insert = format!("INSERT INTO {table} ({columns}) VALUES ({marks})");
                for row in &rows {
                    tx.execute(&insert, row.values())
                        .with_context(|| format!("writing {table} to {}", to.location()))?;
                }
                copied.rows.push((table, rows.len()));
            }
            for hash in &modules {
                let wasm = self.read_artifact(hash)?;
                to.write_module(&wasm)?;
            }
            copied.modules = modules.len();
            if tx.dialect() == Dialect::Postgres {
                // Ids were copied, not drawn: the sequences go on after them.
                for (table, column) in [
                    ("runs", "id"),
                    ("groups", "id"),
                    ("findings", "id"),
                    ("hits", "rowid"),
                    ("scaling", "id"),
                    ("bisections", "id"),
                ] {
                    tx.batch(&format!(
                        "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), \
                         coalesce((SELECT max({column}) FROM {table}), 0) + 1, false)"
                    ))?;
                }
            }
            Ok(())
        })?;
        Ok(copied)
    }

    /// The hash of every module a finding names (first and shrunk).
    fn module_hashes(&self) -> Result<BTreeSet<String>> {
        let mut hashes = BTreeSet::new();
        for row in self.db.rows("SELECT artifact, shrunk FROM findings", &[])? {
            for value in row.values() {
                if let Value::Text(hash) = value {
                    hashes.insert(hash.clone());
                }
            }
        }
        Ok(hashes)
    }
}
