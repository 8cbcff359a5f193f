//! Session tokens: HS256 JWTs that name a user and a server-side session.
//!
//! A token only proves what it says; whether its session is still live is checked
//! against the store by the flows. Verification here is strict: HS256 only (so
//! `alg: none` and algorithm-confusion tokens fail), our issuer only, and every
//! claim present.

use std::fmt;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::AuthFailure;
use crate::store::Timestamp;

/// Config key of the `iss` claim (optional).
pub use qhub_api::core_config::ISSUER as ISSUER_KEY;
/// Config key of the HMAC secret that signs tokens (required).
pub use qhub_api::core_config::JWT_SECRET as JWT_SECRET_KEY;
/// HS256 needs a key at least as long as its output (RFC 7518 section 3.2).
pub use qhub_api::core_config::MIN_JWT_SECRET_BYTES as MIN_SECRET_BYTES;
/// The issuer when none is configured: a server's.
pub use qhub_api::core_config::SERVER_ISSUER as DEFAULT_ISSUER;

/// The claims of a session token. Times are seconds since the epoch, as JWT wants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// The session id.
    pub sid: String,
    pub iat: i64,
    /// The session's expiry.
    pub exp: i64,
    pub iss: String,
}

/// Why the token configuration is unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{JWT_SECRET_KEY} is not configured")]
    MissingSecret,
    #[error("{JWT_SECRET_KEY} must be at least {MIN_SECRET_BYTES} bytes")]
    ShortSecret,
}

