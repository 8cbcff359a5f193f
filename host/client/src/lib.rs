//! The CLI's remote mode: the HTTP API of a QHub server (native `qhub serve` or the
//! Worker), with its JSON errors turned back into the account core's error codes.

use std::sync::Once;
use std::time::Duration;

use qhub_api::{
    ApiKey, AuthorizeRequest, AuthorizeUrl, ChangePassword, CodeExchange, Connection, CreateApiKey,
    DeviceCode, DevicePending, DeviceStart, DeviceTokenRequest, ErrorBody, Job, JobFilter,
    JobRequest, LoginRequest, NewApiKey, OAuthProvider, Preference, Profile, RegisterRequest,
    Revoked, Session, SignedIn, Usage,
};
use qhub_runtime::{ErrorCode, code_from_name};
use reqwest::{Method, RequestBuilder, StatusCode};
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
}

/// A client for one server.
#[derive(Debug, Clone)]
pub struct Client {
    base: url::Url,
    http: reqwest::Client,
}

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
        Ok(Client { base: url, http })
    }

    pub fn base(&self) -> &str {
        self.base.as_str()
    }

    pub async fn register(&self, request: &RegisterRequest) -> Result<SignedIn, ClientError> {
        self.send(self.request(Method::POST, "v1/accounts").json(request))
            .await
    }

    pub async fn login(&self, request: &LoginRequest) -> Result<SignedIn, ClientError> {
        self.send(self.request(Method::POST, "v1/sessions").json(request))
            .await
    }

    pub async fn whoami(&self, token: &str) -> Result<Profile, ClientError> {
        self.send(self.request(Method::GET, "v1/me").bearer_auth(token))
            .await
    }

    pub async fn logout(&self, token: &str) -> Result<(), ClientError> {
        let request = self
            .request(Method::DELETE, "v1/sessions/current")
            .bearer_auth(token);
        self.exchange(request).await.map(drop)
    }

    pub async fn list_sessions(&self, token: &str) -> Result<Vec<Session>, ClientError> {
        self.send(self.request(Method::GET, "v1/sessions").bearer_auth(token))
            .await
    }

    pub async fn revoke_session(&self, token: &str, session_id: &str) -> Result<(), ClientError> {
        // Ids are opaque; keep them one path segment whatever they contain.
        let mut url = self
            .base
            .join("v1/sessions/")
            .expect("API paths are relative URLs");
        url.path_segments_mut()
            .expect("http URLs have path segments")
            .pop_if_empty()
            .push(session_id);
        let request = self.http.request(Method::DELETE, url).bearer_auth(token);
        self.exchange(request).await.map(drop)
    }

    pub async fn revoke_other_sessions(&self, token: &str) -> Result<u32, ClientError> {
        let request = self
            .request(Method::POST, "v1/sessions/revoke-others")
            .bearer_auth(token);
        Ok(self.send::<Revoked>(request).await?.revoked)
    }

    pub async fn logout_all(&self, token: &str) -> Result<u32, ClientError> {
        let request = self
            .request(Method::DELETE, "v1/sessions")
            .bearer_auth(token);
        Ok(self.send::<Revoked>(request).await?.revoked)
    }

    pub async fn change_password(
        &self,
        token: &str,
        body: &ChangePassword,
    ) -> Result<(), ClientError> {
        let request = self
            .request(Method::PUT, "v1/password")
            .bearer_auth(token)
            .json(body);
        self.exchange(request).await.map(drop)
    }

    pub async fn list_preferences(&self, token: &str) -> Result<Vec<Preference>, ClientError> {
        self.send(
            self.request(Method::GET, "v1/preferences")
                .bearer_auth(token),
        )
        .await
    }

    /// `value` is sent as typed; the server's core decides whether it is valid JSON.
    pub async fn set_preference(
        &self,
        token: &str,
        key: &str,
        value: &str,
    ) -> Result<(), ClientError> {
        let request = self
            .http
            .request(Method::PUT, self.url_with_id("v1/preferences/", key))
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(value.to_owned());
        self.exchange(request).await.map(drop)
    }

    pub async fn unset_preference(&self, token: &str, key: &str) -> Result<(), ClientError> {
        let request = self
            .http
            .request(Method::DELETE, self.url_with_id("v1/preferences/", key))
            .bearer_auth(token);
        self.exchange(request).await.map(drop)
    }

    pub async fn usage(&self, token: &str) -> Result<Usage, ClientError> {
        self.send(self.request(Method::GET, "v1/usage").bearer_auth(token))
            .await
    }

    pub async fn submit_job(&self, token: &str, job: &JobRequest) -> Result<Job, ClientError> {
        self.send(
            self.request(Method::POST, "v1/jobs")
                .bearer_auth(token)
                .json(job),
        )
        .await
    }

    pub async fn list_jobs(
        &self,
        token: &str,
        filter: &JobFilter,
    ) -> Result<Vec<Job>, ClientError> {
        self.send(
            self.request(Method::GET, "v1/jobs")
                .bearer_auth(token)
                .query(filter),
        )
        .await
    }

    pub async fn get_job(&self, token: &str, id: &str) -> Result<Job, ClientError> {
        let request = self
            .http
            .request(Method::GET, self.url_with_id("v1/jobs/", id))
            .bearer_auth(token);
        self.send(request).await
    }

    pub async fn cancel_job(&self, token: &str, id: &str) -> Result<Job, ClientError> {
        let mut url = self.url_with_id("v1/jobs/", id);
        url.path_segments_mut()
            .expect("http URLs have path segments")
            .push("cancel");
        self.send(self.http.request(Method::POST, url).bearer_auth(token))
            .await
    }

    pub async fn create_api_key(
        &self,
        token: &str,
        request: &CreateApiKey,
    ) -> Result<NewApiKey, ClientError> {
        self.send(
            self.request(Method::POST, "v1/keys")
                .bearer_auth(token)
                .json(request),
        )
        .await
    }

    pub async fn list_api_keys(&self, token: &str) -> Result<Vec<ApiKey>, ClientError> {
        self.send(self.request(Method::GET, "v1/keys").bearer_auth(token))
            .await
    }

    pub async fn revoke_api_key(&self, token: &str, id: &str) -> Result<(), ClientError> {
        let request = self
            .http
            .request(Method::DELETE, self.url_with_id("v1/keys/", id))
            .bearer_auth(token);
        self.exchange(request).await.map(drop)
    }

    /// The export document, as the server sent it.
    pub async fn export_account(&self, token: &str) -> Result<serde_json::Value, ClientError> {
        self.send(
            self.request(Method::GET, "v1/account/export")
                .bearer_auth(token),
        )
        .await
    }

    pub async fn delete_account(&self, token: &str) -> Result<(), ClientError> {
        let request = self
            .request(Method::DELETE, "v1/account")
            .bearer_auth(token);
        self.exchange(request).await.map(drop)
    }

    /// `GET /v1/plugins`: the plugins the server runs (name, version, world, sha256).
    pub async fn plugins(&self) -> Result<Vec<qhub_api::PluginInfo>, ClientError> {
        self.send(self.request(Method::GET, "v1/plugins")).await
    }

    pub async fn list_oauth_providers(&self) -> Result<Vec<OAuthProvider>, ClientError> {
        self.send(self.request(Method::GET, "v1/oauth/providers"))
            .await
    }

    pub async fn start_device(
        &self,
        provider: &str,
        body: &DeviceStart,
    ) -> Result<DeviceCode, ClientError> {
        let url = self.oauth_url(provider, &["device"]);
        self.send(self.http.request(Method::POST, url).json(body))
            .await
    }

    /// One poll: `Ok(Err(pending))` while the user has not approved yet (HTTP 202).
    pub async fn poll_device(
        &self,
        provider: &str,
        body: &DeviceTokenRequest,
    ) -> Result<Result<SignedIn, DevicePending>, ClientError> {
        let url = self.oauth_url(provider, &["device", "token"]);
        let (status, bytes) = self
            .exchange_with_status(self.http.request(Method::POST, url).json(body))
            .await?;
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
        let url = self.oauth_url(provider, &["authorize"]);
        self.send(self.http.request(Method::POST, url).json(body))
            .await
    }

    pub async fn exchange_code(
        &self,
        provider: &str,
        body: &CodeExchange,
    ) -> Result<SignedIn, ClientError> {
        let url = self.oauth_url(provider, &["token"]);
        self.send(self.http.request(Method::POST, url).json(body))
            .await
    }

    pub async fn list_connections(&self, token: &str) -> Result<Vec<Connection>, ClientError> {
        self.send(
            self.request(Method::GET, "v1/account/connections")
                .bearer_auth(token),
        )
        .await
    }

    pub async fn unlink_connection(&self, token: &str, id: &str) -> Result<(), ClientError> {
        let request = self
            .http
            .request(
                Method::DELETE,
                self.url_with_id("v1/account/connections/", id),
            )
            .bearer_auth(token);
        self.exchange(request).await.map(drop)
    }

    /// `base/v1/oauth/<provider>/<steps...>`, the provider name kept one segment.
    fn oauth_url(&self, provider: &str, steps: &[&str]) -> url::Url {
        let mut url = self.url_with_id("v1/oauth/", provider);
        url.path_segments_mut()
            .expect("http URLs have path segments")
            .extend(steps);
        url
    }

    /// `base/prefix/<id>`, with `id` kept as one path segment whatever it contains.
    fn url_with_id(&self, prefix: &str, id: &str) -> url::Url {
        let mut url = self.base.join(prefix).expect("API paths are relative URLs");
        url.path_segments_mut()
            .expect("http URLs have path segments")
            .pop_if_empty()
            .push(id);
        url
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let url = self.base.join(path).expect("API paths are relative URLs");
        self.http.request(method, url)
    }

    async fn send<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T, ClientError> {
        let body = self.exchange(request).await?;
        serde_json::from_slice(&body).map_err(|e| self.protocol(format!("malformed JSON: {e}")))
    }

    /// Sends a request; a non-2xx answer becomes [`ClientError::Api`].
    async fn exchange(&self, request: RequestBuilder) -> Result<Vec<u8>, ClientError> {
        Ok(self.exchange_with_status(request).await?.1)
    }

    /// Like [`Client::exchange`], keeping the success status.
    async fn exchange_with_status(
        &self,
        request: RequestBuilder,
    ) -> Result<(StatusCode, Vec<u8>), ClientError> {
        let response = request.send().await.map_err(|e| ClientError::Unreachable {
            url: self.base.to_string(),
            reason: root_cause(&e),
        })?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| self.protocol(format!("reading the body: {e}")))?;
        if status.is_success() {
            return Ok((status, body.to_vec()));
        }
        match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(err) => Err(ClientError::Api {
                status: status.as_u16(),
                code: code_from_name(&err.error.code),
                message: err.error.message,
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
