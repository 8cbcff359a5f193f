//! The measured scenarios, in the order they run, and the report they make.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, PasswordHash, Version};

use crate::load;
use crate::procfs;
use crate::report::{Figure, Goal, Report, Section};
use crate::served::{self, Served};

/// What to run and where to write.
#[derive(Debug)]
pub struct Options {
    /// The `qhub` binary (release).
    pub qhub: PathBuf,
    /// The Worker bundle (`cargo xtask build-worker`'s output), or `None` to skip
    /// the Worker.
    pub worker_bundle: Option<PathBuf>,
    /// Where `bench.json` and `bench.md` go.
    pub out: PathBuf,
    /// How long each load phase runs, in seconds.
    pub seconds: f64,
}

/// Accounts made for the sign-in load (one per connection, so that no account's
/// own sign-in limit is what is measured), plus one for the session checks.
const SIGN_IN_CONNECTIONS: usize = 16;
const CHECKER: usize = SIGN_IN_CONNECTIONS;
/// Connections sending session checks while sign-ins are in flight.
const CHECK_CONNECTIONS: usize = 4;
/// Samples of the native Argon2id hash and verification.
const NATIVE_SAMPLES: usize = 10;
/// Runs of each command in the start-up figure, in rounds alternating the two.
const STARTUP_ROUNDS: usize = 3;
const STARTUP_RUNS_PER_ROUND: usize = 20;
/// Sequential requests for the CPU-per-request figures of the Worker.
const WORKER_LOGINS: usize = 20;
const WORKER_REQUESTS: usize = 200;

/// The parameters of QHub's hashes (plugins/auth/src/password.rs, OWASP's
/// minimum for Argon2id).
fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, Some(32)).expect("valid Argon2id parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Mean thread CPU time of a native Argon2id hash and of a verification, in ms.
fn native_argon2() -> anyhow::Result<(f64, f64)> {
    let argon2 = argon2();
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| anyhow::anyhow!("no randomness for a salt: {e}"))?;
    let hash = || {
        argon2
            .hash_password_with_salt(served::PASSWORD.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| anyhow::anyhow!("native hash: {e}"))
    };
    // One round unmeasured, so the allocator and the caches are as warm as the
    // server's (its pool slots keep their pages), then hashes and verifications
    // alternate, so drift in the machine's speed reaches both alike.
    let stored = hash()?;
    let parsed = PasswordHash::new(&stored).map_err(|e| anyhow::anyhow!("native hash: {e}"))?;
    let verify = || {
        argon2
            .verify_password(served::PASSWORD.as_bytes(), &parsed)
            .map_err(|e| anyhow::anyhow!("native verify: {e}"))
    };
    verify()?;
    let (mut hashing, mut verifying) = (0.0, 0.0);
    for _ in 0..NATIVE_SAMPLES {
        let started = procfs::thread_cpu_ms();
        hash()?;
        let between = procfs::thread_cpu_ms();
        verify()?;
        hashing += between - started;
        verifying += procfs::thread_cpu_ms() - between;
    }
    let samples = NATIVE_SAMPLES as f64;
    Ok((hashing / samples, verifying / samples))
}

