//! The exported `api` interface: QHub's HTTP API, written once. Every host
//! forwards a request here (`qhub serve`, the Worker's `fetch`, the CLI's
//! embedded mode) and sends back what this answers: routing on
//! [`qhub_api::ROUTES`], reading the bearer credential, the query and the JSON
//! body, calling the account core, and writing the JSON body or the documented
//! error body (`{"error": {"code", "message"}}`) with its status.
//!
//! The statuses of malformed requests follow RFC 9110: 400 for a body that is not
//! JSON or a query field given twice, 415 for a body that is not declared as JSON
//! (`Content-Type`), 422 for JSON of the wrong shape, 405 with `Allow` for a
//! method the path does not have, 413 for a body over [`qhub_api::MAX_BODY_BYTES`].

use qhub_api::{Handler, Resolved, Route};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Component;
use crate::bindings::exports::qhub::plugin::accounts::{self as wit, Guest as _};
use crate::bindings::exports::qhub::plugin::api::{Request, Response};
use crate::bindings::exports::qhub::plugin::identities::{self as wit_identities, Guest as _};
use crate::bindings::qhub::plugin::types;

/// A refusal, before it becomes a response.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) status: u16,
    pub(crate) code: &'static str,
    pub(crate) message: String,
    /// For the operator's log (see `response.log`).
    pub(crate) log: Option<String>,
    pub(crate) headers: Vec<(String, String)>,
}

impl Refusal {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            status: qhub_api::status_of(code),
            code,
            message: message.into(),
            log: None,
            headers: Vec::new(),
        }
    }

    fn with_status(self, status: u16) -> Refusal {
        Refusal { status, ..self }
    }

    /// A bug or misconfiguration: the client learns only that the server failed.
    pub(crate) fn internal(log: String) -> Refusal {
        Refusal {
            log: Some(log),
            ..Refusal::new("internal", "internal error")
        }
    }
}

impl From<wit::Error> for Refusal {
    fn from(error: wit::Error) -> Refusal {
        let code = code_name(error.code);
        if code == "internal" {
            // Its text may be a database's message: logs only.
            return Refusal::internal(error.message);
        }
        let mut refusal = Refusal::new(code, error.message);
        if code == "unavailable" {
            // Every 503 says when to come back (RFC 9110 section 10.2.3).
            refusal.headers.push(("retry-after".into(), "1".into()));
        }
        refusal
    }
}

/// A success, before it becomes a response.
pub(crate) enum Reply {
    /// 204, no body.
    NoContent,
    /// A status and a JSON body.
    Json(u16, Vec<u8>),
}

pub(crate) fn ok<T: Serialize>(status: u16, value: &T) -> Result<Reply, Refusal> {
    serde_json::to_vec(value)
        .map(|body| Reply::Json(status, body))
        .map_err(|e| Refusal::internal(format!("cannot write a response body: {e}")))
}

/// Answers one request (the `api.handle` export).
pub(crate) fn handle(request: Request) -> Response {
    let outcome = answer(&request);
    let (status, mut headers, body, log) = match outcome {
        Ok(Reply::NoContent) => (204, Vec::new(), Vec::new(), None),
        Ok(Reply::Json(status, body)) => (status, Vec::new(), body, None),
        Err(refusal) => {
            let body = qhub_api::ErrorBody {
                error: qhub_api::ErrorDetail {
                    code: refusal.code.to_owned(),
                    message: refusal.message,
                },
            };
            let body = serde_json::to_vec(&body).unwrap_or_default();
            (refusal.status, refusal.headers, body, refusal.log)
        }
    };
    if !body.is_empty() {
        headers.push(("content-type".into(), "application/json".into()));
    }
    Response {
        status,
        headers,
        body,
        log,
    }
}

