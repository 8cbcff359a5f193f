//! The backend conformance suite: every function of the `store` contract
//! (`wit/store.wit`), checked for what it does, with the same scenarios run on
//! store-d1 over SQLite, on store-d1 over D1's HTTP API (a stand-in on loopback
//! backed by a SQLite file, see `qhub_test_support::D1StandIn`) and on
//! store-postgres over PostgreSQL, so that the backends and the host's `sql`
//! drivers are held to one behaviour.
//!
//! Each scenario is one `async fn(&Backend)`; [`conformance!`] runs it as three
//! tests, `<scenario>::sqlite`, `<scenario>::d1` and `<scenario>::postgres`, each
//! on a fresh database of its own, so tests run in parallel. PostgreSQL must be
//! running (see `qhub_test_support`); the PostgreSQL tests fail, never skip,
//! without it.

#![expect(clippy::unwrap_used, reason = "a scenario fails by panicking")]

#[expect(dead_code, reason = "`client` serves the account-service suites")]
mod common;

use std::any::Any;
use std::fmt::Debug;
use std::sync::{Arc, OnceLock};

use qhub_runtime::bindings::types::{
    ApiKey, JobStatus, LoginAttempt, LoginLimit, LoginThrottle, NewApiKey, NewOauthConnection,
    NewQuantumJob, NewSession, NewUser, OauthConnection, Preference, QuantumJob, Quota, Session,
    StoreError, Timestamp, Usage, User,
};
use qhub_runtime::{
    Allocation, Database, Limits, LoadedPlugin, Runtime, RuntimeConfig, StoreInstance, StoreService,
};
use qhub_test_support::{D1StandIn, TempDatabase};
// `serde_json::Value`, as sqlx re-exports it.
use serde_json::Value as JsonValue;
use tokio::sync::Barrier;
use tokio::task::JoinSet;

/// Runs each scenario as one test per database, each on a fresh database: the
/// test is named after the [`Backend`] constructor it uses.
macro_rules! conformance {
    ($($scenario:ident),* $(,)?) => {
        $(
            mod $scenario {
                conformance!(@on $scenario: sqlite, d1, postgres);
            }
        )*
    };
    (@on $scenario:ident: $($database:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $database() {
                let backend = super::Backend::$database().await;
                super::$scenario(&backend).await;
                backend.close().await;
            }
        )*
    };
}

conformance!(
    users,
    user_updates,
    user_deletion,
    unknown_ids,
    sessions,
    oauth_connections,
    api_keys,
    preferences,
    quotas,
    jobs,
    concurrent_submissions_respect_max_jobs,
    concurrent_submissions_respect_max_shots,
    sessions_require_the_checked_password_hash,
    registration_writes_the_user_and_session_together,
    login_throttles,
    login_attempts_lock_at_the_limit,
    concurrent_login_attempts_admit_at_most_the_limit,
);

// ---- the harness ----------------------------------------------------------------

/// A backend plugin over a fresh database of its own. Every call gets a fresh
/// instance, as every request does in the server; clones share the database.
#[derive(Clone)]
struct Backend {
    service: StoreService,
    /// The SQLite file's directory, the D1 stand-in or the PostgreSQL database,
    /// kept only so that it is removed when the last clone goes.
    _database: Arc<dyn Any + Send + Sync>,
}

/// One engine for the whole test binary, so each backend is compiled once rather
/// than once per test.
fn runtime() -> Arc<Runtime> {
    static RUNTIME: OnceLock<Arc<Runtime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            Arc::new(
                Runtime::new(RuntimeConfig {
                    cache_dir: None,
                    limits: Limits::default(),
                    allocation: Allocation::OnDemand,
                })
                .expect("the runtime starts"),
            )
        })
        .clone()
}

/// The backend plugin `cell` holds, compiled on first use.
fn compiled(cell: &'static OnceLock<LoadedPlugin>, name: &str) -> LoadedPlugin {
    cell.get_or_init(|| common::load(&runtime(), name)).clone()
}

