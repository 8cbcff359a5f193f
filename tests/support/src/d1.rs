//! A stand-in for Cloudflare D1's HTTP API on loopback, backed by a real SQLite
//! file, so that the native host's D1 client is tested without reaching Cloudflare.
//!
//! It follows the documented API: `POST /client/v4/accounts/{account_id}/d1/database/{database_id}/raw`
//! (columns and rows as arrays) and `/query` (rows as objects), each taking
//! `{"sql", "params"}` or `{"batch": [{"sql", "params"}, ...]}` and answering
//! Cloudflare's envelope `{"result", "success", "errors": [{"code", "message"}],
//! "messages"}`, with `meta.changes`, `meta.last_row_id` and the rest per
//! statement. Like D1 it runs each request (several statements in one `sql`, or a
//! batch) as one transaction, one request at a time, with foreign keys enforced;
//! answers reals the way JavaScript prints them (a whole REAL as an integer), blobs
//! as arrays of bytes, and SQL errors as HTTP 400 with code 7500 and SQLite's
//! message followed by its result code (`...: SQLITE_CONSTRAINT`).
//!
//! Failures answer Cloudflare's envelopes too: a missing or malformed
//! `Authorization: Bearer` header is 400 (6003), a wrong token 403 (10000), an
//! account the token does not grant 403 (7403), an unknown database 404 (7404), an
//! unreadable body 400 (7400), an unknown route 404 (7003).
//!
//! Where it is simpler than D1: a statement that returns no rows answers no column
//! names, and `meta.changes` of a request that holds several statements is
//! attributed by SQLite's per-statement count.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures_util::TryStreamExt;
use serde_json::{Map, Value as Json, json};
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteRow,
};
use sqlx::{
    Arguments, AssertSqlSafe, Column, Either, Executor, Row, SqliteConnection, TypeInfo, ValueRef,
};
use tokio::sync::oneshot;

/// A running stand-in holding one account and one database. Dropping it stops the
/// server, closes its port and removes the SQLite file.
#[derive(Debug)]
pub struct D1StandIn {
    addr: SocketAddr,
    account: String,
    database: String,
    token: String,
    path: PathBuf,
    api: Arc<Api>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl D1StandIn {
    /// Starts a stand-in on `127.0.0.1:0` with a fresh, empty database and random
    /// ids and token. It runs on a thread of its own, so sync and async tests alike
    /// can use it.
    pub fn start() -> D1StandIn {
        let dir = tempfile::tempdir().expect("a temporary directory for the D1 stand-in");
        let path = dir.path().join("d1.sqlite");
        let account = hex::encode(random::<16>());
        let database = uuid_like();
        let token = hex::encode(random::<20>());
        let state = Arc::new(Api {
            account: account.clone(),
            database: database.clone(),
            token: token.clone(),
            path: path.clone(),
            requests: std::sync::Mutex::new(Vec::new()),
        });
        let api = state.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let (ready, address) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime for the D1 stand-in");
            runtime.block_on(serve(state, ready, stopped));
        });
        let addr = address
            .recv()
            .expect("the D1 stand-in starts (see its panic above)");
        D1StandIn {
            addr,
            account,
            database,
            token,
            path,
            api,
            stop: Some(stop),
            thread: Some(thread),
            _dir: dir,
        }
    }

    /// The API's base, the stand-in for `https://api.cloudflare.com/client/v4`.
    pub fn api_url(&self) -> String {
        format!("http://{}/client/v4", self.addr)
    }

    /// `d1://ACCOUNT_ID/DATABASE_ID` of its database.
    pub fn database_url(&self) -> String {
        format!("d1://{}/{}", self.account, self.database)
    }

    /// The one API token it accepts.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The environment that points `qhub` at this stand-in.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("CLOUDFLARE_API_TOKEN", self.token.clone()),
            ("QHUB_D1_API_URL", self.api_url()),
        ]
    }

    /// The SQL of every well-formed request it received, in order, one list of
    /// statements per request: a batch is one request. Tests count the round trips
    /// (and so the separate commits) an operation takes.
    pub fn requests(&self) -> Vec<Vec<String>> {
        self.api
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The SQLite file behind the database, for tests to inspect.
    pub fn sqlite_path(&self) -> &Path {
        &self.path
    }
}

