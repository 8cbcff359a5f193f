//! Sign-in throttling: the `login_throttles` table, failed sign-ins counted per key
//! (an email or a client address, not a user id) and the lock they lead to.

use qhub_store_common::types::{LoginThrottle, StoreError, Timestamp};
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

/// One upsert, so concurrent failures under one key are each counted: SQLite (and
/// D1) run it holding the database's write lock. In `DO UPDATE SET` every column
/// names the row as it was, so both `CASE`s test the old window. A window that
/// started before `window_start` restarts at one failure from `now`; otherwise the
/// count grows by one. `locked_until` is left as it is.
pub(crate) fn record_failure(
    key: String,
    now: Timestamp,
    window_start: Timestamp,
) -> Result<LoginThrottle, StoreError> {
    let result = D1.query(
        concat!(
            "INSERT INTO login_throttles (key, failures, window_started_at, locked_until) \
             VALUES (?1, 1, ?2, NULL) \
             ON CONFLICT (key) DO UPDATE SET \
             failures = CASE WHEN login_throttles.window_started_at < ?3 THEN 1 \
             ELSE login_throttles.failures + 1 END, \
             window_started_at = CASE WHEN login_throttles.window_started_at < ?3 THEN ?2 \
             ELSE login_throttles.window_started_at END \
             RETURNING ",
            columns!()
        ),
        params![key, now, window_start],
    )?;
    D1.returned(&result, records::login_throttle)
}

/// An upsert keeping the later of the existing lock and `until`. A key seen for the
/// first time gets no failures and a window starting at `until` (the contract
/// passes no current time): its next failure then counts from one in that window.
pub(crate) fn lock(key: String, until: Timestamp) -> Result<(), StoreError> {
    D1.query(
        "INSERT INTO login_throttles (key, failures, window_started_at, locked_until) \
         VALUES (?1, 0, ?2, ?2) \
         ON CONFLICT (key) DO UPDATE SET locked_until = \
         max(coalesce(login_throttles.locked_until, excluded.locked_until), excluded.locked_until)",
        params![key, until],
    )?;
    Ok(())
}

/// Forgetting a key that has no row is not an error.
pub(crate) fn clear(key: String) -> Result<(), StoreError> {
    D1.query("DELETE FROM login_throttles WHERE key = ?1", params![key])?;
    Ok(())
}
