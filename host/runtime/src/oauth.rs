//! The account core's `oauth` import: each call goes to the named provider's
//! plugin ([`ProviderService`]), in a fresh instance with its configuration and
//! its allow-listed `http`, and its answer comes back in the core's records. The
//! sign-in sequence and what each outcome means for the API are the core's
//! (`plugins/auth/src/api_oauth.rs`); this only forwards, as `store` does.
//!
//! These calls run inside an admitted core call, which counted the provider's
//! instance and carries the provider's deadline (see
//! [`crate::AccountService::handle`]), so they are not admitted again.

use crate::bindings::core::qhub::plugin::oauth::{
    DeviceAuthorization, Failure, Host, Identity, PollOutcome, ProviderInfo, Tokens,
};
use crate::bindings::oauth_provider as provider;
use crate::capabilities::OAuth;
use crate::provider::{ProviderCallError, ProviderService};

impl OAuth {
    /// The provider named `name`, or the configured names to suggest.
    fn provider(&self, name: &str) -> Result<ProviderService, Failure> {
        let providers = self.providers.as_deref();
        providers.and_then(|p| p.get(name)).cloned().ok_or_else(|| {
            Failure::UnknownProvider(
                providers.map_or_else(Vec::new, |p| p.keys().cloned().collect()),
            )
        })
    }
}

/// A provider call's failure in the core's words: the plugin's own refusals with
/// their text (it names the plugin, never a secret), anything else as a fault.
fn failure(error: ProviderCallError) -> Failure {
    let text = error.to_string();
    match error {
        ProviderCallError::Provider { error, .. } => match error {
            provider::ProviderError::NotSupported => Failure::NotSupported(text),
            provider::ProviderError::Misconfigured(_) => Failure::Misconfigured(text),
            provider::ProviderError::Http(_) => Failure::Http(text),
            provider::ProviderError::Protocol(_) => Failure::Protocol(text),
        },
        ProviderCallError::Runtime(_) => Failure::Fault(text),
    }
}

/// Runs `call` on the provider looked up; every outcome is an answer to the core.
async fn on<T>(
    provider: Result<ProviderService, Failure>,
    call: impl AsyncFnOnce(ProviderService) -> Result<T, ProviderCallError>,
) -> wasmtime::Result<Result<T, Failure>> {
    let provider = match provider {
        Ok(provider) => provider,
        Err(unknown) => return Ok(Err(unknown)),
    };
    Ok(call(provider).await.map_err(failure))
}

fn tokens_to_provider(t: Tokens) -> provider::Tokens {
    provider::Tokens {
        access_token: t.access_token,
        token_type: t.token_type,
        refresh_token: t.refresh_token,
        id_token: t.id_token,
        expires_in: t.expires_in,
        scope: t.scope,
    }
}

fn tokens_from_provider(t: provider::Tokens) -> Tokens {
    Tokens {
        access_token: t.access_token,
        token_type: t.token_type,
        refresh_token: t.refresh_token,
        id_token: t.id_token,
        expires_in: t.expires_in,
        scope: t.scope,
    }
}

impl Host for OAuth {
    /// Natively, providers.toml was read (and refused when malformed) before
    /// serving began: this never fails.
    async fn providers(&mut self) -> wasmtime::Result<Result<Vec<String>, Failure>> {
        Ok(Ok(self
            .providers
            .as_deref()
            .map_or_else(Vec::new, |p| p.keys().cloned().collect())))
    }

    async fn describe(&mut self, name: String) -> wasmtime::Result<Result<ProviderInfo, Failure>> {
        on(self.provider(&name), async |p| {
            let m = p.describe().await?;
            Ok(ProviderInfo {
                display_name: m.display_name,
                supports_device_flow: m.supports_device_flow,
                supports_web_flow: m.supports_web_flow,
            })
        })
        .await
    }

    async fn start_device_authorization(
        &mut self,
        name: String,
        scopes: Vec<String>,
    ) -> wasmtime::Result<Result<DeviceAuthorization, Failure>> {
        on(self.provider(&name), async |p| {
            let d = p.start_device_authorization(&scopes).await?;
            Ok(DeviceAuthorization {
                device_code: d.device_code,
                user_code: d.user_code,
                verification_uri: d.verification_uri,
                verification_uri_complete: d.verification_uri_complete,
                expires_in: d.expires_in,
                interval: d.interval,
            })
        })
        .await
    }

    async fn poll_device_token(
        &mut self,
        name: String,
        device_code: String,
    ) -> wasmtime::Result<Result<PollOutcome, Failure>> {
        on(self.provider(&name), async |p| {
            Ok(match p.poll_device_token(&device_code).await? {
                provider::PollOutcome::Pending => PollOutcome::Pending,
                provider::PollOutcome::SlowDown(interval) => PollOutcome::SlowDown(interval),
                provider::PollOutcome::Granted(tokens) => {
                    PollOutcome::Granted(tokens_from_provider(tokens))
                }
                provider::PollOutcome::Denied => PollOutcome::Denied,
                provider::PollOutcome::Expired => PollOutcome::Expired,
            })
        })
        .await
    }

    async fn authorization_url(
        &mut self,
        name: String,
        redirect_uri: String,
        state: String,
        code_challenge: String,
        scopes: Vec<String>,
    ) -> wasmtime::Result<Result<String, Failure>> {
        on(self.provider(&name), async |p| {
            p.authorization_url(&redirect_uri, &state, &code_challenge, &scopes)
                .await
        })
        .await
    }

    async fn exchange_code(
        &mut self,
        name: String,
        code: String,
        redirect_uri: String,
        code_verifier: String,
    ) -> wasmtime::Result<Result<Tokens, Failure>> {
        on(self.provider(&name), async |p| {
            let tokens = p
                .exchange_code(&code, &redirect_uri, &code_verifier)
                .await?;
            Ok(tokens_from_provider(tokens))
        })
        .await
    }

    async fn fetch_identity(
        &mut self,
        name: String,
        tokens: Tokens,
    ) -> wasmtime::Result<Result<Identity, Failure>> {
        on(self.provider(&name), async |p| {
            let i = p.fetch_identity(&tokens_to_provider(tokens)).await?;
            Ok(Identity {
                subject: i.subject,
                email: i.email,
                email_verified: i.email_verified,
                display_name: i.display_name,
            })
        })
        .await
    }
}
