//! The smoke test of a deployed QHub, `qhub serve` or the Cloudflare Worker: what
//! `cargo xtask smoke URL` runs after a deploy, kept in a library so the test suite
//! runs the very same code against a local `qhub serve` and `wrangler dev`.
//!
//! The checks, in order (each one a [`Check`], named as below):
//!
//! 1. `healthz`: `GET /healthz` answers 200 `{"status":"ok"}`.
//! 2. `plugins`: `GET /v1/plugins` lists the component files of the local build,
//!    by sha256 ([`plugins::compare`] has the rule).
//! 3. `register`: the local `qhub` binary registers a throw-away account
//!    (`smoke-<random>@example.com`, a random password) with `--server URL`.
//! 4. `whoami`: `qhub whoami --json` answers that account.
//! 5. `delete`: `qhub account delete --yes` deletes it. It runs whenever a login
//!    saved a token, even after a failed `whoami`, so a failed smoke test leaves no
//!    account behind; it is `skipped` only when no account was made.
//!
//! The account steps run the real CLI rather than HTTP requests: a deploy is only
//! good if the `qhub` users have can work with it, so the smoke test exercises the
//! CLI's remote mode, its wire types and its error handling against the server
//! too. The two read-only checks are plain HTTP, because they check the server
//! itself (`qhub plugins list` shows the local build's plugins).

mod cli;
pub mod plugins;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::cli::LocalQhub;
use crate::plugins::{Plugin, PluginRow};

/// What to check and with which binary.
#[derive(Debug, Clone)]
pub struct Options {
    /// The server's base URL (`https://qhub.example.workers.dev`,
    /// `http://127.0.0.1:8787`); a trailing `/` is ignored.
    pub url: String,
    /// The local `qhub` binary: it runs the account steps and lists the plugins of
    /// the local build.
    pub qhub: PathBuf,
}

/// How a check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Failed,
    /// Not run, because an earlier check it depends on failed.
    Skipped,
}

/// One check and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// `healthz`, `plugins`, `register`, `whoami` or `delete`.
    pub name: &'static str,
    pub status: Status,
    /// One line: what was seen, or why it failed.
    pub detail: String,
}

impl fmt::Display for Check {
    /// `ok      healthz   GET /healthz: 200 {"status":"ok"}`: status, name, detail.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = match self.status {
            Status::Ok => "ok",
            Status::Failed => "FAILED",
            Status::Skipped => "skipped",
        };
        write!(f, "{status:<7} {:<8} {}", self.name, self.detail)
    }
}

/// Everything a smoke run found; `--json` prints it as is.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The server's base URL, without a trailing `/`.
    pub url: String,
    /// Whether every check passed (none failed; none is skipped then).
    pub ok: bool,
    /// The names of the failed checks, in order.
    pub failed: Vec<&'static str>,
    /// The throw-away account's email.
    pub email: String,
    pub checks: Vec<Check>,
    /// The plugin comparison, by name (empty when either list was unavailable).
    pub plugins: Vec<PluginRow>,
}

impl Report {
    /// The first failed check, the one a one-line error names.
    pub fn first_failure(&self) -> Option<&Check> {
        self.checks.iter().find(|c| c.status == Status::Failed)
    }
}

/// Runs every check against `options.url`, calling `on_check` as each one ends
/// (so a terminal shows progress), and returns the report. Never fails as a
/// function: anything that goes wrong, the local binary included, is a failed check.
pub fn run(options: &Options, on_check: &mut dyn FnMut(&Check)) -> Report {
    let url = options.url.trim_end_matches('/').to_owned();
    let email = format!("smoke-{}@example.com", random_hex(8));
    let mut smoke = Smoke {
        report: Report {
            url: url.clone(),
            ok: false,
            failed: Vec::new(),
            email: email.clone(),
            checks: Vec::new(),
            plugins: Vec::new(),
        },
        on_check,
    };
    let http = Http::new();
    let local = LocalQhub::new(&options.qhub);

    smoke.record("healthz", healthz(&http, &url));

    let plugins = plugins(&http, &url, &local).map(|comparison| {
        let detail = comparison.summary();
        let ok = comparison.problems.is_empty();
        smoke.report.plugins = comparison.rows;
        if ok { Ok(detail) } else { Err(detail) }
    });
    smoke.record("plugins", plugins.and_then(|outcome| outcome));

    let local = match local {
        Ok(local) => local,
        Err(e) => {
            let reason = format!("the local qhub cannot run: {e}");
            smoke.record("register", Err(reason));
            smoke.skip("whoami", "no account");
            smoke.skip("delete", "no account");
            return smoke.finish();
        }
    };
    let password = random_hex(16);
    let registered = local
        .run(
            &[
                "--server",
                &url,
                "register",
                "--email",
                &email,
                "--password-stdin",
            ],
            Some(&format!("{password}\n")),
        )
        .and_then(|run| {
            if run.success() {
                Ok(format!("{email} registered with the local qhub"))
            } else {
                Err(run.failure())
            }
        });
    let registered_ok = registered.is_ok();
    smoke.record("register", registered);

    if registered_ok {
        let whoami = whoami(&local, &url, &email);
        smoke.record("whoami", whoami);
    } else {
        smoke.skip("whoami", "no account");
    }

    // Whatever failed above: an account that may exist is deleted.
    if local.has_token() {
        let deleted = local
            .run(&["--server", &url, "account", "delete", "--yes"], None)
            .and_then(|run| {
                if run.success() {
                    Ok(format!("{email} deleted"))
                } else {
                    Err(run.failure())
                }
            });
        smoke.record("delete", deleted);
    } else {
        smoke.skip("delete", "no account was made");
    }
    smoke.finish()
}

