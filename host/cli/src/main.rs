//! `qhub`: the QHub command line. Parses arguments, runs the command, and turns
//! its outcome into one of the documented exit codes (see `exit.rs`).

// First: its `outln!` and `out!` macros are used by the modules below.
#[macro_use]
mod output;

mod backend;
mod cli;
mod commands;
mod confirm;
mod context;
mod dotenv;
mod exit;
mod home;
mod oauth;
mod password;
mod progress;
mod short_id;
mod target;

use std::process::ExitCode;

fn main() -> ExitCode {
    // Before parsing: `.env` values reach the flags' environment fallbacks.
    if let Err(err) = dotenv::load() {
        return err.report();
    }
    let cli = cli::Cli::parse_args();
    init_logging(cli.serves());
    // `qhub serve` answers many clients at once: it gets a worker thread per core
    // (password hashing runs on threads of its own, see `AccountService`). Every
    // other command does one thing and exits, on this thread.
    let mut builder = if cli.serves() {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            return exit::CliError::internal(format!("cannot start the async runtime: {err}"))
                .report();
        }
    };
    match runtime.block_on(cli.run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => err.report(),
    }
}

/// Logs go to stderr, filtered by `QHUB_LOG` (e.g. `QHUB_LOG=debug`); warnings by
/// default, and for `qhub serve` also its own info lines (the database and the
/// plugins it runs, its load bounds).
fn init_logging(serves: bool) {
    let default = if serves { "warn,qhub=info" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("QHUB_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}
