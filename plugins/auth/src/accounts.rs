//! The account flows: register, login, authenticate, whoami and logout, a user's
//! view and control of their own sessions, and changing the password. Signing in
//! with a provider's identity is in `identities`.
//!
//! [`Accounts::authorize`] is where every flow that takes a token checks it, and
//! what the credential may do (see [`Access`]).
//!
//! Every rule hosts must not know lives here: which inputs are valid, how long a
//! session lasts, when a token stops working, when a hash is replaced. The flows
//! take the current time as an argument, so tests control the clock.

use crate::email;
use crate::error::{AuthFailure, Error};
use crate::keys::{self, Access, Scope};
use crate::password;
use crate::store::{NewSession, NewUser, Session, Store, StoreError, Timestamp, User};
use crate::throttle;
use crate::token::Tokens;
use crate::validate;

const SECOND: Timestamp = 1_000;
const DAY: Timestamp = 86_400 * SECOND;
/// How long a session (and its token) lasts after register or login.
pub const SESSION_LIFETIME: Timestamp = 30 * DAY;
/// A session's last-seen time is written at most this often, so authenticating
/// does not cost a database write per request.
pub const TOUCH_INTERVAL: Timestamp = 60 * SECOND;

pub(crate) const MAX_DISPLAY_NAME_CHARS: usize = 100;
/// Client details are informational (`sessions list`); longer values are cut.
const MAX_USER_AGENT_CHARS: usize = 512;
const MAX_IP_CHARS: usize = 64;

/// Who is calling, as the transport saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Client {
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// A request to create an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub email: String,
    pub password: String,
    pub display_name: Option<String>,
}

/// The result of a successful register or login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub token: String,
    pub session_id: String,
    pub expires_at: Timestamp,
    pub user: User,
}

/// An authenticated caller: a session, or an API key limited to its scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: String,
    /// None for an API key.
    pub session_id: Option<String>,
    /// None for a session.
    pub api_key_id: Option<String>,
    /// Every scope for a session.
    pub scopes: Vec<Scope>,
    /// None for a key that never expires.
    pub expires_at: Option<Timestamp>,
}

impl Principal {
    /// Whether this credential may do what `access` describes.
    pub fn check(&self, access: Access) -> Result<(), Error> {
        match access {
            Access::Scope(scope) if !self.scopes.contains(&scope) => {
                Err(Error::MissingScope(scope))
            }
            Access::SessionOnly(action) if self.session_id.is_none() => {
                Err(Error::SessionOnly(action))
            }
            Access::Scope(_) | Access::SessionOnly(_) => Ok(()),
        }
    }
}

/// A live session as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub id: String,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
    /// Whether this is the session of the token that asked.
    pub current: bool,
}

/// The account core over one store and one token configuration.
#[derive(Debug)]
pub struct Accounts<S> {
    store: S,
    tokens: Tokens,
}

impl<S: Store> Accounts<S> {
    pub fn new(store: S, tokens: Tokens) -> Self {
        Self { store, tokens }
    }

    /// The store the flows run over, for the data flows built on this core.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Creates an account and signs it in.
    pub fn register(
        &self,
        request: Registration,
        client: Client,
        now: Timestamp,
    ) -> Result<SignedIn, Error> {
        let email = email::parse(&request.email)?;
        validate::new_password(&request.password)?;
        password::check_policy(&request.password, &request.email, &email)?;
        let display_name = display_name(request.display_name)?;
        let password_hash = password::hash(&request.password)?;
        let new_user = NewUser {
            email,
            display_name,
            password_hash: Some(password_hash),
            created_at: now,
        };
        // The account and its first session are one atomic write: a lost reply
        // never leaves an account without the session its owner was promised.
        let (user, session) = self
            .store
            .create_user_with_session(
                new_user,
                clip(client.user_agent, MAX_USER_AGENT_CHARS),
                clip(client.ip, MAX_IP_CHARS),
                now.saturating_add(SESSION_LIFETIME),
            )
            .map_err(|error| match error {
                StoreError::Conflict(what) if what == "email" => Error::EmailTaken,
                other => other.into(),
            })?;
        self.signed_in(user, session, now)
    }