fn answer(request: &Request) -> Result<Reply, Refusal> {
    let (path, query) = request
        .target
        .split_once('?')
        .unwrap_or((request.target.as_str(), ""));
    let (route, params) = match qhub_api::resolve(&request.method, path) {
        Resolved::Route(route, params) => (route, params),
        Resolved::NotFound => {
            return Err(Refusal::new(
                "not-found",
                "no such route; see /v1/openapi.json",
            ));
        }
        Resolved::MethodNotAllowed(allowed) => {
            let allowed = allowed.join(", ");
            let mut refusal = Refusal::new(
                "invalid-input",
                format!(
                    "method {} is not allowed on {path}; use {allowed}",
                    request.method
                ),
            )
            .with_status(405);
            refusal.headers.push(("allow".into(), allowed));
            return Err(refusal);
        }
        Resolved::BadPath => {
            return Err(Refusal::new(
                "invalid-input",
                "the path is not valid UTF-8 once percent-decoded",
            ));
        }
    };
    if route.handler == Handler::Host {
        return Err(Refusal::internal(format!(
            "{} {} is answered by the host, which forwarded it to the core",
            route.method, route.path
        )));
    }
    if request.body.len() > qhub_api::MAX_BODY_BYTES {
        return Err(Refusal::new(
            "invalid-input",
            format!("request body exceeds {} bytes", qhub_api::MAX_BODY_BYTES),
        )
        .with_status(413));
    }
    let call = Call {
        request,
        query,
        params,
    };
    dispatch(route, &call)
}

/// What a route's handler reads of its request.
struct Call<'a> {
    request: &'a Request,
    query: &'a str,
    params: Vec<(&'static str, String)>,
}

impl Call<'_> {
    fn param(&self, name: &str) -> String {
        self.params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    fn headers<'h>(&'h self, name: &'h str) -> impl Iterator<Item = &'h str> + 'h {
        self.request
            .headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The bearer credential (RFC 6750 section 2.1; the scheme name is
    /// case-insensitive, RFC 9110 section 11.1). Two `Authorization` headers are
    /// refused rather than one of them picked.
    fn bearer(&self) -> Result<String, Refusal> {
        let mut values = self.headers("authorization");
        let Some(value) = values.next() else {
            return Err(Refusal::new("unauthenticated", "missing bearer token"));
        };
        if values.next().is_some() {
            return Err(Refusal::new(
                "invalid-input",
                "send one Authorization header, not several",
            ));
        }
        // Two headers that a proxy or the Workers runtime joined into one (RFC 9110
        // section 5.3) read `Bearer a, Bearer b`: every part is a credential of its
        // own. A token with a comma but no second scheme is one malformed token,
        // refused as any invalid token is (401, RFC 6750 section 3.1).
        if value.contains(',') && value.split(',').all(is_credentials) {
            return Err(Refusal::new(
                "invalid-input",
                "send one Authorization header, not several",
            ));
        }
        let (scheme, token) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
        let token = token.trim();
        if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
            return Err(Refusal::new(
                "unauthenticated",
                "missing bearer token; send `Authorization: Bearer <token>`",
            ));
        }
        Ok(token.to_owned())
    }

    /// The body as JSON of type `T`: 415 unless declared as JSON, 400 when it is
    /// not JSON, 422 when it is JSON of another shape (a missing field, a string
    /// where a number belongs).
    fn json<T: DeserializeOwned>(&self) -> Result<T, Refusal> {
        let mut declared = self.headers("content-type");
        let first = declared.next().unwrap_or("");
        // Two Content-Type headers, or two that the Workers runtime joined with a
        // comma (RFC 9110 section 5.3; a media type has no comma outside a quoted
        // parameter): which one the sender meant is unknown, so neither is picked,
        // and every host answers the same.
        if declared.next().is_some() || first.contains(',') {
            return Err(Refusal::new(
                "invalid-input",
                "send one Content-Type header, not several",
            ));
        }
        let mime = first
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if mime != "application/json"
            && !(mime.starts_with("application/") && mime.ends_with("+json"))
        {
            return Err(Refusal::new(
                "invalid-input",
                "the body must be JSON, sent with `Content-Type: application/json`",
            )
            .with_status(415));
        }
        let body = &self.request.body;
        let value = serde_json::from_slice(body).map_err(|e| {
            let status = if e.is_data() { 422 } else { 400 };
            Refusal::new("invalid-input", format!("malformed JSON body: {e}")).with_status(status)
        })?;
        // serde reads a struct from a JSON array as well (`[null]` as
        // `{"display_name": null}`); every body openapi.json documents is an object.
        let first = body.iter().find(|b| !b" \t\n\r".contains(b));
        if first != Some(&b'{') {
            return Err(
                Refusal::new("invalid-input", "the body must be a JSON object").with_status(422),
            );
        }
        Ok(value)
    }

    /// The body as text (a preference's value, which the core validates).
    fn text(&self) -> Result<String, Refusal> {
        String::from_utf8(self.request.body.clone())
            .map_err(|_| Refusal::new("invalid-input", "the body is not valid UTF-8"))
    }

    /// A query field, percent-decoded; given twice, a 400.
    fn query(&self, name: &str) -> Result<Option<String>, Refusal> {
        let mut found = None;
        for (key, value) in form_urlencoded::parse(self.query.as_bytes()) {
            if key == name {
                if found.is_some() {
                    return Err(Refusal::new(
                        "invalid-input",
                        format!("the query field {name:?} is given more than once"),
                    ));
                }
                found = Some(value.into_owned());
            }
        }
        Ok(found)
    }

    fn client(&self) -> wit::ClientInfo {
        self.request.client.clone()
    }
}

