//! `qhub register`: create an account and log in to it.

use qhub_runtime::RegisterRequest;

use crate::context::{Context, client_info};
use crate::exit::CliResult;
use crate::password::{self, Confirm};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The account's email address (case-insensitive).
    #[arg(long)]
    email: String,
    /// A display name.
    #[arg(long)]
    name: Option<String>,
    /// Read the password from the first line of stdin instead of prompting.
    #[arg(long)]
    password_stdin: bool,
}

impl Args {
    pub async fn run(self, ctx: &Context) -> CliResult {
        let password = password::read(self.password_stdin, Confirm::Twice)?;
        let accounts = ctx.accounts().await?;
        let request = RegisterRequest {
            email: self.email,
            password,
            display_name: self.name,
        };
        let signed_in = accounts.register(request, client_info()).await?;
        super::session::keep(ctx, signed_in, "registered and logged in as")
    }
}
