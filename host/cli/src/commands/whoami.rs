//! `qhub whoami`: show the logged-in account.

use crate::commands::session::ProfileJson;
use crate::context::Context;
use crate::exit::{CliError, CliResult};
use crate::output;

#[derive(Debug, clap::Args)]
pub struct Args {}

impl Args {
    pub async fn run(self, ctx: &Context) -> CliResult {
        let token = ctx
            .home
            .load_config()?
            .token
            .ok_or_else(|| CliError::not_logged_in("not logged in"))?;
        let profile = ctx.accounts().await?.whoami(&token).await?;
        if ctx.json {
            output::json(&ProfileJson::from(profile));
        } else {
            match &profile.display_name {
                Some(name) => println!("{} ({name})", profile.email),
                None => println!("{}", profile.email),
            }
            println!("user id:      {}", profile.id);
            println!("member since: {}", output::timestamp(profile.created_at));
        }
        Ok(())
    }
}
