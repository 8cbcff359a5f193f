//! `qhub logout`: revoke this device's session and forget the token.
//!
//! Forgetting never depends on the server: when the session cannot be revoked (the
//! server or database is unreachable, say), the saved login is forgotten anyway
//! with a warning, so a dead server never holds the CLI in remote mode.

use std::io::Write as _;

use serde_json::json;

use crate::context::Context;
use crate::exit::{CliError, CliResult, Exit};
use crate::output;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Log out every device: revoke all of this account's sessions.
    #[arg(long)]
    all: bool,
}

impl Args {
    pub async fn run(self, ctx: &Context) -> CliResult {
        let target = ctx.choice()?.target;
        let mut config = ctx.home.load_config()?;
        let login = config.login_for(&target).cloned();
        let from_env = std::env::var("QHUB_TOKEN").ok().filter(|t| !t.is_empty());
        let Some(token) = from_env
            .clone()
            .or_else(|| login.as_ref().map(|l| l.token.clone()))
        else {
            report(ctx, false, true, "not logged in; nothing to do");
            return Ok(());
        };
        let outcome = match ctx.backend_at(&target).await {
            Ok(backend) if self.all => backend
                .logout_all(&token)
                .await
                .map(Some)
                .map_err(CliError::from),
            Ok(backend) => backend
                .logout(&token)
                .await
                .map(|()| None)
                .map_err(CliError::from),
            Err(err) => Err(err),
        };
        let (ended, revoked) = match outcome {
            Ok(count) => (count, true),
            // Already revoked or expired: the session is over either way, so the
            // local token is just as useless; forget it and succeed.
            Err(err) if err.exit == Exit::NotLoggedIn && !self.all => (None, true),
            // A saved login is forgotten even when its session cannot be ended.
            Err(err) if !self.all && from_env.is_none() => {
                let _ = writeln!(
                    std::io::stderr(),
                    "warning: the session at {} was not revoked: {}\n\
                     hint: it stays valid until it expires; end it later with `qhub sessions revoke` from another login",
                    target.location(&ctx.home),
                    err.message
                );
                (None, false)
            }
            Err(other) => return Err(other),
        };
        if from_env.is_some() {
            report(ctx, true, revoked, "logged out the session of QHUB_TOKEN");
            return Ok(());
        }
        let Some(login) = login else {
            return Ok(());
        };
        let was_active = config.active() == Some(&login);
        config.forget(&login);
        ctx.home.save_config(&config)?;
        let who = if login.email.is_empty() {
            String::new()
        } else {
            format!(" {}", login.email)
        };
        let mut message = match ended {
            Some(count) => format!("logged out{who} everywhere ({count} sessions ended)"),
            None if revoked => format!("logged out{who}"),
            None => format!("forgot the login{who} on this machine"),
        };
        if was_active && let Some(next) = config.active() {
            message.push_str(&format!(
                "\nthe active login is now {} at {}",
                next.email,
                next.target().location(&ctx.home)
            ));
        }
        report(ctx, true, revoked, &message);
        Ok(())
    }
}

fn report(ctx: &Context, logged_out: bool, revoked: bool, message: &str) {
    if ctx.json {
        output::json(&json!({ "logged_out": logged_out, "revoked": revoked && logged_out }));
    } else {
        outln!("{message}");
    }
}
