//! QHub OAuth provider for GitHub (world `qhub:provider/oauth-provider-plugin@0.1.0`): the device flow
//! and the web flow of GitHub's OAuth apps, and the user's id and verified email.
//!
//! Configuration: `client-id`, `client-secret` (the web flow's code exchange needs it;
//! the device flow does not), and `auth-base` / `api-base` to point the plugin at a
//! GitHub Enterprise server or a loopback stand-in. The protocol lives in
//! [`github`]; this file only exports it, through the SDK.

mod github;

qhub_provider_sdk::export_provider!(
    github::GitHub,
    concat!("qhub-oauth-github/", env!("CARGO_PKG_VERSION"))
);
