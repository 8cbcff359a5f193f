//! The QHub HTTP API as data: the routes, the JSON bodies, and the OpenAPI
//! document (`openapi.json`, committed and checked against [`ROUTES`] by a test).
//! The account core's `api` component (`plugins/auth/src/api.rs`) writes these
//! types and dispatches on [`ROUTES`]; hosts read a route's [`Handler`] and
//! [`Cost`] from the same table; the CLI's client reads the bodies, and `--json`
//! output uses the same shapes, so all agree. Serde only: no wasmtime, no
//! database, so the component and every host compile the one copy.

pub mod core_config;

use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize};

/// The OpenAPI 3.1 document served at `/v1/openapi.json`.
pub const OPENAPI_JSON: &str = include_str!("../openapi.json");

/// Who answers a route: the account core's `api` component, or the host itself
/// (what only the host knows: the plugin files it runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handler {
    Core,
    Host,
}

/// What a call costs a host that sheds load: `Hashing` routes hash or verify a
/// password (Argon2id, tens of milliseconds of one core) and are admitted under
/// the server's `max-hashing` bound; `Outbound` routes call an OAuth provider's
/// plugin, which reaches the network (one more instance, and the provider's
/// deadline on top of the core's); every other route is `Cheap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cost {
    Cheap,
    Hashing,
    Outbound,
}

/// One route of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// Uppercase ("GET").
    pub method: &'static str,
    /// The path pattern; `{name}` matches one non-empty path segment.
    pub path: &'static str,
    pub handler: Handler,
    pub cost: Cost,
}

const fn core(method: &'static str, path: &'static str) -> Route {
    Route {
        method,
        path,
        handler: Handler::Core,
        cost: Cost::Cheap,
    }
}

const fn hashing(method: &'static str, path: &'static str) -> Route {
    Route {
        cost: Cost::Hashing,
        ..core(method, path)
    }
}

const fn outbound(method: &'static str, path: &'static str) -> Route {
    Route {
        cost: Cost::Outbound,
        ..core(method, path)
    }
}

const fn host(method: &'static str, path: &'static str) -> Route {
    Route {
        handler: Handler::Host,
        ..core(method, path)
    }
}

/// Every route. The core's `api` component dispatches on this table, hosts read
/// a route's [`Handler`] and [`Cost`] from it, and the OpenAPI document must
/// describe exactly these (a test checks it).
pub const ROUTES: &[Route] = &[
    core("GET", "/healthz"),
    core("GET", "/v1/openapi.json"),
    host("GET", "/v1/plugins"),
    hashing("POST", "/v1/accounts"),
    hashing("POST", "/v1/sessions"),
    core("DELETE", "/v1/sessions/current"),
    core("GET", "/v1/sessions"),
    core("DELETE", "/v1/sessions"),
    core("DELETE", "/v1/sessions/{id}"),
    core("POST", "/v1/sessions/revoke-others"),
    hashing("PUT", "/v1/password"),
    core("GET", "/v1/preferences"),
    core("PUT", "/v1/preferences/{key}"),
    core("DELETE", "/v1/preferences/{key}"),
    core("GET", "/v1/usage"),
    core("POST", "/v1/jobs"),
    core("GET", "/v1/jobs"),
    core("GET", "/v1/jobs/{id}"),
    core("POST", "/v1/jobs/{id}/cancel"),
    core("POST", "/v1/keys"),
    core("GET", "/v1/keys"),
    core("DELETE", "/v1/keys/{id}"),
    core("GET", "/v1/account/export"),
    core("DELETE", "/v1/account"),
    core("GET", "/v1/me"),
    core("PUT", "/v1/me/display-name"),
    outbound("GET", "/v1/oauth/providers"),
    outbound("POST", "/v1/oauth/{provider}/device"),
    outbound("POST", "/v1/oauth/{provider}/device/token"),
    outbound("POST", "/v1/oauth/{provider}/authorize"),
    outbound("POST", "/v1/oauth/{provider}/token"),
    core("GET", "/v1/account/connections"),
    core("DELETE", "/v1/account/connections/{id}"),
];

