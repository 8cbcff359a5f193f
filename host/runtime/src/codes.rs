//! The stable names of the account core's error codes, as they appear on the wire
//! (`{"error": {"code": "invalid-credentials", ...}}`) and in `--json` output.
//! One table, used by the server to write them and by the client to read them.

use crate::bindings::accounts::ErrorCode;

const NAMES: &[(ErrorCode, &str)] = &[
    (ErrorCode::InvalidInput, "invalid-input"),
    (ErrorCode::WeakPassword, "weak-password"),
    (ErrorCode::EmailTaken, "email-taken"),
    (ErrorCode::InvalidCredentials, "invalid-credentials"),
    (ErrorCode::Unauthenticated, "unauthenticated"),
    (ErrorCode::Forbidden, "forbidden"),
    (ErrorCode::NotFound, "not-found"),
    (ErrorCode::Conflict, "conflict"),
    (ErrorCode::QuotaExceeded, "quota-exceeded"),
    (ErrorCode::RateLimited, "rate-limited"),
    (ErrorCode::Unavailable, "unavailable"),
    (ErrorCode::Internal, "internal"),
];

/// The wire name of a code.
pub fn code_name(code: ErrorCode) -> &'static str {
    NAMES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, name)| *name)
        .expect("every error code has a name")
}

/// The code a wire name stands for.
pub fn code_from_name(name: &str) -> Option<ErrorCode> {
    NAMES
        .iter()
        .find(|(_, n)| *n == name)
        .map(|(code, _)| *code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for (code, name) in NAMES {
            assert_eq!(code_name(*code), *name);
            assert_eq!(code_from_name(name), Some(*code));
        }
        let mut names: Vec<_> = NAMES.iter().map(|(_, n)| n).collect();
        names.dedup();
        assert_eq!(names.len(), NAMES.len());
        assert_eq!(code_from_name("bogus"), None);
    }
}
