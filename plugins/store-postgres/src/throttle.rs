//! Sign-in throttling: the `login_throttles` table, failed sign-ins counted per key
//! (an email or a client address, not a user id) and the lock they lead to.

use qhub_store_common::types::{LoginAttempt, LoginLimit, LoginThrottle, StoreError, Timestamp};
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

/// One upsert, so that concurrent attempts under one key are each counted and no
/// more than `limit.max-attempts` are admitted: `ON CONFLICT DO UPDATE` locks the
/// existing row (or waits for a concurrent insert of the key to commit) and updates
/// its newest version. In `DO UPDATE SET` every column names the row as it was, so
/// each `CASE` tests the old window and the old count. The `WHERE` of `DO UPDATE`
/// (evaluated on that newest version) leaves a locked key untouched, and then
/// `RETURNING` produces no row: that is how a refused attempt is told apart from one
/// that was admitted and set the lock.
///
/// The lock doubles per attempt with a `bigint` shift, the exponent capped so the
/// shift cannot overflow before `max-lock` caps the length.
pub(crate) fn begin_attempt(
    key: String,
    now: Timestamp,
    limit: LoginLimit,
) -> Result<LoginAttempt, StoreError> {
    // $1 key, $2 now, $3 window start, $4 max attempts, $5 base lock, $6 max lock.
    let first_lock = "CASE WHEN 1 >= $4::bigint \
                      THEN to_timestamp(($2::bigint + least($5::bigint, $6::bigint)) / 1000.0) \
                      ELSE NULL END";
    let sql = format!(
        "INSERT INTO login_throttles (key, failures, window_started_at, locked_until) \
         VALUES ($1::text, 1, {now}, {first_lock}) \
         ON CONFLICT (key) DO UPDATE SET \
         failures = CASE WHEN login_throttles.window_started_at < {window_start} THEN 1 \
         ELSE login_throttles.failures + 1 END, \
         window_started_at = CASE WHEN login_throttles.window_started_at < {window_start} \
         THEN {now} ELSE login_throttles.window_started_at END, \
         locked_until = CASE \
         WHEN login_throttles.window_started_at < {window_start} THEN {first_lock} \
         WHEN login_throttles.failures + 1 >= $4::bigint THEN to_timestamp(($2::bigint + \
         least(($5::bigint << least(login_throttles.failures + 1 - $4::bigint, 32)::int), \
         $6::bigint)) / 1000.0) \
         ELSE NULL END \
         WHERE login_throttles.locked_until IS NULL OR login_throttles.locked_until <= {now} \
         RETURNING {columns}",
        now = time_param(2),
        window_start = time_param(3),
        columns = select_list(COLUMNS),
    );
    let result = POSTGRES.query(
        &sql,
        params![
            key.as_str(),
            now,
            limit.window_start,
            limit.max_attempts,
            limit.base_lock,
            limit.max_lock
        ],
    )?;
    records::login_attempt(&POSTGRES, &result, || get(key))
}

/// One statement: the count goes down by one, and a lock that the count no longer
/// justifies goes with it.
pub(crate) fn refund_attempt(key: String, max_attempts: u32) -> Result<(), StoreError> {
    POSTGRES.query(
        "UPDATE login_throttles SET failures = failures - 1, \
         locked_until = CASE WHEN failures - 1 < $2::bigint THEN NULL ELSE locked_until END \
         WHERE key = $1::text AND failures > 0",
        params![key, max_attempts],
    )?;
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
