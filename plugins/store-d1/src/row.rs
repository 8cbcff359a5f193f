//! Typed decoding of query results: columns are looked up by name, and a missing
//! column or a value of the wrong type is an error naming the column.

use crate::bindings::qhub::plugin::sql::{QueryResult, Value};
use crate::bindings::qhub::plugin::types::StoreError;

/// Why a row could not be decoded; always a schema mismatch or a host bug.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum DecodeError {
    #[error("column `{0}` is missing from the result")]
    MissingColumn(&'static str),
    #[error("column `{column}` holds {found}, expected {expected}")]
    WrongType {
        column: &'static str,
        expected: &'static str,
        found: &'static str,
    },
    #[error("column `{column}` holds {value}, out of range")]
    OutOfRange { column: &'static str, value: i64 },
    #[error("column `{column}` holds an invalid {what}: {reason}")]
    Invalid {
        column: &'static str,
        what: &'static str,
        reason: String,
    },
}

impl From<DecodeError> for StoreError {
    fn from(err: DecodeError) -> Self {
        StoreError::Internal(format!("decoding a row: {err}"))
    }
}

/// One row of a [`QueryResult`], read by column name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Row<'a> {
    columns: &'a [String],
    values: &'a [Value],
}

/// A decoder of one record from a row.
pub(crate) type Decode<T> = fn(&Row<'_>) -> Result<T, DecodeError>;

/// Every row of `result`, decoded.
pub(crate) fn all<T>(result: &QueryResult, decode: Decode<T>) -> Result<Vec<T>, StoreError> {
    rows(result)
        .map(|row| decode(&row).map_err(StoreError::from))
        .collect()
}

/// The first row of `result`, decoded, or none when it has no rows.
pub(crate) fn first<T>(result: &QueryResult, decode: Decode<T>) -> Result<Option<T>, StoreError> {
    rows(result)
        .next()
        .map(|row| decode(&row).map_err(StoreError::from))
        .transpose()
}

/// The row a `RETURNING` clause must produce; its absence is a bug.
pub(crate) fn returned<T>(result: &QueryResult, decode: Decode<T>) -> Result<T, StoreError> {
    first(result, decode)?
        .ok_or_else(|| StoreError::Internal("statement returned no row".to_owned()))
}

fn rows(result: &QueryResult) -> impl Iterator<Item = Row<'_>> {
    result.rows.iter().map(|values| Row {
        columns: &result.columns,
        values,
    })
}

impl<'a> Row<'a> {
    #[cfg(test)]
    pub(crate) fn new(columns: &'a [String], values: &'a [Value]) -> Self {
        Self { columns, values }
    }

