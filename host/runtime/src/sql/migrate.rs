//! Schema migrations, embedded in the binary: `migrations/d1` for SQLite and D1
//! (the same files `wrangler d1 migrations apply` reads) and `migrations/postgres`
//! for PostgreSQL.
//!
//! Where the applied state is kept depends on who else migrates the database:
//!
//! - SQLite files and PostgreSQL: `_sqlx_migrations`, as sqlx-cli does, with
//!   checksums. Only qhub (or sqlx-cli) migrates them. Processes starting together
//!   on a fresh database serialise (see [`Database::migrate`]): one migrates, the
//!   others then find the schema current.
//! - Remote D1 (`d1://`): `d1_migrations`, Wrangler's own table (`id`, `name` = the
//!   file name, `applied_at`). The production database is also migrated by
//!   `wrangler d1 migrations apply` when the Worker is deployed; sharing its table
//!   means each tool sees what the other applied and neither applies a file twice.
//!   As Wrangler does, each pending file is sent with its `INSERT INTO
//!   d1_migrations` as one request, which D1 runs as one transaction, so a file is
//!   applied and recorded together or not at all. The table has no checksums, so a
//!   file edited after it was applied is not noticed (Wrangler does not either).

use std::borrow::Cow;
use std::sync::LazyLock;

use sqlx::Connection;
use sqlx::SqlStr;
use sqlx::migrate::{AppliedMigration, Migrate, MigrateError, Migration, MigrationType, Migrator};

use super::Database;
use super::d1::{D1Database, Failure};
use crate::error::{Error, Result};

mod files {
    include!(concat!(env!("OUT_DIR"), "/migrations.rs"));
}

static SQLITE: LazyLock<Migrator> = LazyLock::new(|| embedded(files::SQLITE_FILES));
static POSTGRES: LazyLock<Migrator> = LazyLock::new(|| embedded(files::POSTGRES_FILES));

/// A migrator over migration files embedded by `build.rs`, read with sqlx's rules
/// (those of `sqlx::migrate!` and `sqlx migrate`): `VERSION_DESCRIPTION.sql`, or
/// `.up.sql` / `.down.sql` for reversible ones; underscores in the description read
/// as spaces; a file starting `-- no-transaction` runs outside a transaction; the
/// checksum is sqlx's SHA-384 of the text, so databases migrated by sqlx-cli or an
/// earlier qhub agree. Files not named so are skipped, as sqlx skips them.
fn embedded(files: &'static [(&'static str, &'static str)]) -> Migrator {
    let migrations = files
        .iter()
        .filter_map(|&(name, sql)| {
            let (version, rest) = name.split_once('_')?;
            let version = version.parse().ok()?;
            let migration_type = MigrationType::from_filename(rest);
            let description = rest
                .trim_end_matches(migration_type.suffix())
                .replace('_', " ");
            let no_tx = sql.starts_with("-- no-transaction");
            Some(Migration::new(
                version,
                Cow::Owned(description),
                migration_type,
                SqlStr::from_static(sql),
                no_tx,
            ))
        })
        .collect();
    Migrator::with_migrations(migrations)
}

const TABLE: &str = "_sqlx_migrations";

/// Wrangler's table, created as Wrangler creates it.
const D1_TABLE_DDL: &str = "CREATE TABLE IF NOT EXISTS d1_migrations(
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT UNIQUE,
    applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
)";

/// One migration and whether the database has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    pub version: i64,
    pub description: String,
    pub applied: bool,
    /// Whether `revert` can undo it (it has a down script).
    pub reversible: bool,
}

/// A migration about to be applied, for a progress display: see
/// [`Database::migrate_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MigrationStep<'a> {
    pub version: i64,
    /// As sqlx reads it from the file name: `login throttles` for `0002_login_throttles.sql`.
    pub description: &'a str,
    /// 1 for the first migration of this run.
    pub index: usize,
    /// How many this run applies.
    pub total: usize,
}

