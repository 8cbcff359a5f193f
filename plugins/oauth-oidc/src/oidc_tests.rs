//! Native tests of the OpenID Connect protocol code against a scripted transport.

use qhub_provider_sdk::testing::{FakeHttp, MapConfig};
use qhub_provider_sdk::{Host, PollOutcome, Provider, ProviderError, Request, Response, Tokens};
use serde_json::json;

use super::*;

const ISSUER: &str = "http://127.0.0.1:4000";

fn discovery_doc() -> serde_json::Value {
    json!({
        "issuer": ISSUER,
        "authorization_endpoint": format!("{ISSUER}/auth"),
        "token_endpoint": format!("{ISSUER}/token"),
        "userinfo_endpoint": format!("{ISSUER}/me"),
        "device_authorization_endpoint": format!("{ISSUER}/device/auth"),
        "code_challenge_methods_supported": ["S256"],
    })
}

/// Serves the discovery document, and `other` for every other request.
fn server(other: impl Fn(&Request) -> Response + 'static) -> FakeHttp {
    FakeHttp::new(move |r| {
        if r.url == format!("{ISSUER}/.well-known/openid-configuration") {
            Response::json(200, &discovery_doc())
        } else {
            other(r)
        }
    })
}

fn with_host<T>(http: &FakeHttp, pairs: &[(&str, &str)], f: impl FnOnce(&Host<'_>) -> T) -> T {
    let config = MapConfig::new(pairs);
    f(&Host {
        http,
        config: &config,
        user_agent: "qhub-oauth-oidc/test",
    })
}

const PUBLIC: &[(&str, &str)] = &[("issuer", ISSUER), ("client-id", "qhub-cli")];
const CONFIDENTIAL: &[(&str, &str)] = &[
    ("issuer", ISSUER),
    ("client-id", "qhub"),
    ("client-secret", "s3cret"),
];

fn tokens(id_token: Option<&str>) -> Tokens {
    Tokens {
        access_token: "at".into(),
        token_type: "Bearer".into(),
        refresh_token: None,
        id_token: id_token.map(str::to_owned),
        expires_in: None,
        scope: None,
    }
}

#[test]
fn device_authorization_uses_the_discovered_endpoint_and_default_scopes() {
    let http = server(|r| {
        assert_eq!(r.url, format!("{ISSUER}/device/auth"));
        Response::json(
            200,
            &json!({"device_code": "dc", "user_code": "WDJB-MJHT", "verification_uri": format!("{ISSUER}/device"),
                    "verification_uri_complete": format!("{ISSUER}/device?user_code=WDJB-MJHT"), "expires_in": 600}),
        )
    });
    let got = with_host(&http, PUBLIC, |h| Oidc::start_device_authorization(h, &[])).unwrap();
    assert_eq!(got.user_code, "WDJB-MJHT");
    assert_eq!(
        got.interval, 5,
        "the RFC's default when the server sends none"
    );
    let sent = &http.requests()[1];
    assert_eq!(
        sent.body_text(),
        "scope=openid%20email%20profile&client_id=qhub-cli"
    );
}

#[test]
fn polling_maps_every_rfc_8628_outcome() {
    for (answer, expected) in [
        (
            json!({"error": "authorization_pending"}),
            PollOutcome::Pending,
        ),
        (json!({"error": "slow_down"}), PollOutcome::SlowDown(0)),
        (json!({"error": "access_denied"}), PollOutcome::Denied),
        (json!({"error": "expired_token"}), PollOutcome::Expired),
        (
            json!({"access_token": "at", "token_type": "Bearer"}),
            PollOutcome::Granted(tokens(None)),
        ),
    ] {
        let status = if answer.get("error").is_some() {
            400
        } else {
            200
        };
        let http = server(move |_| Response::json(status, &answer));
        let got = with_host(&http, PUBLIC, |h| Oidc::poll_device_token(h, "dc 1")).unwrap();
        assert_eq!(got, expected);
        let sent = &http.requests()[1];
        assert_eq!(sent.url, format!("{ISSUER}/token"));
        assert_eq!(
            sent.body_text(),
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=dc%201&client_id=qhub-cli"
        );
    }
}

#[test]
fn authorization_url_carries_pkce_s256_state_and_scopes() {
    let http = server(|r| panic!("unexpected {r:?}"));
    let url = with_host(&http, PUBLIC, |h| {
        Oidc::authorization_url(
            h,
            "http://127.0.0.1:5555/callback",
            "st",
            "chal",
            &["openid".into(), "email".into()],
        )
    })
    .unwrap();
    assert_eq!(
        url,
        format!(
            "{ISSUER}/auth?response_type=code&client_id=qhub-cli&redirect_uri=http%3A%2F%2F127.0.0.1%3A5555%2Fcallback\
             &scope=openid%20email&state=st&code_challenge=chal&code_challenge_method=S256"
        )
    );
}

#[test]
fn issuers_without_s256_are_refused() {
    let http = FakeHttp::new(|_| {
        let mut doc = discovery_doc();
        doc["code_challenge_methods_supported"] = json!(["plain"]);
        Response::json(200, &doc)
    });
    let err = with_host(&http, PUBLIC, |h| {
        Oidc::authorization_url(h, "http://127.0.0.1/cb", "s", "c", &[])
    })
    .unwrap_err();
    assert!(
        matches!(&err, ProviderError::Protocol(m) if m.contains("S256")),
        "{err:?}"
    );
}

#[test]
fn code_exchange_is_public_without_a_secret_and_basic_with_one() {
    let answer =
        |_: &Request| Response::json(200, &json!({"access_token": "at", "token_type": "Bearer"}));
    let http = server(answer);
    let got = with_host(&http, PUBLIC, |h| {
        Oidc::exchange_code(h, "code", "http://127.0.0.1:1/cb", "verifier")
    });
    assert_eq!(got.unwrap(), tokens(None));
    let sent = &http.requests()[1];
    assert_eq!(sent.header("authorization"), None);
    assert_eq!(
        sent.body_text(),
        "grant_type=authorization_code&code=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcb&code_verifier=verifier&client_id=qhub-cli"
    );

    let http = server(answer);
    with_host(&http, CONFIDENTIAL, |h| {
        Oidc::exchange_code(h, "code", "http://127.0.0.1:1/cb", "verifier")
    })
    .unwrap();
    let sent = &http.requests()[1];
    // base64("qhub:s3cret")
    assert_eq!(sent.header("authorization"), Some("Basic cWh1YjpzM2NyZXQ="));
    assert!(
        !sent.body_text().contains("client_id"),
        "{}",
        sent.body_text()
    );
}

#[test]
fn a_discovery_document_for_another_issuer_is_refused() {
    let http = FakeHttp::new(|_| {
        let mut doc = discovery_doc();
        doc["issuer"] = json!("https://evil.example");
        Response::json(200, &doc)
    });
    let err = with_host(&http, PUBLIC, |h| Oidc::poll_device_token(h, "dc")).unwrap_err();
    let ProviderError::Misconfigured(m) = err else {
        panic!("{err:?}")
    };
    assert!(
        m.contains("https://evil.example") && m.contains("hint:"),
        "{m}"
    );
    assert_eq!(http.requests().len(), 1, "nothing is sent after a mismatch");
}

#[test]
fn missing_issuer_is_a_configuration_error() {
    let http = FakeHttp::new(|r| panic!("unexpected {r:?}"));
    let err = with_host(&http, &[("client-id", "x")], |h| {
        Oidc::start_device_authorization(h, &[])
    })
    .unwrap_err();
    assert!(
        matches!(&err, ProviderError::Misconfigured(m) if m.starts_with("issuer is not configured")),
        "{err:?}"
    );
}

#[test]
fn identity_comes_from_userinfo() {
    let http = server(|r| {
        assert_eq!(r.header("authorization"), Some("Bearer at"));
        Response::json(
            200,
            &json!({"sub": "u-1", "email": "ada@example.com", "email_verified": true, "name": "Ada"}),
        )
    });
    let got = with_host(&http, PUBLIC, |h| Oidc::fetch_identity(h, &tokens(None))).unwrap();
    assert_eq!(
        got,
        Identity {
            subject: "u-1".into(),
            email: Some("ada@example.com".into()),
            email_verified: true,
            display_name: Some("Ada".into()),
        }
    );
}

#[test]
fn identity_rules() {
    let info = |v: serde_json::Value| serde_json::from_value::<UserInfo>(v).unwrap();
    // Unverified or absent `email_verified` is not verified; the string form counts.
    let got = identity(info(json!({"sub": "1", "email": "a@x"})), None).unwrap();
    assert!(!got.email_verified);
    let got = identity(
        info(json!({"sub": "1", "email": "a@x", "email_verified": "true"})),
        None,
    )
    .unwrap();
    assert!(got.email_verified);
    let got = identity(
        info(json!({"sub": "1", "email_verified": true, "preferred_username": "ada"})),
        None,
    )
    .unwrap();
    assert!(!got.email_verified, "no email, nothing verified");
    assert_eq!(got.display_name.as_deref(), Some("ada"));

    // An id token naming another subject makes the userinfo answer unusable.
    let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"someone-else"}"#);
    let id_token = format!("e30.{payload}.sig");
    let err = identity(info(json!({"sub": "1"})), Some(&id_token)).unwrap_err();
    assert!(
        matches!(&err, ProviderError::Protocol(m) if m.contains("someone-else")),
        "{err:?}"
    );
    let same = format!("e30.{}.sig", URL_SAFE_NO_PAD.encode(br#"{"sub":"1"}"#));
    assert!(identity(info(json!({"sub": "1"})), Some(&same)).is_ok());
    // An opaque (say, encrypted) token is not read at all.
    assert!(identity(info(json!({"sub": "1"})), Some("a.b.c.d.e")).is_ok());
}

#[test]
fn userinfo_errors_are_reported() {
    let http = server(|_| {
        Response::json(
            401,
            &json!({"error": "invalid_token", "error_description": "expired"}),
        )
    });
    let err = with_host(&http, PUBLIC, |h| Oidc::fetch_identity(h, &tokens(None))).unwrap_err();
    assert_eq!(
        err,
        ProviderError::Protocol("userinfo endpoint answered 401: invalid_token: expired".into())
    );
}

#[test]
fn discovery_url_does_not_double_slashes() {
    assert_eq!(
        discovery_url("https://x/realms/q/"),
        "https://x/realms/q/.well-known/openid-configuration"
    );
    assert_eq!(
        discovery_url("https://x"),
        "https://x/.well-known/openid-configuration"
    );
}
