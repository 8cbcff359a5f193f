//! `.env.local` and `.env` in the working directory, read once at start for every
//! command (`serve` included) and every variable.
//!
//! The rule: flags win over the process environment, which wins over
//! `.env.local`, which wins over `.env`; `config.toml` and the defaults come after.
//! A file's variable is applied only when the environment does not already have
//! it, so it reaches the flags' `env` fallbacks exactly as an exported variable
//! would. Only the working directory is read, never its parents.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use crate::exit::{CliError, CliResult, Exit};

/// The files read, in order of precedence.
pub const FILES: [&str; 2] = [".env.local", ".env"];

/// Which file each applied variable came from.
static ORIGINS: OnceLock<BTreeMap<String, &'static str>> = OnceLock::new();

/// Reads the files into the environment (missing files are fine). Call once, at
/// start, before any thread is spawned. A malformed file is a usage error naming it.
pub fn load() -> CliResult<()> {
    let mut origins = BTreeMap::new();
    for file in FILES {
        let path = Path::new(file);
        let items = match dotenvy::from_path_iter(path) {
            Ok(items) => items,
            Err(err) if err.not_found() => continue,
            Err(err) => return Err(malformed(file, &err)),
        };
        for item in items {
            let (name, _) = item.map_err(|err| malformed(file, &err))?;
            if std::env::var_os(&name).is_none() {
                origins.entry(name).or_insert(file);
            }
        }
        // Sets only the variables the environment lacks.
        dotenvy::from_path(path).map_err(|err| malformed(file, &err))?;
    }
    let _ = ORIGINS.set(origins);
    Ok(())
}

fn malformed(file: &str, err: &dotenvy::Error) -> CliError {
    CliError::new(Exit::Usage, format!("cannot read {file}: {err}")).with_hint(format!(
        "fix {file} (lines of NAME=value, see .env.example) or move it away"
    ))
}

/// The file a variable came from, when it came from one rather than from the
/// process environment.
pub fn origin(var: &str) -> Option<&'static str> {
    ORIGINS.get().and_then(|o| o.get(var).copied())
}
