//! What an identity vouched for by an OAuth/OIDC provider means for QHub accounts:
//! signing in with it (and linking or creating the account it belongs to), and a
//! user's view and control of the identities linked to their account.
//!
//! The host runs the provider's flow through a provider plugin and hands the
//! resulting identity to [`Accounts::sign_in_with_identity`]; every decision about
//! accounts is made here. A link is keyed on (provider name, subject): the subject
//! is the provider's stable identifier, while an email can change hands, so an
//! email is only ever used to find or create an account when the provider says it
//! verified it.

use crate::accounts::{Accounts, Client, MAX_DISPLAY_NAME_CHARS, SignedIn};
use crate::email;
use crate::error::Error;
use crate::keys::{Access, Scope};
use crate::store::{
    NewOauthConnection, NewUser, OauthConnection, Store, StoreError, Timestamp, User,
};

/// The longest provider name an operator may configure.
pub const MAX_PROVIDER_CHARS: usize = 32;
/// The longest subject identifier accepted (OIDC allows 255 ASCII characters).
pub const MAX_SUBJECT_CHARS: usize = 255;

/// How many times a sign-in looks an identity up when it keeps losing races: once,
/// and once more after each of the two writes it can lose.
const MAX_ATTEMPTS: u32 = 3;

/// Who signed in at a provider, as the provider plugin reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderIdentity {
    /// The provider's stable subject identifier.
    pub subject: String,
    pub email: Option<String>,
    /// Whether the provider says it verified `email`.
    pub email_verified: bool,
    pub display_name: Option<String>,
}

/// How one attempt at resolving an identity to an account ended.
enum Resolved {
    Account(User),
    /// A concurrent request changed what the attempt looked up (it linked the same
    /// identity, created the same email's account, or deleted the account) between
    /// the lookup and the write; the store's unique constraints and foreign keys
    /// caught it, and looking again sees the winner's rows.
    LostRace,
}

impl<S: Store> Accounts<S> {
    /// Signs in with an identity vouched for by the provider configured as
    /// `provider`. In order: a linked identity signs its account in; a verified
    /// email of an existing account links the identity to it; a verified email of no
    /// account creates one, without a password; anything else is refused.
    ///
    /// Failed attempts are not counted by the sign-in throttling of [`Self::login`]:
    /// that protects passwords from guessing, and nothing here is a guess. The
    /// provider authenticated the user, and an attacker cannot try identities here
    /// without the host, which only passes on what a provider vouched for.
    ///
    /// Linking by verified email trusts that an account's email belongs to whoever
    /// registered it. QHub does not verify emails at registration, so someone who
    /// registered another person's address with a password keeps that password on
    /// the account the person's identity is then linked to (a pre-registration
    /// takeover); closing it needs email verification at registration.
    pub fn sign_in_with_identity(
        &self,
        provider: &str,
        identity: ProviderIdentity,
        client: Client,
        now: Timestamp,
    ) -> Result<SignedIn, Error> {
        let provider = provider_name(provider)?;
        let subject = subject(&identity.subject)?;
        // A lost race leaves the winner's row behind, which the next lookup finds.
        // There are two writes to lose (the account, then the link), so a sign-in
        // racing another one for the same new person may need two retries; losing
        // more means the account keeps being deleted under us, and the caller may
        // try again.
        let mut attempts = 0;
        let user = loop {
            attempts += 1;
            match self.resolve(provider, subject, &identity, now)? {
                Resolved::Account(user) => break user,
                Resolved::LostRace if attempts < MAX_ATTEMPTS => {}
                Resolved::LostRace => return Err(Error::SignInRaced),
            }
        };
        self.start_session(user, client, now, None)
    }

    /// The identities linked to the token's account, oldest first.
    pub fn list_connections(
        &self,
        token: &str,
        now: Timestamp,
    ) -> Result<Vec<OauthConnection>, Error> {
        let principal = self.authorize(token, Access::Scope(Scope::AccountRead), now)?;
        Ok(self.store().list_oauth_connections(&principal.user_id)?)
    }

    /// Unlinks one identity from the token's account, unless it is the last way
    /// to sign in to an account without a password.
    pub fn unlink_connection(
        &self,
        token: &str,
        connection_id: &str,
        now: Timestamp,
    ) -> Result<(), Error> {
        let principal = self.authorize(token, Access::SessionOnly("unlink identities"), now)?;
        let user = self
            .store()
            .get_user(&principal.user_id)?
            .ok_or(Error::NotFound("account"))?;
        let connections = self.store().list_oauth_connections(&user.id)?;
        // Only this user's connections are searched, so another user's id gets the
        // same answer as one that never existed.
        let Some(connection) = connections.iter().find(|c| c.id == connection_id) else {
            return Err(Error::NoSuchConnection);
        };
        if user.password_hash.is_none() && connections.len() == 1 {
            return Err(Error::LastSignInMethod);
        }
        if !self
            .store()
            .delete_oauth_connection(&user.id, connection_id)?
        {
            // A concurrent unlink of the same connection won; the outcome is the same.
            return Ok(());
        }
        if user.password_hash.is_none() {
            self.keep_a_way_in(&user.id, connection)?;
        }
        Ok(())
    }

