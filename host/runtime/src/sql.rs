//! The host's `sql` capability: runs a backend plugin's statements on a real
//! database, and translates values and errors to and from the WIT types.
//!
//! It holds no business SQL: statements come from the backend plugin, verbatim.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use futures_util::TryStreamExt;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow,
};
use sqlx::{Arguments, AssertSqlSafe, Column, Either, Executor, Row, TypeInfo, ValueRef};

use crate::bindings::sql::{ErrorKind, QueryResult, SqlError, Statement, Value};
use crate::error::{Error, Result};

/// Caps on what the host will buffer for a plugin: a result larger than this is
/// refused with `too-large` instead of exhausting the host's memory.
const MAX_ROWS: usize = 10_000;
const MAX_RESULT_BYTES: usize = 16 << 20;
const MAX_BATCH: usize = 100;

/// A database the host can run plugin statements on.
#[derive(Debug, Clone)]
pub enum Database {
    Sqlite(SqlitePool),
}

impl Database {
    /// Opens (creating if missing) a SQLite database file, in WAL mode with a busy
    /// timeout, so that concurrent writers queue instead of failing.
    pub async fn open_sqlite(path: &Path) -> Result<Database> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .foreign_keys(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(10));
        Self::connect_sqlite(options).await
    }

    /// Opens a SQLite database from a `sqlite:` URL.
    pub async fn open_sqlite_url(url: &str) -> Result<Database> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| Error::Database(format!("invalid database URL: {e}")))?
            .create_if_missing(true)
            .foreign_keys(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(10));
        Self::connect_sqlite(options).await
    }

    async fn connect_sqlite(options: SqliteConnectOptions) -> Result<Database> {
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|e| Error::Database(e.to_string()))?;
        Ok(Database::Sqlite(pool))
    }

    /// Applies the embedded migrations that have not run yet.
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Database::Sqlite(pool) => sqlx::migrate!("../../migrations/d1")
                .run(pool)
                .await
                .map_err(|e| Error::Migration(e.to_string())),
        }
    }

    pub async fn close(&self) {
        match self {
            Database::Sqlite(pool) => pool.close().await,
        }
    }

    /// Runs one statement.
    pub async fn query(&self, stmt: Statement) -> Result<QueryResult, SqlError> {
        match self {
            Database::Sqlite(pool) => run_sqlite(pool, stmt).await,
        }
    }

    /// Runs statements atomically, in one transaction on one connection.
    pub async fn batch(&self, stmts: Vec<Statement>) -> Result<Vec<QueryResult>, SqlError> {
        if stmts.len() > MAX_BATCH {
            return Err(sql_error(
                ErrorKind::TooLarge,
                format!("a batch may hold at most {MAX_BATCH} statements"),
            ));
        }
        match self {
            Database::Sqlite(pool) => {
                // IMMEDIATE takes the write lock up front: two batches that both
                // read-then-write (a quota check) serialise instead of deadlocking.
                let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(map_sqlx)?;
                let mut results = Vec::with_capacity(stmts.len());
                for stmt in stmts {
                    results.push(run_sqlite(&mut *tx, stmt).await?);
                }
                tx.commit().await.map_err(map_sqlx)?;
                Ok(results)
            }
        }
    }
}

async fn run_sqlite<'c, E>(executor: E, stmt: Statement) -> Result<QueryResult, SqlError>
where
    E: Executor<'c, Database = sqlx::Sqlite>,
{
    let mut args = SqliteArguments::default();
    for value in stmt.params {
        let bound = match value {
            Value::Null => args.add(None::<i64>),
            Value::Integer(i) => args.add(i),
            Value::Real(r) => args.add(r),
            Value::Text(s) => args.add(s),
            Value::Blob(b) => args.add(b),
        };
        bound.map_err(|e| sql_error(ErrorKind::Query, e.to_string()))?;
    }
    // The text comes from a backend plugin and values are bound as parameters;
    // nothing the end user typed is spliced into it.
    let query = sqlx::query_with(AssertSqlSafe(stmt.sql), args);
    let mut stream = executor.fetch_many(query);
    let mut result = QueryResult {
        columns: Vec::new(),
        rows: Vec::new(),
        rows_affected: 0,
    };
    let mut bytes = 0usize;
    while let Some(item) = stream.try_next().await.map_err(map_sqlx)? {
        match item {
            Either::Left(done) => result.rows_affected += done.rows_affected(),
            Either::Right(row) => {
                if result.columns.is_empty() {
                    result.columns = row.columns().iter().map(|c| c.name().to_owned()).collect();
                }
                let values = decode_row(&row)?;
                bytes += values.iter().map(value_size).sum::<usize>();
                result.rows.push(values);
                if result.rows.len() > MAX_ROWS || bytes > MAX_RESULT_BYTES {
                    return Err(sql_error(
                        ErrorKind::TooLarge,
                        format!(
                            "result exceeds the host's limit of {MAX_ROWS} rows or {MAX_RESULT_BYTES} bytes"
                        ),
                    ));
                }
            }
        }
    }
    Ok(result)
}

