//! Running statements through the host's `sql` import, building parameters, and
//! translating the host's structured SQL errors into `store-error`s.
//!
//! store-d1 has the same helpers for SQLite; they live in a cdylib crate, so they
//! are not shared yet, and this copy keeps only what PostgreSQL needs.

use crate::bindings::qhub::plugin::sql::{
    self, ErrorKind, QueryResult, SqlError, Statement, Value,
};
use crate::bindings::qhub::plugin::types::StoreError;

/// Builds a parameter list, converting each argument with `Value::from`.
macro_rules! params {
    ($($value:expr),* $(,)?) => {
        vec![$($crate::bindings::qhub::plugin::sql::Value::from($value)),*]
    };
}
pub(crate) use params;

/// A statement for [`batch`].
pub(crate) fn stmt(sql: &str, params: Vec<Value>) -> Statement {
    Statement {
        sql: sql.to_owned(),
        params,
    }
}

/// Runs one statement.
pub(crate) fn query(sql: &str, params: Vec<Value>) -> Result<QueryResult, StoreError> {
    sql::query(&stmt(sql, params)).map_err(StoreError::from)
}

/// Runs statements atomically; one result per statement, in order.
pub(crate) fn batch(stmts: &[Statement]) -> Result<Vec<QueryResult>, StoreError> {
    let results = sql::batch(stmts).map_err(StoreError::from)?;
    if results.len() != stmts.len() {
        return Err(StoreError::Internal(format!(
            "batch of {} statements returned {} results",
            stmts.len(),
            results.len()
        )));
    }
    Ok(results)
}

/// `not-found` when a write matched no row.
pub(crate) fn found(rows_affected: u64) -> Result<(), StoreError> {
    if rows_affected == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// A `u64` limit as a `bigint`; a limit past `i64::MAX` is as good as unlimited.
pub(crate) fn saturating_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

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

impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Value::Text(value.to_owned())
    }
}

impl From<String> for Value {
    fn from(value: String) -> Self {
        Value::Text(value)
    }
}

impl From<i64> for Value {
    fn from(value: i64) -> Self {
        Value::Integer(value)
    }
}

impl From<u32> for Value {
    fn from(value: u32) -> Self {
        Value::Integer(i64::from(value))
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(value: Option<T>) -> Self {
        value.map_or(Value::Null, Into::into)
    }
}

impl From<SqlError> for StoreError {
    /// Uniqueness becomes a `conflict` naming the domain object (never SQL), a broken
    /// connection becomes `unavailable`, and a foreign-key violation `not-found`: every
    /// foreign key in the schema references `users(id)`, so it means the owning user
    /// does not exist (never existed, or was deleted concurrently). Everything else is
    /// a bug or a schema mismatch, reported as `internal` for the logs.
    fn from(err: SqlError) -> Self {
        match err.kind {
            ErrorKind::UniqueViolation => StoreError::Conflict(
                conflict_subject(err.constraint.as_deref(), &err.message).to_owned(),
            ),
            ErrorKind::ForeignKeyViolation => StoreError::NotFound,
            ErrorKind::Connection => StoreError::Unavailable(err.message),
            kind => StoreError::Internal(format!("{}: {}", kind_label(kind), err.message)),
        }
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
/// Reads the constraint name the host reports (the migration's names, e.g.
/// `users_email_key`), or else the one quoted in PostgreSQL's message, `duplicate
/// key value violates unique constraint "users_email_key"`. Falls back to
/// "duplicate" so no SQL ever reaches the caller.
pub(crate) fn conflict_subject(constraint: Option<&str>, message: &str) -> &'static str {
    constraint
        .or_else(|| quoted_constraint(message))
        .and_then(subject_of)
        .unwrap_or("duplicate")
}

/// The constraint name in PostgreSQL's unique-violation message.
fn quoted_constraint(message: &str) -> Option<&str> {
    const MARKER: &str = "unique constraint \"";
    let start = message.find(MARKER)? + MARKER.len();
    let rest = &message[start..];
    rest.find('"').map(|end| &rest[..end])
}

/// Maps a constraint name (`api_keys_prefix_key`) to the domain word of its table.
fn subject_of(name: &str) -> Option<&'static str> {
    let name = name.trim().to_ascii_lowercase();
    let in_table = |table: &str| {
        name.strip_prefix(table)
            .is_some_and(|rest| rest.starts_with('_'))
    };
    if name == "users_email_key" {
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

    #[track_caller]
    fn check(constraint: Option<&str>, message: &str, expected: &str) {
        let error = StoreError::from(SqlError {
            kind: ErrorKind::UniqueViolation,
            message: message.to_owned(),
            constraint: constraint.map(str::to_owned),
        });
        match error {
            StoreError::Conflict(what) => assert_eq!(what, expected, "{constraint:?} {message:?}"),
            other => panic!("expected a conflict, got {other:?}"),
        }
    }

    #[test]
    fn conflict_words_from_constraint_names() {
        check(Some("users_email_key"), "", "email");
        check(Some("USERS_EMAIL_KEY"), "", "email");
        check(
            Some("oauth_connections_provider_subject_key"),
            "",
            "oauth-connection",
        );
        check(Some("api_keys_secret_hash_key"), "", "api-key");
        check(Some("api_keys_prefix_key"), "", "api-key");
        check(Some("users_pkey"), "", "duplicate");
        check(Some("user_sessions_pkey"), "", "duplicate");
        check(Some("usage_records_pkey"), "", "duplicate");
        check(Some("api_keysx"), "", "duplicate");
        // The reported constraint wins over the message.
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
    fn other_kinds() {
        let error = |kind| {
            StoreError::from(SqlError {
                kind,
                message: "boom".to_owned(),
                constraint: Some("users_email_key".to_owned()),
            })
        };
        assert!(matches!(error(ErrorKind::Connection), StoreError::Unavailable(m) if m == "boom"));
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

    #[test]
    fn values_from_rust() {
        assert!(matches!(Value::from("a"), Value::Text(s) if s == "a"));
        assert!(matches!(Value::from(7_u32), Value::Integer(7)));
        assert!(matches!(Value::from(None::<String>), Value::Null));
        assert!(matches!(Value::from(Some(-3_i64)), Value::Integer(-3)));
        assert_eq!(saturating_i64(u64::MAX), i64::MAX);
        assert_eq!(saturating_i64(42), 42);
    }
}
