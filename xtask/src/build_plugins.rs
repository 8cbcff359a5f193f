//! `cargo xtask build-plugins`: build all plugins and write their manifests.

use std::path::PathBuf;

use anyhow::{Context, bail};

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let root = crate::workspace_root();
    let target_dir = root.join("target/plugins");
    let mut out = target_dir.join("dist");
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => out = PathBuf::from(args.next().context("--out needs a directory")?),
            other => bail!("unknown option {other:?} for build-plugins"),
        }
    }
    qhub_plugin_build::ensure_target("rustc".as_ref(), "rustup".as_ref(), &mut |line| {
        eprintln!("{line}");
    })?;
    let plugins = qhub_plugin_build::discover(&root)?;
    eprintln!("building {} plugins for wasm32-wasip2...", plugins.len());
    let built = crate::progress::build_plugins(&root, &target_dir, &out, &plugins)?;
    for plugin in &built {
        let m = &plugin.manifest;
        println!(
            "{:<10} {:<8} {:<34} {}  {}",
            m.name,
            m.version,
            m.world,
            &m.sha256,
            plugin.wasm.display()
        );
    }
    Ok(())
}
