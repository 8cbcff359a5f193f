//! What the D1 and PostgreSQL schemas (`migrations/`) define alike: the tables a
//! user owns (and the statements that delete a user with them) and the words
//! stored for a job's status.

use crate::bindings::qhub::plugin::sql::Statement;
use crate::bindings::qhub::plugin::types::JobStatus;
use crate::params;
use crate::sql::stmt;

/// The tables holding rows owned by a user, children of `users`; deleted before the
/// user itself. Keep in step with the migrations when a table is added.
pub const OWNED_TABLES: [&str; 6] = [
    "user_sessions",
    "oauth_connections",
    "api_keys",
    "user_preferences",
    "usage_records",
    "quantum_jobs",
];

/// The tables whose rows no user owns, so that deleting a user leaves them alone:
/// `login_throttles` is keyed by an email or a client address, not a user id.
pub const UNOWNED_TABLES: [&str; 1] = ["login_throttles"];

/// The statements that delete a user with everything they own, for one atomic
/// batch: a delete from every owned table, then the user, whose count says whether
/// the user existed. `placeholder` is the dialect's text for the one parameter, the
/// user's id (`?1`, `$1::uuid`).
///
/// The `ON DELETE CASCADE` foreign keys would do the same, but on SQLite they only
/// act when the connection enforces foreign keys; explicit deletes do not depend
/// on that, and leave PostgreSQL's cascades a safety net.
pub fn delete_user_statements(user_id: &str, placeholder: &str) -> Vec<Statement> {
    OWNED_TABLES
        .iter()
        .map(|table| format!("DELETE FROM {table} WHERE user_id = {placeholder}"))
        .chain([format!("DELETE FROM users WHERE id = {placeholder}")])
        .map(|sql| stmt(&sql, params![user_id]))
        .collect()
}

/// The text stored in `quantum_jobs.status`; the migrations'
/// `quantum_jobs_status_check` lists the same words.
pub fn status_text(status: JobStatus) -> &'static str {
    match status {
        JobStatus::Queued => "queued",
        JobStatus::Running => "running",
        JobStatus::Completed => "completed",
        JobStatus::Failed => "failed",
        JobStatus::Cancelled => "cancelled",
    }
}

/// The status stored as `text`, or none for a word the schema does not allow.
pub fn parse_status(text: &str) -> Option<JobStatus> {
    Some(match text {
        "queued" => JobStatus::Queued,
        "running" => JobStatus::Running,
        "completed" => JobStatus::Completed,
        "failed" => JobStatus::Failed,
        "cancelled" => JobStatus::Cancelled,
        _ => return None,
    })
}

/// The distinct words of `statuses`, sorted: the values of a `status IN (...)`
/// list, one placeholder each.
pub fn status_words(statuses: &[JobStatus]) -> Vec<&'static str> {
    let mut words: Vec<&str> = statuses.iter().copied().map(status_text).collect();
    words.sort_unstable();
    words.dedup();
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::qhub::plugin::sql::Value;

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

    #[track_caller]
    fn check_status_words(migration: &str) {
        let words = ALL
            .map(|status| format!("'{}'", status_text(status)))
            .join(", ");
        assert!(
            migration.contains(&format!("CHECK (status IN ({words}))")),
            "quantum_jobs_status_check should list {words}"
        );
    }

    const D1_MIGRATION: &str = include_str!("../../../migrations/d1/0001_init.sql");
    const POSTGRES_MIGRATION: &str = include_str!("../../../migrations/postgres/0001_init.up.sql");

    /// Every migration of each dialect, in order; keep in step with `migrations/`.
    const D1_MIGRATIONS: [&str; 2] = [
        D1_MIGRATION,
        include_str!("../../../migrations/d1/0002_login_throttles.sql"),
    ];
    const POSTGRES_MIGRATIONS: [&str; 2] = [
        POSTGRES_MIGRATION,
        include_str!("../../../migrations/postgres/0002_login_throttles.up.sql"),
    ];

    #[test]
    fn status_words_match_the_d1_migration_check() {
        check_status_words(D1_MIGRATION);
    }

    #[test]
    fn status_words_match_the_postgres_migration_check() {
        check_status_words(POSTGRES_MIGRATION);
    }

    #[test]
    fn owned_tables_are_every_table_but_users_and_the_unowned() {
        for migrations in [D1_MIGRATIONS, POSTGRES_MIGRATIONS] {
            let mut tables: Vec<&str> = migrations
                .iter()
                .flat_map(|migration| migration.lines())
                .filter_map(|line| line.strip_prefix("CREATE TABLE "))
                .filter_map(|rest| rest.split_whitespace().next())
                .filter(|table| *table != "users" && !UNOWNED_TABLES.contains(table))
                .collect();
            tables.sort_unstable();
            let mut owned = OWNED_TABLES.to_vec();
            owned.sort_unstable();
            assert_eq!(tables, owned);
        }
    }

    #[test]
    fn unknown_status_text_is_rejected() {
        for text in ["", "Queued", "QUEUED", "canceled", "done", " queued"] {
            assert_eq!(parse_status(text), None, "{text:?}");
        }
    }

    #[test]
    fn user_deletion_clears_every_owned_table_then_the_user() {
        let stmts = delete_user_statements("u1", "?1");
        let sql: Vec<&str> = stmts.iter().map(|stmt| stmt.sql.as_str()).collect();
        assert_eq!(
            sql,
            [
                "DELETE FROM user_sessions WHERE user_id = ?1",
                "DELETE FROM oauth_connections WHERE user_id = ?1",
                "DELETE FROM api_keys WHERE user_id = ?1",
                "DELETE FROM user_preferences WHERE user_id = ?1",
                "DELETE FROM usage_records WHERE user_id = ?1",
                "DELETE FROM quantum_jobs WHERE user_id = ?1",
                "DELETE FROM users WHERE id = ?1",
            ]
        );
        for stmt in &stmts {
            assert!(
                matches!(stmt.params.as_slice(), [Value::Text(id)] if id == "u1"),
                "{stmt:?}"
            );
        }
    }

    #[test]
    fn status_words_are_distinct_and_sorted() {
        assert_eq!(
            status_words(&[JobStatus::Running, JobStatus::Queued, JobStatus::Running]),
            ["queued", "running"]
        );
        assert!(status_words(&[]).is_empty());
    }
}
