//! [`export_store!`](crate::export_store): the exported `store` implementation,
//! written once for every backend.

/// Exports `$backend` (a unit struct of the invoking crate) as the component's
/// `store` implementation.
///
/// Each `store` function is handed to the backend function for the same operation,
/// found by name in the invoking crate's root: modules `users`, `sessions`,
/// `oauth`, `keys`, `preferences`, `jobs` and `throttle`, each with the functions named below
/// and the same argument types as the WIT function (`jobs::transition` borrows its
/// `from` list). A backend that lacks one fails to compile, naming it.
#[macro_export]
macro_rules! export_store {
    ($backend:ident) => {
        const _: () = {
            use $crate::bindings::exports::qhub::plugin::store::Guest;
            use $crate::bindings::qhub::plugin::types::{
                ApiKey, JobStatus, LoginAttempt, LoginLimit, LoginThrottle, NewApiKey,
                NewOauthConnection, NewQuantumJob, NewSession, NewUser, OauthConnection,
                Preference, QuantumJob, Quota, Session, StoreError, Timestamp, Usage, User,
            };

            impl Guest for $backend {
                fn create_user(user: NewUser) -> Result<User, StoreError> {
                    users::create(user)
                }

                fn create_user_with_session(
                    user: NewUser,
                    user_agent: Option<String>,
                    ip: Option<String>,
                    expires_at: Timestamp,
                ) -> Result<(User, Session), StoreError> {
                    users::create_with_session(user, user_agent, ip, expires_at)
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

                fn create_session(
                    session: NewSession,
                    password_hash: Option<String>,
                ) -> Result<Session, StoreError> {
                    sessions::create(session, password_hash)
                }

                fn get_session(id: String) -> Result<Option<Session>, StoreError> {
                    sessions::get(id)
                }

                fn touch_session(id: String, now: Timestamp) -> Result<(), StoreError> {
                    sessions::touch(id, now)
                }

                fn list_sessions(
                    user_id: String,
                    now: Timestamp,
                ) -> Result<Vec<Session>, StoreError> {
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

                fn list_oauth_connections(
                    user_id: String,
                ) -> Result<Vec<OauthConnection>, StoreError> {
                    oauth::list(user_id)
                }

                fn delete_oauth_connection(
                    user_id: String,
                    connection_id: String,
                ) -> Result<bool, StoreError> {
                    oauth::delete(user_id, connection_id)
                }

                fn create_api_key(key: NewApiKey) -> Result<ApiKey, StoreError> {
                    keys::create(key)
                }

                fn get_api_key_by_hash(
                    secret_hash: String,
                ) -> Result<Option<ApiKey>, StoreError> {
                    keys::get_by_hash(secret_hash)
                }

                fn list_api_keys(user_id: String) -> Result<Vec<ApiKey>, StoreError> {
                    keys::list(user_id)
                }

                fn revoke_api_key(
                    user_id: String,
                    key_id: String,
                    now: Timestamp,
                ) -> Result<bool, StoreError> {
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

                fn get_job(
                    user_id: String,
                    job_id: String,
                ) -> Result<Option<QuantumJob>, StoreError> {
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

                fn get_login_throttle(key: String) -> Result<Option<LoginThrottle>, StoreError> {
                    throttle::get(key)
                }

                fn begin_login_attempt(
                    key: String,
                    now: Timestamp,
                    limit: LoginLimit,
                ) -> Result<LoginAttempt, StoreError> {
                    throttle::begin_attempt(key, now, limit)
                }

                fn refund_login_attempt(key: String, max_attempts: u32) -> Result<(), StoreError> {
                    throttle::refund_attempt(key, max_attempts)
                }

                fn clear_login_throttle(key: String) -> Result<(), StoreError> {
                    throttle::clear(key)
                }
            }
        };

        $crate::bindings::export!($backend with_types_in $crate::bindings);
    };
}
