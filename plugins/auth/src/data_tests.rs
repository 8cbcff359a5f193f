//! Tests of the data flows (preferences, quota, jobs, export, deletion) over the
//! in-memory store, and of the rules behind them.

use super::*;
use crate::accounts::{Client, Registration, SignedIn};
use crate::error::AuthFailure;
use crate::memory_store::MemoryStore;
use crate::token::Tokens;

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
/// 2026-11-26T00:00:00Z.
const NOW: Timestamp = 1_795_651_200_000;
const QASM: &str = "OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[1];\n";

fn accounts() -> Accounts<MemoryStore> {
    Accounts::new(MemoryStore::default(), Tokens::new(SECRET, "qhub"))
}

fn no_config(_: &str) -> Option<String> {
    None
}

fn register(accounts: &Accounts<MemoryStore>, email: &str) -> SignedIn {
    let request = Registration {
        email: email.into(),
        password: "correct horse battery".into(),
        display_name: None,
    };
    accounts
        .register(request, Client::default(), NOW)
        .expect("registration succeeds")
}

fn job(shots: u32) -> JobRequest {
    JobRequest {
        source: QASM.into(),
        shots,
        backend: None,
    }
}

fn message<T: std::fmt::Debug>(result: Result<T, Error>) -> String {
    result.expect_err("must fail").to_string()
}

#[test]
fn preference_keys() {
    fn check(key: &str, valid: bool) {
        assert_eq!(check_key(key).is_ok(), valid, "{key:?}");
    }
    check("theme", true);
    check("cli.output-format_v2", true);
    check("0", true);
    check(&"a".repeat(64), true);
    check(&"a".repeat(65), false);
    check("", false);
    check("Theme", false);
    check("the me", false);
    check("thème", false);
    check("a/b", false);
    check(".", false);
    check("..", false);
    check("...", false);
    check(".a", true);
    assert_eq!(
        message(check_key("A")),
        "preference keys are 1 to 64 characters of a-z, 0-9, '.', '_' or '-', not only dots"
    );
}

#[test]
fn preference_values() {
    fn check(value: &str, expected: Result<&str, &str>) {
        let got = compact_json(value).map_err(|error| error.to_string());
        assert_eq!(
            got.as_deref(),
            expected.map_err(str::to_owned).as_deref(),
            "{value:?}"
        );
    }
    check(
        "{ \"a\" : [1, 2],\n \"b\": null }",
        Ok("{\"a\":[1,2],\"b\":null}"),
    );
    check(" \"dark\" ", Ok("\"dark\""));
    check("42", Ok("42"));
    check("true", Ok("true"));
    // Numbers keep their digits (issue 10, kind 9): never rounded through a float.
    check("18446744073709551616", Ok("18446744073709551616"));
    check(
        "{\"id\": 99999999999999999999}",
        Ok("{\"id\":99999999999999999999}"),
    );
    check("-1.000000000000000000001", Ok("-1.000000000000000000001"));
    // The digits stay; serde_json only writes the exponent's sign.
    check("1e400", Ok("1e+400"));
    // U+0000 inside a string or key (kind 4): PostgreSQL's jsonb refuses it.
    const NUL: &str =
        "the preference value must not contain the NUL character (\\u0000) in a string or key";
    check("\"a\\u0000b\"", Err(NUL));
    check("{\"k\\u0000\": 1}", Err(NUL));
    check("[[{\"x\": \"\\u0000\"}]]", Err(NUL));
    check("\"\\u0001\"", Ok("\"\\u0001\""));
    check(
        "dark",
        Err("the preference value is not valid JSON: expected value at line 1 column 1"),
    );
    check(
        "",
        Err("the preference value is not valid JSON: EOF while parsing a value at line 1 column 0"),
    );
    check(
        "{\"a\":1} x",
        Err("the preference value is not valid JSON: trailing characters at line 1 column 9"),
    );
    // The limit applies to what is stored: 16 KiB of compact JSON.
    let largest = format!("\"{}\"", "x".repeat(16 * 1024 - 2));
    assert_eq!(compact_json(&largest).as_deref(), Ok(largest.as_str()));
    let padded = format!("  {largest}  ");
    assert_eq!(compact_json(&padded).as_deref(), Ok(largest.as_str()));
    check(
        &format!("\"{}\"", "x".repeat(16 * 1024 - 1)),
        Err("the preference value must be at most 16 KiB as compact JSON"),
    );
}

