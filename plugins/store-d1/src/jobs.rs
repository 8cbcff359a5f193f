//! Quantum jobs and the usage they count against: the `quantum_jobs` and
//! `usage_records` tables, with the quota enforced atomically on submission.

use crate::bindings::qhub::plugin::types::{
    JobStatus, NewQuantumJob, QuantumJob, Quota, StoreError, Timestamp, Usage,
};
use crate::row::{self, DecodeError, Row};
use crate::sql::{self, params};

macro_rules! columns {
    () => {
        "id, user_id, status, backend, shots, source, result, error, created_at, updated_at"
    };
}

/// The text stored in `quantum_jobs.status`; the migration's
/// `quantum_jobs_status_check` lists the same words.
pub(crate) fn status_text(status: JobStatus) -> &'static str {
    match status {
        JobStatus::Queued => "queued",
        JobStatus::Running => "running",
        JobStatus::Completed => "completed",
        JobStatus::Failed => "failed",
        JobStatus::Cancelled => "cancelled",
    }
}

pub(crate) fn parse_status(text: &str) -> Option<JobStatus> {
    Some(match text {
        "queued" => JobStatus::Queued,
        "running" => JobStatus::Running,
        "completed" => JobStatus::Completed,
        "failed" => JobStatus::Failed,
        "cancelled" => JobStatus::Cancelled,
        _ => return None,
    })
}

