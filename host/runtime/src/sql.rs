//! The host's `sql` capability: runs a backend plugin's statements on a real
//! database (SQLite, PostgreSQL, or Cloudflare D1 over its HTTP API), translating
//! values and errors to and from the WIT types. It holds no business SQL:
//! statements come from the backend plugin.
//!
//! Which database, and so which backend plugin, is decided by the URL scheme:
//! `sqlite:` (the embedded default) and `d1://` (remote D1) speak the SQLite
//! dialect, `postgres:` PostgreSQL's.

pub mod d1;
mod migrate;
mod postgres;
mod sqlite;

use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;

pub use self::d1::D1Database;
pub use self::migrate::{MigrationStatus, MigrationStep};
use crate::bindings::sql::{ErrorKind, QueryResult, SqlError, Statement, Value};
use crate::error::{Error, Result};

/// Caps on what the host buffers for a plugin: a larger result is refused with
/// `too-large` instead of exhausting the host's memory.
const MAX_ROWS: usize = 10_000;
const MAX_RESULT_BYTES: usize = 16 << 20;
const MAX_BATCH: usize = 100;

/// A database the host can run plugin statements on.
#[derive(Debug, Clone)]
pub enum Database {
    Sqlite(SqlitePool),
    Postgres(PgPool),
    /// Cloudflare D1 through its HTTP API.
    D1(D1Database),
}

/// The kind of database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// Reads the scheme of a database URL.
    pub fn of_url(url: &str) -> Result<Dialect> {
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
        match scheme {
            "sqlite" | "d1" => Ok(Dialect::Sqlite),
            "postgres" | "postgresql" => Ok(Dialect::Postgres),
            _ => Err(Error::InvalidUrl(format!(
                "unsupported database URL scheme {scheme:?}: use sqlite:PATH, \
                 postgres://USER@HOST/DB or d1://ACCOUNT_ID/DATABASE_ID"
            ))),
        }
    }

    /// The first-party backend plugin that speaks this dialect.
    pub fn backend_plugin(self) -> &'static str {
        match self {
            Dialect::Sqlite => "store-d1",
            Dialect::Postgres => "store-postgres",
        }
    }
}

/// Who calls a SQLite database, which decides how many connections its pool opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callers {
    /// One call at a time (a CLI command): one connection. sqlx hands a finished
    /// connection back to its pool on a task of its own; with room for more, the
    /// next statement would open a second connection (a file open, its pragmas and
    /// a worker thread) rather than wait for that task, as a command's first call
    /// did right after the migration check.
    One,
    /// Concurrent calls (a server).
    Many,
}

impl Database {
    /// Connects to the database a URL names. PostgreSQL pools connect lazily and
    /// reconnect by themselves, so a server outlives a database restart. A `d1://`
    /// URL takes its token from `CLOUDFLARE_API_TOKEN` and its API from
    /// `QHUB_D1_API_URL` (see [`d1`]).
    pub async fn connect(url: &str) -> Result<Database> {
        if d1::is_d1_url(url) {
            return d1::open_url(url);
        }
        match Dialect::of_url(url)? {
            Dialect::Sqlite => sqlite::open_url(url).await,
            Dialect::Postgres => postgres::open_url(url),
        }
    }

    /// Connects to the D1 database `d1://ACCOUNT_ID/DATABASE_ID` through the API
    /// at `api_url` with `token`, whatever the environment says.
    pub fn connect_d1(url: &str, api_url: &str, token: String) -> Result<Database> {
        d1::open(url, api_url, token)
    }

    /// Opens (creating if missing) a SQLite database file, for many callers at
    /// once (a server).
    pub async fn open_sqlite(path: &std::path::Path) -> Result<Database> {
        sqlite::open_path(path, Callers::Many).await
    }

    /// [`Database::open_sqlite`] for `callers`.
    pub async fn open_sqlite_for(path: &std::path::Path, callers: Callers) -> Result<Database> {
        sqlite::open_path(path, callers).await
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Database::Sqlite(_) | Database::D1(_) => Dialect::Sqlite,
            Database::Postgres(_) => Dialect::Postgres,
        }
    }

    pub async fn close(&self) {
        match self {
            Database::Sqlite(pool) => pool.close().await,
            Database::Postgres(pool) => pool.close().await,
            // Nothing is held open: each statement is one HTTP request.
            Database::D1(_) => {}
        }
    }

    /// Runs one statement.
    pub async fn query(&self, stmt: Statement) -> Result<QueryResult, SqlError> {
        match self {
            Database::Sqlite(pool) => sqlite::run(pool, stmt).await,
            Database::Postgres(pool) => postgres::run(pool, stmt).await,
            Database::D1(d1) => d1.run(stmt).await,
        }
    }

    /// Runs statements atomically: in one transaction on one connection, or as one
    /// D1 batch request.
    pub async fn batch(&self, stmts: Vec<Statement>) -> Result<Vec<QueryResult>, SqlError> {
        if stmts.len() > MAX_BATCH {
            return Err(sql_error(
                ErrorKind::TooLarge,
                format!("a batch may hold at most {MAX_BATCH} statements"),
            ));
        }
        match self {
            Database::Sqlite(pool) => sqlite::batch(pool, stmts).await,
            Database::Postgres(pool) => postgres::batch(pool, stmts).await,
            Database::D1(d1) => d1.batch(stmts).await,
        }
    }
}

