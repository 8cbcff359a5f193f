//! Plugin manifests, and turning the plugin crates under `plugins/` into components.
//!
//! Used at build time (by `cargo xtask build-plugins` and by `qhub-bundled`'s build
//! script, so there is one way to build a plugin) and at run time (the host reads
//! manifests with [`Manifest::parse`]).

mod build;
mod manifest;
mod target;

#[cfg(test)]
mod frozen_tests;

pub use build::{
    BuildError, Built, Compiled, PluginCrate, build, build_reporting, discover, leaks_into_child,
};
pub use manifest::{Manifest, ManifestError, PROVIDER_WORLD_NAME, WIT_PACKAGE, sha256_hex};
pub use target::{TargetError, TargetStatus, ensure_target};
