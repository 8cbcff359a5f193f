//! `QHUB_HOME` (default `~/.qhub`): the config file holding the session token, the
//! embedded database, the embedded JWT secret, the compiled-plugin cache (unless
//! `QHUB_CACHE_DIR` puts it elsewhere), installed plugins and the OAuth provider
//! configuration.
//!
//! The directory and the secrets in it must be private, as OpenSSH wants `~/.ssh`:
//! a `QHUB_HOME` that other users may write, or a secret file (`jwt-secret`,
//! `config.toml`) that they may read or write or that another user
//! owns, is refused with the `chmod` that fixes it (see `qhub_runtime::fsutil`).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::exit::{CliError, CliResult};
use crate::target::Target;

/// The CLI's persistent settings, `config.toml` (mode 0600: it holds tokens).
///
/// Several logins live side by side, one `[[login]]` table each; the first is the
/// active one (`qhub switch` moves another to the front). Files written before
/// logins were kept side by side (top-level `token`, `email`, `server`) are read
/// and rewritten in this form on first use.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Config {
    /// The saved logins, the active one first.
    #[serde(default, rename = "login", skip_serializing_if = "Vec::is_empty")]
    pub logins: Vec<Login>,
    /// The old single login's token (read only, then migrated).
    #[serde(default, skip_serializing)]
    token: Option<String>,
    /// The old single login's email (read only, then migrated).
    #[serde(default, skip_serializing)]
    email: Option<String>,
    /// The old single login's server (read only, then migrated).
    #[serde(default, skip_serializing)]
    server: Option<String>,
}

/// One saved login: an account at one place (a server, a database, or the
/// embedded database when neither is set) and its session token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Login {
    /// The account's email, as the core returned it.
    #[serde(default)]
    pub email: String,
    /// The server that issued the token (base URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// The database the token belongs to (a URL; SQLite paths absolute). It may
    /// hold the database's password, which is why this file is private, as
    /// `~/.pgpass` is; qhub never prints it unmasked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// The session token (a JWT).
    pub token: String,
}

impl Login {
    /// A login for `target` with `email` and `token`.
    pub fn new(target: &Target, email: String, token: String) -> Login {
        let (server, database) = match target {
            Target::Embedded => (None, None),
            Target::Database(url) => (None, Some(url.clone())),
            Target::Server(url) => (Some(url.clone()), None),
        };
        Login {
            email,
            server,
            database,
            token,
        }
    }

    /// Where the token belongs.
    pub fn target(&self) -> Target {
        match (&self.server, &self.database) {
            (Some(server), _) => Target::server(server),
            (None, Some(database)) => Target::database(database),
            (None, None) => Target::Embedded,
        }
    }
}

impl Config {
    /// The active login: the first.
    pub fn active(&self) -> Option<&Login> {
        self.logins.first()
    }

    /// The login commands at `target` use: the first saved for it.
    pub fn login_for(&self, target: &Target) -> Option<&Login> {
        self.logins.iter().find(|l| &l.target() == target)
    }

    /// Saves `login` as the active one, replacing a saved login of the same
    /// email at the same place.
    pub fn activate(&mut self, login: Login) {
        let target = login.target();
        self.logins
            .retain(|l| !(l.target() == target && l.email.eq_ignore_ascii_case(&login.email)));
        self.logins.insert(0, login);
    }

    /// Forgets `login`; returns whether it was saved.
    pub fn forget(&mut self, login: &Login) -> bool {
        let before = self.logins.len();
        self.logins.retain(|l| l != login);
        self.logins.len() != before
    }

    /// Moves the old single-login fields into `logins`; returns whether anything
    /// changed.
    fn migrate(&mut self) -> bool {
        let had_old = self.token.is_some() || self.email.is_some() || self.server.is_some();
        if let Some(token) = self.token.take() {
            let target = match self.server.as_deref() {
                Some(server) => Target::server(server),
                None => Target::Embedded,
            };
            let email = self.email.clone().unwrap_or_default();
            if !self.logins.iter().any(|l| l.token == token) {
                self.logins.push(Login::new(&target, email, token));
            }
        }
        self.email = None;
        self.server = None;
        had_old
    }
}

#[derive(Debug, Clone)]
pub struct Home {
    dir: PathBuf,
}

