//! `qhub plugins`: what plugins this qhub runs (embedded in the binary or installed
//! in `QHUB_HOME/plugins`, or run by a server), what each may reach, and
//! installing and removing plugins.
//!
//! The catalogue itself (which plugins there are, installing and removing them,
//! and the providers built over them) is the host wiring's: see
//! `qhub_host::Host`. This module only parses the arguments and prints.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use qhub_host::Entry;
use qhub_runtime::providers::ProviderConfig;
use qhub_runtime::{Allocation, AllowList, Runtime};
use serde::Serialize;

use crate::context::Context;
use crate::exit::{CliError, CliResult};
use crate::output;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List the plugins, embedded and installed: name, version, WIT world, source
    /// and sha256. In remote mode (--server, QHUB_SERVER, or logged in to a
    /// server), the plugins that server runs, from its GET /v1/plugins.
    List,
    /// Show one plugin: its manifest, the hosts it requests, and the hosts granted
    /// to it by the providers in providers.toml that use it.
    Inspect(InspectArgs),
    /// Install a plugin into QHUB_HOME/plugins.
    ///
    /// PATH is a NAME.wasm with its NAME.plugin.toml beside it (as `cargo xtask
    /// build-plugins` writes them), or that .plugin.toml. The component must match
    /// the manifest's sha256 and fit its world (oauth-provider-plugin or
    /// store-backend); it is compiled once into the cache. The names of the plugins
    /// embedded in qhub are reserved.
    Install(InstallArgs),
    /// Remove a plugin installed into QHUB_HOME/plugins (embedded plugins are part
    /// of qhub and cannot be removed).
    Remove(RemoveArgs),
}

#[derive(Debug, clap::Args)]
pub struct RemoveArgs {
    /// The installed plugin's name, as `qhub plugins list` shows it.
    name: String,
}

#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// The plugin's name, as `qhub plugins list` shows it.
    name: String,
}

#[derive(Debug, clap::Args)]
pub struct InstallArgs {
    /// NAME.wasm (with NAME.plugin.toml beside it) or NAME.plugin.toml.
    path: PathBuf,
    /// Replace an installed plugin of the same name (an embedded plugin is never
    /// replaced).
    #[arg(long)]
    force: bool,
}

impl Command {
    pub async fn run(self, ctx: &Context) -> CliResult {
        if let Command::List = self
            && let Some(server) = ctx.remote_server()?
        {
            return list_remote(ctx, &server).await;
        }
        // QHUB_HOME holds the plugins: one that other users may change is refused
        // before any plugin in it is read, installed or removed.
        ctx.home.check()?;
        match self {
            Command::List => list(ctx),
            Command::Inspect(args) => inspect(ctx, &args.name),
            Command::Install(args) => install(ctx, &args.path, args.force),
            Command::Remove(args) => remove(ctx, &args.name),
        }
    }
}

/// A runtime for commands that load plugins here, caching compiled code in QHUB_HOME.
fn runtime(ctx: &Context) -> CliResult<Arc<Runtime>> {
    ctx.home.ensure()?;
    Ok(ctx.host().runtime(Allocation::OnDemand)?)
}

#[derive(Debug, Serialize)]
struct PluginJson {
    name: String,
    version: String,
    world: String,
    sha256: String,
    hosts: Vec<String>,
    /// `embedded`, `installed`, or `server` (remote mode).
    source: &'static str,
    /// The server's URL, for source `server` (remote mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    server: Option<String>,
}

impl From<&Entry> for PluginJson {
    fn from(entry: &Entry) -> Self {
        let m = &entry.manifest;
        PluginJson {
            name: m.name.clone(),
            version: m.version.clone(),
            world: m.world.clone(),
            sha256: m.sha256.clone(),
            hosts: m.hosts.clone(),
            source: entry.source.as_str(),
            server: None,
        }
    }
}

