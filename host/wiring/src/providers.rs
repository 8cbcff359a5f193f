//! The OAuth providers of `providers.toml`, each a [`ProviderService`] ready to
//! call: its plugin from the catalogue, its config and its grant.

use std::collections::BTreeMap;
use std::sync::Arc;

use qhub_runtime::providers::{ProviderConfig, ProvidersConfig};
use qhub_runtime::{ProviderService, Runtime};

use crate::error::{Error, Kind, Result};
use crate::host::Host;

impl Host {
    /// Reads the provider configuration, `QHUB_PROVIDER_<NAME>_<KEY>` overrides
    /// applied, and logs its warnings (a variable no provider claims). Plugin
    /// names are not checked here (see [`Host::providers`]).
    pub fn load_providers(&self) -> Result<ProvidersConfig> {
        let places = &self.places;
        let config = ProvidersConfig::load(
            &places.providers_file,
            places.providers_required,
            std::env::vars(),
        )?;
        for warning in &config.warnings {
            tracing::warn!("{warning}");
        }
        Ok(config)
    }

    /// The provider configuration, every provider's plugin checked to exist.
    pub fn providers(&self) -> Result<ProvidersConfig> {
        let config = self.load_providers()?;
        let entries = self.catalog()?;
        let known: Vec<&str> = entries.iter().map(|e| e.manifest.name.as_str()).collect();
        config.check_plugins(&known)?;
        Ok(config)
    }

    /// The provider `name` of providers.toml, ready to call: its plugin loaded
    /// (through the cache), its config (environment overrides applied) and its
    /// grant. An unknown name is a [`Kind::Usage`] error.
    pub fn provider_service(&self, runtime: Arc<Runtime>, name: &str) -> Result<ProviderService> {
        let config = self.providers()?;
        let provider = config
            .get(name)
            .map_err(|e| Error::providers(Kind::Usage, e))?;
        self.build_service(runtime, provider)
    }

    /// Every provider of providers.toml, ready to call (a server offers them all).
    pub fn provider_services(
        &self,
        runtime: Arc<Runtime>,
    ) -> Result<BTreeMap<String, ProviderService>> {
        let config = self.providers()?;
        config
            .providers
            .values()
            .map(|provider| {
                let service = self.build_service(runtime.clone(), provider)?;
                Ok((provider.name.clone(), service))
            })
            .collect()
    }

    /// `provider` ready to call, built as a host builds it: so building one also
    /// proves that its component still matches its manifest and that it can be
    /// wired with its grant.
    pub fn build_service(
        &self,
        runtime: Arc<Runtime>,
        provider: &ProviderConfig,
    ) -> Result<ProviderService> {
        let plugin = self.find(&provider.plugin)?.load(&runtime)?;
        ProviderService::new(runtime, plugin, provider.config.clone(), &provider.grant).map_err(
            |e| {
                Error::internal(format!("provider {:?}: {e}", provider.name))
                    .with_hint("check its plugin and grant in providers.toml")
            },
        )
    }
}
