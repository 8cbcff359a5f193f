//! Preferences, quota, jobs, export and delete, on both databases.

use crate::harness::{PASSWORD, Qhub, on_both_databases};

const BELL: &str = "OPENQASM 3.0;\ninclude \"stdgates.inc\";\nqubit[2] q;\nbit[2] c;\nh q[0];\ncx q[0], q[1];\nc = measure q;\n";

fn write(qhub: &Qhub, name: &str, text: &str) -> String {
    let path = qhub.path(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

on_both_databases! {
    fn preferences_hold_json_values(qhub) {
        qhub.register("ada@example.com").ok();
        qhub.run(&["prefs", "set", "editor.theme", "\"dark\""]).ok();
        qhub.run(&["prefs", "set", "shots", "42"]).ok();
        qhub.run(&["prefs", "set", "layout", "{\"panes\": [1, 2]}"]).ok();
        qhub.run(&["prefs", "set", "shots", "64"]).ok();
        let all = qhub.run(&["prefs", "get", "--json"]).json();
        assert_eq!(all, serde_json::json!({"editor.theme": "dark", "layout": {"panes": [1, 2]}, "shots": 64}));
        assert_eq!(qhub.run(&["prefs", "get", "editor.theme"]).ok().trim(), "\"dark\"");

        qhub.run(&["prefs", "set", "editor.theme", "dark"])
            .fails(3, "JSON")
            .fails(3, "hint: values are JSON; for a string write '\"dark\"'");
        qhub.run(&["prefs", "set", "Bad Key", "1"]).fails(3, "preference keys");
        // A key a URL path cannot carry is a usage error, before anything is sent.
        qhub.run(&["prefs", "set", "..", "1"]).fails(2, "cannot name anything here");
        qhub.run(&["prefs", "unset", "."]).fails(2, "cannot name anything here");
        qhub.run(&["prefs", "unset", "editor.theme"]).ok();
        qhub.run(&["prefs", "unset", "editor.theme"]).fails(3, "not set");
        qhub.run(&["prefs", "get", "editor.theme"]).fails(3, "is not set");
    }

    fn jobs_are_validated_counted_and_refused_past_the_quota(qhub) {
        let quota = [("QHUB_QUOTA_MONTHLY_JOBS", "3")];
        let run = |args: &[&str]| qhub.run_with(args, None, &quota);
        qhub.register("ada@example.com").ok();
        let bell = write(&qhub, "bell.qasm", BELL);

        let first = run(&["jobs", "submit", &bell, "--shots", "100", "--json"]).json();
        assert_eq!(first["status"], "queued");
        assert_eq!(first["shots"], 100);
        run(&["jobs", "submit", &bell]).ok();
        run(&["jobs", "submit", &bell]).ok();
        run(&["jobs", "submit", &bell]).fails(3, "quota").fails(3, "hint: see `qhub usage`");

        let usage = run(&["usage", "--json"]).json();
        assert_eq!((usage["jobs_used"].clone(), usage["jobs_limit"].clone()), (3.into(), 3.into()));
        assert_eq!(usage["shots_used"], 100 + 2 * 1024);
        assert!(run(&["usage"]).ok().contains("0 remaining"));

        let listed = run(&["jobs", "list", "--json"]).json();
        assert_eq!(listed.as_array().unwrap().len(), 3);
        let id = first["id"].as_str().unwrap();
        assert!(run(&["jobs", "show", id]).ok().contains("OPENQASM 3.0;"));
        assert_eq!(run(&["jobs", "cancel", id, "--json"]).json()["status"], "cancelled");
        run(&["jobs", "cancel", id]).fails(3, "already cancelled");
        assert_eq!(run(&["jobs", "list", "--status", "cancelled", "--json"]).json().as_array().unwrap().len(), 1);
        assert_eq!(run(&["jobs", "list", "--status", "queued", "--json"]).json().as_array().unwrap().len(), 2);
        run(&["jobs", "list", "--status", "bogus"]).fails(2, "unknown job status");
        run(&["jobs", "show", "00000000-0000-4000-8000-000000000000"]).fails(3, "no such job");

        // Malformed input gets a clear error and is not counted.
        let empty = write(&qhub, "empty.qasm", "  \n");
        let prose = write(&qhub, "prose.qasm", "hello");
        let ok = [("QHUB_QUOTA_MONTHLY_JOBS", "100")];
        qhub.run_with(&["jobs", "submit", &empty], None, &ok).fails(3, "empty");
        qhub.run_with(&["jobs", "submit", &prose], None, &ok).fails(3, "OpenQASM");
        qhub.run_with(&["jobs", "submit", &bell, "--shots", "0"], None, &ok).fails(3, "shots must be between");
        qhub.run_with(&["jobs", "submit", "missing.qasm"], None, &ok).fails(2, "cannot read");
        assert_eq!(qhub.run_with(&["usage", "--json"], None, &ok).json()["jobs_used"], 3);
    }

    /// A job source up to the core's 256 KiB is accepted in the embedded mode too,
    /// where the request never crosses a network (the body cap is 1 MiB).
    fn a_large_job_source_is_accepted_up_to_its_limit(qhub) {
        qhub.register("ada@example.com").ok();
        let line = "// padding padding padding padding padding padding padding padding\n";
        let mut source = String::from("OPENQASM 2.0;\nqreg q[1];\n");
        while source.len() + line.len() <= 250 * 1024 {
            source.push_str(line);
        }
        let big = write(&qhub, "big.qasm", &source);
        let job = qhub.run(&["jobs", "submit", &big, "--shots", "1", "--json"]).json();
        assert_eq!(job["source"].as_str().map(str::len), Some(source.len()));
        source.push_str(&line.repeat(200));
        let too_big = write(&qhub, "too-big.qasm", &source);
        qhub.run(&["jobs", "submit", &too_big]).fails(3, "at most 256 KiB");
    }

    fn jobs_take_stdin_and_short_ids_and_usage_groups_thousands(qhub) {
        qhub.register("ada@example.com").ok();
        let first = qhub.run_with(&["jobs", "submit", "-", "--json"], Some(BELL), &[]).json();
        assert_eq!(first["source"], BELL);
        let second = qhub.run_with(&["jobs", "submit", "-", "--json"], Some(BELL), &[]).json();
        let (first, second) = (first["id"].as_str().unwrap(), second["id"].as_str().unwrap());
        qhub.run_with(&["jobs", "submit", "-"], Some(""), &[]).fails(3, "empty");

        // A unique start of an id works, as in git; a too short one does not.
        let shown = qhub.run(&["jobs", "show", &first[..8], "--json"]).json();
        assert_eq!(shown["id"], first);
        assert_eq!(qhub.run(&["jobs", "cancel", &second[..6], "--json"]).json()["id"], second);
        qhub.run(&["jobs", "show", &first[..3]]).fails(2, "too short").fails(2, "hint: give at least 4");
        // (An ambiguous start, which random ids rarely give, is short_id.rs's unit test.)
        qhub.run(&["jobs", "show", "ffffffff"]).fails(3, "no such job");

        // Text groups thousands as the README writes them; JSON keeps numbers.
        let usage = qhub.run(&["usage"]);
        assert!(usage.ok().contains("1,000,000"), "{usage:#?}");
        assert!(usage.ok().contains("2,048"), "{usage:#?}");
        assert_eq!(qhub.run(&["usage", "--json"]).json()["shots_limit"], 1_000_000);
    }

    fn export_holds_the_data_and_delete_removes_the_account(qhub) {
        qhub.register("ada@example.com").ok();
        qhub.run(&["prefs", "set", "theme", "\"dark\""]).ok();
        let bell = write(&qhub, "bell.qasm", BELL);
        qhub.run(&["jobs", "submit", &bell]).ok();

        let export = qhub.run(&["account", "export"]);
        let text = export.ok().to_owned();
        let doc = export.json();
        assert_eq!(doc["user"]["email"], "ada@example.com");
        assert_eq!(doc["preferences"]["theme"], "dark");
        assert_eq!(doc["jobs"].as_array().unwrap().len(), 1);
        // The same RFC 3339 timestamps as every other answer, not epoch milliseconds.
        let me = qhub.run(&["whoami", "--json"]).json();
        assert_eq!(doc["user"]["created_at"], me["created_at"], "{doc}");
        assert!(doc["jobs"][0]["created_at"].as_str().unwrap().ends_with('Z'), "{doc}");
        assert!(!text.contains("$argon2") && !text.contains("password_hash"), "no secrets: {text}");

        qhub.run(&["account", "delete"]).fails(2, "hint: pass --yes");
        qhub.run(&["whoami"]).ok();
        assert!(qhub.run(&["account", "delete", "--yes"]).ok().contains("deleted ada@example.com"));
        qhub.run(&["whoami"]).fails(4, "not logged in");
        qhub.login("ada@example.com", PASSWORD).fails(3, "invalid email or password");
        qhub.register("ada@example.com").ok();
    }
}
