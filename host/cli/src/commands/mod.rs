//! One module per command.

pub mod login;
pub mod logout;
pub mod migrate;
pub mod passwd;
pub mod plugins;
pub mod register;
pub mod serve;
mod session;
pub mod sessions;
pub mod whoami;
