//! The [`Store`] port over the WIT `store` import, wired by the host to a backend
//! plugin. The port's records are the WIT records, so each call passes straight
//! through.

use crate::bindings::qhub::plugin::store as host;
use crate::store::{
    ApiKey, JobStatus, LoginAttempt, LoginLimit, NewApiKey, NewOauthConnection, NewQuantumJob,
    NewSession, NewUser, OauthConnection, Preference, QuantumJob, Quota, Session, Store,
    StoreError, Timestamp, Transition, Usage, User,
};

/// The `store` import, wired by the host to a backend plugin.
#[derive(Debug)]
pub struct HostStore;

impl Store for HostStore {
    fn create_user(&self, user: NewUser) -> Result<User, StoreError> {
        host::create_user(&user)
    }

    fn create_user_with_session(
        &self,
        user: NewUser,
        user_agent: Option<String>,
        ip: Option<String>,
        expires_at: Timestamp,
    ) -> Result<(User, Session), StoreError> {
        host::create_user_with_session(&user, user_agent.as_deref(), ip.as_deref(), expires_at)
    }

    fn get_user(&self, id: &str) -> Result<Option<User>, StoreError> {
        host::get_user(id)
    }

    fn get_user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        host::get_user_by_email(email)
    }

    fn set_password_hash(
        &self,
        user_id: &str,
        hash: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        host::set_password_hash(user_id, hash, now)
    }

    fn set_display_name(
        &self,
        user_id: &str,
        name: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        host::set_display_name(user_id, name, now)
    }

    fn create_session(
        &self,
        session: NewSession,
        password_hash: Option<&str>,
    ) -> Result<Session, StoreError> {
        host::create_session(&session, password_hash)
    }

    fn get_session(&self, id: &str) -> Result<Option<Session>, StoreError> {
        host::get_session(id)
    }

    fn touch_session(&self, id: &str, now: Timestamp) -> Result<(), StoreError> {
        host::touch_session(id, now)
    }

    fn list_sessions(&self, user_id: &str, now: Timestamp) -> Result<Vec<Session>, StoreError> {
        host::list_sessions(user_id, now)
    }

    fn revoke_session(
        &self,
        user_id: &str,
        session_id: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        host::revoke_session(user_id, session_id, now)
    }

    fn revoke_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
        now: Timestamp,
    ) -> Result<u32, StoreError> {
        host::revoke_sessions(user_id, keep, now)
    }

    fn delete_user(&self, user_id: &str) -> Result<(), StoreError> {
        host::delete_user(user_id)
    }

    fn create_oauth_connection(
        &self,
        connection: NewOauthConnection,
    ) -> Result<OauthConnection, StoreError> {
        host::create_oauth_connection(&connection)
    }

    fn get_oauth_connection(
        &self,
        provider: &str,
        subject: &str,
    ) -> Result<Option<OauthConnection>, StoreError> {
        host::get_oauth_connection(provider, subject)
    }

    fn list_oauth_connections(&self, user_id: &str) -> Result<Vec<OauthConnection>, StoreError> {
        host::list_oauth_connections(user_id)
    }

    fn delete_oauth_connection(
        &self,
        user_id: &str,
        connection_id: &str,
    ) -> Result<bool, StoreError> {
        host::delete_oauth_connection(user_id, connection_id)
    }

    fn create_api_key(&self, key: NewApiKey) -> Result<ApiKey, StoreError> {
        host::create_api_key(&key)
    }

    fn get_api_key_by_hash(&self, secret_hash: &str) -> Result<Option<ApiKey>, StoreError> {
        host::get_api_key_by_hash(secret_hash)
    }

    fn list_api_keys(&self, user_id: &str) -> Result<Vec<ApiKey>, StoreError> {
        host::list_api_keys(user_id)
    }

    fn revoke_api_key(
        &self,
        user_id: &str,
        key_id: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        host::revoke_api_key(user_id, key_id, now)
    }

    fn touch_api_key(&self, key_id: &str, now: Timestamp) -> Result<(), StoreError> {
        host::touch_api_key(key_id, now)
    }

    fn list_preferences(&self, user_id: &str) -> Result<Vec<Preference>, StoreError> {
        host::list_preferences(user_id)
    }

    fn set_preference(
        &self,
        user_id: &str,
        key: &str,
        value: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        host::set_preference(user_id, key, value, now)
    }

    fn delete_preference(&self, user_id: &str, key: &str) -> Result<bool, StoreError> {
        host::delete_preference(user_id, key)
    }

    fn get_usage(&self, user_id: &str, period: &str) -> Result<Usage, StoreError> {
        host::get_usage(user_id, period)
    }

    fn submit_job(&self, job: NewQuantumJob, quota: Quota) -> Result<QuantumJob, StoreError> {
        host::submit_job(&job, &quota)
    }

    fn get_job(&self, user_id: &str, job_id: &str) -> Result<Option<QuantumJob>, StoreError> {
        host::get_job(user_id, job_id)
    }

    fn list_jobs(
        &self,
        user_id: &str,
        status: Option<JobStatus>,
        limit: u32,
    ) -> Result<Vec<QuantumJob>, StoreError> {
        host::list_jobs(user_id, status, limit)
    }

    fn transition_job(
        &self,
        user_id: &str,
        job_id: &str,
        change: Transition<'_>,
    ) -> Result<Option<QuantumJob>, StoreError> {
        host::transition_job(
            user_id,
            job_id,
            change.from,
            change.status,
            change.result,
            change.error,
            change.now,
        )
    }

    fn begin_login_attempt(
        &self,
        key: &str,
        now: Timestamp,
        limit: LoginLimit,
    ) -> Result<LoginAttempt, StoreError> {
        host::begin_login_attempt(key, now, limit)
    }

    fn refund_login_attempt(&self, key: &str, max_attempts: u32) -> Result<(), StoreError> {
        host::refund_login_attempt(key, max_attempts)
    }

    fn clear_login_throttle(&self, key: &str) -> Result<(), StoreError> {
        host::clear_login_throttle(key)
    }
}
