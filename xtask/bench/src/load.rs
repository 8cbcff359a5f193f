//! HTTP load: N connections, each sending its requests one after the other
//! (HTTP/1.1 keep-alive) for a fixed time, counting answers and their latencies.

use std::time::{Duration, Instant};

use anyhow::bail;
use reqwest::{Client, RequestBuilder, StatusCode};

/// What one connection sends next: its index (0..connections) picks its account.
pub type Request = dyn Fn(&Client, usize) -> RequestBuilder + Send + Sync;

/// The answers of a load run.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    /// Answered with a 2xx status.
    pub ok: u64,
    /// Refused under load: 503 or 429 (with `Retry-After`).
    pub shed: u64,
    /// Latencies of the 2xx answers.
    pub latencies: Vec<Duration>,
    /// The wall time of the run.
    pub elapsed: Duration,
}

impl Outcome {
    /// 2xx answers per second.
    pub fn per_second(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    /// The `q` quantile (0..=1) of the 2xx latencies, in milliseconds.
    pub fn latency_ms(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let index = ((sorted.len() - 1) as f64 * q).round() as usize;
        sorted[index].as_secs_f64() * 1e3
    }
}

/// One client per connection, so that each keeps exactly one connection open.
pub fn client() -> Client {
    Client::builder()
        .http1_only()
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("a plain-HTTP client builds")
}

/// Runs `connections` connections sending `request` for `duration`. Any answer
/// other than 2xx, 503 or 429 fails the run (the benchmark measures working
/// requests, and a failing server must not look fast).
pub async fn run(
    connections: usize,
    duration: Duration,
    request: std::sync::Arc<Request>,
) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..connections)
        .map(|index| {
            let request = request.clone();
            tokio::spawn(async move {
                let client = client();
                let mut outcome = Outcome::default();
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    let response = request(&client, index).send().await?;
                    let status = response.status();
                    let body = response.bytes().await?;
                    if status.is_success() {
                        outcome.ok += 1;
                        outcome.latencies.push(sent.elapsed());
                    } else if status == StatusCode::SERVICE_UNAVAILABLE
                        || status == StatusCode::TOO_MANY_REQUESTS
                    {
                        outcome.shed += 1;
                    } else {
                        bail!(
                            "answered {status}: {}",
                            String::from_utf8_lossy(&body)
                                .chars()
                                .take(300)
                                .collect::<String>()
                        );
                    }
                }
                Ok(outcome)
            })
        })
        .collect();
    let mut total = Outcome::default();
    for task in tasks {
        let outcome = task.await??;
        total.ok += outcome.ok;
        total.shed += outcome.shed;
        total.latencies.extend(outcome.latencies);
    }
    total.elapsed = started.elapsed();
    Ok(total)
}