/// The report being written and the caller's progress callback.
struct Smoke<'a> {
    report: Report,
    on_check: &'a mut dyn FnMut(&Check),
}

impl Smoke<'_> {
    fn record(&mut self, name: &'static str, outcome: Result<String, String>) {
        let (status, detail) = match outcome {
            Ok(detail) => (Status::Ok, detail),
            Err(detail) => (Status::Failed, detail),
        };
        self.push(Check {
            name,
            status,
            detail,
        });
    }

    fn skip(&mut self, name: &'static str, why: &str) {
        self.push(Check {
            name,
            status: Status::Skipped,
            detail: why.to_owned(),
        });
    }

    fn push(&mut self, check: Check) {
        (self.on_check)(&check);
        self.report.checks.push(check);
    }

    fn finish(mut self) -> Report {
        let report = &mut self.report;
        report.failed = report
            .checks
            .iter()
            .filter(|c| c.status == Status::Failed)
            .map(|c| c.name)
            .collect();
        report.ok = report.failed.is_empty();
        self.report
    }
}

fn healthz(http: &Result<Http, String>, url: &str) -> Result<String, String> {
    let http = http.as_ref().map_err(Clone::clone)?;
    let (status, body) = http.get_json(&format!("{url}/healthz"))?;
    if status == 200 && body == serde_json::json!({"status": "ok"}) {
        Ok(format!("GET /healthz: {status} {body}"))
    } else {
        Err(format!(
            "GET /healthz answered {status} {body}, expected 200 {{\"status\":\"ok\"}}"
        ))
    }
}

/// Both plugin lists, compared. `Err` when either list cannot be had.
fn plugins(
    http: &Result<Http, String>,
    url: &str,
    local: &Result<LocalQhub, String>,
) -> Result<plugins::Comparison, String> {
    let http = http.as_ref().map_err(Clone::clone)?;
    let (status, body) = http.get_json(&format!("{url}/v1/plugins"))?;
    if status != 200 {
        return Err(format!("GET /v1/plugins answered {status} {body}"));
    }
    let server: Vec<Plugin> = serde_json::from_value(body)
        .map_err(|e| format!("GET /v1/plugins: not a list of plugins: {e}"))?;
    let local = local
        .as_ref()
        .map_err(|e| format!("the local qhub cannot run: {e}"))?;
    let run = local.run(&["plugins", "list", "--json"], None)?;
    if !run.success() {
        return Err(format!("qhub plugins list --json: {}", run.failure()));
    }
    let mine: Vec<Plugin> = serde_json::from_str(&run.stdout)
        .map_err(|e| format!("qhub plugins list --json: not a list of plugins: {e}"))?;
    Ok(plugins::compare(&mine, &server))
}

fn whoami(local: &LocalQhub, url: &str, email: &str) -> Result<String, String> {
    let run = local.run(&["--server", url, "--json", "whoami"], None)?;
    if !run.success() {
        return Err(run.failure());
    }
    let profile: serde_json::Value = serde_json::from_str(&run.stdout)
        .map_err(|e| format!("qhub whoami --json printed no JSON ({e}): {}", run.stdout))?;
    if profile["email"] == email {
        Ok(format!("{email}, user id {}", profile["id"]))
    } else {
        Err(format!(
            "qhub whoami answered {profile}, expected the account {email}"
        ))
    }
}

/// A small blocking HTTP client (reqwest on a private single-threaded runtime),
/// with rustls and time limits, so a hung server fails the check instead of the job.
struct Http {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
}

impl Http {
    fn new() -> Result<Http, String> {
        // Err means a provider is installed already, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start an async runtime: {e}"))?;
        let client = reqwest::Client::builder()
            .user_agent(concat!("qhub-smoke/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| format!("cannot make an HTTP client: {e}"))?;
        Ok(Http { runtime, client })
    }

    /// `GET url`: the status and the body as JSON.
    fn get_json(&self, url: &str) -> Result<(u16, serde_json::Value), String> {
        self.runtime.block_on(async {
            let response = self
                .client
                .get(url)
                .send()
                .await
                .map_err(|e| format!("GET {url}: {}", error_chain(&e)))?;
            let status = response.status().as_u16();
            let body = response
                .text()
                .await
                .map_err(|e| format!("GET {url}: reading the body: {e}"))?;
            let json = serde_json::from_str(&body).map_err(|_| {
                let start: String = body.chars().take(120).collect();
                format!("GET {url} answered {status} with a body that is not JSON: {start:?}")
            })?;
            Ok((status, json))
        })
    }
}

/// An error and its causes on one line (reqwest's own message says little:
/// "error sending request").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        line.push_str(": ");
        line.push_str(&cause.to_string());
        source = cause.source();
    }
    line
}

/// `bytes` random bytes as lowercase hex.
fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).expect("the operating system provides randomness");
    hex::encode(buffer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_is_one_line_of_status_name_and_detail() {
        let check = Check {
            name: "whoami",
            status: Status::Failed,
            detail: "exit code 3: error: invalid token".into(),
        };
        assert_eq!(
            check.to_string(),
            "FAILED  whoami   exit code 3: error: invalid token"
        );
    }

    #[test]
    fn random_values_differ_and_have_the_asked_length() {
        let (a, b) = (random_hex(8), random_hex(8));
        assert_eq!(a.len(), 16);
        assert_ne!(a, b);
    }
}
