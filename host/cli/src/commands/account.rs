//! `qhub account export|delete|set-name|connections`: all of your data, out or
//! gone, the name the account shows, and the provider identities linked to it.

use serde_json::json;

use crate::context::Context;
use crate::exit::CliResult;
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
    /// Set the display name shown for your account, or clear it with --clear.
    #[command(group(clap::ArgGroup::new("change").required(true).args(["name", "clear"])))]
    SetName {
        /// The new name (at most 100 characters).
        name: Option<String>,
        /// Remove the display name.
        #[arg(long)]
        clear: bool,
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
            Command::SetName { name, clear: _ } => {
                let backend = ctx.backend().await?;
                let profile = backend.set_display_name(&token, name).await?;
                if ctx.json {
                    output::json(&profile);
                } else {
                    match &profile.display_name {
                        Some(name) => outln!("display name set to {name:?}"),
                        None => outln!("display name cleared"),
                    }
                }
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
                let login = ctx.login()?;
                let email = login.as_ref().map(|l| l.email.clone());
                let what = match &email {
                    Some(email) => format!("delete the account {email} and all of its data"),
                    None => "delete this account and all of its data".to_owned(),
                };
                crate::confirm::confirm(
                    yes,
                    &crate::confirm::Question {
                        what: &what,
                        word: "delete",
                        refusal: "refusing to delete the account without confirmation",
                    },
                )?;
                ctx.backend().await?.delete_account(&token).await?;
                if let Some(login) = &login {
                    let mut config = ctx.home.load_config()?;
                    config.forget(login);
                    ctx.home.save_config(&config)?;
                }
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
