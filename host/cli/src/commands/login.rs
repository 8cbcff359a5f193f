//! `qhub login`: log in with email and password.

use qhub_api::LoginRequest;

use crate::context::Context;
use crate::exit::CliResult;
use crate::password::{self, Confirm};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The account's email address.
    #[arg(long)]
    email: String,
    /// Read the password from the first line of stdin instead of prompting.
    #[arg(long)]
    password_stdin: bool,
}

impl Args {
    pub async fn run(self, ctx: &Context) -> CliResult {
        let password = password::read(self.password_stdin, Confirm::Once)?;
        let backend = ctx.backend().await?;
        let request = LoginRequest {
            email: self.email,
            password,
        };
        let signed_in = backend.login(request).await?;
        super::session::keep(ctx, &backend, signed_in, "logged in as")
    }
}
