//! [`Dialect`]: running statements through the host's `sql` import and reading
//! their rows, the way one SQL dialect and its host need.

use crate::bindings::qhub::plugin::sql::{self, QueryResult, SqlError, Statement, Value};
use crate::bindings::qhub::plugin::types::StoreError;
use crate::error::{self, KeyInMessage};
use crate::row::{self, Decode, Integers};
use crate::sql::stmt;

/// What the shared code needs to know about a backend's SQL dialect. A backend
/// defines one as a constant and runs every statement and decodes every result
/// through it.
#[derive(Debug, Clone, Copy)]
pub struct Dialect {
    /// Reads a violated unique key from the database's message, for when the host
    /// reports no constraint the schema knows.
    pub key_in_message: KeyInMessage,
    /// How the host hands back integer columns.
    pub integers: Integers,
}

impl Dialect {
    /// Runs one statement.
    pub fn query(&self, sql: &str, params: Vec<Value>) -> Result<QueryResult, StoreError> {
        sql::query(&stmt(sql, params)).map_err(|err| self.store_error(err))
    }

    /// Runs statements atomically; one result per statement, in order.
    pub fn batch(&self, stmts: &[Statement]) -> Result<Vec<QueryResult>, StoreError> {
        let results = sql::batch(stmts).map_err(|err| self.store_error(err))?;
        if results.len() != stmts.len() {
            return Err(StoreError::Internal(format!(
                "batch of {} statements returned {} results",
                stmts.len(),
                results.len()
            )));
        }
        Ok(results)
    }

    /// The `store-error` for an error the host reported (see [`error::store_error`]).
    pub fn store_error(&self, err: SqlError) -> StoreError {
        error::store_error(err, self.key_in_message)
    }

    /// Every row of `result`, decoded.
    pub fn all<T>(&self, result: &QueryResult, decode: Decode<T>) -> Result<Vec<T>, StoreError> {
        row::all(result, self.integers, decode)
    }

    /// The first row of `result`, decoded, or none when it has no rows.
    pub fn first<T>(
        &self,
        result: &QueryResult,
        decode: Decode<T>,
    ) -> Result<Option<T>, StoreError> {
        row::first(result, self.integers, decode)
    }

    /// The row a `RETURNING` clause must produce; its absence is a bug.
    pub fn returned<T>(&self, result: &QueryResult, decode: Decode<T>) -> Result<T, StoreError> {
        row::returned(result, self.integers, decode)
    }
}
