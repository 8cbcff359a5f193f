//! `qhub usage`: this month's quota, used and remaining.

use crate::context::Context;
use crate::exit::CliResult;
use crate::output;

#[derive(Debug, clap::Args)]
pub struct Args {}

impl Args {
    pub async fn run(self, ctx: &Context) -> CliResult {
        let token = ctx.token()?;
        let usage = ctx.backend().await?.usage(&token).await?;
        if ctx.json {
            output::json(&usage);
            return Ok(());
        }
        outln!("period {} (UTC month)", usage.period);
        outln!(
            "jobs:  {:>10} used of {:>10}, {:>10} remaining",
            usage.jobs_used,
            usage.jobs_limit,
            usage.jobs_limit.saturating_sub(usage.jobs_used)
        );
        outln!(
            "shots: {:>10} used of {:>10}, {:>10} remaining",
            usage.shots_used,
            usage.shots_limit,
            usage.shots_limit.saturating_sub(usage.shots_used)
        );
        Ok(())
    }
}