/// Whether `text` is an `Authorization` value of the form every token QHub
/// issues has: a scheme name (an RFC 9110 token), spaces, then a token68
/// (RFC 9110 section 11.2: letters, digits, `-._~+/`, then `=` padding).
fn is_credentials(text: &str) -> bool {
    let tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    let token68 = |t: &str| {
        let body = t.trim_end_matches('=');
        !body.is_empty()
            && body
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._~+/".contains(c))
    };
    text.trim().split_once(' ').is_some_and(|(scheme, rest)| {
        !scheme.is_empty() && scheme.chars().all(tchar) && token68(rest.trim())
    })
}

/// Every route the core answers, once.
fn dispatch(route: &Route, c: &Call<'_>) -> Result<Reply, Refusal> {
    type A = Component;
    match (route.method, route.path) {
        ("GET", "/healthz") => ok(200, &serde_json::json!({ "status": "ok" })),
        ("GET", "/v1/openapi.json") => Ok(Reply::Json(200, qhub_api::OPENAPI_JSON.into())),
        ("POST", "/v1/accounts") => {
            let body: qhub_api::RegisterRequest = c.json()?;
            let request = wit::RegisterRequest {
                email: body.email,
                password: body.password,
                display_name: body.display_name,
            };
            ok(201, &signed_in(A::register(request, c.client())?))
        }
        ("POST", "/v1/sessions") => {
            let body: qhub_api::LoginRequest = c.json()?;
            ok(
                200,
                &signed_in(A::login(body.email, body.password, c.client())?),
            )
        }
        ("DELETE", "/v1/sessions/current") => no_content(A::logout(c.bearer()?)),
        ("GET", "/v1/sessions") => {
            let sessions = A::list_sessions(c.bearer()?)?;
            ok(200, &sessions.into_iter().map(session).collect::<Vec<_>>())
        }
        ("DELETE", "/v1/sessions") => revoked(A::logout_all(c.bearer()?)),
        ("DELETE", "/v1/sessions/{id}") => {
            no_content(A::revoke_session(c.bearer()?, c.param("id")))
        }
        ("POST", "/v1/sessions/revoke-others") => revoked(A::revoke_other_sessions(c.bearer()?)),
        ("PUT", "/v1/password") => {
            let body: qhub_api::ChangePassword = c.json()?;
            no_content(A::change_password(
                c.bearer()?,
                body.current_password,
                body.new_password,
            ))
        }
        ("GET", "/v1/preferences") => {
            let preferences = A::list_preferences(c.bearer()?)?;
            ok(
                200,
                &preferences.into_iter().map(preference).collect::<Vec<_>>(),
            )
        }
        // The body goes to the core as text: the core decides what a valid value is.
        ("PUT", "/v1/preferences/{key}") => {
            no_content(A::set_preference(c.bearer()?, c.param("key"), c.text()?))
        }
        ("DELETE", "/v1/preferences/{key}") => {
            no_content(A::unset_preference(c.bearer()?, c.param("key")))
        }
        ("GET", "/v1/usage") => {
            let u = A::get_usage(c.bearer()?)?;
            ok(
                200,
                &qhub_api::Usage {
                    period: u.period,
                    jobs_used: u.jobs_used,
                    jobs_limit: u.jobs_limit,
                    shots_used: u.shots_used,
                    shots_limit: u.shots_limit,
                },
            )
        }
        ("POST", "/v1/jobs") => {
            let body: qhub_api::JobRequest = c.json()?;
            let request = wit::JobRequest {
                source: body.source,
                shots: body.shots,
                backend: body.backend,
            };
            ok(201, &job(A::submit_job(c.bearer()?, request)?))
        }
        ("GET", "/v1/jobs") => {
            let status = c
                .query("status")?
                .map(|name| job_status(&name))
                .transpose()?;
            let jobs = A::list_jobs(c.bearer()?, status)?;
            ok(200, &jobs.into_iter().map(job).collect::<Vec<_>>())
        }
        ("GET", "/v1/jobs/{id}") => ok(200, &job(A::get_job(c.bearer()?, c.param("id"))?)),
        ("POST", "/v1/jobs/{id}/cancel") => {
            ok(200, &job(A::cancel_job(c.bearer()?, c.param("id"))?))
        }
        ("POST", "/v1/keys") => {
            let body: qhub_api::CreateApiKey = c.json()?;
            let created = A::create_api_key(c.bearer()?, body.name, body.scopes, body.expires_in)?;
            let created = qhub_api::NewApiKey {
                key: api_key(created.key),
                secret: created.secret,
            };
            ok(201, &created)
        }
        ("GET", "/v1/keys") => {
            let keys = A::list_api_keys(c.bearer()?)?;
            ok(200, &keys.into_iter().map(api_key).collect::<Vec<_>>())
        }
        ("DELETE", "/v1/keys/{id}") => no_content(A::revoke_api_key(c.bearer()?, c.param("id"))),
        // The core's document is JSON already: sent as it is.
        ("GET", "/v1/account/export") => Ok(Reply::Json(
            200,
            A::export_account(c.bearer()?)?.into_bytes(),
        )),
        ("DELETE", "/v1/account") => no_content(A::delete_account(c.bearer()?)),
        ("GET", "/v1/me") => ok(200, &profile(A::whoami(c.bearer()?)?)),
        ("PUT", "/v1/me/display-name") => {
            let body: qhub_api::SetDisplayName = c.json()?;
            ok(
                200,
                &profile(A::set_display_name(c.bearer()?, body.display_name)?),
            )
        }
        ("GET", "/v1/account/connections") => {
            let connections = A::list_connections(c.bearer()?)?;
            ok(
                200,
                &connections.into_iter().map(connection).collect::<Vec<_>>(),
            )
        }
        ("DELETE", "/v1/account/connections/{id}") => {
            no_content(A::unlink_connection(c.bearer()?, c.param("id")))
        }
        ("GET", "/v1/oauth/providers") => crate::api_oauth::providers(),
        ("POST", "/v1/oauth/{provider}/device") => {
            let body: qhub_api::DeviceStart = c.json()?;
            crate::api_oauth::start_device(&c.param("provider"), &body.scopes)
        }
        ("POST", "/v1/oauth/{provider}/device/token") => {
            let body: qhub_api::DeviceTokenRequest = c.json()?;
            crate::api_oauth::poll_device(&c.param("provider"), &body.device_code, c.client())
        }
        ("POST", "/v1/oauth/{provider}/authorize") => {
            let body: qhub_api::AuthorizeRequest = c.json()?;
            crate::api_oauth::authorization_url(&c.param("provider"), &body)
        }
        ("POST", "/v1/oauth/{provider}/token") => {
            let body: qhub_api::CodeExchange = c.json()?;
            crate::api_oauth::exchange_code(&c.param("provider"), &body, c.client())
        }
        (method, path) => Err(Refusal::internal(format!(
            "{method} {path} is in the route table but the core has no handler for it"
        ))),
    }
}

