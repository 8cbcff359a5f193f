//! Tests of the account flows over an in-memory store that keeps the WIT contract
//! (unique emails, store-chosen ids, revocation only of live sessions).

use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, Version};

use super::*;
use crate::memory_store::MemoryStore;
use crate::password::PolicyViolation;
use crate::token::Claims;

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
/// 2026-11-26T00:00:00Z.
const NOW: Timestamp = 1_795_651_200_000;
const EMAIL: &str = "ada@example.com";
const PASSWORD: &str = "correct horse battery";

fn accounts() -> Accounts<MemoryStore> {
    Accounts::new(MemoryStore::default(), Tokens::new(SECRET, "qhub"))
}

fn registration(email: &str, password: &str) -> Registration {
    Registration {
        email: email.into(),
        password: password.into(),
        display_name: Some("  Ada Lovelace ".into()),
    }
}

fn cli() -> Client {
    Client {
        user_agent: Some("qhub-cli/0.1.0 (linux)".into()),
        ip: Some("127.0.0.1".into()),
    }
}

fn register(accounts: &Accounts<MemoryStore>) -> SignedIn {
    accounts
        .register(registration(EMAIL, PASSWORD), cli(), NOW)
        .expect("registration succeeds")
}

/// Signs `EMAIL` in again at `at`, which starts another session.
fn sign_in(accounts: &Accounts<MemoryStore>, at: Timestamp) -> SignedIn {
    accounts
        .login(EMAIL, PASSWORD, cli(), at)
        .expect("login succeeds")
}

/// Registers a second account, whose sessions the first user must never reach.
fn register_bob(accounts: &Accounts<MemoryStore>) -> SignedIn {
    accounts
        .register(
            registration("bob@example.com", "bob's own passphrase"),
            cli(),
            NOW,
        )
        .expect("registration succeeds")
}

fn claims(accounts: &Accounts<MemoryStore>, token: &str) -> Claims {
    accounts.tokens.verify(token, NOW).expect("token is valid")
}

fn unauthenticated(result: Result<impl std::fmt::Debug, Error>, expected: AuthFailure) {
    let error = result.expect_err("must not authenticate");
    assert_eq!(error, Error::Unauthenticated(expected));
    assert_eq!(error.to_string(), expected.to_string());
}