/// A callback for [`MigrationStep`]s.
pub type OnMigration<'a> = &'a (dyn Fn(MigrationStep<'_>) + Sync);

fn migration_error(err: MigrateError) -> Error {
    match err {
        MigrateError::Execute(e) => acquire_error(e),
        other => Error::Migration(other.to_string()),
    }
}

/// A failure to get a connection is "unavailable", a server without the database
/// "missing", anything else a database error.
fn acquire_error(err: sqlx::Error) -> Error {
    match err {
        sqlx::Error::Database(db) if db.code().as_deref() == Some(super::MISSING_DATABASE) => {
            Error::MissingDatabase(super::quoted_name(db.message()))
        }
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Tls(_) => Error::Unavailable(err.to_string()),
        other => Error::Migration(other.to_string()),
    }
}

impl Database {
    fn migrator(&self) -> &'static Migrator {
        match self {
            Database::Sqlite(_) | Database::D1(_) => &SQLITE,
            Database::Postgres(_) => &POSTGRES,
        }
    }

    /// Applies the migrations that have not run yet; returns their versions.
    ///
    /// Safe when several processes start at once on a fresh database: one applies
    /// the migrations while the others wait for it, then find the schema current
    /// and apply nothing. On PostgreSQL the migrator's advisory lock is taken on one
    /// connection before the migrations table is created, and held until the last
    /// migration is recorded. On SQLite the whole check-and-apply is one
    /// `BEGIN IMMEDIATE` transaction: it holds the database's write lock, and the
    /// others wait for it within the busy timeout. A database already current is
    /// recognised without taking either lock.
    pub async fn migrate(&self) -> Result<Vec<i64>> {
        self.migrate_with(&|_| {}).await
    }

    /// [`Database::migrate`], calling `on_step` before each migration it applies
    /// (never when the schema is current): a CLI draws its progress from this.
    pub async fn migrate_with(&self, on_step: OnMigration<'_>) -> Result<Vec<i64>> {
        if let Database::D1(d1) = self {
            let before = d1_applied(d1).await?;
            return d1_migrate(d1, &before, on_step).await;
        }
        if self.is_current().await {
            return Ok(Vec::new());
        }
        match self {
            Database::Sqlite(pool) => migrate_sqlite(pool, on_step).await,
            Database::Postgres(pool) => migrate_postgres(pool, on_step).await,
            Database::D1(d1) => d1_migrate(d1, &d1_applied(d1).await?, on_step).await,
        }
    }

    /// Whether every migration is applied, as recorded, and nothing else is: read
    /// without locks or writes. Any doubt (no table yet, an error) is `false`, and
    /// the locked path then decides.
    async fn is_current(&self) -> bool {
        let Ok(applied) = self.applied().await else {
            return false;
        };
        let mut expected = self
            .migrator()
            .iter()
            .filter(|m| m.migration_type.is_up_migration());
        applied.len() == expected.clone().count()
            && expected.all(|m| {
                applied
                    .iter()
                    .any(|a| a.version == m.version && a.checksum == m.checksum)
            })
    }

    /// Every known migration, applied or not, in order.
    pub async fn migration_info(&self) -> Result<Vec<MigrationStatus>> {
        let applied = self.applied_versions().await?;
        let migrator = self.migrator();
        Ok(migrator
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .map(|m| MigrationStatus {
                version: m.version,
                description: m.description.to_string(),
                applied: applied.contains(&m.version),
                reversible: migrator
                    .iter()
                    .any(|d| d.version == m.version && d.migration_type.is_down_migration()),
            })
            .collect())
    }

    /// What [`Self::revert_last`] would undo: the most recently applied
    /// migration and the tables its down script drops (`DROP TABLE` statements,
    /// in order), or `None` when nothing is applied. Reads only.
    pub async fn revert_plan(&self) -> Result<Option<(MigrationStatus, Vec<String>)>> {
        let info = self.migration_info().await?;
        let Some(last) = info.into_iter().rev().find(|m| m.applied) else {
            return Ok(None);
        };
        let tables = self
            .migrator()
            .iter()
            .find(|m| m.version == last.version && m.migration_type.is_down_migration())
            .map(|down| dropped_tables(down.sql.as_str()))
            .unwrap_or_default();
        Ok(Some((last, tables)))
    }

    /// Reverts the most recently applied migration; returns it, or `None` when
    /// nothing is applied.
    pub async fn revert_last(&self) -> Result<Option<MigrationStatus>> {
        let info = self.migration_info().await?;
        let Some(last) = info.iter().rev().find(|m| m.applied).cloned() else {
            return Ok(None);
        };
        if !last.reversible {
            return Err(Error::Migration(format!(
                "migration {} ({}) has no down script and cannot be reverted",
                last.version, last.description
            )));
        }
        let target = info
            .iter()
            .filter(|m| m.applied && m.version < last.version)
            .map(|m| m.version)
            .max()
            .unwrap_or(0);
        match self {
            Database::Sqlite(pool) => self.migrator().undo(pool, target).await,
            Database::Postgres(pool) => self.migrator().undo(pool, target).await,
            // Unreachable while D1 migrations have no down scripts; refused rather
            // than guessed should one ever get one.
            Database::D1(_) => {
                return Err(Error::Migration(
                    "reverting is not supported on D1; write a new migration instead".into(),
                ));
            }
        }
        .map_err(migration_error)?;
        Ok(Some(MigrationStatus {
            applied: false,
            ..last
        }))
    }

    async fn applied_versions(&self) -> Result<Vec<i64>> {
        if let Database::D1(d1) = self {
            return d1_applied(d1).await;
        }
        Ok(self
            .applied()
            .await?
            .into_iter()
            .map(|m| m.version)
            .collect())
    }

    /// The migrations recorded as applied, read without creating the table (so a
    /// listing never races a migrating process's `CREATE TABLE`). Not for D1.
    async fn applied(&self) -> Result<Vec<AppliedMigration>> {
        let listed = match self {
            Database::Sqlite(pool) => {
                let mut conn = pool.acquire().await.map_err(acquire_error)?;
                let exists: bool = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
                )
                .bind(TABLE)
                .fetch_one(&mut *conn)
                .await
                .map_err(acquire_error)?;
                if !exists {
                    return Ok(Vec::new());
                }
                conn.list_applied_migrations(TABLE).await
            }
            Database::Postgres(pool) => {
                let mut conn = pool.acquire().await.map_err(acquire_error)?;
                let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
                    .bind(TABLE)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(acquire_error)?;
                if !exists {
                    return Ok(Vec::new());
                }
                conn.list_applied_migrations(TABLE).await
            }
            Database::D1(_) => return Err(Error::Migration("not for D1".into())),
        };
        listed.map_err(migration_error)
    }
}

