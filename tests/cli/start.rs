//! Processes starting together on fresh state: first commands on one new
//! `QHUB_HOME`, `qhub migrate run` on one new database, `qhub serve` on one new
//! SQLite file. Every process must succeed; the others wait for the one that
//! migrates (or creates the secret) and then find it done.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

use crate::harness::{PASSWORD, Qhub, Run, on_both_databases, spawn_piped};

/// Spawns every command before waiting for any, feeding each `stdin`.
fn run_together(commands: Vec<(Command, Option<String>)>) -> Vec<Run> {
    let children: Vec<Child> = commands
        .into_iter()
        .map(|(mut command, stdin)| spawn_piped(&mut command, stdin.as_deref()))
        .collect();
    children.into_iter().map(Run::finish).collect()
}

/// Every migration version, applied by exactly one of the runs' `--json` outputs.
#[track_caller]
fn each_migration_applied_once(runs: &[Run]) {
    let mut applied: Vec<i64> = runs
        .iter()
        .flat_map(|run| {
            run.json()["applied"]
                .as_array()
                .unwrap_or_else(|| panic!("no `applied` list: {run:#?}"))
                .iter()
                .map(|v| v.as_i64().unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    applied.sort_unstable();
    assert_eq!(applied, [1, 2], "{runs:#?}");
}

on_both_databases! {
    /// Issue 10, kind 8: 26 of 40 first `register`s on a fresh home failed with
    /// "migration 1: table users already exists".
    fn eight_first_commands_on_a_fresh_home_all_succeed(qhub) {
        // A fresh home in full: the eight also race to fill its plugin cache.
        let qhub = qhub.with_own_cache();
        let emails: Vec<String> = (0..8).map(|i| format!("user{i}@example.com")).collect();
        let commands = emails
            .iter()
            .map(|email| {
                let args = ["register", "--json", "--email", email, "--password-stdin"];
                (qhub.command(&args, &[]), Some(format!("{PASSWORD}\n")))
            })
            .collect();
        let runs = run_together(commands);
        for (run, email) in runs.iter().zip(&emails) {
            assert_eq!(run.json()["user"]["email"], email.as_str());
        }

        // One secret, complete and private, and no temporary file left beside it.
        let secret = std::fs::read(qhub.path("jwt-secret")).unwrap();
        assert_eq!(secret.len(), 32);
        let names: Vec<String> = std::fs::read_dir(qhub.home())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(!names.iter().any(|n| n.contains(".tmp-")), "{names:?}");

        // The token the last of them saved was signed with that secret; so is
        // every later one, for each of the accounts.
        let saved = qhub.run(&["whoami", "--json"]).json();
        assert!(emails.contains(&saved["email"].as_str().unwrap().to_owned()), "{saved}");
        for email in &emails {
            qhub.login(email, PASSWORD).ok();
            assert_eq!(qhub.run(&["whoami", "--json"]).json()["email"], email.as_str());
        }
    }

    /// 5 of 6 parallel `qhub migrate run` failed on SQLite and on PostgreSQL.
    fn six_migrate_runs_on_a_fresh_database_all_succeed(qhub) {
        // On SQLite, a fresh file named by --database, as for a server's database.
        let database = format!("sqlite:{}", qhub.path("fresh.db").display());
        let commands = (0..6)
            .map(|_| {
                let mut args = vec!["migrate", "run", "--json"];
                if qhub.database_url().is_none() {
                    args.extend(["--database", database.as_str()]);
                }
                (qhub.command(&args, &[]), None)
            })
            .collect();
        let runs = run_together(commands);
        each_migration_applied_once(&runs);
        let mut info = qhub.command(&["migrate", "info", "--json"], &[]);
        if qhub.database_url().is_none() {
            info.args(["--database", database.as_str()]);
        }
        let info: Value = serde_json::from_slice(&info.output().unwrap().stdout).unwrap();
        assert_eq!(info[0]["applied"], true, "{info}");
        assert_eq!(info[1]["applied"], true, "{info}");
    }
}

/// A `qhub serve --database sqlite:PATH` process, stopped with SIGTERM when dropped.
struct Serving {
    child: Child,
    url: Option<String>,
    stdout: BufReader<std::process::ChildStdout>,
}

impl Serving {
    /// Under `umask 022`, so that the files' modes are qhub's doing.
    fn start(qhub: &Qhub, database: &str) -> Serving {
        let command = qhub.command(
            &["serve", "--listen", "127.0.0.1:0", "--database", database],
            &[("JWT_SECRET", "test-secret-that-is-at-least-32-bytes-long")],
        );
        let mut child = crate::home::with_umask_022(&command)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("qhub serve starts");
        let stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        Serving {
            child,
            url: None,
            stdout,
        }
    }

    /// Waits for the line saying where it listens; `None` if it exited instead.
    fn wait_listening(&mut self) -> Option<&str> {
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("reading stdout");
        self.url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .map(str::to_owned);
        self.url.as_deref()
    }

    /// SIGTERM (to this process only, not its group), then its exit status.
    fn stop(&mut self) -> std::process::ExitStatus {
        if let Ok(Some(status)) = self.child.try_wait() {
            return status;
        }
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        self.child.wait().expect("qhub serve exits")
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.stop();
    }
}

fn healthz(url: &str) -> (u16, Value) {
    let url = format!("{url}/healthz");
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async move {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let response = reqwest::get(url).await.expect("the server answers");
            let status = response.status().as_u16();
            (status, response.json().await.unwrap_or(Value::Null))
        })
}

/// One of three servers started together on a fresh SQLite file did not start.
/// Their database file and its `-wal` and `-shm` are private (issue 10, kind 6).
#[test]
fn three_servers_on_one_fresh_sqlite_file_all_start() {
    let qhub = Qhub::new().with_own_cache();
    let path = qhub.path("served.db");
    let database = format!("sqlite:{}", path.display());
    let mut servers: Vec<Serving> = (0..3).map(|_| Serving::start(&qhub, &database)).collect();
    for (i, server) in servers.iter_mut().enumerate() {
        let url = server
            .wait_listening()
            .unwrap_or_else(|| panic!("server {i} exited instead of listening"))
            .to_owned();
        assert_eq!(healthz(&url), (200, json!({"status": "ok"})), "server {i}");
    }
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", path.display());
        let mode = std::fs::metadata(&file)
            .unwrap_or_else(|e| panic!("{file}: {e}"))
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
    for server in &mut servers {
        let status = server.stop();
        assert!(
            status.success(),
            "qhub serve did not stop cleanly: {status}"
        );
    }
}
