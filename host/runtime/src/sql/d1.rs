//! Cloudflare D1 from the native host, through D1's HTTP API, so that `qhub
//! migrate` and admin commands reach the production database the Worker uses.
//!
//! `d1://ACCOUNT_ID/DATABASE_ID` names the database; the API token comes from
//! `CLOUDFLARE_API_TOKEN` and the API from `QHUB_D1_API_URL` (default
//! [`DEFAULT_API_URL`]; tests point it at a stand-in on loopback). Statements go to
//! `POST /accounts/{account}/d1/database/{database}/raw`, which answers columns and
//! rows as arrays, so the column order survives; `{"sql", "params"}` for one
//! statement, `{"batch": [...]}` for a batch, which D1 runs as one transaction.
//!
//! Values travel as JSON: integers and reals as numbers, text as strings, NULL as
//! null, and blobs come back as arrays of byte values. D1 answers from JavaScript,
//! so a whole REAL comes back as an integer (the SQLite backend reads both) and
//! integers beyond 2^53 lose precision. Blob parameters are refused: the API's
//! parameters are JSON, with no blob form.
//!
//! Errors keep the `sql` contract's kinds: SQLite's message, which D1 passes on, is
//! classified as the local driver classifies its codes; an unreachable API, a rate
//! limit or a server error is `connection`. The token is never logged, printed or
//! put in an error.

use std::fmt;
use std::sync::{Arc, Once};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::{Database, MAX_RESULT_BYTES, ResultBuilder, sql_error, sqlite};
use crate::bindings::sql::{ErrorKind, QueryResult, SqlError, Statement, Value};
use crate::error::{Error, Result};

/// Cloudflare's API, unless `QHUB_D1_API_URL` says otherwise.
pub const DEFAULT_API_URL: &str = "https://api.cloudflare.com/client/v4";
/// The environment variable holding the API token.
pub const TOKEN_VARIABLE: &str = "CLOUDFLARE_API_TOKEN";
/// The environment variable overriding the API's base URL.
pub const API_URL_VARIABLE: &str = "QHUB_D1_API_URL";

/// JSON carries blobs as arrays of numbers (up to four bytes per byte), so the
/// answer may be this much larger than the values the host keeps.
const MAX_RESPONSE_BYTES: usize = 4 * MAX_RESULT_BYTES;

/// Whether a database URL names a remote D1 database.
pub fn is_d1_url(url: &str) -> bool {
    url.starts_with("d1:")
}

/// A D1 database reached over HTTP. Clones share one HTTP client.
#[derive(Debug, Clone)]
pub struct D1Database {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    /// `.../accounts/{account}/d1/database/{database}/raw`.
    endpoint: String,
    /// The API's base, for messages.
    api: String,
    /// `d1://ACCOUNT/DATABASE`, for messages.
    name: String,
    token: Token,
}

/// The API token; its `Debug` form shows nothing of it.
struct Token(String);

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// Connects to the database `url` names with the token and API from the
/// environment.
pub(super) fn open_url(url: &str) -> Result<Database> {
    let token = std::env::var(TOKEN_VARIABLE).unwrap_or_default();
    if token.trim().is_empty() {
        return Err(Error::InvalidUrl(format!(
            "{TOKEN_VARIABLE} is not set: {url} is reached through Cloudflare's API, which needs an API token"
        )));
    }
    let api = std::env::var(API_URL_VARIABLE)
        .ok()
        .filter(|api| !api.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_API_URL.to_owned());
    open(url, &api, token)
}

