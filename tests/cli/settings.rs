//! One rule for settings (flags, then the environment, then `.env.local` and
//! `.env` in the working directory, then config.toml), secrets kept out of help
//! and logs, and `qhub serve`'s own database and secret, as the README's recipes
//! use them.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Stdio};

use crate::harness::{PASSWORD, Qhub, Run};

#[test]
fn no_help_prints_an_environment_value() {
    let qhub = Qhub::new();
    let secret = [
        ("DATABASE_URL", "postgres://u:secret@h/db"),
        ("QHUB_SERVER", "http://secret.example"),
    ];
    for args in [
        &["whoami", "--help"][..],
        &["--help"],
        &["serve", "--help"],
        &["migrate", "revert", "--help"],
    ] {
        let help = qhub.run_with(args, None, &secret);
        let text = help.ok();
        assert!(
            text.contains("DATABASE_URL"),
            "the variable is named: {text}"
        );
        assert!(!text.contains("secret"), "{args:?} shows a value: {text}");
    }
}

#[test]
fn dotenv_files_in_the_working_directory_are_read_by_every_command() {
    let qhub = Qhub::new();
    std::fs::write(qhub.path(".env"), "DATABASE_URL=sqlite:from-dotenv.db\n").unwrap();
    let info = qhub.run(&["migrate", "info"]);
    assert!(info.ok().contains("from-dotenv.db"), "{info:#?}");
    let status = qhub.run(&["status", "--json"]);
    let status: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(
        status["target"]["source"],
        serde_json::json!({"from": "dotenv", "name": "DATABASE_URL in .env"})
    );

    // .env.local wins over .env, the environment over both, a flag over all.
    std::fs::write(
        qhub.path(".env.local"),
        "DATABASE_URL=sqlite:from-local.db\n",
    )
    .unwrap();
    assert!(
        qhub.run(&["migrate", "info"])
            .ok()
            .contains("from-local.db")
    );
    let env = [("DATABASE_URL", "sqlite:from-env.db")];
    assert!(
        qhub.run_with(&["migrate", "info"], None, &env)
            .ok()
            .contains("from-env.db")
    );
    let flag = qhub.run_with(
        &["migrate", "info", "--database", "sqlite:from-flag.db"],
        None,
        &env,
    );
    assert!(flag.ok().contains("from-flag.db"), "{flag:#?}");

    std::fs::write(qhub.path(".env"), "not a line of NAME=value\n").unwrap();
    qhub.run(&["whoami"])
        .fails(2, "cannot read .env")
        .fails(2, "hint:");
}

#[test]
fn migrate_info_names_the_database_without_its_password() {
    let qhub = Qhub::postgres();
    let url = qhub
        .database_url()
        .unwrap()
        .replacen("postgres@", "postgres:hunter2@", 1);
    let info = qhub.run_with(&["migrate", "info"], None, &[("DATABASE_URL", &url)]);
    let text = info.ok();
    assert!(
        text.contains("database: postgres://postgres:***@"),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
}

/// `qhub serve` in `qhub`'s home with `env`, as a user starts it; its URL.
fn serve(qhub: &Qhub, env: &[(&str, &str)]) -> (Child, String) {
    let mut child = qhub
        .command(&["serve", "--listen", "127.0.0.1:0"], env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_owned();
    (child, url)
}

/// Stops a server with SIGTERM; what it logged on stderr.
fn stop(child: Child) -> String {
    let _ = std::process::Command::new("kill")
        .arg(child.id().to_string())
        .status();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The README's quick start then its Remote mode, as written: `qhub serve` with
/// neither DATABASE_URL nor JWT_SECRET keeps accounts apart from the quick
/// start's and keeps its tokens valid across a restart.
#[test]
fn the_readme_recipes_work_one_after_the_other() {
    let qhub = Qhub::new();
    qhub.register("ada@example.com").ok();

    let (server, url) = serve(&qhub, &[]);
    let remote = [("QHUB_SERVER", url.as_str())];
    let client =
        |args: &[&str], stdin: Option<&str>| -> Run { qhub.run_with(args, stdin, &remote) };
    client(
        &["register", "--email", "ada@example.com", "--password-stdin"],
        Some(&format!("{PASSWORD}\n")),
    )
    .ok();
    let logged = stop(server);
    assert!(
        logged.contains("server.db"),
        "serve says which database: {logged}"
    );
    assert!(
        logged.contains("plugin=auth"),
        "and which plugins: {logged}"
    );
    assert!(logged.contains("server-jwt-secret"), "{logged}");

    let (server, _) = serve_at(&qhub, &url);
    assert_eq!(
        qhub.run(&["whoami", "--json"]).json()["email"],
        "ada@example.com"
    );
    stop(server);
    let mode = std::fs::metadata(qhub.path("server-jwt-secret"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(qhub.path("server.db").exists());
}

/// Restarts a server on the port it had, so the saved login finds it again.
fn serve_at(qhub: &Qhub, url: &str) -> (Child, String) {
    let listen = url.trim_start_matches("http://").trim_end_matches('/');
    let mut child = qhub
        .command(&["serve", "--listen", listen], &[])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains(listen), "{line:?}");
    (child, url.to_owned())
}

#[test]
fn serve_logs_its_database_without_the_password() {
    let qhub = Qhub::postgres();
    let url = qhub
        .database_url()
        .unwrap()
        .replacen("postgres@", "postgres:hunter2@", 1);
    let (server, _) = serve(&qhub, &[("DATABASE_URL", &url)]);
    let logged = stop(server);
    assert!(logged.contains("postgres://postgres:***@"), "{logged}");
    assert!(!logged.contains("hunter2"), "{logged}");
    assert!(logged.contains("plugin=store-postgres"), "{logged}");
}
