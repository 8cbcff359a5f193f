//! The QHub HTTP API as data: the routes, the JSON bodies, and the OpenAPI
//! document (`openapi.json`, committed and checked against [`ROUTES`] by a test).
//! The server writes these types, the CLI's remote mode reads them, and `--json`
//! output uses the same shapes, so all three agree.

use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// The OpenAPI 3.1 document served at `/v1/openapi.json`.
pub const OPENAPI_JSON: &str = include_str!("../openapi.json");

/// Every route: method and path. The server is built from this table and the
/// OpenAPI document must describe exactly these.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/v1/openapi.json"),
    ("GET", "/v1/plugins"),
    ("POST", "/v1/accounts"),
    ("POST", "/v1/sessions"),
    ("DELETE", "/v1/sessions/current"),
    ("GET", "/v1/sessions"),
    ("DELETE", "/v1/sessions"),
    ("DELETE", "/v1/sessions/{id}"),
    ("POST", "/v1/sessions/revoke-others"),
    ("PUT", "/v1/password"),
    ("GET", "/v1/preferences"),
    ("PUT", "/v1/preferences/{key}"),
    ("DELETE", "/v1/preferences/{key}"),
    ("GET", "/v1/usage"),
    ("POST", "/v1/jobs"),
    ("GET", "/v1/jobs"),
    ("GET", "/v1/jobs/{id}"),
    ("POST", "/v1/jobs/{id}/cancel"),
    ("POST", "/v1/keys"),
    ("GET", "/v1/keys"),
    ("DELETE", "/v1/keys/{id}"),
    ("GET", "/v1/account/export"),
    ("DELETE", "/v1/account"),
    ("GET", "/v1/me"),
    ("GET", "/v1/oauth/providers"),
    ("POST", "/v1/oauth/{provider}/device"),
    ("POST", "/v1/oauth/{provider}/device/token"),
    ("POST", "/v1/oauth/{provider}/authorize"),
    ("POST", "/v1/oauth/{provider}/token"),
    ("GET", "/v1/account/connections"),
    ("DELETE", "/v1/account/connections/{id}"),
];

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

impl From<&qhub_runtime::Manifest> for PluginInfo {
    fn from(m: &qhub_runtime::Manifest) -> Self {
        PluginInfo {
            name: m.name.clone(),
            version: m.version.clone(),
            world: m.world.clone(),
            sha256: m.sha256.clone(),
        }
    }
}

/// Largest request body the server reads, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegisterRequest {
    pub email: String,
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
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

/// `GET /v1/jobs?status=...`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct JobFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

const JOB_STATUSES: &[(qhub_runtime::JobStatus, &str)] = &[
    (qhub_runtime::JobStatus::Queued, "queued"),
    (qhub_runtime::JobStatus::Running, "running"),
    (qhub_runtime::JobStatus::Completed, "completed"),
    (qhub_runtime::JobStatus::Failed, "failed"),
    (qhub_runtime::JobStatus::Cancelled, "cancelled"),
];

/// The wire name of a job status.
pub fn job_status_name(status: qhub_runtime::JobStatus) -> &'static str {
    JOB_STATUSES
        .iter()
        .find(|(s, _)| *s == status)
        .map(|(_, name)| *name)
        .expect("every status has a name")
}

/// The status a wire name stands for, or a message saying which names exist.
pub fn job_status_from_name(name: &str) -> Result<qhub_runtime::JobStatus, String> {
    JOB_STATUSES
        .iter()
        .find(|(_, n)| *n == name)
        .map(|(s, _)| *s)
        .ok_or_else(|| {
            format!(
                "unknown job status {name:?}: use queued, running, completed, failed or cancelled"
            )
        })
}

/// JSON text from the core, as a value (the core only ever stores valid JSON).
fn json_value(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|_| serde_json::Value::String(text.to_owned()))
}

impl From<qhub_runtime::Preference> for Preference {
    fn from(p: qhub_runtime::Preference) -> Self {
        Preference {
            value: json_value(&p.value),
            key: p.key,
            updated_at: timestamp(p.updated_at),
        }
    }
}

impl From<qhub_runtime::UsageReport> for Usage {
    fn from(u: qhub_runtime::UsageReport) -> Self {
        Usage {
            period: u.period,
            jobs_used: u.jobs_used,
            jobs_limit: u.jobs_limit,
            shots_used: u.shots_used,
            shots_limit: u.shots_limit,
        }
    }
}

impl From<qhub_runtime::QuantumJob> for Job {
    fn from(j: qhub_runtime::QuantumJob) -> Self {
        Job {
            id: j.id,
            status: job_status_name(j.status).to_owned(),
            backend: j.backend,
            shots: j.shots,
            source: j.source,
            result: j.result.as_deref().map(json_value),
            error: j.error,
            created_at: timestamp(j.created_at),
            updated_at: timestamp(j.updated_at),
        }
    }
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

impl From<qhub_runtime::DeviceAuthorization> for DeviceCode {
    fn from(d: qhub_runtime::DeviceAuthorization) -> Self {
        DeviceCode {
            device_code: d.device_code,
            user_code: d.user_code,
            verification_uri: d.verification_uri,
            verification_uri_complete: d.verification_uri_complete,
            expires_in: d.expires_in,
            interval: d.interval,
        }
    }
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

impl From<qhub_runtime::ConnectionInfo> for Connection {
    fn from(c: qhub_runtime::ConnectionInfo) -> Self {
        Connection {
            id: c.id,
            provider: c.provider,
            subject: c.subject,
            email: c.email,
            created_at: timestamp(c.created_at),
        }
    }
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
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

impl From<qhub_runtime::ApiKeyInfo> for ApiKey {
    fn from(k: qhub_runtime::ApiKeyInfo) -> Self {
        ApiKey {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            scopes: k.scopes,
            created_at: timestamp(k.created_at),
            expires_at: k.expires_at.map(timestamp),
            last_used_at: k.last_used_at.map(timestamp),
        }
    }
}

impl From<qhub_runtime::NewApiKey> for NewApiKey {
    fn from(k: qhub_runtime::NewApiKey) -> Self {
        NewApiKey {
            key: k.key.into(),
            secret: k.secret,
        }
    }
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

/// Milliseconds since the epoch as RFC 3339 UTC (`2026-11-26T05:28:50Z`).
pub fn timestamp(ms: i64) -> String {
    let time = UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_seconds(time).to_string()
}

impl From<qhub_runtime::Profile> for Profile {
    fn from(p: qhub_runtime::Profile) -> Self {
        Profile {
            id: p.id,
            email: p.email,
            display_name: p.display_name,
            created_at: timestamp(p.created_at),
        }
    }
}

impl From<qhub_runtime::SessionInfo> for Session {
    fn from(s: qhub_runtime::SessionInfo) -> Self {
        Session {
            id: s.id,
            user_agent: s.user_agent,
            ip: s.ip,
            created_at: timestamp(s.created_at),
            last_seen_at: timestamp(s.last_seen_at),
            expires_at: timestamp(s.expires_at),
            current: s.current,
        }
    }
}

impl From<qhub_runtime::SignedIn> for SignedIn {
    fn from(s: qhub_runtime::SignedIn) -> Self {
        SignedIn {
            token: s.token,
            session_id: s.session_id,
            expires_at: timestamp(s.expires_at),
            user: s.user.into(),
        }
    }
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
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect();
        documented.sort();
        served.sort();
        assert_eq!(
            documented, served,
            "openapi.json is stale: update it with the routes"
        );
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(timestamp(1_700_000_000_000), "2023-11-14T22:13:20Z");
    }
}
