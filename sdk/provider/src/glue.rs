//! [`export_provider!`](crate::export_provider): the glue between the component's
//! exports and a plugin's [`Provider`](crate::Provider).
//!
//! The bindings for `qhub:provider/oauth-provider-plugin@0.1.0` are generated once,
//! here, in [`crate::bindings`]; the conversions between their records and this
//! crate's types are plain functions below. A plugin's only glue is one
//! `export_provider!` line, which names the type that implements [`Provider`].

use crate::Provider;
use crate::bindings::qhub::provider::{config as wit_config, http as wit_http};
use crate::host::{Config, Host, Http};
use crate::model::{
    DeviceAuthorization, HttpError, Identity, Metadata, Method, PollOutcome, ProviderError,
    Request, Response, Tokens,
};

pub use crate::bindings::exports::qhub::provider::oauth_provider::Guest;

/// Implements the `oauth-provider` export of the plugin being built with a type
/// that implements [`Provider`](crate::Provider); `$user_agent` (a `&'static str`,
/// `"qhub-oauth-example/0.1.0"`) is sent as `user-agent` on every request.
///
/// Call it once, at the root of the plugin's `cdylib` crate (a second call
/// would export the same symbols twice, which the linker refuses):
///
/// ```text
/// struct Example;
/// impl qhub_provider_sdk::Provider for Example { /* ... */ }
/// qhub_provider_sdk::export_provider!(Example, "qhub-oauth-example/0.1.0");
/// ```
#[macro_export]
macro_rules! export_provider {
    ($provider:ty, $user_agent:expr) => {
        // The names inside are the macro's own (`__Qhub...`), so a plugin's types,
        // even one called `Component`, never clash with them. The canonical ABI
        // entry points that `export_bindings!` writes are unsafe code generated
        // outside the plugin's crate: a plugin that denies or forbids unsafe code
        // compiles.
        const _: () = {
            use $crate::glue as __glue;

            /// Names a non-`'static` user agent here, not deep in the glue.
            const __QHUB_USER_AGENT: &str = $user_agent;

            struct __QhubProviderExport;

            impl __glue::Guest for __QhubProviderExport {
                fn describe() -> __glue::wit::Metadata {
                    __glue::describe::<$provider>()
                }
                fn start_device_authorization(
                    scopes: ::std::vec::Vec<::std::string::String>,
                ) -> __glue::Answer<__glue::wit::DeviceAuthorization> {
                    __glue::start_device_authorization::<$provider>(__QHUB_USER_AGENT, scopes)
                }
                fn poll_device_token(
                    device_code: ::std::string::String,
                ) -> __glue::Answer<__glue::wit::PollOutcome> {
                    __glue::poll_device_token::<$provider>(__QHUB_USER_AGENT, device_code)
                }
                fn authorization_url(
                    redirect_uri: ::std::string::String,
                    state: ::std::string::String,
                    code_challenge: ::std::string::String,
                    scopes: ::std::vec::Vec<::std::string::String>,
                ) -> __glue::Answer<::std::string::String> {
                    __glue::authorization_url::<$provider>(
                        __QHUB_USER_AGENT,
                        redirect_uri,
                        state,
                        code_challenge,
                        scopes,
                    )
                }
                fn exchange_code(
                    code: ::std::string::String,
                    redirect_uri: ::std::string::String,
                    code_verifier: ::std::string::String,
                ) -> __glue::Answer<__glue::wit::Tokens> {
                    __glue::exchange_code::<$provider>(
                        __QHUB_USER_AGENT,
                        code,
                        redirect_uri,
                        code_verifier,
                    )
                }
                fn fetch_identity(
                    tokens: __glue::wit::Tokens,
                ) -> __glue::Answer<__glue::wit::Identity> {
                    __glue::fetch_identity::<$provider>(__QHUB_USER_AGENT, tokens)
                }
            }

            $crate::bindings::export_bindings! { __QhubProviderExport with_types_in $crate::bindings }
        };
    };
}

/// The exported interface's generated types and trait.
pub use crate::bindings::exports::qhub::provider::oauth_provider as wit;

/// What every export answers.
#[doc(hidden)]
pub type Answer<T> = Result<T, wit::ProviderError>;

/// The host's `http` import.
struct HostHttp;

