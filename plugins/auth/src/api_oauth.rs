//! The OAuth routes of the HTTP API: sign-in at a provider the operator
//! configured, ending in a QHub session exactly like a password login. The
//! sequence lives here once, for every host: the provider's plugin speaks the
//! provider's protocol (RFC 8628 device flow, authorization code with PKCE,
//! RFC 7636), reached through the host's `oauth` import, then the core decides
//! what the identity it vouched for means for QHub accounts
//! (`identities.sign-in-with-identity`).
//!
//! Nothing is kept between calls: the device code and the authorization code are
//! held by the client, so any server process can finish a flow another started.

use crate::Component;
use crate::api::{Refusal, Reply, ok, signed_in};
use crate::bindings::exports::qhub::plugin::accounts as wit;
use crate::bindings::exports::qhub::plugin::identities::{Guest as _, ProviderIdentity};
use crate::bindings::qhub::plugin::oauth::{self, Failure, PollOutcome};

/// A provider call's failure as the API answers it. An unreachable or refused
/// destination (`http`: the host's own words, naming the plugin and the origin),
/// a flow the provider does not offer and a misconfiguration (what the operator
/// must fix, never a secret) are shown, and logged; what the provider answered
/// that its plugin could not use (`protocol`: it may echo the provider's own
/// text) and a fault go to the operator's log only, the client learning that the
/// provider failed.
impl From<Failure> for Refusal {
    fn from(failure: Failure) -> Refusal {
        let logged = |mut refusal: Refusal, text: &str| {
            refusal.log = Some(text.to_owned());
            refusal
        };
        match failure {
            Failure::UnknownProvider(_) => {
                Refusal::internal("unknown-provider without a name".into())
            }
            Failure::NotSupported(text) => Refusal::new("invalid-input", text),
            Failure::Http(text) => {
                let mut refusal = Refusal::new("unavailable", text.clone());
                refusal.headers.push(("retry-after".into(), "1".into()));
                logged(refusal, &text)
            }
            Failure::Misconfigured(text) => logged(Refusal::new("internal", text.clone()), &text),
            Failure::Protocol(text) => logged(
                Refusal::new(
                    "internal",
                    "the OAuth provider's plugin failed; the server's log says why",
                ),
                &text,
            ),
            Failure::Fault(text) => Refusal::internal(text),
        }
    }
}

/// Runs a provider call for `provider`, naming the configured providers when
/// there is no such one.
fn at<T>(provider: &str, outcome: Result<T, Failure>) -> Result<T, Refusal> {
    outcome.map_err(|failure| match failure {
        Failure::UnknownProvider(known) if known.is_empty() => Refusal::new(
            "not-found",
            format!("unknown provider {provider:?}: this server has no OAuth provider configured"),
        ),
        Failure::UnknownProvider(known) => Refusal::new(
            "not-found",
            format!(
                "unknown provider {provider:?}: use one of {}",
                known.join(", ")
            ),
        ),
        other => other.into(),
    })
}

/// `GET /v1/oauth/providers`: each configured provider and its flows, by name.
pub(crate) fn providers() -> Result<Reply, Refusal> {
    let mut listed = Vec::new();
    for name in oauth::providers()? {
        let about = at(&name, oauth::describe(&name))?;
        listed.push(qhub_api::OAuthProvider {
            name,
            display_name: about.display_name,
            device_flow: about.supports_device_flow,
            web_flow: about.supports_web_flow,
        });
    }
    ok(200, &listed)
}

/// `POST /v1/oauth/{provider}/device`: a device authorization (RFC 8628 section 3.1).
pub(crate) fn start_device(provider: &str, scopes: &[String]) -> Result<Reply, Refusal> {
    let d = at(
        provider,
        oauth::start_device_authorization(provider, scopes),
    )?;
    ok(
        200,
        &qhub_api::DeviceCode {
            device_code: d.device_code,
            user_code: d.user_code,
            verification_uri: d.verification_uri,
            verification_uri_complete: d.verification_uri_complete,
            expires_in: d.expires_in,
            interval: d.interval,
        },
    )
}

