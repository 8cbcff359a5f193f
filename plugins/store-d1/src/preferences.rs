//! User preferences: the `user_preferences` table, one JSON document per key.

use qhub_store_common::types::{Preference, StoreError, Timestamp};
use qhub_store_common::{params, records};

use crate::sql::D1;

/// Ordered by key, so listings are stable.
pub(crate) fn list(user_id: String) -> Result<Vec<Preference>, StoreError> {
    let result = D1.query(
        "SELECT key, value, updated_at FROM user_preferences WHERE user_id = ?1 ORDER BY key",
        params![user_id],
    )?;
    D1.all(&result, records::preference)
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
    D1.query(
        "INSERT INTO user_preferences (user_id, key, value, updated_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (user_id, key) DO UPDATE SET \
         value = excluded.value, updated_at = excluded.updated_at",
        params![user_id, key, value, now],
    )?;
    Ok(())
}

pub(crate) fn delete(user_id: String, key: String) -> Result<bool, StoreError> {
    let result = D1.query(
        "DELETE FROM user_preferences WHERE user_id = ?1 AND key = ?2",
        params![user_id, key],
    )?;
    Ok(result.rows_affected > 0)
}