/// Runs every scenario, prints the table and writes `bench.json` and `bench.md`.
pub async fn run(options: Options) -> anyhow::Result<()> {
    // Checked before minutes of measuring, not after.
    if let Some(bundle) = &options.worker_bundle {
        repository_of(bundle)?;
    }
    let date = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let machine = crate::report::machine();
    eprintln!("benchmark on {machine}");
    let home = tempfile::tempdir()?;
    let mut sections = Vec::new();

    eprintln!("starting qhub serve...");
    let qhub = Served::qhub(&options.qhub, home.path())?;
    let idle_rss = procfs::peak_rss_mib(qhub.pid())?;
    let client = load::client();

    // Argon2id: registrations hash once, logins verify once.
    eprintln!("Argon2id: native, then through qhub serve...");
    let (native_hash, native_verify) = tokio::task::spawn_blocking(native_argon2).await??;
    let before = qhub.cpu_ms()?;
    let mut tokens = Vec::new();
    for n in 0..=CHECKER {
        tokens.push(served::register(&client, &qhub.url, n).await?);
    }
    let register = (qhub.cpu_ms()? - before) / (CHECKER + 1) as f64;
    let before = qhub.cpu_ms()?;
    for n in 0..=CHECKER {
        served::login(&client, &qhub.url, n).await?;
    }
    let login = (qhub.cpu_ms()? - before) / (CHECKER + 1) as f64;
    sections.push(Section {
        title: "Argon2id in the account core (m=19456 KiB, t=2, p=1)".into(),
        figures: vec![
            Figure::new(
                "registration, server CPU (one hash)",
                "ms",
                register,
                "native argon2 hash",
                native_hash,
                Some(Goal::AtMost(1.2)),
            ),
            Figure::new(
                "login, server CPU (one verification)",
                "ms",
                login,
                "native argon2 verify",
                native_verify,
                Some(Goal::AtMost(1.2)),
            ),
        ],
        notes: vec![
            "QHub's figures are the whole request's CPU in `qhub serve` (HTTP, JSON, SQL, the \
             plugin call and the hash), so they bound the hash's cost inside the component from above."
                .into(),
        ],
    });

    sections.push(startup(&options.qhub).await?);

    let token = tokens[CHECKER].clone();
    let baseline = Served::baseline(&home.path().join("server.db"))?;
    sections.push(requests(&qhub, &baseline, &token, options.seconds).await?);
    drop(baseline);

    sections.push(
        sign_ins(
            &qhub,
            &token,
            native_verify,
            idle_rss,
            options.seconds.max(5.0),
        )
        .await?,
    );
    drop(qhub);

    if let Some(bundle) = &options.worker_bundle {
        sections.push(worker(&options.qhub, bundle).await?);
    }

    let report = Report {
        date,
        machine,
        sections,
    };
    let table = report.table();
    println!("{table}");
    std::fs::create_dir_all(&options.out)?;
    let json = options.out.join("bench.json");
    std::fs::write(&json, serde_json::to_string_pretty(&report)?)?;
    std::fs::write(options.out.join("bench.md"), &table)?;
    eprintln!("written: {} and bench.md beside it", json.display());
    Ok(())
}

