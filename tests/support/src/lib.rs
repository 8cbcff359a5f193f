//! Test support shared by the test suites: a fresh database on the real PostgreSQL
//! server for each test, so tests run in parallel without seeing each other's rows,
//! and a stand-in for Cloudflare D1's HTTP API ([`D1StandIn`]).
//!
//! The server is `QHUB_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`).
//! When it cannot be reached the test fails with a hint; it never skips.

mod d1;

pub use d1::D1StandIn;
pub mod oauth;
use sqlx::{Connection, PgConnection};

/// The server tests create their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("QHUB_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A database created for one test and dropped when the value is dropped.
#[derive(Debug)]
pub struct TempDatabase {
    name: String,
    url: String,
}

impl TempDatabase {
    /// Creates an empty database named `qhub_test_<random>`.
    pub fn create() -> TempDatabase {
        let name = format!("qhub_test_{}", hex::encode(random8()));
        admin(&format!("CREATE DATABASE {name}"));
        let admin_url = postgres_admin_url();
        let base = admin_url
            .rsplit_once('/')
            .map(|(base, _)| base)
            .unwrap_or(&admin_url);
        TempDatabase {
            url: format!("{base}/{name}"),
            name,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        // FORCE ends connections a server process under test may still hold.
        admin(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}

fn random8() -> [u8; 8] {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("randomness");
    bytes
}

/// Runs one statement as the administrator, on a private runtime so it works from
/// sync tests, async tests and `Drop` alike.
fn admin(statement: &str) {
    let url = postgres_admin_url();
    let statement = statement.to_owned();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        runtime.block_on(async {
            let mut conn = PgConnection::connect(&url).await.unwrap_or_else(|e| {
                panic!(
                    "PostgreSQL is required for this test but {url} is unreachable: {e}\n\
                     hint: start it (`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, \
                     or `docker compose up -d`) or set QHUB_TEST_POSTGRES_URL"
                )
            });
            sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
                .execute(&mut conn)
                .await
                .expect("administrative statement");
        });
    })
    .join()
    .expect("the admin thread finishes");
}