fn no_content(outcome: Result<(), wit::Error>) -> Result<Reply, Refusal> {
    outcome?;
    Ok(Reply::NoContent)
}

fn revoked(outcome: Result<u32, wit::Error>) -> Result<Reply, Refusal> {
    ok(200, &qhub_api::Revoked { revoked: outcome? })
}

/// The wire name of each error code (`{"error": {"code": ...}}`).
fn code_name(code: wit::ErrorCode) -> &'static str {
    use wit::ErrorCode as C;
    match code {
        C::InvalidInput => "invalid-input",
        C::WeakPassword => "weak-password",
        C::EmailTaken => "email-taken",
        C::InvalidCredentials => "invalid-credentials",
        C::Unauthenticated => "unauthenticated",
        C::Forbidden => "forbidden",
        C::NotFound => "not-found",
        C::Conflict => "conflict",
        C::QuotaExceeded => "quota-exceeded",
        C::RateLimited => "rate-limited",
        C::Unavailable => "unavailable",
        C::Internal => "internal",
    }
}

/// A job status by its wire name ([`qhub_api::JOB_STATUSES`]).
fn job_status(name: &str) -> Result<types::JobStatus, Refusal> {
    types::JobStatus::from_name(name)
        .ok_or_else(|| Refusal::new("invalid-input", qhub_api::unknown_job_status(name)))
}

