//! API keys: their format and hashing, scopes, and the flows that create, list,
//! revoke and authenticate them.
//!
//! A key is `qhk_<8 hex>_<43 base64url>`: the first part (`qhk_` and the 8 hex
//! characters) is the visible prefix a user tells keys apart by, the rest is 32
//! random bytes. Only the prefix and the SHA-256 of the whole key are stored, so a
//! leaked database does not leak usable keys. A key is limited to its scopes, and
//! never does what only a session may (sessions, password, keys, deleting the
//! account): whoever steals a key must not be able to lock the owner out.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};

use crate::accounts::{Accounts, Principal, TOUCH_INTERVAL};
use crate::error::{AuthFailure, Error};
use crate::store::{ApiKey, NewApiKey, Store, StoreError, Timestamp};
use crate::validate;

/// How every API key starts; anything else presented as a token is a JWT.
pub const KEY_MARKER: &str = "qhk_";
/// Hex characters of the random, visible part of the prefix.
const PREFIX_HEX_CHARS: usize = 8;
/// Base64url characters (unpadded) of 32 random bytes.
const SECRET_CHARS: usize = 43;
const SECRET_BYTES: usize = 32;
const MAX_NAME_CHARS: usize = 64;
const SECOND: Timestamp = 1_000;
/// The shortest lifetime a key may have: one minute. A key is made to be copied
/// into a script or a CI secret and then used; one that dies within seconds can
/// only be a mistake (`--expires-in 30` once meant 30 seconds to someone who meant
/// 30 days), and refusing it says so instead of handing out a dead key.
pub const MIN_EXPIRES_IN_SECONDS: u64 = 60;
/// The longest lifetime: 366 days, so every expiring key is rotated at least
/// yearly (a key that should never expire leaves the lifetime out).
pub const MAX_EXPIRES_IN_SECONDS: u64 = 366 * 86_400;
/// The refusal of a lifetime outside the bounds above.
const EXPIRY_BOUNDS: &str = "keys expire after 1 minute to 366 days (60 to 31622400 seconds)";

/// What a credential may do. The order is the alphabetical order of the names, so
/// sorted scopes read the same as sorted strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    AccountRead,
    JobsRead,
    JobsWrite,
    PrefsRead,
    PrefsWrite,
}

impl Scope {
    /// Every scope; what a session has and what a key gets when none is named.
    pub const ALL: [Scope; 5] = [
        Scope::AccountRead,
        Scope::JobsRead,
        Scope::JobsWrite,
        Scope::PrefsRead,
        Scope::PrefsWrite,
    ];

    /// The name users see and the store keeps ("jobs:read", ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::AccountRead => "account:read",
            Scope::JobsRead => "jobs:read",
            Scope::JobsWrite => "jobs:write",
            Scope::PrefsRead => "prefs:read",
            Scope::PrefsWrite => "prefs:write",
        }
    }

    /// The scope with exactly this name.
    pub fn parse(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == name)
    }
}

/// What a flow requires of the credential that calls it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// A session, or an API key with this scope.
    Scope(Scope),
    /// A session; an API key is refused. The payload completes "API keys cannot ...".
    SessionOnly(&'static str),
}

/// A key just created, with the only copy of its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedKey {
    pub key: ApiKey,
    /// The whole key, `qhk_<hex>_<secret>`, shown to the user this once.
    pub secret: String,
}

/// A freshly generated key and what the store keeps of it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Generated {
    secret: String,
    prefix: String,
    hash: String,
}

impl Generated {
    /// Draws a new key from the system's random source.
    fn random() -> Result<Self, Error> {
        let mut random = [0u8; PREFIX_HEX_CHARS / 2 + SECRET_BYTES];
        getrandom::fill(&mut random)
            .map_err(|error| Error::Internal(format!("could not generate an api key: {error}")))?;
        Ok(Self::from_random(&random))
    }

    /// The key made of these random bytes: the first 4 make the prefix, the other
    /// 32 the secret.
    fn from_random(random: &[u8; PREFIX_HEX_CHARS / 2 + SECRET_BYTES]) -> Self {
        let (visible, secret) = random.split_at(PREFIX_HEX_CHARS / 2);
        let prefix = format!("{KEY_MARKER}{}", hex(visible));
        let secret = format!("{prefix}_{}", URL_SAFE_NO_PAD.encode(secret));
        Self {
            hash: hash(&secret),
            secret,
            prefix,
        }
    }
}

/// Whether `token` is presented as an API key rather than a session JWT (which
/// always starts with "eyJ").
pub fn is_api_key(token: &str) -> bool {
    token.starts_with(KEY_MARKER)
}