/// Streams a statement's rows and row counts into a [`QueryResult`], under the
/// host's caps. Generic over the driver; `decode` and `affected` are its parts.
async fn collect<'e, 'c: 'e, 'q: 'e, DB, E, Q>(
    executor: E,
    query: Q,
    decode: fn(&DB::Row) -> Result<Vec<Value>, SqlError>,
    affected: fn(&DB::QueryResult) -> u64,
) -> Result<QueryResult, SqlError>
where
    DB: sqlx::Database,
    E: sqlx::Executor<'c, Database = DB> + 'e,
    Q: sqlx::Execute<'q, DB> + 'q,
{
    use futures_util::TryStreamExt;
    use sqlx::{Column, Either, Row};
    let mut stream = executor.fetch_many(query);
    let mut result = ResultBuilder::new();
    while let Some(item) = stream.try_next().await.map_err(map_sqlx)? {
        match item {
            Either::Left(done) => result.result.rows_affected += affected(&done),
            Either::Right(row) => {
                let values = decode(&row)?;
                result.push(
                    || row.columns().iter().map(|c| c.name().to_owned()).collect(),
                    values,
                )?;
            }
        }
    }
    Ok(result.finish())
}

/// Accumulates rows into a [`QueryResult`] under the host's size caps.
struct ResultBuilder {
    result: QueryResult,
    bytes: usize,
}

impl ResultBuilder {
    fn new() -> Self {
        ResultBuilder {
            result: QueryResult {
                columns: Vec::new(),
                rows: Vec::new(),
                rows_affected: 0,
            },
            bytes: 0,
        }
    }

    fn push(
        &mut self,
        columns: impl FnOnce() -> Vec<String>,
        row: Vec<Value>,
    ) -> Result<(), SqlError> {
        if self.result.columns.is_empty() {
            self.result.columns = columns();
        }
        self.bytes += row.iter().map(value_size).sum::<usize>();
        self.result.rows.push(row);
        if self.result.rows.len() > MAX_ROWS || self.bytes > MAX_RESULT_BYTES {
            return Err(sql_error(
                ErrorKind::TooLarge,
                format!(
                    "result exceeds the host's limit of {MAX_ROWS} rows or {MAX_RESULT_BYTES} bytes"
                ),
            ));
        }
        Ok(())
    }

    fn finish(self) -> QueryResult {
        self.result
    }
}

fn value_size(value: &Value) -> usize {
    match value {
        Value::Null | Value::Integer(_) | Value::Real(_) => 8,
        Value::Text(s) => s.len(),
        Value::Blob(b) => b.len(),
    }
}

fn sql_error(kind: ErrorKind, message: String) -> SqlError {
    SqlError {
        kind,
        message,
        constraint: None,
    }
}

/// PostgreSQL's SQLSTATE for "database does not exist" (invalid_catalog_name).
const MISSING_DATABASE: &str = "3D000";

/// The first double-quoted name in a server message (`database "nope" does not
/// exist` gives `nope`), or the whole message.
fn quoted_name(message: &str) -> String {
    message.split('"').nth(1).unwrap_or(message).to_owned()
}

/// Maps a driver error to the structured `sql-error` of the WIT contract.
fn map_sqlx(err: sqlx::Error) -> SqlError {
    match err {
        sqlx::Error::Database(db) => {
            // SQLSTATE class 08 (connection exception) and 57P (operator
            // intervention: shutdown, restart) mean the server went away.
            let code = db.code().unwrap_or_default();
            // A database dropped under a running server is gone like a server.
            let kind = if code.starts_with("08")
                || code.starts_with("57P")
                || code == MISSING_DATABASE
            {
                ErrorKind::Connection
            } else {
                match db.kind() {
                    sqlx::error::ErrorKind::UniqueViolation => ErrorKind::UniqueViolation,
                    sqlx::error::ErrorKind::ForeignKeyViolation => ErrorKind::ForeignKeyViolation,
                    sqlx::error::ErrorKind::NotNullViolation => ErrorKind::NotNullViolation,
                    sqlx::error::ErrorKind::CheckViolation => ErrorKind::CheckViolation,
                    _ => ErrorKind::Query,
                }
            };
            SqlError {
                kind,
                message: db.message().to_owned(),
                constraint: db.constraint().map(str::to_owned),
            }
        }
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_) => sql_error(ErrorKind::Connection, err.to_string()),
        other => sql_error(ErrorKind::Other, other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_scheme_picks_the_dialect_and_backend() {
        let check = |url: &str, expected: Option<&str>| {
            let got = Dialect::of_url(url).ok().map(Dialect::backend_plugin);
            assert_eq!(got, expected, "{url}");
        };
        check("sqlite:qhub.db", Some("store-d1"));
        check("sqlite::memory:", Some("store-d1"));
        check("postgres://postgres@127.0.0.1/test", Some("store-postgres"));
        check("postgresql://u@h/db", Some("store-postgres"));
        check("d1://account/database", Some("store-d1"));
        check("mysql://x", None);
        check("qhub.db", None);
    }
}
