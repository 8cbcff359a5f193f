//! [`AccountService`]: the account core wired to a store backend and a database,
//! called the same way by every host (CLI today, the HTTP server next).
//!
//! Each call gets fresh instances of both plugins (about 0.1 ms each from their
//! `InstancePre`), so no state leaks between requests and a trap in one call
//! cannot poison the next.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::bindings::accounts::{
    ApiKeyInfo, ClientInfo, Error as AccountError, JobRequest, NewApiKey, Profile, RegisterRequest,
    SessionInfo, SignedIn, UsageReport,
};
use crate::bindings::api::{Guest as ApiGuest, Request as ApiRequest, Response as ApiResponse};
use crate::bindings::core::exports::qhub::plugin::identities::{ConnectionInfo, ProviderIdentity};
use crate::bindings::core::{AccountCore, AccountCorePre};
use crate::bindings::oauth_provider::Identity;
use crate::bindings::types::{JobStatus, Preference, QuantumJob};
use crate::error::{Error, PluginFault, Result};
use crate::forward::BackendInstance;
use crate::load::{ACCOUNT_CALL_INSTANCES, Cost, PROVIDER_CALL_INSTANCES};
use crate::provider::ProviderService;
use crate::runtime::{LoadedPlugin, Runtime, State};
use crate::sql::Database;
use crate::store::{self, StoreService};

/// Runs one export of the account core in fresh instances, under the call timeout:
/// a function of `accounts`, or of the interface `$interface` names (the accessor
/// of the generated bindings, `qhub_plugin_identities`). The call first waits for
/// its turn when the runtime sheds load (a cheap one; password-hashing calls go
/// through [`AccountService::hashing`] and use the `@admitted` form).
macro_rules! call {
    (@admitted $self:ident, $interface:ident, |$core:ident, $store:ident| $call:expr) => {{
        let (mut store, instance) = $self.instantiate().await?;
        let outcome = {
            let $core = instance.$interface();
            let $store = &mut store;
            tokio::time::timeout($self.runtime.limits().call_timeout, $call).await
        };
        $self.settle(&store, outcome)
    }};
    ($self:ident, |$core:ident, $store:ident| $call:expr) => {
        call!($self, qhub_plugin_accounts, |$core, $store| $call)
    };
    ($self:ident, $interface:ident, |$core:ident, $store:ident| $call:expr) => {{
        let _admitted = $self
            .runtime
            .admit(ACCOUNT_CALL_INSTANCES, Cost::Cheap)
            .await?;
        call!(@admitted $self, $interface, |$core, $store| $call)
    }};
}

/// Why an account operation did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The core refused: wrong password, weak password, revoked session, ...
    #[error("{}", .0.message)]
    Account(AccountError),
    /// A plugin trapped, timed out or could not be instantiated.
    #[error(transparent)]
    Runtime(#[from] Error),
}

impl From<PluginFault> for ServiceError {
    fn from(fault: PluginFault) -> Self {
        ServiceError::Runtime(Error::Plugin(fault))
    }
}

/// What a provider plugin's `fetch-identity` returned, as the core's
/// `sign-in-with-identity` takes it: the same fields, in a record of the core's own
/// (see `wit/identities.wit`).
impl From<Identity> for ProviderIdentity {
    fn from(identity: Identity) -> Self {
        ProviderIdentity {
            subject: identity.subject,
            email: identity.email,
            email_verified: identity.email_verified,
            display_name: identity.display_name,
        }
    }
}

/// `api.handle`, in the shape [`call!`] settles (it never refuses: a refusal is a
/// response).
async fn handle(
    core: &ApiGuest,
    store: &mut wasmtime::Store<State>,
    request: &ApiRequest,
) -> wasmtime::Result<Result<ApiResponse, AccountError>> {
    core.call_handle(store, request).await.map(Ok)
}

