//! One SQL interface over the two databases a store can live in: SQLite
//! (the embedded default, a file in the data directory) and PostgreSQL (a
//! fleet's shared store). Statements are written once, with `?N`
//! placeholders and the SQL both understand; rows come back as values.
//! A PostgreSQL connection lost between statements is opened again, and a
//! transaction cut by the loss is run again from its start, until
//! `reconnect_for` has passed: a restarted server costs a pause, not data.

use anyhow::{anyhow, bail, Context, Result};
use postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};
use tracing::{debug, info, warn};

/// A value passed to or read from a statement.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// An integer (SQLite INTEGER, PostgreSQL BIGINT).
    Int(i64),
    /// A float.
    Real(f64),
    /// Text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Real(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Int(i64::from(v))
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Value {
        Value::Text(v.clone())
    }
}
impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Value {
        Value::Blob(v.to_vec())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// Statement parameters: `params![a, b]` is `&[Value::from(a), ...]`.
macro_rules! params {
    ($($value:expr),* $(,)?) => {
        &[$($crate::store::sql::Value::from($value)),*][..]
    };
}
pub(crate) use params;

/// One row of a result.
#[derive(Clone, Debug)]
pub struct Row(Vec<Value>);

impl Row {
    /// Its values, in column order.
    pub fn values(&self) -> &[Value] {
        &self.0
    }

    /// Column `index`, converted.
    pub fn get<T: FromValue>(&self, index: usize) -> Result<T> {
        let value = self
            .0
            .get(index)
            .with_context(|| format!("no column {index} in a row"))?;
        T::from_value(value).with_context(|| format!("column {index}"))
    }
}

/// A Rust type a column converts to.
pub trait FromValue: Sized {
    /// The conversion; an error names what the column held.
    fn from_value(value: &Value) -> Result<Self>;
}

impl FromValue for i64 {
    fn from_value(value: &Value) -> Result<i64> {
        match value {
            Value::Int(v) => Ok(*v),
            other => bail!("an integer was expected, not {other:?}"),
        }
    }
}
impl FromValue for f64 {
    fn from_value(value: &Value) -> Result<f64> {
        match value {
            Value::Real(v) => Ok(*v),
            Value::Int(v) => Ok(*v as f64),
            other => bail!("a number was expected, not {other:?}"),
        }
    }
}
impl FromValue for String {
    fn from_value(value: &Value) -> Result<String> {
        match value {
            Value::Text(v) => Ok(v.clone()),
            other => bail!("text was expected, not {other:?}"),
        }
    }
}
impl FromValue for Vec<u8> {
    fn from_value(value: &Value) -> Result<Vec<u8>> {
        match value {
            Value::Blob(v) => Ok(v.clone()),
            other => bail!("bytes were expected, not {other:?}"),
        }
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Result<Option<T>> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// Which database a store is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite, one daemon per store.
    Sqlite,
    /// PostgreSQL, a fleet per store.
    Postgres,
}

enum Backend {
    Sqlite(rusqlite::Connection),
    Postgres {
        client: Box<postgres::Client>,
        url: String,
        /// Every transaction of the session is read-only (a reader's
        /// store: the server refuses any write).
        read_only: bool,
    },
}

/// A connection to the store's database.
pub struct Db {
    backend: RefCell<Backend>,
    /// How long a lost PostgreSQL connection is tried again before a
    /// statement fails.
    reconnect_for: Duration,
    /// Inside [`Db::transaction`]: a lost connection is then retried by
    /// running the whole transaction again, not the one statement.
    in_transaction: Cell<bool>,
    /// Whether the loss of the connection was reported and not yet mended.
    outage: Cell<bool>,
}

impl Db {
    /// An SQLite connection.
    pub fn sqlite(conn: rusqlite::Connection) -> Db {
        Db {
            backend: RefCell::new(Backend::Sqlite(conn)),
            reconnect_for: Duration::ZERO,
            in_transaction: Cell::new(false),
            outage: Cell::new(false),
        }
    }

    /// Connects to PostgreSQL at `url`; a lost connection is opened again
    /// for up to `reconnect_for`. A `read_only` session can write nothing.
    pub fn postgres(url: &str, reconnect_for: Duration, read_only: bool) -> Result<Db> {
        let client = connect(url, read_only)?;
        Ok(Db {
            backend: RefCell::new(Backend::Postgres {
                client: Box::new(client),
                url: url.to_string(),
                read_only,
            }),
            reconnect_for,
            in_transaction: Cell::new(false),
            outage: Cell::new(false),
        })
    }

    /// The database.
    pub fn dialect(&self) -> Dialect {
        match &*self.backend.borrow() {
            Backend::Sqlite(_) => Dialect::Sqlite,
            Backend::Postgres { .. } => Dialect::Postgres,
        }
    }

    /// ` FOR UPDATE SKIP LOCKED` on PostgreSQL, where daemons of a fleet
    /// take rows concurrently; nothing on SQLite, whose write transactions
    /// already exclude each other.
    pub fn skip_locked(&self) -> &'static str {
        match self.dialect() {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// ` FOR UPDATE` on PostgreSQL; nothing on SQLite.
    pub fn for_update(&self) -> &'static str {
        match self.dialect() {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }

    /// Runs a statement; the number of rows it changed.
    pub fn execute(&self, sql: &str, params: &[Value]) -> Result<u64> {
        self.retrying(|backend| match backend {
            Backend::Sqlite(conn) => {
                let mut stmt = conn.prepare_cached(sql)?;
                Ok(
                    stmt.execute(rusqlite::params_from_iter(params.iter().map(SqliteValue)))?
                        as u64,
                )
            }
            Backend::Postgres { client, .. } => {
                let sql = numbered(sql);
                Ok(client.execute(sql.as_str(), &pg_params(params))?)
            }
        })
        .with_context(|| statement_named(sql))
    }

    /// Runs statements without parameters, separated by `;`.
    pub fn batch(&self, sql: &str) -> Result<()> {
        self.retrying(|backend| run_batch(backend, sql))
    }

    /// Every row of a query.
    pub fn rows(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        self.retrying(|backend| match backend {
            Backend::Sqlite(conn) => {
                let mut stmt = conn.prepare_cached(sql)?;
                let columns = stmt.column_count();
                let mut rows =
                    stmt.query(rusqlite::params_from_iter(params.iter().map(SqliteValue)))?;
                let mut out = Vec::new();
                while let Some(row) = rows.next()? {
                    let values = (0..columns)
                        .map(|i| row.get_ref(i).map(from_sqlite))
                        .collect::<rusqlite::Result<Vec<_>>>()?;
                    out.push(Row(values));
                }
                Ok(out)
            }
            Backend::Postgres { client, .. } => {
                let sql = numbered(sql);
                client
                    .query(sql.as_str(), &pg_params(params))?
                    .iter()
                    .map(from_postgres)
                    .collect()
            }
        })
        .with_context(|| statement_named(sql))
    }

    /// Every row of a query, with the names of its columns.
    pub fn rows_named(&self, sql: &str) -> Result<(Vec<String>, Vec<Row>)> {
        let names = self.retrying(|backend| match backend {
            Backend::Sqlite(conn) => Ok(conn
                .prepare_cached(sql)?
                .column_names()
                .map(str::to_string)
                .collect::<Vec<_>>()),
            Backend::Postgres { client, .. } => Ok(client
                .prepare(sql)?
                .columns()
                .iter()
                .map(|c| c.name().to_string())
                .collect()),
        })?;
        Ok((names, self.rows(sql, &[])?))
    }

    /// The first row of a query, if any.
    pub fn row(&self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        Ok(self.rows(sql, params)?.into_iter().next())
    }

    /// The single value of a query that always gives one row.
    pub fn value<T: FromValue>(&self, sql: &str, params: &[Value]) -> Result<T> {
        self.row(sql, params)?
            .context("a query gave no row")?
            .get(0)
    }

    /// Runs `work` in a write transaction (SQLite: `BEGIN IMMEDIATE`, which
    /// takes the write lock at once). On PostgreSQL a transaction cut by a
    /// lost connection is run again whole, on a new connection.
    pub fn transaction<T>(&self, mut work: impl FnMut(&Db) -> Result<T>) -> Result<T> {
        let started = Instant::now();
        loop {
            let begin = match self.dialect() {
                Dialect::Sqlite => "BEGIN IMMEDIATE",
                Dialect::Postgres => "BEGIN",
            };
            self.in_transaction.set(true);
            let attempt = self.batch_once(begin).and_then(|()| {
                let value = work(self)?;
                self.batch_once("COMMIT")?;
                Ok(value)
            });
            self.in_transaction.set(false);
            match attempt {
                Ok(value) => return Ok(value),
                Err(err) => {
                    if self.lost_connection() && started.elapsed() < self.reconnect_for {
                        self.reconnect_pause(&err);
                        continue;
                    }
                    let _ = self.batch_once("ROLLBACK");
                    return Err(err);
                }
            }
        }
    }

    fn batch_once(&self, sql: &str) -> Result<()> {
        run_batch(&mut self.backend.borrow_mut(), sql)
    }

    /// How long a lost connection is tried again before a statement fails.
    pub fn set_reconnect_for(&mut self, reconnect_for: Duration) {
        self.reconnect_for = reconnect_for;
    }

    /// Whether a PostgreSQL connection is closed (the server went away).
    pub fn lost_connection(&self) -> bool {
        matches!(&*self.backend.borrow(), Backend::Postgres { client, .. } if client.is_closed())
    }

    /// Waits a moment and opens the connection again (once the server
    /// answers; the next try reports it otherwise).
    fn reconnect_pause(&self, err: &anyhow::Error) {
        // Said once per outage, not at every try.
        if !self.outage.replace(true) {
            warn!("the store's PostgreSQL connection was lost ({err:#}); reconnecting");
        }
        std::thread::sleep(Duration::from_millis(500));
        if let Backend::Postgres {
            client,
            url,
            read_only,
        } = &mut *self.backend.borrow_mut()
        {
            match connect(url, *read_only) {
                Ok(new) => {
                    **client = new;
                    self.outage.set(false);
                    info!("reconnected to the store");
                }
                Err(err) => debug!("reconnecting to the store: {err:#}"),
            }
        }
    }

    /// Runs `statement`, outside a transaction, again on a new connection
    /// when a lost connection failed it.
    fn retrying<T>(&self, mut statement: impl FnMut(&mut Backend) -> Result<T>) -> Result<T> {
        let started = Instant::now();
        loop {
            let result = statement(&mut self.backend.borrow_mut());
            match result {
                Err(err) if self.lost_connection() && started.elapsed() < self.reconnect_for => {
                    if self.in_transaction.get() {
                        // The transaction is retried whole by its caller.
                        return Err(err);
                    }
                    self.reconnect_pause(&err);
                }
                other => return other,
            }
        }
    }
}

/// Statements without parameters, on either database.
fn run_batch(backend: &mut Backend, sql: &str) -> Result<()> {
    match backend {
        Backend::Sqlite(conn) => Ok(conn.execute_batch(sql)?),
        Backend::Postgres { client, .. } => Ok(client.batch_execute(sql)?),
    }
}

/// A statement as an error names it: its first words.
fn statement_named(sql: &str) -> String {
    let words: Vec<&str> = sql.split_whitespace().take(8).collect();
    format!("in `{} ...`", words.join(" "))
}

/// Connects, with the URL's password left out of any error; a
/// `read_only` session makes every transaction read-only.
fn connect(url: &str, read_only: bool) -> Result<postgres::Client> {
    let mut config: postgres::Config = url.parse().map_err(|e| {
        anyhow!("the store URL ([store] url or {STORE_URL_VARIABLE}) is not a PostgreSQL URL or connection string: {e}")
    })?;
    if read_only {
        let options = format!(
            "{} -c default_transaction_read_only=on",
            config.get_options().unwrap_or_default()
        );
        config.options(options.trim_start());
    }
    config
        .connect(postgres::NoTls)
        .with_context(|| format!("cannot connect to the store {}", redact(url)))
}

/// The environment variable that may hold the store's URL, for messages.
const STORE_URL_VARIABLE: &str = crate::config::STORE_URL_VARIABLE;

/// A store URL as messages show it: the user, hosts, ports and database,
/// never the password, whichever form libpq accepts it came in (URL
/// userinfo, `?password=`, `key=value` words). It is read by the
/// PostgreSQL client's own parser and written anew from the parts, so a
/// form nobody thought of cannot carry a password through; one that does
/// not parse is not shown at all.
pub fn redact(url: &str) -> String {
    let Ok(config) = url.parse::<postgres::Config>() else {
        return "(a store URL that does not parse; not shown, it may hold a password)".into();
    };
    let ports = config.get_ports();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let name = match host {
                postgres::config::Host::Tcp(name) if name.contains(':') => format!("[{name}]"),
                postgres::config::Host::Tcp(name) => name.clone(),
                postgres::config::Host::Unix(dir) => dir.display().to_string(),
            };
            // One port for all hosts, or one per host.
            match ports.get(i).or(ports.first().filter(|_| ports.len() == 1)) {
                Some(port) => format!("{name}:{port}"),
                None => name,
            }
        })
        .collect();
    let user = config.get_user().unwrap_or_default();
    let password = if config.get_password().is_some() {
        ":***"
    } else {
        ""
    };
    let at = if user.is_empty() && password.is_empty() {
        ""
    } else {
        "@"
    };
    format!(
        "postgres://{user}{password}{at}{}/{}",
        hosts.join(","),
        config.get_dbname().unwrap_or_default()
    )
}

/// `?N` (and bare `?`) placeholders as PostgreSQL's `$N`, outside quotes.
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let mut quote: Option<char> = None;
    let mut next = 1;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            (Some(_), c) => out.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                out.push(c);
            }
            (None, '?') => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                if digits.is_empty() {
                    digits = next.to_string();
                    next += 1;
                }
                out.push('$');
                out.push_str(&digits);
            }
            (None, c) => out.push(c),
        }
    }
    out
}

