//! Server-side sessions: the `user_sessions` table.
//!
//! A session is live at `now` when it is not revoked and `expires_at > now`; every
//! query below uses that same rule.

use qhub_store_common::types::{NewSession, Session, StoreError, Timestamp};
use qhub_store_common::{params, records};

use crate::columns::{Column, select_list, time_param};
use crate::sql::{self, POSTGRES};

pub(crate) const COLUMNS: &[Column] = &[
    Column::uuid("id"),
    Column::uuid("user_id"),
    Column::plain("user_agent"),
    Column::plain("ip"),
    Column::time("created_at"),
    Column::time("last_seen_at"),
    Column::time("expires_at"),
    Column::time("revoked_at"),
];

/// One `INSERT ... SELECT` from the user's row, so the session exists only if the
/// user does and (when `password_hash` is given) still has that hash. `FOR SHARE`
/// makes it wait for a password change in flight on that row and then re-check the
/// row's newest version, so a sign-in that checked the old password gets no session
/// once the change has committed. `not-found` when nothing was inserted.
pub(crate) fn create(
    session: NewSession,
    password_hash: Option<String>,
) -> Result<Session, StoreError> {
    if !sql::is_id(&session.user_id) {
        return Err(StoreError::NotFound);
    }
    let sql = format!(
        "INSERT INTO user_sessions \
         (user_id, user_agent, ip, created_at, last_seen_at, expires_at, revoked_at) \
         SELECT id, $2::text, $3::text, {created_at}, {created_at}, {expires_at}, NULL \
         FROM users WHERE id = $1::uuid AND ($6::text IS NULL OR password_hash = $6::text) \
         FOR SHARE RETURNING {columns}",
        created_at = time_param(4),
        expires_at = time_param(5),
        columns = select_list(COLUMNS),
    );
    let result = POSTGRES.query(
        &sql,
        params![
            session.user_id,
            session.user_agent,
            session.ip,
            session.created_at,
            session.expires_at,
            password_hash,
        ],
    )?;
    POSTGRES
        .first(&result, records::session)?
        .ok_or(StoreError::NotFound)
}

/// Returns the session whatever its state; the core judges liveness.
pub(crate) fn get(id: String) -> Result<Option<Session>, StoreError> {
    if !sql::is_id(&id) {
        return Ok(None);
    }
    let sql = format!(
        "SELECT {} FROM user_sessions WHERE id = $1::uuid",
        select_list(COLUMNS)
    );
    let result = POSTGRES.query(&sql, params![id])?;
    POSTGRES.first(&result, records::session)
}

/// `not-found` when no live session has this id. `last_seen_at` never moves
/// backwards, so requests finishing out of order do not rewind it.
pub(crate) fn touch(id: String, now: Timestamp) -> Result<(), StoreError> {
    if !sql::is_id(&id) {
        return Err(StoreError::NotFound);
    }
    let sql = format!(
        "UPDATE user_sessions SET last_seen_at = greatest(last_seen_at, {now}) \
         WHERE id = $1::uuid AND revoked_at IS NULL AND expires_at > {now}",
        now = time_param(2),
    );
    let result = POSTGRES.query(&sql, params![id, now])?;
    sql::found(result.rows_affected)
}

pub(crate) fn list(user_id: String, now: Timestamp) -> Result<Vec<Session>, StoreError> {
    if !sql::is_id(&user_id) {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {columns} FROM user_sessions \
         WHERE user_id = $1::uuid AND revoked_at IS NULL AND expires_at > {now} \
         ORDER BY created_at DESC, id DESC",
        columns = select_list(COLUMNS),
        now = time_param(2),
    );
    let result = POSTGRES.query(&sql, params![user_id, now])?;
    POSTGRES.all(&result, records::session)
}

/// Scoped by user, so one user can never revoke another's session.
pub(crate) fn revoke(
    user_id: String,
    session_id: String,
    now: Timestamp,
) -> Result<bool, StoreError> {
    if !sql::is_id(&user_id) || !sql::is_id(&session_id) {
        return Ok(false);
    }
    let sql = format!(
        "UPDATE user_sessions SET revoked_at = {now} \
         WHERE id = $2::uuid AND user_id = $1::uuid AND revoked_at IS NULL AND expires_at > {now}",
        now = time_param(3),
    );
    let result = POSTGRES.query(&sql, params![user_id, session_id, now])?;
    Ok(result.rows_affected > 0)
}

pub(crate) fn revoke_all(
    user_id: String,
    keep: Option<String>,
    now: Timestamp,
) -> Result<u32, StoreError> {
    if !sql::is_id(&user_id) {
        return Ok(0);
    }
    // A `keep` that cannot be an id matches no session, so it keeps nothing.
    let keep = keep.filter(|id| sql::is_id(id));
    let sql = format!(
        "UPDATE user_sessions SET revoked_at = {now} \
         WHERE user_id = $1::uuid AND revoked_at IS NULL AND expires_at > {now} \
         AND ($3::uuid IS NULL OR id <> $3::uuid)",
        now = time_param(2),
    );
    let result = POSTGRES.query(&sql, params![user_id, now, keep])?;
    // The revocations are committed by now, so saturate rather than fail.
    Ok(u32::try_from(result.rows_affected).unwrap_or(u32::MAX))
}
