//! The one client of the QHub API, in both of the CLI's modes: over HTTP to a
//! server (native `qhub serve` or the Worker), or in-process to the same account
//! core component (the embedded default). Both send the same requests and read
//! the same answers, with JSON errors turned back into the core's error codes.

use std::sync::Once;
use std::time::Duration;

use qhub_api::{
    ApiKey, AuthorizeRequest, AuthorizeUrl, ChangePassword, CodeExchange, Connection, CreateApiKey,
    DeviceCode, DevicePending, DeviceStart, DeviceTokenRequest, ErrorBody, Job, JobRequest,
    LoginRequest, NewApiKey, OAuthProvider, Preference, Profile, RegisterRequest, Revoked, Session,
    SignedIn, Usage,
};
use qhub_runtime::{
    AccountService, ApiRequest, ClientInfo, ErrorCode, ServiceError, code_from_name,
};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Why a request did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error body.
    #[error("{message}")]
    Api {
        status: u16,
        /// `None` when the server sent a code this client does not know.
        code: Option<ErrorCode>,
        message: String,
    },
    /// No answer: connection refused, DNS, TLS, timeout.
    #[error("cannot reach the server at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// An answer that is not the API's (a proxy page, a truncated body...).
    #[error("unexpected answer from {url}: {reason}")]
    Protocol { url: String, reason: String },
    #[error("invalid server URL {0:?}: use http://HOST:PORT or https://HOST")]
    InvalidUrl(String),
    /// An argument no request can carry (an empty id, `.` or `..`).
    #[error("{0}")]
    InvalidArgument(String),
    /// In this process: what the core could not answer itself (a plugin that
    /// trapped or timed out).
    #[error(transparent)]
    InProcess(#[from] ServiceError),
}

/// Where requests go.
#[derive(Clone)]
enum Transport {
    /// A server, over HTTP.
    Http(reqwest::Client),
    /// The account core in this process: the same `api.handle` a server forwards
    /// to, so both modes send the same requests and read the same answers.
    /// Boxed: the service (instance templates, pools) is far larger than a client.
    InProcess(Box<AccountService>, ClientInfo),
}

/// A client of the QHub API: of a server (`new`), or of the account core in
/// this process (`in_process`). Every call is one request of the API; the answers
/// are read the same way in both modes.
#[derive(Clone)]
pub struct Client {
    base: url::Url,
    transport: Transport,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field(
                "transport",
                &match self.transport {
                    Transport::Http(_) => "http",
                    Transport::InProcess(..) => "in-process",
                },
            )
            .finish()
    }
}

/// One request, before a transport sends it.
struct Call<'a> {
    method: Method,
    url: url::Url,
    token: Option<&'a str>,
    /// Content type and bytes.
    body: Option<(&'static str, Vec<u8>)>,
}

impl<'a> Call<'a> {
    fn bearer(mut self, token: &'a str) -> Self {
        self.token = Some(token);
        self
    }

    fn json<T: Serialize>(mut self, body: &T) -> Self {
        let bytes = serde_json::to_vec(body).expect("API request bodies serialise");
        self.body = Some(("application/json", bytes));
        self
    }
}

/// The origin in-process requests are resolved against (never contacted).
const IN_PROCESS_BASE: &str = "http://in-process.qhub.invalid/";

impl Client {
    /// A client for the server at `base` (`http://127.0.0.1:8787`).
    pub fn new(base: &str, user_agent: &str) -> Result<Client, ClientError> {
        let mut url =
            url::Url::parse(base).map_err(|_| ClientError::InvalidUrl(base.to_owned()))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(ClientError::InvalidUrl(base.to_owned()));
        }
        if !url.path().ends_with('/') {
            url.set_path(&format!("{}/", url.path()));
        }
        install_crypto_provider();
        let http = reqwest::Client::builder()
            .user_agent(user_agent)
            .connect_timeout(Duration::from_secs(10))
            // Close idle connections before servers commonly do (Node.js after 5 s,
            // as in front of the Worker): a request on a connection the server is
            // closing fails, and a device-flow poll waits exactly 5 s between tries.
            .pool_idle_timeout(Duration::from_secs(4))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| ClientError::Unreachable {
                url: base.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(Client {
            base: url,
            transport: Transport::Http(http),
        })
    }

