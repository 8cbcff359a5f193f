//! Schema migrations, embedded in the binary: `migrations/d1` for SQLite (the same
//! files `wrangler d1 migrations apply` reads) and `migrations/postgres` for
//! PostgreSQL. Applied state is kept in `_sqlx_migrations`, as sqlx-cli does.

use sqlx::migrate::{Migrate, MigrateError, Migrator};

use super::Database;
use crate::error::{Error, Result};

static SQLITE: Migrator = sqlx::migrate!("../../migrations/d1");
static POSTGRES: Migrator = sqlx::migrate!("../../migrations/postgres");

const TABLE: &str = "_sqlx_migrations";

/// One migration and whether the database has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    pub version: i64,
    pub description: String,
    pub applied: bool,
    /// Whether `revert` can undo it (it has a down script).
    pub reversible: bool,
}

fn migration_error(err: MigrateError) -> Error {
    match err {
        MigrateError::Execute(e) => acquire_error(e),
        other => Error::Migration(other.to_string()),
    }
}

/// A failure to get a connection is "unavailable", anything else a database error.
fn acquire_error(err: sqlx::Error) -> Error {
    match err {
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
            Database::Sqlite(_) => &SQLITE,
            Database::Postgres(_) => &POSTGRES,
        }
    }

    /// Applies the migrations that have not run yet; returns their versions.
    pub async fn migrate(&self) -> Result<Vec<i64>> {
        let before = self.applied_versions().await?;
        match self {
            Database::Sqlite(pool) => self.migrator().run(pool).await,
            Database::Postgres(pool) => self.migrator().run(pool).await,
        }
        .map_err(migration_error)?;
        let after = self.applied_versions().await?;
        Ok(after.into_iter().filter(|v| !before.contains(v)).collect())
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
        }
        .map_err(migration_error)?;
        Ok(Some(MigrationStatus {
            applied: false,
            ..last
        }))
    }

    async fn applied_versions(&self) -> Result<Vec<i64>> {
        let applied = match self {
            Database::Sqlite(pool) => {
                let mut conn = pool.acquire().await.map_err(acquire_error)?;
                list(&mut *conn).await
            }
            Database::Postgres(pool) => {
                let mut conn = pool.acquire().await.map_err(acquire_error)?;
                list(&mut *conn).await
            }
        };
        Ok(applied
            .map_err(migration_error)?
            .into_iter()
            .map(|m| m.version)
            .collect())
    }
}

async fn list<C: Migrate>(
    conn: &mut C,
) -> Result<Vec<sqlx::migrate::AppliedMigration>, MigrateError> {
    conn.ensure_migrations_table(TABLE).await?;
    conn.list_applied_migrations(TABLE).await
}
