//! The storage port the account flows are written against.
//!
//! It mirrors the part of the WIT `store` interface the core uses, in plain Rust
//! types, so the flows read without binding noise and can be unit-tested against an
//! in-memory store. `lib.rs` implements it over the real `store` import.

/// Milliseconds since the Unix epoch, UTC (the WIT `timestamp`).
pub type Millis = i64;

/// A stored account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    /// Normalised (trimmed, lowercase).
    pub email: String,
    pub display_name: Option<String>,
    /// Argon2id PHC string; none for accounts that only sign in through OAuth.
    pub password_hash: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// An account to create; the store chooses its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub email: String,
    pub display_name: Option<String>,
    pub password_hash: Option<String>,
    pub created_at: Millis,
}

/// A server-side session; a token is valid only while its session is live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub created_at: Millis,
    pub last_seen_at: Millis,
    pub expires_at: Millis,
    pub revoked_at: Option<Millis>,
}

/// A session to create; the store chooses its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    pub user_id: String,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub created_at: Millis,
    pub expires_at: Millis,
}

/// One user preference; `value` is a JSON document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preference {
    pub key: String,
    pub value: String,
    pub updated_at: Millis,
}

/// An identity at an OAuth/OIDC provider linked to an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthConnection {
    pub id: String,
    pub user_id: String,
    pub provider: String,
    pub subject: String,
    pub email: Option<String>,
    pub created_at: Millis,
}

/// An identity to link to an account; the store chooses its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOAuthConnection {
    pub user_id: String,
    pub provider: String,
    pub subject: String,
    pub email: Option<String>,
    pub created_at: Millis,
}

/// An API key; only a hash of its secret is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub prefix: String,
    pub secret_hash: String,
    pub scopes: Vec<String>,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
    pub last_used_at: Option<Millis>,
    pub revoked_at: Option<Millis>,
}

/// An API key to create; the store chooses its id. `prefix` and `secret_hash`
/// must each be unique (`Conflict("api-key")` otherwise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    pub user_id: String,
    pub name: String,
    pub prefix: String,
    pub secret_hash: String,
    pub scopes: Vec<String>,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
}

/// How much of a quota period a user has consumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    pub period: String,
    pub jobs: u32,
    pub shots: u64,
}

/// The limits of one period, enforced atomically by the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quota {
    pub period: String,
    pub max_jobs: u32,
    pub max_shots: u64,
}

/// Where a quantum job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl JobStatus {
    /// The lowercase name users see ("queued", ...).
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }
}

/// A stored quantum job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: String,
    pub user_id: String,
    pub status: JobStatus,
    pub backend: String,
    pub shots: u32,
    /// The OpenQASM source as submitted.
    pub source: String,
    /// A JSON document with the measurement results, once completed.
    pub result: Option<String>,
    pub error: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// A job to queue; the store chooses its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub user_id: String,
    pub backend: String,
    pub shots: u32,
    pub source: String,
    pub created_at: Millis,
}

/// Failed sign-ins counted under one key ("account:<email>", "ip:<address>").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginThrottle {
    pub key: String,
    /// Failures since `window_started_at`.
    pub failures: u32,
    pub window_started_at: Millis,
    /// Sign-ins under this key are refused until then.
    pub locked_until: Option<Millis>,
}

/// How sign-in attempts under one key are limited (the WIT `login-limit`): the
/// store applies it in the statement that counts an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimit {
    /// A window that started before this restarts the count at one.
    pub window_start: Millis,
    /// The attempt that brings the count to this many locks the key.
    pub max_attempts: u32,
    /// The first lock's length; each further attempt in the window doubles it.
    pub base_lock: Millis,
    /// The longest lock.
    pub max_lock: Millis,
}

/// What counting one sign-in attempt did (the WIT `login-attempt`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginAttempt {
    /// False when the key was locked: nothing was counted, and no password may be
    /// checked for this attempt.
    pub admitted: bool,
    /// The key's state after the call.
    pub throttle: LoginThrottle,
}

/// Why a store operation failed (the WIT `store-error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    NotFound,
    /// Names what was duplicated ("email", ...).
    Conflict(String),
    QuotaExceeded,
    /// For logs only: it may name hosts.
    Unavailable(String),
    /// For logs only.
    Internal(String),
}

