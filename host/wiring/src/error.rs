//! The wiring's one error type: a message as the user reads it, the fix when it
//! is knowable, and a [`Kind`] a host maps to its own outcome (the CLI to an exit
//! code, see its `exit.rs`).

use std::path::Path;

use qhub_runtime::fsutil::Insecure;
use qhub_runtime::providers::ProvidersError;

/// What kind of failure an [`Error`] is, for the host to map to its outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A fault: a broken plugin or install, an unusable or unsafe directory, a bug.
    Internal,
    /// The caller asked for something that does not exist or cannot be parsed (a
    /// plugin or provider name, a database URL).
    Usage,
    /// Understood and refused: wrong credentials for the database, or a plugin
    /// that may not be installed or removed.
    Refused,
    /// The database cannot be reached or does not exist; retrying later may work.
    Unavailable,
}

/// A wiring failure: `message`, then `hint` (the fix) when one is known.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    /// What the host makes of it.
    pub kind: Kind,
    /// A lowercase fragment, without a trailing period.
    pub message: String,
    /// How to fix it, when that is knowable.
    pub hint: Option<String>,
}

/// A result whose error is the wiring's.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What a `d1://` database needs, for errors about its URL or token.
const D1_SETUP_HINT: &str = "use --database d1://ACCOUNT_ID/DATABASE_ID (ids from `wrangler d1 list`) and set \
     CLOUDFLARE_API_TOKEN to an API token with D1 edit permission on that account, see .env.example";

impl Error {
    /// An error of `kind` without a hint.
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            hint: None,
        }
    }

    /// A [`Kind::Internal`] error.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(Kind::Internal, message)
    }

    /// The same error with `hint`.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// A file or directory qhub refuses to trust, with the command that fixes it.
    pub fn insecure(found: &Insecure) -> Self {
        Self::internal(found.to_string()).with_hint(found.hint())
    }

    /// A directory of qhub's that cannot be used: unsafe permissions (see
    /// [`Error::insecure`]) or an I/O failure.
    pub fn unusable(dir: &Path, err: &std::io::Error) -> Self {
        if let Some(found) = qhub_runtime::fsutil::insecure(err) {
            return Self::insecure(found);
        }
        Self::internal(format!("cannot use {}: {err}", dir.display()))
            .with_hint("set QHUB_HOME to a writable directory")
    }

    /// A failure to set up the plugin runtime.
    pub fn runtime(err: qhub_runtime::Error) -> Self {
        match err {
            qhub_runtime::Error::Insecure(found) => Self::insecure(&found),
            other => Self::internal(other.to_string()),
        }
    }

    /// A provider configuration problem of `kind`, with its hint.
    pub fn providers(kind: Kind, err: ProvidersError) -> Self {
        Error {
            kind,
            message: err.to_string(),
            hint: err.hint,
        }
    }

    /// A runtime error from opening or migrating the database `url` names
    /// (`None`: a host's own SQLite file), with what to check.
    pub fn database(url: Option<&str>, err: qhub_runtime::Error) -> Self {
        let is_d1 = url.is_some_and(qhub_runtime::sql::d1::is_d1_url);
        match err {
            qhub_runtime::Error::Unavailable(_) => Self::new(Kind::Unavailable, err.to_string()),
            qhub_runtime::Error::MissingDatabase(name) => Self::new(
                Kind::Unavailable,
                format!("the database {name:?} does not exist on the PostgreSQL server"),
            )
            .with_hint(createdb_hint(url, &name)),
            qhub_runtime::Error::InvalidUrl(message) if is_d1 => {
                Self::new(Kind::Usage, message).with_hint(D1_SETUP_HINT)
            }
            qhub_runtime::Error::InvalidUrl(message) => Self::new(Kind::Usage, message)
                .with_hint("e.g. --database sqlite:qhub.db or --database postgres://USER@HOST/DB"),
            // Wrong credentials, as a refused password is.
            qhub_runtime::Error::Unauthorized(_) => {
                Self::new(Kind::Refused, err.to_string()).with_hint(D1_SETUP_HINT)
            }
            other => Self::internal(other.to_string()),
        }
    }
}

impl From<ProvidersError> for Error {
    fn from(err: ProvidersError) -> Self {
        Self::providers(Kind::Internal, err)
    }
}

/// How to create the database `name` that PostgreSQL `url` names: the `createdb`
/// command for its server and user.
fn createdb_hint(url: Option<&str>, name: &str) -> String {
    let Some(parsed) = url.and_then(|u| url::Url::parse(u).ok()) else {
        return "create it (`createdb NAME`), or fix the name in --database / DATABASE_URL".into();
    };
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
    format!("create it with `{command} {name}`, or fix the name in --database / DATABASE_URL")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: Option<&str>, err: qhub_runtime::Error, kind: Kind, message: &str, hint: &str) {
        let err = Error::database(url, err);
        assert_eq!(err.kind, kind);
        assert_eq!(err.message, message);
        assert_eq!(err.hint.as_deref().unwrap_or(""), hint);
    }

    #[test]
    fn database_errors_say_what_to_check() {
        use qhub_runtime::Error as E;
        check(
            Some("postgres://ann@db.example:5433/qhub"),
            E::MissingDatabase("qhub".into()),
            Kind::Unavailable,
            "the database \"qhub\" does not exist on the PostgreSQL server",
            "create it with `createdb -h db.example -p 5433 -U ann qhub`, or fix the name in --database / DATABASE_URL",
        );
        check(
            None,
            E::MissingDatabase("qhub".into()),
            Kind::Unavailable,
            "the database \"qhub\" does not exist on the PostgreSQL server",
            "create it (`createdb NAME`), or fix the name in --database / DATABASE_URL",
        );
        check(
            Some("mysql://x"),
            E::InvalidUrl("no storage plugin reads mysql:".into()),
            Kind::Usage,
            "no storage plugin reads mysql:",
            "e.g. --database sqlite:qhub.db or --database postgres://USER@HOST/DB",
        );
        check(
            Some("d1://account"),
            E::InvalidUrl("a d1 URL names the database".into()),
            Kind::Usage,
            "a d1 URL names the database",
            D1_SETUP_HINT,
        );
    }

    #[test]
    fn an_unreadable_directory_names_qhub_home() {
        let err = Error::unusable(
            Path::new("/nowhere"),
            &std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        );
        assert_eq!(err.kind, Kind::Internal);
        assert!(err.message.starts_with("cannot use /nowhere: "), "{err}");
        assert_eq!(
            err.hint.as_deref(),
            Some("set QHUB_HOME to a writable directory")
        );
    }
}
