//! The servers under measurement, each its own process so that its CPU time and
//! memory can be read apart from the load's: `qhub serve` on a fresh SQLite home,
//! and the native baseline ([`crate::baseline`]) on that same database.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::{Context as _, bail};
use reqwest::Client;

/// The token secret both servers share, so the baseline verifies `qhub serve`'s
/// tokens.
pub const JWT_SECRET: &str = "bench-secret-that-is-at-least-32-bytes-long";
/// Every benchmark account's password.
pub const PASSWORD: &str = "correct horse battery staple";

/// A server process on a loopback port, killed when dropped.
#[derive(Debug)]
pub struct Served {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Served {
    /// Starts `command` (stdout piped) and reads the `http://` address from its
    /// first line.
    fn start(mut command: Command, what: &str) -> anyhow::Result<Served> {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {what}"))?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().context("stdout is piped")?).read_line(&mut line)?;
        let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) else {
            let _ = child.kill();
            bail!("{what} printed no address: {line:?}");
        };
        Ok(Served {
            url: url.trim_end_matches('/').to_owned(),
            child,
        })
    }

    /// `qhub serve` with its home (and so its SQLite database) in `home`.
    pub fn qhub(qhub: &Path, home: &Path) -> anyhow::Result<Served> {
        let mut command = Command::new(qhub);
        command
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("QHUB_HOME", home)
            .env("JWT_SECRET", JWT_SECRET)
            .env_remove("DATABASE_URL")
            .env_remove("QHUB_LOG")
            .current_dir(home);
        Served::start(command, "qhub serve")
    }

    /// The native baseline over the SQLite database at `database`.
    pub fn baseline(database: &Path) -> anyhow::Result<Served> {
        let mut command = Command::new(std::env::current_exe()?);
        command
            .arg("baseline-serve")
            .arg("--database")
            .arg(database)
            .env("JWT_SECRET", JWT_SECRET);
        Served::start(command, "the native baseline server")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's CPU time so far, in milliseconds.
    pub fn cpu_ms(&self) -> anyhow::Result<f64> {
        crate::procfs::process_cpu_ms(self.pid())
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The n-th benchmark account's email.
pub fn email(n: usize) -> String {
    format!("bench{n}@example.com")
}

fn credentials(n: usize) -> serde_json::Value {
    serde_json::json!({ "email": email(n), "password": PASSWORD })
}

/// Reads a token from a 2xx answer, or fails with the answer.
async fn token_of(response: reqwest::Response, what: &str) -> anyhow::Result<String> {
    let status = response.status();
    let body = response.text().await?;
    if !status.is_success() {
        bail!("{what} answered {status}: {body}");
    }
    let value: serde_json::Value = serde_json::from_str(&body)?;
    Ok(value["token"]
        .as_str()
        .with_context(|| format!("{what} answered no token: {body}"))?
        .to_owned())
}

/// `POST /v1/accounts` for account `n`; its token.
pub async fn register(client: &Client, url: &str, n: usize) -> anyhow::Result<String> {
    let response = client
        .post(format!("{url}/v1/accounts"))
        .json(&credentials(n))
        .send()
        .await?;
    token_of(response, "register").await
}

/// `POST /v1/sessions` for account `n`; its token.
pub async fn login(client: &Client, url: &str, n: usize) -> anyhow::Result<String> {
    token_of(login_request(client, url, n).send().await?, "login").await
}

/// The request of a sign-in of account `n`.
pub fn login_request(client: &Client, url: &str, n: usize) -> reqwest::RequestBuilder {
    client
        .post(format!("{url}/v1/sessions"))
        .json(&credentials(n))
}

/// `GET /v1/me` with `token`, checked to answer 200.
pub async fn me(client: &Client, url: &str, token: &str) -> anyhow::Result<()> {
    let response = me_request(client, url, token).send().await?;
    let status = response.status();
    let body = response.text().await?;
    if status != reqwest::StatusCode::OK {
        bail!("GET /v1/me on {url} answered {status}: {body}");
    }
    Ok(())
}

/// The request of an authenticated `GET /v1/me`.
pub fn me_request(client: &Client, url: &str, token: &str) -> reqwest::RequestBuilder {
    client.get(format!("{url}/v1/me")).bearer_auth(token)
}
