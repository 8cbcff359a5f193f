//! The local `qhub` binary, run as a user would, in a throw-away `QHUB_HOME`.

use std::ffi::OsString;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A `qhub` binary with its own temporary `QHUB_HOME` (deleted when dropped).
#[derive(Debug)]
pub(crate) struct LocalQhub {
    binary: PathBuf,
    home: tempfile::TempDir,
}

/// What one run did.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    pub(crate) fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// The exit code and stderr on one line, for a failed check's detail.
    pub(crate) fn failure(&self) -> String {
        let code = self.code.map_or_else(
            || "killed by a signal".to_owned(),
            |c| format!("exit code {c}"),
        );
        let stderr: Vec<&str> = self
            .stderr
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        if stderr.is_empty() {
            code
        } else {
            format!("{code}: {}", stderr.join(" / "))
        }
    }
}

/// Whether a variable of the caller's environment would change what `qhub` does
/// (a token, a server, a database, secrets): the smoke test must run on its own
/// throw-away home only, whatever the CI job or the operator's shell has set.
fn is_qhub_setting(name: &str) -> bool {
    name.starts_with("QHUB_")
        || name.starts_with("CLOUDFLARE_")
        || matches!(name, "DATABASE_URL" | "JWT_SECRET")
}

impl LocalQhub {
    /// Prepares a fresh `QHUB_HOME` for `binary`.
    pub(crate) fn new(binary: &Path) -> Result<LocalQhub, String> {
        if !binary.is_file() {
            return Err(format!("{} is not a file", binary.display()));
        }
        let home = tempfile::Builder::new()
            .prefix("qhub-smoke-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary QHUB_HOME: {e}"))?;
        Ok(LocalQhub {
            binary: binary.to_owned(),
            home,
        })
    }

    /// Runs `qhub args...` with `stdin` written to its standard input, in the
    /// temporary home (also its working directory, so no `.env` of the caller's
    /// directory is read).
    pub(crate) fn run(&self, args: &[&str], stdin: Option<&str>) -> Result<Run, String> {
        let mut command = Command::new(&self.binary);
        command
            .args(args)
            .current_dir(self.home.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, _) in std::env::vars_os() {
            if name.to_str().is_some_and(is_qhub_setting) {
                command.env_remove::<OsString>(name);
            }
        }
        command.env("QHUB_HOME", self.home.path());
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.binary.display()))?;
        let mut pipe = child.stdin.take().expect("stdin is piped");
        if let Some(input) = stdin {
            // A qhub that exits before reading (a bad flag) closes the pipe: its
            // exit code and stderr say more than this write's error would.
            let _ = pipe.write_all(input.as_bytes());
        }
        drop(pipe);
        let out = child
            .wait_with_output()
            .map_err(|e| format!("waiting for {}: {e}", self.binary.display()))?;
        Ok(Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }

    /// Whether a login saved a token in `config.toml`, i.e. whether an account may
    /// exist that the smoke test must delete.
    pub(crate) fn has_token(&self) -> bool {
        std::fs::read_to_string(self.home.path().join("config.toml"))
            .is_ok_and(|config| config.lines().any(|l| l.trim_start().starts_with("token")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_that_would_redirect_qhub_are_not_passed_on() {
        for name in [
            "QHUB_TOKEN",
            "QHUB_SERVER",
            "QHUB_HOME",
            "DATABASE_URL",
            "JWT_SECRET",
            "CLOUDFLARE_API_TOKEN",
        ] {
            assert!(is_qhub_setting(name), "{name}");
        }
        for name in ["PATH", "HOME", "SSL_CERT_FILE", "LANG"] {
            assert!(!is_qhub_setting(name), "{name}");
        }
    }

    #[test]
    fn a_failure_is_one_line_with_the_exit_code() {
        let run = Run {
            code: Some(5),
            stdout: String::new(),
            stderr: "error: cannot reach the server\n\nhint: is it running?\n".into(),
        };
        assert!(!run.success());
        assert_eq!(
            run.failure(),
            "exit code 5: error: cannot reach the server / hint: is it running?"
        );
    }
}
