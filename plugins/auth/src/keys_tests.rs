//! Tests of API keys: format and hashing, scopes, names and expiry, and the key
//! flows over the in-memory store.

use super::*;
use crate::accounts::{Client, Registration, SignedIn};
use crate::data::{AccountData, JobRequest};
use crate::memory_store::MemoryStore;
use crate::token::Tokens;

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
/// 2026-11-26T00:00:00Z.
const NOW: Timestamp = 1_795_651_200_000;
const DAY: Timestamp = 86_400 * SECOND;
const PASSWORD: &str = "correct horse battery";

fn accounts() -> Accounts<MemoryStore> {
    Accounts::new(MemoryStore::default(), Tokens::new(SECRET, "qhub"))
}

fn register(accounts: &Accounts<MemoryStore>) -> SignedIn {
    let request = Registration {
        email: "ada@example.com".into(),
        password: PASSWORD.into(),
        display_name: None,
    };
    accounts
        .register(request, Client::default(), NOW)
        .expect("registration succeeds")
}

fn create(
    accounts: &Accounts<MemoryStore>,
    signed_in: &SignedIn,
    scopes: &[&str],
    expires_in: Option<u64>,
) -> CreatedKey {
    // No scope named here means the field left out: the default.
    let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
    let scopes = (!scopes.is_empty()).then_some(scopes.as_slice());
    accounts
        .create_api_key(&signed_in.token, " ci ", scopes, expires_in, NOW)
        .expect("key is created")
}

fn failure<T: std::fmt::Debug>(result: Result<T, Error>) -> (Error, String) {
    let error = result.expect_err("must fail");
    let message = error.to_string();
    (error, message)
}

fn no_config(_: &str) -> Option<String> {
    None
}

