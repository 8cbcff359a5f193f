//! Server-side sessions: the `user_sessions` table.
//!
//! A session is live at `now` when it is not revoked and `expires_at > now`; every
//! query below uses that same rule.

use qhub_store_common::types::{NewSession, Session, StoreError, Timestamp};
use qhub_store_common::{params, records};

use crate::sql::{self, D1};

macro_rules! columns {
    () => {
        "id, user_id, user_agent, ip, created_at, last_seen_at, expires_at, revoked_at"
    };
}

/// One `INSERT ... SELECT` from the user's row, so the session exists only if, at
/// that moment, the user does and (when `password_hash` is given) still has that
/// hash: a password changed since the caller checked it leaves no row to select.
/// `not-found` when nothing was inserted.
pub(crate) fn create(
    session: NewSession,
    password_hash: Option<String>,
) -> Result<Session, StoreError> {
    let result = D1.query(
        concat!(
            "INSERT INTO user_sessions \
             (id, user_id, user_agent, ip, created_at, last_seen_at, expires_at, revoked_at) \
             SELECT ?1, id, ?3, ?4, ?5, ?5, ?6, NULL FROM users \
             WHERE id = ?2 AND (?7 IS NULL OR password_hash = ?7) RETURNING ",
            columns!()
        ),
        params![
            sql::new_id(),
            session.user_id,
            session.user_agent,
            session.ip,
            session.created_at,
            session.expires_at,
            password_hash,
        ],
    )?;
    D1.first(&result, records::session)?
        .ok_or(StoreError::NotFound)
}

/// Returns the session whatever its state; the core judges liveness.
pub(crate) fn get(id: String) -> Result<Option<Session>, StoreError> {
    let result = D1.query(
        concat!("SELECT ", columns!(), " FROM user_sessions WHERE id = ?1"),
        params![id],
    )?;
    D1.first(&result, records::session)
}

/// `not-found` when no live session has this id. `last_seen_at` never moves
/// backwards, so requests finishing out of order do not rewind it.
pub(crate) fn touch(id: String, now: Timestamp) -> Result<(), StoreError> {
    let result = D1.query(
        "UPDATE user_sessions SET last_seen_at = MAX(last_seen_at, ?2) \
         WHERE id = ?1 AND revoked_at IS NULL AND expires_at > ?2",
        params![id, now],
    )?;
    sql::found(result.rows_affected)
}

pub(crate) fn list(user_id: String, now: Timestamp) -> Result<Vec<Session>, StoreError> {
    let result = D1.query(
        concat!(
            "SELECT ",
            columns!(),
            " FROM user_sessions \
             WHERE user_id = ?1 AND revoked_at IS NULL AND expires_at > ?2 \
             ORDER BY created_at DESC, id DESC"
        ),
        params![user_id, now],
    )?;
    D1.all(&result, records::session)
}

/// Scoped by user, so one user can never revoke another's session.
pub(crate) fn revoke(
    user_id: String,
    session_id: String,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let result = D1.query(
        "UPDATE user_sessions SET revoked_at = ?3 \
         WHERE id = ?2 AND user_id = ?1 AND revoked_at IS NULL AND expires_at > ?3",
        params![user_id, session_id, now],
    )?;
    Ok(result.rows_affected > 0)
}

pub(crate) fn revoke_all(
    user_id: String,
    keep: Option<String>,
    now: Timestamp,
) -> Result<u32, StoreError> {
    let result = D1.query(
        "UPDATE user_sessions SET revoked_at = ?2 \
         WHERE user_id = ?1 AND revoked_at IS NULL AND expires_at > ?2 \
         AND (?3 IS NULL OR id <> ?3)",
        params![user_id, now, keep],
    )?;
    // The revocations are committed by now, so saturate rather than fail.
    Ok(u32::try_from(result.rows_affected).unwrap_or(u32::MAX))
}