/// What a method and path resolve to in [`ROUTES`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// The route, and its path parameters by name, percent-decoded.
    Route(&'static Route, Vec<(&'static str, String)>),
    /// A route has this path, not with this method: 405 with `Allow`.
    MethodNotAllowed(Vec<&'static str>),
    /// No route has this path: 404.
    NotFound,
    /// A path parameter is not UTF-8 once percent-decoded: 400.
    BadPath,
}

/// Resolves `method` and `path` (no query; still percent-encoded). As in the
/// native router before it: the most literal pattern that matches the path wins
/// (`/v1/sessions/current` before `/v1/sessions/{id}`), and only then the method
/// is checked, so `DELETE /v1/sessions/revoke-others` is a 405, not a session id.
///
/// `HEAD` is answered as `GET` (RFC 9110 section 9.3.2; the host sends no body),
/// and a `405`'s methods name `HEAD` wherever `GET` is allowed.
pub fn resolve(method: &str, path: &str) -> Resolved {
    let method = if method == "HEAD" { "GET" } else { method };
    // Run for every request, by the host (for the cost) and the core: no
    // allocation until a route is found.
    let matching = |route: &Route| {
        let (mut pattern, mut given) = (route.path.split('/'), path.split('/'));
        loop {
            match (pattern.next(), given.next()) {
                (None, None) => return true,
                (Some(p), Some(s)) if p.starts_with('{') && !s.is_empty() => {}
                (Some(p), Some(s)) if p == s => {}
                _ => return false,
            }
        }
    };
    let params_of = |route: &Route| route.path.matches('{').count();
    let Some(fewest) = ROUTES.iter().filter(|r| matching(r)).map(params_of).min() else {
        return Resolved::NotFound;
    };
    let candidates = || {
        ROUTES
            .iter()
            .filter(move |r| matching(r) && params_of(r) == fewest)
    };
    let Some(route) = candidates().find(|r| r.method == method) else {
        let mut allowed: Vec<&'static str> = candidates().map(|r| r.method).collect();
        if allowed.contains(&"GET") {
            allowed.push("HEAD");
        }
        return Resolved::MethodNotAllowed(allowed);
    };
    let mut params = Vec::new();
    for (pattern, segment) in route.path.split('/').zip(path.split('/')) {
        if let Some(name) = pattern.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            match percent_encoding::percent_decode_str(segment).decode_utf8() {
                Ok(value) => params.push((name, value.into_owned())),
                Err(_) => return Resolved::BadPath,
            }
        }
    }
    Resolved::Route(route, params)
}

/// The HTTP status of each of the account core's error codes (by wire name).
pub fn status_of(code: &str) -> u16 {
    match code {
        "invalid-input" => 400,
        "weak-password" => 422,
        "email-taken" | "conflict" => 409,
        "invalid-credentials" | "unauthenticated" => 401,
        "forbidden" => 403,
        "not-found" => 404,
        "quota-exceeded" | "rate-limited" => 429,
        "unavailable" => 503,
        _ => 500,
    }
}

/// A plugin a server runs (`GET /v1/plugins`): the native server and the Worker
/// answer with the same hashes when they run the same component files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginInfo {
    pub name: String,
    pub version: String,
    /// The WIT world, e.g. `qhub:plugin/account-core@0.1.0`.
    pub world: String,
    /// Lowercase hex SHA-256 of the component file.
    pub sha256: String,
}

/// Largest request body the server reads, in bytes.
///
/// Room for the largest valid request: a job's OpenQASM source may be 256 KiB
/// (`plugins/auth/src/data.rs`), and JSON escaping (`\n`, `\"`) can double it.
/// The core checks the same cap, so a request sent in-process (the CLI's
/// embedded mode) is held to what a server accepts.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegisterRequest {
    pub email: String,
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// `PUT /v1/me/display-name`: the new display name; absent, `null` or blank clears it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetDisplayName {
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// An account as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub id: String,
    pub email: String,
    pub display_name: Option<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
}

