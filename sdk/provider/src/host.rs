//! The host's capabilities as a provider sees them: outbound HTTP and configuration,
//! with the request shapes OAuth endpoints expect.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::form::{Form, percent_encode};
use crate::model::{HttpError, Method, ProviderError, Request, Response};

/// The host's `http` import (or a fake in tests).
pub trait Http {
    fn send(&self, request: Request) -> Result<Response, HttpError>;
}

/// The host's `config` import (or a map in tests).
pub trait Config {
    fn get(&self, key: &str) -> Option<String>;
}

/// What a provider may use during one call.
#[derive(Clone, Copy)]
pub struct Host<'a> {
    pub http: &'a dyn Http,
    pub config: &'a dyn Config,
    /// Sent as `user-agent` on every request (some APIs, GitHub's among them,
    /// refuse requests without one): `qhub-oauth-github/0.1.0`.
    pub user_agent: &'a str,
}

impl std::fmt::Debug for Host<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("user_agent", &self.user_agent)
            .finish_non_exhaustive()
    }
}

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientAuth {
    /// RFC 6749 section 2.3.1 `client_secret_basic`: HTTP Basic with the
    /// form-encoded id and secret. The form carries no `client_id`.
    Basic {
        client_id: String,
        client_secret: String,
    },
    /// The id (and the secret, if any) in the form body: a public client (RFC 6749
    /// section 2.1, e.g. a CLI with PKCE) or `client_secret_post`, as GitHub documents.
    Body {
        client_id: String,
        client_secret: Option<String>,
    },
}

impl ClientAuth {
    /// `client_secret_basic` when a secret is configured, else a public client.
    pub fn basic_or_public(client_id: String, client_secret: Option<String>) -> ClientAuth {
        match client_secret {
            Some(client_secret) => ClientAuth::Basic {
                client_id,
                client_secret,
            },
            None => ClientAuth::Body {
                client_id,
                client_secret: None,
            },
        }
    }

    pub fn client_id(&self) -> &str {
        match self {
            ClientAuth::Basic { client_id, .. } | ClientAuth::Body { client_id, .. } => client_id,
        }
    }

    /// Adds this authentication to a token request's form and headers.
    fn apply(&self, form: Form, headers: &mut Vec<(String, String)>) -> Form {
        match self {
            ClientAuth::Basic {
                client_id,
                client_secret,
            } => {
                let pair = format!(
                    "{}:{}",
                    percent_encode(client_id),
                    percent_encode(client_secret)
                );
                headers.push((
                    "authorization".into(),
                    format!("Basic {}", STANDARD.encode(pair)),
                ));
                form
            }
            ClientAuth::Body {
                client_id,
                client_secret,
            } => form
                .pair("client_id", client_id)
                .opt("client_secret", client_secret.as_deref()),
        }
    }
}