#[test]
fn preferences_are_set_listed_and_unset_per_user() {
    let accounts = accounts();
    let data = AccountData::new(&accounts, no_config);
    let ada = register(&accounts, "ada@example.com");
    let bob = register(&accounts, "bob@example.com");

    data.set_preference(&ada.token, "theme", "{ \"mode\": \"dark\" }", NOW)
        .expect("set succeeds");
    data.set_preference(&ada.token, "theme", "\"light\"", NOW + 1)
        .expect("overwrite succeeds");
    data.set_preference(&bob.token, "editor", "\"vim\"", NOW)
        .expect("set succeeds");
    let listed = data
        .list_preferences(&ada.token, NOW)
        .expect("list succeeds");
    assert_eq!(
        listed,
        [Preference {
            key: "theme".into(),
            value: "\"light\"".into(),
            updated_at: NOW + 1,
        }]
    );

    // Bob's key is not Ada's to remove.
    assert_eq!(
        data.unset_preference(&ada.token, "editor", NOW),
        Err(Error::PreferenceNotSet)
    );
    data.unset_preference(&ada.token, "theme", NOW)
        .expect("unset succeeds");
    assert_eq!(
        message(data.unset_preference(&ada.token, "theme", NOW)),
        "preference not set"
    );
    assert!(
        data.list_preferences(&ada.token, NOW)
            .expect("list")
            .is_empty()
    );
    assert_eq!(
        data.list_preferences(&bob.token, NOW).expect("list").len(),
        1
    );

    // Invalid input writes nothing.
    let writes = accounts.store().writes.borrow().len();
    assert!(data.set_preference(&ada.token, "Bad", "1", NOW).is_err());
    assert!(data.set_preference(&ada.token, "ok", "nope", NOW).is_err());
    assert_eq!(accounts.store().writes.borrow().len(), writes);
}

#[test]
fn job_requests() {
    fn check(source: &str, shots: u32, backend: Option<&str>, expected: Result<&str, &str>) {
        let got = check_source(source)
            .and_then(|()| check_shots(shots))
            .and_then(|()| backend_name(backend.map(str::to_owned)))
            .map_err(|error| error.to_string());
        assert_eq!(
            got.as_deref(),
            expected.map_err(str::to_owned).as_deref(),
            "{source:?} {shots} {backend:?}"
        );
    }
    const NOT_QASM: &str =
        "the source is not OpenQASM: it must start with an OPENQASM 2.x or 3.x declaration";
    check(QASM, 1, None, Ok("simulator"));
    check(
        "  \n OPENQASM 3;\nqubit q;",
        100_000,
        Some("ibm_kyiv-2"),
        Ok("ibm_kyiv-2"),
    );
    check("OPENQASM 3.0;", 10, None, Ok("simulator"));
    check("OPENQASM\t2", 10, None, Ok("simulator"));
    check("", 10, None, Err("the job source is empty"));
    check(" \n\t ", 10, None, Err("the job source is empty"));
    check("qreg q[1];", 10, None, Err(NOT_QASM));
    check("OPENQASM 4.0;", 10, None, Err(NOT_QASM));
    check("OPENQASM 20;", 10, None, Err(NOT_QASM));
    check("OPENQASM 2.;", 10, None, Err(NOT_QASM));
    check("OPENQASM2.0;", 10, None, Err(NOT_QASM));
    check("openqasm 2.0;", 10, None, Err(NOT_QASM));
    check("// c\nOPENQASM 2.0;", 10, None, Err(NOT_QASM));
    // Line breaks and tabs are source text; other control characters are not.
    const CONTROL: &str = "job source must not contain NUL or other control characters";
    check("OPENQASM 3;\r\n\tqubit q;", 10, None, Ok("simulator"));
    check("OPENQASM 3;\nqubit q;\0", 10, None, Err(CONTROL));
    check("OPENQASM 3;\u{1b}", 10, None, Err(CONTROL));
    let huge = format!("OPENQASM 3;\n{}", "x".repeat(256 * 1024));
    check(
        &huge,
        10,
        None,
        Err("the job source must be at most 256 KiB"),
    );
    check(QASM, 0, None, Err("shots must be between 1 and 100000"));
    check(
        QASM,
        100_001,
        None,
        Err("shots must be between 1 and 100000"),
    );
    const BAD_BACKEND: &str = "backend names are 1 to 32 characters of a-z, 0-9, '_' or '-'";
    check(QASM, 1, Some(""), Err(BAD_BACKEND));
    check(QASM, 1, Some("IBM"), Err(BAD_BACKEND));
    check(QASM, 1, Some("a.b"), Err(BAD_BACKEND));
    check(QASM, 1, Some(&"a".repeat(33)), Err(BAD_BACKEND));
    check(QASM, 1, Some(&"a".repeat(32)), Ok(&"a".repeat(32)));
}

