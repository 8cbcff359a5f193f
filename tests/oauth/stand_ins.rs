//! Proves the OAuth stand-ins of `qhub-test-support` with plain HTTP, before any
//! QHub code uses them: the device flow and the PKCE authorization-code flow against
//! a real `oidc-provider`, and the device and web flows against the GitHub stand-in.

#![expect(clippy::unwrap_used, reason = "a test fails by panicking")]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use qhub_test_support::oauth::{
    GitHubStandIn, GitHubUser, OIDC_CLIENT_ID, OidcAccount, OidcServer,
};
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn ada() -> OidcAccount {
    OidcAccount::new("ada-1815", "ada@example.com", true, "Ada Lovelace")
}

async fn json(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (status, value)
}

async fn post_form(url: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    json(
        client()
            .post(url)
            .header("accept", "application/json")
            .header("user-agent", "qhub-test")
            .form(form)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn get_bearer(url: &str, token: &str) -> (StatusCode, Value) {
    json(
        client()
            .get(url)
            .bearer_auth(token)
            .header("user-agent", "qhub-test")
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn discovery(server: &OidcServer) -> Value {
    let url = format!("{}/.well-known/openid-configuration", server.issuer());
    let (status, doc) = json(client().get(&url).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["issuer"], server.issuer());
    doc
}

fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The query parameter `name` of `url`.
fn param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn oidc_device_flow_is_pending_until_the_user_approves() {
    let server = OidcServer::start(&[ada()]);
    let doc = discovery(&server).await;
    let token_endpoint = doc["token_endpoint"].as_str().unwrap();

    let (status, device) = post_form(
        doc["device_authorization_endpoint"].as_str().unwrap(),
        &[
            ("client_id", OIDC_CLIENT_ID),
            ("scope", "openid email profile"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{device}");
    let device_code = device["device_code"].as_str().unwrap();
    let poll = [
        ("grant_type", DEVICE_GRANT),
        ("device_code", device_code),
        ("client_id", OIDC_CLIENT_ID),
    ];

    let (status, pending) = post_form(token_endpoint, &poll).await;
    assert_eq!(
        (status, &pending["error"]),
        (
            StatusCode::BAD_REQUEST,
            &Value::from("authorization_pending")
        )
    );

    server.approve_device(
        device["verification_uri_complete"].as_str().unwrap(),
        "ada-1815",
    );
    let (status, tokens) = post_form(token_endpoint, &poll).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert!(tokens["id_token"].is_string(), "{tokens}");

    let (status, info) = get_bearer(
        doc["userinfo_endpoint"].as_str().unwrap(),
        tokens["access_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(info["sub"], "ada-1815");
    assert_eq!(info["email"], "ada@example.com");
    assert_eq!(info["email_verified"], true);
    assert_eq!(info["name"], "Ada Lovelace");
}

#[tokio::test]
async fn oidc_device_flow_reports_a_refusal() {
    let server = OidcServer::start(&[ada()]);
    let doc = discovery(&server).await;
    let (_, device) = post_form(
        doc["device_authorization_endpoint"].as_str().unwrap(),
        &[("client_id", OIDC_CLIENT_ID), ("scope", "openid")],
    )
    .await;
    // By user code this time, as a person would type it.
    server.deny_device(device["user_code"].as_str().unwrap());
    let (status, denied) = post_form(
        doc["token_endpoint"].as_str().unwrap(),
        &[
            ("grant_type", DEVICE_GRANT),
            ("device_code", device["device_code"].as_str().unwrap()),
            ("client_id", OIDC_CLIENT_ID),
        ],
    )
    .await;
    assert_eq!(
        (status, &denied["error"]),
        (StatusCode::BAD_REQUEST, &Value::from("access_denied"))
    );
}

#[tokio::test]
async fn oidc_authorization_code_flow_requires_and_checks_pkce() {
    let server = OidcServer::start(&[ada()]);
    let doc = discovery(&server).await;
    let authorization_endpoint = doc["authorization_endpoint"].as_str().unwrap();
    // Any port on the loopback redirect, as RFC 8252 allows native clients.
    let redirect_uri = "http://127.0.0.1:49321/callback";
    let verifier = "a-pkce-verifier-that-is-long-enough-0123456789";
    let url = |challenge: Option<&str>| {
        let mut url = url::Url::parse(authorization_endpoint).unwrap();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", OIDC_CLIENT_ID)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", "openid email profile")
            .append_pair("state", "st4te");
        if let Some(challenge) = challenge {
            url.query_pairs_mut()
                .append_pair("code_challenge", challenge)
                .append_pair("code_challenge_method", "S256");
        }
        url.to_string()
    };

    // Without a challenge the provider sends the browser back with an error.
    let refused = client().get(url(None)).send().await.unwrap();
    let location = refused.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(redirect_uri), "{location}");
    assert_eq!(
        param(&location, "error").as_deref(),
        Some("invalid_request"),
        "{location}"
    );

    let redirect = server.authorize(&url(Some(&s256(verifier))), "ada-1815");
    assert!(redirect.starts_with(redirect_uri), "{redirect}");
    assert_eq!(param(&redirect, "state").as_deref(), Some("st4te"));
    let code = param(&redirect, "code").expect("a code");

    let token_endpoint = doc["token_endpoint"].as_str().unwrap().to_owned();
    let exchange = |verifier: &'static str, code: String| {
        let token_endpoint = token_endpoint.clone();
        async move {
            post_form(
                &token_endpoint,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", redirect_uri),
                    ("code_verifier", verifier),
                    ("client_id", OIDC_CLIENT_ID),
                ],
            )
            .await
        }
    };
    let (status, tokens) = exchange(verifier, code).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let (_, info) = get_bearer(
        doc["userinfo_endpoint"].as_str().unwrap(),
        tokens["access_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(info["sub"], "ada-1815");

    // A second code, exchanged with the wrong verifier, is refused.
    let redirect = server.authorize(&url(Some(&s256(verifier))), "ada-1815");
    let (status, refused) = exchange(
        "not-the-verifier-not-the-verifier-not-the-v",
        param(&redirect, "code").unwrap(),
    )
    .await;
    assert_eq!(
        (status, &refused["error"]),
        (StatusCode::BAD_REQUEST, &Value::from("invalid_grant"))
    );
}

fn octocat() -> GitHubUser {
    GitHubUser {
        id: 583231,
        login: "octocat".into(),
        name: Some("The Octocat".into()),
        public_email: None,
        emails: vec![
            ("old@example.com".into(), false, true),
            ("octocat@github.com".into(), true, true),
        ],
    }
}

#[tokio::test]
async fn github_device_flow_follows_githubs_documented_answers() {
    let github = GitHubStandIn::start("Iv1.test", None, vec![octocat()]);
    let token_url = format!("{}/login/oauth/access_token", github.auth_base());
    let start = || async {
        post_form(
            &format!("{}/login/device/code", github.auth_base()),
            &[("client_id", "Iv1.test"), ("scope", "read:user user:email")],
        )
        .await
    };
    let (status, device) = start().await;
    assert_eq!(status, StatusCode::OK, "{device}");
    assert_eq!(
        (device["expires_in"].as_u64(), device["interval"].as_u64()),
        (Some(900), Some(5))
    );
    let user_code = device["user_code"].as_str().unwrap();
    let poll = |device_code: String| {
        let token_url = token_url.clone();
        async move {
            post_form(
                &token_url,
                &[
                    ("client_id", "Iv1.test"),
                    ("device_code", &device_code),
                    ("grant_type", DEVICE_GRANT),
                ],
            )
            .await
        }
    };
    let device_code = device["device_code"].as_str().unwrap().to_owned();

    // GitHub answers 200 with the error in the body.
    let (status, pending) = poll(device_code.clone()).await;
    assert_eq!(
        (status, &pending["error"]),
        (StatusCode::OK, &Value::from("authorization_pending"))
    );
    github.slow_down_device(user_code);
    let (_, slow) = poll(device_code.clone()).await;
    assert_eq!(
        (&slow["error"], slow["interval"].as_u64()),
        (&Value::from("slow_down"), Some(10))
    );
    github.approve_device(user_code, "octocat");
    let (_, tokens) = poll(device_code.clone()).await;
    assert_eq!(tokens["token_type"], "bearer", "{tokens}");
    assert_eq!(tokens["scope"], "read:user,user:email");
    assert_eq!(github.polls(), 3);

    let token = tokens["access_token"].as_str().unwrap();
    let (status, user) = get_bearer(&format!("{}/user", github.api_base()), token).await;
    assert_eq!(
        (status, &user["id"], &user["login"]),
        (
            StatusCode::OK,
            &Value::from(583231),
            &Value::from("octocat")
        )
    );
    let (_, emails) = get_bearer(&format!("{}/user/emails", github.api_base()), token).await;
    let primary = emails
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["primary"] == true)
        .unwrap();
    assert_eq!(
        (&primary["email"], &primary["verified"]),
        (&Value::from("octocat@github.com"), &Value::from(true))
    );
    // Like GitHub's API, no User-Agent, no answer.
    let no_agent = client()
        .get(format!("{}/user", github.api_base()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(no_agent.status(), StatusCode::FORBIDDEN);

    for (outcome, error) in [("deny", "access_denied"), ("expire", "expired_token")] {
        let (_, device) = start().await;
        let user_code = device["user_code"].as_str().unwrap();
        match outcome {
            "deny" => github.deny_device(user_code),
            _ => github.expire_device(user_code),
        }
        let (_, answer) = poll(device["device_code"].as_str().unwrap().to_owned()).await;
        assert_eq!(answer["error"], error);
    }
}

#[tokio::test]
async fn github_web_flow_checks_pkce_and_the_client_secret() {
    let github = GitHubStandIn::start("Iv1.test", Some("shh"), vec![octocat()]);
    let verifier = "a-pkce-verifier-that-is-long-enough-0123456789";
    let mut url =
        url::Url::parse(&format!("{}/login/oauth/authorize", github.auth_base())).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", "Iv1.test")
        .append_pair("redirect_uri", "http://127.0.0.1:49322/callback")
        .append_pair("scope", "read:user")
        .append_pair("state", "st")
        .append_pair("code_challenge", &s256(verifier))
        .append_pair("code_challenge_method", "S256");
    let exchange = |code: String, verifier: &'static str, secret: &'static str| {
        let token_url = format!("{}/login/oauth/access_token", github.auth_base());
        async move {
            post_form(
                &token_url,
                &[
                    ("client_id", "Iv1.test"),
                    ("client_secret", secret),
                    ("code", &code),
                    ("redirect_uri", "http://127.0.0.1:49322/callback"),
                    ("code_verifier", verifier),
                ],
            )
            .await
        }
    };

    let redirect = github.authorize(url.as_str(), "octocat");
    assert!(
        redirect.starts_with("http://127.0.0.1:49322/callback?"),
        "{redirect}"
    );
    assert_eq!(param(&redirect, "state").as_deref(), Some("st"));
    let (_, tokens) = exchange(param(&redirect, "code").unwrap(), verifier, "shh").await;
    assert!(
        tokens["access_token"].as_str().unwrap().starts_with("gho_"),
        "{tokens}"
    );
    // Only `read:user` was granted: the emails list is not readable.
    let emails = client()
        .get(format!("{}/user/emails", github.api_base()))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .header("user-agent", "qhub-test")
        .send()
        .await
        .unwrap();
    assert_eq!(emails.status(), StatusCode::NOT_FOUND);

    let redirect = github.authorize(url.as_str(), "octocat");
    let (_, wrong) = exchange(param(&redirect, "code").unwrap(), "not-the-verifier", "shh").await;
    assert_eq!(wrong["error"], "bad_verification_code");
    let redirect = github.authorize(url.as_str(), "octocat");
    let (_, wrong) = exchange(param(&redirect, "code").unwrap(), verifier, "nope").await;
    assert_eq!(wrong["error"], "incorrect_client_credentials");
}
