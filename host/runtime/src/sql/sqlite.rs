//! SQLite: the embedded default, and the dialect of Cloudflare D1.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow,
};
use sqlx::{Arguments, AssertSqlSafe, Executor, Row, TypeInfo, ValueRef};

use super::{Callers, Database, map_sqlx};
use crate::bindings::sql::{ErrorKind, QueryResult, SqlError, Statement, Value};
use crate::error::{Error, Result};

/// WAL and a busy timeout let concurrent writers queue instead of failing.
fn tune(options: SqliteConnectOptions) -> SqliteConnectOptions {
    options
        .create_if_missing(true)
        .foreign_keys(true)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(Duration::from_secs(10))
}

pub(super) async fn open_path(path: &Path, callers: Callers) -> Result<Database> {
    create_private(path)?;
    connect(tune(SqliteConnectOptions::new().filename(path)), callers).await
}

pub(super) async fn open_url(url: &str) -> Result<Database> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| Error::InvalidUrl(format!("invalid database URL: {e}")))?;
    if on_disk(url) {
        create_private(options.get_filename())?;
    }
    connect(tune(options), Callers::Many).await
}

/// Creates a missing database file, empty, with mode 0600 before SQLite opens it:
/// SQLite itself would create it 0644 (less the umask), and it creates the `-wal`
/// and `-shm` files with the database file's mode, so they are private too. A
/// missing directory is left for SQLite to report.
fn create_private(path: &Path) -> Result<()> {
    match crate::fsutil::create_private_file_if_missing(path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(Error::Database(format!(
            "cannot create {}: {err}",
            path.display()
        ))),
    }
}

/// Whether a `sqlite:` URL names a file SQLite may create (not `:memory:`, not
/// `mode=memory` or read-only `mode=ro`).
fn on_disk(url: &str) -> bool {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (database, query) = rest.split_once('?').unwrap_or((rest, ""));
    !database.is_empty()
        && database != ":memory:"
        && !query
            .split('&')
            .any(|param| param == "mode=memory" || param == "mode=ro")
}

/// How long opening a database may wait for another process that holds it
/// locked, as long as the busy timeout a statement waits.
const OPEN_PATIENCE: Duration = Duration::from_secs(10);

/// Connections a pool for [`Callers::Many`] opens at most. SQLite runs one writer
/// at a time; more connections only let reads proceed beside a write (WAL).
const MAX_CONNECTIONS: u32 = 4;

async fn connect(options: SqliteConnectOptions, callers: Callers) -> Result<Database> {
    let started = std::time::Instant::now();
    let mut pause = Duration::from_millis(10);
    let connections = match callers {
        Callers::One => 1,
        Callers::Many => MAX_CONNECTIONS,
    };
    loop {
        // No test query before handing out an idle connection (sqlx's default
        // pings it): a connection to a local file does not go stale as a network
        // one does, and each ping is a round trip to the connection's worker
        // thread, one per statement a plugin runs.
        let opened = SqlitePoolOptions::new()
            .max_connections(connections)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await;
        match opened {
            Ok(pool) => return Ok(Database::Sqlite(pool)),
            // Opening runs `PRAGMA journal_mode = WAL`, which needs the file to
            // itself; while another process opens the same fresh file (servers
            // started together), SQLite may answer SQLITE_BUSY at once rather than
            // through the busy handler. Such a refusal passes: open again.
            Err(err) if is_busy(&err) && started.elapsed() < OPEN_PATIENCE => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(200));
            }
            Err(err) => return Err(Error::Database(err.to_string())),
        }
    }
}

/// SQLITE_BUSY, with any of its extended codes (the primary code is the low byte).
fn is_busy(err: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = err else {
        return false;
    };
    db.code()
        .and_then(|code| code.parse::<i32>().ok())
        .is_some_and(|code| code & 0xff == 5)
}

pub(super) async fn batch(
    pool: &SqlitePool,
    stmts: Vec<Statement>,
) -> Result<Vec<QueryResult>, SqlError> {
    // IMMEDIATE takes the write lock up front: two batches that both read and
    // then write (a quota check) serialise instead of deadlocking.
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(map_sqlx)?;
    let mut results = Vec::with_capacity(stmts.len());
    for stmt in stmts {
        results.push(run(&mut *tx, stmt).await?);
    }
    tx.commit().await.map_err(map_sqlx)?;
    Ok(results)
}

pub(super) async fn run<'c, E>(executor: E, stmt: Statement) -> Result<QueryResult, SqlError>
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
        bound.map_err(|e| super::sql_error(ErrorKind::Query, e.to_string()))?;
    }
    // The text comes from a backend plugin and values are bound as parameters;
    // nothing the end user typed is spliced into it.
    let query = sqlx::query_with(AssertSqlSafe(stmt.sql), args);
    super::collect(
        executor,
        query,
        decode_row,
        sqlx::sqlite::SqliteQueryResult::rows_affected,
    )
    .await
}

