//! What a command runs against: the first-party plugins over the embedded SQLite
//! file in `QHUB_HOME` (the default: no server, no setup), over the database
//! that `--database` / `DATABASE_URL` names (SQLite, PostgreSQL, or Cloudflare D1
//! through its HTTP API), or a QHub server. Account commands go where the flags,
//! the environment or the active login say (see [`crate::target`]); operator
//! commands (`serve`, `migrate`) use only `--database` / `DATABASE_URL`.

use std::collections::BTreeMap;
use std::sync::Arc;

use qhub_runtime::{
    AccountService, Allocation, Database, Dialect, Limits, LoadedPlugin, Runtime, RuntimeConfig,
};

use crate::backend::{self, Backend};
use crate::exit::{CliError, CliResult, Exit};
use crate::home::{Home, Login};
use crate::target::{Choice, Source, Target};

use qhub_api::core_config::{self, EMBEDDED_ISSUER};

/// What a `d1://` database needs, for errors about its URL or token.
const D1_SETUP_HINT: &str = "use --database d1://ACCOUNT_ID/DATABASE_ID (ids from `wrangler d1 list`) and set \
     CLOUDFLARE_API_TOKEN to an API token with D1 edit permission on that account, see .env.example";

#[derive(Debug)]
pub struct Context {
    pub home: Home,
    pub json: bool,
    /// `--database` / `DATABASE_URL` (non-empty, and no `--embedded`), for the
    /// operator commands; `None` is their default database.
    pub database: Option<String>,
    /// Where the flags or the environment send account commands, if they say.
    pub explicit: Option<Choice>,
}

impl Context {
    /// The dialect of the database `url` names (`None`: the embedded SQLite).
    fn dialect(url: Option<&str>) -> Dialect {
        url.and_then(|url| Dialect::of_url(url).ok())
            .unwrap_or(Dialect::Sqlite)
    }

    /// Opens the operator commands' database (not yet migrated).
    pub async fn database(&self) -> CliResult<Database> {
        self.database_at(self.database.as_deref()).await
    }

    /// Opens the database `url` names, or the embedded one (not yet migrated).
    pub async fn database_at(&self, url: Option<&str>) -> CliResult<Database> {
        let Some(url) = url else {
            self.home.ensure()?;
            let path = self.home.database_path();
            return Database::open_sqlite(&path).await.map_err(|e| {
                CliError::internal(format!("cannot open the database {}: {e}", path.display()))
                    .with_hint("check that QHUB_HOME is writable, or point QHUB_HOME elsewhere")
            });
        };
        Database::connect(url)
            .await
            .map_err(|e| database_error(Some(url), e))
    }

    /// A runtime error from opening or migrating the operator commands' database,
    /// as the user sees it.
    pub fn database_error(&self, err: qhub_runtime::Error) -> CliError {
        database_error(self.database.as_deref(), err)
    }

    /// The database a command is about to use, as it may be shown: the URL with
    /// its password masked, or the embedded file's path.
    pub fn database_name(&self, url: Option<&str>) -> String {
        match url {
            Some(url) => crate::target::mask(url),
            None => self.home.database_path().display().to_string(),
        }
    }
}

/// A runtime error from opening or migrating the database `url` names (`None`:
/// the embedded one), as the user sees it.
pub fn database_error(url: Option<&str>, err: qhub_runtime::Error) -> CliError {
    let is_d1 = url.is_some_and(qhub_runtime::sql::d1::is_d1_url);
    match err {
        qhub_runtime::Error::Unavailable(_) => CliError::new(Exit::Unavailable, err.to_string()),
        qhub_runtime::Error::MissingDatabase(name) => {
            let hint = match url.and_then(|u| url::Url::parse(u).ok()) {
                Some(parsed) => {
                    let mut command = String::from("createdb");
                    if let Some(host) = parsed.host_str() {
                        command.push_str(&format!(" -h {host}"));
                    }
                    if let Some(port) = parsed.port() {
                        command.push_str(&format!(" -p {port}"));
                    }
                    if !parsed.username().is_empty() {
                        command.push_str(&format!(" -U {}", parsed.username()));
                    }
                    format!(
                        "create it with `{command} {name}`, or fix the name in --database / DATABASE_URL"
                    )
                }
                None => "create it (`createdb NAME`), or fix the name in --database / DATABASE_URL"
                    .into(),
            };
            CliError::new(
                Exit::Unavailable,
                format!("the database {name:?} does not exist on the PostgreSQL server"),
            )
            .with_hint(hint)
        }
        qhub_runtime::Error::InvalidUrl(message) if is_d1 => {
            CliError::new(Exit::Usage, message).with_hint(D1_SETUP_HINT)
        }
        qhub_runtime::Error::InvalidUrl(message) => CliError::new(Exit::Usage, message)
            .with_hint("e.g. --database sqlite:qhub.db or --database postgres://USER@HOST/DB"),
        // Wrong credentials, as a refused password is.
        qhub_runtime::Error::Unauthorized(_) => {
            CliError::new(Exit::Refused, err.to_string()).with_hint(D1_SETUP_HINT)
        }
        other => CliError::internal(other.to_string()),
    }
}

