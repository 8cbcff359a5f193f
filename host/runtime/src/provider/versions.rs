//! The released versions of the public provider contract, `qhub:provider`, that
//! this host loads: one `bindgen!` per version, and the adapters from each to the
//! host's own types, which are those of [`latest`].
//!
//! A plugin built against any version listed in [`SUPPORTED`] keeps loading (the
//! promise of `docs/plugins.md`). Two are supported: `qhub:provider@0.1.0`, and
//! the same contract as QHub 0.1.0 first published it inside the package
//! `qhub:plugin@0.1.0` ([`legacy`], `wit/legacy/`), whose records the adapters
//! below convert field by field. Releasing `0.2.0` means: freezing
//! `wit/deps/qhub-provider@0.2.0/`, adding a module `v0_2` here with its
//! bindgen, pointing [`latest`] at it, adding a [`Pre`] and an [`Instance`]
//! variant, and converting the older versions' records in their match arms (as
//! Zed's `since_v0_*` adapters do). Until then the only version is the latest one
//! and its arms need no conversion.

use wasmtime::Store;

use super::super::runtime::{LoadedPlugin, Runtime, State};
use crate::error::{Error, Result};
use crate::store;

/// `qhub:provider@0.1.0`, released with QHub 0.1.0 and frozen.
pub mod v0_1 {
    wasmtime::component::bindgen!({
        world: "qhub:provider/oauth-provider-plugin@0.1.0",
        path: "../../wit",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            // The account core imports the same interface: one host implementation.
            "qhub:provider/config@0.1.0": crate::bindings::core::qhub::provider::config,
        },
    });
}

/// The provider contract as QHub 0.1.0 first published it, in the package
/// `qhub:plugin@0.1.0` (since then QHub's internal package): the same shapes as
/// `qhub:provider@0.1.0` under other names.
pub mod legacy {
    wasmtime::component::bindgen!({
        world: "oauth-provider-plugin",
        path: "../../wit/legacy/qhub-plugin@0.1.0",
        imports: { default: async | trappable },
        exports: { default: async },
    });
}

/// The newest released version; the host's provider types are its types.
pub use v0_1 as latest;

use latest::exports::qhub::provider::oauth_provider::{
    DeviceAuthorization, Identity, Metadata, PollOutcome, ProviderError, Tokens,
};

/// The world of [`legacy`] plugins, as their manifests name it.
pub const LEGACY_WORLD: &str = "qhub:plugin/oauth-provider-plugin@0.1.0";

/// The worlds a provider plugin's manifest may name, oldest first.
pub const SUPPORTED: &[&str] = &[LEGACY_WORLD, "qhub:provider/oauth-provider-plugin@0.1.0"];

/// A provider plugin linked into the world of the version it was built against.
#[derive(Clone)]
pub enum Pre {
    Legacy(legacy::OauthProviderPluginPre<State>),
    V0_1(v0_1::OauthProviderPluginPre<State>),
}

/// An instance of a provider plugin, of whichever version.
pub enum Instance {
    Legacy(legacy::OauthProviderPlugin),
    V0_1(v0_1::OauthProviderPlugin),
}

/// Links `plugin` into the provider world its manifest names: `http`, `config`
/// and WASI without ambient capabilities. Fails when the manifest names a version
/// this host does not load, or when the component does not fit its world.
pub(crate) fn link(runtime: &Runtime, plugin: &LoadedPlugin) -> Result<Pre> {
    match plugin.manifest.world.as_str() {
        LEGACY_WORLD => {
            let linker = store::linker(runtime, crate::capabilities::link_provider_legacy)?;
            store::link(plugin, &linker, legacy::OauthProviderPluginPre::new).map(Pre::Legacy)
        }
        "qhub:provider/oauth-provider-plugin@0.1.0" => {
            let linker = store::linker(runtime, crate::capabilities::link_provider_v0_1)?;
            store::link(plugin, &linker, v0_1::OauthProviderPluginPre::new).map(Pre::V0_1)
        }
        other => Err(Error::Load {
            plugin: plugin.label(),
            message: format!(
                "was built against {other}, which this qhub does not load (it loads {}): \
                 rebuild the plugin with a qhub-provider-sdk for one of those",
                SUPPORTED.join(", ")
            ),
        }),
    }
}

impl Pre {
    pub async fn instantiate(&self, store: &mut Store<State>) -> wasmtime::Result<Instance> {
        Ok(match self {
            Pre::Legacy(pre) => Instance::Legacy(pre.instantiate_async(store).await?),
            Pre::V0_1(pre) => Instance::V0_1(pre.instantiate_async(store).await?),
        })
    }
}

/// The `oauth-provider` export of every version, in the latest version's types.
impl Instance {
    pub async fn describe(&self, store: &mut Store<State>) -> wasmtime::Result<Metadata> {
        match self {
            Instance::Legacy(i) => {
                let m = i.qhub_plugin_oauth_provider().call_describe(store).await?;
                Ok(Metadata {
                    id: m.id,
                    display_name: m.display_name,
                    supports_device_flow: m.supports_device_flow,
                    supports_web_flow: m.supports_web_flow,
                })
            }
            Instance::V0_1(i) => i.qhub_provider_oauth_provider().call_describe(store).await,
        }
    }

