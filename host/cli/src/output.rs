//! Printing results: human text by default, one JSON document with `--json`.
//!
//! Everything the CLI prints on stdout goes through [`outln!`] and [`out!`]
//! (`println!` and `print!` are disallowed in this crate by its `clippy.toml`).
//! `println!` panics when stdout is gone: `qhub whoami | head -c1` died with exit
//! code 101 and "failed printing to stdout: Broken pipe". Here a reader that went
//! away ends the command at once, quietly, with [`CLOSED_STDOUT`], as coreutils do
//! (Rust ignores SIGPIPE, so the write fails with `BrokenPipe` instead of killing
//! the process). Nothing is lost: commands save their state before they print.
//!
//! Colour: stdout and stderr go through `anstream`, which keeps the styles below on
//! a terminal and strips them when the stream is a pipe or a file, or when
//! `NO_COLOR` is set (`CLICOLOR_FORCE` forces them), as clap does for its help.

use std::fmt;
use std::io::{self, Write};

use anstyle::{AnsiColor, Style};
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
    let mut stdout = anstream::stdout().lock();
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

/// How `error:` is shown on a terminal.
pub const ERROR: Style = AnsiColor::Red.on_default().bold();
/// How `hint:` is shown on a terminal.
pub const HINT: Style = AnsiColor::Cyan.on_default().bold();
/// How a table's header line is shown on a terminal.
pub const HEADER: Style = Style::new().bold();

/// `text` styled as a table header (plain when stdout is not a terminal).
pub fn header(text: &str) -> String {
    format!("{HEADER}{text}{HEADER:#}")
}

/// `text` with every control character but line feed and tab written as a Rust
/// escape (`\u{1b}`, `\r`), for what stderr quotes from the user or from a file:
/// an escape sequence in a file name must not restyle, move or retitle the
/// terminal, and a carriage return must not overwrite the line (CWE-150).
/// Escaped rather than dropped, so the name shown is still the one given.
pub fn terminal_safe(text: &str) -> std::borrow::Cow<'_, str> {
    let escaped = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.chars().any(escaped) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if escaped(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `n` with its thousands grouped by commas, as the README writes quotas:
/// `1000000` -> `1,000,000`.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_are_escaped_for_the_terminal() {
        assert_eq!(
            super::terminal_safe("plain\ttext\nline"),
            "plain\ttext\nline"
        );
        assert_eq!(
            super::terminal_safe("esc\u{1b}[31mred\u{7}\r\u{9b}.wasm"),
            "esc\\u{1b}[31mred\\u{7}\\r\\u{9b}.wasm"
        );
    }

    #[test]
    fn numbers_are_grouped_by_thousands() {
        for (n, text) in [
            (0, "0"),
            (999, "999"),
            (1_000, "1,000"),
            (100_000, "100,000"),
            (1_000_000, "1,000,000"),
            (u64::MAX, "18,446,744,073,709,551,615"),
        ] {
            assert_eq!(super::grouped(n), text);
        }
    }
}
