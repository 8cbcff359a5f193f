//! A signed-in user's own data: preferences, the monthly quota and its usage,
//! quantum jobs, and the account as a whole (export and deletion).
//!
//! Like the account flows, every function authenticates its token first and takes
//! the current time as an argument. The store only stores; every limit (key and
//! value sizes, what a job may be, the quota itself) is decided here.

use serde_json::{Map, Value, json};

use crate::accounts::Accounts;
use crate::error::Error;
use crate::keys::{Access, Scope};
use crate::store::{
    ApiKey, JobStatus, NewQuantumJob, OauthConnection, Preference, QuantumJob, Quota, Session,
    Store, StoreError, Timestamp, Transition, User,
};
use crate::throttle;
use crate::validate;

/// Config key of the number of jobs a user may submit per calendar month.
pub use qhub_api::core_config::QUOTA_MONTHLY_JOBS as QUOTA_JOBS_KEY;
/// Config key of the number of shots a user may request per calendar month.
pub use qhub_api::core_config::QUOTA_MONTHLY_SHOTS as QUOTA_SHOTS_KEY;
pub const DEFAULT_MONTHLY_JOBS: u32 = 100;
pub const DEFAULT_MONTHLY_SHOTS: u64 = 1_000_000;

const MAX_KEY_CHARS: usize = 64;
/// The largest preference value, measured as stored (compact JSON).
const MAX_VALUE_BYTES: usize = 16 * 1024;
const MAX_SOURCE_BYTES: usize = 256 * 1024;
const MAX_SHOTS: u32 = 100_000;
const DEFAULT_BACKEND: &str = "simulator";
const MAX_BACKEND_CHARS: usize = 32;
/// How many jobs `list-jobs` returns.
const LIST_JOBS_LIMIT: u32 = 100;
/// How many jobs an export contains (the newest).
const EXPORT_JOBS_LIMIT: u32 = 1_000;
const DAY: Timestamp = 86_400_000;
const SECOND_MS: Timestamp = 1_000;

/// The monthly limits the core applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub jobs: u32,
    pub shots: u64,
}

impl Limits {
    /// Reads [`QUOTA_JOBS_KEY`] and [`QUOTA_SHOTS_KEY`] through `get`; an absent or
    /// blank value means the default, anything else must be a non-negative integer.
    pub fn from_config(get: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        Ok(Self {
            jobs: limit(&get, QUOTA_JOBS_KEY, DEFAULT_MONTHLY_JOBS)?,
            shots: limit(&get, QUOTA_SHOTS_KEY, DEFAULT_MONTHLY_SHOTS)?,
        })
    }
}

fn limit<T: std::str::FromStr>(
    get: impl Fn(&str) -> Option<String>,
    key: &str,
    default: T,
) -> Result<T, Error> {
    match get(key) {
        Some(raw) if !raw.trim().is_empty() => raw.trim().parse().map_err(|_| {
            Error::Internal(format!("{key} must be a non-negative integer, not {raw:?}"))
        }),
        _ => Ok(default),
    }
}

/// Quota use in the current period, with the limits applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageReport {
    /// "YYYY-MM": quotas are per calendar month, UTC.
    pub period: String,
    pub jobs_used: u32,
    pub jobs_limit: u32,
    pub shots_used: u64,
    pub shots_limit: u64,
}

/// A quantum job as a client submits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRequest {
    /// OpenQASM 2 or 3 source.
    pub source: String,
    pub shots: u32,
    /// [`DEFAULT_BACKEND`] when none.
    pub backend: Option<String>,
}

/// The data flows over the account core and the host's configuration.
#[derive(Debug)]
pub struct AccountData<'a, S, C> {
    accounts: &'a Accounts<S>,
    config: C,
}

impl<'a, S: Store, C: Fn(&str) -> Option<String>> AccountData<'a, S, C> {
    pub fn new(accounts: &'a Accounts<S>, config: C) -> Self {
        Self { accounts, config }
    }

    fn store(&self) -> &S {
        self.accounts.store()
    }

    /// The id of the token's user, once the token is known to allow `access`.
    fn user_id(&self, token: &str, access: Access, now: Timestamp) -> Result<String, Error> {
        Ok(self.accounts.authorize(token, access, now)?.user_id)
    }

    fn limits(&self) -> Result<Limits, Error> {
        Limits::from_config(&self.config)
    }

    /// The user's preferences, by key.
    pub fn list_preferences(&self, token: &str, now: Timestamp) -> Result<Vec<Preference>, Error> {
        let user_id = self.user_id(token, Access::Scope(Scope::PrefsRead), now)?;
        Ok(self.store().list_preferences(&user_id)?)
    }

