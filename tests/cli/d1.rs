//! `--database d1://ACCOUNT_ID/DATABASE_ID`: the CLI on Cloudflare D1 through its
//! HTTP API, here the stand-in on loopback (`qhub_test_support::D1StandIn`), which
//! follows D1's documented requests, answers and error envelopes over a real SQLite
//! file.

use qhub_test_support::D1StandIn;

use crate::harness::{PASSWORD, Qhub, Run};

/// `qhub --database <d1 url> args...` with the stand-in's token and API, plus
/// `extra` variables (which win).
fn run(
    qhub: &Qhub,
    d1: &D1StandIn,
    args: &[&str],
    stdin: Option<&str>,
    extra: &[(&str, &str)],
) -> Run {
    let url = d1.database_url();
    let mut argv = vec!["--database", url.as_str()];
    argv.extend_from_slice(args);
    let base = d1.env();
    let mut env: Vec<(&str, &str)> = base.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.extend_from_slice(extra);
    qhub.run_with(&argv, stdin, &env)
}

fn register(qhub: &Qhub, d1: &D1StandIn, email: &str, extra: &[(&str, &str)]) -> Run {
    run(
        qhub,
        d1,
        &["register", "--email", email, "--password-stdin"],
        Some(&format!("{PASSWORD}\n")),
        extra,
    )
}

/// Runs one statement on the stand-in's SQLite file, as Wrangler or an operator
/// with `wrangler d1 execute` could; returns the first column of each row.
fn sql(d1: &D1StandIn, statement: &str) -> Vec<String> {
    let url = format!("sqlite://{}", d1.sqlite_path().display());
    let statement = statement.to_owned();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async move {
            use sqlx::{Connection, Row};
            let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
            let rows = sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
                .fetch_all(&mut conn)
                .await
                .unwrap();
            rows.iter()
                .filter_map(|row| row.try_get::<String, _>(0).ok())
                .collect()
        })
}

#[test]
fn migrate_then_register_and_whoami_on_d1() {
    let d1 = D1StandIn::start();
    let qhub = Qhub::new();
    let info = run(&qhub, &d1, &["migrate", "info", "--json"], None, &[]).json();
    assert_eq!(info.as_array().unwrap().len(), 2, "{info}");
    assert_eq!(info[0]["applied"], false);
    assert_eq!(
        info[0]["reversible"], false,
        "D1 migrations are forward-only"
    );

    let applied = run(&qhub, &d1, &["migrate", "run", "--json"], None, &[]).json();
    assert_eq!(applied["applied"], serde_json::json!([1, 2]));
    let again = run(&qhub, &d1, &["migrate", "run"], None, &[]);
    assert!(again.ok().contains("up to date"), "{again:#?}");
    let listed = run(&qhub, &d1, &["migrate", "info"], None, &[]);
    assert!(!listed.ok().contains("pending"), "{listed:#?}");
    // Recorded where `wrangler d1 migrations apply` looks.
    assert_eq!(
        sql(&d1, "SELECT name FROM d1_migrations ORDER BY id"),
        ["0001_init.sql", "0002_login_throttles.sql"]
    );

    register(&qhub, &d1, "ada@example.com", &[]).ok();
    let me = run(&qhub, &d1, &["whoami", "--json"], None, &[]).json();
    assert_eq!(me["email"], "ada@example.com");
    assert_eq!(
        sql(&d1, "SELECT email FROM users"),
        ["ada@example.com"],
        "the account is in D1"
    );
    assert!(
        !qhub.path("qhub.db").exists(),
        "nothing went to the embedded database"
    );
}

#[test]
fn migrations_wrangler_applied_count_as_applied() {
    let d1 = D1StandIn::start();
    // What `wrangler d1 migrations apply` leaves after applying the first file.
    let init = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/d1/0001_init.sql"),
    )
    .unwrap();
    sql(
        &d1,
        &format!(
            "CREATE TABLE IF NOT EXISTS d1_migrations(
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT UNIQUE,
                applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
            );
            {init}
            INSERT INTO d1_migrations (name) VALUES ('0001_init.sql');"
        ),
    );
    let qhub = Qhub::new();
    let info = run(&qhub, &d1, &["migrate", "info", "--json"], None, &[]).json();
    assert_eq!(
        (info[0]["applied"].as_bool(), info[1]["applied"].as_bool()),
        (Some(true), Some(false)),
        "{info}"
    );
    let applied = run(&qhub, &d1, &["migrate", "run", "--json"], None, &[]).json();
    assert_eq!(applied["applied"], serde_json::json!([2]));
}

