//! The store's database: opening (refusing a damaged, foreign or newer
//! store untouched, upgrading an older one), the schema and its
//! migrations for SQLite and PostgreSQL, the daemon lock and modules.

use super::sql::{params, Db, Dialect};
use crate::config::StoreConfig;
use anyhow::{bail, Context, Result};
use rusqlite::{Connection, OpenFlags};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The schema this build writes; a store with a newer one is refused.
pub const SCHEMA_VERSION: i64 = 12;

/// Schema steps: entry `i` takes a store from version `i` to `i + 1`.
const MIGRATIONS: [&str; 12] = [
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
    CREATE TABLE pending (start INTEGER PRIMARY KEY, \"end\" INTEGER NOT NULL);
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
    // A fleet: the host of each run; who holds each unfinished seed range
    // and until when (a range whose lease ran out is taken over); who is
    // triaging a finding and until when; and the modules themselves in
    // the database (PostgreSQL; SQLite keeps them as files in artifacts/).
    "ALTER TABLE runs ADD COLUMN host TEXT;
    ALTER TABLE pending ADD COLUMN run INTEGER;
    ALTER TABLE pending ADD COLUMN lease_until INTEGER;
    ALTER TABLE findings ADD COLUMN claimed_by TEXT;
    ALTER TABLE findings ADD COLUMN claimed_until INTEGER;
    CREATE TABLE modules (hash TEXT PRIMARY KEY, wasm BLOB NOT NULL);",
];

/// An open store: SQLite in the data directory, or PostgreSQL (then the
/// data directory holds a cache of its modules).
pub struct Store {
    pub(super) dir: PathBuf,
    pub(super) db: Db,
    /// Where the store is, for messages: the data directory or the URL
    /// without its password.
    location: String,
    /// How long a daemon holds the seeds it took without renewing.
    pub(super) lease_seconds: i64,
}

impl Store {
    /// Opens the store `config` names (`[store] url`, else the SQLite store
    /// of `data_dir`), creating it if needed. A file that is not a
    /// crosscheck store, a damaged one, or one written by a newer
    /// crosscheck is refused and left untouched; an older schema is
    /// upgraded.
    pub fn open(config: &StoreConfig) -> Result<Store> {
        Store::open_config(config, Access::Create)
    }

    /// Opens an existing store for reading while daemons may be writing it.
    pub fn open_existing(config: &StoreConfig) -> Result<Store> {
        Store::open_config(config, Access::Write)
    }

    /// Opens an existing store only to read it: SQLite read-only (so a
    /// user who may read the store but not write it can), a PostgreSQL
    /// session whose transactions are all read-only. A store of an older
    /// schema is opened to be upgraded instead, as by any command.
    pub fn open_read_only(config: &StoreConfig) -> Result<Store> {
        Store::open_config(config, Access::Read)
    }

    fn open_config(config: &StoreConfig, access: Access) -> Result<Store> {
        let dir = &config.data_dir;
        match config.url() {
            Some(url) => {
                let cache = create_private_dirs(dir)
                    .with_context(|| format!("cannot create the module cache {}", dir.display()));
                if access != Access::Read {
                    cache?;
                }
                let db = Db::postgres(
                    &url,
                    Duration::from_secs(config.reconnect_seconds),
                    access == Access::Read,
                )?;
                let location = super::sql::redact(&url);
                open_postgres(&db, &location, access == Access::Create)?;
                Ok(Store {
                    dir: dir.clone(),
                    db,
                    location,
                    lease_seconds: config.lease_seconds as i64,
                })
            }
            None => {
                let mut store = match access {
                    Access::Create => Store::open_dir(dir)?,
                    Access::Write => Store::open_dir_existing(dir)?,
                    Access::Read => Store::open_dir_read_only(dir)?,
                };
                store.lease_seconds = config.lease_seconds as i64;
                Ok(store)
            }
        }
    }

    /// Opens the SQLite store in `dir`, creating it if needed.
    pub fn open_dir(dir: &Path) -> Result<Store> {
        create_private_dirs(dir)
            .with_context(|| format!("cannot create the store directory {}", dir.display()))?;
        make_private(&dir.join(DB_FILE))?;
        Store::open_file(dir, true)
    }

    /// Opens an existing SQLite store in `dir`.
    pub fn open_dir_existing(dir: &Path) -> Result<Store> {
        if !dir.join(DB_FILE).exists() {
            bail!(
                "no crosscheck store in {} (`crosscheck run` creates one there)",
                dir.display()
            );
        }
        make_private(&dir.join(DB_FILE))?;
        Store::open_file(dir, false)
    }

    /// Opens an existing SQLite store in `dir` read-only; one of an older
    /// schema is opened writable, to be upgraded.
    fn open_dir_read_only(dir: &Path) -> Result<Store> {
        let path = dir.join(DB_FILE);
        if !path.exists() {
            return Store::open_dir_existing(dir);
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let open = |uri: &str| -> rusqlite::Result<(Connection, i64)> {
            let conn = Connection::open_with_flags(uri, flags)?;
            conn.busy_timeout(std::time::Duration::from_secs(10))?;
            let version = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
            Ok((conn, version))
        };
        let uri = format!("file:{}", uri_path(&path));
        // A WAL database needs its -shm file, which a reader without
        // write access to the directory cannot make; with no -wal file
        // there is no writer, and the file can be read as it is.
        let wal = dir.join(format!("{DB_FILE}-wal"));
        let opened = match open(&uri) {
            Err(_) if !wal.exists() => open(&format!("{uri}?immutable=1")),
            opened => opened,
        };
        let (conn, version) = opened.map_err(|e| {
            anyhow::anyhow!(
                "{} is not a readable crosscheck store ({e}); it was left untouched",
                path.display()
            )
        })?;
        refuse_newer(version, &path.display().to_string())?;
        if version < SCHEMA_VERSION {
            drop(conn);
            return Store::open_file(dir, false);
        }
        Ok(Store {
            dir: dir.to_path_buf(),
            db: Db::sqlite(conn),
            location: dir.display().to_string(),
            lease_seconds: StoreConfig::default().lease_seconds as i64,
        })
    }

    fn open_file(dir: &Path, create: bool) -> Result<Store> {
        let path = dir.join(DB_FILE);
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let conn = Connection::open_with_flags(&path, flags)
            .with_context(|| format!("cannot open the store {}", path.display()))?;
        // Readers, the daemon and its background triage share the file:
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
        refuse_newer(version, &path.display().to_string())?;
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
        let db = Db::sqlite(conn);
        if version < SCHEMA_VERSION {
            migrate_sqlite(&db)
                .with_context(|| format!("cannot upgrade the store {}", path.display()))?;
        }
        Ok(Store {
            dir: dir.to_path_buf(),
            db,
            location: dir.display().to_string(),
            lease_seconds: StoreConfig::default().lease_seconds as i64,
        })
    }

    /// Where the store is: its data directory, or its URL without the
    /// password.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Whether the connection to a PostgreSQL store is lost (its server
    /// went away): what failed is worth writing again later.
    pub fn is_disconnected(&self) -> bool {
        self.db.lost_connection()
    }

    /// How long a lost PostgreSQL connection is tried again before a
    /// statement fails (`[store] reconnect_seconds` when opened).
    pub fn set_reconnect_for(&mut self, reconnect_for: Duration) {
        self.db.set_reconnect_for(reconnect_for);
    }

    /// Whether the store is a fleet's PostgreSQL store.
    pub fn is_shared(&self) -> bool {
        self.db.dialect() == Dialect::Postgres
    }

    /// The path of a module, by hash. In a PostgreSQL store it is the local
    /// cache's copy, fetched from the database if missing.
    pub fn artifact_path(&self, hash: &str) -> PathBuf {
        let path = self.artifacts_dir().join(format!("{hash}.wasm"));
        if self.is_shared() && !path.exists() {
            if let Err(err) = self.cache_module(hash, &path) {
                tracing::warn!("caching module {hash}: {err:#}");
            }
        }
        path
    }

    /// Reads a stored module, naming it on failure.
    pub fn read_artifact(&self, hash: &str) -> Result<Vec<u8>> {
        let path = self.artifact_path(hash);
        std::fs::read(&path).with_context(|| format!("reading the module {}", path.display()))
    }

    /// Stores a module under its SHA-256; returns the hash. Kept once: in
    /// PostgreSQL in the database (and the local cache), else as a file.
    pub fn write_module(&self, wasm: &[u8]) -> Result<String> {
        let hash = format!("{:x}", Sha256::digest(wasm));
        if self.is_shared() {
            self.db
                .execute(
                    "INSERT INTO modules (hash, wasm) VALUES (?1, ?2) ON CONFLICT (hash) DO NOTHING",
                    params![hash.as_str(), wasm],
                )
                .context("storing a module")?;
        }
        write_file(&self.artifacts_dir().join(format!("{hash}.wasm")), wasm)?;
        Ok(hash)
    }

    fn cache_module(&self, hash: &str, path: &Path) -> Result<()> {
        let wasm: Vec<u8> = self
            .db
            .row("SELECT wasm FROM modules WHERE hash = ?1", params![hash])?
            .with_context(|| format!("no module {hash} in the store"))?
            .get(0)?;
        write_file(path, &wasm)
    }

    /// Where modules are kept, by hash (in a PostgreSQL store, the cache).
    pub(super) fn artifacts_dir(&self) -> PathBuf {
        self.dir.join("artifacts")
    }

    /// Takes the store's daemon lock, held while the returned file is open:
    /// two daemons on one SQLite store would hand out the same seeds. A
    /// PostgreSQL store takes many daemons, which lease seed ranges
    /// instead: `None`.
    pub fn lock_for_daemon(&self) -> Result<Option<std::fs::File>> {
        if self.is_shared() {
            return Ok(None);
        }
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
        Ok(Some(file))
    }

    /// The pid of the daemon running on this SQLite store, if one is.
    pub fn running_daemon(&self) -> Option<u32> {
        if self.is_shared() {
            return None;
        }
        let path = self.dir.join(LOCK_FILE);
        let file = std::fs::File::open(&path).ok()?;
        match file.try_lock_shared() {
            Ok(()) => None,
            Err(_) => std::fs::read_to_string(&path).ok()?.trim().parse().ok(),
        }
    }
}

fn refuse_newer(version: i64, location: &str) -> Result<()> {
    if version > SCHEMA_VERSION {
        bail!(
            "{location} has store schema version {version}, newer than this crosscheck understands ({SCHEMA_VERSION}); \
             use a newer crosscheck or another store"
        );
    }
    Ok(())
}

/// Brings an SQLite schema up to date. The version is read again under the
/// write lock: a reader (`crosscheck status`) and the daemon may open a new
/// store at the same moment, and only one of them may create it.
fn migrate_sqlite(db: &Db) -> Result<()> {
    db.transaction(|db| {
        let version: i64 = db.value("PRAGMA user_version", &[])?;
        for (from, step) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let to = from + 1;
            db.batch(&format!("{step} PRAGMA user_version = {to};"))
                .with_context(|| format!("from schema {from} to {to}"))?;
        }
        Ok(())
    })
}

/// The version table of a PostgreSQL store (PostgreSQL has no
/// `user_version`).
const PG_VERSION_TABLE: &str = "crosscheck_schema";

/// Checks and brings a PostgreSQL store's schema up to date, under an
/// advisory lock: daemons of a fleet starting together create it once.
/// Creates the store's directory and its module directory, owner-only
/// (mode 0700) where they are new, and makes an existing module
/// directory owner-only: the store holds every finding's module, which
/// is nobody else's to read.
fn create_private_dirs(dir: &Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let artifacts = dir.join("artifacts");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&artifacts)?;
    let mode = std::fs::metadata(&artifacts)?.permissions().mode();
    if mode & 0o077 != 0 {
        std::fs::set_permissions(&artifacts, std::fs::Permissions::from_mode(mode & 0o700))?;
    }
    Ok(())
}

