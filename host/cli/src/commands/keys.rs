//! `qhub keys create|list|revoke`: API keys, bearer credentials limited to scopes.

use std::time::{Duration, SystemTime};

use qhub_api::CreateApiKey;
use serde_json::json;

use crate::context::Context;
use crate::exit::{CliError, CliResult, Exit};
use crate::output;
use crate::short_id::{self, Candidate};

/// Examples of `--expires-in`, for its help and its errors.
const DURATION_EXAMPLES: &str = "30d, 12h, 90m or 2w";

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
        /// Lifetime: a number with a unit (e.g. 30d, 12h, 90m, 2w; 1 minute to 366
        /// days). Default: no expiry.
        #[arg(long, value_name = "DURATION")]
        expires_in: Option<String>,
    },
    /// List the keys (never their secrets), with their expiry; expired keys are
    /// marked.
    List,
    /// Revoke a key at once: its id, a unique start of it (4 characters or more),
    /// or its visible prefix (qhk_...).
    Revoke { id: String },
}

/// `30d` -> seconds. A unit is required (`s`, `m`, `h`, `d`, `w`, ..., as
/// humantime reads them, combinable: `1h30m`): a bare `30` once made a key that
/// lived 30 seconds for someone who meant 30 days. The bounds (1 minute to 366
/// days) are the account core's, so every host refuses alike.
fn parse_duration(text: &str) -> CliResult<u64> {
    let text = text.trim();
    let usage = |message: String| {
        CliError::new(Exit::Usage, message).with_hint(format!(
            "give a number with a unit, e.g. --expires-in {DURATION_EXAMPLES}"
        ))
    };
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_digit()) {
        return Err(usage(format!("--expires-in {text} has no unit")));
    }
    humantime::parse_duration(text)
        .map(|duration| duration.as_secs())
        .map_err(|e| usage(format!("--expires-in {text:?} is not a duration: {e}")))
}

/// How `keys list` shows an expiry: `never`, or the RFC 3339 time followed by
/// `(expired)` once it has passed (as the core judges it: at the instant itself).
fn expiry(expires_at: Option<&str>, now: SystemTime) -> String {
    let Some(at) = expires_at else {
        return "never".to_owned();
    };
    match humantime::parse_rfc3339(at) {
        Ok(time) if time <= now => format!("{at} (expired)"),
        Ok(time) => {
            let left = time.duration_since(now).unwrap_or_default();
            format!("{at} (in {})", roughly(left))
        }
        Err(_) => at.to_owned(),
    }
}

/// A duration in its largest whole unit: `29d`, `5h`, `12m`, `40s`.
fn roughly(left: Duration) -> String {
    let seconds = left.as_secs();
    match seconds {
        86_400.. => format!("{}d", seconds / 86_400),
        3_600.. => format!("{}h", seconds / 3_600),
        60.. => format!("{}m", seconds / 60),
        _ => format!("{seconds}s"),
    }
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
                let expires_in = expires_in.as_deref().map(parse_duration).transpose()?;
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
                        "{}",
                        output::header(&format!(
                            "{:<36}  {:<13}  {:<16}  {:<32}  {:<20}  SCOPES",
                            "ID", "PREFIX", "NAME", "EXPIRES", "LAST USED"
                        ))
                    );
                    let now = SystemTime::now();
                    for k in keys {
                        let used = k.last_used_at.as_deref().unwrap_or("never");
                        outln!(
                            "{:<36}  {:<13}  {:<16}  {:<32}  {:<20}  {}",
                            k.id,
                            k.prefix,
                            k.name,
                            expiry(k.expires_at.as_deref(), now),
                            used,
                            k.scopes.join(",")
                        );
                    }
                }
            }
            Command::Revoke { id } => {
                let keys = backend.list_api_keys(&token).await?;
                let candidates: Vec<Candidate> = keys
                    .into_iter()
                    .map(|k| Candidate {
                        id: k.id,
                        alias: Some(k.prefix),
                        label: k.name,
                    })
                    .collect();
                let id = short_id::resolve("key", &id, &candidates)?;
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
    use super::*;

    #[test]
    fn durations_need_a_unit() {
        let check = |text: &str, expected: Result<u64, &str>| match (parse_duration(text), expected)
        {
            (Ok(got), Ok(want)) => assert_eq!(got, want, "{text}"),
            (Err(err), Err(needle)) => {
                assert_eq!(err.exit, Exit::Usage, "{text}");
                assert!(err.message.contains(needle), "{text}: {}", err.message);
                assert!(
                    err.hint.as_deref().is_some_and(|h| h.contains("30d")),
                    "{text}"
                );
            }
            (got, want) => panic!("{text}: got {got:?}, expected {want:?}"),
        };
        check("30d", Ok(30 * 86_400));
        check("12h", Ok(12 * 3_600));
        check("90m", Ok(5_400));
        check("2w", Ok(14 * 86_400));
        check("1h30m", Ok(5_400));
        // Below the core's minimum, but a duration: the core refuses it.
        check("45s", Ok(45));
        check("30", Err("has no unit"));
        check("3600", Err("has no unit"));
        check("2x", Err("is not a duration"));
        check("d", Err("is not a duration"));
        check("", Err("is not a duration"));
    }

    #[test]
    fn expiry_is_marked() {
        let now = humantime::parse_rfc3339("2026-11-26T00:00:00Z").unwrap();
        assert_eq!(expiry(None, now), "never");
        assert_eq!(
            expiry(Some("2026-11-25T23:00:00Z"), now),
            "2026-11-25T23:00:00Z (expired)"
        );
        assert_eq!(
            expiry(Some("2026-11-26T00:00:00Z"), now),
            "2026-11-26T00:00:00Z (expired)"
        );
        assert_eq!(
            expiry(Some("2026-12-26T00:00:00Z"), now),
            "2026-12-26T00:00:00Z (in 30d)"
        );
        assert_eq!(
            expiry(Some("2026-11-26T05:30:00Z"), now),
            "2026-11-26T05:30:00Z (in 5h)"
        );
    }
}
