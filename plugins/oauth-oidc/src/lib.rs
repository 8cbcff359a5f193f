//! QHub OAuth provider for any OpenID Connect issuer (world `qhub:provider/oauth-provider-plugin@0.1.0`).
//!
//! Configuration: `issuer` (discovery at `{issuer}/.well-known/openid-configuration`),
//! `client-id`, and `client-secret` for confidential clients (sent with
//! `client_secret_basic`; without one the plugin is a public client using PKCE).
//! The protocol lives in [`oidc`]; this file only exports it, through the SDK.

mod oidc;

qhub_provider_sdk::export_provider!(
    oidc::Oidc,
    concat!("qhub-oauth-oidc/", env!("CARGO_PKG_VERSION"))
);
