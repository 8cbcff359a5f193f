//! Installing and removing plugins in [`Places::plugins_dir`](crate::Places): the
//! checks a plugin passes before any of its files is written, and the order files
//! are written and removed in, so that a manifest only ever sits beside the bytes
//! it vouches for.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use qhub_runtime::{Allocation, AllowList, Manifest, PROVIDER_WORLDS, WIT_PACKAGE, sha256_hex};

use crate::catalog::{Entry, embedded_names, installable};
use crate::error::{Error, Kind, Result};
use crate::host::{Host, Observer, check_dir};

/// How to name a plugin's files, for errors about them.
const FILES_HINT: &str =
    "pass NAME.wasm with NAME.plugin.toml beside it, as `cargo xtask build-plugins` writes them";

/// Largest manifest read, in bytes: a manifest is a few lines of TOML.
pub(crate) const MAX_MANIFEST_BYTES: u64 = 64 * 1024;

/// Largest component installed, in bytes; the first-party plugins are under 2 MiB.
const MAX_COMPONENT_BYTES: u64 = 64 * 1024 * 1024;

/// Longest plugin name, in bytes (it names files and `providers.toml` entries).
const MAX_NAME_BYTES: usize = 64;

/// Longest plugin version, in bytes.
const MAX_VERSION_BYTES: usize = 64;

/// The lock file that serialises installs and removals in the plugins directory.
const LOCK_FILE: &str = ".lock";

/// What a plugin name may be, for errors about one.
const NAME_RULE: &str =
    "a plugin name is 1 to 64 lowercase ASCII letters, digits and dashes, starting with a letter";