use qhub_api::timestamp;

fn profile(p: wit::Profile) -> qhub_api::Profile {
    qhub_api::Profile {
        id: p.id,
        email: p.email,
        display_name: p.display_name,
        created_at: timestamp(p.created_at),
    }
}

pub(crate) fn signed_in(s: wit::SignedIn) -> qhub_api::SignedIn {
    qhub_api::SignedIn {
        token: s.token,
        session_id: s.session_id,
        expires_at: timestamp(s.expires_at),
        user: profile(s.user),
    }
}

fn session(s: wit::SessionInfo) -> qhub_api::Session {
    qhub_api::Session {
        id: s.id,
        user_agent: s.user_agent,
        ip: s.ip,
        created_at: timestamp(s.created_at),
        last_seen_at: timestamp(s.last_seen_at),
        expires_at: timestamp(s.expires_at),
        current: s.current,
    }
}

fn preference(p: types::Preference) -> qhub_api::Preference {
    qhub_api::Preference {
        value: qhub_api::json_value(&p.value),
        key: p.key,
        updated_at: timestamp(p.updated_at),
    }
}

fn job(j: types::QuantumJob) -> qhub_api::Job {
    qhub_api::Job {
        id: j.id,
        status: j.status.as_str().to_owned(),
        backend: j.backend,
        shots: j.shots,
        source: j.source,
        result: j.result.as_deref().map(qhub_api::json_value),
        error: j.error,
        created_at: timestamp(j.created_at),
        updated_at: timestamp(j.updated_at),
    }
}

fn api_key(k: wit::ApiKeyInfo) -> qhub_api::ApiKey {
    qhub_api::ApiKey {
        id: k.id,
        name: k.name,
        prefix: k.prefix,
        scopes: k.scopes,
        created_at: timestamp(k.created_at),
        expires_at: k.expires_at.map(timestamp),
        last_used_at: k.last_used_at.map(timestamp),
    }
}

