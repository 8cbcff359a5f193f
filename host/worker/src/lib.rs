//! Builds the Cloudflare Worker bundle: the very component files the native host
//! loads, transpiled by jco into core modules plus JavaScript, beside the glue in
//! `host/worker/js` and a generated `plugins.js` that imports the core modules
//! statically (Workers forbid compiling WebAssembly at run time).
//!
//! Used by `cargo xtask build-worker` and by the end-to-end tests, so there is one
//! way to build the Worker; [`dev`] runs it under `wrangler dev` for both. The build refuses a component whose bytes do not hash
//! to its manifest's sha256, and reports the hashes it bundled.

pub mod dev;
mod npm;
mod wit;

pub use npm::{NpmError, ensure_packages};

use std::path::{Path, PathBuf};
use std::process::Command;

use qhub_plugin_build::{Manifest, sha256_hex};
use serde::Serialize;

/// The plugins the Worker runs: the core, then its backend, the order
/// `GET /v1/plugins` lists them in on every host (the provider plugins after them).
pub const PLUGINS: &[&str] = &["auth", "store-d1"];

/// The OAuth provider plugins the Worker can run for a provider the operator
/// configures (`QHUB_PROVIDERS`), the ones the native host embeds. `GET
/// /v1/plugins` lists them after the core and its backend, on either host.
pub const PROVIDER_PLUGINS: &[&str] = &["oauth-oidc", "oauth-github"];

/// The component that gives provider plugins their `http` in the Worker, with the
/// native host's rules (qhub-provider-policy, which native hosts link instead). It
/// is part of this host, like the native host's `http` import, so `GET /v1/plugins`
/// does not list it.
pub const PROVIDER_GATEWAY: &str = "provider-gateway";

/// Why the Worker could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Manifest {
        path: PathBuf,
        source: qhub_plugin_build::ManifestError,
    },
    #[error("plugin {name:?}: component sha256 {actual} does not match its manifest's {expected}")]
    Digest {
        name: String,
        actual: String,
        expected: String,
    },
    #[error(
        "jco is not installed (no {0})\nhint: run `npm ci` at the repository root (Node.js 20 or later)"
    )]
    NoJco(PathBuf),
    #[error("cannot run node: {0}\nhint: install Node.js 20 or later")]
    NoNode(std::io::Error),
    #[error("jco failed to transpile plugin {name:?} ({status}):\n{stderr}")]
    Transpile {
        name: String,
        status: std::process::ExitStatus,
        stderr: String,
    },
    #[error("cannot read the WIT package in {path}: {reason}")]
    Wit { path: PathBuf, reason: String },
    #[error(transparent)]
    Npm(#[from] NpmError),
}

/// One plugin in the bundle.
#[derive(Debug, Clone, Serialize)]
pub struct BundledPlugin {
    pub name: String,
    pub version: String,
    /// `"name" version`, as messages name the plugin on every host.
    pub label: String,
    pub world: String,
    /// SHA-256 of the component file that was transpiled: the same bytes, and so
    /// the same hash, as the native host loads.
    pub sha256: String,
    /// The origins its manifest requests (provider plugins): the Worker's `http`
    /// import enforces them as the native host does.
    pub hosts: Vec<String>,
    /// An OAuth provider plugin, instantiated per configured provider rather than
    /// wired into the account core.
    pub provider: bool,
    /// The core modules jco produced, with their sizes in bytes.
    pub core_modules: Vec<(String, u64)>,
}

/// What a build produced (also written to `bundle.json` in the output directory).
#[derive(Debug, Clone, Serialize)]
pub struct Bundle {
    /// The Worker's entry module (`index.js`).
    pub main: PathBuf,
    pub plugins: Vec<BundledPlugin>,
}

/// Builds the Worker from the components in `dist` (NAME.wasm + NAME.plugin.toml,
/// as `cargo xtask build-plugins` writes them) into `out`. `root` is the repository
/// root: the JS glue, the WIT files and `node_modules` are read there.
pub fn build(root: &Path, dist: &Path, out: &Path) -> Result<Bundle, BuildError> {
    build_reporting(root, dist, out, &mut |_| {})
}

