//! Register, login, whoami and logout, including the ways they must fail.

use crate::harness::{PASSWORD, on_both_databases};

on_both_databases! {
    fn register_whoami_logout_then_whoami_fails_with_a_hint(qhub) {
        let out = qhub.register("ada@example.com");
        assert!(out.ok().contains("ada@example.com"), "{out:#?}");

        let me = qhub.run(&["whoami", "--json"]).json();
        assert_eq!(me["email"], "ada@example.com");
        assert!(me["id"].as_str().is_some_and(|id| !id.is_empty()));

        assert!(
            qhub.run(&["logout"])
                .ok()
                .contains("logged out ada@example.com")
        );
        qhub.run(&["whoami"])
            .fails(4, "not logged in")
            .fails(4, "hint: log in with `qhub login");
        let config: toml::Table = toml::from_str(&qhub.config()).unwrap();
        assert!(
            !config.contains_key("token"),
            "logout forgets the token: {config:?}"
        );
    }

    /// The name given at registration can be changed and cleared, by a session
    /// only; an API key is refused and changes nothing.
    fn the_display_name_can_be_set_and_cleared(qhub) {
        qhub.register("ada@example.com").ok();
        let set = qhub.run(&["account", "set-name", "  Augusta Ada King ", "--json"]).json();
        assert_eq!(set["display_name"], "Augusta Ada King");
        assert_eq!(qhub.run(&["whoami", "--json"]).json()["display_name"], "Augusta Ada King");
        qhub.run(&["account", "set-name", "Ada\u{7}"]).fails(3, "control characters");
        qhub.run(&["account", "set-name"]).fails(2, "--clear");
        let key = qhub.run(&["keys", "create", "--name", "ci", "--json"]).json();
        let key = key["secret"].as_str().unwrap().to_owned();
        qhub.run_with(&["account", "set-name", "Mallory"], None, &[("QHUB_TOKEN", &key)])
            .fails(3, "API keys cannot change the display name");
        assert!(qhub.run(&["account", "set-name", "--clear"]).ok().contains("display name cleared"));
        assert_eq!(qhub.run(&["whoami", "--json"]).json()["display_name"], serde_json::Value::Null);
    }

    fn login_after_logout_gives_a_new_working_session(qhub) {
        qhub.register("grace@example.com").ok();
        qhub.run(&["logout"]).ok();
        let out = qhub
            .run_with(
                &[
                    "login",
                    "--json",
                    "--email",
                    "Grace@Example.com",
                    "--password-stdin",
                ],
                Some(&format!("{PASSWORD}\n")),
                &[],
            )
            .json();
        assert_eq!(
            out["user"]["email"], "grace@example.com",
            "emails are normalised"
        );
        assert_eq!(
            qhub.run(&["whoami", "--json"]).json()["email"],
            "grace@example.com"
        );
    }

    fn wrong_passwords_and_unknown_emails_get_the_same_answer(qhub) {
        qhub.register("ada@example.com").ok();
        let wrong = qhub.login("ada@example.com", "not the password at all");
        wrong.fails(3, "invalid email or password");
        let unknown = qhub.login("nobody@example.com", PASSWORD);
        unknown.fails(3, "invalid email or password");
        assert_eq!(
            wrong.stderr, unknown.stderr,
            "the answer must not reveal which emails exist"
        );
    }

    fn duplicate_emails_are_rejected_case_insensitively(qhub) {
        qhub.register("ada@example.com").ok();
        qhub.register("  ADA@Example.COM ")
            .fails(3, "already exists")
            .fails(3, "hint: log in instead");
    }

    fn weak_passwords_and_bad_emails_are_refused_with_reasons(qhub) {
        let short = qhub.run_with(
            &["register", "--email", "ada@example.com", "--password-stdin"],
            Some("short\n"),
            &[],
        );
        short.fails(3, "at least 8 characters");
        let same = qhub.run_with(
            &["register", "--email", "ada@example.com", "--password-stdin"],
            Some("ADA@example.com\n"),
            &[],
        );
        same.fails(3, "email");
        qhub.run_with(
            &["register", "--email", "not-an-email", "--password-stdin"],
            Some(&format!("{PASSWORD}\n")),
            &[],
        )
        .fails(3, "email");
        qhub.run(&["whoami"]).fails(4, "not logged in");
    }

    fn without_a_terminal_a_password_must_come_from_stdin(qhub) {
        qhub.run(&["register", "--email", "ada@example.com"])
            .fails(2, "hint: pipe it in with --password-stdin");
        qhub.run_with(
            &["login", "--email", "ada@example.com", "--password-stdin"],
            Some(""),
            &[],
        )
        .fails(2, "stdin held no password");
    }

    fn a_tampered_token_is_rejected(qhub) {
        qhub.register("ada@example.com").ok();
        let token = qhub.token();
        // Change the payload (claims) but keep the signature: the signature no longer matches.
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        assert_eq!(parts.len(), 3, "a JWT has three parts");
        let flipped = if parts[1].ends_with('A') { 'B' } else { 'A' };
        parts[1].pop();
        parts[1].push(flipped);
        qhub.set_token(&parts.join("."));
        qhub.run(&["whoami"]).fails(4, "invalid token");
        qhub.set_token("garbage");
        qhub.run(&["whoami"]).fails(4, "invalid token");
    }

    fn an_expired_session_is_rejected_even_with_a_valid_token(qhub) {
        qhub.register("ada@example.com").ok();
        qhub.run(&["whoami"]).ok();
        qhub.expire_sessions();
        qhub.run(&["whoami"]).fails(4, "session expired");
    }

    fn an_expired_token_is_rejected(qhub) {
        qhub.register("ada@example.com").ok();
        let claims = jwt_claims(&qhub.token());
        // Sign, with the embedded secret, a token identical but for an expiry in the past.
        let secret = std::fs::read(qhub.path("jwt-secret")).unwrap();
        let mut expired = claims.clone();
        expired["iat"] = serde_json::json!(1_000);
        expired["exp"] = serde_json::json!(2_000);
        let token = jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &expired,
            &jsonwebtoken::EncodingKey::from_secret(hex::encode(secret).as_bytes()),
        )
        .unwrap();
        qhub.set_token(&token);
        qhub.run(&["whoami"]).fails(4, "token expired");
    }

    fn a_revoked_session_cannot_be_reused(qhub) {
        qhub.register("ada@example.com").ok();
        let token = qhub.token();
        qhub.run(&["logout"]).ok();
        qhub.set_token(&token);
        qhub.run(&["whoami"]).fails(4, "session revoked");
    }
}

fn jwt_claims(token: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("a JWT payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}
