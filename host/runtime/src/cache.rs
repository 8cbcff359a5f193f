//! The compiled-component cache: Cranelift output kept on disk so that a command
//! run twice compiles nothing the second time.
//!
//! An entry is named by the component's sha256 and the engine's compatibility hash
//! (wasmtime version and compilation settings), so a new component or a new qhub
//! never picks up a stale entry. Loading precompiled code is `unsafe` in wasmtime:
//! the bytes become executable. So every entry starts with an HMAC-SHA256 tag keyed
//! by a secret that only this user can read (`.key`, mode 0600); an entry whose tag
//! does not verify was not written by us and is ignored and replaced. A key or
//! directory that other users may read or write is refused (see [`crate::fsutil`]).

use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::fsutil::Insecure;

type Tag = Hmac<Sha256>;
const TAG_LEN: usize = 32;

/// Where a component came from this time, for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Cache,
    Compiled,
}

#[derive(Debug)]
pub(crate) struct Cache {
    dir: PathBuf,
    key: Vec<u8>,
    engine_hash: String,
}

impl Cache {
    /// Opens (creating if needed) the cache in `dir`. Returns `None`, after a
    /// warning, when the directory cannot be used: the cache is an optimisation.
    /// But a directory or key that other users may write or read is an error: the
    /// key vouches for code this process will execute.
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
        let key = crate::fsutil::read_or_create_secret(&dir.join(".key"), 32)?;
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Ok(Cache {
            dir: dir.to_path_buf(),
            key,
            engine_hash: format!("{:016x}", hasher.finish()),
        })
    }

    fn entry_path(&self, sha256: &str) -> PathBuf {
        self.dir
            .join(format!("{sha256}-{}.cwasm", self.engine_hash))
    }

    fn tag(&self, bytes: &[u8]) -> Tag {
        let mut mac = Tag::new_from_slice(&self.key).expect("hmac takes keys of any length");
        mac.update(bytes);
        mac
    }

    /// The compiled component for `sha256`, if a valid entry exists.
    pub(crate) fn load(&self, engine: &Engine, sha256: &str) -> Option<Component> {
        let path = self.entry_path(sha256);
        let bytes = fs::read(&path).ok()?;
        if bytes.len() < TAG_LEN
            || self
                .tag(&bytes[TAG_LEN..])
                .verify_slice(&bytes[..TAG_LEN])
                .is_err()
        {
            tracing::warn!(
                "ignoring cache entry {} that this qhub did not write",
                path.display()
            );
            return None;
        }
        match deserialize(engine, &bytes[TAG_LEN..]) {
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
        let tag = self.tag(compiled).finalize().into_bytes();
        // Write beside the final name, then rename: readers never see half an entry.
        let mut tmp = tempfile_in(&self.dir)?;
        tmp.1.write_all(&tag)?;
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
    reason = "wasmtime requires unsafe to load precompiled code; callers pass only bytes whose HMAC proves this qhub wrote them"
)]
fn deserialize(engine: &Engine, compiled: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: `compiled` was produced by `Engine::precompile_component` of an engine
    // with the same compatibility hash (it is in the file name and wasmtime checks
    // it again), and its HMAC tag proves it was written by this installation.
    unsafe { Component::deserialize(engine, compiled) }
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

    #[test]
    fn entries_not_written_by_us_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::default();
        let cache = Cache::open(dir.path(), &engine).unwrap().unwrap();
        let sha = "ab".repeat(32);
        let path = cache.entry_path(&sha);
        // Garbage and a forged tag are both refused without touching wasmtime.
        fs::write(&path, b"short").unwrap();
        assert!(cache.load(&engine, &sha).is_none());
        let mut forged = vec![0u8; TAG_LEN];
        forged.extend_from_slice(b"\0asm\x0d\0\x01\0");
        fs::write(&path, forged).unwrap();
        assert!(cache.load(&engine, &sha).is_none());
    }

    #[test]
    fn key_and_directory_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let cache_dir = dir.path().join("cache");
        Cache::open(&cache_dir, &Engine::default()).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&cache_dir), 0o700);
        assert_eq!(mode(&cache_dir.join(".key")), 0o600);
    }

    #[test]
    fn an_exposed_key_is_refused_not_ignored() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::default();
        Cache::open(dir.path(), &engine).unwrap().unwrap();
        let key = dir.path().join(".key");
        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
        let err = Cache::open(dir.path(), &engine).unwrap_err();
        assert_eq!(err.path, key);
        assert!(err.hint().contains("chmod 600"), "{}", err.hint());
    }
}
