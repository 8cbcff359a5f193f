//! Installing and removing plugins in [`Places::plugins_dir`](crate::Places): the
//! checks a plugin passes before any of its files is written, and the order files
//! are written and removed in, so that a manifest only ever sits beside the bytes
//! it vouches for.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use qhub_runtime::{AllowList, Manifest, PROVIDER_WORLDS, Runtime, WIT_PACKAGE, sha256_hex};

use crate::catalog::{Entry, Source, installable};
use crate::error::{Error, Kind, Result};
use crate::host::Host;

/// How to name a plugin's files, for errors about them.
const FILES_HINT: &str =
    "pass NAME.wasm with NAME.plugin.toml beside it, as `cargo xtask build-plugins` writes them";

/// The component and manifest files `path` designates: `NAME.wasm` with
/// `NAME.plugin.toml` beside it, from either of the two.
///
/// # Errors
/// [`Kind::Usage`] when `path` ends in neither `.wasm` nor `.plugin.toml`.
pub fn plugin_files(path: &Path) -> Result<(PathBuf, PathBuf)> {
    let file = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let dir = path.parent().unwrap_or(Path::new(""));
    if let Some(stem) = file.strip_suffix(".plugin.toml") {
        Ok((dir.join(format!("{stem}.wasm")), path.to_path_buf()))
    } else if let Some(stem) = file.strip_suffix(".wasm") {
        Ok((path.to_path_buf(), dir.join(format!("{stem}.plugin.toml"))))
    } else {
        Err(Error::new(
            Kind::Usage,
            format!("{} is neither a .wasm nor a .plugin.toml", path.display()),
        )
        .with_hint(FILES_HINT))
    }
}

/// Whether `name` may name a plugin: lowercase ASCII letters, digits and dashes,
/// as file names and `providers.toml` use it.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

impl Host {
    /// Installs the plugin at `path` ([`plugin_files`]) into the plugins directory,
    /// compiled once into `runtime`'s cache, and returns its catalogue entry.
    ///
    /// Checked before anything is written: the manifest parses, the name is
    /// lowercase letters, digits and dashes, the world is one a third party may
    /// provide ([`installable`]), the bytes hash to the manifest's sha256, the
    /// requested origins parse, the name is not embedded (nor installed, unless
    /// `replace`), and the component compiles and fits its world. The component is
    /// written first, then its manifest (each atomically, mode 0600), so a cut-short
    /// install leaves no manifest vouching for other bytes.
    ///
    /// # Errors
    /// [`Kind::Usage`] for files that cannot be read; [`Kind::Refused`] for a
    /// plugin that fails a check; [`Kind::Internal`] for a plugins directory that
    /// cannot be written or is unsafe.
    pub fn install(&self, runtime: &Arc<Runtime>, path: &Path, replace: bool) -> Result<Entry> {
        let (wasm_path, manifest_path) = plugin_files(path)?;
        let read = |file: &Path| {
            std::fs::read(file).map_err(|e| {
                Error::new(Kind::Usage, format!("cannot read {}: {e}", file.display()))
                    .with_hint(FILES_HINT)
            })
        };
        let bytes = read(&wasm_path)?;
        let manifest_toml = String::from_utf8(read(&manifest_path)?).map_err(|_| {
            Error::new(
                Kind::Refused,
                format!("{} is not UTF-8 text", manifest_path.display()),
            )
        })?;
        let manifest = Manifest::parse(&manifest_toml)
            .map_err(|e| Error::new(Kind::Refused, format!("{}: {e}", manifest_path.display())))?;
        let refuse = |message: String| {
            Error::new(
                Kind::Refused,
                format!(
                    "cannot install plugin {:?} {}: {message}",
                    manifest.name, manifest.version
                ),
            )
        };

        if !valid_name(&manifest.name) {
            return Err(refuse(
                "a plugin name is lowercase letters, digits and dashes".into(),
            ));
        }
        if !installable(&manifest) {
            let (package, version) = WIT_PACKAGE.split_once('@').unwrap_or((WIT_PACKAGE, ""));
            return Err(refuse(format!(
                "its world {} is not one qhub hosts",
                manifest.world
            ))
            .with_hint(format!(
                "qhub installs OAuth provider plugins ({}) and storage backends ({package}/store-backend@{version})",
                PROVIDER_WORLDS.join(", ")
            )));
        }
        let actual = sha256_hex(&bytes);
        if actual != manifest.sha256 {
            return Err(refuse(format!(
                "{} has sha256 {actual}, but the manifest says {}",
                wasm_path.display(),
                manifest.sha256
            ))
            .with_hint("the component was altered or comes from another build; take both files from the same build"));
        }
        if let Err(err) = AllowList::new(&manifest.hosts, &[]) {
            return Err(refuse(format!(
                "its manifest requests a malformed origin {err}"
            )));
        }

        let existing = self
            .catalog()?
            .into_iter()
            .find(|e| e.manifest.name == manifest.name);
        match existing.map(|e| e.source) {
            Some(Source::Embedded) => {
                return Err(refuse("an embedded plugin has that name".into()).with_hint(
                    "embedded plugin names are reserved; give the plugin another name in its manifest",
                ));
            }
            Some(Source::Installed) if !replace => {
                return Err(refuse("a plugin of that name is installed already".into())
                    .with_hint("pass --force to replace it"));
            }
            _ => {}
        }

        // Compiling through the cache proves the bytes are a component and means no
        // later command compiles it again; linking it proves it fits its world.
        let loaded = runtime
            .load(&manifest_toml, &bytes)
            .map_err(|e| Error::new(Kind::Refused, e.to_string()))?;
        runtime
            .check_world(&loaded)
            .map_err(|e| Error::new(Kind::Refused, e.to_string()))?;

        let dir = &self.places.plugins_dir;
        qhub_runtime::fsutil::create_private_dir(dir).map_err(|e| Error::unusable(dir, &e))?;
        let write = |file: PathBuf, bytes: &[u8]| {
            qhub_runtime::fsutil::write_private(&file, bytes)
                .map_err(|e| Error::unusable(&file, &e))
        };
        // The component first: a manifest is only ever beside the bytes it vouches for.
        write(dir.join(format!("{}.wasm", manifest.name)), &bytes)?;
        write(
            dir.join(format!("{}.plugin.toml", manifest.name)),
            manifest_toml.as_bytes(),
        )?;
        self.find(&manifest.name)
    }