impl Drop for D1StandIn {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            // A panic on the server thread has already been printed.
            let _ = thread.join();
        }
    }
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("randomness");
    bytes
}

fn uuid_like() -> String {
    let hex = hex::encode(random::<16>());
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// What the server knows.
#[derive(Debug)]
struct Api {
    account: String,
    database: String,
    token: String,
    path: PathBuf,
    /// The statements of each request, for [`D1StandIn::requests`].
    requests: std::sync::Mutex<Vec<Vec<String>>>,
}

#[derive(Clone)]
struct Shared {
    api: Arc<Api>,
    pool: SqlitePool,
}

async fn serve(
    api: Arc<Api>,
    ready: std::sync::mpsc::Sender<SocketAddr>,
    stopped: oneshot::Receiver<()>,
) {
    // One connection: D1 runs one request at a time per database.
    let options = SqliteConnectOptions::from_str("sqlite:")
        .expect("sqlite options")
        .filename(&api.path)
        .create_if_missing(true)
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("the stand-in's SQLite file opens");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port for the D1 stand-in");
    ready
        .send(listener.local_addr().expect("the bound address"))
        .expect("the test waits for the stand-in");
    let shared = Shared {
        api,
        pool: pool.clone(),
    };
    let app = axum::Router::new()
        .route(
            "/client/v4/accounts/{account}/d1/database/{database}/raw",
            post(raw),
        )
        .route(
            "/client/v4/accounts/{account}/d1/database/{database}/query",
            post(query),
        )
        .fallback(unknown_route)
        .with_state(shared);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = stopped.await;
        })
        .await
        .expect("the D1 stand-in serves");
    pool.close().await;
}

/// How rows are shaped in the answer.
#[derive(Clone, Copy)]
enum Shape {
    /// `/raw`: `{"columns": [...], "rows": [[...]]}`.
    Arrays,
    /// `/query`: `[{"column": value}]`.
    Objects,
}

async fn raw(
    State(shared): State<Shared>,
    UrlPath((account, database)): UrlPath<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(&shared, &account, &database, &headers, &body, Shape::Arrays).await
}

async fn query(
    State(shared): State<Shared>,
    UrlPath((account, database)): UrlPath<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(
        &shared,
        &account,
        &database,
        &headers,
        &body,
        Shape::Objects,
    )
    .await
}

async fn unknown_route(uri: axum::http::Uri) -> Response {
    failure(
        StatusCode::NOT_FOUND,
        7003,
        format!(
            "Could not route to {}, perhaps your object identifier is invalid?",
            uri.path()
        ),
    )
}

/// Cloudflare's envelope around a failure.
fn failure(status: StatusCode, code: u32, message: String) -> Response {
    let body = json!({
        "result": null,
        "success": false,
        "errors": [{ "code": code, "message": message }],
        "messages": [],
    });
    (status, axum::Json(body)).into_response()
}

/// One `{"sql", "params"}` of a request.
struct Statement {
    sql: String,
    params: Vec<Json>,
}

async fn handle(
    shared: &Shared,
    account: &str,
    database: &str,
    headers: &HeaderMap,
    body: &[u8],
    shape: Shape,
) -> Response {
    let api = &shared.api;
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let Some(token) = bearer else {
        return failure(
            StatusCode::BAD_REQUEST,
            6003,
            "Invalid request headers".into(),
        );
    };
    if token != api.token {
        return failure(StatusCode::FORBIDDEN, 10000, "Authentication error".into());
    }
    if account != api.account {
        return failure(
            StatusCode::FORBIDDEN,
            7403,
            "The given account is not valid or is not authorized to access this service".into(),
        );
    }
    if database != api.database {
        return failure(
            StatusCode::NOT_FOUND,
            7404,
            format!("The database {database} could not be found"),
        );
    }
    let statements = match parse_body(body) {
        Ok(statements) => statements,
        Err(reason) => {
            return failure(
                StatusCode::BAD_REQUEST,
                7400,
                format!("The request is malformed: {reason}"),
            );
        }
    };
    api.requests
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(statements.iter().map(|s| s.sql.clone()).collect());
    match execute(&shared.pool, statements, shape).await {
        Ok(results) => axum::Json(json!({
            "result": results,
            "success": true,
            "errors": [],
            "messages": [],
        }))
        .into_response(),
        Err(message) => failure(StatusCode::BAD_REQUEST, 7500, message),
    }
}

