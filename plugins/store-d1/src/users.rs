//! Accounts: the `users` table, and deleting a user with everything they own.

use crate::bindings::qhub::plugin::types::{NewUser, StoreError, Timestamp, User};
use crate::row::{self, DecodeError, Row};
use crate::sql::{self, params};

macro_rules! columns {
    () => {
        "id, email, display_name, password_hash, created_at, updated_at"
    };
}

fn decode(row: &Row<'_>) -> Result<User, DecodeError> {
    Ok(User {
        id: row.text("id")?,
        email: row.text("email")?,
        display_name: row.opt_text("display_name")?,
        password_hash: row.opt_text("password_hash")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

/// `conflict("email")` comes from `users_email_key` through the error mapping.
pub(crate) fn create(user: NewUser) -> Result<User, StoreError> {
    let result = sql::query(
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
    row::returned(&result, decode)
}

pub(crate) fn get(id: String) -> Result<Option<User>, StoreError> {
    let result = sql::query(
        concat!("SELECT ", columns!(), " FROM users WHERE id = ?1"),
        params![id],
    )?;
    row::first(&result, decode)
}

/// The column is `COLLATE NOCASE`, so this matches case-insensitively even though
/// the caller already normalised the email.
pub(crate) fn get_by_email(email: String) -> Result<Option<User>, StoreError> {
    let result = sql::query(
        concat!("SELECT ", columns!(), " FROM users WHERE email = ?1"),
        params![email],
    )?;
    row::first(&result, decode)
}

pub(crate) fn set_password_hash(
    user_id: String,
    password_hash: String,
    now: Timestamp,
) -> Result<(), StoreError> {
    let result = sql::query(
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
    let result = sql::query(
        "UPDATE users SET display_name = ?2, updated_at = ?3 WHERE id = ?1",
        params![user_id, display_name, now],
    )?;
    sql::found(result.rows_affected)
}

/// The tables holding rows owned by a user, children of `users`; deleted before the
/// user itself. Keep in step with the migration when a table is added.
const OWNED_TABLES: [&str; 6] = [
    "user_sessions",
    "oauth_connections",
    "api_keys",
    "user_preferences",
    "usage_records",
    "quantum_jobs",
];

/// One batch: explicit deletes from every child table, then the user. The
/// `ON DELETE CASCADE` foreign keys would do the same, but they only act when the
/// connection enforces foreign keys; explicit deletes do not depend on that. The
/// last statement's count says whether the user existed.
pub(crate) fn delete(user_id: String) -> Result<(), StoreError> {
    let mut stmts: Vec<_> = OWNED_TABLES
        .iter()
        .map(|table| {
            sql::stmt(
                &format!("DELETE FROM {table} WHERE user_id = ?1"),
                params![user_id.as_str()],
            )
        })
        .collect();
    stmts.push(sql::stmt(
        "DELETE FROM users WHERE id = ?1",
        params![user_id],
    ));
    let results = sql::batch(&stmts)?;
    let deleted = results.last().map_or(0, |result| result.rows_affected);
    sql::found(deleted)
}