/// The account core over one backend and database.
#[derive(Clone)]
pub struct AccountService {
    runtime: Arc<Runtime>,
    core: Arc<LoadedPlugin>,
    core_pre: AccountCorePre<State>,
    backend: StoreService,
    config: Arc<BTreeMap<String, String>>,
    /// The OAuth providers the core's `oauth` import reaches, by the operator's names.
    providers: Arc<BTreeMap<String, ProviderService>>,
    /// The provider plugins the host carries, for `GET /v1/plugins`.
    provider_plugins: Arc<Vec<crate::Manifest>>,
}

impl std::fmt::Debug for AccountService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountService")
            .field("core", &self.core.label())
            .field("backend", &self.backend.plugin().label())
            .finish_non_exhaustive()
    }
}

impl AccountService {
    /// Wires `core` (world account-core) to `backend` (world store-backend) over `db`.
    /// `config` holds the core's configuration keys (`jwt-secret`, `issuer`).
    pub fn new(
        runtime: Arc<Runtime>,
        core: LoadedPlugin,
        backend: LoadedPlugin,
        db: Database,
        config: BTreeMap<String, String>,
    ) -> Result<AccountService> {
        let backend = StoreService::new(runtime.clone(), backend, db)?;
        let linker = store::linker(&runtime, crate::capabilities::link_account_core)?;
        let core_pre = store::link(&core, &linker, AccountCorePre::new)?;

        Ok(AccountService {
            runtime,
            core: Arc::new(core),
            core_pre,
            backend,
            config: Arc::new(config),
            providers: Arc::default(),
            provider_plugins: Arc::default(),
        })
    }

    /// The OAuth providers the operator configured, by name, for the core's
    /// `oauth` import (the sign-in routes under `/v1/oauth/`). None by default.
    pub fn with_providers(mut self, providers: BTreeMap<String, ProviderService>) -> Self {
        let nested = providers
            .into_iter()
            .map(|(name, provider)| (name, provider.nested()))
            .collect();
        self.providers = Arc::new(nested);
        self
    }

    /// Declares the OAuth provider plugins the host carries (whether or not a
    /// provider uses them yet), so [`Self::plugins`] lists them after the core and
    /// its backend, as the Worker lists the ones it bundles.
    pub fn with_provider_plugins(mut self, manifests: Vec<crate::Manifest>) -> Self {
        self.provider_plugins = Arc::new(manifests);
        self
    }

    pub fn database(&self) -> &Database {
        self.backend.database()
    }

    /// The runtime the plugins run in, for loading more plugins (OAuth providers)
    /// into the same engine.
    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    /// What `GET /v1/plugins` lists: the core, its backend, then the provider
    /// plugins given to [`Self::with_provider_plugins`].
    pub fn plugins(&self) -> Vec<&crate::Manifest> {
        let mut plugins = vec![&self.core.manifest, &self.backend.plugin().manifest];
        plugins.extend(self.provider_plugins.iter());
        plugins
    }

    /// Answers one HTTP request inside the core (its `api` export: routes,
    /// validation, JSON bodies and error bodies; see `wit/api.wit`). The only
    /// thing read here is the route's [`qhub_api::Cost`]: a route that hashes a
    /// password is admitted as such (see [`Self::hashing`]); every other request
    /// as a cheap call.
    ///
    /// # Errors
    /// Only what the core cannot answer itself: shedding
    /// ([`Error::Overloaded`]), a trap or a timeout ([`Error::Plugin`]).
    pub async fn handle(&self, request: ApiRequest) -> Result<ApiResponse, ServiceError> {
        let path = request.target.split('?').next().unwrap_or_default();
        let cost = match qhub_api::resolve(&request.method, path) {
            qhub_api::Resolved::Route(route, _) => route.cost,
            _ => qhub_api::Cost::Cheap,
        };
        match cost {
            qhub_api::Cost::Hashing => {
                self.hashing(move |this| async move {
                    call!(@admitted this, qhub_plugin_api, |core, store| handle(core, store, &request))
                })
                .await
            }
            // On a task of its own, so it runs to its end when the client leaves:
            // the provider may already have used up the code it exchanged.
            qhub_api::Cost::Outbound => {
                let this = self.clone();
                match tokio::spawn(async move { this.outbound(&request).await }).await {
                    Ok(answer) => answer,
                    Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
                    Err(_) => Err(ServiceError::Runtime(Error::Engine(
                        "the server stopped during an OAuth call".into(),
                    ))),
                }
            }
            qhub_api::Cost::Cheap => {
                call!(self, qhub_plugin_api, |core, store| handle(
                    core, store, &request
                ))
            }
        }
    }

