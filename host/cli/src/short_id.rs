//! Short ids, as git takes short commit hashes: `jobs show/cancel`, `keys revoke`
//! and `sessions revoke` accept a unique start of an id (at least
//! [`MIN_PREFIX_CHARS`] characters), and `keys revoke` also a key's visible
//! `qhk_...` prefix as `keys list` shows it.
//!
//! The resolution is a convenience of this CLI, done against the list the user
//! can see (`jobs list`, `keys list`, `sessions list`): the API and the account
//! core keep taking exact ids only, so no host has to learn it. A start that
//! matches nothing in the list is passed on unchanged, so a full id the list does
//! not show (a job older than the newest 100) still works, and an unknown id gets
//! the core's own "no such ..." answer.

use crate::exit::{CliError, CliResult, Exit};

/// The shortest start of an id accepted: shorter ones match too much to be a
/// deliberate choice, and would make a typo revoke something.
pub const MIN_PREFIX_CHARS: usize = 4;

/// One thing a short id may designate: its id, and another name it goes by
/// (an API key's visible prefix), shown in the candidates of an ambiguous id.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: String,
    pub alias: Option<String>,
    /// What the user sees to tell candidates apart (a name, a status, a device).
    pub label: String,
}

/// The id `given` designates among `candidates`; `what` names the kind ("job").
///
/// An exact id or alias wins; else the ids (and aliases) that start with `given`:
/// one is the answer, several are a usage error listing them, none passes `given`
/// through. A start shorter than [`MIN_PREFIX_CHARS`] is a usage error.
pub fn resolve(what: &str, given: &str, candidates: &[Candidate]) -> CliResult<String> {
    if let Some(exact) = candidates
        .iter()
        .find(|c| c.id == given || c.alias.as_deref() == Some(given))
    {
        return Ok(exact.id.clone());
    }
    if given.chars().count() < MIN_PREFIX_CHARS {
        return Err(CliError::new(
            Exit::Usage,
            format!("{what} id {given:?} is too short"),
        )
        .with_hint(format!(
            "give at least {MIN_PREFIX_CHARS} characters of the id, or the whole id (`qhub {what}s list` shows them)"
        )));
    }
    let matches: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| {
            c.id.starts_with(given) || c.alias.as_deref().is_some_and(|a| a.starts_with(given))
        })
        .collect();
    match matches.as_slice() {
        [] => Ok(given.to_owned()),
        [one] => Ok(one.id.clone()),
        many => {
            let listed: Vec<String> = many
                .iter()
                .map(|c| match &c.alias {
                    Some(alias) => format!("  {}  {alias}  {}", c.id, c.label),
                    None => format!("  {}  {}", c.id, c.label),
                })
                .collect();
            Err(CliError::new(
                Exit::Usage,
                format!(
                    "{what} id {given:?} is ambiguous; it starts {} ids:\n{}",
                    many.len(),
                    listed.join("\n")
                ),
            )
            .with_hint("give more characters of the id"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidates() -> Vec<Candidate> {
        let c = |id: &str, alias: Option<&str>| Candidate {
            id: id.into(),
            alias: alias.map(Into::into),
            label: "x".into(),
        };
        vec![
            c("0f3a9c11-aaaa", Some("qhk_1234abcd")),
            c("0f3b7e22-bbbb", Some("qhk_1299ffff")),
            c("7c00d1e4-cccc", None),
        ]
    }

    #[test]
    fn table() {
        let check = |given: &str, expected: Result<&str, (i32, &str)>| {
            let got = resolve("key", given, &candidates());
            match (got, expected) {
                (Ok(id), Ok(want)) => assert_eq!(id, want, "{given}"),
                (Err(err), Err((exit, needle))) => {
                    assert_eq!(err.exit as i32, exit, "{given}");
                    assert!(err.message.contains(needle), "{given}: {}", err.message);
                }
                (got, want) => panic!("{given}: got {got:?}, expected {want:?}"),
            }
        };
        check("0f3a9c11-aaaa", Ok("0f3a9c11-aaaa"));
        check("0f3a", Ok("0f3a9c11-aaaa"));
        check("7c00d", Ok("7c00d1e4-cccc"));
        check("qhk_1234abcd", Ok("0f3a9c11-aaaa"));
        check("qhk_129", Ok("0f3b7e22-bbbb"));
        check("0f3", Err((2, "too short")));
        check("", Err((2, "too short")));
        check("qhk_12", Err((2, "ambiguous")));
        check("0f3a9c11-aaaa", Ok("0f3a9c11-aaaa"));
        // No match: passed on, for the core to answer.
        check("ffff0000", Ok("ffff0000"));
        let ambiguous = resolve("key", "qhk_12", &candidates()).unwrap_err();
        assert!(
            ambiguous.message.contains("0f3a9c11-aaaa"),
            "{}",
            ambiguous.message
        );
        assert!(
            ambiguous.message.contains("0f3b7e22-bbbb"),
            "{}",
            ambiguous.message
        );
        // "0f3" is too short even though it starts two ids.
        assert!(resolve("job", "0f3", &candidates()).is_err());
    }
}
