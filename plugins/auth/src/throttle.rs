//! Brute-force protection for sign-in: which keys failures are counted under, when
//! a key is locked and for how long, and the store calls that apply it.
//!
//! Attempts are counted per account (`account:<normalised email>`, whether or not
//! the account exists, so a lock never reveals registration) and per client address
//! (`ip:<address>`, when the host knows it). The counts live in the database, so the
//! limits hold across restarts and server processes; this module only decides.
//!
//! Each attempt is counted *before* its password is checked, by one store statement
//! that also sets the lock when the count reaches the limit ([`begin`]). Reading the
//! count first and writing it after verifying would let guesses sent together all
//! pass the read: with the count taken atomically up front, however many arrive at
//! once, at most the limit's number of passwords are ever checked (OWASP
//! Authentication Cheat Sheet, "Account Lockout"). A sign-in that succeeds clears
//! its account's count and takes its attempt back from its address ([`succeeded`]);
//! one that fails, times out or is abandoned stays counted.

use crate::error::Error;
use crate::store::{LoginLimit, LoginThrottle, Store, Timestamp};

const SECOND: Timestamp = 1_000;
const MINUTE: Timestamp = 60 * SECOND;
const HOUR: Timestamp = 60 * MINUTE;

/// An account's failures are counted within a window of this length, from the
/// first failure. It is longer than the longest lock, so that waiting out each
/// lock does not reset the count and the backoff really grows to its cap.
pub const ACCOUNT_WINDOW: Timestamp = 24 * HOUR;
/// A client address's failures are counted within a window of this length.
pub const IP_WINDOW: Timestamp = 15 * MINUTE;
/// An account is locked by the attempt that brings its count in a window to this.
pub const ACCOUNT_MAX_FAILURES: u32 = 5;
/// How long the first account lock lasts; each further attempt doubles it.
pub const ACCOUNT_BASE_LOCK: Timestamp = 30 * SECOND;
/// The longest an account is locked for at once.
pub const ACCOUNT_MAX_LOCK: Timestamp = HOUR;
/// A client address is locked by the attempt that brings its count to this.
pub const IP_MAX_FAILURES: u32 = 20;
/// How long a client address is locked for.
pub const IP_LOCK: Timestamp = 15 * MINUTE;

/// The keys one sign-in attempt is counted under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    /// `account:<normalised email>`.
    pub account: String,
    /// `ip:<address>`, when the client's address is known.
    pub ip: Option<String>,
}

impl Keys {
    /// `email` must already be normalised; `ip` already trimmed (blank means none).
    pub fn new(email: &str, ip: Option<&str>) -> Self {
        Self {
            account: format!("account:{email}"),
            ip: ip.map(|ip| format!("ip:{ip}")),
        }
    }
}

/// Whole seconds until `locked_until`, rounded up and at least 1, for the message.
pub fn retry_after_seconds(locked_until: Timestamp, now: Timestamp) -> u64 {
    let remaining = u64::try_from(locked_until.saturating_sub(now)).unwrap_or(0);
    remaining.div_ceil(SECOND.unsigned_abs()).max(1)
}

/// The account key's limit for an attempt at `now`.
pub fn account_limit(now: Timestamp) -> LoginLimit {
    LoginLimit {
        window_start: now.saturating_sub(ACCOUNT_WINDOW),
        max_attempts: ACCOUNT_MAX_FAILURES,
        base_lock: ACCOUNT_BASE_LOCK,
        max_lock: ACCOUNT_MAX_LOCK,
    }
}

/// The client address key's limit for an attempt at `now`: a fixed lock.
pub fn ip_limit(now: Timestamp) -> LoginLimit {
    LoginLimit {
        window_start: now.saturating_sub(IP_WINDOW),
        max_attempts: IP_MAX_FAILURES,
        base_lock: IP_LOCK,
        max_lock: IP_LOCK,
    }
}

/// Counts one sign-in attempt under each of its keys, before any password is
/// checked, and refuses it with `RateLimited` when a key is locked.
///
/// The address is counted first, so an attempt its address may not make costs the
/// account nothing; an attempt the account's lock refuses is taken back from the
/// address, which then counts only passwords actually checked.
pub fn begin(store: &impl Store, keys: &Keys, now: Timestamp) -> Result<(), Error> {
    if let Some(ip) = &keys.ip {
        let attempt = store.begin_login_attempt(ip, now, ip_limit(now))?;
        if !attempt.admitted {
            return Err(rate_limited(&attempt.throttle, now));
        }
    }
    let attempt = store.begin_login_attempt(&keys.account, now, account_limit(now))?;
    if !attempt.admitted {
        if let Some(ip) = &keys.ip {
            store.refund_login_attempt(ip, IP_MAX_FAILURES)?;
        }
        return Err(rate_limited(&attempt.throttle, now));
    }
    Ok(())
}

/// After a successful sign-in: the account's count is forgotten (its owner proved
/// the password), and the address gets its attempt back, since only failures
/// count against it. The other emails tried from the same address stay counted.
pub fn succeeded(store: &impl Store, keys: &Keys) -> Result<(), Error> {
    store.clear_login_throttle(&keys.account)?;
    if let Some(ip) = &keys.ip {
        store.refund_login_attempt(ip, IP_MAX_FAILURES)?;
    }
    Ok(())
}

/// The refusal for a key that is locked, with the time left on its lock.
fn rate_limited(throttle: &LoginThrottle, now: Timestamp) -> Error {
    Error::RateLimited {
        retry_after: retry_after_seconds(throttle.locked_until.unwrap_or(now), now),
    }
}

#[cfg(test)]
#[path = "throttle_tests.rs"]
mod tests;
