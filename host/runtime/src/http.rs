//! The host's `http` import: outbound requests for provider plugins, sent with
//! reqwest only to origins on the plugin's [`AllowList`] (manifest ∩ grant).
//!
//! What it guarantees, request by request:
//! - the URL is parsed (scheme, host, port; no credentials in it) and its origin must
//!   be on the allow-list, or the answer is `denied` naming the plugin and the origin;
//! - redirects are not followed by reqwest: the host follows at most
//!   [`MAX_REDIRECTS`] itself, checking every hop against the same allow-list, and
//!   drops `authorization` and `cookie` when a hop changes origin;
//! - the response body is streamed and abandoned past [`Limits::http_body_bytes`]
//!   (`too-large`), so a plugin cannot make the host buffer without bound;
//! - the whole exchange, redirects and body included, must finish within
//!   [`Limits::http_timeout`] (`timeout`).
//!
//! Nothing here logs a request body, a header value or a URL's path or query: they
//! carry client secrets, codes and tokens. Only the origin, method and status are
//! logged, at debug level.
//!
//! [`Limits::http_body_bytes`]: crate::Limits::http_body_bytes
//! [`Limits::http_timeout`]: crate::Limits::http_timeout

use std::sync::Once;
use std::time::Duration;

use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method as ReqwestMethod, StatusCode};
use url::Url;

use crate::bindings::http::{self as wit, HttpError, Method};
use crate::engine::Limits;
use crate::grants::{AllowList, Destination};
use crate::provider::versions::legacy::qhub::plugin::http as legacy;

/// How many redirects one request may follow.
pub const MAX_REDIRECTS: usize = 5;

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
            // Every hop must pass the allow-list, so redirects are ours to follow.
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
        let mut url =
            Url::parse(&request.url).map_err(|e| HttpError::InvalidUrl(format!("{e}")))?;
        let mut method = reqwest_method(request.method);
        let mut headers = self.headers(request.headers)?;
        let mut body = request.body;
        let mut from: Option<Destination> = None;
        let mut hops = 0;
        loop {
            let dest = self.admit(&url, from.as_ref())?;
            let mut builder = self
                .client
                .request(method.clone(), url.clone())
                .headers(headers.clone());
            if let Some(body) = &body {
                builder = builder.body(body.clone());
            }
            let response = builder.send().await.map_err(transport)?;
            let status = response.status();
            tracing::debug!(plugin = %self.plugin, %method, origin = %dest, status = status.as_u16(), "plugin http request");

            let location = response.headers().get(header::LOCATION);
            let follow = is_followed(status) && hops < MAX_REDIRECTS;
            let (true, Some(location)) = (follow, location) else {
                return self.collect(response).await;
            };
            let next = location
                .to_str()
                .ok()
                .and_then(|l| url.join(l).ok())
                .ok_or_else(|| {
                    HttpError::Transport(format!(
                        "{dest} answered {status} with an invalid location header"
                    ))
                })?;
            // RFC 9110 section 15.4: 303 turns into a GET; so do 301 and 302 after a
            // POST, as every browser does. 307 and 308 repeat the request as it was.
            let to_get = (status == StatusCode::SEE_OTHER && method != ReqwestMethod::HEAD)
                || (matches!(status, StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND)
                    && method == ReqwestMethod::POST);
            if to_get {
                method = ReqwestMethod::GET;
                body = None;
                headers.remove(header::CONTENT_TYPE);
                headers.remove(header::CONTENT_LENGTH);
            }
            // Credentials meant for one origin must not travel to another, even an
            // allowed one (reqwest's own redirect policy does the same).
            if Destination::of_url(&next).ok().as_ref() != Some(&dest) {
                headers.remove(header::AUTHORIZATION);
                headers.remove(header::COOKIE);
                headers.remove(header::PROXY_AUTHORIZATION);
            }
            from = Some(dest);
            url = next;
            hops += 1;
        }
    }

    /// The origin of `url`, if the plugin may reach it.
    fn admit(&self, url: &Url, from: Option<&Destination>) -> Result<Destination, HttpError> {
        let dest = Destination::of_url(url).map_err(|e| HttpError::InvalidUrl(e.reason))?;
        self.allow.check(&dest).map_err(|refusal| {
            let via = from
                .map(|f| format!(" (redirected from {f})"))
                .unwrap_or_default();
            HttpError::Denied(format!(
                "plugin {} may not reach {dest}: {refusal}{via}",
                self.plugin
            ))
        })?;
        Ok(dest)
    }

    /// The plugin's headers, as given. `host` is refused: the connection goes to the
    /// URL's host, and a different `host` header would reach a virtual host nobody
    /// granted.
    fn headers(&self, given: Vec<(String, String)>) -> Result<HeaderMap, HttpError> {
        let mut headers = HeaderMap::new();
        for (name, value) in given {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                HttpError::Transport(format!("invalid request header name {name:?}"))
            })?;
            if name == header::HOST {
                return Err(HttpError::Denied(format!(
                    "plugin {} may not set the host header; the URL decides the host",
                    self.plugin
                )));
            }
            // The value is never echoed: it may well be a secret.
            let value = HeaderValue::from_str(&value).map_err(|_| {
                HttpError::Transport(format!("invalid value for request header {name}"))
            })?;
            headers.append(name, value);
        }
        Ok(headers)
    }

    /// Reads the final response, stopping as soon as the body passes the cap.
    async fn collect(&self, mut response: reqwest::Response) -> Result<wit::Response, HttpError> {
        let cap = self.body_cap;
        if response.content_length().is_some_and(|len| len > cap) {
            return Err(HttpError::TooLarge(cap));
        }
        let status = response.status().as_u16();
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
            if (body.len() + chunk.len()) as u64 > cap {
                return Err(HttpError::TooLarge(cap));
            }
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

/// The redirect statuses that carry a `location` to follow. 300 (a choice) and 304
/// (not modified) are answers, not redirects.
fn is_followed(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::MOVED_PERMANENTLY
            | StatusCode::FOUND
            | StatusCode::SEE_OTHER
            | StatusCode::TEMPORARY_REDIRECT
            | StatusCode::PERMANENT_REDIRECT
    )
}

fn reqwest_method(method: Method) -> ReqwestMethod {
    match method {
        Method::Get => ReqwestMethod::GET,
        Method::Post => ReqwestMethod::POST,
        Method::Put => ReqwestMethod::PUT,
        Method::Patch => ReqwestMethod::PATCH,
        Method::Delete => ReqwestMethod::DELETE,
        Method::Head => ReqwestMethod::HEAD,
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
