//! The stand-in's answers, as raw HTTP: the envelope and status of each case.

use super::*;

/// Posts `body` with `token` to `path` under the API base; status and JSON answer.
async fn post(stand_in: &D1StandIn, path: &str, token: &str, body: &str) -> (u16, Json) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let response = reqwest::Client::new()
        .post(format!("{}{path}", stand_in.api_url()))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn endpoint(stand_in: &D1StandIn, kind: &str) -> String {
    let url = stand_in.database_url();
    let (account, database) = url.trim_start_matches("d1://").split_once('/').unwrap();
    format!("/accounts/{account}/d1/database/{database}/{kind}")
}

#[track_caller]
fn assert_failure(answer: &(u16, Json), status: u16, code: u64) {
    let (got, body) = answer;
    assert_eq!(*got, status, "{body}");
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["errors"][0]["code"], code, "{body}");
    assert!(body["errors"][0]["message"].is_string(), "{body}");
    assert!(body["messages"].is_array(), "{body}");
}

#[tokio::test]
async fn raw_and_query_answer_the_documented_shapes() {
    let d1 = D1StandIn::start();
    let raw = endpoint(&d1, "raw");
    let (status, body) = post(
        &d1,
        &raw,
        d1.token(),
        r#"{"sql": "CREATE TABLE t (k TEXT PRIMARY KEY, r REAL, b BLOB); INSERT INTO t VALUES (?, ?, x'00ff')", "params": ["a", 2.0]}"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(
        body["result"].as_array().unwrap().len(),
        2,
        "one result per statement"
    );
    assert_eq!(body["result"][1]["meta"]["changes"], 1);
    assert_eq!(body["result"][1]["meta"]["last_row_id"], 1);

    let select = r#"{"sql": "SELECT k, r, b, NULL AS n FROM t WHERE k = ?1", "params": ["a"]}"#;
    let (_, body) = post(&d1, &raw, d1.token(), select).await;
    let result = &body["result"][0];
    assert_eq!(result["results"]["columns"], json!(["k", "r", "b", "n"]));
    assert_eq!(result["results"]["rows"], json!([["a", 2, [0, 255], null]]));
    assert_eq!(result["meta"]["changes"], 0, "a read changes nothing");

    let (_, body) = post(&d1, &endpoint(&d1, "query"), d1.token(), select).await;
    assert_eq!(
        body["result"][0]["results"],
        json!([{ "k": "a", "r": 2, "b": [0, 255], "n": null }])
    );
}

#[tokio::test]
async fn a_failing_batch_leaves_nothing_behind() {
    let d1 = D1StandIn::start();
    let raw = endpoint(&d1, "raw");
    post(
        &d1,
        &raw,
        d1.token(),
        r#"{"sql": "CREATE TABLE t (k TEXT UNIQUE)"}"#,
    )
    .await;
    let answer = post(
        &d1,
        &raw,
        d1.token(),
        r#"{"batch": [{"sql": "INSERT INTO t VALUES ('a')"}, {"sql": "INSERT INTO t VALUES ('a')"}]}"#,
    )
    .await;
    assert_failure(&answer, 400, 7500);
    assert_eq!(
        answer.1["errors"][0]["message"],
        "UNIQUE constraint failed: t.k: SQLITE_CONSTRAINT"
    );
    let (_, body) = post(
        &d1,
        &raw,
        d1.token(),
        r#"{"sql": "SELECT count(*) FROM t"}"#,
    )
    .await;
    assert_eq!(body["result"][0]["results"]["rows"], json!([[0]]));
}

#[tokio::test]
async fn failures_answer_cloudflares_envelopes() {
    let d1 = D1StandIn::start();
    let raw = endpoint(&d1, "raw");
    let ok = r#"{"sql": "SELECT 1"}"#;
    assert_failure(&post(&d1, &raw, "wrong", ok).await, 403, 10000);
    let other_account = raw.replacen("/accounts/", "/accounts/0", 1);
    assert_failure(&post(&d1, &other_account, d1.token(), ok).await, 403, 7403);
    let (base, _) = raw.rsplit_once("/database/").unwrap();
    let missing = format!("{base}/database/00000000-0000-0000-0000-000000000000/raw");
    assert_failure(&post(&d1, &missing, d1.token(), ok).await, 404, 7404);
    for bad in [
        "not json",
        "[]",
        r#"{"params": []}"#,
        r#"{"sql": "SELECT 1", "params": {}}"#,
    ] {
        assert_failure(&post(&d1, &raw, d1.token(), bad).await, 400, 7400);
    }
    assert_failure(&post(&d1, "/accounts", d1.token(), ok).await, 404, 7003);

    // No Authorization header at all.
    let response = reqwest::Client::new()
        .post(format!("{}{raw}", d1.api_url()))
        .body(ok)
        .send()
        .await
        .unwrap();
    let answer = (response.status().as_u16(), response.json().await.unwrap());
    assert_failure(&answer, 400, 6003);
}
