//! The HTTP API against its own OpenAPI document: a bounded
//! [schemathesis](https://schemathesis.readthedocs.io) run with every check, on
//! `qhub serve` and on the Worker, anonymous, with a session and with an API key.
//! Schemathesis comes from PyPI, pinned, into a virtual environment under
//! `target/` that the first run creates (as the Node.js packages are installed
//! on first use).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::json;

use crate::harness::{PASSWORD, Qhub};
use crate::server::Server;

/// The schemathesis release the run is pinned to.
const VERSION: &str = "4.32.5";

/// Test cases per operation in the fuzzing phase (the coverage phase derives its
/// own from the schema; the stateful one is bounded by it too): enough for every
/// operation to see valid and invalid bodies, parameters and credentials, few
/// enough that both hosts' runs take 1.5 to 2.5 minutes on two cores.
const MAX_EXAMPLES: &str = "50";

/// The operations (`operationId` in openapi.json) after which the session that
/// called them may no longer work: sign-out, sign-out everywhere, deleting the
/// account, and revoking a session by id (schemathesis learns the caller's own
/// session id from `GET /v1/sessions` and revokes it).
const TOKEN_ENDING: [&str; 4] = ["logout", "logoutAll", "deleteAccount", "revokeSession"];

/// The `st` command of the pinned schemathesis, installed on first use.
fn schemathesis() -> &'static Path {
    static ST: OnceLock<PathBuf> = OnceLock::new();
    ST.get_or_init(|| install().unwrap_or_else(|e| panic!("{e}")))
}

/// Creates `target/ci-tools/schemathesis` (a virtual environment) with
/// [`VERSION`] in it, unless it holds that version already; an environment with
/// another version, or a broken one, is made again from nothing. Concurrent test
/// processes wait for one another on a lock file.
fn install() -> Result<PathBuf, String> {
    let tools = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../ci-tools");
    std::fs::create_dir_all(&tools)
        .map_err(|e| format!("cannot create {}: {e}", tools.display()))?;
    let lock_path = tools.join(".schemathesis.lock");
    let _lock = std::fs::File::create(&lock_path)
        .and_then(|lock| lock.lock().map(|()| lock))
        .map_err(|e| format!("cannot lock {}: {e}", lock_path.display()))?;
    let venv = tools.join("schemathesis");
    let python = venv.join("bin/python");
    let st = venv.join("bin/st");
    if installed_version(&python).as_deref() == Some(VERSION) {
        return Ok(st);
    }
    if venv.exists() {
        std::fs::remove_dir_all(&venv)
            .map_err(|e| format!("cannot remove {}: {e}", venv.display()))?;
    }
    let created = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .map_err(|e| {
            format!(
                "cannot run python3: {e}\nhint: install Python 3 with its venv module \
                 (apt-get install python3 python3-venv); schemathesis comes from PyPI"
            )
        })?;
    let package = format!("schemathesis=={VERSION}");
    let installed = created.success().then(|| {
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .arg(&package)
            .status()
    });
    let failure = match installed {
        None => format!(
            "cannot create a Python virtual environment in {} ({created})\n\
             hint: install the venv module (apt-get install python3-venv)",
            venv.display()
        ),
        Some(Err(e)) => format!("cannot run {}: {e}", python.display()),
        Some(Ok(status)) if !status.success() => format!(
            "cannot install {package} from PyPI into {} ({status})\n\
             hint: PyPI must be reachable; `python3 -m pip install {package}` in a \
             virtual environment shows why",
            venv.display()
        ),
        Some(Ok(_)) => match installed_version(&python) {
            Some(found) if found == VERSION => return Ok(st),
            found => format!(
                "{} holds schemathesis {found:?} after installing {package}",
                venv.display()
            ),
        },
    };
    // Nothing half-made is left for the next run to find.
    let _ = std::fs::remove_dir_all(&venv);
    Err(failure)
}

