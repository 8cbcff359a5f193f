//! Tests of sign-in throttling: the policy's pure functions, and the login and
//! delete-account flows over the in-memory store, with the clock passed in.

use super::*;
use crate::accounts::{Accounts, Client, Registration, SignedIn};
use crate::data::AccountData;
use crate::memory_store::MemoryStore;
use crate::store::LoginLimit;
use crate::token::Tokens;

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
/// 2026-11-26T00:00:00Z.
const NOW: Timestamp = 1_795_651_200_000;
const EMAIL: &str = "ada@example.com";
const PASSWORD: &str = "correct horse battery";
const WRONG: &str = "definitely not it";
const ADDRESS: &str = "203.0.113.7";

fn accounts() -> Accounts<MemoryStore> {
    Accounts::new(MemoryStore::default(), Tokens::new(SECRET, "qhub"))
}

fn register(accounts: &Accounts<MemoryStore>) -> SignedIn {
    let request = Registration {
        email: EMAIL.into(),
        password: PASSWORD.into(),
        display_name: None,
    };
    accounts
        .register(request, Client::default(), NOW)
        .expect("registration succeeds")
}

fn from(ip: &str) -> Client {
    Client {
        user_agent: None,
        ip: Some(ip.into()),
    }
}

fn login(
    accounts: &Accounts<MemoryStore>,
    email: &str,
    password: &str,
    client: Client,
    at: Timestamp,
) -> Result<SignedIn, Error> {
    accounts.login(email, password, client, at)
}

/// Fails `times` sign-ins as `email` from `client` at `at`, each answered as today.
fn fail(accounts: &Accounts<MemoryStore>, email: &str, client: &Client, times: u32, at: Timestamp) {
    for attempt in 1..=times {
        let error = login(accounts, email, WRONG, client.clone(), at).expect_err("wrong password");
        assert_eq!(
            error,
            Error::InvalidCredentials,
            "{email}, attempt {attempt}"
        );
    }
}

fn refused(result: Result<SignedIn, Error>) -> String {
    let error = result.expect_err("must be refused");
    assert!(matches!(error, Error::RateLimited { .. }), "{error:?}");
    error.to_string()
}

fn failures(accounts: &Accounts<MemoryStore>, key: &str) -> Option<u32> {
    Some(accounts.store().login_throttle(key)?.failures)
}

#[test]
fn limits_carry_the_policy_to_the_store() {
    assert_eq!(
        account_limit(NOW),
        LoginLimit {
            window_start: NOW - 24 * HOUR,
            max_attempts: 5,
            base_lock: 30 * SECOND,
            max_lock: HOUR,
        }
    );
    assert_eq!(
        ip_limit(NOW),
        LoginLimit {
            window_start: NOW - 15 * MINUTE,
            max_attempts: 20,
            base_lock: 15 * MINUTE,
            max_lock: 15 * MINUTE,
        }
    );
}

#[test]
fn retry_after_rounds_up_to_whole_seconds() {
    fn check(remaining: Timestamp, expected: u64) {
        assert_eq!(
            retry_after_seconds(1_000_000 + remaining, 1_000_000),
            expected,
            "remaining {remaining} ms"
        );
    }
    check(30_000, 30);
    check(29_001, 30);
    check(1_001, 2);
    check(1_000, 1);
    check(1, 1);
    check(0, 1);
    check(-5, 1);
}

#[test]
fn keys_name_the_account_and_the_address() {
    assert_eq!(
        Keys::new("ada@example.com", Some("203.0.113.7")),
        Keys {
            account: "account:ada@example.com".into(),
            ip: Some("ip:203.0.113.7".into()),
        }
    );
    assert_eq!(Keys::new("ada@example.com", None).ip, None);
}

#[test]
fn five_wrong_passwords_lock_the_account_even_against_the_right_one() {
    let accounts = accounts();
    register(&accounts);
    fail(&accounts, EMAIL, &Client::default(), 5, NOW);
    let sessions = accounts.store().sessions.borrow().len();

    let message = refused(login(&accounts, EMAIL, PASSWORD, Client::default(), NOW));
    assert_eq!(message, "too many failed sign-ins; try again in 30 seconds");
    // The refusal is not another failure, and no session was started.
    assert_eq!(failures(&accounts, "account:ada@example.com"), Some(5));
    assert_eq!(accounts.store().sessions.borrow().len(), sessions);
    // The message counts down, rounded up to whole seconds.
    let message = refused(login(
        &accounts,
        EMAIL,
        WRONG,
        Client::default(),
        NOW + 29_500,
    ));
    assert_eq!(message, "too many failed sign-ins; try again in 1 seconds");
    assert_eq!(failures(&accounts, "account:ada@example.com"), Some(5));
}