    fn value(&self, column: &'static str) -> Result<&'a Value, DecodeError> {
        self.columns
            .iter()
            .position(|name| name == column)
            .and_then(|index| self.values.get(index))
            .ok_or(DecodeError::MissingColumn(column))
    }

    /// A NOT NULL text column.
    pub(crate) fn text(&self, column: &'static str) -> Result<String, DecodeError> {
        self.opt_text(column)?.ok_or(DecodeError::WrongType {
            column,
            expected: "text",
            found: "null",
        })
    }

    /// A nullable text column.
    pub(crate) fn opt_text(&self, column: &'static str) -> Result<Option<String>, DecodeError> {
        match self.value(column)? {
            Value::Null => Ok(None),
            Value::Text(text) => Ok(Some(text.clone())),
            other => Err(wrong_type(column, "text", other)),
        }
    }

    /// A NOT NULL integer column.
    pub(crate) fn int(&self, column: &'static str) -> Result<i64, DecodeError> {
        self.opt_int(column)?.ok_or(DecodeError::WrongType {
            column,
            expected: "integer",
            found: "null",
        })
    }

    /// A nullable integer column.
    ///
    /// A real with an exact integral value is accepted too: D1 hands results to the
    /// Worker as JavaScript numbers, so a host may not know an integer from a float.
    pub(crate) fn opt_int(&self, column: &'static str) -> Result<Option<i64>, DecodeError> {
        // 2^53: past it a float no longer represents every integer exactly.
        const EXACT: f64 = 9_007_199_254_740_992.0;
        match self.value(column)? {
            Value::Null => Ok(None),
            Value::Integer(value) => Ok(Some(*value)),
            // Integral and within ±2^53, so the cast is exact.
            Value::Real(value) if value.fract() == 0.0 && value.abs() <= EXACT => {
                Ok(Some(*value as i64))
            }
            other => Err(wrong_type(column, "integer", other)),
        }
    }

    /// A NOT NULL integer column that must fit `T` (a count, a `u32`...).
    pub(crate) fn uint<T: TryFrom<i64>>(&self, column: &'static str) -> Result<T, DecodeError> {
        let value = self.int(column)?;
        T::try_from(value).map_err(|_| DecodeError::OutOfRange { column, value })
    }

    /// A NOT NULL text column holding a JSON array of strings.
    pub(crate) fn string_list(&self, column: &'static str) -> Result<Vec<String>, DecodeError> {
        let text = self.text(column)?;
        serde_json::from_str(&text).map_err(|err| DecodeError::Invalid {
            column,
            what: "json array of strings",
            reason: err.to_string(),
        })
    }
}

fn wrong_type(column: &'static str, expected: &'static str, found: &Value) -> DecodeError {
    DecodeError::WrongType {
        column,
        expected,
        found: type_name(found),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Integer(_) => "integer",
        Value::Real(_) => "real",
        Value::Text(_) => "text",
        Value::Blob(_) => "blob",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> Vec<String> {
        ["name", "count", "maybe", "scopes", "ratio", "flag"]
            .map(str::to_owned)
            .to_vec()
    }

    fn values() -> Vec<Value> {
        vec![
            Value::Text("ada".to_owned()),
            Value::Integer(3),
            Value::Null,
            Value::Text(r#"["jobs:read","jobs:write"]"#.to_owned()),
            Value::Real(1_700_000_000_000.0),
            Value::Blob(vec![1]),
        ]
    }

    #[test]
    fn reads_columns_by_name() {
        let (columns, values) = (columns(), values());
        let row = Row::new(&columns, &values);
        assert_eq!(row.text("name"), Ok("ada".to_owned()));
        assert_eq!(row.int("count"), Ok(3));
        assert_eq!(row.uint::<u32>("count"), Ok(3));
        assert_eq!(row.opt_text("maybe"), Ok(None));
        assert_eq!(row.opt_int("maybe"), Ok(None));
        assert_eq!(row.int("ratio"), Ok(1_700_000_000_000));
        assert_eq!(
            row.string_list("scopes"),
            Ok(vec!["jobs:read".to_owned(), "jobs:write".to_owned()])
        );
    }

    #[test]
    fn errors_name_the_column() {
        let (columns, values) = (columns(), values());
        let row = Row::new(&columns, &values);
        assert_eq!(row.text("nope"), Err(DecodeError::MissingColumn("nope")));
        assert_eq!(
            row.text("count"),
            Err(DecodeError::WrongType {
                column: "count",
                expected: "text",
                found: "integer"
            })
        );
        assert_eq!(
            row.int("maybe"),
            Err(DecodeError::WrongType {
                column: "maybe",
                expected: "integer",
                found: "null"
            })
        );
        assert_eq!(
            row.opt_int("flag"),
            Err(DecodeError::WrongType {
                column: "flag",
                expected: "integer",
                found: "blob"
            })
        );
        assert!(matches!(
            row.string_list("name"),
            Err(DecodeError::Invalid { column: "name", .. })
        ));
        let message = StoreError::from(row.text("count").expect_err("count is not text"));
        assert!(
            matches!(&message, StoreError::Internal(m) if m.contains("`count`")),
            "{message:?}"
        );
    }

    #[test]
    fn rejects_inexact_reals_and_out_of_range() {
        let columns = ["a", "b", "c"].map(str::to_owned).to_vec();
        let values = vec![Value::Real(1.5), Value::Integer(-1), Value::Real(1e300)];
        let row = Row::new(&columns, &values);
        assert!(matches!(
            row.int("a"),
            Err(DecodeError::WrongType { found: "real", .. })
        ));
        assert_eq!(
            row.uint::<u32>("b"),
            Err(DecodeError::OutOfRange {
                column: "b",
                value: -1
            })
        );
        assert!(matches!(row.int("c"), Err(DecodeError::WrongType { .. })));
    }

    #[test]
    fn short_rows_are_missing_columns() {
        let columns = ["a", "b"].map(str::to_owned).to_vec();
        let values = vec![Value::Integer(1)];
        let row = Row::new(&columns, &values);
        assert_eq!(row.int("b"), Err(DecodeError::MissingColumn("b")));
    }

    #[test]
    fn helpers_over_results() {
        let result = QueryResult {
            columns: vec!["n".to_owned()],
            rows: vec![vec![Value::Integer(1)], vec![Value::Integer(2)]],
            rows_affected: 0,
        };
        let decode: Decode<i64> = |row| row.int("n");
        assert_eq!(all(&result, decode).ok(), Some(vec![1, 2]));
        assert_eq!(first(&result, decode).ok(), Some(Some(1)));
        let empty = QueryResult {
            columns: vec!["n".to_owned()],
            rows: vec![],
            rows_affected: 0,
        };
        assert_eq!(first(&empty, decode).ok(), Some(None));
        assert!(matches!(
            returned(&empty, decode),
            Err(StoreError::Internal(_))
        ));
    }
}
