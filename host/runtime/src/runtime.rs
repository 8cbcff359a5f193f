//! [`Runtime`]: loads plugins (verified, compiled once, cached) and creates the
//! per-call stores they run in, with their limits and capabilities.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use qhub_plugin_build::{Manifest, sha256_hex};
use wasmtime::component::{Component, ResourceTable};
use wasmtime::{Engine, ResourceLimiter, Store, StoreLimits, StoreLimitsBuilder, Trap};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::cache::{self, Cache, CompileStep, Origin};
use crate::capabilities;
use crate::engine::{self, Limits, RuntimeConfig};
use crate::error::{Error, PluginFault, Result};
use crate::load::{Admission, Admitted, Cost, LoadLimits};
use crate::store;

/// What [`Runtime::finish_hashing`] allows beyond a call's queue time and
/// deadline: instantiating its plugins, before the deadline starts.
const SHUTDOWN_SLACK: std::time::Duration = std::time::Duration::from_secs(1);

/// The process's plugin runtime. Create one and share it: it owns the wasmtime
/// engine, the epoch thread and the compiled-component cache.
#[derive(Debug)]
pub struct Runtime {
    engine: Engine,
    cache: Option<Cache>,
    limits: Limits,
    /// A server's load bounds; unset (every call runs at once) in the CLI.
    admission: OnceLock<Admission>,
    /// Who hears of compilations (a progress display); unset: nobody.
    compile_observer: OnceLock<CompileObserver>,
    /// Component instances held idle for reuse, at most [`engine::IDLE_INSTANCES`].
    idle_instances: AtomicU32,
}

/// What [`Runtime::on_compile`] reports: a plugin whose compiled code was not in the
/// cache, before and after Cranelift compiles it (about a second for each of the
/// first-party plugins, once per plugin version and qhub build).
#[derive(Debug, Clone, Copy)]
pub struct CompileEvent<'a> {
    pub plugin: &'a Manifest,
    pub step: CompileStep,
}

/// A callback for [`CompileEvent`]s; boxed so the runtime stays free of any display.
struct CompileObserver(Box<dyn Fn(CompileEvent<'_>) + Send + Sync>);

impl std::fmt::Debug for CompileObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CompileObserver")
    }
}

/// A verified, compiled plugin, ready to be linked into a world.
#[derive(Debug, Clone)]
pub struct LoadedPlugin {
    pub manifest: Manifest,
    /// Whether this process compiled it or found it in the cache.
    pub origin: Origin,
    pub(crate) component: Component,
}

impl LoadedPlugin {
    /// `name version`, as errors name the plugin.
    pub fn label(&self) -> String {
        self.manifest.label()
    }
}

impl Runtime {
    /// Builds the engine and opens the compiled-component cache. Fails when the
    /// engine cannot be built, or with [`Error::Insecure`] when the cache directory
    /// or its key may be read or written by other users.
    pub fn new(config: RuntimeConfig) -> Result<Runtime> {
        let engine = engine::build_engine(&config)?;
        engine::start_epoch_ticker(&engine);
        let cache = match config.cache_dir.as_deref() {
            Some(dir) => Cache::open(dir, &engine)?,
            None => None,
        };
        Ok(Runtime {
            engine,
            cache,
            limits: config.limits,
            admission: OnceLock::new(),
            compile_observer: OnceLock::new(),
            idle_instances: AtomicU32::new(0),
        })
    }