/// SQLite: check and apply in one `BEGIN IMMEDIATE` transaction (the write lock).
/// The migrations run inside it as savepoints.
async fn migrate_sqlite(pool: &sqlx::SqlitePool, on_step: OnMigration<'_>) -> Result<Vec<i64>> {
    let mut conn = pool.acquire().await.map_err(acquire_error)?;
    let mut tx = conn
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(acquire_error)?;
    let applied = apply_pending(&mut *tx, &SQLITE, on_step)
        .await
        .map_err(migration_error)?;
    tx.commit().await.map_err(acquire_error)?;
    Ok(applied)
}

/// PostgreSQL: check and apply under the advisory lock, on the connection that holds it.
async fn migrate_postgres(pool: &sqlx::PgPool, on_step: OnMigration<'_>) -> Result<Vec<i64>> {
    let mut conn = pool.acquire().await.map_err(acquire_error)?;
    conn.lock().await.map_err(migration_error)?;
    let applied = apply_pending(&mut *conn, &POSTGRES, on_step).await;
    if let Err(err) = conn.unlock().await {
        // Ending the session releases its advisory locks.
        tracing::warn!("cannot release the migration lock, closing its connection: {err}");
        conn.close_on_drop();
    }
    applied.map_err(migration_error)
}

/// Creates the migrations table if needed and applies what is pending, checking
/// what is recorded as sqlx's migrator does (no failed migration, no unknown
/// version, unchanged checksums). The caller holds the lock that makes this safe
/// against other processes.
async fn apply_pending<C: Migrate>(
    conn: &mut C,
    migrator: &Migrator,
    on_step: OnMigration<'_>,
) -> Result<Vec<i64>, MigrateError> {
    conn.ensure_migrations_table(TABLE).await?;
    if let Some(version) = conn.dirty_version(TABLE).await? {
        return Err(MigrateError::Dirty(version));
    }
    let applied = conn.list_applied_migrations(TABLE).await?;
    if let Some(unknown) = applied
        .iter()
        .find(|a| !migrator.iter().any(|m| m.version == a.version))
    {
        return Err(MigrateError::VersionMissing(unknown.version));
    }
    let mut pending = Vec::new();
    for migration in migrator
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
    {
        match applied.iter().find(|a| a.version == migration.version) {
            Some(recorded) if recorded.checksum != migration.checksum => {
                return Err(MigrateError::VersionMismatch(migration.version));
            }
            Some(_) => {}
            None => pending.push(migration),
        }
    }
    let mut done = Vec::new();
    for (index, migration) in pending.iter().enumerate() {
        on_step(MigrationStep {
            version: migration.version,
            description: &migration.description,
            index: index + 1,
            total: pending.len(),
        });
        conn.apply(TABLE, migration).await?;
        done.push(migration.version);
    }
    Ok(done)
}

/// The tables a script's `DROP TABLE [IF EXISTS] name` statements drop, in order.
fn dropped_tables(sql: &str) -> Vec<String> {
    sql.lines()
        .map(str::trim)
        .filter(|line| !line.starts_with("--"))
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
            if upper.len() < 3 || upper[0] != "DROP" || upper[1] != "TABLE" {
                return None;
            }
            let at = if upper.len() > 4 && upper[2] == "IF" && upper[3] == "EXISTS" {
                4
            } else {
                2
            };
            words
                .get(at)
                .map(|name| name.trim_end_matches(';').trim_matches('"').to_owned())
        })
        .collect()
}

// ---- remote D1: Wrangler's d1_migrations ------------------------------------------

