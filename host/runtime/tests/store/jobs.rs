//! Usage, quotas and quantum jobs, concurrency included.

use super::*;

// ---- usage and jobs ---------------------------------------------------------------

pub(super) async fn quotas(s: &Backend) {
    let ada = s.user("ada@example.com").await;
    let bob = s.user("bob@example.com").await;
    assert_usage(&s.get_usage(&ada.id, PERIOD).await.unwrap(), PERIOD, 0, 0);
    let limits = quota(PERIOD, 3, 1000);

    let submitted = new_job(&ada.id, 100, T0);
    let first = s.submit_job(&submitted, &limits).await.unwrap();
    assert!(!first.id.is_empty());
    assert_eq!(first.user_id, ada.id);
    assert_eq!(first.status, JobStatus::Queued);
    assert_eq!((first.backend.as_str(), first.shots), ("simulator", 100));
    assert_eq!(first.source, submitted.source);
    assert_eq!(
        (first.result.as_deref(), first.error.as_deref()),
        (None, None)
    );
    assert_eq!((first.created_at, first.updated_at), (T0, T0));
    assert_usage(&s.get_usage(&ada.id, PERIOD).await.unwrap(), PERIOD, 1, 100);

    // Past the shot limit: refused, and nothing is written.
    let refused = s.submit_job(&new_job(&ada.id, 901, T0 + 10), &limits).await;
    assert_eq!(failure(refused), "quota-exceeded");
    assert_usage(&s.get_usage(&ada.id, PERIOD).await.unwrap(), PERIOD, 1, 100);
    assert_eq!(s.list_jobs(&ada.id, None, 100).await.unwrap().len(), 1);

    s.submit_job(&new_job(&ada.id, 400, T0 + 20), &limits)
        .await
        .unwrap();
    assert_usage(&s.get_usage(&ada.id, PERIOD).await.unwrap(), PERIOD, 2, 500);
    // Up to the limit exactly is allowed.
    s.submit_job(&new_job(&ada.id, 500, T0 + 30), &limits)
        .await
        .unwrap();
    assert_usage(
        &s.get_usage(&ada.id, PERIOD).await.unwrap(),
        PERIOD,
        3,
        1000,
    );

    // Past the job limit: even a job without shots is refused.
    let roomy = quota(PERIOD, 3, 1_000_000);
    let refused = s.submit_job(&new_job(&ada.id, 0, T0 + 40), &roomy).await;
    assert_eq!(failure(refused), "quota-exceeded");
    assert_usage(
        &s.get_usage(&ada.id, PERIOD).await.unwrap(),
        PERIOD,
        3,
        1000,
    );
    assert_eq!(s.list_jobs(&ada.id, None, 100).await.unwrap().len(), 3);

    // Periods are counted apart, and a refusal in a fresh period leaves it at zero.
    let next = quota(NEXT_PERIOD, 3, 1000);
    let refused = s.submit_job(&new_job(&ada.id, 1001, T0 + 50), &next).await;
    assert_eq!(failure(refused), "quota-exceeded");
    let usage = s.get_usage(&ada.id, NEXT_PERIOD).await.unwrap();
    assert_usage(&usage, NEXT_PERIOD, 0, 0);
    assert_eq!(s.list_jobs(&ada.id, None, 100).await.unwrap().len(), 3);
    let zero = quota(NEXT_PERIOD, 0, 1000);
    let refused = s.submit_job(&new_job(&ada.id, 0, T0 + 50), &zero).await;
    assert_eq!(failure(refused), "quota-exceeded");

    // Limits past what the database's integers hold are as good as none.
    let unlimited = quota(NEXT_PERIOD, u32::MAX, u64::MAX);
    let big = s
        .submit_job(&new_job(&ada.id, u32::MAX, T0 + 60), &unlimited)
        .await
        .unwrap();
    assert_eq!(big.shots, u32::MAX);
    let usage = s.get_usage(&ada.id, NEXT_PERIOD).await.unwrap();
    assert_usage(&usage, NEXT_PERIOD, 1, u64::from(u32::MAX));
    assert_usage(
        &s.get_usage(&ada.id, PERIOD).await.unwrap(),
        PERIOD,
        3,
        1000,
    );

    // The quota is per user.
    assert_usage(&s.get_usage(&bob.id, PERIOD).await.unwrap(), PERIOD, 0, 0);
    s.submit_job(&new_job(&bob.id, 1000, T0 + 70), &limits)
        .await
        .unwrap();
    assert_usage(
        &s.get_usage(&bob.id, PERIOD).await.unwrap(),
        PERIOD,
        1,
        1000,
    );
    assert_usage(
        &s.get_usage(&ada.id, PERIOD).await.unwrap(),
        PERIOD,
        3,
        1000,
    );
}