/// Connects to the database `url` names through the API at `api`. No request is
/// made until the first statement.
pub(super) fn open(url: &str, api: &str, token: String) -> Result<Database> {
    let (account, database) = parse_url(url)?;
    let api = api.trim_end_matches('/');
    let parsed = reqwest::Url::parse(api)
        .map_err(|e| Error::InvalidUrl(format!("invalid D1 API URL {api:?}: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Error::InvalidUrl(format!(
            "invalid D1 API URL {api:?}: use https://HOST/PATH"
        )));
    }
    install_crypto_provider();
    let http = reqwest::Client::builder()
        .user_agent(concat!("qhub/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| Error::Database(format!("cannot set up the HTTP client: {e}")))?;
    Ok(Database::D1(D1Database {
        inner: Arc::new(Inner {
            http,
            endpoint: format!("{api}/accounts/{account}/d1/database/{database}/raw"),
            api: api.to_owned(),
            name: format!("d1://{account}/{database}"),
            token: Token(token.trim().to_owned()),
        }),
    }))
}

/// `d1://ACCOUNT_ID/DATABASE_ID` into its two ids.
fn parse_url(url: &str) -> Result<(&str, &str)> {
    let invalid = || {
        Error::InvalidUrl(format!(
            "invalid D1 URL {url:?}: use d1://ACCOUNT_ID/DATABASE_ID"
        ))
    };
    let rest = url.strip_prefix("d1://").ok_or_else(invalid)?;
    let (account, database) = rest.split_once('/').ok_or_else(invalid)?;
    let is_id = |id: &str| {
        !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    if is_id(account) && is_id(database) {
        Ok((account, database))
    } else {
        Err(invalid())
    }
}

/// reqwest is built without a default TLS crypto provider; use ring's, once.
fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Err means another provider is installed already, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Why a request failed, before it is told as a `sql-error` (to a plugin) or as
/// a runtime [`Error`] (to `qhub migrate`).
#[derive(Debug)]
pub(super) enum Failure {
    /// The API could not be reached, or asked to come back later.
    Unreachable(String),
    /// The token was refused (HTTP 401 or 403).
    Unauthorized(String),
    /// No such account or database (HTTP 404).
    NotFound(String),
    /// The database ran the statements and refused them, or the answer broke a cap.
    Sql(SqlError),
}

impl From<Failure> for SqlError {
    fn from(failure: Failure) -> SqlError {
        match failure {
            Failure::Unreachable(message) => sql_error(ErrorKind::Connection, message),
            Failure::Unauthorized(message) | Failure::NotFound(message) => {
                sql_error(ErrorKind::Other, message)
            }
            Failure::Sql(err) => err,
        }
    }
}

impl From<Failure> for Error {
    fn from(failure: Failure) -> Error {
        match failure {
            Failure::Unreachable(message) => Error::Unavailable(message),
            Failure::Unauthorized(message) => Error::Unauthorized(message),
            // The URL names a database that is not there: the URL is wrong.
            Failure::NotFound(message) => Error::InvalidUrl(message),
            Failure::Sql(err) => Error::Database(err.message),
        }
    }
}

#[derive(Serialize)]
struct Query<'a> {
    sql: &'a str,
    params: Vec<Json>,
}

#[derive(Serialize)]
struct Batch<'a> {
    batch: Vec<Query<'a>>,
}

/// Cloudflare's response envelope. `result` stays raw until the call succeeded:
/// failures carry `null`, `{}` or `[]` there.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    success: bool,
    #[serde(default)]
    errors: Vec<ApiMessage>,
    #[serde(default)]
    result: Json,
}

#[derive(Deserialize)]
struct ApiMessage {
    #[serde(default)]
    code: i64,
    #[serde(default)]
    message: String,
}

/// One statement's answer from `/raw`.
#[derive(Deserialize)]
struct RawResult {
    #[serde(default)]
    results: Option<RawRows>,
    #[serde(default)]
    meta: Option<Meta>,
    #[serde(default)]
    success: Option<bool>,
}

#[derive(Deserialize, Default)]
struct RawRows {
    #[serde(default)]
    columns: Vec<String>,
    #[serde(default)]
    rows: Vec<Vec<Json>>,
}

#[derive(Deserialize)]
struct Meta {
    /// A JSON number; D1 documents it as `number`, not integer.
    #[serde(default)]
    changes: Option<f64>,
}

impl D1Database {
    /// `d1://ACCOUNT/DATABASE`.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Runs one statement.
    pub(super) async fn run(&self, stmt: Statement) -> Result<QueryResult, SqlError> {
        let params = params(stmt.params)?;
        let results = self
            .send(&Query {
                sql: &stmt.sql,
                params,
            })
            .await?;
        // Statement text holding several statements gets one result each, as the
        // local driver runs them all: gather them as it does.
        let mut builder = ResultBuilder::new();
        for result in results {
            add(&mut builder, result)?;
        }
        Ok(builder.finish())
    }