    /// A client of the account core in this process (the CLI's embedded mode):
    /// each call goes to [`AccountService::handle`], as a server's requests do.
    /// `client` is how this caller describes itself to the sessions it creates.
    pub fn in_process(service: AccountService, client: ClientInfo) -> Client {
        Client {
            base: url::Url::parse(IN_PROCESS_BASE).expect("a valid URL"),
            transport: Transport::InProcess(Box::new(service), client),
        }
    }

    /// The account service behind an in-process client; `None` for a server's.
    pub fn service(&self) -> Option<&AccountService> {
        match &self.transport {
            Transport::InProcess(service, _) => Some(service),
            Transport::Http(_) => None,
        }
    }

    pub fn base(&self) -> &str {
        self.base.as_str()
    }

    pub async fn register(&self, request: RegisterRequest) -> Result<SignedIn, ClientError> {
        self.send(self.call(Method::POST, "v1/accounts").json(&request))
            .await
    }

    pub async fn login(&self, request: LoginRequest) -> Result<SignedIn, ClientError> {
        self.send(self.call(Method::POST, "v1/sessions").json(&request))
            .await
    }

    pub async fn whoami(&self, token: &str) -> Result<Profile, ClientError> {
        self.send(self.call(Method::GET, "v1/me").bearer(token))
            .await
    }

    /// Sets (or, with `None`, clears) the display name; the profile as it now is.
    pub async fn set_display_name(
        &self,
        token: &str,
        display_name: Option<String>,
    ) -> Result<Profile, ClientError> {
        let call = self.call(Method::PUT, "v1/me/display-name").bearer(token);
        self.send(call.json(&qhub_api::SetDisplayName { display_name }))
            .await
    }

    pub async fn logout(&self, token: &str) -> Result<(), ClientError> {
        self.exchange(
            self.call(Method::DELETE, "v1/sessions/current")
                .bearer(token),
        )
        .await
        .map(drop)
    }

    pub async fn list_sessions(&self, token: &str) -> Result<Vec<Session>, ClientError> {
        self.send(self.call(Method::GET, "v1/sessions").bearer(token))
            .await
    }

    pub async fn revoke_session(&self, token: &str, session_id: &str) -> Result<(), ClientError> {
        let call = self.call_with_id(Method::DELETE, "v1/sessions/", &[session_id])?;
        self.exchange(call.bearer(token)).await.map(drop)
    }

    pub async fn revoke_other_sessions(&self, token: &str) -> Result<u32, ClientError> {
        let call = self.call(Method::POST, "v1/sessions/revoke-others");
        Ok(self.send::<Revoked>(call.bearer(token)).await?.revoked)
    }

    pub async fn logout_all(&self, token: &str) -> Result<u32, ClientError> {
        let call = self.call(Method::DELETE, "v1/sessions");
        Ok(self.send::<Revoked>(call.bearer(token)).await?.revoked)
    }

    pub async fn change_password(
        &self,
        token: &str,
        body: ChangePassword,
    ) -> Result<(), ClientError> {
        let call = self.call(Method::PUT, "v1/password").bearer(token);
        self.exchange(call.json(&body)).await.map(drop)
    }

    pub async fn list_preferences(&self, token: &str) -> Result<Vec<Preference>, ClientError> {
        self.send(self.call(Method::GET, "v1/preferences").bearer(token))
            .await
    }

    /// `value` is sent as typed; the core decides whether it is valid JSON.
    pub async fn set_preference(
        &self,
        token: &str,
        key: &str,
        value: &str,
    ) -> Result<(), ClientError> {
        let mut call = self
            .call_with_id(Method::PUT, "v1/preferences/", &[key])?
            .bearer(token);
        call.body = Some(("application/json", value.as_bytes().to_vec()));
        self.exchange(call).await.map(drop)
    }

    pub async fn unset_preference(&self, token: &str, key: &str) -> Result<(), ClientError> {
        let call = self.call_with_id(Method::DELETE, "v1/preferences/", &[key])?;
        self.exchange(call.bearer(token)).await.map(drop)
    }

    pub async fn usage(&self, token: &str) -> Result<Usage, ClientError> {
        self.send(self.call(Method::GET, "v1/usage").bearer(token))
            .await
    }

    pub async fn submit_job(&self, token: &str, job: JobRequest) -> Result<Job, ClientError> {
        self.send(self.call(Method::POST, "v1/jobs").bearer(token).json(&job))
            .await
    }

