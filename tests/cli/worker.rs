//! The Cloudflare Worker host under `wrangler dev` (real workerd, a local D1) for
//! the conformance suite, built once per test process from the very component
//! files the `qhub` binary embeds.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub(crate) use qhub_worker_build::dev::DevServer;

/// The repository root (this file is built from host/cli).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Builds the Worker once per process, from the plugins `qhub-bundled` built.
fn bundle() -> &'static Path {
    static BUNDLE: OnceLock<PathBuf> = OnceLock::new();
    BUNDLE.get_or_init(|| {
        let dist = Path::new(qhub_bundled::BUILD_DIR);
        // Per process, so concurrent test runs and `cargo xtask build-worker`
        // never write over each other; those of processes that have ended go.
        let runs = dist.join("../../worker-test");
        crate::harness::remove_dirs_of_ended_processes(&runs, "");
        let out = runs.join(std::process::id().to_string());
        let bundle = qhub_worker_build::build(&root(), dist, &out)
            .unwrap_or_else(|e| panic!("building the Worker failed: {e}"));
        bundle
            .main
            .parent()
            .expect("index.js has a folder")
            .to_owned()
    })
}

/// Starts the Worker on a fresh local D1 with `vars` as its environment.
pub(crate) fn start(vars: &[(&str, &str)]) -> DevServer {
    qhub_worker_build::dev::start(&root(), bundle(), vars)
        .unwrap_or_else(|e| panic!("the Worker did not start: {e}"))
}

/// The Worker this test process shares, started with `vars` on first use: one
/// `wrangler dev` for every scenario that can share it, instead of one each. A
/// `static` is never dropped, so a watchdog process stops wrangler and its workerd
/// when this process ends, however it ends (see
/// `DevServer::stop_when_this_process_ends`). Every caller must pass the same
/// `vars`: a caller that needs others fails loudly instead of silently getting a
/// Worker configured for someone else (it should `start` its own).
pub(crate) fn shared(vars: &[(&str, &str)]) -> &'static DevServer {
    static SHARED: OnceLock<(Vec<(String, String)>, DevServer)> = OnceLock::new();
    let owned = |vars: &[(&str, &str)]| -> Vec<(String, String)> {
        vars.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    let (started_with, server) = SHARED.get_or_init(|| {
        let mut server = start(vars);
        server
            .stop_when_this_process_ends()
            .unwrap_or_else(|e| panic!("cannot watch over the shared Worker: {e}"));
        (owned(vars), server)
    });
    assert_eq!(
        *started_with,
        owned(vars),
        "the shared Worker was started with other variables; start a Worker of your own"
    );
    server
}
