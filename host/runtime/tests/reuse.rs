//! Cheap account calls reuse the wired core and backend that an earlier call left
//! idle: with a fresh deadline each time, never after a failure, and never more
//! idle instances than the runtime allows.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use common::{client, load};
use qhub_runtime::{
    AccountService, Allocation, Database, Error, IDLE_INSTANCES, Limits, RegisterRequest, Runtime,
    ServiceError,
};

fn config() -> BTreeMap<String, String> {
    BTreeMap::from([("jwt-secret".to_owned(), "r".repeat(64))])
}

fn runtime(call_timeout: Duration) -> Arc<Runtime> {
    let limits = Limits {
        call_timeout,
        ..Limits::default()
    };
    common::runtime(limits, Allocation::PoolingIfAvailable)
}

async fn database(dir: &tempfile::TempDir) -> Database {
    let db = Database::open_sqlite(&dir.path().join("qhub.db"))
        .await
        .expect("the database opens");
    db.migrate().await.expect("the database migrates");
    db
}

fn service(runtime: &Arc<Runtime>, backend: &str, db: &Database) -> AccountService {
    AccountService::new(
        runtime.clone(),
        load(runtime, "auth"),
        load(runtime, backend),
        db.clone(),
        config(),
    )
    .expect("the service")
}

async fn register(service: &AccountService, email: &str) -> String {
    let request = RegisterRequest {
        email: email.into(),
        password: "correct horse battery staple".into(),
        display_name: None,
    };
    service
        .register(request, client("reuse-test"))
        .await
        .expect("the account registers")
        .token
}

/// A token for a new account on `db`, registered under the default deadline (a
/// hash may take longer than the short deadlines the tests give token checks).
async fn account(db: &Database) -> String {
    let runtime = runtime(Limits::default().call_timeout);
    let service = service(&runtime, "store-d1", db);
    let token = register(&service, "ada@example.com").await;
    assert_eq!(service.idle_pairs(), 0, "a hashing call's pair is dropped");
    token
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_pair_gets_a_fresh_deadline_for_every_call() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir).await;
    let token = account(&db).await;
    let timeout = Duration::from_millis(300);
    let runtime = runtime(timeout);
    let service = service(&runtime, "store-d1", &db);

    // Each call reuses the one idle pair. Together the calls and the pauses span
    // several times the deadline: a pair that kept its first deadline would be
    // stopped by it.
    for round in 0..8 {
        tokio::time::sleep(timeout / 3).await;
        let profile = service.whoami(&token).await.unwrap();
        assert_eq!(profile.email, "ada@example.com");
        assert_eq!(service.idle_pairs(), 1, "round {round}");
    }

    // A refusal is an answer: the pair goes back too.
    let refused = service.whoami("not-a-token").await.unwrap_err();
    assert!(matches!(refused, ServiceError::Account(_)), "{refused:?}");
    assert_eq!(service.idle_pairs(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pair_whose_call_failed_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir).await;
    let token = account(&db).await;
    let runtime = runtime(Duration::from_millis(300));
    let healthy = service(&runtime, "store-d1", &db);

    // Same secret, same database, a backend that spins: the core checks the token,
    // then the session lookup never returns and the deadline stops it.
    let hanging = service(&runtime, "test-hang", &db);
    for _ in 0..2 {
        let err = hanging.whoami(&token).await.unwrap_err();
        let ServiceError::Runtime(Error::Plugin(fault)) = err else {
            panic!("expected a plugin fault, got {err:?}");
        };
        assert_eq!(fault.plugin, "\"test-hang\" 0.1.0");
        assert_eq!(hanging.idle_pairs(), 0, "a stopped pair is never reused");
    }

    // The healthy service is untouched by it.
    healthy.whoami(&token).await.unwrap();
    assert_eq!(healthy.idle_pairs(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_all_answer_and_idle_instances_stay_within_the_runtime_bound() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = runtime(Duration::from_secs(10));
    let db = database(&dir).await;
    let one = service(&runtime, "store-d1", &db);
    let two = service(&runtime, "store-d1", &db);
    let token = register(&one, "ada@example.com").await;

    const CALLS: usize = 48;
    for round in 0..3 {
        let calls = (0..CALLS).map(|i| {
            let service = if i % 2 == 0 { one.clone() } else { two.clone() };
            let token = token.clone();
            tokio::spawn(async move { service.whoami(&token).await })
        });
        let answered = futures_util::future::join_all(calls)
            .await
            .into_iter()
            .filter(
                |outcome| matches!(outcome, Ok(Ok(profile)) if profile.email == "ada@example.com"),
            )
            .count();
        assert_eq!(answered, CALLS, "round {round}");
        let idle = one.idle_pairs() + two.idle_pairs();
        assert!(idle >= 1, "round {round}: the pairs that answered are kept");
        assert!(
            2 * idle <= IDLE_INSTANCES as usize,
            "round {round}: {idle} pairs idle, more than {IDLE_INSTANCES} instances"
        );
    }

    // A service's idle pairs are given back with it: the other keeps working and
    // may keep pairs again.
    drop(one);
    two.whoami(&token).await.unwrap();
    assert!(two.idle_pairs() >= 1);
}
