//! Identities at OAuth/OIDC providers linked to accounts: the `oauth_connections`
//! table.

use qhub_store_common::types::{NewOauthConnection, OauthConnection, StoreError};
use qhub_store_common::{params, records};

use crate::sql::{self, D1};

macro_rules! columns {
    () => {
        "id, user_id, provider, subject, email, created_at"
    };
}

/// `conflict("oauth-connection")` comes from
/// `oauth_connections_provider_subject_key` through the error mapping.
pub(crate) fn create(connection: NewOauthConnection) -> Result<OauthConnection, StoreError> {
    let result = D1.query(
        concat!(
            "INSERT INTO oauth_connections (id, user_id, provider, subject, email, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING ",
            columns!()
        ),
        params![
            sql::new_id(),
            connection.user_id,
            connection.provider,
            connection.subject,
            connection.email,
            connection.created_at,
        ],
    )?;
    D1.returned(&result, records::oauth_connection)
}

pub(crate) fn get(
    provider: String,
    subject: String,
) -> Result<Option<OauthConnection>, StoreError> {
    let result = D1.query(
        concat!(
            "SELECT ",
            columns!(),
            " FROM oauth_connections WHERE provider = ?1 AND subject = ?2"
        ),
        params![provider, subject],
    )?;
    D1.first(&result, records::oauth_connection)
}

/// Oldest first: the order in which the user linked them.
pub(crate) fn list(user_id: String) -> Result<Vec<OauthConnection>, StoreError> {
    let result = D1.query(
        concat!(
            "SELECT ",
            columns!(),
            " FROM oauth_connections WHERE user_id = ?1 ORDER BY created_at, id"
        ),
        params![user_id],
    )?;
    D1.all(&result, records::oauth_connection)
}

pub(crate) fn delete(user_id: String, connection_id: String) -> Result<bool, StoreError> {
    let result = D1.query(
        "DELETE FROM oauth_connections WHERE id = ?2 AND user_id = ?1",
        params![user_id, connection_id],
    )?;
    Ok(result.rows_affected > 0)
}