/// Creates the SQLite file owner-only (mode 0600) before SQLite opens it,
/// or makes an existing one (and its journal files, which SQLite creates
/// with the database's mode) owner-only.
fn make_private(db: &Path) -> Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(db);
    match created {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            for suffix in ["", "-wal", "-shm"] {
                let path = PathBuf::from(format!("{}{suffix}", db.display()));
                let Ok(meta) = std::fs::metadata(&path) else {
                    continue;
                };
                let mode = meta.permissions().mode();
                if mode & 0o077 != 0 {
                    // The owner's bits kept: a read-only store stays one.
                    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode & 0o700))
                        .with_context(|| format!("cannot make {} owner-only", path.display()))?;
                }
            }
            Ok(())
        }
        Err(e) => Err(e).with_context(|| format!("cannot create the store {}", db.display())),
    }
}

fn open_postgres(db: &Db, location: &str, create: bool) -> Result<()> {
    let has_table = |name: &str| -> Result<bool> {
        Ok(db.value::<i64>(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?1",
            params![name],
        )? > 0)
    };
    let version = |db: &Db| -> Result<i64> {
        if !has_table(PG_VERSION_TABLE)? {
            return Ok(0);
        }
        db.value(&format!("SELECT version FROM {PG_VERSION_TABLE}"), &[])
    };
    let found = version(db).with_context(|| format!("reading the store {location}"))?;
    refuse_newer(found, location)?;
    if found == 0 && has_table("findings")? {
        bail!(
            "{location} has a findings table but is not a crosscheck store; it was left untouched"
        );
    }
    if found == 0 && !create {
        bail!("no crosscheck store in {location} (`crosscheck run` creates one there)");
    }
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    db.transaction(|db| {
        db.batch("SELECT pg_advisory_xact_lock(7340281)")?;
        db.batch(&format!(
            "CREATE TABLE IF NOT EXISTS {PG_VERSION_TABLE} (version BIGINT NOT NULL);
             INSERT INTO {PG_VERSION_TABLE} SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM {PG_VERSION_TABLE})"
        ))?;
        let now = version(db)?;
        refuse_newer(now, location)?;
        for (from, step) in MIGRATIONS.iter().enumerate().skip(now as usize) {
            let to = from + 1;
            db.batch(&format!(
                "{} UPDATE {PG_VERSION_TABLE} SET version = {to};",
                postgres_ddl(step)
            ))
            .with_context(|| format!("from schema {from} to {to}"))?;
        }
        Ok(())
    })
    .with_context(|| format!("cannot create or upgrade the store {location}"))
}

