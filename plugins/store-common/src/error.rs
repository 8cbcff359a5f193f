//! Translating the host's structured SQL errors into `store-error`s, so the core
//! never sees SQL text or a dialect's error codes.

use crate::bindings::qhub::plugin::sql::{ErrorKind, SqlError};
use crate::bindings::qhub::plugin::types::StoreError;

/// Reads the name of the unique key a violation hit from the database's message:
/// the one part of the mapping that differs between dialects. PostgreSQL quotes the
/// constraint (`... unique constraint "users_email_key"`), SQLite lists the columns
/// (`UNIQUE constraint failed: users.email`).
pub type KeyInMessage = for<'a> fn(&'a str) -> Option<&'a str>;

/// Uniqueness becomes a `conflict` naming the domain object (never SQL), a broken
/// connection becomes `unavailable`, and a foreign-key violation `not-found`: every
/// foreign key in the schema references `users(id)`, so it means the owning user
/// does not exist (never existed, or was deleted concurrently). Everything else is
/// a bug or a schema mismatch, reported as `internal` for the logs.
pub fn store_error(err: SqlError, key_in_message: KeyInMessage) -> StoreError {
    match err.kind {
        ErrorKind::UniqueViolation => StoreError::Conflict(
            conflict_subject(err.constraint.as_deref(), &err.message, key_in_message).to_owned(),
        ),
        ErrorKind::ForeignKeyViolation => StoreError::NotFound,
        ErrorKind::Connection => StoreError::Unavailable(err.message),
        kind => StoreError::Internal(format!("{}: {}", kind_label(kind), err.message)),
    }
}

fn kind_label(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::UniqueViolation => "unique violation",
        ErrorKind::ForeignKeyViolation => "foreign key violation",
        ErrorKind::NotNullViolation => "not-null violation",
        ErrorKind::CheckViolation => "check violation",
        ErrorKind::Connection => "connection",
        ErrorKind::Query => "query rejected",
        ErrorKind::TooLarge => "too large",
        ErrorKind::Other => "database error",
    }
}

/// What a unique violation duplicated, as a domain word for `store-error::conflict`.
///
/// Prefers the constraint name when the host reports one the schema knows (the
/// migrations' names, e.g. `users_email_key`); otherwise reads the key from the
/// message with the dialect's `key_in_message`. Falls back to "duplicate" so no
/// SQL ever reaches the caller.
pub fn conflict_subject(
    constraint: Option<&str>,
    message: &str,
    key_in_message: KeyInMessage,
) -> &'static str {
    constraint
        .and_then(subject_of)
        .or_else(|| key_in_message(message).and_then(subject_of))
        .unwrap_or("duplicate")
}

/// Maps a constraint name (`api_keys_prefix_key`) or a SQLite column list
/// (`api_keys.prefix`) to the domain word of its table.
fn subject_of(name: &str) -> Option<&'static str> {
    let name = name.trim().to_ascii_lowercase();
    let in_table = |table: &str| {
        name.strip_prefix(table)
            .is_some_and(|rest| rest.starts_with('_') || rest.starts_with('.'))
    };
    if name == "users_email_key" || name == "users.email" {
        Some("email")
    } else if in_table("oauth_connections") {
        Some("oauth-connection")
    } else if in_table("api_keys") {
        Some("api-key")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dialect whose messages never name a key, so only the constraint counts.
    fn no_key(_: &str) -> Option<&str> {
        None
    }

    #[track_caller]
    fn check(constraint: Option<&str>, expected: &str) {
        let error = SqlError {
            kind: ErrorKind::UniqueViolation,
            message: String::new(),
            constraint: constraint.map(str::to_owned),
        };
        match store_error(error, no_key) {
            StoreError::Conflict(what) => assert_eq!(what, expected, "{constraint:?}"),
            other => panic!("expected a conflict, got {other:?}"),
        }
    }

    #[test]
    fn conflict_words_from_constraint_names() {
        check(Some("users_email_key"), "email");
        check(Some("USERS_EMAIL_KEY"), "email");
        check(
            Some("oauth_connections_provider_subject_key"),
            "oauth-connection",
        );
        check(Some("api_keys_secret_hash_key"), "api-key");
        check(Some("api_keys_prefix_key"), "api-key");
        check(Some("users_pkey"), "duplicate");
        check(Some("user_sessions_pkey"), "duplicate");
        check(Some("usage_records_pkey"), "duplicate");
        check(Some("api_keysx"), "duplicate");
        check(None, "duplicate");
    }

    #[test]
    fn other_kinds() {
        // Without a constraint (SQLite, D1) and with one (PostgreSQL): only a unique
        // violation reads it.
        for constraint in [None, Some("users_email_key")] {
            let error = |kind| {
                store_error(
                    SqlError {
                        kind,
                        message: "boom".to_owned(),
                        constraint: constraint.map(str::to_owned),
                    },
                    no_key,
                )
            };
            assert!(
                matches!(error(ErrorKind::Connection), StoreError::Unavailable(m) if m == "boom")
            );
            assert!(matches!(
                error(ErrorKind::ForeignKeyViolation),
                StoreError::NotFound
            ));
            for kind in [
                ErrorKind::NotNullViolation,
                ErrorKind::CheckViolation,
                ErrorKind::Query,
                ErrorKind::TooLarge,
                ErrorKind::Other,
            ] {
                assert!(
                    matches!(error(kind), StoreError::Internal(ref m) if m.ends_with(": boom")),
                    "{kind:?}"
                );
            }
        }
    }
}
