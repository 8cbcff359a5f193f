//! [`AccountService`]: the account core wired to a store backend and a database,
//! called the same way by every host (CLI today, the HTTP server next).
//!
//! A call that hashes a password, or reaches an OAuth provider, gets fresh
//! instances of both plugins (about 0.1 ms each from their `InstancePre`), which
//! are dropped after it. A cheap call (a token check, a listing) takes a wired
//! pair another cheap call left idle, and gives it back once the core answered:
//! instantiating and tearing down the two instances cost more CPU than the
//! authenticated request itself (`cargo xtask bench`). The Worker reuses its
//! instances too (`host/worker/js/index.js`, after hashing calls as well). Why
//! reuse is safe:
//! - a pair serves one call at a time: it leaves the idle list while in use;
//! - a pair whose call failed in any way (a trap, a deadline, a backend fault, a
//!   call cut off because its client left) is dropped, never reused, so a broken
//!   instance never serves again;
//! - each reuse gets a fresh deadline on both instances;
//! - a pair that printed anything, or whose memory grew beyond
//!   [`IDLE_MEMORY_BYTES`](crate::engine::IDLE_MEMORY_BYTES), is dropped too, so
//!   one call's output never explains another's trap and idle pairs hold little;
//! - the contract says plugins keep no state between calls (`docs/plugins.md`),
//!   and the first-party ones keep none (no statics but a crypto provider
//!   installed once; every call reads what it needs from the store), so what a
//!   reused instance holds is freed heap, which safe Rust never reads: the
//!   isolation this buys is the host's from the plugin, as a native server's heap
//!   also serves every user.
//!
//! Hashing calls never go back: Argon2id grows an instance's memory to about
//! 20 MiB. At most [`IDLE_INSTANCES`](crate::engine::IDLE_INSTANCES) instances
//! are kept per runtime, on top of the pool's slots for calls in flight.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

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

/// Runs one export of the account core under the call timeout: a function of
/// `accounts`, or of the interface `$interface` names (the accessor of the
/// generated bindings, `qhub_plugin_identities`).
/// - `@admitted`: in fresh instances, dropped afterwards (password-hashing calls,
///   which go through [`AccountService::hashing`]);
/// - otherwise a cheap call: it first waits for its turn when the runtime sheds
///   load, then runs on an idle wired pair (or fresh ones), which goes back to
///   the idle list if the core answered (see the module's documentation).
macro_rules! call {
    (@admitted $self:ident, $interface:ident, |$core:ident, $store:ident| $call:expr) => {{
        let Wired { mut store, core } = $self.instantiate().await?;
        let outcome = {
            let $core = core.$interface();
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
        let mut wired = $self.checkout().await?;
        let outcome = {
            let $core = wired.core.$interface();
            let $store = &mut wired.store;
            tokio::time::timeout($self.runtime.limits().call_timeout, $call).await
        };
        let answered = matches!(outcome, Ok(Ok(_)));
        let settled = $self.settle(&wired.store, outcome);
        if answered && wired.reusable() {
            $self.idle.put(wired);
        }
        settled
    }};
}

/// An instance of the account core wired to an instance of its backend (which
/// lives in the core's store, behind its `store` import).
struct Wired {
    store: wasmtime::Store<State>,
    core: AccountCore,
}

impl Wired {
    /// Whether both instances may serve another call (see [`State::reusable`]).
    fn reusable(&self) -> bool {
        let state = self.store.data();
        state.reusable()
            && state
                .store
                .backend
                .as_deref()
                .is_some_and(|backend| backend.instance.store.data().reusable())
    }

    /// Gives both instances a fresh deadline of `ticks` epochs from now.
    fn rearm(&mut self, ticks: u64) {
        self.store.set_epoch_deadline(ticks);
        if let Some(backend) = self.store.data_mut().store.backend.as_deref_mut() {
            backend.runtime_fault = None;
            backend.instance.store.set_epoch_deadline(ticks);
        }
    }
}

/// The wired pairs a service keeps between cheap calls; each holds
/// [`ACCOUNT_CALL_INSTANCES`] of the runtime's idle reservation.
struct Idle {
    runtime: Arc<Runtime>,
    wired: Mutex<Vec<Wired>>,
}

impl Idle {
    fn new(runtime: Arc<Runtime>) -> Arc<Idle> {
        Arc::new(Idle {
            runtime,
            wired: Mutex::new(Vec::new()),
        })
    }

    fn take(&self) -> Option<Wired> {
        let wired = self.lock().pop()?;
        self.runtime.release_idle(ACCOUNT_CALL_INSTANCES);
        Some(wired)
    }

    /// Keeps `wired` for a later call, or drops it when the runtime holds as many
    /// idle instances as it may.
    fn put(&self, wired: Wired) {
        if self.runtime.reserve_idle(ACCOUNT_CALL_INSTANCES) {
            self.lock().push(wired);
        }
    }

    fn len(&self) -> usize {
        self.lock().len()
    }

    /// The list; a panic while it was held (none can happen in `push`/`pop`)
    /// leaves it valid, so a poisoned lock is taken over.
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Wired>> {
        self.wired
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for Idle {
    fn drop(&mut self) {
        let held = self.lock().len() as u32;
        self.runtime.release_idle(held * ACCOUNT_CALL_INSTANCES);
    }
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

/// `api.check-config`, in the shape [`call!`] settles.
async fn check_config(
    core: &ApiGuest,
    store: &mut wasmtime::Store<State>,
) -> wasmtime::Result<Result<Option<String>, AccountError>> {
    core.call_check_config(store).await.map(Ok)
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
    /// Wired pairs left by cheap calls, for the next ones.
    idle: Arc<Idle>,
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
            idle: Idle::new(runtime.clone()),
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
        // Pairs already idle were wired to the providers before these.
        self.idle = Idle::new(self.runtime.clone());
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

    /// The core's verdict on the configuration this service gives it (its
    /// `api.check-config`: the JWT secret's length, the quota keys): `None` when
    /// usable, else what is wrong, for the operator. A server asks before it
    /// serves; the rules are the core's alone.
    ///
    /// # Errors
    /// A trap or a timeout of the core ([`Error::Plugin`]).
    pub async fn check_config(&self) -> Result<Option<String>, ServiceError> {
        call!(self, qhub_plugin_api, |core, store| check_config(
            core, store
        ))
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
        let Wired { mut store, core } = self.instantiate().await?;
        store.set_epoch_deadline(crate::engine::deadline_ticks(deadline));
        let outcome = {
            let core = core.qhub_plugin_api();
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

    /// How many wired pairs this service holds idle for cheap calls (each pair is
    /// two component instances), for diagnostics and tests.
    pub fn idle_pairs(&self) -> usize {
        self.idle.len()
    }

    /// An idle wired pair with a fresh deadline, or fresh instances.
    async fn checkout(&self) -> Result<Wired, ServiceError> {
        match self.idle.take() {
            Some(mut wired) => {
                wired.rearm(crate::engine::deadline_ticks(
                    self.runtime.limits().call_timeout,
                ));
                Ok(wired)
            }
            None => self.instantiate().await,
        }
    }

    /// Fresh instances of the backend and of the core wired to it.
    async fn instantiate(&self) -> Result<Wired, ServiceError> {
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
        Ok(Wired { store, core })
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
