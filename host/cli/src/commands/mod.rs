//! One module per command.

pub mod account;
pub mod completions;
pub mod jobs;
pub mod keys;
pub mod login;
pub mod logout;
pub mod man;
pub mod migrate;
pub mod passwd;
pub mod plugins;
pub mod prefs;
pub mod register;
pub mod serve;
mod session;
pub mod sessions;
pub mod status;
pub mod switch;
pub mod usage;
pub mod whoami;
