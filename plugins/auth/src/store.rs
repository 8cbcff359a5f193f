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
    fn create_session(&self, session: NewSession) -> Result<Session, StoreError>;
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
}
