//! The [`Store`] port over the WIT `store` import, wired by the host to a backend
//! plugin, and the conversions between the port's plain types and WIT records.

use crate::bindings::qhub::plugin::{store as host, types};
use crate::store::{
    ApiKey, Job, JobStatus, LoginAttempt, LoginLimit, LoginThrottle, Millis, NewApiKey, NewJob,
    NewOAuthConnection, NewSession, NewUser, OAuthConnection, Preference, Quota, Session, Store,
    StoreError, Transition, Usage, User,
};

/// The `store` import, wired by the host to a backend plugin.
#[derive(Debug)]
pub struct HostStore;

impl Store for HostStore {
    fn create_user(&self, user: NewUser) -> Result<User, StoreError> {
        let user = types::NewUser {
            email: user.email,
            display_name: user.display_name,
            password_hash: user.password_hash,
            created_at: user.created_at,
        };
        host::create_user(&user)
            .map(user_from_wit)
            .map_err(Into::into)
    }

    fn create_user_with_session(
        &self,
        user: NewUser,
        user_agent: Option<String>,
        ip: Option<String>,
        expires_at: Millis,
    ) -> Result<(User, Session), StoreError> {
        let user = types::NewUser {
            email: user.email,
            display_name: user.display_name,
            password_hash: user.password_hash,
            created_at: user.created_at,
        };
        let (user, session) = host::create_user_with_session(
            &user,
            user_agent.as_deref(),
            ip.as_deref(),
            expires_at,
        )?;
        Ok((user_from_wit(user), session_from_wit(session)))
    }

    fn get_user(&self, id: &str) -> Result<Option<User>, StoreError> {
        Ok(host::get_user(id)?.map(user_from_wit))
    }

