//! Sign-in throttling: the `login_throttles` table, failed sign-ins counted per key
//! (an email or a client address, not a user id) and the lock they lead to.
//! Attempts are counted before their password is checked (see `begin_attempt`).

use qhub_store_common::types::{LoginAttempt, LoginLimit, LoginThrottle, StoreError, Timestamp};
use qhub_store_common::{params, records};

use crate::sql::D1;

macro_rules! columns {
    () => {
        "key, failures, window_started_at, locked_until"
    };
}

pub(crate) fn get(key: String) -> Result<Option<LoginThrottle>, StoreError> {
    let result = D1.query(
        concat!(
            "SELECT ",
            columns!(),
            " FROM login_throttles WHERE key = ?1"
        ),
        params![key],
    )?;
    D1.first(&result, records::login_throttle)
}

/// One upsert, so that concurrent attempts under one key are each counted and no
/// more than `limit.max-attempts` are admitted: SQLite (and D1) run it holding the
/// database's write lock. In `DO UPDATE SET` every column names the row as it was, so
/// each `CASE` tests the old window and the old count. The `WHERE` of `DO UPDATE`
/// leaves a locked key untouched, and then `RETURNING` produces no row: that is how
/// a refused attempt is told apart from one that was admitted and set the lock.
///
/// The lock doubles per attempt with an integer shift (SQLite's `<<`), the exponent
/// capped so the shift cannot overflow before `max-lock` caps the length.
pub(crate) fn begin_attempt(
    key: String,
    now: Timestamp,
    limit: LoginLimit,
) -> Result<LoginAttempt, StoreError> {
    // ?1 key, ?2 now, ?3 window start, ?4 max attempts, ?5 base lock, ?6 max lock.
    let result = D1.query(
        concat!(
            "INSERT INTO login_throttles (key, failures, window_started_at, locked_until) \
             VALUES (?1, 1, ?2, CASE WHEN 1 >= ?4 THEN ?2 + min(?5, ?6) ELSE NULL END) \
             ON CONFLICT (key) DO UPDATE SET \
             failures = CASE WHEN login_throttles.window_started_at < ?3 THEN 1 \
             ELSE login_throttles.failures + 1 END, \
             window_started_at = CASE WHEN login_throttles.window_started_at < ?3 THEN ?2 \
             ELSE login_throttles.window_started_at END, \
             locked_until = CASE \
             WHEN login_throttles.window_started_at < ?3 THEN \
             CASE WHEN 1 >= ?4 THEN ?2 + min(?5, ?6) ELSE NULL END \
             WHEN login_throttles.failures + 1 >= ?4 THEN \
             ?2 + min((?5 << min(login_throttles.failures + 1 - ?4, 32)), ?6) \
             ELSE NULL END \
             WHERE login_throttles.locked_until IS NULL OR login_throttles.locked_until <= ?2 \
             RETURNING ",
            columns!()
        ),
        params![
            key.as_str(),
            now,
            limit.window_start,
            limit.max_attempts,
            limit.base_lock,
            limit.max_lock
        ],
    )?;
    records::login_attempt(&D1, &result, || get(key))
}

/// One statement: the count goes down by one, and a lock that the count no longer
/// justifies goes with it.
pub(crate) fn refund_attempt(key: String, max_attempts: u32) -> Result<(), StoreError> {
    D1.query(
        "UPDATE login_throttles SET failures = failures - 1, \
         locked_until = CASE WHEN failures - 1 < ?2 THEN NULL ELSE locked_until END \
         WHERE key = ?1 AND failures > 0",
        params![key, max_attempts],
    )?;
    Ok(())
}

/// Forgetting a key that has no row is not an error.
pub(crate) fn clear(key: String) -> Result<(), StoreError> {
    D1.query("DELETE FROM login_throttles WHERE key = ?1", params![key])?;
    Ok(())
}
