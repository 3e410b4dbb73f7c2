//! The persistent store: findings deduplicated by signature, and the module
//! of each finding kept on disk by content hash. SQLite in WAL mode with full
//! synchronous commits: a finding is on disk before it is reported.

use anyhow::{bail, Context, Result};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The schema this build writes; a store with a newer one is refused.
pub const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE findings (
    id          INTEGER PRIMARY KEY,
    signature   TEXT    NOT NULL UNIQUE,
    kind        TEXT    NOT NULL,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    hits        INTEGER NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'open',
    first_seed  INTEGER,
    artifact    TEXT    NOT NULL,
    summary     TEXT    NOT NULL
);
";

/// A finding as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// Row id, used on the command line.
    pub id: i64,
    /// Dedup key (see `oracles::Verdict::signature`).
    pub signature: String,
    /// `crash`, `mismatch`, `rejected:unexpected`, ...
    pub kind: String,
    /// Unix seconds of the first and the latest hit.
    pub first_seen: i64,
    /// Unix seconds of the latest hit.
    pub last_seen: i64,
    /// How many cases hit it.
    pub hits: i64,
    /// `open`, `fixed` or `ignored`.
    pub status: String,
    /// The seed of the first case that hit it, if it came from a seed.
    pub first_seed: Option<u64>,
    /// SHA-256 of the first module that hit it; the file is
    /// `artifacts/<hash>.wasm` under the store directory.
    pub artifact: String,
    /// The first case's verdict, as text.
    pub summary: String,
}

/// One new hit to record.
#[derive(Clone, Debug)]
pub struct Hit<'a> {
    /// Dedup key.
    pub signature: &'a str,
    /// The verdict label.
    pub kind: &'a str,
    /// The seed, if the case came from one.
    pub seed: Option<u64>,
    /// The module.
    pub wasm: &'a [u8],
    /// The verdict, as text.
    pub summary: &'a str,
    /// Unix seconds.
    pub now: i64,
}

/// What recording a hit did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recorded {
    /// The finding's id.
    pub id: i64,
    /// Whether this hit created the finding.
    pub new: bool,
    /// Hits so far, this one included.
    pub hits: i64,
}

/// An open store directory.
pub struct Store {
    dir: PathBuf,
    conn: Connection,
}

