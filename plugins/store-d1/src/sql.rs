//! Running statements through the host's `sql` import, building parameters, and
//! translating the host's structured SQL errors into `store-error`s.

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

/// A fresh row id: a random (v4) UUID, hyphenated lowercase.
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// `not-found` when a write matched no row.
pub(crate) fn found(rows_affected: u64) -> Result<(), StoreError> {
    if rows_affected == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// A `u64` limit as an SQL integer; SQLite integers are signed 64-bit, and a limit
/// past `i64::MAX` is as good as unlimited.
pub(crate) fn saturating_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
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
/// Prefers the constraint name when the host knows it (the migration's names, e.g.
/// `users_email_key`); otherwise reads SQLite's message, `UNIQUE constraint failed:
/// users.email`, which D1 wraps as `D1_ERROR: UNIQUE constraint failed: users.email:
/// SQLITE_CONSTRAINT`. Falls back to "duplicate" so no SQL ever reaches the caller.
pub(crate) fn conflict_subject(constraint: Option<&str>, message: &str) -> &'static str {
    constraint
        .and_then(subject_of)
        .or_else(|| failed_columns(message).and_then(subject_of))
        .unwrap_or("duplicate")
}

/// The `table.column, ...` list of SQLite's unique-violation message.
fn failed_columns(message: &str) -> Option<&str> {
    const MARKER: &str = "UNIQUE constraint failed: ";
    let start = message.find(MARKER)? + MARKER.len();
    let rest = &message[start..];
    // D1 appends ": SQLITE_CONSTRAINT" (and may add more after it).
    let end = rest.find(": ").unwrap_or(rest.len());
    Some(rest[..end].trim())
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

    fn unique(constraint: Option<&str>, message: &str) -> StoreError {
        StoreError::from(SqlError {
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
        // An unhelpful constraint name falls back to the message.
        check(
            Some("sqlite_autoindex_users_2"),
            "UNIQUE constraint failed: users.email",
            "email",
        );
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

    #[test]
    fn other_kinds() {
        let error = |kind| {
            StoreError::from(SqlError {
                kind,
                message: "boom".to_owned(),
                constraint: None,
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
    fn values_from_rust() {
        assert!(matches!(Value::from("a"), Value::Text(s) if s == "a"));
        assert!(matches!(Value::from(7_u32), Value::Integer(7)));
        assert!(matches!(Value::from(None::<String>), Value::Null));
        assert!(matches!(Value::from(Some(-3_i64)), Value::Integer(-3)));
        assert_eq!(saturating_i64(u64::MAX), i64::MAX);
        assert_eq!(saturating_i64(42), 42);
    }
}