    /// Sets a preference; `value` must be a JSON document, stored compactly.
    pub fn set_preference(
        &self,
        token: &str,
        key: &str,
        value: &str,
        now: Timestamp,
    ) -> Result<(), Error> {
        let user_id = self.user_id(token, Access::Scope(Scope::PrefsWrite), now)?;
        check_key(key)?;
        let value = compact_json(value)?;
        Ok(self.store().set_preference(&user_id, key, &value, now)?)
    }

    /// Removes a preference.
    pub fn unset_preference(&self, token: &str, key: &str, now: Timestamp) -> Result<(), Error> {
        let user_id = self.user_id(token, Access::Scope(Scope::PrefsWrite), now)?;
        check_key(key)?;
        if self.store().delete_preference(&user_id, key)? {
            Ok(())
        } else {
            Err(Error::PreferenceNotSet)
        }
    }

    /// Quota use of the current month.
    pub fn get_usage(&self, token: &str, now: Timestamp) -> Result<UsageReport, Error> {
        let user_id = self.user_id(token, Access::Scope(Scope::AccountRead), now)?;
        self.usage(&user_id, now)
    }

    fn usage(&self, user_id: &str, now: Timestamp) -> Result<UsageReport, Error> {
        let limits = self.limits()?;
        let usage = self.store().get_usage(user_id, &period(now))?;
        Ok(UsageReport {
            period: usage.period,
            jobs_used: usage.jobs,
            jobs_limit: limits.jobs,
            shots_used: usage.shots,
            shots_limit: limits.shots,
        })
    }

    /// Validates and queues a job, counting it against the monthly quota.
    pub fn submit_job(
        &self,
        token: &str,
        request: JobRequest,
        now: Timestamp,
    ) -> Result<QuantumJob, Error> {
        let user_id = self.user_id(token, Access::Scope(Scope::JobsWrite), now)?;
        check_source(&request.source)?;
        check_shots(request.shots)?;
        let backend = backend_name(request.backend)?;
        let limits = self.limits()?;
        let job = NewQuantumJob {
            user_id,
            backend,
            shots: request.shots,
            source: request.source,
            created_at: now,
        };
        let quota = Quota {
            period: period(now),
            max_jobs: limits.jobs,
            max_shots: limits.shots,
        };
        self.store()
            .submit_job(job, quota)
            .map_err(|error| match error {
                StoreError::QuotaExceeded => Error::MonthlyQuota {
                    jobs: limits.jobs,
                    shots: limits.shots,
                },
                other => other.into(),
            })
    }

    /// The user's newest jobs, optionally of one status.
    pub fn list_jobs(
        &self,
        token: &str,
        status: Option<JobStatus>,
        now: Timestamp,
    ) -> Result<Vec<QuantumJob>, Error> {
        let user_id = self.user_id(token, Access::Scope(Scope::JobsRead), now)?;
        Ok(self.store().list_jobs(&user_id, status, LIST_JOBS_LIMIT)?)
    }

    /// One of the user's jobs.
    pub fn get_job(&self, token: &str, job_id: &str, now: Timestamp) -> Result<QuantumJob, Error> {
        let user_id = self.user_id(token, Access::Scope(Scope::JobsRead), now)?;
        validate::single_line("job id", job_id)?;
        self.store()
            .get_job(&user_id, job_id)?
            .ok_or(Error::NoSuchJob)
    }

    /// Cancels a queued or running job.
    pub fn cancel_job(
        &self,
        token: &str,
        job_id: &str,
        now: Timestamp,
    ) -> Result<QuantumJob, Error> {
        let user_id = self.user_id(token, Access::Scope(Scope::JobsWrite), now)?;
        validate::single_line("job id", job_id)?;
        let change = Transition {
            from: &[JobStatus::Queued, JobStatus::Running],
            status: JobStatus::Cancelled,
            result: None,
            error: None,
            now,
        };
        if let Some(job) = self.store().transition_job(&user_id, job_id, change)? {
            return Ok(job);
        }
        // The store does not say why nothing changed; looking tells absent from done.
        match self.store().get_job(&user_id, job_id)? {
            Some(job) => Err(Error::JobAlready(job.status)),
            None => Err(Error::NoSuchJob),
        }
    }

