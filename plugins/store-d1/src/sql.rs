//! The SQLite/D1 dialect as the shared store code needs it ([`D1`]), and the row
//! ids this backend generates.
//!
//! Running statements, building parameters, mapping SQL errors and decoding rows
//! are in `qhub_store_common`; what is SQLite's own is how a unique violation names
//! its key, and that D1 may hand whole numbers back as reals.

use qhub_store_common::Dialect;
use qhub_store_common::row::Integers;
pub(crate) use qhub_store_common::sql::{found, saturating_i64, stmt};

/// SQLite, as D1 and the native host run it.
pub(crate) const D1: Dialect = Dialect {
    key_in_message: failed_columns,
    integers: Integers::OrIntegralReals,
};

/// A fresh row id: a random (v4) UUID, hyphenated lowercase.
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The `table.column, ...` list of SQLite's unique-violation message, `UNIQUE
/// constraint failed: users.email`, which D1 wraps as `D1_ERROR: UNIQUE constraint
/// failed: users.email: SQLITE_CONSTRAINT`.
fn failed_columns(message: &str) -> Option<&str> {
    const MARKER: &str = "UNIQUE constraint failed: ";
    let start = message.find(MARKER)? + MARKER.len();
    let rest = &message[start..];
    // D1 appends ": SQLITE_CONSTRAINT" (and may add more after it).
    let end = rest.find(": ").unwrap_or(rest.len());
    Some(rest[..end].trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use qhub_store_common::bindings::qhub::plugin::sql::{ErrorKind, SqlError};
    use qhub_store_common::types::StoreError;

    fn unique(constraint: Option<&str>, message: &str) -> StoreError {
        D1.store_error(SqlError {
            kind: ErrorKind::UniqueViolation,
            message: message.to_owned(),
            constraint: constraint.map(str::to_owned),
        })
    }

    #[track_caller]
    fn check(constraint: Option<&str>, message: &str, expected: &str) {
        match unique(constraint, message) {
            StoreError::Conflict(what) => assert_eq!(what, expected, "{constraint:?} {message:?}"),
            other => panic!("expected a conflict, got {other:?}"),
        }
    }

    #[test]
    fn conflict_words_from_sqlite_messages() {
        check(None, "UNIQUE constraint failed: users.email", "email");
        check(
            None,
            "D1_ERROR: UNIQUE constraint failed: users.email: SQLITE_CONSTRAINT",
            "email",
        );
        check(
            None,
            "UNIQUE constraint failed: oauth_connections.provider, oauth_connections.subject",
            "oauth-connection",
        );
        check(
            None,
            "D1_ERROR: UNIQUE constraint failed: api_keys.secret_hash: SQLITE_CONSTRAINT",
            "api-key",
        );
        check(None, "UNIQUE constraint failed: api_keys.prefix", "api-key");
        check(None, "UNIQUE constraint failed: users.id", "duplicate");
        check(
            None,
            "UNIQUE constraint failed: user_sessions.id",
            "duplicate",
        );
        check(None, "something else entirely", "duplicate");
        check(None, "", "duplicate");
    }

    /// The constraint names themselves are checked in `qhub_store_common::error`.
    #[test]
    fn unhelpful_constraint_names_fall_back_to_the_message() {
        check(
            Some("sqlite_autoindex_users_2"),
            "UNIQUE constraint failed: users.email",
            "email",
        );
        check(Some("users_email_key"), "", "email");
    }

    #[test]
    fn conflict_payload_never_contains_sql() {
        let message = "UNIQUE constraint failed: users.email; INSERT INTO users (id) VALUES (?1)";
        match unique(None, message) {
            StoreError::Conflict(what) => {
                assert!(!what.contains("INSERT") && !what.contains('.'), "{what}");
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
    }
}