    fn get_user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        Ok(host::get_user_by_email(email)?.map(user_from_wit))
    }

    fn set_password_hash(&self, user_id: &str, hash: &str, now: Millis) -> Result<(), StoreError> {
        Ok(host::set_password_hash(user_id, hash, now)?)
    }

    fn set_display_name(
        &self,
        user_id: &str,
        name: Option<&str>,
        now: Millis,
    ) -> Result<(), StoreError> {
        Ok(host::set_display_name(user_id, name, now)?)
    }

    fn create_session(
        &self,
        session: NewSession,
        password_hash: Option<&str>,
    ) -> Result<Session, StoreError> {
        let session = types::NewSession {
            user_id: session.user_id,
            user_agent: session.user_agent,
            ip: session.ip,
            created_at: session.created_at,
            expires_at: session.expires_at,
        };
        host::create_session(&session, password_hash)
            .map(session_from_wit)
            .map_err(Into::into)
    }

    fn get_session(&self, id: &str) -> Result<Option<Session>, StoreError> {
        Ok(host::get_session(id)?.map(session_from_wit))
    }

    fn touch_session(&self, id: &str, now: Millis) -> Result<(), StoreError> {
        Ok(host::touch_session(id, now)?)
    }

    fn list_sessions(&self, user_id: &str, now: Millis) -> Result<Vec<Session>, StoreError> {
        let sessions = host::list_sessions(user_id, now)?;
        Ok(sessions.into_iter().map(session_from_wit).collect())
    }

    fn revoke_session(
        &self,
        user_id: &str,
        session_id: &str,
        now: Millis,
    ) -> Result<bool, StoreError> {
        Ok(host::revoke_session(user_id, session_id, now)?)
    }

    fn revoke_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
        now: Millis,
    ) -> Result<u32, StoreError> {
        Ok(host::revoke_sessions(user_id, keep, now)?)
    }

    fn delete_user(&self, user_id: &str) -> Result<(), StoreError> {
        Ok(host::delete_user(user_id)?)
    }

    fn create_oauth_connection(
        &self,
        connection: NewOAuthConnection,
    ) -> Result<OAuthConnection, StoreError> {
        let connection = types::NewOauthConnection {
            user_id: connection.user_id,
            provider: connection.provider,
            subject: connection.subject,
            email: connection.email,
            created_at: connection.created_at,
        };
        Ok(host::create_oauth_connection(&connection)?.into())
    }

    fn get_oauth_connection(
        &self,
        provider: &str,
        subject: &str,
    ) -> Result<Option<OAuthConnection>, StoreError> {
        Ok(host::get_oauth_connection(provider, subject)?.map(Into::into))
    }

    fn list_oauth_connections(&self, user_id: &str) -> Result<Vec<OAuthConnection>, StoreError> {
        let connections = host::list_oauth_connections(user_id)?;
        Ok(connections.into_iter().map(Into::into).collect())
    }

    fn delete_oauth_connection(
        &self,
        user_id: &str,
        connection_id: &str,
    ) -> Result<bool, StoreError> {
        Ok(host::delete_oauth_connection(user_id, connection_id)?)
    }

    fn create_api_key(&self, key: NewApiKey) -> Result<ApiKey, StoreError> {
        let key = types::NewApiKey {
            user_id: key.user_id,
            name: key.name,
            prefix: key.prefix,
            secret_hash: key.secret_hash,
            scopes: key.scopes,
            created_at: key.created_at,
            expires_at: key.expires_at,
        };
        Ok(api_key_from_wit(host::create_api_key(&key)?))
    }

    fn get_api_key_by_hash(&self, secret_hash: &str) -> Result<Option<ApiKey>, StoreError> {
        Ok(host::get_api_key_by_hash(secret_hash)?.map(api_key_from_wit))
    }

    fn list_api_keys(&self, user_id: &str) -> Result<Vec<ApiKey>, StoreError> {
        let keys = host::list_api_keys(user_id)?;
        Ok(keys.into_iter().map(api_key_from_wit).collect())
    }

    fn revoke_api_key(&self, user_id: &str, key_id: &str, now: Millis) -> Result<bool, StoreError> {
        Ok(host::revoke_api_key(user_id, key_id, now)?)
    }

    fn touch_api_key(&self, key_id: &str, now: Millis) -> Result<(), StoreError> {
        Ok(host::touch_api_key(key_id, now)?)
    }

    fn list_preferences(&self, user_id: &str) -> Result<Vec<Preference>, StoreError> {
        let preferences = host::list_preferences(user_id)?;
        Ok(preferences
            .into_iter()
            .map(|preference| Preference {
                key: preference.key,
                value: preference.value,
                updated_at: preference.updated_at,
            })
            .collect())
    }

    fn set_preference(
        &self,
        user_id: &str,
        key: &str,
        value: &str,
        now: Millis,
    ) -> Result<(), StoreError> {
        Ok(host::set_preference(user_id, key, value, now)?)
    }

    fn delete_preference(&self, user_id: &str, key: &str) -> Result<bool, StoreError> {
        Ok(host::delete_preference(user_id, key)?)
    }

    fn get_usage(&self, user_id: &str, period: &str) -> Result<Usage, StoreError> {
        let usage = host::get_usage(user_id, period)?;
        Ok(Usage {
            period: usage.period,
            jobs: usage.jobs,
            shots: usage.shots,
        })
    }

    fn submit_job(&self, job: NewJob, quota: Quota) -> Result<Job, StoreError> {
        let job = types::NewQuantumJob {
            user_id: job.user_id,
            backend: job.backend,
            shots: job.shots,
            source: job.source,
            created_at: job.created_at,
        };
        let quota = types::Quota {
            period: quota.period,
            max_jobs: quota.max_jobs,
            max_shots: quota.max_shots,
        };
        Ok(host::submit_job(&job, &quota)?.into())
    }

    fn get_job(&self, user_id: &str, job_id: &str) -> Result<Option<Job>, StoreError> {
        Ok(host::get_job(user_id, job_id)?.map(Into::into))
    }

    fn list_jobs(
        &self,
        user_id: &str,
        status: Option<JobStatus>,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError> {
        let jobs = host::list_jobs(user_id, status.map(Into::into), limit)?;
        Ok(jobs.into_iter().map(Into::into).collect())
    }

    fn transition_job(
        &self,
        user_id: &str,
        job_id: &str,
        change: Transition<'_>,
    ) -> Result<Option<Job>, StoreError> {
        let from: Vec<types::JobStatus> = change.from.iter().copied().map(Into::into).collect();
        let job = host::transition_job(
            user_id,
            job_id,
            &from,
            change.status.into(),
            change.result,
            change.error,
            change.now,
        )?;
        Ok(job.map(Into::into))
    }

    fn begin_login_attempt(
        &self,
        key: &str,
        now: Millis,
        limit: LoginLimit,
    ) -> Result<LoginAttempt, StoreError> {
        let limit = types::LoginLimit {
            window_start: limit.window_start,
            max_attempts: limit.max_attempts,
            base_lock: limit.base_lock,
            max_lock: limit.max_lock,
        };
        let attempt = host::begin_login_attempt(key, now, limit)?;
        Ok(LoginAttempt {
            admitted: attempt.admitted,
            throttle: attempt.throttle.into(),
        })
    }

    fn refund_login_attempt(&self, key: &str, max_attempts: u32) -> Result<(), StoreError> {
        Ok(host::refund_login_attempt(key, max_attempts)?)
    }

    fn clear_login_throttle(&self, key: &str) -> Result<(), StoreError> {
        Ok(host::clear_login_throttle(key)?)
    }
}

