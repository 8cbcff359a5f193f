//! The released versions of the public provider contract, `qhub:provider`, that
//! this host loads: one `bindgen!` per version, and the adapters from each to the
//! host's own types, which are those of [`latest`].
//!
//! A plugin built against any version listed in [`SUPPORTED`] keeps loading (the
//! promise of `docs/plugins.md`). Releasing `0.2.0` means: freezing
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

/// The newest released version; the host's provider types are its types.
pub use v0_1 as latest;

use latest::exports::qhub::provider::oauth_provider::{
    DeviceAuthorization, Identity, Metadata, PollOutcome, ProviderError, Tokens,
};

/// The worlds a provider plugin's manifest may name, oldest first.
pub const SUPPORTED: &[&str] = &["qhub:provider/oauth-provider-plugin@0.1.0"];

/// A provider plugin linked into the world of the version it was built against.
#[derive(Clone)]
pub enum Pre {
    V0_1(v0_1::OauthProviderPluginPre<State>),
}

/// An instance of a provider plugin, of whichever version.
pub enum Instance {
    V0_1(v0_1::OauthProviderPlugin),
}

/// Links `plugin` into the provider world its manifest names: `http`, `config`
/// and WASI without ambient capabilities. Fails when the manifest names a version
/// this host does not load, or when the component does not fit its world.
pub(crate) fn link(runtime: &Runtime, plugin: &LoadedPlugin) -> Result<Pre> {
    match plugin.manifest.world.as_str() {
        "qhub:provider/oauth-provider-plugin@0.1.0" => {
            let linker = store::linker(runtime, crate::capabilities::link_provider_v0_1)?;
            store::link(plugin, &linker, v0_1::OauthProviderPluginPre::new).map(Pre::V0_1)
        }
        other => Err(Error::Load {
            plugin: plugin.label(),
            message: format!(
                "was built against {other}, which this qhub does not load (it loads {}); \
                 hint: rebuild the plugin against a supported version of qhub:provider, \
                 or upgrade qhub",
                SUPPORTED.join(", ")
            ),
        }),
    }
}

impl Pre {
    pub async fn instantiate(&self, store: &mut Store<State>) -> wasmtime::Result<Instance> {
        Ok(match self {
            Pre::V0_1(pre) => Instance::V0_1(pre.instantiate_async(store).await?),
        })
    }
}

/// The `oauth-provider` export of every version, in the latest version's types.
impl Instance {
    pub async fn describe(&self, store: &mut Store<State>) -> wasmtime::Result<Metadata> {
        match self {
            Instance::V0_1(i) => i.qhub_provider_oauth_provider().call_describe(store).await,
        }
    }

    pub async fn start_device_authorization(
        &self,
        store: &mut Store<State>,
        scopes: &[String],
    ) -> wasmtime::Result<Result<DeviceAuthorization, ProviderError>> {
        match self {
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
            Instance::V0_1(i) => {
                i.qhub_provider_oauth_provider()
                    .call_fetch_identity(store, tokens)
                    .await
            }
        }
    }
}
