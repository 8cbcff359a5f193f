//! The QHub plugin runtime: everything a host (the CLI, the HTTP server) needs to
//! run the WebAssembly plugins, and nothing about accounts itself.
//!
//! - one wasmtime [`Engine`](wasmtime::Engine) per process, with epoch interruption
//!   driven by a background thread, so a plugin that loops is stopped;
//! - components compiled once and cached on disk ([`cache`]);
//! - a fresh store per call, with memory limits, no ambient capabilities, and the
//!   imports its world asks for: `sql` for backends ([`sql`]), `config` and a
//!   forwarded `store` for the account core ([`forward`]); `http`, allow-listed by
//!   manifest ∩ grant ([`grants`], from qhub-provider-policy), for OAuth providers ([`ProviderService`]);
//! - errors that name the plugin at fault ([`PluginFault`]);
//! - for servers, load shedding before any plugin runs ([`LoadLimits`]).

mod accounts;
pub mod bindings;
pub mod cache;
mod capabilities;
mod codes;
mod engine;
mod error;
mod forward;
pub mod fsutil;
mod http;
mod load;
mod oauth;
mod provider;
mod runtime;
pub mod sql;
mod store;
mod wire;

pub use accounts::{AccountService, ServiceError};
pub use bindings::accounts::{
    ApiKeyInfo, ClientInfo, Error as AccountError, ErrorCode, JobRequest, NewApiKey, Principal,
    Profile, RegisterRequest, SessionInfo, SignedIn, UsageReport,
};
pub use bindings::api::{Request as ApiRequest, Response as ApiResponse};
pub use bindings::core::exports::qhub::plugin::identities::{ConnectionInfo, ProviderIdentity};
pub use bindings::oauth_provider::{
    DeviceAuthorization, Identity, Metadata as ProviderMetadata, PollOutcome, ProviderError, Tokens,
};
pub use bindings::types::{JobStatus, Preference, QuantumJob};
pub use cache::{CompileStep, Origin};
pub use codes::{code_from_name, code_name};
pub use engine::{
    Allocation, EPOCH_TICK, IDLE_INSTANCES, IDLE_MEMORY_BYTES, Limits, POOL_INSTANCES,
    RuntimeConfig,
};
pub use error::{Error, PluginFault, Result};
pub use load::{LoadLimits, MAX_CALLS_LIMIT};
pub use provider::{PROVIDER_WORLDS, ProviderCallError, ProviderService};
pub use qhub_plugin_build::{Manifest, WIT_PACKAGE, sha256_hex};
/// Origins, grants and allow-lists (qhub-provider-policy, shared with the Worker).
pub use qhub_provider_policy::origin as grants;
/// The operator's provider configuration (qhub-provider-policy, shared with the Worker).
pub use qhub_provider_policy::providers;
pub use qhub_provider_policy::{AllowList, Destination, MAX_REDIRECTS};
pub use runtime::{CompileEvent, LoadedPlugin, Runtime};
pub use sql::{Callers, Database, Dialect, MigrationStatus, MigrationStep};
pub use store::{StoreInstance, StoreService};
pub use wire::plugin_info;
