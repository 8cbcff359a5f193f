//! Identities at OAuth/OIDC providers linked to accounts: the `oauth_connections`
//! table.

use crate::bindings::qhub::plugin::types::{NewOauthConnection, OauthConnection, StoreError};
use crate::row::{self, DecodeError, Row};
use crate::sql::{self, params};

macro_rules! columns {
    () => {
        "id, user_id, provider, subject, email, created_at"
    };
}

fn decode(row: &Row<'_>) -> Result<OauthConnection, DecodeError> {
    Ok(OauthConnection {
        id: row.text("id")?,
        user_id: row.text("user_id")?,
        provider: row.text("provider")?,
        subject: row.text("subject")?,
        email: row.opt_text("email")?,
        created_at: row.int("created_at")?,
    })
}

/// `conflict("oauth-connection")` comes from
/// `oauth_connections_provider_subject_key` through the error mapping.
pub(crate) fn create(connection: NewOauthConnection) -> Result<OauthConnection, StoreError> {
    let result = sql::query(
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
    row::returned(&result, decode)
}

pub(crate) fn get(
    provider: String,
    subject: String,
) -> Result<Option<OauthConnection>, StoreError> {
    let result = sql::query(
        concat!(
            "SELECT ",
            columns!(),
            " FROM oauth_connections WHERE provider = ?1 AND subject = ?2"
        ),
        params![provider, subject],
    )?;
    row::first(&result, decode)
}

/// Oldest first: the order in which the user linked them.
pub(crate) fn list(user_id: String) -> Result<Vec<OauthConnection>, StoreError> {
    let result = sql::query(
        concat!(
            "SELECT ",
            columns!(),
            " FROM oauth_connections WHERE user_id = ?1 ORDER BY created_at, id"
        ),
        params![user_id],
    )?;
    row::all(&result, decode)
}

pub(crate) fn delete(user_id: String, connection_id: String) -> Result<bool, StoreError> {
    let result = sql::query(
        "DELETE FROM oauth_connections WHERE id = ?2 AND user_id = ?1",
        params![user_id, connection_id],
    )?;
    Ok(result.rows_affected > 0)
}
