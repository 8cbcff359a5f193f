//! OpenID Connect over the host's `http` import: discovery, the device flow
//! (RFC 8628), the authorization-code flow with PKCE S256, and the userinfo endpoint.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use qhub_provider_sdk::{
    ClientAuth, DEVICE_CODE_GRANT, DeviceAuthorization, Form, Host, Identity, Metadata,
    PollOutcome, Provider, ProviderError, Tokens, device_authorization, json_body, poll_outcome,
    scope_param, token_grant, with_query,
};
use serde::Deserialize;

/// Scopes asked for when the host passes none.
const DEFAULT_SCOPES: &str = "openid email profile";

/// The provider; stateless, every call starts from configuration.
#[derive(Debug)]
pub struct Oidc;

/// The fields of the discovery document (OpenID Connect Discovery 1.0 section 3)
/// this plugin uses.
#[derive(Debug, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: Option<String>,
    /// RFC 8628 section 4: present only when the issuer offers the device flow.
    device_authorization_endpoint: Option<String>,
    code_challenge_methods_supported: Option<Vec<String>>,
}

/// The userinfo claims QHub reads (OpenID Connect Core section 5.1).
#[derive(Debug, Deserialize)]
struct UserInfo {
    sub: String,
    email: Option<String>,
    email_verified: Option<Verified>,
    name: Option<String>,
    preferred_username: Option<String>,
}

/// `email_verified` is a boolean, but some providers send "true"/"false" strings.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Verified {
    Bool(bool),
    Text(String),
}

impl Verified {
    fn is_true(&self) -> bool {
        match self {
            Verified::Bool(b) => *b,
            Verified::Text(t) => t.eq_ignore_ascii_case("true"),
        }
    }
}

/// Reads the configured issuer and fetches its discovery document, checking that
/// the document speaks for that very issuer (Discovery section 4.3), so a document
/// served elsewhere cannot redirect the flows.
fn discover(host: &Host<'_>) -> Result<Discovery, ProviderError> {
    let issuer = host.required("issuer")?;
    let url = discovery_url(&issuer);
    let response = host.get(&url, None, "application/json")?;
    let discovery: Discovery = json_body(&response, "discovery endpoint")?;
    check_issuer(&issuer, &discovery.issuer)?;
    Ok(discovery)
}

/// `{issuer}/.well-known/openid-configuration`, without doubling a trailing slash.
fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

fn check_issuer(configured: &str, announced: &str) -> Result<(), ProviderError> {
    if configured == announced {
        return Ok(());
    }
    Err(ProviderError::Misconfigured(format!(
        "issuer is {configured:?} but its discovery document names {announced:?} (hint: set issuer to exactly {announced:?})"
    )))
}

fn client_auth(host: &Host<'_>) -> Result<ClientAuth, ProviderError> {
    let (id, secret) = host.client_credentials()?;
    Ok(ClientAuth::basic_or_public(id, secret))
}

/// The `sub` claim of an ID token's payload, read without verifying the signature.
/// Only used to check that userinfo describes the same subject (Core section
/// 5.3.2); never as an identity on its own. `None` when the token is not a plain
/// three-part JWS (an encrypted token, say).
fn unverified_sub(id_token: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Claims {
        sub: Option<String>,
    }
    let mut parts = id_token.split('.');
    let (_, payload, _, None) = (parts.next()?, parts.next()?, parts.next()?, parts.next()) else {
        return None;
    };
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice::<Claims>(&bytes).ok()?.sub
}

fn identity(info: UserInfo, id_token: Option<&str>) -> Result<Identity, ProviderError> {
    if let Some(id_sub) = id_token.and_then(unverified_sub)
        && id_sub != info.sub
    {
        return Err(ProviderError::Protocol(format!(
            "userinfo subject {:?} differs from the id token's {id_sub:?}",
            info.sub
        )));
    }
    if info.sub.is_empty() {
        return Err(ProviderError::Protocol(
            "userinfo endpoint sent an empty sub".into(),
        ));
    }
    let email = info.email.filter(|e| !e.is_empty());
    Ok(Identity {
        subject: info.sub,
        email_verified: email.is_some() && info.email_verified.is_some_and(|v| v.is_true()),
        email,
        display_name: info
            .name
            .or(info.preferred_username)
            .filter(|n| !n.is_empty()),
    })
}

impl Provider for Oidc {
    fn describe() -> Metadata {
        Metadata {
            id: "oidc".into(),
            display_name: "OpenID Connect".into(),
            supports_device_flow: true,
            supports_web_flow: true,
        }
    }

    fn start_device_authorization(
        host: &Host<'_>,
        scopes: &[String],
    ) -> Result<DeviceAuthorization, ProviderError> {
        let discovery = discover(host)?;
        let Some(endpoint) = discovery.device_authorization_endpoint else {
            return Err(ProviderError::NotSupported);
        };
        let form = Form::new().pair("scope", &scope_param(scopes, DEFAULT_SCOPES));
        let response = host.post_form(&endpoint, form, &client_auth(host)?)?;
        device_authorization(&response)
    }

    fn poll_device_token(host: &Host<'_>, device_code: &str) -> Result<PollOutcome, ProviderError> {
        let discovery = discover(host)?;
        let form = Form::new()
            .pair("grant_type", DEVICE_CODE_GRANT)
            .pair("device_code", device_code);
        let response = host.post_form(&discovery.token_endpoint, form, &client_auth(host)?)?;
        poll_outcome(&response)
    }

    fn authorization_url(
        host: &Host<'_>,
        redirect_uri: &str,
        state: &str,
        code_challenge: &str,
        scopes: &[String],
    ) -> Result<String, ProviderError> {
        let discovery = discover(host)?;
        // Servers that list their PKCE methods must list S256; one that does not
        // would ignore the challenge, and the flow would lose its protection.
        if let Some(methods) = &discovery.code_challenge_methods_supported
            && !methods.iter().any(|m| m == "S256")
        {
            return Err(ProviderError::Protocol(format!(
                "issuer does not support PKCE S256 (code_challenge_methods_supported: {methods:?})"
            )));
        }
        let client_id = host.required("client-id")?;
        let query = Form::new()
            .pair("response_type", "code")
            .pair("client_id", &client_id)
            .pair("redirect_uri", redirect_uri)
            .pair("scope", &scope_param(scopes, DEFAULT_SCOPES))
            .pair("state", state)
            .pair("code_challenge", code_challenge)
            .pair("code_challenge_method", "S256");
        Ok(with_query(&discovery.authorization_endpoint, &query))
    }

    fn exchange_code(
        host: &Host<'_>,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
    ) -> Result<Tokens, ProviderError> {
        let discovery = discover(host)?;
        let form = Form::new()
            .pair("grant_type", "authorization_code")
            .pair("code", code)
            .pair("redirect_uri", redirect_uri)
            .pair("code_verifier", code_verifier);
        let response = host.post_form(&discovery.token_endpoint, form, &client_auth(host)?)?;
        token_grant(&response)
    }

    fn fetch_identity(host: &Host<'_>, tokens: &Tokens) -> Result<Identity, ProviderError> {
        let discovery = discover(host)?;
        let Some(endpoint) = discovery.userinfo_endpoint else {
            return Err(ProviderError::Protocol(
                "issuer's discovery document has no userinfo_endpoint".into(),
            ));
        };
        let response = host.get(&endpoint, Some(&tokens.access_token), "application/json")?;
        identity(
            json_body(&response, "userinfo endpoint")?,
            tokens.id_token.as_deref(),
        )
    }
}

#[cfg(test)]
#[path = "oidc_tests.rs"]
mod tests;
