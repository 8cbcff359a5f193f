//! [`ProviderService`]: an OAuth/OIDC provider plugin (the public world
//! `qhub:provider/oauth-provider-plugin`, of any version in
//! [`versions::SUPPORTED`]) with its configuration and its allow-listed `http`
//! import, called the same way by every host.
//!
//! Like [`AccountService`](crate::AccountService), each call runs in a fresh instance
//! from one `InstancePre`, under memory limits and a deadline, so a provider that
//! traps or loops is stopped, named, and cannot poison the next call.

use std::collections::BTreeMap;
use std::sync::Arc;

pub(crate) mod versions;

use wasmtime::{Store, Trap};

use crate::bindings::oauth_provider::{
    DeviceAuthorization, Identity, Metadata, PollOutcome, ProviderError, Tokens,
};
use crate::engine;
use crate::error::{Error, PluginFault, Result};
use crate::http::HttpAccess;
use crate::runtime::{LoadedPlugin, Runtime, State};
use qhub_provider_policy::{AllowList, AllowListError, Destination, ProviderFailure};

pub use versions::SUPPORTED as PROVIDER_WORLDS;

/// Runs one export of the provider in a fresh instance, under the provider budget.
macro_rules! call {
    ($self:ident, |$guest:ident, $store:ident| $call:expr) => {{
        // Inside a core call, which was admitted with this instance counted.
        let _admitted = if $self.nested {
            None
        } else {
            $self
                .runtime
                .admit(
                    crate::load::PROVIDER_CALL_INSTANCES,
                    crate::load::Cost::Cheap,
                )
                .await?
        };
        let (mut store, instance) = $self.instantiate().await?;
        let outcome = {
            let $guest = &instance;
            let $store = &mut store;
            tokio::time::timeout($self.runtime.limits().provider_call_timeout, $call).await
        };
        $self.settle(&store, outcome)
    }};
}

/// Why a provider call did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum ProviderCallError {
    /// The plugin answered with a `provider-error`: misconfigured, not supported, an
    /// HTTP failure (a denial included) or a protocol violation by the provider.
    #[error("plugin {plugin}: {}", describe(.error))]
    Provider {
        /// `"name" version`.
        plugin: String,
        error: ProviderError,
    },
    /// The plugin trapped, ran out of time, or could not be instantiated.
    #[error(transparent)]
    Runtime(#[from] Error),
}

impl From<PluginFault> for ProviderCallError {
    fn from(fault: PluginFault) -> Self {
        ProviderCallError::Runtime(Error::Plugin(fault))
    }
}

/// A `provider-error` as a lowercase fragment, worded by qhub-provider-policy as
/// in every host.
fn describe(error: &ProviderError) -> String {
    match error {
        ProviderError::NotSupported => ProviderFailure::NotSupported,
        ProviderError::Misconfigured(what) => ProviderFailure::Misconfigured(what),
        ProviderError::Http(what) => ProviderFailure::Http(what),
        ProviderError::Protocol(what) => ProviderFailure::Protocol(what),
    }
    .describe()
}

/// A provider plugin, its configuration and its network access.
#[derive(Clone)]
pub struct ProviderService {
    runtime: Arc<Runtime>,
    plugin: Arc<LoadedPlugin>,
    pre: versions::Pre,
    config: Arc<BTreeMap<String, String>>,
    http: Arc<HttpAccess>,
    allow: Arc<AllowList>,
    /// Called from inside an admitted account-core call (its `oauth` import):
    /// not admitted again.
    nested: bool,
}

