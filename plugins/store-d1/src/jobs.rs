//! Quantum jobs and the usage they count against: the `quantum_jobs` and
//! `usage_records` tables, with the quota enforced atomically on submission.

use qhub_store_common::schema::{status_text, status_words};
use qhub_store_common::types::{
    JobStatus, NewQuantumJob, QuantumJob, Quota, StoreError, Timestamp, Usage,
};
use qhub_store_common::{params, records};

use crate::sql::{self, D1};

macro_rules! columns {
    () => {
        "id, user_id, status, backend, shots, source, result, error, created_at, updated_at"
    };
}

pub(crate) fn usage(user_id: String, period: String) -> Result<Usage, StoreError> {
    let result = D1.query(
        "SELECT period, jobs, shots FROM usage_records WHERE user_id = ?1 AND period = ?2",
        params![user_id, period.as_str()],
    )?;
    Ok(D1.first(&result, records::usage)?.unwrap_or(Usage {
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
    records::submitted_job(&D1, &D1.batch(&stmts)?)
}

pub(crate) fn get(user_id: String, job_id: String) -> Result<Option<QuantumJob>, StoreError> {
    let result = D1.query(
        concat!(
            "SELECT ",
            columns!(),
            " FROM quantum_jobs WHERE id = ?2 AND user_id = ?1"
        ),
        params![user_id, job_id],
    )?;
    D1.first(&result, records::quantum_job)
}

/// Newest first. Two statement texts rather than `(?2 IS NULL OR status = ?2)`, so
/// SQLite can use `idx_quantum_jobs_user_id_status_created_at` for the filter.
pub(crate) fn list(
    user_id: String,
    status: Option<JobStatus>,
    limit: u32,
) -> Result<Vec<QuantumJob>, StoreError> {
    let result = match status {
        None => D1.query(
            concat!(
                "SELECT ",
                columns!(),
                " FROM quantum_jobs WHERE user_id = ?1 \
                 ORDER BY created_at DESC, id DESC LIMIT ?2"
            ),
            params![user_id, limit],
        )?,
        Some(status) => D1.query(
            concat!(
                "SELECT ",
                columns!(),
                " FROM quantum_jobs WHERE user_id = ?1 AND status = ?2 \
                 ORDER BY created_at DESC, id DESC LIMIT ?3"
            ),
            params![user_id, status_text(status), limit],
        )?,
    };
    D1.all(&result, records::quantum_job)
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
    let from = status_words(from);
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
    let updated = D1.query(&sql, params)?;
    D1.first(&updated, records::quantum_job)
}