    /// Undoes an unlink that, together with concurrent unlinks of the account's
    /// other identities, left an account without a password no identity at all.
    /// The store has no conditional delete, so the check before deleting cannot see
    /// a concurrent unlink; looking again afterwards does, and each racing request
    /// restores what it removed and refuses.
    fn keep_a_way_in(&self, user_id: &str, removed: &OauthConnection) -> Result<(), Error> {
        if !self.store().list_oauth_connections(user_id)?.is_empty() {
            return Ok(());
        }
        let restored = self.store().create_oauth_connection(NewOauthConnection {
            user_id: user_id.to_owned(),
            provider: removed.provider.clone(),
            subject: removed.subject.clone(),
            email: removed.email.clone(),
            created_at: removed.created_at,
        });
        match restored {
            // Linked again in the meantime (a sign-in by verified email): a way in.
            Ok(_) | Err(StoreError::Conflict(_)) => Err(Error::LastSignInMethod),
            Err(error) => Err(error.into()),
        }
    }

    /// One attempt at finding, linking or creating the identity's account.
    fn resolve(
        &self,
        provider: &str,
        subject: &str,
        identity: &ProviderIdentity,
        now: Timestamp,
    ) -> Result<Resolved, Error> {
        let store = self.store();
        if let Some(connection) = store.get_oauth_connection(provider, subject)? {
            // The link wins over whatever email the provider gives now: the subject
            // is what identifies the person. The connection keeps the email it was
            // linked with, since the store contract has no way to update it.
            return Ok(match store.get_user(&connection.user_id)? {
                Some(user) => Resolved::Account(user),
                // Deleted with its account since the lookup.
                None => Resolved::LostRace,
            });
        }
        let email = verified_email(identity)?;
        let user = match store.get_user_by_email(&email)? {
            Some(user) => user,
            None => {
                let created = store.create_user(NewUser {
                    email: email.clone(),
                    display_name: display_name(identity.display_name.as_deref()),
                    // The account signs in through its identities until it has one.
                    password_hash: None,
                    created_at: now,
                });
                match created {
                    Ok(user) => user,
                    Err(StoreError::Conflict(what)) if what == "email" => {
                        return Ok(Resolved::LostRace);
                    }
                    Err(error) => return Err(error.into()),
                }
            }
        };
        let linked = store.create_oauth_connection(NewOauthConnection {
            user_id: user.id.clone(),
            provider: provider.to_owned(),
            subject: subject.to_owned(),
            email: Some(email),
            created_at: now,
        });
        match linked {
            Ok(_) => Ok(Resolved::Account(user)),
            // Linked by a concurrent sign-in, or the account was deleted since the
            // lookup (the foreign key): look again.
            Err(StoreError::Conflict(what)) if what == "oauth-connection" => Ok(Resolved::LostRace),
            Err(StoreError::NotFound) => Ok(Resolved::LostRace),
            Err(error) => Err(error.into()),
        }
    }
}

/// The operator's provider name, as `providers.toml` names it: lowercase
/// kebab-case ("github", "example-sso"), starting with a letter, at most
/// [`MAX_PROVIDER_CHARS`] characters.
pub fn provider_name(raw: &str) -> Result<&str, Error> {
    if raw.is_empty() {
        return Err(Error::InvalidInput("provider name is required"));
    }
    if raw.len() > MAX_PROVIDER_CHARS {
        return Err(Error::InvalidInput(
            "provider name must be at most 32 characters",
        ));
    }
    let kebab = raw.starts_with(|c: char| c.is_ascii_lowercase())
        && !raw.ends_with('-')
        && !raw.contains("--")
        && raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !kebab {
        return Err(Error::InvalidInput(
            "provider name must be lowercase kebab-case, like \"github\" or \"example-sso\"",
        ));
    }
    Ok(raw)
}

/// The subject identifier, exactly as the provider gave it (it is compared, never
/// shown as text to trust): required, at most [`MAX_SUBJECT_CHARS`] characters,
/// without control characters.
fn subject(raw: &str) -> Result<&str, Error> {
    if raw.trim().is_empty() {
        return Err(Error::InvalidInput("the identity has no subject"));
    }
    if raw.chars().count() > MAX_SUBJECT_CHARS {
        return Err(Error::InvalidInput(
            "the identity's subject must be at most 255 characters",
        ));
    }
    if raw.chars().any(char::is_control) {
        return Err(Error::InvalidInput(
            "the identity's subject must not contain control characters",
        ));
    }
    Ok(raw)
}

/// The identity's email, normalised, when the provider verified it; the refusal
/// that says what to do otherwise.
fn verified_email(identity: &ProviderIdentity) -> Result<String, Error> {
    let given = identity
        .email
        .as_deref()
        .map(str::trim)
        .filter(|email| !email.is_empty());
    match given {
        None => Err(Error::NoProviderEmail),
        Some(email) if !identity.email_verified => Err(Error::UnverifiedEmail(email.to_owned())),
        Some(email) => Ok(email::parse(email)?),
    }
}

/// The provider's display name for a new account: trimmed and cut to the length
/// accounts allow. A provider's profile is not the user's input, so a name QHub
/// would refuse from a user is dropped or cut rather than failing the sign-in.
fn display_name(raw: Option<&str>) -> Option<String> {
    let name = raw?.trim();
    if name.is_empty() || name.chars().any(char::is_control) {
        return None;
    }
    Some(name.chars().take(MAX_DISPLAY_NAME_CHARS).collect())
}

#[cfg(test)]
#[path = "identities_tests.rs"]
mod tests;
