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

use wasmtime::component::{HasData, HasSelf, Linker, ResourceTable};
use wasmtime_wasi::cli::{WasiCli, WasiCliView};
use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView};
use wasmtime_wasi::random::{WasiRandom, WasiRandomView};
use wasmtime_wasi::{WasiView as _, p2};

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

/// The resource table `wasi:io` works on, as wasmtime-wasi links it.
struct WasiIo;

impl HasData for WasiIo {
    type Data<'a> = &'a mut ResourceTable;
}

/// Links the WASI interfaces that Rust's standard library imports on
/// `wasm32-wasip2` (`wasi:io`, `clocks`, `random` and `cli`), for the worlds
/// `account-core` and `store-backend`. Not `wasi:filesystem` nor `wasi:sockets`:
/// these plugins are granted neither (no preopened directory, no network), and
/// one importing them fails to link (at install, for a backend), naming the
/// import; docs/plugins.md says so to backend authors.
///
/// Why not all of WASI, as third-party provider plugins get it
/// ([`p2::add_to_linker_async`]): registering a function hashes its name into the
/// linker's maps, and a CLI command builds two linkers (core and backend). All of
/// WASI's functions were a fifth of a warm `qhub whoami`'s instructions; with this
/// set (about a third of them) the command runs 13% fewer instructions (callgrind)
/// and takes about 4% less time (2026-12-01, 2 cores).
pub(crate) fn link_wasi_std(l: &mut Linker<State>) -> wasmtime::Result<()> {
    use p2::bindings::{cli, clocks, random};
    use wasmtime_wasi_io::bindings::wasi::io;
    let clocks_of = <State as WasiClocksView>::clocks;
    let random_of = <State as WasiRandomView>::random;
    let cli_of = <State as WasiCliView>::cli;

    io::error::add_to_linker::<State, WasiIo>(l, |s| s.ctx().table)?;
    io::poll::add_to_linker::<State, WasiIo>(l, |s| s.ctx().table)?;
    io::streams::add_to_linker::<State, WasiIo>(l, |s| s.ctx().table)?;
    clocks::wall_clock::add_to_linker::<State, WasiClocks>(l, clocks_of)?;
    clocks::monotonic_clock::add_to_linker::<State, WasiClocks>(l, clocks_of)?;
    random::random::add_to_linker::<State, WasiRandom>(l, random_of)?;
    random::insecure::add_to_linker::<State, WasiRandom>(l, random_of)?;
    random::insecure_seed::add_to_linker::<State, WasiRandom>(l, random_of)?;
    cli::exit::add_to_linker::<State, WasiCli>(l, cli_of)?;
    cli::environment::add_to_linker::<State, WasiCli>(l, cli_of)?;
    cli::stdin::add_to_linker::<State, WasiCli>(l, cli_of)?;
    cli::stdout::add_to_linker::<State, WasiCli>(l, cli_of)?;
    cli::stderr::add_to_linker::<State, WasiCli>(l, cli_of)?;
    cli::terminal_input::add_to_linker::<State, WasiCli>(l, cli_of)?;
    cli::terminal_output::add_to_linker::<State, WasiCli>(l, cli_of)?;
    cli::terminal_stdin::add_to_linker::<State, WasiCli>(l, cli_of)?;
    cli::terminal_stdout::add_to_linker::<State, WasiCli>(l, cli_of)?;
    cli::terminal_stderr::add_to_linker::<State, WasiCli>(l, cli_of)
}

/// Links the world `store-backend`: `sql`, and WASI as [`link_wasi_std`].
pub(crate) fn link_store_backend(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    link_wasi_std(linker)?;
    backend::qhub::plugin::sql::add_to_linker::<State, HasSelf<Sql>>(linker, |s| &mut s.sql)?;
    backend::qhub::plugin::types::add_to_linker::<State, HasSelf<Sql>>(linker, |s| &mut s.sql)
}

/// Links the world `account-core`: `store`, `oauth` and `config`, and WASI as
/// [`link_wasi_std`].
pub(crate) fn link_account_core(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    link_wasi_std(linker)?;
    core::qhub::plugin::types::add_to_linker::<State, HasSelf<Store>>(linker, |s| &mut s.store)?;
    core::qhub::plugin::store::add_to_linker::<State, HasSelf<Store>>(linker, |s| &mut s.store)?;
    core::qhub::plugin::oauth::add_to_linker::<State, HasSelf<OAuth>>(linker, |s| &mut s.oauth)?;
    core::qhub::provider::config::add_to_linker::<State, HasSelf<Config>>(linker, |s| &mut s.config)
}

/// Links the world `qhub:plugin/oauth-provider-plugin@0.1.0` of plugins built
/// before `qhub:provider` existed: its `http` and `config`, adapted
/// (`crate::http`, `crate::forward`), and all of WASI (a third party's plugin may
/// import any of it; nothing is granted in the context).
pub(crate) fn link_provider_legacy(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    p2::add_to_linker_async(linker)?;
    legacy::qhub::plugin::http::add_to_linker::<State, HasSelf<Http>>(linker, |s| &mut s.http)?;
    legacy::qhub::plugin::config::add_to_linker::<State, HasSelf<Config>>(linker, |s| &mut s.config)
}

/// Links the world `qhub:provider/oauth-provider-plugin@0.1.0`: `http` and
/// `config`, and all of WASI (a third party's plugin may import any of it; nothing
/// is granted in the context).
pub(crate) fn link_provider_v0_1(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    p2::add_to_linker_async(linker)?;
    v0_1::qhub::provider::http::add_to_linker::<State, HasSelf<Http>>(linker, |s| &mut s.http)?;
    core::qhub::provider::config::add_to_linker::<State, HasSelf<Config>>(linker, |s| &mut s.config)
}