/// `{"sql", "params"?}` or `{"batch": [...]}`.
fn parse_body(body: &[u8]) -> Result<Vec<Statement>, String> {
    let json: Json = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let Json::Object(mut object) = json else {
        return Err("the body must be a JSON object".into());
    };
    match object.remove("batch") {
        Some(Json::Array(items)) => items
            .into_iter()
            .map(|item| match item {
                Json::Object(item) => statement(item),
                _ => Err("each batch item must be an object with sql".into()),
            })
            .collect(),
        Some(_) => Err("batch must be an array".into()),
        None => statement(object).map(|s| vec![s]),
    }
}

fn statement(mut object: Map<String, Json>) -> Result<Statement, String> {
    let Some(Json::String(sql)) = object.remove("sql") else {
        return Err("sql is required and must be a string".into());
    };
    let params = match object.remove("params") {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Array(params)) => params,
        Some(_) => return Err("params must be an array".into()),
    };
    Ok(Statement { sql, params })
}

/// Runs every statement of one request in one transaction.
async fn execute(
    pool: &SqlitePool,
    statements: Vec<Statement>,
    shape: Shape,
) -> Result<Vec<Json>, String> {
    let mut tx = pool.begin().await.map_err(|e| message(&e))?;
    let mut results = Vec::new();
    for statement in statements {
        results.extend(run(&mut tx, statement, shape).await?);
    }
    tx.commit().await.map_err(|e| message(&e))?;
    Ok(results)
}

/// One per-statement answer before it is shaped.
#[derive(Default)]
struct Outcome {
    columns: Vec<String>,
    rows: Vec<Vec<Json>>,
    changes: u64,
    last_row_id: i64,
}

/// Runs one `sql` (perhaps several statements); one result per statement.
async fn run(
    conn: &mut SqliteConnection,
    statement: Statement,
    shape: Shape,
) -> Result<Vec<Json>, String> {
    let started = Instant::now();
    let mut args = SqliteArguments::default();
    for (i, param) in statement.params.into_iter().enumerate() {
        bind(&mut args, param).map_err(|reason| format!("parameter {}: {reason}", i + 1))?;
    }
    let before = total_changes(conn).await?;
    let mut outcomes = Vec::new();
    {
        // Executor::fetch_many runs each statement of the text in turn, as D1 does.
        let query = sqlx::query_with(AssertSqlSafe(statement.sql), args);
        let mut stream = (&mut *conn).fetch_many(query);
        let mut current = Outcome::default();
        while let Some(item) = stream.try_next().await.map_err(|e| message(&e))? {
            match item {
                Either::Right(row) => {
                    if current.columns.is_empty() {
                        current.columns = row.columns().iter().map(|c| c.name().into()).collect();
                    }
                    current.rows.push(decode(&row)?);
                }
                Either::Left(done) => {
                    current.changes = done.rows_affected();
                    current.last_row_id = done.last_insert_rowid();
                    outcomes.push(std::mem::take(&mut current));
                }
            }
        }
    }
    // SQLite's per-statement count repeats the last write's for a read; the
    // connection's total is exact (D1 documents `changes` as from
    // sqlite3_total_changes()).
    let changed = total_changes(conn).await? - before;
    if changed == 0 || outcomes.len() == 1 {
        for outcome in &mut outcomes {
            outcome.changes = u64::try_from(changed).unwrap_or(0);
        }
    }
    let duration = started.elapsed().as_secs_f64() * 1000.0;
    Ok(outcomes
        .into_iter()
        .map(|outcome| shaped(outcome, shape, duration))
        .collect())
}