    /// A request whose route calls a provider plugin (`Cost::Outbound`): admitted
    /// with the provider's instance counted (its calls are not admitted again:
    /// waiting for a turn while holding one could starve), under a deadline that
    /// covers the core's own budget and two provider calls (the code or device
    /// token, then the identity), each under the provider deadline.
    async fn outbound(&self, request: &ApiRequest) -> Result<ApiResponse, ServiceError> {
        let _admitted = self
            .runtime
            .admit(
                ACCOUNT_CALL_INSTANCES + PROVIDER_CALL_INSTANCES,
                Cost::Outbound,
            )
            .await?;
        let limits = self.runtime.limits();
        let deadline = limits.call_timeout + 2 * limits.provider_call_timeout;
        let (mut store, instance) = self.instantiate().await?;
        store.set_epoch_deadline(crate::engine::deadline_ticks(deadline));
        let outcome = {
            let core = instance.qhub_plugin_api();
            tokio::time::timeout(deadline, handle(core, &mut store, request)).await
        };
        if outcome.is_err() {
            return Err(PluginFault {
                plugin: store.data().label.clone(),
                message: format!(
                    "did not finish within {} ms (waiting on an OAuth provider?)",
                    deadline.as_millis()
                ),
            }
            .into());
        }
        self.settle(&store, outcome)
    }

    /// Creates an account and its first session. Hashes the password.
    pub async fn register(
        &self,
        request: RegisterRequest,
        client: ClientInfo,
    ) -> Result<SignedIn, ServiceError> {
        self.hashing(move |this| async move {
            call!(@admitted this, qhub_plugin_accounts, |core, store| core
                .call_register(store, &request, &client))
        })
        .await
    }

