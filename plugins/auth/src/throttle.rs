//! Brute-force protection for sign-in: which keys failures are counted under, when
//! a key is locked and for how long, and the store calls that apply it.
//!
//! Failures are counted per account (`account:<normalised email>`, whether or not
//! the account exists, so a lock never reveals registration) and per client address
//! (`ip:<address>`, when the host knows it). The counts live in the database, so the
//! limits hold across restarts and server processes; this module only decides.

use crate::error::Error;
use crate::store::{LoginThrottle, Millis, Store};

const SECOND: Millis = 1_000;
const MINUTE: Millis = 60 * SECOND;
const HOUR: Millis = 60 * MINUTE;

/// An account's failures are counted within a window of this length, from the
/// first failure. It is longer than the longest lock, so that waiting out each
/// lock does not reset the count and the backoff really grows to its cap.
pub const ACCOUNT_WINDOW: Millis = 24 * HOUR;
/// A client address's failures are counted within a window of this length.
pub const IP_WINDOW: Millis = 15 * MINUTE;
/// An account is locked from this many failures in a window.
pub const ACCOUNT_MAX_FAILURES: u32 = 5;
/// How long the first account lock lasts; each further failure doubles it.
pub const ACCOUNT_BASE_LOCK: Millis = 30 * SECOND;
/// The longest an account is locked for at once.
pub const ACCOUNT_MAX_LOCK: Millis = HOUR;
/// A client address is locked from this many failures in a window.
pub const IP_MAX_FAILURES: u32 = 20;
/// How long a client address is locked for.
pub const IP_LOCK: Millis = 15 * MINUTE;

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

/// How long an account is locked after `failures` failures in a window: none below
/// [`ACCOUNT_MAX_FAILURES`], then [`ACCOUNT_BASE_LOCK`] doubled for every further
/// failure, at most [`ACCOUNT_MAX_LOCK`].
pub fn account_lock(failures: u32) -> Option<Millis> {
    let doublings = failures.checked_sub(ACCOUNT_MAX_FAILURES)?;
    let lock = 2_i64
        .checked_pow(doublings)
        .and_then(|factor| ACCOUNT_BASE_LOCK.checked_mul(factor))
        .map_or(ACCOUNT_MAX_LOCK, |lock| lock.min(ACCOUNT_MAX_LOCK));
    Some(lock)
}

/// How long a client address is locked after `failures` failures in a window.
pub fn ip_lock(failures: u32) -> Option<Millis> {
    (failures >= IP_MAX_FAILURES).then_some(IP_LOCK)
}

/// Whole seconds until `locked_until`, rounded up and at least 1, for the message.
pub fn retry_after_seconds(locked_until: Millis, now: Millis) -> u64 {
    let remaining = u64::try_from(locked_until.saturating_sub(now)).unwrap_or(0);
    remaining.div_ceil(SECOND.unsigned_abs()).max(1)
}

/// Refuses the attempt with `RateLimited` when any of its keys is locked at `now`,
/// and returns the account key's state otherwise (none when nothing is counted), so
/// a successful sign-in knows whether there is a count to clear.
pub fn check(store: &impl Store, keys: &Keys, now: Millis) -> Result<Option<LoginThrottle>, Error> {
    let account = store.get_login_throttle(&keys.account)?;
    let ip = match &keys.ip {
        Some(key) => store.get_login_throttle(key)?,
        None => None,
    };
    // With both keys locked the caller has to wait for the later lock.
    let locked_until = [&account, &ip]
        .into_iter()
        .filter_map(|throttle| throttle.as_ref()?.locked_until)
        .filter(|&until| until > now)
        .max();
    match locked_until {
        Some(until) => Err(Error::RateLimited {
            retry_after: retry_after_seconds(until, now),
        }),
        None => Ok(account),
    }
}

/// Counts a failed sign-in under every key, and locks the keys that reached their
/// limit.
pub fn record_failure(store: &impl Store, keys: &Keys, now: Millis) -> Result<(), Error> {
    let account =
        store.record_login_failure(&keys.account, now, now.saturating_sub(ACCOUNT_WINDOW))?;
    if let Some(lock) = account_lock(account.failures) {
        store.lock_login(&keys.account, now.saturating_add(lock))?;
    }
    if let Some(key) = &keys.ip {
        let ip = store.record_login_failure(key, now, now.saturating_sub(IP_WINDOW))?;
        if let Some(lock) = ip_lock(ip.failures) {
            store.lock_login(key, now.saturating_add(lock))?;
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "throttle_tests.rs"]
mod tests;
