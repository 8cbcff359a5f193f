//! Sign-in throttling: the `login_throttles` table, failed sign-ins counted per key
//! (an email or a client address, not a user id) and the lock they lead to.

use qhub_store_common::types::{LoginThrottle, StoreError, Timestamp};
use qhub_store_common::{params, records};

use crate::columns::{Column, select_list, time_param};
use crate::sql::POSTGRES;

const COLUMNS: &[Column] = &[
    Column::plain("key"),
    Column::plain("failures"),
    Column::time("window_started_at"),
    Column::time("locked_until"),
];

pub(crate) fn get(key: String) -> Result<Option<LoginThrottle>, StoreError> {
    let sql = format!(
        "SELECT {} FROM login_throttles WHERE key = $1::text",
        select_list(COLUMNS)
    );
    let result = POSTGRES.query(&sql, params![key])?;
    POSTGRES.first(&result, records::login_throttle)
}

/// One upsert, so concurrent failures under one key are each counted: `ON CONFLICT
/// DO UPDATE` locks the existing row (or waits for a concurrent insert of the key
/// to commit) and updates its newest version. In `DO UPDATE SET` every column names
/// the row as it was, so both `CASE`s test the old window. A window that started
/// before `window_start` restarts at one failure from `now`; otherwise the count
/// grows by one. `locked_until` is left as it is.
pub(crate) fn record_failure(
    key: String,
    now: Timestamp,
    window_start: Timestamp,
) -> Result<LoginThrottle, StoreError> {
    let sql = format!(
        "INSERT INTO login_throttles (key, failures, window_started_at, locked_until) \
         VALUES ($1::text, 1, {now}, NULL) \
         ON CONFLICT (key) DO UPDATE SET \
         failures = CASE WHEN login_throttles.window_started_at < {window_start} THEN 1 \
         ELSE login_throttles.failures + 1 END, \
         window_started_at = CASE WHEN login_throttles.window_started_at < {window_start} \
         THEN {now} ELSE login_throttles.window_started_at END \
         RETURNING {columns}",
        now = time_param(2),
        window_start = time_param(3),
        columns = select_list(COLUMNS),
    );
    let result = POSTGRES.query(&sql, params![key, now, window_start])?;
    POSTGRES.returned(&result, records::login_throttle)
}

/// An upsert keeping the later of the existing lock and `until` (`greatest`
/// ignores a NULL lock). A key seen for the first time gets no failures and a
/// window starting at `until` (the contract passes no current time): its next
/// failure then counts from one in that window.
pub(crate) fn lock(key: String, until: Timestamp) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO login_throttles (key, failures, window_started_at, locked_until) \
         VALUES ($1::text, 0, {until}, {until}) \
         ON CONFLICT (key) DO UPDATE SET \
         locked_until = greatest(login_throttles.locked_until, excluded.locked_until)",
        until = time_param(2),
    );
    POSTGRES.query(&sql, params![key, until])?;
    Ok(())
}

/// Forgetting a key that has no row is not an error.
pub(crate) fn clear(key: String) -> Result<(), StoreError> {
    POSTGRES.query(
        "DELETE FROM login_throttles WHERE key = $1::text",
        params![key],
    )?;
    Ok(())
}