impl Context {
    /// Adds the hint that fits where the command went to an error that has none
    /// yet: an "unavailable" one, or a token that the database does not know.
    pub fn explain(&self, mut err: CliError) -> CliError {
        let target = self.choice().map(|c| c.target).unwrap_or(Target::Embedded);
        let unknown_here =
            err.exit == Exit::NotLoggedIn && err.message.starts_with("session not found");
        if !unknown_here
            && err.code == Some(qhub_runtime::ErrorCode::Unauthenticated)
            && let Some(hint) = token_from_env_hint()
        {
            err.hint = Some(hint);
            return err;
        }
        if unknown_here {
            err.hint = Some(format!(
                "the token was issued for another database or server, or its account was deleted; \
                 log in again for {} with `qhub {}login --email <email>`",
                target.location(&self.home),
                match &self.explicit {
                    Some(choice) => format!("{} ", choice.target.flags()),
                    None => String::new(),
                },
            ));
            return err;
        }
        if err.exit != Exit::Unavailable || err.hint.is_some() {
            return err;
        }
        let url = match &target {
            Target::Database(url) => Some(url.as_str()),
            _ => None,
        };
        err.hint = Some(if matches!(target, Target::Server(_)) {
            "the server could not reach its database; try again in a moment".into()
        } else if url.is_some_and(qhub_runtime::sql::d1::is_d1_url) {
            "is Cloudflare's API reachable from here? check the network, and QHUB_D1_API_URL if you set it; \
             try again in a moment"
                .into()
        } else {
            match Self::dialect(url) {
                Dialect::Postgres => {
                    "is PostgreSQL running? try `docker compose up -d`, and check --database / DATABASE_URL".into()
                }
                Dialect::Sqlite => "check that the database file is on a reachable, writable disk".into(),
            }
        });
        err
    }

    /// The server of remote mode, if account commands go to one (see
    /// [`Self::choice`]); `None` when they run the plugins here.
    pub fn remote_server(&self) -> CliResult<Option<String>> {
        Ok(match self.choice()?.target {
            Target::Server(server) => Some(server),
            Target::Database(_) | Target::Embedded => None,
        })
    }

    /// Where account commands go, and why: the flags or the environment, else
    /// the active login, else the embedded database.
    pub fn choice(&self) -> CliResult<Choice> {
        if let Some(choice) = &self.explicit {
            return Ok(choice.clone());
        }
        Ok(match self.home.load_config()?.active() {
            Some(login) => Choice {
                target: login.target(),
                source: Source::Config,
            },
            None => Choice {
                target: Target::Embedded,
                source: Source::Default,
            },
        })
    }

    /// The backend account commands use (see [`Self::choice`]).
    pub async fn backend(&self) -> CliResult<Backend> {
        self.backend_at(&self.choice()?.target).await
    }

    /// A backend for `target`: a client of the server, or the plugins here over
    /// the database.
    pub async fn backend_at(&self, target: &Target) -> CliResult<Backend> {
        let url = match target {
            Target::Server(server) => {
                return Ok(Backend::new(server, &backend::user_agent())?);
            }
            Target::Database(url) => Some(url.as_str()),
            Target::Embedded => None,
        };
        let secret = self.home.jwt_secret()?;
        let service = self
            .service_at(url, secret, EMBEDDED_ISSUER, Allocation::OnDemand)
            .await?;
        Ok(Backend::in_process(service, backend::client_info()))
    }

