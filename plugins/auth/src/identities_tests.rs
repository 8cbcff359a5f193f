//! Tests of signing in with a provider's identity (each linking branch, refusals,
//! lost races), of listing and unlinking identities, and of how password sign-in
//! and password changes treat accounts without a password, over the in-memory store.

use super::*;
use crate::accounts::Registration;
use crate::memory_store::MemoryStore;
use crate::token::Tokens;

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
/// 2026-11-26T00:00:00Z.
const NOW: Timestamp = 1_795_651_200_000;
const EMAIL: &str = "ada@example.com";
const PASSWORD: &str = "correct horse battery";
const GITHUB: &str = "github";

fn accounts() -> Accounts<MemoryStore> {
    Accounts::new(MemoryStore::default(), Tokens::new(SECRET, "qhub"))
}

fn cli() -> Client {
    Client {
        user_agent: Some("qhub-cli/0.1.0 (linux)".into()),
        ip: Some("127.0.0.1".into()),
    }
}

fn store(accounts: &Accounts<MemoryStore>) -> &MemoryStore {
    accounts.store()
}

/// An identity whose email the provider verified.
fn verified(subject: &str, email: &str) -> ProviderIdentity {
    ProviderIdentity {
        subject: subject.into(),
        email: Some(email.into()),
        email_verified: true,
        display_name: Some("Ada Lovelace".into()),
    }
}

fn unverified(subject: &str, email: &str) -> ProviderIdentity {
    ProviderIdentity {
        email_verified: false,
        ..verified(subject, email)
    }
}

fn register(accounts: &Accounts<MemoryStore>, email: &str) -> SignedIn {
    let request = Registration {
        email: email.into(),
        password: PASSWORD.into(),
        display_name: None,
    };
    accounts
        .register(request, cli(), NOW)
        .expect("registration succeeds")
}

fn sign_in(
    accounts: &Accounts<MemoryStore>,
    provider: &str,
    identity: ProviderIdentity,
) -> SignedIn {
    accounts
        .sign_in_with_identity(provider, identity, cli(), NOW)
        .expect("the identity signs in")
}

fn refused(accounts: &Accounts<MemoryStore>, provider: &str, identity: ProviderIdentity) -> Error {
    accounts
        .sign_in_with_identity(provider, identity, cli(), NOW)
        .expect_err("the identity must be refused")
}

/// (provider, subject, email, user id) of every stored connection.
fn links(accounts: &Accounts<MemoryStore>) -> Vec<(String, String, Option<String>, String)> {
    store(accounts)
        .oauth_connections
        .borrow()
        .iter()
        .map(|c| {
            (
                c.provider.clone(),
                c.subject.clone(),
                c.email.clone(),
                c.user_id.clone(),
            )
        })
        .collect()
}

fn link(
    provider: &str,
    subject: &str,
    email: &str,
    user_id: &str,
) -> (String, String, Option<String>, String) {
    (
        provider.into(),
        subject.into(),
        Some(email.into()),
        user_id.into(),
    )
}

// ---- sign-in: the linking branches -------------------------------------------------