/// A plugin about to be transpiled, reported by [`build_reporting`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transpiling<'a> {
    pub name: &'a str,
    /// 1 for the first plugin.
    pub index: usize,
    /// How many plugins the Worker bundles.
    pub total: usize,
}

/// [`build`], calling `progress` before each plugin is transpiled (a few seconds
/// each), for a progress display.
pub fn build_reporting(
    root: &Path,
    dist: &Path,
    out: &Path,
    progress: &mut dyn FnMut(Transpiling<'_>),
) -> Result<Bundle, BuildError> {
    ensure_packages(root)?;
    let jco = root.join("node_modules/@bytecodealliance/jco/dist/jco.js");
    if !jco.is_file() {
        return Err(BuildError::NoJco(jco));
    }
    let gen_dir = out.join("gen");
    if gen_dir.exists() {
        std::fs::remove_dir_all(&gen_dir).map_err(|source| BuildError::Write {
            path: gen_dir.clone(),
            source,
        })?;
    }
    let wit_dir = root.join("wit");
    let mut plugins = Vec::new();
    let total = PLUGINS.len() + PROVIDER_PLUGINS.len() + 1;
    for (index, (name, provider)) in PLUGINS
        .iter()
        .map(|n| (n, false))
        .chain(PROVIDER_PLUGINS.iter().map(|n| (n, true)))
        .chain([(&PROVIDER_GATEWAY, false)])
        .enumerate()
    {
        progress(Transpiling {
            name,
            index: index + 1,
            total,
        });
        let manifest = read_manifest(dist, name)?;
        let component = dist.join(format!("{name}.wasm"));
        let bytes = read(&component)?;
        let actual = sha256_hex(&bytes);
        if actual != manifest.sha256 {
            return Err(BuildError::Digest {
                name: manifest.name,
                actual,
                expected: manifest.sha256,
            });
        }
        let (imports, exports) = wit::async_functions(&wit_dir, &manifest.world)?;
        let target = gen_dir.join(name);
        transpile(&jco, name, &component, &target, &imports, &exports)?;
        plugins.push(BundledPlugin {
            label: manifest.label(),
            name: manifest.name.clone(),
            version: manifest.version.clone(),
            world: manifest.world.clone(),
            sha256: actual,
            hosts: manifest.hosts.clone(),
            provider,
            core_modules: core_modules(&target)?,
        });
    }
    copy_glue(&root.join("host/worker/js"), out)?;
    write(&out.join("plugins.js"), plugins_js(&plugins))?;
    let bundle = Bundle {
        main: out.join("index.js"),
        plugins,
    };
    let report = serde_json::to_string_pretty(&bundle).expect("a bundle always serialises");
    write(&out.join("bundle.json"), report)?;
    Ok(bundle)
}

fn read(path: &Path) -> Result<Vec<u8>, BuildError> {
    std::fs::read(path).map_err(|source| BuildError::Read {
        path: path.to_owned(),
        source,
    })
}

fn write(path: &Path, contents: impl AsRef<[u8]>) -> Result<(), BuildError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| BuildError::Write {
            path: parent.to_owned(),
            source,
        })?;
    }
    std::fs::write(path, contents).map_err(|source| BuildError::Write {
        path: path.to_owned(),
        source,
    })
}

fn read_manifest(dist: &Path, name: &str) -> Result<Manifest, BuildError> {
    let path = dist.join(format!("{name}.plugin.toml"));
    let text = read(&path)?;
    Manifest::parse(&String::from_utf8_lossy(&text))
        .map_err(|source| BuildError::Manifest { path, source })
}