/// `qhub whoami` (embedded, warm cache) against `qhub --version`, whole process:
/// the median wall time and the mean CPU time of one run, over `STARTUP_ROUNDS`
/// rounds that alternate the two commands.
async fn startup(qhub: &std::path::Path) -> anyhow::Result<Section> {
    eprintln!("start-up: qhub --version and qhub whoami (embedded, warm cache)...");
    let home = tempfile::tempdir()?;
    let run = |args: &[&str], stdin: Option<&str>| -> anyhow::Result<Duration> {
        let started = Instant::now();
        let mut child = std::process::Command::new(qhub)
            .args(args)
            .env("QHUB_HOME", home.path())
            .env_remove("QHUB_SERVER")
            .env_remove("QHUB_TOKEN")
            .env_remove("DATABASE_URL")
            .current_dir(home.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()?;
        if let Some(stdin) = stdin {
            use std::io::Write as _;
            child
                .stdin
                .take()
                .context("stdin is piped")?
                .write_all(stdin.as_bytes())?;
        }
        drop(child.stdin.take());
        let output = child.wait_with_output()?;
        let elapsed = started.elapsed();
        if !output.status.success() {
            bail!(
                "qhub {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(elapsed)
    };
    let email = served::email(0);
    run(
        &["register", "--email", &email, "--password-stdin"],
        Some(&format!("{}\n", served::PASSWORD)),
    )?;
    // Warm: the first command after registering may still settle the cache.
    run(&["whoami"], None)?;
    let commands: [&[&str]; 2] = [&["--version"], &["whoami"]];
    let mut walls = [Vec::new(), Vec::new()];
    let mut cpu = [0.0, 0.0];
    for _ in 0..STARTUP_ROUNDS {
        for (index, args) in commands.iter().enumerate() {
            let before = procfs::children_cpu_ms()?;
            for _ in 0..STARTUP_RUNS_PER_ROUND {
                walls[index].push(run(args, None)?);
            }
            cpu[index] += procfs::children_cpu_ms()? - before;
        }
    }
    let runs = (STARTUP_ROUNDS * STARTUP_RUNS_PER_ROUND) as f64;
    let median = |walls: &mut Vec<Duration>| {
        walls.sort_unstable();
        walls[walls.len() / 2].as_secs_f64() * 1e3
    };
    let (version_wall, whoami_wall) = (median(&mut walls[0]), median(&mut walls[1]));
    let (version_cpu, whoami_cpu) = (cpu[0] / runs, cpu[1] / runs);
    Ok(Section {
        title: "Start-up: `qhub whoami` (embedded SQLite, warm plugin cache), whole process".into(),
        figures: vec![
            Figure::new(
                "wall time (median)",
                "ms",
                whoami_wall,
                "qhub --version",
                version_wall,
                Some(Goal::AtMost(2.0)),
            ),
            Figure::new(
                "CPU time (mean)",
                "ms",
                whoami_cpu,
                "qhub --version",
                version_cpu,
                None,
            ),
        ],
        notes: vec![format!(
            "Goal also: whoami at most 5 ms wall: {:.1} ms, {}.",
            whoami_wall,
            if whoami_wall <= 5.0 {
                "met"
            } else {
                "**not met**"
            }
        )],
    })
}

/// `GET /v1/me` at 1 and 16 connections, `qhub serve` against the baseline.
async fn requests(
    qhub: &Served,
    baseline: &Served,
    token: &str,
    seconds: f64,
) -> anyhow::Result<Section> {
    let mut figures = Vec::new();
    for connections in [1, 16] {
        let mut results = Vec::new();
        for server in [qhub, baseline] {
            eprintln!("GET /v1/me, {connections} connection(s), {}...", server.url);
            served::me(&load::client(), &server.url, token).await?;
            let url = server.url.clone();
            let token = token.to_owned();
            let request: Arc<load::Request> =
                Arc::new(move |client, _| served::me_request(client, &url, &token));
            // Warm-up, then the measured run.
            load::run(connections, Duration::from_millis(500), request.clone()).await?;
            let before = server.cpu_ms()?;
            let outcome = load::run(connections, Duration::from_secs_f64(seconds), request).await?;
            let cpu = (server.cpu_ms()? - before) / outcome.ok as f64;
            if outcome.shed > 0 {
                bail!(
                    "{}: {} session checks were refused under a plain load",
                    server.url,
                    outcome.shed
                );
            }
            results.push((cpu, outcome));
        }
        let (qhub_cpu, qhub_load) = &results[0];
        let (base_cpu, base_load) = &results[1];
        let native = "native axum + jsonwebtoken + sqlx";
        figures.push(Figure::new(
            format!("CPU per request, {connections} conn."),
            "ms",
            *qhub_cpu,
            native,
            *base_cpu,
            Some(Goal::AtMost(1.5)),
        ));
        figures.push(Figure::new(
            format!("requests/s, {connections} conn."),
            "req/s",
            qhub_load.per_second(),
            native,
            base_load.per_second(),
            None,
        ));
        figures.push(Figure::new(
            format!("p99 latency, {connections} conn."),
            "ms",
            qhub_load.latency_ms(0.99),
            native,
            base_load.latency_ms(0.99),
            None,
        ));
    }
    Ok(Section {
        title: "Authenticated request: `GET /v1/me` through `qhub serve` (SQLite)".into(),
        figures,
        notes: vec![
            "The baseline verifies the same HS256 token, reads the same session and user rows \
             from the same SQLite file, and answers the profile as JSON, with no plugin."
                .into(),
            "The load generator runs on the same machine and takes CPU from both alike; CPU per \
             request is the server process's own."
                .into(),
        ],
    })
}

/// Sign-ins at 16 connections against the bound, peak memory meanwhile, and
/// session checks while 2 and 16 sign-ins are in flight against unloaded.
async fn sign_ins(
    qhub: &Served,
    token: &str,
    native_verify_ms: f64,
    idle_rss: f64,
    seconds: f64,
) -> anyhow::Result<Section> {
    let duration = Duration::from_secs_f64(seconds);
    let url = qhub.url.clone();
    let sign_in: Arc<load::Request> =
        Arc::new(move |client, n| served::login_request(client, &url, n));
    let url = qhub.url.clone();
    let token = token.to_owned();
    let check: Arc<load::Request> =
        Arc::new(move |client, _| served::me_request(client, &url, &token));

    eprintln!("sign-ins at {SIGN_IN_CONNECTIONS} connections...");
    let signed = load::run(SIGN_IN_CONNECTIONS, duration, sign_in.clone()).await?;
    let peak_rss = procfs::peak_rss_mib(qhub.pid())?;
    let cores = procfs::cores();
    let bound = cores as f64 * 1e3 / native_verify_ms;

    eprintln!("session checks alone, then beside 2 and 16 sign-ins...");
    let unloaded = load::run(CHECK_CONNECTIONS, duration, check.clone()).await?;
    let mut beside = Vec::new();
    for signing in [2, SIGN_IN_CONNECTIONS] {
        let (checks, _) = tokio::try_join!(
            load::run(CHECK_CONNECTIONS, duration, check.clone()),
            load::run(signing, duration, sign_in.clone()),
        )?;
        beside.push((signing, checks));
    }

    let mut figures = vec![Figure::new(
        format!("sign-ins/s, {SIGN_IN_CONNECTIONS} conn."),
        "/s",
        signed.per_second(),
        format!("bound: {cores} cores / native verify"),
        bound,
        Some(Goal::AtLeast(0.9)),
    )];
    for (signing, checks) in &beside {
        figures.push(Figure::new(
            format!("session checks/s beside {signing} sign-ins"),
            "req/s",
            checks.per_second(),
            "unloaded",
            unloaded.per_second(),
            Some(Goal::AtLeast(0.5)),
        ));
        figures.push(Figure::new(
            format!("session check p99 beside {signing} sign-ins"),
            "ms",
            checks.latency_ms(0.99),
            "unloaded",
            unloaded.latency_ms(0.99),
            Some(Goal::AtMost(5.0)),
        ));
    }
    figures.push(Figure::new(
        format!("peak RSS of qhub serve after {SIGN_IN_CONNECTIONS} conn. of sign-ins"),
        "MiB",
        peak_rss,
        "qhub serve at start",
        idle_rss,
        None,
    ));
    Ok(Section {
        title: "Sign-ins through `qhub serve` (SQLite)".into(),
        figures,
        notes: vec![format!(
            "{} sign-ins answered, {} refused with 503/429 (load shedding) at {SIGN_IN_CONNECTIONS} \
             connections; session checks use {CHECK_CONNECTIONS} connections (aim: 80% of unloaded).",
            signed.ok, signed.shed
        )],
    })
}

/// CPU per login and per `GET /v1/me`, one request at a time: the Worker's
/// isolate under `wrangler dev` against `qhub serve`.
async fn worker(qhub: &std::path::Path, bundle: &std::path::Path) -> anyhow::Result<Section> {
    eprintln!("starting qhub serve and the Worker under wrangler dev...");
    let home = tempfile::tempdir()?;
    let native = Served::qhub(qhub, home.path())?;
    let root = repository_of(bundle)?;
    let dev = qhub_worker_build::dev::start(root, bundle, &[("JWT_SECRET", served::JWT_SECRET)])?;
    let (isolate, others) = dev.workerd_pids();
    if isolate.is_empty() || others.is_empty() {
        bail!("cannot tell the Worker's workerd process from wrangler's proxy");
    }
    let native_pid = [native.pid()];
    let (native_login, native_request) = sequential(&native.url, &native_pid).await?;
    let (worker_login, worker_request) = sequential(dev.url(), &isolate).await?;
    let all: Vec<u32> = isolate.iter().chain(&others).copied().collect();
    let (all_login, all_request) = sequential(dev.url(), &all).await?;
    Ok(Section {
        title: "The Worker (workerd under `wrangler dev`, local D1) against `qhub serve`".into(),
        figures: vec![
            Figure::new(
                "CPU per login, the isolate's process",
                "ms",
                worker_login,
                "qhub serve",
                native_login,
                None,
            ),
            Figure::new(
                "CPU per authenticated request, the isolate's process",
                "ms",
                worker_request,
                "qhub serve",
                native_request,
                Some(Goal::AtMost(2.0)),
            ),
        ],
        notes: vec![
            format!(
                "All of workerd (adding wrangler's local proxy and D1 simulator, which a deployed \
                 Worker does not pay for): {all_login:.1} ms per login, {all_request:.2} ms per request."
            ),
            "Workers' CPU limit: 10 ms per request on the Free plan, 30 s by default on Paid."
                .into(),
        ],
    })
}

/// The repository a Worker bundle was built in (the folder above it holding
/// `wrangler.toml`), whose D1 migrations `wrangler dev` applies. The bundle's own
/// `wrangler.toml` (`cargo xtask build-worker` writes one for its dry run) is not
/// the repository's.
fn repository_of(bundle: &std::path::Path) -> anyhow::Result<&std::path::Path> {
    bundle
        .ancestors()
        .skip(1)
        .find(|dir| dir.join("wrangler.toml").is_file())
        .with_context(|| {
            format!(
                "the Worker bundle {} is not inside the repository (no wrangler.toml above it)",
                bundle.display()
            )
        })
}

/// Registers an account on `url` (a new one each call), then measures the CPU of
/// processes `pids` per login and per `GET /v1/me`, one request at a time.
async fn sequential(url: &str, pids: &[u32]) -> anyhow::Result<(f64, f64)> {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1000);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let client = load::client();
    let mut token = served::register(&client, url, n).await?;
    for _ in 0..3 {
        token = served::login(&client, url, n).await?;
        served::me(&client, url, &token).await?;
    }
    let before = procfs::processes_cpu_ms(pids)?;
    for _ in 0..WORKER_LOGINS {
        served::login(&client, url, n).await?;
    }
    let login = (procfs::processes_cpu_ms(pids)? - before) / WORKER_LOGINS as f64;
    let before = procfs::processes_cpu_ms(pids)?;
    for _ in 0..WORKER_REQUESTS {
        served::me(&client, url, &token).await?;
    }
    let request = (procfs::processes_cpu_ms(pids)? - before) / WORKER_REQUESTS as f64;
    Ok((login, request))
}