/// The store operations the account flows need. Each is atomic on its own.
pub trait Store {
    /// `Conflict("email")` when the normalised email is taken.
    fn create_user(&self, user: NewUser) -> Result<User, StoreError>;
    fn get_user(&self, id: &str) -> Result<Option<User>, StoreError>;
    fn get_user_by_email(&self, email: &str) -> Result<Option<User>, StoreError>;
    fn set_password_hash(&self, user_id: &str, hash: &str, now: Millis) -> Result<(), StoreError>;
    /// Replaces the display name (none clears it); `NotFound` when there is no such user.
    fn set_display_name(
        &self,
        user_id: &str,
        name: Option<&str>,
        now: Millis,
    ) -> Result<(), StoreError>;
    /// Creates the user and their first session (created at `user.created_at`) in
    /// one atomic batch; `Conflict("email")` when the normalised email is taken.
    fn create_user_with_session(
        &self,
        user: NewUser,
        user_agent: Option<String>,
        ip: Option<String>,
        expires_at: Millis,
    ) -> Result<(User, Session), StoreError>;
    /// Starts a session, in one statement; when `password_hash` is given, only
    /// while the user still has that hash. `NotFound` when the user does not exist
    /// or no longer has the hash.
    fn create_session(
        &self,
        session: NewSession,
        password_hash: Option<&str>,
    ) -> Result<Session, StoreError>;
    fn get_session(&self, id: &str) -> Result<Option<Session>, StoreError>;
    fn touch_session(&self, id: &str, now: Millis) -> Result<(), StoreError>;
    /// The user's sessions that are neither revoked nor expired at `now`, newest first.
    fn list_sessions(&self, user_id: &str, now: Millis) -> Result<Vec<Session>, StoreError>;
    /// False when the user has no such live session.
    fn revoke_session(
        &self,
        user_id: &str,
        session_id: &str,
        now: Millis,
    ) -> Result<bool, StoreError>;
    /// Revokes all of the user's live sessions except `keep`; returns how many.
    fn revoke_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
        now: Millis,
    ) -> Result<u32, StoreError>;

    /// Deletes the user and every row that belongs to them; `NotFound` when absent.
    fn delete_user(&self, user_id: &str) -> Result<(), StoreError>;
    /// `Conflict("oauth-connection")` when the provider's subject is linked already
    /// (to any account).
    fn create_oauth_connection(
        &self,
        connection: NewOAuthConnection,
    ) -> Result<OAuthConnection, StoreError>;
    fn get_oauth_connection(
        &self,
        provider: &str,
        subject: &str,
    ) -> Result<Option<OAuthConnection>, StoreError>;
    /// The user's linked identities, oldest first.
    fn list_oauth_connections(&self, user_id: &str) -> Result<Vec<OAuthConnection>, StoreError>;
    /// False when the user has no such connection.
    fn delete_oauth_connection(
        &self,
        user_id: &str,
        connection_id: &str,
    ) -> Result<bool, StoreError>;
    /// `Conflict("api-key")` when the prefix or the secret hash exists.
    fn create_api_key(&self, key: NewApiKey) -> Result<ApiKey, StoreError>;
    /// The key whose secret hashes to `secret_hash`, revoked or not.
    fn get_api_key_by_hash(&self, secret_hash: &str) -> Result<Option<ApiKey>, StoreError>;
    /// The user's keys, revoked ones included, newest first.
    fn list_api_keys(&self, user_id: &str) -> Result<Vec<ApiKey>, StoreError>;
    /// False when the user has no such key that is not revoked yet.
    fn revoke_api_key(&self, user_id: &str, key_id: &str, now: Millis) -> Result<bool, StoreError>;
    /// Records use of a key.
    fn touch_api_key(&self, key_id: &str, now: Millis) -> Result<(), StoreError>;
    fn list_preferences(&self, user_id: &str) -> Result<Vec<Preference>, StoreError>;
    /// Inserts or replaces; `value` is a JSON document.
    fn set_preference(
        &self,
        user_id: &str,
        key: &str,
        value: &str,
        now: Millis,
    ) -> Result<(), StoreError>;
    /// False when the preference was not set.
    fn delete_preference(&self, user_id: &str, key: &str) -> Result<bool, StoreError>;
    /// Zeros when nothing was recorded in the period yet.
    fn get_usage(&self, user_id: &str, period: &str) -> Result<Usage, StoreError>;
    /// Queues the job and counts it against `quota`, atomically; `QuotaExceeded`
    /// (and nothing written) when it would pass either limit.
    fn submit_job(&self, job: NewJob, quota: Quota) -> Result<Job, StoreError>;
    fn get_job(&self, user_id: &str, job_id: &str) -> Result<Option<Job>, StoreError>;
    /// Newest first, optionally of one status, at most `limit`.
    fn list_jobs(
        &self,
        user_id: &str,
        status: Option<JobStatus>,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError>;
    /// Moves the job to `status` only when it has one of `from`; none otherwise
    /// (absent, or in another status).
    fn transition_job(
        &self,
        user_id: &str,
        job_id: &str,
        change: Transition<'_>,
    ) -> Result<Option<Job>, StoreError>;

    /// Counts one sign-in attempt under `key` before its password is checked, and
    /// locks the key when the count reaches `limit.max_attempts`, atomically; a
    /// locked key counts nothing and the attempt is not admitted.
    fn begin_login_attempt(
        &self,
        key: &str,
        now: Millis,
        limit: LoginLimit,
    ) -> Result<LoginAttempt, StoreError>;
    /// Takes one admitted attempt back; the lock goes when the count falls below
    /// `max_attempts`.
    fn refund_login_attempt(&self, key: &str, max_attempts: u32) -> Result<(), StoreError>;
    /// Forgets `key`.
    fn clear_login_throttle(&self, key: &str) -> Result<(), StoreError>;
}

/// A job status change, applied only from one of `from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition<'a> {
    pub from: &'a [JobStatus],
    pub status: JobStatus,
    pub result: Option<&'a str>,
    pub error: Option<&'a str>,
    pub now: Millis,
}
