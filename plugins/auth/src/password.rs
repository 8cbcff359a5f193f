//! Passwords: the policy a new password must meet, and Argon2id hashing.
//!
//! Hashes are stored as PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`), so
//! each one carries the parameters it was made with. That is what lets a login
//! notice an outdated hash ([`needs_rehash`]) and replace it.

use argon2::password_hash::{self, PasswordHasher as _, PasswordVerifier as _};
use argon2::{ARGON2ID_IDENT, Algorithm, Argon2, Params, PasswordHash, Version};

use crate::email;

/// Shortest accepted password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest accepted password, in characters. Long enough for any passphrase, short
/// enough that hashing one is never a denial of service.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// The algorithm and version every new hash uses.
const ALGORITHM: Algorithm = Algorithm::Argon2id;
const VERSION: Version = Version::V0x13;
/// OWASP's minimum for Argon2id: 19 MiB of memory, 2 passes, 1 lane.
const M_COST_KIB: u32 = 19_456;
const T_COST: u32 = 2;
const P_COST: u32 = 1;
const OUTPUT_LEN: usize = 32;
const SALT_LEN: usize = 16;

const PARAMS: Params = match Params::new(M_COST_KIB, T_COST, P_COST, Some(OUTPUT_LEN)) {
    Ok(params) => params,
    Err(_) => panic!("invalid argon2 parameters"),
};

/// Verified instead of a real hash when a login names no account (or one without a
/// password), so that answer takes about as long as a wrong password. It has the
/// current parameters; its salt is fixed and its output is all zeros, which no
/// password produces in practice.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$cWh1Yi1kdW1teS1zYWx0IQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// Why a new password was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PolicyViolation {
    #[error("password must be at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("password must be at most {MAX_PASSWORD_CHARS} characters")]
    TooLong,
    #[error("password must not be the same as the email address")]
    SameAsEmail,
}

/// Why hashing or verifying failed. None of these mention the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    #[error("could not generate a salt: {0}")]
    Random(getrandom::Error),
    #[error("password hashing failed: {0}")]
    Hash(password_hash::Error),
    #[error("stored password hash is malformed: {0}")]
    Malformed(password_hash::Error),
}

/// Checks a new password against the policy. `email` is the address as typed and
/// `normalized_email` its stored form; the password may equal neither, ignoring case
/// and surrounding whitespace.
pub fn check_policy(
    password: &str,
    email: &str,
    normalized_email: &str,
) -> Result<(), PolicyViolation> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(PolicyViolation::TooShort);
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(PolicyViolation::TooLong);
    }
    let folded = email::normalize(password);
    if folded == email::normalize(email) || folded == normalized_email {
        return Err(PolicyViolation::SameAsEmail);
    }
    Ok(())
}

/// Hashes `password` with the current parameters and a fresh random salt.
pub fn hash(password: &str) -> Result<String, HashError> {
    hash_with(&current(), password)
}

/// Whether `password` matches the PHC string `stored`. A mismatch is `Ok(false)`;
/// an error means the stored hash itself is unusable.
pub fn verify(password: &str, stored: &str) -> Result<bool, HashError> {
    let parsed = PasswordHash::new(stored).map_err(|error| HashError::Malformed(error.into()))?;
    // The hash's own algorithm, version and parameters are used, not `current()`'s.
    match current().verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(password_hash::Error::PasswordInvalid) => Ok(false),
        Err(error) => Err(HashError::Malformed(error)),
    }
}

/// Spends the time of one verification without any account, so that an unknown
/// email answers no faster than a wrong password.
pub fn verify_dummy(password: &str) {
    // The result is meaningless by construction; only the time spent matters.
    let _ = verify(password, DUMMY_HASH);
}

/// Whether `stored` was made with another algorithm, version or parameters than
/// the current ones, and should be replaced after the next successful login.
pub fn needs_rehash(stored: &str) -> Result<bool, HashError> {
    let parsed = PasswordHash::new(stored).map_err(|error| HashError::Malformed(error.into()))?;
    if parsed.algorithm != ARGON2ID_IDENT || parsed.version != Some(VERSION.into()) {
        return Ok(true);
    }
    let params = Params::try_from(&parsed).map_err(HashError::Malformed)?;
    let output_len = parsed.hash.as_ref().map(|output| output.len());
    let salt_len = parsed.salt.as_ref().map(|salt| salt.len());
    Ok(params.m_cost() != M_COST_KIB
        || params.t_cost() != T_COST
        || params.p_cost() != P_COST
        || !params.keyid().is_empty()
        || !params.data().is_empty()
        || output_len != Some(OUTPUT_LEN)
        || salt_len.is_none_or(|len| len < SALT_LEN))
}

fn current() -> Argon2<'static> {
    Argon2::new(ALGORITHM, VERSION, PARAMS)
}

