//! `qhub prefs get|set|unset`: per-account preferences with JSON values.

use serde_json::json;

use crate::context::Context;
use crate::exit::{CliError, CliResult, Exit};
use crate::output;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Show all preferences, or the value of one.
    Get { key: Option<String> },
    /// Set a preference to a JSON value: `qhub prefs set editor.theme '"dark"'`.
    Set {
        key: String,
        /// A JSON document: a string needs quotes ('"dark"'); numbers, true/false,
        /// arrays and objects are written as in JSON.
        value: String,
    },
    /// Remove a preference.
    Unset { key: String },
}

impl Command {
    pub async fn run(self, ctx: &Context) -> CliResult {
        let token = ctx.token()?;
        let backend = ctx.backend().await?;
        match self {
            Command::Get { key: None } => {
                let prefs = backend.list_preferences(&token).await?;
                if ctx.json {
                    let map: serde_json::Map<_, _> =
                        prefs.into_iter().map(|p| (p.key, p.value)).collect();
                    output::json(&map);
                } else if prefs.is_empty() {
                    outln!("no preferences set");
                } else {
                    for p in prefs {
                        outln!("{} = {}", p.key, p.value);
                    }
                }
            }
            Command::Get { key: Some(key) } => {
                let prefs = backend.list_preferences(&token).await?;
                let found = prefs.into_iter().find(|p| p.key == key).ok_or_else(|| {
                    CliError::new(Exit::Refused, format!("preference {key:?} is not set"))
                        .with_hint("`qhub prefs get` lists the preferences that are set")
                })?;
                if ctx.json {
                    output::json(&found.value);
                } else {
                    outln!("{}", found.value);
                }
            }
            Command::Set { key, value } => {
                backend
                    .set_preference(&token, &key, &value)
                    .await
                    .map_err(CliError::from)
                    .map_err(|err| {
                        // A bare word is the likeliest slip: say how to write a JSON string.
                        if err.exit == Exit::Refused
                            && err.hint.is_none()
                            && serde_json::from_str::<serde_json::Value>(&value).is_err()
                        {
                            err.with_hint(format!(
                                "values are JSON; for a string write '\"{value}\"'"
                            ))
                        } else {
                            err
                        }
                    })?;
                report(ctx, json!({ "set": key }), &format!("set {key}"));
            }
            Command::Unset { key } => {
                backend.unset_preference(&token, &key).await?;
                report(ctx, json!({ "unset": key }), &format!("unset {key}"));
            }
        }
        Ok(())
    }
}

fn report(ctx: &Context, json: serde_json::Value, text: &str) {
    if ctx.json {
        output::json(&json);
    } else {
        outln!("{text}");
    }
}
