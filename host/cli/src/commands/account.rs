//! `qhub account export|delete|connections`: all of your data, out or gone, and
//! the provider identities linked to the account.

use std::io::{BufRead, IsTerminal};

use serde_json::json;

use crate::context::Context;
use crate::exit::{CliError, CliResult, Exit};
use crate::output;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print everything stored about your account as JSON (no secrets).
    Export,
    /// Delete your account and all of its data, for good.
    Delete {
        /// Do not ask for confirmation (for scripts).
        #[arg(long)]
        yes: bool,
    },
    /// List the provider identities linked to your account, or unlink one.
    Connections {
        #[command(subcommand)]
        command: Option<Connections>,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum Connections {
    /// List the linked identities (the default).
    List,
    /// Unlink an identity by its id (from `qhub account connections`).
    Unlink { id: String },
}

impl Command {
    pub async fn run(self, ctx: &Context) -> CliResult {
        let token = ctx.token()?;
        match self {
            Command::Export => {
                let document = ctx.backend().await?.export_account(&token).await?;
                output::json(&document);
            }
            Command::Connections { command } => {
                let backend = ctx.backend().await?;
                match command.unwrap_or(Connections::List) {
                    Connections::List => {
                        let connections = backend.list_connections(&token).await?;
                        if ctx.json {
                            output::json(&connections);
                        } else if connections.is_empty() {
                            outln!(
                                "no linked identities; link one with `qhub login --provider NAME`"
                            );
                        } else {
                            outln!(
                                "{:<36}  {:<12}  {:<24}  {:<28}  LINKED",
                                "ID",
                                "PROVIDER",
                                "SUBJECT",
                                "EMAIL"
                            );
                            for c in connections {
                                outln!(
                                    "{:<36}  {:<12}  {:<24}  {:<28}  {}",
                                    c.id,
                                    c.provider,
                                    c.subject,
                                    c.email.as_deref().unwrap_or("-"),
                                    c.created_at
                                );
                            }
                        }
                    }
                    Connections::Unlink { id } => {
                        backend.unlink_connection(&token, &id).await?;
                        if ctx.json {
                            output::json(&json!({ "unlinked": id }));
                        } else {
                            outln!("unlinked {id}");
                        }
                    }
                }
            }
            Command::Delete { yes } => {
                let mut config = ctx.home.load_config()?;
                if !yes {
                    confirm(config.email.as_deref().unwrap_or("this account"))?;
                }
                ctx.backend().await?.delete_account(&token).await?;
                config.token = None;
                config.server = None;
                let email = config.email.take();
                ctx.home.save_config(&config)?;
                if ctx.json {
                    output::json(&json!({ "deleted": true }));
                } else {
                    outln!(
                        "deleted {} and all of its data",
                        email.as_deref().unwrap_or("the account")
                    );
                }
            }
        }
        Ok(())
    }
}

/// Asks on the terminal; without one, `--yes` is the only way to confirm.
fn confirm(what: &str) -> CliResult {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::new(
            Exit::Usage,
            "refusing to delete the account without confirmation",
        )
        .with_hint("pass --yes to confirm from a script"));
    }
    out!("Delete {what} and all of its data? This cannot be undone. Type 'delete' to confirm: ");
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| CliError::new(Exit::Usage, format!("cannot read the answer: {e}")))?;
    if answer.trim() != "delete" {
        return Err(CliError::new(Exit::Refused, "not deleted"));
    }
    Ok(())
}