/// The file a migration came from, which is the name Wrangler records:
/// `0002_login_throttles.sql` for version 2, "login throttles" (sqlx turns the
/// file name's underscores into the description's spaces).
fn file_name(migration: &Migration) -> String {
    format!(
        "{:04}_{}.sql",
        migration.version,
        migration.description.replace(' ', "_")
    )
}

fn up_migrations() -> impl Iterator<Item = &'static Migration> {
    SQLITE.iter().filter(|m| m.migration_type.is_up_migration())
}

/// The versions whose files `d1_migrations` lists, creating the table if needed.
async fn d1_applied(d1: &D1Database) -> Result<Vec<i64>> {
    let results = d1
        .batch_for_migrator(&[D1_TABLE_DDL, "SELECT name FROM d1_migrations ORDER BY id"])
        .await
        .map_err(Error::from)?;
    let names: Vec<String> = results
        .last()
        .map(|listing| {
            listing
                .rows
                .iter()
                .filter_map(|row| match row.first() {
                    Some(crate::bindings::sql::Value::Text(name)) => Some(name.clone()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let versions: Vec<i64> = up_migrations()
        .filter(|m| names.contains(&file_name(m)))
        .map(|m| m.version)
        .collect();
    if names.len() > versions.len() {
        tracing::warn!(
            database = d1.name(),
            "d1_migrations lists migrations this qhub does not know; is it older than the database?"
        );
    }
    Ok(versions)
}

/// Applies each pending file with its `d1_migrations` row, one request per file.
async fn d1_migrate(
    d1: &D1Database,
    applied: &[i64],
    on_step: OnMigration<'_>,
) -> Result<Vec<i64>> {
    let pending: Vec<&Migration> = up_migrations()
        .filter(|m| !applied.contains(&m.version))
        .collect();
    let mut done = Vec::new();
    for (index, migration) in pending.iter().enumerate() {
        on_step(MigrationStep {
            version: migration.version,
            description: &migration.description,
            index: index + 1,
            total: pending.len(),
        });
        let name = file_name(migration);
        // The name comes from the embedded file list, never from input; quoted as a
        // literal because D1 binds parameters to a single statement only.
        let script = format!(
            "{}\nINSERT INTO d1_migrations (name) VALUES ('{}');",
            migration.sql.as_str(),
            name.replace('\'', "''")
        );
        d1.script(&script).await.map_err(|failure| match failure {
            Failure::Sql(err) => Error::Migration(format!("{name}: {}", err.message)),
            other => Error::from(other),
        })?;
        tracing::info!(database = d1.name(), migration = %name, "applied");
        done.push(migration.version);
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_a_down_script_drops_are_named() {
        let sql = "-- DROP TABLE not_this;\nDROP TABLE a;\ndrop table if exists \"b\";\nDROP FUNCTION f();";
        assert_eq!(dropped_tables(sql), ["a", "b"]);
        let init = POSTGRES
            .iter()
            .find(|m| m.version == 1 && m.migration_type.is_down_migration())
            .expect("0001 has a down script");
        assert!(dropped_tables(init.sql.as_str()).contains(&"users".to_owned()));
    }

    /// Wrangler records file names: the names rebuilt from sqlx's descriptions must
    /// be the files in `migrations/d1`, or the two tools would disagree.
    #[test]
    fn d1_migration_names_are_the_file_names() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/d1");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.expect("a directory entry").file_name())
            .map(|name| name.to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".sql"))
            .collect();
        files.sort();
        let names: Vec<String> = up_migrations().map(file_name).collect();
        assert_eq!(names, files);
    }

    /// The embedded migrators hold exactly what sqlx's own resolver (the code
    /// behind `sqlx::migrate!` and `sqlx migrate run`) reads from the directories:
    /// versions, descriptions, kinds, SQL, checksums and transaction mode.
    #[test]
    fn embedded_migrations_are_what_sqlx_resolves() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
        for (dir, migrator) in [("d1", &*SQLITE), ("postgres", &*POSTGRES)] {
            let resolved = sqlx::migrate::resolve_blocking(&root.join(dir))
                .unwrap_or_else(|e| panic!("{dir}: {e}"));
            let shape = |m: &Migration| {
                (
                    m.version,
                    m.description.to_string(),
                    m.migration_type,
                    m.sql.as_str().to_owned(),
                    m.checksum.to_vec(),
                    m.no_tx,
                )
            };
            let expected: Vec<_> = resolved.iter().map(|(m, _)| shape(m)).collect();
            let embedded: Vec<_> = migrator.iter().map(shape).collect();
            assert!(!embedded.is_empty(), "{dir}: no migrations embedded");
            assert_eq!(embedded, expected, "{dir}");
        }
    }
}