    /// Signs in with email and password. The answer for an unknown email, a wrong
    /// password and an account without a password is the same, and takes about as
    /// long. A hash made with outdated parameters is replaced.
    ///
    /// Attempts are counted per email and per client address before the password
    /// is checked, and too many lock sign-ins for a while (see [`throttle`]): then
    /// the answer is `RateLimited`, whatever the password. However many attempts
    /// arrive at once, no more passwords are checked than the limits allow.
    ///
    /// The session is created only while the account still has the hash the
    /// password was checked against, so a sign-in racing a password change gets
    /// `InvalidCredentials` rather than a session the change should have ended.
    pub fn login(
        &self,
        email: &str,
        password: &str,
        client: Client,
        now: Timestamp,
    ) -> Result<SignedIn, Error> {
        // Canonical when it can be, else as older rules stored it: an address stored
        // under older rules must still be able to sign in, and a malformed one simply
        // matches nothing (see `email::Lookup`).
        let lookup = email::Lookup::new(email)?;
        let email = lookup.key.clone();
        if password.is_empty() {
            return Err(Error::InvalidInput("password is required"));
        }
        // Counted before the account is looked up, so a lock reads the same for a
        // registered and an unregistered email, and costs no password hashing.
        let ip = clip(client.ip.clone(), MAX_IP_CHARS);
        let keys = throttle::Keys::new(&email, ip.as_deref());
        throttle::begin(&self.store, &keys, now)?;
        let found = lookup.find(&self.store)?;
        let Some((mut user, stored)) =
            found.and_then(|user| user.password_hash.clone().map(|hash| (user, hash)))
        else {
            password::verify_dummy(password);
            return Err(Error::InvalidCredentials);
        };
        if !password::verify(password, &stored)? {
            return Err(Error::InvalidCredentials);
        }
        let mut checked = stored;
        if password::needs_rehash(&checked)? {
            let fresh = password::hash(password)?;
            self.store.set_password_hash(&user.id, &fresh, now)?;
            user.password_hash = Some(fresh.clone());
            user.updated_at = now;
            checked = fresh;
        }
        throttle::succeeded(&self.store, &keys)?;
        self.start_session(user, client, now, Some(&checked))
    }

    /// Checks the token (a session JWT or an API key) and that its session or key
    /// is live, and records the activity.
    pub fn authenticate(&self, token: &str, now: Timestamp) -> Result<Principal, Error> {
        if keys::is_api_key(token) {
            return keys::authenticate(&self.store, token, now);
        }
        let session = self.live_session(token, now)?;
        if now - session.last_seen_at > TOUCH_INTERVAL {
            self.store.touch_session(&session.id, now)?;
        }
        Ok(Principal {
            user_id: session.user_id,
            session_id: Some(session.id),
            api_key_id: None,
            scopes: Scope::ALL.to_vec(),
            expires_at: Some(session.expires_at),
        })
    }

    /// Authenticates the token and checks that its credential may do what a flow
    /// needs: every flow that takes a token goes through here (`logout` and
    /// `logout_all` through [`Self::session_to_end`]).
    pub fn authorize(
        &self,
        token: &str,
        access: Access,
        now: Timestamp,
    ) -> Result<Principal, Error> {
        let principal = self.authenticate(token, now)?;
        principal.check(access)?;
        Ok(principal)
    }

    /// The token's user.
    pub fn whoami(&self, token: &str, now: Timestamp) -> Result<User, Error> {
        let principal = self.authorize(token, Access::Scope(Scope::AccountRead), now)?;
        self.store
            .get_user(&principal.user_id)?
            .ok_or(Error::NotFound("account"))
    }

    /// Sets the display name of the token's user, trimmed (blank or none clears
    /// it; the rules of registration: at most 100 characters, no control
    /// characters), and returns the user as it now is. A session only: no API
    /// key scope grants changes to the account itself.
    pub fn set_display_name(
        &self,
        token: &str,
        name: Option<String>,
        now: Timestamp,
    ) -> Result<User, Error> {
        let principal =
            self.authorize(token, Access::SessionOnly("change the display name"), now)?;
        let name = display_name(name)?;
        self.store
            .set_display_name(&principal.user_id, name.as_deref(), now)
            .map_err(|e| match e {
                StoreError::NotFound => Error::NotFound("account"),
                other => other.into(),
            })?;
        self.store
            .get_user(&principal.user_id)?
            .ok_or(Error::NotFound("account"))
    }