    /// Removes the installed plugin `name` and returns what it was: its manifest
    /// first, so that a removal cut short never leaves a manifest vouching for a
    /// missing component.
    ///
    /// # Errors
    /// [`Kind::Usage`] for an unknown name (with the nearest one);
    /// [`Kind::Refused`] for an embedded plugin, or one a provider of
    /// `providers.toml` still uses; [`Kind::Internal`] when a file cannot be
    /// removed.
    pub fn remove(&self, name: &str) -> Result<Entry> {
        let entry = self.find(name)?;
        if entry.source == Source::Embedded {
            return Err(Error::new(
                Kind::Refused,
                format!("{name:?} is embedded in qhub and cannot be removed"),
            )
            .with_hint("only plugins installed with `qhub plugins install` can be removed; `qhub plugins list` shows the source of each"));
        }
        let config = self.load_providers()?;
        let users: Vec<&str> = config.using(name).map(|p| p.name.as_str()).collect();
        if !users.is_empty() {
            return Err(Error::new(
                Kind::Refused,
                format!(
                    "plugin {name:?} is used by the provider(s) {} of providers.toml",
                    users.join(", ")
                ),
            )
            .with_hint(
                "remove those providers from providers.toml first, then remove the plugin",
            ));
        }
        let dir = &self.places.plugins_dir;
        for file in [format!("{name}.plugin.toml"), format!("{name}.wasm")] {
            let path = dir.join(file);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => {
                    return Err(Error::internal(format!(
                        "cannot remove {}: {err}",
                        path.display()
                    )));
                }
            }
        }
        Ok(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn either_file_names_both() {
        let both = (
            PathBuf::from("dist/oauth-x.wasm"),
            PathBuf::from("dist/oauth-x.plugin.toml"),
        );
        assert_eq!(
            plugin_files(Path::new("dist/oauth-x.wasm")).ok(),
            Some(both.clone())
        );
        assert_eq!(
            plugin_files(Path::new("dist/oauth-x.plugin.toml")).ok(),
            Some(both)
        );
        let err = plugin_files(Path::new("dist/oauth-x.zip")).expect_err("not a plugin file");
        assert_eq!(err.kind, Kind::Usage);
        assert_eq!(err.hint.as_deref(), Some(FILES_HINT));
    }

    #[test]
    fn plugin_names_are_lowercase_letters_digits_and_dashes() {
        for good in ["oauth-x", "a", "store-2"] {
            assert!(valid_name(good), "{good}");
        }
        for bad in ["", "Oauth", "oauth_x", "../x", "x.y", "ø"] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
