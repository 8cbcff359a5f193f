//! The `store-d1` plugin: QHub's `store` contract in the SQLite dialect, the one
//! Cloudflare D1 speaks, over the host's `sql` import.
//!
//! D1 has no interactive transactions, so every operation is one statement or one
//! atomic `sql.batch`; conditional writes (quotas, state transitions) are expressed
//! in SQL (`UPDATE ... WHERE`, `INSERT ... SELECT ... WHERE`) and rows come back
//! through `RETURNING`. Row ids are UUID v4 strings generated here. The schema is
//! `migrations/d1/` (`0001_init.sql`, then `0002_login_throttles.sql`).
//!
//! What both store backends share (the bindings, the error mapping, row decoding
//! and the exported `store` implementation) is in `qhub-store-common`; this crate
//! holds the SQL and what is particular to SQLite and D1 (`sql.rs`).

mod jobs;
mod keys;
mod oauth;
mod preferences;
mod sessions;
mod sql;
mod throttle;
mod users;

/// The exported `store` implementation; stateless, every call goes to the host.
#[derive(Debug)]
struct D1Store;

qhub_store_common::export_store!(D1Store);
