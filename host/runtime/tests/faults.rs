//! A plugin that misbehaves is stopped, named in the error, and does not take the
//! host down: the same runtime goes on serving with well-behaved plugins.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{client, load};
use qhub_runtime::{
    AccountService, Allocation, Database, Error, Limits, RegisterRequest, Runtime, RuntimeConfig,
    ServiceError,
};

fn config() -> BTreeMap<String, String> {
    BTreeMap::from([("jwt-secret".to_owned(), "x".repeat(64))])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_looping_backend_is_stopped_and_named_and_the_host_keeps_working() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        call_timeout: Duration::from_millis(500),
        ..Limits::default()
    };
    let runtime = Arc::new(
        Runtime::new(RuntimeConfig {
            cache_dir: None,
            limits,
            allocation: Allocation::PoolingIfAvailable,
        })
        .unwrap(),
    );
    let db = Database::open_sqlite(&dir.path().join("qhub.db"))
        .await
        .unwrap();
    db.migrate().await.unwrap();

    let hanging = AccountService::new(
        runtime.clone(),
        load(&runtime, "auth"),
        load(&runtime, "test-hang"),
        db.clone(),
        config(),
    )
    .unwrap();
    let started = Instant::now();
    let err = hanging
        .login(
            "ada@example.com",
            "correct horse battery staple",
            client("faults-test"),
        )
        .await
        .unwrap_err();
    let ServiceError::Runtime(Error::Plugin(fault)) = err else {
        panic!("expected a plugin fault, got {err:?}");
    };
    assert_eq!(
        fault.plugin, "\"test-hang\" 0.1.0",
        "the backend is blamed, not the core"
    );
    assert!(
        fault
            .message
            .contains("ran longer than its limit of 500 ms"),
        "{fault}"
    );
    // It was stopped by the deadline, not left to spin (generous bound: no timing test).
    assert!(started.elapsed() < Duration::from_secs(60));

    // The account is made on a runtime with the default deadline: a hash on a
    // busy machine may take longer than the 500 ms given here.
    let registrar_runtime = common::runtime(Limits::default(), Allocation::OnDemand);
    let registrar = AccountService::new(
        registrar_runtime.clone(),
        load(&registrar_runtime, "auth"),
        load(&registrar_runtime, "store-d1"),
        db.clone(),
        config(),
    )
    .unwrap();
    let request = RegisterRequest {
        email: "ada@example.com".into(),
        password: "correct horse battery staple".into(),
        display_name: None,
    };
    let signed_in = registrar
        .register(request, client("faults-test"))
        .await
        .unwrap();

    // Same runtime, same database: a healthy backend serves normally afterwards.
    let healthy = AccountService::new(
        runtime.clone(),
        load(&runtime, "auth"),
        load(&runtime, "store-d1"),
        db,
        config(),
    )
    .unwrap();
    let profile = healthy.whoami(&signed_in.token).await.unwrap();
    assert_eq!(profile.email, "ada@example.com");
}

#[test]
fn a_component_that_does_not_match_its_manifest_is_refused() {
    let runtime = Runtime::new(RuntimeConfig {
        cache_dir: None,
        limits: Limits::default(),
        allocation: Allocation::OnDemand,
    })
    .unwrap();
    let dir = Path::new(qhub_bundled::BUILD_DIR);
    let manifest = std::fs::read_to_string(dir.join("store-d1.plugin.toml")).unwrap();
    let other = std::fs::read(dir.join("auth.wasm")).unwrap();
    let err = runtime.load(&manifest, &other).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("\"store-d1\" 0.1.0") && message.contains("does not match"),
        "{message}"
    );
}

#[tokio::test]
async fn the_core_says_whether_it_accepts_its_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = common::runtime(Limits::default(), Allocation::OnDemand);
    let db = Database::open_sqlite(&dir.path().join("qhub.db"))
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let verdict = |config: &[(&str, &str)]| {
        let service = AccountService::new(
            runtime.clone(),
            load(&runtime, "auth"),
            load(&runtime, "store-d1"),
            db.clone(),
            config
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
        .unwrap();
        async move { service.check_config().await.unwrap() }
    };
    let secret = "s".repeat(32);
    assert_eq!(verdict(&[("jwt-secret", &secret)]).await, None);
    assert_eq!(
        verdict(&[]).await.as_deref(),
        Some("jwt-secret is not configured")
    );
    assert_eq!(
        verdict(&[("jwt-secret", &secret[..31])]).await.as_deref(),
        Some("jwt-secret must be at least 32 bytes")
    );
    let refused = verdict(&[("jwt-secret", &secret), ("quota-monthly-jobs", "lots")])
        .await
        .unwrap();
    assert!(
        refused.contains("quota-monthly-jobs must be a non-negative integer"),
        "{refused}"
    );
}