    pub async fn start_device_authorization(
        &self,
        store: &mut Store<State>,
        scopes: &[String],
    ) -> wasmtime::Result<Result<DeviceAuthorization, ProviderError>> {
        match self {
            Instance::Legacy(i) => Ok(i
                .qhub_plugin_oauth_provider()
                .call_start_device_authorization(store, scopes)
                .await?
                .map(|d| DeviceAuthorization {
                    device_code: d.device_code,
                    user_code: d.user_code,
                    verification_uri: d.verification_uri,
                    verification_uri_complete: d.verification_uri_complete,
                    expires_in: d.expires_in,
                    interval: d.interval,
                })
                .map_err(from_legacy::error)),
            Instance::V0_1(i) => {
                i.qhub_provider_oauth_provider()
                    .call_start_device_authorization(store, scopes)
                    .await
            }
        }
    }

    pub async fn poll_device_token(
        &self,
        store: &mut Store<State>,
        device_code: &str,
    ) -> wasmtime::Result<Result<PollOutcome, ProviderError>> {
        match self {
            Instance::Legacy(i) => {
                use legacy::exports::qhub::plugin::oauth_provider::PollOutcome as Old;
                Ok(i.qhub_plugin_oauth_provider()
                    .call_poll_device_token(store, device_code)
                    .await?
                    .map(|outcome| match outcome {
                        Old::Pending => PollOutcome::Pending,
                        Old::SlowDown(interval) => PollOutcome::SlowDown(interval),
                        Old::Granted(tokens) => PollOutcome::Granted(from_legacy::tokens(tokens)),
                        Old::Denied => PollOutcome::Denied,
                        Old::Expired => PollOutcome::Expired,
                    })
                    .map_err(from_legacy::error))
            }
            Instance::V0_1(i) => {
                i.qhub_provider_oauth_provider()
                    .call_poll_device_token(store, device_code)
                    .await
            }
        }
    }

    pub async fn authorization_url(
        &self,
        store: &mut Store<State>,
        redirect_uri: &str,
        state: &str,
        code_challenge: &str,
        scopes: &[String],
    ) -> wasmtime::Result<Result<String, ProviderError>> {
        match self {
            Instance::Legacy(i) => Ok(i
                .qhub_plugin_oauth_provider()
                .call_authorization_url(store, redirect_uri, state, code_challenge, scopes)
                .await?
                .map_err(from_legacy::error)),
            Instance::V0_1(i) => {
                i.qhub_provider_oauth_provider()
                    .call_authorization_url(store, redirect_uri, state, code_challenge, scopes)
                    .await
            }
        }
    }

    pub async fn exchange_code(
        &self,
        store: &mut Store<State>,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
    ) -> wasmtime::Result<Result<Tokens, ProviderError>> {
        match self {
            Instance::Legacy(i) => Ok(i
                .qhub_plugin_oauth_provider()
                .call_exchange_code(store, code, redirect_uri, code_verifier)
                .await?
                .map(from_legacy::tokens)
                .map_err(from_legacy::error)),
            Instance::V0_1(i) => {
                i.qhub_provider_oauth_provider()
                    .call_exchange_code(store, code, redirect_uri, code_verifier)
                    .await
            }
        }
    }

    pub async fn fetch_identity(
        &self,
        store: &mut Store<State>,
        tokens: &Tokens,
    ) -> wasmtime::Result<Result<Identity, ProviderError>> {
        match self {
            Instance::Legacy(i) => Ok(i
                .qhub_plugin_oauth_provider()
                .call_fetch_identity(store, &to_legacy::tokens(tokens))
                .await?
                .map(|identity| Identity {
                    subject: identity.subject,
                    email: identity.email,
                    email_verified: identity.email_verified,
                    display_name: identity.display_name,
                })
                .map_err(from_legacy::error)),
            Instance::V0_1(i) => {
                i.qhub_provider_oauth_provider()
                    .call_fetch_identity(store, tokens)
                    .await
            }
        }
    }
}

/// [`legacy`] records in the latest version's types (the same fields).
mod from_legacy {
    use super::legacy::exports::qhub::plugin::oauth_provider as old;
    use super::{ProviderError, Tokens};

    pub(super) fn tokens(t: old::Tokens) -> Tokens {
        Tokens {
            access_token: t.access_token,
            token_type: t.token_type,
            refresh_token: t.refresh_token,
            id_token: t.id_token,
            expires_in: t.expires_in,
            scope: t.scope,
        }
    }

    pub(super) fn error(e: old::ProviderError) -> ProviderError {
        match e {
            old::ProviderError::NotSupported => ProviderError::NotSupported,
            old::ProviderError::Misconfigured(m) => ProviderError::Misconfigured(m),
            old::ProviderError::Http(m) => ProviderError::Http(m),
            old::ProviderError::Protocol(m) => ProviderError::Protocol(m),
        }
    }
}

/// The latest version's records as a [`legacy`] plugin takes them.
mod to_legacy {
    use super::Tokens;
    use super::legacy::exports::qhub::plugin::oauth_provider as old;

    pub(super) fn tokens(t: &Tokens) -> old::Tokens {
        old::Tokens {
            access_token: t.access_token.clone(),
            token_type: t.token_type.clone(),
            refresh_token: t.refresh_token.clone(),
            id_token: t.id_token.clone(),
            expires_in: t.expires_in,
            scope: t.scope.clone(),
        }
    }
}
