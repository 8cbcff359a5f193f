//! What counts or guards holds when requests arrive together: simultaneous guesses
//! verify no more passwords than the limits allow, and no session made with an old
//! password outlives its change. On every host (native on SQLite and PostgreSQL,
//! the Worker on D1), since the rules live in the account core.

use std::sync::Barrier;

use serde_json::{Value, json};

use crate::harness::PASSWORD;
use crate::server::{Server, on_every_host};

const WRONG: &str = "definitely not it";
/// The core's limits (plugins/auth/src/throttle.rs).
const ACCOUNT_MAX_ATTEMPTS: usize = 5;
const ADDRESS_MAX_ATTEMPTS: usize = 20;

fn register(server: &Server, email: &str, password: &str) -> String {
    let body = json!({"email": email, "password": password}).to_string();
    let (status, signed_in) = server.http("POST", "/v1/accounts", Some(&body), None);
    assert_eq!(status, 201, "{signed_in}");
    signed_in["token"].as_str().unwrap().to_owned()
}

fn login(server: &Server, email: &str, password: &str) -> (u16, Value) {
    let body = json!({"email": email, "password": password}).to_string();
    server.http("POST", "/v1/sessions", Some(&body), None)
}

/// Runs `request(n)` for `n` in `0..count`, all released together; the statuses.
fn together(count: usize, request: impl Fn(usize) -> u16 + Sync) -> Vec<u16> {
    let start = Barrier::new(count);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..count)
            .map(|n| {
                let (start, request) = (&start, &request);
                scope.spawn(move || {
                    start.wait();
                    request(n)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

/// Every answer is a refusal the API documents for a guess: a wrong password
/// (401), a lock (429) or shed load (503); never a failure of the server.
#[track_caller]
fn only_refusals(statuses: &[u16]) {
    assert!(
        statuses.iter().all(|s| [401, 429, 503].contains(s)),
        "{statuses:?}"
    );
}

// Each on a Worker of its own: their failed sign-ins from 127.0.0.1 count against
// that address, and the address limit would then refuse other scenarios' sign-ins.
on_every_host! {
    own_worker:
    fn simultaneous_guesses_check_no_more_passwords_than_the_account_lock_allows(server) {
        register(&server, "ada@example.com", PASSWORD);
        let statuses = together(40, |_| login(&server, "ada@example.com", WRONG).0);
        only_refusals(&statuses);
        // A 401 is a password that was checked.
        let checked = count(&statuses, 401);
        assert!(checked <= ACCOUNT_MAX_ATTEMPTS, "{checked} passwords checked: {statuses:?}");
        // Guesses shed before reaching the core were never counted: top the count up
        // to the limit, one at a time, so the lock must now be in force.
        if count(&statuses, 429) == 0 {
            for _ in checked..ACCOUNT_MAX_ATTEMPTS {
                assert_eq!(login(&server, "ada@example.com", WRONG).0, 401);
            }
        }
        let (status, body) = login(&server, "ada@example.com", PASSWORD);
        assert_eq!(
            (status, &body["error"]["code"]),
            (429, &json!("rate-limited")),
            "the right password meets the lock: {body}"
        );
    }

    fn simultaneous_guesses_from_one_address_check_no_more_passwords_than_its_limit(server) {
        register(&server, "grace@example.com", PASSWORD);
        // A different email each time, so no account lock gets in the way.
        let statuses = together(150, |n| login(&server, &format!("guess{n}@example.com"), WRONG).0);
        only_refusals(&statuses);
        let checked = count(&statuses, 401);
        assert!(checked <= ADDRESS_MAX_ATTEMPTS, "{checked} passwords checked: {statuses:?}");
        if count(&statuses, 429) == 0 {
            for n in checked..ADDRESS_MAX_ATTEMPTS {
                assert_eq!(login(&server, &format!("late{n}@example.com"), WRONG).0, 401);
            }
        }
        let (status, body) = login(&server, "grace@example.com", PASSWORD);
        assert_eq!(
            (status, &body["error"]["code"]),
            (429, &json!("rate-limited")),
            "the address is locked: {body}"
        );
    }

    fn no_session_made_with_the_old_password_survives_its_change(server) {
        let passwords = [
            PASSWORD,
            "second correct horse battery staple",
            "third correct horse battery staple",
            "fourth correct horse battery staple",
        ];
        let owner = register(&server, "ada@example.com", PASSWORD);
        // Each round: sign-ins with the current password race its change. Few per
        // round, so the account lock (which counts every attempt) lets them all in.
        for round in passwords.windows(2) {
            let (old, new) = (round[0], round[1]);
            let tokens = std::sync::Mutex::new(Vec::new());
            let statuses = together(ACCOUNT_MAX_ATTEMPTS, |n| {
                if n == 0 {
                    let body = json!({"current_password": old, "new_password": new}).to_string();
                    let (status, body) = server.http("PUT", "/v1/password", Some(&body), Some(&owner));
                    assert!(status < 300, "the change succeeds: {status} {body}");
                    return status;
                }
                let (status, body) = login(&server, "ada@example.com", old);
                if status == 200 || status == 201 {
                    tokens.lock().unwrap().push(body["token"].as_str().unwrap().to_owned());
                }
                status
            });
            // 503: a sign-in shed by a busy machine verified nothing and made nothing.
            assert!(statuses.iter().all(|s| [200, 201, 204, 401, 503].contains(s)), "{statuses:?}");
            // The change has returned: whatever the old password obtained is dead.
            for token in tokens.into_inner().unwrap() {
                let (status, body) = server.http("GET", "/v1/me", None, Some(&token));
                assert_eq!(status, 401, "a session from the old password still works: {body}");
            }
            // The owner's own session stays, and the new password signs in (which
            // also clears the count the refused sign-ins left).
            assert_eq!(server.http("GET", "/v1/me", None, Some(&owner)).0, 200);
            assert_eq!(login(&server, "ada@example.com", new).0, 200);
        }
    }

    fn a_sign_in_racing_account_deletion_gets_a_documented_answer(server) {
        let owner = register(&server, "ada@example.com", PASSWORD);
        let statuses = together(ACCOUNT_MAX_ATTEMPTS, |n| {
            if n == 0 {
                return server.http("DELETE", "/v1/account", None, Some(&owner)).0;
            }
            login(&server, "ada@example.com", PASSWORD).0
        });
        assert!(
            statuses.iter().all(|s| [200, 204, 401].contains(s)),
            "a sign-in racing deletion gets a success or the documented refusal: {statuses:?}"
        );
        // Gone: the password no longer signs in.
        assert_eq!(login(&server, "ada@example.com", PASSWORD).0, 401);
    }
}
