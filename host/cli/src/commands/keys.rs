//! `qhub keys create|list|revoke`: API keys, bearer credentials limited to scopes.

use qhub_api::CreateApiKey;
use serde_json::json;

use crate::context::Context;
use crate::exit::CliResult;
use crate::output;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a key; its secret is shown once. Use it as QHUB_TOKEN or a bearer token.
    Create {
        /// A name to recognise the key by.
        #[arg(long)]
        name: String,
        /// What the key may do (repeatable): account:read, jobs:read, jobs:write,
        /// prefs:read, prefs:write. Default: all of them.
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        /// Lifetime: a number with a unit, s, m, h or d (e.g. 30d). Default: no expiry.
        #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
        expires_in: Option<u64>,
    },
    /// List the keys (never their secrets).
    List,
    /// Revoke a key at once.
    Revoke { id: String },
}

/// `30d` -> seconds. Units: s, m, h, d; a bare number is seconds.
fn parse_duration(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(format!("unknown unit {unit:?}: use s, m, h or d, e.g. 30d")),
    };
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 30d"))?;
    number
        .checked_mul(scale)
        .ok_or_else(|| "that duration is too long".to_owned())
}

impl Command {
    pub async fn run(self, ctx: &Context) -> CliResult {
        let token = ctx.token()?;
        let backend = ctx.backend().await?;
        match self {
            Command::Create {
                name,
                scopes,
                expires_in,
            } => {
                let request = CreateApiKey {
                    name,
                    // No --scope leaves the field out: the core's default.
                    scopes: (!scopes.is_empty()).then_some(scopes),
                    expires_in,
                };
                let created = backend.create_api_key(&token, request).await?;
                if ctx.json {
                    output::json(&created);
                } else {
                    outln!("created key {} ({})", created.key.id, created.key.prefix);
                    outln!("scopes:  {}", created.key.scopes.join(", "));
                    if let Some(expires) = &created.key.expires_at {
                        outln!("expires: {expires}");
                    }
                    outln!(
                        "secret (shown only now; store it safely):\n{}",
                        created.secret
                    );
                }
            }
            Command::List => {
                let keys = backend.list_api_keys(&token).await?;
                if ctx.json {
                    output::json(&keys);
                } else if keys.is_empty() {
                    outln!("no API keys");
                } else {
                    outln!(
                        "{:<36}  {:<13}  {:<16}  {:<20}  SCOPES",
                        "ID",
                        "PREFIX",
                        "NAME",
                        "LAST USED"
                    );
                    for k in keys {
                        let used = k.last_used_at.as_deref().unwrap_or("never");
                        outln!(
                            "{:<36}  {:<13}  {:<16}  {:<20}  {}",
                            k.id,
                            k.prefix,
                            k.name,
                            used,
                            k.scopes.join(",")
                        );
                    }
                }
            }
            Command::Revoke { id } => {
                backend.revoke_api_key(&token, &id).await?;
                if ctx.json {
                    output::json(&json!({ "revoked": id }));
                } else {
                    outln!("revoked key {id}");
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations_parse_with_units() {
        let check = |text: &str, expected: Result<u64, ()>| {
            assert_eq!(parse_duration(text).map_err(|_| ()), expected, "{text}");
        };
        check("30d", Ok(30 * 86_400));
        check("12h", Ok(12 * 3_600));
        check("90m", Ok(5_400));
        check("45s", Ok(45));
        check("3600", Ok(3_600));
        check("2w", Err(()));
        check("d", Err(()));
        check("", Err(()));
    }
}
