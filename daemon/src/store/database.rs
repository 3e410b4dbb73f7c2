//! The store's database: opening (refusing a damaged, foreign or newer
//! store untouched, upgrading an older one), the schema and its
//! migrations, the daemon lock and artifacts on disk.

use anyhow::{bail, Context, Result};
use rusqlite::{Connection, OpenFlags};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The schema this build writes; a store with a newer one is refused.
pub const SCHEMA_VERSION: i64 = 11;

/// Schema steps: entry `i` takes a store from version `i` to `i + 1`.
const MIGRATIONS: [&str; 11] = [
    "CREATE TABLE findings (
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
    );",
    "CREATE TABLE runs (
        id           INTEGER PRIMARY KEY,
        started_at   INTEGER NOT NULL,
        updated_at   INTEGER NOT NULL,
        ended_at     INTEGER,
        stop_reason  TEXT,
        workers      INTEGER NOT NULL,
        engines      TEXT    NOT NULL,
        version      TEXT    NOT NULL,
        cases        INTEGER NOT NULL DEFAULT 0,
        new_findings INTEGER NOT NULL DEFAULT 0
    );
    -- One row per seeded hit: re-running a seed after a crash of the
    -- daemon does not count its findings twice.
    CREATE TABLE hits (
        finding INTEGER NOT NULL REFERENCES findings(id),
        seed    INTEGER,
        run     INTEGER REFERENCES runs(id),
        at      INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX hits_once_per_seed ON hits(finding, seed) WHERE seed IS NOT NULL;
    CREATE TABLE counters (
        run    INTEGER NOT NULL REFERENCES runs(id),
        engine TEXT    NOT NULL,
        name   TEXT    NOT NULL,
        value  INTEGER NOT NULL,
        PRIMARY KEY (run, engine, name)
    ) WITHOUT ROWID;
    -- Seed ranges handed to workers and not yet finished: run first on resume.
    CREATE TABLE pending (start INTEGER PRIMARY KEY, end INTEGER NOT NULL);
    CREATE TABLE state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);",
    // The smallest module known to reproduce each finding.
    "ALTER TABLE findings ADD COLUMN shrunk TEXT;
    ALTER TABLE findings ADD COLUMN shrunk_size INTEGER;",
    // Who is probably wrong, in words (see `oracles::judge::attribution`).
    "ALTER TABLE findings ADD COLUMN suspect TEXT;",
    // How often the module gave its signature when re-run (`3/3`), set once
    // the finding is triaged; `error: ...` if triage failed.
    "ALTER TABLE findings ADD COLUMN reproducible TEXT;",
    // The code shape of the shrunk module (`oracles::triage::code_shape`), and the
    // finding this one was merged into because they share it: a merged
    // finding keeps its row and hits as history; new hits go to the other.
    // Where a finding's first module came from when not from the daemon's
    // seeds (`imported from crash-1234`): its seed then only draws the
    // call arguments.
    "ALTER TABLE findings ADD COLUMN shape TEXT;
    ALTER TABLE findings ADD COLUMN merged_into INTEGER REFERENCES findings(id);
    ALTER TABLE findings ADD COLUMN source TEXT;",
    // The shrunk module re-run with one setting of each suspected engine
    // changed at a time (`oracles::triage::flip`), one line per change.
    "ALTER TABLE findings ADD COLUMN flips TEXT;",
    // Cases finished per run and minute (Unix seconds / 60): the dashboard's
    // cases/s over time, without keeping a row per case.
    "CREATE TABLE throughput (
        run    INTEGER NOT NULL REFERENCES runs(id),
        minute INTEGER NOT NULL,
        cases  INTEGER NOT NULL,
        PRIMARY KEY (run, minute)
    ) WITHOUT ROWID;",
    // Each engine's reference of compile cost per instruction
    // (`oracles::cost::baseline`): what outlier blowups are judged by.
    "CREATE TABLE cost_baseline (
        engine      TEXT NOT NULL,
        metric      TEXT NOT NULL,
        log2_median REAL NOT NULL,
        log2_mad    REAL NOT NULL,
        samples     INTEGER NOT NULL,
        updated     INTEGER NOT NULL,
        PRIMARY KEY (engine, metric)
    ) WITHOUT ROWID;
    -- Scaling checks the daemon ran: a built-in shape (subject
    -- `shape:<name>`) or a blowup finding's shrunk module (`finding:<id>`).
    CREATE TABLE scaling (
        id          INTEGER PRIMARY KEY,
        at          INTEGER NOT NULL,
        subject     TEXT NOT NULL,
        finding     INTEGER REFERENCES findings(id),
        report      TEXT NOT NULL,
        superlinear TEXT NOT NULL
    );
    CREATE INDEX scaling_subject ON scaling (subject, at);",
    // Groups of findings with one trigger (`oracles::triage::trigger`): the
    // key is the suspect and the fingerprint (or the minimal module), or a
    // person's decision (`by-hand:<n>`); a finding grouped by hand is never
    // regrouped.
    "CREATE TABLE groups (
        id           INTEGER PRIMARY KEY,
        key          TEXT NOT NULL UNIQUE,
        trigger      TEXT NOT NULL,
        instructions TEXT NOT NULL,
        created      INTEGER NOT NULL
    );
    ALTER TABLE findings ADD COLUMN fingerprint TEXT;
    ALTER TABLE findings ADD COLUMN group_id INTEGER REFERENCES groups(id);
    ALTER TABLE findings ADD COLUMN grouped_by_hand INTEGER NOT NULL DEFAULT 0;",
    // Bisections of findings across Wasmtime releases (`crosscheck
    // bisect`), every one kept; the newest is shown.
    "CREATE TABLE bisections (
        id       INTEGER PRIMARY KEY,
        finding  INTEGER NOT NULL REFERENCES findings(id),
        at       INTEGER NOT NULL,
        range    TEXT NOT NULL,
        answer   TEXT NOT NULL,
        tested   TEXT NOT NULL
    );
    CREATE INDEX bisections_finding ON bisections (finding, at);",
];

