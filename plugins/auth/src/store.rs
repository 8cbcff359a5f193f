//! The storage port the account flows are written against.
//!
//! The records are the WIT `types` themselves, as wit-bindgen generates them (no
//! hand-written mirror to keep in step). The [`Store`] trait is the port: the
//! flows are written against it, `host_store.rs` implements it over the real
//! `store` import, and `memory_store.rs` in memory for the unit tests.

pub use crate::bindings::qhub::plugin::types::{
    ApiKey, JobStatus, LoginAttempt, LoginLimit, LoginThrottle, NewApiKey, NewOauthConnection,
    NewQuantumJob, NewSession, NewUser, OauthConnection, Preference, QuantumJob, Quota, Session,
    StoreError, Timestamp, Usage, User,
};

/// Every job status, in the order of their names in [`qhub_api::JOB_STATUSES`].
const STATUSES: [JobStatus; 5] = [
    JobStatus::Queued,
    JobStatus::Running,
    JobStatus::Completed,
    JobStatus::Failed,
    JobStatus::Cancelled,
];

impl JobStatus {
    /// The lowercase name users see ("queued", ...), from [`qhub_api::JOB_STATUSES`].
    pub fn as_str(self) -> &'static str {
        let index = STATUSES.iter().position(|s| *s == self).unwrap_or(0);
        qhub_api::JOB_STATUSES[index]
    }

    /// The status called `name` ([`qhub_api::JOB_STATUSES`]); none for another name.
    pub fn from_name(name: &str) -> Option<JobStatus> {
        let index = qhub_api::JOB_STATUSES.iter().position(|n| *n == name)?;
        Some(STATUSES[index])
    }
}

/// The store operations the account flows need. Each is atomic on its own.
pub trait Store {
    /// `Conflict("email")` when the normalised email is taken.
    fn create_user(&self, user: NewUser) -> Result<User, StoreError>;
    fn get_user(&self, id: &str) -> Result<Option<User>, StoreError>;
    fn get_user_by_email(&self, email: &str) -> Result<Option<User>, StoreError>;
    fn set_password_hash(
        &self,
        user_id: &str,
        hash: &str,
        now: Timestamp,
    ) -> Result<(), StoreError>;
    /// Replaces the display name (none clears it); `NotFound` when there is no such user.
    fn set_display_name(
        &self,
        user_id: &str,
        name: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError>;
    /// Creates the user and their first session (created at `user.created_at`) in
    /// one atomic batch; `Conflict("email")` when the normalised email is taken.
    fn create_user_with_session(
        &self,
        user: NewUser,
        user_agent: Option<String>,
        ip: Option<String>,
        expires_at: Timestamp,
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
    fn touch_session(&self, id: &str, now: Timestamp) -> Result<(), StoreError>;
    /// The user's sessions that are neither revoked nor expired at `now`, newest first.
    fn list_sessions(&self, user_id: &str, now: Timestamp) -> Result<Vec<Session>, StoreError>;
    /// False when the user has no such live session.
    fn revoke_session(
        &self,
        user_id: &str,
        session_id: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError>;
    /// Revokes all of the user's live sessions except `keep`; returns how many.
    fn revoke_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
        now: Timestamp,
    ) -> Result<u32, StoreError>;

    /// Deletes the user and every row that belongs to them; `NotFound` when absent.
    fn delete_user(&self, user_id: &str) -> Result<(), StoreError>;
    /// `Conflict("oauth-connection")` when the provider's subject is linked already
    /// (to any account).
    fn create_oauth_connection(
        &self,
        connection: NewOauthConnection,
    ) -> Result<OauthConnection, StoreError>;
    fn get_oauth_connection(
        &self,
        provider: &str,
        subject: &str,
    ) -> Result<Option<OauthConnection>, StoreError>;
    /// The user's linked identities, oldest first.
    fn list_oauth_connections(&self, user_id: &str) -> Result<Vec<OauthConnection>, StoreError>;
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
    fn revoke_api_key(
        &self,
        user_id: &str,
        key_id: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError>;
    /// Records use of a key.
    fn touch_api_key(&self, key_id: &str, now: Timestamp) -> Result<(), StoreError>;
    fn list_preferences(&self, user_id: &str) -> Result<Vec<Preference>, StoreError>;
    /// Inserts or replaces; `value` is a JSON document.
    fn set_preference(
        &self,
        user_id: &str,
        key: &str,
        value: &str,
        now: Timestamp,
    ) -> Result<(), StoreError>;
    /// False when the preference was not set.
    fn delete_preference(&self, user_id: &str, key: &str) -> Result<bool, StoreError>;
    /// Zeros when nothing was recorded in the period yet.
    fn get_usage(&self, user_id: &str, period: &str) -> Result<Usage, StoreError>;
    /// Queues the job and counts it against `quota`, atomically; `QuotaExceeded`
    /// (and nothing written) when it would pass either limit.
    fn submit_job(&self, job: NewQuantumJob, quota: Quota) -> Result<QuantumJob, StoreError>;
    fn get_job(&self, user_id: &str, job_id: &str) -> Result<Option<QuantumJob>, StoreError>;
    /// Newest first, optionally of one status, at most `limit`.
    fn list_jobs(
        &self,
        user_id: &str,
        status: Option<JobStatus>,
        limit: u32,
    ) -> Result<Vec<QuantumJob>, StoreError>;
    /// Moves the job to `status` only when it has one of `from`; none otherwise
    /// (absent, or in another status).
    fn transition_job(
        &self,
        user_id: &str,
        job_id: &str,
        change: Transition<'_>,
    ) -> Result<Option<QuantumJob>, StoreError>;

    /// Counts one sign-in attempt under `key` before its password is checked, and
    /// locks the key when the count reaches `limit.max_attempts`, atomically; a
    /// locked key counts nothing and the attempt is not admitted.
    fn begin_login_attempt(
        &self,
        key: &str,
        now: Timestamp,
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
    pub now: Timestamp,
}
