//! The `store-d1` plugin: QHub's `store` contract in the SQLite dialect, the one
//! Cloudflare D1 speaks, over the host's `sql` import.
//!
//! D1 has no interactive transactions, so every operation is one statement or one
//! atomic `sql.batch`; conditional writes (quotas, state transitions) are expressed
//! in SQL (`UPDATE ... WHERE`, `INSERT ... SELECT ... WHERE`) and rows come back
//! through `RETURNING`. Row ids are UUID v4 strings generated here. The schema is
//! `migrations/d1/0001_init.sql`.

mod jobs;
mod keys;
mod oauth;
mod preferences;
mod row;
mod sessions;
mod sql;
mod users;

/// The code wit-bindgen generates for the `store-backend` world.
// The workspace denies `unsafe_code`, but the generated ABI glue (and the exports
// `export!` emits) cannot avoid `unsafe`; the exemption covers only this module, so
// the plugin's own code stays safe.
#[expect(unsafe_code, reason = "wit-bindgen's generated ABI glue is unsafe")]
mod bindings {
    wit_bindgen::generate!({
        world: "store-backend",
        path: "../../wit",
    });

    use super::D1Store;
    export!(D1Store);
}

use bindings::exports::qhub::plugin::store::Guest;
use bindings::qhub::plugin::types::{
    ApiKey, JobStatus, NewApiKey, NewOauthConnection, NewQuantumJob, NewSession, NewUser,
    OauthConnection, Preference, QuantumJob, Quota, Session, StoreError, Timestamp, Usage, User,
};

/// The exported `store` implementation; stateless, every call goes to the host.
#[derive(Debug)]
struct D1Store;

impl Guest for D1Store {
    fn create_user(user: NewUser) -> Result<User, StoreError> {
        users::create(user)
    }

    fn get_user(id: String) -> Result<Option<User>, StoreError> {
        users::get(id)
    }

    fn get_user_by_email(email: String) -> Result<Option<User>, StoreError> {
        users::get_by_email(email)
    }

    fn set_password_hash(
        user_id: String,
        password_hash: String,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        users::set_password_hash(user_id, password_hash, now)
    }

    fn set_display_name(
        user_id: String,
        display_name: Option<String>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        users::set_display_name(user_id, display_name, now)
    }

    fn delete_user(user_id: String) -> Result<(), StoreError> {
        users::delete(user_id)
    }

    fn create_session(session: NewSession) -> Result<Session, StoreError> {
        sessions::create(session)
    }

    fn get_session(id: String) -> Result<Option<Session>, StoreError> {
        sessions::get(id)
    }

    fn touch_session(id: String, now: Timestamp) -> Result<(), StoreError> {
        sessions::touch(id, now)
    }

    fn list_sessions(user_id: String, now: Timestamp) -> Result<Vec<Session>, StoreError> {
        sessions::list(user_id, now)
    }

    fn revoke_session(
        user_id: String,
        session_id: String,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        sessions::revoke(user_id, session_id, now)
    }

    fn revoke_sessions(
        user_id: String,
        keep: Option<String>,
        now: Timestamp,
    ) -> Result<u32, StoreError> {
        sessions::revoke_all(user_id, keep, now)
    }

    fn create_oauth_connection(
        connection: NewOauthConnection,
    ) -> Result<OauthConnection, StoreError> {
        oauth::create(connection)
    }

    fn get_oauth_connection(
        provider: String,
        subject: String,
    ) -> Result<Option<OauthConnection>, StoreError> {
        oauth::get(provider, subject)
    }

    fn list_oauth_connections(user_id: String) -> Result<Vec<OauthConnection>, StoreError> {
        oauth::list(user_id)
    }

    fn delete_oauth_connection(user_id: String, connection_id: String) -> Result<bool, StoreError> {
        oauth::delete(user_id, connection_id)
    }

    fn create_api_key(key: NewApiKey) -> Result<ApiKey, StoreError> {
        keys::create(key)
    }

    fn get_api_key_by_hash(secret_hash: String) -> Result<Option<ApiKey>, StoreError> {
        keys::get_by_hash(secret_hash)
    }

    fn list_api_keys(user_id: String) -> Result<Vec<ApiKey>, StoreError> {
        keys::list(user_id)
    }

    fn revoke_api_key(user_id: String, key_id: String, now: Timestamp) -> Result<bool, StoreError> {
        keys::revoke(user_id, key_id, now)
    }

    fn touch_api_key(key_id: String, now: Timestamp) -> Result<(), StoreError> {
        keys::touch(key_id, now)
    }

    fn list_preferences(user_id: String) -> Result<Vec<Preference>, StoreError> {
        preferences::list(user_id)
    }

    fn set_preference(
        user_id: String,
        key: String,
        value: String,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        preferences::set(user_id, key, value, now)
    }

    fn delete_preference(user_id: String, key: String) -> Result<bool, StoreError> {
        preferences::delete(user_id, key)
    }

    fn get_usage(user_id: String, period: String) -> Result<Usage, StoreError> {
        jobs::usage(user_id, period)
    }

    fn submit_job(job: NewQuantumJob, quota: Quota) -> Result<QuantumJob, StoreError> {
        jobs::submit(job, quota)
    }

    fn get_job(user_id: String, job_id: String) -> Result<Option<QuantumJob>, StoreError> {
        jobs::get(user_id, job_id)
    }

    fn list_jobs(
        user_id: String,
        status: Option<JobStatus>,
        limit: u32,
    ) -> Result<Vec<QuantumJob>, StoreError> {
        jobs::list(user_id, status, limit)
    }

    fn transition_job(
        user_id: String,
        job_id: String,
        from: Vec<JobStatus>,
        status: JobStatus,
        result: Option<String>,
        error: Option<String>,
        now: Timestamp,
    ) -> Result<Option<QuantumJob>, StoreError> {
        jobs::transition(user_id, job_id, &from, status, result, error, now)
    }
}
