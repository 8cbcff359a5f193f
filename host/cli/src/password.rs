//! Reading a password: from stdin with `--password-stdin`, else from a prompt
//! without echo. With neither a terminal nor `--password-stdin` there is no safe way
//! to ask, so the command fails with a hint instead of hanging or reading junk.

use std::io::{BufRead, IsTerminal};

use crate::exit::{CliError, CliResult, Exit};

pub enum Confirm {
    Once,
    Twice,
}

pub fn read(from_stdin: bool, confirm: Confirm) -> CliResult<String> {
    if from_stdin {
        return read_stdin_line();
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::new(Exit::Usage, "no password given and no terminal to ask for one")
            .with_hint("pipe it in with --password-stdin, e.g. `printf '%s\\n' \"$PASS\" | qhub login --email E --password-stdin`"));
    }
    match confirm {
        Confirm::Once => prompt("Password: "),
        Confirm::Twice => twice("Password: ", "Repeat password: "),
    }
}

/// How many times a mistyped confirmation is asked again before giving up.
const TRIES: usize = 3;

/// A new password typed twice; a mismatch asks for both again (as `passwd` does),
/// up to [`TRIES`] times, then fails.
fn twice(first_prompt: &str, repeat_prompt: &str) -> CliResult<String> {
    for attempt in 1..=TRIES {
        let first = prompt(first_prompt)?;
        if prompt(repeat_prompt)? == first {
            return Ok(first);
        }
        if attempt < TRIES {
            eprintln!("the passwords did not match; try again");
        }
    }
    Err(CliError::new(
        Exit::Usage,
        format!("the passwords did not match {TRIES} times"),
    )
    .with_hint("run the command again, or pipe the password with --password-stdin"))
}

/// The current and the new password, for `passwd`: two prompts (the new one
/// twice), or the first two lines of stdin with `--password-stdin`.
pub fn read_change(from_stdin: bool) -> CliResult<(String, String)> {
    if from_stdin {
        let current = read_stdin_line()?;
        let new = read_stdin_line().map_err(|_| {
            CliError::new(
                Exit::Usage,
                "--password-stdin needs two lines: the current password, then the new one",
            )
        })?;
        return Ok((current, new));
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::new(
            Exit::Usage,
            "no password given and no terminal to ask for one",
        )
        .with_hint("pipe the current and the new password, one per line, with --password-stdin"));
    }
    let current = prompt("Current password: ")?;
    let new = twice("New password: ", "Repeat new password: ")?;
    Ok((current, new))
}

fn prompt(text: &str) -> CliResult<String> {
    rpassword::prompt_password(text)
        .map_err(|e| CliError::new(Exit::Usage, format!("cannot read the password: {e}")))
}

/// The first line of stdin, without its line ending. Nothing else is trimmed:
/// spaces can be part of a password.
fn read_stdin_line() -> CliResult<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| {
        CliError::new(
            Exit::Usage,
            format!("cannot read the password from stdin: {e}"),
        )
    })?;
    let password = line
        .strip_suffix('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .unwrap_or(&line);
    if password.is_empty() {
        return Err(CliError::new(
            Exit::Usage,
            "--password-stdin was given but stdin held no password",
        )
        .with_hint(
            "pipe the password in, e.g. `printf '%s\\n' \"$PASS\" | qhub ... --password-stdin`",
        ));
    }
    Ok(password.to_owned())
}