impl Host<'_> {
    /// A configured value, trimmed; an empty value counts as missing.
    pub fn optional(&self, key: &str) -> Option<String> {
        self.config
            .get(key)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// A configured value that must be there.
    pub fn required(&self, key: &str) -> Result<String, ProviderError> {
        self.optional(key).ok_or_else(|| {
            ProviderError::Misconfigured(format!(
                "{key} is not configured (hint: set it under [providers.NAME.config] in providers.toml, or QHUB_PROVIDER_NAME_{})",
                key.to_uppercase().replace('-', "_")
            ))
        })
    }

    /// `client-id` and, when configured, `client-secret`.
    pub fn client_credentials(&self) -> Result<(String, Option<String>), ProviderError> {
        Ok((self.required("client-id")?, self.optional("client-secret")))
    }

    /// Sends `request` with the user agent added; transport failures become
    /// `provider-error.http` naming the URL (without its query, which may carry codes).
    pub fn send(&self, mut request: Request) -> Result<Response, ProviderError> {
        if request.header("user-agent").is_none() {
            request
                .headers
                .push(("user-agent".into(), self.user_agent.to_owned()));
        }
        let target = format!(
            "{} {}",
            request.method.as_str(),
            request.url.split('?').next().unwrap_or_default()
        );
        self.http.send(request).map_err(|e| match e {
            // The host's denial already names the plugin and the origin to grant.
            HttpError::Denied(m) => ProviderError::Http(m),
            other => ProviderError::Http(format!("{target}: {other}")),
        })
    }

    /// POSTs a form to a token-style endpoint with the client authentication, asking
    /// for JSON. The response is returned whatever its status: OAuth errors arrive in
    /// 4xx bodies (and with GitHub in 200 bodies), for [`crate::poll_outcome`] and
    /// [`crate::token_grant`] to read.
    pub fn post_form(
        &self,
        url: &str,
        form: Form,
        auth: &ClientAuth,
    ) -> Result<Response, ProviderError> {
        let mut headers = vec![
            ("accept".to_owned(), "application/json".to_owned()),
            (
                "content-type".to_owned(),
                "application/x-www-form-urlencoded".to_owned(),
            ),
        ];
        let form = auth.apply(form, &mut headers);
        self.send(Request {
            method: Method::Post,
            url: url.to_owned(),
            headers,
            body: Some(form.encode().into_bytes()),
        })
    }

    /// GETs JSON, with a bearer token when given; any status is returned.
    pub fn get(
        &self,
        url: &str,
        bearer: Option<&str>,
        accept: &str,
    ) -> Result<Response, ProviderError> {
        let mut headers = vec![("accept".to_owned(), accept.to_owned())];
        if let Some(token) = bearer {
            headers.push(("authorization".to_owned(), format!("Bearer {token}")));
        }
        self.send(Request {
            method: Method::Get,
            url: url.to_owned(),
            headers,
            body: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FakeHttp, MapConfig};

    #[test]
    fn basic_auth_form_encodes_id_and_secret() {
        let http = FakeHttp::new(|_| Response::json(200, &serde_json::json!({})));
        let config = MapConfig::new(&[]);
        let host = Host {
            http: &http,
            config: &config,
            user_agent: "t/1",
        };
        let auth = ClientAuth::basic_or_public("my id".into(), Some("s:e".into()));
        host.post_form("https://x/token", Form::new().pair("a", "b"), &auth)
            .unwrap();
        let sent = http.only_request();
        // base64("my%20id:s%3Ae")
        assert_eq!(
            sent.header("authorization"),
            Some("Basic bXklMjBpZDpzJTNBZQ==")
        );
        assert_eq!(sent.body_text(), "a=b");
        assert_eq!(sent.header("user-agent"), Some("t/1"));
        assert_eq!(sent.header("accept"), Some("application/json"));
    }

    #[test]
    fn public_clients_send_their_id_in_the_body() {
        let http = FakeHttp::new(|_| Response::json(200, &serde_json::json!({})));
        let config = MapConfig::new(&[]);
        let host = Host {
            http: &http,
            config: &config,
            user_agent: "t/1",
        };
        let auth = ClientAuth::basic_or_public("cli".into(), None);
        host.post_form("https://x/token", Form::new().pair("a", "b"), &auth)
            .unwrap();
        let sent = http.only_request();
        assert_eq!(sent.header("authorization"), None);
        assert_eq!(sent.body_text(), "a=b&client_id=cli");
    }

    #[test]
    fn missing_configuration_names_the_key_and_the_fix() {
        let http = FakeHttp::new(|_| unreachable!("no request expected"));
        let config = MapConfig::new(&[("client-secret", "  ")]);
        let host = Host {
            http: &http,
            config: &config,
            user_agent: "t/1",
        };
        let err = host.client_credentials().unwrap_err();
        let ProviderError::Misconfigured(message) = err else {
            panic!("{err:?}")
        };
        assert!(
            message.starts_with("client-id is not configured"),
            "{message}"
        );
        assert!(
            message.contains("QHUB_PROVIDER_NAME_CLIENT_ID"),
            "{message}"
        );
        assert_eq!(
            host.optional("client-secret"),
            None,
            "blank counts as missing"
        );
    }

    #[test]
    fn transport_errors_name_the_request_but_not_its_query() {
        let http = FakeHttp::failing(HttpError::Timeout);
        let config = MapConfig::new(&[]);
        let host = Host {
            http: &http,
            config: &config,
            user_agent: "t/1",
        };
        let err = host
            .get("https://x/user?code=secret", None, "application/json")
            .unwrap_err();
        assert_eq!(
            err,
            ProviderError::Http("GET https://x/user: timed out".into())
        );

        let http = FakeHttp::failing(HttpError::Denied(
            "plugin \"p\" 0.1.0 may not reach https://x:443: not granted".into(),
        ));
        let host = Host {
            http: &http,
            config: &config,
            user_agent: "t/1",
        };
        let err = host
            .get("https://x/user", None, "application/json")
            .unwrap_err();
        assert_eq!(
            err,
            ProviderError::Http(
                "plugin \"p\" 0.1.0 may not reach https://x:443: not granted".into()
            )
        );
    }
}
