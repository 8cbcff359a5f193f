//! `qhub man --out DIR` (hidden): writes the man pages, `qhub.1` and one page per
//! subcommand (`qhub-login.1`, `qhub-keys-create.1`, ...), with `clap_mangen`.
//!
//! Users run `cargo xtask man`, which runs this command. The pages are generated
//! here, inside the binary that owns the grammar, rather than in xtask: for xtask
//! to build the clap `Command` itself it would have to depend on this crate, and so
//! compile wasmtime and the plugins before any task could run, `cargo xtask
//! build-plugins` included. A hidden subcommand keeps xtask light and the grammar
//! in one place; only `cargo xtask man` pays for building `qhub`.

use std::path::{Path, PathBuf};

use clap::CommandFactory;

use crate::cli::Cli;
use crate::exit::{CliError, CliResult};
use crate::output;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The directory to write the pages into (created if needed).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

impl Args {
    pub fn run(self, json: bool) -> CliResult {
        let pages = write_pages(&self.out).map_err(|e| {
            CliError::internal(format!(
                "cannot write the man pages into {}: {e}",
                self.out.display()
            ))
            .with_hint("pass a writable directory with --out")
        })?;
        if json {
            output::json(&serde_json::json!({ "pages": pages }));
        } else {
            for page in &pages {
                outln!("{}", page.display());
            }
        }
        Ok(())
    }
}

/// Writes `qhub.1` and a page per visible subcommand into `dir`; returns their
/// paths, sorted.
pub fn write_pages(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    // Built, every subcommand knows its display name (`qhub-keys-create`) and how
    // it is typed (`qhub keys create`), which name the page and its synopsis.
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    let mut pages = Vec::new();
    write_page(&command, dir, &mut pages)?;
    pages.sort();
    Ok(pages)
}

/// Writes the page of `command`, then those of its visible subcommands.
fn write_page(
    command: &clap::Command,
    dir: &Path,
    pages: &mut Vec<PathBuf>,
) -> std::io::Result<()> {
    let name = command
        .get_display_name()
        .unwrap_or_else(|| command.get_name())
        .to_owned();
    let mut roff = Vec::new();
    // Titled in capitals, as man pages are (`.TH QHUB-KEYS-CREATE 1`).
    clap_mangen::Man::new(command.clone())
        .title(name.to_uppercase())
        .render(&mut roff)?;
    let path = dir.join(format!("{name}.1"));
    std::fs::write(&path, roff)?;
    pages.push(path);
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_page(sub, dir, pages)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_page_per_command() {
        let dir = tempfile::tempdir().unwrap();
        let pages = write_pages(dir.path()).unwrap();
        let names: Vec<String> = pages
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        for expected in [
            "qhub.1",
            "qhub-login.1",
            "qhub-keys.1",
            "qhub-keys-create.1",
            "qhub-completions.1",
        ] {
            assert!(
                names.iter().any(|n| n == expected),
                "no {expected} in {names:?}"
            );
        }
        assert!(
            !names
                .iter()
                .any(|n| n == "qhub-man.1" || n.contains("help")),
            "{names:?}"
        );
        let top = std::fs::read_to_string(dir.path().join("qhub.1")).unwrap();
        assert!(top.contains(".TH QHUB 1"), "{top}");
        let create = std::fs::read_to_string(dir.path().join("qhub-keys-create.1")).unwrap();
        assert!(create.contains(".TH QHUB-KEYS-CREATE 1"), "{create}");
        assert!(
            create.contains("qhub keys create"),
            "the synopsis: {create}"
        );
    }
}