pub(super) async fn jobs(s: &Backend) {
    use JobStatus::{Cancelled, Completed, Failed, Queued, Running};

    let ada = s.user("ada@example.com").await;
    let bob = s.user("bob@example.com").await;
    let limits = quota(PERIOD, 100, 100_000);
    let first = s
        .submit_job(&new_job(&ada.id, 100, T0), &limits)
        .await
        .unwrap();
    let second = s
        .submit_job(&new_job(&ada.id, 200, T0 + 10), &limits)
        .await
        .unwrap();
    let third = s
        .submit_job(&new_job(&ada.id, 300, T0 + 20), &limits)
        .await
        .unwrap();
    let bobs = s
        .submit_job(&new_job(&bob.id, 1, T0 + 30), &limits)
        .await
        .unwrap();

    let found = s.get_job(&ada.id, &first.id).await.unwrap();
    assert_same(&found, &Some(first.clone()));
    // Another user's job is invisible, even by its id.
    assert!(s.get_job(&bob.id, &first.id).await.unwrap().is_none());
    assert!(s.get_job(&ada.id, &bobs.id).await.unwrap().is_none());

    // Newest first, at most `limit`.
    let listed = s.list_jobs(&ada.id, None, 10).await.unwrap();
    assert_eq!(ids!(listed), [&third.id, &second.id, &first.id]);
    assert_same(&listed[2], &first);
    let listed = s.list_jobs(&ada.id, None, 2).await.unwrap();
    assert_eq!(ids!(listed), [&third.id, &second.id]);
    assert!(s.list_jobs(&ada.id, None, 0).await.unwrap().is_empty());
    let listed = s.list_jobs(&bob.id, None, 10).await.unwrap();
    assert_eq!(ids!(listed), [&bobs.id]);

    // queued -> running
    let running = s
        .move_job(&ada.id, &first.id, &[Queued], Running, T0 + 100)
        .await
        .unwrap();
    assert_eq!(running.status, Running);
    assert_eq!((running.created_at, running.updated_at), (T0, T0 + 100));
    assert_eq!(
        (running.id.as_str(), running.shots),
        (first.id.as_str(), 100)
    );
    let found = s.get_job(&ada.id, &first.id).await.unwrap();
    assert_same(&found, &Some(running.clone()));

    // Not from a status outside `from`: nothing moves.
    let refused = s
        .move_job(&ada.id, &first.id, &[Queued], Cancelled, T0 + 150)
        .await;
    assert!(refused.is_none());
    let refused = s
        .move_job(&ada.id, &first.id, &[], Cancelled, T0 + 150)
        .await;
    assert!(refused.is_none());
    let found = s.get_job(&ada.id, &first.id).await.unwrap();
    assert_same(&found, &Some(running));

    // running -> completed, with the measurements.
    let counts = r#"{"counts": {"00": 512, "11": 488}, "shots": 1000}"#;
    let completed = s
        .transition_job(
            &ada.id,
            &first.id,
            &[Running],
            Completed,
            Some(counts),
            None,
            T0 + 200,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(completed.status, Completed);
    assert_eq!(completed.result.as_deref().map(json), Some(json(counts)));
    assert_eq!((completed.error, completed.updated_at), (None, T0 + 200));
    let found = s.get_job(&ada.id, &first.id).await.unwrap().unwrap();
    assert_eq!(found.result.as_deref().map(json), Some(json(counts)));
    // A finished job stays finished.
    let refused = s
        .move_job(&ada.id, &first.id, &[Queued, Running], Failed, T0 + 210)
        .await;
    assert!(refused.is_none());

    // Any of several statuses: queued or running -> failed, with the error.
    let failed = s
        .transition_job(
            &ada.id,
            &second.id,
            &[Queued, Running, Queued],
            Failed,
            None,
            Some("backend unavailable"),
            T0 + 300,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!((failed.status, failed.result), (Failed, None));
    assert_eq!(failed.error.as_deref(), Some("backend unavailable"));
    assert_eq!(failed.updated_at, T0 + 300);

    // Another user cannot move it.
    let refused = s
        .move_job(&bob.id, &third.id, &[Queued], Cancelled, T0 + 400)
        .await;
    assert!(refused.is_none());
    let found = s.get_job(&ada.id, &third.id).await.unwrap();
    assert_same(&found, &Some(third.clone()));

    // Filtering by status.
    let listed = s.list_jobs(&ada.id, Some(Queued), 10).await.unwrap();
    assert_eq!(ids!(listed), [&third.id]);
    let listed = s.list_jobs(&ada.id, Some(Completed), 10).await.unwrap();
    assert_eq!(ids!(listed), [&first.id]);
    assert_eq!(listed[0].result.as_deref().map(json), Some(json(counts)));
    let listed = s.list_jobs(&ada.id, Some(Failed), 10).await.unwrap();
    assert_eq!(ids!(listed), [&second.id]);
    assert!(
        s.list_jobs(&ada.id, Some(Running), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.list_jobs(&ada.id, Some(Cancelled), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let listed = s.list_jobs(&bob.id, Some(Queued), 10).await.unwrap();
    assert_eq!(ids!(listed), [&bobs.id]);

    // Transitions are not submissions: the usage is what the submissions counted.
    assert_usage(&s.get_usage(&ada.id, PERIOD).await.unwrap(), PERIOD, 3, 600);
}

// ---- concurrency ------------------------------------------------------------------

/// Submits `count` jobs of `shots` for `user` at once, each on its own instance as
/// each request is in the server; returns how many were accepted and how many the
/// quota refused. Any other outcome fails the test.
pub(super) async fn submit_at_once(
    s: &Backend,
    user: &User,
    limits: &Quota,
    shots: u32,
    count: u32,
) -> (u32, u32) {
    let start = Arc::new(Barrier::new(count as usize));
    let mut tasks = JoinSet::new();
    for n in 0..count {
        let backend = s.clone();
        let start = start.clone();
        let job = new_job(&user.id, shots, T0 + Timestamp::from(n));
        let limits = limits.clone();
        tasks.spawn(async move {
            let mut instance = backend.instance().await;
            // All instances are up before any submits, so the calls overlap.
            start.wait().await;
            let (guest, store) = instance.parts();
            let outcome = guest.call_submit_job(store, &job, &limits).await;
            settled(&instance, outcome)
        });
    }
    let (mut accepted, mut refused) = (0, 0);
    while let Some(joined) = tasks.join_next().await {
        match joined.expect("a submission task panicked") {
            Ok(job) => {
                assert_eq!((job.status, job.shots), (JobStatus::Queued, shots));
                accepted += 1;
            }
            Err(StoreError::QuotaExceeded) => refused += 1,
            Err(other) => panic!("a concurrent submission failed: {other:?}"),
        }
    }
    (accepted, refused)
}

pub(super) async fn concurrent_submissions_respect_max_jobs(s: &Backend) {
    let ada = s.user("ada@example.com").await;
    let limits = quota(PERIOD, 5, 1_000_000);
    assert_eq!(submit_at_once(s, &ada, &limits, 7, 20).await, (5, 15));
    assert_usage(&s.get_usage(&ada.id, PERIOD).await.unwrap(), PERIOD, 5, 35);
    assert_eq!(s.list_jobs(&ada.id, None, 100).await.unwrap().len(), 5);
}

pub(super) async fn concurrent_submissions_respect_max_shots(s: &Backend) {
    let ada = s.user("ada@example.com").await;
    let limits = quota(PERIOD, 1000, 1000);
    assert_eq!(submit_at_once(s, &ada, &limits, 100, 20).await, (10, 10));
    assert_usage(
        &s.get_usage(&ada.id, PERIOD).await.unwrap(),
        PERIOD,
        10,
        1000,
    );
    assert_eq!(s.list_jobs(&ada.id, None, 100).await.unwrap().len(), 10);
}
