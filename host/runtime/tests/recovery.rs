//! The database goes away and comes back: calls fail with a clear "unavailable"
//! while it is gone, nothing crashes, and the same service recovers by itself.
//!
//! The database is the real PostgreSQL server, reached through a loopback TCP proxy
//! that the test takes down and brings back, so no other test is disturbed.

#![expect(clippy::unwrap_used, reason = "a test fails by panicking")]

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use common::{client, load};
use qhub_runtime::{
    AccountService, Allocation, Database, ErrorCode, Limits, RegisterRequest, Runtime,
    RuntimeConfig, ServiceError,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// Forwards loopback connections to PostgreSQL until taken down.
struct Proxy {
    addr: SocketAddr,
    tasks: Option<JoinSet<()>>,
}

impl Proxy {
    async fn start(addr: SocketAddr) -> Proxy {
        let listener = TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut tasks = JoinSet::new();
        tasks.spawn(async move {
            let mut connections = JoinSet::new();
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    break;
                };
                connections.spawn(async move {
                    if let Ok(mut server) = TcpStream::connect("127.0.0.1:5432").await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Proxy {
            addr,
            tasks: Some(tasks),
        }
    }

    /// Closes the port and cuts every open connection (dropping the accept task
    /// drops its connection tasks too).
    async fn down(&mut self) {
        if let Some(mut tasks) = self.tasks.take() {
            tasks.shutdown().await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_is_reported_and_recovered_from() {
    let db = qhub_test_support::TempDatabase::create();
    let mut proxy = Proxy::start("127.0.0.1:0".parse().unwrap()).await;
    let name = db.url().rsplit('/').next().unwrap();
    let url = format!("postgres://postgres@{}/{name}", proxy.addr);

    let runtime = Arc::new(
        Runtime::new(RuntimeConfig {
            cache_dir: None,
            limits: Limits::default(),
            allocation: Allocation::OnDemand,
        })
        .unwrap(),
    );
    let database = Database::connect(&url).await.unwrap();
    database.migrate().await.unwrap();
    let config = BTreeMap::from([("jwt-secret".to_owned(), "k".repeat(64))]);
    let service = AccountService::new(
        runtime.clone(),
        load(&runtime, "auth"),
        load(&runtime, "store-postgres"),
        database.clone(),
        config,
    )
    .unwrap();
    let password = "correct horse battery staple";
    service
        .register(
            RegisterRequest {
                email: "ada@example.com".into(),
                password: password.into(),
                display_name: None,
            },
            client("recovery-test"),
        )
        .await
        .unwrap();

    proxy.down().await;
    let err = service
        .login("ada@example.com", password, client("recovery-test"))
        .await
        .unwrap_err();
    match err {
        ServiceError::Account(e) => {
            assert_eq!(e.code, ErrorCode::Unavailable, "{e:?}");
            assert!(
                !e.message.contains("postgres://"),
                "no connection details leak: {}",
                e.message
            );
        }
        other => panic!("expected unavailable, got {other:?}"),
    }

    // Back on the same port: the very same service works again, no restart.
    let _proxy = Proxy::start(proxy.addr).await;
    let signed_in = service
        .login("ada@example.com", password, client("recovery-test"))
        .await
        .unwrap();
    assert_eq!(
        service.whoami(&signed_in.token).await.unwrap().email,
        "ada@example.com"
    );
    database.close().await;
}