fn shaped(outcome: Outcome, shape: Shape, duration: f64) -> Json {
    let meta = json!({
        "changed_db": outcome.changes > 0,
        "changes": outcome.changes,
        "duration": duration,
        "last_row_id": outcome.last_row_id,
        "rows_read": outcome.rows.len(),
        "rows_written": outcome.changes,
    });
    let results = match shape {
        Shape::Arrays => json!({ "columns": outcome.columns, "rows": outcome.rows }),
        Shape::Objects => Json::Array(
            outcome
                .rows
                .into_iter()
                .map(|row| Json::Object(outcome.columns.iter().cloned().zip(row).collect()))
                .collect(),
        ),
    };
    json!({ "results": results, "success": true, "meta": meta })
}

async fn total_changes(conn: &mut SqliteConnection) -> Result<i64, String> {
    sqlx::query_scalar::<_, i64>("SELECT total_changes()")
        .fetch_one(conn)
        .await
        .map_err(|e| message(&e))
}

/// Binds a JSON parameter: D1 documents them as strings and takes any JSON value.
fn bind(args: &mut SqliteArguments, param: Json) -> Result<(), String> {
    let bound = match param {
        Json::Null => args.add(None::<i64>),
        Json::Bool(b) => args.add(i64::from(b)),
        Json::Number(n) => match n.as_i64() {
            Some(i) => args.add(i),
            None => args.add(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => args.add(s),
        other => return Err(format!("unsupported parameter type: {other}")),
    };
    bound.map_err(|e| e.to_string())
}

/// A row as D1 prints it from JavaScript.
fn decode(row: &SqliteRow) -> Result<Vec<Json>, String> {
    (0..row.len())
        .map(|i| {
            let raw = row.try_get_raw(i).map_err(|e| message(&e))?;
            if raw.is_null() {
                return Ok(Json::Null);
            }
            let class = raw.type_info().name().to_ascii_uppercase();
            let value = match class.as_str() {
                "INTEGER" | "BOOLEAN" | "INT8" => {
                    row.try_get_unchecked::<i64, _>(i).map(Json::from)
                }
                "REAL" => row.try_get_unchecked::<f64, _>(i).map(javascript_number),
                "BLOB" => row
                    .try_get_unchecked::<Vec<u8>, _>(i)
                    .map(|bytes| bytes.into_iter().map(Json::from).collect()),
                _ => row.try_get_unchecked::<String, _>(i).map(Json::from),
            };
            value.map_err(|e| message(&e))
        })
        .collect()
}

/// A number as `JSON.stringify` writes it: a whole value has no fraction.
fn javascript_number(value: f64) -> Json {
    const SAFE: f64 = 9_007_199_254_740_991.0;
    if value.fract() == 0.0 && value.abs() <= SAFE {
        // Whole and within ±(2^53 - 1), so the conversion is exact.
        Json::from(value as i64)
    } else {
        serde_json::Number::from_f64(value).map_or(Json::Null, Json::Number)
    }
}

/// SQLite's message with its result code's name, as D1 reports it.
fn message(err: &sqlx::Error) -> String {
    let sqlx::Error::Database(db) = err else {
        return err.to_string();
    };
    let code = db
        .code()
        .and_then(|code| code.parse::<i32>().ok())
        .unwrap_or(1);
    let name = match code & 0xff {
        5 => "SQLITE_BUSY",
        6 => "SQLITE_LOCKED",
        8 => "SQLITE_READONLY",
        13 => "SQLITE_FULL",
        18 => "SQLITE_TOOBIG",
        19 => "SQLITE_CONSTRAINT",
        20 => "SQLITE_MISMATCH",
        25 => "SQLITE_RANGE",
        _ => "SQLITE_ERROR",
    };
    format!("{}: {name}", db.message())
}

#[cfg(test)]
#[path = "d1_tests.rs"]
mod tests;
