//! The one wasmtime [`Engine`] of a process, with the limits every plugin runs under.

use std::path::PathBuf;
use std::time::Duration;

use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::error::{Error, Result};

/// How often the epoch advances. A plugin's deadline is a whole number of ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Component instances that calls in flight may hold at once. A server admits
/// calls so that they never need more (see [`crate::LoadLimits`]).
pub const POOL_INSTANCES: u32 = 200;

/// Component instances kept idle between cheap account calls, across every
/// [`crate::AccountService`] of a runtime (two per wired core and backend; see
/// `accounts.rs`). The pooling allocator holds these on top of
/// [`POOL_INSTANCES`], so idle instances never take a slot an admitted call
/// needs. Sixteen pairs: as many as calls a 16-connection load keeps in flight,
/// each holding at most [`IDLE_MEMORY_BYTES`] of memory per instance (hashing
/// calls never go back to the pool).
pub const IDLE_INSTANCES: u32 = 32;

/// The most linear memory an instance may have grown to and still be kept idle
/// for reuse: a token check or a listing stays well below it (about 2 MiB); a
/// large export or body above it, and the instance is dropped after the call
/// rather than holding that memory while idle. 32 idle instances hold at most
/// 256 MiB this way, and much less in practice.
pub const IDLE_MEMORY_BYTES: usize = 8 << 20;

/// Limits applied to every plugin instance.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Wall-clock budget for one call into a plugin, its nested calls included.
    /// A plugin still running then is trapped (epoch interruption).
    pub call_timeout: Duration,
    /// Linear memory a single instance may grow to. Argon2id at OWASP's minimum
    /// needs 19 MiB, so the default leaves ample room without letting a runaway
    /// plugin take the machine.
    pub memory_bytes: usize,
    /// How many bytes of a plugin's stderr (panic messages) are kept for errors.
    pub stderr_bytes: usize,
    /// Wall-clock budget for one call into an OAuth provider plugin. Longer than
    /// `http_timeout`, so that a request that times out comes back to the plugin as
    /// `http-error::timeout` (and a provider may make a few requests per call)
    /// instead of the deadline trapping the plugin mid-call.
    pub provider_call_timeout: Duration,
    /// Budget for one outbound request of the `http` import, redirects and the
    /// whole body included.
    pub http_timeout: Duration,
    /// The largest response body the `http` import reads for a plugin; a longer
    /// body is abandoned mid-stream (`too-large`).
    pub http_body_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            call_timeout: Duration::from_secs(10),
            memory_bytes: 128 << 20,
            stderr_bytes: 8 << 10,
            provider_call_timeout: Duration::from_secs(30),
            http_timeout: qhub_provider_policy::DEFAULT_TIMEOUT,
            http_body_bytes: qhub_provider_policy::DEFAULT_BODY_BYTES,
        }
    }
}

/// How instances get their memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allocation {
    /// Allocate per instance. Right for a CLI, which instantiates a few times and exits.
    OnDemand,
    /// Try the pooling allocator (fast instantiation for servers); fall back to
    /// on-demand when the machine refuses the address-space reservation.
    PoolingIfAvailable,
}

/// Settings for a [`crate::Runtime`].
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Where compiled components are cached; `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
    pub limits: Limits,
    pub allocation: Allocation,
}

pub(crate) fn build_engine(config: &RuntimeConfig) -> Result<Engine> {
    if config.allocation == Allocation::PoolingIfAvailable {
        let mut pooling = PoolingAllocationConfig::default();
        pooling
            .total_component_instances(POOL_INSTANCES + IDLE_INSTANCES)
            .total_memories(2 * (POOL_INSTANCES + IDLE_INSTANCES))
            .total_tables(2 * (POOL_INSTANCES + IDLE_INSTANCES))
            .max_memory_size(config.limits.memory_bytes);
        keep_pages_resident(&mut pooling);
        let mut wasm = base_config();
        wasm.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
        match Engine::new(&wasm) {
            Ok(engine) => return Ok(engine),
            Err(err) => {
                tracing::warn!("pooling allocator unavailable, using on-demand allocation: {err}")
            }
        }
    }
    Engine::new(&base_config())
        .map_err(|e| Error::Engine(format!("cannot create the wasm engine: {e}")))
}

/// Linear memory a pool slot keeps mapped between instances, in bytes: enough for
/// a password-hashing call (Argon2id's 19 MiB plus the plugin's own heap).
pub const KEEP_RESIDENT_BYTES: usize = 32 << 20;

/// Most calls run in fresh instances (cheap account calls may reuse an idle one,
/// see `accounts.rs`). By default wasmtime gives a finished instance's memory
/// back to the kernel (`madvise`), and the next instance in that slot takes a
/// page fault for every page it touches again: for a sign-in, the ~4,900 pages of Argon2id's memory, each faulted in
/// and zeroed by the kernel, then returned (a fifth of a sign-in's CPU, measured
/// with `cargo xtask bench`). With Linux's `PAGEMAP_SCAN` ioctl (6.7 and later),
/// wasmtime instead finds the pages the instance wrote and zeroes just those in
/// place, keeping up to [`KEEP_RESIDENT_BYTES`] mapped: a cheap call resets its
/// few pages, a hash about 20 MiB with `memset`, and neither faults again.
/// Without the ioctl, keeping memory resident would mean zeroing all of it after
/// every call, so the default stays.
fn keep_pages_resident(pooling: &mut PoolingAllocationConfig) {
    if PoolingAllocationConfig::is_pagemap_scan_available() {
        pooling
            .pagemap_scan(Enabled::Yes)
            .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
            .table_keep_resident(1 << 20);
    }
}

fn base_config() -> Config {
    let mut wasm = Config::new();
    wasm.wasm_component_model(true).epoch_interruption(true);
    wasm
}

/// Advances the engine's epoch every [`EPOCH_TICK`] on a background thread, which
/// ends by itself once the engine is dropped.
pub(crate) fn start_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    let spawned = std::thread::Builder::new()
        .name("qhub-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        });
    if let Err(err) = spawned {
        // Without the ticker no deadline ever fires; refuse to run plugins unguarded.
        panic!("cannot start the epoch thread that enforces plugin deadlines: {err}");
    }
}

/// The epoch deadline, in ticks, for a call budget.
pub(crate) fn deadline_ticks(timeout: Duration) -> u64 {
    (timeout.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64
}