#[test]
fn after_the_lock_the_right_password_works_and_clears_the_count() {
    let accounts = accounts();
    register(&accounts);
    fail(&accounts, EMAIL, &Client::default(), 5, NOW);
    let unlocked = NOW + ACCOUNT_BASE_LOCK;

    login(&accounts, EMAIL, PASSWORD, Client::default(), unlocked).expect("lock expired");
    assert_eq!(failures(&accounts, "account:ada@example.com"), None);
    // Counting starts over: four more failures do not lock.
    fail(&accounts, EMAIL, &Client::default(), 4, unlocked);
    login(&accounts, EMAIL, PASSWORD, Client::default(), unlocked).expect("not locked");
}

#[test]
fn each_failure_past_the_limit_doubles_the_lock() {
    let accounts = accounts();
    register(&accounts);
    fail(&accounts, EMAIL, &Client::default(), 5, NOW);
    let unlocked = NOW + ACCOUNT_BASE_LOCK;
    fail(&accounts, EMAIL, &Client::default(), 1, unlocked);
    let message = refused(login(
        &accounts,
        EMAIL,
        PASSWORD,
        Client::default(),
        unlocked,
    ));
    assert_eq!(message, "too many failed sign-ins; try again in 60 seconds");
}

/// Waiting out each lock does not reset the count: the backoff reaches its cap.
#[test]
fn the_backoff_grows_to_its_cap_for_a_patient_guesser() {
    let accounts = accounts();
    register(&accounts);
    let mut now = NOW;
    let mut last_lock = 0;
    for _ in 0..14 {
        fail(&accounts, EMAIL, &Client::default(), 1, now);
        if let Some(until) = accounts
            .store()
            .login_throttle("account:ada@example.com")
            .and_then(|t| t.locked_until)
        {
            last_lock = until - now;
            now = until;
        }
    }
    assert_eq!(last_lock, ACCOUNT_MAX_LOCK);
}

#[test]
fn failures_older_than_the_window_are_forgotten() {
    let accounts = accounts();
    register(&accounts);
    fail(&accounts, EMAIL, &Client::default(), 4, NOW);
    let later = NOW + ACCOUNT_WINDOW + 1;
    fail(&accounts, EMAIL, &Client::default(), 1, later);
    assert_eq!(failures(&accounts, "account:ada@example.com"), Some(1));
    login(&accounts, EMAIL, PASSWORD, Client::default(), later).expect("not locked");
}

#[test]
fn an_unknown_email_locks_the_same_way() {
    let accounts = accounts();
    register(&accounts);
    accounts
        .store()
        .create_user(crate::store::NewUser {
            email: "oauth@example.com".into(),
            display_name: None,
            password_hash: None,
            created_at: NOW,
        })
        .expect("user created");
    // Registered, unregistered (spelled differently each time: one normal form) and
    // OAuth-only: the same answers, attempt by attempt.
    for email in [EMAIL, " Nobody@Example.com", "oauth@example.com"] {
        fail(&accounts, email, &Client::default(), 5, NOW);
    }
    for email in [EMAIL, "nobody@example.com ", "oauth@example.com"] {
        let message = refused(login(&accounts, email, PASSWORD, Client::default(), NOW));
        assert_eq!(message, "too many failed sign-ins; try again in 30 seconds");
    }
    assert_eq!(failures(&accounts, "account:nobody@example.com"), Some(5));
}

