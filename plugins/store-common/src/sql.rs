//! Building statements and their parameters for the host's `sql` import, and reading
//! what a write did. Running them is [`Dialect`](crate::Dialect)'s job, since the
//! errors they fail with are read per dialect.

use crate::bindings::qhub::plugin::sql::{Statement, Value};
use crate::bindings::qhub::plugin::types::StoreError;

/// Builds a parameter list, converting each argument with `Value::from`.
#[macro_export]
macro_rules! params {
    ($($value:expr),* $(,)?) => {
        vec![$($crate::bindings::qhub::plugin::sql::Value::from($value)),*]
    };
}

/// A statement for [`Dialect::batch`](crate::Dialect::batch).
pub fn stmt(sql: &str, params: Vec<Value>) -> Statement {
    Statement {
        sql: sql.to_owned(),
        params,
    }
}

/// `not-found` when a write matched no row.
pub fn found(rows_affected: u64) -> Result<(), StoreError> {
    if rows_affected == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// A `u64` limit as an SQL integer (SQLite's integers and PostgreSQL's `bigint` are
/// signed 64-bit); a limit past `i64::MAX` is as good as unlimited.
pub fn saturating_i64(value: u64) -> i64 {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_from_rust() {
        assert!(matches!(Value::from("a"), Value::Text(s) if s == "a"));
        assert!(matches!(Value::from(7_u32), Value::Integer(7)));
        assert!(matches!(Value::from(None::<String>), Value::Null));
        assert!(matches!(Value::from(Some(-3_i64)), Value::Integer(-3)));
        assert_eq!(saturating_i64(u64::MAX), i64::MAX);
        assert_eq!(saturating_i64(42), 42);
    }

    #[test]
    fn params_convert_each_argument() {
        let params = params!["a", 1_i64, None::<String>];
        assert!(matches!(
            params.as_slice(),
            [Value::Text(a), Value::Integer(1), Value::Null] if a == "a"
        ));
        assert_eq!(stmt("SELECT 1", params![]).sql, "SELECT 1");
        assert!(matches!(found(0), Err(StoreError::NotFound)));
        assert!(found(1).is_ok());
    }
}