#[test]
fn timestamps_are_rfc3339_utc_seconds() {
    let check = |at: Timestamp, expected: &str| assert_eq!(rfc3339(at), expected, "{at}");
    check(0, "1970-01-01T00:00:00Z");
    // The same text as the hosts' `qhub_api::timestamp` for the same instant.
    check(1_700_000_000_000, "2023-11-14T22:13:20Z");
    check(1_709_251_199_999, "2024-02-29T23:59:59Z");
    check(NOW + 3_723_000, "2026-11-26T01:02:03Z");
    check(-1, "1970-01-01T00:00:00Z");
}

#[test]
fn periods_are_utc_calendar_months() {
    fn check(at: Timestamp, expected: &str) {
        assert_eq!(period(at), expected, "{at}");
    }
    check(0, "1970-01");
    check(-1, "1969-12");
    check(1_700_000_000_000, "2023-11");
    check(NOW, "2026-11");
    // 2000-02-29T00:00:00Z and 2024-02-29T12:00:00Z, leap days.
    check(951_782_400_000, "2000-02");
    check(1_709_208_000_000, "2024-02");
    // 2024-03-01T00:00:00Z and the millisecond before it.
    check(1_709_251_200_000, "2024-03");
    check(1_709_251_199_999, "2024-02");
    assert_eq!(civil_from_days(0), (1970, 1, 1));
    assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    assert_eq!(civil_from_days(-135_080), (1600, 3, 1));
}

#[test]
fn limits_come_from_config() {
    let defaults = Limits::from_config(no_config).expect("defaults");
    assert_eq!(
        defaults,
        Limits {
            jobs: 100,
            shots: 1_000_000
        }
    );
    let custom = Limits::from_config(|key: &str| match key {
        QUOTA_JOBS_KEY => Some(" 5 ".into()),
        QUOTA_SHOTS_KEY => Some(String::new()),
        _ => None,
    });
    assert_eq!(
        custom,
        Ok(Limits {
            jobs: 5,
            shots: 1_000_000
        })
    );
    let malformed = Limits::from_config(|key: &str| (key == QUOTA_SHOTS_KEY).then(|| "-1".into()));
    assert_eq!(
        malformed,
        Err(Error::Internal(
            "quota-monthly-shots must be a non-negative integer, not \"-1\"".into()
        ))
    );
}

#[test]
fn submitted_jobs_count_against_the_monthly_quota() {
    let accounts = accounts();
    let config = |key: &str| (key == QUOTA_JOBS_KEY).then(|| "2".to_owned());
    let data = AccountData::new(&accounts, config);
    let ada = register(&accounts, "ada@example.com");

    let first = data.submit_job(&ada.token, job(300), NOW).expect("queued");
    assert_eq!(first.status, JobStatus::Queued);
    assert_eq!(first.backend, "simulator");
    assert_eq!(first.source, QASM);
    data.submit_job(&ada.token, job(200), NOW + 1)
        .expect("queued");
    let usage = data.get_usage(&ada.token, NOW).expect("usage");
    assert_eq!(
        usage,
        UsageReport {
            period: "2026-11".into(),
            jobs_used: 2,
            jobs_limit: 2,
            shots_used: 500,
            shots_limit: 1_000_000,
        }
    );

    let writes = accounts.store().writes.borrow().len();
    let refused = data.submit_job(&ada.token, job(1), NOW + 2);
    assert_eq!(
        refused,
        Err(Error::MonthlyQuota {
            jobs: 2,
            shots: 1_000_000
        })
    );
    assert_eq!(
        message(refused),
        "monthly quota reached: 2 jobs and 1000000 shots per month; see `qhub usage`"
    );
    assert_eq!(accounts.store().writes.borrow().len(), writes);
    assert_eq!(data.get_usage(&ada.token, NOW).expect("usage").jobs_used, 2);
}

#[test]
fn the_shot_quota_and_a_malformed_limit() {
    let accounts = accounts();
    let ada = register(&accounts, "ada@example.com");
    let data = AccountData::new(&accounts, |key: &str| {
        (key == QUOTA_SHOTS_KEY).then(|| "1000".to_owned())
    });
    data.submit_job(&ada.token, job(600), NOW).expect("queued");
    assert!(matches!(
        data.submit_job(&ada.token, job(600), NOW),
        Err(Error::MonthlyQuota { shots: 1000, .. })
    ));

    let broken = AccountData::new(&accounts, |key: &str| {
        (key == QUOTA_JOBS_KEY).then(|| "lots".to_owned())
    });
    assert_eq!(
        message(broken.submit_job(&ada.token, job(1), NOW)),
        "quota-monthly-jobs must be a non-negative integer, not \"lots\""
    );
    assert!(broken.get_usage(&ada.token, NOW).is_err());
}

