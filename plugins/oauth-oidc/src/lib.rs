//! QHub OAuth provider for any OpenID Connect issuer (world `oauth-provider-plugin`).
//!
//! Configuration: `issuer` (discovery at `{issuer}/.well-known/openid-configuration`),
//! `client-id`, and `client-secret` for confidential clients (sent with
//! `client_secret_basic`; without one the plugin is a public client using PKCE).
//! The protocol lives in [`oidc`]; this file only wires it to the WIT bindings.

mod oidc;

// The workspace denies unsafe code, but the ABI glue wit-bindgen generates (and the
// `export!` macro it defines) is necessarily unsafe. The allowance stays inside this
// module, so none of the hand-written code may use `unsafe`.
#[expect(unsafe_code, reason = "wit-bindgen's generated canonical ABI glue")]
mod bindings {
    wit_bindgen::generate!({
        world: "oauth-provider-plugin",
        path: "../../wit",
    });

    use super::oidc::Oidc;
    export!(Oidc);
}

qhub_oauth_common::export_provider!(
    bindings,
    oidc::Oidc,
    concat!("qhub-oauth-oidc/", env!("CARGO_PKG_VERSION"))
);
