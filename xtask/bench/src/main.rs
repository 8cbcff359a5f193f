//! `qhub-bench`: the figures of `cargo xtask bench`. Every figure of QHub is set
//! beside a baseline measured in the same run on the same machine, and reported
//! as a ratio, so that a noisy or slow machine moves both sides alike:
//!
//! - Argon2id in the account core (server CPU of a registration and of a login
//!   through `qhub serve`) against the same `argon2` crate, same parameters, natively;
//! - `qhub whoami` (embedded, warm cache) against `qhub --version`, whole process;
//! - `GET /v1/me` through `qhub serve` against a minimal native axum server doing
//!   the same check ([`baseline`]), at 1 and 16 connections;
//! - sign-ins per second at 16 connections against the bound (cores / CPU time of
//!   one native verification), and the peak memory of `qhub serve` meanwhile;
//! - session checks while 2 and 16 sign-ins are in flight against unloaded;
//! - the Worker (`wrangler dev`, workerd) against `qhub serve`, CPU per login and
//!   per authenticated request.
//!
//! `cargo xtask bench` builds everything in release and runs this; see the README.

mod baseline;
mod load;
mod procfs;
mod report;
mod scenarios;
mod served;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};

const USAGE: &str =
    "usage: qhub-bench --qhub PATH [--worker-bundle DIR | --no-worker] [--out DIR] [--seconds N]
       qhub-bench baseline-serve --database PATH   (JWT_SECRET in the environment)

Run through `cargo xtask bench`, which builds qhub and this in release first.";

/// What `qhub-bench` was asked to do.
#[derive(Debug)]
enum Task {
    Run(scenarios::Options),
    BaselineServe { database: PathBuf },
}

fn parse(args: &[String]) -> anyhow::Result<Task> {
    let mut args = args.iter();
    let value = |args: &mut std::slice::Iter<'_, String>, flag: &str| {
        args.next()
            .cloned()
            .with_context(|| format!("{flag} needs a value"))
    };
    if args.as_slice().first().map(String::as_str) == Some("baseline-serve") {
        args.next();
        let mut database = None;
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--database" => database = Some(PathBuf::from(value(&mut args, arg)?)),
                other => bail!("unknown option {other:?}\n\n{USAGE}"),
            }
        }
        return Ok(Task::BaselineServe {
            database: database.context("baseline-serve needs --database")?,
        });
    }
    let mut options = scenarios::Options {
        qhub: PathBuf::new(),
        worker_bundle: None,
        out: PathBuf::from("target/bench"),
        seconds: 3.0,
    };
    let mut worker = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--qhub" => options.qhub = PathBuf::from(value(&mut args, arg)?),
            // Absolute: Wrangler resolves the bundle's paths against its config file.
            "--worker-bundle" => {
                worker = Some(Some(std::path::absolute(value(&mut args, arg)?)?));
            }
            "--no-worker" => worker = Some(None),
            "--out" => options.out = PathBuf::from(value(&mut args, arg)?),
            "--seconds" => {
                options.seconds = value(&mut args, arg)?
                    .parse()
                    .context("--seconds takes a number")?;
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown option {other:?}\n\n{USAGE}"),
        }
    }
    if options.qhub.as_os_str().is_empty() {
        bail!("--qhub PATH is required\n\n{USAGE}");
    }
    // The servers run in temporary homes: a relative path must not change meaning.
    options.qhub = std::path::absolute(&options.qhub)?;
    options.worker_bundle = worker
        .context("give --worker-bundle DIR or --no-worker")?
        .map(std::path::absolute)
        .transpose()?;
    Ok(Task::Run(options))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // reqwest needs a process-wide TLS provider even for plain HTTP clients.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let result = parse(&args).and_then(|task| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async {
            match task {
                Task::Run(options) => scenarios::run(options).await,
                Task::BaselineServe { database } => {
                    let secret = std::env::var("JWT_SECRET").context("JWT_SECRET is not set")?;
                    baseline::serve(&database, &secret).await
                }
            }
        })
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