/// store-d1, shared by the SQLite and the D1 databases.
fn store_d1() -> LoadedPlugin {
    static PLUGIN: OnceLock<LoadedPlugin> = OnceLock::new();
    compiled(&PLUGIN, "store-d1")
}

impl Backend {
    /// store-d1 over a new SQLite file.
    async fn sqlite() -> Backend {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let db = Database::open_sqlite(&dir.path().join("qhub.db"))
            .await
            .expect("the SQLite database opens");
        Backend::new(store_d1(), db, Arc::new(dir)).await
    }

    /// store-d1 over a new database behind the D1 HTTP API stand-in.
    async fn d1() -> Backend {
        let stand_in = D1StandIn::start();
        let db = Database::connect_d1(
            &stand_in.database_url(),
            &stand_in.api_url(),
            stand_in.token().to_owned(),
        )
        .expect("the D1 URL is valid");
        Backend::new(store_d1(), db, Arc::new(stand_in)).await
    }

    /// store-postgres over a new database on the test server.
    async fn postgres() -> Backend {
        static PLUGIN: OnceLock<LoadedPlugin> = OnceLock::new();
        let temp = TempDatabase::create();
        let db = Database::connect(temp.url())
            .await
            .expect("the PostgreSQL URL is valid");
        Backend::new(compiled(&PLUGIN, "store-postgres"), db, Arc::new(temp)).await
    }

    async fn new(
        plugin: LoadedPlugin,
        db: Database,
        database: Arc<dyn Any + Send + Sync>,
    ) -> Backend {
        db.migrate().await.expect("the migrations apply");
        let service = StoreService::new(runtime(), plugin, db).expect("the backend links");
        Backend {
            service,
            _database: database,
        }
    }

    async fn close(self) {
        self.service.database().close().await;
    }

    /// A fresh instance of the backend.
    async fn instance(&self) -> StoreInstance {
        self.service
            .instance()
            .await
            .unwrap_or_else(|fault| panic!("instantiating the backend: {fault}"))
    }

    /// `transition-job` without a result or an error, as a job's progress is.
    async fn move_job(
        &self,
        user_id: &str,
        id: &str,
        from: &[JobStatus],
        status: JobStatus,
        now: Timestamp,
    ) -> Option<QuantumJob> {
        self.transition_job(user_id, id, from, status, None, None, now)
            .await
            .expect("transition-job")
    }

    /// A user with a password, created at [`T0`].
    async fn user(&self, email: &str) -> User {
        self.create_user(&new_user(email, T0))
            .await
            .expect("creating a user")
    }
}

/// The store's answer to a call. A trap is no answer: it fails the test, naming the
/// plugin and what went wrong.
fn settled<T>(
    instance: &StoreInstance,
    outcome: wasmtime::Result<Result<T, StoreError>>,
) -> Result<T, StoreError> {
    outcome.unwrap_or_else(|trap| panic!("{}", instance.fault(trap)))
}

