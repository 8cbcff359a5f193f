//! Printing results: human text by default, one JSON document with `--json`.
//!
//! Everything the CLI prints on stdout goes through [`outln!`] and [`out!`]
//! (`println!` and `print!` are disallowed in this crate by its `clippy.toml`).
//! `println!` panics when stdout is gone: `qhub whoami | head -c1` died with exit
//! code 101 and "failed printing to stdout: Broken pipe". Here a reader that went
//! away ends the command at once, quietly, with [`CLOSED_STDOUT`], as coreutils do
//! (Rust ignores SIGPIPE, so the write fails with `BrokenPipe` instead of killing
//! the process). Nothing is lost: commands save their state before they print.

use std::fmt;
use std::io::{self, Write};

use serde::Serialize;

use crate::exit::{CLOSED_STDOUT, Exit};

/// `println!` for results: see the module's documentation.
macro_rules! outln {
    () => {
        $crate::output::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` for results (a prompt): see the module's documentation.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!($($arg)*))
    };
}

/// Writes and flushes `args` on stdout. If the reader has gone, exits quietly with
/// [`CLOSED_STDOUT`]; on any other write error (a full disk), says so and exits 1.
pub fn write_stdout(args: fmt::Arguments<'_>) {
    let mut stdout = io::stdout().lock();
    if let Err(err) = stdout.write_fmt(args).and_then(|()| stdout.flush()) {
        drop(stdout);
        stdout_failed(&err);
    }
}

fn stdout_failed(err: &io::Error) -> ! {
    if err.kind() == io::ErrorKind::BrokenPipe {
        std::process::exit(CLOSED_STDOUT);
    }
    let _ = writeln!(io::stderr(), "error: cannot write the output: {err}");
    std::process::exit(Exit::Error as i32);
}

/// Prints `value` as pretty JSON on stdout.
pub fn json<T: Serialize>(value: &T) {
    outln!(
        "{}",
        serde_json::to_string_pretty(value).expect("output types always serialise")
    );
}
