//! `qhub switch`, like `gh auth switch`: makes another saved login the active one,
//! so commands without `--server` / `--database` go where it is.

use serde_json::json;

use crate::context::Context;
use crate::exit::{CliError, CliResult, Exit};
use crate::output;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Pick the login by --email, by the global --server, --database or \
                        --embedded, or both. With exactly two saved logins and no choice, \
                        switches to the other one."
)]
pub struct Args {
    /// The email of the login to make active.
    #[arg(long)]
    email: Option<String>,
}

impl Args {
    pub fn run(self, ctx: &Context) -> CliResult {
        let mut config = ctx.home.load_config()?;
        let place = ctx.explicit.as_ref().map(|c| c.target.clone());
        let matching: Vec<usize> = config
            .logins
            .iter()
            .enumerate()
            .filter(|(_, l)| place.as_ref().is_none_or(|p| &l.target() == p))
            .filter(|(_, l)| {
                self.email
                    .as_deref()
                    .is_none_or(|e| l.email.eq_ignore_ascii_case(e.trim()))
            })
            .map(|(i, _)| i)
            .collect();
        let chosen = match matching.as_slice() {
            [one] => *one,
            // gh's habit: with two logins and no choice, the other one.
            [_, _] if place.is_none() && self.email.is_none() => 1,
            [] => {
                return Err(CliError::new(Exit::Usage, "no saved login matches")
                    .with_hint("`qhub status` lists the saved logins; `qhub login` adds one"));
            }
            many => {
                let listed: Vec<String> = many
                    .iter()
                    .map(|&i| {
                        let l = &config.logins[i];
                        format!("{} at {}", l.email, l.target().location(&ctx.home))
                    })
                    .collect();
                return Err(CliError::new(
                    Exit::Usage,
                    format!("{} saved logins match: {}", many.len(), listed.join("; ")),
                )
                .with_hint("say which with --email, and --server, --database or --embedded"));
            }
        };
        let login = config.logins.remove(chosen);
        config.logins.insert(0, login.clone());
        ctx.home.save_config(&config)?;
        let target = login.target();
        if ctx.json {
            output::json(&json!({
                "active": {
                    "email": login.email,
                    "kind": target.kind(),
                    "location": target.location(&ctx.home),
                }
            }));
        } else {
            outln!(
                "the active login is now {} at {}",
                login.email,
                target.location(&ctx.home)
            );
        }
        Ok(())
    }
}
