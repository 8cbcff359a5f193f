//! Tests of the account flows over an in-memory store that keeps the WIT contract
//! (unique emails, store-chosen ids, revocation only of live sessions).

use std::cell::RefCell;

use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, Version};

use super::*;
use crate::token::Claims;

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
/// 2026-11-26T00:00:00Z.
const NOW: Millis = 1_795_651_200_000;
const EMAIL: &str = "ada@example.com";
const PASSWORD: &str = "correct horse battery";

#[derive(Debug, Default)]
struct MemoryStore {
    users: RefCell<Vec<User>>,
    sessions: RefCell<Vec<Session>>,
    /// Names of the write operations called, in order.
    writes: RefCell<Vec<&'static str>>,
    /// When set, every operation fails with this error.
    failure: RefCell<Option<StoreError>>,
}

impl MemoryStore {
    fn fail(&self) -> Result<(), StoreError> {
        self.failure.borrow().clone().map_or(Ok(()), Err)
    }

    fn wrote(&self, operation: &'static str) {
        self.writes.borrow_mut().push(operation);
    }

    fn session(&self, id: &str) -> Session {
        self.sessions
            .borrow()
            .iter()
            .find(|session| session.id == id)
            .cloned()
            .expect("session exists")
    }

    fn edit_session(&self, id: &str, edit: impl FnOnce(&mut Session)) {
        let mut sessions = self.sessions.borrow_mut();
        edit(
            sessions
                .iter_mut()
                .find(|s| s.id == id)
                .expect("session exists"),
        );
    }
}

impl Store for MemoryStore {
    fn create_user(&self, user: NewUser) -> Result<User, StoreError> {
        self.fail()?;
        let mut users = self.users.borrow_mut();
        if users.iter().any(|existing| existing.email == user.email) {
            return Err(StoreError::Conflict("email".into()));
        }
        let created = User {
            id: format!("user-{}", users.len() + 1),
            email: user.email,
            display_name: user.display_name,
            password_hash: user.password_hash,
            created_at: user.created_at,
            updated_at: user.created_at,
        };
        users.push(created.clone());
        self.wrote("create-user");
        Ok(created)
    }

    fn get_user(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.fail()?;
        Ok(self.users.borrow().iter().find(|u| u.id == id).cloned())
    }

    fn get_user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        self.fail()?;
        Ok(self
            .users
            .borrow()
            .iter()
            .find(|u| u.email == email)
            .cloned())
    }

    fn set_password_hash(&self, user_id: &str, hash: &str, now: Millis) -> Result<(), StoreError> {
        self.fail()?;
        let mut users = self.users.borrow_mut();
        let user = users
            .iter_mut()
            .find(|u| u.id == user_id)
            .ok_or(StoreError::NotFound)?;
        user.password_hash = Some(hash.to_owned());
        user.updated_at = now;
        self.wrote("set-password-hash");
        Ok(())
    }

    fn create_session(&self, session: NewSession) -> Result<Session, StoreError> {
        self.fail()?;
        let mut sessions = self.sessions.borrow_mut();
        let created = Session {
            id: format!("session-{}", sessions.len() + 1),
            user_id: session.user_id,
            user_agent: session.user_agent,
            ip: session.ip,
            created_at: session.created_at,
            last_seen_at: session.created_at,
            expires_at: session.expires_at,
            revoked_at: None,
        };
        sessions.push(created.clone());
        self.wrote("create-session");
        Ok(created)
    }

    fn get_session(&self, id: &str) -> Result<Option<Session>, StoreError> {
        self.fail()?;
        Ok(self.sessions.borrow().iter().find(|s| s.id == id).cloned())
    }

    fn touch_session(&self, id: &str, now: Millis) -> Result<(), StoreError> {
        self.fail()?;
        self.edit_session(id, |session| session.last_seen_at = now);
        self.wrote("touch-session");
        Ok(())
    }

    fn revoke_session(
        &self,
        user_id: &str,
        session_id: &str,
        now: Millis,
    ) -> Result<bool, StoreError> {
        self.fail()?;
        let mut sessions = self.sessions.borrow_mut();
        let live = sessions.iter_mut().find(|s| {
            s.id == session_id
                && s.user_id == user_id
                && s.revoked_at.is_none()
                && s.expires_at > now
        });
        let Some(session) = live else {
            return Ok(false);
        };
        session.revoked_at = Some(now);
        self.wrote("revoke-session");
        Ok(true)
    }
}

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
        ["create-user", "set-password-hash", "create-session"]
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
            session_id: signed_in.session_id.clone(),
            expires_at: signed_in.expires_at,
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

    // A session that no longer exists.
    accounts.store.sessions.borrow_mut().clear();
    unauthenticated(
        accounts.authenticate(&signed_in.token, NOW),
        AuthFailure::SessionRevoked,
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