#[test]
fn a_verified_email_of_no_account_creates_one_without_a_password() {
    let accounts = accounts();
    let signed_in = sign_in(
        &accounts,
        GITHUB,
        ProviderIdentity {
            display_name: Some("  Ada Lovelace ".into()),
            ..verified("583231", "  Ada@Example.COM ")
        },
    );

    let user = &signed_in.user;
    assert_eq!(user.email, EMAIL);
    assert_eq!(user.display_name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(user.password_hash, None);
    assert_eq!(links(&accounts), [link(GITHUB, "583231", EMAIL, &user.id)]);
    assert_eq!(
        *store(&accounts).writes.borrow(),
        ["create-user", "create-oauth-connection", "create-session"]
    );
}

#[test]
fn a_verified_email_of_an_existing_account_links_it() {
    let accounts = accounts();
    let registered = register(&accounts, EMAIL);
    let signed_in = sign_in(
        &accounts,
        "example-sso",
        verified("sub-1", "ADA@example.com"),
    );

    assert_eq!(
        signed_in.user, registered.user,
        "the same account, password kept"
    );
    assert_eq!(
        links(&accounts),
        [link("example-sso", "sub-1", EMAIL, &registered.user.id)]
    );
    assert_eq!(store(&accounts).users.borrow().len(), 1);
    // The password still signs in as before.
    accounts
        .login(EMAIL, PASSWORD, cli(), NOW)
        .expect("the password still works");
}

/// Issue 10, kind 5: emails that differ link only when their canonical forms are
/// equal. A Kelvin sign (U+212A) or a dotted capital I (U+0130) lowercases to ASCII,
/// so Unicode lowercasing alone made these the account's email.
#[test]
fn an_email_that_only_lowercases_to_the_accounts_does_not_link() {
    for (account, provider_email) in [
        ("kelvin@example.com", "\u{212a}elvin@example.com"),
        ("kelvin@example.com", "\u{212a}ELVIN@EXAMPLE.COM"),
        ("ikra@example.com", "\u{130}kra@example.com"),
        ("ada@example.com", "ada@exampl\u{212a}.com"),
    ] {
        let accounts = accounts();
        register(&accounts, account);
        let error = refused(&accounts, GITHUB, verified("583231", provider_email));
        assert!(
            matches!(error, Error::InvalidEmail(_)),
            "{provider_email:?}: {error:?}"
        );
        assert_eq!(links(&accounts), [], "{provider_email:?}");
        assert_eq!(store(&accounts).users.borrow().len(), 1);
    }
}

/// Spellings of the account's address that canonicalise to it do link, and the link
/// stores the canonical form, not the provider's spelling.
#[test]
fn an_email_with_the_same_canonical_form_links() {
    let accounts = accounts();
    let registered = register(&accounts, "\u{e9}lodie@exemple.fr");
    let signed_in = sign_in(
        &accounts,
        GITHUB,
        verified("583231", "E\u{301}LODIE@Exemple.FR."),
    );
    assert_eq!(signed_in.user.id, registered.user.id);
    assert_eq!(
        links(&accounts),
        [link(
            GITHUB,
            "583231",
            "\u{e9}lodie@exemple.fr",
            &registered.user.id
        )]
    );
}

#[test]
fn a_linked_identity_signs_its_account_in_whatever_email_it_gives_now() {
    let accounts = accounts();
    let first = sign_in(&accounts, GITHUB, verified("583231", EMAIL));
    register(&accounts, "bob@example.com");
    let writes_before = store(&accounts).writes.borrow().len();

    // The subject identifies the person: a new email, even one of another account,
    // or one the provider no longer vouches for, or none, changes nothing.
    let identities = [
        verified("583231", "ada@new.example"),
        verified("583231", "bob@example.com"),
        unverified("583231", "someone@example.com"),
        ProviderIdentity {
            email: None,
            ..unverified("583231", EMAIL)
        },
    ];
    for identity in identities {
        let again = sign_in(&accounts, GITHUB, identity.clone());
        assert_eq!(again.user.id, first.user.id, "{identity:?}");
        assert_ne!(again.session_id, first.session_id);
    }
    assert_eq!(
        links(&accounts),
        [link(GITHUB, "583231", EMAIL, &first.user.id)]
    );
    let writes = store(&accounts).writes.borrow();
    assert!(
        writes[writes_before..]
            .iter()
            .all(|w| *w == "create-session"),
        "only sessions were written: {writes:?}"
    );
}

#[test]
fn the_same_subject_at_another_provider_is_another_identity() {
    let accounts = accounts();
    let ada = sign_in(&accounts, GITHUB, verified("42", EMAIL));
    let bob = sign_in(&accounts, "gitlab", verified("42", "bob@example.com"));
    assert_ne!(ada.user.id, bob.user.id);
    assert_eq!(links(&accounts).len(), 2);
}

#[test]
fn an_identity_sign_in_issues_the_same_session_as_a_password_login() {
    let accounts = accounts();
    let signed_in = sign_in(&accounts, GITHUB, verified("583231", EMAIL));
    let session = store(&accounts)
        .sessions
        .borrow()
        .iter()
        .find(|s| s.id == signed_in.session_id)
        .cloned()
        .expect("the session is stored");
    assert_eq!(
        session.user_agent.as_deref(),
        Some("qhub-cli/0.1.0 (linux)")
    );
    assert_eq!(session.ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(session.expires_at, NOW + crate::accounts::SESSION_LIFETIME);
    assert_eq!(signed_in.expires_at, session.expires_at);
    let principal = accounts
        .authenticate(&signed_in.token, NOW)
        .expect("the token authenticates");
    assert_eq!(principal.user_id, signed_in.user.id);
    assert_eq!(
        principal.session_id.as_deref(),
        Some(&*signed_in.session_id)
    );
    let whoami = accounts.whoami(&signed_in.token, NOW).expect("whoami");
    assert_eq!(whoami.email, EMAIL);
}

// ---- sign-in: refusals --------------------------------------------------------------

#[test]
fn an_unlinked_identity_without_a_verified_email_is_refused() {
    let accounts = accounts();
    register(&accounts, EMAIL);
    let writes_before = store(&accounts).writes.borrow().clone();
    let cases = [
        (
            unverified("1", EMAIL),
            Error::UnverifiedEmail(EMAIL.into()),
            "the provider did not verify the email address ada@example.com; verify it at the provider, then sign in again (QHub links and creates accounts by verified email only)",
        ),
        (
            unverified("2", "new@example.com"),
            Error::UnverifiedEmail("new@example.com".into()),
            "the provider did not verify the email address new@example.com; verify it at the provider, then sign in again (QHub links and creates accounts by verified email only)",
        ),
        (
            ProviderIdentity {
                email: None,
                ..verified("3", EMAIL)
            },
            Error::NoProviderEmail,
            "the provider did not share an email address; make a verified email address available to QHub at the provider, then sign in again",
        ),
        (
            ProviderIdentity {
                email: Some("   ".into()),
                ..unverified("4", EMAIL)
            },
            Error::NoProviderEmail,
            "the provider did not share an email address; make a verified email address available to QHub at the provider, then sign in again",
        ),
        (
            verified("5", "not-an-email"),
            Error::InvalidEmail(crate::email::EmailError::At),
            "invalid email address: expected exactly one @",
        ),
    ];
    for (identity, expected, message) in cases {
        let error = refused(&accounts, GITHUB, identity.clone());
        assert_eq!(error, expected, "{identity:?}");
        assert_eq!(error.to_string(), message);
    }
    assert!(links(&accounts).is_empty());
    assert_eq!(*store(&accounts).writes.borrow(), writes_before);
}

#[test]
fn provider_names_are_lowercase_kebab_case() {
    let kebab = "provider name must be lowercase kebab-case, like \"github\" or \"example-sso\"";
    let cases: &[(&str, Result<&str, &str>)] = &[
        ("github", Ok("github")),
        ("example-sso", Ok("example-sso")),
        ("oidc2", Ok("oidc2")),
        ("a", Ok("a")),
        (&"a".repeat(32), Ok(&"a".repeat(32))),
        ("", Err("provider name is required")),
        (
            &"a".repeat(33),
            Err("provider name must be at most 32 characters"),
        ),
        ("GitHub", Err(kebab)),
        ("git_hub", Err(kebab)),
        ("git hub", Err(kebab)),
        ("-github", Err(kebab)),
        ("github-", Err(kebab)),
        ("git--hub", Err(kebab)),
        ("2fa", Err(kebab)),
        ("gïthub", Err(kebab)),
    ];
    for (raw, expected) in cases {
        let actual = provider_name(raw).map_err(|error| error.to_string());
        assert_eq!(
            actual.as_deref(),
            expected.map_err(str::to_owned).as_deref(),
            "{raw:?}"
        );
    }
}

#[test]
fn bad_provider_names_and_subjects_are_refused_before_the_store() {
    let accounts = accounts();
    let cases = [
        (
            "GitHub",
            verified("1", EMAIL),
            "provider name must be lowercase kebab-case, like \"github\" or \"example-sso\"",
        ),
        (GITHUB, verified("", EMAIL), "the identity has no subject"),
        (GITHUB, verified("  ", EMAIL), "the identity has no subject"),
        (
            GITHUB,
            verified(&"x".repeat(256), EMAIL),
            "the identity's subject must be at most 255 characters",
        ),
        (
            GITHUB,
            verified("58\n3231", EMAIL),
            "the identity's subject must not contain control characters",
        ),
    ];
    for (provider, identity, message) in cases {
        let error = refused(&accounts, provider, identity);
        assert!(matches!(error, Error::InvalidInput(_)), "{error:?}");
        assert_eq!(error.to_string(), message);
    }
    assert!(store(&accounts).writes.borrow().is_empty());
    // The longest subject is accepted as it is.
    sign_in(&accounts, GITHUB, verified(&"x".repeat(255), EMAIL));
}

#[test]
fn provider_display_names_are_cleaned_not_refused() {
    let cases: &[(Option<&str>, Option<String>)] = &[
        (None, None),
        (Some("   "), None),
        (Some(" Ada "), Some("Ada".into())),
        (Some("Ada\u{7}"), None),
        (Some(&"é".repeat(150)), Some("é".repeat(100))),
    ];
    for (raw, expected) in cases {
        assert_eq!(display_name(*raw), *expected, "{raw:?}");
    }
}

#[test]
fn store_failures_keep_their_meaning() {
    let accounts = accounts();
    *store(&accounts).failure.borrow_mut() = Some(StoreError::Unavailable("down".into()));
    let error = refused(&accounts, GITHUB, verified("1", EMAIL));
    assert_eq!(error, Error::Unavailable);
}

// ---- sign-in: lost races ------------------------------------------------------------

/// What a concurrent sign-in of the same person does: create the account, link it.
fn concurrent_sign_in(subject: &'static str) -> impl FnOnce(&MemoryStore) {
    move |store| {
        let user = store
            .create_user(NewUser {
                email: EMAIL.into(),
                display_name: None,
                password_hash: None,
                created_at: NOW,
            })
            .expect("the concurrent request creates the account");
        store
            .create_oauth_connection(NewOauthConnection {
                user_id: user.id,
                provider: GITHUB.into(),
                subject: subject.into(),
                email: Some(EMAIL.into()),
                created_at: NOW,
            })
            .expect("the concurrent request links it");
    }
}

#[test]
fn losing_the_race_to_create_the_account_signs_in_the_winners() {
    // Both requests found neither the link nor the email; the other one created the
    // account and linked the identity first.
    let accounts = accounts();
    store(&accounts).interleave("create-user", concurrent_sign_in("583231"));
    let signed_in = sign_in(&accounts, GITHUB, verified("583231", EMAIL));
    assert_eq!(signed_in.user.id, "user-1");
    assert_eq!(links(&accounts), [link(GITHUB, "583231", EMAIL, "user-1")]);
    assert_eq!(store(&accounts).users.borrow().len(), 1);
}

#[test]
fn losing_the_race_to_create_the_account_links_the_winners() {
    // The other request (another identity of the same person, or a registration)
    // created the email's account: this identity is linked to it.
    let accounts = accounts();
    store(&accounts).interleave("create-user", concurrent_sign_in("other-subject"));
    let signed_in = sign_in(&accounts, GITHUB, verified("583231", EMAIL));
    assert_eq!(signed_in.user.id, "user-1");
    assert_eq!(
        links(&accounts),
        [
            link(GITHUB, "other-subject", EMAIL, "user-1"),
            link(GITHUB, "583231", EMAIL, "user-1"),
        ]
    );
}

#[test]
fn losing_the_race_to_link_signs_in_the_linked_account() {
    // The account existed; another request linked the identity between the lookup
    // and the link.
    let accounts = accounts();
    let registered = register(&accounts, EMAIL);
    let user_id = registered.user.id.clone();
    store(&accounts).interleave("create-oauth-connection", move |store| {
        store
            .create_oauth_connection(NewOauthConnection {
                user_id,
                provider: GITHUB.into(),
                subject: "583231".into(),
                email: Some(EMAIL.into()),
                created_at: NOW,
            })
            .expect("the concurrent request links it");
    });
    let signed_in = sign_in(&accounts, GITHUB, verified("583231", EMAIL));
    assert_eq!(signed_in.user.id, registered.user.id);
    assert_eq!(
        links(&accounts),
        [link(GITHUB, "583231", EMAIL, &registered.user.id)]
    );
}

#[test]
fn an_account_deleted_during_sign_in_is_created_again() {
    let accounts = accounts();
    let registered = register(&accounts, EMAIL);
    let user_id = registered.user.id.clone();
    store(&accounts).interleave("create-oauth-connection", move |store| {
        store.delete_user(&user_id).expect("deleted concurrently");
    });
    let signed_in = sign_in(&accounts, GITHUB, verified("583231", EMAIL));
    assert_ne!(signed_in.user.id, registered.user.id);
    assert_eq!(signed_in.user.password_hash, None);
    assert_eq!(
        links(&accounts),
        [link(GITHUB, "583231", EMAIL, &signed_in.user.id)]
    );
}

#[test]
fn losing_the_account_then_the_link_signs_in_the_winners() {
    // Both requests found nothing; the other one created the account first, and
    // then, while this one found that account, linked the identity first too.
    let accounts = accounts();
    store(&accounts).interleave("create-user", |store| {
        store
            .create_user(NewUser {
                email: EMAIL.into(),
                display_name: None,
                password_hash: None,
                created_at: NOW,
            })
            .expect("the concurrent request creates the account");
    });
    store(&accounts).interleave("create-oauth-connection", |store| {
        store
            .create_oauth_connection(NewOauthConnection {
                user_id: "user-1".into(),
                provider: GITHUB.into(),
                subject: "583231".into(),
                email: Some(EMAIL.into()),
                created_at: NOW,
            })
            .expect("the concurrent request links it");
    });
    let signed_in = sign_in(&accounts, GITHUB, verified("583231", EMAIL));
    assert_eq!(signed_in.user.id, "user-1");
    assert_eq!(links(&accounts), [link(GITHUB, "583231", EMAIL, "user-1")]);
}

#[test]
fn losing_every_attempt_asks_to_try_again_rather_than_failing() {
    let accounts = accounts();
    register(&accounts, EMAIL);
    for _ in 0..3 {
        store(&accounts).interleave("create-oauth-connection", |store| {
            let id = store.users.borrow()[0].id.clone();
            store.delete_user(&id).expect("deleted concurrently");
        });
    }
    let error = refused(&accounts, GITHUB, verified("583231", EMAIL));
    assert_eq!(error, Error::SignInRaced);
    assert_eq!(
        error.to_string(),
        "the account changed during sign-in; try again"
    );
}

// ---- sign-in: throttling does not apply ------------------------------------------------

#[test]
fn identity_sign_ins_are_neither_throttled_nor_counted() {
    let accounts = accounts();
    register(&accounts, EMAIL);
    for _ in 0..crate::throttle::ACCOUNT_MAX_FAILURES {
        let _ = accounts.login(EMAIL, "wrong password", cli(), NOW);
    }
    let locked = accounts
        .login(EMAIL, PASSWORD, cli(), NOW)
        .expect_err("the password sign-in is locked");
    assert!(matches!(locked, Error::RateLimited { .. }), "{locked:?}");
    let throttles = store(&accounts).login_throttles.borrow().clone();

    sign_in(&accounts, GITHUB, verified("583231", EMAIL));
    let _ = refused(&accounts, GITHUB, unverified("other", "x@example.com"));
    assert_eq!(*store(&accounts).login_throttles.borrow(), throttles);
}

// ---- accounts without a password ----------------------------------------------------

#[test]
fn password_login_to_an_account_without_a_password_reads_as_a_wrong_password() {
    // Same answer and same counting as a wrong password, so a login reveals neither
    // that the email is registered nor that its account has no password.
    let outcome = |setup: fn(&Accounts<MemoryStore>)| {
        let accounts = accounts();
        setup(&accounts);
        let writes_before = store(&accounts).writes.borrow().len();
        let error = accounts
            .login(EMAIL, PASSWORD, cli(), NOW)
            .expect_err("must fail");
        let writes = store(&accounts).writes.borrow()[writes_before..].to_vec();
        (error, writes)
    };
    let wrong_password = outcome(|accounts| {
        accounts
            .register(
                Registration {
                    email: EMAIL.into(),
                    password: "another passphrase".into(),
                    display_name: None,
                },
                cli(),
                NOW,
            )
            .expect("registered");
    });
    let no_password = outcome(|accounts| {
        sign_in(accounts, GITHUB, verified("583231", EMAIL));
    });
    assert_eq!(no_password, wrong_password);
    assert_eq!(no_password.0, Error::InvalidCredentials);
    assert_eq!(no_password.0.to_string(), "invalid email or password");
    assert_eq!(
        no_password.1,
        ["begin-login-attempt", "begin-login-attempt"]
    );
}

#[test]
fn changing_the_password_of_an_account_without_one_says_why_it_cannot() {
    let accounts = accounts();
    let signed_in = sign_in(&accounts, GITHUB, verified("583231", EMAIL));
    for current in ["", "anything at all"] {
        let error = accounts
            .change_password(&signed_in.token, current, "a brand new passphrase", NOW)
            .expect_err("no password to change");
        assert_eq!(error, Error::NoPassword);
        assert_eq!(
            error.to_string(),
            "this account has no password (it signs in through an OAuth provider), and setting a first password is not supported yet"
        );
    }
    assert_eq!(store(&accounts).users.borrow()[0].password_hash, None);
}

// ---- list-connections ---------------------------------------------------------------

#[test]
fn list_connections_shows_only_the_callers_identities_oldest_first() {
    let accounts = accounts();
    let ada = sign_in(&accounts, GITHUB, verified("ada-gh", EMAIL));
    let later = NOW + 1_000;
    accounts
        .sign_in_with_identity("example-sso", verified("ada-sso", EMAIL), cli(), later)
        .expect("linked by email");
    let bob = sign_in(&accounts, GITHUB, verified("bob-gh", "bob@example.com"));

    let seen = |token: &str| -> Vec<(String, String, Option<String>, Timestamp)> {
        accounts
            .list_connections(token, later)
            .expect("listed")
            .into_iter()
            .map(|c| (c.provider, c.subject, c.email, c.created_at))
            .collect()
    };
    assert_eq!(
        seen(&ada.token),
        [
            (GITHUB.into(), "ada-gh".into(), Some(EMAIL.into()), NOW),
            (
                "example-sso".into(),
                "ada-sso".into(),
                Some(EMAIL.into()),
                later
            ),
        ]
    );
    assert_eq!(
        seen(&bob.token),
        [(
            GITHUB.into(),
            "bob-gh".into(),
            Some("bob@example.com".into()),
            NOW
        )]
    );
    let password_only = register(&accounts, "carol@example.com");
    assert!(seen(&password_only.token).is_empty());
}

#[test]
fn list_connections_takes_a_session_or_a_key_with_account_read() {
    let accounts = accounts();
    let signed_in = register(&accounts, EMAIL);
    sign_in(&accounts, GITHUB, verified("583231", EMAIL));
    let key = |scopes: &[&str]| {
        let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
        accounts
            .create_api_key(&signed_in.token, "ci", Some(&scopes), None, NOW)
            .expect("key created")
            .secret
    };
    let reader = key(&["account:read"]);
    let jobs_only = key(&["jobs:read"]);

    assert_eq!(
        accounts
            .list_connections(&reader, NOW)
            .expect("listed")
            .len(),
        1
    );
    let error = accounts
        .list_connections(&jobs_only, NOW)
        .expect_err("lacks account:read");
    assert_eq!(
        error.to_string(),
        "this API key lacks the account:read scope"
    );
    let error = accounts
        .list_connections("not a token", NOW)
        .expect_err("unauthenticated");
    assert!(matches!(error, Error::Unauthenticated(_)), "{error:?}");
}

// ---- unlink-connection --------------------------------------------------------------

/// The connection ids of the account behind `token`.
fn connection_ids(accounts: &Accounts<MemoryStore>, token: &str) -> Vec<String> {
    accounts
        .list_connections(token, NOW)
        .expect("listed")
        .into_iter()
        .map(|c| c.id)
        .collect()
}

#[test]
fn an_account_with_a_password_may_unlink_every_identity() {
    let accounts = accounts();
    let signed_in = register(&accounts, EMAIL);
    sign_in(&accounts, GITHUB, verified("583231", EMAIL));
    let ids = connection_ids(&accounts, &signed_in.token);
    accounts
        .unlink_connection(&signed_in.token, &ids[0], NOW)
        .expect("unlinked");
    assert!(connection_ids(&accounts, &signed_in.token).is_empty());
    // Unlinked, the identity no longer signs in by itself: with its verified email
    // it is linked again.
    let again = sign_in(&accounts, GITHUB, verified("583231", EMAIL));
    assert_eq!(again.user.id, signed_in.user.id);
    assert_eq!(connection_ids(&accounts, &signed_in.token).len(), 1);
}

#[test]
fn an_account_without_a_password_keeps_its_last_identity() {
    let accounts = accounts();
    let signed_in = sign_in(&accounts, GITHUB, verified("583231", EMAIL));
    sign_in(&accounts, "example-sso", verified("sso-1", EMAIL));
    let ids = connection_ids(&accounts, &signed_in.token);
    assert_eq!(ids.len(), 2);

    accounts
        .unlink_connection(&signed_in.token, &ids[0], NOW)
        .expect("another identity remains");
    let error = accounts
        .unlink_connection(&signed_in.token, &ids[1], NOW)
        .expect_err("the last way in");
    assert_eq!(error, Error::LastSignInMethod);
    assert_eq!(
        error.to_string(),
        "cannot unlink the last identity of an account without a password: it is the only way to sign in; sign in once with another provider that verifies the account's email, then unlink this one (`qhub passwd` cannot set a first password)"
    );
    assert_eq!(
        connection_ids(&accounts, &signed_in.token),
        [ids[1].clone()]
    );
}

#[test]
fn concurrent_unlinks_cannot_leave_an_account_without_a_way_in() {
    // Two requests each unlink one of the two identities of an account without a
    // password: each saw two before deleting. The one that deletes last finds none
    // left, restores its own and refuses.
    let accounts = accounts();
    let signed_in = sign_in(&accounts, GITHUB, verified("583231", EMAIL));
    sign_in(&accounts, "example-sso", verified("sso-1", EMAIL));
    let ids = connection_ids(&accounts, &signed_in.token);
    let (user_id, other) = (signed_in.user.id.clone(), ids[1].clone());
    store(&accounts).interleave("delete-oauth-connection", move |store| {
        assert!(
            store
                .delete_oauth_connection(&user_id, &other)
                .expect("deleted")
        );
    });

    let error = accounts
        .unlink_connection(&signed_in.token, &ids[0], NOW)
        .expect_err("it would leave no way in");
    assert_eq!(error, Error::LastSignInMethod);
    let left = accounts
        .list_connections(&signed_in.token, NOW)
        .expect("listed");
    assert_eq!(left.len(), 1);
    assert_eq!(
        (left[0].provider.as_str(), left[0].subject.as_str()),
        (GITHUB, "583231")
    );
    assert_eq!(
        left[0].created_at, NOW,
        "restored as it was, but for its id"
    );
    let again = sign_in(&accounts, GITHUB, unverified("583231", "x@example.com"));
    assert_eq!(again.user.id, signed_in.user.id);
}

#[test]
fn unlink_never_reaches_another_users_identity() {
    let accounts = accounts();
    let ada = register(&accounts, EMAIL);
    let bob = sign_in(&accounts, GITHUB, verified("bob-gh", "bob@example.com"));
    sign_in(
        &accounts,
        "example-sso",
        verified("bob-sso", "bob@example.com"),
    );
    let bobs = connection_ids(&accounts, &bob.token);
    let writes_before = store(&accounts).writes.borrow().len();

    for id in [bobs[0].as_str(), "connection-99", "", "not-an-id"] {
        let error = accounts
            .unlink_connection(&ada.token, id, NOW)
            .expect_err("not Ada's");
        assert_eq!(error, Error::NoSuchConnection, "{id:?}");
        assert_eq!(error.to_string(), "no such connection");
    }
    assert_eq!(connection_ids(&accounts, &bob.token), bobs);
    assert_eq!(store(&accounts).writes.borrow().len(), writes_before);
}

#[test]
fn unlink_takes_a_session_not_a_key() {
    let accounts = accounts();
    let signed_in = register(&accounts, EMAIL);
    sign_in(&accounts, GITHUB, verified("583231", EMAIL));
    let ids = connection_ids(&accounts, &signed_in.token);
    let key = accounts
        .create_api_key(&signed_in.token, "ci", None, None, NOW)
        .expect("key created");
    let error = accounts
        .unlink_connection(&key.secret, &ids[0], NOW)
        .expect_err("keys cannot unlink");
    assert_eq!(error, Error::SessionOnly("unlink identities"));
    assert_eq!(
        error.to_string(),
        "API keys cannot unlink identities; use a session from `qhub login`"
    );
    assert_eq!(connection_ids(&accounts, &signed_in.token), ids);
}
