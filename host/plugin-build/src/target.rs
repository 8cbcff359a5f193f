//! Making sure the Rust target the plugins are built for is installed before a
//! build needs it.
//!
//! `rust-toolchain.toml` declares `wasm32-wasip2`, but rustup (1.29) adds a
//! toolchain file's targets only when it installs the toolchain itself: a machine
//! whose stable toolchain was already there lacks the target, and the nested cargo
//! build would then fail deep in its output. So the build asks rustc where the
//! target's standard library lives and, when it is missing, installs it with rustup
//! (saying so in one line), or fails with one error and a hint when there is no
//! rustup to do it.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::build::TARGET;

/// What [`ensure_target`] found or did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetStatus {
    /// The toolchain already had the target.
    Present,
    /// The target was missing and rustup installed it.
    Installed,
}

/// Why the plugins' target is not available.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// rustc could not be run to ask where the target's library lives.
    #[error("cannot run {program} to find the {TARGET} target: {source}")]
    Rustc {
        program: String,
        source: std::io::Error,
    },
    /// The target is missing and there is no rustup to install it.
    #[error(
        "the Rust target {TARGET} is not installed, and rustup is not there to install it\n\
         hint: install it with your toolchain's installer (with rustup: `rustup target add {TARGET}`)"
    )]
    NoRustup,
    /// rustup was there but could not install the target.
    #[error(
        "the Rust target {TARGET} is not installed, and `rustup target add {TARGET}` failed ({detail})\n\
         hint: run `rustup target add {TARGET}` yourself and read its message; a custom \
         (linked) toolchain needs the target built into it"
    )]
    InstallFailed { detail: String },
}

/// Makes sure the toolchain that `rustc` (as the nested build will run it)
/// belongs to has the plugins' target, installing it with `rustup` when missing.
/// `notify` gets the one line said before installing.
///
/// `rustc` and `rustup` are the programs to run: `"rustc"` and `"rustup"` as found
/// on `PATH` in a real build, so that rustup's proxies pick the same toolchain as
/// the nested cargo (through `RUSTUP_TOOLCHAIN` or `rust-toolchain.toml`).
pub fn ensure_target(
    rustc: &OsStr,
    rustup: &OsStr,
    notify: &mut dyn FnMut(&str),
) -> Result<TargetStatus, TargetError> {
    if target_libdir(rustc)?.is_some_and(|dir| dir.is_dir()) {
        return Ok(TargetStatus::Present);
    }
    notify(&format!(
        "installing the Rust target {TARGET} for the plugins (rustup target add {TARGET})"
    ));
    let mut add = Command::new(rustup);
    add.args(["target", "add", TARGET]);
    if let Some(toolchain) = std::env::var_os("RUSTUP_TOOLCHAIN") {
        add.arg("--toolchain").arg(toolchain);
    }
    let output = match add.output() {
        Ok(output) => output,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(TargetError::NoRustup);
        }
        Err(err) => {
            return Err(TargetError::InstallFailed {
                detail: err.to_string(),
            });
        }
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let detail = stderr
            .lines()
            .map(str::trim)
            .find(|line| line.starts_with("error"))
            .map_or_else(|| output.status.to_string(), str::to_owned);
        return Err(TargetError::InstallFailed { detail });
    }
    // Trust but verify: a rustup that says yes for another toolchain helps nobody.
    match target_libdir(rustc)? {
        Some(dir) if dir.is_dir() => Ok(TargetStatus::Installed),
        _ => Err(TargetError::InstallFailed {
            detail: "rustup succeeded, but rustc still has no library for the target".into(),
        }),
    }
}

/// Where `rustc` keeps the target's standard library (`--print target-libdir`),
/// or none when it does not say.
fn target_libdir(rustc: &OsStr) -> Result<Option<PathBuf>, TargetError> {
    let output = Command::new(rustc)
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
        .map_err(|source| TargetError::Rustc {
            program: Path::new(rustc).display().to_string(),
            source,
        })?;
    let printed = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    Ok((output.status.success() && !printed.is_empty()).then(|| PathBuf::from(printed)))
}

#[cfg(test)]
#[path = "target_tests.rs"]
mod tests;