#[test]
fn register_creates_user_and_session() {
    let accounts = accounts();
    let signed_in = accounts
        .register(registration("  Ada@Example.COM ", PASSWORD), cli(), NOW)
        .expect("registration succeeds");

    assert_eq!(signed_in.user.email, EMAIL);
    assert_eq!(signed_in.user.display_name.as_deref(), Some("Ada Lovelace"));
    let hash = signed_in.user.password_hash.as_deref().expect("has a hash");
    assert_eq!(password::verify(PASSWORD, hash), Ok(true));
    assert_eq!(signed_in.expires_at, NOW + 30 * DAY);

    let session = accounts.store.session(&signed_in.session_id);
    assert_eq!(session.user_id, signed_in.user.id);
    assert_eq!(
        session.user_agent.as_deref(),
        Some("qhub-cli/0.1.0 (linux)")
    );
    assert_eq!(session.ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(session.expires_at, signed_in.expires_at);

    let claims = claims(&accounts, &signed_in.token);
    assert_eq!(claims.sub, signed_in.user.id);
    assert_eq!(claims.sid, signed_in.session_id);
    assert_eq!(claims.iat, NOW / 1000);
    assert_eq!(claims.exp, signed_in.expires_at / 1000);
    assert_eq!(claims.iss, "qhub");
}

#[test]
fn register_refuses_bad_input_before_touching_the_store() {
    let accounts = accounts();
    let cases = [
        (
            registration("not-an-email", PASSWORD),
            "invalid email address: expected exactly one @",
        ),
        (
            registration(EMAIL, "short"),
            "password must be at least 8 characters",
        ),
        (
            registration(EMAIL, " ADA@example.com"),
            "password must not be the same as the email address",
        ),
        (
            Registration {
                display_name: Some("x".repeat(101)),
                ..registration(EMAIL, PASSWORD)
            },
            "display name must be at most 100 characters",
        ),
    ];
    for (request, message) in cases {
        let error = accounts
            .register(request, Client::default(), NOW)
            .expect_err("must be refused");
        assert_eq!(error.to_string(), message);
    }
    assert!(accounts.store.writes.borrow().is_empty());
}

#[test]
fn register_twice_is_email_taken() {
    let accounts = accounts();
    register(&accounts);
    let error = accounts
        .register(
            registration("ADA@example.com", "another password"),
            cli(),
            NOW,
        )
        .expect_err("email is taken");
    assert_eq!(error, Error::EmailTaken);
    assert_eq!(
        error.to_string(),
        "an account with this email already exists"
    );
}

#[test]
fn login_with_the_right_password_starts_a_new_session() {
    let accounts = accounts();
    let registered = register(&accounts);
    let later = NOW + 5 * SECOND;
    let signed_in = accounts
        .login(" ADA@example.com", PASSWORD, Client::default(), later)
        .expect("login succeeds");
    assert_eq!(signed_in.user.id, registered.user.id);
    assert_ne!(signed_in.session_id, registered.session_id);
    assert_eq!(signed_in.expires_at, later + SESSION_LIFETIME);
    let session = accounts.store.session(&signed_in.session_id);
    assert_eq!((session.user_agent, session.ip), (None, None));
    // The hash is current, so no rehash was written.
    assert!(
        !accounts
            .store
            .writes
            .borrow()
            .contains(&"set-password-hash")
    );
}

#[test]
fn login_does_not_reveal_whether_the_email_exists() {
    let accounts = accounts();
    register(&accounts);
    accounts
        .store
        .create_user(NewUser {
            email: "oauth@example.com".into(),
            display_name: None,
            password_hash: None,
            created_at: NOW,
        })
        .expect("user created");
    let attempts = [
        (EMAIL, "wrong password"),
        ("nobody@example.com", PASSWORD),
        ("oauth@example.com", PASSWORD),
    ];
    for (email, password) in attempts {
        let error = accounts
            .login(email, password, cli(), NOW)
            .expect_err("must fail");
        assert_eq!(error, Error::InvalidCredentials, "{email}");
        assert_eq!(error.to_string(), "invalid email or password");
    }
    assert_eq!(accounts.store.sessions.borrow().len(), 1);
}

#[test]
fn login_requires_both_fields() {
    let accounts = accounts();
    let error = accounts
        .login("  ", PASSWORD, cli(), NOW)
        .expect_err("empty email");
    assert_eq!(error.to_string(), "email address is required");
    let error = accounts
        .login(EMAIL, "", cli(), NOW)
        .expect_err("empty password");
    assert_eq!(error.to_string(), "password is required");
}

#[test]
fn login_rehashes_an_outdated_hash() {
    let accounts = accounts();
    let params = Params::new(1024, 1, 1, None).expect("valid test parameters");
    let old = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_with_salt(PASSWORD.as_bytes(), b"fixed test salt!")
        .expect("hashing works")
        .to_string();
    assert_eq!(password::needs_rehash(&old), Ok(true));
    let user = accounts
        .store
        .create_user(NewUser {
            email: EMAIL.into(),
            display_name: None,
            password_hash: Some(old.clone()),
            created_at: NOW,
        })
        .expect("user created");

    let later = NOW + DAY;
    let signed_in = accounts
        .login(EMAIL, PASSWORD, cli(), later)
        .expect("login succeeds");
    let stored = accounts
        .store
        .get_user(&user.id)
        .expect("store works")
        .expect("user exists");
    let fresh = stored.password_hash.expect("has a hash");
    assert_ne!(fresh, old);
    assert_eq!(password::needs_rehash(&fresh), Ok(false));
    assert_eq!(password::verify(PASSWORD, &fresh), Ok(true));
    assert_eq!(stored.updated_at, later);
    assert_eq!(signed_in.user.password_hash, Some(fresh));
    assert_eq!(
        *accounts.store.writes.borrow(),
        [
            "create-user",
            "begin-login-attempt",
            "begin-login-attempt",
            "set-password-hash",
            "clear-login-throttle",
            "refund-login-attempt",
            "create-session"
        ]
    );
}

#[test]
fn authenticate_touches_at_most_once_a_minute() {
    let accounts = accounts();
    let signed_in = register(&accounts);
    let principal = accounts
        .authenticate(&signed_in.token, NOW + 30 * SECOND)
        .expect("authenticates");
    assert_eq!(
        principal,
        Principal {
            user_id: signed_in.user.id.clone(),
            session_id: Some(signed_in.session_id.clone()),
            api_key_id: None,
            scopes: Scope::ALL.to_vec(),
            expires_at: Some(signed_in.expires_at),
        }
    );
    let session = accounts.store.session(&signed_in.session_id);
    assert_eq!(session.last_seen_at, NOW);

    let later = NOW + TOUCH_INTERVAL + SECOND;
    accounts
        .authenticate(&signed_in.token, later)
        .expect("authenticates");
    assert_eq!(
        accounts.store.session(&signed_in.session_id).last_seen_at,
        later
    );
    accounts
        .authenticate(&signed_in.token, later + SECOND)
        .expect("authenticates");
    let touches = accounts
        .store
        .writes
        .borrow()
        .iter()
        .filter(|w| **w == "touch-session")
        .count();
    assert_eq!(touches, 1);
}

#[test]
fn whoami_returns_the_token_user() {
    let accounts = accounts();
    let signed_in = register(&accounts);
    let user = accounts
        .whoami(&signed_in.token, NOW + SECOND)
        .expect("authenticates");
    assert_eq!(user, signed_in.user);
}

#[test]
fn the_display_name_can_be_changed_and_cleared_by_a_session_only() {
    let accounts = accounts();
    let signed_in = register(&accounts);
    let user = accounts
        .set_display_name(
            &signed_in.token,
            Some("  Augusta Ada King ".into()),
            NOW + SECOND,
        )
        .expect("set");
    assert_eq!(user.display_name.as_deref(), Some("Augusta Ada King"));
    assert_eq!(user.updated_at, NOW + SECOND);
    assert_eq!(
        accounts.whoami(&signed_in.token, NOW + SECOND).unwrap(),
        user
    );
    let cleared = accounts
        .set_display_name(&signed_in.token, Some("   ".into()), NOW + SECOND)
        .expect("cleared");
    assert_eq!(cleared.display_name, None);
    for bad in ["x".repeat(101), "Ada\u{0}".into(), "Ada\nLovelace".into()] {
        let refused = accounts.set_display_name(&signed_in.token, Some(bad), NOW + SECOND);
        assert!(
            matches!(refused, Err(Error::InvalidInput(_))),
            "{refused:?}"
        );
    }
    let key = accounts
        .create_api_key(&signed_in.token, "ci", None, None, NOW)
        .expect("a key");
    let refused = accounts.set_display_name(&key.secret, Some("Mallory".into()), NOW + SECOND);
    assert!(matches!(refused, Err(Error::SessionOnly(_))), "{refused:?}");
    assert_eq!(
        accounts
            .whoami(&signed_in.token, NOW + SECOND)
            .unwrap()
            .display_name,
        None
    );
}

#[test]
fn logout_revokes_the_session() {
    let accounts = accounts();
    let signed_in = register(&accounts);
    let other = accounts
        .login(EMAIL, PASSWORD, cli(), NOW)
        .expect("login succeeds");
    accounts
        .logout(&signed_in.token, NOW + SECOND)
        .expect("logs out");
    assert_eq!(
        accounts.store.session(&signed_in.session_id).revoked_at,
        Some(NOW + SECOND)
    );
    unauthenticated(
        accounts.authenticate(&signed_in.token, NOW + 2 * SECOND),
        AuthFailure::SessionRevoked,
    );
    unauthenticated(
        accounts.logout(&signed_in.token, NOW + 2 * SECOND),
        AuthFailure::SessionRevoked,
    );
    // Other sessions of the same user are unaffected.
    accounts
        .whoami(&other.token, NOW + 2 * SECOND)
        .expect("still signed in");
}

#[test]
fn authenticate_distinguishes_why_a_token_fails() {
    let accounts = accounts();
    let signed_in = register(&accounts);

    unauthenticated(
        accounts.authenticate("garbage", NOW),
        AuthFailure::InvalidToken,
    );
    unauthenticated(
        accounts.authenticate(&signed_in.token, signed_in.expires_at),
        AuthFailure::TokenExpired,
    );

    // The store shortened the session: the token outlives it.
    accounts
        .store
        .edit_session(&signed_in.session_id, |s| s.expires_at = NOW + DAY);
    unauthenticated(
        accounts.authenticate(&signed_in.token, NOW + 2 * DAY),
        AuthFailure::SessionExpired,
    );

    // A correctly signed token whose session belongs to someone else.
    let forged = accounts
        .tokens
        .issue("user-999", &signed_in.session_id, NOW, NOW + DAY)
        .expect("signing works");
    unauthenticated(
        accounts.authenticate(&forged, NOW),
        AuthFailure::InvalidToken,
    );

    // A session this database does not have (deleted with its account, or
    // never here: another database's token).
    accounts.store.sessions.borrow_mut().clear();
    unauthenticated(
        accounts.authenticate(&signed_in.token, NOW),
        AuthFailure::UnknownSession,
    );
}

#[test]
fn store_failures_keep_their_meaning() {
    let accounts = accounts();
    let signed_in = register(&accounts);
    *accounts.store.failure.borrow_mut() = Some(StoreError::Unavailable(
        "connection refused by db.internal:5432".into(),
    ));
    let error = accounts
        .login(EMAIL, PASSWORD, cli(), NOW)
        .expect_err("store is down");
    assert_eq!(error, Error::Unavailable);
    assert_eq!(error.to_string(), "the database is unavailable");
    let error = accounts
        .authenticate(&signed_in.token, NOW)
        .expect_err("store is down");
    assert_eq!(error, Error::Unavailable);
}

#[test]
fn client_details_are_trimmed_and_capped() {
    let accounts = accounts();
    let client = Client {
        user_agent: Some(format!("  {}  ", "a".repeat(1000))),
        ip: Some("   ".into()),
    };
    let signed_in = accounts
        .register(registration(EMAIL, PASSWORD), client, NOW)
        .expect("registration succeeds");
    let session = accounts.store.session(&signed_in.session_id);
    assert_eq!(session.user_agent, Some("a".repeat(MAX_USER_AGENT_CHARS)));
    assert_eq!(session.ip, None);
}

#[test]
fn display_names_are_optional_and_trimmed() {
    assert_eq!(display_name(None), Ok(None));
    assert_eq!(display_name(Some("   ".into())), Ok(None));
    assert_eq!(display_name(Some(" Ada ".into())), Ok(Some("Ada".into())));
    assert_eq!(
        display_name(Some("Ada\u{7}".into())),
        Err(Error::InvalidInput(
            "display name must not contain control characters"
        ))
    );
}

#[test]
fn session_flows_authenticate_the_token_first() {
    type Flow = fn(&Accounts<MemoryStore>, &str, Timestamp) -> Result<(), Error>;
    let flows: [(&str, Flow); 5] = [
        ("list-sessions", |a, token, now| {
            a.list_sessions(token, now).map(drop)
        }),
        ("revoke-session", |a, token, now| {
            a.revoke_session(token, "session-1", now)
        }),
        ("revoke-other-sessions", |a, token, now| {
            a.revoke_other_sessions(token, now).map(drop)
        }),
        ("logout-all", |a, token, now| {
            a.logout_all(token, now).map(drop)
        }),
        ("change-password", |a, token, now| {
            a.change_password(token, PASSWORD, "a brand new passphrase", now)
        }),
    ];
    for (name, flow) in flows {
        let accounts = accounts();
        let signed_in = register(&accounts);
        let expired = signed_in.expires_at;
        let cases = [
            ("garbage", NOW, AuthFailure::InvalidToken),
            (signed_in.token.as_str(), expired, AuthFailure::TokenExpired),
        ];
        for (token, now, failure) in cases {
            let error = flow(&accounts, token, now).expect_err(name);
            assert_eq!(error, Error::Unauthenticated(failure), "{name}");
        }
        accounts
            .store
            .edit_session(&signed_in.session_id, |s| s.expires_at = NOW + DAY);
        let error = flow(&accounts, &signed_in.token, NOW + 2 * DAY).expect_err(name);
        assert_eq!(
            error,
            Error::Unauthenticated(AuthFailure::SessionExpired),
            "{name}"
        );
        accounts.logout(&signed_in.token, NOW).expect("logs out");
        let error = flow(&accounts, &signed_in.token, NOW).expect_err(name);
        assert_eq!(error.to_string(), "session revoked", "{name}");
        // Nothing was revoked or changed on behalf of a token that failed.
        let writes = accounts.store.writes.borrow();
        assert_eq!(
            *writes,
            ["create-user-with-session", "revoke-session"],
            "{name}"
        );
    }
}

#[test]
fn list_sessions_shows_the_users_live_sessions_newest_first() {
    let accounts = accounts();
    let first = register(&accounts);
    let second = sign_in(&accounts, NOW + SECOND);
    let revoked = sign_in(&accounts, NOW + 2 * SECOND);
    let expiring = sign_in(&accounts, NOW + 3 * SECOND);
    let newest = accounts
        .login(EMAIL, PASSWORD, Client::default(), NOW + 4 * SECOND)
        .expect("login succeeds");
    register_bob(&accounts);
    accounts
        .logout(&revoked.token, NOW + 5 * SECOND)
        .expect("logs out");
    accounts
        .store
        .edit_session(&expiring.session_id, |s| s.expires_at = NOW + 5 * SECOND);

    let later = NOW + 2 * TOUCH_INTERVAL;
    let sessions = accounts
        .list_sessions(&second.token, later)
        .expect("authenticates");
    let ids: Vec<&str> = sessions.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            newest.session_id.as_str(),
            second.session_id.as_str(),
            first.session_id.as_str()
        ]
    );
    let current: Vec<&str> = sessions
        .iter()
        .filter(|s| s.current)
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(current, [second.session_id.as_str()]);
    // Listing is activity: the current session was touched before it was read.
    assert_eq!(
        sessions[1],
        SessionInfo {
            id: second.session_id.clone(),
            user_agent: Some("qhub-cli/0.1.0 (linux)".into()),
            ip: Some("127.0.0.1".into()),
            created_at: NOW + SECOND,
            last_seen_at: later,
            expires_at: NOW + SECOND + SESSION_LIFETIME,
            current: true,
        }
    );
    assert_eq!(
        (sessions[0].user_agent.as_deref(), sessions[0].ip.as_deref()),
        (None, None)
    );
}