/// An open store directory.
pub struct Store {
    pub(super) dir: PathBuf,
    pub(super) conn: Connection,
}

impl Store {
    /// Opens the store in `dir`, creating it if needed. A file that is not a
    /// crosscheck store, a damaged one, or one written by a newer crosscheck
    /// is refused and left untouched; an older schema is upgraded.
    pub fn open(dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(dir.join("artifacts"))
            .with_context(|| format!("cannot create the store directory {}", dir.display()))?;
        Store::open_file(dir, true)
    }

    /// Opens an existing store for reading while a daemon may be writing it.
    pub fn open_existing(dir: &Path) -> Result<Store> {
        if !dir.join(DB_FILE).exists() {
            bail!(
                "no crosscheck store in {} (`crosscheck run` creates one there)",
                dir.display()
            );
        }
        Store::open_file(dir, false)
    }

    fn open_file(dir: &Path, create: bool) -> Result<Store> {
        let path = dir.join(DB_FILE);
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let conn = Connection::open_with_flags(&path, flags)
            .with_context(|| format!("cannot open the store {}", path.display()))?;
        // Readers, the daemon and its background shrinker share the file:
        // wait for each other's locks. Every write transaction is IMMEDIATE
        // (takes the write lock first), since a read upgraded to a write
        // fails at once, without waiting, if another connection wrote
        // in between.
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
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
        conn.pragma_update(None, "foreign_keys", "ON")?;
        if version < SCHEMA_VERSION {
            migrate(&conn)
                .with_context(|| format!("cannot upgrade the store {}", path.display()))?;
        }
        Ok(Store {
            dir: dir.to_path_buf(),
            conn,
        })
    }

    /// The path of an artifact.
    pub fn artifact_path(&self, hash: &str) -> PathBuf {
        self.artifacts_dir().join(format!("{hash}.wasm"))
    }

    /// Reads a stored module, naming the file on failure.
    pub fn read_artifact(&self, hash: &str) -> Result<Vec<u8>> {
        let path = self.artifact_path(hash);
        std::fs::read(&path).with_context(|| format!("reading the module {}", path.display()))
    }

    /// Where modules are kept, by hash.
    pub(super) fn artifacts_dir(&self) -> PathBuf {
        self.dir.join("artifacts")
    }