fn list(ctx: &Context) -> CliResult {
    let entries = ctx.host().catalog()?;
    if ctx.json {
        let rows: Vec<PluginJson> = entries.iter().map(PluginJson::from).collect();
        output::json(&rows);
        return Ok(());
    }
    let rows: Vec<PluginJson> = entries.iter().map(PluginJson::from).collect();
    print_table(&rows);
    Ok(())
}

/// `plugins list` in remote mode: what the server answers at `GET /v1/plugins`,
/// each row with source `server` and the server's URL (a header line in text).
async fn list_remote(ctx: &Context, server: &str) -> CliResult {
    let client = qhub_client::Client::new(server, &crate::backend::user_agent())?;
    let server = client.base().trim_end_matches('/').to_owned();
    let rows: Vec<PluginJson> = client
        .plugins()
        .await?
        .into_iter()
        .map(|p| PluginJson {
            name: p.name,
            version: p.version,
            world: p.world,
            sha256: p.sha256,
            hosts: Vec::new(),
            source: "server",
            server: Some(server.clone()),
        })
        .collect();
    if ctx.json {
        output::json(&rows);
        return Ok(());
    }
    outln!("plugins of the server at {server} (GET /v1/plugins):");
    print_table(&rows);
    Ok(())
}

fn print_table(rows: &[PluginJson]) {
    outln!(
        "{}",
        output::header(&format!(
            "{:<16} {:<8} {:<41} {:<9} SHA256",
            "NAME", "VERSION", "WORLD", "SOURCE"
        ))
    );
    for p in rows {
        outln!(
            "{:<16} {:<8} {:<41} {:<9} {}",
            p.name,
            p.version,
            p.world,
            p.source,
            p.sha256
        );
    }
}

/// Removes an installed plugin (`qhub_host::Host::remove` says what is refused).
fn remove(ctx: &Context, name: &str) -> CliResult {
    let version = ctx.host().remove(name)?;
    if ctx.json {
        output::json(&serde_json::json!({ "removed": name }));
    } else {
        let version = version.map(|v| format!(" {v}")).unwrap_or_default();
        outln!(
            "removed plugin {name}{version} from {}",
            ctx.home.plugins_dir().display()
        );
    }
    Ok(())
}

/// What one provider of providers.toml grants a plugin.
#[derive(Debug, Serialize)]
struct ProviderGrantJson {
    /// The provider's name (`[providers.NAME]`).
    name: String,
    /// manifest ∩ grant: what the plugin may reach for this provider.
    granted: Vec<String>,
    /// Granted but not requested by the manifest, so unreachable.
    not_requested: Vec<String>,
}

#[derive(Debug, Serialize)]
struct InspectJson {
    #[serde(flatten)]
    plugin: PluginJson,
    /// The installed component; absent for an embedded plugin.
    path: Option<PathBuf>,
    /// Every origin some provider grants it (the union over `providers`).
    granted: Vec<String>,
    providers: Vec<ProviderGrantJson>,
}

fn inspect(ctx: &Context, name: &str) -> CliResult {
    let entry = ctx.host().find(name)?;
    let host = ctx.host();
    let config = host.providers()?;
    let mut grants = Vec::new();
    // Each provider is built as a host would build it, so inspect also proves that
    // the component still matches its manifest and that the provider can be wired.
    // An installed component is loaded too (verified against its manifest), so a
    // file that went missing or changed since it was installed is reported here.
    let users: Vec<&ProviderConfig> = config.using(name).collect();
    if !users.is_empty() || entry.path().is_some() {
        let runtime = runtime(ctx)?;
        entry.load(&runtime)?;
        for provider in &users {
            host.build_service(runtime.clone(), provider)?;
        }
    }
    for provider in users {
        let allow = AllowList::new(&entry.manifest.hosts, &provider.grant).map_err(|e| {
            CliError::internal(format!(
                "plugin {:?} {}: cannot apply the grant of provider {:?}: {e}",
                entry.manifest.name, entry.manifest.version, provider.name
            ))
        })?;
        grants.push(ProviderGrantJson {
            name: provider.name.clone(),
            granted: allow.allowed().map(ToString::to_string).collect(),
            not_requested: allow.ignored().iter().map(ToString::to_string).collect(),
        });
    }
    let mut granted: Vec<String> = grants.iter().flat_map(|g| g.granted.clone()).collect();
    granted.sort();
    granted.dedup();
    let report = InspectJson {
        plugin: PluginJson::from(&entry),
        path: entry.path().map(Path::to_path_buf),
        granted,
        providers: grants,
    };
    if ctx.json {
        output::json(&report);
        return Ok(());
    }
    print_inspect(&report, config.path.as_deref());
    Ok(())
}

