//! Accounts: the `users` table, and deleting a user with everything they own.

use qhub_store_common::bindings::qhub::plugin::sql::Value;
use qhub_store_common::schema::delete_user_statements;
use qhub_store_common::types::{NewUser, Session, StoreError, Timestamp, User};
use qhub_store_common::{params, records};

use crate::columns::{Column, select_list, set_updated_at, time_param};
use crate::sql::{self, POSTGRES};

const COLUMNS: &[Column] = &[
    Column::uuid("id"),
    Column::plain("email"),
    Column::plain("display_name"),
    Column::plain("password_hash"),
    Column::time("created_at"),
    Column::time("updated_at"),
];

/// `conflict("email")` comes from `users_email_key` through the error mapping. An
/// email that is not lowercase fails `users_email_check` (`internal`): the core
/// normalises before it stores.
pub(crate) fn create(user: NewUser) -> Result<User, StoreError> {
    let sql = format!(
        "INSERT INTO users (email, display_name, password_hash, created_at, updated_at) \
         VALUES ($1::text, $2::text, $3::text, {created_at}, {created_at}) RETURNING {columns}",
        created_at = time_param(4),
        columns = select_list(COLUMNS),
    );
    let result = POSTGRES.query(
        &sql,
        params![
            user.email,
            user.display_name,
            user.password_hash,
            user.created_at
        ],
    )?;
    POSTGRES.returned(&result, records::user)
}

/// Registration as one batch (one transaction): the user, then their first session
/// selected from the user row just inserted (by its unique email). A conflict on
/// the email fails the whole batch.
pub(crate) fn create_with_session(
    user: NewUser,
    user_agent: Option<String>,
    ip: Option<String>,
    expires_at: Timestamp,
) -> Result<(User, Session), StoreError> {
    let insert_user = format!(
        "INSERT INTO users (email, display_name, password_hash, created_at, updated_at) \
         VALUES ($1::text, $2::text, $3::text, {created_at}, {created_at}) RETURNING {columns}",
        created_at = time_param(4),
        columns = select_list(COLUMNS),
    );
    let insert_session = format!(
        "INSERT INTO user_sessions \
         (user_id, user_agent, ip, created_at, last_seen_at, expires_at, revoked_at) \
         SELECT id, $2::text, $3::text, {created_at}, {created_at}, {expires_at}, NULL \
         FROM users WHERE email = $1::text RETURNING {columns}",
        created_at = time_param(4),
        expires_at = time_param(5),
        columns = select_list(crate::sessions::COLUMNS),
    );
    let stmts = [
        sql::stmt(
            &insert_user,
            params![
                user.email.as_str(),
                user.display_name,
                user.password_hash,
                user.created_at
            ],
        ),
        sql::stmt(
            &insert_session,
            params![user.email, user_agent, ip, user.created_at, expires_at],
        ),
    ];
    records::registered(&POSTGRES, &POSTGRES.batch(&stmts)?)
}

pub(crate) fn get(id: String) -> Result<Option<User>, StoreError> {
    if !sql::is_id(&id) {
        return Ok(None);
    }
    let sql = format!(
        "SELECT {} FROM users WHERE id = $1::uuid",
        select_list(COLUMNS)
    );
    let result = POSTGRES.query(&sql, params![id])?;
    POSTGRES.first(&result, records::user)
}

/// Stored emails are lowercase (`users_email_check`), so lowering the argument makes
/// the lookup case-insensitive, as D1's `COLLATE NOCASE` does, even though the
/// caller already normalised it; `lower()` of a constant still uses the index.
pub(crate) fn get_by_email(email: String) -> Result<Option<User>, StoreError> {
    let sql = format!(
        "SELECT {} FROM users WHERE email = lower($1::text)",
        select_list(COLUMNS)
    );
    let result = POSTGRES.query(&sql, params![email])?;
    POSTGRES.first(&result, records::user)
}

pub(crate) fn set_password_hash(
    user_id: String,
    password_hash: String,
    now: Timestamp,
) -> Result<(), StoreError> {
    set_column(user_id, "password_hash", password_hash.into(), now)
}

pub(crate) fn set_display_name(
    user_id: String,
    display_name: Option<String>,
    now: Timestamp,
) -> Result<(), StoreError> {
    set_column(user_id, "display_name", display_name.into(), now)
}

/// Sets one text column of a user, and `updated_at`; `not-found` when there is no
/// such user.
fn set_column(
    user_id: String,
    column: &str,
    value: Value,
    now: Timestamp,
) -> Result<(), StoreError> {
    if !sql::is_id(&user_id) {
        return Err(StoreError::NotFound);
    }
    let sql = format!(
        "UPDATE users SET {column} = $2::text, updated_at = {updated_at} WHERE id = $1::uuid",
        updated_at = set_updated_at("updated_at", &time_param(3)),
    );
    let result = POSTGRES.query(&sql, params![user_id, value, now])?;
    sql::found(result.rows_affected)
}

/// One atomic batch of explicit deletes ([`delete_user_statements`]), as store-d1
/// does (the `ON DELETE CASCADE` foreign keys are a safety net); the last
/// statement's count says whether the user existed.
pub(crate) fn delete(user_id: String) -> Result<(), StoreError> {
    if !sql::is_id(&user_id) {
        return Err(StoreError::NotFound);
    }
    let results = POSTGRES.batch(&delete_user_statements(&user_id, "$1::uuid"))?;
    sql::found(results.last().map_or(0, |result| result.rows_affected))
}
