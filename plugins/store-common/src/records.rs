//! Decoders of the WIT records from rows. Both schemas give each column the name of
//! its record field, and a backend's statements select them under those names, so
//! one decoder per record serves every dialect.

use crate::Dialect;
use crate::bindings::qhub::plugin::sql::QueryResult;
use crate::bindings::qhub::plugin::types::{
    ApiKey, LoginAttempt, LoginThrottle, OauthConnection, Preference, QuantumJob, Session,
    StoreError, Usage, User,
};
use crate::row::{DecodeError, Row};
use crate::schema::parse_status;

/// A `users` row.
pub fn user(row: &Row<'_>) -> Result<User, DecodeError> {
    Ok(User {
        id: row.text("id")?,
        email: row.text("email")?,
        display_name: row.opt_text("display_name")?,
        password_hash: row.opt_text("password_hash")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

/// A `user_sessions` row.
pub fn session(row: &Row<'_>) -> Result<Session, DecodeError> {
    Ok(Session {
        id: row.text("id")?,
        user_id: row.text("user_id")?,
        user_agent: row.opt_text("user_agent")?,
        ip: row.opt_text("ip")?,
        created_at: row.int("created_at")?,
        last_seen_at: row.int("last_seen_at")?,
        expires_at: row.int("expires_at")?,
        revoked_at: row.opt_int("revoked_at")?,
    })
}

/// An `oauth_connections` row.
pub fn oauth_connection(row: &Row<'_>) -> Result<OauthConnection, DecodeError> {
    Ok(OauthConnection {
        id: row.text("id")?,
        user_id: row.text("user_id")?,
        provider: row.text("provider")?,
        subject: row.text("subject")?,
        email: row.opt_text("email")?,
        created_at: row.int("created_at")?,
    })
}

/// An `api_keys` row; `scopes` is a JSON array of strings.
pub fn api_key(row: &Row<'_>) -> Result<ApiKey, DecodeError> {
    Ok(ApiKey {
        id: row.text("id")?,
        user_id: row.text("user_id")?,
        name: row.text("name")?,
        prefix: row.text("prefix")?,
        secret_hash: row.text("secret_hash")?,
        scopes: row.string_list("scopes")?,
        created_at: row.int("created_at")?,
        expires_at: row.opt_int("expires_at")?,
        last_used_at: row.opt_int("last_used_at")?,
        revoked_at: row.opt_int("revoked_at")?,
    })
}

/// An API key's scopes as the JSON text stored in `api_keys.scopes`.
pub fn scopes_json(scopes: &[String]) -> Result<String, StoreError> {
    serde_json::to_string(scopes)
        .map_err(|err| StoreError::Internal(format!("encoding scopes: {err}")))
}

/// A `user_preferences` row (`key`, `value`, `updated_at`).
pub fn preference(row: &Row<'_>) -> Result<Preference, DecodeError> {
    Ok(Preference {
        key: row.text("key")?,
        value: row.text("value")?,
        updated_at: row.int("updated_at")?,
    })
}

/// A `usage_records` row (`period`, `jobs`, `shots`).
pub fn usage(row: &Row<'_>) -> Result<Usage, DecodeError> {
    Ok(Usage {
        period: row.text("period")?,
        jobs: row.uint("jobs")?,
        shots: row.uint("shots")?,
    })
}

/// A `login_throttles` row.
pub fn login_throttle(row: &Row<'_>) -> Result<LoginThrottle, DecodeError> {
    Ok(LoginThrottle {
        key: row.text("key")?,
        failures: row.uint("failures")?,
        window_started_at: row.int("window_started_at")?,
        locked_until: row.opt_int("locked_until")?,
    })
}

/// A `quantum_jobs` row.
pub fn quantum_job(row: &Row<'_>) -> Result<QuantumJob, DecodeError> {
    let status = row.text("status")?;
    Ok(QuantumJob {
        id: row.text("id")?,
        user_id: row.text("user_id")?,
        status: parse_status(&status).ok_or(DecodeError::Unknown {
            column: "status",
            what: "job status",
            value: status,
        })?,
        backend: row.text("backend")?,
        shots: row.uint("shots")?,
        source: row.text("source")?,
        result: row.opt_text("result")?,
        error: row.opt_text("error")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

/// The outcome of a job submission batch whose last statement inserts the job
/// only when the quota allowed it: the job its `RETURNING` produced, or
/// `quota-exceeded` when it produced no row.
pub fn submitted_job(dialect: &Dialect, results: &[QueryResult]) -> Result<QuantumJob, StoreError> {
    let inserted = results
        .last()
        .map(|result| dialect.first(result, quantum_job));
    match inserted {
        Some(Ok(Some(job))) => Ok(job),
        Some(Ok(None)) => Err(StoreError::QuotaExceeded),
        Some(Err(err)) => Err(err),
        None => Err(StoreError::Internal("batch returned no results".to_owned())),
    }
}

/// The outcome of a `begin-login-attempt` upsert whose `RETURNING` produces the
/// row only when the attempt was admitted (its `DO UPDATE ... WHERE` leaves a
/// locked key untouched). A refused attempt reads the lock with `get`, for the
/// caller's answer; the row exists, since only an existing locked row refuses.
pub fn login_attempt(
    dialect: &Dialect,
    result: &QueryResult,
    get: impl FnOnce() -> Result<Option<LoginThrottle>, StoreError>,
) -> Result<LoginAttempt, StoreError> {
    if let Some(throttle) = dialect.first(result, login_throttle)? {
        return Ok(LoginAttempt {
            admitted: true,
            throttle,
        });
    }
    let throttle = get()?.ok_or(StoreError::Internal(
        "a refused sign-in attempt left no throttle row".to_owned(),
    ))?;
    Ok(LoginAttempt {
        admitted: false,
        throttle,
    })
}

/// The outcome of a registration batch whose first statement inserts the user and
/// whose last inserts their session, each with `RETURNING`.
pub fn registered(
    dialect: &Dialect,
    results: &[QueryResult],
) -> Result<(User, Session), StoreError> {
    let (Some(first), Some(last)) = (results.first(), results.last()) else {
        return Err(StoreError::Internal("batch returned no results".to_owned()));
    };
    Ok((
        dialect.returned(first, user)?,
        dialect.returned(last, session)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::qhub::plugin::sql::Value;
    use crate::bindings::qhub::plugin::types::JobStatus;
    use crate::row::Integers;

    const DIALECT: Dialect = Dialect {
        key_in_message: |_| None,
        integers: Integers::Exact,
    };

    /// A `RETURNING` result holding one job row, in `status`.
    fn job_result(status: &str) -> QueryResult {
        let columns = [
            "id",
            "user_id",
            "status",
            "backend",
            "shots",
            "source",
            "result",
            "error",
            "created_at",
            "updated_at",
        ];
        let text = |value: &str| Value::Text(value.to_owned());
        QueryResult {
            columns: columns.map(str::to_owned).to_vec(),
            rows: vec![vec![
                text("j1"),
                text("u1"),
                text(status),
                text("simulator"),
                Value::Integer(100),
                text("OPENQASM 3;"),
                Value::Null,
                Value::Null,
                Value::Integer(1),
                Value::Integer(2),
            ]],
            rows_affected: 1,
        }
    }

    #[test]
    fn submission_outcomes() {
        let job = submitted_job(&DIALECT, &[job_result("queued")]);
        assert!(
            matches!(&job, Ok(QuantumJob { id, status: JobStatus::Queued, shots: 100, .. }) if id == "j1"),
            "{job:?}"
        );
        let refused = QueryResult {
            columns: Vec::new(),
            rows: Vec::new(),
            rows_affected: 0,
        };
        assert!(matches!(
            submitted_job(&DIALECT, &[job_result("queued"), refused]),
            Err(StoreError::QuotaExceeded)
        ));
        assert!(matches!(
            submitted_job(&DIALECT, &[]),
            Err(StoreError::Internal(_))
        ));
    }

    #[test]
    fn unknown_job_status_is_an_internal_error_naming_it() {
        match submitted_job(&DIALECT, &[job_result("done")]) {
            Err(StoreError::Internal(message)) => assert_eq!(
                message,
                "decoding a row: column `status` holds an unknown job status \"done\""
            ),
            other => panic!("expected an internal error, got {other:?}"),
        }
    }

    #[test]
    fn scopes_are_stored_as_a_json_array() {
        let scopes = ["jobs:read".to_owned(), "jobs:write".to_owned()];
        assert_eq!(
            scopes_json(&scopes).ok().as_deref(),
            Some(r#"["jobs:read","jobs:write"]"#)
        );
        assert_eq!(scopes_json(&[]).ok().as_deref(), Some("[]"));
    }
}
