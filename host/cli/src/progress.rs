//! Progress on stderr for the slow steps of a command: compiling the plugins on a
//! first run (about a second each) and applying database migrations.
//!
//! Drawn with indicatif, and only when stderr is a terminal: a pipe, a file or a
//! test sees none of it. (One line is the exception: a command that waits for
//! another's lock says so wherever stderr goes.) The runtime only reports events
//! ([`Runtime::on_compile`], [`qhub_runtime::Database::migrate_with`]); drawing
//! them is this module's business ([`Terminal`] is what the host wiring shows).

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use qhub_runtime::{CompileEvent, CompileStep, Manifest, MigrationStep, Runtime};

/// Whether to draw: stderr is a terminal.
pub fn enabled() -> bool {
    std::io::stderr().is_terminal()
}

/// Draws a spinner on stderr while `runtime` compiles a plugin, and leaves one line
/// saying how long it took. Does nothing unless stderr is a terminal.
pub fn watch_compiles(runtime: &Runtime) {
    if !enabled() {
        return;
    }
    let current: Mutex<Option<ProgressBar>> = Mutex::new(None);
    runtime.on_compile(move |event: CompileEvent<'_>| {
        let mut current = current.lock().unwrap_or_else(|e| e.into_inner());
        match event.step {
            CompileStep::Started => {
                let spinner = ProgressBar::new_spinner()
                    .with_style(spinner_style())
                    .with_message(compiling_message(event.plugin));
                spinner.enable_steady_tick(Duration::from_millis(100));
                *current = Some(spinner);
            }
            CompileStep::Finished(elapsed) => {
                if let Some(spinner) = current.take() {
                    leave_line(&spinner, &compiled_message(event.plugin, elapsed));
                }
            }
        }
    });
}

/// A bar for the migrations a command applies, drawn from the first one on; the
/// caller passes [`Migrations::step`] to `migrate_with`, then calls
/// [`Migrations::finish`].
#[derive(Debug, Default)]
pub struct Migrations {
    bar: Mutex<Option<ProgressBar>>,
}

impl Migrations {
    pub fn new() -> Migrations {
        Migrations::default()
    }

    /// Shows `step` (nothing unless stderr is a terminal).
    pub fn step(&self, step: MigrationStep<'_>) {
        if !enabled() {
            return;
        }
        let mut bar = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        let bar = bar.get_or_insert_with(|| {
            let bar = ProgressBar::new(step.total as u64).with_style(bar_style());
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        bar.set_position(step.index as u64 - 1);
        bar.set_message(migration_message(step));
    }

    /// Ends the bar: `keep` leaves a line saying how many migrations were applied
    /// (when a command migrated on its way), otherwise the bar is erased (`qhub
    /// migrate run` lists them on stdout itself).
    pub fn finish(&self, applied: usize, keep: bool) {
        let Some(bar) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() else {
            return;
        };
        if keep {
            leave_line(&bar, &migrated_message(applied));
        } else {
            bar.finish_and_clear();
        }
    }
}

/// What the host wiring shows on a terminal ([`qhub_host::Observer`]): each
/// runtime's compiles, and the migrations a command applies on its way (a line
/// left saying how many); and, terminal or not, that a command waits for a lock.
#[derive(Debug, Default)]
pub struct Terminal {
    migrations: Migrations,
}

impl qhub_host::Observer for Terminal {
    fn runtime(&self, runtime: &Runtime) {
        watch_compiles(runtime);
    }

    fn migration(&self, step: MigrationStep<'_>) {
        self.migrations.step(step);
    }

    fn migrated(&self, applied: usize) {
        self.migrations.finish(applied, true);
    }

    /// One line, on a terminal or not (as cargo says "Blocking waiting for file
    /// lock"): a command that stops for another one says so, or it looks hung.
    fn waiting_for_lock(&self, what: &str, lock: &std::path::Path) {
        let _ = writeln!(
            std::io::stderr(),
            "waiting for another qhub to finish with {what} (it holds {})...",
            lock.display()
        );
    }
}

/// Replaces `bar` with one line saying what was done. (indicatif's own
/// `finish_with_message` leaves the cursor at the end of that line, so the next
/// thing written on stderr, an error say, would continue it.)
fn leave_line(bar: &ProgressBar, message: &str) {
    bar.finish_and_clear();
    let _ = writeln!(std::io::stderr(), "✓ {message}");
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner:.green} {msg}").expect("a valid template")
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner:.green} [{pos}/{len}] {wide_msg}")
        .expect("a valid template")
}

/// `compiling plugin "auth" 0.1.0 for this machine (first run only)`.
fn compiling_message(plugin: &Manifest) -> String {
    format!(
        "compiling plugin {:?} {} for this machine (first run only)",
        plugin.name, plugin.version
    )
}

/// `compiled plugin "auth" 0.1.0 in 0.9 s`.
fn compiled_message(plugin: &Manifest, elapsed: Duration) -> String {
    format!(
        "compiled plugin {:?} {} in {:.1} s",
        plugin.name,
        plugin.version,
        elapsed.as_secs_f64()
    )
}

/// `applying migration 2 (login throttles)`.
fn migration_message(step: MigrationStep<'_>) -> String {
    format!("applying migration {} ({})", step.version, step.description)
}

/// `applied 2 database migrations`.
fn migrated_message(applied: usize) -> String {
    match applied {
        1 => "applied 1 database migration".to_owned(),
        n => format!("applied {n} database migrations"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest {
            name: "auth".into(),
            version: "0.1.0".into(),
            world: "qhub:plugin/account-core@0.1.0".into(),
            sha256: "0".repeat(64),
            hosts: Vec::new(),
        }
    }

    #[test]
    fn messages_name_the_plugin_and_the_migration() {
        assert_eq!(
            compiling_message(&manifest()),
            "compiling plugin \"auth\" 0.1.0 for this machine (first run only)"
        );
        assert_eq!(
            compiled_message(&manifest(), Duration::from_millis(940)),
            "compiled plugin \"auth\" 0.1.0 in 0.9 s"
        );
        let step = MigrationStep {
            version: 2,
            description: "login throttles",
            index: 2,
            total: 2,
        };
        assert_eq!(
            migration_message(step),
            "applying migration 2 (login throttles)"
        );
        assert_eq!(migrated_message(1), "applied 1 database migration");
        assert_eq!(migrated_message(2), "applied 2 database migrations");
    }

    #[test]
    fn styles_are_valid_templates() {
        // `expect` inside: a typo in a template would panic on a user's terminal.
        spinner_style();
        bar_style();
    }
}
