//! Email addresses: the one normal form accounts are stored and looked up by.
//!
//! The check is deliberately loose (RFC 5321 allows far more than anyone types);
//! it only rejects what cannot be an address, so no real user is locked out.

/// The longest address SMTP can carry (RFC 5321 section 4.5.3.1, in practice).
pub const MAX_EMAIL_CHARS: usize = 254;

/// Why an email address was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("email address is required")]
    Empty,
    #[error("invalid email address: longer than {MAX_EMAIL_CHARS} characters")]
    TooLong,
    #[error("invalid email address: contains whitespace or control characters")]
    Whitespace,
    #[error("invalid email address: expected exactly one @")]
    At,
    #[error("invalid email address: nothing before the @")]
    EmptyLocalPart,
    #[error("invalid email address: nothing after the @")]
    EmptyDomain,
}

/// The form emails are stored in: trimmed and lowercased, which makes uniqueness
/// case-insensitive. Used on its own for lookups, so an address registered under
/// older, looser rules can still sign in.
pub fn normalize(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// Normalises `raw` and checks that it is a plausible address.
pub fn parse(raw: &str) -> Result<String, EmailError> {
    let email = normalize(raw);
    if email.is_empty() {
        return Err(EmailError::Empty);
    }
    if email.chars().count() > MAX_EMAIL_CHARS {
        return Err(EmailError::TooLong);
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(EmailError::Whitespace);
    }
    let mut parts = email.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(EmailError::At);
    };
    if local.is_empty() {
        return Err(EmailError::EmptyLocalPart);
    }
    if domain.is_empty() {
        return Err(EmailError::EmptyDomain);
    }
    Ok(email)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<&str, EmailError>) {
        let actual = parse(input);
        assert_eq!(actual.as_deref(), expected.as_deref(), "input {input:?}");
    }

    #[test]
    fn parse_normalises_and_validates() {
        let at_limit = format!("{}@example.com", "a".repeat(MAX_EMAIL_CHARS - 12));
        let over_limit = format!("{}@example.com", "a".repeat(MAX_EMAIL_CHARS - 11));
        let cases: &[(&str, Result<&str, EmailError>)] = &[
            ("ada@example.com", Ok("ada@example.com")),
            ("  Ada@Example.COM\n", Ok("ada@example.com")),
            ("\tÉLODIE@exemple.fr ", Ok("élodie@exemple.fr")),
            ("a@b", Ok("a@b")),
            (
                "first.last+tag@sub.example.org",
                Ok("first.last+tag@sub.example.org"),
            ),
            (&at_limit, Ok(&at_limit)),
            ("", Err(EmailError::Empty)),
            ("   \t ", Err(EmailError::Empty)),
            (&over_limit, Err(EmailError::TooLong)),
            ("ada lovelace@example.com", Err(EmailError::Whitespace)),
            ("ada@exa\tmple.com", Err(EmailError::Whitespace)),
            ("ada\u{0}@example.com", Err(EmailError::Whitespace)),
            ("ada.example.com", Err(EmailError::At)),
            ("ada@@example.com", Err(EmailError::At)),
            ("a@b@example.com", Err(EmailError::At)),
            ("@example.com", Err(EmailError::EmptyLocalPart)),
            ("ada@", Err(EmailError::EmptyDomain)),
        ];
        for (input, expected) in cases {
            check(input, *expected);
        }
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        // 242 two-byte characters + "@example.com" is 254 characters but 496 bytes.
        let email = format!("{}@example.com", "é".repeat(MAX_EMAIL_CHARS - 12));
        assert_eq!(parse(&email), Ok(email.clone()));
    }

    #[test]
    fn messages_are_lowercase_without_trailing_period() {
        assert_eq!(EmailError::Empty.to_string(), "email address is required");
        assert_eq!(
            EmailError::TooLong.to_string(),
            "invalid email address: longer than 254 characters"
        );
        assert_eq!(
            EmailError::At.to_string(),
            "invalid email address: expected exactly one @"
        );
    }

    #[test]
    fn normalize_only_trims_and_lowercases() {
        assert_eq!(normalize("  Not An Email "), "not an email");
    }
}
