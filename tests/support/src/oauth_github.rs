//! [`GitHubStandIn`]: a loopback server following GitHub's documented OAuth app
//! endpoints and JSON shapes, driven by the test (approve, deny, expire or slow
//! down a device code; sign a user in for the web flow).
//!
//! Served on one origin: `/login/device/code`, `/login/oauth/access_token`,
//! `/login/oauth/authorize` (the `auth-base`), and the REST API's `/user` and
//! `/user/emails` under `/api` (the `api-base`). Like GitHub, the token endpoint
//! answers 200 with an `error` field while a device code is pending, honours
//! `Accept: application/json` (form encoding otherwise), and the API refuses
//! requests without a `User-Agent`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;

/// A GitHub user as the stand-in reports it.
#[derive(Debug, Clone)]
pub struct GitHubUser {
    pub id: u64,
    pub login: String,
    pub name: Option<String>,
    /// The public profile email of `GET /user` (often null on GitHub).
    pub public_email: Option<String>,
    /// `GET /user/emails`: (address, primary, verified).
    pub emails: Vec<(String, bool, bool)>,
}

/// Where a device code stands; the test moves it on.
#[derive(Debug, Clone, PartialEq, Eq)]
enum DeviceState {
    Pending,
    /// The next poll answers `slow_down`, then the code is pending again.
    SlowDown,
    Approved(String),
    Denied,
    Expired,
}

#[derive(Debug)]
struct DeviceCode {
    user_code: String,
    scope: String,
    interval: u32,
    state: DeviceState,
}

#[derive(Debug)]
struct AuthCode {
    redirect_uri: String,
    challenge: String,
    login: String,
    scope: String,
}

#[derive(Debug, Default)]
struct Data {
    devices: HashMap<String, DeviceCode>,
    codes: HashMap<String, AuthCode>,
    /// access token -> (login, comma-separated scopes)
    tokens: HashMap<String, (String, String)>,
    polls: u32,
}

#[derive(Debug)]
struct Shared {
    client_id: String,
    client_secret: Option<String>,
    users: Vec<GitHubUser>,
    data: Mutex<Data>,
}