    /// The jobs, newest first; `status` is a wire name ([`qhub_api::JOB_STATUSES`]).
    pub async fn list_jobs(
        &self,
        token: &str,
        status: Option<String>,
    ) -> Result<Vec<Job>, ClientError> {
        let mut call = self.call(Method::GET, "v1/jobs").bearer(token);
        if let Some(status) = status {
            call.url.query_pairs_mut().append_pair("status", &status);
        }
        self.send(call).await
    }

    pub async fn get_job(&self, token: &str, id: &str) -> Result<Job, ClientError> {
        let call = self.call_with_id(Method::GET, "v1/jobs/", &[id])?;
        self.send(call.bearer(token)).await
    }

    pub async fn cancel_job(&self, token: &str, id: &str) -> Result<Job, ClientError> {
        let call = self.call_with_id(Method::POST, "v1/jobs/", &[id, "cancel"])?;
        self.send(call.bearer(token)).await
    }

    pub async fn create_api_key(
        &self,
        token: &str,
        request: CreateApiKey,
    ) -> Result<NewApiKey, ClientError> {
        let call = self.call(Method::POST, "v1/keys").bearer(token);
        self.send(call.json(&request)).await
    }

    pub async fn list_api_keys(&self, token: &str) -> Result<Vec<ApiKey>, ClientError> {
        self.send(self.call(Method::GET, "v1/keys").bearer(token))
            .await
    }

    pub async fn revoke_api_key(&self, token: &str, id: &str) -> Result<(), ClientError> {
        let call = self.call_with_id(Method::DELETE, "v1/keys/", &[id])?;
        self.exchange(call.bearer(token)).await.map(drop)
    }

    /// The export document, as the core wrote it.
    pub async fn export_account(&self, token: &str) -> Result<serde_json::Value, ClientError> {
        self.send(self.call(Method::GET, "v1/account/export").bearer(token))
            .await
    }

    pub async fn delete_account(&self, token: &str) -> Result<(), ClientError> {
        self.exchange(self.call(Method::DELETE, "v1/account").bearer(token))
            .await
            .map(drop)
    }

    /// `GET /v1/plugins`: the plugins the server runs (name, version, world, sha256).
    pub async fn plugins(&self) -> Result<Vec<qhub_api::PluginInfo>, ClientError> {
        self.send(self.call(Method::GET, "v1/plugins")).await
    }

    pub async fn list_oauth_providers(&self) -> Result<Vec<OAuthProvider>, ClientError> {
        self.send(self.call(Method::GET, "v1/oauth/providers"))
            .await
    }

    pub async fn start_device(
        &self,
        provider: &str,
        body: &DeviceStart,
    ) -> Result<DeviceCode, ClientError> {
        let call = self.call_with_id(Method::POST, "v1/oauth/", &[provider, "device"])?;
        self.send(call.json(body)).await
    }

    /// One poll: `Ok(Err(pending))` while the user has not approved yet (HTTP 202).
    pub async fn poll_device(
        &self,
        provider: &str,
        body: &DeviceTokenRequest,
    ) -> Result<Result<SignedIn, DevicePending>, ClientError> {
        let call = self.call_with_id(Method::POST, "v1/oauth/", &[provider, "device", "token"])?;
        let (status, bytes) = self.exchange_with_status(call.json(body)).await?;
        let malformed = |e: serde_json::Error| self.protocol(format!("malformed JSON: {e}"));
        if status == StatusCode::ACCEPTED {
            return Ok(Err(serde_json::from_slice(&bytes).map_err(malformed)?));
        }
        Ok(Ok(serde_json::from_slice(&bytes).map_err(malformed)?))
    }

    pub async fn authorization_url(
        &self,
        provider: &str,
        body: &AuthorizeRequest,
    ) -> Result<AuthorizeUrl, ClientError> {
        let call = self.call_with_id(Method::POST, "v1/oauth/", &[provider, "authorize"])?;
        self.send(call.json(body)).await
    }

    pub async fn exchange_code(
        &self,
        provider: &str,
        body: &CodeExchange,
    ) -> Result<SignedIn, ClientError> {
        let call = self.call_with_id(Method::POST, "v1/oauth/", &[provider, "token"])?;
        self.send(call.json(body)).await
    }

    pub async fn list_connections(&self, token: &str) -> Result<Vec<Connection>, ClientError> {
        self.send(
            self.call(Method::GET, "v1/account/connections")
                .bearer(token),
        )
        .await
    }

    pub async fn unlink_connection(&self, token: &str, id: &str) -> Result<(), ClientError> {
        let call = self.call_with_id(Method::DELETE, "v1/account/connections/", &[id])?;
        self.exchange(call.bearer(token)).await.map(drop)
    }