    /// Signs in with email and password. Verifies the password.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        client: ClientInfo,
    ) -> Result<SignedIn, ServiceError> {
        let (email, password) = (email.to_owned(), password.to_owned());
        self.hashing(move |this| async move {
            call!(@admitted this, qhub_plugin_accounts, |core, store| core
                .call_login(store, &email, &password, &client))
        })
        .await
    }

    pub async fn whoami(&self, token: &str) -> Result<Profile, ServiceError> {
        call!(self, |core, store| core.call_whoami(store, token))
    }

    pub async fn logout(&self, token: &str) -> Result<(), ServiceError> {
        call!(self, |core, store| core.call_logout(store, token))
    }

    pub async fn list_sessions(&self, token: &str) -> Result<Vec<SessionInfo>, ServiceError> {
        call!(self, |core, store| core.call_list_sessions(store, token))
    }

    pub async fn revoke_session(&self, token: &str, session_id: &str) -> Result<(), ServiceError> {
        call!(self, |core, store| core
            .call_revoke_session(store, token, session_id))
    }

    pub async fn revoke_other_sessions(&self, token: &str) -> Result<u32, ServiceError> {
        call!(self, |core, store| core
            .call_revoke_other_sessions(store, token))
    }

    pub async fn logout_all(&self, token: &str) -> Result<u32, ServiceError> {
        call!(self, |core, store| core.call_logout_all(store, token))
    }

    pub async fn list_preferences(&self, token: &str) -> Result<Vec<Preference>, ServiceError> {
        call!(self, |core, store| core.call_list_preferences(store, token))
    }

    pub async fn set_preference(
        &self,
        token: &str,
        key: &str,
        value: &str,
    ) -> Result<(), ServiceError> {
        call!(self, |core, store| core
            .call_set_preference(store, token, key, value))
    }

    pub async fn unset_preference(&self, token: &str, key: &str) -> Result<(), ServiceError> {
        call!(self, |core, store| core
            .call_unset_preference(store, token, key))
    }

    pub async fn get_usage(&self, token: &str) -> Result<UsageReport, ServiceError> {
        call!(self, |core, store| core.call_get_usage(store, token))
    }

    pub async fn submit_job(
        &self,
        token: &str,
        request: JobRequest,
    ) -> Result<QuantumJob, ServiceError> {
        call!(self, |core, store| core
            .call_submit_job(store, token, &request))
    }

    pub async fn list_jobs(
        &self,
        token: &str,
        status: Option<JobStatus>,
    ) -> Result<Vec<QuantumJob>, ServiceError> {
        call!(self, |core, store| core
            .call_list_jobs(store, token, status))
    }

    pub async fn get_job(&self, token: &str, job_id: &str) -> Result<QuantumJob, ServiceError> {
        call!(self, |core, store| core.call_get_job(store, token, job_id))
    }

    pub async fn cancel_job(&self, token: &str, job_id: &str) -> Result<QuantumJob, ServiceError> {
        call!(self, |core, store| core
            .call_cancel_job(store, token, job_id))
    }

    pub async fn create_api_key(
        &self,
        token: &str,
        name: &str,
        scopes: Option<&[String]>,
        expires_in: Option<u64>,
    ) -> Result<NewApiKey, ServiceError> {
        call!(self, |core, store| core
            .call_create_api_key(store, token, name, scopes, expires_in))
    }

    pub async fn list_api_keys(&self, token: &str) -> Result<Vec<ApiKeyInfo>, ServiceError> {
        call!(self, |core, store| core.call_list_api_keys(store, token))
    }

    pub async fn revoke_api_key(&self, token: &str, key_id: &str) -> Result<(), ServiceError> {
        call!(self, |core, store| core
            .call_revoke_api_key(store, token, key_id))
    }

    /// Everything stored about the user, as the core's JSON document.
    pub async fn export_account(&self, token: &str) -> Result<String, ServiceError> {
        call!(self, |core, store| core.call_export_account(store, token))
    }

    pub async fn delete_account(&self, token: &str) -> Result<(), ServiceError> {
        call!(self, |core, store| core.call_delete_account(store, token))
    }

    /// Changes the password (verifies the current one, hashes the new one).
    pub async fn change_password(
        &self,
        token: &str,
        current: &str,
        new: &str,
    ) -> Result<(), ServiceError> {
        let (token, current, new) = (token.to_owned(), current.to_owned(), new.to_owned());
        self.hashing(move |this| async move {
            call!(@admitted this, qhub_plugin_accounts, |core, store| core
                .call_change_password(store, &token, &current, &new))
        })
        .await
    }

    /// Signs in with an identity a provider plugin returned, for the provider the
    /// operator configured as `provider`: the core links it to an account (or
    /// creates one) or refuses it. See `wit/identities.wit`.
    pub async fn sign_in_with_identity(
        &self,
        provider: &str,
        identity: ProviderIdentity,
        client: ClientInfo,
    ) -> Result<SignedIn, ServiceError> {
        call!(self, qhub_plugin_identities, |core, store| core
            .call_sign_in_with_identity(
                store, provider, &identity, &client
            ))
    }

    /// The identities linked to the token's account, oldest first.
    pub async fn list_connections(&self, token: &str) -> Result<Vec<ConnectionInfo>, ServiceError> {
        call!(self, qhub_plugin_identities, |core, store| core
            .call_list_connections(store, token))
    }

    /// Unlinks one identity from the token's account.
    pub async fn unlink_connection(
        &self,
        token: &str,
        connection_id: &str,
    ) -> Result<(), ServiceError> {
        call!(self, qhub_plugin_identities, |core, store| core
            .call_unlink_connection(store, token, connection_id))
    }

    /// Runs `call`, one that hashes or verifies a password (Argon2id, tens of
    /// milliseconds of one core inside the plugin), once the runtime admits it as
    /// such ([`Cost::Hashing`]).
    ///
    /// When the runtime sheds load (a server), the call runs on one of the
    /// runtime's hashing threads (at most `max-hashing` at once, at a lower CPU
    /// priority: see [`crate::load`]), which drives it with
    /// [`Handle::block_on`](tokio::runtime::Handle::block_on), so the runtime's
    /// worker threads, which answer every other request, never run a hash, and
    /// give way to no hash when they want a core. Why this rather than the
    /// alternatives:
    /// - wasmtime's epoch yielding (`epoch_deadline_async_yield_and_update`) would
    ///   cut a hash into slices but still run them on the worker threads, so token
    ///   checks would queue behind slices of hashing;
    /// - a second Tokio runtime for hashing would register database connections
    ///   that it opens with its own I/O driver, which nobody polls while all of its
    ///   threads hash, so cheap calls on those connections would stall behind hashes.
    ///
    /// With `Handle::block_on` the future's I/O and timers stay with the server's
    /// multi-thread runtime, whose workers are free; only the CPU work moves. The
    /// call's deadline (epoch interruption and the call timeout) still applies.
    /// Once admitted the call runs to its end even if the client goes away, so an
    /// attempt the core counted is never cut in half. Without load limits (the
    /// CLI) the call runs here.
    async fn hashing<T, F, Fut>(&self, call: F) -> Result<T, ServiceError>
    where
        F: FnOnce(AccountService) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, ServiceError>>,
        T: Send + 'static,
    {
        let this = self.clone();
        let Some(admitted) = self
            .runtime
            .admit(ACCOUNT_CALL_INSTANCES, Cost::Hashing)
            .await?
        else {
            return call(this).await;
        };
        let handle = tokio::runtime::Handle::current();
        admitted
            .run_hashing(move || handle.block_on(call(this)))
            .await
            .unwrap_or_else(|err| Err(ServiceError::Runtime(err)))
    }

    /// Fresh instances of the backend and of the core wired to it.
    async fn instantiate(&self) -> Result<(wasmtime::Store<State>, AccountCore), ServiceError> {
        let backend = self.backend.instantiate().await?;
        let mut store = self.runtime.new_store(&self.core);
        let state = store.data_mut();
        state.config.keys = self.config.clone();
        state.store.backend = Some(Box::new(BackendInstance {
            instance: backend,
            runtime_fault: None,
        }));
        state.oauth.providers = Some(self.providers.clone());
        let core = self
            .core_pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| self.runtime.instantiation_error(store.data(), e))?;
        Ok((store, core))
    }

    /// Settles a finished call: a domain error stays one; a trap or a timeout becomes
    /// a fault naming the plugin responsible.
    fn settle<T>(
        &self,
        store: &wasmtime::Store<State>,
        outcome: Result<wasmtime::Result<Result<T, AccountError>>, tokio::time::error::Elapsed>,
    ) -> Result<T, ServiceError> {
        match outcome {
            Ok(Ok(Ok(value))) => Ok(value),
            Ok(Ok(Err(refused))) => Err(ServiceError::Account(refused)),
            Ok(Err(err)) => {
                let state = store.data();
                let nested = state
                    .store
                    .backend
                    .as_ref()
                    .and_then(|b| b.runtime_fault.clone());
                Err(nested
                    .unwrap_or_else(|| self.runtime.fault(state, err))
                    .into())
            }
            Err(_elapsed) => Err(PluginFault {
                plugin: store.data().label.clone(),
                message: format!(
                    "did not finish within {} ms (waiting on the database?)",
                    self.runtime.limits().call_timeout.as_millis()
                ),
            }
            .into()),
        }
    }
}
