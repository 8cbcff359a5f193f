//! QHub's account core as a WebAssembly component (world `account-core`).
//!
//! This file only translates: WIT records in, [`accounts::Accounts`] and
//! [`data::AccountData`] flows over the `store` import (see `host_store`), WIT
//! records out, for the exported interfaces `accounts` and `identities`; the
//! third, `api`, is the HTTP API over them ([`api`]). The rules themselves live in
//! the modules below.

mod accounts;
mod api;
mod api_oauth;
mod data;
mod email;
mod error;
mod host_store;
mod hs256;
mod identities;
mod keys;
#[cfg(test)]
mod memory_store;
mod password;
mod store;
mod throttle;
mod token;
mod validate;

use std::time::{SystemTime, UNIX_EPOCH};

use bindings::exports::qhub::plugin::accounts as wit;
use bindings::exports::qhub::plugin::identities as wit_identities;
use bindings::qhub::plugin::types;
use bindings::qhub::provider::config;

use crate::accounts::{Accounts, Client, Registration};
use crate::data::{AccountData, JobRequest};
use crate::error::Error;
use crate::host_store::HostStore;
use crate::identities::ProviderIdentity;
use crate::store::{ApiKey, OauthConnection, Timestamp, User};
use crate::token::Tokens;

// The workspace denies unsafe code, but the ABI glue wit-bindgen generates (and the
// `export!` macro it defines) is necessarily unsafe. The allowance stays inside this
// module, so none of the hand-written code may use `unsafe`.
#[expect(unsafe_code, reason = "wit-bindgen's generated canonical ABI glue")]
mod bindings {
    use super::Component;

    wit_bindgen::generate!({
        world: "account-core",
        path: "../../wit",
        // `config` comes from the public package `qhub:provider` (wit/deps).
        generate_all,
        // The store port's records are these types (store.rs); the flows and their
        // tests compare them.
        additional_derives: [PartialEq, Eq],
    });

    export!(Component);
}

/// The exported `accounts` interface.
#[derive(Debug)]
struct Component;

impl wit::Guest for Component {
    fn register(
        request: wit::RegisterRequest,
        client: wit::ClientInfo,
    ) -> Result<wit::SignedIn, wit::Error> {
        let request = Registration {
            email: request.email,
            password: request.password,
            display_name: request.display_name,
        };
        run(|core, now| core.register(request, client.into(), now)).map(Into::into)
    }

    fn login(
        email: String,
        password: String,
        client: wit::ClientInfo,
    ) -> Result<wit::SignedIn, wit::Error> {
        run(|core, now| core.login(&email, &password, client.into(), now)).map(Into::into)
    }

    fn authenticate(token: String) -> Result<wit::Principal, wit::Error> {
        let principal = run(|core, now| core.authenticate(&token, now))?;
        Ok(wit::Principal {
            user_id: principal.user_id,
            session_id: principal.session_id,
            api_key_id: principal.api_key_id,
            scopes: principal
                .scopes
                .into_iter()
                .map(|scope| scope.as_str().to_owned())
                .collect(),
            expires_at: principal.expires_at,
        })
    }

    fn whoami(token: String) -> Result<wit::Profile, wit::Error> {
        run(|core, now| core.whoami(&token, now)).map(Into::into)
    }

    fn set_display_name(
        token: String,
        display_name: Option<String>,
    ) -> Result<wit::Profile, wit::Error> {
        run(|core, now| core.set_display_name(&token, display_name, now)).map(Into::into)
    }

    fn logout(token: String) -> Result<(), wit::Error> {
        run(|core, now| core.logout(&token, now))
    }

    fn list_sessions(token: String) -> Result<Vec<wit::SessionInfo>, wit::Error> {
        let sessions = run(|core, now| core.list_sessions(&token, now))?;
        Ok(sessions.into_iter().map(Into::into).collect())
    }

    fn revoke_session(token: String, session_id: String) -> Result<(), wit::Error> {
        run(|core, now| core.revoke_session(&token, &session_id, now))
    }

    fn revoke_other_sessions(token: String) -> Result<u32, wit::Error> {
        run(|core, now| core.revoke_other_sessions(&token, now))
    }

    fn logout_all(token: String) -> Result<u32, wit::Error> {
        run(|core, now| core.logout_all(&token, now))
    }

    fn change_password(
        token: String,
        current_password: String,
        new_password: String,
    ) -> Result<(), wit::Error> {
        run(|core, now| core.change_password(&token, &current_password, &new_password, now))
    }

