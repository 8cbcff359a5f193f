//! End-to-end tests of the `qhub` binary: each test gets its own `QHUB_HOME` and
//! drives the real binary and real plugins, on SQLite and on the real PostgreSQL.

#![expect(clippy::unwrap_used, reason = "a test fails by panicking")]

mod accounts;
mod d1;
mod data;
mod habits;
mod harness;
mod home;
mod input;
mod keys;
mod load;
mod logins;
mod migrate;
mod oauth;
mod pipe;
mod plugins;
mod progress;
mod provider_plugins;
mod races;
mod schemathesis;
mod server;
mod sessions;
mod settings;
mod smoke;
mod snapshots;
mod start;
mod throttle;
mod worker;
