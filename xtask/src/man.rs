//! `cargo xtask man [--out DIR]`: the man pages, `qhub.1` and one per subcommand,
//! written into `target/man` by default.
//!
//! The pages come from `qhub man --out DIR` (a hidden command of the binary, built
//! and run here with `cargo run`), not from a clap `Command` built in xtask: that
//! would make xtask depend on the `qhub` crate, so every xtask task would first
//! compile wasmtime and the plugins. See host/cli/src/commands/man.rs.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, bail};

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let root = crate::workspace_root();
    let mut out = root.join("target/man");
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => out = PathBuf::from(args.next().context("--out needs a directory")?),
            other => bail!("unknown option {other:?} for man"),
        }
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(&root)
        .args(["run", "--quiet", "--package", "qhub", "--", "man", "--out"])
        .arg(&out)
        .status()
        .context("cannot run cargo")?;
    if !status.success() {
        bail!("`qhub man` failed ({status})");
    }
    eprintln!(
        "read one with `man -l {0}/qhub.1`; install them with \
         `mkdir -p ~/.local/share/man/man1 && cp {0}/*.1 ~/.local/share/man/man1/` \
         (see README, \"Shell completions and man page\")",
        out.display()
    );
    Ok(())
}
