//! The account service over a database: the database opened and migrated, the
//! embedded account core and the backend plugin of the database's dialect loaded,
//! the core's configuration assembled.

use std::collections::BTreeMap;
use std::path::Path;

use qhub_api::core_config;
use qhub_runtime::{AccountService, Allocation, Callers, Database};

use crate::catalog::load_embedded;
use crate::error::{Error, Kind, Result};
use crate::host::Host;

/// The database an account service runs over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseAt<'a> {
    /// A SQLite file of the host's own (the CLI's embedded `QHUB_HOME/qhub.db`);
    /// its directory is created private (mode 0700) if missing.
    File(&'a Path),
    /// The database a URL names: `sqlite:`, `postgres://` or `d1://`.
    Url(&'a str),
}

impl<'a> DatabaseAt<'a> {
    /// The URL, for a database a URL names.
    pub fn url(self) -> Option<&'a str> {
        match self {
            DatabaseAt::File(_) => None,
            DatabaseAt::Url(url) => Some(url),
        }
    }
}

impl Host {
    /// Opens the database `at` (not yet migrated), for a server's concurrent calls
    /// as well as a command's.
    pub async fn database(&self, at: DatabaseAt<'_>) -> Result<Database> {
        self.database_for(at, Callers::Many).await
    }

    /// [`Host::database`] for `callers` (how many connections a SQLite file gets).
    async fn database_for(&self, at: DatabaseAt<'_>, callers: Callers) -> Result<Database> {
        match at {
            DatabaseAt::File(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    qhub_runtime::fsutil::create_private_dir(dir)
                        .map_err(|e| Error::unusable(dir, &e))?;
                }
                Database::open_sqlite_for(path, callers).await.map_err(|e| {
                    Error::internal(format!("cannot open the database {}: {e}", path.display()))
                        .with_hint("check that QHUB_HOME is writable, or point QHUB_HOME elsewhere")
                })
            }
            DatabaseAt::Url(url) => Database::connect(url)
                .await
                .map_err(|e| Error::database(Some(url), e)),
        }
    }

    /// The account service over the database `at`: plugins loaded (from the
    /// compiled cache when possible), the backend plugin matching the database's
    /// dialect, the configuration accepted by the core, then the database
    /// migrated (shown to the observer). Tokens are signed with `jwt_secret` for
    /// `issuer`; `allocation` also tells whether calls come one at a time (on
    /// demand: a command) or at once (pooling: a server); the operator settings
    /// of [`core_config::FROM_ENVIRONMENT`] are read from the environment.
    ///
    /// # Errors
    /// Besides the database's and the plugins', a [`Kind::Usage`] error when the
    /// core refuses its configuration (a short secret, a malformed quota).
    pub async fn account_service(
        &self,
        at: DatabaseAt<'_>,
        jwt_secret: String,
        issuer: &str,
        allocation: Allocation,
    ) -> Result<AccountService> {
        // A command (on-demand instances) makes one call at a time.
        let callers = match allocation {
            Allocation::OnDemand => Callers::One,
            Allocation::PoolingIfAvailable => Callers::Many,
        };
        let db = self.database_for(at, callers).await?;
        let runtime = self.runtime(allocation)?;
        let core = load_embedded(&runtime, "auth")?;
        let backend = load_embedded(&runtime, db.dialect().backend_plugin())?;
        let mut config = BTreeMap::from([
            (core_config::JWT_SECRET.to_owned(), jwt_secret),
            (core_config::ISSUER.to_owned(), issuer.to_owned()),
        ]);
        for (variable, key) in core_config::FROM_ENVIRONMENT {
            if let Some(value) = std::env::var(variable).ok().filter(|v| !v.is_empty()) {
                config.insert((*key).to_owned(), value);
            }
        }
        let service = AccountService::new(runtime, core, backend, db.clone(), config)
            .map_err(|e| Error::internal(e.to_string()))?;
        // Before migrating: a configuration the core refuses changes no schema.
        check_config(&service).await?;
        let applied = db
            .migrate_with(&|step| self.observer.migration(step))
            .await
            .map_err(|e| Error::database(at.url(), e))?;
        self.observer.migrated(applied.len());
        Ok(service)
    }
}

/// Asks the account core whether it accepts the configuration `service` gives it
/// (`api.check-config`: the secret's length, the quota settings): the rules are
/// the core's alone. A refusal is a usage error whose hint says which variable
/// sets which of the core's keys.
async fn check_config(service: &AccountService) -> Result<()> {
    let verdict = service.check_config().await.map_err(|e| {
        Error::internal(format!(
            "cannot check the account core's configuration: {e}"
        ))
    })?;
    let Some(problem) = verdict else {
        return Ok(());
    };
    let variables = core_config::settings_hint();
    Err(Error::new(
        Kind::Usage,
        format!("the account core refuses its configuration: {problem}"),
    )
    .with_hint(format!(
        "{variables} (JWT_SECRET for `qhub serve`: at least {} random bytes, e.g. \
         `openssl rand -hex 32`)",
        core_config::MIN_JWT_SECRET_BYTES
    )))
}
