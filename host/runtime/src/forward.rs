//! Host implementations of the imports: `sql` and `config` directly, and `store` by
//! forwarding each call to a backend plugin instance.
//!
//! Why forward on the host instead of composing the two components (`wac plug`):
//! each plugin keeps its own store, so its own trap attribution ("plugin store-d1
//! 0.1.0: ...") and its own deadline, and the backend is chosen at run time from
//! the database URL without a composed component per backend.
//!
//! What composing would save was measured (2026-11-30, 2 cores, `auth` plugged
//! with `store-d1` by `wac-graph` 0.12, the rest of the host unchanged):
//! - here, natively: a token check on a warm instance took 167 µs composed
//!   against 205 µs forwarded (about 18% less), and an instantiation 111 µs
//!   against 133 µs. The lift and lower of each store call on the host go, the
//!   SQL round trip stays.
//! - in the Worker: no gain, and slower logins. jco 1.35 transpiles the composition, but in JSPI
//!   mode it compiles a helper module at run time, which Workers forbid; with that
//!   helper moved to a static import, the isolate spent 5.9-6.8 ms per
//!   authenticated request against 5.6-7.5 ms forwarded, and 79-88 ms per login
//!   against 64-77 ms.
//!
//! So the Worker keeps wiring the two in JavaScript. Natively, composing (at
//! build or load time, one composition per backend) is the candidate for the
//! per-call cost, once a trap can still be blamed on the plugin whose code ran.

use crate::bindings::core::qhub::plugin::store as store_import;
use crate::bindings::types::{
    ApiKey, JobStatus, LoginAttempt, LoginLimit, LoginThrottle, NewApiKey, NewOauthConnection,
    NewQuantumJob, NewSession, NewUser, OauthConnection, Preference, QuantumJob, Quota, Session,
    StoreError, Usage, User,
};
use crate::bindings::{core, sql};
use crate::capabilities;
use crate::error::PluginFault;
use crate::store::StoreInstance;

/// A live backend instance that the account core's `store` import forwards to.
pub(crate) struct BackendInstance {
    pub(crate) instance: StoreInstance,
    /// Set when the backend failed; kept to explain the core's resulting trap.
    pub(crate) runtime_fault: Option<PluginFault>,
}

impl BackendInstance {
    /// Turns a failed call into the backend into a trap in the caller that names the
    /// backend, so the error the user sees blames the plugin that broke.
    fn attribute<T>(&mut self, result: wasmtime::Result<T>) -> wasmtime::Result<T> {
        result.map_err(|err| {
            let fault = self.instance.fault(err);
            self.runtime_fault = Some(fault.clone());
            wasmtime::Error::from(fault)
        })
    }
}

/// Statements run off the password-hashing threads
/// ([`crate::load::off_hashing_thread`]): a connection the pool opens for them
/// starts its worker thread at the server's priority, not the hash's.
impl sql::Host for capabilities::Sql {
    async fn query(
        &mut self,
        stmt: sql::Statement,
    ) -> wasmtime::Result<Result<sql::QueryResult, sql::SqlError>> {
        let db = self.database()?;
        Ok(crate::load::off_hashing_thread(async move { db.query(stmt).await }).await?)
    }

    async fn batch(
        &mut self,
        stmts: Vec<sql::Statement>,
    ) -> wasmtime::Result<Result<Vec<sql::QueryResult>, sql::SqlError>> {
        let db = self.database()?;
        Ok(crate::load::off_hashing_thread(async move { db.batch(stmts).await }).await?)
    }
}

impl capabilities::Sql {
    fn database(&self) -> wasmtime::Result<crate::sql::Database> {
        self.db
            .clone()
            .ok_or_else(|| wasmtime::format_err!("no database is granted to this plugin"))
    }
}

impl capabilities::Store {
    fn backend(&mut self) -> wasmtime::Result<&mut BackendInstance> {
        self.backend
            .as_deref_mut()
            .ok_or_else(|| wasmtime::format_err!("no store backend is wired to this plugin"))
    }
}

impl core::qhub::provider::config::Host for capabilities::Config {
    async fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self.keys.get(&key).cloned())
    }
}

/// The `config` of [`legacy`](crate::provider::versions::legacy) provider plugins:
/// the same function.
impl crate::provider::versions::legacy::qhub::plugin::config::Host for capabilities::Config {
    async fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self.keys.get(&key).cloned())
    }
}

// `types` declares records only; its (empty) host side is linked with `store`.
impl core::qhub::plugin::types::Host for capabilities::Store {}
impl core::qhub::plugin::types::Host for capabilities::Sql {}