impl Shared {
    fn data(&self) -> MutexGuard<'_, Data> {
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running stand-in; stopped when dropped.
#[derive(Debug)]
pub struct GitHubStandIn {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl GitHubStandIn {
    /// Starts on `127.0.0.1:0` for the OAuth app `client_id` (and `client_secret`,
    /// which the web flow's code exchange then requires), knowing `users`.
    pub fn start(
        client_id: &str,
        client_secret: Option<&str>,
        users: Vec<GitHubUser>,
    ) -> GitHubStandIn {
        let shared = Arc::new(Shared {
            client_id: client_id.to_owned(),
            client_secret: client_secret.map(str::to_owned),
            users,
            data: Mutex::default(),
        });
        let state = shared.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let (ready, address) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime for the GitHub stand-in");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("binding the GitHub stand-in");
                ready
                    .send(listener.local_addr().expect("its address"))
                    .expect("the test waits for the address");
                axum::serve(listener, router(state))
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .expect("the GitHub stand-in serves");
            });
        });
        let addr = address
            .recv()
            .expect("the GitHub stand-in starts (see its panic above)");
        GitHubStandIn {
            addr,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The stand-in for `https://github.com` (the plugin's `auth-base`).
    pub fn auth_base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The stand-in for `https://api.github.com` (the plugin's `api-base`).
    pub fn api_base(&self) -> String {
        format!("http://{}/api", self.addr)
    }

    /// The one origin both are served on, for manifests and grants.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The user approves the device code shown as `user_code`, signed in as `login`.
    pub fn approve_device(&self, user_code: &str, login: &str) {
        assert!(
            self.shared.users.iter().any(|u| u.login == login),
            "no stand-in user {login:?}"
        );
        self.set_device(user_code, DeviceState::Approved(login.to_owned()));
    }

    /// The user refuses the device code: the next poll is `access_denied`.
    pub fn deny_device(&self, user_code: &str) {
        self.set_device(user_code, DeviceState::Denied);
    }

    /// The device code expires: the next poll is `expired_token`.
    pub fn expire_device(&self, user_code: &str) {
        self.set_device(user_code, DeviceState::Expired);
    }

    /// The next poll answers `slow_down` with the interval raised by 5 seconds, as
    /// GitHub does when a client polls too often.
    pub fn slow_down_device(&self, user_code: &str) {
        self.set_device(user_code, DeviceState::SlowDown);
    }

    /// How many device-code polls the token endpoint has answered.
    pub fn polls(&self) -> u32 {
        self.shared.data().polls
    }

    fn set_device(&self, user_code: &str, state: DeviceState) {
        let mut data = self.shared.data();
        let device = data
            .devices
            .values_mut()
            .find(|d| d.user_code == user_code)
            .unwrap_or_else(|| panic!("no device code with user code {user_code:?}"));
        device.state = state;
    }

    /// Acts as the browser of `login`, already signed in at GitHub: opens
    /// `authorization_url`, authorizes the app and returns the redirect
    /// (`redirect_uri?code=...&state=...`) without following it.
    pub fn authorize(&self, authorization_url: &str, login: &str) -> String {
        let url = authorization_url.to_owned();
        let login = login.to_owned();
        super::run(async move {
            let client = super::http_client(
                reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()),
            );
            let response = client
                .get(&url)
                .header(SIGNED_IN_AS, login)
                .send()
                .await
                .unwrap_or_else(|e| panic!("GET {url}: {e}"));
            let status = response.status();
            match response.headers().get(header::LOCATION) {
                Some(location) if status.is_redirection() => {
                    location.to_str().expect("an ascii Location").to_owned()
                }
                _ => panic!(
                    "authorize did not redirect ({status}): {}",
                    response.text().await.unwrap_or_default()
                ),
            }
        })
    }
}

impl Drop for GitHubStandIn {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Test-only stand-in for GitHub's session cookie: who is signed in at the
/// authorization page.
const SIGNED_IN_AS: &str = "x-test-signed-in-as";

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

fn router(state: Arc<Shared>) -> Router {
    Router::new()
        .route("/login/device/code", post(device_code))
        .route("/login/oauth/access_token", post(access_token))
        .route("/login/oauth/authorize", get(authorize))
        .route("/api/user", get(user))
        .route("/api/user/emails", get(user_emails))
        .with_state(state)
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("randomness");
    hex::encode(buf)
}

fn form(body: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

/// GitHub answers in JSON when asked to, form-encoded otherwise.
fn answer(headers: &HeaderMap, status: StatusCode, body: Value) -> Response {
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("json"));
    if wants_json {
        return (status, axum::Json(body)).into_response();
    }
    let mut encoded = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in body.as_object().into_iter().flatten() {
        match value {
            Value::String(s) => encoded.append_pair(key, s),
            other => encoded.append_pair(key, &other.to_string()),
        };
    }
    (
        status,
        [(header::CONTENT_TYPE, "application/x-www-form-urlencoded")],
        encoded.finish(),
    )
        .into_response()
}

/// GitHub's token-endpoint errors: HTTP 200 with an `error` field.
fn oauth_error(headers: &HeaderMap, error: &str, description: &str) -> Response {
    answer(
        headers,
        StatusCode::OK,
        json!({
            "error": error,
            "error_description": description,
            "error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors",
        }),
    )
}

async fn device_code(State(s): State<Arc<Shared>>, headers: HeaderMap, body: String) -> Response {
    let params = form(&body);
    if params.get("client_id") != Some(&s.client_id) {
        return oauth_error(
            &headers,
            "incorrect_client_credentials",
            "The client_id is incorrect.",
        );
    }
    let device_code = random_hex(20);
    let code = random_hex(4).to_uppercase();
    let user_code = format!("{}-{}", &code[..4], &code[4..]);
    let scope = params.get("scope").cloned().unwrap_or_default();
    s.data().devices.insert(
        device_code.clone(),
        DeviceCode {
            user_code: user_code.clone(),
            scope,
            interval: 5,
            state: DeviceState::Pending,
        },
    );
    let verification_uri = format!(
        "http://{}/login/device",
        headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1")
    );
    answer(
        &headers,
        StatusCode::OK,
        json!({
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": verification_uri,
            "expires_in": 900,
            "interval": 5,
        }),
    )
}

/// GitHub reports granted scopes comma-separated.
fn granted_scope(requested: &str) -> String {
    requested.split_whitespace().collect::<Vec<_>>().join(",")
}

fn issue_token(data: &mut Data, login: String, scope: &str) -> Value {
    let token = format!("gho_{}", random_hex(18));
    let scope = granted_scope(scope);
    data.tokens.insert(token.clone(), (login, scope.clone()));
    json!({"access_token": token, "token_type": "bearer", "scope": scope})
}

async fn access_token(State(s): State<Arc<Shared>>, headers: HeaderMap, body: String) -> Response {
    let params = form(&body);
    if params.get("client_id") != Some(&s.client_id) {
        return oauth_error(
            &headers,
            "incorrect_client_credentials",
            "The client_id and/or client_secret passed are incorrect.",
        );
    }
    if params.get("grant_type").map(String::as_str) == Some(DEVICE_GRANT) {
        return poll(&s, &headers, &params);
    }
    exchange(&s, &headers, &params)
}

fn poll(s: &Shared, headers: &HeaderMap, params: &HashMap<String, String>) -> Response {
    let mut data = s.data();
    data.polls += 1;
    let key = params.get("device_code").cloned().unwrap_or_default();
    let Some(device) = data.devices.get_mut(&key) else {
        return oauth_error(
            headers,
            "incorrect_device_code",
            "The device_code provided is not valid.",
        );
    };
    match device.state.clone() {
        DeviceState::Pending => oauth_error(
            headers,
            "authorization_pending",
            "The authorization request is still pending.",
        ),
        DeviceState::SlowDown => {
            device.state = DeviceState::Pending;
            device.interval += 5;
            let mut body = json!({
                "error": "slow_down",
                "error_description": "Too many requests have been made in the same timeframe.",
                "interval": device.interval,
            });
            body["error_uri"] = json!(
                "https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow"
            );
            answer(headers, StatusCode::OK, body)
        }
        DeviceState::Denied => oauth_error(
            headers,
            "access_denied",
            "The authorization request was denied.",
        ),
        DeviceState::Expired => {
            oauth_error(headers, "expired_token", "The device_code has expired.")
        }
        DeviceState::Approved(login) => {
            let scope = device.scope.clone();
            data.devices.remove(&key);
            let body = issue_token(&mut data, login, &scope);
            answer(headers, StatusCode::OK, body)
        }
    }
}

/// BASE64URL(SHA-256(verifier)) without padding (RFC 7636 section 4.2).
fn s256(verifier: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn exchange(s: &Shared, headers: &HeaderMap, params: &HashMap<String, String>) -> Response {
    if s.client_secret.is_some() && params.get("client_secret") != s.client_secret.as_ref() {
        return oauth_error(
            headers,
            "incorrect_client_credentials",
            "The client_id and/or client_secret passed are incorrect.",
        );
    }
    let mut data = s.data();
    let key = params.get("code").cloned().unwrap_or_default();
    // Codes are single-use, whatever the outcome.
    let Some(code) = data.codes.remove(&key) else {
        return oauth_error(
            headers,
            "bad_verification_code",
            "The code passed is incorrect or expired.",
        );
    };
    if params
        .get("redirect_uri")
        .is_some_and(|r| *r != code.redirect_uri)
    {
        return oauth_error(
            headers,
            "redirect_uri_mismatch",
            "The redirect_uri MUST match the registered callback URL for this application.",
        );
    }
    let verifier = params
        .get("code_verifier")
        .map(String::as_str)
        .unwrap_or_default();
    if s256(verifier) != code.challenge {
        return oauth_error(
            headers,
            "bad_verification_code",
            "The code_verifier does not match the code_challenge.",
        );
    }
    let body = issue_token(&mut data, code.login, &code.scope);
    answer(headers, StatusCode::OK, body)
}

async fn authorize(
    State(s): State<Arc<Shared>>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let bad = |message: &str| (StatusCode::BAD_REQUEST, message.to_owned()).into_response();
    if params.get("client_id") != Some(&s.client_id) {
        return (StatusCode::NOT_FOUND, "unknown client_id").into_response();
    }
    let (Some(redirect_uri), Some(challenge)) =
        (params.get("redirect_uri"), params.get("code_challenge"))
    else {
        return bad("redirect_uri and code_challenge are required");
    };
    if params.get("code_challenge_method").map(String::as_str) != Some("S256") {
        return bad("code_challenge_method must be S256");
    }
    let Ok(mut redirect) = url::Url::parse(redirect_uri) else {
        return bad("redirect_uri is not a URL");
    };
    let signed_in = headers.get(SIGNED_IN_AS).and_then(|v| v.to_str().ok());
    let Some(login) = signed_in.filter(|l| s.users.iter().any(|u| u.login == *l)) else {
        return (
            StatusCode::OK,
            "<!DOCTYPE html><title>Sign in to GitHub</title>",
        )
            .into_response();
    };
    let code = random_hex(10);
    s.data().codes.insert(
        code.clone(),
        AuthCode {
            redirect_uri: redirect_uri.clone(),
            challenge: challenge.clone(),
            login: login.to_owned(),
            scope: params.get("scope").cloned().unwrap_or_default(),
        },
    );
    {
        let mut query = redirect.query_pairs_mut();
        query.append_pair("code", &code);
        if let Some(state) = params.get("state") {
            query.append_pair("state", state);
        }
    }
    (
        StatusCode::FOUND,
        [(header::LOCATION, redirect.to_string())],
    )
        .into_response()
}

/// Why GitHub's REST API refuses a request.
#[derive(Debug)]
enum ApiRefusal {
    NoUserAgent,
    BadCredentials,
}

impl IntoResponse for ApiRefusal {
    fn into_response(self) -> Response {
        match self {
            ApiRefusal::NoUserAgent => (
                StatusCode::FORBIDDEN,
                "Request forbidden by administrative rules. Please make sure your request has a User-Agent header",
            )
                .into_response(),
            ApiRefusal::BadCredentials => (
                StatusCode::UNAUTHORIZED,
                axum::Json(json!({
                    "message": "Bad credentials",
                    "documentation_url": "https://docs.github.com/rest",
                })),
            )
                .into_response(),
        }
    }
}

/// The user behind the request's token, and the token's scopes, as GitHub's REST
/// API checks them.
fn api_user<'a>(
    s: &'a Shared,
    headers: &HeaderMap,
) -> Result<(&'a GitHubUser, String), ApiRefusal> {
    if headers.get(header::USER_AGENT).is_none() {
        return Err(ApiRefusal::NoUserAgent);
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("token "))
        });
    let found = token.and_then(|t| s.data().tokens.get(t).cloned());
    let (login, scope) = found.ok_or(ApiRefusal::BadCredentials)?;
    let user = s
        .users
        .iter()
        .find(|u| u.login == login)
        .ok_or(ApiRefusal::BadCredentials)?;
    Ok((user, scope))
}

async fn user(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    match api_user(&s, &headers) {
        Ok((user, _)) => axum::Json(json!({
            "login": user.login,
            "id": user.id,
            "type": "User",
            "name": user.name,
            "email": user.public_email,
        }))
        .into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

async fn user_emails(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let (user, scope) = match api_user(&s, &headers) {
        Ok(found) => found,
        Err(refusal) => return refusal.into_response(),
    };
    // Without `user:email` (or `user`) GitHub answers 404 here.
    if !scope.split(',').any(|s| s == "user:email" || s == "user") {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})),
        )
            .into_response();
    }
    let emails: Vec<Value> = user
        .emails
        .iter()
        .map(|(email, primary, verified)| {
            json!({"email": email, "primary": primary, "verified": verified, "visibility": if *primary { Value::from("private") } else { Value::Null }})
        })
        .collect();
    axum::Json(emails).into_response()
}
