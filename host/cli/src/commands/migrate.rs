//! `qhub migrate run|info|revert`: the database schema, like sqlx-cli.

use qhub_runtime::MigrationStatus;
use serde::Serialize;

use crate::context::Context;
use crate::exit::CliResult;
use crate::output;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Apply every migration not applied yet.
    Run,
    /// List the migrations and whether each is applied.
    Info,
    /// Revert the most recently applied migration: drops what it created, data
    /// included. Says what it will drop and asks first (--yes for scripts).
    Revert {
        /// Do not ask for confirmation (for scripts).
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Serialize)]
struct MigrationJson {
    version: i64,
    description: String,
    applied: bool,
    reversible: bool,
}

impl From<MigrationStatus> for MigrationJson {
    fn from(m: MigrationStatus) -> Self {
        MigrationJson {
            version: m.version,
            description: m.description,
            applied: m.applied,
            reversible: m.reversible,
        }
    }
}

impl Command {
    pub async fn run(self, ctx: &Context) -> CliResult {
        let db = ctx.database().await?;
        let outcome = match self {
            Command::Run => run(ctx, &db).await,
            Command::Info => info(ctx, &db).await,
            Command::Revert { yes } => revert(ctx, &db, yes).await,
        };
        db.close().await;
        outcome
    }
}

async fn run(ctx: &Context, db: &qhub_runtime::Database) -> CliResult {
    let progress = crate::progress::Migrations::new();
    let applied = db
        .migrate_with(&|step| progress.step(step))
        .await
        .map_err(|e| ctx.database_error(e))?;
    // Erased: the applied migrations are listed on stdout below.
    progress.finish(applied.len(), false);
    if ctx.json {
        output::json(&serde_json::json!({ "applied": applied }));
    } else if applied.is_empty() {
        outln!("the database is up to date");
    } else {
        for version in applied {
            outln!("applied migration {version}");
        }
    }
    Ok(())
}

async fn info(ctx: &Context, db: &qhub_runtime::Database) -> CliResult {
    let migrations = db
        .migration_info()
        .await
        .map_err(|e| ctx.database_error(e))?;
    if ctx.json {
        let rows: Vec<MigrationJson> = migrations.into_iter().map(Into::into).collect();
        output::json(&rows);
        return Ok(());
    }
    outln!("database: {}", ctx.database_name(ctx.database.as_deref()));
    outln!("{:<8} {:<9} DESCRIPTION", "VERSION", "STATUS");
    for m in migrations {
        let status = if m.applied { "applied" } else { "pending" };
        outln!("{:<8} {:<9} {}", m.version, status, m.description);
    }
    Ok(())
}

async fn revert(ctx: &Context, db: &qhub_runtime::Database, yes: bool) -> CliResult {
    let plan = db.revert_plan().await.map_err(|e| ctx.database_error(e))?;
    if let Some((migration, tables)) = plan.filter(|(m, _)| m.reversible) {
        let drops = if tables.is_empty() {
            String::new()
        } else {
            format!(
                ", dropping the tables {} with all of their rows",
                tables.join(", ")
            )
        };
        let what = format!(
            "revert migration {} ({}) of {}{drops}",
            migration.version,
            migration.description,
            ctx.database_name(ctx.database.as_deref()),
        );
        crate::confirm::confirm(
            yes,
            &crate::confirm::Question {
                what: &what,
                word: "revert",
                refusal: "refusing to revert a migration without confirmation",
            },
        )?;
    }
    let reverted = db.revert_last().await.map_err(|e| ctx.database_error(e))?;
    if ctx.json {
        output::json(&serde_json::json!({ "reverted": reverted.map(MigrationJson::from) }));
    } else {
        match reverted {
            Some(m) => outln!("reverted migration {} ({})", m.version, m.description),
            None => outln!("no migration is applied; nothing to revert"),
        }
    }
    Ok(())
}
