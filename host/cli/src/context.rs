//! What a command runs against: the first-party plugins over the embedded SQLite
//! file in `QHUB_HOME` (the default: no server, no setup), over the database
//! that `--database` / `DATABASE_URL` names (SQLite, PostgreSQL, or Cloudflare D1
//! through its HTTP API), or a QHub server. Account commands go where the flags,
//! the environment or the active login say (see [`crate::target`]); operator
//! commands (`serve`, `migrate`) use only `--database` / `DATABASE_URL`.

use std::sync::Arc;

use qhub_host::{DatabaseAt, Host};
use qhub_runtime::{AccountService, Allocation, Database, Dialect};

use crate::backend::{self, Backend};
use crate::exit::{CliError, CliResult, Exit};
use crate::home::{Home, Login};
use crate::target::{Choice, Source, Target};

use qhub_api::core_config::EMBEDDED_ISSUER;

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
        let path = self.home.database_path();
        let at = location(self.database.as_deref(), &path);
        Ok(self.host().database(at).await?)
    }

    /// The host wiring over `QHUB_HOME`, drawing its progress on a terminal.
    pub fn host(&self) -> Host {
        Host::new(
            self.home.places(),
            Arc::new(crate::progress::Terminal::default()),
        )
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
    qhub_host::Error::database(url, err).into()
}

/// Where the database `url` names is (`None`: the embedded file at `embedded`).
fn location<'a>(url: Option<&'a str>, embedded: &'a std::path::Path) -> DatabaseAt<'a> {
    match url {
        Some(url) => DatabaseAt::Url(url),
        None => DatabaseAt::File(embedded),
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
        let path = self.home.database_path();
        let at = location(url, &path);
        Ok(self
            .host()
            .account_service(at, jwt_secret, issuer, allocation)
            .await?)
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
