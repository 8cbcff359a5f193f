//! Quantum jobs and the usage they count against: the `quantum_jobs` and
//! `usage_records` tables, with the quota enforced atomically on submission.

use qhub_store_common::schema::{status_text, status_words};
use qhub_store_common::types::{
    JobStatus, NewQuantumJob, QuantumJob, Quota, StoreError, Timestamp, Usage,
};
use qhub_store_common::{params, records};

use crate::columns::{Column, select_list, set_updated_at, time_param};
use crate::sql::{self, POSTGRES};

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

pub(crate) fn usage(user_id: String, period: String) -> Result<Usage, StoreError> {
    let zero = |period| Usage {
        period,
        jobs: 0,
        shots: 0,
    };
    if !sql::is_id(&user_id) {
        return Ok(zero(period));
    }
    let result = POSTGRES.query(
        "SELECT period, jobs, shots FROM usage_records \
         WHERE user_id = $1::uuid AND period = $2::text",
        params![user_id, period.as_str()],
    )?;
    Ok(POSTGRES
        .first(&result, records::usage)?
        .unwrap_or_else(|| zero(period)))
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
    records::submitted_job(&POSTGRES, &POSTGRES.batch(&stmts)?)
}

pub(crate) fn get(user_id: String, job_id: String) -> Result<Option<QuantumJob>, StoreError> {
    if !sql::is_id(&user_id) || !sql::is_id(&job_id) {
        return Ok(None);
    }
    let sql = format!(
        "SELECT {} FROM quantum_jobs WHERE id = $2::uuid AND user_id = $1::uuid",
        select_list(COLUMNS)
    );
    let result = POSTGRES.query(&sql, params![user_id, job_id])?;
    POSTGRES.first(&result, records::quantum_job)
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
        None => POSTGRES.query(
            &format!(
                "SELECT {columns} FROM quantum_jobs WHERE user_id = $1::uuid \
                 ORDER BY created_at DESC, id DESC LIMIT $2::bigint"
            ),
            params![user_id, limit],
        )?,
        Some(status) => POSTGRES.query(
            &format!(
                "SELECT {columns} FROM quantum_jobs WHERE user_id = $1::uuid AND status = $2::text \
                 ORDER BY created_at DESC, id DESC LIMIT $3::bigint"
            ),
            params![user_id, status_text(status), limit],
        )?,
    };
    POSTGRES.all(&result, records::quantum_job)
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
    let from = status_words(from);
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
    let updated = POSTGRES.query(&sql, params)?;
    POSTGRES.first(&updated, records::quantum_job)
}
