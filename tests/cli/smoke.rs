//! `cargo xtask smoke URL`, run for real: the `qhub-smoke` checks against a local
//! `qhub serve` (SQLite and PostgreSQL) and the Worker under `wrangler dev`, with
//! this build's `qhub` binary, as the production pipeline runs them after a deploy.

use serde_json::json;

use crate::harness::PASSWORD;
use crate::server::on_every_host;
use qhub_smoke::plugins::Verdict;
use qhub_smoke::{Report, Status};

/// Runs every smoke check against `url` with this build's `qhub`.
fn smoke(url: &str) -> Report {
    let options = qhub_smoke::Options {
        url: url.to_owned(),
        qhub: env!("CARGO_BIN_EXE_qhub").into(),
    };
    let mut seen = Vec::new();
    let report = qhub_smoke::run(&options, &mut |check| seen.push(check.clone()));
    assert_eq!(seen, report.checks, "every check is reported as it ends");
    report
}

fn statuses(report: &Report) -> Vec<(&str, Status)> {
    report.checks.iter().map(|c| (c.name, c.status)).collect()
}

on_every_host! {
    fn the_smoke_test_passes_and_leaves_no_account_behind(server) {
        let report = smoke(&format!("{}/", server.url));
        assert!(report.ok, "{report:#?}");
        assert!(report.failed.is_empty());
        assert_eq!(
            statuses(&report),
            [
                ("healthz", Status::Ok),
                ("plugins", Status::Ok),
                ("register", Status::Ok),
                ("whoami", Status::Ok),
                ("delete", Status::Ok),
            ],
        );
        assert!(report.email.starts_with("smoke-") && report.email.ends_with("@example.com"));
        // The core and the backend the server runs were compared with this build's.
        let matched: Vec<&str> = report
            .plugins
            .iter()
            .filter(|p| p.verdict == Verdict::Match)
            .map(|p| p.name.as_str())
            .collect();
        assert!(matched.contains(&"auth"), "{report:#?}");
        assert!(
            matched.contains(&"store-d1") || matched.contains(&"store-postgres"),
            "{report:#?}"
        );
        // The account is gone: its email can be registered again.
        let body = json!({"email": report.email, "password": PASSWORD}).to_string();
        let (status, answer) = server.http("POST", "/v1/accounts", Some(&body), None);
        assert_eq!(status, 201, "{answer}");
        // The --json summary carries the same facts.
        let summary = serde_json::to_value(&report).unwrap();
        assert_eq!(summary["ok"], true);
        assert_eq!(summary["checks"][4]["name"], "delete");
        assert_eq!(summary["checks"][4]["status"], "ok");
    }
}

#[test]
fn the_smoke_test_fails_naming_each_failed_check_when_nothing_answers() {
    // A port nothing listens on any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let report = smoke(&format!("http://127.0.0.1:{port}"));
    assert!(!report.ok);
    assert_eq!(report.failed, ["healthz", "plugins", "register"]);
    assert_eq!(report.first_failure().unwrap().name, "healthz");
    assert_eq!(
        statuses(&report),
        [
            ("healthz", Status::Failed),
            ("plugins", Status::Failed),
            ("register", Status::Failed),
            ("whoami", Status::Skipped),
            ("delete", Status::Skipped),
        ],
    );
    // The register line carries the CLI's own error.
    let register = &report.checks[2];
    assert!(register.detail.contains("exit code 5"), "{register:#?}");
    assert!(register.to_string().starts_with("FAILED  register "));
}