#[test]
fn revoke_session_ends_one_session_of_the_user() {
    let accounts = accounts();
    let current = register(&accounts);
    let other = sign_in(&accounts, NOW);
    let later = NOW + SECOND;

    accounts
        .revoke_session(&current.token, &other.session_id, later)
        .expect("revokes");
    unauthenticated(
        accounts.authenticate(&other.token, later),
        AuthFailure::SessionRevoked,
    );
    accounts
        .authenticate(&current.token, later)
        .expect("still signed in");

    // Already revoked: no longer live, so there is no such session.
    let error = accounts
        .revoke_session(&current.token, &other.session_id, later)
        .expect_err("already revoked");
    assert_eq!(error, Error::NoSuchSession);

    // The current session may revoke itself.
    accounts
        .revoke_session(&current.token, &current.session_id, later)
        .expect("revokes");
    unauthenticated(
        accounts.authenticate(&current.token, later),
        AuthFailure::SessionRevoked,
    );
}

#[test]
fn revoke_session_never_reaches_another_users_session() {
    let accounts = accounts();
    let ada = register(&accounts);
    let bob = register_bob(&accounts);
    for id in [bob.session_id.as_str(), "session-999", ""] {
        let error = accounts
            .revoke_session(&ada.token, id, NOW)
            .expect_err("not ada's session");
        assert_eq!(error, Error::NoSuchSession, "{id:?}");
        assert_eq!(error.to_string(), "no such session");
    }
    accounts
        .whoami(&bob.token, NOW)
        .expect("bob still signed in");
    assert_eq!(accounts.store.session(&bob.session_id).revoked_at, None);
}

