//! Quantum jobs and the usage they count against: the `quantum_jobs` and
//! `usage_records` tables, with the quota enforced atomically on submission.

use crate::bindings::qhub::plugin::types::{
    JobStatus, NewQuantumJob, QuantumJob, Quota, StoreError, Timestamp, Usage,
};
use crate::columns::{Column, select_list, set_updated_at, time_param};
use crate::row::{self, Row};
use crate::sql::{self, params};

const COLUMNS: &[Column] = &[
    Column::uuid("id"),
    Column::uuid("user_id"),
    Column::plain("status"),
    Column::plain("backend"),
    Column::plain("shots"),
    Column::plain("source"),
    Column::json("result"),
    Column::plain("error"),
    Column::time("created_at"),
    Column::time("updated_at"),
];

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

fn decode(row: &Row<'_>) -> Result<QuantumJob, StoreError> {
    let status = row.text("status")?;
    Ok(QuantumJob {
        id: row.text("id")?,
        user_id: row.text("user_id")?,
        status: parse_status(&status).ok_or_else(|| {
            StoreError::Internal(format!(
                "decoding a row: column `status` holds an unknown job status {status:?}"
            ))
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

fn decode_usage(row: &Row<'_>) -> Result<Usage, StoreError> {
    Ok(Usage {
        period: row.text("period")?,
        jobs: row.uint("jobs")?,
        shots: row.uint("shots")?,
    })
}

pub(crate) fn usage(user_id: String, period: String) -> Result<Usage, StoreError> {
    let zero = |period| Usage {
        period,
        jobs: 0,
        shots: 0,
    };
    if !sql::is_id(&user_id) {
        return Ok(zero(period));
    }
    let result = sql::query(
        "SELECT period, jobs, shots FROM usage_records \
         WHERE user_id = $1::uuid AND period = $2::text",
        params![user_id, period.as_str()],
    )?;
    Ok(row::first(&result, decode_usage)?.unwrap_or_else(|| zero(period)))
}

/// Inserts a queued job and counts it against the quota in one atomic batch.
///
/// 1. Make sure the period's usage row exists (`ON CONFLICT DO NOTHING`), so the
///    next statement always has a row to lock and update. An unknown user fails
///    the foreign key here (`not-found`).
/// 2. In one statement, count the job with an `UPDATE` whose `WHERE` is the quota
///    check itself, and insert the job from that `UPDATE`'s `RETURNING` rows: one
///    row when the quota allowed it, none when it refused (then nothing is
///    inserted, `RETURNING` is empty, and the result is `quota-exceeded`).
///
/// Why this holds under concurrency at READ COMMITTED, where each statement sees
/// the rows committed when it starts:
/// - Step 1 of two concurrent first submissions in a period: the second insert
///   waits on the first one's unique-index entry until that transaction ends, then
///   does nothing; so when step 2 starts, the row is committed and visible.
/// - Step 2's `UPDATE` takes the row's lock. A concurrent submission's `UPDATE`
///   blocks on that lock until the first transaction commits, then PostgreSQL
///   re-reads the newest version of the row and evaluates the `WHERE` again on it
///   (EvalPlanQual) before updating. So every check runs against the counts of all
///   submissions committed before it, the check and the increment cannot be
///   separated, and no interleaving lets a user exceed the quota. Reading the usage
///   first and deciding in the plugin could not be made safe: the contract has no
///   interactive transaction to hold between the read and the write.
///
/// The check is written `shots <= max - n` rather than `shots + n <= max` so that
/// it cannot overflow `bigint` (both `max` and `n` are non-negative); the increment
/// then cannot overflow either. When the quota refuses, nothing changes except that
/// step 1 may have created the period's row with zero counts, which reads the same
/// as no row. When any statement fails, the host rolls the batch back as a whole.
pub(crate) fn submit(job: NewQuantumJob, quota: Quota) -> Result<QuantumJob, StoreError> {
    if !sql::is_id(&job.user_id) {
        return Err(StoreError::NotFound);
    }
    let insert_job = format!(
        "WITH counted AS ( \
             UPDATE usage_records SET jobs = jobs + 1, shots = shots + $3::bigint \
             WHERE user_id = $1::uuid AND period = $2::text \
             AND jobs + 1 <= $4::bigint AND shots <= $5::bigint - $3::bigint \
             RETURNING 1 \
         ) \
         INSERT INTO quantum_jobs (user_id, status, backend, shots, source, result, error, \
         created_at, updated_at) \
         SELECT $1::uuid, 'queued', $6::text, $3::bigint, $7::text, NULL, NULL, \
         {created_at}, {created_at} FROM counted \
         RETURNING {columns}",
        created_at = time_param(8),
        columns = select_list(COLUMNS),
    );
    let stmts = [
        sql::stmt(
            "INSERT INTO usage_records (user_id, period, jobs, shots) \
             VALUES ($1::uuid, $2::text, 0, 0) \
             ON CONFLICT (user_id, period) DO NOTHING",
            params![job.user_id.as_str(), quota.period.as_str()],
        ),
        sql::stmt(
            &insert_job,
            params![
                job.user_id,
                quota.period,
                job.shots,
                quota.max_jobs,
                sql::saturating_i64(quota.max_shots),
                job.backend,
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
    if !sql::is_id(&user_id) || !sql::is_id(&job_id) {
        return Ok(None);
    }
    let sql = format!(
        "SELECT {} FROM quantum_jobs WHERE id = $2::uuid AND user_id = $1::uuid",
        select_list(COLUMNS)
    );
    let result = sql::query(&sql, params![user_id, job_id])?;
    row::first(&result, decode)
}

/// Newest first. Two statement texts rather than `($2 IS NULL OR status = $2)`, so
/// the planner can use `idx_quantum_jobs_user_id_status_created_at` for the filter.
pub(crate) fn list(
    user_id: String,
    status: Option<JobStatus>,
    limit: u32,
) -> Result<Vec<QuantumJob>, StoreError> {
    if !sql::is_id(&user_id) {
        return Ok(Vec::new());
    }
    let columns = select_list(COLUMNS);
    let result = match status {
        None => sql::query(
            &format!(
                "SELECT {columns} FROM quantum_jobs WHERE user_id = $1::uuid \
                 ORDER BY created_at DESC, id DESC LIMIT $2::bigint"
            ),
            params![user_id, limit],
        )?,
        Some(status) => sql::query(
            &format!(
                "SELECT {columns} FROM quantum_jobs WHERE user_id = $1::uuid AND status = $2::text \
                 ORDER BY created_at DESC, id DESC LIMIT $3::bigint"
            ),
            params![user_id, status_text(status), limit],
        )?,
    };
    row::all(&result, decode)
}

/// One conditional `UPDATE`: the status check and the change cannot interleave with
/// another transition (a concurrent one waits for the row lock, then re-checks the
/// status on the row it committed). The `IN` list holds only numbered placeholders,
/// one per distinct status in `from`.
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
    if from.is_empty() || !sql::is_id(&user_id) || !sql::is_id(&job_id) {
        // No status qualifies, or no job can have these ids: nothing moves.
        return Ok(None);
    }
    const FIRST_FROM: usize = 7;
    let placeholders = (FIRST_FROM..FIRST_FROM + from.len())
        .map(|index| format!("${index}::text"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "UPDATE quantum_jobs SET status = $3::text, result = $4::jsonb, error = $5::text, \
         updated_at = {updated_at} \
         WHERE id = $2::uuid AND user_id = $1::uuid AND status IN ({placeholders}) \
         RETURNING {columns}",
        updated_at = set_updated_at("updated_at", &time_param(6)),
        columns = select_list(COLUMNS),
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
        let migration = include_str!("../../../migrations/postgres/0001_init.up.sql");
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
