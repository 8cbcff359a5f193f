//! Overload: a flood of sign-ins against `qhub serve` is shed (503 with
//! `Retry-After`), never failed (500), and token checks keep answering during it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

use crate::harness::{PASSWORD, Qhub, on_both_databases};
use crate::server::Server;

/// Wrong-password sign-ins sent at once.
const FLOOD: usize = 300;
/// The most token checks one flood lasts for (the loop stops when the flood ends).
const MAX_CHECKS: usize = 1_000;

/// What one sign-in of the flood got back.
#[derive(Debug)]
struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: Value,
}

/// The statuses of the flood, and of the token checks made while it lasted.
struct Outcome {
    flood: Vec<Answer>,
    checks: Vec<(u16, Value)>,
    /// The signed-in owner's token.
    token: String,
}

/// Registers an account, then sends [`FLOOD`] wrong-password sign-ins for it at
/// once while its signed-in owner calls `GET /v1/me` until the flood has ended.
fn flood(server: &Server) -> Outcome {
    let signup = json!({"email": "ada@example.com", "password": PASSWORD}).to_string();
    let (status, body) = server.http("POST", "/v1/accounts", Some(&signup), None);
    assert_eq!(status, 201, "{body}");
    let token = body["token"].as_str().unwrap().to_owned();
    let base = server.url.clone();
    let owner = token.clone();

    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async move {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let client = reqwest::Client::new();
            let guess = json!({"email": "ada@example.com", "password": "not the password"});
            let start = Arc::new(tokio::sync::Barrier::new(FLOOD + 1));
            let finished = Arc::new(AtomicUsize::new(0));
            let sign_ins: Vec<_> = (0..FLOOD)
                .map(|_| {
                    let (client, start, finished) =
                        (client.clone(), start.clone(), finished.clone());
                    let (url, guess) = (format!("{base}/v1/sessions"), guess.clone());
                    tokio::spawn(async move {
                        start.wait().await;
                        let response = client
                            .post(url)
                            .json(&guess)
                            .send()
                            .await
                            .expect("the server answers every sign-in");
                        let status = response.status().as_u16();
                        let retry_after = response
                            .headers()
                            .get("retry-after")
                            .map(|v| v.to_str().unwrap().to_owned());
                        let body = response.json().await.unwrap_or(Value::Null);
                        finished.fetch_add(1, Ordering::SeqCst);
                        Answer {
                            status,
                            retry_after,
                            body,
                        }
                    })
                })
                .collect();
            start.wait().await;

            // During the flood, the signed-in owner keeps checking its token: at
            // least once, then until every sign-in has its answer.
            let mut checks = Vec::new();
            while checks.is_empty()
                || (finished.load(Ordering::SeqCst) < FLOOD && checks.len() < MAX_CHECKS)
            {
                let response = client
                    .get(format!("{base}/v1/me"))
                    .bearer_auth(&owner)
                    .send()
                    .await
                    .expect("the server answers every token check");
                let status = response.status().as_u16();
                checks.push((status, response.json().await.unwrap_or(Value::Null)));
            }
            let mut flood = Vec::new();
            for sign_in in sign_ins {
                flood.push(sign_in.await.unwrap());
            }
            Outcome {
                flood,
                checks,
                token,
            }
        })
}

on_both_databases! {
    fn a_sign_in_flood_is_shed_never_failed_and_token_checks_keep_working(qhub) {
        let server = Server::start(qhub);
        let Outcome { flood, checks, token } = flood(&server);
        let count = |status: u16| flood.iter().filter(|a| a.status == status).count();
        eprintln!(
            "flood: {} x 401, {} x 429, {} x 503; {} token checks during it",
            count(401),
            count(429),
            count(503),
            checks.len()
        );

        let failed: Vec<_> = checks.iter().filter(|(status, _)| *status != 200).collect();
        assert!(failed.is_empty(), "{} of {} token checks failed: {failed:?}", failed.len(), checks.len());

        assert_eq!(flood.len(), FLOOD);
        let unexpected: Vec<_> =
            flood.iter().filter(|a| ![401, 429, 503].contains(&a.status)).collect();
        assert!(unexpected.is_empty(), "{} sign-ins got {unexpected:?}", unexpected.len());
        for shed in flood.iter().filter(|a| a.status == 503) {
            assert_eq!(shed.body["error"]["code"], "unavailable", "{shed:?}");
            let seconds: u64 = shed
                .retry_after
                .as_deref()
                .unwrap_or_else(|| panic!("a 503 without Retry-After: {shed:?}"))
                .parse()
                .unwrap();
            assert!(seconds >= 1, "{shed:?}");
        }
        // Some guesses did reach the core, and it refused them.
        assert!(flood.iter().any(|a| a.status == 401), "no guess was verified");

        // After the flood the server is still whole.
        let (status, body) = server.http("GET", "/v1/me", None, Some(&token));
        assert_eq!(status, 200, "{body}");
    }
}

#[test]
fn bounds_that_cannot_hold_are_refused_at_start() {
    let qhub = Qhub::new();
    let secret = ("JWT_SECRET", "test-secret-that-is-at-least-32-bytes-long");
    for (args, expected) in [
        (
            &["--max-calls", "101"][..],
            "max calls must be between 2 and 100",
        ),
        (
            &["--max-calls", "8", "--max-hashing", "8"][..],
            "less than max calls (8)",
        ),
        (
            &["--queue-timeout", "0s"][..],
            "queue timeout must be more than 0",
        ),
    ] {
        let mut command = vec!["serve", "--listen", "127.0.0.1:0"];
        command.extend_from_slice(args);
        qhub.run_with(&command, None, &[secret])
            .fails(2, expected)
            .fails(2, "hint: set the load bounds");
    }
    qhub.run_with(
        &["serve", "--listen", "127.0.0.1:0"],
        None,
        &[secret, ("QHUB_MAX_HASHING", "0")],
    )
    .fails(2, "max hashing must be at least 1");
}