    /// The saved login for where account commands go, if any.
    pub fn login(&self) -> CliResult<Option<Login>> {
        let target = self.choice()?.target;
        Ok(self.home.load_config()?.login_for(&target).cloned())
    }

    /// The token to send: `QHUB_TOKEN`, else the saved login's for where account
    /// commands go.
    pub fn token(&self) -> CliResult<String> {
        if let Some(token) = std::env::var("QHUB_TOKEN").ok().filter(|t| !t.is_empty()) {
            return Ok(token);
        }
        if let Some(login) = self.login()? {
            return Ok(login.token);
        }
        let target = self.choice()?.target;
        let mut err = match &target {
            Target::Embedded => CliError::not_logged_in("not logged in"),
            other => {
                CliError::not_logged_in(format!("not logged in at {}", other.location(&self.home)))
            }
        };
        if !self.home.load_config()?.logins.is_empty() {
            err = err.with_hint(
                "log in with `qhub login --email <email>`, or use one of your saved logins: \
                 `qhub status` lists them, `qhub switch` picks one",
            );
        }
        Err(err)
    }

    /// The account service over the database `url` names (`None`: the embedded
    /// one): plugins loaded (from the compiled cache when possible), database
    /// migrated, the backend plugin matching the database's dialect.
    pub async fn service_at(
        &self,
        url: Option<&str>,
        jwt_secret: String,
        issuer: &str,
        allocation: Allocation,
    ) -> CliResult<AccountService> {
        let db = self.database_at(url).await?;
        let progress = crate::progress::Migrations::new();
        let applied = db
            .migrate_with(&|step| progress.step(step))
            .await
            .map_err(|e| database_error(url, e))?;
        progress.finish(applied.len(), true);
        let runtime = Arc::new(
            Runtime::new(RuntimeConfig {
                cache_dir: Some(self.home.cache_dir()),
                limits: Limits::default(),
                allocation,
            })
            .map_err(crate::home::runtime_error)?,
        );
        crate::progress::watch_compiles(&runtime);
        let core = load_embedded(&runtime, "auth")?;
        let backend = load_embedded(&runtime, db.dialect().backend_plugin())?;
        let mut config = BTreeMap::from([
            (core_config::JWT_SECRET.to_owned(), jwt_secret),
            (core_config::ISSUER.to_owned(), issuer.to_owned()),
        ]);
        // Operator settings the core reads; it validates them and owns the defaults.
        for (variable, key) in core_config::FROM_ENVIRONMENT {
            if let Some(value) = std::env::var(variable).ok().filter(|v| !v.is_empty()) {
                config.insert((*key).to_owned(), value);
            }
        }
        AccountService::new(runtime, core, backend, db, config)
            .map_err(|e| CliError::internal(e.to_string()))
    }
}

/// The hint for a refused token that came from `QHUB_TOKEN`, where `qhub login`
/// would not help (the variable wins over the saved login): for an API key, make
/// a new key; for a session token, drop the variable. `None` without `QHUB_TOKEN`.
fn token_from_env_hint() -> Option<String> {
    let token = std::env::var("QHUB_TOKEN").ok().filter(|t| !t.is_empty())?;
    Some(if token.starts_with("qhk_") {
        "the API key in QHUB_TOKEN no longer works; create a new one with `qhub keys create --name NAME \
         [--expires-in 30d]` (from a logged-in session), put it in QHUB_TOKEN, and see `qhub keys list`"
            .to_owned()
    } else {
        "the token in QHUB_TOKEN no longer works; unset QHUB_TOKEN to use your saved login, or set it to \
         an API key from `qhub keys create`"
            .to_owned()
    })
}

fn load_embedded(runtime: &Runtime, name: &str) -> CliResult<LoadedPlugin> {
    let embedded = qhub_bundled::EMBEDDED
        .iter()
        .find(|p| qhub_runtime::Manifest::parse(p.manifest).is_ok_and(|m| m.name == name))
        .ok_or_else(|| {
            CliError::internal(format!("this qhub was built without the {name:?} plugin"))
        })?;
    // Built with its manifest into this binary: see `Runtime::load_built`.
    runtime
        .load_built(embedded.manifest, embedded.component)
        .map_err(|e| CliError::internal(e.to_string()))
}
