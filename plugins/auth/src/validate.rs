//! Text the core accepts, checked once here so every backend sees the same input.
//!
//! PostgreSQL refuses NUL (U+0000) in `text` and `\u0000` in `jsonb`, while SQLite
//! and D1 store them: without these checks the same request was a 500 on one
//! backend and stored on another. Control characters are refused wherever a field
//! is a single line (names, ids, emails); a job's source may keep its line breaks
//! and tabs. Each refusal is `invalid-input` and names the field.
//!
//! Passwords are never stored as text (only their Argon2id hash), so no database
//! sees them; still, a *new* password may not contain NUL: C strings, command-line
//! arguments and environment variables cannot carry it, so such a password could
//! not be typed in again from most clients, and some tools would silently cut it
//! there. Signing in with a NUL in the password is simply a wrong password, so an
//! account created under older rules is not locked out.

use serde_json::Value;

use crate::error::Error;

/// Refuses a single-line field (an id, a name) that contains a control character
/// (`char::is_control`: C0, DEL and C1, NUL included).
pub fn single_line(field: &'static str, value: &str) -> Result<(), Error> {
    if value.chars().any(char::is_control) {
        return Err(Error::ControlCharacters(field));
    }
    Ok(())
}

/// Refuses multi-line text (a job's source) with a control character other than
/// line feed, carriage return and tab.
pub fn multi_line(field: &'static str, value: &str) -> Result<(), Error> {
    let refused = |c: char| c.is_control() && !matches!(c, '\n' | '\r' | '\t');
    if value.chars().any(refused) {
        return Err(Error::ControlCharacters(field));
    }
    Ok(())
}

/// Refuses a new password that contains NUL (see the module documentation).
pub fn new_password(password: &str) -> Result<(), Error> {
    if password.contains('\0') {
        return Err(Error::InvalidInput(
            "password must not contain the NUL character (U+0000)",
        ));
    }
    Ok(())
}

/// Refuses a parsed preference value with U+0000 in one of its strings or object
/// keys, at any depth (written `\u0000` in JSON: a raw NUL never parses).
pub fn preference_value(value: &Value) -> Result<(), Error> {
    let has_nul = |text: &str| text.contains('\0');
    let mut pending = vec![value];
    while let Some(value) = pending.pop() {
        match value {
            Value::String(text) if has_nul(text) => return Err(nul_in_value()),
            Value::Array(items) => pending.extend(items),
            Value::Object(members) => {
                if members.keys().any(|key| has_nul(key)) {
                    return Err(nul_in_value());
                }
                pending.extend(members.values());
            }
            _ => {}
        }
    }
    Ok(())
}

fn nul_in_value() -> Error {
    Error::InvalidInput(
        "the preference value must not contain the NUL character (\\u0000) in a string or key",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy)]
    enum Check {
        SingleLine,
        MultiLine,
        NewPassword,
        PreferenceJson,
    }

    fn run(check: Check, input: &str) -> Result<(), Error> {
        match check {
            Check::SingleLine => single_line("api key name", input),
            Check::MultiLine => multi_line("job source", input),
            Check::NewPassword => new_password(input),
            Check::PreferenceJson => {
                preference_value(&serde_json::from_str(input).expect("test JSON parses"))
            }
        }
    }

    #[test]
    fn table() {
        use Check::*;
        let refused_line = Err(Error::ControlCharacters("api key name"));
        let refused_source = Err(Error::ControlCharacters("job source"));
        let refused_password = Err(Error::InvalidInput(
            "password must not contain the NUL character (U+0000)",
        ));
        let refused_json = Err(nul_in_value());
        let cases: &[(Check, &str, Result<(), Error>)] = &[
            (SingleLine, "laptop", Ok(())),
            (SingleLine, "portátil ✓", Ok(())),
            (SingleLine, "a\0b", refused_line.clone()),
            (SingleLine, "a\nb", refused_line.clone()),
            (SingleLine, "a\tb", refused_line.clone()),
            (SingleLine, "a\u{7f}", refused_line.clone()),
            (SingleLine, "a\u{9b}", refused_line.clone()),
            (MultiLine, "OPENQASM 3;\r\n\tqubit q;\n", Ok(())),
            (MultiLine, "OPENQASM 3;\0", refused_source.clone()),
            (MultiLine, "OPENQASM 3;\u{1b}[31m", refused_source.clone()),
            (MultiLine, "OPENQASM 3;\u{c}", refused_source.clone()),
            (NewPassword, "correct horse battery", Ok(())),
            (NewPassword, "tab\tis fine", Ok(())),
            (NewPassword, "correct\0horse", refused_password.clone()),
            (PreferenceJson, r#""dark""#, Ok(())),
            (PreferenceJson, r#"{"a":[1,"\u0001",{"b":null}]}"#, Ok(())),
            (PreferenceJson, r#""a\u0000b""#, refused_json.clone()),
            (PreferenceJson, r#"{"a\u0000":1}"#, refused_json.clone()),
            (
                PreferenceJson,
                r#"[[{"x":["\u0000"]}]]"#,
                refused_json.clone(),
            ),
        ];
        for (check, input, expected) in cases {
            assert_eq!(&run(*check, input), expected, "{check:?} {input:?}");
        }
    }

    #[test]
    fn the_message_names_the_field() {
        assert_eq!(
            Error::ControlCharacters("session id").to_string(),
            "session id must not contain NUL or other control characters"
        );
    }
}
