//! The host's `http` import: outbound requests for provider plugins, sent with
//! reqwest hop by hop as qhub-provider-policy's [`Exchange`] admits them, the rules
//! the Worker's provider gateway applies too: the allow-list (manifest ∩ grant) on
//! every hop, redirects followed by the policy (reqwest follows none), credentials
//! dropped across origins, the body capped at [`Limits::http_body_bytes`] as it
//! streams, the whole exchange within [`Limits::http_timeout`].
//!
//! Nothing here logs a request body, a header value or a URL's path or query: they
//! carry client secrets, codes and tokens. Only the origin, method and status are
//! logged, at debug level.
//!
//! [`Limits::http_body_bytes`]: crate::Limits::http_body_bytes
//! [`Limits::http_timeout`]: crate::Limits::http_timeout

use std::sync::Once;
use std::time::Duration;

use qhub_provider_policy::exchange::Method as PolicyMethod;
use qhub_provider_policy::{AllowList, BodyLimit, Exchange, HttpError as PolicyError};
use reqwest::header;

use crate::bindings::http::{self as wit, HttpError, Method};
use crate::engine::Limits;
use crate::provider::versions::legacy::qhub::plugin::http as legacy;

/// One plugin's network access: its allow-list and the client that sends for it.
#[derive(Debug)]
pub(crate) struct HttpAccess {
    /// `"name" version`, as denials name the plugin.
    plugin: String,
    allow: AllowList,
    client: reqwest::Client,
    timeout: Duration,
    body_cap: u64,
}

impl HttpAccess {
    pub(crate) fn new(
        plugin: String,
        allow: AllowList,
        limits: &Limits,
    ) -> Result<HttpAccess, reqwest::Error> {
        install_crypto_provider();
        let client = reqwest::Client::builder()
            // Every hop must pass the allow-list, so redirects are the policy's.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(HttpAccess {
            plugin,
            allow,
            client,
            timeout: limits.http_timeout,
            body_cap: limits.http_body_bytes,
        })
    }

    /// Sends `request`, following allowed redirects, within the timeout.
    pub(crate) async fn send(&self, request: wit::Request) -> Result<wit::Response, HttpError> {
        tokio::time::timeout(self.timeout, self.exchange(request))
            .await
            .unwrap_or(Err(HttpError::Timeout))
    }

    async fn exchange(&self, request: wit::Request) -> Result<wit::Response, HttpError> {
        let mut exchange = Exchange::start(
            &self.plugin,
            &self.allow,
            policy_method(request.method),
            &request.url,
            request.headers,
            request.body,
        )
        .map_err(wit_error)?;
        loop {
            let mut builder = self
                .client
                .request(exchange.method.clone(), exchange.url.as_str())
                .headers(exchange.headers.clone());
            if let Some(body) = &exchange.body {
                builder = builder.body(body.clone());
            }
            let response = builder.send().await.map_err(transport)?;
            let status = response.status().as_u16();
            tracing::debug!(plugin = %self.plugin, method = %exchange.method, origin = %exchange.destination(), status, "plugin http request");
            let location = response
                .headers()
                .get(header::LOCATION)
                .map(|l| l.as_bytes());
            if !exchange.redirected(status, location).map_err(wit_error)? {
                return self.collect(&exchange.method, response).await;
            }
        }
    }

    /// Reads the final response, stopping as soon as the body passes the cap.
    async fn collect(
        &self,
        method: &PolicyMethod,
        mut response: reqwest::Response,
    ) -> Result<wit::Response, HttpError> {
        let mut limit = BodyLimit::new(self.body_cap);
        let status = response.status().as_u16();
        let declared = response.headers().get(header::CONTENT_LENGTH);
        limit
            .declared(method, status, declared.map(|l| l.as_bytes()))
            .map_err(wit_error)?;
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_owned(), value)
            })
            .collect();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            limit.read(chunk.len()).map_err(wit_error)?;
            body.extend_from_slice(&chunk);
        }
        Ok(wit::Response {
            status,
            headers,
            body,
        })
    }
}

impl wit::Host for crate::capabilities::Http {
    async fn send(
        &mut self,
        request: wit::Request,
    ) -> wasmtime::Result<Result<wit::Response, HttpError>> {
        let access = self
            .access
            .clone()
            .ok_or_else(|| wasmtime::format_err!("no network access is granted to this plugin"))?;
        Ok(access.send(request).await)
    }
}

/// The `http` of [`legacy`](crate::provider::versions::legacy) provider plugins:
/// the same records under the old package's names.
impl crate::provider::versions::legacy::qhub::plugin::http::Host for crate::capabilities::Http {
    async fn send(
        &mut self,
        request: legacy::Request,
    ) -> wasmtime::Result<Result<legacy::Response, legacy::HttpError>> {
        let method = match request.method {
            legacy::Method::Get => Method::Get,
            legacy::Method::Post => Method::Post,
            legacy::Method::Put => Method::Put,
            legacy::Method::Patch => Method::Patch,
            legacy::Method::Delete => Method::Delete,
            legacy::Method::Head => Method::Head,
        };
        let request = wit::Request {
            method,
            url: request.url,
            headers: request.headers,
            body: request.body,
        };
        let answer = wit::Host::send(self, request).await?;
        Ok(answer
            .map(|r| legacy::Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
            })
            .map_err(|e| match e {
                HttpError::Denied(m) => legacy::HttpError::Denied(m),
                HttpError::InvalidUrl(m) => legacy::HttpError::InvalidUrl(m),
                HttpError::Timeout => legacy::HttpError::Timeout,
                HttpError::TooLarge(cap) => legacy::HttpError::TooLarge(cap),
                HttpError::Transport(m) => legacy::HttpError::Transport(m),
            }))
    }
}

fn policy_method(method: Method) -> PolicyMethod {
    match method {
        Method::Get => PolicyMethod::GET,
        Method::Post => PolicyMethod::POST,
        Method::Put => PolicyMethod::PUT,
        Method::Patch => PolicyMethod::PATCH,
        Method::Delete => PolicyMethod::DELETE,
        Method::Head => PolicyMethod::HEAD,
    }
}

fn wit_error(err: PolicyError) -> HttpError {
    match err {
        PolicyError::Denied(m) => HttpError::Denied(m),
        PolicyError::InvalidUrl(m) => HttpError::InvalidUrl(m),
        PolicyError::Timeout => HttpError::Timeout,
        PolicyError::TooLarge(cap) => HttpError::TooLarge(cap),
        PolicyError::Transport(m) => HttpError::Transport(m),
    }
}

/// A reqwest failure as the plugin sees it: the causes, without the URL (whose
/// query may hold a code or a token).
fn transport(err: reqwest::Error) -> HttpError {
    if err.is_timeout() {
        return HttpError::Timeout;
    }
    let err = err.without_url();
    let mut message = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    HttpError::Transport(message)
}

/// reqwest is built without a default TLS crypto provider; use ring's, once.
fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Err means another provider is installed already, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
