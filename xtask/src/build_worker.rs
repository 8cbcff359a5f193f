//! `cargo xtask build-worker`: build the plugins, transpile the Worker's ones with
//! jco into `target/worker`, then let Wrangler bundle it (dry run) to report the
//! size Cloudflare would receive.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};

/// Workers' limits on a Worker's compressed size (developers.cloudflare.com,
/// "Workers limits": Free 3 MB, Paid 10 MB after compression).
const FREE_LIMIT_BYTES: f64 = 3.0 * 1024.0 * 1024.0;
const PAID_LIMIT_BYTES: f64 = 10.0 * 1024.0 * 1024.0;

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let root = crate::workspace_root();
    let mut out = root.join("target/worker");
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // Absolute: Wrangler resolves the bundle's paths against its config file,
            // which is written inside the bundle.
            "--out" => {
                let dir = args.next().context("--out needs a directory")?;
                out = std::path::absolute(dir)
                    .with_context(|| format!("--out {dir}: cannot make the path absolute"))?;
            }
            other => bail!("unknown option {other:?} for build-worker"),
        }
    }
    build_into(&root, &out)?;

    eprintln!("[3/3] bundling with wrangler (dry run)...");
    let wrangler = root.join("node_modules/wrangler/bin/wrangler.js");
    if !wrangler.is_file() {
        bail!(
            "wrangler is not installed (no {})\nhint: run `npm ci` at the repository root",
            wrangler.display()
        );
    }
    // A copy of wrangler.toml without its build step, which would run this task again.
    let config = qhub_worker_build::dev::write_config(&root, &out, &out)?;
    let spinner = crate::progress::spinner("wrangler deploy --dry-run");
    let output = Command::new("node")
        .arg(&wrangler)
        .args(["deploy", "--dry-run", "--config"])
        .arg(&config)
        .arg("--outdir")
        .arg(out.join("dist"))
        .current_dir(&root)
        .env("WRANGLER_SEND_METRICS", "false")
        .output()
        .context("cannot run node; install Node.js 20 or later");
    spinner.finish_and_clear();
    let output = output?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        bail!("wrangler could not bundle the Worker:\n{text}");
    }
    let Some(gzip) = gzip_kib(&text) else {
        bail!("wrangler did not report the upload size:\n{text}");
    };
    let bytes = gzip * 1024.0;
    println!(
        "bundle: {} ({gzip:.0} KiB compressed: {:.0}% of the Free plan's 3 MB, {:.0}% of the Paid plan's 10 MB)",
        out.display(),
        100.0 * bytes / FREE_LIMIT_BYTES,
        100.0 * bytes / PAID_LIMIT_BYTES
    );
    Ok(())
}

/// Builds the plugins and the Worker into `target/worker`, checking that the Worker
/// bundles the very components the native host loads.
pub fn build(root: &Path) -> anyhow::Result<qhub_worker_build::Bundle> {
    build_into(root, &root.join("target/worker"))
}

fn build_into(root: &Path, out: &Path) -> anyhow::Result<qhub_worker_build::Bundle> {
    let target_dir = root.join("target/plugins");
    let dist = target_dir.join("dist");
    qhub_plugin_build::ensure_target("rustc".as_ref(), "rustup".as_ref(), &mut |line| {
        eprintln!("{line}");
    })?;
    let plugins = qhub_plugin_build::discover(root)?;
    eprintln!(
        "[1/3] building {} plugins for wasm32-wasip2...",
        plugins.len()
    );
    crate::progress::build_plugins(root, &target_dir, &dist, &plugins)?;

    eprintln!("[2/3] transpiling the Worker's plugins with jco...");
    let mut bar = None;
    let bundle = qhub_worker_build::build_reporting(root, &dist, out, &mut |step| {
        let bar = bar.get_or_insert_with(|| crate::progress::bar(step.total, "plugins"));
        bar.set_position(step.index as u64 - 1);
        bar.set_message(crate::progress::transpiling_message(step.name));
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let bundle = bundle?;
    // `qhub_worker_build::build` refused any component whose bytes do not hash to
    // its manifest: these are the hashes `qhub plugins list` shows for the native
    // host, and that `GET /v1/plugins` answers on both hosts.
    for plugin in &bundle.plugins {
        println!(
            "{:<10} {:<8} sha256 {}  (the native host's component)",
            plugin.name, plugin.version, plugin.sha256
        );
    }

    Ok(bundle)
}

/// Reads "Total Upload: 1234.56 KiB / gzip: 456.78 KiB" from Wrangler's output.
fn gzip_kib(text: &str) -> Option<f64> {
    let line = text.lines().find(|l| l.contains("Total Upload:"))?;
    let after = line.split("gzip:").nth(1)?.trim();
    after.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wranglers_upload_line() {
        let text = "foo\nTotal Upload: 2012.35 KiB / gzip: 712.90 KiB\nbar";
        assert_eq!(gzip_kib(text), Some(712.90));
        assert_eq!(gzip_kib("nothing"), None);
    }
}
