//! The wiring a native host shares (the `qhub` CLI and `qhub serve`): the plugin
//! catalogue (the plugins embedded in the binary and those installed in a plugins
//! directory, which it installs and removes), the OAuth provider services of a
//! `providers.toml`, and the account service over a database, its core and
//! backend plugins loaded.
//!
//! A host says where its files are ([`Places`]) and how it shows slow steps
//! ([`Observer`]); transports, flags and terminals stay the host's own. Every
//! failure is an [`Error`] whose [`Kind`] the host maps to its outcome.

mod catalog;
mod error;
mod host;
mod install;
mod providers;
mod service;

pub use catalog::{Entry, Source, installable};
pub use error::{Error, Kind, Result};
pub use host::{Host, Observer, Places, check_dir};
pub use install::plugin_files;
pub use service::DatabaseAt;

#[cfg(test)]
mod tests;