/// A new session: the token (JWT) and who it belongs to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedIn {
    pub token: String,
    pub session_id: String,
    /// RFC 3339, UTC.
    pub expires_at: String,
    pub user: Profile,
}

/// A live session of the caller (`GET /v1/sessions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub last_seen_at: String,
    pub expires_at: String,
    /// Whether this is the session of the token that asked.
    pub current: bool,
}

/// How many sessions a bulk revocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revoked {
    pub revoked: u32,
}

/// `PUT /v1/password`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChangePassword {
    pub current_password: String,
    pub new_password: String,
}

/// A preference (`GET /v1/preferences`); `PUT /v1/preferences/{key}` takes the
/// bare JSON value as its body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preference {
    pub key: String,
    pub value: serde_json::Value,
    pub updated_at: String,
}

/// Quota use of the current period (`GET /v1/usage`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub period: String,
    pub jobs_used: u32,
    pub jobs_limit: u32,
    pub shots_used: u64,
    pub shots_limit: u64,
}

/// `POST /v1/jobs`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobRequest {
    /// OpenQASM 2 or 3 source.
    pub source: String,
    #[serde(deserialize_with = "integer")]
    pub shots: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
}

/// A quantum job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: String,
    /// queued, running, completed, failed or cancelled.
    pub status: String,
    pub backend: String,
    pub shots: u32,
    pub source: String,
    pub result: Option<serde_json::Value>,
    pub error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// The wire names of a job's statuses, in the order a job can pass through them.
pub const JOB_STATUSES: [&str; 5] = ["queued", "running", "completed", "failed", "cancelled"];

/// The message for a status name that is not one of [`JOB_STATUSES`].
pub fn unknown_job_status(name: &str) -> String {
    format!("unknown job status {name:?}: use queued, running, completed, failed or cancelled")
}

/// JSON text from the core, as a value (the core only ever stores valid JSON).
pub fn json_value(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|_| serde_json::Value::String(text.to_owned()))
}

/// A configured OAuth provider (`GET /v1/oauth/providers`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthProvider {
    /// The operator's name for it, as in `qhub login --provider NAME`.
    pub name: String,
    pub display_name: String,
    pub device_flow: bool,
    pub web_flow: bool,
}

/// `POST /v1/oauth/{provider}/device` and `.../authorize`: the scopes to ask for,
/// the provider's defaults when empty.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DeviceStart {
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// A device authorization (RFC 8628 section 3.2): show `user_code` and
/// `verification_uri` to the user, then poll with `device_code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceCode {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    /// Seconds until the codes expire.
    pub expires_in: u32,
    /// Seconds to wait between polls.
    pub interval: u32,
}

/// `POST /v1/oauth/{provider}/device/token`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceTokenRequest {
    pub device_code: String,
}

/// The answer to a poll that is not finished (status 202): `status` is `pending`,
/// or `slow_down` with the provider's new `interval` (seconds; wait at least the
/// current interval plus 5 s, RFC 8628 section 3.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevicePending {
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<u32>,
}

impl DevicePending {
    /// `pending`, or `slow_down` with the provider's new interval (0: none given).
    pub fn new(slow_down: Option<u32>) -> Self {
        DevicePending {
            status: if slow_down.is_some() {
                "slow_down"
            } else {
                "pending"
            }
            .into(),
            interval: slow_down,
        }
    }
}

/// `POST /v1/oauth/{provider}/authorize`: where the browser goes for an
/// authorization code with PKCE (S256); the client keeps the verifier and `state`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthorizeRequest {
    /// A loopback URL the client listens on (`http://127.0.0.1:PORT/callback`).
    pub redirect_uri: String,
    pub state: String,
    pub code_challenge: String,
    #[serde(default)]
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizeUrl {
    pub url: String,
}

/// `POST /v1/oauth/{provider}/token`: the code the browser brought back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeExchange {
    pub code: String,
    pub redirect_uri: String,
    pub code_verifier: String,
}

