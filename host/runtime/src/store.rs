//! [`StoreService`]: a store backend plugin over a database. The account core
//! reaches it through its `store` import; admin tools and the backend conformance
//! suite call it directly.

use std::sync::Arc;

use wasmtime::Store;
use wasmtime::component::{InstancePre, Linker};

use crate::bindings::backend::exports::qhub::plugin::store::Guest;
use crate::bindings::backend::{StoreBackend, StoreBackendPre};
use crate::error::{Error, PluginFault, Result};
use crate::runtime::{LoadedPlugin, Runtime, State};
use crate::sql::Database;

/// Links `plugin` against `linker`, naming the plugin when its imports don't fit.
pub(crate) fn link<P>(
    plugin: &LoadedPlugin,
    linker: &Linker<State>,
    wrap: impl FnOnce(InstancePre<State>) -> wasmtime::Result<P>,
) -> Result<P> {
    linker
        .instantiate_pre(&plugin.component)
        .and_then(wrap)
        .map_err(|e| Error::Load {
            plugin: plugin.label(),
            message: format!("does not fit its world {}: {e:#}", plugin.manifest.world),
        })
}

/// A linker with the imports `add` registers: one world's, WASI included (no
/// ambient capability is granted in the context), from [`crate::capabilities`].
pub(crate) fn linker(
    runtime: &Runtime,
    add: impl FnOnce(&mut Linker<State>) -> wasmtime::Result<()>,
) -> Result<Linker<State>> {
    let mut linker = Linker::<State>::new(runtime.engine());
    add(&mut linker).map_err(|e| Error::Engine(e.to_string()))?;
    Ok(linker)
}

/// A store backend (world `store-backend`) wired to a database.
#[derive(Clone)]
pub struct StoreService {
    runtime: Arc<Runtime>,
    plugin: Arc<LoadedPlugin>,
    pre: StoreBackendPre<State>,
    db: Database,
}

impl std::fmt::Debug for StoreService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreService")
            .field("plugin", &self.plugin.label())
            .finish_non_exhaustive()
    }
}

impl StoreService {
    pub fn new(runtime: Arc<Runtime>, plugin: LoadedPlugin, db: Database) -> Result<StoreService> {
        let linker = linker(&runtime, crate::capabilities::link_store_backend)?;
        let pre = link(&plugin, &linker, StoreBackendPre::new)?;
        Ok(StoreService {
            runtime,
            plugin: Arc::new(plugin),
            pre,
            db,
        })
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    pub fn plugin(&self) -> &LoadedPlugin {
        &self.plugin
    }

    /// A fresh instance of the backend, with its own store, limits and deadline.
    pub async fn instance(&self) -> Result<StoreInstance, PluginFault> {
        self.instantiate().await.map_err(|err| match err {
            Error::Plugin(fault) => fault,
            other => PluginFault {
                plugin: self.plugin.label(),
                message: other.to_string(),
            },
        })
    }

    /// [`StoreService::instance`], telling a full instance pool
    /// ([`Error::Overloaded`]) from a fault of the plugin.
    pub(crate) async fn instantiate(&self) -> Result<StoreInstance> {
        let mut store = self.runtime.new_store(&self.plugin);
        store.data_mut().sql.db = Some(self.db.clone());
        let bindings = self
            .pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| self.runtime.instantiation_error(store.data(), e))?;
        Ok(StoreInstance {
            store,
            bindings,
            runtime: self.runtime.clone(),
        })
    }
}

/// One live backend instance: call its `store` exports through [`StoreInstance::parts`].
pub struct StoreInstance {
    pub(crate) store: Store<State>,
    pub(crate) bindings: StoreBackend,
    pub(crate) runtime: Arc<Runtime>,
}

impl std::fmt::Debug for StoreInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreInstance")
            .field("plugin", &self.store.data().label)
            .finish()
    }
}

impl StoreInstance {
    /// The exported `store` interface and the store to call it with:
    /// `let (guest, store) = instance.parts(); guest.call_get_user(store, id).await`.
    pub fn parts(&mut self) -> (&Guest, &mut Store<State>) {
        (self.bindings.qhub_plugin_store(), &mut self.store)
    }

    /// Explains a failed call (a trap) as a fault naming this plugin.
    pub fn fault(&self, err: wasmtime::Error) -> PluginFault {
        self.runtime.fault(self.store.data(), err)
    }
}