impl Store {
    /// Opens the store in `dir`, creating it if needed. A file that is not a
    /// crosscheck store, a damaged one, or one written by a newer crosscheck
    /// is refused and left untouched.
    pub fn open(dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(dir.join("artifacts"))
            .with_context(|| format!("cannot create the store directory {}", dir.display()))?;
        let path = dir.join("crosscheck.sqlite");
        let existed = path.exists();
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .with_context(|| format!("cannot open the store {}", path.display()))?;
        let corrupt = |e: rusqlite::Error| {
            anyhow::anyhow!(
                "{} is not a readable crosscheck store ({e}); it was left untouched",
                path.display()
            )
        };
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(corrupt)?;
        let check: String = conn
            .query_row("PRAGMA quick_check", [], |row| row.get(0))
            .map_err(corrupt)?;
        if check != "ok" {
            bail!(
                "{} is damaged ({check}); it was left untouched",
                path.display()
            );
        }
        if version > SCHEMA_VERSION {
            bail!(
                "{} has store schema version {version}, newer than this crosscheck understands ({SCHEMA_VERSION}); \
                 use a newer crosscheck or another data directory",
                path.display()
            );
        }
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get(0))
            .map_err(corrupt)?;
        if version == 0 && tables > 0 {
            bail!(
                "{} is an SQLite database but not a crosscheck store; it was left untouched",
                path.display()
            );
        }
        conn.pragma_update(None, "journal_mode", "WAL")
            .with_context(|| format!("cannot switch {} to WAL", path.display()))?;
        // A finding must survive power loss once recorded, not only a crash.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        if version == 0 {
            conn.execute_batch(&format!(
                "BEGIN; {SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
            ))
            .with_context(|| {
                format!(
                    "cannot create the schema in {} (created: {})",
                    path.display(),
                    !existed
                )
            })?;
        }
        Ok(Store {
            dir: dir.to_path_buf(),
            conn,
        })
    }

    /// The path of an artifact.
    pub fn artifact_path(&self, hash: &str) -> PathBuf {
        self.dir.join("artifacts").join(format!("{hash}.wasm"))
    }

    /// Records one hit: a new finding for a new signature, otherwise one
    /// more hit of the existing one. The module is on disk and the row
    /// committed before this returns.
    pub fn record(&mut self, hit: &Hit<'_>) -> Result<Recorded> {
        let hash = format!("{:x}", Sha256::digest(hit.wasm));
        self.write_artifact(&hash, hit.wasm)?;
        let tx = self.conn.transaction()?;
        let existing: Option<(i64, i64)> = tx
            .query_row(
                "SELECT id, hits FROM findings WHERE signature = ?1",
                params![hit.signature],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        let recorded = match existing {
            Some((id, hits)) => {
                tx.execute(
                    "UPDATE findings SET hits = hits + 1, last_seen = ?2 WHERE id = ?1",
                    params![id, hit.now],
                )?;
                Recorded {
                    id,
                    new: false,
                    hits: hits + 1,
                }
            }
            None => {
                tx.execute(
                    "INSERT INTO findings (signature, kind, first_seen, last_seen, hits, first_seed, artifact, summary)
                     VALUES (?1, ?2, ?3, ?3, 1, ?4, ?5, ?6)",
                    params![
                        hit.signature,
                        hit.kind,
                        hit.now,
                        hit.seed.map(|s| s as i64),
                        hash,
                        hit.summary
                    ],
                )?;
                Recorded {
                    id: tx.last_insert_rowid(),
                    new: true,
                    hits: 1,
                }
            }
        };
        tx.commit().context("committing a finding")?;
        Ok(recorded)
    }

    /// All findings, most hit first.
    pub fn findings(&self) -> Result<Vec<Finding>> {
        let mut stmt = self
            .conn
            .prepare(&format!("{SELECT_FINDING} ORDER BY hits DESC, id"))?;
        let rows = stmt.query_map([], finding_from_row)?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .context("reading findings")
    }

    /// One finding by id.
    pub fn finding(&self, id: i64) -> Result<Option<Finding>> {
        self.conn
            .query_row(
                &format!("{SELECT_FINDING} WHERE id = ?1"),
                params![id],
                finding_from_row,
            )
            .optional()
            .context("reading a finding")
    }

    /// Writes the module under its hash unless it is there already: to a
    /// temporary name, synced, then renamed, so a crash never leaves a
    /// truncated artifact behind a committed row.
    fn write_artifact(&self, hash: &str, wasm: &[u8]) -> Result<()> {
        let path = self.artifact_path(hash);
        if path.exists() {
            return Ok(());
        }
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(wasm)?;
            file.sync_all()?;
            std::fs::rename(&tmp, &path)
        };
        write().with_context(|| format!("writing artifact {}", path.display()))
    }
}

const SELECT_FINDING: &str =
    "SELECT id, signature, kind, first_seen, last_seen, hits, status, first_seed, artifact, summary FROM findings";

