//! Snapshots of what users read: the `--help` of every command, the errors users
//! meet with their hints, and the shape of every `--json` output. A change to any
//! of them fails here until it is reviewed and accepted (see README, "Tests").
//!
//! Snapshots live in tests/cli/snapshots/. Values that change from run to run (ids,
//! timestamps, tokens, hashes, the temporary QHUB_HOME) are redacted, help is
//! rendered at a fixed width, and no variable of the developer's reaches the binary
//! (see the harness), so the snapshots are the same on every machine.

use std::collections::BTreeSet;

use insta::Settings;

use crate::harness::{PASSWORD, Qhub, Run};

/// Help is wrapped at this width whatever the terminal (clap reads COLUMNS).
const COLUMNS: &str = "100";

/// Settings shared by every snapshot here: files named by the snapshot alone.
fn settings() -> Settings {
    let mut settings = Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings
}

// ---- --help ----------------------------------------------------------------------

/// The subcommands a help text lists under "Commands:", without clap's `help`.
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|line| line.trim_end() != "Commands:")
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        // Entries start at two spaces; wrapped descriptions are indented further.
        .filter(|line| line.starts_with("  ") && !line.starts_with("   "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn help_lists_are_read_from_the_commands_section() {
    let help = "Usage: qhub keys <COMMAND>\n\nCommands:\n  create  Create a key;\n          \
                wrapped line\n  list    List keys\n  help    Print this message\n\nOptions:\n  -h\n";
    assert_eq!(subcommands(help), ["create", "list"]);
    assert!(subcommands("Usage: qhub whoami\n\nOptions:\n  -h\n").is_empty());
}

/// `qhub PATH... --help` of every command, found by walking the tree from `qhub
/// --help`: a new command gets its snapshot without anyone listing it here.
#[test]
fn help_of_every_command() {
    let qhub = Qhub::new();
    let mut pending = vec![Vec::<String>::new()];
    let mut seen = BTreeSet::new();
    while let Some(path) = pending.pop() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let run = qhub.run_with(&args, None, &[("COLUMNS", COLUMNS)]);
        let help = run.ok().to_owned();
        assert_eq!(run.stderr, "", "{args:?}");
        let name = std::iter::once("qhub")
            .chain(path.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join("-");
        settings().bind(|| insta::assert_snapshot!(format!("help-{name}"), help));
        seen.insert(name);
        for sub in subcommands(&help) {
            let mut child = path.clone();
            child.push(sub);
            pending.push(child);
        }
    }
    // The walk found the nested commands, not only the top level.
    for expected in [
        "qhub",
        "qhub-keys-create",
        "qhub-account-connections-unlink",
        "qhub-completions",
    ] {
        assert!(seen.contains(expected), "no {expected} in {seen:?}");
    }
}

// ---- errors -----------------------------------------------------------------------

/// `error: ...`, `hint: ...` and the exit code, as a user sees them, with the
/// temporary home replaced.
fn error_text(qhub: &Qhub, run: &Run) -> String {
    assert_ne!(run.code, 0, "expected a failure: {run:#?}");
    assert_eq!(
        run.stdout, "",
        "an error prints nothing on stdout: {run:#?}"
    );
    let home = qhub.home().display().to_string();
    format!(
        "exit code: {}\n{}",
        run.code,
        run.stderr.replace(&home, "[QHUB_HOME]")
    )
}

#[test]
fn errors_users_meet() {
    let qhub = Qhub::new();
    let fresh = Qhub::new();
    let check = |name: &str, qhub: &Qhub, run: Run| {
        let text = error_text(qhub, &run);
        settings().bind(|| insta::assert_snapshot!(format!("error-{name}"), text));
    };
    let with_password =
        |args: &[&str], password: &str| qhub.run_with(args, Some(&format!("{password}\n")), &[]);

    // Before any account exists.
    check("not-logged-in", &fresh, fresh.run(&["whoami"]));
    check("mistyped-command", &fresh, fresh.run(&["regster"]));
    check("missing-argument", &fresh, fresh.run(&["keys", "create"]));
    check(
        "bad-email",
        &qhub,
        with_password(
            &["register", "--email", "not-an-email", "--password-stdin"],
            PASSWORD,
        ),
    );
    check(
        "weak-password",
        &qhub,
        with_password(
            &["register", "--email", "ada@example.com", "--password-stdin"],
            "short",
        ),
    );
    check(
        "no-password-given",
        &qhub,
        qhub.run(&["register", "--email", "ada@example.com", "--password-stdin"]),
    );

    qhub.register("ada@example.com").ok();
    check("email-taken", &qhub, qhub.register("ada@example.com"));
    check(
        "wrong-password",
        &qhub,
        qhub.login("ada@example.com", "not the password"),
    );
    check(
        "unknown-job-id",
        &qhub,
        qhub.run(&["jobs", "show", "00000000-0000-4000-8000-000000000000"]),
    );
    check(
        "job-file-missing",
        &qhub,
        qhub.run(&["jobs", "submit", "missing.qasm"]),
    );
    check(
        "bad-preference-json",
        &qhub,
        qhub.run(&["prefs", "set", "editor.theme", "dark"]),
    );
    check(
        "unknown-scope",
        &qhub,
        qhub.run(&["keys", "create", "--name", "ci", "--scope", "root"]),
    );
    check(
        "bad-key-lifetime",
        &qhub,
        qhub.run(&["keys", "create", "--name", "ci", "--expires-in", "30"]),
    );
    check(
        "unknown-key-id",
        &qhub,
        qhub.run(&["keys", "revoke", "nope"]),
    );
    check(
        "unknown-session-id",
        &qhub,
        qhub.run(&["sessions", "revoke", "nope"]),
    );
    check(
        "invalid-token",
        &qhub,
        qhub.run_with(&["whoami"], None, &[("QHUB_TOKEN", "not-a-token")]),
    );
    check(
        "bad-database-url",
        &qhub,
        qhub.run(&["--database", "mysql://localhost/qhub", "whoami"]),
    );
    check(
        "unknown-plugin",
        &qhub,
        qhub.run(&["plugins", "inspect", "nope"]),
    );
    // Port 9 (discard) on loopback: nothing listens there.
    check(
        "server-unreachable",
        &qhub,
        qhub.run(&["--server", "http://127.0.0.1:9", "whoami"]),
    );
}

// ---- --json shapes ----------------------------------------------------------------

/// Keys whose values differ from run to run: ids, timestamps, secrets, hashes.
const VOLATILE: &[&str] = &[
    "id",
    "user_id",
    "session_id",
    "key_id",
    "created_at",
    "updated_at",
    "expires_at",
    "last_used_at",
    "last_seen_at",
    "submitted_at",
    "started_at",
    "finished_at",
    "completed_at",
    "cancelled_at",
    "linked_at",
    "token",
    "secret",
    "prefix",
    "sha256",
    "period_start",
    "period_end",
    "resets_at",
    // The month the quota counts ("2026-11") and the device ("... on HOSTNAME").
    "period",
    "user_agent",
];

/// Replaces the value of every [`VOLATILE`] key, at any depth, with `"[key]"`; a
/// `null` stays `null`, so whether a value is set remains part of the shape.
///
/// Done here rather than with insta's `redactions` feature, whose selector parser
/// (pest) brings a second version of the `object` crate into the build.
fn redact(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                if VOLATILE.contains(&key.as_str()) && !value.is_null() {
                    *value = serde_json::Value::String(format!("[{key}]"));
                } else {
                    redact(value);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

#[test]
fn redaction_replaces_volatile_values_at_any_depth() {
    let mut value = serde_json::json!({
        "key": {"id": "k1", "name": "ci", "expires_at": null},
        "items": [{"sha256": "ab"}],
        "secret": "qhk_x",
    });
    redact(&mut value);
    assert_eq!(
        value,
        serde_json::json!({
            "key": {"id": "[id]", "name": "ci", "expires_at": null},
            "items": [{"sha256": "[sha256]"}],
            "secret": "[secret]",
        })
    );
}

/// Snapshots `run`'s JSON, redacted (see [`redact`]), as serde_json prints it:
/// numbers keep their digits (insta's own JSON writer would show the workspace's
/// `arbitrary_precision` numbers as objects).
fn check_json(name: &str, run: &Run) {
    let mut value = run.json();
    redact(&mut value);
    let text = serde_json::to_string_pretty(&value).expect("JSON serialises");
    settings().bind(|| insta::assert_snapshot!(format!("json-{name}"), text));
}

#[test]
fn json_shapes() {
    let qhub = Qhub::new();
    let json = |args: &[&str]| {
        let mut args = args.to_vec();
        args.push("--json");
        qhub.run(&args)
    };
    check_json(
        "register",
        &qhub.run_with(
            &[
                "register",
                "--email",
                "ada@example.com",
                "--password-stdin",
                "--json",
            ],
            Some(&format!("{PASSWORD}\n")),
            &[],
        ),
    );
    check_json(
        "login",
        &qhub.run_with(
            &[
                "login",
                "--email",
                "ada@example.com",
                "--password-stdin",
                "--json",
            ],
            Some(&format!("{PASSWORD}\n")),
            &[],
        ),
    );
    check_json("whoami", &json(&["whoami"]));
    check_json("sessions-list", &json(&["sessions", "list"]));

    check_json(
        "keys-create",
        &json(&[
            "keys",
            "create",
            "--name",
            "ci",
            "--scope",
            "jobs:read",
            "--expires-in",
            "30d",
        ]),
    );
    check_json("keys-list", &json(&["keys", "list"]));

    let bell = qhub.path("bell.qasm");
    std::fs::write(
        &bell,
        "OPENQASM 2.0;\nqreg q[2];\ncreg c[2];\nh q[0];\ncx q[0],q[1];\nmeasure q -> c;\n",
    )
    .expect("writing bell.qasm");
    let submitted = json(&["jobs", "submit", "bell.qasm", "--shots", "100"]);
    check_json("jobs-submit", &submitted);
    let job = submitted.json()["id"]
        .as_str()
        .expect("a job id")
        .to_owned();
    check_json("jobs-list", &json(&["jobs", "list"]));
    check_json("jobs-show", &json(&["jobs", "show", &job]));
    check_json("jobs-cancel", &json(&["jobs", "cancel", &job]));
    check_json("usage", &json(&["usage"]));

    json(&["prefs", "set", "editor.theme", "\"dark\""]).ok();
    json(&["prefs", "set", "shots", "2048"]).ok();
    check_json("prefs-get", &json(&["prefs", "get"]));
    check_json("prefs-get-key", &json(&["prefs", "get", "shots"]));
    check_json("account-connections", &json(&["account", "connections"]));
    check_json("account-export", &json(&["account", "export"]));

    check_json("plugins-list", &json(&["plugins", "list"]));
    check_json("plugins-inspect", &json(&["plugins", "inspect", "auth"]));
    check_json("migrate-info", &json(&["migrate", "info"]));
    check_json("migrate-run", &json(&["migrate", "run"]));

    check_json("logout", &json(&["logout"]));
}