#[test]
fn revoke_other_sessions_keeps_the_current_one() {
    let accounts = accounts();
    let first = register(&accounts);
    let current = sign_in(&accounts, NOW);
    let third = sign_in(&accounts, NOW);
    let bob = register_bob(&accounts);
    let later = NOW + SECOND;

    let revoked = accounts
        .revoke_other_sessions(&current.token, later)
        .expect("authenticates");
    assert_eq!(revoked, 2);
    for other in [&first, &third] {
        unauthenticated(
            accounts.authenticate(&other.token, later),
            AuthFailure::SessionRevoked,
        );
    }
    accounts
        .authenticate(&current.token, later)
        .expect("still signed in");
    accounts
        .whoami(&bob.token, later)
        .expect("bob still signed in");
    assert_eq!(accounts.revoke_other_sessions(&current.token, later), Ok(0));
}

#[test]
fn logout_all_ends_every_session_of_the_user() {
    let accounts = accounts();
    let current = register(&accounts);
    let other = sign_in(&accounts, NOW);
    let bob = register_bob(&accounts);
    let later = NOW + SECOND;

    assert_eq!(accounts.logout_all(&current.token, later), Ok(2));
    for token in [&current.token, &other.token] {
        unauthenticated(
            accounts.authenticate(token, later),
            AuthFailure::SessionRevoked,
        );
    }
    unauthenticated(
        accounts.logout_all(&current.token, later),
        AuthFailure::SessionRevoked,
    );
    accounts
        .whoami(&bob.token, later)
        .expect("bob still signed in");
}

