//! `qhub whoami`: show the logged-in account.

use crate::context::Context;
use crate::exit::CliResult;
use crate::output;

#[derive(Debug, clap::Args)]
pub struct Args {}

impl Args {
    pub async fn run(self, ctx: &Context) -> CliResult {
        let token = ctx.token()?;
        let profile = ctx.backend().await?.whoami(&token).await?;
        if ctx.json {
            output::json(&profile);
        } else {
            match &profile.display_name {
                Some(name) => outln!("{} ({name})", profile.email),
                None => outln!("{}", profile.email),
            }
            outln!("user id:      {}", profile.id);
            outln!("member since: {}", profile.created_at);
        }
        Ok(())
    }
}
