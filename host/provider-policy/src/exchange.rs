//! One request of a provider plugin through the `http` import, as a state machine
//! that performs no I/O: the host sends each hop it is given, in whatever way it
//! sends requests (reqwest natively, `fetch` in the Worker), and reports the answer.
//!
//! What it guarantees, request by request:
//! - the URL is parsed (scheme, host, port; no credentials in it) and its origin must
//!   be on the plugin's [`AllowList`], or the answer is `denied` naming the plugin
//!   and the origin;
//! - the plugin may not set `host` (the URL decides where the request goes, and a
//!   different `host` header would reach a virtual host nobody granted);
//! - redirects are followed here, at most [`MAX_REDIRECTS`], every hop checked
//!   against the same allow-list; 303, and 301/302 after a POST, turn into a GET
//!   (RFC 9110 section 15.4); `authorization`, `cookie` and `proxy-authorization`
//!   are dropped when a hop changes origin;
//! - the final body is abandoned past the cap ([`BodyLimit`]: `too-large`), and the
//!   whole exchange must end by its deadline ([`DEFAULT_TIMEOUT`]: `timeout`).
//!
//! Error texts never contain a header value, a body, or a URL's path or query:
//! they carry client secrets, codes and tokens.

use std::time::Duration;

pub use http::Method;
use http::StatusCode;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use url::Url;

use crate::origin::{AllowList, Destination};

/// How many redirects one request may follow.
pub const MAX_REDIRECTS: usize = 5;

/// The largest response body a plugin may receive, in bytes (1 MiB).
pub const DEFAULT_BODY_BYTES: u64 = 1 << 20;

/// How long one whole exchange, redirects and body included, may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a request failed, as the `http` import's `http-error` reports it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// The destination is not on the plugin's allow-list, or the request breaks a rule.
    #[error("denied: {0}")]
    Denied(String),
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    #[error("timed out")]
    Timeout,
    /// The response body passed the cap, in bytes.
    #[error("response body larger than {0} bytes")]
    TooLarge(u64),
    /// The connection failed, or the peer broke the protocol.
    #[error("transport: {0}")]
    Transport(String),
}

/// A request on its way: the hop to send next, already admitted.
#[derive(Debug)]
pub struct Exchange<'a> {
    /// `"name" version`, as denials name the plugin.
    plugin: &'a str,
    allow: &'a AllowList,
    /// The method, URL, headers and body of the hop to send.
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<Vec<u8>>,
    destination: Destination,
    redirects: usize,
}

impl<'a> Exchange<'a> {
    /// Checks the plugin's request and admits its first hop. `plugin` names the
    /// plugin in denials (`"oauth-oidc" 0.1.0`).
    pub fn start(
        plugin: &'a str,
        allow: &'a AllowList,
        method: Method,
        url: &str,
        headers: Vec<(String, String)>,
        body: Option<Vec<u8>>,
    ) -> Result<Exchange<'a>, HttpError> {
        let url = Url::parse(url).map_err(|e| HttpError::InvalidUrl(e.to_string()))?;
        let headers = request_headers(plugin, headers)?;
        // Natively a body would be sent with a GET; `fetch` refuses it. Neither is
        // meant: an empty body is dropped, any other refused, alike on every host.
        let body = body.filter(|b| !b.is_empty());
        if body.is_some() && (method == Method::GET || method == Method::HEAD) {
            return Err(HttpError::Transport(format!(
                "a {method} request has no body"
            )));
        }
        let destination = admit(plugin, allow, &url, None)?;
        Ok(Exchange {
            plugin,
            allow,
            method,
            url,
            headers,
            body,
            destination,
            redirects: 0,
        })
    }

    /// The origin of the hop to send.
    pub fn destination(&self) -> &Destination {
        &self.destination
    }

    /// Whether a redirect answered to the current hop would be followed (fewer
    /// than [`MAX_REDIRECTS`] so far): a host need not read the body of a
    /// redirect it hands back to [`Self::redirected`] then.
    pub fn follows_redirects(&self) -> bool {
        self.redirects < MAX_REDIRECTS
    }

    /// Takes the answer to the current hop (its status and `location` header):
    /// `Ok(true)` when it is a redirect to follow (the exchange now holds the next
    /// hop, admitted), `Ok(false)` when it is the answer to deliver.
    pub fn redirected(&mut self, status: u16, location: Option<&[u8]>) -> Result<bool, HttpError> {
        let (true, Some(location)) = (
            is_followed(status) && self.redirects < MAX_REDIRECTS,
            location,
        ) else {
            return Ok(false);
        };
        let dest = &self.destination;
        let next = std::str::from_utf8(location)
            .ok()
            .and_then(|l| self.url.join(l).ok())
            .ok_or_else(|| {
                HttpError::Transport(format!(
                    "{dest} answered {status} with an invalid location header"
                ))
            })?;
        let next_destination = admit(self.plugin, self.allow, &next, Some(dest))?;
        let to_get = (status == StatusCode::SEE_OTHER.as_u16() && self.method != Method::HEAD)
            || (matches!(status, 301 | 302) && self.method == Method::POST);
        if to_get {
            self.method = Method::GET;
            self.body = None;
            self.headers.remove(header::CONTENT_TYPE);
            self.headers.remove(header::CONTENT_LENGTH);
        }
        // Nor the body, which for a token request holds the client secret, the
        // code and its verifier: 307 and 308 would repeat it as it was.
        if next_destination != self.destination && self.body.is_some() {
            return Err(HttpError::Denied(format!(
                "plugin {} may not send its request body on to {next_destination} \
                 (a {status} redirect from {})",
                self.plugin, self.destination
            )));
        }
        // Credentials meant for one origin must not travel to another, even an
        // allowed one.
        if next_destination != self.destination {
            for name in [
                header::AUTHORIZATION,
                header::COOKIE,
                header::PROXY_AUTHORIZATION,
            ] {
                self.headers.remove(name);
            }
        }
        self.url = next;
        self.destination = next_destination;
        self.redirects += 1;
        Ok(true)
    }
}