struct SqliteValue<'a>(&'a Value);

impl rusqlite::ToSql for SqliteValue<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self.0 {
            Value::Null => ValueRef::Null,
            Value::Int(v) => ValueRef::Integer(*v),
            Value::Real(v) => ValueRef::Real(*v),
            Value::Text(v) => ValueRef::Text(v.as_bytes()),
            Value::Blob(v) => ValueRef::Blob(v),
        }))
    }
}

fn from_sqlite(value: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef;
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(v) => Value::Int(v),
        ValueRef::Real(v) => Value::Real(v),
        ValueRef::Text(v) => Value::Text(String::from_utf8_lossy(v).into_owned()),
        ValueRef::Blob(v) => Value::Blob(v.to_vec()),
    }
}

fn pg_params(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

/// A parameter as the type PostgreSQL inferred for its place.
impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match (self, ty) {
            (Value::Null, _) => Ok(IsNull::Yes),
            (Value::Int(v), &Type::INT4) => i32::try_from(*v)?.to_sql(ty, out),
            (Value::Int(v), &Type::INT2) => i16::try_from(*v)?.to_sql(ty, out),
            (Value::Int(v), &Type::FLOAT8) => (*v as f64).to_sql(ty, out),
            (Value::Int(v), &Type::BOOL) => (*v != 0).to_sql(ty, out),
            (Value::Int(v), &Type::TEXT | &Type::VARCHAR) => v.to_string().to_sql(ty, out),
            (Value::Int(v), _) => v.to_sql(ty, out),
            (Value::Real(v), &Type::FLOAT4) => (*v as f32).to_sql(ty, out),
            (Value::Real(v), _) => v.to_sql(ty, out),
            (Value::Text(v), _) => v.as_str().to_sql(ty, out),
            (Value::Blob(v), _) => v.as_slice().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn from_postgres(row: &postgres::Row) -> Result<Row> {
    let values = row
        .columns()
        .iter()
        .enumerate()
        .map(|(i, column)| {
            let ty = column.type_();
            Ok(match *ty {
                Type::INT8 => row.try_get::<_, Option<i64>>(i)?.into(),
                Type::INT4 => row.try_get::<_, Option<i32>>(i)?.map(i64::from).into(),
                Type::INT2 => row.try_get::<_, Option<i16>>(i)?.map(i64::from).into(),
                Type::BOOL => row.try_get::<_, Option<bool>>(i)?.into(),
                Type::FLOAT8 => row.try_get::<_, Option<f64>>(i)?.into(),
                Type::FLOAT4 => row.try_get::<_, Option<f32>>(i)?.map(f64::from).into(),
                Type::TEXT | Type::VARCHAR | Type::NAME | Type::BPCHAR => {
                    row.try_get::<_, Option<String>>(i)?.into()
                }
                Type::BYTEA => match row.try_get::<_, Option<Vec<u8>>>(i)? {
                    Some(bytes) => Value::Blob(bytes),
                    None => Value::Null,
                },
                _ => bail!(
                    "column {} has type {ty}, which the store does not read (a CAST is missing)",
                    column.name()
                ),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Row(values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres_outside_quotes() {
        assert_eq!(
            numbered("SELECT ?1, ?2 FROM t WHERE a = '?' AND b = ?1 AND \"?c\" = ?"),
            "SELECT $1, $2 FROM t WHERE a = '?' AND b = $1 AND \"?c\" = $1"
        );
    }

    #[test]
    fn passwords_are_left_out_of_messages() {
        assert_eq!(
            redact("postgres://crosscheck:s3cret@db.example:5432/fuzz"),
            "postgres://crosscheck:***@db.example:5432/fuzz"
        );
        // The client's parser fills in the default port.
        assert_eq!(redact("postgres://db/fuzz"), "postgres://db:5432/fuzz");
        for (url, shown) in [
            (
                "host=db.example user=cc password=s3cret dbname=fuzz",
                "postgres://cc:***@db.example/fuzz",
            ),
            (
                "host=db port=5433 user=cc password='s3 cret' dbname=fuzz",
                "postgres://cc:***@db:5433/fuzz",
            ),
            (
                "postgresql://cc@db/fuzz?password=s3cret&sslmode=disable",
                "postgres://cc:***@db:5432/fuzz",
            ),
            (
                "postgres://cc:s3cret@db1:5432,db2:5433/fuzz",
                "postgres://cc:***@db1:5432,db2:5433/fuzz",
            ),
            (
                "postgres://%2Frun%2Fpg/fuzz",
                "postgres:///run/pg:5432/fuzz",
            ),
        ] {
            assert_eq!(redact(url), shown, "{url}");
        }
        let broken = redact("postgres://cc:s3cret@db:notaport/fuzz");
        assert!(!broken.contains("s3cret"), "{broken}");
    }

    #[test]
    fn sqlite_rows_come_back_as_values() {
        let db = Db::sqlite(rusqlite::Connection::open_in_memory().unwrap());
        db.batch("CREATE TABLE t (a INTEGER, b TEXT, c REAL, d BLOB)")
            .unwrap();
        db.transaction(|db| {
            db.execute(
                "INSERT INTO t VALUES (?1, ?2, ?3, ?4)",
                params![7i64, "x", 1.5f64, &b"\x00\x01"[..]],
            )
        })
        .unwrap();
        let row = db
            .row("SELECT a, b, c, d, NULL FROM t", &[])
            .unwrap()
            .unwrap();
        assert_eq!(row.get::<i64>(0).unwrap(), 7);
        assert_eq!(row.get::<String>(1).unwrap(), "x");
        assert_eq!(row.get::<f64>(2).unwrap(), 1.5);
        assert_eq!(row.get::<Vec<u8>>(3).unwrap(), [0, 1]);
        assert_eq!(row.get::<Option<i64>>(4).unwrap(), None);
        assert!(row.get::<i64>(1).is_err());
    }
}
