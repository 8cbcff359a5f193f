//! `cargo xtask bench-worker`: the CPU time the Worker spends per login and per
//! authenticated request, against the native `qhub serve` as the baseline measured
//! in the same run, with the same plugins, the same requests and the same machine.
//!
//! CPU time is read from /proc (user + system) of the serving process: workerd for
//! the Worker (it runs the Worker and the local D1 simulator), `qhub serve` for the
//! native host (it runs the plugins and SQLite). Both numbers therefore include
//! the database's share; Cloudflare bills the Worker without D1's, so the Worker's
//! figure is an upper bound of what its CPU limit sees.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};

const JWT_SECRET: &str = "bench-secret-that-is-at-least-32-bytes-long";
const PASSWORD: &str = "correct horse battery staple";

/// Samples per measured operation, after a short warm-up.
const LOGINS: u32 = 20;
const REQUESTS: u32 = 200;
const WARMUP: u32 = 5;

pub fn run(args: &[String]) -> anyhow::Result<()> {
    if let Some(other) = args.first() {
        bail!("unknown option {other:?} for bench-worker");
    }
    let root = crate::workspace_root();
    let bundle = crate::build_worker::build(&root)?;
    let bundle_dir = bundle.main.parent().context("index.js has a folder")?;

    eprintln!("building the native qhub (the baseline)...");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(&cargo)
        .args(["build", "--quiet", "--package", "qhub"])
        .current_dir(&root)
        .status()?;
    if !status.success() {
        bail!("cargo build --package qhub failed ({status})");
    }

    eprintln!("starting qhub serve and the Worker under wrangler dev...");
    let native = Native::start(&root.join("target/debug/qhub"))?;
    let worker = qhub_worker_build::dev::start(&root, bundle_dir, &[("JWT_SECRET", JWT_SECRET)])?;
    let workerd = worker.workerd_pids();
    if workerd.is_empty() {
        bail!("cannot find the workerd processes under wrangler dev");
    }

    let native_cost = measure("native qhub serve", &native.addr, &[native.child.id()])?;
    let worker_addr = worker.url().trim_start_matches("http://").to_owned();
    let worker_cost = measure("Worker (workerd)", &worker_addr, &workerd)?;

    println!();
    println!(
        "{:<28} {:>14} {:>22}",
        "CPU time per", "login", "authenticated request"
    );
    for (name, cost) in [
        ("native qhub serve (baseline)", &native_cost),
        ("Worker on workerd", &worker_cost),
    ] {
        println!(
            "{name:<28} {:>11.1} ms {:>19.2} ms",
            cost.login_ms, cost.request_ms
        );
    }
    println!(
        "{:<28} {:>13.2}x {:>21.2}x",
        "ratio Worker / native",
        worker_cost.login_ms / native_cost.login_ms,
        worker_cost.request_ms / native_cost.request_ms
    );
    println!(
        "\nWorkers' CPU limit: 10 ms per request on the Free plan, 30 s by default (up to 5 min) on Paid."
    );
    Ok(())
}

/// CPU milliseconds per operation.
struct Cost {
    login_ms: f64,
    request_ms: f64,
}

/// Registers an account, then measures logins and `GET /v1/me` on `addr`, reading
/// the CPU time of the processes `pids` around each batch.
fn measure(name: &str, addr: &str, pids: &[u32]) -> anyhow::Result<Cost> {
    let email = "bench@example.com";
    let body = format!(r#"{{"email":"{email}","password":"{PASSWORD}"}}"#);
    let (status, answer) = http(addr, "POST", "/v1/accounts", Some(&body), None)?;
    if status != 201 {
        bail!("{name}: register answered {status}: {answer}");
    }
    let login = || -> anyhow::Result<String> {
        let (status, answer) = http(addr, "POST", "/v1/sessions", Some(&body), None)?;
        if status != 200 {
            bail!("{name}: login answered {status}: {answer}");
        }
        let value: serde_json::Value = serde_json::from_str(&answer)?;
        Ok(value["token"].as_str().context("a token")?.to_owned())
    };
    let mut token = String::new();
    for _ in 0..WARMUP {
        token = login()?;
    }
    let before = cpu_ms(pids)?;
    for _ in 0..LOGINS {
        login()?;
    }
    let login_ms = (cpu_ms(pids)? - before) / f64::from(LOGINS);

    for _ in 0..WARMUP {
        http(addr, "GET", "/v1/me", None, Some(&token))?;
    }
    let before = cpu_ms(pids)?;
    for _ in 0..REQUESTS {
        let (status, answer) = http(addr, "GET", "/v1/me", None, Some(&token))?;
        if status != 200 {
            bail!("{name}: whoami answered {status}: {answer}");
        }
    }
    let request_ms = (cpu_ms(pids)? - before) / f64::from(REQUESTS);
    eprintln!("{name}: {login_ms:.1} ms per login, {request_ms:.2} ms per request");
    Ok(Cost {
        login_ms,
        request_ms,
    })
}

/// User plus system CPU time of processes, in milliseconds.
fn cpu_ms(pids: &[u32]) -> anyhow::Result<f64> {
    pids.iter().map(|pid| process_cpu_ms(*pid)).sum()
}

fn process_cpu_ms(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("cannot read /proc/{pid}/stat"))?;
    // The command name may hold spaces; the fields after it are plain.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .context("a /proc stat line")?
        .1
        .split_whitespace()
        .collect();
    let ticks: f64 = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
    // The kernel's USER_HZ is 100 on Linux.
    Ok(ticks * 10.0)
}

/// One HTTP/1.1 request; returns the status and the body.
fn http(
    addr: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
    token: Option<&str>,
) -> anyhow::Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr).with_context(|| format!("cannot reach {addr}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(token) = token {
        request.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    let body = body.unwrap_or("");
    request.push_str(&format!(
        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    stream.write_all(request.as_bytes())?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("an HTTP status line")?;
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    Ok((status, dechunk(body)))
}

/// Undoes `Transfer-Encoding: chunked` when the body looks chunked.
fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            return body.to_owned();
        };
        if size == 0 || after.len() < size {
            break;
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    if out.is_empty() { body.to_owned() } else { out }
}

/// `qhub serve` on a loopback port with a fresh QHUB_HOME.
struct Native {
    child: Child,
    addr: String,
    _home: TempHome,
}

impl Native {
    fn start(qhub: &Path) -> anyhow::Result<Native> {
        let home = TempHome::new()?;
        let mut child = Command::new(qhub)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("QHUB_HOME", &home.0)
            .env("JWT_SECRET", JWT_SECRET)
            .env_remove("DATABASE_URL")
            .current_dir(&home.0)
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot run {}", qhub.display()))?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().context("stdout is piped")?).read_line(&mut line)?;
        let addr = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("http://"))
            .with_context(|| format!("qhub serve printed no address: {line:?}"))?
            .to_owned();
        Ok(Native {
            child,
            addr,
            _home: home,
        })
    }
}

impl Drop for Native {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// A temporary QHUB_HOME, removed afterwards (xtask keeps its dependencies few).
struct TempHome(std::path::PathBuf);

impl TempHome {
    fn new() -> anyhow::Result<TempHome> {
        let path = std::env::temp_dir().join(format!("qhub-bench-{}", std::process::id()));
        std::fs::create_dir_all(&path)?;
        Ok(TempHome(path))
    }
}

impl Drop for TempHome {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dechunks_chunked_bodies_and_keeps_plain_ones() {
        assert_eq!(
            dechunk("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
            "hello world"
        );
        assert_eq!(dechunk("{\"a\":1}"), "{\"a\":1}");
    }
}