/// One method per `store` function, each calling it on a fresh instance:
/// `fn <name>(<parameters>) -> <ok type> => <export>;`.
macro_rules! store_functions {
    ($(
        $(#[$attr:meta])*
        fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ok:ty => $export:ident;
    )*) => {
        impl Backend {
            $(
                $(#[$attr])*
                async fn $name(&self, $($arg: $ty),*) -> Result<$ok, StoreError> {
                    let mut instance = self.instance().await;
                    let (guest, store) = instance.parts();
                    let outcome = guest.$export(store, $($arg),*).await;
                    settled(&instance, outcome)
                }
            )*
        }
    };
}

store_functions! {
    fn create_user(user: &NewUser) -> User => call_create_user;
    fn get_user(id: &str) -> Option<User> => call_get_user;
    fn get_user_by_email(email: &str) -> Option<User> => call_get_user_by_email;
    fn set_password_hash(user_id: &str, hash: &str, now: Timestamp) -> () => call_set_password_hash;
    fn set_display_name(user_id: &str, name: Option<&str>, now: Timestamp) -> () => call_set_display_name;
    fn delete_user(user_id: &str) -> () => call_delete_user;

    fn create_user_with_session(user: &NewUser, user_agent: Option<&str>, ip: Option<&str>, expires_at: Timestamp) -> (User, Session) => call_create_user_with_session;
    fn create_session(session: &NewSession, password_hash: Option<&str>) -> Session => call_create_session;
    fn get_session(id: &str) -> Option<Session> => call_get_session;
    fn touch_session(id: &str, now: Timestamp) -> () => call_touch_session;
    fn list_sessions(user_id: &str, now: Timestamp) -> Vec<Session> => call_list_sessions;
    fn revoke_session(user_id: &str, id: &str, now: Timestamp) -> bool => call_revoke_session;
    fn revoke_sessions(user_id: &str, keep: Option<&str>, now: Timestamp) -> u32 => call_revoke_sessions;

    fn create_oauth_connection(connection: &NewOauthConnection) -> OauthConnection => call_create_oauth_connection;
    fn get_oauth_connection(provider: &str, subject: &str) -> Option<OauthConnection> => call_get_oauth_connection;
    fn list_oauth_connections(user_id: &str) -> Vec<OauthConnection> => call_list_oauth_connections;
    fn delete_oauth_connection(user_id: &str, id: &str) -> bool => call_delete_oauth_connection;

    fn create_api_key(key: &NewApiKey) -> ApiKey => call_create_api_key;
    fn get_api_key_by_hash(secret_hash: &str) -> Option<ApiKey> => call_get_api_key_by_hash;
    fn list_api_keys(user_id: &str) -> Vec<ApiKey> => call_list_api_keys;
    fn revoke_api_key(user_id: &str, id: &str, now: Timestamp) -> bool => call_revoke_api_key;
    fn touch_api_key(id: &str, now: Timestamp) -> () => call_touch_api_key;

    fn list_preferences(user_id: &str) -> Vec<Preference> => call_list_preferences;
    fn set_preference(user_id: &str, key: &str, value: &str, now: Timestamp) -> () => call_set_preference;
    fn delete_preference(user_id: &str, key: &str) -> bool => call_delete_preference;

    fn get_usage(user_id: &str, period: &str) -> Usage => call_get_usage;
    fn submit_job(job: &NewQuantumJob, quota: &Quota) -> QuantumJob => call_submit_job;
    fn get_job(user_id: &str, id: &str) -> Option<QuantumJob> => call_get_job;
    fn list_jobs(user_id: &str, status: Option<JobStatus>, limit: u32) -> Vec<QuantumJob> => call_list_jobs;
    #[expect(clippy::too_many_arguments, reason = "the WIT function's own parameters")]
    fn transition_job(
        user_id: &str,
        id: &str,
        from: &[JobStatus],
        status: JobStatus,
        result: Option<&str>,
        error: Option<&str>,
        now: Timestamp,
    ) -> Option<QuantumJob> => call_transition_job;

    fn get_login_throttle(key: &str) -> Option<LoginThrottle> => call_get_login_throttle;
    fn begin_login_attempt(key: &str, now: Timestamp, limit: LoginLimit) -> LoginAttempt => call_begin_login_attempt;
    fn refund_login_attempt(key: &str, max_attempts: u32) -> () => call_refund_login_attempt;
    fn clear_login_throttle(key: &str) -> () => call_clear_login_throttle;
}

// ---- fixtures and checks --------------------------------------------------------

/// A time with milliseconds, so that a backend that rounds them is caught.
const T0: Timestamp = 1_795_123_456_789;
const HOUR: Timestamp = 3_600_000;
const PERIOD: &str = "2026-11";
const NEXT_PERIOD: &str = "2026-12";
const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
/// Ids no row has: a well-formed UUID, and a string PostgreSQL cannot cast to one.
const ABSENT_IDS: [&str; 2] = ["00000000-0000-4000-8000-000000000000", "not-an-id"];

fn new_user(email: &str, created_at: Timestamp) -> NewUser {
    NewUser {
        email: email.into(),
        display_name: None,
        password_hash: Some(HASH.into()),
        created_at,
    }
}

fn new_session(user_id: &str, created_at: Timestamp, expires_at: Timestamp) -> NewSession {
    NewSession {
        user_id: user_id.into(),
        user_agent: Some("qhub-cli/0.1.0 (linux)".into()),
        ip: Some("127.0.0.1".into()),
        created_at,
        expires_at,
    }
}

fn new_connection(
    user_id: &str,
    provider: &str,
    subject: &str,
    at: Timestamp,
) -> NewOauthConnection {
    NewOauthConnection {
        user_id: user_id.into(),
        provider: provider.into(),
        subject: subject.into(),
        email: Some(format!("{subject}@users.example.com")),
        created_at: at,
    }
}

/// A key whose prefix and hash are derived from `name`, so distinct names never
/// collide.
fn new_key(user_id: &str, name: &str, at: Timestamp) -> NewApiKey {
    NewApiKey {
        user_id: user_id.into(),
        name: name.into(),
        prefix: format!("qh_{name}"),
        secret_hash: format!("sha256:{name}"),
        scopes: vec!["jobs:read".into(), "jobs:write".into()],
        created_at: at,
        expires_at: Some(at + 24 * HOUR),
    }
}

fn new_job(user_id: &str, shots: u32, at: Timestamp) -> NewQuantumJob {
    NewQuantumJob {
        user_id: user_id.into(),
        backend: "simulator".into(),
        shots,
        source: "OPENQASM 3.0;\nqubit[2] q;\nh q[0];\ncx q[0], q[1];".into(),
        created_at: at,
    }
}

fn quota(period: &str, max_jobs: u32, max_shots: u64) -> Quota {
    Quota {
        period: period.into(),
        max_jobs,
        max_shots,
    }
}

/// The ids of a listing, in its order.
macro_rules! ids {
    ($records:expr) => {
        $records
            .iter()
            .map(|record| &record.id)
            .collect::<Vec<&String>>()
    };
}

/// Records have no `PartialEq`; their `Debug` form shows every field.
#[track_caller]
fn assert_same<T: Debug>(actual: &T, expected: &T) {
    assert_eq!(format!("{actual:#?}"), format!("{expected:#?}"));
}

#[track_caller]
fn assert_usage(usage: &Usage, period: &str, jobs: u32, shots: u64) {
    assert_eq!(
        (usage.period.as_str(), usage.jobs, usage.shots),
        (period, jobs, shots),
        "usage"
    );
}

/// What a call that had to fail failed with, spelled as in the WIT:
/// `not-found`, `conflict(email)`, `quota-exceeded`, `unavailable: ...`,
/// `internal: ...`.
#[track_caller]
fn failure<T: Debug>(result: Result<T, StoreError>) -> String {
    match result {
        Ok(value) => panic!("expected a store error, got {value:?}"),
        Err(StoreError::NotFound) => "not-found".into(),
        Err(StoreError::Conflict(what)) => format!("conflict({what})"),
        Err(StoreError::QuotaExceeded) => "quota-exceeded".into(),
        Err(StoreError::Unavailable(message)) => format!("unavailable: {message}"),
        Err(StoreError::Internal(message)) => format!("internal: {message}"),
    }
}

/// A JSON document, compared by value: PostgreSQL's `jsonb` hands back its own
/// spacing and key order.
fn json(text: &str) -> JsonValue {
    text.parse()
        .unwrap_or_else(|err| panic!("{text:?} is not JSON: {err}"))
}

/// One row of each kind a user can own.
struct Holdings {
    session: Session,
    connection: OauthConnection,
    key: ApiKey,
    job: QuantumJob,
}

/// Gives `user` a row in every table that holds user rows; names are derived from
/// `tag`, so each user's are distinct.
async fn furnish(s: &Backend, user: &User, tag: &str) -> Holdings {
    let session = s
        .create_session(&new_session(&user.id, T0, T0 + HOUR), None)
        .await
        .expect("creating a session");
    let connection = s
        .create_oauth_connection(&new_connection(&user.id, "github", tag, T0))
        .await
        .expect("linking an OAuth identity");
    let key = s
        .create_api_key(&new_key(&user.id, tag, T0))
        .await
        .expect("creating an API key");
    s.set_preference(&user.id, "theme", r#"{"mode":"dark"}"#, T0)
        .await
        .expect("setting a preference");
    let job = s
        .submit_job(&new_job(&user.id, 10, T0), &quota(PERIOD, 100, 10_000))
        .await
        .expect("submitting a job");
    Holdings {
        session,
        connection,
        key,
        job,
    }
}

/// Checks that each of `furnish`'s rows is there (`present`) or gone, through
/// every function that can see it.
async fn assert_holdings(s: &Backend, user: &User, held: &Holdings, present: bool) {
    let count = usize::from(present);
    let user_row = s.get_user(&user.id).await.unwrap();
    assert_eq!(user_row.is_some(), present, "get-user");
    let by_email = s.get_user_by_email(&user.email).await.unwrap();
    assert_eq!(by_email.is_some(), present, "get-user-by-email");

    let session = s.get_session(&held.session.id).await.unwrap();
    assert_eq!(session.is_some(), present, "get-session");
    let sessions = s.list_sessions(&user.id, T0).await.unwrap();
    assert_eq!(sessions.len(), count, "list-sessions");

    let connection = s
        .get_oauth_connection(&held.connection.provider, &held.connection.subject)
        .await
        .unwrap();
    assert_eq!(connection.is_some(), present, "get-oauth-connection");
    let connections = s.list_oauth_connections(&user.id).await.unwrap();
    assert_eq!(connections.len(), count, "list-oauth-connections");

    let key = s.get_api_key_by_hash(&held.key.secret_hash).await.unwrap();
    assert_eq!(key.is_some(), present, "get-api-key-by-hash");
    let keys = s.list_api_keys(&user.id).await.unwrap();
    assert_eq!(keys.len(), count, "list-api-keys");

    let preferences = s.list_preferences(&user.id).await.unwrap();
    assert_eq!(preferences.len(), count, "list-preferences");

    let usage = s.get_usage(&user.id, PERIOD).await.unwrap();
    assert_usage(
        &usage,
        PERIOD,
        u32::from(present),
        if present { 10 } else { 0 },
    );
    let job = s.get_job(&user.id, &held.job.id).await.unwrap();
    assert_eq!(job.is_some(), present, "get-job");
    let jobs = s.list_jobs(&user.id, None, 100).await.unwrap();
    assert_eq!(jobs.len(), count, "list-jobs");
}

// ---- the scenarios, by table (after the macros they use) ------------------------

#[path = "store/credentials.rs"]
mod credentials_scenarios;
#[path = "store/jobs.rs"]
mod jobs_scenarios;
#[path = "store/preferences.rs"]
mod preferences_scenarios;
#[path = "store/sessions.rs"]
mod sessions_scenarios;
#[path = "store/throttle.rs"]
mod throttle_scenarios;
#[path = "store/users.rs"]
mod users_scenarios;

use credentials_scenarios::*;
use jobs_scenarios::*;
use preferences_scenarios::*;
use sessions_scenarios::*;
use throttle_scenarios::*;
use users_scenarios::*;
