//! The CLI in a pipe whose reader has gone (`qhub whoami | head -c1`): the command
//! ends quietly with exit code 141, as a shell reports `cat` or `grep` ended by
//! SIGPIPE, instead of panicking with 101 and "failed printing to stdout".

use std::io::Read;
use std::process::Stdio;

use crate::harness::Qhub;

/// The exit code for a closed stdout (128 + SIGPIPE), see `host/cli/src/exit.rs`.
const CLOSED_STDOUT: i32 = 141;

/// Runs `qhub args...` with stdout a pipe whose read end is already closed.
fn run_into_closed_pipe(qhub: &Qhub, args: &[&str]) -> (i32, String) {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let out = qhub
        .command(args, &[])
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("the qhub binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    let qhub = Qhub::new();
    qhub.register("ada@example.com").ok();
    for args in [
        &["whoami"][..],
        &["whoami", "--json"],
        &["sessions", "list"],
        &["migrate", "info"],
        &["plugins", "list", "--json"],
    ] {
        let (code, stderr) = run_into_closed_pipe(&qhub, args);
        assert_eq!(code, CLOSED_STDOUT, "{args:?}: {stderr}");
        assert_eq!(stderr, "", "{args:?}: nothing is said");
    }
    // Nothing was lost: the session is still there.
    assert_eq!(
        qhub.run(&["whoami", "--json"]).json()["email"],
        "ada@example.com"
    );
}

/// A registration whose output nobody reads still saves its session first.
#[test]
fn a_register_into_a_closed_pipe_still_logs_in() {
    let qhub = Qhub::new();
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let mut child = qhub
        .command(
            &["register", "--email", "ada@example.com", "--password-stdin"],
            &[],
        )
        .stdin(Stdio::piped())
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .expect("the qhub binary runs");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{}", crate::harness::PASSWORD).unwrap();
    }
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(CLOSED_STDOUT), "{stderr}");
    assert_eq!(stderr, "");
    assert_eq!(
        qhub.run(&["whoami", "--json"]).json()["email"],
        "ada@example.com"
    );
}

/// `| head -c1`: the reader takes one byte and leaves. Whether qhub was still
/// writing then depends on timing, so either ending is right; a panic never is.
#[test]
fn a_reader_that_leaves_after_one_byte() {
    let qhub = Qhub::new();
    qhub.register("ada@example.com").ok();
    let (mut reader, writer) = std::io::pipe().expect("a pipe");
    let mut child = qhub
        .command(&["whoami"], &[])
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .expect("the qhub binary runs");
    let mut first = [0u8; 1];
    reader.read_exact(&mut first).unwrap();
    drop(reader);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let code = child.wait().unwrap().code();
    assert_eq!(first[0], b'a');
    assert!(
        code == Some(0) || code == Some(CLOSED_STDOUT),
        "{code:?}: {stderr}"
    );
    assert_eq!(stderr, "");
}
