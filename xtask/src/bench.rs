//! `cargo xtask bench`: builds `qhub`, the benchmark (`xtask/bench`) and, unless
//! `--no-worker`, the Worker bundle, all in release, then runs the benchmark. It
//! prints a table of every figure beside its baseline, measured in the same run,
//! as a ratio, and writes `target/bench/bench.json` and `bench.md`.

use std::process::Command;

use anyhow::{Context as _, bail};

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let root = crate::workspace_root();
    let mut worker = true;
    let mut forwarded = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--no-worker" => worker = false,
            "--seconds" | "--out" => {
                let value = args
                    .next()
                    .with_context(|| format!("{arg} needs a value"))?;
                forwarded.extend([arg.clone(), value.clone()]);
            }
            other => bail!("unknown option {other:?} for bench (see cargo xtask --help)"),
        }
    }

    let bundle = if worker {
        let bundle = crate::build_worker::build(&root)?;
        let dir = bundle.main.parent().context("index.js has a folder")?;
        Some(dir.to_path_buf())
    } else {
        None
    };

    eprintln!("building qhub and the benchmark in release...");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(&cargo);
    build
        .args([
            "build",
            "--release",
            "--package",
            "qhub",
            "--package",
            "qhub-bench",
        ])
        .current_dir(&root);
    // What `cargo run` set for xtask is not for this build (see leaks_into_child).
    for (key, _) in std::env::vars_os() {
        if key
            .to_str()
            .is_some_and(qhub_plugin_build::leaks_into_child)
        {
            build.env_remove(&key);
        }
    }
    let status = build.status().context("cannot run cargo")?;
    if !status.success() {
        bail!("cargo build --release failed ({status})");
    }

    let release = root.join("target/release");
    let mut bench = Command::new(release.join("qhub-bench"));
    bench
        .arg("--qhub")
        .arg(release.join("qhub"))
        .arg("--out")
        .arg(root.join("target/bench"))
        .args(&forwarded)
        .current_dir(&root);
    match &bundle {
        Some(dir) => bench.arg("--worker-bundle").arg(dir),
        None => bench.arg("--no-worker"),
    };
    let status = bench.status().context("cannot run qhub-bench")?;
    if !status.success() {
        bail!("the benchmark failed ({status})");
    }
    Ok(())
}
