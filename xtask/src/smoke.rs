//! `cargo xtask smoke URL [--qhub PATH] [--json]`: the post-deploy smoke test of a
//! QHub server or Worker (the checks are in the `qhub-smoke` crate, which the test
//! suite runs against a local `qhub serve` and `wrangler dev`).

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, bail};

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let mut url = None;
    let mut qhub = None;
    let mut json = false;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--qhub" => qhub = Some(PathBuf::from(args.next().context("--qhub needs a path")?)),
            "--json" => json = true,
            other if other.starts_with('-') => bail!("unknown option {other:?} for smoke"),
            other if url.is_none() => url = Some(other.to_owned()),
            other => bail!("unexpected argument {other:?}: smoke takes one URL"),
        }
    }
    let Some(url) = url else {
        bail!(
            "smoke needs the server's URL\nhint: cargo xtask smoke https://qhub.example.workers.dev"
        );
    };
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        bail!("{url:?} is not an http:// or https:// URL");
    }
    let qhub = match qhub {
        Some(path) => path,
        None => build_qhub()?,
    };

    let options = qhub_smoke::Options { url, qhub };
    let report = qhub_smoke::run(&options, &mut |check| {
        if !json {
            println!("{check}");
        }
    });
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    match report.first_failure() {
        None => Ok(()),
        Some(check) => bail!(
            "smoke check {:?} failed against {}: {}{}",
            check.name,
            report.url,
            check.detail,
            if report.failed.len() > 1 {
                format!(" (failed: {})", report.failed.join(", "))
            } else {
                String::new()
            }
        ),
    }
}

/// Builds the local `qhub` (debug, as `cargo run -p qhub` does) and returns its
/// path. Its embedded plugins are those of the shared plugin build
/// (`target/plugins/dist`), which `cargo xtask build-worker` transpiles too.
fn build_qhub() -> anyhow::Result<PathBuf> {
    let root = crate::workspace_root();
    eprintln!("building the local qhub (cargo build --package qhub)...");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(&cargo)
        .args(["build", "--quiet", "--package", "qhub"])
        .current_dir(&root)
        .status()
        .context("cannot run cargo")?;
    if !status.success() {
        bail!("cargo build --package qhub failed ({status})");
    }
    Ok(root.join("target/debug/qhub"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smoke(args: &[&str]) -> String {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        format!("{:#}", run(&args).expect_err("the smoke test fails"))
    }

    #[test]
    fn a_failed_smoke_test_names_its_first_failed_check() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("its address")
            .port();
        let url = format!("http://127.0.0.1:{port}/");
        let error = smoke(&[&url, "--qhub", "/nonexistent/qhub", "--json"]);
        assert!(
            error.starts_with(&format!(
                "smoke check \"healthz\" failed against http://127.0.0.1:{port}: GET "
            )),
            "{error}"
        );
        assert!(
            error.ends_with(" (failed: healthz, plugins, register)"),
            "{error}"
        );
    }

    #[test]
    fn arguments_are_checked_before_anything_runs() {
        assert!(smoke(&[]).contains("hint: cargo xtask smoke https://"));
        assert!(smoke(&["qhub.example"]).contains("is not an http:// or https:// URL"));
        assert!(smoke(&["http://a", "http://b"]).contains("smoke takes one URL"));
        assert!(smoke(&["http://a", "--force"]).contains("unknown option \"--force\""));
    }
}
