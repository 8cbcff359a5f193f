//! The D1 client against the stand-in of D1's HTTP API (`qhub_test_support`).

use qhub_test_support::D1StandIn;

use super::*;

fn stmt(sql: &str, params: Vec<Value>) -> Statement {
    Statement {
        sql: sql.into(),
        params,
    }
}

fn connect(stand_in: &D1StandIn) -> Database {
    Database::connect_d1(
        &stand_in.database_url(),
        &stand_in.api_url(),
        stand_in.token().into(),
    )
    .unwrap()
}

#[test]
fn urls_name_an_account_and_a_database() {
    let check = |url: &str, expected: Option<(&str, &str)>| {
        assert_eq!(parse_url(url).ok(), expected, "{url}");
    };
    check(
        "d1://023e105f4ecef8ad9ca31a8372d0c353/6e1c2d4b-95a0-4b39-9d3f-4c1e2a6b7f00",
        Some((
            "023e105f4ecef8ad9ca31a8372d0c353",
            "6e1c2d4b-95a0-4b39-9d3f-4c1e2a6b7f00",
        )),
    );
    check("d1://acc/db", Some(("acc", "db")));
    check("d1://acc", None);
    check("d1://acc/", None);
    check("d1:///db", None);
    check("d1://acc/db/raw", None);
    check("d1://acc/db?x=1", None);
    check("d1:acc/db", None);
}

#[test]
fn the_token_never_shows() {
    let db = Database::connect_d1("d1://acc/db", DEFAULT_API_URL, "s3cret-token".into()).unwrap();
    let shown = format!("{db:?}");
    assert!(!shown.contains("s3cret-token"), "{shown}");
    assert!(shown.contains("<redacted>"), "{shown}");
}

#[tokio::test]
async fn values_round_trip_in_column_order() {
    let d1 = D1StandIn::start();
    let db = connect(&d1);
    let result = db
        .query(stmt(
            "SELECT ?1 AS n, ?2 AS i, ?3 AS r, ?4 AS t, x'00ff' AS b, 2.0 AS whole",
            vec![
                Value::Null,
                Value::Integer(-7),
                Value::Real(1.5),
                Value::Text("héllo".into()),
            ],
        ))
        .await
        .unwrap();
    assert_eq!(result.columns, ["n", "i", "r", "t", "b", "whole"]);
    assert_eq!(result.rows_affected, 0);
    // D1 prints numbers from JavaScript: a whole REAL arrives as an integer.
    assert!(matches!(
        result.rows[0].as_slice(),
        [Value::Null, Value::Integer(-7), Value::Real(r), Value::Text(t), Value::Blob(b), Value::Integer(2)]
            if *r == 1.5 && t == "héllo" && b == &[0, 255]
    ));

    let blob = db
        .query(stmt("SELECT ?1", vec![Value::Blob(vec![1])]))
        .await
        .unwrap_err();
    assert_eq!(blob.kind, ErrorKind::Query);
    assert!(blob.message.contains("no blob form"), "{}", blob.message);
}

#[tokio::test]
async fn writes_count_and_errors_are_classified_as_sqlite_does() {
    let d1 = D1StandIn::start();
    let db = connect(&d1);
    db.query(stmt(
        "CREATE TABLE t (k TEXT NOT NULL UNIQUE, n INTEGER CHECK (n > 0))",
        vec![],
    ))
    .await
    .unwrap();
    let insert = db
        .query(stmt(
            "INSERT INTO t (k) VALUES (?1), (?2)",
            vec![Value::Text("a".into()), Value::Text("b".into())],
        ))
        .await
        .unwrap();
    assert_eq!(insert.rows_affected, 2);
    let read = db
        .query(stmt("SELECT k FROM t ORDER BY k", vec![]))
        .await
        .unwrap();
    assert_eq!((read.rows.len(), read.rows_affected), (2, 0));

    for (failing, expected) in [
        ("INSERT INTO t (k) VALUES ('a')", ErrorKind::UniqueViolation),
        (
            "INSERT INTO t (k) VALUES (NULL)",
            ErrorKind::NotNullViolation,
        ),
        (
            "INSERT INTO t (k, n) VALUES ('c', 0)",
            ErrorKind::CheckViolation,
        ),
        ("SELEC 1", ErrorKind::Query),
        ("SELECT * FROM missing", ErrorKind::Query),
    ] {
        let err = db.query(stmt(failing, vec![])).await.unwrap_err();
        assert_eq!(err.kind, expected, "{failing}: {}", err.message);
    }
    let unique = db
        .query(stmt("INSERT INTO t (k) VALUES ('a')", vec![]))
        .await
        .unwrap_err();
    // The store-d1 plugin reads the key from the message, as D1 words it.
    assert!(
        unique.message.contains("UNIQUE constraint failed: t.k"),
        "{}",
        unique.message
    );
}

