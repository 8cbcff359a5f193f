//! API keys: the `api_keys` table. Only a hash of each secret is stored; scopes are
//! a `jsonb` array of strings.

use qhub_store_common::types::{ApiKey, NewApiKey, StoreError, Timestamp};
use qhub_store_common::{params, records};

use crate::columns::{Column, select_list, time_param};
use crate::sql::{self, POSTGRES};

const COLUMNS: &[Column] = &[
    Column::uuid("id"),
    Column::uuid("user_id"),
    Column::plain("name"),
    Column::plain("prefix"),
    Column::plain("secret_hash"),
    Column::json("scopes"),
    Column::time("created_at"),
    Column::time("expires_at"),
    Column::time("last_used_at"),
    Column::time("revoked_at"),
];

/// `conflict("api-key")` when the prefix or the secret hash already exists.
pub(crate) fn create(key: NewApiKey) -> Result<ApiKey, StoreError> {
    if !sql::is_id(&key.user_id) {
        return Err(StoreError::NotFound);
    }
    let scopes = records::scopes_json(&key.scopes)?;
    let sql = format!(
        "INSERT INTO api_keys (user_id, name, prefix, secret_hash, scopes, created_at, \
         expires_at, last_used_at, revoked_at) \
         VALUES ($1::uuid, $2::text, $3::text, $4::text, $5::jsonb, {created_at}, \
         {expires_at}, NULL, NULL) RETURNING {columns}",
        created_at = time_param(6),
        expires_at = time_param(7),
        columns = select_list(COLUMNS),
    );
    let result = POSTGRES.query(
        &sql,
        params![
            key.user_id,
            key.name,
            key.prefix,
            key.secret_hash,
            scopes,
            key.created_at,
            key.expires_at,
        ],
    )?;
    POSTGRES.returned(&result, records::api_key)
}

/// Returns the key whatever its state (revoked, expired); the core judges it.
pub(crate) fn get_by_hash(secret_hash: String) -> Result<Option<ApiKey>, StoreError> {
    let sql = format!(
        "SELECT {} FROM api_keys WHERE secret_hash = $1::text",
        select_list(COLUMNS)
    );
    let result = POSTGRES.query(&sql, params![secret_hash])?;
    POSTGRES.first(&result, records::api_key)
}

/// Newest first, revoked ones included so a user sees their history.
pub(crate) fn list(user_id: String) -> Result<Vec<ApiKey>, StoreError> {
    if !sql::is_id(&user_id) {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {} FROM api_keys WHERE user_id = $1::uuid ORDER BY created_at DESC, id DESC",
        select_list(COLUMNS)
    );
    let result = POSTGRES.query(&sql, params![user_id])?;
    POSTGRES.all(&result, records::api_key)
}

/// False when the user has no such key, or it was already revoked.
pub(crate) fn revoke(user_id: String, key_id: String, now: Timestamp) -> Result<bool, StoreError> {
    if !sql::is_id(&user_id) || !sql::is_id(&key_id) {
        return Ok(false);
    }
    let sql = format!(
        "UPDATE api_keys SET revoked_at = {now} \
         WHERE id = $2::uuid AND user_id = $1::uuid AND revoked_at IS NULL",
        now = time_param(3),
    );
    let result = POSTGRES.query(&sql, params![user_id, key_id, now])?;
    Ok(result.rows_affected > 0)
}

/// `last_used_at` never moves backwards, so requests finishing out of order do not
/// rewind it. PostgreSQL's `greatest` skips NULLs, so a first use sets it to `now`.
pub(crate) fn touch(key_id: String, now: Timestamp) -> Result<(), StoreError> {
    if !sql::is_id(&key_id) {
        return Err(StoreError::NotFound);
    }
    let sql = format!(
        "UPDATE api_keys SET last_used_at = greatest(last_used_at, {now}) WHERE id = $1::uuid",
        now = time_param(2),
    );
    let result = POSTGRES.query(&sql, params![key_id, now])?;
    sql::found(result.rows_affected)
}