/// Whether `token` has the exact shape of a key this core issues.
fn is_well_formed(token: &str) -> bool {
    let Some(rest) = token.strip_prefix(KEY_MARKER) else {
        return false;
    };
    let Some((visible, secret)) = rest.split_once('_') else {
        return false;
    };
    visible.len() == PREFIX_HEX_CHARS
        && visible
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && secret.len() == SECRET_CHARS
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The lowercase hex SHA-256 of the whole key, as stored.
pub fn hash(key: &str) -> String {
    hex(&Sha256::digest(key.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The requested scopes, without duplicates and sorted; all of them when the list
/// is left out (`None`), and [`Error::NoScopes`] when it is given empty, so that a
/// client that meant "no scopes" never gets a key that may do everything.
pub fn parse_scopes(names: Option<&[String]>) -> Result<Vec<Scope>, Error> {
    let Some(names) = names else {
        return Ok(Scope::ALL.to_vec());
    };
    if names.is_empty() {
        return Err(Error::NoScopes);
    }
    let mut scopes = names
        .iter()
        .map(|name| Scope::parse(name).ok_or_else(|| Error::UnknownScope(name.clone())))
        .collect::<Result<Vec<_>, _>>()?;
    scopes.sort_unstable();
    scopes.dedup();
    Ok(scopes)
}

/// A key's name, trimmed: 1 to 64 characters without control characters.
pub fn key_name(raw: &str) -> Result<String, Error> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(Error::InvalidInput("api key name is required"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Error::InvalidInput(
            "api key name must be at most 64 characters",
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::InvalidInput(
            "api key name must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

/// When a key created at `now` that lasts `seconds` expires; `invalid-input`
/// unless `seconds` is within [`MIN_EXPIRES_IN_SECONDS`]..=[`MAX_EXPIRES_IN_SECONDS`].
pub fn expires_at(seconds: u64, now: Timestamp) -> Result<Timestamp, Error> {
    if !(MIN_EXPIRES_IN_SECONDS..=MAX_EXPIRES_IN_SECONDS).contains(&seconds) {
        return Err(Error::InvalidInput(EXPIRY_BOUNDS));
    }
    // Bounded above, so the conversion cannot fail.
    let lifetime = Timestamp::try_from(seconds).unwrap_or(Timestamp::MAX);
    Ok(now.saturating_add(lifetime.saturating_mul(SECOND)))
}

/// Authenticates an API key (a token for which [`is_api_key`] holds) and records
/// its use at most once a minute.
pub fn authenticate(store: &impl Store, token: &str, now: Timestamp) -> Result<Principal, Error> {
    // A token of the wrong shape cannot match a stored hash: no need to ask.
    if !is_well_formed(token) {
        return Err(AuthFailure::InvalidApiKey.into());
    }
    let key = store
        .get_api_key_by_hash(&hash(token))?
        .ok_or(AuthFailure::InvalidApiKey)?;
    if key.revoked_at.is_some() {
        return Err(AuthFailure::ApiKeyRevoked.into());
    }
    if key.expires_at.is_some_and(|at| now >= at) {
        return Err(AuthFailure::ApiKeyExpired.into());
    }
    if key
        .last_used_at
        .is_none_or(|used| now - used > TOUCH_INTERVAL)
    {
        store.touch_api_key(&key.id, now)?;
    }
    Ok(Principal {
        user_id: key.user_id,
        session_id: None,
        api_key_id: Some(key.id),
        // A name this core does not know grants nothing.
        scopes: key
            .scopes
            .iter()
            .filter_map(|name| Scope::parse(name))
            .collect(),
        expires_at: key.expires_at,
    })
}

impl<S: Store> Accounts<S> {
    /// Creates an API key for the session's user; only a session may.
    pub fn create_api_key(
        &self,
        token: &str,
        name: &str,
        scopes: Option<&[String]>,
        expires_in: Option<u64>,
        now: Timestamp,
    ) -> Result<CreatedKey, Error> {
        let principal = self.authorize(token, Access::SessionOnly("create API keys"), now)?;
        let name = key_name(name)?;
        let scopes: Vec<String> = parse_scopes(scopes)?
            .into_iter()
            .map(|scope| scope.as_str().to_owned())
            .collect();
        let expires_at = expires_in
            .map(|seconds| expires_at(seconds, now))
            .transpose()?;
        let insert = |generated: &Generated| {
            self.store().create_api_key(NewApiKey {
                user_id: principal.user_id.clone(),
                name: name.clone(),
                prefix: generated.prefix.clone(),
                secret_hash: generated.hash.clone(),
                scopes: scopes.clone(),
                created_at: now,
                expires_at,
            })
        };
        let mut generated = Generated::random()?;
        let created = match insert(&generated) {
            // Two keys with the same 32 bits of prefix do happen, rarely; a fresh
            // key settles it. A second conflict points at the store.
            Err(StoreError::Conflict(what)) if what == "api-key" => {
                generated = Generated::random()?;
                insert(&generated)
            }
            other => other,
        }?;
        Ok(CreatedKey {
            key: created,
            secret: generated.secret,
        })
    }

    /// The user's keys that are not revoked (expired ones included), newest first.
    pub fn list_api_keys(&self, token: &str, now: Timestamp) -> Result<Vec<ApiKey>, Error> {
        let principal = self.authorize(token, Access::SessionOnly("list API keys"), now)?;
        let mut keys = self.store().list_api_keys(&principal.user_id)?;
        keys.retain(|key| key.revoked_at.is_none());
        Ok(keys)
    }

    /// Revokes one of the user's keys.
    pub fn revoke_api_key(&self, token: &str, key_id: &str, now: Timestamp) -> Result<(), Error> {
        let principal = self.authorize(token, Access::SessionOnly("revoke API keys"), now)?;
        validate::single_line("api key id", key_id)?;
        // The store only looks among this user's keys, so another user's key id
        // gets the same answer as one that never existed.
        if self
            .store()
            .revoke_api_key(&principal.user_id, key_id, now)?
        {
            Ok(())
        } else {
            Err(Error::NoSuchApiKey)
        }
    }
}

#[cfg(test)]
#[path = "keys_tests.rs"]
mod tests;
