//! The compiled-component cache: Cranelift output kept on disk so that a command
//! run twice compiles nothing the second time.
//!
//! An entry is named by the component's sha256 and the engine's compatibility hash
//! (wasmtime version and compilation settings), so a new component or a new qhub
//! never picks up a stale entry. Loading precompiled code is `unsafe` in wasmtime:
//! the bytes become executable. An entry is trusted because only this user can
//! have written it: the directory must be owned by this user (or root) and closed
//! to others' writes (checked when the cache opens; an open one is refused, see
//! [`crate::fsutil`]), and each entry file must be owned by this user and closed to
//! others' writes (an entry that is not is ignored and replaced).
//!
//! Why no MAC over the entries (an earlier version kept an HMAC-SHA256 key in the
//! directory): whoever can write an entry there runs as this user and can read such
//! a key just as well, so the tag added no protection beyond the permission checks,
//! while verifying it meant reading and hashing every entry at every start, about
//! a third of a warm `qhub whoami` (`cargo xtask bench`). Entries are now mapped
//! straight from the file ([`Component::deserialize_file`]); they are written
//! beside their final name and renamed into place, never changed in place, so a
//! mapped entry cannot change under a running process and no reader sees half of
//! one; wasmtime checks the header and the engine compatibility of each.

use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use wasmtime::Engine;
use wasmtime::component::Component;

use crate::fsutil::Insecure;

/// The entry format: bumped when the layout of an entry file changes, so that
/// entries of an older qhub are left alone rather than misread.
const FORMAT: &str = "v2";

/// Where a component came from this time, for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Cache,
    Compiled,
}

#[derive(Debug)]
pub(crate) struct Cache {
    dir: PathBuf,
    engine_hash: String,
}

impl Cache {
    /// Opens (creating if needed) the cache in `dir`. Returns `None`, after a
    /// warning, when the directory cannot be used: the cache is an optimisation.
    /// But a directory that other users may write is an error: its entries become
    /// code this process executes.
    pub(crate) fn open(dir: &Path, engine: &Engine) -> Result<Option<Cache>, Insecure> {
        match Self::try_open(dir, engine) {
            Ok(cache) => Ok(Some(cache)),
            Err(err) => {
                if let Some(insecure) = crate::fsutil::insecure(&err) {
                    return Err(insecure.clone());
                }
                tracing::warn!("compiled-plugin cache disabled ({}): {err}", dir.display());
                Ok(None)
            }
        }
    }

    fn try_open(dir: &Path, engine: &Engine) -> std::io::Result<Cache> {
        crate::fsutil::create_private_dir(dir)?;
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Ok(Cache {
            dir: dir.to_path_buf(),
            engine_hash: format!("{:016x}", hasher.finish()),
        })
    }

    fn entry_path(&self, sha256: &str) -> PathBuf {
        self.dir
            .join(format!("{sha256}-{}.{FORMAT}.cwasm", self.engine_hash))
    }

    /// The compiled component for `sha256`, if a usable entry exists.
    pub(crate) fn load(&self, engine: &Engine, sha256: &str) -> Option<Component> {
        let path = self.entry_path(sha256);
        // Not followed: an entry is a plain file of ours, never a link elsewhere.
        let meta = fs::symlink_metadata(&path).ok()?;
        if !meta.is_file() || crate::fsutil::check_closed_to_others_writes(&path, &meta).is_err() {
            tracing::warn!(
                "ignoring cache entry {} that other users may write (it will be replaced)",
                path.display()
            );
            return None;
        }
        match deserialize_file(engine, &path) {
            Ok(component) => Some(component),
            Err(err) => {
                tracing::warn!("ignoring unusable cache entry {}: {err}", path.display());
                None
            }
        }
    }

    /// Stores a compiled component; failures only warn.
    pub(crate) fn store(&self, sha256: &str, compiled: &[u8]) {
        if let Err(err) = self.try_store(sha256, compiled) {
            tracing::warn!("cannot write to the compiled-plugin cache: {err}");
        }
    }

    fn try_store(&self, sha256: &str, compiled: &[u8]) -> std::io::Result<()> {
        // Write beside the final name, then rename: readers never see half an entry,
        // and a mapped entry is never changed in place.
        let mut tmp = tempfile_in(&self.dir)?;
        tmp.1.write_all(compiled)?;
        tmp.1.sync_all()?;
        fs::rename(&tmp.0, self.entry_path(sha256))
    }
}

fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, fs::File)> {
    let suffix = hex::encode(crate::fsutil::random_bytes(8)?);
    let path = dir.join(format!(".tmp-{suffix}"));
    let file = crate::fsutil::create_private_file(&path)?;
    Ok((path, file))
}

#[expect(
    unsafe_code,
    reason = "wasmtime requires unsafe to load precompiled code; these bytes were just compiled by this engine"
)]
fn deserialize(engine: &Engine, compiled: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: `compiled` was produced by `Engine::precompile_component` of this very
    // engine a moment ago.
    unsafe { Component::deserialize(engine, compiled) }
}

#[expect(
    unsafe_code,
    reason = "wasmtime requires unsafe to load precompiled code; callers pass only entries that only this user can have written"
)]
fn deserialize_file(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: the entry is a regular file in a directory that only this user (or
    // root) may write, owned by this user and closed to others' writes (checked by
    // the caller), written by `Cache::store` from `Engine::precompile_component` of
    // an engine with the same compatibility hash (in the file name; wasmtime checks
    // it again). Entries are replaced by rename, never modified in place, so the
    // mapping stays as it was checked.
    unsafe { Component::deserialize_file(engine, path) }
}

/// A step of compiling one component, for a progress display: see
/// [`crate::Runtime::on_compile`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompileStep {
    /// Cranelift is starting on the component (no cache entry for it).
    Started,
    /// Compiled in this much wall time (the cache entry is then written).
    Finished(std::time::Duration),
}

/// Compiles `bytes`, going through the cache when there is one. `step` hears of a
/// compilation (not of a cache hit), before and after.
pub(crate) fn compile(
    engine: &Engine,
    cache: Option<&Cache>,
    sha256: &str,
    bytes: &[u8],
    step: &dyn Fn(CompileStep),
) -> wasmtime::Result<(Component, Origin)> {
    if let Some(component) = cache.and_then(|c| c.load(engine, sha256)) {
        return Ok((component, Origin::Cache));
    }
    let started = std::time::Instant::now();
    step(CompileStep::Started);
    let compiled = engine.precompile_component(bytes);
    let elapsed = started.elapsed();
    step(CompileStep::Finished(elapsed));
    let compiled = compiled?;
    tracing::debug!(
        sha256,
        elapsed_ms = elapsed.as_millis() as u64,
        "compiled component"
    );
    let component = deserialize(engine, &compiled)?;
    if let Some(cache) = cache {
        cache.store(sha256, &compiled);
    }
    Ok((component, Origin::Compiled))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    /// The binary form of `(component)`: a source component, not a compiled one.
    const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\0\x01\0";

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn garbage_and_entries_others_may_write_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::default();
        let cache = Cache::open(dir.path(), &engine).unwrap().unwrap();
        let sha = "ab".repeat(32);
        let path = cache.entry_path(&sha);
        // A component's source, not its compiled form: wasmtime's header check refuses it.
        fs::write(&path, EMPTY_COMPONENT).unwrap();
        assert!(cache.load(&engine, &sha).is_none());

        // A real entry loads; the same file writable by others does not.
        let component = Component::new(&engine, EMPTY_COMPONENT).unwrap();
        cache.store(&sha, &component.serialize().unwrap());
        assert_eq!(mode(&path), 0o600);
        assert!(cache.load(&engine, &sha).is_some());
        fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).unwrap();
        assert!(cache.load(&engine, &sha).is_none());

        // Nor is a link to a file elsewhere followed.
        let elsewhere = dir.path().join("elsewhere");
        fs::rename(&path, &elsewhere).unwrap();
        fs::set_permissions(&elsewhere, fs::Permissions::from_mode(0o600)).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &path).unwrap();
        assert!(cache.load(&engine, &sha).is_none());
    }

    #[test]
    fn the_directory_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let cache_dir = dir.path().join("cache");
        Cache::open(&cache_dir, &Engine::default()).unwrap();
        assert_eq!(mode(&cache_dir), 0o700);
    }

    #[test]
    fn a_directory_others_may_write_is_refused_not_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::default();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
        let err = Cache::open(dir.path(), &engine).unwrap_err();
        assert_eq!(err.path, dir.path());
        assert!(err.hint().contains("chmod 700"), "{}", err.hint());
    }
}
