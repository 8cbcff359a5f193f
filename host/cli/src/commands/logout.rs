//! `qhub logout`: revoke this device's session and forget the token.

use qhub_runtime::{ErrorCode, ServiceError};
use serde_json::json;

use crate::context::Context;
use crate::exit::CliResult;
use crate::output;

#[derive(Debug, clap::Args)]
pub struct Args {}

impl Args {
    pub async fn run(self, ctx: &Context) -> CliResult {
        let mut config = ctx.home.load_config()?;
        let Some(token) = config.token.take() else {
            report(ctx, false, "not logged in; nothing to do");
            return Ok(());
        };
        match ctx.accounts().await?.logout(&token).await {
            Ok(()) => {}
            // Already revoked or expired: the session is over either way, so the
            // local token is just as useless; forget it and succeed.
            Err(ServiceError::Account(e)) if e.code == ErrorCode::Unauthenticated => {}
            Err(other) => return Err(other.into()),
        }
        let email = config.email.take();
        ctx.home.save_config(&config)?;
        match email {
            Some(email) => report(ctx, true, &format!("logged out {email}")),
            None => report(ctx, true, "logged out"),
        }
        Ok(())
    }
}

fn report(ctx: &Context, logged_out: bool, message: &str) {
    if ctx.json {
        output::json(&json!({ "logged_out": logged_out }));
    } else {
        println!("{message}");
    }
}
