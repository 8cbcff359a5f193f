//! Building plugin crates for `wasm32-wasip2` and writing their manifests.

use std::fs;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use serde::Deserialize;

use crate::manifest::{Manifest, WIT_PACKAGE, sha256_hex};

/// The target every plugin is built for.
pub(crate) const TARGET: &str = "wasm32-wasip2";

/// The cargo profile the plugins are built with (`[profile.plugin]` in the
/// workspace's `Cargo.toml`: release, with link-time optimisation).
const PROFILE: &str = "plugin";

/// A plugin crate found under `plugins/`, described by its `[package.metadata.qhub]`.
#[derive(Debug, Clone)]
pub struct PluginCrate {
    /// Cargo package name (`qhub-plugin-auth`).
    pub package: String,
    pub version: String,
    /// Plugin name (`auth`).
    pub name: String,
    /// World short name (`account-core`).
    pub world: String,
    pub hosts: Vec<String>,
    /// Whether the `qhub` binary embeds it (test fixtures are not embedded).
    pub embed: bool,
    pub dir: PathBuf,
}

/// A built plugin: its manifest, and where the component and manifest were written.
#[derive(Debug, Clone)]
pub struct Built {
    pub manifest: Manifest,
    pub embed: bool,
    pub wasm: PathBuf,
    pub manifest_path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Metadata { path: PathBuf, message: String },
    #[error("cargo failed to build the plugins ({status})")]
    Cargo { status: std::process::ExitStatus },
    #[error("cannot run cargo: {0}")]
    Spawn(std::io::Error),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> BuildError + '_ {
    move |source| BuildError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[derive(Deserialize)]
struct CargoToml {
    package: Package,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    version: toml::Value,
    metadata: Option<PackageMetadata>,
}

#[derive(Deserialize)]
struct PackageMetadata {
    qhub: Option<QhubMetadata>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QhubMetadata {
    name: String,
    world: String,
    #[serde(default)]
    hosts: Vec<String>,
    #[serde(default = "yes")]
    embed: bool,
}

fn yes() -> bool {
    true
}

/// Finds the plugin crates: every `plugins/*/Cargo.toml` with `[package.metadata.qhub]`.
pub fn discover(workspace_root: &Path) -> Result<Vec<PluginCrate>, BuildError> {
    let plugins_dir = workspace_root.join("plugins");
    let mut dirs: Vec<PathBuf> = fs::read_dir(&plugins_dir)
        .map_err(io_err(&plugins_dir))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|dir| dir.join("Cargo.toml").is_file())
        .collect();
    dirs.sort();
    let workspace_version = workspace_version(workspace_root)?;
    let mut found = Vec::new();
    for dir in dirs {
        let path = dir.join("Cargo.toml");
        let text = fs::read_to_string(&path).map_err(io_err(&path))?;
        let parsed: CargoToml = toml::from_str(&text).map_err(|e| BuildError::Metadata {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let Some(meta) = parsed.package.metadata.and_then(|m| m.qhub) else {
            continue;
        };
        let version = match parsed.package.version {
            toml::Value::String(v) => v,
            _ => workspace_version.clone(),
        };
        found.push(PluginCrate {
            package: parsed.package.name,
            version,
            name: meta.name,
            world: meta.world,
            hosts: meta.hosts,
            embed: meta.embed,
            dir,
        });
    }
    Ok(found)
}

fn workspace_version(root: &Path) -> Result<String, BuildError> {
    let path = root.join("Cargo.toml");
    let text = fs::read_to_string(&path).map_err(io_err(&path))?;
    let value: toml::Table = toml::from_str(&text).map_err(|e| BuildError::Metadata {
        path: path.clone(),
        message: e.to_string(),
    })?;
    value
        .get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(|p| p.get("version"))
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .ok_or_else(|| BuildError::Metadata {
            path,
            message: "no [workspace.package] version".into(),
        })
}

/// Builds `plugins` with the `plugin` profile (release, LTO) for `wasm32-wasip2` into `target_dir`, then writes
/// `NAME.wasm` and `NAME.plugin.toml` for each into `out_dir`.
///
/// `cargo` is the cargo binary to run (a build script passes its `CARGO`). The child
/// gets a clean environment: variables that cargo sets for a build script (or that
/// `cargo clippy` sets for the outer build) would otherwise leak into this build.
pub fn build(
    workspace_root: &Path,
    cargo: &Path,
    target_dir: &Path,
    out_dir: &Path,
    plugins: &[PluginCrate],
) -> Result<Vec<Built>, BuildError> {
    build_reporting(workspace_root, cargo, target_dir, out_dir, plugins, None)
}

/// A crate that cargo finished compiling, reported by [`build_reporting`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compiled<'a> {
    /// The crate's target name (`argon2`, `qhub_plugin_auth`).
    pub krate: &'a str,
    /// The plugin's name (`auth`) when the crate is one of the plugins built.
    pub plugin: Option<&'a str>,
}

/// [`build`], calling `progress` (when given) as each crate is compiled, for a
/// progress display. Cargo then prints only diagnostics (`--quiet`, with
/// `--message-format=json-render-diagnostics`), so its own status lines do not
/// fight the caller's display; without `progress` its output is left as it is.
pub fn build_reporting(
    workspace_root: &Path,
    cargo: &Path,
    target_dir: &Path,
    out_dir: &Path,
    plugins: &[PluginCrate],
    progress: Option<&mut dyn FnMut(Compiled<'_>)>,
) -> Result<Vec<Built>, BuildError> {
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root)
        .args([
            "build",
            "--profile",
            PROFILE,
            "--target",
            TARGET,
            "--target-dir",
        ])
        .arg(target_dir);
    for plugin in plugins {
        cmd.args(["--package", &plugin.package]);
    }
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if leaks_into_child(key) {
            cmd.env_remove(key);
        }
    }
    let status = match progress {
        Some(progress) => run_reporting(&mut cmd, plugins, progress),
        None => cmd.status(),
    }
    .map_err(BuildError::Spawn)?;
    if !status.success() {
        return Err(BuildError::Cargo { status });
    }

