//! Project automation, run as `cargo xtask <task>` (see `.cargo/config.toml`).

mod bench;
mod build_plugins;
mod build_worker;
mod man;
mod new_plugin;
mod progress;
mod smoke;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <task>

tasks:
  build-plugins [--out DIR]   build every plugin under plugins/ for wasm32-wasip2 (profile plugin)
                              and write NAME.wasm + NAME.plugin.toml into DIR
                              (default: target/plugins/dist)
  new-plugin oauth NAME [--path DIR]
                              scaffold an OAuth provider plugin crate at plugins/NAME
                              (a workspace member) or DIR (a standalone crate)
  build-worker [--out DIR]    build the plugins, transpile the Worker's four (auth,
                              store-d1, oauth-oidc, oauth-github) with jco into DIR
                              (default: target/worker), check they are the native host's
                              components (sha256), report the bundle size
  man [--out DIR]             write the man pages (qhub.1, qhub-login.1, ...) into DIR
                              (default: target/man), with `qhub man`
  bench [--no-worker] [--seconds N] [--out DIR]
                              build qhub, the benchmark and the Worker in release, then
                              measure each figure beside a native baseline of the same
                              run (Argon2id, start-up, GET /v1/me, sign-ins under load,
                              the Worker); a table on stdout, JSON in target/bench
  smoke URL [--qhub PATH] [--json]
                              check a deployed server or Worker: /healthz, /v1/plugins
                              against the local build's sha256, then register, whoami
                              and delete a throw-away account with the local qhub
                              (default: built with cargo build --package qhub)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("build-plugins") => build_plugins::run(&args[1..]),
        Some("build-worker") => build_worker::run(&args[1..]),
        Some("new-plugin") => new_plugin::run(&args[1..]),
        Some("man") => man::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("smoke") => smoke::run(&args[1..]),
        Some("-h" | "--help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => {
            eprintln!("error: unknown task {other:?}\n\n{USAGE}");
            return ExitCode::from(2);
        }
        None => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: xtask lives one level below it.
fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is inside the workspace")
        .to_path_buf()
}

#[cfg(test)]
mod tests {
    /// The help names every plugin `build-worker` transpiles, so it cannot fall
    /// behind the Worker's list again.
    #[test]
    fn build_worker_help_names_every_worker_plugin() {
        let help = super::USAGE.replace(char::is_whitespace, " ");
        let all = qhub_worker_build::PLUGINS
            .iter()
            .chain(qhub_worker_build::PROVIDER_PLUGINS);
        for plugin in all {
            assert!(help.contains(plugin), "build-worker's help lacks {plugin}");
        }
        let count = qhub_worker_build::PLUGINS.len() + qhub_worker_build::PROVIDER_PLUGINS.len();
        assert!(
            help.contains("Worker's four"),
            "{count} plugins: update the help"
        );
        assert_eq!(count, 4);
    }
}
