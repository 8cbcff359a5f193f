//! Asking before what cannot be undone: on a terminal the user types a word; with
//! no terminal (a script, CI) the command refuses unless `--yes` was given, so a
//! pipeline never destroys data because nobody was there to say no.

use std::io::{BufRead, IsTerminal};

use crate::exit::{CliError, CliResult, Exit};

/// A question before a destructive step.
#[derive(Debug)]
pub struct Question<'a> {
    /// What will be destroyed, one or more full lines, shown before the prompt.
    pub what: &'a str,
    /// The word to type to go ahead (`delete`, `revert`).
    pub word: &'a str,
    /// The error without a terminal, e.g. "refusing to revert without confirmation".
    pub refusal: &'a str,
}

/// Goes ahead with `yes`; otherwise asks on the terminal and refuses without one: exit 2 with a hint, or
/// exit 3 when the answer is not the word.
pub fn confirm(yes: bool, question: &Question<'_>) -> CliResult {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(
            CliError::new(Exit::Usage, question.refusal).with_hint(format!(
                "pass --yes to confirm from a script; it would {}",
                question.what.trim_end()
            )),
        );
    }
    out!(
        "This will {}\nThis cannot be undone. Type '{}' to confirm: ",
        question.what.trim_end(),
        question.word
    );
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| CliError::new(Exit::Usage, format!("cannot read the answer: {e}")))?;
    if answer.trim() != question.word {
        return Err(CliError::new(
            Exit::Refused,
            "not confirmed; nothing was changed",
        ));
    }
    Ok(())
}