    /// Everything stored about the user as one JSON document, without password
    /// hashes or API key hashes.
    pub fn export_account(&self, token: &str, now: Timestamp) -> Result<String, Error> {
        let user_id = self.user_id(token, Access::Scope(Scope::AccountRead), now)?;
        let store = self.store();
        let user = store
            .get_user(&user_id)?
            .ok_or(Error::NotFound("account"))?;
        let sessions = store.list_sessions(&user_id, now)?;
        let connections = store.list_oauth_connections(&user_id)?;
        let keys = store.list_api_keys(&user_id)?;
        let preferences: Map<String, Value> = store
            .list_preferences(&user_id)?
            .into_iter()
            .map(|preference| (preference.key, json_or_text(preference.value)))
            .collect();
        let usage = self.usage(&user_id, now)?;
        let jobs = store.list_jobs(&user_id, None, EXPORT_JOBS_LIMIT)?;
        let document = json!({
            "user": user_json(&user),
            "sessions": sessions.iter().map(session_json).collect::<Vec<_>>(),
            "oauth_connections": connections.iter().map(connection_json).collect::<Vec<_>>(),
            "api_keys": keys.iter().map(key_json).collect::<Vec<_>>(),
            "preferences": preferences,
            "usage": {
                "period": usage.period,
                "jobs_used": usage.jobs_used,
                "jobs_limit": usage.jobs_limit,
                "shots_used": usage.shots_used,
                "shots_limit": usage.shots_limit,
            },
            "jobs": jobs.into_iter().map(job_json).collect::<Vec<_>>(),
        });
        serde_json::to_string_pretty(&document)
            .map_err(|error| Error::Internal(format!("could not serialise the export: {error}")))
    }

    /// Deletes the token's user and everything that belongs to them, the token's
    /// session included, so the token stops working, and forgets the email's failed
    /// sign-ins, so an account registered later under it starts afresh.
    pub fn delete_account(&self, token: &str, now: Timestamp) -> Result<(), Error> {
        let user_id = self.user_id(token, Access::SessionOnly("delete the account"), now)?;
        let user = self
            .store()
            .get_user(&user_id)?
            .ok_or(Error::NotFound("account"))?;
        // Before the deletion: should it fail, the account is still there and a
        // retry clears again; the other way round, a failed clear would leave the
        // count behind with no account left to retry from.
        self.store()
            .clear_login_throttle(&throttle::Keys::new(&user.email, None).account)?;
        self.store()
            .delete_user(&user_id)
            .map_err(|error| match error {
                StoreError::NotFound => Error::NotFound("account"),
                other => other.into(),
            })
    }
}

/// The quota period `now` falls in: its UTC calendar month, "YYYY-MM".
pub fn period(now: Timestamp) -> String {
    let (year, month, _) = civil_from_days(now.div_euclid(DAY));
    format!("{year:04}-{month:02}")
}

/// `ms` since the Unix epoch as an RFC 3339 UTC timestamp to the second
/// (`2023-11-14T22:13:20Z`), the form every API answer and the CLI use; an
/// instant before 1970 (never stored) reads as the epoch, as in the hosts.
pub fn rfc3339(ms: Timestamp) -> String {
    let seconds = ms.max(0).div_euclid(SECOND_MS);
    let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
    let of_day = seconds.rem_euclid(86_400);
    let (hour, minute, second) = (of_day / 3_600, of_day / 60 % 60, of_day % 60);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
}

/// The proleptic Gregorian (year, month, day) of a count of days since 1970-01-01.
///
/// Howard Hinnant's `civil_from_days`: counting in 400-year eras that start on
/// March 1st puts the leap day last, so every month but February has a fixed place.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468; // days since 0000-03-01
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153; // 0 is March
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn check_key(key: &str) -> Result<(), Error> {
    let allowed = |byte: u8| {
        byte.is_ascii_lowercase() || byte.is_ascii_digit() || matches!(byte, b'.' | b'_' | b'-')
    };
    // Only dots ("." or "..") would be a relative path segment in a URL
    // (RFC 3986 section 5.2.4): no client could name such a key.
    let only_dots = key.bytes().all(|byte| byte == b'.');
    if (1..=MAX_KEY_CHARS).contains(&key.len()) && key.bytes().all(allowed) && !only_dots {
        Ok(())
    } else {
        Err(Error::InvalidInput(
            "preference keys are 1 to 64 characters of a-z, 0-9, '.', '_' or '-', not only dots",
        ))
    }
}