/// A schema step as PostgreSQL spells it: 64-bit integers, generated
/// ids, bytes, and a `rowid` for the hits (SQLite's implicit order).
fn postgres_ddl(step: &str) -> String {
    step.replace("INTEGER PRIMARY KEY", "BIGSERIAL PRIMARY KEY")
        .replace(" INTEGER", " BIGINT")
        .replace(" REAL", " DOUBLE PRECISION")
        .replace(" BLOB", " BYTEA")
        .replace(") WITHOUT ROWID;", ");")
        .replace(
            "CREATE TABLE hits (",
            "CREATE TABLE hits (\n        rowid BIGSERIAL,",
        )
}

const DB_FILE: &str = "crosscheck.sqlite";

/// How a command opens the store.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Made if missing, upgraded if old (the daemon, import).
    Create,
    /// Existing, written (mark, shrink, ...).
    Write,
    /// Existing, only read (status, findings, report, gate, the dashboard).
    Read,
}

/// A path as the path of an SQLite `file:` URI: the characters a URI
/// gives a meaning escaped.
fn uri_path(path: &Path) -> String {
    path.display()
        .to_string()
        .replace('%', "%25")
        .replace('?', "%3f")
        .replace('#', "%23")
}
const LOCK_FILE: &str = "daemon.lock";

