//! The CLI's one error type, and the exit codes it maps to.
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | success |
//! | 1 | error: a plugin fault, a bug, an unusable or unsafe `QHUB_HOME` (see below) |
//! | 2 | usage: bad arguments, or input that cannot be read (no password given) |
//! | 3 | refused: wrong credentials, weak password, email taken, invalid input |
//! | 4 | not logged in: no token, or the token or its session is no longer valid |
//! | 5 | unavailable: the database cannot be reached; retrying later may work |
//! | 141 | stdout was closed before the output was written (`qhub ... \| head -c1`); nothing is printed |
//!
//! Unsafe permissions on `QHUB_HOME` or a secret in it make `QHUB_HOME` unusable:
//! exit code 1, with the `chmod` that fixes them as the hint. 141 is what a shell
//! reports for a process that SIGPIPE ended (128 + 13), so with `set -o pipefail` a
//! closed pipe looks the same for qhub as for `cat` or `grep`.

use std::io::Write;
use std::process::ExitCode;

use qhub_runtime::{ErrorCode, ServiceError};

/// The exit code when the reader of stdout went away (see `output.rs`).
pub const CLOSED_STDOUT: i32 = 128 + 13;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Error = 1,
    Usage = 2,
    Refused = 3,
    NotLoggedIn = 4,
    Unavailable = 5,
}

/// An error as the user sees it: `error: <message>` then `hint: <hint>`.
#[derive(Debug)]
pub struct CliError {
    pub exit: Exit,
    pub message: String,
    pub hint: Option<String>,
    /// The account core's error code, when the core refused; lets a command adapt
    /// the hint to its own context.
    pub code: Option<ErrorCode>,
}

impl CliError {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        CliError {
            exit,
            message: message.into(),
            hint: None,
            code: None,
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(Exit::Error, message)
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn not_logged_in(message: impl Into<String>) -> Self {
        Self::new(Exit::NotLoggedIn, message).with_hint("log in with `qhub login --email <email>`")
    }

    /// Prints the error on stderr (if stderr is gone, it is lost rather than a
    /// panic) and returns its exit code.
    pub fn report(&self) -> ExitCode {
        use crate::output::{ERROR, HINT};
        // Styled on a terminal only: anstream strips the styles for a pipe or a
        // file, and when NO_COLOR is set.
        let mut stderr = anstream::stderr().lock();
        // Messages quote paths and names as given: escaped, so none can carry
        // a control sequence to the terminal.
        let _ = writeln!(
            stderr,
            "{ERROR}error:{ERROR:#} {}",
            crate::output::terminal_safe(&self.message)
        );
        if let Some(hint) = &self.hint {
            let _ = writeln!(
                stderr,
                "{HINT}hint:{HINT:#} {}",
                crate::output::terminal_safe(hint)
            );
        }
        ExitCode::from(self.exit as u8)
    }
}

impl From<ServiceError> for CliError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Runtime(fault) => CliError::internal(fault.to_string()).with_hint(
                "this is a bug or a broken plugin; rerun with QHUB_LOG=debug for details",
            ),
            ServiceError::Account(refused) => CliError::refused(refused.code, refused.message),
        }
    }
}

impl From<qhub_host::Error> for CliError {
    fn from(err: qhub_host::Error) -> Self {
        let exit = match err.kind {
            qhub_host::Kind::Internal => Exit::Error,
            qhub_host::Kind::Usage => Exit::Usage,
            qhub_host::Kind::Refused => Exit::Refused,
            qhub_host::Kind::Unavailable => Exit::Unavailable,
        };
        CliError {
            hint: err.hint,
            ..CliError::new(exit, err.message)
        }
    }
}

impl From<qhub_client::ClientError> for CliError {
    fn from(err: qhub_client::ClientError) -> Self {
        use qhub_client::ClientError;
        match err {
            ClientError::Api {
                code: Some(code),
                message,
                ..
            } => CliError::refused(code, message),
            ClientError::Api {
                status, message, ..
            } => CliError::internal(format!("the server answered {status}: {message}"))
                .with_hint("the server may be newer than this qhub; update qhub"),
            ClientError::Unreachable { .. } => CliError::new(Exit::Unavailable, err.to_string())
                .with_hint(
                    "is the server running? check --server, QHUB_SERVER or `server` in config.toml",
                ),
            ClientError::Protocol { .. } => CliError::internal(err.to_string())
                .with_hint("check that --server points at a QHub server"),
            ClientError::InvalidUrl(_) | ClientError::InvalidArgument(_) => {
                CliError::new(Exit::Usage, err.to_string())
            }
            ClientError::InProcess(err) => err.into(),
        }
    }
}

impl CliError {
    /// An error the account core answered with, embedded or through a server.
    pub fn refused(code: ErrorCode, message: String) -> Self {
        let err = match code {
            ErrorCode::Unauthenticated => CliError::not_logged_in(message),
            ErrorCode::InvalidCredentials => CliError::new(Exit::Refused, message).with_hint(
                "check the email and password; to create an account use `qhub register --email <email>`",
            ),
            ErrorCode::EmailTaken => {
                CliError::new(Exit::Refused, message).with_hint("log in instead: `qhub login --email <email>`")
            }
            ErrorCode::WeakPassword => CliError::new(Exit::Refused, message)
                .with_hint("use 8 to 128 characters, not your email; a few random words make a strong password"),
            ErrorCode::QuotaExceeded => CliError::new(Exit::Refused, message)
                .with_hint("see `qhub usage`; the quota resets at the start of the next month (UTC)"),
            ErrorCode::InvalidInput | ErrorCode::Conflict | ErrorCode::NotFound | ErrorCode::Forbidden => {
                CliError::new(Exit::Refused, message)
            }
            ErrorCode::RateLimited => CliError::new(Exit::Refused, message).with_hint("wait a little, then try again"),
            // A server at its load bounds (see `qhub serve --help`) says so.
            ErrorCode::Unavailable if message.starts_with("server busy") => {
                CliError::new(Exit::Unavailable, message).with_hint("the server is at its load bounds; try again in a moment")
            }
            ErrorCode::Unavailable => CliError::new(Exit::Unavailable, message),
            ErrorCode::Internal => CliError::internal(message),
        };
        CliError {
            code: Some(code),
            ..err
        }
    }
}

pub type CliResult<T = ()> = Result<T, CliError>;
