//! The command-line grammar: one variant per command, each wrapping its `Args`.

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::commands::{
    account, completions, jobs, keys, login, logout, man, migrate, passwd, plugins, prefs,
    register, serve, sessions, status, switch, usage, whoami,
};
use crate::context::Context;
use crate::exit::CliResult;
use crate::home::Home;

/// QHub: accounts and quantum-job history for a quantum-computing hub.
///
/// Runs on an embedded SQLite database in QHUB_HOME (default ~/.qhub) with no
/// server or setup. Settings come from flags, then the environment, then .env.local
/// and .env in the working directory, then config.toml. Exit codes: 0 ok, 1 error,
/// 2 usage, 3 refused, 4 not logged in, 5 unavailable.
#[derive(Debug, Parser)]
#[command(name = "qhub", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// Print machine-readable JSON on stdout instead of text.
    #[arg(long, global = true)]
    json: bool,

    /// The database to use instead of the embedded one: sqlite:PATH or
    /// postgres://USER@HOST/DB. The scheme picks the storage plugin. Not remote:
    /// the plugins run here.
    #[arg(long, global = true, env = "DATABASE_URL", value_name = "URL")]
    database: Option<String>,

    /// A QHub server to talk to instead of running the plugins here
    /// (e.g. http://127.0.0.1:8787). Default: where the active login is (see
    /// `qhub status`). An empty value means the embedded database.
    #[arg(long, global = true, env = "QHUB_SERVER", value_name = "URL")]
    server: Option<String>,

    /// Use the embedded database in QHUB_HOME, whatever the environment or the
    /// active login say.
    #[arg(long, global = true)]
    embedded: bool,

    /// `--server` and `--database` as given on the command line (not through
    /// their environment variables), filled in by [`Cli::parse_args`].
    #[arg(skip)]
    flags: crate::target::Flags,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create an account and log in to it.
    Register(register::Args),
    /// Log in with email and password, or at an OAuth provider (--provider); the token
    /// is saved in QHUB_HOME/config.toml.
    Login(login::Args),
    /// Show the logged-in account.
    Whoami(whoami::Args),
    /// Log out: revoke this device's session (or all, with --all) and forget its token.
    Logout(logout::Args),
    /// Show the saved logins, where commands go, and whether the token is valid.
    Status(status::Args),
    /// Make another saved login the active one (see `qhub status`).
    Switch(switch::Args),
    /// List or revoke the sessions of your account, one per device.
    #[command(subcommand)]
    Sessions(sessions::Command),
    /// Change your password; your other sessions are logged out.
    Passwd(passwd::Args),
    /// Get, set or unset preferences (JSON values).
    #[command(subcommand)]
    Prefs(prefs::Command),
    /// Show this month's quota: jobs and shots, used and remaining.
    Usage(usage::Args),
    /// Submit, list, show or cancel quantum jobs.
    #[command(subcommand)]
    Jobs(jobs::Command),
    /// Create, list or revoke API keys (bearer credentials limited to scopes).
    #[command(subcommand)]
    Keys(keys::Command),
    /// Export or delete your account and all of its data.
    #[command(subcommand)]
    Account(account::Command),
    /// List, inspect, install or remove the WebAssembly plugins.
    #[command(subcommand)]
    Plugins(plugins::Command),
    /// Serve the HTTP/JSON API (requires JWT_SECRET).
    Serve(serve::Args),
    /// Apply, list or revert database migrations.
    #[command(subcommand)]
    Migrate(migrate::Command),
    /// Print the shell completion script for bash, zsh, fish or powershell.
    Completions(completions::Args),
    /// Write the man pages into a directory (used by `cargo xtask man`).
    #[command(hide = true)]
    Man(man::Args),
}

impl Cli {
    /// Parses the command line (exiting with clap's message and code 2 on a
    /// mistake). Environment values never appear in help: `DATABASE_URL` may
    /// hold a password.
    pub fn parse_args() -> Cli {
        let matches = hide_env_values(Cli::command()).get_matches();
        let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|err| err.exit());
        cli.flags = crate::target::Flags {
            server: from_command_line(&matches, "server"),
            database: from_command_line(&matches, "database"),
            embedded: cli.embedded,
        };
        cli
    }

    /// Whether the command is `qhub serve`, which needs a multi-thread runtime.
    pub fn serves(&self) -> bool {
        matches!(self.command, Command::Serve(_))
    }

    pub async fn run(self) -> CliResult {
        // These only print the grammar: they need no QHUB_HOME.
        let command = match self.command {
            Command::Completions(args) => return args.run(),
            Command::Man(args) => return args.run(self.json),
            command => command,
        };
        let ctx = Context {
            home: Home::locate()?,
            json: self.json,
            database: self
                .database
                .filter(|url| !url.is_empty() && !self.embedded),
            explicit: crate::target::explicit(&self.flags)?,
        };
        let result = match command {
            Command::Register(args) => args.run(&ctx).await,
            Command::Login(args) => args.run(&ctx).await,
            Command::Whoami(args) => args.run(&ctx).await,
            Command::Logout(args) => args.run(&ctx).await,
            Command::Status(args) => args.run(&ctx).await,
            Command::Switch(args) => args.run(&ctx),
            Command::Sessions(command) => command.run(&ctx).await,
            Command::Passwd(args) => args.run(&ctx).await,
            Command::Prefs(command) => command.run(&ctx).await,
            Command::Usage(args) => args.run(&ctx).await,
            Command::Jobs(command) => command.run(&ctx).await,
            Command::Keys(command) => command.run(&ctx).await,
            Command::Account(command) => command.run(&ctx).await,
            Command::Plugins(command) => command.run(&ctx).await,
            Command::Serve(args) => args.run(&ctx).await,
            Command::Migrate(command) => command.run(&ctx).await,
            Command::Completions(_) | Command::Man(_) => unreachable!("handled above"),
        };
        result.map_err(|err| ctx.explain(err))
    }
}

/// Hides the environment's values in the help of every argument of `command` and
/// of its subcommands.
fn hide_env_values(command: clap::Command) -> clap::Command {
    command
        .mut_args(|arg| arg.hide_env_values(true))
        .mut_subcommands(hide_env_values)
}

/// The value of `id` when the command line gave it, not its environment variable.
fn from_command_line(matches: &ArgMatches, id: &str) -> Option<String> {
    let mut level = Some(matches);
    while let Some(m) = level {
        if m.value_source(id) == Some(ValueSource::CommandLine) {
            return m.get_one::<String>(id).cloned();
        }
        level = m.subcommand().map(|(_, sub)| sub);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every argument backed by a variable, in every command, hides its value.
    #[test]
    fn no_help_shows_an_environment_value() {
        fn check(command: &clap::Command, checked: &mut usize) {
            for arg in command.get_arguments() {
                if arg.get_env().is_some() {
                    assert!(
                        arg.is_hide_env_values_set(),
                        "{} --{:?}",
                        command.get_name(),
                        arg.get_long()
                    );
                    *checked += 1;
                }
            }
            for sub in command.get_subcommands() {
                check(sub, checked);
            }
        }
        let mut command = hide_env_values(Cli::command());
        command.build();
        let mut checked = 0;
        check(&command, &mut checked);
        assert!(checked >= 7, "only {checked} arguments read a variable");
    }
}