    fn list_preferences(token: String) -> Result<Vec<types::Preference>, wit::Error> {
        run_data(|data, now| data.list_preferences(&token, now))
    }

    fn set_preference(token: String, key: String, value: String) -> Result<(), wit::Error> {
        run_data(|data, now| data.set_preference(&token, &key, &value, now))
    }

    fn unset_preference(token: String, key: String) -> Result<(), wit::Error> {
        run_data(|data, now| data.unset_preference(&token, &key, now))
    }

    fn get_usage(token: String) -> Result<wit::UsageReport, wit::Error> {
        let usage = run_data(|data, now| data.get_usage(&token, now))?;
        Ok(wit::UsageReport {
            period: usage.period,
            jobs_used: usage.jobs_used,
            jobs_limit: usage.jobs_limit,
            shots_used: usage.shots_used,
            shots_limit: usage.shots_limit,
        })
    }

    fn submit_job(
        token: String,
        request: wit::JobRequest,
    ) -> Result<types::QuantumJob, wit::Error> {
        let request = JobRequest {
            source: request.source,
            shots: request.shots,
            backend: request.backend,
        };
        run_data(|data, now| data.submit_job(&token, request, now))
    }

    fn list_jobs(
        token: String,
        status: Option<types::JobStatus>,
    ) -> Result<Vec<types::QuantumJob>, wit::Error> {
        run_data(|data, now| data.list_jobs(&token, status, now))
    }

    fn get_job(token: String, job_id: String) -> Result<types::QuantumJob, wit::Error> {
        run_data(|data, now| data.get_job(&token, &job_id, now))
    }

    fn cancel_job(token: String, job_id: String) -> Result<types::QuantumJob, wit::Error> {
        run_data(|data, now| data.cancel_job(&token, &job_id, now))
    }

    fn create_api_key(
        token: String,
        name: String,
        scopes: Option<Vec<String>>,
        expires_in: Option<u64>,
    ) -> Result<wit::NewApiKey, wit::Error> {
        let created = run(|core, now| {
            core.create_api_key(&token, &name, scopes.as_deref(), expires_in, now)
        })?;
        Ok(wit::NewApiKey {
            key: created.key.into(),
            secret: created.secret,
        })
    }

    fn list_api_keys(token: String) -> Result<Vec<wit::ApiKeyInfo>, wit::Error> {
        let keys = run(|core, now| core.list_api_keys(&token, now))?;
        Ok(keys.into_iter().map(Into::into).collect())
    }

    fn revoke_api_key(token: String, key_id: String) -> Result<(), wit::Error> {
        run(|core, now| core.revoke_api_key(&token, &key_id, now))
    }

    fn export_account(token: String) -> Result<String, wit::Error> {
        run_data(|data, now| data.export_account(&token, now))
    }

    fn delete_account(token: String) -> Result<(), wit::Error> {
        run_data(|data, now| data.delete_account(&token, now))
    }
}

/// The exported `api` interface: the HTTP API (see [`api`]).
impl bindings::exports::qhub::plugin::api::Guest for Component {
    fn handle(
        request: bindings::exports::qhub::plugin::api::Request,
    ) -> bindings::exports::qhub::plugin::api::Response {
        api::handle(request)
    }

    fn check_config() -> Option<String> {
        if let Err(err) = Tokens::from_config(config::get) {
            return Some(err.to_string());
        }
        data::Limits::from_config(config::get)
            .err()
            .map(|err| err.to_string())
    }
}

/// The exported `identities` interface.
impl wit_identities::Guest for Component {
    fn sign_in_with_identity(
        provider: String,
        identity: wit_identities::ProviderIdentity,
        client: wit::ClientInfo,
    ) -> Result<wit::SignedIn, wit::Error> {
        let identity = ProviderIdentity {
            subject: identity.subject,
            email: identity.email,
            email_verified: identity.email_verified,
            display_name: identity.display_name,
        };
        run(|core, now| core.sign_in_with_identity(&provider, identity, client.into(), now))
            .map(Into::into)
    }

    fn list_connections(token: String) -> Result<Vec<wit_identities::ConnectionInfo>, wit::Error> {
        let connections = run(|core, now| core.list_connections(&token, now))?;
        Ok(connections.into_iter().map(Into::into).collect())
    }

    fn unlink_connection(token: String, connection_id: String) -> Result<(), wit::Error> {
        run(|core, now| core.unlink_connection(&token, &connection_id, now))
    }
}

