//! Where account commands go (the embedded database, a database URL, or a QHub
//! server), why (a flag, the environment, a `.env` file, the active login in
//! `config.toml`, or the default), and how to show a database URL without its
//! password.
//!
//! One precedence for every setting: flags, then the process environment, then
//! `.env.local` / `.env` in the working directory (see [`crate::dotenv`]), then
//! `config.toml`, then the defaults.

use std::fmt;
use std::path::Path;

use serde::Serialize;

use crate::exit::{CliError, CliResult, Exit};

/// A place account commands run against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The embedded SQLite database `QHUB_HOME/qhub.db`, run by the plugins here.
    Embedded,
    /// A database URL (`sqlite:`, `postgres:`, `d1:`) run by the plugins here,
    /// in the form [`Target::database`] gives it.
    Database(String),
    /// A QHub server's base URL, without a trailing `/`.
    Server(String),
}

impl Target {
    /// A database target, its URL normalised: a relative SQLite path becomes
    /// absolute, so a login made in one directory is found from any other.
    pub fn database(url: &str) -> Target {
        Target::Database(normalize_database(url))
    }

    /// A server target, without the trailing `/`.
    pub fn server(url: &str) -> Target {
        Target::Server(url.trim_end_matches('/').to_owned())
    }

    /// `embedded`, `database` or `server`: the kind, for `--json` output.
    pub fn kind(&self) -> &'static str {
        match self {
            Target::Embedded => "embedded",
            Target::Database(_) => "database",
            Target::Server(_) => "server",
        }
    }

    /// The URL (a database's with its password masked), or the embedded
    /// database's path.
    pub fn location(&self, home: &crate::home::Home) -> String {
        match self {
            Target::Embedded => home.database_path().display().to_string(),
            Target::Database(url) => mask(url),
            Target::Server(url) => url.clone(),
        }
    }

    /// The global flags that select this target, for hints: `--server URL`,
    /// `--database URL` (masked) or `--embedded`.
    pub fn flags(&self) -> String {
        match self {
            Target::Embedded => "--embedded".into(),
            Target::Database(url) => format!("--database {}", mask(url)),
            Target::Server(url) => format!("--server {url}"),
        }
    }
}

/// Why a command goes where it goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "from", content = "name")]
pub enum Source {
    /// A command-line flag (`--server`, `--database`, `--embedded`).
    Flag(&'static str),
    /// A variable of the process environment.
    Env(&'static str),
    /// A variable read from a file (`.env` or `.env.local`): `VAR in FILE`.
    Dotenv(String),
    /// The active login in `config.toml`.
    Config,
    /// Nothing chose: the embedded default.
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(flag) => write!(f, "{flag}"),
            Source::Env(var) => write!(f, "{var}"),
            Source::Dotenv(what) => write!(f, "{what}"),
            Source::Config => write!(f, "the active login in config.toml"),
            Source::Default => write!(f, "the default"),
        }
    }
}

/// A target and why it was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub target: Target,
    pub source: Source,
}

/// What the command line says about the target: the values of `--server` and
/// `--database` when given as flags (not through their environment variables),
/// and `--embedded`.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub server: Option<String>,
    pub database: Option<String>,
    pub embedded: bool,
}

/// The target the flags, else the environment (`.env` files included), name;
/// `None` when neither says (the active login or the default decides). An empty
/// value is explicit: `--server ''` or `QHUB_SERVER=` means the embedded mode.
/// Two non-empty places at one level are a usage error rather than a guess, and
/// so is a database URL whose scheme no storage plugin reads (before anything
/// else, such as a missing login, is reported about it).
pub fn explicit(flags: &Flags) -> CliResult<Option<Choice>> {
    let choice = explicit_unchecked(flags)?;
    if let Some(Choice {
        target: Target::Database(url),
        ..
    }) = &choice
    {
        qhub_runtime::Dialect::of_url(url)
            .map_err(|err| crate::context::database_error(Some(url), err))?;
    }
    Ok(choice)
}

fn explicit_unchecked(flags: &Flags) -> CliResult<Option<Choice>> {
    if flags.embedded {
        if let Some(flag) = [("--server", &flags.server), ("--database", &flags.database)]
            .into_iter()
            .find_map(|(flag, value)| value.as_deref().filter(|v| !v.is_empty()).map(|_| flag))
        {
            return Err(CliError::new(
                Exit::Usage,
                format!("--embedded and {flag} both say where to go"),
            )
            .with_hint("give one of them"));
        }
        return Ok(Some(Choice {
            target: Target::Embedded,
            source: Source::Flag("--embedded"),
        }));
    }
    let from_flags = pick(
        flags.server.as_deref(),
        flags.database.as_deref(),
        Source::Flag("--server"),
        Source::Flag("--database"),
    )?;
    if from_flags.is_some() {
        return Ok(from_flags);
    }
    let env = |name: &str| std::env::var(name).ok();
    let (server, database) = (env("QHUB_SERVER"), env("DATABASE_URL"));
    pick(
        server.as_deref(),
        database.as_deref(),
        env_source("QHUB_SERVER"),
        env_source("DATABASE_URL"),
    )
}