    /// Calls `observer` when [`Runtime::load`] compiles a plugin (not when it finds
    /// it in the cache), before and after: a CLI draws its progress from this. Set
    /// once; a second observer is ignored.
    pub fn on_compile(&self, observer: impl Fn(CompileEvent<'_>) + Send + Sync + 'static) {
        let _ = self
            .compile_observer
            .set(CompileObserver(Box::new(observer)));
    }

    /// Makes this runtime shed load: from now on every plugin call waits for its
    /// turn under `limits`, and is refused with [`Error::Overloaded`] when it
    /// cannot have one, and password-hashing calls run on threads of their own at
    /// a lower priority (see [`LoadLimits`]). Set once, before serving.
    pub fn set_load_limits(&self, limits: LoadLimits) -> Result<()> {
        limits.validate().map_err(Error::Engine)?;
        self.admission
            .set(Admission::new(limits)?)
            .map_err(|_| Error::Engine("the load limits of this runtime are already set".into()))
    }

    /// Waits until the password-hashing calls this runtime admitted have ended
    /// (without load limits there are none). They run on threads of their own
    /// that nothing else waits for, so a server calls this once it stops taking
    /// requests: a call whose client left still ends as the core began it, rather
    /// than being cut off by the process exiting. The wait is bounded by what an
    /// admitted call can take: its time in the queue, then its call deadline,
    /// which starts once its plugins are instantiated ([`SHUTDOWN_SLACK`] for
    /// that). Returns whether they all ended.
    pub async fn finish_hashing(&self) -> bool {
        match self.admission.get() {
            Some(admission) => {
                let bound =
                    admission.limits().queue_timeout + self.limits.call_timeout + SHUTDOWN_SLACK;
                admission.hashing_finished(bound).await
            }
            None => true,
        }
    }

    /// The load bounds in force, if any.
    pub fn load_limits(&self) -> Option<&LoadLimits> {
        self.admission.get().map(Admission::limits)
    }

    /// Turns for a call that holds `instances` component instances: `None` when
    /// this runtime does not shed load, the refusal when the server is full.
    pub(crate) async fn admit(&self, instances: u32, cost: Cost) -> Result<Option<Admitted>> {
        match self.admission.get() {
            Some(admission) => admission.admit(instances, cost).await.map(Some),
            None => Ok(None),
        }
    }

    /// Explains a failed instantiation: the instance pool being full is load (the
    /// client may retry), anything else a fault of the plugin.
    pub(crate) fn instantiation_error(&self, state: &State, err: wasmtime::Error) -> Error {
        let exhausted = err
            .chain()
            .any(|e| e.is::<wasmtime::PoolConcurrencyLimitError>());
        if !exhausted {
            return Error::Plugin(self.fault(state, err));
        }
        tracing::warn!("plugin {}: not instantiated: {err:#}", state.label);
        Error::Overloaded {
            reason: "no plugin instance is free".into(),
            retry_after: self
                .load_limits()
                .map_or(std::time::Duration::from_secs(1), LoadLimits::retry_after),
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Reserves room for `instances` more idle instances; false when the runtime
    /// already holds [`engine::IDLE_INSTANCES`] (the instance is then dropped).
    pub(crate) fn reserve_idle(&self, instances: u32) -> bool {
        self.idle_instances
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                (held + instances <= engine::IDLE_INSTANCES).then_some(held + instances)
            })
            .is_ok()
    }

    /// Gives back what [`Self::reserve_idle`] reserved.
    pub(crate) fn release_idle(&self, instances: u32) {
        self.idle_instances.fetch_sub(instances, Ordering::AcqRel);
    }

    /// Loads a plugin from its manifest (TOML) and component bytes. The bytes must
    /// hash to the manifest's sha256; compilation goes through the cache.
    pub fn load(&self, manifest_toml: &str, bytes: &[u8]) -> Result<LoadedPlugin> {
        self.load_checked(manifest_toml, bytes, true)
    }

    /// [`Runtime::load`] for a component whose manifest was written by the build
    /// from these very bytes and compiled into this binary with them (the embedded
    /// first-party plugins): its integrity is the binary's own, established at build
    /// time, so the bytes are not hashed again at every start (a few milliseconds
    /// of every command). Their sha256 still names the cache entry.
    pub fn load_built(&self, manifest_toml: &str, bytes: &[u8]) -> Result<LoadedPlugin> {
        self.load_checked(manifest_toml, bytes, false)
    }

    fn load_checked(&self, manifest_toml: &str, bytes: &[u8], check: bool) -> Result<LoadedPlugin> {
        let manifest = Manifest::parse(manifest_toml).map_err(|e| Error::Load {
            plugin: "(unknown)".into(),
            message: e.to_string(),
        })?;
        let load_err = |message: String| Error::Load {
            plugin: manifest.label(),
            message,
        };
        if check {
            let actual = sha256_hex(bytes);
            if actual != manifest.sha256 {
                return Err(load_err(format!(
                    "component sha256 {actual} does not match the manifest's {}",
                    manifest.sha256
                )));
            }
        }
        let step = |step| {
            if let Some(observer) = self.compile_observer.get() {
                (observer.0)(CompileEvent {
                    plugin: &manifest,
                    step,
                });
            }
        };
        let (component, origin) = cache::compile(
            &self.engine,
            self.cache.as_ref(),
            &manifest.sha256,
            bytes,
            &step,
        )
        .map_err(|e| load_err(format!("not a valid component: {e:#}")))?;
        tracing::debug!(plugin = %manifest.name, ?origin, "loaded plugin");
        Ok(LoadedPlugin {
            manifest,
            origin,
            component,
        })
    }

    /// Checks that `plugin` fits the world its manifest names: its imports are ones
    /// this host provides and it has the world's exports. Installing a plugin runs
    /// this, so a component that cannot work is refused then, not at first use.
    pub fn check_world(&self, plugin: &LoadedPlugin) -> Result<()> {
        use crate::bindings::{backend, core};
        if plugin.manifest.is_provider() {
            // The public world, of whichever version the plugin was built against.
            return crate::provider::versions::link(self, plugin).map(drop);
        }
        if plugin.manifest.package() != crate::WIT_PACKAGE {
            return Err(Error::Load {
                plugin: plugin.label(),
                message: format!(
                    "targets {}, a world this qhub does not have",
                    plugin.manifest.world
                ),
            });
        }
        match plugin.manifest.world_name() {
            "store-backend" => {
                let linker = store::linker(self, capabilities::link_store_backend)?;
                store::link(plugin, &linker, backend::StoreBackendPre::new).map(drop)
            }
            "account-core" => {
                let linker = store::linker(self, capabilities::link_account_core)?;
                store::link(plugin, &linker, core::AccountCorePre::new).map(drop)
            }
            other => Err(Error::Load {
                plugin: plugin.label(),
                message: format!("targets the world {other:?}, which this qhub does not host"),
            }),
        }
    }

    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    /// A fresh store for one call into `plugin`, with its limits and no capability
    /// granted yet: the caller grants what the plugin's world imports.
    pub(crate) fn new_store(&self, plugin: &LoadedPlugin) -> Store<State> {
        let stderr = MemoryOutputPipe::new(self.limits.stderr_bytes);
        // No filesystem, environment, arguments or network: a plugin gets exactly the
        // capabilities its world imports. Its stderr is kept to explain a trap.
        let wasi = WasiCtx::builder().stderr(stderr.clone()).build();
        let limits = StoreLimitsBuilder::new()
            .memory_size(self.limits.memory_bytes)
            .instances(4)
            .tables(8)
            .memories(2)
            .build();
        let state = State {
            label: plugin.label(),
            wasi,
            table: ResourceTable::new(),
            limits: Limiter {
                limits,
                peak_memory_bytes: 0,
            },
            stderr,
            sql: capabilities::Sql::default(),
            config: capabilities::Config::default(),
            http: capabilities::Http::default(),
            store: capabilities::Store::default(),
            oauth: capabilities::OAuth::default(),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limits);
        store.set_epoch_deadline(engine::deadline_ticks(self.limits.call_timeout));
        store
    }

    /// Explains a failed call into the plugin whose store this is.
    pub(crate) fn fault(&self, state: &State, err: wasmtime::Error) -> PluginFault {
        if let Some(fault) = err.chain().find_map(|e| e.downcast_ref::<PluginFault>()) {
            // A nested plugin (the backend) failed; it is the one to blame.
            return fault.clone();
        }
        let mut message = match err.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => format!(
                "stopped: ran longer than its limit of {} ms",
                self.limits.call_timeout.as_millis()
            ),
            Some(trap) => format!("trapped: {trap}"),
            None => format!("failed: {err:#}"),
        };
        let printed = String::from_utf8_lossy(&state.stderr.contents())
            .trim()
            .to_owned();
        if !printed.is_empty() {
            message.push_str(&format!(" (it printed: {printed})"));
        }
        PluginFault {
            plugin: state.label.clone(),
            message,
        }
    }
}

