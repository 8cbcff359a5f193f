//! The missing-target path with stand-ins for rustc and rustup: shell scripts that
//! answer as the real ones do, so the tests need no second toolchain.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use super::*;

/// Held by each test from writing its fake tools to its last run of them. A
/// script being written is open for writing; a process another test forks at
/// that moment inherits that descriptor until it execs, and running the script
/// meanwhile fails with "Text file busy" (ETXTBSY). These are the only tests of
/// this crate that start processes, so taking turns among them rules that out.
static TOOLS: Mutex<()> = Mutex::new(());

/// A directory holding a fake `rustc` whose target library lives in `lib/`, and
/// a fake `rustup` that creates it (or fails, when `rustup_fails`).
struct Fakes {
    dir: tempfile::TempDir,
    _turn: MutexGuard<'static, ()>,
}

impl Fakes {
    fn new(rustup_fails: bool) -> Fakes {
        // A test that failed while holding the lock poisons it; the next may go on.
        let turn = TOOLS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let dir = tempfile::tempdir().expect("a temporary directory");
        let root = dir.path().display().to_string();
        script(
            &dir.path().join("rustc"),
            &format!("#!/bin/sh\necho '{root}/lib'\n"),
        );
        let rustup = if rustup_fails {
            "#!/bin/sh\necho 'error: toolchain \"custom\" does not support components' >&2\nexit 1\n"
                .to_owned()
        } else {
            format!("#!/bin/sh\necho \"$@\" > '{root}/rustup-args'\nmkdir -p '{root}/lib'\n")
        };
        script(&dir.path().join("rustup"), &rustup);
        Fakes { dir, _turn: turn }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn ensure(&self, rustup: &Path) -> (Result<TargetStatus, TargetError>, Vec<String>) {
        let mut said = Vec::new();
        let result = ensure_target(
            self.path("rustc").as_os_str(),
            rustup.as_os_str(),
            &mut |line: &str| said.push(line.to_owned()),
        );
        (result, said)
    }
}

fn script(path: &Path, text: &str) {
    fs::write(path, text).expect("writing a fake tool");
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[test]
fn a_present_target_is_left_alone() {
    let fakes = Fakes::new(false);
    fs::create_dir(fakes.path("lib")).expect("the target's library");
    let (result, said) = fakes.ensure(&fakes.path("rustup"));
    assert_eq!(result.expect("present"), TargetStatus::Present);
    assert!(said.is_empty(), "{said:?}");
    assert!(!fakes.path("rustup-args").exists(), "rustup was not run");
}

#[test]
fn a_missing_target_is_installed_with_rustup_saying_so_in_one_line() {
    let fakes = Fakes::new(false);
    let (result, said) = fakes.ensure(&fakes.path("rustup"));
    assert_eq!(result.expect("installed"), TargetStatus::Installed);
    assert_eq!(
        said,
        [
            "installing the Rust target wasm32-wasip2 for the plugins (rustup target add wasm32-wasip2)"
        ]
    );
    let args = fs::read_to_string(fakes.path("rustup-args")).expect("rustup ran");
    assert!(args.starts_with("target add wasm32-wasip2"), "{args}");
}

#[test]
fn without_rustup_the_error_is_one_line_and_a_hint() {
    let fakes = Fakes::new(false);
    let (result, _) = fakes.ensure(&fakes.path("no-such-rustup"));
    let message = result.expect_err("no rustup").to_string();
    assert_eq!(
        message,
        "the Rust target wasm32-wasip2 is not installed, and rustup is not there to install it\n\
         hint: install it with your toolchain's installer (with rustup: `rustup target add wasm32-wasip2`)"
    );
}

#[test]
fn a_failing_rustup_is_reported_with_its_own_error_line() {
    let fakes = Fakes::new(true);
    let (result, _) = fakes.ensure(&fakes.path("rustup"));
    let message = result.expect_err("rustup fails").to_string();
    let mut lines = message.lines();
    assert_eq!(
        lines.next(),
        Some(
            "the Rust target wasm32-wasip2 is not installed, and `rustup target add wasm32-wasip2` \
             failed (error: toolchain \"custom\" does not support components)"
        )
    );
    assert!(
        lines.next().is_some_and(|hint| hint.starts_with("hint: ")),
        "{message}"
    );
    assert_eq!(lines.next(), None);
}
