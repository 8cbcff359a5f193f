//! Typed decoding of query results: columns are looked up by name, and a missing
//! column or a value of the wrong type is an `internal` error naming the column.
//!
//! The select lists of `columns.rs` hand back only text and integers, with their
//! exact types (unlike D1, whose numbers may arrive as floats), so this is a subset
//! of store-d1's decoder.

use crate::bindings::qhub::plugin::sql::{QueryResult, Value};
use crate::bindings::qhub::plugin::types::StoreError;

/// One row of a [`QueryResult`], read by column name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Row<'a> {
    columns: &'a [String],
    values: &'a [Value],
}

/// A decoder of one record from a row.
pub(crate) type Decode<T> = fn(&Row<'_>) -> Result<T, StoreError>;

/// Every row of `result`, decoded.
pub(crate) fn all<T>(result: &QueryResult, decode: Decode<T>) -> Result<Vec<T>, StoreError> {
    rows(result).map(|row| decode(&row)).collect()
}

/// The first row of `result`, decoded, or none when it has no rows.
pub(crate) fn first<T>(result: &QueryResult, decode: Decode<T>) -> Result<Option<T>, StoreError> {
    rows(result).next().map(|row| decode(&row)).transpose()
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

fn invalid(column: &str, problem: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(format!("decoding a row: column `{column}` {problem}"))
}

impl<'a> Row<'a> {
    fn value(&self, column: &str) -> Result<&'a Value, StoreError> {
        self.columns
            .iter()
            .position(|name| name == column)
            .and_then(|index| self.values.get(index))
            .ok_or_else(|| invalid(column, "is missing from the result"))
    }

    /// A NOT NULL text column.
    pub(crate) fn text(&self, column: &str) -> Result<String, StoreError> {
        self.opt_text(column)?
            .ok_or_else(|| invalid(column, "holds null, expected text"))
    }

    /// A nullable text column.
    pub(crate) fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError> {
        match self.value(column)? {
            Value::Null => Ok(None),
            Value::Text(text) => Ok(Some(text.clone())),
            other => Err(wrong_type(column, "text", other)),
        }
    }

    /// A NOT NULL integer column.
    pub(crate) fn int(&self, column: &str) -> Result<i64, StoreError> {
        self.opt_int(column)?
            .ok_or_else(|| invalid(column, "holds null, expected integer"))
    }

    /// A nullable integer column.
    pub(crate) fn opt_int(&self, column: &str) -> Result<Option<i64>, StoreError> {
        match self.value(column)? {
            Value::Null => Ok(None),
            Value::Integer(value) => Ok(Some(*value)),
            other => Err(wrong_type(column, "integer", other)),
        }
    }

    /// A NOT NULL integer column that must fit `T` (a count, a `u32`...).
    pub(crate) fn uint<T: TryFrom<i64>>(&self, column: &str) -> Result<T, StoreError> {
        let value = self.int(column)?;
        T::try_from(value).map_err(|_| invalid(column, format_args!("holds {value}, out of range")))
    }

    /// A NOT NULL `jsonb` column (read as text) holding an array of strings.
    pub(crate) fn string_list(&self, column: &str) -> Result<Vec<String>, StoreError> {
        let text = self.text(column)?;
        serde_json::from_str(&text).map_err(|err| {
            invalid(
                column,
                format_args!("is not a json array of strings: {err}"),
            )
        })
    }
}

fn wrong_type(column: &str, expected: &str, found: &Value) -> StoreError {
    let found = match found {
        Value::Null => "null",
        Value::Integer(_) => "integer",
        Value::Real(_) => "real",
        Value::Text(_) => "text",
        Value::Blob(_) => "blob",
    };
    invalid(column, format_args!("holds {found}, expected {expected}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result() -> QueryResult {
        QueryResult {
            columns: ["name", "count", "maybe", "scopes", "ratio"]
                .map(str::to_owned)
                .to_vec(),
            rows: vec![
                vec![
                    Value::Text("ada".to_owned()),
                    Value::Integer(3),
                    Value::Null,
                    // jsonb's text form, with its spaces.
                    Value::Text(r#"["jobs:read", "jobs:write"]"#.to_owned()),
                    Value::Real(1.0),
                ],
                vec![Value::Text("short row".to_owned())],
            ],
            rows_affected: 0,
        }
    }

    #[track_caller]
    fn internal<T: std::fmt::Debug>(result: Result<T, StoreError>, fragment: &str) {
        match result {
            Err(StoreError::Internal(message)) => {
                assert!(message.contains(fragment), "{message:?} lacks {fragment:?}");
            }
            other => panic!("expected an internal error, got {other:?}"),
        }
    }

    #[test]
    fn reads_columns_by_name() {
        let result = result();
        let row = rows(&result).next().expect("a row");
        assert_eq!(row.text("name").ok(), Some("ada".to_owned()));
        assert_eq!(row.int("count").ok(), Some(3));
        assert_eq!(row.uint::<u32>("count").ok(), Some(3));
        assert_eq!(row.opt_text("maybe").ok(), Some(None));
        assert_eq!(row.opt_int("maybe").ok(), Some(None));
        assert_eq!(
            row.string_list("scopes").ok(),
            Some(vec!["jobs:read".to_owned(), "jobs:write".to_owned()])
        );
    }

    #[test]
    fn errors_name_the_column() {
        let result = result();
        let mut rows = rows(&result);
        let row = rows.next().expect("a row");
        internal(row.text("nope"), "`nope` is missing");
        internal(row.text("count"), "`count` holds integer, expected text");
        internal(row.int("maybe"), "`maybe` holds null, expected integer");
        // Times come back as bigint; a float means the select list lacks its cast.
        internal(row.int("ratio"), "`ratio` holds real, expected integer");
        internal(row.string_list("name"), "`name` is not a json array");
        let short = rows.next().expect("a second row");
        internal(short.int("count"), "`count` is missing");
    }

    #[test]
    fn out_of_range_integers_are_refused() {
        let columns = vec!["n".to_owned()];
        let values = vec![Value::Integer(-1)];
        let row = Row {
            columns: &columns,
            values: &values,
        };
        internal(row.uint::<u32>("n"), "holds -1, out of range");
    }

    #[test]
    fn helpers_over_results() {
        let decode: Decode<i64> = |row| row.int("n");
        let result = QueryResult {
            columns: vec!["n".to_owned()],
            rows: vec![vec![Value::Integer(1)], vec![Value::Integer(2)]],
            rows_affected: 0,
        };
        assert_eq!(all(&result, decode).ok(), Some(vec![1, 2]));
        assert_eq!(first(&result, decode).ok(), Some(Some(1)));
        let empty = QueryResult {
            columns: vec!["n".to_owned()],
            rows: vec![],
            rows_affected: 0,
        };
        assert_eq!(first(&empty, decode).ok(), Some(None));
        internal(returned(&empty, decode), "returned no row");
    }
}
