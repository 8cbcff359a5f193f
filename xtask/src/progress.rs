//! Progress bars on stderr for the long tasks (building the plugins, transpiling
//! them for the Worker, bundling it), drawn only when stderr is a terminal. In a CI
//! log or a pipe the tasks print their plain step lines and cargo's own output,
//! as before.

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use qhub_plugin_build::{Built, Compiled, PluginCrate};

/// Whether to draw: stderr is a terminal.
pub fn enabled() -> bool {
    std::io::stderr().is_terminal()
}

/// Builds `plugins` (see [`qhub_plugin_build::build`]): on a terminal with a bar
/// that advances as each plugin is built and names the crate being compiled,
/// otherwise with cargo's plain output.
pub fn build_plugins(
    root: &Path,
    target_dir: &Path,
    out: &Path,
    plugins: &[PluginCrate],
) -> anyhow::Result<Vec<Built>> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    if !enabled() {
        return Ok(qhub_plugin_build::build(
            root,
            cargo.as_ref(),
            target_dir,
            out,
            plugins,
        )?);
    }
    let bar = bar(plugins.len(), "plugins");
    let built = qhub_plugin_build::build_reporting(
        root,
        cargo.as_ref(),
        target_dir,
        out,
        plugins,
        Some(&mut |compiled: Compiled<'_>| match compiled.plugin {
            Some(plugin) => {
                bar.inc(1);
                bar.println(built_line(plugin));
            }
            None => bar.set_message(compiling_message(compiled.krate)),
        }),
    );
    bar.finish_and_clear();
    Ok(built?)
}

/// A bar of `len` steps counting `unit`, or a hidden one off a terminal.
pub fn bar(len: usize, unit: &str) -> ProgressBar {
    if !enabled() {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template(&format!(
        "{{spinner:.green}} [{{bar:20}}] {{pos}}/{{len}} {unit} {{wide_msg}}"
    ))
    .expect("a valid template")
    .progress_chars("=> ");
    let bar = ProgressBar::new(len as u64).with_style(style);
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

/// A spinner showing `message`, or a hidden one off a terminal.
pub fn spinner(message: &str) -> ProgressBar {
    if !enabled() {
        return ProgressBar::hidden();
    }
    let spinner = ProgressBar::new_spinner().with_message(message.to_owned());
    spinner.enable_steady_tick(Duration::from_millis(100));
    spinner
}

/// `built plugin auth`: printed above the bar as each plugin is done.
fn built_line(plugin: &str) -> String {
    format!("  built plugin {plugin}")
}

/// `compiling argon2`: the bar's message while dependencies compile.
fn compiling_message(krate: &str) -> String {
    format!("compiling {krate}")
}

/// `transpiling store-d1 with jco`: the bar's message for one Worker plugin.
pub fn transpiling_message(plugin: &str) -> String {
    format!("transpiling {plugin} with jco")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_plugin_or_crate() {
        assert_eq!(built_line("auth"), "  built plugin auth");
        assert_eq!(compiling_message("argon2"), "compiling argon2");
        assert_eq!(
            transpiling_message("store-d1"),
            "transpiling store-d1 with jco"
        );
    }
}
