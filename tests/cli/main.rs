//! End-to-end tests of the `qhub` binary: each test gets its own `QHUB_HOME` and
//! drives the real binary, real plugins and a real SQLite database.

#![expect(clippy::unwrap_used, reason = "a test fails by panicking")]

mod accounts;
mod harness;
mod home;
mod plugins;
