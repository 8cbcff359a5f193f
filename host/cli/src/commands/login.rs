//! `qhub login`: log in with email and password.

use crate::context::{Context, client_info};
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
        let accounts = ctx.accounts().await?;
        let signed_in = accounts
            .login(&self.email, &password, client_info())
            .await?;
        super::session::keep(ctx, signed_in, "logged in as")
    }
}
