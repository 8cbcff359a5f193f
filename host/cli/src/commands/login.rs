//! `qhub login`: log in with email and password, or at an OAuth provider
//! (`--provider NAME`: device flow, or `--web` for the browser flow with PKCE).

use qhub_api::LoginRequest;

use crate::context::Context;
use crate::exit::{CliError, CliResult, Exit};
use crate::oauth;
use crate::password::{self, Confirm};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The account's email address (password login).
    #[arg(
        long,
        required_unless_present = "provider",
        conflicts_with = "provider"
    )]
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
            let (_backend, flows) = oauth::flows(ctx, provider).await?;
            let browser = !self.no_browser;
            let signed_in = if self.web {
                oauth::web_flow(&flows, provider, &self.scopes, browser).await?
            } else {
                oauth::device_flow(&flows, provider, &self.scopes, browser).await?
            };
            return super::session::keep(ctx, signed_in, "logged in as");
        }
        let email = self
            .email
            .ok_or_else(|| CliError::new(Exit::Usage, "--email or --provider is required"))?;
        let password = password::read(self.password_stdin, Confirm::Once)?;
        let backend = ctx.backend().await?;
        let request = LoginRequest { email, password };
        let signed_in = backend.login(request).await?;
        super::session::keep(ctx, signed_in, "logged in as")
    }
}
