//! OAuth sign-in flows, written once for every host: a provider plugin speaks the
//! provider's protocol (RFC 8628 device flow, authorization code with PKCE), then
//! the account core decides what the identity it vouched for means for QHub
//! accounts. The CLI in embedded mode and `qhub serve` both call [`OAuthFlows`].
//!
//! Nothing here keeps state between calls: a device code or an authorization code
//! is held by the client, so any server process (or a restarted one) can finish a
//! flow another one started.

use std::collections::BTreeMap;

use crate::accounts::{AccountService, ServiceError};
use crate::bindings::accounts::{ClientInfo, SignedIn};
use crate::bindings::oauth_provider::{DeviceAuthorization, Metadata, PollOutcome};
use crate::provider::{ProviderCallError, ProviderService};

/// Why a flow did not end in a session.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// No provider of that name is configured.
    #[error("unknown provider {name:?}")]
    UnknownProvider {
        name: String,
        /// The configured names, to suggest one.
        known: Vec<String>,
    },
    /// The provider plugin failed or refused (misconfigured, denied host, protocol
    /// violation, trap).
    #[error(transparent)]
    Provider(#[from] ProviderCallError),
    /// The account core refused the identity, or failed.
    #[error(transparent)]
    Account(#[from] ServiceError),
    /// The user refused the authorization at the provider.
    #[error("the authorization was denied at the provider")]
    Denied,
    /// The device code expired before the user approved it.
    #[error("the device code expired before it was approved")]
    Expired,
}

/// One poll of a device flow.
#[derive(Debug)]
pub enum DevicePoll {
    /// Not approved yet. `slow_down` carries the provider's `slow_down` answer (its
    /// new interval in seconds, 0 when it named none): the client must then wait at
    /// least its current interval plus 5 s (RFC 8628 section 3.5).
    Pending { slow_down: Option<u32> },
    /// Approved: the account core signed the identity in.
    SignedIn(SignedIn),
}

/// The configured providers, by the operator's names, over one account service.
#[derive(Clone)]
pub struct OAuthFlows {
    accounts: AccountService,
    providers: BTreeMap<String, ProviderService>,
    /// The provider plugins the host can run, for `GET /v1/plugins`.
    provider_plugins: Vec<crate::Manifest>,
}

impl std::fmt::Debug for OAuthFlows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthFlows")
            .field("providers", &self.providers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl OAuthFlows {
    pub fn new(accounts: AccountService, providers: BTreeMap<String, ProviderService>) -> Self {
        OAuthFlows {
            accounts,
            providers,
            provider_plugins: Vec::new(),
        }
    }

    /// Declares the OAuth provider plugins the host carries (whether or not a
    /// provider uses them yet), so `GET /v1/plugins` lists them after the core and
    /// its backend, as the Worker lists the ones it bundles.
    pub fn with_provider_plugins(mut self, manifests: Vec<crate::Manifest>) -> Self {
        self.provider_plugins = manifests;
        self
    }

    /// What `GET /v1/plugins` lists: the core, its backend, then the provider
    /// plugins given to [`Self::with_provider_plugins`].
    pub fn plugins(&self) -> Vec<&crate::Manifest> {
        let mut plugins = self.accounts.plugins().to_vec();
        plugins.extend(self.provider_plugins.iter());
        plugins
    }

    /// The account service the flows sign in to.
    pub fn accounts(&self) -> &AccountService {
        &self.accounts
    }

    /// The configured provider names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.providers.keys().map(String::as_str)
    }

    fn provider(&self, name: &str) -> Result<&ProviderService, OAuthError> {
        self.providers
            .get(name)
            .ok_or_else(|| OAuthError::UnknownProvider {
                name: name.to_owned(),
                known: self.providers.keys().cloned().collect(),
            })
    }

    /// Who the provider is and which flows it offers.
    pub async fn describe(&self, name: &str) -> Result<Metadata, OAuthError> {
        Ok(self.provider(name)?.describe().await?)
    }

    /// Starts a device authorization (RFC 8628 section 3.1); empty `scopes` asks
    /// for the provider's defaults.
    pub async fn start_device(
        &self,
        name: &str,
        scopes: &[String],
    ) -> Result<DeviceAuthorization, OAuthError> {
        Ok(self
            .provider(name)?
            .start_device_authorization(scopes)
            .await?)
    }

    /// Polls once; when the user has approved, fetches the identity and signs it in.
    pub async fn poll_device(
        &self,
        name: &str,
        device_code: &str,
        client: ClientInfo,
    ) -> Result<DevicePoll, OAuthError> {
        let provider = self.provider(name)?;
        match provider.poll_device_token(device_code).await? {
            PollOutcome::Pending => Ok(DevicePoll::Pending { slow_down: None }),
            PollOutcome::SlowDown(interval) => Ok(DevicePoll::Pending {
                slow_down: Some(interval),
            }),
            PollOutcome::Denied => Err(OAuthError::Denied),
            PollOutcome::Expired => Err(OAuthError::Expired),
            PollOutcome::Granted(tokens) => {
                let identity = provider.fetch_identity(&tokens).await?;
                Ok(DevicePoll::SignedIn(
                    self.sign_in(name, identity, client).await?,
                ))
            }
        }
    }

    /// The URL to send a browser to, for the authorization code flow with PKCE S256.
    pub async fn authorization_url(
        &self,
        name: &str,
        redirect_uri: &str,
        state: &str,
        code_challenge: &str,
        scopes: &[String],
    ) -> Result<String, OAuthError> {
        Ok(self
            .provider(name)?
            .authorization_url(redirect_uri, state, code_challenge, scopes)
            .await?)
    }

    /// Exchanges the authorization code, fetches the identity and signs it in.
    pub async fn exchange_code(
        &self,
        name: &str,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
        client: ClientInfo,
    ) -> Result<SignedIn, OAuthError> {
        let provider = self.provider(name)?;
        let tokens = provider
            .exchange_code(code, redirect_uri, code_verifier)
            .await?;
        let identity = provider.fetch_identity(&tokens).await?;
        self.sign_in(name, identity, client).await
    }

    async fn sign_in(
        &self,
        name: &str,
        identity: crate::bindings::oauth_provider::Identity,
        client: ClientInfo,
    ) -> Result<SignedIn, OAuthError> {
        Ok(self
            .accounts
            .sign_in_with_identity(name, identity.into(), client)
            .await?)
    }
}
