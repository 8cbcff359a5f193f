//! What the host grants one plugin instance: one value per import, each the state
//! of that import's implementation alone (as wasmtime's component examples link
//! state per capability, by projection). The `sql` implementation sees a
//! database and nothing else; `http` its allow-listed access; `config` the keys
//! meant for the plugin; the core's `store` and `oauth` imports what they forward
//! to. A plugin is granted only what its world imports, and an import that was not
//! granted fails the call, naming what is missing.
//!
//! Each world is linked here, interface by interface, with the projection from the
//! instance's [`State`] to that interface's capability.

use std::collections::BTreeMap;
use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker};

use crate::bindings::{backend, core};
use crate::forward::BackendInstance;
use crate::http::HttpAccess;
use crate::provider::ProviderService;
use crate::provider::versions::{legacy, v0_1};
use crate::runtime::State;
use crate::sql::Database;

/// The `sql` import (store backends): the database its statements run on.
#[derive(Debug, Default)]
pub(crate) struct Sql {
    pub db: Option<Database>,
}

/// The `config` import (the account core, provider plugins): the configuration
/// keys meant for this plugin.
#[derive(Debug, Default)]
pub(crate) struct Config {
    pub keys: Arc<BTreeMap<String, String>>,
}

/// The `http` import (provider plugins): outbound requests within manifest ∩
/// grant.
#[derive(Debug, Default)]
pub(crate) struct Http {
    pub access: Option<Arc<HttpAccess>>,
}

/// The account core's `store` import: the backend instance it forwards to.
#[derive(Default)]
pub(crate) struct Store {
    pub backend: Option<Box<BackendInstance>>,
}

/// The account core's `oauth` import: the providers it forwards to, by the
/// operator's names.
#[derive(Default)]
pub(crate) struct OAuth {
    pub providers: Option<Arc<BTreeMap<String, ProviderService>>>,
}

/// Links the world `store-backend`: `sql`.
pub(crate) fn link_store_backend(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    backend::qhub::plugin::sql::add_to_linker::<State, HasSelf<Sql>>(linker, |s| &mut s.sql)?;
    backend::qhub::plugin::types::add_to_linker::<State, HasSelf<Sql>>(linker, |s| &mut s.sql)
}

/// Links the world `account-core`: `store`, `oauth` and `config`.
pub(crate) fn link_account_core(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    core::qhub::plugin::types::add_to_linker::<State, HasSelf<Store>>(linker, |s| &mut s.store)?;
    core::qhub::plugin::store::add_to_linker::<State, HasSelf<Store>>(linker, |s| &mut s.store)?;
    core::qhub::plugin::oauth::add_to_linker::<State, HasSelf<OAuth>>(linker, |s| &mut s.oauth)?;
    core::qhub::provider::config::add_to_linker::<State, HasSelf<Config>>(linker, |s| &mut s.config)
}

/// Links the world `qhub:plugin/oauth-provider-plugin@0.1.0` of plugins built
/// before `qhub:provider` existed: its `http` and `config`, adapted
/// (`crate::http`, `crate::forward`).
pub(crate) fn link_provider_legacy(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    legacy::qhub::plugin::http::add_to_linker::<State, HasSelf<Http>>(linker, |s| &mut s.http)?;
    legacy::qhub::plugin::config::add_to_linker::<State, HasSelf<Config>>(linker, |s| &mut s.config)
}

/// Links the world `qhub:provider/oauth-provider-plugin@0.1.0`: `http` and
/// `config`.
pub(crate) fn link_provider_v0_1(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    v0_1::qhub::provider::http::add_to_linker::<State, HasSelf<Http>>(linker, |s| &mut s.http)?;
    core::qhub::provider::config::add_to_linker::<State, HasSelf<Config>>(linker, |s| &mut s.config)
}