fn print_inspect(report: &InspectJson, providers_file: Option<&Path>) {
    let p = &report.plugin;
    let source = match &report.path {
        Some(path) => format!("installed ({})", path.display()),
        None => "embedded".to_owned(),
    };
    outln!("name       {}", p.name);
    outln!("version    {}", p.version);
    outln!("world      {}", p.world);
    outln!("source     {source}");
    outln!("sha256     {}", p.sha256);
    print_list("requests", p.hosts.iter().map(String::as_str), "(no hosts)");
    let granted: Vec<String> = report
        .providers
        .iter()
        .flat_map(|g| {
            g.granted
                .iter()
                .map(move |origin| format!("{origin}  (provider {})", g.name))
        })
        .collect();
    let none = match (report.providers.is_empty(), providers_file) {
        (true, Some(file)) => format!("(none: no provider in {} uses it)", file.display()),
        (true, None) => "(none: no providers.toml; see README, OAuth providers)".to_owned(),
        (false, _) => "(none: an empty grant denies every request)".to_owned(),
    };
    print_list("granted", granted.iter().map(String::as_str), &none);
    let ignored: Vec<String> = report
        .providers
        .iter()
        .flat_map(|g| {
            g.not_requested.iter().map(move |origin| {
                format!(
                    "{origin}  (provider {}: not requested by the manifest)",
                    g.name
                )
            })
        })
        .collect();
    if !ignored.is_empty() {
        print_list("ignored", ignored.iter().map(String::as_str), "");
    }
}

/// `label     first` then the rest aligned under it, or `label     none`.
fn print_list<'a>(label: &str, items: impl Iterator<Item = &'a str>, none: &str) {
    let mut label = label;
    let mut any = false;
    for item in items {
        outln!("{label:<10} {item}");
        label = "";
        any = true;
    }
    if !any {
        outln!("{label:<10} {none}");
    }
}

/// Installs a plugin (`qhub_host::Host::install` says what it checks).
fn install(ctx: &Context, path: &Path, force: bool) -> CliResult {
    let entry = ctx.host().install(path, force)?;
    let manifest = &entry.manifest;
    let dir = ctx.home.plugins_dir();
    // The manifest names the plugin, whatever its files were called: say so when
    // they differ, since `--force` replaces by that name.
    let (wasm, _) = qhub_host::plugin_files(path)?;
    let stem = wasm
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    if stem != manifest.name {
        eprintln!(
            "note: {} is installed as {:?}, the name its manifest gives",
            crate::output::terminal_safe(&wasm.display().to_string()),
            manifest.name
        );
    }
    if ctx.json {
        output::json(&PluginJson::from(&entry));
        return Ok(());
    }
    outln!(
        "installed {} {} ({}) into {}",
        manifest.name,
        manifest.version,
        manifest.world,
        dir.display()
    );
    if !manifest.hosts.is_empty() {
        outln!(
            "it requests {}; grant what it may reach in providers.toml (`qhub plugins inspect {}`)",
            manifest.hosts.join(", "),
            manifest.name
        );
    }
    Ok(())
}