/// `value` re-serialised compactly, if it is a JSON document small enough to store
/// and without NUL in its strings. Numbers keep their digits exactly (serde_json's
/// `arbitrary_precision`): `18446744073709551616` is never read as a float.
fn compact_json(value: &str) -> Result<String, Error> {
    let parsed: Value =
        serde_json::from_str(value).map_err(|error| Error::InvalidJson(error.to_string()))?;
    validate::preference_value(&parsed)?;
    let compact = parsed.to_string();
    if compact.len() > MAX_VALUE_BYTES {
        return Err(Error::InvalidInput(
            "the preference value must be at most 16 KiB as compact JSON",
        ));
    }
    Ok(compact)
}

fn check_source(source: &str) -> Result<(), Error> {
    let trimmed = source.trim();
    if trimmed.is_empty() {
        return Err(Error::InvalidInput("the job source is empty"));
    }
    validate::multi_line("job source", source)?;
    if source.len() > MAX_SOURCE_BYTES {
        return Err(Error::InvalidInput(
            "the job source must be at most 256 KiB",
        ));
    }
    if !declares_openqasm(trimmed) {
        return Err(Error::InvalidInput(
            "the source is not OpenQASM: it must start with an OPENQASM 2.x or 3.x declaration",
        ));
    }
    Ok(())
}

/// Whether `source` starts with `OPENQASM 2`, `OPENQASM 3` or a minor version of
/// either (`OPENQASM 2.0;`).
fn declares_openqasm(source: &str) -> bool {
    let Some(rest) = source.strip_prefix("OPENQASM") else {
        return false;
    };
    if !rest.starts_with(|c: char| c.is_ascii_whitespace()) {
        return false;
    }
    let version = rest
        .trim_start()
        .split(|c: char| c == ';' || c.is_ascii_whitespace())
        .next()
        .unwrap_or_default();
    let (major, minor) = match version.split_once('.') {
        Some((major, minor)) => (major, Some(minor)),
        None => (version, None),
    };
    matches!(major, "2" | "3")
        && minor.is_none_or(|minor| !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit()))
}

fn check_shots(shots: u32) -> Result<(), Error> {
    if (1..=MAX_SHOTS).contains(&shots) {
        Ok(())
    } else {
        Err(Error::InvalidInput("shots must be between 1 and 100000"))
    }
}

/// The backend to run on: the default when none is named.
fn backend_name(requested: Option<String>) -> Result<String, Error> {
    let Some(backend) = requested else {
        return Ok(DEFAULT_BACKEND.to_owned());
    };
    let allowed = |byte: u8| {
        byte.is_ascii_lowercase() || byte.is_ascii_digit() || matches!(byte, b'_' | b'-')
    };
    if (1..=MAX_BACKEND_CHARS).contains(&backend.len()) && backend.bytes().all(allowed) {
        Ok(backend)
    } else {
        Err(Error::InvalidInput(
            "backend names are 1 to 32 characters of a-z, 0-9, '_' or '-'",
        ))
    }
}

/// A stored JSON document as a value; text that does not parse (written by some
/// other tool) is kept as a string rather than lost.
fn json_or_text(text: String) -> Value {
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

fn user_json(user: &User) -> Value {
    // Deliberately field by field: the password hash must never be exported.
    json!({
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "created_at": rfc3339(user.created_at),
        "updated_at": rfc3339(user.updated_at),
    })
}

fn session_json(session: &Session) -> Value {
    json!({
        "id": session.id,
        "user_agent": session.user_agent,
        "ip": session.ip,
        "created_at": rfc3339(session.created_at),
        "last_seen_at": rfc3339(session.last_seen_at),
        "expires_at": rfc3339(session.expires_at),
    })
}

fn connection_json(connection: &OauthConnection) -> Value {
    json!({
        "id": connection.id,
        "provider": connection.provider,
        "subject": connection.subject,
        "email": connection.email,
        "created_at": rfc3339(connection.created_at),
    })
}

fn key_json(key: &ApiKey) -> Value {
    // Deliberately field by field: the secret's hash must never be exported.
    json!({
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "scopes": key.scopes,
        "created_at": rfc3339(key.created_at),
        "expires_at": key.expires_at.map(rfc3339),
        "last_used_at": key.last_used_at.map(rfc3339),
        "revoked_at": key.revoked_at.map(rfc3339),
    })
}

fn job_json(job: QuantumJob) -> Value {
    json!({
        "id": job.id,
        "status": job.status.as_str(),
        "backend": job.backend,
        "shots": job.shots,
        "source": job.source,
        "result": job.result.map(json_or_text),
        "error": job.error,
        "created_at": rfc3339(job.created_at),
        "updated_at": rfc3339(job.updated_at),
    })
}

#[cfg(test)]
#[path = "data_tests.rs"]
mod tests;