fn connection(c: wit_identities::ConnectionInfo) -> qhub_api::Connection {
    qhub_api::Connection {
        id: c.id,
        provider: c.provider,
        subject: c.subject,
        email: c.email,
        created_at: timestamp(c.created_at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, target: &str, headers: &[(&str, &str)], body: &str) -> Request {
        Request {
            method: method.into(),
            target: target.into(),
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.as_bytes().to_vec(),
            client: wit::ClientInfo {
                user_agent: None,
                ip: None,
            },
        }
    }

    /// Status, the error code of the body, and the headers, for requests refused
    /// before the core runs (which natively has no store to run over).
    fn refused(request: &Request) -> (u16, String, Vec<(String, String)>) {
        let response = handle(request.clone());
        let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
        let code = body["error"]["code"].as_str().unwrap().to_owned();
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
        (response.status, code, response.headers)
    }

    const JSON: (&str, &str) = ("content-type", "application/json");

    #[test]
    fn unrouted_requests_get_json_errors() {
        let (status, code, _) = refused(&request("GET", "/v1/nowhere", &[], ""));
        assert_eq!((status, code.as_str()), (404, "not-found"));
        let (status, code, headers) = refused(&request("PATCH", "/v1/jobs?x=1", &[], ""));
        assert_eq!((status, code.as_str()), (405, "invalid-input"));
        assert!(
            headers.contains(&("allow".into(), "POST, GET, HEAD".into())),
            "{headers:?}"
        );
        assert!(headers.contains(&("content-type".into(), "application/json".into())));
        let (status, _, _) = refused(&request("GET", "/v1/jobs/%C3%28", &[], ""));
        assert_eq!(status, 400);
        let response = handle(request("GET", "/v1/plugins", &[], ""));
        assert_eq!(response.status, 500);
        assert!(
            response
                .log
                .is_some_and(|log| log.contains("answered by the host"))
        );
    }

    #[test]
    fn bodies_are_checked_before_the_core_runs() {
        let login = |headers: &[(&str, &str)], body: &str| {
            refused(&request("POST", "/v1/sessions", headers, body))
        };
        assert_eq!(login(&[], r#"{"email":"a","password":"b"}"#).0, 415);
        assert_eq!(login(&[("content-type", "text/plain")], "{}").0, 415);
        let twice = [JSON, ("content-type", "text/plain")];
        let (status, code, _) = login(&twice, "{}");
        assert_eq!((status, code.as_str()), (400, "invalid-input"));
        let joined = [("content-type", "application/json, application/json")];
        assert_eq!(login(&joined, "{}").0, 400);
        assert_eq!(login(&[JSON], "{not json").0, 400);
        assert_eq!(login(&[JSON], r#"{"email":"a@b.c"}"#).0, 422);
        assert_eq!(login(&[JSON], r#"{"email":1,"password":"x"}"#).0, 422);
        assert_eq!(
            login(&[("Content-Type", "application/json; charset=utf-8")], "[]").0,
            422
        );
        let huge = "x".repeat(qhub_api::MAX_BODY_BYTES + 1);
        assert_eq!(login(&[JSON], &huge).0, 413);
        // A struct is never read from an array, which serde would otherwise do.
        assert_eq!(login(&[JSON], r#"["a@b.c", "password"]"#).0, 422);
        assert_eq!(login(&[JSON], "[").0, 400);
        let job = r#"{"source":"OPENQASM 2.0;","shots":1.5}"#;
        assert_eq!(refused(&request("POST", "/v1/jobs", &[JSON], job)).0, 422);
    }

    #[test]
    fn the_bearer_credential_is_read_as_rfc_6750_says() {
        let call = |headers: &[(&str, &str)]| {
            let request = request("GET", "/v1/me", headers, "");
            Call {
                request: &request,
                query: "",
                params: Vec::new(),
            }
            .bearer()
            .map_err(|r| (r.status, r.code))
        };
        assert_eq!(call(&[("authorization", "Bearer abc ")]), Ok("abc".into()));
        assert_eq!(call(&[("Authorization", "bearer abc")]), Ok("abc".into()));
        assert_eq!(call(&[("authorization", "BEARER  abc")]), Ok("abc".into()));
        assert_eq!(call(&[]), Err((401, "unauthenticated")));
        assert_eq!(
            call(&[("authorization", "Basic abc")]),
            Err((401, "unauthenticated"))
        );
        assert_eq!(
            call(&[("authorization", "Bearer ")]),
            Err((401, "unauthenticated"))
        );
        let twice = [("authorization", "Bearer a"), ("authorization", "Bearer b")];
        assert_eq!(call(&twice), Err((400, "invalid-input")));
        let joined = [("authorization", "Bearer a, Bearer b")];
        assert_eq!(call(&joined), Err((400, "invalid-input")));
        let joined = [("authorization", "Bearer a,Basic b")];
        assert_eq!(call(&joined), Err((400, "invalid-input")));
        // A comma inside one token is a malformed token, not a second header.
        assert_eq!(call(&[("authorization", "Bearer a,b")]), Ok("a,b".into()));
        assert_eq!(call(&[("authorization", "Bearer a, b")]), Ok("a, b".into()));
        assert_eq!(
            call(&[("authorization", "Bearer a, b c{")]),
            Ok("a, b c{".into())
        );
    }

    #[test]
    fn a_query_field_given_twice_is_refused() {
        let request = request("GET", "/v1/jobs", &[], "");
        let call = |query| Call {
            request: &request,
            query,
            params: Vec::new(),
        };
        assert_eq!(
            call("status=queued").query("status").unwrap().as_deref(),
            Some("queued")
        );
        assert_eq!(call("other=1").query("status").unwrap(), None);
        assert_eq!(
            call("status=a&status=b")
                .query("status")
                .unwrap_err()
                .status,
            400
        );
    }

    #[test]
    fn job_statuses_round_trip_by_wire_name() {
        for name in qhub_api::JOB_STATUSES {
            assert_eq!(job_status(name).unwrap().as_str(), name);
        }
        let refused = job_status("done").unwrap_err();
        assert_eq!((refused.status, refused.code), (400, "invalid-input"));
    }

    #[test]
    fn an_internal_refusal_keeps_its_text_for_the_log_only() {
        let refusal = Refusal::from(wit::Error {
            code: wit::ErrorCode::Internal,
            message: "store: query rejected: invalid byte sequence".into(),
        });
        assert_eq!(
            (refusal.status, refusal.message.as_str()),
            (500, "internal error")
        );
        assert_eq!(
            refusal.log.as_deref(),
            Some("store: query rejected: invalid byte sequence")
        );
        let refusal = Refusal::from(wit::Error {
            code: wit::ErrorCode::Unavailable,
            message: "the database is unavailable".into(),
        });
        assert_eq!(refusal.status, 503);
        assert_eq!(
            refusal.headers,
            [("retry-after".to_owned(), "1".to_owned())]
        );
    }
}