#[test]
fn twenty_failures_from_one_address_lock_it_but_not_another() {
    let accounts = accounts();
    register(&accounts);
    // Few enough per email that no account is locked.
    for n in 0..IP_MAX_FAILURES {
        fail(
            &accounts,
            &format!("user{n}@example.com"),
            &from(ADDRESS),
            1,
            NOW,
        );
    }
    assert_eq!(failures(&accounts, "ip:203.0.113.7"), Some(20));

    let message = refused(login(&accounts, EMAIL, PASSWORD, from(ADDRESS), NOW));
    assert_eq!(
        message,
        "too many failed sign-ins; try again in 900 seconds"
    );
    login(&accounts, EMAIL, PASSWORD, from("198.51.100.1"), NOW).expect("another address");
    // Without an address only the account counts.
    login(&accounts, EMAIL, PASSWORD, Client::default(), NOW).expect("no address");
    login(&accounts, EMAIL, PASSWORD, from(ADDRESS), NOW + IP_LOCK).expect("lock expired");
}

#[test]
fn success_clears_the_account_but_not_the_address() {
    let accounts = accounts();
    register(&accounts);
    fail(&accounts, EMAIL, &from(ADDRESS), 3, NOW);
    fail(&accounts, "bob@example.com", &from(ADDRESS), 3, NOW);

    login(&accounts, EMAIL, PASSWORD, from(ADDRESS), NOW).expect("signed in");
    assert_eq!(failures(&accounts, "account:ada@example.com"), None);
    assert_eq!(failures(&accounts, "account:bob@example.com"), Some(3));
    assert_eq!(failures(&accounts, "ip:203.0.113.7"), Some(6));
}

#[test]
fn a_blank_address_counts_nothing_and_bad_input_is_not_a_failure() {
    let accounts = accounts();
    register(&accounts);
    fail(&accounts, EMAIL, &from("   "), 1, NOW);
    assert_eq!(
        login(&accounts, EMAIL, "", from(ADDRESS), NOW),
        Err(Error::InvalidInput("password is required"))
    );
    let keys: Vec<String> = accounts
        .store()
        .login_throttles
        .borrow()
        .iter()
        .map(|throttle| throttle.key.clone())
        .collect();
    assert_eq!(keys, ["account:ada@example.com"]);
    assert_eq!(failures(&accounts, "account:ada@example.com"), Some(1));
}

#[test]
fn a_successful_sign_in_leaves_nothing_counted() {
    let accounts = accounts();
    register(&accounts);
    login(&accounts, EMAIL, PASSWORD, from(ADDRESS), NOW).expect("signed in");
    assert_eq!(failures(&accounts, "account:ada@example.com"), None);
    assert_eq!(failures(&accounts, "ip:203.0.113.7"), Some(0));
    // Counted first, then taken back once the password proved right.
    let writes = accounts.store().writes.borrow();
    let throttle_writes: Vec<_> = writes.iter().filter(|w| w.contains("login")).collect();
    assert_eq!(
        throttle_writes,
        [
            &"begin-login-attempt",
            &"begin-login-attempt",
            &"clear-login-throttle",
            &"refund-login-attempt"
        ]
    );
}

/// Guesses are counted before the password is checked: a guess still being checked
/// already holds its place, so attempts arriving meanwhile meet the lock. Here the
/// fifth guess is in flight (counted, not yet answered) when a sixth arrives.
#[test]
fn an_attempt_in_flight_already_counts_against_the_limit() {
    let accounts = accounts();
    register(&accounts);
    fail(&accounts, EMAIL, &Client::default(), 4, NOW);
    // The user lookup comes after the count: an attempt made then (another request)
    // sees five attempts and the lock the fifth set, and is not admitted.
    accounts.store().interleave("get-user-by-email", |store| {
        let sixth = store
            .begin_login_attempt("account:ada@example.com", NOW, account_limit(NOW))
            .expect("store");
        assert!(
            !sixth.admitted,
            "the sixth attempt must meet the lock: {sixth:?}"
        );
    });
    let fifth = login(&accounts, EMAIL, WRONG, Client::default(), NOW);
    assert_eq!(
        fifth.expect_err("wrong password"),
        Error::InvalidCredentials
    );
    assert_eq!(failures(&accounts, "account:ada@example.com"), Some(5));
}

#[test]
fn deleting_the_account_forgets_its_failures() {
    let accounts = accounts();
    let ada = register(&accounts);
    fail(&accounts, EMAIL, &from(ADDRESS), 3, NOW);
    let data = AccountData::new(&accounts, |_: &str| None);

    data.delete_account(&ada.token, NOW).expect("deleted");
    assert_eq!(failures(&accounts, "account:ada@example.com"), None);
    assert_eq!(failures(&accounts, "ip:203.0.113.7"), Some(3));
}
