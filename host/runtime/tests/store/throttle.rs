//! Sign-in throttling: counting failures in a window, locks, forgetting a key, and
//! failures counted at once.

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

pub(super) async fn login_throttles(s: &Backend) {
    let ada = "ada@example.com";
    let other = "203.0.113.7";
    assert!(s.get_login_throttle(ada).await.unwrap().is_none());

    // Failures within one window count up from the first one's time.
    let window = 15 * MINUTE;
    let first = s.record_login_failure(ada, T0, T0 - window).await.unwrap();
    assert_throttle(&first, ada, 1, T0, None);
    for (n, at) in [(2, T0 + MINUTE), (3, T0 + 2 * MINUTE)] {
        let throttle = s.record_login_failure(ada, at, at - window).await.unwrap();
        assert_throttle(&throttle, ada, n, T0, None);
    }
    // A window starting exactly at the current one's start is the same window.
    let same = s.record_login_failure(ada, T0 + window, T0).await.unwrap();
    assert_throttle(&same, ada, 4, T0, None);
    assert_throttle(&stored(s, ada).await, ada, 4, T0, None);
    // Other keys are counted apart.
    let apart = s
        .record_login_failure(other, T0 + 1, T0 + 1 - window)
        .await
        .unwrap();
    assert_throttle(&apart, other, 1, T0 + 1, None);

    // A window starting after the current one's start restarts the count from now.
    let later = T0 + window + 1;
    let restarted = s
        .record_login_failure(ada, later, later - window)
        .await
        .unwrap();
    assert_throttle(&restarted, ada, 1, later, None);
    let again = s
        .record_login_failure(ada, later + 5, later + 5 - window)
        .await
        .unwrap();
    assert_throttle(&again, ada, 2, later, None);

    // A lock is set, and a lock ending sooner leaves the later one.
    let until = later + HOUR;
    s.lock_login(ada, until).await.unwrap();
    assert_throttle(&stored(s, ada).await, ada, 2, later, Some(until));
    s.lock_login(ada, until - MINUTE).await.unwrap();
    assert_throttle(&stored(s, ada).await, ada, 2, later, Some(until));
    s.lock_login(ada, until + MINUTE).await.unwrap();
    assert_throttle(&stored(s, ada).await, ada, 2, later, Some(until + MINUTE));

    // Counting failures keeps the lock, within the window and when it restarts.
    let counted = s
        .record_login_failure(ada, later + 10, later + 10 - window)
        .await
        .unwrap();
    assert_throttle(&counted, ada, 3, later, Some(until + MINUTE));
    let fresh = until + window;
    let restarted = s
        .record_login_failure(ada, fresh, fresh - window + 1)
        .await
        .unwrap();
    assert_throttle(&restarted, ada, 1, fresh, Some(until + MINUTE));

    // Locking a key with no failures creates it, with none.
    let locked = "eve@example.com";
    s.lock_login(locked, until).await.unwrap();
    let throttle = stored(s, locked).await;
    assert_eq!((throttle.failures, throttle.locked_until), (0, Some(until)));

    // Clearing forgets the key and no other; clearing it again is no error.
    s.clear_login_throttle(ada).await.unwrap();
    assert!(s.get_login_throttle(ada).await.unwrap().is_none());
    s.clear_login_throttle(ada).await.unwrap();
    s.clear_login_throttle("never@example.com").await.unwrap();
    assert_throttle(&stored(s, other).await, other, 1, T0 + 1, None);
    // A cleared key starts over, without the lock.
    let over = s
        .record_login_failure(ada, fresh + 1, fresh + 1 - window)
        .await
        .unwrap();
    assert_throttle(&over, ada, 1, fresh + 1, None);
}

/// Failures recorded at once under one key, each on its own instance as each
/// request is in the server, are each counted.
pub(super) async fn concurrent_login_failures_are_each_counted(s: &Backend) {
    const COUNT: u32 = 20;
    let key = "ada@example.com";
    let start = Arc::new(Barrier::new(COUNT as usize));
    let mut tasks = JoinSet::new();
    for n in 0..COUNT {
        let backend = s.clone();
        let start = start.clone();
        tasks.spawn(async move {
            let mut instance = backend.instance().await;
            // All instances are up before any records, so the calls overlap.
            start.wait().await;
            let (guest, store) = instance.parts();
            let now = T0 + Timestamp::from(n);
            let outcome = guest
                .call_record_login_failure(store, key, now, T0 - HOUR)
                .await;
            settled(&instance, outcome)
        });
    }
    let mut counts = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let throttle = joined
            .expect("a recording task panicked")
            .unwrap_or_else(|err| panic!("a concurrent failure was not recorded: {err:?}"));
        counts.push(throttle.failures);
    }
    // Each call saw its own count: none was lost or counted twice.
    counts.sort_unstable();
    assert_eq!(counts, (1..=COUNT).collect::<Vec<_>>());
    assert_eq!(stored(s, key).await.failures, COUNT);
}
