//! `wrangler dev` as a child process: the Worker on real workerd with a local D1,
//! migrated, on a loopback port. The end-to-end tests and `cargo xtask bench`
//! start it through here, so both run the Worker the way a developer does.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long `wrangler dev` may take to answer its first request.
const STARTUP: Duration = Duration::from_secs(90);

/// Why the Worker could not be started.
#[derive(Debug, thiserror::Error)]
pub enum DevError {
    #[error(
        "wrangler is not installed (no {0})\nhint: run `npm ci` at the repository root (Node.js 20 or later)"
    )]
    NoWrangler(PathBuf),
    #[error("{0}")]
    Io(String),
    #[error(transparent)]
    Npm(#[from] crate::NpmError),
    #[error("wrangler.toml: {0}")]
    Config(String),
    #[error("wrangler could not apply the D1 migrations:\n{0}")]
    Migrate(String),
    #[error("wrangler dev exited ({status}):\n{log}")]
    Exited { status: String, log: String },
    #[error("wrangler dev did not answer on {url} within {secs} s:\n{log}")]
    Timeout { url: String, secs: u64, log: String },
}

fn io(what: &str) -> impl FnOnce(std::io::Error) -> DevError + '_ {
    move |e| DevError::Io(format!("{what}: {e}"))
}

/// A running `wrangler dev` in its own process group; dropping it stops wrangler
/// and the workerd it started.
#[derive(Debug)]
pub struct DevServer {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
    /// The process that stops wrangler when this process ends, if asked for
    /// ([`DevServer::stop_when_this_process_ends`]).
    watchdog: Option<Child>,
}

/// The watchdog's script: `$1` is wrangler's pid (also its process group), `$2`
/// the temporary folder to remove. `read` returns only at the end of its input, a
/// pipe whose writing end only the test process holds: when that process ends, in
/// whatever way, the kernel closes it. Then the same steps as [`DevServer`]'s drop:
/// SIGTERM to wrangler alone (never to its group), a wait, SIGKILL to what is left
/// (procps `kill`, which takes a negative process group; dash's builtin does not).
const WATCHDOG: &str = r#"
while read -r _; do :; done
kill -TERM "$1" 2>/dev/null
i=0
while kill -0 "$1" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
env kill -KILL -- "-$1" 2>/dev/null
rm -rf -- "$2"
"#;

impl DevServer {
    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The workerd processes under wrangler, for reading their CPU time: the one
    /// that runs the Worker's isolate, and the others (wrangler's entry proxy on the
    /// dev port, which also hosts the local D1 simulator). Returns (worker, others).
    pub fn workerd_pids(&self) -> (Vec<u32>, Vec<u32>) {
        let entry = format!("entry={}", self.url.trim_start_matches("http://"));
        descendants(self.child.id())
            .into_iter()
            .filter(|pid| command_name(*pid).is_some_and(|name| name.contains("workerd")))
            .partition(|pid| {
                let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                !String::from_utf8_lossy(&cmdline).contains(&entry)
            })
    }

    /// What wrangler and the Worker printed so far (`console.error` included).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("wrangler.log")).unwrap_or_default()
    }

    /// Makes sure this Worker stops when the current process ends, even if this
    /// value is never dropped: for a server kept in a `static` (a test binary's
    /// shared Worker), whose drop never runs, or a process that is killed. A small
    /// watchdog process (`sh`, in its own process group so that a Ctrl-C does not
    /// end it first) waits for this process to end, then stops wrangler as the drop
    /// would and removes its temporary folder.
    pub fn stop_when_this_process_ends(&mut self) -> Result<(), DevError> {
        if self.watchdog.is_some() {
            return Ok(());
        }
        let watchdog = Command::new("sh")
            .args(["-c", WATCHDOG, "qhub-wrangler-watchdog"])
            .arg(self.child.id().to_string())
            .arg(self.dir.path())
            // The writing end stays in this process (in `Child::stdin`), and is
            // closed on exec, so no other child keeps it open.
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(io("cannot start sh to watch over wrangler"))?;
        self.watchdog = Some(watchdog);
        Ok(())
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        // The watchdog (ours, so killed by its pid) must not act on a pid that the
        // steps below are about to free.
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
        // SIGTERM to wrangler alone: it stops its workerd processes itself. Never
        // SIGTERM the whole group: one of wrangler's processes answers that by
        // signalling every process it may (on a root machine, all of them).
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Whatever is left of the group is killed outright (no handler runs).
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.wait();
    }
}

