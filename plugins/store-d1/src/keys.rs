//! API keys: the `api_keys` table. Only a hash of each secret is stored; scopes are
//! a JSON array of strings in a TEXT column.

use qhub_store_common::types::{ApiKey, NewApiKey, StoreError, Timestamp};
use qhub_store_common::{params, records};

use crate::sql::{self, D1};

macro_rules! columns {
    () => {
        "id, user_id, name, prefix, secret_hash, scopes, created_at, expires_at, \
         last_used_at, revoked_at"
    };
}

/// `conflict("api-key")` when the prefix or the secret hash already exists.
pub(crate) fn create(key: NewApiKey) -> Result<ApiKey, StoreError> {
    let scopes = records::scopes_json(&key.scopes)?;
    let result = D1.query(
        concat!(
            "INSERT INTO api_keys (id, user_id, name, prefix, secret_hash, scopes, created_at, \
             expires_at, last_used_at, revoked_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, NULL) RETURNING ",
            columns!()
        ),
        params![
            sql::new_id(),
            key.user_id,
            key.name,
            key.prefix,
            key.secret_hash,
            scopes,
            key.created_at,
            key.expires_at,
        ],
    )?;
    D1.returned(&result, records::api_key)
}

/// Returns the key whatever its state (revoked, expired); the core judges it.
pub(crate) fn get_by_hash(secret_hash: String) -> Result<Option<ApiKey>, StoreError> {
    let result = D1.query(
        concat!(
            "SELECT ",
            columns!(),
            " FROM api_keys WHERE secret_hash = ?1"
        ),
        params![secret_hash],
    )?;
    D1.first(&result, records::api_key)
}

/// Newest first, revoked ones included so a user sees their history.
pub(crate) fn list(user_id: String) -> Result<Vec<ApiKey>, StoreError> {
    let result = D1.query(
        concat!(
            "SELECT ",
            columns!(),
            " FROM api_keys WHERE user_id = ?1 ORDER BY created_at DESC, id DESC"
        ),
        params![user_id],
    )?;
    D1.all(&result, records::api_key)
}

/// False when the user has no such key, or it was already revoked.
pub(crate) fn revoke(user_id: String, key_id: String, now: Timestamp) -> Result<bool, StoreError> {
    let result = D1.query(
        "UPDATE api_keys SET revoked_at = ?3 \
         WHERE id = ?2 AND user_id = ?1 AND revoked_at IS NULL",
        params![user_id, key_id, now],
    )?;
    Ok(result.rows_affected > 0)
}

/// `last_used_at` never moves backwards, so requests finishing out of order do not
/// rewind it.
pub(crate) fn touch(key_id: String, now: Timestamp) -> Result<(), StoreError> {
    let result = D1.query(
        "UPDATE api_keys SET last_used_at = MAX(COALESCE(last_used_at, ?2), ?2) WHERE id = ?1",
        params![key_id, now],
    )?;
    sql::found(result.rows_affected)
}
