//! What a command runs against: the first-party plugins over the embedded SQLite
//! file in `QHUB_HOME` (the default: no server, no setup), or over the database
//! that `--database` / `DATABASE_URL` names (SQLite, PostgreSQL, or Cloudflare D1
//! through its HTTP API).

use std::collections::BTreeMap;
use std::sync::Arc;

use qhub_runtime::{
    AccountService, Allocation, Database, Dialect, Limits, LoadedPlugin, Runtime, RuntimeConfig,
};

use crate::backend::{self, Backend};
use crate::exit::{CliError, CliResult, Exit};
use crate::home::Home;

/// The issuer of tokens minted by the CLI itself (not by a server).
const EMBEDDED_ISSUER: &str = "qhub-embedded";

/// What a `d1://` database needs, for errors about its URL or token.
const D1_SETUP_HINT: &str = "use --database d1://ACCOUNT_ID/DATABASE_ID (ids from `wrangler d1 list`) and set \
     CLOUDFLARE_API_TOKEN to an API token with D1 edit permission on that account, see .env.example";

#[derive(Debug)]
pub struct Context {
    pub home: Home,
    pub json: bool,
    /// `--database` / `DATABASE_URL`; `None` is the embedded SQLite in `QHUB_HOME`.
    pub database: Option<String>,
    /// `--server` / `QHUB_SERVER`: remote mode.
    pub server: Option<String>,
}

impl Context {
    /// The dialect commands run against.
    pub fn dialect(&self) -> Dialect {
        self.database
            .as_deref()
            .and_then(|url| Dialect::of_url(url).ok())
            .unwrap_or(Dialect::Sqlite)
    }

    /// Opens the database (not yet migrated).
    pub async fn database(&self) -> CliResult<Database> {
        let Some(url) = &self.database else {
            self.home.ensure()?;
            let path = self.home.database_path();
            return Database::open_sqlite(&path).await.map_err(|e| {
                CliError::internal(format!("cannot open the database {}: {e}", path.display()))
                    .with_hint("check that QHUB_HOME is writable, or point QHUB_HOME elsewhere")
            });
        };
        Database::connect(url)
            .await
            .map_err(|e| self.database_error(e))
    }

    /// A runtime error from opening or migrating the database, as the user sees it.
    pub fn database_error(&self, err: qhub_runtime::Error) -> CliError {
        match err {
            qhub_runtime::Error::Unavailable(_) => {
                CliError::new(Exit::Unavailable, err.to_string())
            }
            qhub_runtime::Error::InvalidUrl(message) if self.is_d1() => {
                CliError::new(Exit::Usage, message).with_hint(D1_SETUP_HINT)
            }
            qhub_runtime::Error::InvalidUrl(message) => CliError::new(Exit::Usage, message)
                .with_hint("e.g. --database sqlite:qhub.db or --database postgres://USER@HOST/DB"),
            // Wrong credentials, as a refused password is.
            qhub_runtime::Error::Unauthorized(_) => {
                CliError::new(Exit::Refused, err.to_string()).with_hint(D1_SETUP_HINT)
            }
            other => CliError::internal(other.to_string()),
        }
    }

    /// Whether commands go to a remote D1 database (`d1://`).
    fn is_d1(&self) -> bool {
        self.database
            .as_deref()
            .is_some_and(qhub_runtime::sql::d1::is_d1_url)
    }

    /// Adds the hint that fits where the command went to an "unavailable" error
    /// that has none yet.
    pub fn explain(&self, mut err: CliError) -> CliError {
        if err.exit != Exit::Unavailable || err.hint.is_some() {
            return err;
        }
        let remote =
            self.server.is_some() || self.home.load_config().is_ok_and(|c| c.server.is_some());
        err.hint = Some(if remote {
            "the server could not reach its database; try again in a moment".into()
        } else if self.is_d1() {
            "is Cloudflare's API reachable from here? check the network, and QHUB_D1_API_URL if you set it; \
             try again in a moment"
                .into()
        } else {
            match self.dialect() {
                Dialect::Postgres => {
                    "is PostgreSQL running? try `docker-compose up -d`, and check --database / DATABASE_URL".into()
                }
                Dialect::Sqlite => "check that the database file is on a reachable, writable disk".into(),
            }
        });
        err
    }

    /// Where account commands go: `--server`/`QHUB_SERVER`, else the server the
    /// saved token came from, else the plugins in this process.
    pub async fn backend(&self) -> CliResult<Backend> {
        let server = match &self.server {
            Some(server) => Some(server.clone()),
            None => self.home.load_config()?.server,
        };
        if let Some(server) = server {
            return Ok(Backend::Remote(qhub_client::Client::new(
                &server,
                &backend::user_agent(),
            )?));
        }
        let secret = self.home.jwt_secret()?;
        let service = self
            .service(secret, EMBEDDED_ISSUER, Allocation::OnDemand)
            .await?;
        Ok(Backend::Local(Box::new(service)))
    }

    /// The token to send: `QHUB_TOKEN`, else the saved one.
    pub fn token(&self) -> CliResult<String> {
        if let Some(token) = std::env::var("QHUB_TOKEN").ok().filter(|t| !t.is_empty()) {
            return Ok(token);
        }
        self.home
            .load_config()?
            .token
            .ok_or_else(|| CliError::not_logged_in("not logged in"))
    }

    /// The account service over this context's database: plugins loaded (from the
    /// compiled cache when possible), database migrated, the backend plugin
    /// matching the database's dialect.
    pub async fn service(
        &self,
        jwt_secret: String,
        issuer: &str,
        allocation: Allocation,
    ) -> CliResult<AccountService> {
        let db = self.database().await?;
        let progress = crate::progress::Migrations::new();
        let applied = db
            .migrate_with(&|step| progress.step(step))
            .await
            .map_err(|e| self.database_error(e))?;
        progress.finish(applied.len(), true);
        let runtime = Arc::new(
            Runtime::new(RuntimeConfig {
                cache_dir: Some(self.home.cache_dir()),
                limits: Limits::default(),
                allocation,
            })
            .map_err(crate::home::runtime_error)?,
        );
        crate::progress::watch_compiles(&runtime);
        let core = load_embedded(&runtime, "auth")?;
        let backend = load_embedded(&runtime, db.dialect().backend_plugin())?;
        let mut config = BTreeMap::from([
            ("jwt-secret".to_owned(), jwt_secret),
            ("issuer".to_owned(), issuer.to_owned()),
        ]);
        // Operator settings the core reads; it validates them and owns the defaults.
        for (variable, key) in [
            ("QHUB_QUOTA_MONTHLY_JOBS", "quota-monthly-jobs"),
            ("QHUB_QUOTA_MONTHLY_SHOTS", "quota-monthly-shots"),
        ] {
            if let Some(value) = std::env::var(variable).ok().filter(|v| !v.is_empty()) {
                config.insert(key.to_owned(), value);
            }
        }
        AccountService::new(runtime, core, backend, db, config)
            .map_err(|e| CliError::internal(e.to_string()))
    }
}

fn load_embedded(runtime: &Runtime, name: &str) -> CliResult<LoadedPlugin> {
    let embedded = qhub_bundled::EMBEDDED
        .iter()
        .find(|p| qhub_runtime::Manifest::parse(p.manifest).is_ok_and(|m| m.name == name))
        .ok_or_else(|| {
            CliError::internal(format!("this qhub was built without the {name:?} plugin"))
        })?;
    runtime
        .load(embedded.manifest, embedded.component)
        .map_err(|e| CliError::internal(e.to_string()))
}