/// A store's [`StoreLimits`], remembering the largest linear memory its instances
/// were allowed to grow to (their initial memories included), so that an
/// instance that grew a lot is not kept idle for reuse.
struct Limiter {
    limits: StoreLimits,
    peak_memory_bytes: usize,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum)?;
        if allowed {
            self.peak_memory_bytes = self.peak_memory_bytes.max(desired);
        }
        Ok(allowed)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.limits.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.limits.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

/// The data of one plugin instance's store.
pub struct State {
    pub(crate) label: String,
    wasi: WasiCtx,
    table: ResourceTable,
    limits: Limiter,
    stderr: MemoryOutputPipe,
    /// One capability per import (see [`capabilities`]), each seen only by the
    /// implementation of its own import.
    pub(crate) sql: capabilities::Sql,
    pub(crate) config: capabilities::Config,
    pub(crate) http: capabilities::Http,
    pub(crate) store: capabilities::Store,
    pub(crate) oauth: capabilities::OAuth,
}

impl State {
    /// Whether this store's instances may serve another call: they printed
    /// nothing (their stderr, kept to explain a trap, would otherwise mix calls
    /// and fill up), and no memory of theirs grew beyond
    /// [`engine::IDLE_MEMORY_BYTES`] (an idle instance keeps what it grew).
    pub(crate) fn reusable(&self) -> bool {
        self.limits.peak_memory_bytes <= engine::IDLE_MEMORY_BYTES
            && self.stderr.contents().is_empty()
    }
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("plugin", &self.label)
            .finish_non_exhaustive()
    }
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}