#[test]
fn jobs_are_listed_got_and_cancelled_by_their_owner_only() {
    let accounts = accounts();
    let data = AccountData::new(&accounts, no_config);
    let ada = register(&accounts, "ada@example.com");
    let bob = register(&accounts, "bob@example.com");
    let older = data.submit_job(&ada.token, job(1), NOW).expect("queued");
    let newer = data
        .submit_job(&ada.token, job(2), NOW + 1)
        .expect("queued");

    let ids = |jobs: Vec<QuantumJob>| jobs.into_iter().map(|job| job.id).collect::<Vec<_>>();
    let listed = data.list_jobs(&ada.token, None, NOW).expect("list");
    assert_eq!(ids(listed), [newer.id.clone(), older.id.clone()]);
    assert!(
        data.list_jobs(&bob.token, None, NOW)
            .expect("list")
            .is_empty()
    );
    assert_eq!(data.get_job(&ada.token, &older.id, NOW), Ok(older.clone()));
    assert_eq!(
        data.get_job(&bob.token, &older.id, NOW),
        Err(Error::NoSuchJob)
    );
    assert_eq!(
        message(data.get_job(&ada.token, "job-99", NOW)),
        "no such job"
    );

    // Another user's job, or none at all: not found, and untouched.
    assert_eq!(
        data.cancel_job(&bob.token, &older.id, NOW),
        Err(Error::NoSuchJob)
    );
    assert_eq!(
        data.cancel_job(&ada.token, "job-99", NOW),
        Err(Error::NoSuchJob)
    );

    let cancelled = data
        .cancel_job(&ada.token, &older.id, NOW + 5)
        .expect("cancelled");
    assert_eq!(cancelled.status, JobStatus::Cancelled);
    assert_eq!(cancelled.updated_at, NOW + 5);
    assert_eq!(
        message(data.cancel_job(&ada.token, &older.id, NOW)),
        "job is already cancelled"
    );
    let only_cancelled = data
        .list_jobs(&ada.token, Some(JobStatus::Cancelled), NOW)
        .expect("list");
    assert_eq!(ids(only_cancelled), [older.id]);

    accounts.store().jobs.borrow_mut()[1].status = JobStatus::Completed;
    assert_eq!(
        data.cancel_job(&ada.token, &newer.id, NOW),
        Err(Error::JobAlready(JobStatus::Completed))
    );
    accounts.store().jobs.borrow_mut()[1].status = JobStatus::Running;
    let cancelled = data
        .cancel_job(&ada.token, &newer.id, NOW)
        .expect("cancelled");
    assert_eq!(cancelled.status, JobStatus::Cancelled);
}

