//! What a command runs against: the embedded default (the first-party plugins over
//! a SQLite file in `QHUB_HOME`, no server, no setup).

use std::collections::BTreeMap;
use std::sync::Arc;

use qhub_runtime::{
    AccountService, Allocation, ClientInfo, Database, Limits, LoadedPlugin, Runtime, RuntimeConfig,
};

use crate::exit::{CliError, CliResult};
use crate::home::Home;

/// The issuer of tokens minted by the embedded default.
const EMBEDDED_ISSUER: &str = "qhub-embedded";

#[derive(Debug)]
pub struct Context {
    pub home: Home,
    pub json: bool,
}

impl Context {
    /// The account service of the embedded default: plugins loaded (from the
    /// compiled cache when possible), database opened and migrated.
    pub async fn accounts(&self) -> CliResult<AccountService> {
        self.home.ensure()?;
        let runtime = Arc::new(
            Runtime::new(RuntimeConfig {
                cache_dir: Some(self.home.cache_dir()),
                limits: Limits::default(),
                allocation: Allocation::OnDemand,
            })
            .map_err(|e| CliError::internal(e.to_string()))?,
        );
        let core = load_embedded(&runtime, "auth")?;
        let backend = load_embedded(&runtime, "store-d1")?;
        let path = self.home.database_path();
        let db = Database::open_sqlite(&path).await.map_err(|e| {
            CliError::internal(format!("cannot open the database {}: {e}", path.display()))
                .with_hint("check that QHUB_HOME is writable, or point QHUB_HOME elsewhere")
        })?;
        db.migrate()
            .await
            .map_err(|e| CliError::internal(e.to_string()))?;
        let config = BTreeMap::from([
            ("jwt-secret".to_owned(), self.home.jwt_secret()?),
            ("issuer".to_owned(), EMBEDDED_ISSUER.to_owned()),
        ]);
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

/// How this client describes itself to the session it creates (shown by
/// `sessions list` to tell devices apart).
pub fn client_info() -> ClientInfo {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty());
    let mut agent = format!(
        "qhub/{} ({}; {})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    );
    if let Some(host) = host {
        agent.push_str(&format!(" on {host}"));
    }
    ClientInfo {
        user_agent: Some(agent),
        ip: None,
    }
}