#[test]
fn change_password_replaces_the_hash_and_ends_other_sessions() {
    let accounts = accounts();
    let current = register(&accounts);
    let other = sign_in(&accounts, NOW);
    let bob = register_bob(&accounts);
    let new_password = "a brand new passphrase";
    let later = NOW + SECOND;

    accounts
        .change_password(&current.token, PASSWORD, new_password, later)
        .expect("password changed");

    let user = accounts
        .store
        .get_user(&current.user.id)
        .expect("store works")
        .expect("user exists");
    let hash = user.password_hash.expect("has a hash");
    assert_eq!(password::verify(new_password, &hash), Ok(true));
    assert_eq!(password::needs_rehash(&hash), Ok(false));
    assert_eq!(user.updated_at, later);

    unauthenticated(
        accounts.authenticate(&other.token, later),
        AuthFailure::SessionRevoked,
    );
    accounts
        .authenticate(&current.token, later)
        .expect("current session stays valid");
    accounts
        .whoami(&bob.token, later)
        .expect("bob still signed in");
    assert_eq!(
        accounts.store.writes.borrow().last_chunk(),
        Some(&["set-password-hash", "revoke-sessions"])
    );

    let error = accounts
        .login(EMAIL, PASSWORD, cli(), later)
        .expect_err("old password no longer works");
    assert_eq!(error, Error::InvalidCredentials);
    accounts
        .login(EMAIL, new_password, cli(), later)
        .expect("new password works");
}