/// An identity linked to the caller's account (`GET /v1/account/connections`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    pub id: String,
    pub provider: String,
    pub subject: String,
    pub email: Option<String>,
    pub created_at: String,
}

/// `POST /v1/keys`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateApiKey {
    pub name: String,
    /// Absent for every scope (the default); an empty list is refused with
    /// `invalid-input`, never read as "every scope".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// Seconds until the key expires; absent for no expiry.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "optional_integer"
    )]
    pub expires_in: Option<u64>,
}

/// An API key as its owner sees it; the secret is never shown again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
}

/// A key just created, with its secret (shown this once).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewApiKey {
    pub key: ApiKey,
    pub secret: String,
}

/// Every error response: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// One of the account core's error codes (`invalid-credentials`, ...).
    pub code: String,
    /// A lowercase sentence fragment, safe to show.
    pub message: String,
}

/// A JSON number the OpenAPI document calls an `integer`. JSON Schema counts any
/// number with a zero fractional part as one (JSON Schema 2020-12, Validation
/// section 6.1.1), so `10.0` and `1e3` are read as 10 and 1000 rather than refused
/// as a float; `1.5`, a negative number and one out of `T`'s range are refused.
fn integer<'de, D: Deserializer<'de>, T: TryFrom<u64>>(deserializer: D) -> Result<T, D::Error> {
    let number = serde_json::Number::deserialize(deserializer)?;
    let whole = number.as_u64().or_else(|| {
        number
            .as_f64()
            .filter(|f| f.fract() == 0.0 && (0.0..=u64::MAX as f64).contains(f))
            .map(|f| f as u64)
    });
    whole.and_then(|n| T::try_from(n).ok()).ok_or_else(|| {
        serde::de::Error::invalid_value(
            serde::de::Unexpected::Other(&format!("the number {number}")),
            &"a whole number in range",
        )
    })
}

/// [`integer`] for an optional field (`null` as absent).
fn optional_integer<'de, D: Deserializer<'de>, T: TryFrom<u64>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    #[derive(Deserialize)]
    struct Whole<T: TryFrom<u64>>(#[serde(deserialize_with = "integer")] T);
    Ok(Option::<Whole<T>>::deserialize(deserializer)?.map(|Whole(n)| n))
}

