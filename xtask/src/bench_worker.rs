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
    let (isolate, others) = worker.workerd_pids();
    if isolate.is_empty() || others.is_empty() {
        bail!("cannot tell the Worker's workerd process from wrangler's proxy");
    }

    let native_cost = measure(
        "native qhub serve",
        &native.addr,
        &[vec![native.child.id()]],
    )?;
    let worker_addr = worker.url().trim_start_matches("http://").to_owned();
    let worker_cost = measure("Worker", &worker_addr, &[isolate, others])?;

    println!();
    println!(
        "{:<34} {:>12} {:>24}",
        "CPU time per", "login", "authenticated request"
    );
    let rows = [
        ("native qhub serve (baseline)", native_cost.total()),
        ("Worker: its isolate's process", worker_cost.part(0)),
        ("Worker: all of workerd", worker_cost.total()),
    ];
    for (name, (login, request)) in rows {
        println!("{name:<34} {login:>9.1} ms {request:>21.2} ms");
    }
    let (native_login, native_request) = native_cost.total();
    for (name, (login, request)) in &rows[1..] {
        println!(
            "{:<34} {:>11.2}x {:>23.2}x",
            format!("ratio, {}", name.trim_start_matches("Worker: ")),
            login / native_login,
            request / native_request
        );
    }
    println!(
        "\n\"all of workerd\" adds wrangler's local entry proxy and D1 simulator, which a deployed \
         Worker does not pay for;\nits isolate's process is the closer figure to Cloudflare's CPU time."
    );
    println!(
        "\nWorkers' CPU limit: 10 ms per request on the Free plan, 30 s by default (up to 5 min) on Paid."
    );
    Ok(())
}

/// CPU milliseconds per operation, per measured process group.
struct Cost {
    /// (login, request) for each group of processes, in the order given.
    parts: Vec<(f64, f64)>,
}

impl Cost {
    fn part(&self, index: usize) -> (f64, f64) {
        self.parts[index]
    }

    fn total(&self) -> (f64, f64) {
        self.parts
            .iter()
            .fold((0.0, 0.0), |(l, r), (pl, pr)| (l + pl, r + pr))
    }
}

/// Registers an account, then measures logins and `GET /v1/me` on `addr`, reading
/// the CPU time of each group of processes in `groups` around each batch.
fn measure(name: &str, addr: &str, groups: &[Vec<u32>]) -> anyhow::Result<Cost> {
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
    let snapshot = || {
        groups
            .iter()
            .map(|g| cpu_ms(g))
            .collect::<anyhow::Result<Vec<f64>>>()
    };
    let per = |before: &[f64], after: &[f64], n: u32| -> Vec<f64> {
        before
            .iter()
            .zip(after)
            .map(|(b, a)| (a - b) / f64::from(n))
            .collect()
    };
    let before = snapshot()?;
    for _ in 0..LOGINS {
        login()?;
    }
    let login_ms = per(&before, &snapshot()?, LOGINS);

    for _ in 0..WARMUP {
        http(addr, "GET", "/v1/me", None, Some(&token))?;
    }
    let before = snapshot()?;
    for _ in 0..REQUESTS {
        let (status, answer) = http(addr, "GET", "/v1/me", None, Some(&token))?;
        if status != 200 {
            bail!("{name}: whoami answered {status}: {answer}");
        }
    }
    let request_ms = per(&before, &snapshot()?, REQUESTS);
    let cost = Cost {
        parts: login_ms.into_iter().zip(request_ms).collect(),
    };
    let (login, request) = cost.total();
    eprintln!("{name}: {login:.1} ms per login, {request:.2} ms per request");
    Ok(cost)
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

/// One HTTP/1.1 request; returns the status and the body. The response is read by
/// its length (or chunks), not to the end of the stream: servers may keep the
/// connection open despite `Connection: close`.
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
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line)?;
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("not an HTTP status line: {status_line:?}"))?;
    let (mut length, mut chunked) = (None, false);
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse::<usize>().ok(),
            "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
            _ => {}
        }
    }
    let mut bytes = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let size = usize::from_str_radix(size.trim(), 16).context("a chunk size")?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk)?;
            if size == 0 {
                break;
            }
            bytes.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(length) = length {
        bytes.resize(length, 0);
        reader.read_exact(&mut bytes)?;
    }
    Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
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