#[tokio::test]
async fn a_failing_batch_leaves_nothing_behind() {
    let d1 = D1StandIn::start();
    let db = connect(&d1);
    db.query(stmt("CREATE TABLE t (k TEXT PRIMARY KEY)", vec![]))
        .await
        .unwrap();
    let err = db
        .batch(vec![
            stmt("INSERT INTO t VALUES ('a')", vec![]),
            stmt("INSERT INTO t VALUES ('a')", vec![]),
        ])
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::UniqueViolation);
    let count = db
        .query(stmt("SELECT count(*) FROM t", vec![]))
        .await
        .unwrap();
    assert!(matches!(count.rows[0][0], Value::Integer(0)));

    let results = db
        .batch(vec![
            stmt("INSERT INTO t VALUES (?1)", vec![Value::Text("b".into())]),
            stmt("SELECT k FROM t", vec![]),
        ])
        .await
        .unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0].rows_affected, 1);
    assert_eq!(results[1].columns, ["k"]);
}

#[tokio::test]
async fn results_beyond_the_host_caps_are_refused() {
    let d1 = D1StandIn::start();
    let db = connect(&d1);
    let rows = super::super::MAX_ROWS + 1;
    let err = db
        .query(stmt(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1) \
             SELECT i FROM n",
            vec![Value::Integer(rows as i64)],
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::TooLarge, "{}", err.message);
}

#[tokio::test]
async fn a_refused_token_is_an_auth_error_that_does_not_show_it() {
    let d1 = D1StandIn::start();
    let db = Database::connect_d1(&d1.database_url(), &d1.api_url(), "wrong-token".into()).unwrap();
    let err = db.query(stmt("SELECT 1", vec![])).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Other);
    assert!(
        err.message.contains("refused the API token"),
        "{}",
        err.message
    );
    assert!(!err.message.contains("wrong-token"), "{}", err.message);
    let err = db.migrate().await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized(_)), "{err}");
}

#[tokio::test]
async fn an_unknown_database_is_a_bad_url() {
    let d1 = D1StandIn::start();
    let url = d1.database_url();
    let (account, _) = url.trim_start_matches("d1://").split_once('/').unwrap();
    let db = Database::connect_d1(
        &format!("d1://{account}/no-such-database"),
        &d1.api_url(),
        d1.token().into(),
    )
    .unwrap();
    let err = db.migrate().await.unwrap_err();
    assert!(
        matches!(&err, Error::InvalidUrl(m) if m.contains("no D1 database")),
        "{err}"
    );
}

#[tokio::test]
async fn an_unreachable_api_is_a_connection_error() {
    let d1 = D1StandIn::start();
    let (url, api, token) = (d1.database_url(), d1.api_url(), d1.token().to_owned());
    drop(d1);
    let db = Database::connect_d1(&url, &api, token).unwrap();
    let err = db.query(stmt("SELECT 1", vec![])).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Connection, "{}", err.message);
    assert!(
        err.message.contains("cannot reach the D1 API"),
        "{}",
        err.message
    );
    let err = db.migrate().await.unwrap_err();
    assert!(matches!(err, Error::Unavailable(_)), "{err}");
}

#[tokio::test]
async fn migrations_are_recorded_in_wranglers_table() {
    let d1 = D1StandIn::start();
    let db = connect(&d1);
    let info = db.migration_info().await.unwrap();
    assert!(info.iter().all(|m| !m.applied && !m.reversible), "{info:?}");
    let applied = db.migrate().await.unwrap();
    assert_eq!(applied, [1, 2]);
    assert_eq!(db.migrate().await.unwrap(), Vec::<i64>::new());
    assert!(db.migration_info().await.unwrap().iter().all(|m| m.applied));

    let names = db
        .query(stmt("SELECT name FROM d1_migrations ORDER BY id", vec![]))
        .await
        .unwrap();
    let names: Vec<&Value> = names.rows.iter().map(|row| &row[0]).collect();
    assert!(
        matches!(names.as_slice(), [Value::Text(a), Value::Text(b)]
            if a == "0001_init.sql" && b == "0002_login_throttles.sql"),
        "{names:?}"
    );
    let reverted = db.revert_last().await.unwrap_err();
    assert!(
        reverted.to_string().contains("cannot be reverted"),
        "{reverted}"
    );
}