fn env_source(var: &'static str) -> Source {
    match crate::dotenv::origin(var) {
        Some(file) => Source::Dotenv(format!("{var} in {file}")),
        None => Source::Env(var),
    }
}

/// One level's choice: a non-empty server or database, else embedded when either
/// was given empty, else nothing.
fn pick(
    server: Option<&str>,
    database: Option<&str>,
    server_source: Source,
    database_source: Source,
) -> CliResult<Option<Choice>> {
    fn present(v: Option<&str>) -> Option<&str> {
        v.filter(|v| !v.is_empty())
    }
    match (present(server), present(database)) {
        (Some(_), Some(_)) => Err(CliError::new(
            Exit::Usage,
            format!("{server_source} and {database_source} both say where to go"),
        )
        .with_hint(
            "give one: --server URL for a QHub server, --database URL for a database, \
             --embedded for the embedded database",
        )),
        (Some(url), None) => Ok(Some(Choice {
            target: Target::server(url),
            source: server_source,
        })),
        (None, Some(url)) => Ok(Some(Choice {
            target: Target::database(url),
            source: database_source,
        })),
        (None, None) if server.is_some() => Ok(Some(Choice {
            target: Target::Embedded,
            source: server_source,
        })),
        (None, None) if database.is_some() => Ok(Some(Choice {
            target: Target::Embedded,
            source: database_source,
        })),
        (None, None) => Ok(None),
    }
}

/// A SQLite URL with a relative path made absolute (against the working
/// directory); any other URL unchanged.
pub fn normalize_database(url: &str) -> String {
    let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    else {
        return url.to_owned();
    };
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    if path.is_empty() || path.starts_with(':') || Path::new(path).is_absolute() {
        return url.to_owned();
    }
    let Ok(cwd) = std::env::current_dir() else {
        return url.to_owned();
    };
    let absolute = cwd.join(path);
    match query {
        Some(query) => format!("sqlite:{}?{query}", absolute.display()),
        None => format!("sqlite:{}", absolute.display()),
    }
}

/// A URL as it may be shown or logged: a password (in the authority or as a
/// `password=` query parameter) is replaced by `***`. What cannot be parsed as a
/// URL is shown only up to its scheme.
pub fn mask(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return match url.split_once(':') {
            Some((scheme, _)) => format!("{scheme}:***"),
            None => "***".into(),
        };
    };
    if parsed.password().is_some() {
        // Only URLs that can hold a password get here, so this cannot fail.
        let _ = parsed.set_password(Some("***"));
    }
    if parsed
        .query_pairs()
        .any(|(k, _)| k.eq_ignore_ascii_case("password"))
    {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                let v = if k.eq_ignore_ascii_case("password") {
                    "***".to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_passwords_and_nothing_else() {
        let cases = [
            (
                "postgres://u:secret@h:5432/db",
                "postgres://u:***@h:5432/db",
            ),
            ("postgres://u@h/db", "postgres://u@h/db"),
            (
                "postgres://h/db?user=u&password=secret&sslmode=require",
                "postgres://h/db?user=u&password=***&sslmode=require",
            ),
            ("sqlite:/tmp/qhub.db", "sqlite:/tmp/qhub.db"),
            ("d1://acct/db", "d1://acct/db"),
            ("not a url with secret", "***"),
        ];
        for (url, shown) in cases {
            assert_eq!(mask(url), shown, "{url}");
        }
    }

    #[test]
    fn relative_sqlite_paths_become_absolute() {
        let cwd = std::env::current_dir().expect("a working directory");
        assert_eq!(
            normalize_database("sqlite:server.db"),
            format!("sqlite:{}", cwd.join("server.db").display())
        );
        assert_eq!(
            normalize_database("sqlite://a.db?mode=rwc"),
            format!("sqlite:{}?mode=rwc", cwd.join("a.db").display())
        );
        for unchanged in [
            "sqlite:/abs/x.db",
            "sqlite:///abs/x.db",
            "sqlite::memory:",
            "postgres://u@h/db",
        ] {
            assert_eq!(normalize_database(unchanged), unchanged);
        }
    }

    #[test]
    fn empty_values_mean_embedded_and_two_places_are_refused() {
        let flags = |server: Option<&str>, database: Option<&str>| Flags {
            server: server.map(str::to_owned),
            database: database.map(str::to_owned),
            embedded: false,
        };
        let chosen = |f: Flags| explicit(&f).expect("no conflict").map(|c| c.target);
        assert_eq!(chosen(flags(Some(""), None)), Some(Target::Embedded));
        assert_eq!(
            chosen(flags(Some("http://h:1/"), None)),
            Some(Target::Server("http://h:1".into()))
        );
        assert_eq!(
            chosen(flags(Some(""), Some("postgres://h/db"))),
            Some(Target::Database("postgres://h/db".into()))
        );
        assert!(explicit(&flags(Some("http://h"), Some("postgres://h/db"))).is_err());
    }
}
