//! The account service over a database: the database opened and migrated, the
//! embedded account core and the backend plugin of the database's dialect loaded,
//! the core's configuration assembled.

use std::collections::BTreeMap;
use std::path::Path;

use qhub_api::core_config;
use qhub_runtime::{AccountService, Allocation, Database};

use crate::catalog::load_embedded;
use crate::error::{Error, Result};
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
    /// Opens the database `at` (not yet migrated).
    pub async fn database(&self, at: DatabaseAt<'_>) -> Result<Database> {
        match at {
            DatabaseAt::File(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    qhub_runtime::fsutil::create_private_dir(dir)
                        .map_err(|e| Error::unusable(dir, &e))?;
                }
                Database::open_sqlite(path).await.map_err(|e| {
                    Error::internal(format!("cannot open the database {}: {e}", path.display()))
                        .with_hint("check that QHUB_HOME is writable, or point QHUB_HOME elsewhere")
                })
            }
            DatabaseAt::Url(url) => Database::connect(url)
                .await
                .map_err(|e| Error::database(Some(url), e)),
        }
    }

    /// The account service over the database `at`: database migrated (shown to
    /// the observer), plugins loaded (from the compiled cache when possible), the
    /// backend plugin matching the database's dialect. Tokens are signed with
    /// `jwt_secret` for `issuer`; the operator settings of
    /// [`core_config::FROM_ENVIRONMENT`] are read from the environment (the core
    /// validates them and owns the defaults).
    pub async fn account_service(
        &self,
        at: DatabaseAt<'_>,
        jwt_secret: String,
        issuer: &str,
        allocation: Allocation,
    ) -> Result<AccountService> {
        let db = self.database(at).await?;
        let applied = db
            .migrate_with(&|step| self.observer.migration(step))
            .await
            .map_err(|e| Error::database(at.url(), e))?;
        self.observer.migrated(applied.len());
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
        AccountService::new(runtime, core, backend, db, config)
            .map_err(|e| Error::internal(e.to_string()))
    }
}
