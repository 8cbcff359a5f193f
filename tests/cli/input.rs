//! Issue 10's hostile input, on every host (the native server on SQLite and
//! PostgreSQL, the Worker on D1) and through the CLI on both databases:
//! - kind 4: text a database refuses (NUL) is `invalid-input` naming the field,
//!   never a 500 carrying the database's message;
//! - kind 5: look-alike emails are one account (or refused), never a second one;
//! - kind 9: preference numbers come back with the digits they were given;
//! - kind 10: an explicitly empty list of API-key scopes is refused.

use serde_json::{Value, json};

use crate::harness::{PASSWORD, Qhub, on_both_databases};
use crate::server::{Server, on_every_host};

/// Registers `email` over HTTP; returns the status and body.
fn register(server: &Server, email: &str) -> (u16, Value) {
    let body = json!({"email": email, "password": PASSWORD}).to_string();
    server.http("POST", "/v1/accounts", Some(&body), None)
}

fn token_of(signed_in: &Value) -> String {
    signed_in["token"].as_str().expect("a token").to_owned()
}

/// Asserts a 400 `invalid-input` whose message names `field`, and that nothing of
/// the database's wording came through.
#[track_caller]
fn assert_refused(answer: (u16, Value), field: &str) {
    let (status, body) = answer;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!("invalid-input")),
        "{field}: {body}"
    );
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(field), "{field}: {message}");
    for leak in ["store", "query", "UTF8", "0x00", "Unicode escape"] {
        assert!(!message.contains(leak), "{field}: {message}");
    }
}