/// The origin of `url`, if the plugin may reach it; `from` is the hop that
/// redirected there.
fn admit(
    plugin: &str,
    allow: &AllowList,
    url: &Url,
    from: Option<&Destination>,
) -> Result<Destination, HttpError> {
    let dest = Destination::of_url(url).map_err(|e| HttpError::InvalidUrl(e.reason))?;
    allow.check(&dest).map_err(|refusal| {
        let via = from
            .map(|f| format!(" (redirected from {f})"))
            .unwrap_or_default();
        HttpError::Denied(format!(
            "plugin {plugin} may not reach {dest}: {refusal}{via}"
        ))
    })?;
    Ok(dest)
}

/// The plugin's headers, as given; `host` is refused.
fn request_headers(plugin: &str, given: Vec<(String, String)>) -> Result<HeaderMap, HttpError> {
    let mut headers = HeaderMap::new();
    for (name, value) in given {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| HttpError::Transport(format!("invalid request header name {name:?}")))?;
        if name == header::HOST {
            return Err(HttpError::Denied(format!(
                "plugin {plugin} may not set the host header; the URL decides the host"
            )));
        }
        if HOST_FRAMED.contains(&name) {
            return Err(HttpError::Denied(format!(
                "plugin {plugin} may not set the {name} header; the host frames the request"
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

/// Headers that frame the request or the connection (RFC 9110 section 7.6.1,
/// RFC 9112 section 6): the host's HTTP client sets them, and one a plugin set
/// would be honoured by one client and ignored by another.
const HOST_FRAMED: [HeaderName; 8] = [
    header::CONTENT_LENGTH,
    header::TRANSFER_ENCODING,
    header::CONNECTION,
    header::TE,
    header::UPGRADE,
    header::EXPECT,
    header::TRAILER,
    HeaderName::from_static("keep-alive"),
];

/// The redirect statuses that carry a `location` to follow. 300 (a choice) and 304
/// (not modified) are answers, not redirects.
fn is_followed(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// The cap on a response body, checked as it streams in: the host stops reading as
/// soon as a check fails, so a plugin cannot make it buffer without bound.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit {
    cap: u64,
    read: u64,
}

impl BodyLimit {
    /// A cap of `cap` bytes.
    pub fn new(cap: u64) -> BodyLimit {
        BodyLimit { cap, read: 0 }
    }

    /// The response's `content-length` header, if it has one: over the cap is
    /// refused before any byte is read. The answers that have no body whatever
    /// their `content-length` says (to a HEAD, 1xx, 204, 304: RFC 9110 section
    /// 8.6) are not refused; a value that is not a number is left to the reads.
    pub fn declared(
        &self,
        method: &Method,
        status: u16,
        content_length: Option<&[u8]>,
    ) -> Result<(), HttpError> {
        if *method == Method::HEAD || status < 200 || status == 204 || status == 304 {
            return Ok(());
        }
        let length = content_length
            .and_then(|l| std::str::from_utf8(l).ok())
            .and_then(|l| l.trim().parse::<u64>().ok());
        match length {
            Some(length) if length > self.cap => Err(HttpError::TooLarge(self.cap)),
            _ => Ok(()),
        }
    }

    /// Counts `len` more bytes read.
    pub fn read(&mut self, len: usize) -> Result<(), HttpError> {
        self.read = self.read.saturating_add(len as u64);
        if self.read > self.cap {
            return Err(HttpError::TooLarge(self.cap));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow() -> AllowList {
        let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        AllowList::new(
            &owned(&["https://*:443", "http://127.0.0.1:*"]),
            &owned(&[
                "https://a.example",
                "https://b.example",
                "http://127.0.0.1:8080",
            ]),
        )
        .unwrap()
    }

    const PLUGIN: &str = "\"oauth-oidc\" 0.1.0";

    fn start<'a>(
        allow: &'a AllowList,
        method: Method,
        url: &str,
    ) -> Result<Exchange<'a>, HttpError> {
        let headers = vec![
            ("authorization".to_owned(), "Bearer secret".to_owned()),
            ("content-type".to_owned(), "application/json".to_owned()),
        ];
        let body = (method != Method::GET && method != Method::HEAD).then(|| b"{}".to_vec());
        Exchange::start(PLUGIN, allow, method, url, headers, body)
    }

    #[test]
    fn the_first_hop_must_be_allowed_and_well_formed() {
        let allow = allow();
        assert!(start(&allow, Method::GET, "https://a.example/token").is_ok());
        let denied = start(&allow, Method::GET, "https://c.example/x?code=s3cret").unwrap_err();
        assert_eq!(
            denied,
            HttpError::Denied(format!(
                "plugin {PLUGIN} may not reach https://c.example:443: not granted"
            ))
        );
        assert!(matches!(
            start(&allow, Method::GET, "https://user:pw@a.example/").unwrap_err(),
            HttpError::InvalidUrl(m) if m.contains("credentials")
        ));
        assert!(matches!(
            start(&allow, Method::GET, "not a url").unwrap_err(),
            HttpError::InvalidUrl(_)
        ));
        let host = Exchange::start(
            PLUGIN,
            &allow,
            Method::GET,
            "https://a.example/",
            vec![("Host".into(), "b.example".into())],
            None,
        );
        assert!(matches!(host.unwrap_err(), HttpError::Denied(m) if m.contains("host header")));
        let bad = Exchange::start(
            PLUGIN,
            &allow,
            Method::GET,
            "https://a.example/",
            vec![("x".into(), "a\nb".into())],
            None,
        );
        assert_eq!(
            bad.unwrap_err(),
            HttpError::Transport("invalid value for request header x".into())
        );
    }

    #[test]
    fn answers_that_are_not_followed_are_delivered() {
        let allow = allow();
        let mut exchange = start(&allow, Method::GET, "https://a.example/").unwrap();
        for status in [200, 300, 304, 404, 500] {
            assert_eq!(
                exchange.redirected(status, Some(b"/elsewhere")),
                Ok(false),
                "{status}"
            );
        }
        // A redirect without a location is the answer too.
        assert_eq!(exchange.redirected(302, None), Ok(false));
    }

    #[test]
    fn a_redirect_to_the_same_origin_keeps_method_body_and_credentials() {
        let allow = allow();
        let mut exchange = start(&allow, Method::POST, "https://a.example/one").unwrap();
        assert_eq!(exchange.redirected(307, Some(b"/two?x=1")), Ok(true));
        assert_eq!(exchange.url.as_str(), "https://a.example/two?x=1");
        assert_eq!(exchange.method, Method::POST);
        assert!(exchange.body.is_some());
        assert!(exchange.headers.contains_key(header::AUTHORIZATION));
    }

    #[test]
    fn a_redirect_to_another_origin_drops_credentials() {
        let allow = allow();
        let mut exchange = start(&allow, Method::GET, "https://a.example/").unwrap();
        assert_eq!(
            exchange.redirected(302, Some(b"https://b.example/")),
            Ok(true)
        );
        assert_eq!(exchange.destination().to_string(), "https://b.example:443");
        assert!(!exchange.headers.contains_key(header::AUTHORIZATION));
        assert!(exchange.headers.contains_key(header::CONTENT_TYPE));
    }

    #[test]
    fn a_body_never_follows_a_redirect_to_another_origin() {
        let allow = allow();
        for status in [307, 308] {
            let mut exchange = start(&allow, Method::POST, "https://a.example/token").unwrap();
            let refused = exchange
                .redirected(status, Some(b"https://b.example/token"))
                .unwrap_err();
            assert_eq!(
                refused,
                HttpError::Denied(format!(
                    "plugin {PLUGIN} may not send its request body on to https://b.example:443 \
                     (a {status} redirect from https://a.example:443)"
                ))
            );
        }
    }

    #[test]
    fn framing_headers_and_bodies_on_get_are_refused() {
        let allow = allow();
        for name in [
            "Content-Length",
            "transfer-encoding",
            "Connection",
            "keep-alive",
            "expect",
        ] {
            let refused = Exchange::start(
                PLUGIN,
                &allow,
                Method::POST,
                "https://a.example/",
                vec![(name.into(), "1".into())],
                None,
            )
            .unwrap_err();
            assert!(
                matches!(&refused, HttpError::Denied(m) if m.contains("the host frames the request")),
                "{name}: {refused:?}"
            );
        }
        let get = |body: &[u8]| {
            Exchange::start(
                PLUGIN,
                &allow,
                Method::GET,
                "https://a.example/",
                vec![],
                Some(body.to_vec()),
            )
            .map(|e| e.body)
        };
        assert_eq!(get(b""), Ok(None), "an empty body is dropped");
        assert_eq!(
            get(b"x"),
            Err(HttpError::Transport("a GET request has no body".into()))
        );
    }

    #[test]
    fn see_other_and_post_redirects_turn_into_get() {
        let allow = allow();
        for (method, status, expected) in [
            (Method::POST, 303, Method::GET),
            (Method::PUT, 303, Method::GET),
            (Method::HEAD, 303, Method::HEAD),
            (Method::POST, 301, Method::GET),
            (Method::POST, 302, Method::GET),
            (Method::PUT, 302, Method::PUT),
            (Method::POST, 308, Method::POST),
        ] {
            let mut exchange = start(&allow, method.clone(), "https://a.example/").unwrap();
            assert_eq!(exchange.redirected(status, Some(b"/next")), Ok(true));
            assert_eq!(exchange.method, expected, "{method} {status}");
            let to_get = expected == Method::GET && method != Method::GET;
            let bodiless = to_get || method == Method::HEAD;
            assert_eq!(exchange.body.is_none(), bodiless, "{method} {status}");
            assert_eq!(!exchange.headers.contains_key(header::CONTENT_TYPE), to_get);
        }
    }

    #[test]
    fn every_hop_is_checked_and_the_refusal_names_where_it_came_from() {
        let allow = allow();
        let mut exchange = start(&allow, Method::GET, "https://a.example/").unwrap();
        let refused = exchange
            .redirected(302, Some(b"http://127.0.0.1:9/"))
            .unwrap_err();
        assert_eq!(
            refused,
            HttpError::Denied(format!(
                "plugin {PLUGIN} may not reach http://127.0.0.1:9: not granted (redirected from https://a.example:443)"
            ))
        );
        let invalid = exchange.redirected(302, Some(b"http://[::1")).unwrap_err();
        assert!(matches!(invalid, HttpError::Transport(m) if m.contains("invalid location")));
        let invalid = exchange.redirected(302, Some(&[0xff, 0xfe])).unwrap_err();
        assert!(matches!(invalid, HttpError::Transport(_)));
    }

    #[test]
    fn at_most_max_redirects_are_followed() {
        let allow = allow();
        let mut exchange = start(&allow, Method::GET, "https://a.example/").unwrap();
        for _ in 0..MAX_REDIRECTS {
            assert_eq!(exchange.redirected(302, Some(b"/again")), Ok(true));
        }
        // The next redirect is delivered as the answer.
        assert_eq!(exchange.redirected(302, Some(b"/again")), Ok(false));
    }

    #[test]
    fn bodies_over_the_cap_are_refused_as_they_stream() {
        let mut limit = BodyLimit::new(10);
        let get = Method::GET;
        assert_eq!(
            limit.declared(&get, 200, Some(b"11")),
            Err(HttpError::TooLarge(10))
        );
        assert_eq!(limit.declared(&get, 200, Some(b" 10 ")), Ok(()));
        assert_eq!(limit.declared(&get, 200, None), Ok(()));
        assert_eq!(limit.declared(&get, 200, Some(b"ten")), Ok(()));
        // No body follows, whatever the length says.
        assert_eq!(limit.declared(&Method::HEAD, 200, Some(b"11")), Ok(()));
        assert_eq!(limit.declared(&get, 304, Some(b"11")), Ok(()));
        assert_eq!(limit.declared(&get, 204, Some(b"11")), Ok(()));
        assert_eq!(limit.read(6), Ok(()));
        assert_eq!(limit.read(4), Ok(()));
        assert_eq!(limit.read(1), Err(HttpError::TooLarge(10)));
    }
}