    fn call(&self, method: Method, path: &str) -> Call<'static> {
        Call {
            method,
            url: self.base.join(path).expect("API paths are relative URLs"),
            token: None,
            body: None,
        }
    }

    /// `base/prefix/<segments...>`, each segment kept one path segment (an id
    /// with a `/` in it stays one) whatever it contains. An empty segment, `.` or
    /// `..` cannot be sent as one (URLs resolve dot segments away, RFC 3986
    /// section 5.2.4): refused here, before anything is sent.
    fn call_with_id(
        &self,
        method: Method,
        prefix: &str,
        segments: &[&str],
    ) -> Result<Call<'static>, ClientError> {
        if let Some(bad) = segments
            .iter()
            .find(|s| s.is_empty() || s.bytes().all(|b| b == b'.'))
        {
            return Err(ClientError::InvalidArgument(format!(
                "{bad:?} cannot name anything here: ids, keys and provider names are not empty, \".\" or \"..\""
            )));
        }
        let mut call = self.call(method, prefix);
        call.url
            .path_segments_mut()
            .expect("http URLs have path segments")
            .pop_if_empty()
            .extend(segments);
        Ok(call)
    }

    async fn send<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<T, ClientError> {
        let body = self.exchange(call).await?;
        serde_json::from_slice(&body).map_err(|e| self.protocol(format!("malformed JSON: {e}")))
    }

    /// Sends a request; a non-2xx answer becomes [`ClientError::Api`].
    async fn exchange(&self, call: Call<'_>) -> Result<Vec<u8>, ClientError> {
        Ok(self.exchange_with_status(call).await?.1)
    }

    /// Like [`Client::exchange`], keeping the success status.
    async fn exchange_with_status(
        &self,
        call: Call<'_>,
    ) -> Result<(StatusCode, Vec<u8>), ClientError> {
        let (status, body, log) = match &self.transport {
            Transport::Http(http) => {
                let mut request = http.request(call.method, call.url);
                if let Some(token) = call.token {
                    request = request.bearer_auth(token);
                }
                if let Some((content_type, bytes)) = call.body {
                    request = request
                        .header(reqwest::header::CONTENT_TYPE, content_type)
                        .body(bytes);
                }
                let response = request.send().await.map_err(|e| ClientError::Unreachable {
                    url: self.base.to_string(),
                    reason: root_cause(&e),
                })?;
                let status = response.status();
                let body = response
                    .bytes()
                    .await
                    .map_err(|e| self.protocol(format!("reading the body: {e}")))?;
                (status, body.to_vec(), None)
            }
            Transport::InProcess(service, client) => {
                let mut headers = Vec::new();
                if let Some(token) = call.token {
                    headers.push(("authorization".to_owned(), format!("Bearer {token}")));
                }
                let body = call.body.map_or_else(Vec::new, |(content_type, bytes)| {
                    headers.push(("content-type".to_owned(), content_type.to_owned()));
                    bytes
                });
                let target = match call.url.query() {
                    Some(query) => format!("{}?{query}", call.url.path()),
                    None => call.url.path().to_owned(),
                };
                let request = ApiRequest {
                    method: call.method.as_str().to_owned(),
                    target,
                    headers,
                    body,
                    client: client.clone(),
                };
                let response = service.handle(request).await?;
                let status = StatusCode::from_u16(response.status)
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                (status, response.body, response.log)
            }
        };
        if status.is_success() {
            return Ok((status, body));
        }
        match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(err) => Err(ClientError::Api {
                status: status.as_u16(),
                code: code_from_name(&err.error.code),
                // In this process the caller runs the core, and so reads what a
                // server would have logged: the reason for an internal error.
                message: log.unwrap_or(err.error.message),
            }),
            Err(_) => Err(self.protocol(format!(
                "HTTP {status} without an API error body{}",
                hint_for(status)
            ))),
        }
    }

    fn protocol(&self, reason: String) -> ClientError {
        ClientError::Protocol {
            url: self.base.to_string(),
            reason,
        }
    }
}

fn hint_for(status: StatusCode) -> &'static str {
    if status == StatusCode::NOT_FOUND {
        " (is this a QHub server?)"
    } else {
        ""
    }
}

/// The innermost cause: "connection refused" rather than "error sending request".
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// reqwest is built without a default TLS crypto provider; use ring's, once.
fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Err means another provider is installed already, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