on_every_host! {
    fn nul_in_any_text_is_invalid_input_naming_the_field(server) {
        assert_refused(register(&server, &server.email("ada\u{0}")), "email");
        let bad_password = json!({"email": server.email("nul"), "password": "correct\u{0}horse battery"});
        assert_refused(
            server.http("POST", "/v1/accounts", Some(&bad_password.to_string()), None),
            "password",
        );
        let bad_name = json!({"email": server.email("nul"), "password": PASSWORD, "display_name": "Ada\u{0}"});
        assert_refused(
            server.http("POST", "/v1/accounts", Some(&bad_name.to_string()), None),
            "display name",
        );
        let login = json!({"email": server.email("ada\u{0}"), "password": PASSWORD});
        assert_refused(server.http("POST", "/v1/sessions", Some(&login.to_string()), None), "email");

        let (status, signed_in) = register(&server, &server.email("ada"));
        assert_eq!(status, 201, "{signed_in}");
        let token = token_of(&signed_in);
        let token = Some(token.as_str());

        let job = json!({"source": "OPENQASM 2.0;\nqreg q[1];\u{0}", "shots": 10});
        assert_refused(server.http("POST", "/v1/jobs", Some(&job.to_string()), token), "job source");
        assert_refused(server.http("GET", "/v1/jobs/a%00b", None, token), "job id");
        assert_refused(server.http("POST", "/v1/jobs/a%00b/cancel", None, token), "job id");

        assert_refused(server.http("PUT", "/v1/preferences/a%00b", Some("1"), token), "preference key");
        for value in [r#""a\u0000b""#, r#"{"a\u0000":1}"#, r#"[{"x":["\u0000"]}]"#] {
            assert_refused(server.http("PUT", "/v1/preferences/theme", Some(value), token), "preference value");
        }

        let key = json!({"name": "ci\u{0}"});
        assert_refused(server.http("POST", "/v1/keys", Some(&key.to_string()), token), "api key name");
        assert_refused(server.http("DELETE", "/v1/keys/a%00b", None, token), "api key id");
        assert_refused(server.http("DELETE", "/v1/sessions/a%00b", None, token), "session id");

        // Nothing was stored, and the account still works.
        let (status, prefs) = server.http("GET", "/v1/preferences", None, token);
        assert_eq!((status, prefs), (200, json!([])));
        let (status, jobs) = server.http("GET", "/v1/jobs", None, token);
        assert_eq!((status, jobs), (200, json!([])));
    }

    fn look_alike_emails_are_the_same_account_or_refused(server) {
        // The domain as it is, or in capitals (`Example.COM`).
        let (domain, capitals) = (server.domain(), server.domain().replace("example.com", "Example.COM"));
        for existing in [server.email("ada"), server.email("\u{e9}lodie"), server.email("kelvin")] {
            let (status, body) = register(&server, &existing);
            assert_eq!(status, 201, "{existing:?}: {body}");
        }
        let taken = [
            server.email("e\u{301}lodie"),
            server.email("e\u{301}lodie").to_uppercase(),
            format!("ada@{domain}."),
            format!("ADA@{capitals}."),
        ];
        for email in taken {
            let (status, body) = register(&server, &email);
            assert_eq!((status, &body["error"]["code"]), (409, &json!("email-taken")), "{email:?}: {body}");
        }
        let refused = [
            server.email("ad\u{200b}a"),
            server.email("ad\u{200d}a"),
            server.email("\u{feff}ada"),
            format!("ada@{}", domain.replace("example", "exam\u{feff}ple")),
            server.email("ad\u{202e}a"),
            server.email("\u{212a}elvin"),
        ];
        for email in refused {
            assert_refused(register(&server, &email), "email");
        }
        // One spelling signs in to the account of another.
        let spelled = format!("E\u{301}lodie@{}.", domain.replace("example", "Example"));
        let login = json!({"email": spelled, "password": PASSWORD});
        let (status, signed_in) = server.http("POST", "/v1/sessions", Some(&login.to_string()), None);
        assert_eq!(status, 200, "{signed_in}");
        assert_eq!(signed_in["user"]["email"], server.email("\u{e9}lodie"));
    }

    fn preference_numbers_keep_their_digits(server) {
        let (_, signed_in) = register(&server, &server.email("ada"));
        let token = token_of(&signed_in);
        let token = Some(token.as_str());
        let values = [
            ("n", "18446744073709551616"),
            ("doc", r#"{"id":99999999999999999999}"#),
            ("small", "-0.000000000000000000000000001"),
        ];
        for (key, value) in values {
            let path = format!("/v1/preferences/{key}");
            let (status, body) = server.http("PUT", &path, Some(value), token);
            assert_eq!(status, 204, "{key}: {body}");
        }
        let (status, prefs) = server.http("GET", "/v1/preferences", None, token);
        assert_eq!(status, 200, "{prefs}");
        for (key, value) in values {
            let found = prefs
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["key"] == key)
                .unwrap_or_else(|| panic!("{key} listed: {prefs}"));
            assert_eq!(found["value"].to_string(), value, "{key}");
        }
    }

    fn an_empty_scope_list_is_refused_and_no_list_is_the_default(server) {
        let (_, signed_in) = register(&server, &server.email("ada"));
        let token = token_of(&signed_in);
        let token = Some(token.as_str());
        let (status, body) =
            server.http("POST", "/v1/keys", Some(r#"{"name": "ci", "scopes": []}"#), token);
        assert_eq!((status, &body["error"]["code"]), (400, &json!("invalid-input")), "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("at least one scope"), "{body}");
        let (status, keys) = server.http("GET", "/v1/keys", None, token);
        assert_eq!((status, keys), (200, json!([])), "nothing was created");

        let all = json!(["account:read", "jobs:read", "jobs:write", "prefs:read", "prefs:write"]);
        let (status, created) = server.http("POST", "/v1/keys", Some(r#"{"name": "ci"}"#), token);
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["key"]["scopes"], all);
        let (status, created) =
            server.http("POST", "/v1/keys", Some(r#"{"name": "ro", "scopes": ["jobs:read"]}"#), token);
        assert_eq!((status, &created["key"]["scopes"]), (201, &json!(["jobs:read"])));
    }
}

on_both_databases! {
    /// Embedded, then through `qhub serve` on the same database.
    fn cli_preference_numbers_keep_their_digits(qhub) {
        qhub.register("ada@example.com").ok();
        qhub.run(&["prefs", "set", "n", "18446744073709551616"]).ok();
        qhub.run(&["prefs", "set", "doc", r#"{"id":99999999999999999999}"#]).ok();
        assert_eq!(qhub.run(&["prefs", "get", "n"]).ok().trim(), "18446744073709551616");
        let doc = qhub.run(&["prefs", "get", "doc", "--json"]).ok().to_owned();
        let doc: Value = serde_json::from_str(&doc).unwrap();
        assert_eq!(doc.to_string(), r#"{"id":99999999999999999999}"#);

        let server = Server::start_shared(&qhub);
        let remote = Qhub::new();
        let env = [("QHUB_SERVER", server.url.as_str())];
        remote
            .run_with(&["login", "--email", "ada@example.com", "--password-stdin"], Some(&format!("{PASSWORD}\n")), &env)
            .ok();
        assert_eq!(remote.run(&["prefs", "get", "n"]).ok().trim(), "18446744073709551616");
        remote.run(&["prefs", "set", "--", "m", "-123456789012345678901234.000000000000000000000000001"]).ok();
        assert_eq!(remote.run(&["prefs", "get", "m"]).ok().trim(), "-123456789012345678901234.000000000000000000000000001");
        assert_eq!(qhub.run(&["prefs", "get", "m"]).ok().trim(), "-123456789012345678901234.000000000000000000000000001");
    }

    fn cli_keys_without_a_scope_get_the_default(qhub) {
        qhub.register("ada@example.com").ok();
        let created = qhub.run(&["keys", "create", "--name", "ci", "--json"]).json();
        assert_eq!(
            created["key"]["scopes"],
            json!(["account:read", "jobs:read", "jobs:write", "prefs:read", "prefs:write"])
        );
    }
}
