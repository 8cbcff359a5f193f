//! [`export_provider!`](crate::export_provider): the glue between a plugin's
//! generated WIT bindings and its [`Provider`](crate::Provider).
//!
//! Each plugin crate generates its own bindings (wit-bindgen types are per crate),
//! so this glue cannot be a plain function; the macro writes the same conversions
//! into every plugin instead of each plugin writing them by hand.

/// Implements the exported `oauth-provider` interface for `$provider` by calling its
/// [`Provider`](crate::Provider) functions with the host's `http` and `config`
/// imports, converting between the WIT records and this crate's types.
///
/// `$bindings` is the module holding `wit_bindgen::generate!` for the
/// `oauth-provider-plugin` world (which also calls `export!($provider)`);
/// `$user_agent` is sent on every request.
///
/// ```ignore
/// mod bindings {
///     wit_bindgen::generate!({ world: "oauth-provider-plugin", path: "wit" });
///     export!(super::MyProvider);
/// }
/// qhub_oauth_common::export_provider!(bindings, MyProvider, "qhub-oauth-example/0.1.0");
/// ```
#[macro_export]
macro_rules! export_provider {
    ($bindings:ident, $provider:ty, $user_agent:expr) => {
        const _: () = {
            use $bindings::exports::qhub::plugin::oauth_provider as wit;
            use $bindings::qhub::plugin::{config as wit_config, http as wit_http};
            use $crate as common;

            struct HostHttp;

            impl common::Http for HostHttp {
                fn send(
                    &self,
                    request: common::Request,
                ) -> ::std::result::Result<common::Response, common::HttpError> {
                    let method = match request.method {
                        common::Method::Get => wit_http::Method::Get,
                        common::Method::Post => wit_http::Method::Post,
                        common::Method::Put => wit_http::Method::Put,
                        common::Method::Patch => wit_http::Method::Patch,
                        common::Method::Delete => wit_http::Method::Delete,
                        common::Method::Head => wit_http::Method::Head,
                    };
                    let request = wit_http::Request {
                        method,
                        url: request.url,
                        headers: request.headers,
                        body: request.body,
                    };
                    match wit_http::send(&request) {
                        Ok(r) => Ok(common::Response {
                            status: r.status,
                            headers: r.headers,
                            body: r.body,
                        }),
                        Err(e) => Err(match e {
                            wit_http::HttpError::Denied(m) => common::HttpError::Denied(m),
                            wit_http::HttpError::InvalidUrl(m) => common::HttpError::InvalidUrl(m),
                            wit_http::HttpError::Timeout => common::HttpError::Timeout,
                            wit_http::HttpError::TooLarge(cap) => common::HttpError::TooLarge(cap),
                            wit_http::HttpError::Transport(m) => common::HttpError::Transport(m),
                        }),
                    }
                }
            }

            struct HostConfig;

            impl common::Config for HostConfig {
                fn get(&self, key: &str) -> ::std::option::Option<::std::string::String> {
                    wit_config::get(key)
                }
            }

            fn host() -> common::Host<'static> {
                common::Host {
                    http: &HostHttp,
                    config: &HostConfig,
                    user_agent: $user_agent,
                }
            }

            fn error(e: common::ProviderError) -> wit::ProviderError {
                match e {
                    common::ProviderError::NotSupported => wit::ProviderError::NotSupported,
                    common::ProviderError::Misconfigured(m) => wit::ProviderError::Misconfigured(m),
                    common::ProviderError::Http(m) => wit::ProviderError::Http(m),
                    common::ProviderError::Protocol(m) => wit::ProviderError::Protocol(m),
                }
            }

            fn to_wit(t: common::Tokens) -> wit::Tokens {
                wit::Tokens {
                    access_token: t.access_token,
                    token_type: t.token_type,
                    refresh_token: t.refresh_token,
                    id_token: t.id_token,
                    expires_in: t.expires_in,
                    scope: t.scope,
                }
            }

            fn from_wit(t: wit::Tokens) -> common::Tokens {
                common::Tokens {
                    access_token: t.access_token,
                    token_type: t.token_type,
                    refresh_token: t.refresh_token,
                    id_token: t.id_token,
                    expires_in: t.expires_in,
                    scope: t.scope,
                }
            }

            impl wit::Guest for $provider {
                fn describe() -> wit::Metadata {
                    let m = <$provider as common::Provider>::describe();
                    wit::Metadata {
                        id: m.id,
                        display_name: m.display_name,
                        supports_device_flow: m.supports_device_flow,
                        supports_web_flow: m.supports_web_flow,
                    }
                }

                fn start_device_authorization(
                    scopes: ::std::vec::Vec<::std::string::String>,
                ) -> ::std::result::Result<wit::DeviceAuthorization, wit::ProviderError> {
                    let d = <$provider as common::Provider>::start_device_authorization(
                        &host(),
                        &scopes,
                    )
                    .map_err(error)?;
                    Ok(wit::DeviceAuthorization {
                        device_code: d.device_code,
                        user_code: d.user_code,
                        verification_uri: d.verification_uri,
                        verification_uri_complete: d.verification_uri_complete,
                        expires_in: d.expires_in,
                        interval: d.interval,
                    })
                }

                fn poll_device_token(
                    device_code: ::std::string::String,
                ) -> ::std::result::Result<wit::PollOutcome, wit::ProviderError> {
                    let outcome =
                        <$provider as common::Provider>::poll_device_token(&host(), &device_code)
                            .map_err(error)?;
                    Ok(match outcome {
                        common::PollOutcome::Pending => wit::PollOutcome::Pending,
                        common::PollOutcome::SlowDown(s) => wit::PollOutcome::SlowDown(s),
                        common::PollOutcome::Granted(t) => wit::PollOutcome::Granted(to_wit(t)),
                        common::PollOutcome::Denied => wit::PollOutcome::Denied,
                        common::PollOutcome::Expired => wit::PollOutcome::Expired,
                    })
                }

                fn authorization_url(
                    redirect_uri: ::std::string::String,
                    state: ::std::string::String,
                    code_challenge: ::std::string::String,
                    scopes: ::std::vec::Vec<::std::string::String>,
                ) -> ::std::result::Result<::std::string::String, wit::ProviderError> {
                    <$provider as common::Provider>::authorization_url(
                        &host(),
                        &redirect_uri,
                        &state,
                        &code_challenge,
                        &scopes,
                    )
                    .map_err(error)
                }

                fn exchange_code(
                    code: ::std::string::String,
                    redirect_uri: ::std::string::String,
                    code_verifier: ::std::string::String,
                ) -> ::std::result::Result<wit::Tokens, wit::ProviderError> {
                    <$provider as common::Provider>::exchange_code(
                        &host(),
                        &code,
                        &redirect_uri,
                        &code_verifier,
                    )
                    .map(to_wit)
                    .map_err(error)
                }

                fn fetch_identity(
                    tokens: wit::Tokens,
                ) -> ::std::result::Result<wit::Identity, wit::ProviderError> {
                    let i =
                        <$provider as common::Provider>::fetch_identity(&host(), &from_wit(tokens))
                            .map_err(error)?;
                    Ok(wit::Identity {
                        subject: i.subject,
                        email: i.email,
                        email_verified: i.email_verified,
                        display_name: i.display_name,
                    })
                }
            }
        };
    };
}
