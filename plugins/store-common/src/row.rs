//! Typed decoding of query results: columns are looked up by name, and a missing
//! column or a value of the wrong type is an error naming the column.

use crate::bindings::qhub::plugin::sql::{QueryResult, Value};
use crate::bindings::qhub::plugin::types::StoreError;

/// Why a row could not be decoded; always a schema mismatch or a host bug.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
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
    #[error("column `{column}` is not a {what}: {reason}")]
    Invalid {
        column: &'static str,
        what: &'static str,
        reason: String,
    },
    #[error("column `{column}` holds an unknown {what} {value:?}")]
    Unknown {
        column: &'static str,
        what: &'static str,
        value: String,
    },
}

impl From<DecodeError> for StoreError {
    fn from(err: DecodeError) -> Self {
        StoreError::Internal(format!("decoding a row: {err}"))
    }
}

/// How a dialect's host hands back integer columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Integers {
    /// Always as `integer`s; a `real` means the statement lacks a cast, and is an
    /// error (PostgreSQL: the select lists cast every time to `bigint`).
    Exact,
    /// Also as `real`s with an exact integral value: D1 hands results to the Worker
    /// as JavaScript numbers, so a host may not know an integer from a float.
    OrIntegralReals,
}

/// One row of a [`QueryResult`], read by column name.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    columns: &'a [String],
    values: &'a [Value],
    integers: Integers,
}

/// A decoder of one record from a row.
pub type Decode<T> = fn(&Row<'_>) -> Result<T, DecodeError>;

/// Every row of `result`, decoded.
pub fn all<T>(
    result: &QueryResult,
    integers: Integers,
    decode: Decode<T>,
) -> Result<Vec<T>, StoreError> {
    rows(result, integers)
        .map(|row| decode(&row).map_err(StoreError::from))
        .collect()
}

/// The first row of `result`, decoded, or none when it has no rows.
pub fn first<T>(
    result: &QueryResult,
    integers: Integers,
    decode: Decode<T>,
) -> Result<Option<T>, StoreError> {
    rows(result, integers)
        .next()
        .map(|row| decode(&row).map_err(StoreError::from))
        .transpose()
}

/// The row a `RETURNING` clause must produce; its absence is a bug.
pub fn returned<T>(
    result: &QueryResult,
    integers: Integers,
    decode: Decode<T>,
) -> Result<T, StoreError> {
    first(result, integers, decode)?
        .ok_or_else(|| StoreError::Internal("statement returned no row".to_owned()))
}

fn rows(result: &QueryResult, integers: Integers) -> impl Iterator<Item = Row<'_>> {
    result.rows.iter().map(move |values| Row {
        columns: &result.columns,
        values,
        integers,
    })
}

impl<'a> Row<'a> {
    fn value(&self, column: &'static str) -> Result<&'a Value, DecodeError> {
        self.columns
            .iter()
            .position(|name| name == column)
            .and_then(|index| self.values.get(index))
            .ok_or(DecodeError::MissingColumn(column))
    }

    /// A NOT NULL text column.
    pub fn text(&self, column: &'static str) -> Result<String, DecodeError> {
        self.opt_text(column)?.ok_or(DecodeError::WrongType {
            column,
            expected: "text",
            found: "null",
        })
    }

    /// A nullable text column.
    pub fn opt_text(&self, column: &'static str) -> Result<Option<String>, DecodeError> {
        match self.value(column)? {
            Value::Null => Ok(None),
            Value::Text(text) => Ok(Some(text.clone())),
            other => Err(wrong_type(column, "text", other)),
        }
    }

    /// A NOT NULL integer column.
    pub fn int(&self, column: &'static str) -> Result<i64, DecodeError> {
        self.opt_int(column)?.ok_or(DecodeError::WrongType {
            column,
            expected: "integer",
            found: "null",
        })
    }

    /// A nullable integer column; a real is accepted only as [`Integers`] allows.
    pub fn opt_int(&self, column: &'static str) -> Result<Option<i64>, DecodeError> {
        // 2^53: past it a float no longer represents every integer exactly.
        const EXACT: f64 = 9_007_199_254_740_992.0;
        match self.value(column)? {
            Value::Null => Ok(None),
            Value::Integer(value) => Ok(Some(*value)),
            // Integral and within ±2^53, so the cast is exact.
            Value::Real(value)
                if self.integers == Integers::OrIntegralReals
                    && value.fract() == 0.0
                    && value.abs() <= EXACT =>
            {
                Ok(Some(*value as i64))
            }
            other => Err(wrong_type(column, "integer", other)),
        }
    }

    /// A NOT NULL integer column that must fit `T` (a count, a `u32`...).
    pub fn uint<T: TryFrom<i64>>(&self, column: &'static str) -> Result<T, DecodeError> {
        let value = self.int(column)?;
        T::try_from(value).map_err(|_| DecodeError::OutOfRange { column, value })
    }

    /// A NOT NULL column holding a JSON array of strings as text (a TEXT column on
    /// D1, `jsonb` read as text on PostgreSQL).
    pub fn string_list(&self, column: &'static str) -> Result<Vec<String>, DecodeError> {
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
#[path = "row_tests.rs"]
mod tests;
