//! `qhub migrate run|info|revert`, and an unreachable database.

use crate::harness::Qhub;

#[test]
fn postgres_migrations_run_list_and_revert() {
    let qhub = Qhub::postgres();
    let info = qhub.run(&["migrate", "info", "--json"]).json();
    assert_eq!(info[0]["version"], 1);
    assert_eq!(info[0]["applied"], false);
    assert_eq!(info[0]["reversible"], true);

    assert_eq!(info.as_array().unwrap().len(), 2, "{info}");
    assert_eq!(
        qhub.run(&["migrate", "run", "--json"]).json()["applied"],
        serde_json::json!([1, 2])
    );
    assert!(qhub.run(&["migrate", "run"]).ok().contains("up to date"));
    let listed = qhub.run(&["migrate", "info"]);
    assert!(listed.ok().contains("applied"), "{listed:#?}");

    // The schema works: an account can be made on it.
    qhub.register("ada@example.com").ok();

    // Without a terminal, revert refuses unless --yes, saying what it would drop.
    qhub.run(&["migrate", "revert"])
        .fails(2, "refusing to revert a migration without confirmation")
        .fails(2, "hint: pass --yes to confirm from a script; it would revert migration 2 (login throttles)")
        .fails(
            2,
            "dropping the tables login_throttles with all of their rows",
        )
        .fails(2, "pass --yes");
    let info = qhub.run(&["migrate", "info", "--json"]).json();
    assert_eq!(info[1]["applied"], true, "nothing was reverted: {info}");

    // Revert steps back one migration at a time, newest first.
    let reverted = qhub.run(&["migrate", "revert", "--json", "--yes"]).json();
    assert_eq!(reverted["reverted"]["version"], 2);
    let info = qhub.run(&["migrate", "info", "--json"]).json();
    assert_eq!(info[0]["applied"], true);
    assert_eq!(info[1]["applied"], false);
    qhub.run(&["migrate", "revert"])
        .fails(2, "dropping the tables quantum_jobs, usage_records, user_preferences, api_keys, oauth_connections, user_sessions, users");
    let reverted = qhub.run(&["migrate", "revert", "--json", "--yes"]).json();
    assert_eq!(reverted["reverted"]["version"], 1);
    let info = qhub.run(&["migrate", "info", "--json"]).json();
    assert_eq!(info[0]["applied"], false);
    let nothing = qhub.run(&["migrate", "revert"]);
    assert!(nothing.ok().contains("nothing to revert"), "{nothing:#?}");
}

#[test]
fn sqlite_migrations_are_applied_but_not_reversible() {
    let qhub = Qhub::new();
    assert!(
        qhub.run(&["migrate", "run"])
            .ok()
            .contains("applied migration 1")
    );
    let info = qhub.run(&["migrate", "info", "--json"]).json();
    assert_eq!(info[0]["applied"], true);
    assert_eq!(
        info[0]["reversible"], false,
        "D1 migrations have no down scripts"
    );
    qhub.run(&["migrate", "revert", "--yes"])
        .fails(1, "cannot be reverted");
}

#[test]
fn an_unreachable_postgres_gets_a_clear_error_and_a_hint() {
    let qhub = Qhub::new();
    // Port 1 on loopback: nothing listens there.
    let down = [("DATABASE_URL", "postgres://postgres@127.0.0.1:1/test")];
    let run = qhub.run_with(&["migrate", "info"], None, &down);
    run.fails(5, "cannot reach the database")
        .fails(5, "hint: is PostgreSQL running? try `docker compose up -d`");
    let run = qhub.run_with(
        &["register", "--email", "ada@example.com", "--password-stdin"],
        Some("correct horse battery staple\n"),
        &down,
    );
    run.fails(5, "is PostgreSQL running?");
    assert!(
        !qhub.path("qhub.db").exists(),
        "no fallback to the embedded database"
    );
}

#[test]
fn a_bad_database_url_is_a_usage_error() {
    let qhub = Qhub::new();
    qhub.run_with(&["migrate", "info"], None, &[("DATABASE_URL", "mysql://x")])
        .fails(2, "unsupported database URL scheme")
        .fails(2, "hint: e.g. --database sqlite:");
    qhub.run(&["migrate", "info", "--database", "d1://acct/db"])
        .fails(2, "CLOUDFLARE_API_TOKEN is not set")
        .fails(2, "hint:");
}

#[test]
fn a_missing_postgres_database_says_how_to_create_it() {
    let qhub = Qhub::new();
    let missing = [(
        "DATABASE_URL",
        "postgres://postgres@127.0.0.1:5432/qhub_no_such_database",
    )];
    for args in [&["migrate", "info"][..], &["migrate", "run"]] {
        qhub.run_with(args, None, &missing)
            .fails(5, "the database \"qhub_no_such_database\" does not exist")
            .fails(5, "hint: create it with `createdb -h 127.0.0.1 -p 5432 -U postgres qhub_no_such_database`");
    }
    qhub.run_with(
        &["register", "--email", "ada@example.com", "--password-stdin"],
        Some("correct horse battery staple\n"),
        &missing,
    )
    .fails(5, "createdb");
}