/// `POST /v1/oauth/{provider}/device/token`: one poll. 202 with `pending` or
/// `slow_down` (RFC 8628 section 3.5) before the user approves; then the identity,
/// signed in: 200 with a session. A refusal at the provider is 403, an expired
/// code 400.
pub(crate) fn poll_device(
    provider: &str,
    device_code: &str,
    client: wit::ClientInfo,
) -> Result<Reply, Refusal> {
    match at(provider, oauth::poll_device_token(provider, device_code))? {
        PollOutcome::Pending => ok(202, &qhub_api::DevicePending::new(None)),
        PollOutcome::SlowDown(interval) => ok(202, &qhub_api::DevicePending::new(Some(interval))),
        PollOutcome::Denied => Err(Refusal::new(
            "forbidden",
            "the authorization was denied at the provider",
        )),
        PollOutcome::Expired => Err(Refusal::new(
            "invalid-input",
            "the device code expired before it was approved",
        )),
        PollOutcome::Granted(tokens) => sign_in(provider, &tokens, client),
    }
}

/// `POST /v1/oauth/{provider}/authorize`: where to send the browser.
pub(crate) fn authorization_url(
    provider: &str,
    body: &qhub_api::AuthorizeRequest,
) -> Result<Reply, Refusal> {
    let url = at(
        provider,
        oauth::authorization_url(
            provider,
            &body.redirect_uri,
            &body.state,
            &body.code_challenge,
            &body.scopes,
        ),
    )?;
    ok(200, &qhub_api::AuthorizeUrl { url })
}

/// `POST /v1/oauth/{provider}/token`: the code the browser brought back,
/// exchanged, and its identity signed in.
pub(crate) fn exchange_code(
    provider: &str,
    body: &qhub_api::CodeExchange,
    client: wit::ClientInfo,
) -> Result<Reply, Refusal> {
    let tokens = at(
        provider,
        oauth::exchange_code(
            provider,
            &body.code,
            &body.redirect_uri,
            &body.code_verifier,
        ),
    )?;
    sign_in(provider, &tokens, client)
}

/// Who the tokens belong to, signed in by the core's identity rules.
fn sign_in(
    provider: &str,
    tokens: &oauth::Tokens,
    client: wit::ClientInfo,
) -> Result<Reply, Refusal> {
    let identity = at(provider, oauth::fetch_identity(provider, tokens))?;
    let identity = ProviderIdentity {
        subject: identity.subject,
        email: identity.email,
        email_verified: identity.email_verified,
        display_name: identity.display_name,
    };
    let session = Component::sign_in_with_identity(provider.to_owned(), identity, client)?;
    ok(200, &signed_in(session))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_failures_map_to_the_documented_answers() {
        let unknown = at::<()>(
            "nope",
            Err(Failure::UnknownProvider(vec!["a".into(), "b".into()])),
        )
        .unwrap_err();
        assert_eq!((unknown.status, unknown.code), (404, "not-found"));
        assert_eq!(
            unknown.message,
            "unknown provider \"nope\": use one of a, b"
        );
        let none = at::<()>("nope", Err(Failure::UnknownProvider(Vec::new()))).unwrap_err();
        assert!(none.message.contains("no OAuth provider configured"));
        let http = Refusal::from(Failure::Http("plugin x: http: refused".into()));
        assert_eq!(
            (http.status, http.message.as_str()),
            (503, "plugin x: http: refused")
        );
        assert_eq!(http.headers, [("retry-after".to_owned(), "1".to_owned())]);
        let protocol = Refusal::from(Failure::Protocol("plugin x: secret=hunter2".into()));
        assert_eq!(protocol.status, 500);
        assert!(
            !protocol.message.contains("hunter2"),
            "{}",
            protocol.message
        );
        assert_eq!(protocol.log.as_deref(), Some("plugin x: secret=hunter2"));
        let fault = Refusal::from(Failure::Fault("plugin x: trapped".into()));
        assert_eq!(
            (fault.status, fault.message.as_str()),
            (500, "internal error")
        );
        assert_eq!(fault.log.as_deref(), Some("plugin x: trapped"));
        let unsupported = Refusal::from(Failure::NotSupported("plugin x: no device flow".into()));
        assert_eq!(unsupported.status, 400);
    }
}