    /// Runs statements atomically: D1 runs a batch request as one transaction.
    pub(super) async fn batch(&self, stmts: Vec<Statement>) -> Result<Vec<QueryResult>, SqlError> {
        let mut batch = Vec::with_capacity(stmts.len());
        for stmt in &stmts {
            batch.push(Query {
                sql: &stmt.sql,
                params: params(stmt.params.clone())?,
            });
        }
        let results = self.send(&Batch { batch }).await?;
        if results.len() != stmts.len() {
            return Err(self.protocol(format!(
                "{} results for a batch of {} statements",
                results.len(),
                stmts.len()
            )));
        }
        results
            .into_iter()
            .map(|result| {
                let mut builder = ResultBuilder::new();
                add(&mut builder, result)?;
                Ok(builder.finish())
            })
            .collect()
    }

    /// Runs SQL text that may hold several statements, as one transaction, the way
    /// `wrangler d1 migrations apply` sends a migration file. For the migrator.
    pub(super) async fn script(&self, sql: &str) -> Result<(), Failure> {
        let query = Query {
            sql,
            params: Vec::new(),
        };
        self.send(&query).await.map(drop)
    }

    /// Runs a batch for the migrator, which needs the kind of failure.
    pub(super) async fn batch_for_migrator(
        &self,
        stmts: &[&str],
    ) -> Result<Vec<QueryResult>, Failure> {
        let batch = stmts
            .iter()
            .map(|sql| Query {
                sql,
                params: Vec::new(),
            })
            .collect();
        let results = self.send(&Batch { batch }).await?;
        results
            .into_iter()
            .map(|result| {
                let mut builder = ResultBuilder::new();
                add(&mut builder, result).map_err(Failure::Sql)?;
                Ok(builder.finish())
            })
            .collect()
    }