#[test]
fn change_password_refusals_change_nothing() {
    let accounts = accounts();
    let current = register(&accounts);
    let other = sign_in(&accounts, NOW);
    let stored = accounts.store.users.borrow()[0].password_hash.clone();
    let writes = accounts.store.writes.borrow().len();

    let cases = [
        (
            "wrong password",
            "a brand new passphrase",
            Error::WrongPassword,
        ),
        ("", "a brand new passphrase", Error::WrongPassword),
        // The current password is checked before anything about the new one.
        ("wrong password", "short", Error::WrongPassword),
        (PASSWORD, "short", PolicyViolation::TooShort.into()),
        (
            PASSWORD,
            &"x".repeat(password::MAX_PASSWORD_CHARS + 1),
            PolicyViolation::TooLong.into(),
        ),
        (
            PASSWORD,
            " ADA@example.com",
            PolicyViolation::SameAsEmail.into(),
        ),
        (
            PASSWORD,
            PASSWORD,
            Error::InvalidInput("the new password must differ from the current one"),
        ),
    ];
    for (current_password, new_password, expected) in cases {
        let error = accounts
            .change_password(&current.token, current_password, new_password, NOW)
            .expect_err("must be refused");
        assert_eq!(error, expected, "{current_password:?} -> {new_password:?}");
        let message = error.to_string();
        for secret in [current_password, new_password] {
            assert!(secret.is_empty() || !message.contains(secret), "{message}");
        }
    }
    assert_eq!(
        Error::WrongPassword.to_string(),
        "current password is incorrect"
    );

    assert_eq!(accounts.store.users.borrow()[0].password_hash, stored);
    assert_eq!(accounts.store.writes.borrow().len(), writes);
    for signed_in in [&current, &other] {
        accounts
            .authenticate(&signed_in.token, NOW)
            .expect("still signed in");
    }
}