#[test]
fn a_missing_token_is_a_usage_error_with_a_hint() {
    let d1 = D1StandIn::start();
    let qhub = Qhub::new();
    let no_token = [("CLOUDFLARE_API_TOKEN", "")];
    run(&qhub, &d1, &["migrate", "info"], None, &no_token)
        .fails(2, "CLOUDFLARE_API_TOKEN is not set")
        .fails(2, "hint: use --database d1://ACCOUNT_ID/DATABASE_ID");
    register(&qhub, &d1, "ada@example.com", &no_token).fails(2, "CLOUDFLARE_API_TOKEN");
}

#[test]
fn a_refused_token_is_refused_with_a_hint_and_never_shown() {
    let d1 = D1StandIn::start();
    let qhub = Qhub::new();
    let token = "not-the-right-token-4f1c";
    let wrong = [("CLOUDFLARE_API_TOKEN", token)];
    let refused = run(&qhub, &d1, &["migrate", "run"], None, &wrong);
    refused
        .fails(3, "Cloudflare refused the API token")
        .fails(3, "hint: use --database d1://");
    assert!(!refused.stderr.contains(token), "{refused:#?}");
    register(&qhub, &d1, "ada@example.com", &wrong).fails(3, "refused the API token");
}

#[test]
fn an_unknown_database_is_a_usage_error() {
    let d1 = D1StandIn::start();
    let qhub = Qhub::new();
    let url = d1.database_url();
    let (account, _) = url.trim_start_matches("d1://").split_once('/').unwrap();
    let other = format!("d1://{account}/00000000-0000-0000-0000-000000000000");
    let env = d1.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    qhub.run_with(&["--database", &other, "migrate", "info"], None, &env)
        .fails(2, "no D1 database")
        .fails(2, "hint: use --database d1://");
}

#[test]
fn an_unreachable_d1_api_is_unavailable_with_a_hint() {
    let d1 = D1StandIn::start();
    let (url, env) = (d1.database_url(), d1.env());
    // The stand-in stops and its port closes: nothing answers there any more.
    drop(d1);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let qhub = Qhub::new();
    qhub.run_with(&["--database", &url, "migrate", "info"], None, &env)
        .fails(5, "cannot reach the D1 API")
        .fails(5, "hint: is Cloudflare's API reachable from here?");
    qhub.run_with(
        &[
            "--database",
            &url,
            "register",
            "--email",
            "ada@example.com",
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
        &env,
    )
    .fails(5, "cannot reach the D1 API");
}

/// Registration is one commit: the account and its first session go to D1 in one
/// request (one atomic batch), so a lost reply or a killed process can never leave
/// an account without its session (whose retry would then meet "email taken").
#[test]
fn registration_reaches_d1_as_one_atomic_request() {
    let d1 = D1StandIn::start();
    let qhub = Qhub::new();
    run(&qhub, &d1, &["migrate", "run"], None, &[]).ok();
    let before = d1.requests().len();
    register(&qhub, &d1, "ada@example.com", &[]).ok();
    let writes: Vec<Vec<String>> = d1.requests()[before..]
        .iter()
        .filter(|statements| {
            statements.iter().any(|sql| {
                sql.contains("INSERT INTO users") || sql.contains("INSERT INTO user_sessions")
            })
        })
        .cloned()
        .collect();
    assert_eq!(
        writes.len(),
        1,
        "one request writes the account: {writes:#?}"
    );
    let batch = &writes[0];
    assert!(
        batch.iter().any(|sql| sql.contains("INSERT INTO users"))
            && batch
                .iter()
                .any(|sql| sql.contains("INSERT INTO user_sessions")),
        "the account and its session in one batch: {batch:#?}"
    );
    assert_eq!(
        sql(&d1, "SELECT CAST(count(*) AS TEXT) FROM user_sessions"),
        ["1"]
    );
}