fn hash_with(hasher: &Argon2<'_>, password: &str) -> Result<String, HashError> {
    let mut salt = [0u8; SALT_LEN];
    getrandom::fill(&mut salt).map_err(HashError::Random)?;
    let hash = hasher
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map_err(HashError::Hash)?;
    Ok(hash.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(password: &str, email: &str, expected: Result<(), PolicyViolation>) {
        let normalized = email::normalize(email);
        assert_eq!(
            check_policy(password, email, &normalized),
            expected,
            "password {password:?}, email {email:?}"
        );
    }

    /// A cheap hash with other parameters than the current ones.
    fn weak_hash(algorithm: Algorithm, version: Version, password: &str) -> String {
        let params = Params::new(1024, 1, 1, None).expect("valid test parameters");
        hash_with(&Argon2::new(algorithm, version, params), password).expect("hashing works")
    }

    #[test]
    fn policy_table() {
        let email = "Ada@Example.com";
        let cases: &[(&str, &str, Result<(), PolicyViolation>)] = &[
            ("correct horse", email, Ok(())),
            ("12345678", email, Ok(())),
            ("", email, Err(PolicyViolation::TooShort)),
            ("1234567", email, Err(PolicyViolation::TooShort)),
            // Seven characters, fourteen bytes: still too short.
            ("ééééééé", email, Err(PolicyViolation::TooShort)),
            // Eight characters, sixteen bytes: long enough.
            ("éééééééé", email, Ok(())),
            (&"x".repeat(MAX_PASSWORD_CHARS), email, Ok(())),
            (
                &"x".repeat(MAX_PASSWORD_CHARS + 1),
                email,
                Err(PolicyViolation::TooLong),
            ),
            // 128 four-byte characters are 512 bytes but within the limit.
            (&"🔑".repeat(MAX_PASSWORD_CHARS), email, Ok(())),
            ("Ada@Example.com", email, Err(PolicyViolation::SameAsEmail)),
            ("ada@example.com", email, Err(PolicyViolation::SameAsEmail)),
            ("ADA@EXAMPLE.COM", email, Err(PolicyViolation::SameAsEmail)),
            (
                " ada@example.com ",
                email,
                Err(PolicyViolation::SameAsEmail),
            ),
            (
                "ada@example.com",
                "  ADA@example.COM\t",
                Err(PolicyViolation::SameAsEmail),
            ),
            ("ada@example.co", email, Ok(())),
        ];
        for (password, email, expected) in cases {
            check(password, email, *expected);
        }
    }

    #[test]
    fn policy_messages() {
        assert_eq!(
            PolicyViolation::TooShort.to_string(),
            "password must be at least 8 characters"
        );
        assert_eq!(
            PolicyViolation::TooLong.to_string(),
            "password must be at most 128 characters"
        );
        assert_eq!(
            PolicyViolation::SameAsEmail.to_string(),
            "password must not be the same as the email address"
        );
    }

    #[test]
    fn hash_then_verify() {
        let stored = hash("correct horse battery").expect("hashing works");
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert_eq!(verify("correct horse battery", &stored), Ok(true));
        assert_eq!(verify("correct horse battery!", &stored), Ok(false));
        assert_eq!(verify("", &stored), Ok(false));
    }

    #[test]
    fn salts_differ_between_hashes() {
        let first = hash("same password").expect("hashing works");
        let second = hash("same password").expect("hashing works");
        assert_ne!(first, second);
        assert_eq!(verify("same password", &second), Ok(true));
    }

    #[test]
    fn verify_uses_the_stored_parameters() {
        let stored = weak_hash(Algorithm::Argon2i, Version::V0x10, "old password");
        assert!(
            stored.starts_with("$argon2i$v=16$m=1024,t=1,p=1$"),
            "{stored}"
        );
        assert_eq!(verify("old password", &stored), Ok(true));
        assert_eq!(verify("wrong password", &stored), Ok(false));
    }

    #[test]
    fn malformed_hashes_are_errors_not_mismatches() {
        for stored in [
            "",
            "not a hash",
            "$argon2id$v=19$m=19456,t=2,p=1$",
            "$bcrypt$xyz",
        ] {
            assert!(
                matches!(verify("password", stored), Err(HashError::Malformed(_))),
                "{stored:?}"
            );
        }
    }

    #[test]
    fn needs_rehash_detects_outdated_hashes() {
        let current = hash("password one").expect("hashing works");
        assert_eq!(needs_rehash(&current), Ok(false));

        let cheaper = weak_hash(Algorithm::Argon2id, Version::V0x13, "password one");
        assert_eq!(needs_rehash(&cheaper), Ok(true));
        let other_algorithm = weak_hash(Algorithm::Argon2i, Version::V0x13, "password one");
        assert_eq!(needs_rehash(&other_algorithm), Ok(true));
        let old_version = weak_hash(Algorithm::Argon2id, Version::V0x10, "password one");
        assert_eq!(needs_rehash(&old_version), Ok(true));

        // Current parameters but one pass more, built by editing a real hash.
        let more_passes = current.replace("t=2", "t=3");
        assert_eq!(needs_rehash(&more_passes), Ok(true));
        let no_version = current.replace("$v=19", "");
        assert_eq!(needs_rehash(&no_version), Ok(true));

        assert!(matches!(
            needs_rehash("garbage"),
            Err(HashError::Malformed(_))
        ));
    }

    #[test]
    fn dummy_hash_matches_current_parameters() {
        // Otherwise an unknown email would answer faster or slower than a wrong password.
        assert_eq!(needs_rehash(DUMMY_HASH), Ok(false));
        assert_eq!(verify("any password at all", DUMMY_HASH), Ok(false));
    }
}