impl std::fmt::Debug for ProviderService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The config holds client secrets: never print it.
        f.debug_struct("ProviderService")
            .field("plugin", &self.plugin.label())
            .field("allowed", &self.allow.allowed().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl ProviderService {
    /// Wires `plugin` (a provider world of a supported version) to its `config` keys and to the
    /// origins the operator `grant`ed. Only grant entries that the manifest requests
    /// take effect; an empty grant denies every request.
    pub fn new(
        runtime: Arc<Runtime>,
        plugin: LoadedPlugin,
        config: BTreeMap<String, String>,
        grant: &[String],
    ) -> Result<ProviderService> {
        let load_err = |message: String| Error::Load {
            plugin: plugin.label(),
            message,
        };
        if !plugin.manifest.is_provider() {
            return Err(load_err(format!(
                "is a {} plugin, not an OAuth provider (oauth-provider-plugin)",
                plugin.manifest.world_name()
            )));
        }
        let allow =
            AllowList::for_plugin(&plugin.label(), &plugin.manifest.hosts, grant).map_err(|e| {
                match e {
                    AllowListError::Manifest(message) => load_err(message),
                    AllowListError::Grant(message) => Error::Grant(message),
                }
            })?;
        for warning in allow.warnings() {
            tracing::warn!(plugin = %plugin.manifest.name, "{warning}");
        }
        let http = HttpAccess::new(plugin.label(), allow.clone(), runtime.limits())
            .map_err(|e| Error::Engine(format!("cannot create the HTTP client: {e}")))?;
        let pre = versions::link(&runtime, &plugin)?;
        Ok(ProviderService {
            runtime,
            plugin: Arc::new(plugin),
            pre,
            config: Arc::new(config),
            http: Arc::new(http),
            allow: Arc::new(allow),
            nested: false,
        })
    }

    /// This provider as the account core's `oauth` import calls it: inside a core
    /// call that was admitted with the provider's instance counted.
    pub(crate) fn nested(mut self) -> ProviderService {
        self.nested = true;
        self
    }

    pub fn plugin(&self) -> &LoadedPlugin {
        &self.plugin
    }

    /// The origins this provider may reach (manifest ∩ grant), sorted.
    pub fn allowed(&self) -> impl Iterator<Item = &Destination> {
        self.allow.allowed()
    }

    /// Who the provider is and which flows it offers.
    pub async fn describe(&self) -> Result<Metadata, ProviderCallError> {
        Ok(call!(self, |guest, store| guest.describe(store))?)
    }

    /// RFC 8628 section 3.1: starts a device authorization. An empty `scopes` asks
    /// for the provider's defaults.
    pub async fn start_device_authorization(
        &self,
        scopes: &[String],
    ) -> Result<DeviceAuthorization, ProviderCallError> {
        let answer = call!(self, |guest, store| guest
            .start_device_authorization(store, scopes))?;
        self.answer(answer)
    }

    /// RFC 8628 section 3.4: one poll for the device's token.
    pub async fn poll_device_token(
        &self,
        device_code: &str,
    ) -> Result<PollOutcome, ProviderCallError> {
        let answer = call!(self, |guest, store| guest
            .poll_device_token(store, device_code))?;
        self.answer(answer)
    }

    /// The URL to send a browser to (authorization code flow with PKCE S256).
    pub async fn authorization_url(
        &self,
        redirect_uri: &str,
        state: &str,
        code_challenge: &str,
        scopes: &[String],
    ) -> Result<String, ProviderCallError> {
        let answer = call!(self, |guest, store| guest.authorization_url(
            store,
            redirect_uri,
            state,
            code_challenge,
            scopes
        ))?;
        self.answer(answer)
    }

    /// Exchanges an authorization code (and its PKCE verifier) for tokens.
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
    ) -> Result<Tokens, ProviderCallError> {
        let answer = call!(self, |guest, store| guest.exchange_code(
            store,
            code,
            redirect_uri,
            code_verifier
        ))?;
        self.answer(answer)
    }

    /// Who the tokens belong to.
    pub async fn fetch_identity(&self, tokens: &Tokens) -> Result<Identity, ProviderCallError> {
        let answer = call!(self, |guest, store| guest.fetch_identity(store, tokens))?;
        self.answer(answer)
    }

    /// A fresh instance with the config, the network access and the provider budget.
    async fn instantiate(&self) -> Result<(Store<State>, versions::Instance)> {
        let mut store = self.runtime.new_store(&self.plugin);
        let state = store.data_mut();
        state.config.keys = self.config.clone();
        state.http.access = Some(self.http.clone());
        store.set_epoch_deadline(engine::deadline_ticks(
            self.runtime.limits().provider_call_timeout,
        ));
        let instance = self
            .pre
            .instantiate(&mut store)
            .await
            .map_err(|e| self.runtime.instantiation_error(store.data(), e))?;
        Ok((store, instance))
    }

    /// A finished call: its value, or a fault naming the plugin.
    fn settle<T>(
        &self,
        store: &Store<State>,
        outcome: Result<wasmtime::Result<T>, tokio::time::error::Elapsed>,
    ) -> Result<T, PluginFault> {
        let budget = self.runtime.limits().provider_call_timeout.as_millis();
        match outcome {
            Ok(Ok(value)) => Ok(value),
            // The runtime's own wording names the account budget; a provider has its own.
            Ok(Err(err)) if err.downcast_ref::<Trap>() == Some(&Trap::Interrupt) => {
                Err(PluginFault {
                    plugin: self.plugin.label(),
                    message: format!("stopped: ran longer than its limit of {budget} ms"),
                })
            }
            Ok(Err(err)) => Err(self.runtime.fault(store.data(), err)),
            Err(_elapsed) => Err(PluginFault {
                plugin: self.plugin.label(),
                message: format!("did not finish within {budget} ms (waiting on the network?)"),
            }),
        }
    }

    fn answer<T>(&self, answer: Result<T, ProviderError>) -> Result<T, ProviderCallError> {
        answer.map_err(|error| ProviderCallError::Provider {
            plugin: self.plugin.label(),
            error,
        })
    }
}
