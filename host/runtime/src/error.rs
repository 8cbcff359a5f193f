//! Errors of the runtime. Every failure inside a plugin names the plugin.

use std::fmt;

/// A plugin that failed: trapped, ran out of time or memory, or broke its contract.
#[derive(Debug, Clone)]
pub struct PluginFault {
    /// `name version`, as the manifest says.
    pub plugin: String,
    pub message: String,
}

impl fmt::Display for PluginFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "plugin {}: {}", self.plugin, self.message)
    }
}

impl std::error::Error for PluginFault {}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Plugin(#[from] PluginFault),
    #[error("plugin {plugin}: {message}")]
    Load { plugin: String, message: String },
    #[error("database error: {0}")]
    Database(String),
    #[error("{0}")]
    InvalidUrl(String),
    /// The database could not be reached; retrying later may work.
    #[error("cannot reach the database: {0}")]
    Unavailable(String),
    /// The PostgreSQL server answered, but has no database of this name
    /// (SQLSTATE 3D000); the payload is the name.
    #[error("the database {0:?} does not exist")]
    MissingDatabase(String),
    /// The database refused the credentials it was given (a D1 API token).
    #[error("the database refused the credentials: {0}")]
    Unauthorized(String),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("{0}")]
    Engine(String),
    /// The server is at its load bounds and refused the call before any plugin
    /// ran (see [`crate::LoadLimits`]), or the instance pool was exhausted; the
    /// client may retry after `retry_after`.
    #[error("server busy: {reason}")]
    Overloaded {
        reason: String,
        retry_after: std::time::Duration,
    },
    /// An operator's grant that cannot be enforced (a malformed or wildcard origin).
    #[error("{0}")]
    Grant(String),
    /// A file or directory holding a secret, or code qhub executes (the
    /// compiled-plugin cache), that other users may read or change; its [`hint`](crate::fsutil::Insecure::hint)
    /// gives the fix.
    #[error(transparent)]
    Insecure(#[from] crate::fsutil::Insecure),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
