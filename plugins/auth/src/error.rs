//! The account core's error type: one variant per outcome a caller can act on.
//!
//! Every message is a lowercase fragment that is safe to show to the user, except
//! `Internal`, whose text is for logs. No message ever carries a secret, a token or
//! password material. `lib.rs` maps each variant onto the WIT `error-code`.

use crate::email::EmailError;
use crate::keys::Scope;
use crate::password::{HashError, PolicyViolation};
use crate::store::{JobStatus, StoreError};
use crate::token::ConfigError;

/// Why an account operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The email address is malformed (`invalid-input`).
    #[error(transparent)]
    InvalidEmail(#[from] EmailError),
    /// Another field of the request is malformed (`invalid-input`).
    #[error("{0}")]
    InvalidInput(&'static str),
    /// A text field holds NUL or another control character where none makes sense
    /// (`invalid-input`); the payload names the field ("session id").
    #[error("{0} must not contain NUL or other control characters")]
    ControlCharacters(&'static str),
    /// An API key was asked for with an explicitly empty list of scopes
    /// (`invalid-input`): a key that may do nothing is a mistake, and reading it as
    /// "every scope" would fail open.
    #[error(
        "an api key needs at least one scope; hint: leave the scopes out for the default (every scope), or name some: account:read, jobs:read, jobs:write, prefs:read, prefs:write"
    )]
    NoScopes,
    /// The new password does not meet the policy (`weak-password`).
    #[error(transparent)]
    WeakPassword(#[from] PolicyViolation),
    #[error("an account with this email already exists")]
    EmailTaken,
    /// Deliberately the same for an unknown email, a wrong password and an account
    /// without a password, so a login never reveals whether an email is registered.
    #[error("invalid email or password")]
    InvalidCredentials,
    /// Too many failed sign-ins under the email or the client's address
    /// (`rate-limited`); the same for registered and unregistered emails.
    #[error("too many failed sign-ins; try again in {retry_after} seconds")]
    RateLimited {
        /// Whole seconds until the lock ends, at least 1.
        retry_after: u64,
    },
    /// The current password given to change it is wrong (`invalid-credentials`).
    #[error("current password is incorrect")]
    WrongPassword,
    /// A scope name that does not exist (`invalid-input`); the payload is the name.
    #[error(
        "unknown scope {0:?}: use account:read, jobs:read, jobs:write, prefs:read or prefs:write"
    )]
    UnknownScope(String),
    #[error(transparent)]
    Unauthenticated(#[from] AuthFailure),
    /// An API key asked for something only a session may do (`forbidden`); the
    /// payload says what, as in "API keys cannot change the password".
    #[error("API keys cannot {0}; use a session from `qhub login`")]
    SessionOnly(&'static str),
    /// An API key asked for something outside its scopes (`forbidden`).
    #[error("this API key lacks the {} scope", .0.as_str())]
    MissingScope(Scope),
    /// The named thing does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The user has no live session with this id. Also the answer for another
    /// user's session, so no one learns which session ids exist (`not-found`).
    #[error("no such session")]
    NoSuchSession,
    /// The user has no unrevoked API key with this id. Also the answer for another
    /// user's key (`not-found`).
    #[error("no such api key")]
    NoSuchApiKey,
    /// An identity without a verified email asked to sign in, and it is linked to no
    /// account (`forbidden`). The payload is the email the provider gave, unverified.
    #[error(
        "the provider did not verify the email address {0}; verify it at the provider, then sign in again (QHub links and creates accounts by verified email only)"
    )]
    UnverifiedEmail(String),
    /// An identity without any email asked to sign in, and it is linked to no
    /// account (`forbidden`).
    #[error(
        "the provider did not share an email address; make a verified email address available to QHub at the provider, then sign in again"
    )]
    NoProviderEmail,
    /// The account signs in only through OAuth providers, so it has no password to
    /// change (`conflict`). Setting a first password would need a way to prove who
    /// is asking other than the session, which the core does not offer yet.
    #[error(
        "this account has no password (it signs in through an OAuth provider), and setting a first password is not supported yet"
    )]
    NoPassword,
    /// Unlinking would leave an account without a password no way to sign in
    /// (`conflict`).
    #[error(
        "cannot unlink the last identity of an account without a password: it is the only way to sign in; sign in once with another provider that verifies the account's email, then unlink this one (`qhub passwd` cannot set a first password)"
    )]
    LastSignInMethod,
    /// The user has no linked identity with this id. Also the answer for another
    /// user's connection (`not-found`).
    #[error("no such connection")]
    NoSuchConnection,
    /// A sign-in lost a race with concurrent changes on every attempt (`conflict`).
    #[error("the account changed during sign-in; try again")]
    SignInRaced,
    /// A uniqueness rule was violated; the payload names what was duplicated.
    #[error("{0} already exists")]
    Conflict(String),
    #[error("quota exceeded")]
    QuotaExceeded,
    /// A preference value that is not a JSON document (`invalid-input`); the
    /// payload is the parser's description of where it failed.
    #[error("the preference value is not valid JSON: {0}")]
    InvalidJson(String),
    /// The user has no preference with this key (`not-found`).
    #[error("preference not set")]
    PreferenceNotSet,
    /// The user has no job with this id. Also the answer for another user's job
    /// (`not-found`).
    #[error("no such job")]
    NoSuchJob,
    /// The job cannot be cancelled any more (`conflict`).
    #[error("job is already {}", .0.as_str())]
    JobAlready(JobStatus),
    /// Queuing the job would pass the monthly quota (`quota-exceeded`). The message
    /// names the limits, not the user's usage, which `get-usage` reports.
    #[error("monthly quota reached: {jobs} jobs and {shots} shots per month; see `qhub usage`")]
    MonthlyQuota { jobs: u32, shots: u64 },
    /// The database could not be reached. The store's own text stays out of the
    /// message: it may name hosts or connection details.
    #[error("the database is unavailable")]
    Unavailable,
    /// A bug or a misconfiguration; the text is for logs.
    #[error("{0}")]
    Internal(String),
}

