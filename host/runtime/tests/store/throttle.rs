//! Sign-in throttling: counting attempts in a window, locks at the limit, taking
//! attempts back, forgetting a key, and attempts counted at once.

use super::*;

const MINUTE: Timestamp = 60_000;

#[track_caller]
fn assert_throttle(
    throttle: &LoginThrottle,
    key: &str,
    failures: u32,
    window_started_at: Timestamp,
    locked_until: Option<Timestamp>,
) {
    assert_eq!(
        (
            throttle.key.as_str(),
            throttle.failures,
            throttle.window_started_at,
            throttle.locked_until,
        ),
        (key, failures, window_started_at, locked_until),
        "login throttle"
    );
}

/// What `get-login-throttle` has for `key`, which must be something.
async fn stored(s: &Backend, key: &str) -> LoginThrottle {
    s.get_login_throttle(key)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no throttle for {key:?}"))
}

fn limit(window_start: Timestamp, max_attempts: u32) -> LoginLimit {
    LoginLimit {
        window_start,
        max_attempts,
        base_lock: MINUTE,
        max_lock: 10 * MINUTE,
    }
}

/// One attempt under `key` at `now`, in a window of `window` and a limit of `max`.
async fn attempt(
    s: &Backend,
    key: &str,
    now: Timestamp,
    window: Timestamp,
    max: u32,
) -> LoginAttempt {
    s.begin_login_attempt(key, now, limit(now - window, max))
        .await
        .unwrap()
}

pub(super) async fn login_throttles(s: &Backend) {
    let ada = "ada@example.com";
    let other = "203.0.113.7";
    let window = 15 * MINUTE;
    assert!(s.get_login_throttle(ada).await.unwrap().is_none());

    // Attempts within one window count up from the first one's time.
    let first = attempt(s, ada, T0, window, 100).await;
    assert!(first.admitted);
    assert_throttle(&first.throttle, ada, 1, T0, None);
    for (n, at) in [(2, T0 + MINUTE), (3, T0 + 2 * MINUTE)] {
        let counted = attempt(s, ada, at, window, 100).await;
        assert!(counted.admitted);
        assert_throttle(&counted.throttle, ada, n, T0, None);
    }
    // A window starting exactly at the current one's start is the same window.
    let same = s
        .begin_login_attempt(ada, T0 + window, limit(T0, 100))
        .await
        .unwrap();
    assert_throttle(&same.throttle, ada, 4, T0, None);
    assert_throttle(&stored(s, ada).await, ada, 4, T0, None);
    // Other keys are counted apart.
    let apart = attempt(s, other, T0 + 1, window, 100).await;
    assert_throttle(&apart.throttle, other, 1, T0 + 1, None);
    // A window starting after the current one's start restarts the count from now.
    let later = T0 + window + 1;
    let restarted = attempt(s, ada, later, window, 100).await;
    assert_throttle(&restarted.throttle, ada, 1, later, None);

    // Taking attempts back: down by one, never below zero, unknown keys ignored.
    s.refund_login_attempt(ada, 100).await.unwrap();
    assert_throttle(&stored(s, ada).await, ada, 0, later, None);
    s.refund_login_attempt(ada, 100).await.unwrap();
    assert_throttle(&stored(s, ada).await, ada, 0, later, None);
    s.refund_login_attempt("never@example.com", 100)
        .await
        .unwrap();
    assert!(
        s.get_login_throttle("never@example.com")
            .await
            .unwrap()
            .is_none()
    );

    // Clearing forgets the key and no other; clearing it again is no error.
    s.clear_login_throttle(ada).await.unwrap();
    assert!(s.get_login_throttle(ada).await.unwrap().is_none());
    s.clear_login_throttle(ada).await.unwrap();
    assert_throttle(&stored(s, other).await, other, 1, T0 + 1, None);
}

