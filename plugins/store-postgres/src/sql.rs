//! The PostgreSQL dialect as the shared store code needs it ([`POSTGRES`]), and
//! which ids can name a row.
//!
//! Running statements, building parameters, mapping SQL errors and decoding rows
//! are in `qhub_store_common`, shared with store-d1; what is PostgreSQL's own is
//! how a unique violation names its constraint, and `uuid` ids.

use qhub_store_common::Dialect;
use qhub_store_common::row::Integers;
pub(crate) use qhub_store_common::sql::{found, saturating_i64, stmt};

/// PostgreSQL, as the native host runs it. Integers come back exactly: the select
/// lists of `columns.rs` cast every time to `bigint`.
pub(crate) const POSTGRES: Dialect = Dialect {
    key_in_message: quoted_constraint,
    integers: Integers::Exact,
};

/// Whether `text` can be a row id: a UUID in the form PostgreSQL prints it
/// (lowercase, hyphenated), the only form this plugin ever hands out.
///
/// Ids are plain text on D1, where any other string simply matches no row. Here
/// `$1::uuid` would instead fail the statement on a malformed id, and would match a
/// row for an uppercase or brace-wrapped spelling; so operations answer "no such
/// row" for such ids without asking the database, exactly as store-d1 does.
pub(crate) fn is_id(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(index, byte)| match index {
            8 | 13 | 18 | 23 => byte == b'-',
            _ => matches!(byte, b'0'..=b'9' | b'a'..=b'f'),
        })
}

/// The constraint name in PostgreSQL's unique-violation message, `duplicate key
/// value violates unique constraint "users_email_key"`, for when the host does not
/// report it.
fn quoted_constraint(message: &str) -> Option<&str> {
    const MARKER: &str = "unique constraint \"";
    let start = message.find(MARKER)? + MARKER.len();
    let rest = &message[start..];
    rest.find('"').map(|end| &rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use qhub_store_common::bindings::qhub::plugin::sql::{ErrorKind, SqlError};
    use qhub_store_common::types::StoreError;

    #[track_caller]
    fn check(constraint: Option<&str>, message: &str, expected: &str) {
        let error = POSTGRES.store_error(SqlError {
            kind: ErrorKind::UniqueViolation,
            message: message.to_owned(),
            constraint: constraint.map(str::to_owned),
        });
        match error {
            StoreError::Conflict(what) => assert_eq!(what, expected, "{constraint:?} {message:?}"),
            other => panic!("expected a conflict, got {other:?}"),
        }
    }

    /// The constraint names themselves are checked in `qhub_store_common::error`.
    #[test]
    fn reported_constraints_win_over_the_message() {
        check(Some("users_email_key"), "", "email");
        check(
            Some("api_keys_prefix_key"),
            "duplicate key value violates unique constraint \"users_email_key\"",
            "api-key",
        );
    }

    #[test]
    fn conflict_words_from_postgres_messages() {
        let message =
            |name: &str| format!("duplicate key value violates unique constraint \"{name}\"");
        check(None, &message("users_email_key"), "email");
        check(
            None,
            &message("oauth_connections_provider_subject_key"),
            "oauth-connection",
        );
        check(None, &message("api_keys_secret_hash_key"), "api-key");
        check(None, &message("users_pkey"), "duplicate");
        check(
            None,
            "duplicate key value violates unique constraint \"",
            "duplicate",
        );
        check(None, "something else entirely", "duplicate");
        check(None, "", "duplicate");
    }

    #[test]
    fn ids_are_canonical_uuids_only() {
        let cases = [
            ("0b9f6c1e-6a8e-4d52-9a3f-2f1d6c7e8a90", true),
            ("00000000-0000-0000-0000-000000000000", true),
            ("0B9F6C1E-6A8E-4D52-9A3F-2F1D6C7E8A90", false),
            ("{0b9f6c1e-6a8e-4d52-9a3f-2f1d6c7e8a90}", false),
            ("0b9f6c1e6a8e4d529a3f2f1d6c7e8a90", false),
            ("0b9f6c1e-6a8e-4d52-9a3f-2f1d6c7e8a9", false),
            ("0b9f6c1e-6a8e-4d52-9a3f-2f1d6c7e8a90 ", false),
            ("0b9f6c1e-6a8e-4d52-9a3f_2f1d6c7e8a90", false),
            ("0b9f6c1e-6a8e-4d52-9a3f-2f1d6c7e8g90", false),
            ("", false),
            ("not-a-uuid", false),
        ];
        for (text, expected) in cases {
            assert_eq!(is_id(text), expected, "{text:?}");
        }
    }
}
