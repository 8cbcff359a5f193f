//! Brute-force protection: per-account lockout with backoff and a per-IP limit,
//! kept in the database so they hold across processes and restarts.

use serde_json::json;

use crate::harness::{PASSWORD, on_both_databases};
use crate::server::Server;

const WRONG: &str = "definitely not it";

on_both_databases! {
    fn five_failures_lock_the_account_until_the_lock_expires(qhub) {
        qhub.register("ada@example.com").ok();
        for _ in 0..5 {
            qhub.login("ada@example.com", WRONG).fails(3, "invalid email or password");
        }
        // Locked: even the right password is refused, and nothing says why beyond the lock.
        qhub.login("ada@example.com", PASSWORD)
            .fails(3, "too many failed sign-ins; try again in")
            .fails(3, "hint: wait a little");
        // Unregistered emails get exactly the same treatment.
        for _ in 0..5 {
            qhub.login("nobody@example.com", WRONG).fails(3, "invalid email or password");
        }
        let unknown = qhub.login("nobody@example.com", WRONG);
        unknown.fails(3, "too many failed sign-ins");

        // Time passes (as an operator would see it in the database): the lock expires.
        qhub.expire_login_locks();
        qhub.login("ada@example.com", PASSWORD).ok();
        // Success cleared the count: one more failure does not lock again.
        qhub.login("ada@example.com", WRONG).fails(3, "invalid email or password");
        qhub.login("ada@example.com", PASSWORD).ok();
    }

    fn the_per_ip_limit_and_the_lock_hold_across_server_processes(qhub) {
        let db_home = qhub;
        let first = Server::start_shared(&db_home);
        let signup = |server: &Server, email: &str| {
            let body = json!({"email": email, "password": PASSWORD}).to_string();
            assert_eq!(server.http("POST", "/v1/accounts", Some(&body), None).0, 201);
        };
        let login = |server: &Server, email: &str, password: &str| {
            let body = json!({"email": email, "password": password}).to_string();
            server.http("POST", "/v1/sessions", Some(&body), None)
        };
        signup(&first, "ada@example.com");
        for _ in 0..5 {
            assert_eq!(login(&first, "ada@example.com", WRONG).0, 401);
        }
        drop(first);

        // A new server process on the same database still refuses ada.
        let second = Server::start_shared(&db_home);
        let (status, body) = login(&second, "ada@example.com", PASSWORD);
        assert_eq!((status, &body["error"]["code"]), (429, &json!("rate-limited")), "{body}");

        // Twenty failures from one address, across many emails, lock the address.
        signup(&second, "grace@example.com");
        for n in 0..15 {
            assert_eq!(login(&second, &format!("guess{n}@example.com"), WRONG).0, 401);
        }
        let (status, body) = login(&second, "grace@example.com", PASSWORD);
        assert_eq!((status, &body["error"]["code"]), (429, &json!("rate-limited")), "{body}");
    }
}
