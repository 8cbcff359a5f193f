//! `qhub login`: log in with email and password, or at an OAuth provider
//! (`--provider NAME`: device flow, or `--web` for the browser flow with PKCE).

use std::io::{BufRead, IsTerminal};

use qhub_api::LoginRequest;

use crate::context::Context;
use crate::exit::{CliError, CliResult, Exit};
use crate::oauth;
use crate::password::{self, Confirm};

#[derive(Debug, clap::Args)]
#[command(
    override_usage = "qhub login [--email <EMAIL>] [--password-stdin]\n       \
                  qhub login --provider <NAME> [--web] [--no-browser] [--scope <SCOPE>]..."
)]
pub struct Args {
    /// The account's email address (password login). Asked for on a terminal when
    /// neither --email nor --provider is given.
    #[arg(long, conflicts_with = "provider")]
    email: Option<String>,
    /// Read the password from the first line of stdin instead of prompting.
    #[arg(long, conflicts_with = "provider")]
    password_stdin: bool,
    /// Log in at this OAuth provider (a name from providers.toml, or one the server
    /// offers): prints a code to enter at the provider, then waits for approval.
    #[arg(long, value_name = "NAME")]
    provider: Option<String>,
    /// With --provider: log in in a browser that comes back to this machine
    /// (authorization code with PKCE) instead of entering a code.
    #[arg(long, requires = "provider")]
    web: bool,
    /// With --provider: only print the URL, do not try to open a browser.
    #[arg(long, requires = "provider")]
    no_browser: bool,
    /// With --provider: a scope to ask for (repeatable); the provider's defaults
    /// when none is given.
    #[arg(long = "scope", value_name = "SCOPE", requires = "provider")]
    scopes: Vec<String>,
}

impl Args {
    pub async fn run(self, ctx: &Context) -> CliResult {
        if let Some(provider) = &self.provider {
            let flows = oauth::flows(ctx, provider).await?;
            let browser = !self.no_browser;
            let signed_in = if self.web {
                oauth::web_flow(&flows, provider, &self.scopes, browser).await?
            } else {
                oauth::device_flow(&flows, provider, &self.scopes, browser).await?
            };
            return super::session::keep(ctx, &flows, signed_in, "logged in as").await;
        }
        let email = match self.email {
            Some(email) => email,
            None => ask_email(self.password_stdin)?,
        };
        let password = password::read(self.password_stdin, Confirm::Once)?;
        let backend = ctx.backend().await?;
        let request = LoginRequest { email, password };
        let signed_in = backend.login(request).await?;
        super::session::keep(ctx, &backend, signed_in, "logged in as").await
    }
}

/// The email for a password login without `--email`: asked for on a terminal (as
/// `gh auth login` asks), else a usage error naming both ways to log in. With
/// `--password-stdin`, stdin holds the password, so it cannot hold the email too.
fn ask_email(password_stdin: bool) -> CliResult<String> {
    let usage = |message: &str| {
        CliError::new(Exit::Usage, message).with_hint(
            "pass --email EMAIL to log in with a password, or --provider NAME to log in at an OAuth provider",
        )
    };
    if password_stdin {
        return Err(usage("--password-stdin needs --email"));
    }
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Err(usage(
            "--email or --provider is required when there is no terminal to ask on",
        ));
    }
    loop {
        eprint!("Email: ");
        let mut line = String::new();
        let read = std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| CliError::new(Exit::Usage, format!("cannot read the email: {e}")))?;
        if read == 0 {
            return Err(usage("no email given"));
        }
        let email = line.trim();
        if !email.is_empty() {
            return Ok(email.to_owned());
        }
    }
}
