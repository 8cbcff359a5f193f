//! Accounts: the `users` table, and deleting a user with everything they own.

use qhub_store_common::schema::delete_user_statements;
use qhub_store_common::types::{NewUser, Session, StoreError, Timestamp, User};
use qhub_store_common::{params, records};

use crate::sql::{self, D1};

macro_rules! columns {
    () => {
        "id, email, display_name, password_hash, created_at, updated_at"
    };
}

/// `conflict("email")` comes from `users_email_key` through the error mapping.
pub(crate) fn create(user: NewUser) -> Result<User, StoreError> {
    let result = D1.query(
        concat!(
            "INSERT INTO users (id, email, display_name, password_hash, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?5) RETURNING ",
            columns!()
        ),
        params![
            sql::new_id(),
            user.email,
            user.display_name,
            user.password_hash,
            user.created_at,
        ],
    )?;
    D1.returned(&result, records::user)
}

/// Registration as one batch: the user, then their first session selected from the
/// user row just inserted (by its unique email). A conflict on the email fails the
/// whole batch, so no session is ever written for someone else's account.
pub(crate) fn create_with_session(
    user: NewUser,
    user_agent: Option<String>,
    ip: Option<String>,
    expires_at: Timestamp,
) -> Result<(User, Session), StoreError> {
    let stmts = [
        sql::stmt(
            concat!(
                "INSERT INTO users (id, email, display_name, password_hash, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5) RETURNING ",
                columns!()
            ),
            params![
                sql::new_id(),
                user.email.as_str(),
                user.display_name,
                user.password_hash,
                user.created_at,
            ],
        ),
        sql::stmt(
            "INSERT INTO user_sessions \
             (id, user_id, user_agent, ip, created_at, last_seen_at, expires_at, revoked_at) \
             SELECT ?1, id, ?3, ?4, ?5, ?5, ?6, NULL FROM users WHERE email = ?2 \
             RETURNING id, user_id, user_agent, ip, created_at, last_seen_at, expires_at, \
             revoked_at",
            params![
                sql::new_id(),
                user.email,
                user_agent,
                ip,
                user.created_at,
                expires_at,
            ],
        ),
    ];
    records::registered(&D1, &D1.batch(&stmts)?)
}

pub(crate) fn get(id: String) -> Result<Option<User>, StoreError> {
    let result = D1.query(
        concat!("SELECT ", columns!(), " FROM users WHERE id = ?1"),
        params![id],
    )?;
    D1.first(&result, records::user)
}

/// The column is `COLLATE NOCASE`, so this matches case-insensitively even though
/// the caller already normalised the email.
pub(crate) fn get_by_email(email: String) -> Result<Option<User>, StoreError> {
    let result = D1.query(
        concat!("SELECT ", columns!(), " FROM users WHERE email = ?1"),
        params![email],
    )?;
    D1.first(&result, records::user)
}

pub(crate) fn set_password_hash(
    user_id: String,
    password_hash: String,
    now: Timestamp,
) -> Result<(), StoreError> {
    let result = D1.query(
        "UPDATE users SET password_hash = ?2, updated_at = ?3 WHERE id = ?1",
        params![user_id, password_hash, now],
    )?;
    sql::found(result.rows_affected)
}

pub(crate) fn set_display_name(
    user_id: String,
    display_name: Option<String>,
    now: Timestamp,
) -> Result<(), StoreError> {
    let result = D1.query(
        "UPDATE users SET display_name = ?2, updated_at = ?3 WHERE id = ?1",
        params![user_id, display_name, now],
    )?;
    sql::found(result.rows_affected)
}

/// One atomic batch of explicit deletes ([`delete_user_statements`]), which do not
/// depend on the connection enforcing foreign keys; the last statement's count says
/// whether the user existed.
pub(crate) fn delete(user_id: String) -> Result<(), StoreError> {
    let results = D1.batch(&delete_user_statements(&user_id, "?1"))?;
    sql::found(results.last().map_or(0, |result| result.rows_affected))
}