impl Http for HostHttp {
    fn send(&self, request: Request) -> Result<Response, HttpError> {
        let method = match request.method {
            Method::Get => wit_http::Method::Get,
            Method::Post => wit_http::Method::Post,
            Method::Put => wit_http::Method::Put,
            Method::Patch => wit_http::Method::Patch,
            Method::Delete => wit_http::Method::Delete,
            Method::Head => wit_http::Method::Head,
        };
        let request = wit_http::Request {
            method,
            url: request.url,
            headers: request.headers,
            body: request.body,
        };
        wit_http::send(&request)
            .map(|r| Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
            })
            .map_err(|e| match e {
                wit_http::HttpError::Denied(m) => HttpError::Denied(m),
                wit_http::HttpError::InvalidUrl(m) => HttpError::InvalidUrl(m),
                wit_http::HttpError::Timeout => HttpError::Timeout,
                wit_http::HttpError::TooLarge(cap) => HttpError::TooLarge(cap),
                wit_http::HttpError::Transport(m) => HttpError::Transport(m),
            })
    }
}

/// The host's `config` import.
struct HostConfig;

impl Config for HostConfig {
    fn get(&self, key: &str) -> Option<String> {
        wit_config::get(key)
    }
}

fn host(user_agent: &'static str) -> Host<'static> {
    Host {
        http: &HostHttp,
        config: &HostConfig,
        user_agent,
    }
}

fn error(e: ProviderError) -> wit::ProviderError {
    match e {
        ProviderError::NotSupported => wit::ProviderError::NotSupported,
        ProviderError::Misconfigured(m) => wit::ProviderError::Misconfigured(m),
        ProviderError::Http(m) => wit::ProviderError::Http(m),
        ProviderError::Protocol(m) => wit::ProviderError::Protocol(m),
    }
}

fn to_wit(t: Tokens) -> wit::Tokens {
    wit::Tokens {
        access_token: t.access_token,
        token_type: t.token_type,
        refresh_token: t.refresh_token,
        id_token: t.id_token,
        expires_in: t.expires_in,
        scope: t.scope,
    }
}

fn from_wit(t: wit::Tokens) -> Tokens {
    Tokens {
        access_token: t.access_token,
        token_type: t.token_type,
        refresh_token: t.refresh_token,
        id_token: t.id_token,
        expires_in: t.expires_in,
        scope: t.scope,
    }
}

#[doc(hidden)]
pub fn describe<P: Provider>() -> wit::Metadata {
    let Metadata {
        id,
        display_name,
        supports_device_flow,
        supports_web_flow,
    } = P::describe();
    wit::Metadata {
        id,
        display_name,
        supports_device_flow,
        supports_web_flow,
    }
}

#[doc(hidden)]
pub fn start_device_authorization<P: Provider>(
    user_agent: &'static str,
    scopes: Vec<String>,
) -> Answer<wit::DeviceAuthorization> {
    let DeviceAuthorization {
        device_code,
        user_code,
        verification_uri,
        verification_uri_complete,
        expires_in,
        interval,
    } = P::start_device_authorization(&host(user_agent), &scopes).map_err(error)?;
    Ok(wit::DeviceAuthorization {
        device_code,
        user_code,
        verification_uri,
        verification_uri_complete,
        expires_in,
        interval,
    })
}

#[doc(hidden)]
pub fn poll_device_token<P: Provider>(
    user_agent: &'static str,
    device_code: String,
) -> Answer<wit::PollOutcome> {
    let outcome = P::poll_device_token(&host(user_agent), &device_code).map_err(error)?;
    Ok(match outcome {
        PollOutcome::Pending => wit::PollOutcome::Pending,
        PollOutcome::SlowDown(s) => wit::PollOutcome::SlowDown(s),
        PollOutcome::Granted(t) => wit::PollOutcome::Granted(to_wit(t)),
        PollOutcome::Denied => wit::PollOutcome::Denied,
        PollOutcome::Expired => wit::PollOutcome::Expired,
    })
}

#[doc(hidden)]
pub fn authorization_url<P: Provider>(
    user_agent: &'static str,
    redirect_uri: String,
    state: String,
    code_challenge: String,
    scopes: Vec<String>,
) -> Answer<String> {
    P::authorization_url(
        &host(user_agent),
        &redirect_uri,
        &state,
        &code_challenge,
        &scopes,
    )
    .map_err(error)
}

#[doc(hidden)]
pub fn exchange_code<P: Provider>(
    user_agent: &'static str,
    code: String,
    redirect_uri: String,
    code_verifier: String,
) -> Answer<wit::Tokens> {
    P::exchange_code(&host(user_agent), &code, &redirect_uri, &code_verifier)
        .map(to_wit)
        .map_err(error)
}

#[doc(hidden)]
pub fn fetch_identity<P: Provider>(
    user_agent: &'static str,
    tokens: wit::Tokens,
) -> Answer<wit::Identity> {
    let Identity {
        subject,
        email,
        email_verified,
        display_name,
    } = P::fetch_identity(&host(user_agent), &from_wit(tokens)).map_err(error)?;
    Ok(wit::Identity {
        subject,
        email,
        email_verified,
        display_name,
    })
}
