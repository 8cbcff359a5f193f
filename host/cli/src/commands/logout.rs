//! `qhub logout`: revoke this device's session and forget the token.

use serde_json::json;

use crate::context::Context;
use crate::exit::{CliResult, Exit};
use crate::output;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Log out every device: revoke all of this account's sessions.
    #[arg(long)]
    all: bool,
}

impl Args {
    pub async fn run(self, ctx: &Context) -> CliResult {
        let mut config = ctx.home.load_config()?;
        let from_env = std::env::var("QHUB_TOKEN").ok().filter(|t| !t.is_empty());
        let Some(token) = from_env.clone().or_else(|| config.token.clone()) else {
            report(ctx, false, "not logged in; nothing to do");
            return Ok(());
        };
        let backend = ctx.backend().await?;
        let outcome = if self.all {
            backend.logout_all(&token).await.map(Some)
        } else {
            backend.logout(&token).await.map(|()| None)
        };
        let ended = match outcome {
            Ok(count) => count,
            // Already revoked or expired: the session is over either way, so the
            // local token is just as useless; forget it and succeed.
            Err(err) if err.exit == Exit::NotLoggedIn && !self.all => None,
            Err(other) => return Err(other),
        };
        if from_env.is_some() {
            report(ctx, true, "logged out the session of QHUB_TOKEN");
            return Ok(());
        }
        let email = config.email.take();
        config.token = None;
        config.server = None;
        ctx.home.save_config(&config)?;
        let who = email.map(|e| format!(" {e}")).unwrap_or_default();
        match ended {
            Some(count) => report(
                ctx,
                true,
                &format!("logged out{who} everywhere ({count} sessions ended)"),
            ),
            None => report(ctx, true, &format!("logged out{who}")),
        }
        Ok(())
    }
}

fn report(ctx: &Context, logged_out: bool, message: &str) {
    if ctx.json {
        output::json(&json!({ "logged_out": logged_out }));
    } else {
        outln!("{message}");
    }
}