fn user_from_wit(user: types::User) -> User {
    User {
        id: user.id,
        email: user.email,
        display_name: user.display_name,
        password_hash: user.password_hash,
        created_at: user.created_at,
        updated_at: user.updated_at,
    }
}

fn api_key_from_wit(key: types::ApiKey) -> ApiKey {
    ApiKey {
        id: key.id,
        user_id: key.user_id,
        name: key.name,
        prefix: key.prefix,
        secret_hash: key.secret_hash,
        scopes: key.scopes,
        created_at: key.created_at,
        expires_at: key.expires_at,
        last_used_at: key.last_used_at,
        revoked_at: key.revoked_at,
    }
}

fn session_from_wit(session: types::Session) -> Session {
    Session {
        id: session.id,
        user_id: session.user_id,
        user_agent: session.user_agent,
        ip: session.ip,
        created_at: session.created_at,
        last_seen_at: session.last_seen_at,
        expires_at: session.expires_at,
        revoked_at: session.revoked_at,
    }
}

impl From<JobStatus> for types::JobStatus {
    fn from(status: JobStatus) -> Self {
        match status {
            JobStatus::Queued => types::JobStatus::Queued,
            JobStatus::Running => types::JobStatus::Running,
            JobStatus::Completed => types::JobStatus::Completed,
            JobStatus::Failed => types::JobStatus::Failed,
            JobStatus::Cancelled => types::JobStatus::Cancelled,
        }
    }
}

impl From<types::JobStatus> for JobStatus {
    fn from(status: types::JobStatus) -> Self {
        match status {
            types::JobStatus::Queued => JobStatus::Queued,
            types::JobStatus::Running => JobStatus::Running,
            types::JobStatus::Completed => JobStatus::Completed,
            types::JobStatus::Failed => JobStatus::Failed,
            types::JobStatus::Cancelled => JobStatus::Cancelled,
        }
    }
}

impl From<types::QuantumJob> for Job {
    fn from(job: types::QuantumJob) -> Self {
        Job {
            id: job.id,
            user_id: job.user_id,
            status: job.status.into(),
            backend: job.backend,
            shots: job.shots,
            source: job.source,
            result: job.result,
            error: job.error,
            created_at: job.created_at,
            updated_at: job.updated_at,
        }
    }
}

impl From<Job> for types::QuantumJob {
    fn from(job: Job) -> Self {
        types::QuantumJob {
            id: job.id,
            user_id: job.user_id,
            status: job.status.into(),
            backend: job.backend,
            shots: job.shots,
            source: job.source,
            result: job.result,
            error: job.error,
            created_at: job.created_at,
            updated_at: job.updated_at,
        }
    }
}

impl From<Preference> for types::Preference {
    fn from(preference: Preference) -> Self {
        types::Preference {
            key: preference.key,
            value: preference.value,
            updated_at: preference.updated_at,
        }
    }
}

impl From<types::OauthConnection> for OAuthConnection {
    fn from(connection: types::OauthConnection) -> Self {
        OAuthConnection {
            id: connection.id,
            user_id: connection.user_id,
            provider: connection.provider,
            subject: connection.subject,
            email: connection.email,
            created_at: connection.created_at,
        }
    }
}

impl From<types::LoginThrottle> for LoginThrottle {
    fn from(throttle: types::LoginThrottle) -> Self {
        LoginThrottle {
            key: throttle.key,
            failures: throttle.failures,
            window_started_at: throttle.window_started_at,
            locked_until: throttle.locked_until,
        }
    }
}

impl From<types::StoreError> for StoreError {
    fn from(error: types::StoreError) -> Self {
        match error {
            types::StoreError::NotFound => StoreError::NotFound,
            types::StoreError::Conflict(what) => StoreError::Conflict(what),
            types::StoreError::QuotaExceeded => StoreError::QuotaExceeded,
            types::StoreError::Unavailable(detail) => StoreError::Unavailable(detail),
            types::StoreError::Internal(detail) => StoreError::Internal(detail),
        }
    }
}
