//! Test fixture: an `oauth-provider-plugin` that exercises the host's `http` import.
//!
//! `fetch-identity` sends the request its `tokens` describe and reports what came
//! back, so the host's tests can drive the allow-list, redirects, the body cap and the
//! timeout from the outside:
//!
//! | `tokens` field  | request                                  |
//! |-----------------|------------------------------------------|
//! | `access-token`  | the URL                                  |
//! | `token-type`    | the method (`GET`, `POST`, ...)          |
//! | `id-token`      | the body, if any                         |
//! | `refresh-token` | an `authorization` header value, if any  |
//!
//! A response comes back as an identity: `subject` is the status, `email` the body
//! (as text) and `display-name` the headers, one `name: value` per line. An
//! `http-error` comes back as `provider-error::http("KIND: detail")`.
//!
//! `describe` traps when the config key `trap` is `"true"`, so the host can prove that
//! a provider that traps is named and does not take the host down.

#[expect(unsafe_code, reason = "wit-bindgen's generated canonical ABI glue")]
mod bindings {
    wit_bindgen::generate!({
        world: "qhub:provider/oauth-provider-plugin@0.1.0",
        path: "../../wit",
        generate_all,
    });

    use super::TestHttp;
    export!(TestHttp);
}

use bindings::exports::qhub::provider::oauth_provider::{
    DeviceAuthorization, Guest, Identity, Metadata, PollOutcome, ProviderError, Tokens,
};
use bindings::qhub::provider::config;
use bindings::qhub::provider::http::{self, HttpError, Method, Request};

#[derive(Debug)]
struct TestHttp;

impl Guest for TestHttp {
    fn describe() -> Metadata {
        if config::get("trap").as_deref() == Some("true") {
            panic!("test-http: asked to trap by its config");
        }
        Metadata {
            id: "test-http".into(),
            display_name: "HTTP test fixture".into(),
            supports_device_flow: false,
            supports_web_flow: false,
        }
    }

    fn start_device_authorization(
        _scopes: Vec<String>,
    ) -> Result<DeviceAuthorization, ProviderError> {
        Err(ProviderError::NotSupported)
    }

    fn poll_device_token(_device_code: String) -> Result<PollOutcome, ProviderError> {
        Err(ProviderError::NotSupported)
    }

    fn authorization_url(
        _redirect_uri: String,
        _state: String,
        _code_challenge: String,
        _scopes: Vec<String>,
    ) -> Result<String, ProviderError> {
        Err(ProviderError::NotSupported)
    }

    fn exchange_code(
        _code: String,
        _redirect_uri: String,
        _code_verifier: String,
    ) -> Result<Tokens, ProviderError> {
        Err(ProviderError::NotSupported)
    }

    fn fetch_identity(tokens: Tokens) -> Result<Identity, ProviderError> {
        let method = match tokens.token_type.to_ascii_uppercase().as_str() {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            "HEAD" => Method::Head,
            other => return Err(ProviderError::Misconfigured(format!("method {other}"))),
        };
        let headers = tokens
            .refresh_token
            .map(|value| vec![("authorization".to_owned(), value)])
            .unwrap_or_default();
        let request = Request {
            method,
            url: tokens.access_token,
            headers,
            body: tokens.id_token.map(String::into_bytes),
        };
        let response = http::send(&request).map_err(|err| ProviderError::Http(describe(err)))?;
        let headers = response
            .headers
            .iter()
            .map(|(name, value)| format!("{name}: {value}\n"))
            .collect();
        Ok(Identity {
            subject: response.status.to_string(),
            email: Some(String::from_utf8_lossy(&response.body).into_owned()),
            email_verified: false,
            display_name: Some(headers),
        })
    }
}

/// `KIND: detail`, so a test can tell the variants apart.
fn describe(err: HttpError) -> String {
    match err {
        HttpError::Denied(why) => format!("denied: {why}"),
        HttpError::InvalidUrl(why) => format!("invalid-url: {why}"),
        HttpError::Timeout => "timeout".into(),
        HttpError::TooLarge(cap) => format!("too-large: {cap}"),
        HttpError::Transport(why) => format!("transport: {why}"),
    }
}
