//! User preferences: the `user_preferences` table, one `jsonb` document per key.

use qhub_store_common::types::{Preference, StoreError, Timestamp};
use qhub_store_common::{params, records};

use crate::columns::{Column, select_list, set_updated_at, time_param};
use crate::sql::{self, POSTGRES};

const COLUMNS: &[Column] = &[
    Column::plain("key"),
    Column::json("value"),
    Column::time("updated_at"),
];

/// Ordered by key, byte by byte (`COLLATE "C"`) like SQLite's default collation,
/// so listings are stable and the same whatever the database's locale.
pub(crate) fn list(user_id: String) -> Result<Vec<Preference>, StoreError> {
    if !sql::is_id(&user_id) {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {} FROM user_preferences WHERE user_id = $1::uuid ORDER BY key COLLATE \"C\"",
        select_list(COLUMNS)
    );
    let result = POSTGRES.query(&sql, params![user_id])?;
    POSTGRES.all(&result, records::preference)
}

/// An upsert, so concurrent writers of one key cannot collide; the last one wins.
/// A value that is not JSON fails the `::jsonb` cast (`internal`, as D1's
/// `user_preferences_value_check` does), and an unknown user fails the foreign key
/// (`not-found`).
pub(crate) fn set(
    user_id: String,
    key: String,
    value: String,
    now: Timestamp,
) -> Result<(), StoreError> {
    if !sql::is_id(&user_id) {
        return Err(StoreError::NotFound);
    }
    let sql = format!(
        "INSERT INTO user_preferences (user_id, key, value, updated_at) \
         VALUES ($1::uuid, $2::text, $3::jsonb, {now}) \
         ON CONFLICT (user_id, key) DO UPDATE SET value = excluded.value, updated_at = {updated_at}",
        now = time_param(4),
        updated_at = set_updated_at("user_preferences.updated_at", "excluded.updated_at"),
    );
    POSTGRES.query(&sql, params![user_id, key, value, now])?;
    Ok(())
}

pub(crate) fn delete(user_id: String, key: String) -> Result<bool, StoreError> {
    if !sql::is_id(&user_id) {
        return Ok(false);
    }
    let result = POSTGRES.query(
        "DELETE FROM user_preferences WHERE user_id = $1::uuid AND key = $2::text",
        params![user_id, key],
    )?;
    Ok(result.rows_affected > 0)
}