#[test]
fn change_password_without_a_password_is_refused() {
    // An account that only signs in through OAuth has no current password to give.
    let accounts = accounts();
    let user = accounts
        .store
        .create_user(NewUser {
            email: "oauth@example.com".into(),
            display_name: None,
            password_hash: None,
            created_at: NOW,
        })
        .expect("user created");
    let session = accounts
        .store
        .create_session(
            NewSession {
                user_id: user.id.clone(),
                user_agent: None,
                ip: None,
                created_at: NOW,
                expires_at: NOW + DAY,
            },
            None,
        )
        .expect("session created");
    let token = accounts
        .tokens
        .issue(&user.id, &session.id, NOW, session.expires_at)
        .expect("signing works");
    for current in ["", PASSWORD] {
        let error = accounts
            .change_password(&token, current, "a brand new passphrase", NOW)
            .expect_err("no password to check");
        assert_eq!(error, Error::NoPassword);
        assert_eq!(
            error.to_string(),
            "this account has no password (it signs in through an OAuth provider), and setting a first password is not supported yet"
        );
    }
    assert_eq!(accounts.store.users.borrow()[0].password_hash, None);
}

// ---- sign-ins racing password changes and deletion -----------------------------------

/// A sign-in that checked the old password while `passwd` replaced it must not
/// end with a session: here the change lands between the check and the session.
#[test]
fn a_sign_in_racing_a_password_change_gets_no_session() {
    let accounts = accounts();
    let owner = register(&accounts);
    let new_password = "a brand new passphrase";
    let (user_id, session_id) = (owner.user.id.clone(), owner.session_id.clone());
    accounts.store.interleave("create-session", move |store| {
        // The writes `passwd` makes from the owner's session, as another request
        // would make them: the new hash, then the other sessions revoked.
        let fresh = password::hash(new_password).expect("hashing works");
        store
            .set_password_hash(&user_id, &fresh, NOW)
            .expect("store");
        store
            .revoke_sessions(&user_id, Some(&session_id), NOW)
            .expect("store");
    });
    let error = accounts
        .login(EMAIL, PASSWORD, cli(), NOW)
        .expect_err("the old password no longer signs in");
    assert_eq!(error, Error::InvalidCredentials);
    // Only the owner's session is live: the racing sign-in created none.
    let live = accounts
        .store
        .list_sessions(&owner.user.id, NOW)
        .expect("store");
    assert_eq!(live.len(), 1, "{live:?}");
    accounts
        .login(EMAIL, new_password, cli(), NOW)
        .expect("the new password signs in");
}

/// A sign-in racing the deletion of its account gets the documented refusal, not
/// a missing record.
#[test]
fn a_sign_in_racing_account_deletion_is_refused_as_invalid_credentials() {
    let accounts = accounts();
    let owner = register(&accounts);
    let user_id = owner.user.id.clone();
    accounts.store.interleave("create-session", move |store| {
        store.delete_user(&user_id).expect("deleted");
    });
    let error = accounts
        .login(EMAIL, PASSWORD, cli(), NOW)
        .expect_err("the account is gone");
    assert_eq!(error, Error::InvalidCredentials);
    assert!(accounts.store.sessions.borrow().is_empty());
}

/// A token signed with the same secret for another database names a session this
/// one never had: it is "not known to this database", not "revoked".
#[test]
fn a_token_from_another_database_is_unknown_not_revoked() {
    let here = accounts();
    let elsewhere = accounts();
    let signed_in = register(&elsewhere);
    let error = here
        .whoami(&signed_in.token, NOW)
        .expect_err("another database's token");
    assert_eq!(error, Error::Unauthenticated(AuthFailure::UnknownSession));
    assert!(
        error.to_string().contains("not known to this database"),
        "{error}"
    );
}