/// Reads `path`, which must be a regular file (a FIFO, a device or a directory is
/// refused before it is opened) of at most `cap` bytes. The file is then opened
/// without blocking (`O_NONBLOCK`) and its type checked again on the open file, so
/// a FIFO or a device swapped in between the two cannot hang or flood the read.
///
/// # Errors
/// [`Kind::Usage`] for a file that cannot be read or is not a regular file;
/// [`Kind::Refused`] for one over `cap`.
pub(crate) fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>> {
    let unreadable = |why: String| {
        Error::new(
            Kind::Usage,
            format!("cannot read {}: {why}", path.display()),
        )
        .with_hint(FILES_HINT)
    };
    let meta = std::fs::metadata(path).map_err(|e| unreadable(e.to_string()))?;
    if !meta.is_file() {
        return Err(unreadable("not a regular file".into()));
    }
    let too_large = || {
        Error::new(
            Kind::Refused,
            format!("{} is larger than {cap} bytes", path.display()),
        )
    };
    if meta.len() > cap {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    open_regular(path)
        .map_err(unreadable)?
        .take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| unreadable(e.to_string()))?;
    if bytes.len() as u64 > cap {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Opens `path` for reading without blocking (`O_NONBLOCK`: opening a FIFO with no
/// writer would wait for one; a file under a conflicting lease is refused rather
/// than waited for) and without taking a terminal as the controlling one
/// (`O_NOCTTY`), and keeps it only if the open file is a regular file. The error
/// says why, for [`read_capped`]'s message.
fn open_regular(path: &Path) -> std::result::Result<File, String> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| e.to_string())?;
    match file.metadata() {
        Ok(meta) if meta.is_file() => Ok(file),
        Ok(_) => Err("not a regular file".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// The component and manifest files `path` designates: `NAME.wasm` with
/// `NAME.plugin.toml` beside it, from either of the two.
///
/// # Errors
/// [`Kind::Usage`] when `path` ends in neither `.wasm` nor `.plugin.toml`.
pub fn plugin_files(path: &Path) -> Result<(PathBuf, PathBuf)> {
    if path.is_dir() {
        return Err(
            Error::new(Kind::Usage, format!("{} is a directory", path.display()))
                .with_hint(directory_hint(path)),
        );
    }
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

/// The hint for a directory given where a plugin's file was expected: the
/// plugins in it that `install` could take (a `NAME.wasm` beside a
/// `NAME.plugin.toml` whose world is [`installable`] and whose name is not an
/// embedded plugin's), a few of them by path, or [`FILES_HINT`] when it holds
/// none. Only path-safe names are listed, so no file name can put control
/// characters on the user's terminal.
fn directory_hint(dir: &Path) -> String {
    const SHOWN: usize = 3;
    let embedded = embedded_names().unwrap_or_default();
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            let stem = name.strip_suffix(".plugin.toml").filter(|s| path_safe(s))?;
            let manifest = read_capped(&dir.join(&name), MAX_MANIFEST_BYTES).ok()?;
            let manifest = Manifest::parse(std::str::from_utf8(&manifest).ok()?).ok()?;
            let wasm = dir.join(format!("{stem}.wasm"));
            (installable(&manifest) && !embedded.contains(&manifest.name) && wasm.is_file())
                .then(|| wasm.display().to_string())
        })
        .collect();
    found.sort();
    match found.as_slice() {
        [] => FILES_HINT.into(),
        [one] => format!("to install the plugin in it: qhub plugins install {one}"),
        _ => {
            let more = found.len().saturating_sub(SHOWN);
            found.truncate(SHOWN);
            let more = if more > 0 {
                format!(" (and {more} more)")
            } else {
                String::new()
            };
            format!(
                "install one plugin at a time, by its component or its manifest: {}{more}",
                found.join(", ")
            )
        }
    }
}

/// Whether `name` may name a plugin ([`NAME_RULE`]), as file names and
/// `providers.toml` use it.
fn valid_name(name: &str) -> bool {
    name.len() <= MAX_NAME_BYTES
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && path_safe(name)
}

/// Whether `name` names files inside the plugins directory only: lowercase ASCII
/// letters, digits and dashes (the rule of older qhubs, which [`valid_name`]
/// narrows).
fn path_safe(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Whether `version` may be shown as a plugin's version: 1 to 64 ASCII letters,
/// digits, dots, dashes and pluses (a semantic version, RFC-free but printable on
/// one line).
fn valid_version(version: &str) -> bool {
    !version.is_empty()
        && version.len() <= MAX_VERSION_BYTES
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'))
}

/// Holds the plugins directory's lock (an advisory lock on [`LOCK_FILE`]) until
/// dropped, so that two installs or removals never interleave their checks and
/// writes. When another process holds it, tells `observer` before waiting.
fn lock(dir: &Path, observer: &dyn Observer) -> Result<File> {
    qhub_runtime::fsutil::create_private_dir(dir).map_err(|e| Error::unusable(dir, &e))?;
    let path = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .mode(0o600)
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::unusable(&path, &e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            observer.waiting_for_lock("the plugins directory", &path);
            file.lock().map_err(|e| Error::unusable(&path, &e))?;
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(Error::unusable(&path, &e)),
    }
    Ok(file)
}

impl Host {
    /// Installs the plugin at `path` ([`plugin_files`]) into the plugins directory,
    /// compiled once into the cache, and returns its catalogue entry.
    ///
    /// Checked before anything is written: both files are regular files within
    /// their caps, the manifest parses, the name ([`NAME_RULE`]) and version are
    /// well-formed, the world is one a third party may provide ([`installable`]),
    /// the bytes hash to the manifest's sha256, the requested origins parse, the
    /// name is not embedded (nor installed, unless `replace`, and then not used by
    /// a provider unless this is a provider plugin too), and the component
    /// compiles and fits its world. The checks of what is installed already, and
    /// the writes, hold the plugins directory's lock. The component is written
    /// first, then its manifest (each atomically, mode 0600): a cut-short first
    /// install leaves no manifest, and a cut-short replacement leaves the old
    /// manifest beside the new bytes, which loading refuses (sha256) until the
    /// plugin is installed again.
    ///
    /// # Errors
    /// [`Kind::Usage`] for files that cannot be read; [`Kind::Refused`] for a
    /// plugin that fails a check; [`Kind::Internal`] for a plugins directory that
    /// cannot be written or is unsafe.
    pub fn install(&self, path: &Path, replace: bool) -> Result<Entry> {
        let (wasm_path, manifest_path) = plugin_files(path)?;
        // The file the user named is read first, so a typo is reported as typed.
        let (manifest_bytes, bytes) = if path == manifest_path {
            let manifest = read_capped(&manifest_path, MAX_MANIFEST_BYTES)?;
            (manifest, read_capped(&wasm_path, MAX_COMPONENT_BYTES)?)
        } else {
            let bytes = read_capped(&wasm_path, MAX_COMPONENT_BYTES)?;
            (read_capped(&manifest_path, MAX_MANIFEST_BYTES)?, bytes)
        };
        let manifest_toml = String::from_utf8(manifest_bytes).map_err(|_| {
            Error::new(
                Kind::Refused,
                format!("{} is not UTF-8 text", manifest_path.display()),
            )
        })?;
        let manifest = Manifest::parse(&manifest_toml)
            .map_err(|e| Error::new(Kind::Refused, format!("{}: {e}", manifest_path.display())))?;
        // Shown quoted (escaped) until checked: a version may carry a newline or an
        // escape sequence meant for the user's terminal.
        let version = if valid_version(&manifest.version) {
            manifest.version.clone()
        } else {
            format!("{:?}", manifest.version)
        };
        let refuse = |message: String| {
            Error::new(
                Kind::Refused,
                format!(
                    "cannot install plugin {:?} {version}: {message}",
                    manifest.name
                ),
            )
        };

        if !valid_name(&manifest.name) {
            return Err(
                refuse(format!("{:?} is not a plugin name", manifest.name)).with_hint(format!(
                    "{NAME_RULE}; fix `name` in {}",
                    manifest_path.display()
                )),
            );
        }
        if !valid_version(&manifest.version) {
            return Err(refuse(format!("{:?} is not a plugin version", manifest.version))
                .with_hint(format!(
                    "a version is 1 to 64 ASCII letters, digits, dots, dashes and pluses (0.1.0); fix `version` in {}",
                    manifest_path.display()
                )));
        }
        if !installable(&manifest) {
            let (package, version) = WIT_PACKAGE.split_once('@').unwrap_or((WIT_PACKAGE, ""));
            return Err(refuse(format!(
                "its world {:?} is not one qhub hosts",
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

        // Checked and written under the directory's lock, so that two installs of
        // one name never both pass the checks nor leave a mixed pair.
        let dir = &self.places.plugins_dir;
        let _lock = lock(dir, self.observer.as_ref())?;
        if embedded_names()?.contains(&manifest.name) {
            return Err(refuse("an embedded plugin has that name".into()).with_hint(
                "embedded plugin names are reserved; give the plugin another name in its manifest",
            ));
        }
        // Installed means a manifest: a component alone is what an install or a
        // removal cut short left (each writes or removes the manifest on the
        // component's far side), which no command loads, so it is replaced.
        let manifest_file = dir.join(format!("{}.plugin.toml", manifest.name));
        if manifest_file.exists() {
            if !replace {
                return Err(refuse("a plugin of that name is installed already".into())
                    .with_hint("pass --force to replace it"));
            }
            let users = self.users(&manifest.name)?;
            if !users.is_empty() && !manifest.is_provider() {
                return Err(refuse(format!(
                    "the provider(s) {} of providers.toml use the installed one, and this is not an OAuth provider plugin",
                    users.join(", ")
                ))
                .with_hint("remove those providers from providers.toml first, or install it under another name"));
            }
        }

        // Compiling through the cache proves the bytes are a component and means no
        // later command compiles it again; linking it proves it fits its world. The
        // runtime is only built once every cheaper check has passed.
        let runtime = self.runtime(Allocation::OnDemand)?;
        let loaded = runtime
            .load(&manifest_toml, &bytes)
            .map_err(|e| Error::new(Kind::Refused, e.to_string()))?;
        runtime
            .check_world(&loaded)
            .map_err(|e| {
                let err = Error::new(Kind::Refused, e.to_string());
                if manifest.is_provider() {
                    return err;
                }
                // What a backend may import is narrower than all of WASI (see
                // `host/runtime/src/capabilities.rs`), and toolchains other than Rust's
                // often import more.
                err.with_hint(
                    "a store backend exports its world's interfaces and imports only its world's and \
                     wasi:io, wasi:clocks, wasi:random and wasi:cli (docs/plugins.md, The contract)",
                )
            })?;

        let write = |file: PathBuf, bytes: &[u8]| {
            qhub_runtime::fsutil::write_private(&file, bytes)
                .map_err(|e| Error::unusable(&file, &e))
        };
        // The component first: a manifest is only ever beside the bytes it vouches for.
        write(dir.join(format!("{}.wasm", manifest.name)), &bytes)?;
        write(manifest_file, manifest_toml.as_bytes())?;
        Ok(Entry::installed(dir, manifest, manifest_toml))
    }

    /// The providers of `providers.toml` whose plugin is `name`.
    fn users(&self, name: &str) -> Result<Vec<String>> {
        let config = self.load_providers()?;
        Ok(config.using(name).map(|p| p.name.clone()).collect())
    }

    /// Removes the installed plugin `name`, found by its files, so that one whose
    /// manifest no longer parses can be removed too; returns its version when its
    /// manifest could still tell it. The manifest goes first, so that a removal
    /// cut short never leaves a manifest vouching for a missing component.
    ///
    /// # Errors
    /// [`Kind::Usage`] for an unknown name (with the nearest one);
    /// [`Kind::Refused`] for an embedded plugin, or one a provider of
    /// `providers.toml` still uses; [`Kind::Internal`] when a file cannot be
    /// removed.
    pub fn remove(&self, name: &str) -> Result<Option<String>> {
        if embedded_names()?.iter().any(|n| n == name) {
            return Err(Error::new(
                Kind::Refused,
                format!("{name:?} is embedded in qhub and cannot be removed"),
            )
            .with_hint("only plugins installed with `qhub plugins install` can be removed; `qhub plugins list` shows the source of each"));
        }
        let dir = &self.places.plugins_dir;
        check_dir(dir)?;
        let files = [format!("{name}.plugin.toml"), format!("{name}.wasm")];
        // By its files, not its manifest: a plugin whose manifest broke can still
        // be removed. Any name that stays inside the directory is looked for, also
        // one an older qhub allowed and the name rule now refuses. Looked for again
        // under the lock, so that of two removals at once only one succeeds.
        let missing = || !path_safe(name) || !files.iter().any(|f| dir.join(f).exists());
        let not_found = || {
            // The catalogue's error: the nearest name, or how to add one.
            self.find(name)?;
            Err(Error::new(Kind::Usage, format!("no plugin named {name:?}")))
        };
        if missing() {
            return not_found();
        }
        let _lock = lock(dir, self.observer.as_ref())?;
        if missing() {
            return not_found();
        }
        let users = self.users(name)?;
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
        let version = read_capped(&dir.join(&files[0]), MAX_MANIFEST_BYTES)
            .ok()
            .and_then(|bytes| Manifest::parse(&String::from_utf8_lossy(&bytes)).ok())
            .map(|m| m.version)
            .filter(|v| valid_version(v));
        // The manifest first: a removal cut short never leaves a manifest vouching
        // for a missing component.
        for file in files {
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
        Ok(version)
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
        for good in ["oauth-x", "a", "store-2", &"a".repeat(64)] {
            assert!(valid_name(good), "{good}");
        }
        for bad in [
            "",
            "Oauth",
            "oauth_x",
            "../x",
            "x.y",
            "ø",
            "-a",
            "2x",
            &"a".repeat(65),
        ] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn versions_are_one_printable_word() {
        for good in ["0.1.0", "1.0.0-rc.1+build.5"] {
            assert!(valid_version(good), "{good}");
        }
        for bad in ["", "1.0\nzz-hidden", "1 0", "1.0\u{1b}[2J", &"1".repeat(65)] {
            assert!(!valid_version(bad), "{bad}");
        }
    }

    /// A directory (`dist/`, or one named like a component) is refused as one,
    /// with the installable plugins in it as the hint.
    #[test]
    fn a_directory_is_refused_naming_the_plugins_inside() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let dist = dir.path().join("dist.wasm");
        std::fs::create_dir(&dist).expect("the directory");
        let err = plugin_files(&dist).expect_err("a directory");
        assert_eq!(err.kind, Kind::Usage);
        assert!(err.message.ends_with("dist.wasm is a directory"), "{err}");
        assert_eq!(err.hint.as_deref(), Some(FILES_HINT));

        let plugin = |name: &str, world: &str| {
            let manifest = format!(
                "name = \"{name}\"\nversion = \"0.1.0\"\nworld = \"{world}\"\nsha256 = \"{}\"\nhosts = []\n",
                sha256_hex(b"")
            );
            std::fs::write(dist.join(format!("{name}.plugin.toml")), manifest).expect("written");
            std::fs::write(dist.join(format!("{name}.wasm")), b"").expect("written");
        };
        let provider = "qhub:provider/oauth-provider-plugin@0.1.0";
        plugin("b", provider);
        let only = dist.join("b.wasm").display().to_string();
        // Not listed: a lone component, a world install refuses, an embedded
        // plugin's name, and a name with a control character in it.
        std::fs::write(dist.join("lone.wasm"), b"").expect("written");
        plugin("core", "qhub:plugin/account-core@0.1.0");
        let embedded = embedded_names().expect("the embedded plugins");
        plugin(&embedded[0], provider);
        plugin("esc\u{1b}[2J", provider);
        let hint = |dist: &Path| {
            plugin_files(dist)
                .expect_err("a directory")
                .hint
                .expect("a hint")
        };
        assert_eq!(
            hint(&dist),
            format!("to install the plugin in it: qhub plugins install {only}")
        );

        for name in ["a", "d", "c"] {
            plugin(name, provider);
        }
        let shown = ["a", "b", "c"].map(|n| dist.join(format!("{n}.wasm")).display().to_string());
        assert_eq!(
            hint(&dist),
            format!(
                "install one plugin at a time, by its component or its manifest: {} (and 1 more)",
                shown.join(", ")
            )
        );
    }

    #[test]
    fn only_regular_files_within_the_cap_are_read() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let file = dir.path().join("a.plugin.toml");
        std::fs::write(&file, b"12345").expect("written");
        assert_eq!(read_capped(&file, 5).expect("within the cap"), b"12345");
        let err = read_capped(&file, 4).expect_err("over the cap");
        assert_eq!(err.kind, Kind::Refused);
        let err = read_capped(dir.path(), 4).expect_err("a directory");
        assert_eq!(err.kind, Kind::Usage);
        assert!(err.message.ends_with("not a regular file"), "{err}");
        let err = read_capped(Path::new("/dev/zero"), 4).expect_err("a device");
        assert!(err.message.ends_with("not a regular file"), "{err}");
    }

    /// What closes the gap between `read_capped`'s first check and its open: a
    /// FIFO (with no writer, a blocking open would wait forever) or a device met
    /// at the open itself is refused at once.
    #[test]
    fn a_fifo_or_a_device_met_at_the_open_is_refused_without_waiting() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let fifo = dir.path().join("swapped.wasm");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(made.success(), "mkfifo {}", fifo.display());
        // In a thread: without O_NONBLOCK the open would wait for a writer
        // forever, and the test must fail rather than hang.
        let (done, result) = std::sync::mpsc::channel();
        let path = fifo.clone();
        std::thread::spawn(move || done.send(open_regular(&path).map(drop)));
        let err = result
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("opening a FIFO does not wait for a writer")
            .expect_err("a FIFO");
        assert_eq!(err, "not a regular file");
        let err = open_regular(Path::new("/dev/zero")).expect_err("a device");
        assert_eq!(err, "not a regular file");
        let file = dir.path().join("plain.wasm");
        std::fs::write(&file, b"\0asm").expect("written");
        assert!(open_regular(&file).is_ok());
    }
}