/// The `sql-error` kind of a SQLite error known only by its message, as D1's HTTP
/// API reports it (`UNIQUE constraint failed: users.email: SQLITE_CONSTRAINT`). The
/// classes are those the local driver gets from SQLite's extended result codes
/// (through [`map_sqlx`]); a test holds both to the same answer on real errors.
pub(super) fn kind_of_message(message: &str) -> ErrorKind {
    const CLASSES: [(&str, ErrorKind); 4] = [
        ("UNIQUE constraint failed", ErrorKind::UniqueViolation),
        (
            "FOREIGN KEY constraint failed",
            ErrorKind::ForeignKeyViolation,
        ),
        ("NOT NULL constraint failed", ErrorKind::NotNullViolation),
        ("CHECK constraint failed", ErrorKind::CheckViolation),
    ];
    CLASSES
        .iter()
        .find(|(marker, _)| message.contains(marker))
        .map_or(ErrorKind::Query, |(_, kind)| *kind)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::MAX_BATCH;

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

    /// D1's messages must classify as the local driver's codes do.
    #[tokio::test]
    async fn messages_classify_as_the_drivers_codes_do() {
        let db = memory_db().await;
        let Database::Sqlite(pool) = &db else {
            unreachable!()
        };
        for setup in [
            "PRAGMA foreign_keys = ON",
            "CREATE TABLE p (id INTEGER PRIMARY KEY)",
            "CREATE TABLE t (k TEXT NOT NULL UNIQUE, n INTEGER CHECK (n > 0), \
             p INTEGER REFERENCES p (id))",
            "INSERT INTO t (k, n) VALUES ('a', 1)",
        ] {
            db.query(stmt(setup, vec![])).await.unwrap();
        }
        for (failing, expected) in [
            ("INSERT INTO t (k) VALUES ('a')", ErrorKind::UniqueViolation),
            (
                "INSERT INTO p (id) VALUES (1), (1)",
                ErrorKind::UniqueViolation,
            ),
            (
                "INSERT INTO t (k) VALUES (NULL)",
                ErrorKind::NotNullViolation,
            ),
            (
                "INSERT INTO t (k, n) VALUES ('b', 0)",
                ErrorKind::CheckViolation,
            ),
            (
                "INSERT INTO t (k, p) VALUES ('c', 9)",
                ErrorKind::ForeignKeyViolation,
            ),
            ("SELEC 1", ErrorKind::Query),
            ("SELECT * FROM missing", ErrorKind::Query),
        ] {
            let err = sqlx::query(failing).execute(pool).await.unwrap_err();
            let sqlx::Error::Database(db_err) = &err else {
                panic!("{failing}: {err}")
            };
            let from_message = kind_of_message(db_err.message());
            assert_eq!(map_sqlx(err).kind, expected, "{failing}");
            assert_eq!(from_message, expected, "{failing}");
        }
    }

    #[test]
    fn only_files_on_disk_are_created_ahead_of_sqlite() {
        for (url, expected) in [
            ("sqlite:qhub.db", true),
            ("sqlite://qhub.db?mode=rwc", true),
            ("sqlite:///var/lib/qhub.db", true),
            ("sqlite::memory:", false),
            ("sqlite://x.db?mode=memory", false),
            ("sqlite:x.db?cache=shared&mode=ro", false),
        ] {
            assert_eq!(on_disk(url), expected, "{url}");
        }
    }

    /// SQLite gives `-wal` and `-shm` the database file's mode: creating the file
    /// 0600 first keeps all three private.
    #[tokio::test]
    async fn database_files_are_created_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mode = |name: &str| {
            std::fs::metadata(dir.path().join(name))
                .unwrap_or_else(|e| panic!("{name}: {e}"))
                .permissions()
                .mode()
                & 0o777
        };
        let by_path = Database::open_sqlite(&dir.path().join("a.db"))
            .await
            .unwrap();
        let url = format!("sqlite:{}", dir.path().join("b.db").display());
        let by_url = Database::connect(&url).await.unwrap();
        for db in [&by_path, &by_url] {
            db.query(stmt("CREATE TABLE t (k TEXT)", vec![]))
                .await
                .unwrap();
            db.query(stmt("INSERT INTO t VALUES ('a')", vec![]))
                .await
                .unwrap();
        }
        for name in [
            "a.db", "a.db-wal", "a.db-shm", "b.db", "b.db-wal", "b.db-shm",
        ] {
            assert_eq!(mode(name), 0o600, "{name}");
        }
        by_path.close().await;
        by_url.close().await;
    }

    #[tokio::test]
    async fn oversized_batches_are_refused() {
        let db = memory_db().await;
        let stmts = (0..=MAX_BATCH).map(|_| stmt("SELECT 1", vec![])).collect();
        assert_eq!(db.batch(stmts).await.unwrap_err().kind, ErrorKind::TooLarge);
    }
}