/// Starts the Worker whose bundle is in `bundle` (index.js, as [`crate::build`]
/// writes it) with the D1 binding and migrations of `root/wrangler.toml`, on a
/// fresh local D1 with the migrations applied, and `vars` as its environment
/// (secrets included: locally they are plain bindings). Waits until it answers.
pub fn start(root: &Path, bundle: &Path, vars: &[(&str, &str)]) -> Result<DevServer, DevError> {
    crate::ensure_packages(root)?;
    let wrangler = root.join("node_modules/wrangler/bin/wrangler.js");
    if !wrangler.is_file() {
        return Err(DevError::NoWrangler(wrangler));
    }
    let dir = tempfile::tempdir().map_err(io("cannot make a temporary folder"))?;
    let config = write_config(root, bundle, dir.path())?;
    let state = dir.path().join("state");
    let node = |args: &[&str]| {
        let mut command = Command::new("node");
        command
            .arg(&wrangler)
            .args(args)
            .arg("--config")
            .arg(&config)
            .arg("--persist-to")
            .arg(&state)
            .current_dir(dir.path())
            .env("WRANGLER_SEND_METRICS", "false")
            // No prompts: wrangler asks before applying migrations on a terminal.
            .env("CI", "true")
            .env("XDG_CONFIG_HOME", dir.path().join("xdg"))
            .stdin(Stdio::null());
        command
    };

    let migrate = node(&["d1", "migrations", "apply", "DB", "--local"])
        .output()
        .map_err(io("cannot run node (install Node.js 20 or later)"))?;
    if !migrate.status.success() {
        return Err(DevError::Migrate(format!(
            "{}{}",
            String::from_utf8_lossy(&migrate.stdout),
            String::from_utf8_lossy(&migrate.stderr)
        )));
    }

    let port = free_port()?;
    let inspector = free_port()?;
    let log = std::fs::File::create(dir.path().join("wrangler.log"))
        .map_err(io("cannot create wrangler.log"))?;
    let mut command = node(&["dev", "--ip", "127.0.0.1"]);
    command
        .args(["--port", &port.to_string()])
        .args(["--inspector-port", &inspector.to_string()])
        .args(["--show-interactive-dev-session=false"])
        .stdout(log.try_clone().map_err(io("wrangler.log"))?)
        .stderr(log)
        .process_group(0);
    for (name, value) in vars {
        command.arg("--var").arg(format!("{name}:{value}"));
    }
    let child = command
        .spawn()
        .map_err(io("cannot run node (install Node.js 20 or later)"))?;
    let mut server = DevServer {
        child,
        url: format!("http://127.0.0.1:{port}"),
        dir,
        watchdog: None,
    };
    wait_until_ready(&mut server, port)?;
    Ok(server)
}

/// `root/wrangler.toml` with `main` pointed at `bundle`, the build step removed
/// (the bundle is built already) and paths made absolute, written into `dir`.
pub fn write_config(root: &Path, bundle: &Path, dir: &Path) -> Result<PathBuf, DevError> {
    let text = std::fs::read_to_string(root.join("wrangler.toml"))
        .map_err(|e| DevError::Config(e.to_string()))?;
    let mut config: toml::Table =
        toml::from_str(&text).map_err(|e| DevError::Config(e.to_string()))?;
    config.remove("build");
    config.insert(
        "main".into(),
        bundle.join("index.js").display().to_string().into(),
    );
    let databases = config
        .get_mut("d1_databases")
        .and_then(|v| v.as_array_mut())
        .ok_or_else(|| DevError::Config("no [[d1_databases]] binding".into()))?;
    for db in databases.iter_mut().filter_map(|db| db.as_table_mut()) {
        if let Some(migrations) = db.get("migrations_dir").and_then(|m| m.as_str()) {
            let absolute = root.join(migrations).display().to_string();
            db.insert("migrations_dir".into(), absolute.into());
        }
    }
    let path = dir.join("wrangler.toml");
    let text = toml::to_string(&config).map_err(|e| DevError::Config(e.to_string()))?;
    std::fs::write(&path, text).map_err(io("cannot write wrangler.toml"))?;
    Ok(path)
}

/// A free loopback port (the listener is dropped, so a tiny race is possible).
fn free_port() -> Result<u16, DevError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(io("cannot find a free loopback port"))
}

/// Polls until the Worker's script answers (see [`healthy`]).
fn wait_until_ready(server: &mut DevServer, port: u16) -> Result<(), DevError> {
    let started = Instant::now();
    loop {
        if let Ok(Some(status)) = server.child.try_wait() {
            return Err(DevError::Exited {
                status: status.to_string(),
                log: server.log(),
            });
        }
        if healthy(port) {
            return Ok(());
        }
        if started.elapsed() > STARTUP {
            return Err(DevError::Timeout {
                url: server.url.clone(),
                secs: STARTUP.as_secs(),
                log: server.log(),
            });
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Whether `GET /v1/plugins` answers 200 (plain HTTP/1.1, so polling needs no
/// runtime; only the status line is read, as the server may keep the connection
/// open). The Worker's own script answers that route without the account core,
/// so a Worker whose core refuses its configuration (a test of exactly that) is
/// up too; every other route then says what is wrong.
fn healthy(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = "GET /v1/plugins HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = [0; 12];
    stream.read_exact(&mut answer).is_ok() && answer.starts_with(b"HTTP/1.1 200")
}

/// Every descendant of `pid`, from /proc.
fn descendants(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let mut queue = vec![pid];
    while let Some(parent) = queue.pop() {
        let children = std::fs::read_to_string(format!("/proc/{parent}/task/{parent}/children"))
            .unwrap_or_default();
        for child in children.split_whitespace().filter_map(|c| c.parse().ok()) {
            found.push(child);
            queue.push(child);
        }
    }
    found
}

fn command_name(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|s| s.trim().to_owned())
}
