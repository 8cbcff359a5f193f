//! `qhub status`, like `gh auth status`: the saved logins (the active one marked),
//! where commands go and why, and whether each token still works, checked against
//! its server or database.

use serde::Serialize;

use crate::context::Context;
use crate::exit::{CliError, CliResult, Exit};
use crate::output;
use crate::target::{Source, Target};

#[derive(Debug, clap::Args)]
pub struct Args {}

/// What a check of a token found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
enum State {
    /// The server or database accepted it.
    Valid,
    /// The token or its session has expired.
    Expired,
    /// Its session was revoked (logout, password change, `sessions revoke`).
    Revoked,
    /// The database has no such session: another database's token, or a
    /// deleted account.
    Unknown,
    /// Not a token this server or database signed (another secret, say).
    Invalid,
    /// The server or database could not be reached.
    Unreachable,
    /// Anything else (see the message).
    Error,
}

impl State {
    fn of(err: &CliError) -> State {
        let message = err.message.as_str();
        match err.exit {
            Exit::Unavailable => State::Unreachable,
            Exit::NotLoggedIn if message.contains("expired") => State::Expired,
            Exit::NotLoggedIn if message.contains("revoked") => State::Revoked,
            Exit::NotLoggedIn if message.starts_with("session not found") => State::Unknown,
            Exit::NotLoggedIn => State::Invalid,
            _ => State::Error,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            State::Valid => "token valid",
            State::Expired => "token expired",
            State::Revoked => "session revoked",
            State::Unknown => "token not known to this database",
            State::Invalid => "token invalid",
            State::Unreachable => "unreachable",
            State::Error => "cannot check the token",
        }
    }
}

/// A token's check, for `--json`.
#[derive(Debug, Serialize)]
struct Check {
    state: State,
    /// The error the check got, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

/// `--json`: one saved login.
#[derive(Debug, Serialize)]
struct LoginJson {
    email: String,
    /// `embedded`, `database` or `server`.
    kind: &'static str,
    /// The server URL, the database URL (password masked), or the embedded path.
    location: String,
    /// The first login in config.toml: where commands go without flags.
    active: bool,
    /// The login commands use now (flags and the environment considered).
    in_use: bool,
    token: Check,
}

/// `--json`: where commands go.
#[derive(Debug, Serialize)]
struct TargetJson {
    kind: &'static str,
    location: String,
    /// Why: `{"from": "flag", "name": "--server"}`, `{"from": "env", ...}`,
    /// `{"from": "dotenv", ...}`, `{"from": "config"}` or `{"from": "default"}`.
    source: Source,
}

#[derive(Debug, Serialize)]
struct StatusJson {
    target: TargetJson,
    logins: Vec<LoginJson>,
    /// The check of `QHUB_TOKEN`, when it is set (it wins over a saved token).
    env_token: Option<Check>,
}

impl Args {
    pub async fn run(self, ctx: &Context) -> CliResult {
        let choice = ctx.choice()?;
        let config = ctx.home.load_config()?;
        let in_use = config.login_for(&choice.target).cloned();
        let mut logins = Vec::new();
        for (i, login) in config.logins.iter().enumerate() {
            let target = login.target();
            logins.push(LoginJson {
                email: login.email.clone(),
                kind: target.kind(),
                location: target.location(&ctx.home),
                active: i == 0,
                in_use: in_use.as_ref() == Some(login),
                token: check(ctx, &target, &login.token).await,
            });
        }
        let env_token = match std::env::var("QHUB_TOKEN").ok().filter(|t| !t.is_empty()) {
            Some(token) => Some(check(ctx, &choice.target, &token).await),
            None => None,
        };
        let status = StatusJson {
            target: TargetJson {
                kind: choice.target.kind(),
                location: choice.target.location(&ctx.home),
                source: choice.source.clone(),
            },
            logins,
            env_token,
        };
        if ctx.json {
            output::json(&status);
        } else {
            print(&status);
        }
        outcome(&status, &choice.target, ctx)
    }
}

/// Checks `token` at `target` by asking who it belongs to.
async fn check(ctx: &Context, target: &Target, token: &str) -> Check {
    let answer = match ctx.backend_at(target).await {
        Ok(backend) => backend
            .whoami(token)
            .await
            .map(|_| ())
            .map_err(CliError::from),
        Err(err) => Err(err),
    };
    match answer {
        Ok(()) => Check {
            state: State::Valid,
            message: None,
        },
        Err(err) => Check {
            state: State::of(&err),
            message: Some(err.message),
        },
    }
}

fn print(status: &StatusJson) {
    let target = &status.target;
    outln!(
        "commands go to: {} ({}, from {})",
        target.location,
        target.kind,
        target.source
    );
    if status.logins.is_empty() {
        outln!("no saved logins");
    }
    for login in &status.logins {
        let mark = if login.active { "*" } else { " " };
        let in_use = if login.in_use && !login.active {
            " (in use)"
        } else {
            ""
        };
        outln!(
            "{mark} {}  {}  {}  {}{in_use}",
            login.email,
            login.kind,
            login.location,
            login.token.state.describe()
        );
    }
    if let Some(check) = &status.env_token {
        outln!(
            "QHUB_TOKEN is set and used instead of a saved token: {}",
            check.state.describe()
        );
    }
}

/// Exit 0 when the token commands would send works; otherwise the error that
/// using it would give (4 not logged in or no longer valid, 5 unreachable).
fn outcome(status: &StatusJson, target: &Target, ctx: &Context) -> CliResult {
    let check = match &status.env_token {
        Some(check) => check,
        None => match status.logins.iter().find(|l| l.in_use) {
            Some(login) => &login.token,
            // Not logged in here: the error every command would give.
            None => return ctx.token().map(|_| ()),
        },
    };
    let place = target.location(&ctx.home);
    let message = || {
        format!(
            "{} at {place}: {}",
            check.state.describe(),
            check.message.as_deref().unwrap_or_default()
        )
    };
    match check.state {
        State::Valid => Ok(()),
        State::Unreachable => Err(CliError::new(Exit::Unavailable, message())
            .with_hint(
            "is it running? `qhub switch` makes another login active; `qhub --embedded ...` uses the embedded database",
        )),
        State::Error => Err(CliError::internal(message())),
        _ => Err(
            CliError::new(Exit::NotLoggedIn, message()).with_hint(format!(
                "log in again: `qhub {}login --email <email>`",
                match target {
                    Target::Embedded => String::new(),
                    other => format!("{} ", other.flags()),
                }
            )),
        ),
    }
}
