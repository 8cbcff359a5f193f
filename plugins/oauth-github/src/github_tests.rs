//! Native tests of the GitHub protocol code against a scripted transport.

use qhub_provider_sdk::testing::{FakeHttp, MapConfig};
use qhub_provider_sdk::{Host, PollOutcome, Provider, ProviderError, Response, Tokens};
use serde_json::json;

use super::*;

fn with_host<T>(http: &FakeHttp, pairs: &[(&str, &str)], f: impl FnOnce(&Host<'_>) -> T) -> T {
    let config = MapConfig::new(pairs);
    f(&Host {
        http,
        config: &config,
        user_agent: "qhub-oauth-github/test",
    })
}

const STAND_IN: &[(&str, &str)] = &[
    ("client-id", "Iv1.abc"),
    ("auth-base", "http://127.0.0.1:7000/"),
    ("api-base", "http://127.0.0.1:7001"),
];

fn token() -> Tokens {
    Tokens {
        access_token: "gho_x".into(),
        token_type: "bearer".into(),
        refresh_token: None,
        id_token: None,
        expires_in: None,
        scope: Some("read:user,user:email".into()),
    }
}

#[test]
fn device_flow_follows_githubs_documented_requests() {
    let http = FakeHttp::new(|r| {
        assert_eq!(r.url, "https://github.com/login/device/code");
        Response::json(
            200,
            &json!({"device_code": "3584d83530557fdd1f46af8289938c8ef79f9dc5", "user_code": "WDJB-MJHT",
                    "verification_uri": "https://github.com/login/device", "expires_in": 900, "interval": 5}),
        )
    });
    let got = with_host(&http, &[("client-id", "Iv1.abc")], |h| {
        GitHub::start_device_authorization(h, &[])
    })
    .unwrap();
    assert_eq!(got.verification_uri, "https://github.com/login/device");
    assert_eq!((got.expires_in, got.interval), (900, 5));
    let sent = http.only_request();
    assert_eq!(
        sent.body_text(),
        "scope=read%3Auser%20user%3Aemail&client_id=Iv1.abc"
    );
    assert_eq!(sent.header("accept"), Some("application/json"));
    assert_eq!(sent.header("user-agent"), Some("qhub-oauth-github/test"));
}

#[test]
fn polling_reads_githubs_200_error_bodies() {
    for (answer, expected) in [
        (
            json!({"error": "authorization_pending"}),
            PollOutcome::Pending,
        ),
        (
            json!({"error": "slow_down", "interval": 10}),
            PollOutcome::SlowDown(10),
        ),
        (json!({"error": "access_denied"}), PollOutcome::Denied),
        (json!({"error": "expired_token"}), PollOutcome::Expired),
        (
            json!({"access_token": "gho_x", "token_type": "bearer", "scope": "read:user,user:email"}),
            PollOutcome::Granted(token()),
        ),
    ] {
        let http = FakeHttp::new(move |_| Response::json(200, &answer));
        let got = with_host(&http, STAND_IN, |h| GitHub::poll_device_token(h, "dc")).unwrap();
        assert_eq!(got, expected);
        let sent = http.only_request();
        assert_eq!(
            sent.url, "http://127.0.0.1:7000/login/oauth/access_token",
            "trailing slash trimmed"
        );
        assert_eq!(
            sent.body_text(),
            "device_code=dc&grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&client_id=Iv1.abc"
        );
    }
    let http = FakeHttp::new(|_| Response::json(200, &json!({"error": "device_flow_disabled"})));
    let err = with_host(&http, STAND_IN, |h| GitHub::poll_device_token(h, "dc")).unwrap_err();
    assert!(
        matches!(&err, ProviderError::Protocol(m) if m.contains("device_flow_disabled")),
        "{err:?}"
    );
}

#[test]
fn web_flow_uses_pkce_s256_and_sends_the_secret_in_the_body() {
    let http = FakeHttp::new(|r| panic!("unexpected {r:?}"));
    let url = with_host(&http, STAND_IN, |h| {
        GitHub::authorization_url(h, "http://127.0.0.1:9/callback", "xyz", "chal", &[])
    })
    .unwrap();
    assert_eq!(
        url,
        "http://127.0.0.1:7000/login/oauth/authorize?client_id=Iv1.abc&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcallback\
         &scope=read%3Auser%20user%3Aemail&state=xyz&code_challenge=chal&code_challenge_method=S256"
    );

    let http = FakeHttp::new(|_| {
        Response::json(
            200,
            &json!({"access_token": "gho_x", "token_type": "bearer", "scope": "read:user,user:email"}),
        )
    });
    let config = [("client-id", "Iv1.abc"), ("client-secret", "shh")];
    let got = with_host(&http, &config, |h| {
        GitHub::exchange_code(h, "c0de", "http://127.0.0.1:9/callback", "ver")
    });
    assert_eq!(got.unwrap(), token());
    let sent = http.only_request();
    assert_eq!(sent.url, "https://github.com/login/oauth/access_token");
    assert_eq!(
        sent.body_text(),
        "code=c0de&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcallback&code_verifier=ver&client_id=Iv1.abc&client_secret=shh"
    );

    let http = FakeHttp::new(|_| {
        Response::json(
            200,
            &json!({"error": "bad_verification_code", "error_description": "The code passed is incorrect or expired."}),
        )
    });
    let err = with_host(&http, STAND_IN, |h| GitHub::exchange_code(h, "c", "r", "v")).unwrap_err();
    assert!(
        matches!(&err, ProviderError::Protocol(m) if m.contains("bad_verification_code")),
        "{err:?}"
    );
}

#[test]
fn identity_is_the_numeric_id_and_the_primary_email() {
    let http = FakeHttp::new(|r| {
        assert_eq!(r.header("authorization"), Some("Bearer gho_x"));
        assert_eq!(r.header("x-github-api-version"), Some(API_VERSION));
        match r.url.as_str() {
            "http://127.0.0.1:7001/user" => Response::json(
                200,
                &json!({"id": 583231, "login": "octocat", "name": "The Octocat", "email": null}),
            ),
            "http://127.0.0.1:7001/user/emails" => Response::json(
                200,
                &json!([
                    {"email": "old@example.com", "primary": false, "verified": true, "visibility": null},
                    {"email": "octocat@github.com", "primary": true, "verified": true, "visibility": "public"},
                ]),
            ),
            other => panic!("unexpected {other}"),
        }
    });
    let got = with_host(&http, STAND_IN, |h| GitHub::fetch_identity(h, &token())).unwrap();
    assert_eq!(
        got,
        Identity {
            subject: "583231".into(),
            email: Some("octocat@github.com".into()),
            email_verified: true,
            display_name: Some("The Octocat".into()),
        }
    );
}

#[test]
fn identity_rules() {
    let user = |email: Option<&str>| User {
        id: 7,
        login: "ada".into(),
        name: None,
        email: email.map(str::to_owned),
    };
    let email = |e: &str, primary, verified| Email {
        email: e.into(),
        primary,
        verified,
    };
    let got = identity(user(None), Some(vec![email("a@x", true, false)]));
    assert_eq!(
        (got.email.as_deref(), got.email_verified),
        (Some("a@x"), false),
        "unverified primary"
    );
    assert_eq!(
        got.display_name.as_deref(),
        Some("ada"),
        "login when there is no name"
    );
    let got = identity(user(None), Some(vec![email("a@x", false, true)]));
    assert_eq!(
        (got.email, got.email_verified),
        (None, false),
        "no primary address"
    );
    let got = identity(user(Some("pub@x")), None);
    assert_eq!(
        (got.email.as_deref(), got.email_verified),
        (Some("pub@x"), false),
        "profile email is not verified"
    );
}

#[test]
fn emails_the_token_may_not_read_leave_the_email_unverified() {
    let http = FakeHttp::new(|r| match r.url.as_str() {
        "https://api.github.com/user" => Response::json(
            200,
            &json!({"id": 1, "login": "a", "name": "A", "email": "a@x"}),
        ),
        _ => Response::json(404, &json!({"message": "Not Found"})),
    });
    let got = with_host(&http, &[("client-id", "x")], |h| {
        GitHub::fetch_identity(h, &token())
    })
    .unwrap();
    assert_eq!(
        (
            got.subject.as_str(),
            got.email.as_deref(),
            got.email_verified
        ),
        ("1", Some("a@x"), false)
    );

    let http = FakeHttp::new(|_| Response::json(401, &json!({"message": "Bad credentials"})));
    let err = with_host(&http, &[("client-id", "x")], |h| {
        GitHub::fetch_identity(h, &token())
    })
    .unwrap_err();
    assert_eq!(
        err,
        ProviderError::Protocol("github api /user answered 401: Bad credentials".into())
    );
}