#[test]
fn keys_have_the_documented_format_and_hash() {
    let mut random = [0u8; 36];
    random[..4].copy_from_slice(&[0xab, 0x12, 0xcd, 0x34]);
    let generated = Generated::from_random(&random);
    assert_eq!(generated.prefix, "qhk_ab12cd34");
    assert_eq!(
        generated.secret,
        "qhk_ab12cd34_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    );
    assert_eq!(generated.hash, hash(&generated.secret));
    // SHA-256 of the whole key, lowercase hex (checked with `sha256sum`).
    assert_eq!(
        hash("qhk_ab12cd34_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        EXPECTED_HASH
    );
    assert!(is_well_formed(&generated.secret));

    let random = Generated::random().expect("random key");
    assert!(is_well_formed(&random.secret), "{}", random.secret);
    assert!(random.secret.starts_with(&format!("{}_", random.prefix)));
    assert_eq!(random.prefix.len(), 12);
    assert_eq!(random.secret.len(), 56);
    assert_eq!(random.hash.len(), 64);
    assert_ne!(random, Generated::random().expect("random key"));
}

const EXPECTED_HASH: &str = "16db20a76096850456b4aba83e7965ec5d23f362ebdcd1783737d4e72753892c";

#[test]
fn key_shapes() {
    fn check(token: &str, well_formed: bool) {
        assert_eq!(is_well_formed(token), well_formed, "{token:?}");
    }
    let secret = "A".repeat(43);
    check(&format!("qhk_0123abcd_{secret}"), true);
    check(&format!("qhk_0123abcd_{}", "-_z9".repeat(10) + "abc"), true);
    check(&format!("qhk_0123ABCD_{secret}"), false);
    check(&format!("qhk_0123abc_{secret}"), false);
    check(&format!("qhk_0123abcd_{}", "A".repeat(42)), false);
    check(&format!("qhk_0123abcd_{}", "A".repeat(44)), false);
    check(&format!("qhk_0123abcd_{}=", "A".repeat(42)), false);
    check(&format!("qhk_0123abcd{secret}"), false);
    check("qhk_", false);
    check("eyJhbGciOiJIUzI1NiJ9", false);
}

#[test]
fn scope_lists() {
    fn check(names: &[&str], expected: Result<&[&str], &str>) {
        let names: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
        let got = parse_scopes(Some(&names))
            .map(|scopes| scopes.into_iter().map(Scope::as_str).collect::<Vec<_>>())
            .map_err(|error| error.to_string());
        let expected = expected.map(<[&str]>::to_vec).map_err(str::to_owned);
        assert_eq!(got, expected, "{names:?}");
    }
    let all: &[&str] = &[
        "account:read",
        "jobs:read",
        "jobs:write",
        "prefs:read",
        "prefs:write",
    ];
    let got = parse_scopes(None).expect("the default");
    assert_eq!(got, Scope::ALL.to_vec(), "left out: every scope");
    check(
        &[],
        Err(
            "an api key needs at least one scope; hint: leave the scopes out for the default (every scope), or name some: account:read, jobs:read, jobs:write, prefs:read, prefs:write",
        ),
    );
    check(&["jobs:read"], Ok(&["jobs:read"]));
    check(
        &["prefs:write", "jobs:read", "prefs:write", "account:read"],
        Ok(&["account:read", "jobs:read", "prefs:write"]),
    );
    check(
        &[
            "prefs:write",
            "prefs:read",
            "jobs:write",
            "jobs:read",
            "account:read",
        ],
        Ok(all),
    );
    let unknown = |name: &str| {
        format!(
            "unknown scope \"{name}\": use account:read, jobs:read, jobs:write, prefs:read or prefs:write"
        )
    };
    check(&["jobs:read", "jobs:admin"], Err(&unknown("jobs:admin")));
    check(&["Jobs:Read"], Err(&unknown("Jobs:Read")));
    check(&[" jobs:read"], Err(&unknown(" jobs:read")));
    check(&[""], Err(&unknown("")));
    let error = parse_scopes(Some(&["x".into()])).expect_err("unknown");
    assert_eq!(error, Error::UnknownScope("x".into()));
}

#[test]
fn key_names() {
    fn check(raw: &str, expected: Result<&str, &str>) {
        let got = key_name(raw).map_err(|error| error.to_string());
        assert_eq!(
            got.as_deref(),
            expected.map_err(str::to_owned).as_deref(),
            "{raw:?}"
        );
    }
    check("  laptop ci  ", Ok("laptop ci"));
    check(&"é".repeat(64), Ok(&"é".repeat(64)));
    check("", Err("api key name is required"));
    check(" \t ", Err("api key name is required"));
    check(
        &"a".repeat(65),
        Err("api key name must be at most 64 characters"),
    );
    check(
        "ci\u{7}bell",
        Err("api key name must not contain control characters"),
    );
}

#[test]
fn expiry_bounds() {
    let message = "keys expire after 1 minute to 366 days (60 to 31622400 seconds)";
    assert_eq!(expires_at(60, NOW), Ok(NOW + 60 * SECOND));
    assert_eq!(expires_at(366 * 86_400, NOW), Ok(NOW + 366 * DAY));
    // 30 seconds is what `--expires-in 30` used to make: refused, not a dead key.
    for seconds in [0, 1, 30, 59, 366 * 86_400 + 1, u64::MAX] {
        let (error, text) = failure(expires_at(seconds, NOW));
        assert_eq!(error, Error::InvalidInput(message), "{seconds}");
        assert_eq!(text, message);
    }
}

#[test]
fn create_stores_only_prefix_and_hash() {
    let accounts = accounts();
    let signed_in = register(&accounts);
    let created = create(
        &accounts,
        &signed_in,
        &["jobs:write", "jobs:read", "jobs:read"],
        Some(3_600),
    );
    let stored = accounts.store().api_key(&created.key.id);
    assert_eq!(stored, created.key);
    assert_eq!(stored.user_id, signed_in.user.id);
    assert_eq!(stored.name, "ci");
    assert_eq!(stored.scopes, ["jobs:read", "jobs:write"]);
    assert_eq!(stored.created_at, NOW);
    assert_eq!(stored.expires_at, Some(NOW + 3_600 * SECOND));
    assert_eq!(stored.last_used_at, None);
    assert!(created.secret.starts_with(&format!("{}_", stored.prefix)));
    assert_eq!(stored.secret_hash, hash(&created.secret));
    assert!(!stored.secret_hash.contains(&created.secret[13..]));

    let forever = create(&accounts, &signed_in, &[], None);
    assert_eq!(forever.key.expires_at, None);
    assert_eq!(forever.key.scopes.len(), 5);
}

#[test]
fn create_retries_once_on_a_conflict() {
    let accounts = accounts();
    let signed_in = register(&accounts);
    accounts.store().api_key_conflicts.set(1);
    let created = create(&accounts, &signed_in, &[], None);
    assert_eq!(
        accounts.store().api_key(&created.key.id).secret_hash,
        hash(&created.secret)
    );

    accounts.store().api_key_conflicts.set(2);
    let (error, _) = failure(accounts.create_api_key(&signed_in.token, "ci", None, None, NOW));
    assert_eq!(error, Error::Conflict("api-key".into()));
    assert_eq!(accounts.store().api_keys.borrow().len(), 1);
}

#[test]
fn create_refuses_bad_input_without_writing() {
    let accounts = accounts();
    let signed_in = register(&accounts);
    /// Name, scopes, lifetime, the refusal's message.
    type Case = (&'static str, Option<Vec<String>>, Option<u64>, &'static str);
    let cases: [Case; 5] = [
        ("", None, None, "api key name is required"),
        (
            "ci",
            Some(vec![]),
            None,
            "an api key needs at least one scope; hint: leave the scopes out for the default (every scope), or name some: account:read, jobs:read, jobs:write, prefs:read, prefs:write",
        ),
        (
            "ci\0",
            None,
            None,
            "api key name must not contain control characters",
        ),
        (
            "ci",
            Some(vec!["admin".into()]),
            None,
            "unknown scope \"admin\": use account:read, jobs:read, jobs:write, prefs:read or prefs:write",
        ),
        (
            "ci",
            None,
            Some(0),
            "keys expire after 1 minute to 366 days (60 to 31622400 seconds)",
        ),
    ];
    for (name, scopes, expires_in, message) in cases {
        let (_, text) = failure(accounts.create_api_key(
            &signed_in.token,
            name,
            scopes.as_deref(),
            expires_in,
            NOW,
        ));
        assert_eq!(text, message);
    }
    assert!(accounts.store().api_keys.borrow().is_empty());
}

#[test]
fn authenticate_with_a_key() {
    let accounts = accounts();
    let signed_in = register(&accounts);
    let created = create(&accounts, &signed_in, &["jobs:read"], Some(3_600));
    let principal = accounts
        .authenticate(&created.secret, NOW + SECOND)
        .expect("valid key");
    assert_eq!(
        principal,
        Principal {
            user_id: signed_in.user.id.clone(),
            session_id: None,
            api_key_id: Some(created.key.id.clone()),
            scopes: vec![Scope::JobsRead],
            expires_at: Some(NOW + 3_600 * SECOND),
        }
    );

    // Expired at exactly `expires-at`.
    let (error, text) = failure(accounts.authenticate(&created.secret, NOW + 3_600 * SECOND));
    assert_eq!(error, Error::Unauthenticated(AuthFailure::ApiKeyExpired));
    assert_eq!(text, "api key expired");

    accounts
        .revoke_api_key(&signed_in.token, &created.key.id, NOW + 2 * SECOND)
        .expect("revokes");
    let (error, text) = failure(accounts.authenticate(&created.secret, NOW + 3 * SECOND));
    assert_eq!(error, Error::Unauthenticated(AuthFailure::ApiKeyRevoked));
    assert_eq!(text, "api key revoked");

    let mut unknown = created.secret.clone();
    unknown.replace_range(20..21, if &unknown[20..21] == "A" { "B" } else { "A" });
    for token in [unknown.as_str(), "qhk_", "qhk_nonsense"] {
        let (error, text) = failure(accounts.authenticate(token, NOW));
        assert_eq!(error, Error::Unauthenticated(AuthFailure::InvalidApiKey));
        assert_eq!(text, "invalid api key");
    }
}

#[test]
fn key_use_is_recorded_at_most_once_a_minute() {
    let accounts = accounts();
    let signed_in = register(&accounts);
    let created = create(&accounts, &signed_in, &[], None);
    let touches = || {
        accounts
            .store()
            .writes
            .borrow()
            .iter()
            .filter(|w| **w == "touch-api-key")
            .count()
    };
    accounts.authenticate(&created.secret, NOW).expect("valid");
    assert_eq!(
        accounts.store().api_key(&created.key.id).last_used_at,
        Some(NOW)
    );
    assert_eq!(touches(), 1);
    accounts
        .authenticate(&created.secret, NOW + TOUCH_INTERVAL)
        .expect("valid");
    assert_eq!(touches(), 1);
    let later = NOW + TOUCH_INTERVAL + SECOND;
    accounts
        .authenticate(&created.secret, later)
        .expect("valid");
    assert_eq!(touches(), 2);
    assert_eq!(
        accounts.store().api_key(&created.key.id).last_used_at,
        Some(later)
    );
}

#[test]
fn a_key_is_limited_to_its_scopes() {
    let accounts = accounts();
    let signed_in = register(&accounts);
    let data = AccountData::new(&accounts, no_config);
    let reader = create(&accounts, &signed_in, &["jobs:read"], None).secret;
    let job = || JobRequest {
        source: "OPENQASM 2.0;\nqreg q[1];\n".into(),
        shots: 10,
        backend: None,
    };

    let (error, text) = failure(data.submit_job(&reader, job(), NOW));
    assert_eq!(error, Error::MissingScope(Scope::JobsWrite));
    assert_eq!(text, "this API key lacks the jobs:write scope");
    assert!(accounts.store().jobs.borrow().is_empty());
    data.list_jobs(&reader, None, NOW)
        .expect("jobs:read allows listing");

    type Flow<'a> = Box<dyn Fn(&str) -> Result<(), Error> + 'a>;
    let flows: Vec<(Scope, Flow<'_>)> = vec![
        (
            Scope::AccountRead,
            Box::new(|t| accounts.whoami(t, NOW).map(drop)),
        ),
        (
            Scope::AccountRead,
            Box::new(|t| data.get_usage(t, NOW).map(drop)),
        ),
        (
            Scope::AccountRead,
            Box::new(|t| data.export_account(t, NOW).map(drop)),
        ),
        (
            Scope::JobsWrite,
            Box::new(|t| data.cancel_job(t, "job-1", NOW).map(drop)),
        ),
        (
            Scope::PrefsRead,
            Box::new(|t| data.list_preferences(t, NOW).map(drop)),
        ),
        (
            Scope::PrefsWrite,
            Box::new(|t| data.set_preference(t, "theme", "1", NOW)),
        ),
        (
            Scope::PrefsWrite,
            Box::new(|t| data.unset_preference(t, "theme", NOW)),
        ),
    ];
    for (scope, flow) in &flows {
        assert_eq!(flow(&reader), Err(Error::MissingScope(*scope)));
    }
    // The full set of scopes passes every check (the flows themselves may still
    // answer, e.g. no such job).
    let full = create(&accounts, &signed_in, &[], None).secret;
    for (scope, flow) in &flows {
        assert!(
            !matches!(flow(&full), Err(Error::MissingScope(_))),
            "{scope:?}"
        );
    }
    data.submit_job(&full, job(), NOW)
        .expect("jobs:write allows submitting");
    data.get_job(&reader, "job-1", NOW)
        .expect("jobs:read allows reading");
}

#[test]
fn a_key_cannot_do_what_only_a_session_may() {
    let accounts = accounts();
    let signed_in = register(&accounts);
    let data = AccountData::new(&accounts, no_config);
    let key = create(&accounts, &signed_in, &[], None);
    let secret = key.secret.as_str();
    let writes_before = accounts.store().writes.borrow().len();

    let cases: Vec<(&str, Result<(), Error>)> = vec![
        (
            "create API keys",
            accounts
                .create_api_key(secret, "more", None, None, NOW)
                .map(drop),
        ),
        (
            "list API keys",
            accounts.list_api_keys(secret, NOW).map(drop),
        ),
        (
            "revoke API keys",
            accounts.revoke_api_key(secret, &key.key.id, NOW),
        ),
        (
            "change the password",
            accounts.change_password(secret, PASSWORD, "a brand new passphrase", NOW),
        ),
        ("delete the account", data.delete_account(secret, NOW)),
        ("log out", accounts.logout(secret, NOW)),
        ("log out", accounts.logout_all(secret, NOW).map(drop)),
        (
            "list sessions",
            accounts.list_sessions(secret, NOW).map(drop),
        ),
        (
            "revoke sessions",
            accounts.revoke_session(secret, &signed_in.session_id, NOW),
        ),
        (
            "revoke sessions",
            accounts.revoke_other_sessions(secret, NOW).map(drop),
        ),
    ];
    for (action, result) in cases {
        let (error, text) = failure(result);
        assert_eq!(error, Error::SessionOnly(action));
        assert_eq!(
            text,
            format!("API keys cannot {action}; use a session from `qhub login`")
        );
    }
    // Only the key's own use was recorded: nothing was created, revoked or deleted.
    let writes = accounts.store().writes.borrow();
    assert_eq!(writes[writes_before..], ["touch-api-key"]);
    assert_eq!(accounts.store().api_keys.borrow().len(), 1);
    assert!(accounts.store().users.borrow().len() == 1);

    // A bad key is unauthenticated there too, not forbidden.
    let (error, _) = failure(accounts.logout("qhk_nonsense", NOW));
    assert_eq!(error, Error::Unauthenticated(AuthFailure::InvalidApiKey));
}

#[test]
fn list_and_revoke_keys() {
    let accounts = accounts();
    let signed_in = register(&accounts);
    let first = create(&accounts, &signed_in, &[], Some(60));
    let second = accounts
        .create_api_key(&signed_in.token, "second", None, None, NOW + SECOND)
        .expect("created");
    let third = accounts
        .create_api_key(&signed_in.token, "third", None, None, NOW + 2 * SECOND)
        .expect("created");
    accounts
        .revoke_api_key(&signed_in.token, &second.key.id, NOW + 3 * SECOND)
        .expect("revokes");

    // The first key has expired by now; it is still listed, the revoked one is not.
    let listed = accounts
        .list_api_keys(&signed_in.token, NOW + DAY)
        .expect("lists");
    let ids: Vec<&str> = listed.iter().map(|k| k.id.as_str()).collect();
    assert_eq!(ids, [third.key.id.as_str(), first.key.id.as_str()]);

    for id in [second.key.id.as_str(), "key-999", ""] {
        let (error, text) = failure(accounts.revoke_api_key(&signed_in.token, id, NOW + DAY));
        assert_eq!(error, Error::NoSuchApiKey, "{id:?}");
        assert_eq!(text, "no such api key");
    }
}

#[test]
fn another_users_key_cannot_be_revoked() {
    let accounts = accounts();
    let ada = register(&accounts);
    let key = create(&accounts, &ada, &[], None);
    let bob = accounts
        .register(
            Registration {
                email: "bob@example.com".into(),
                password: "bob's own passphrase".into(),
                display_name: None,
            },
            Client::default(),
            NOW,
        )
        .expect("registers");
    let (error, _) = failure(accounts.revoke_api_key(&bob.token, &key.key.id, NOW));
    assert_eq!(error, Error::NoSuchApiKey);
    assert!(
        accounts
            .list_api_keys(&bob.token, NOW)
            .expect("lists")
            .is_empty()
    );
    assert_eq!(accounts.store().api_key(&key.key.id).revoked_at, None);
}