    fs::create_dir_all(out_dir).map_err(io_err(out_dir))?;
    let artifacts = target_dir.join(TARGET).join(PROFILE);
    let mut built = Vec::new();
    for plugin in plugins {
        let produced = artifacts.join(format!("{}.wasm", plugin.package.replace('-', "_")));
        let bytes = fs::read(&produced).map_err(io_err(&produced))?;
        let manifest = Manifest {
            name: plugin.name.clone(),
            version: plugin.version.clone(),
            world: qualified_world(&plugin.world),
            sha256: sha256_hex(&bytes),
            hosts: plugin.hosts.clone(),
        };
        let wasm = out_dir.join(format!("{}.wasm", plugin.name));
        let manifest_path = out_dir.join(format!("{}.plugin.toml", plugin.name));
        write_if_changed(&wasm, &bytes)?;
        write_if_changed(&manifest_path, manifest.to_toml().as_bytes())?;
        built.push(Built {
            manifest,
            embed: plugin.embed,
            wasm,
            manifest_path,
        });
    }
    Ok(built)
}

/// One line of cargo's `--message-format=json` output; only what progress needs.
#[derive(Deserialize)]
struct CargoMessage {
    reason: String,
    target: Option<CargoTarget>,
}

#[derive(Deserialize)]
struct CargoTarget {
    name: String,
}

/// Runs cargo with JSON messages on stdout and reports each compiled crate.
fn run_reporting(
    cmd: &mut Command,
    plugins: &[PluginCrate],
    progress: &mut dyn FnMut(Compiled<'_>),
) -> std::io::Result<ExitStatus> {
    cmd.args(["--quiet", "--message-format=json-render-diagnostics"])
        .stdout(Stdio::piped());
    let mut child = cmd.spawn()?;
    let stdout = child.stdout.take().expect("stdout is piped");
    for line in std::io::BufReader::new(stdout).lines() {
        if let Some(compiled) = compiled_crate(&line?) {
            let plugin = plugins
                .iter()
                .find(|p| p.package.replace('-', "_") == compiled)
                .map(|p| p.name.as_str());
            progress(Compiled {
                krate: &compiled,
                plugin,
            });
        }
    }
    child.wait()
}

/// The crate a `compiler-artifact` message is about; `None` for other lines.
fn compiled_crate(line: &str) -> Option<String> {
    let message: CargoMessage = serde_json::from_str(line).ok()?;
    (message.reason == "compiler-artifact")
        .then_some(message.target?.name)
        .filter(|name| name != "build-script-build")
}

/// `store-backend` -> `qhub:plugin/store-backend@0.1.0`: a short name is a world of
/// the internal package. A qualified world, such as the public
/// `qhub:provider/oauth-provider-plugin@0.1.0`, is kept as it is.
fn qualified_world(world: &str) -> String {
    if world.contains(':') {
        return world.to_owned();
    }
    let (package, version) = WIT_PACKAGE.split_once('@').unwrap_or((WIT_PACKAGE, ""));
    format!("{package}/{world}@{version}")
}

/// Variables a parent cargo sets for build scripts, wrappers or `cargo run` that
/// must not reach a nested, independent cargo build: besides changing what it
/// builds, they would make build scripts that watch them (ring's watches
/// `CARGO_PKG_NAME`) run again, and so rebuild their dependents, on every switch
/// between a nested and a plain build. The jobserver (`CARGO_MAKEFLAGS`) is kept so
/// the nested build shares the parent's job slots instead of oversubscribing.
pub fn leaks_into_child(key: &str) -> bool {
    const KEEP: &[&str] = &["CARGO_HOME", "CARGO_MAKEFLAGS"];
    const KEEP_PREFIXES: &[&str] = &[
        "CARGO_REGISTRIES_",
        "CARGO_NET_",
        "CARGO_HTTP_",
        "CARGO_TERM_",
    ];
    const DROP: &[&str] = &[
        "RUSTC",
        "RUSTDOC",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_LINKER",
        "RUSTFLAGS",
        "TARGET",
        "HOST",
        "OUT_DIR",
        "PROFILE",
        "OPT_LEVEL",
        "DEBUG",
        "NUM_JOBS",
    ];
    if KEEP.contains(&key) || KEEP_PREFIXES.iter().any(|p| key.starts_with(p)) {
        return false;
    }
    key.starts_with("CARGO_") || DROP.contains(&key)
}

/// Leaves the file (and its mtime) alone when the content is the same, so builds
/// that depend on it are not redone for nothing.
fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<(), BuildError> {
    if fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    fs::write(path, bytes).map_err(io_err(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiled_crates_are_read_from_cargo_messages() {
        let artifact = r#"{"reason":"compiler-artifact","package_id":"x","target":{"kind":["cdylib"],"name":"qhub_plugin_auth"},"fresh":false}"#;
        assert_eq!(
            compiled_crate(artifact).as_deref(),
            Some("qhub_plugin_auth")
        );
        let script = r#"{"reason":"compiler-artifact","target":{"name":"build-script-build"}}"#;
        assert_eq!(compiled_crate(script), None);
        let finished = r#"{"reason":"build-finished","success":true}"#;
        assert_eq!(compiled_crate(finished), None);
        assert_eq!(compiled_crate("not json"), None);
    }

    #[test]
    fn world_is_qualified_with_package_and_version() {
        assert_eq!(
            qualified_world("store-backend"),
            "qhub:plugin/store-backend@0.1.0"
        );
        assert_eq!(
            qualified_world("qhub:provider/oauth-provider-plugin@0.1.0"),
            "qhub:provider/oauth-provider-plugin@0.1.0"
        );
    }

    #[test]
    fn build_script_variables_do_not_leak() {
        for key in [
            "CARGO_PKG_NAME",
            "CARGO_ENCODED_RUSTFLAGS",
            "RUSTC_WORKSPACE_WRAPPER",
            "OUT_DIR",
            "TARGET",
        ] {
            assert!(leaks_into_child(key), "{key} should be removed");
        }
        for key in [
            "CARGO_HOME",
            "CARGO_MAKEFLAGS",
            "CARGO_NET_OFFLINE",
            "PATH",
            "RUSTUP_TOOLCHAIN",
        ] {
            assert!(!leaks_into_child(key), "{key} should be kept");
        }
    }

    #[test]
    fn discovers_the_first_party_plugins() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let found = discover(&root).unwrap();
        let auth = found
            .iter()
            .find(|p| p.name == "auth")
            .expect("auth plugin");
        assert_eq!(auth.world, "account-core");
        assert!(auth.embed);
        let hang = found
            .iter()
            .find(|p| p.name == "test-hang")
            .expect("test fixture");
        assert!(!hang.embed);
    }
}
