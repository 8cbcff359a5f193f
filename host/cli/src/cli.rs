//! The command-line grammar: one variant per command, each wrapping its `Args`.

use clap::{Parser, Subcommand};

use crate::commands::{
    account, completions, jobs, keys, login, logout, man, migrate, passwd, plugins, prefs,
    register, serve, sessions, usage, whoami,
};
use crate::context::Context;
use crate::exit::CliResult;
use crate::home::Home;

/// QHub: accounts and quantum-job history for a quantum-computing hub.
///
/// Runs on an embedded SQLite database in QHUB_HOME (default ~/.qhub) with no
/// server or setup. Exit codes: 0 ok, 1 error, 2 usage, 3 refused, 4 not logged in,
/// 5 unavailable.
#[derive(Debug, Parser)]
#[command(name = "qhub", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// Print machine-readable JSON on stdout instead of text.
    #[arg(long, global = true)]
    json: bool,

    /// The database to use instead of the embedded one: sqlite:PATH or
    /// postgres://USER@HOST/DB. The scheme picks the storage plugin.
    #[arg(long, global = true, env = "DATABASE_URL", value_name = "URL")]
    database: Option<String>,

    /// A QHub server to talk to instead of running the plugins here
    /// (e.g. http://127.0.0.1:8787). Default: the server you logged in to, if any.
    #[arg(long, global = true, env = "QHUB_SERVER", value_name = "URL")]
    server: Option<String>,

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
    /// List, inspect or install the WebAssembly plugins.
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
            database: self.database.filter(|url| !url.is_empty()),
            server: self.server.filter(|url| !url.is_empty()),
        };
        let result = match command {
            Command::Register(args) => args.run(&ctx).await,
            Command::Login(args) => args.run(&ctx).await,
            Command::Whoami(args) => args.run(&ctx).await,
            Command::Logout(args) => args.run(&ctx).await,
            Command::Sessions(command) => command.run(&ctx).await,
            Command::Passwd(args) => args.run(&ctx).await,
            Command::Prefs(command) => command.run(&ctx).await,
            Command::Usage(args) => args.run(&ctx).await,
            Command::Jobs(command) => command.run(&ctx).await,
            Command::Keys(command) => command.run(&ctx).await,
            Command::Account(command) => command.run(&ctx).await,
            Command::Plugins(command) => command.run(&ctx),
            Command::Serve(args) => args.run(&ctx).await,
            Command::Migrate(command) => command.run(&ctx).await,
            Command::Completions(_) | Command::Man(_) => unreachable!("handled above"),
        };
        result.map_err(|err| ctx.explain(err))
    }
}
