//! The one JWT algorithm QHub signs and accepts, HS256 (HMAC with SHA-256, RFC 7518
//! §3.2), as a `jsonwebtoken` crypto provider over RustCrypto's `hmac` and `sha2`.
//!
//! `jsonwebtoken` parses and validates tokens; its stock providers also bring RSA,
//! ECDSA and EdDSA (the `rsa`, `p256`, `p384` and `ed25519-dalek` crates), which
//! QHub never uses and which were a large share of every fresh build of the
//! plugins. This provider is installed through the crate's documented extension
//! point ([`CryptoProvider::install_default`]) and refuses every other algorithm,
//! so a token naming another one cannot be verified by mistake either.

use hmac::{Hmac, Mac};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{ErrorKind, Result};
use jsonwebtoken::signature::{self, Signer, Verifier};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, EncodingKey};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// HS256 only: signing or verifying with any other algorithm is
/// `ErrorKind::InvalidAlgorithm`; the JWK helpers are not provided.
static HS256_ONLY: CryptoProvider = CryptoProvider {
    signer_factory: signer,
    verifier_factory: verifier,
    key_utils: KeyUtils::new_unimplemented(),
};

/// Makes [`HS256_ONLY`] the provider of this process (of this component instance).
/// Idempotent; if some other provider was installed first (only possible in a
/// native test binary), that one stays, and HS256 gives the same bytes with it.
pub fn install() {
    let _ = CryptoProvider::install_default(&HS256_ONLY);
}

fn mac(
    algorithm: &Algorithm,
    family: AlgorithmFamily,
    secret: Result<&[u8]>,
) -> Result<HmacSha256> {
    if *algorithm != Algorithm::HS256 || family != AlgorithmFamily::Hmac {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    HmacSha256::new_from_slice(secret?).map_err(|_| ErrorKind::InvalidKeyFormat.into())
}

pub(crate) fn signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    Ok(Box::new(Hs256(mac(
        algorithm,
        key.family(),
        Ok(key.as_bytes()),
    )?)))
}

pub(crate) fn verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    Ok(Box::new(Hs256(mac(
        algorithm,
        key.family(),
        key.try_get_as_bytes(),
    )?)))
}

/// An HMAC-SHA-256 keyed with the token secret.
struct Hs256(HmacSha256);

impl Signer<Vec<u8>> for Hs256 {
    fn try_sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, signature::Error> {
        let mut mac = self.0.clone();
        mac.update(message);
        Ok(mac.finalize().into_bytes().to_vec())
    }
}

impl Verifier<Vec<u8>> for Hs256 {
    /// Compares in constant time (`Mac::verify_slice`).
    fn verify(&self, message: &[u8], tag: &Vec<u8>) -> std::result::Result<(), signature::Error> {
        let mut mac = self.0.clone();
        mac.update(message);
        mac.verify_slice(tag).map_err(signature::Error::from_source)
    }
}

impl JwtSigner for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

impl JwtVerifier for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}