fn decode(row: &Row<'_>) -> Result<QuantumJob, DecodeError> {
    let status = row.text("status")?;
    Ok(QuantumJob {
        id: row.text("id")?,
        user_id: row.text("user_id")?,
        status: parse_status(&status).ok_or_else(|| DecodeError::Invalid {
            column: "status",
            what: "job status",
            reason: format!("unknown status {status:?}"),
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

fn decode_usage(row: &Row<'_>) -> Result<Usage, DecodeError> {
    Ok(Usage {
        period: row.text("period")?,
        jobs: row.uint("jobs")?,
        shots: row.uint("shots")?,
    })
}

pub(crate) fn usage(user_id: String, period: String) -> Result<Usage, StoreError> {
    let result = sql::query(
        "SELECT period, jobs, shots FROM usage_records WHERE user_id = ?1 AND period = ?2",
        params![user_id, period.as_str()],
    )?;
    Ok(row::first(&result, decode_usage)?.unwrap_or(Usage {
        period,
        jobs: 0,
        shots: 0,
    }))
}

/// Inserts a queued job and counts it against the quota in one atomic batch.
///
/// 1. Make sure the period's usage row exists (`ON CONFLICT DO NOTHING`), so the
///    next statement always has a row to update.
/// 2. Count the job with an `UPDATE` whose `WHERE` is the quota check itself. The
///    check and the increment are one statement on one row: SQLite (and D1) run a
///    write batch holding the database's write lock, and a row-locking database
///    re-evaluates an `UPDATE`'s `WHERE` after taking the row lock, so concurrent
///    submissions are serialised on the counter and none can slip past the limit.
///    Reading the usage first and deciding in the plugin could not be made safe:
///    D1 has no interactive transaction to hold between the read and the write.
/// 3. Insert the job only when step 2 counted it: `changes()` is the number of rows
///    the most recent completed `INSERT`/`UPDATE`/`DELETE` on this connection
///    touched, which is step 2 (an `UPDATE` that matches nothing sets it to 0).
///    `RETURNING` hands the job back, and no row means the quota refused it.
///
/// When the quota refuses, nothing changes except that step 1 may have created the
/// period's row with zero counts, which reads the same as no row. When any step
/// fails (an unknown user fails the foreign key in step 1) the batch rolls back as
/// a whole. This relies on the host running the batch on one connection, in order,
/// in one transaction, which is also what D1's `batch` does.
pub(crate) fn submit(job: NewQuantumJob, quota: Quota) -> Result<QuantumJob, StoreError> {
    let stmts = [
        sql::stmt(
            "INSERT INTO usage_records (user_id, period, jobs, shots) VALUES (?1, ?2, 0, 0) \
             ON CONFLICT (user_id, period) DO NOTHING",
            params![job.user_id.as_str(), quota.period.as_str()],
        ),
        sql::stmt(
            "UPDATE usage_records SET jobs = jobs + 1, shots = shots + ?3 \
             WHERE user_id = ?1 AND period = ?2 AND jobs + 1 <= ?4 AND shots + ?3 <= ?5",
            params![
                job.user_id.as_str(),
                quota.period,
                job.shots,
                quota.max_jobs,
                sql::saturating_i64(quota.max_shots),
            ],
        ),
        sql::stmt(
            concat!(
                "INSERT INTO quantum_jobs (id, user_id, status, backend, shots, source, result, \
                 error, created_at, updated_at) \
                 SELECT ?1, ?2, 'queued', ?3, ?4, ?5, NULL, NULL, ?6, ?6 WHERE changes() = 1 \
                 RETURNING ",
                columns!()
            ),
            params![
                sql::new_id(),
                job.user_id,
                job.backend,
                job.shots,
                job.source,
                job.created_at,
            ],
        ),
    ];
    let results = sql::batch(&stmts)?;
    let inserted = results.last().map(|result| row::first(result, decode));
    match inserted {
        Some(Ok(Some(job))) => Ok(job),
        Some(Ok(None)) => Err(StoreError::QuotaExceeded),
        Some(Err(err)) => Err(err),
        None => Err(StoreError::Internal("batch returned no results".to_owned())),
    }
}

pub(crate) fn get(user_id: String, job_id: String) -> Result<Option<QuantumJob>, StoreError> {
    let result = sql::query(
        concat!(
            "SELECT ",
            columns!(),
            " FROM quantum_jobs WHERE id = ?2 AND user_id = ?1"
        ),
        params![user_id, job_id],
    )?;
    row::first(&result, decode)
}

/// Newest first. Two statement texts rather than `(?2 IS NULL OR status = ?2)`, so
/// SQLite can use `idx_quantum_jobs_user_id_status_created_at` for the filter.
pub(crate) fn list(
    user_id: String,
    status: Option<JobStatus>,
    limit: u32,
) -> Result<Vec<QuantumJob>, StoreError> {
    let result = match status {
        None => sql::query(
            concat!(
                "SELECT ",
                columns!(),
                " FROM quantum_jobs WHERE user_id = ?1 \
                 ORDER BY created_at DESC, id DESC LIMIT ?2"
            ),
            params![user_id, limit],
        )?,
        Some(status) => sql::query(
            concat!(
                "SELECT ",
                columns!(),
                " FROM quantum_jobs WHERE user_id = ?1 AND status = ?2 \
                 ORDER BY created_at DESC, id DESC LIMIT ?3"
            ),
            params![user_id, status_text(status), limit],
        )?,
    };
    row::all(&result, decode)
}

/// One conditional `UPDATE`: the status check and the change cannot interleave with
/// another transition. The `IN` list holds only numbered placeholders, one per
/// distinct status in `from`.
pub(crate) fn transition(
    user_id: String,
    job_id: String,
    from: &[JobStatus],
    status: JobStatus,
    result: Option<String>,
    error: Option<String>,
    now: Timestamp,
) -> Result<Option<QuantumJob>, StoreError> {
    let mut from: Vec<&str> = from.iter().copied().map(status_text).collect();
    from.sort_unstable();
    from.dedup();
    if from.is_empty() {
        // No status qualifies, so no job can move.
        return Ok(None);
    }
    const FIRST_FROM: usize = 7;
    let placeholders = (FIRST_FROM..FIRST_FROM + from.len())
        .map(|index| format!("?{index}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "UPDATE quantum_jobs SET status = ?3, result = ?4, error = ?5, updated_at = ?6 \
         WHERE id = ?2 AND user_id = ?1 AND status IN ({placeholders}) RETURNING {}",
        columns!()
    );
    let mut params = params![user_id, job_id, status_text(status), result, error, now];
    params.extend(from.into_iter().map(Into::into));
    let updated = sql::query(&sql, params)?;
    row::first(&updated, decode)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [JobStatus; 5] = [
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::Completed,
        JobStatus::Failed,
        JobStatus::Cancelled,
    ];

    #[test]
    fn status_text_round_trips() {
        for status in ALL {
            assert_eq!(parse_status(status_text(status)), Some(status));
        }
    }

    #[test]
    fn status_words_match_the_migration_check() {
        let migration = include_str!("../../../migrations/d1/0001_init.sql");
        let words = ALL
            .map(|status| format!("'{}'", status_text(status)))
            .join(", ");
        assert!(
            migration.contains(&format!("CHECK (status IN ({words}))")),
            "quantum_jobs_status_check should list {words}"
        );
    }

    #[test]
    fn unknown_status_text_is_rejected() {
        for text in ["", "Queued", "QUEUED", "canceled", "done", " queued"] {
            assert_eq!(parse_status(text), None, "{text:?}");
        }
    }
}
