//! What the store backends (`store-d1`, `store-postgres`) share: the bindings of the
//! `store-backend` world, running statements through the host's `sql` import,
//! translating SQL errors into `store-error`s, decoding rows into the WIT records,
//! and the exported `store` implementation that hands each call to the backend.
//!
//! A backend keeps only its dialect: the statement texts, its placeholders, and a
//! [`Dialect`] value saying how its database names a violated unique key and how
//! its host hands back integers. Both schemas use the same table and column names,
//! which is what lets the record decoders and the job status words live here.
//!
//! The bindings are generated once, here, so `Value`, `StoreError`, `User`, ... are
//! one Rust type each; a backend exports them with [`export_store!`].

// The generated ABI glue is `unsafe`, yet needs no exemption from the workspace's
// `deny(unsafe_code)`: the lint does not look into code expanded from another
// crate's macro (wit-bindgen's `generate!` here, this crate's `export!` in a
// backend), so the plugins' own code stays checked.
pub mod bindings;
mod dialect;
pub mod error;
mod export;
pub mod records;
pub mod row;
pub mod schema;
pub mod sql;

pub use dialect::Dialect;

/// The records shared by every interface of the WIT package (`User`,
/// `StoreError`, ...), as the backends name them.
pub use bindings::qhub::plugin::types;
