//! `qhub sessions list|revoke`: the account's sessions, one per device.

use serde_json::json;

use crate::context::Context;
use crate::exit::{CliError, CliResult, Exit};
use crate::output;
use crate::short_id::{self, Candidate};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List the live sessions, newest first; `*` marks this device's.
    List,
    /// Revoke a session by id, or every other session with --others.
    Revoke(RevokeArgs),
}

#[derive(Debug, clap::Args)]
pub struct RevokeArgs {
    /// The session to revoke (see `qhub sessions list`): its id or a unique start
    /// of it (4 characters or more).
    #[arg(conflicts_with = "others")]
    id: Option<String>,
    /// Revoke every session except this device's.
    #[arg(long)]
    others: bool,
}

impl Command {
    pub async fn run(self, ctx: &Context) -> CliResult {
        let token = ctx.token()?;
        let backend = ctx.backend().await?;
        match self {
            Command::List => {
                let sessions = backend.list_sessions(&token).await?;
                if ctx.json {
                    output::json(&sessions);
                    return Ok(());
                }
                outln!(
                    "{}",
                    output::header(&format!(
                        "  {:<36}  {:<20}  {:<20}  DEVICE",
                        "ID", "CREATED", "LAST SEEN"
                    ))
                );
                for s in sessions {
                    let mark = if s.current { '*' } else { ' ' };
                    let device = s.user_agent.as_deref().unwrap_or("-");
                    let device = match &s.ip {
                        Some(ip) => format!("{device} from {ip}"),
                        None => device.to_owned(),
                    };
                    outln!(
                        "{mark} {:<36}  {:<20}  {:<20}  {device}",
                        s.id,
                        s.created_at,
                        s.last_seen_at
                    );
                }
                Ok(())
            }
            Command::Revoke(RevokeArgs { others: true, .. }) => {
                let revoked = backend.revoke_other_sessions(&token).await?;
                if ctx.json {
                    output::json(&json!({ "revoked": revoked }));
                } else {
                    outln!("revoked {revoked} other sessions");
                }
                Ok(())
            }
            Command::Revoke(RevokeArgs { id: Some(id), .. }) => {
                let candidates: Vec<Candidate> = backend
                    .list_sessions(&token)
                    .await?
                    .into_iter()
                    .map(|s| Candidate {
                        id: s.id,
                        alias: None,
                        label: s.user_agent.unwrap_or_else(|| "-".into()),
                    })
                    .collect();
                let id = short_id::resolve("session", &id, &candidates)?;
                backend.revoke_session(&token, &id).await?;
                if ctx.json {
                    output::json(&json!({ "revoked": 1 }));
                } else {
                    outln!("revoked session {id}");
                }
                Ok(())
            }
            Command::Revoke(_) => Err(CliError::new(
                Exit::Usage,
                "name a session id or pass --others",
            )),
        }
    }
}