    /// Posts one request and unwraps Cloudflare's envelope.
    async fn send(&self, body: &impl Serialize) -> Result<Vec<RawResult>, Failure> {
        let inner = &self.inner;
        let response = inner
            .http
            .post(&inner.endpoint)
            .bearer_auth(&inner.token.0)
            .json(body)
            .send()
            .await
            .map_err(|e| {
                Failure::Unreachable(format!(
                    "cannot reach the D1 API at {}: {}",
                    inner.api,
                    root_cause(&e)
                ))
            })?;
        let status = response.status();
        let bytes = self.read_capped(response, status).await?;
        let envelope: Option<Envelope> = serde_json::from_slice(&bytes).ok();
        let errors = envelope
            .as_ref()
            .map(|e| describe(&e.errors))
            .filter(|text| !text.is_empty())
            .unwrap_or_else(|| format!("HTTP {status}"));
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            return Err(Failure::Unauthorized(format!(
                "Cloudflare refused the API token for {} (HTTP {}: {errors})",
                inner.name,
                status.as_u16()
            )));
        }
        if status == reqwest::StatusCode::NOT_FOUND {
            return Err(Failure::NotFound(format!(
                "no D1 database {} for this token (HTTP 404: {errors})",
                inner.name
            )));
        }
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            return Err(self.unreachable(status, &errors));
        }
        let Some(envelope) = envelope else {
            return Err(Failure::Sql(self.protocol(format!(
                "HTTP {status} without a Cloudflare API envelope"
            ))));
        };
        if !status.is_success() || !envelope.success {
            let message = describe(&envelope.errors);
            let message = if message.is_empty() {
                format!("D1 refused the request (HTTP {status})")
            } else {
                message
            };
            return Err(Failure::Sql(sql_error(
                sqlite::kind_of_message(&message),
                message,
            )));
        }
        let results: Vec<RawResult> = serde_json::from_value(envelope.result)
            .map_err(|e| Failure::Sql(self.protocol(format!("unreadable result: {e}"))))?;
        if let Some(failed) = results.iter().position(|r| r.success == Some(false)) {
            return Err(Failure::Sql(sql_error(
                ErrorKind::Other,
                format!(
                    "statement {} of the request failed without an error",
                    failed + 1
                ),
            )));
        }
        Ok(results)
    }

    /// Reads the body, refusing one larger than the host buffers.
    async fn read_capped(
        &self,
        mut response: reqwest::Response,
        status: reqwest::StatusCode,
    ) -> Result<Vec<u8>, Failure> {
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.unreachable(status, &root_cause(&e)))?
        {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(Failure::Sql(sql_error(
                    ErrorKind::TooLarge,
                    format!("the answer exceeds the host's limit of {MAX_RESPONSE_BYTES} bytes"),
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn unreachable(&self, status: reqwest::StatusCode, detail: &str) -> Failure {
        Failure::Unreachable(format!(
            "the D1 API at {} cannot serve {} now (HTTP {}: {detail})",
            self.inner.api,
            self.inner.name,
            status.as_u16()
        ))
    }

    fn protocol(&self, reason: String) -> SqlError {
        sql_error(
            ErrorKind::Other,
            format!(
                "unexpected answer from the D1 API at {}: {reason}",
                self.inner.api
            ),
        )
    }
}

/// `code: message; code: message`, as Cloudflare listed them.
fn describe(errors: &[ApiMessage]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.code, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The innermost cause: "connection refused" rather than "error sending request".
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// The statement's parameters as JSON.
fn params(values: Vec<Value>) -> Result<Vec<Json>, SqlError> {
    values
        .into_iter()
        .enumerate()
        .map(|(i, value)| match value {
            Value::Null => Ok(Json::Null),
            Value::Integer(n) => Ok(Json::from(n)),
            Value::Real(r) => serde_json::Number::from_f64(r)
                .map(Json::Number)
                .ok_or_else(|| {
                    sql_error(
                        ErrorKind::Query,
                        format!(
                            "parameter {}: {r} cannot be sent to D1 (JSON has no NaN or infinity)",
                            i + 1
                        ),
                    )
                }),
            Value::Text(s) => Ok(Json::String(s)),
            Value::Blob(_) => Err(sql_error(
                ErrorKind::Query,
                format!(
                    "parameter {}: D1's HTTP API takes JSON parameters, which have no blob form; \
                     bind the bytes as hex text and unhex() them in the statement",
                    i + 1
                ),
            )),
        })
        .collect()
}

/// Adds one statement's rows to `builder`, under the host's caps.
fn add(builder: &mut ResultBuilder, result: RawResult) -> Result<(), SqlError> {
    let RawRows { columns, rows } = result.results.unwrap_or_default();
    for row in rows {
        if row.len() != columns.len() {
            return Err(sql_error(
                ErrorKind::Other,
                format!(
                    "unexpected answer from the D1 API: a row of {} values for {} columns",
                    row.len(),
                    columns.len()
                ),
            ));
        }
        let values = row.into_iter().map(value).collect::<Result<_, _>>()?;
        builder.push(|| columns.clone(), values)?;
    }
    let changes = result.meta.and_then(|m| m.changes).unwrap_or(0.0);
    // A count of rows: whole and far below 2^53, so the conversion is exact.
    builder.result.rows_affected += changes.max(0.0) as u64;
    Ok(())
}

/// One JSON value of a row, as a `sql` value.
fn value(json: Json) -> Result<Value, SqlError> {
    match json {
        Json::Null => Ok(Value::Null),
        Json::Bool(b) => Ok(Value::Integer(b.into())),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Ok(Value::Integer(i)),
            None => Ok(Value::Real(n.as_f64().unwrap_or(f64::NAN))),
        },
        Json::String(s) => Ok(Value::Text(s)),
        Json::Array(items) => items
            .iter()
            .map(|item| item.as_u64().and_then(|b| u8::try_from(b).ok()))
            .collect::<Option<Vec<u8>>>()
            .map(Value::Blob)
            .ok_or_else(|| unexpected_value(&Json::Array(items))),
        other => Err(unexpected_value(&other)),
    }
}

fn unexpected_value(json: &Json) -> SqlError {
    let shown: String = json.to_string().chars().take(80).collect();
    sql_error(
        ErrorKind::Other,
        format!("unexpected value in a D1 row: {shown}"),
    )
}

#[cfg(test)]
#[path = "d1_tests.rs"]
mod tests;