/// Implements `store::Host` by forwarding: `name(params) -> ok-type => call(args)`.
macro_rules! forward {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ok:ty => $call:ident($($pass:expr),*);)*) => {
        impl store_import::Host for capabilities::Store {
            $(
                async fn $name(&mut self, $($arg: $ty),*) -> wasmtime::Result<Result<$ok, StoreError>> {
                    let backend = self.backend()?;
                    let (guest, store) = backend.instance.parts();
                    let result = guest.$call(store, $($pass),*).await;
                    backend.attribute(result)
                }
            )*
        }
    };
}

forward! {
    create_user(user: NewUser) -> User => call_create_user(&user);
    create_user_with_session(user: NewUser, user_agent: Option<String>, ip: Option<String>, expires_at: i64) -> (User, Session) => call_create_user_with_session(&user, user_agent.as_deref(), ip.as_deref(), expires_at);
    get_user(id: String) -> Option<User> => call_get_user(&id);
    get_user_by_email(email: String) -> Option<User> => call_get_user_by_email(&email);
    set_password_hash(user_id: String, hash: String, now: i64) -> () => call_set_password_hash(&user_id, &hash, now);
    set_display_name(user_id: String, name: Option<String>, now: i64) -> () => call_set_display_name(&user_id, name.as_deref(), now);
    delete_user(user_id: String) -> () => call_delete_user(&user_id);

    create_session(session: NewSession, password_hash: Option<String>) -> Session => call_create_session(&session, password_hash.as_deref());
    get_session(id: String) -> Option<Session> => call_get_session(&id);
    touch_session(id: String, now: i64) -> () => call_touch_session(&id, now);
    list_sessions(user_id: String, now: i64) -> Vec<Session> => call_list_sessions(&user_id, now);
    revoke_session(user_id: String, session_id: String, now: i64) -> bool => call_revoke_session(&user_id, &session_id, now);
    revoke_sessions(user_id: String, keep: Option<String>, now: i64) -> u32 => call_revoke_sessions(&user_id, keep.as_deref(), now);

    create_oauth_connection(c: NewOauthConnection) -> OauthConnection => call_create_oauth_connection(&c);
    get_oauth_connection(provider: String, subject: String) -> Option<OauthConnection> => call_get_oauth_connection(&provider, &subject);
    list_oauth_connections(user_id: String) -> Vec<OauthConnection> => call_list_oauth_connections(&user_id);
    delete_oauth_connection(user_id: String, id: String) -> bool => call_delete_oauth_connection(&user_id, &id);

    create_api_key(key: NewApiKey) -> ApiKey => call_create_api_key(&key);
    get_api_key_by_hash(hash: String) -> Option<ApiKey> => call_get_api_key_by_hash(&hash);
    list_api_keys(user_id: String) -> Vec<ApiKey> => call_list_api_keys(&user_id);
    revoke_api_key(user_id: String, id: String, now: i64) -> bool => call_revoke_api_key(&user_id, &id, now);
    touch_api_key(id: String, now: i64) -> () => call_touch_api_key(&id, now);

    list_preferences(user_id: String) -> Vec<Preference> => call_list_preferences(&user_id);
    set_preference(user_id: String, key: String, value: String, now: i64) -> () => call_set_preference(&user_id, &key, &value, now);
    delete_preference(user_id: String, key: String) -> bool => call_delete_preference(&user_id, &key);

    get_usage(user_id: String, period: String) -> Usage => call_get_usage(&user_id, &period);
    submit_job(job: NewQuantumJob, quota: Quota) -> QuantumJob => call_submit_job(&job, &quota);
    get_job(user_id: String, id: String) -> Option<QuantumJob> => call_get_job(&user_id, &id);
    list_jobs(user_id: String, status: Option<JobStatus>, limit: u32) -> Vec<QuantumJob> => call_list_jobs(&user_id, status, limit);
    transition_job(
        user_id: String, id: String, from: Vec<JobStatus>, status: JobStatus,
        result: Option<String>, error: Option<String>, now: i64
    ) -> Option<QuantumJob> => call_transition_job(&user_id, &id, &from, status, result.as_deref(), error.as_deref(), now);

    get_login_throttle(key: String) -> Option<LoginThrottle> => call_get_login_throttle(&key);
    begin_login_attempt(key: String, now: i64, limit: LoginLimit) -> LoginAttempt => call_begin_login_attempt(&key, now, limit);
    refund_login_attempt(key: String, max_attempts: u32) -> () => call_refund_login_attempt(&key, max_attempts);
    clear_login_throttle(key: String) -> () => call_clear_login_throttle(&key);
}