/// Signs and verifies tokens with one secret, for one issuer.
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    issuer: String,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The keys stay out: Debug output ends up in logs.
        f.debug_struct("Tokens")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl Tokens {
    /// Reads [`JWT_SECRET_KEY`] and [`ISSUER_KEY`] through `get`.
    pub fn from_config(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let secret = get(JWT_SECRET_KEY).ok_or(ConfigError::MissingSecret)?;
        if secret.is_empty() {
            return Err(ConfigError::MissingSecret);
        }
        if secret.len() < MIN_SECRET_BYTES {
            return Err(ConfigError::ShortSecret);
        }
        let issuer = get(ISSUER_KEY)
            .map(|issuer| issuer.trim().to_owned())
            .filter(|issuer| !issuer.is_empty())
            .unwrap_or_else(|| DEFAULT_ISSUER.to_owned());
        Ok(Self::new(secret.as_bytes(), issuer))
    }

    pub fn new(secret: &[u8], issuer: impl Into<String>) -> Self {
        crate::hs256::install();
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            issuer: issuer.into(),
        }
    }

    /// A token for `session_id` of `user_id`, valid until `expires_at`.
    pub fn issue(
        &self,
        user_id: &str,
        session_id: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let claims = Claims {
            sub: user_id.to_owned(),
            sid: session_id.to_owned(),
            iat: now.div_euclid(1000),
            exp: expires_at.div_euclid(1000),
            iss: self.issuer.clone(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// The claims of `token` if it is ours, intact and not expired at `now`.
    pub fn verify(&self, token: &str, now: Timestamp) -> Result<Claims, AuthFailure> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        // Expiry is checked below against the caller's clock, without leeway, so it
        // agrees with the session's own expiry.
        validation.validate_exp = false;
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|_| AuthFailure::InvalidToken)?
            .claims;
        if now.div_euclid(1000) >= claims.exp {
            return Err(AuthFailure::TokenExpired);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    /// 2026-11-26T00:00:00Z.
    const NOW: Timestamp = 1_795_651_200_000;
    const DAY: Timestamp = 86_400_000;

    fn tokens() -> Tokens {
        Tokens::new(SECRET, "qhub")
    }

    fn fresh_token() -> String {
        tokens()
            .issue("user-1", "session-1", NOW, NOW + DAY)
            .expect("signing works")
    }

    fn check(token: &str, expected: Result<(), AuthFailure>) {
        let actual = tokens().verify(token, NOW).map(|_| ());
        assert_eq!(actual, expected, "token {token:?}");
    }

    #[test]
    fn round_trip() {
        let token = fresh_token();
        let claims = tokens().verify(&token, NOW).expect("token is valid");
        assert_eq!(
            claims,
            Claims {
                sub: "user-1".into(),
                sid: "session-1".into(),
                iat: NOW / 1000,
                exp: (NOW + DAY) / 1000,
                iss: "qhub".into(),
            }
        );
        let header = jsonwebtoken::decode_header(&token).expect("header parses");
        assert_eq!(header.alg, Algorithm::HS256);
    }

    #[test]
    fn expiry_is_checked_against_the_given_clock() {
        let token = fresh_token();
        let just_before = NOW + DAY - 1000;
        assert!(tokens().verify(&token, just_before).is_ok());
        assert_eq!(
            tokens().verify(&token, NOW + DAY),
            Err(AuthFailure::TokenExpired)
        );
        assert_eq!(
            tokens().verify(&token, NOW + 2 * DAY),
            Err(AuthFailure::TokenExpired)
        );
    }

    #[test]
    fn tampered_signature_is_invalid() {
        let token = fresh_token();
        let (unsigned, signature) = token.rsplit_once('.').expect("three parts");
        // Change the first character: it carries six full bits of the MAC.
        let first = if signature.starts_with('A') { 'B' } else { 'A' };
        let tampered = format!("{unsigned}.{first}{}", &signature[1..]);
        check(&tampered, Err(AuthFailure::InvalidToken));
        check(&format!("{unsigned}."), Err(AuthFailure::InvalidToken));
    }

    #[test]
    fn tampered_claims_are_invalid() {
        let forged = tokens()
            .issue("user-2", "session-1", NOW, NOW + DAY)
            .expect("signing works");
        let token = fresh_token();
        let (header, rest) = token.split_once('.').expect("three parts");
        let (_, signature) = rest.split_once('.').expect("three parts");
        let (_, forged_rest) = forged.split_once('.').expect("three parts");
        let (forged_claims, _) = forged_rest.split_once('.').expect("three parts");
        check(
            &format!("{header}.{forged_claims}.{signature}"),
            Err(AuthFailure::InvalidToken),
        );
    }

    #[test]
    fn other_secret_is_invalid() {
        let other = Tokens::new(b"another secret, also 32 bytes long", "qhub");
        let token = other
            .issue("user-1", "session-1", NOW, NOW + DAY)
            .expect("signing works");
        check(&token, Err(AuthFailure::InvalidToken));
    }

    #[test]
    fn wrong_issuer_is_invalid() {
        let token = Tokens::new(SECRET, "someone-else")
            .issue("user-1", "session-1", NOW, NOW + DAY)
            .expect("signing works");
        check(&token, Err(AuthFailure::InvalidToken));
    }

    #[test]
    fn alg_none_is_invalid() {
        let token = fresh_token();
        let (_, rest) = token.split_once('.').expect("three parts");
        let (claims, _) = rest.split_once('.').expect("three parts");
        // base64url of {"alg":"none","typ":"JWT"}
        let none_header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";
        check(
            &format!("{none_header}.{claims}."),
            Err(AuthFailure::InvalidToken),
        );
    }

    #[test]
    fn other_algorithms_are_invalid() {
        use base64::Engine as _;
        use hmac::Mac as _;
        let claims = tokens()
            .verify(&fresh_token(), NOW)
            .expect("token is valid");
        // Same secret and claims, correctly signed, but HS512: still refused.
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = b64.encode(br#"{"alg":"HS512","typ":"JWT"}"#);
        let payload = b64.encode(serde_json::to_vec(&claims).expect("claims serialise"));
        let mut mac = hmac::Hmac::<sha2::Sha512>::new_from_slice(SECRET).expect("any key length");
        mac.update(format!("{header}.{payload}").as_bytes());
        let signature = b64.encode(mac.finalize().into_bytes());
        check(
            &format!("{header}.{payload}.{signature}"),
            Err(AuthFailure::InvalidToken),
        );
    }

    #[test]
    fn the_provider_knows_only_hs256() {
        let encoding = EncodingKey::from_secret(SECRET);
        let decoding = DecodingKey::from_secret(SECRET);
        for algorithm in [
            Algorithm::HS384,
            Algorithm::HS512,
            Algorithm::RS256,
            Algorithm::ES256,
            Algorithm::EdDSA,
        ] {
            assert!(
                crate::hs256::signer(&algorithm, &encoding).is_err(),
                "{algorithm:?}"
            );
            assert!(
                crate::hs256::verifier(&algorithm, &decoding).is_err(),
                "{algorithm:?}"
            );
        }
        let signer = crate::hs256::signer(&Algorithm::HS256, &encoding).expect("HS256 signs");
        let verifier =
            crate::hs256::verifier(&Algorithm::HS256, &decoding).expect("HS256 verifies");
        let tag = signer.try_sign(b"message").expect("signs");
        assert_eq!(tag.len(), 32);
        assert!(verifier.verify(b"message", &tag).is_ok());
        assert!(verifier.verify(b"messagE", &tag).is_err());
    }

    #[test]
    fn missing_claims_are_invalid() {
        #[derive(Serialize)]
        struct NoSession<'a> {
            sub: &'a str,
            iat: i64,
            exp: i64,
            iss: &'a str,
        }
        let claims = NoSession {
            sub: "user-1",
            iat: NOW / 1000,
            exp: (NOW + DAY) / 1000,
            iss: "qhub",
        };
        crate::hs256::install();
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET),
        )
        .expect("signing works");
        check(&token, Err(AuthFailure::InvalidToken));
    }

    #[test]
    fn garbage_is_invalid() {
        for garbage in [
            "",
            "not a token",
            "a.b.c",
            "...",
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.",
        ] {
            check(garbage, Err(AuthFailure::InvalidToken));
        }
    }

    fn config(entries: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let entries: Vec<(String, String)> = entries
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect();
        move |key| {
            entries
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, value)| value.clone())
        }
    }

    #[test]
    fn config_requires_a_long_enough_secret() {
        let secret = std::str::from_utf8(SECRET).expect("ascii");
        let short = &secret[..MIN_SECRET_BYTES - 1];
        assert_eq!(
            Tokens::from_config(config(&[])).map(|_| ()),
            Err(ConfigError::MissingSecret)
        );
        assert_eq!(
            Tokens::from_config(config(&[("jwt-secret", "")])).map(|_| ()),
            Err(ConfigError::MissingSecret)
        );
        assert_eq!(
            Tokens::from_config(config(&[("jwt-secret", short)])).map(|_| ()),
            Err(ConfigError::ShortSecret)
        );
        assert_eq!(
            ConfigError::MissingSecret.to_string(),
            "jwt-secret is not configured"
        );
        assert_eq!(
            ConfigError::ShortSecret.to_string(),
            "jwt-secret must be at least 32 bytes"
        );
    }

    #[test]
    fn config_issuer_defaults_to_qhub() {
        let secret = std::str::from_utf8(SECRET).expect("ascii");
        let check_issuer = |entries: &[(&str, &str)], expected: &str| {
            let tokens = Tokens::from_config(config(entries)).expect("valid config");
            let token = tokens
                .issue("user-1", "session-1", NOW, NOW + DAY)
                .expect("signing works");
            let claims = tokens.verify(&token, NOW).expect("token is valid");
            assert_eq!(claims.iss, expected);
        };
        check_issuer(&[("jwt-secret", secret)], "qhub");
        check_issuer(&[("jwt-secret", secret), ("issuer", "  ")], "qhub");
        check_issuer(
            &[("jwt-secret", secret), ("issuer", "https://hub.example")],
            "https://hub.example",
        );
    }

    #[test]
    fn debug_does_not_show_the_secret() {
        let debug = format!("{:?}", tokens());
        assert_eq!(debug, r#"Tokens { issuer: "qhub", .. }"#);
    }
}