/// Builds the core from the host's configuration (read on every call: the core
/// keeps nothing between calls, whether or not the host reuses its instance) and
/// runs `flow` with the current time.
fn run<T>(
    flow: impl FnOnce(&Accounts<HostStore>, Timestamp) -> Result<T, Error>,
) -> Result<T, wit::Error> {
    let tokens = Tokens::from_config(config::get).map_err(Error::from)?;
    flow(&Accounts::new(HostStore, tokens), now()).map_err(Into::into)
}

/// Like [`run`], for the data flows, which also read the quota configuration.
fn run_data<T>(
    flow: impl FnOnce(
        &AccountData<'_, HostStore, fn(&str) -> Option<String>>,
        Timestamp,
    ) -> Result<T, Error>,
) -> Result<T, wit::Error> {
    run(|core, now| flow(&AccountData::new(core, config::get), now))
}

/// Milliseconds since the epoch; `SystemTime` reads `wasi:clocks` on wasm32-wasip2.
fn now() -> Timestamp {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::try_from(since_epoch.as_millis()).unwrap_or(Timestamp::MAX)
}

impl From<wit::ClientInfo> for Client {
    fn from(client: wit::ClientInfo) -> Self {
        Client {
            user_agent: client.user_agent,
            ip: client.ip,
        }
    }
}

impl From<User> for wit::Profile {
    fn from(user: User) -> Self {
        wit::Profile {
            id: user.id,
            email: user.email,
            display_name: user.display_name,
            created_at: user.created_at,
        }
    }
}

impl From<accounts::SignedIn> for wit::SignedIn {
    fn from(signed_in: accounts::SignedIn) -> Self {
        wit::SignedIn {
            token: signed_in.token,
            session_id: signed_in.session_id,
            expires_at: signed_in.expires_at,
            user: signed_in.user.into(),
        }
    }
}

impl From<accounts::SessionInfo> for wit::SessionInfo {
    fn from(session: accounts::SessionInfo) -> Self {
        wit::SessionInfo {
            id: session.id,
            user_agent: session.user_agent,
            ip: session.ip,
            created_at: session.created_at,
            last_seen_at: session.last_seen_at,
            expires_at: session.expires_at,
            current: session.current,
        }
    }
}

impl From<ApiKey> for wit::ApiKeyInfo {
    fn from(key: ApiKey) -> Self {
        wit::ApiKeyInfo {
            id: key.id,
            name: key.name,
            prefix: key.prefix,
            scopes: key.scopes,
            created_at: key.created_at,
            expires_at: key.expires_at,
            last_used_at: key.last_used_at,
        }
    }
}

impl From<OauthConnection> for wit_identities::ConnectionInfo {
    fn from(connection: OauthConnection) -> Self {
        wit_identities::ConnectionInfo {
            id: connection.id,
            provider: connection.provider,
            subject: connection.subject,
            email: connection.email,
            created_at: connection.created_at,
        }
    }
}

