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
        // Text groups thousands (1,000,000) as the README writes quotas; JSON keeps
        // plain numbers.
        let (jobs_used, jobs_limit) = (u64::from(usage.jobs_used), u64::from(usage.jobs_limit));
        outln!("period {} (UTC month)", usage.period);
        outln!(
            "jobs:  {:>13} used of {:>13}, {:>13} remaining",
            output::grouped(jobs_used),
            output::grouped(jobs_limit),
            output::grouped(jobs_limit.saturating_sub(jobs_used))
        );
        outln!(
            "shots: {:>13} used of {:>13}, {:>13} remaining",
            output::grouped(usage.shots_used),
            output::grouped(usage.shots_limit),
            output::grouped(usage.shots_limit.saturating_sub(usage.shots_used))
        );
        Ok(())
    }
}