    /// Revokes the token's session.
    pub fn logout(&self, token: &str, now: Timestamp) -> Result<(), Error> {
        let session = self.session_to_end(token, "log out", now)?;
        // False only when a concurrent logout won the race; the outcome is the same.
        self.store
            .revoke_session(&session.user_id, &session.id, now)?;
        Ok(())
    }

    /// The live sessions of the token's user, newest first, the token's own marked.
    pub fn list_sessions(&self, token: &str, now: Timestamp) -> Result<Vec<SessionInfo>, Error> {
        let principal = self.authorize(token, Access::SessionOnly("list sessions"), now)?;
        let sessions = self.store.list_sessions(&principal.user_id, now)?;
        Ok(sessions
            .into_iter()
            .map(|session| SessionInfo {
                current: principal.session_id.as_ref() == Some(&session.id),
                id: session.id,
                user_agent: session.user_agent,
                ip: session.ip,
                created_at: session.created_at,
                last_seen_at: session.last_seen_at,
                expires_at: session.expires_at,
            })
            .collect())
    }

    /// Revokes one live session of the token's user, which may be the token's own.
    pub fn revoke_session(
        &self,
        token: &str,
        session_id: &str,
        now: Timestamp,
    ) -> Result<(), Error> {
        let principal = self.authorize(token, Access::SessionOnly("revoke sessions"), now)?;
        validate::single_line("session id", session_id)?;
        // The store only looks among this user's sessions, so another user's session
        // id gets the same answer as one that never existed.
        if self
            .store
            .revoke_session(&principal.user_id, session_id, now)?
        {
            Ok(())
        } else {
            Err(Error::NoSuchSession)
        }
    }

    /// Revokes every live session of the token's user except the token's own;
    /// returns how many.
    pub fn revoke_other_sessions(&self, token: &str, now: Timestamp) -> Result<u32, Error> {
        let principal = self.authorize(token, Access::SessionOnly("revoke sessions"), now)?;
        Ok(self
            .store
            .revoke_sessions(&principal.user_id, principal.session_id.as_deref(), now)?)
    }

    /// Revokes every live session of the token's user, the token's own included;
    /// returns how many.
    pub fn logout_all(&self, token: &str, now: Timestamp) -> Result<u32, Error> {
        let session = self.session_to_end(token, "log out", now)?;
        Ok(self.store.revoke_sessions(&session.user_id, None, now)?)
    }

    /// Replaces the password of the token's user after checking the current one, and
    /// revokes every other session of the user: whoever knew the old password may
    /// hold one. The token's own session stays valid.
    ///
    /// The hash is replaced before the sessions are revoked, so no one can sign in
    /// with the old password in between. Should the revocation fail, the new password
    /// is in place and `revoke_other_sessions` finishes the job.
    pub fn change_password(
        &self,
        token: &str,
        current: &str,
        new: &str,
        now: Timestamp,
    ) -> Result<(), Error> {
        let principal = self.authorize(token, Access::SessionOnly("change the password"), now)?;
        let user = self
            .store
            .get_user(&principal.user_id)?
            .ok_or(Error::NotFound("account"))?;
        // An account that only signs in through OAuth has no password to confirm or
        // change. Saying so is no oracle: the caller is signed in to this account.
        let Some(stored) = user.password_hash.as_deref() else {
            return Err(Error::NoPassword);
        };
        if !password::verify(current, stored)? {
            return Err(Error::WrongPassword);
        }
        // The stored email is already normalised, so it serves as both forms.
        validate::new_password(new)?;
        password::check_policy(new, &user.email, &user.email)?;
        if new == current {
            return Err(Error::InvalidInput(
                "the new password must differ from the current one",
            ));
        }
        let fresh = password::hash(new)?;
        self.store.set_password_hash(&user.id, &fresh, now)?;
        self.store
            .revoke_sessions(&user.id, principal.session_id.as_deref(), now)?;
        Ok(())
    }

