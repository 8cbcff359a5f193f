//! Test fixture: a `store-backend` whose every `store` function spins forever.
//!
//! The host's tests load it to prove that a looping plugin is stopped by the epoch
//! deadline, with an error naming the plugin, while the host keeps serving.

/// The code wit-bindgen generates for the `store-backend` world.
// The workspace denies `unsafe_code`, but the generated ABI glue (and the exports
// `export!` emits) cannot avoid `unsafe`; the exemption covers only this module.
#[expect(unsafe_code, reason = "wit-bindgen's generated ABI glue is unsafe")]
mod bindings {
    wit_bindgen::generate!({
        world: "store-backend",
        path: "../../wit",
    });

    use super::Hang;
    export!(Hang);
}

use bindings::exports::qhub::plugin::store::Guest;
use bindings::qhub::plugin::types::{
    ApiKey, JobStatus, LoginAttempt, LoginLimit, LoginThrottle, NewApiKey, NewOauthConnection,
    NewQuantumJob, NewSession, NewUser, OauthConnection, Preference, QuantumJob, Quota, Session,
    StoreError, Timestamp, Usage, User,
};

/// Never returns. `black_box` hides the loop's lack of effects from the optimiser,
/// which could otherwise assume the loop terminates or fold it into a trap.
fn spin() -> ! {
    let mut turns: u64 = 0;
    loop {
        turns = std::hint::black_box(turns.wrapping_add(1));
        std::hint::spin_loop();
    }
}

/// Implements each listed `store` function as a call to [`spin`]; the arguments are
/// ignored, so only their types are listed.
macro_rules! hang {
    ($(fn $name:ident($($ty:ty),*) -> $ret:ty;)*) => {
        $(fn $name($(_: $ty),*) -> $ret {
            spin()
        })*
    };
}

type Result<T> = std::result::Result<T, StoreError>;

#[derive(Debug)]
struct Hang;

impl Guest for Hang {
    hang! {
        fn create_user(NewUser) -> Result<User>;
        fn create_user_with_session(
            NewUser, Option<String>, Option<String>, Timestamp
        ) -> Result<(User, Session)>;
        fn get_user(String) -> Result<Option<User>>;
        fn get_user_by_email(String) -> Result<Option<User>>;
        fn set_password_hash(String, String, Timestamp) -> Result<()>;
        fn set_display_name(String, Option<String>, Timestamp) -> Result<()>;
        fn delete_user(String) -> Result<()>;
        fn create_session(NewSession, Option<String>) -> Result<Session>;
        fn get_session(String) -> Result<Option<Session>>;
        fn touch_session(String, Timestamp) -> Result<()>;
        fn list_sessions(String, Timestamp) -> Result<Vec<Session>>;
        fn revoke_session(String, String, Timestamp) -> Result<bool>;
        fn revoke_sessions(String, Option<String>, Timestamp) -> Result<u32>;
        fn create_oauth_connection(NewOauthConnection) -> Result<OauthConnection>;
        fn get_oauth_connection(String, String) -> Result<Option<OauthConnection>>;
        fn list_oauth_connections(String) -> Result<Vec<OauthConnection>>;
        fn delete_oauth_connection(String, String) -> Result<bool>;
        fn create_api_key(NewApiKey) -> Result<ApiKey>;
        fn get_api_key_by_hash(String) -> Result<Option<ApiKey>>;
        fn list_api_keys(String) -> Result<Vec<ApiKey>>;
        fn revoke_api_key(String, String, Timestamp) -> Result<bool>;
        fn touch_api_key(String, Timestamp) -> Result<()>;
        fn list_preferences(String) -> Result<Vec<Preference>>;
        fn set_preference(String, String, String, Timestamp) -> Result<()>;
        fn delete_preference(String, String) -> Result<bool>;
        fn get_usage(String, String) -> Result<Usage>;
        fn submit_job(NewQuantumJob, Quota) -> Result<QuantumJob>;
        fn get_job(String, String) -> Result<Option<QuantumJob>>;
        fn list_jobs(String, Option<JobStatus>, u32) -> Result<Vec<QuantumJob>>;
        fn transition_job(
            String, String, Vec<JobStatus>, JobStatus, Option<String>, Option<String>, Timestamp
        ) -> Result<Option<QuantumJob>>;
        fn get_login_throttle(String) -> Result<Option<LoginThrottle>>;
        fn begin_login_attempt(String, Timestamp, LoginLimit) -> Result<LoginAttempt>;
        fn refund_login_attempt(String, u32) -> Result<()>;
        fn clear_login_throttle(String) -> Result<()>;
    }
}
