//! Identities at OAuth/OIDC providers linked to accounts: the `oauth_connections`
//! table.

use qhub_store_common::types::{NewOauthConnection, OauthConnection, StoreError};
use qhub_store_common::{params, records};

use crate::columns::{Column, select_list, time_param};
use crate::sql::{self, POSTGRES};

const COLUMNS: &[Column] = &[
    Column::uuid("id"),
    Column::uuid("user_id"),
    Column::plain("provider"),
    Column::plain("subject"),
    Column::plain("email"),
    Column::time("created_at"),
];

/// `conflict("oauth-connection")` comes from
/// `oauth_connections_provider_subject_key` through the error mapping.
pub(crate) fn create(connection: NewOauthConnection) -> Result<OauthConnection, StoreError> {
    if !sql::is_id(&connection.user_id) {
        return Err(StoreError::NotFound);
    }
    let sql = format!(
        "INSERT INTO oauth_connections (user_id, provider, subject, email, created_at) \
         VALUES ($1::uuid, $2::text, $3::text, $4::text, {created_at}) RETURNING {columns}",
        created_at = time_param(5),
        columns = select_list(COLUMNS),
    );
    let result = POSTGRES.query(
        &sql,
        params![
            connection.user_id,
            connection.provider,
            connection.subject,
            connection.email,
            connection.created_at,
        ],
    )?;
    POSTGRES.returned(&result, records::oauth_connection)
}

pub(crate) fn get(
    provider: String,
    subject: String,
) -> Result<Option<OauthConnection>, StoreError> {
    let sql = format!(
        "SELECT {} FROM oauth_connections WHERE provider = $1::text AND subject = $2::text",
        select_list(COLUMNS)
    );
    let result = POSTGRES.query(&sql, params![provider, subject])?;
    POSTGRES.first(&result, records::oauth_connection)
}

/// Oldest first: the order in which the user linked them.
pub(crate) fn list(user_id: String) -> Result<Vec<OauthConnection>, StoreError> {
    if !sql::is_id(&user_id) {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {} FROM oauth_connections WHERE user_id = $1::uuid ORDER BY created_at, id",
        select_list(COLUMNS)
    );
    let result = POSTGRES.query(&sql, params![user_id])?;
    POSTGRES.all(&result, records::oauth_connection)
}

pub(crate) fn delete(user_id: String, connection_id: String) -> Result<bool, StoreError> {
    if !sql::is_id(&user_id) || !sql::is_id(&connection_id) {
        return Ok(false);
    }
    let result = POSTGRES.query(
        "DELETE FROM oauth_connections WHERE id = $2::uuid AND user_id = $1::uuid",
        params![user_id, connection_id],
    )?;
    Ok(result.rows_affected > 0)
}
