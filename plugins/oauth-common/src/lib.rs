//! Shared code of QHub's OAuth provider plugins: the [`Provider`] trait a plugin
//! implements, the types it speaks, and the protocol pieces every provider repeats
//! (form encoding, token-endpoint responses, JSON over the host's `http` import).
//!
//! Nothing here depends on WIT bindings, so all of it compiles and runs natively in
//! unit tests. A plugin crate generates its bindings for the `oauth-provider-plugin`
//! world and calls [`export_provider!`] once to connect them to its [`Provider`].

mod form;
mod glue;
mod host;
mod model;
pub mod testing;
mod token;

pub use form::{Form, percent_encode, scope_param, with_query};
pub use host::{ClientAuth, Config, Host, Http};
pub use model::{
    DeviceAuthorization, HttpError, Identity, Metadata, Method, PollOutcome, ProviderError,
    Request, Response, Tokens,
};
pub use token::{device_authorization, json_body, poll_outcome, token_grant};

/// What a provider plugin implements. Every function gets the host's capabilities in
/// [`Host`] and keeps no state between calls (the host may use a fresh instance per
/// call). The flows a provider does not offer keep their default: `not-supported`.
pub trait Provider {
    /// Who this provider is; no network, no configuration.
    fn describe() -> Metadata;

    /// RFC 8628 section 3.1.
    fn start_device_authorization(
        host: &Host<'_>,
        scopes: &[String],
    ) -> Result<DeviceAuthorization, ProviderError> {
        let _ = (host, scopes);
        Err(ProviderError::NotSupported)
    }

    /// RFC 8628 section 3.4: one poll; see [`poll_outcome`] for the mapping.
    fn poll_device_token(host: &Host<'_>, device_code: &str) -> Result<PollOutcome, ProviderError> {
        let _ = (host, device_code);
        Err(ProviderError::NotSupported)
    }

    /// The authorization endpoint URL with PKCE S256; `code_challenge` comes from the host.
    fn authorization_url(
        host: &Host<'_>,
        redirect_uri: &str,
        state: &str,
        code_challenge: &str,
        scopes: &[String],
    ) -> Result<String, ProviderError> {
        let _ = (host, redirect_uri, state, code_challenge, scopes);
        Err(ProviderError::NotSupported)
    }

    /// RFC 6749 section 4.1.3, with the PKCE `code_verifier`.
    fn exchange_code(
        host: &Host<'_>,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
    ) -> Result<Tokens, ProviderError> {
        let _ = (host, code, redirect_uri, code_verifier);
        Err(ProviderError::NotSupported)
    }

    /// Who the tokens belong to.
    fn fetch_identity(host: &Host<'_>, tokens: &Tokens) -> Result<Identity, ProviderError>;
}

/// The RFC 8628 grant type, sent when polling the token endpoint.
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
