//! What a host of OAuth provider plugins enforces, written once in Rust and run by
//! every host: natively, linked into `qhub` (qhub-runtime's `http` import and
//! provider services); in the Cloudflare Worker, inside the `provider-gateway`
//! component, whose JavaScript adapter only performs the single `fetch` each hop
//! needs.
//!
//! - [`origin`]: origins, manifest patterns, exact grants, and the allow-list
//!   (manifest ∩ grant);
//! - [`exchange`]: one request through the `http` import, hop by hop, with no I/O:
//!   every redirect admitted against the allow-list, credentials dropped across
//!   origins, the body capped, a deadline;
//! - [`providers`]: the operator's provider configuration (providers.toml, or the
//!   Worker's `QHUB_PROVIDERS` JSON) with `QHUB_PROVIDER_<NAME>_<KEY>` overrides;
//! - [`failure`]: how a provider's `provider-error` is worded for the core.

pub mod exchange;
pub mod failure;
pub mod origin;
pub mod providers;

pub use exchange::{
    BodyLimit, DEFAULT_BODY_BYTES, DEFAULT_TIMEOUT, Exchange, HttpError, MAX_REDIRECTS,
};
pub use failure::ProviderFailure;
pub use origin::{AllowList, AllowListError, Destination, OriginError, Refusal};
pub use providers::{ProviderConfig, ProvidersConfig, ProvidersError};
