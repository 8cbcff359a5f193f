//! The plugin catalogue: the plugins embedded in the binary (`qhub_bundled`) and
//! those installed in [`Places::plugins_dir`](crate::Places), found by name and
//! loaded through the runtime's cache.

use std::path::{Path, PathBuf};

use qhub_runtime::providers::nearest;
use qhub_runtime::{LoadedPlugin, Manifest, PROVIDER_WORLDS, Runtime, WIT_PACKAGE};

use crate::error::{Error, Kind, Result};
use crate::host::{Host, check_dir};

/// Whether a plugin may be installed for `world`. The account core is part of qhub
/// itself, so only providers (a world this qhub loads, or any version of the public
/// `qhub:provider` package: installing then says which versions it loads) and
/// storage backends (`qhub:plugin/store-backend`) come from outside.
pub fn installable(manifest: &Manifest) -> bool {
    let (package, version) = WIT_PACKAGE.split_once('@').unwrap_or((WIT_PACKAGE, ""));
    manifest.world == format!("{package}/store-backend@{version}")
        || PROVIDER_WORLDS.contains(&manifest.world.as_str())
        || (manifest.is_provider() && manifest.package().starts_with("qhub:provider@"))
}

/// Where a plugin comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Built with qhub and embedded in the binary.
    Embedded,
    /// Installed with `qhub plugins install` into the plugins directory.
    Installed,
}

impl Source {
    /// `embedded` or `installed`, as listings show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Embedded => "embedded",
            Source::Installed => "installed",
        }
    }
}

/// A plugin qhub knows, not yet loaded (see [`Entry::load`]).
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its manifest, parsed.
    pub manifest: Manifest,
    /// Where it comes from.
    pub source: Source,
    /// The manifest as written (the runtime parses it again when loading).
    manifest_toml: String,
    component: Component,
}

#[derive(Debug, Clone)]
enum Component {
    Embedded(&'static [u8]),
    /// The installed `.wasm` file.
    File(PathBuf),
}

impl Entry {
    /// The installed component's path; `None` for an embedded plugin.
    pub fn path(&self) -> Option<&Path> {
        match &self.component {
            Component::Embedded(_) => None,
            Component::File(path) => Some(path),
        }
    }

    /// The plugin installed in `dir` with this manifest.
    pub(crate) fn installed(dir: &Path, manifest: Manifest, manifest_toml: String) -> Entry {
        Entry {
            component: Component::File(dir.join(format!("{}.wasm", manifest.name))),
            manifest,
            source: Source::Installed,
            manifest_toml,
        }
    }

    /// Loads the plugin (verified against its manifest, compiled through the cache).
    pub fn load(&self, runtime: &Runtime) -> Result<LoadedPlugin> {
        let loaded = match &self.component {
            // Built with its manifest into this binary: see `Runtime::load_built`.
            Component::Embedded(bytes) => runtime.load_built(&self.manifest_toml, bytes),
            Component::File(path) => {
                let bytes = std::fs::read(path).map_err(|e| {
                    Error::internal(format!("cannot read {}: {e}", path.display()))
                        .with_hint("reinstall the plugin with `qhub plugins install PATH --force`")
                })?;
                return runtime.load(&self.manifest_toml, &bytes).map_err(|e| {
                    Error::internal(e.to_string()).with_hint(format!(
                        "reinstall it with `qhub plugins install PATH --force`, or remove it with `qhub plugins remove {}`",
                        self.manifest.name
                    ))
                });
            }
        };
        loaded.map_err(|e| Error::internal(e.to_string()))
    }
}

/// The embedded plugins, in build order.
fn embedded() -> Result<Vec<Entry>> {
    qhub_bundled::EMBEDDED
        .iter()
        .map(|p| {
            let manifest =
                Manifest::parse(p.manifest).map_err(|e| Error::internal(e.to_string()))?;
            Ok(Entry {
                manifest,
                source: Source::Embedded,
                manifest_toml: p.manifest.to_owned(),
                component: Component::Embedded(p.component),
            })
        })
        .collect()
}

/// The names of the embedded plugins, which installed plugins may not take.
pub(crate) fn embedded_names() -> Result<Vec<String>> {
    Ok(embedded()?.into_iter().map(|e| e.manifest.name).collect())
}

/// The embedded plugin `name`, loaded: the account core and the storage backends
/// come only from the binary, never from the plugins directory.
pub(crate) fn load_embedded(runtime: &Runtime, name: &str) -> Result<LoadedPlugin> {
    embedded()?
        .into_iter()
        .find(|e| e.manifest.name == name)
        .ok_or_else(|| Error::internal(format!("this qhub was built without the {name:?} plugin")))?
        .load(runtime)
}

impl Host {
    /// Every plugin: the embedded ones in build order, then the installed ones by name.
    pub fn catalog(&self) -> Result<Vec<Entry>> {
        let mut entries = embedded()?;
        entries.extend(self.installed()?);
        Ok(entries)
    }

    /// The plugins in the plugins directory, by name.
    fn installed(&self) -> Result<Vec<Entry>> {
        let dir = &self.places.plugins_dir;
        // Code others could plant is not run.
        check_dir(dir)?;
        let listing = match std::fs::read_dir(dir) {
            Ok(listing) => listing,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => {
                return Err(Error::internal(format!(
                    "cannot read {}: {err}",
                    dir.display()
                )));
            }
        };
        let mut entries = Vec::new();
        for item in listing.flatten() {
            let path = item.path();
            let Some(stem) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".plugin.toml"))
            else {
                continue;
            };
            let broken = |why: String| {
                Error::internal(format!("installed plugin {}: {why}", path.display())).with_hint(
                    format!(
                        "reinstall it with `qhub plugins install PATH --force`, or remove it with `qhub plugins remove {stem}`"
                    ),
                )
            };
            let bytes = crate::install::read_capped(&path, crate::install::MAX_MANIFEST_BYTES)
                .map_err(|e| broken(e.message))?;
            let text = String::from_utf8(bytes).map_err(|e| broken(e.to_string()))?;
            let manifest = Manifest::parse(&text).map_err(|e| broken(e.to_string()))?;
            if manifest.name != stem {
                return Err(broken(format!(
                    "the manifest names the plugin {:?}",
                    manifest.name
                )));
            }
            entries.push(Entry::installed(dir, manifest, text));
        }
        entries.sort_by(|a, b| a.manifest.name.cmp(&b.manifest.name));
        Ok(entries)
    }

    /// The manifests of the OAuth provider plugins this host can run (embedded,
    /// then installed), which a server lists at `GET /v1/plugins`.
    pub fn provider_plugins(&self) -> Result<Vec<Manifest>> {
        Ok(self
            .catalog()?
            .into_iter()
            .filter(|e| e.manifest.is_provider())
            .map(|e| e.manifest)
            .collect())
    }

    /// The plugin called `name`, or a [`Kind::Usage`] error suggesting the
    /// nearest name.
    pub fn find(&self, name: &str) -> Result<Entry> {
        let entries = self.catalog()?;
        if let Some(entry) = entries.iter().find(|e| e.manifest.name == name) {
            return Ok(entry.clone());
        }
        let hint = match nearest(name, entries.iter().map(|e| e.manifest.name.as_str())) {
            Some(near) => format!("did you mean {near:?}? `qhub plugins list` shows them all"),
            None => {
                "`qhub plugins list` shows the plugins; `qhub plugins install PATH` adds one".into()
            }
        };
        Err(Error::new(Kind::Usage, format!("no plugin named {name:?}")).with_hint(hint))
    }
}