/// The version of schemathesis `python` imports, if any.
fn installed_version(python: &Path) -> Option<String> {
    let out = Command::new(python)
        .args([
            "-c",
            "import importlib.metadata as m; print(m.version('schemathesis'))",
        ])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// A new account on `server`, and its session token.
fn sign_up(server: &Server, name: &str) -> String {
    let body = json!({"email": server.email(name), "password": PASSWORD}).to_string();
    let (status, signed_in) = server.http("POST", "/v1/accounts", Some(&body), None);
    assert_eq!(status, 201, "{signed_in}");
    signed_in["token"].as_str().unwrap().to_owned()
}

/// One schemathesis run against `server` with `token` as the bearer credential
/// (none: anonymous); what it printed when it found a failure.
fn run(server: &Server, token: Option<&str>, extra: &[&str]) -> Result<(), String> {
    let workdir = tempfile::tempdir().unwrap();
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/cli/schemathesis.toml");
    let mut command = Command::new(schemathesis());
    command
        .arg("--config-file")
        .arg(config)
        .arg("run")
        .arg(format!(
            "{}/v1/openapi.json",
            server.url.trim_end_matches('/')
        ))
        .args(["--checks", "all"])
        // Every phase: the document's examples (none yet), the cases derived from
        // each schema's edges, random ones, and sequences that follow links
        // between operations (an id a response gave, used in the next request).
        .args(["--phases", "examples,coverage,fuzzing,stateful"])
        .args(["--max-examples", MAX_EXAMPLES])
        // The same cases every run (and no example database kept between runs):
        // a failure in CI is the one seen here.
        .arg("--generation-deterministic")
        // One request at a time: the server's load shedding (503) is tested
        // elsewhere, and two cores are shared with the rest of the suite.
        .args(["--workers", "1"])
        .arg("--no-color")
        .args(extra)
        // Its caches and reports stay out of the repository.
        .current_dir(workdir.path());
    if let Some(token) = token {
        command.args(["--header", &format!("Authorization: Bearer {token}")]);
    }
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run schemathesis: {e}"));
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        // Shown with `--nocapture`: what was tested, and the warnings.
        eprintln!("{report}");
        return Ok(());
    }
    Err(report)
}

/// Installs schemathesis (first, so that a machine without Python fails at once),
/// starts a server, then runs schemathesis against it (anonymous, with a session,
/// with an API key; each credential an account of its own) and gives one verdict
/// with every report.
fn finds_no_failure(start: impl FnOnce() -> Server) {
    schemathesis();
    let server = &start();
    let session = sign_up(server, "session");
    let owner = sign_up(server, "key-owner");
    let (status, key) = server.http(
        "POST",
        "/v1/keys",
        Some(&json!({"name": "schemathesis"}).to_string()),
        Some(&owner),
    );
    assert_eq!(status, 201, "{key}");
    let key = key["secret"].as_str().unwrap().to_owned();

    // The operations that end the session they are called with: run with the
    // other operations, the first of them would leave every later request of the
    // run a 401. With a session they run last, on an account of their own; an API
    // key may call none of them (403), and anonymous calls are 401.
    let ending = TOKEN_ENDING
        .map(|id| ["--exclude-operation-id", id])
        .concat();
    let last = TOKEN_ENDING
        .map(|id| ["--include-operation-id", id])
        .concat();
    let ended = sign_up(server, "session-ended");
    let mut reports = Vec::new();
    for (who, token, filters) in [
        ("anonymous", None, &[][..]),
        ("with a session", Some(session.as_str()), &ending[..]),
        (
            "with a session, the operations that end it",
            Some(ended.as_str()),
            &last[..],
        ),
        ("with an API key", Some(key.as_str()), &[][..]),
    ] {
        if let Err(report) = run(server, token, filters) {
            reports.push(format!("== schemathesis {who} found failures:\n{report}"));
        }
    }
    assert!(reports.is_empty(), "{}", reports.join("\n"));
}

/// `qhub serve` on PostgreSQL, the stricter of the two SQL families about text
/// (it refuses NUL); the Worker's D1 is SQLite.
#[test]
fn serve() {
    finds_no_failure(|| Server::start(Qhub::postgres()));
}

/// A Worker of its own: the anonymous run's failed sign-ins lock the client
/// address, which the shared Worker's other scenarios use too.
#[test]
fn worker() {
    finds_no_failure(Server::worker);
}