/// The attempt that reaches the limit is admitted and locks the key; attempts
/// while locked count nothing; each admitted attempt past the limit doubles the
/// lock up to its cap; a refund below the limit lifts the lock.
pub(super) async fn login_attempts_lock_at_the_limit(s: &Backend) {
    let key = "grace@example.com";
    let window = 24 * HOUR;
    for n in 1..=2 {
        let counted = attempt(s, key, T0 + Timestamp::from(n), window, 3).await;
        assert!(counted.admitted);
        assert_throttle(&counted.throttle, key, n, T0 + 1, None);
    }
    let third = attempt(s, key, T0 + 3, window, 3).await;
    assert!(
        third.admitted,
        "the attempt reaching the limit is still checked"
    );
    assert_throttle(&third.throttle, key, 3, T0 + 1, Some(T0 + 3 + MINUTE));
    // Locked: refused, nothing counted, the lock unchanged.
    let refused = attempt(s, key, T0 + 4, window, 3).await;
    assert!(!refused.admitted);
    assert_throttle(&refused.throttle, key, 3, T0 + 1, Some(T0 + 3 + MINUTE));
    // Each attempt after a lock ends doubles the next lock, up to the cap.
    let mut now = T0 + 3 + MINUTE;
    for (count, lock) in [(4, 2), (5, 4), (6, 8), (7, 10), (8, 10)] {
        let counted = attempt(s, key, now, window, 3).await;
        assert!(counted.admitted, "attempt {count} after the lock ended");
        assert_throttle(
            &counted.throttle,
            key,
            count,
            T0 + 1,
            Some(now + lock * MINUTE),
        );
        now += lock * MINUTE;
    }
    // A window restarting after a lock ended starts without a lock.
    let fresh = now + window + 1;
    let restarted = attempt(s, key, fresh, window, 3).await;
    assert_throttle(&restarted.throttle, key, 1, fresh, None);

    // A limit of one locks on the first attempt of a new key.
    let strict = "203.0.113.9";
    let first = attempt(s, strict, T0, window, 1).await;
    assert!(first.admitted);
    assert_throttle(&first.throttle, strict, 1, T0, Some(T0 + MINUTE));
    // Taking the attempt back below the limit lifts the lock.
    s.refund_login_attempt(strict, 1).await.unwrap();
    assert_throttle(&stored(s, strict).await, strict, 0, T0, None);
    // A refund that leaves the count at the limit keeps the lock.
    for n in 1..=3 {
        attempt(s, key, fresh + n, window, 2).await;
    }
    let locked = stored(s, key).await;
    assert_eq!(locked.failures, 2, "the third attempt was refused");
    s.refund_login_attempt(key, 1).await.unwrap();
    assert_eq!(stored(s, key).await.locked_until, locked.locked_until);
}

/// Attempts made at once under one key, each on its own instance as each request
/// is in the server: exactly the limit's number are admitted, whatever the
/// interleaving, and every admitted one is counted once.
pub(super) async fn concurrent_login_attempts_admit_at_most_the_limit(s: &Backend) {
    const COUNT: u32 = 20;
    const MAX: u32 = 5;
    let key = "ada@example.com";
    let start = Arc::new(Barrier::new(COUNT as usize));
    let mut tasks = JoinSet::new();
    for _ in 0..COUNT {
        let backend = s.clone();
        let start = start.clone();
        tasks.spawn(async move {
            let mut instance = backend.instance().await;
            // All instances are up before any counts, so the calls overlap.
            start.wait().await;
            let (guest, store) = instance.parts();
            let outcome = guest
                .call_begin_login_attempt(store, key, T0, limit(T0 - HOUR, MAX))
                .await;
            settled(&instance, outcome)
        });
    }
    let mut admitted = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let attempt = joined
            .expect("an attempt task panicked")
            .unwrap_or_else(|err| panic!("a concurrent attempt failed: {err:?}"));
        if attempt.admitted {
            admitted.push(attempt.throttle.failures);
        }
    }
    // Each admitted call saw its own count: none was lost, counted twice or let
    // past the limit.
    admitted.sort_unstable();
    assert_eq!(admitted, (1..=MAX).collect::<Vec<_>>());
    assert_eq!(stored(s, key).await.failures, MAX);
}
