//! `qhub plugins`: what plugins this qhub runs.

use qhub_runtime::Manifest;
use serde::Serialize;

use crate::context::Context;
use crate::exit::{CliError, CliResult};
use crate::output;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List the plugins: name, version, WIT world and sha256.
    List,
}

#[derive(Debug, Serialize)]
struct PluginJson {
    name: String,
    version: String,
    world: String,
    sha256: String,
    hosts: Vec<String>,
    source: &'static str,
}

impl Command {
    pub fn run(self, ctx: &Context) -> CliResult {
        match self {
            Command::List => list(ctx),
        }
    }
}

fn list(ctx: &Context) -> CliResult {
    let manifests = qhub_bundled::EMBEDDED
        .iter()
        .map(|p| Manifest::parse(p.manifest).map_err(|e| CliError::internal(e.to_string())))
        .collect::<CliResult<Vec<_>>>()?;
    if ctx.json {
        let rows: Vec<PluginJson> = manifests
            .into_iter()
            .map(|m| PluginJson {
                name: m.name,
                version: m.version,
                world: m.world,
                sha256: m.sha256,
                hosts: m.hosts,
                source: "embedded",
            })
            .collect();
        output::json(&rows);
        return Ok(());
    }
    println!("{:<10} {:<8} {:<34} SHA256", "NAME", "VERSION", "WORLD");
    for m in manifests {
        println!(
            "{:<10} {:<8} {:<34} {}",
            m.name, m.version, m.world, m.sha256
        );
    }
    Ok(())
}