    /// Starts a session for `user` and signs its token: the end of every sign-in
    /// (password or identity), so they all issue the same kind of session.
    ///
    /// `password_hash` is the hash a password sign-in checked: the session is then
    /// created only while the account still has it, so a password changed in the
    /// meantime refuses the sign-in (`InvalidCredentials`). Without it, the account
    /// must still exist; one deleted meanwhile refuses with `SignInRaced`.
    pub(crate) fn start_session(
        &self,
        user: User,
        client: Client,
        now: Timestamp,
        password_hash: Option<&str>,
    ) -> Result<SignedIn, Error> {
        let session = self
            .store
            .create_session(
                NewSession {
                    user_id: user.id.clone(),
                    user_agent: clip(client.user_agent, MAX_USER_AGENT_CHARS),
                    ip: clip(client.ip, MAX_IP_CHARS),
                    created_at: now,
                    expires_at: now.saturating_add(SESSION_LIFETIME),
                },
                password_hash,
            )
            .map_err(|error| match error {
                // The password was changed, or the account deleted, since the check.
                StoreError::NotFound if password_hash.is_some() => Error::InvalidCredentials,
                StoreError::NotFound => Error::SignInRaced,
                other => other.into(),
            })?;
        self.signed_in(user, session, now)
    }

    /// Signs the token of a session just created for `user`.
    fn signed_in(&self, user: User, session: Session, now: Timestamp) -> Result<SignedIn, Error> {
        let token = self
            .tokens
            .issue(&user.id, &session.id, now, session.expires_at)
            .map_err(|error| Error::Internal(format!("could not sign the token: {error}")))?;
        Ok(SignedIn {
            token,
            session_id: session.id,
            expires_at: session.expires_at,
            user,
        })
    }

    /// The live session of `token`, for a flow that ends it: unlike
    /// [`Self::authorize`] it does not record activity first. An API key is
    /// authenticated (so a bad key gets the same answer everywhere), then refused.
    fn session_to_end(
        &self,
        token: &str,
        action: &'static str,
        now: Timestamp,
    ) -> Result<Session, Error> {
        if keys::is_api_key(token) {
            self.authenticate(token, now)?;
            return Err(Error::SessionOnly(action));
        }
        self.live_session(token, now)
    }

    /// The session `token` names, if the token is valid and the session live.
    fn live_session(&self, token: &str, now: Timestamp) -> Result<Session, Error> {
        let claims = self.tokens.verify(token, now)?;
        // Sessions are deleted only with their account; a missing one may also
        // mean the token comes from another database signed with the same secret.
        let session = self
            .store
            .get_session(&claims.sid)?
            .ok_or(AuthFailure::UnknownSession)?;
        if session.user_id != claims.sub {
            // Correctly signed yet inconsistent: never issued by this core.
            return Err(AuthFailure::InvalidToken.into());
        }
        if session.revoked_at.is_some() {
            return Err(AuthFailure::SessionRevoked.into());
        }
        if session.expires_at <= now {
            return Err(AuthFailure::SessionExpired.into());
        }
        Ok(session)
    }
}

/// Trims a display name; blank means none.
fn display_name(raw: Option<String>) -> Result<Option<String>, Error> {
    let Some(name) = raw
        .as_deref()
        .map(str::trim)
        .filter(|name| !name.is_empty())
    else {
        return Ok(None);
    };
    if name.chars().count() > MAX_DISPLAY_NAME_CHARS {
        return Err(Error::InvalidInput(
            "display name must be at most 100 characters",
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::InvalidInput(
            "display name must not contain control characters",
        ));
    }
    Ok(Some(name.to_owned()))
}

/// Trims an informational value, drops its control characters (NUL included, which
/// PostgreSQL refuses), drops it when blank and cuts it to `max` characters.
fn clip(value: Option<String>, max: usize) -> Option<String> {
    let value = value?;
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return None;
    }
    Some(
        trimmed
            .chars()
            .filter(|c| !c.is_control())
            .take(max)
            .collect(),
    )
}

#[cfg(test)]
#[path = "accounts_tests.rs"]
mod tests;
