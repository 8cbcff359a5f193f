//! GitHub's documented OAuth endpoints over the host's `http` import:
//! `POST {auth-base}/login/device/code`, `POST {auth-base}/login/oauth/access_token`
//! (device and web flows alike), `{auth-base}/login/oauth/authorize`, and the REST
//! API's `GET {api-base}/user` and `GET {api-base}/user/emails`.

use qhub_provider_sdk::{
    ClientAuth, DEVICE_CODE_GRANT, DeviceAuthorization, Form, Host, Identity, Metadata, Method,
    PollOutcome, Provider, ProviderError, Request, Tokens, device_authorization, json_body,
    poll_outcome, scope_param, token_grant, with_query,
};
use serde::Deserialize;

/// Scopes asked for when the host passes none: the profile and the email addresses.
const DEFAULT_SCOPES: &str = "read:user user:email";
const DEFAULT_AUTH_BASE: &str = "https://github.com";
const DEFAULT_API_BASE: &str = "https://api.github.com";
/// The REST API version this plugin was written against (GitHub's versioning header).
const API_VERSION: &str = "2022-11-28";

/// The provider; stateless, every call starts from configuration.
#[derive(Debug)]
pub struct GitHub;

/// `auth-base` or `api-base`, without a trailing slash.
fn base(host: &Host<'_>, key: &str, default: &str) -> String {
    host.optional(key)
        .unwrap_or_else(|| default.to_owned())
        .trim_end_matches('/')
        .to_owned()
}

fn token_url(host: &Host<'_>) -> String {
    format!(
        "{}/login/oauth/access_token",
        base(host, "auth-base", DEFAULT_AUTH_BASE)
    )
}

/// `GET {api-base}{path}` with the token, as GitHub's REST API asks to be called.
fn api_get(
    host: &Host<'_>,
    path: &str,
    token: &str,
) -> Result<qhub_provider_sdk::Response, ProviderError> {
    host.send(Request {
        method: Method::Get,
        url: format!("{}{path}", base(host, "api-base", DEFAULT_API_BASE)),
        headers: vec![
            ("accept".into(), "application/vnd.github+json".into()),
            ("authorization".into(), format!("Bearer {token}")),
            ("x-github-api-version".into(), API_VERSION.into()),
        ],
        body: None,
    })
}

/// The fields of `GET /user` QHub reads.
#[derive(Debug, Deserialize)]
struct User {
    id: u64,
    login: String,
    name: Option<String>,
    /// The public profile email; neither always set nor known to be verified.
    email: Option<String>,
}

/// One entry of `GET /user/emails`.
#[derive(Debug, Deserialize)]
struct Email {
    email: String,
    primary: bool,
    verified: bool,
}

/// The identity from `/user` and, when the token may read them, `/user/emails`:
/// GitHub's numeric id is the subject (logins can be renamed and reused); the email
/// is the primary address, verified only when GitHub says so. Without an emails list
/// the public profile email is passed on as unverified.
fn identity(user: User, emails: Option<Vec<Email>>) -> Identity {
    let (email, email_verified) = match emails {
        Some(emails) => match emails.into_iter().find(|e| e.primary) {
            Some(primary) => (Some(primary.email), primary.verified),
            None => (None, false),
        },
        None => (user.email.filter(|e| !e.is_empty()), false),
    };
    Identity {
        subject: user.id.to_string(),
        email,
        email_verified,
        display_name: user.name.filter(|n| !n.is_empty()).or(Some(user.login)),
    }
}

impl Provider for GitHub {
    fn describe() -> Metadata {
        Metadata {
            id: "github".into(),
            display_name: "GitHub".into(),
            supports_device_flow: true,
            supports_web_flow: true,
        }
    }

    fn start_device_authorization(
        host: &Host<'_>,
        scopes: &[String],
    ) -> Result<DeviceAuthorization, ProviderError> {
        let url = format!(
            "{}/login/device/code",
            base(host, "auth-base", DEFAULT_AUTH_BASE)
        );
        // The device flow never sends the client secret: GitHub does not ask for it,
        // and a CLI cannot keep one.
        let auth = ClientAuth::Body {
            client_id: host.required("client-id")?,
            client_secret: None,
        };
        let form = Form::new().pair("scope", &scope_param(scopes, DEFAULT_SCOPES));
        device_authorization(&host.post_form(&url, form, &auth)?)
    }

    fn poll_device_token(host: &Host<'_>, device_code: &str) -> Result<PollOutcome, ProviderError> {
        let auth = ClientAuth::Body {
            client_id: host.required("client-id")?,
            client_secret: None,
        };
        let form = Form::new()
            .pair("device_code", device_code)
            .pair("grant_type", DEVICE_CODE_GRANT);
        // GitHub answers 200 with `{"error": "authorization_pending"}` and friends;
        // `poll_outcome` reads the error field whatever the status.
        poll_outcome(&host.post_form(&token_url(host), form, &auth)?)
    }

    fn authorization_url(
        host: &Host<'_>,
        redirect_uri: &str,
        state: &str,
        code_challenge: &str,
        scopes: &[String],
    ) -> Result<String, ProviderError> {
        let base = base(host, "auth-base", DEFAULT_AUTH_BASE);
        let query = Form::new()
            .pair("client_id", &host.required("client-id")?)
            .pair("redirect_uri", redirect_uri)
            .pair("scope", &scope_param(scopes, DEFAULT_SCOPES))
            .pair("state", state)
            .pair("code_challenge", code_challenge)
            .pair("code_challenge_method", "S256");
        Ok(with_query(&format!("{base}/login/oauth/authorize"), &query))
    }

    fn exchange_code(
        host: &Host<'_>,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
    ) -> Result<Tokens, ProviderError> {
        // GitHub documents the client credentials as body parameters.
        let (client_id, client_secret) = host.client_credentials()?;
        let auth = ClientAuth::Body {
            client_id,
            client_secret,
        };
        let form = Form::new()
            .pair("code", code)
            .pair("redirect_uri", redirect_uri)
            .pair("code_verifier", code_verifier);
        token_grant(&host.post_form(&token_url(host), form, &auth)?)
    }

    fn fetch_identity(host: &Host<'_>, tokens: &Tokens) -> Result<Identity, ProviderError> {
        let user: User = json_body(
            &api_get(host, "/user", &tokens.access_token)?,
            "github api /user",
        )?;
        let response = api_get(host, "/user/emails", &tokens.access_token)?;
        // 403/404: the token lacks `user:email` (or a GitHub App lacks the email
        // permission). The identity is still good, only without a verified email.
        let emails = match response.status {
            403 | 404 => None,
            _ => Some(json_body(&response, "github api /user/emails")?),
        };
        Ok(identity(user, emails))
    }
}

#[cfg(test)]
#[path = "github_tests.rs"]
mod tests;