    /// Takes the store's daemon lock, held while the returned file is open:
    /// two daemons on one store would hand out the same seeds.
    pub fn lock_for_daemon(&self) -> Result<std::fs::File> {
        let path = self.dir.join(LOCK_FILE);
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open the lock file {}", path.display()))?;
        if file.try_lock().is_err() {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            bail!(
                "another crosscheck daemon (pid {}) is running on {}",
                holder.trim(),
                self.dir.display()
            );
        }
        file.set_len(0)?;
        write!(file, "{}", std::process::id())?;
        Ok(file)
    }

    /// The pid of the daemon running on this store, if one is.
    pub fn running_daemon(&self) -> Option<u32> {
        let path = self.dir.join(LOCK_FILE);
        let file = std::fs::File::open(&path).ok()?;
        match file.try_lock_shared() {
            Ok(()) => None,
            Err(_) => std::fs::read_to_string(&path).ok()?.trim().parse().ok(),
        }
    }
}

/// Brings the schema up to date. The version is read again under the write
/// lock: a reader (`crosscheck status`) and the daemon may open a new store
/// at the same moment, and only one of them may create it.
fn migrate(conn: &Connection) -> Result<()> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| -> Result<()> {
        let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        for (from, step) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let to = from + 1;
            conn.execute_batch(&format!("{step} PRAGMA user_version = {to};"))
                .with_context(|| format!("from schema {from} to {to}"))?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => conn.execute_batch("COMMIT").map_err(Into::into),
        Err(err) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(err)
        }
    }
}

const DB_FILE: &str = "crosscheck.sqlite";
const LOCK_FILE: &str = "daemon.lock";

/// The current time in Unix seconds, as the store records it.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Seeds are u64; SQLite integers are i64. Stored bit for bit.
pub(super) fn seed_to_sql(seed: u64) -> i64 {
    seed as i64
}

pub(super) fn seed_from_sql(value: i64) -> u64 {
    value as u64
}

#[cfg(test)]
pub(crate) fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("crosscheck-store-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_foreign_and_newer_stores_are_refused_and_left_untouched() {
        let dir = temp_dir("corrupt");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(DB_FILE);
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

        let dir = temp_dir("newer");
        Store::open(&dir).unwrap();
        Connection::open(dir.join(DB_FILE))
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        let err = format!("{:#}", Store::open(&dir).err().unwrap());
        assert!(err.contains("schema version 99, newer"), "{err}");

        let dir = temp_dir("foreign");
        std::fs::create_dir_all(&dir).unwrap();
        Connection::open(dir.join(DB_FILE))
            .unwrap()
            .execute_batch("CREATE TABLE mine (x INTEGER); INSERT INTO mine VALUES (1);")
            .unwrap();
        let err = format!("{:#}", Store::open(&dir).err().unwrap());
        assert!(err.contains("not a crosscheck store"), "{err}");
        let kept: i64 = Connection::open(dir.join(DB_FILE))
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

    #[test]
    fn a_missing_store_is_not_created_by_readers() {
        let dir = temp_dir("missing");
        let err = format!("{:#}", Store::open_existing(&dir).err().unwrap());
        assert!(err.contains("no crosscheck store in"), "{err}");
        assert!(!dir.exists());
    }

    #[test]
    fn a_version_1_store_is_upgraded_keeping_its_findings() {
        let dir = temp_dir("upgrade");
        std::fs::create_dir_all(&dir).unwrap();
        let conn = Connection::open(dir.join(DB_FILE)).unwrap();
        conn.execute_batch(&format!(
            "{} INSERT INTO findings (signature, kind, first_seen, last_seen, hits, artifact, summary)
             VALUES ('s', 'mismatch', 1, 2, 7, 'h', 'x'); PRAGMA user_version = 1;",
            MIGRATIONS[0]
        ))
        .unwrap();
        drop(conn);
        let store = Store::open(&dir).unwrap();
        let findings = store.findings().unwrap();
        assert_eq!((findings.len(), findings[0].hits), (1, 7));
        let version: i64 = store
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
    }

    #[test]
    fn one_daemon_per_store() {
        let dir = temp_dir("lock");
        let store = Store::open(&dir).unwrap();
        assert_eq!(store.running_daemon(), None);
        let lock = store.lock_for_daemon().unwrap();
        let err = format!("{:#}", store.lock_for_daemon().err().unwrap());
        assert!(err.contains("another crosscheck daemon"), "{err}");
        assert_eq!(store.running_daemon(), Some(std::process::id()));
        drop(lock);
        assert_eq!(store.running_daemon(), None);
    }
}