/// Runs `jco transpile` with JSPI: the functions in `imports` may return promises
/// (D1 is asynchronous, and so is a backend whose own import is), and the functions
/// in `exports` then return promises too.
fn transpile(
    jco: &Path,
    name: &str,
    component: &Path,
    target: &Path,
    imports: &[String],
    exports: &[String],
) -> Result<(), BuildError> {
    let mut command = Command::new("node");
    command
        .arg(jco)
        .arg("transpile")
        .arg(component)
        .arg("--out-dir")
        .arg(target)
        .args(["--name", name])
        .args(["--instantiation", "async"])
        .args(["--async-mode", "jspi"])
        // Workers are not Node.js: the glue must not reach for `node:fs`.
        .args(["--no-typescript", "--no-nodejs-compat", "--quiet"])
        .arg("--async-imports")
        .args(imports)
        .arg("--async-exports")
        .args(exports);
    let output = command.output().map_err(BuildError::NoNode)?;
    if !output.status.success() {
        return Err(BuildError::Transpile {
            name: name.to_owned(),
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    Ok(())
}

/// The core modules of a transpiled component, sorted by name.
fn core_modules(dir: &Path) -> Result<Vec<(String, u64)>, BuildError> {
    let entries = std::fs::read_dir(dir).map_err(|source| BuildError::Read {
        path: dir.to_owned(),
        source,
    })?;
    let mut modules = Vec::new();
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        if file.ends_with(".wasm") {
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            modules.push((file, size));
        }
    }
    modules.sort();
    Ok(modules)
}

/// Copies the glue (`*.js`) next to the generated code.
fn copy_glue(from: &Path, out: &Path) -> Result<(), BuildError> {
    let entries = std::fs::read_dir(from).map_err(|source| BuildError::Read {
        path: from.to_owned(),
        source,
    })?;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        // The glue's own tests (`*.test.js`) stay out of the bundle.
        if name.ends_with(".js") && !name.ends_with(".test.js") {
            let target = out.join(entry.file_name());
            write(&target, read(&path)?)?;
        }
    }
    Ok(())
}

/// The name a plugin has in `plugins.js` (`storeD1` for `store-d1`).
fn js_key(name: &str) -> String {
    let mut key = String::new();
    let mut upper = false;
    for c in name.chars() {
        match c {
            '-' | '_' => upper = true,
            c if upper => {
                key.extend(c.to_uppercase());
                upper = false;
            }
            c => key.push(c),
        }
    }
    key
}

/// `plugins.js`: each plugin's manifest, its `instantiate`, and its core modules
/// imported statically, keyed by the file names jco asks `getCoreModule` for. The
/// core and its backend are `PLUGINS` (by `js_key`); provider plugins are
/// `PROVIDER_PLUGINS`, by their plugin name, as the operator's configuration names
/// them.
fn plugins_js(plugins: &[BundledPlugin]) -> String {
    let mut imports = String::new();
    let mut entries = String::new();
    let mut providers = String::new();
    let mut gateway = String::from("undefined");
    for plugin in plugins {
        let name = &plugin.name;
        let key = js_key(name);
        imports.push_str(&format!(
            "import {{ instantiate as {key}Instantiate }} from './gen/{name}/{name}.js';\n"
        ));
        let mut modules = String::new();
        for (index, (file, _)) in plugin.core_modules.iter().enumerate() {
            imports.push_str(&format!(
                "import {key}Module{index} from './gen/{name}/{file}';\n"
            ));
            modules.push_str(&format!("{file:?}: {key}Module{index}, "));
        }
        let manifest = serde_json::json!({
            "name": plugin.name,
            "version": plugin.version,
            "world": plugin.world,
            "sha256": plugin.sha256,
            "hosts": plugin.hosts,
            "label": plugin.label,
        });
        let entry = format!(
            "{{\n    manifest: {manifest},\n    instantiate: {key}Instantiate,\n    modules: {{ {modules}}},\n  }},\n"
        );
        if plugin.provider {
            providers.push_str(&format!("  {name:?}: {entry}"));
        } else if name == PROVIDER_GATEWAY {
            gateway = entry.trim_end().trim_end_matches(',').to_owned();
        } else {
            entries.push_str(&format!("  {key}: {entry}"));
        }
    }
    format!(
        "// Generated by `cargo xtask build-worker`: do not edit.\n{imports}\n\
         /** The plugins this Worker runs, in wiring order. */\n\
         export const PLUGINS = {{\n{entries}}};\n\n\
         /** The OAuth provider plugins, by name (listed by `GET /v1/plugins` after `PLUGINS`). */\n\
         export const PROVIDER_PLUGINS = {{\n{providers}}};\n\n\
         /** The provider gateway: the `http` of provider plugins, with the native host's rules. */\n\
         export const PROVIDER_GATEWAY = {gateway};\n\n\
         /** The account core's configuration keys and rules (`qhub_api::core_config`). */\n\
         export const CORE_CONFIG = {};\n",
        core_config_js()
    )
}

/// `qhub_api::core_config` as a JSON object, so the Worker fills the core's
/// configuration from the same list as `qhub serve`.
fn core_config_js() -> serde_json::Value {
    use qhub_api::core_config as c;
    serde_json::json!({
        "jwtSecret": c::JWT_SECRET,
        "issuer": c::ISSUER,
        "minJwtSecretBytes": c::MIN_JWT_SECRET_BYTES,
        "serverIssuer": c::SERVER_ISSUER,
        "fromEnvironment": c::FROM_ENVIRONMENT,
        "settingsHint": c::settings_hint(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The glue's JavaScript tests (`host/worker/js/*.test.js`), under Node's own
    /// test runner, as part of the Rust suite so that CI runs them.
    #[test]
    fn the_glue_passes_its_javascript_tests() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let out = Command::new("node")
            .args(["--test", "host/worker/js/"])
            .current_dir(&root)
            .output()
            .expect("node runs the glue's tests (install Node.js 20 or later)");
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && report.contains("# pass") && !report.contains("# pass 0"),
            "the Worker glue's JavaScript tests failed:\n{report}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn plugins_js_imports_every_core_module_statically() {
        let plugin = |name: &str| BundledPlugin {
            label: format!("{name:?} 0.1.0"),
            name: name.into(),
            version: "0.1.0".into(),
            world: "qhub:plugin/x@0.1.0".into(),
            sha256: "ab".repeat(32),
            hosts: Vec::new(),
            provider: name.starts_with("oauth-"),
            core_modules: vec![(format!("{name}.core.wasm"), 10)],
        };
        let mut oidc = plugin("oauth-oidc");
        oidc.hosts = vec!["https://*:443".into()];
        let js = plugins_js(&[
            plugin("auth"),
            plugin("store-d1"),
            oidc,
            plugin("provider-gateway"),
        ]);
        assert_eq!(js_key("store-d1"), "storeD1");
        assert!(
            js.contains(r#""fromEnvironment":[["QHUB_QUOTA_MONTHLY_JOBS","quota-monthly-jobs"]"#),
            "{js}"
        );
        assert!(js.contains("import storeD1Module0 from './gen/store-d1/store-d1.core.wasm';"));
        assert!(
            js.contains("import { instantiate as authInstantiate } from './gen/auth/auth.js';")
        );
        assert!(js.contains("\"auth.core.wasm\": authModule0"));
        assert!(js.contains(&format!("\"sha256\":\"{}\"", "ab".repeat(32))));
        // Providers are kept apart from the core and its backend, which are wired
        // once; providers are instantiated per configured provider.
        let (core, providers) = js.split_once("export const PROVIDER_PLUGINS").unwrap();
        assert!(core.contains("  storeD1: {") && !core.contains("  \"oauth-oidc\": {"));
        assert!(providers.contains("  \"oauth-oidc\": {"));
        assert!(providers.contains("\"hosts\":[\"https://*:443\"]"));
        // The gateway is the host's own: neither a core plugin nor a provider.
        let (providers, gateway) = providers
            .split_once("export const PROVIDER_GATEWAY = ")
            .unwrap();
        assert!(
            !providers.contains("\"provider-gateway\": {") && !core.contains("providerGateway: {")
        );
        assert!(
            gateway.starts_with("{\n    manifest: {")
                && gateway.contains("providerGatewayInstantiate"),
            "{gateway}"
        );
    }
}
