//! The SDK for QHub OAuth provider plugins: everything a provider needs to become
//! a component that every QHub host loads.
//!
//! - The contract: the frozen WIT package `qhub:provider@0.1.0` (in `wit/`: world
//!   `oauth-provider-plugin`, which imports `http` and `config` and exports
//!   `oauth-provider`), with its bindings generated here, in [`bindings`].
//! - The [`Provider`] trait a plugin implements, in plain Rust types, and
//!   [`export_provider!`], one line that makes it the component's export.
//! - The protocol pieces every provider repeats: form encoding, token-endpoint
//!   responses (RFC 6749 section 5, RFC 8628 section 3.5), JSON over the host's
//!   `http` import; and test doubles in [`testing`].
//!
//! A plugin is a `cdylib` crate built for `wasm32-wasip2` that depends on this
//! crate and writes no WIT and no bindings of its own:
//!
//! ```text
//! struct Example;
//! impl qhub_provider_sdk::Provider for Example { /* ... */ }
//! qhub_provider_sdk::export_provider!(Example, "qhub-oauth-example/0.1.0");
//! ```
//!
//! Compatibility: this crate's 0.1 line targets `qhub:provider@0.1.0`, which QHub
//! keeps loading in every later release (see `docs/plugins.md` in QHub's
//! repository). Everything but the generated [`bindings`] compiles and runs
//! natively, so a provider's protocol code is unit-tested with `cargo test`.

mod form;
#[doc(hidden)]
pub mod glue;
mod host;
mod model;
pub mod testing;
mod token;

/// The bindings of the world `qhub:provider/oauth-provider-plugin@0.1.0`, generated
/// by wit-bindgen from `wit/`. Plugins need not touch them: [`export_provider!`]
/// connects them to a [`Provider`].
// The workspace denies unsafe code, but the canonical ABI glue wit-bindgen writes
// for wasm32 is necessarily unsafe; the allowance stays inside this module. (An
// `expect` would go unfulfilled on native builds, where there is no such glue.)
#[allow(unsafe_code, reason = "wit-bindgen's generated canonical ABI glue")]
#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "qhub:provider/oauth-provider-plugin@0.1.0",
        path: "wit",
        pub_export_macro: true,
        export_macro_name: "export_bindings",
        default_bindings_module: "qhub_provider_sdk::bindings",
    });
}

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
