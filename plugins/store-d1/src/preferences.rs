//! User preferences: the `user_preferences` table, one JSON document per key.

use crate::bindings::qhub::plugin::types::{Preference, StoreError, Timestamp};
use crate::row::{self, DecodeError, Row};
use crate::sql::{self, params};

fn decode(row: &Row<'_>) -> Result<Preference, DecodeError> {
    Ok(Preference {
        key: row.text("key")?,
        value: row.text("value")?,
        updated_at: row.int("updated_at")?,
    })
}

/// Ordered by key, so listings are stable.
pub(crate) fn list(user_id: String) -> Result<Vec<Preference>, StoreError> {
    let result = sql::query(
        "SELECT key, value, updated_at FROM user_preferences WHERE user_id = ?1 ORDER BY key",
        params![user_id],
    )?;
    row::all(&result, decode)
}

/// An upsert, so concurrent writers of one key cannot collide; the last one wins.
/// A value that is not JSON fails `user_preferences_value_check` (`internal`), and
/// an unknown user fails the foreign key (`not-found`).
pub(crate) fn set(
    user_id: String,
    key: String,
    value: String,
    now: Timestamp,
) -> Result<(), StoreError> {
    sql::query(
        "INSERT INTO user_preferences (user_id, key, value, updated_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (user_id, key) DO UPDATE SET \
         value = excluded.value, updated_at = excluded.updated_at",
        params![user_id, key, value, now],
    )?;
    Ok(())
}

pub(crate) fn delete(user_id: String, key: String) -> Result<bool, StoreError> {
    let result = sql::query(
        "DELETE FROM user_preferences WHERE user_id = ?1 AND key = ?2",
        params![user_id, key],
    )?;
    Ok(result.rows_affected > 0)
}