/// Writes the module to `path` unless it is there already: to a temporary
/// name, synced, then renamed, so a crash never leaves a truncated artifact
/// behind a committed row.
pub(super) fn write_file(path: &Path, wasm: &[u8]) -> Result<()> {
    if path.exists() {
        return Ok(());
    }
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(wasm)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().with_context(|| format!("writing the module {}", path.display()))
}

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
        let err = format!("{:#}", Store::open_dir(&dir).err().unwrap());
        assert!(
            err.contains("not a readable crosscheck store") && err.contains("left untouched"),
            "{err}"
        );
        assert_eq!(
            std::fs::read(&path).unwrap(),
            b"this is not a database, but it is someone's data"
        );

        let dir = temp_dir("newer");
        Store::open_dir(&dir).unwrap();
        Connection::open(dir.join(DB_FILE))
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        let err = format!("{:#}", Store::open_dir(&dir).err().unwrap());
        assert!(err.contains("schema version 99, newer"), "{err}");

        let dir = temp_dir("foreign");
        std::fs::create_dir_all(&dir).unwrap();
        Connection::open(dir.join(DB_FILE))
            .unwrap()
            .execute_batch("CREATE TABLE mine (x INTEGER); INSERT INTO mine VALUES (1);")
            .unwrap();
        let err = format!("{:#}", Store::open_dir(&dir).err().unwrap());
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
            Store::open_dir(Path::new("/proc/crosscheck-data"))
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
        let err = format!("{:#}", Store::open_dir_existing(&dir).err().unwrap());
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
        let store = Store::open_dir(&dir).unwrap();
        let findings = store.findings().unwrap();
        assert_eq!((findings.len(), findings[0].hits), (1, 7));
        let version: i64 = store.db.value("PRAGMA user_version", &[]).unwrap();
        assert_eq!(version, SCHEMA_VERSION);
    }

    #[test]
    fn one_daemon_per_store() {
        let dir = temp_dir("lock");
        let store = Store::open_dir(&dir).unwrap();
        assert_eq!(store.running_daemon(), None);
        let lock = store.lock_for_daemon().unwrap().unwrap();
        let err = format!("{:#}", store.lock_for_daemon().err().unwrap());
        assert!(err.contains("another crosscheck daemon"), "{err}");
        assert_eq!(store.running_daemon(), Some(std::process::id()));
        drop(lock);
        assert_eq!(store.running_daemon(), None);
    }
}
