//! `qhub register`: create an account and log in to it.

use qhub_api::RegisterRequest;

use crate::context::Context;
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
        let backend = ctx.backend().await?;
        let request = RegisterRequest {
            email: self.email,
            password,
            display_name: self.name,
        };
        let signed_in = backend.register(request).await?;
        super::session::keep(ctx, signed_in, "registered and logged in as")
    }
}