/// Milliseconds since the epoch as RFC 3339 UTC (`2026-11-26T05:28:50Z`).
pub fn timestamp(ms: i64) -> String {
    let time = UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_seconds(time).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed OpenAPI document describes exactly the served routes.
    #[test]
    fn openapi_document_matches_the_routes() {
        let doc: serde_json::Value =
            serde_json::from_str(OPENAPI_JSON).expect("openapi.json is JSON");
        assert_eq!(doc["openapi"], "3.1.0");
        let mut documented: Vec<(String, String)> = doc["paths"]
            .as_object()
            .expect("paths")
            .iter()
            .flat_map(|(path, ops)| {
                ops.as_object()
                    .expect("operations")
                    .keys()
                    .map(move |method| (method.to_uppercase(), path.clone()))
            })
            .collect();
        let mut served: Vec<(String, String)> = ROUTES
            .iter()
            .map(|r| (r.method.to_owned(), r.path.to_owned()))
            .collect();
        documented.sort();
        served.sort();
        assert_eq!(
            documented, served,
            "openapi.json is stale: update it with the routes"
        );
    }

    /// Each route the core answers documents every status its request handling
    /// can give (plugins/auth/src/api.rs): 500 and 503 (shed, or the database
    /// down) always; 400, 413, 415 and 422 with a JSON body; 400 (two
    /// `Authorization` headers), 401 and 403 (an API key without the scope) with a
    /// credential; 400 and 404 with a path parameter.
    #[test]
    fn openapi_lists_every_status_the_core_can_answer() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON).unwrap();
        for route in ROUTES.iter().filter(|r| r.handler == Handler::Core) {
            let op = &doc["paths"][route.path][route.method.to_lowercase()];
            let mut needed = vec!["500", "503"];
            let body = &op["requestBody"]["content"];
            if body.get("application/json").is_some() && !route.path.contains("{key}") {
                needed.extend(["400", "413", "415", "422"]);
            } else if body.is_object() {
                needed.extend(["400", "413"]);
            }
            if op.get("security").is_some() {
                needed.extend(["400", "401", "403"]);
            }
            if route.path.contains('{') {
                needed.extend(["400", "404"]);
            }
            for status in needed {
                assert!(
                    op["responses"].get(status).is_some(),
                    "{} {} does not document {status}",
                    route.method,
                    route.path
                );
            }
        }
    }

    #[test]
    fn literal_paths_win_and_methods_are_checked_after() {
        let Resolved::Route(route, params) = resolve("DELETE", "/v1/sessions/current") else {
            panic!("routed")
        };
        assert_eq!((route.path, params.len()), ("/v1/sessions/current", 0));
        let Resolved::Route(route, params) = resolve("DELETE", "/v1/sessions/a%2Fb%20c") else {
            panic!("routed")
        };
        assert_eq!(route.path, "/v1/sessions/{id}");
        assert_eq!(params, [("id", "a/b c".to_owned())]);
        assert_eq!(
            resolve("DELETE", "/v1/sessions/revoke-others"),
            Resolved::MethodNotAllowed(vec!["POST"])
        );
        let Resolved::MethodNotAllowed(mut allowed) = resolve("PATCH", "/v1/jobs") else {
            panic!("405")
        };
        allowed.sort_unstable();
        assert_eq!(allowed, ["GET", "HEAD", "POST"]);
        let Resolved::Route(route, _) = resolve("HEAD", "/healthz") else {
            panic!("HEAD is GET")
        };
        assert_eq!(route.method, "GET");
        assert_eq!(resolve("GET", "/v1/jobs/"), Resolved::NotFound);
        assert_eq!(resolve("GET", "/v1/nowhere"), Resolved::NotFound);
        assert_eq!(resolve("GET", "/v1/jobs/%FF"), Resolved::BadPath);
        let Resolved::Route(route, _) = resolve("POST", "/v1/sessions") else {
            panic!("routed")
        };
        assert_eq!((route.cost, route.handler), (Cost::Hashing, Handler::Core));
    }

    #[test]
    fn every_status_the_core_can_answer_is_mapped() {
        for (code, status) in [
            ("invalid-input", 400),
            ("weak-password", 422),
            ("email-taken", 409),
            ("invalid-credentials", 401),
            ("forbidden", 403),
            ("not-found", 404),
            ("rate-limited", 429),
            ("unavailable", 503),
            ("internal", 500),
        ] {
            assert_eq!(status_of(code), status, "{code}");
        }
    }

    /// What the OpenAPI document calls an integer, as JSON Schema does.
    #[test]
    fn integers_may_be_written_with_a_zero_fraction() {
        let shots = |json: &str| {
            serde_json::from_str::<JobRequest>(&format!(r#"{{"source":"s","shots":{json}}}"#))
                .map(|job| job.shots)
                .map_err(|e| e.is_data())
        };
        assert_eq!(shots("10"), Ok(10));
        assert_eq!(shots("10.0"), Ok(10));
        assert_eq!(shots("1e3"), Ok(1000));
        for refused in ["1.5", "-1", "-1.0", "4294967296", "1e30", "\"1\"", "null"] {
            assert_eq!(shots(refused), Err(true), "{refused}");
        }
        let expires = |json: &str| {
            serde_json::from_str::<CreateApiKey>(json)
                .map(|key| key.expires_in)
                .map_err(|e| e.is_data())
        };
        assert_eq!(expires(r#"{"name":"k"}"#), Ok(None));
        assert_eq!(expires(r#"{"name":"k","expires_in":null}"#), Ok(None));
        assert_eq!(expires(r#"{"name":"k","expires_in":60.0}"#), Ok(Some(60)));
        assert_eq!(expires(r#"{"name":"k","expires_in":0.5}"#), Err(true));
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(timestamp(1_700_000_000_000), "2023-11-14T22:13:20Z");
    }
}
