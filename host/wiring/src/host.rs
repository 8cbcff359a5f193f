//! [`Host`]: where a native host keeps its plugins, compiled code and provider
//! configuration, and the runtime it builds over them.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use qhub_runtime::{Allocation, Limits, MigrationStep, Runtime, RuntimeConfig};

use crate::error::{Error, Result};

/// The files the wiring reads (in the CLI, under `QHUB_HOME`).
#[derive(Debug, Clone)]
pub struct Places {
    /// Installed plugins, `NAME.wasm` beside `NAME.plugin.toml`. It must not be
    /// writable by other users: code they could plant is not run.
    pub plugins_dir: PathBuf,
    /// The compiled-component cache (see [`RuntimeConfig::cache_dir`]).
    pub cache_dir: PathBuf,
    /// The OAuth provider configuration, `providers.toml`.
    pub providers_file: PathBuf,
    /// Whether `providers_file` must exist (the operator named it); a default
    /// path that is missing means no providers.
    pub providers_required: bool,
}

/// What a host shows of the wiring's slow steps (the CLI draws progress on a
/// terminal). Every method does nothing by default.
pub trait Observer: Send + Sync {
    /// A runtime was built; the observer may watch its compiles
    /// ([`Runtime::on_compile`]).
    fn runtime(&self, _runtime: &Runtime) {}
    /// A database migration is being applied.
    fn migration(&self, _step: MigrationStep<'_>) {}
    /// The database is migrated: `applied` migrations were applied just now.
    fn migrated(&self, _applied: usize) {}
    /// Another process holds the lock at `lock` (an install or a removal of
    /// plugins), and this one waits for it; `what` says what it guards ("the
    /// plugins directory").
    fn waiting_for_lock(&self, _what: &str, _lock: &std::path::Path) {}
}

/// An observer that shows nothing.
impl Observer for () {}

/// The wiring of one native host: its [`Places`] and its [`Observer`]. See the
/// catalogue ([`Host::catalog`]), the providers ([`Host::provider_services`]) and
/// the account service ([`Host::account_service`]).
#[derive(Clone)]
pub struct Host {
    pub(crate) places: Places,
    pub(crate) observer: Arc<dyn Observer>,
}

impl fmt::Debug for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Host")
            .field("places", &self.places)
            .finish_non_exhaustive()
    }
}

impl Host {
    /// The wiring over `places`, showing its slow steps to `observer`.
    pub fn new(places: Places, observer: Arc<dyn Observer>) -> Host {
        Host { places, observer }
    }

    /// Where this host's files are.
    pub fn places(&self) -> &Places {
        &self.places
    }

    /// A runtime with default limits, caching compiled code in
    /// [`Places::cache_dir`], shown to the observer. `allocation`: on demand for
    /// a command that runs a few calls, pooling for a server.
    pub fn runtime(&self, allocation: Allocation) -> Result<Arc<Runtime>> {
        let runtime = Runtime::new(RuntimeConfig {
            cache_dir: Some(self.places.cache_dir.clone()),
            limits: Limits::default(),
            allocation,
        })
        .map_err(Error::runtime)?;
        self.observer.runtime(&runtime);
        Ok(Arc::new(runtime))
    }
}

/// Refuses an existing directory that other users may write to, or that another
/// user owns; a missing one is fine (there is nothing in it to trust).
pub fn check_dir(dir: &Path) -> Result<()> {
    match std::fs::metadata(dir) {
        Ok(meta) => qhub_runtime::fsutil::check_private_dir(dir, &meta)
            .map_err(|found| Error::insecure(&found)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(Error::unusable(dir, &err)),
    }
}