/// Why a token did not authenticate its bearer (`unauthenticated`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    /// Malformed, tampered, signed with another key or algorithm, wrong issuer,
    /// missing claims, or naming a session that belongs to someone else.
    #[error("invalid token")]
    InvalidToken,
    #[error("token expired")]
    TokenExpired,
    /// The session was revoked (logout, a password change, `sessions revoke`).
    #[error("session revoked")]
    SessionRevoked,
    /// The token is correctly signed but its session is not in this database:
    /// the token was issued for another database sharing the signing secret, or
    /// its account was deleted (which deletes its sessions).
    #[error("session not found: the token is not known to this database")]
    UnknownSession,
    #[error("session expired")]
    SessionExpired,
    /// A token shaped like an API key that matches no stored key.
    #[error("invalid api key")]
    InvalidApiKey,
    #[error("api key revoked")]
    ApiKeyRevoked,
    #[error("api key expired")]
    ApiKeyExpired,
}

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Error::NotFound("record"),
            StoreError::Conflict(what) => Error::Conflict(what),
            StoreError::QuotaExceeded => Error::QuotaExceeded,
            StoreError::Unavailable(_) => Error::Unavailable,
            StoreError::Internal(detail) => Error::Internal(format!("store: {detail}")),
        }
    }
}

impl From<HashError> for Error {
    fn from(error: HashError) -> Self {
        Error::Internal(error.to_string())
    }
}

impl From<ConfigError> for Error {
    fn from(error: ConfigError) -> Self {
        Error::Internal(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(error: StoreError, expected: Error, message: &str) {
        let mapped = Error::from(error);
        assert_eq!(mapped, expected);
        assert_eq!(mapped.to_string(), message);
    }

    #[test]
    fn store_errors_map_to_account_errors() {
        check(
            StoreError::NotFound,
            Error::NotFound("record"),
            "record not found",
        );
        check(
            StoreError::Conflict("oauth-connection".into()),
            Error::Conflict("oauth-connection".into()),
            "oauth-connection already exists",
        );
        check(
            StoreError::QuotaExceeded,
            Error::QuotaExceeded,
            "quota exceeded",
        );
        check(
            StoreError::Unavailable("connect to 10.0.0.5:5432 refused".into()),
            Error::Unavailable,
            "the database is unavailable",
        );
        check(
            StoreError::Internal("no such table: users".into()),
            Error::Internal("store: no such table: users".into()),
            "store: no such table: users",
        );
    }
}