fn decode_row(row: &SqliteRow) -> Result<Vec<Value>, SqlError> {
    (0..row.len())
        .map(|i| {
            let raw = row.try_get_raw(i).map_err(map_sqlx)?;
            if raw.is_null() {
                return Ok(Value::Null);
            }
            // SQLite is dynamically typed: the value's own storage class decides.
            let class = raw.type_info().name().to_ascii_uppercase();
            let decoded = match class.as_str() {
                "INTEGER" | "BOOLEAN" | "INT8" => {
                    row.try_get_unchecked::<i64, _>(i).map(Value::Integer)
                }
                "REAL" => row.try_get_unchecked::<f64, _>(i).map(Value::Real),
                "BLOB" => row.try_get_unchecked::<Vec<u8>, _>(i).map(Value::Blob),
                _ => row.try_get_unchecked::<String, _>(i).map(Value::Text),
            };
            decoded.map_err(map_sqlx)
        })
        .collect()
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

/// Maps a driver error to the structured `sql-error` of the WIT contract.
fn map_sqlx(err: sqlx::Error) -> SqlError {
    match err {
        sqlx::Error::Database(db) => {
            let kind = match db.kind() {
                sqlx::error::ErrorKind::UniqueViolation => ErrorKind::UniqueViolation,
                sqlx::error::ErrorKind::ForeignKeyViolation => ErrorKind::ForeignKeyViolation,
                sqlx::error::ErrorKind::NotNullViolation => ErrorKind::NotNullViolation,
                sqlx::error::ErrorKind::CheckViolation => ErrorKind::CheckViolation,
                _ => ErrorKind::Query,
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
        | sqlx::Error::Tls(_) => sql_error(ErrorKind::Connection, err.to_string()),
        other => sql_error(ErrorKind::Other, other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stmt(sql: &str, params: Vec<Value>) -> Statement {
        Statement {
            sql: sql.into(),
            params,
        }
    }

    async fn memory_db() -> Database {
        let options = SqliteConnectOptions::from_str("sqlite::memory:").unwrap();
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .unwrap();
        Database::Sqlite(pool)
    }

    #[tokio::test]
    async fn values_round_trip_with_their_types() {
        let db = memory_db().await;
        let result = db
            .query(stmt(
                "SELECT ?1 AS n, ?2 AS i, ?3 AS r, ?4 AS t, ?5 AS b",
                vec![
                    Value::Null,
                    Value::Integer(-7),
                    Value::Real(1.5),
                    Value::Text("héllo".into()),
                    Value::Blob(vec![0, 255]),
                ],
            ))
            .await
            .unwrap();
        assert_eq!(result.columns, ["n", "i", "r", "t", "b"]);
        assert!(matches!(
            result.rows[0].as_slice(),
            [Value::Null, Value::Integer(-7), Value::Real(r), Value::Text(t), Value::Blob(b)]
                if *r == 1.5 && t == "héllo" && b == &[0, 255]
        ));
    }

    #[tokio::test]
    async fn a_failing_batch_leaves_nothing_behind() {
        let db = memory_db().await;
        db.query(stmt("CREATE TABLE t (k TEXT PRIMARY KEY)", vec![]))
            .await
            .unwrap();
        let err = db
            .batch(vec![
                stmt("INSERT INTO t VALUES ('a')", vec![]),
                stmt("INSERT INTO t VALUES ('a')", vec![]),
            ])
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::UniqueViolation);
        assert!(err.message.contains("t.k"), "{}", err.message);
        let count = db
            .query(stmt("SELECT count(*) FROM t", vec![]))
            .await
            .unwrap();
        assert!(matches!(count.rows[0][0], Value::Integer(0)));
    }

    #[tokio::test]
    async fn writes_report_rows_affected_and_errors_are_classified() {
        let db = memory_db().await;
        db.query(stmt("CREATE TABLE t (k TEXT NOT NULL)", vec![]))
            .await
            .unwrap();
        let insert = db
            .query(stmt("INSERT INTO t VALUES ('a'), ('b')", vec![]))
            .await
            .unwrap();
        assert_eq!(insert.rows_affected, 2);
        let not_null = db
            .query(stmt("INSERT INTO t VALUES (NULL)", vec![]))
            .await
            .unwrap_err();
        assert_eq!(not_null.kind, ErrorKind::NotNullViolation);
        let syntax = db.query(stmt("SELEC 1", vec![])).await.unwrap_err();
        assert_eq!(syntax.kind, ErrorKind::Query);
    }

    #[tokio::test]
    async fn oversized_batches_are_refused() {
        let db = memory_db().await;
        let stmts = (0..=MAX_BATCH).map(|_| stmt("SELECT 1", vec![])).collect();
        assert_eq!(db.batch(stmts).await.unwrap_err().kind, ErrorKind::TooLarge);
    }
}
