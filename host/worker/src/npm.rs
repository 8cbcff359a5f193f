//! The Node.js packages the Worker's build and `wrangler dev` need (jco, wrangler,
//! workerd), installed on demand from the committed `package-lock.json`, so that
//! `cargo test --workspace` and `cargo xtask build-worker` work on a fresh clone.

use std::path::Path;
use std::process::Command;

/// Why the Node.js packages could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum NpmError {
    #[error("cannot run npm: {0}\nhint: install Node.js 20 or later (it comes with npm)")]
    NoNpm(std::io::Error),
    #[error("`npm ci` failed ({0})\nhint: run `npm ci` at the repository root to see why")]
    Failed(std::process::ExitStatus),
    #[error("cannot lock {path}: {source}")]
    Lock {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// Runs `npm ci` at `root` unless `node_modules` is already installed from the
/// current `package-lock.json`. Concurrent callers (test processes) wait for one
/// another on a lock file instead of installing over each other.
pub fn ensure_packages(root: &Path) -> Result<(), NpmError> {
    let lock_path = root.join("target").join(".npm-ci.lock");
    let lock_err = |source| NpmError::Lock {
        path: lock_path.clone(),
        source,
    };
    if let Some(dir) = lock_path.parent() {
        std::fs::create_dir_all(dir).map_err(lock_err)?;
    }
    let lock = std::fs::File::create(&lock_path).map_err(lock_err)?;
    lock.lock().map_err(lock_err)?;
    if installed(root) {
        return Ok(());
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(root)
        // npm's progress goes where the caller's diagnostics go.
        .stdout(std::process::Stdio::inherit())
        .status()
        .map_err(NpmError::NoNpm)?;
    if !status.success() {
        return Err(NpmError::Failed(status));
    }
    Ok(())
}

/// Whether `node_modules` was installed from the current lock file: npm writes
/// `node_modules/.package-lock.json` on every install.
fn installed(root: &Path) -> bool {
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    match (
        modified(&root.join("package-lock.json")),
        modified(&root.join("node_modules/.package-lock.json")),
    ) {
        (Some(lock), Some(install)) => install >= lock,
        _ => false,
    }
}