impl Home {
    /// `QHUB_HOME`, or `~/.qhub`.
    pub fn locate() -> CliResult<Home> {
        let dir = match std::env::var_os("QHUB_HOME").filter(|v| !v.is_empty()) {
            Some(dir) => PathBuf::from(dir),
            None => match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
                Some(home) => PathBuf::from(home).join(".qhub"),
                None => {
                    return Err(CliError::internal(
                        "cannot find a home directory for qhub's files",
                    )
                    .with_hint(
                        "set QHUB_HOME to a directory qhub may use, e.g. QHUB_HOME=$PWD/.qhub",
                    ));
                }
            },
        };
        Ok(Home { dir })
    }

    /// Creates the directory (mode 0700) if needed; refuses one that other users
    /// may write to.
    pub fn ensure(&self) -> CliResult<()> {
        qhub_runtime::fsutil::create_private_dir(&self.dir).map_err(|e| self.unusable(e))
    }

    /// Refuses the directory if other users may write to it (or another user owns
    /// it); a missing one is fine. Unlike [`Home::ensure`], creates nothing.
    pub fn check(&self) -> CliResult<()> {
        Ok(qhub_host::check_dir(&self.dir)?)
    }

    fn unusable(&self, err: std::io::Error) -> CliError {
        qhub_host::Error::unusable(&self.dir, &err).into()
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.join("config.toml")
    }

    pub fn database_path(&self) -> PathBuf {
        self.dir.join("qhub.db")
    }

    /// `qhub serve`'s database when no `--database` / `DATABASE_URL` names one:
    /// a file of its own, so the accounts a server holds never mix with those of
    /// the embedded `qhub.db`.
    pub fn server_database_path(&self) -> PathBuf {
        self.dir.join("server.db")
    }

    /// The compiled-plugin cache: `QHUB_CACHE_DIR` when set (as `CARGO_TARGET_DIR`
    /// moves cargo's output), else `QHUB_HOME/cache`. Either way it gets the same
    /// checks: a directory that other users may write is refused, and an entry they
    /// may write is compiled again (see `qhub_runtime`'s cache).
    pub fn cache_dir(&self) -> PathBuf {
        match std::env::var_os("QHUB_CACHE_DIR").filter(|v| !v.is_empty()) {
            Some(dir) => PathBuf::from(dir),
            None => self.dir.join("cache"),
        }
    }

    /// Where `qhub plugins install` puts plugins: `NAME.wasm` + `NAME.plugin.toml`.
    pub fn plugins_dir(&self) -> PathBuf {
        self.dir.join("plugins")
    }

    /// The OAuth provider configuration: `QHUB_PROVIDERS`, else
    /// `QHUB_HOME/providers.toml`. The flag says whether the file must exist (it
    /// must when the operator named it).
    pub fn providers_path(&self) -> (PathBuf, bool) {
        match std::env::var_os("QHUB_PROVIDERS").filter(|v| !v.is_empty()) {
            Some(path) => (PathBuf::from(path), true),
            None => (self.dir.join("providers.toml"), false),
        }
    }

    /// The files the host wiring reads here: installed plugins, the compiled
    /// cache and the provider configuration.
    pub fn places(&self) -> qhub_host::Places {
        let (providers_file, providers_required) = self.providers_path();
        qhub_host::Places {
            plugins_dir: self.plugins_dir(),
            cache_dir: self.cache_dir(),
            providers_file,
            providers_required,
        }
    }

    /// The embedded mode's JWT signing secret, created on first use (mode 0600).
    /// No setup and no environment variable are needed for the embedded default.
    /// Processes racing to create it all end up with the first one's secret; one
    /// that others may read or change is refused (tokens could be forged with it).
    pub fn jwt_secret(&self) -> CliResult<String> {
        self.secret("jwt-secret")
    }

    /// `qhub serve`'s JWT signing secret when `JWT_SECRET` is not set:
    /// `QHUB_HOME/server-jwt-secret`, made on first use (mode 0600) and kept, so
    /// tokens survive restarts. Separate from the embedded one, as its database is.
    pub fn server_jwt_secret(&self) -> CliResult<(String, PathBuf)> {
        let path = self.dir.join("server-jwt-secret");
        Ok((self.secret("server-jwt-secret")?, path))
    }

    fn secret(&self, name: &str) -> CliResult<String> {
        self.ensure()?;
        let bytes = qhub_runtime::fsutil::read_or_create_secret(&self.dir.join(name), 32)
            .map_err(|e| self.unusable(e))?;
        Ok(hex::encode(bytes))
    }

    /// Reads `config.toml`; a missing file is the empty config. A file or a
    /// `QHUB_HOME` that other users may read or change is refused.
    pub fn load_config(&self) -> CliResult<Config> {
        qhub_host::check_dir(&self.dir)?;
        let path = self.config_path();
        let invalid = |e: &dyn std::fmt::Display| {
            CliError::internal(format!("{} is not valid: {e}", path.display()))
                .with_hint("fix or delete the file, then log in again")
        };
        match qhub_runtime::fsutil::read_private(&path) {
            Ok(bytes) => {
                let text = String::from_utf8(bytes).map_err(|e| invalid(&e))?;
                let mut config: Config = toml::from_str(&text).map_err(|e| invalid(&e))?;
                if config.migrate() {
                    self.save_config(&config)?;
                }
                Ok(config)
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(err) => Err(self.unusable(err)),
        }
    }

    /// Saves the config atomically with mode 0600.
    pub fn save_config(&self, config: &Config) -> CliResult<()> {
        self.ensure()?;
        let text = format!(
            "# Written by qhub. It holds your session tokens: keep it private (mode 0600).\n\
             # One [[login]] per account and place; the first is the active one (`qhub switch`).\n{}",
            toml::to_string(config).expect("the config always serialises")
        );
        qhub_runtime::fsutil::write_private(&self.config_path(), text.as_bytes())
            .map_err(|e| self.unusable(e))
    }
}