impl From<Error> for wit::Error {
    fn from(error: Error) -> Self {
        use wit::ErrorCode as Code;
        let code = match &error {
            Error::InvalidEmail(_)
            | Error::InvalidInput(_)
            | Error::ControlCharacters(_)
            | Error::NoScopes
            | Error::InvalidJson(_)
            | Error::UnknownScope(_) => Code::InvalidInput,
            Error::WeakPassword(_) => Code::WeakPassword,
            Error::EmailTaken => Code::EmailTaken,
            Error::InvalidCredentials | Error::WrongPassword => Code::InvalidCredentials,
            Error::RateLimited { .. } => Code::RateLimited,
            Error::Unauthenticated(_) => Code::Unauthenticated,
            Error::SessionOnly(_)
            | Error::MissingScope(_)
            | Error::UnverifiedEmail(_)
            | Error::NoProviderEmail => Code::Forbidden,
            Error::NotFound(_)
            | Error::NoSuchSession
            | Error::NoSuchApiKey
            | Error::NoSuchJob
            | Error::NoSuchConnection
            | Error::PreferenceNotSet => Code::NotFound,
            Error::Conflict(_)
            | Error::JobAlready(_)
            | Error::NoPassword
            | Error::LastSignInMethod
            | Error::SignInRaced => Code::Conflict,
            Error::QuotaExceeded | Error::MonthlyQuota { .. } => Code::QuotaExceeded,
            Error::Unavailable => Code::Unavailable,
            Error::Internal(_) => Code::Internal,
        };
        wit::Error {
            code,
            message: error.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::email::EmailError;
    use crate::error::AuthFailure;
    use crate::password::PolicyViolation;
    use crate::store::JobStatus;

    fn check(error: Error, code: wit::ErrorCode, message: &str) {
        let converted = wit::Error::from(error);
        assert_eq!(converted.code, code);
        assert_eq!(converted.message, message);
    }

    #[test]
    fn errors_map_to_wit_codes() {
        use wit::ErrorCode as Code;
        check(
            EmailError::At.into(),
            Code::InvalidInput,
            "invalid email address: expected exactly one @",
        );
        check(
            Error::InvalidInput("password is required"),
            Code::InvalidInput,
            "password is required",
        );
        check(
            PolicyViolation::TooShort.into(),
            Code::WeakPassword,
            "password must be at least 8 characters",
        );
        check(
            Error::EmailTaken,
            Code::EmailTaken,
            "an account with this email already exists",
        );
        check(
            Error::InvalidCredentials,
            Code::InvalidCredentials,
            "invalid email or password",
        );
        check(
            Error::RateLimited { retry_after: 30 },
            Code::RateLimited,
            "too many failed sign-ins; try again in 30 seconds",
        );
        check(
            Error::WrongPassword,
            Code::InvalidCredentials,
            "current password is incorrect",
        );
        check(
            AuthFailure::TokenExpired.into(),
            Code::Unauthenticated,
            "token expired",
        );
        check(
            Error::NotFound("account"),
            Code::NotFound,
            "account not found",
        );
        check(
            Error::Conflict("email".into()),
            Code::Conflict,
            "email already exists",
        );
        check(Error::NoSuchSession, Code::NotFound, "no such session");
        check(Error::NoSuchApiKey, Code::NotFound, "no such api key");
        check(
            Error::UnknownScope("jobs:admin".into()),
            Code::InvalidInput,
            "unknown scope \"jobs:admin\": use account:read, jobs:read, jobs:write, prefs:read or prefs:write",
        );
        check(
            Error::SessionOnly("create API keys"),
            Code::Forbidden,
            "API keys cannot create API keys; use a session from `qhub login`",
        );
        check(
            Error::MissingScope(keys::Scope::JobsWrite),
            Code::Forbidden,
            "this API key lacks the jobs:write scope",
        );
        check(
            AuthFailure::ApiKeyRevoked.into(),
            Code::Unauthenticated,
            "api key revoked",
        );
        check(Error::QuotaExceeded, Code::QuotaExceeded, "quota exceeded");
        check(
            Error::MonthlyQuota {
                jobs: 100,
                shots: 1_000_000,
            },
            Code::QuotaExceeded,
            "monthly quota reached: 100 jobs and 1000000 shots per month; see `qhub usage`",
        );
        check(
            Error::InvalidJson("expected value at line 1 column 1".into()),
            Code::InvalidInput,
            "the preference value is not valid JSON: expected value at line 1 column 1",
        );
        check(
            Error::PreferenceNotSet,
            Code::NotFound,
            "preference not set",
        );
        check(Error::NoSuchJob, Code::NotFound, "no such job");
        check(
            Error::JobAlready(JobStatus::Completed),
            Code::Conflict,
            "job is already completed",
        );
        check(
            Error::Unavailable,
            Code::Unavailable,
            "the database is unavailable",
        );
        check(
            Error::UnverifiedEmail("ada@example.com".into()),
            Code::Forbidden,
            "the provider did not verify the email address ada@example.com; verify it at the provider, then sign in again (QHub links and creates accounts by verified email only)",
        );
        check(
            Error::NoProviderEmail,
            Code::Forbidden,
            "the provider did not share an email address; make a verified email address available to QHub at the provider, then sign in again",
        );
        check(
            Error::NoPassword,
            Code::Conflict,
            "this account has no password (it signs in through an OAuth provider), and setting a first password is not supported yet",
        );
        check(
            Error::LastSignInMethod,
            Code::Conflict,
            "cannot unlink the last identity of an account without a password: it is the only way to sign in; sign in once with another provider that verifies the account's email, then unlink this one (`qhub passwd` cannot set a first password)",
        );
        check(
            Error::NoSuchConnection,
            Code::NotFound,
            "no such connection",
        );
        check(
            Error::SignInRaced,
            Code::Conflict,
            "the account changed during sign-in; try again",
        );
        check(
            token::ConfigError::MissingSecret.into(),
            Code::Internal,
            "jwt-secret is not configured",
        );
    }
}