fn finding_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Finding> {
    Ok(Finding {
        id: row.get(0)?,
        signature: row.get(1)?,
        kind: row.get(2)?,
        first_seen: row.get(3)?,
        last_seen: row.get(4)?,
        hits: row.get(5)?,
        status: row.get(6)?,
        first_seed: row.get::<_, Option<i64>>(7)?.map(|s| s as u64),
        artifact: row.get(8)?,
        summary: row.get(9)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("crosscheck-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn hit<'a>(signature: &'a str, seed: u64, wasm: &'a [u8], now: i64) -> Hit<'a> {
        Hit {
            signature,
            kind: "mismatch",
            seed: Some(seed),
            wasm,
            summary: "MISMATCH at call #0",
            now,
        }
    }

    #[test]
    fn one_bug_hit_many_times_is_one_finding_and_others_are_separate() {
        let dir = temp("dedup");
        let mut store = Store::open(&dir).unwrap();
        let first = store
            .record(&hit("mismatch a", 7, b"\0asm-a", 100))
            .unwrap();
        assert_eq!(
            first,
            Recorded {
                id: first.id,
                new: true,
                hits: 1
            }
        );
        for n in 2..=1000 {
            let again = store
                .record(&hit("mismatch a", 7 + n as u64, b"\0asm-x", 100 + n))
                .unwrap();
            assert_eq!(
                again,
                Recorded {
                    id: first.id,
                    new: false,
                    hits: n
                }
            );
        }
        let other = store.record(&hit("crash b", 3, b"\0asm-b", 5000)).unwrap();
        assert!(other.new && other.id != first.id);
        let findings = store.findings().unwrap();
        assert_eq!(findings.len(), 2);
        let a = &findings[0];
        assert_eq!(
            (a.hits, a.first_seed, a.first_seen, a.last_seen),
            (1000, Some(7), 100, 1100)
        );
        // The first module is the one kept, under its hash.
        assert_eq!(
            std::fs::read(store.artifact_path(&a.artifact)).unwrap(),
            b"\0asm-a"
        );
        assert_eq!(
            store.finding(other.id).unwrap().unwrap().signature,
            "crash b"
        );
        assert!(store.finding(9999).unwrap().is_none());
    }

    #[test]
    fn findings_survive_reopening() {
        let dir = temp("reopen");
        let id = Store::open(&dir)
            .unwrap()
            .record(&hit("s", 1, b"m", 1))
            .unwrap()
            .id;
        let store = Store::open(&dir).unwrap();
        assert_eq!(store.finding(id).unwrap().unwrap().hits, 1);
    }

    #[test]
    fn corrupt_foreign_and_newer_stores_are_refused_and_left_untouched() {
        let dir = temp("corrupt");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("crosscheck.sqlite");
        std::fs::write(&path, b"this is not a database, but it is someone's data").unwrap();
        let err = format!("{:#}", Store::open(&dir).err().unwrap());
        assert!(
            err.contains("not a readable crosscheck store") && err.contains("left untouched"),
            "{err}"
        );
        assert_eq!(
            std::fs::read(&path).unwrap(),
            b"this is not a database, but it is someone's data"
        );

        let dir = temp("newer");
        Store::open(&dir).unwrap();
        Connection::open(dir.join("crosscheck.sqlite"))
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        let err = format!("{:#}", Store::open(&dir).err().unwrap());
        assert!(err.contains("schema version 99, newer"), "{err}");

        let dir = temp("foreign");
        std::fs::create_dir_all(&dir).unwrap();
        Connection::open(dir.join("crosscheck.sqlite"))
            .unwrap()
            .execute_batch("CREATE TABLE mine (x INTEGER); INSERT INTO mine VALUES (1);")
            .unwrap();
        let err = format!("{:#}", Store::open(&dir).err().unwrap());
        assert!(err.contains("not a crosscheck store"), "{err}");
        let kept: i64 = Connection::open(dir.join("crosscheck.sqlite"))
            .unwrap()
            .query_row("SELECT x FROM mine", [], |r| r.get(0))
            .unwrap();
        assert_eq!(kept, 1);
    }

    #[test]
    fn an_unwritable_directory_is_an_error_naming_it() {
        let err = format!(
            "{:#}",
            Store::open(Path::new("/proc/crosscheck-data"))
                .err()
                .unwrap()
        );
        assert!(
            err.contains("cannot create the store directory /proc/crosscheck-data"),
            "{err}"
        );
    }
}
