//! QHub OAuth provider for GitHub (world `oauth-provider-plugin`): the device flow
//! and the web flow of GitHub's OAuth apps, and the user's id and verified email.
//!
//! Configuration: `client-id`, `client-secret` (the web flow's code exchange needs it;
//! the device flow does not), and `auth-base` / `api-base` to point the plugin at a
//! GitHub Enterprise server or a loopback stand-in. The protocol lives in
//! [`github`]; this file only wires it to the WIT bindings.

mod github;

// The workspace denies unsafe code, but the ABI glue wit-bindgen generates (and the
// `export!` macro it defines) is necessarily unsafe. The allowance stays inside this
// module, so none of the hand-written code may use `unsafe`.
#[expect(unsafe_code, reason = "wit-bindgen's generated canonical ABI glue")]
mod bindings {
    wit_bindgen::generate!({
        world: "oauth-provider-plugin",
        path: "../../wit",
    });

    use super::github::GitHub;
    export!(GitHub);
}

qhub_oauth_common::export_provider!(
    bindings,
    github::GitHub,
    concat!("qhub-oauth-github/", env!("CARGO_PKG_VERSION"))
);