#[test]
fn every_data_flow_authenticates_first() {
    type Flow = fn(&AccountData<'_, MemoryStore, fn(&str) -> Option<String>>, &str) -> bool;
    let flows: [(&str, Flow); 10] = [
        ("list-preferences", |d, t| {
            d.list_preferences(t, NOW).is_err()
        }),
        ("set-preference", |d, t| {
            d.set_preference(t, "k", "1", NOW).is_err()
        }),
        ("unset-preference", |d, t| {
            d.unset_preference(t, "k", NOW).is_err()
        }),
        ("get-usage", |d, t| d.get_usage(t, NOW).is_err()),
        ("submit-job", |d, t| d.submit_job(t, job(1), NOW).is_err()),
        ("list-jobs", |d, t| d.list_jobs(t, None, NOW).is_err()),
        ("get-job", |d, t| d.get_job(t, "job-1", NOW).is_err()),
        ("cancel-job", |d, t| d.cancel_job(t, "job-1", NOW).is_err()),
        ("export-account", |d, t| d.export_account(t, NOW).is_err()),
        ("delete-account", |d, t| d.delete_account(t, NOW).is_err()),
    ];
    let accounts = accounts();
    let data = AccountData::new(&accounts, no_config as fn(&str) -> Option<String>);
    let ada = register(&accounts, "ada@example.com");
    accounts.logout(&ada.token, NOW).expect("logout");
    let writes = accounts.store().writes.borrow().len();
    for (name, flow) in flows {
        assert!(flow(&data, &ada.token), "{name} accepted a revoked token");
        assert!(flow(&data, "not a token"), "{name} accepted garbage");
    }
    // The errors are exactly the account flows' ones.
    assert_eq!(
        data.get_usage(&ada.token, NOW),
        Err(Error::Unauthenticated(AuthFailure::SessionRevoked))
    );
    assert_eq!(
        data.export_account("not a token", NOW),
        Err(Error::Unauthenticated(AuthFailure::InvalidToken))
    );
    assert_eq!(
        accounts.store().writes.borrow().len(),
        writes,
        "nothing written"
    );
    assert_eq!(accounts.store().users.borrow().len(), 1);
}

#[test]
fn export_has_everything_but_hashes() {
    let accounts = accounts();
    let data = AccountData::new(&accounts, no_config);
    let ada = register(&accounts, "ada@example.com");
    register(&accounts, "bob@example.com");
    data.set_preference(&ada.token, "theme", "{\"mode\": \"dark\"}", NOW)
        .expect("set");
    data.submit_job(&ada.token, job(10), NOW).expect("queued");
    accounts.store().api_keys.borrow_mut().push(ApiKey {
        id: "key-1".into(),
        user_id: ada.user.id.clone(),
        name: "laptop".into(),
        prefix: "qh_abc".into(),
        secret_hash: "KEY-HASH-MATERIAL".into(),
        scopes: vec!["jobs".into()],
        created_at: NOW,
        expires_at: None,
        last_used_at: None,
        revoked_at: None,
    });
    accounts
        .store()
        .oauth_connections
        .borrow_mut()
        .push(OauthConnection {
            id: "oauth-1".into(),
            user_id: ada.user.id.clone(),
            provider: "github".into(),
            subject: "12345".into(),
            email: None,
            created_at: NOW,
        });

    let text = data.export_account(&ada.token, NOW).expect("export");
    assert!(!text.contains("argon2"), "{text}");
    assert!(!text.contains("KEY-HASH-MATERIAL"), "{text}");
    assert!(!text.contains("hash"), "{text}");
    assert!(!text.contains("bob@example.com"), "{text}");
    let export: Value = serde_json::from_str(&text).expect("export is JSON");
    assert_eq!(export["user"]["id"], json!(ada.user.id));
    assert_eq!(export["user"]["email"], json!("ada@example.com"));
    // Timestamps read as everywhere else in QHub: RFC 3339, UTC, to the second.
    assert_eq!(export["user"]["created_at"], json!("2026-11-26T00:00:00Z"));
    assert_eq!(
        export["sessions"][0]["expires_at"],
        json!("2026-12-26T00:00:00Z")
    );
    assert_eq!(
        export["api_keys"][0]["created_at"],
        json!("2026-11-26T00:00:00Z")
    );
    assert_eq!(export["api_keys"][0]["expires_at"], json!(null));
    assert_eq!(
        export["jobs"][0]["updated_at"],
        json!("2026-11-26T00:00:00Z")
    );
    assert_eq!(export["sessions"][0]["id"], json!(ada.session_id));
    assert_eq!(export["oauth_connections"][0]["provider"], json!("github"));
    assert_eq!(export["api_keys"][0]["prefix"], json!("qh_abc"));
    assert_eq!(export["preferences"], json!({"theme": {"mode": "dark"}}));
    assert_eq!(export["usage"]["period"], json!("2026-11"));
    assert_eq!(export["usage"]["jobs_used"], json!(1));
    assert_eq!(export["usage"]["shots_limit"], json!(1_000_000));
    assert_eq!(export["jobs"][0]["status"], json!("queued"));
    assert_eq!(export["jobs"][0]["source"], json!(QASM));
    assert_eq!(export["jobs"].as_array().map(Vec::len), Some(1));
}

#[test]
fn delete_account_kills_the_token() {
    let accounts = accounts();
    let data = AccountData::new(&accounts, no_config);
    let ada = register(&accounts, "ada@example.com");
    let bob = register(&accounts, "bob@example.com");
    data.submit_job(&ada.token, job(1), NOW).expect("queued");

    data.delete_account(&ada.token, NOW).expect("deleted");
    assert_eq!(
        accounts.whoami(&ada.token, NOW),
        Err(Error::Unauthenticated(AuthFailure::UnknownSession))
    );
    assert_eq!(
        data.delete_account(&ada.token, NOW),
        Err(Error::Unauthenticated(AuthFailure::UnknownSession))
    );
    assert!(accounts.store().jobs.borrow().is_empty());
    // Bob is untouched.
    assert_eq!(
        accounts.whoami(&bob.token, NOW).map(|user| user.id),
        Ok(bob.user.id)
    );
}
