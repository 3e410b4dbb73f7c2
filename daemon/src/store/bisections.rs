//! Bisections of findings across Wasmtime releases: which release first
//! showed or first fixed a finding, as `crosscheck bisect` answered.

use super::database::{unix_now, Store};
use super::sql::params;
use anyhow::{Context, Result};

/// A bisection as stored.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct StoredBisection {
    /// When it was made, Unix seconds.
    pub at: i64,
    /// The range of releases, e.g. `36..48`.
    pub range: String,
    /// The answer in one line (`releases::bisect::Bisection::describe`).
    pub answer: String,
    /// Every release tested and what it gave, one per line.
    pub tested: Vec<String>,
}

impl Store {
    /// Records a bisection of finding `id`.
    pub fn record_bisection(
        &mut self,
        id: i64,
        range: &str,
        answer: &str,
        tested: &[String],
    ) -> Result<()> {
        self.db
            .execute(
                "INSERT INTO bisections (finding, at, range, answer, tested) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, unix_now(), range, answer, tested.join("\n")],
            )
            .with_context(|| format!("recording the bisection of finding {id}"))?;
        Ok(())
    }

    /// The newest bisection of finding `id`, if any.
    pub fn bisection(&self, id: i64) -> Result<Option<StoredBisection>> {
        self.db
            .row(
                "SELECT at, range, answer, tested FROM bisections WHERE finding = ?1
                 ORDER BY at DESC, id DESC LIMIT 1",
                params![id],
            )?
            .map(|row| -> Result<StoredBisection> {
                Ok(StoredBisection {
                    at: row.get(0)?,
                    range: row.get(1)?,
                    answer: row.get(2)?,
                    tested: row.get::<String>(3)?.lines().map(str::to_string).collect(),
                })
            })
            .transpose()
            .with_context(|| format!("reading the bisection of finding {id}"))
    }
}

#[cfg(test)]
mod tests {
    use super::super::database::temp_dir;
    use super::super::findings::Hit;
    use super::*;

    #[test]
    fn the_newest_bisection_of_a_finding_is_shown() {
        let dir = temp_dir("bisections");
        let mut store = Store::open_dir(&dir).unwrap();
        let hit = Hit {
            signature: "mismatch call",
            kind: oracles::judge::kind::FindingKind::Mismatch,
            seed: Some(1),
            run: None,
            wasm: b"module",
            summary: "MISMATCH",
            suspect: Some("cranelift disagrees: suspect Cranelift"),
            suppressed: false,
            now: 1,
            source: None,
        };
        let id = store.record(&hit).unwrap().id;
        assert_eq!(store.bisection(id).unwrap(), None);
        store
            .record_bisection(
                id,
                "36..48",
                "shown by every release tested",
                &["Wasmtime 36 (36.0.20): shown".into()],
            )
            .unwrap();
        store
            .record_bisection(
                id,
                "36..48",
                "first fixed in Wasmtime 45 (45.0.3)",
                &[
                    "Wasmtime 44 (44.0.3): shown".into(),
                    "Wasmtime 45 (45.0.3): absent".into(),
                ],
            )
            .unwrap();
        let newest = store.bisection(id).unwrap().unwrap();
        assert_eq!(newest.answer, "first fixed in Wasmtime 45 (45.0.3)");
        assert_eq!(newest.tested.len(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
