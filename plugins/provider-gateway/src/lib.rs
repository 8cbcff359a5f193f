//! The provider gateway: qhub-provider-policy as a component, for the Cloudflare
//! Worker. Native hosts link the same crate; the Worker cannot, so it runs this.
//!
//! - `http` (the frozen `qhub:provider/http@0.1.0`, exported): what a provider
//!   plugin's `http` import is in the Worker. Each hop is admitted by the policy
//!   ([`Exchange`]) and then sent through the host's plain `fetch` import, which
//!   follows no redirect and applies no rule; the body cap and the deadline are
//!   checked here.
//! - `provider-gateway`: reads and checks the operator's `QHUB_PROVIDERS`, sets
//!   this instance's allow-list ([`allow`](Guest::allow): one instance serves one
//!   provider), and words a provider's failure as the native host does.

#[expect(unsafe_code, reason = "wit-bindgen's generated canonical ABI glue")]
mod bindings {
    wit_bindgen::generate!({
        world: "provider-gateway",
        path: "../../wit",
        generate_all,
    });

    use super::Gateway;
    export!(Gateway);
}

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bindings::exports::qhub::plugin::gateway::{
    Configuration, FailureKind, Guest, Plugin, Provider,
};
use bindings::exports::qhub::provider::http::{self, HttpError, Method, Request, Response};
use bindings::qhub::plugin::fetch::{self, FetchError};
use qhub_provider_policy::providers::{ProvidersConfig, ProvidersError, nearest};
use qhub_provider_policy::{
    AllowList, BodyLimit, DEFAULT_BODY_BYTES, DEFAULT_TIMEOUT, Exchange, ProviderFailure,
};

#[derive(Debug)]
struct Gateway;

/// The plugin this instance sends for, and its allow-list: set once by `allow`.
#[derive(Debug)]
struct Access {
    label: String,
    allow: AllowList,
}

static ACCESS: OnceLock<Access> = OnceLock::new();

/// A configuration error as one line for the operator's log: what, then the hint.
fn explain(err: ProvidersError) -> String {
    match &err.hint {
        Some(hint) => format!("{err}; hint: {hint}"),
        None => err.to_string(),
    }
}

impl Guest for Gateway {
    fn configure(
        text: String,
        env: Vec<(String, String)>,
        plugins: Vec<Plugin>,
    ) -> Result<Configuration, String> {
        let mut config = ProvidersConfig::from_json(&text, env).map_err(explain)?;
        let known: Vec<&str> = plugins.iter().map(|p| p.name.as_str()).collect();
        if let Err(mut err) = config.check_plugins(&known) {
            // The native hint points at `qhub plugins`; a Worker carries a fixed set.
            let unknown = config
                .providers
                .values()
                .find(|p| !known.contains(&p.plugin.as_str()))
                .map(|p| p.plugin.clone())
                .unwrap_or_default();
            let near = nearest(&unknown, known.iter().copied())
                .map(|near| format!("did you mean {near:?}? "))
                .unwrap_or_default();
            err.hint = Some(format!("{near}this Worker carries {}", known.join(", ")));
            return Err(explain(err));
        }
        let mut warnings = std::mem::take(&mut config.warnings);
        let mut providers = Vec::new();
        for provider in config.providers.into_values() {
            let plugin = plugins
                .iter()
                .find(|p| p.name == provider.plugin)
                .expect("check_plugins found every plugin");
            let allow = AllowList::for_plugin(&plugin.label, &plugin.hosts, &provider.grant)
                .map_err(|e| {
                    format!("provider {:?}: plugin {}: {e}", provider.name, plugin.label)
                })?;
            warnings.extend(allow.warnings().map(|warning| {
                format!(
                    "provider {:?} (plugin {}): {warning}",
                    provider.name, plugin.label
                )
            }));
            providers.push(Provider {
                name: provider.name,
                plugin: provider.plugin,
                grant: provider.grant,
                config: provider.config.into_iter().collect(),
            });
        }
        Ok(Configuration {
            providers,
            warnings,
        })
    }

    fn allow(plugin: Plugin, grant: Vec<String>) -> Result<(), String> {
        let allow = AllowList::for_plugin(&plugin.label, &plugin.hosts, &grant)
            .map_err(|e| e.to_string())?;
        ACCESS
            .set(Access {
                label: plugin.label,
                allow,
            })
            .map_err(|_| "this gateway instance already serves a plugin".to_owned())
    }

    fn describe_failure(label: String, kind: FailureKind, detail: String) -> String {
        let failure = match kind {
            FailureKind::NotSupported => ProviderFailure::NotSupported,
            FailureKind::Misconfigured => ProviderFailure::Misconfigured(&detail),
            FailureKind::Http => ProviderFailure::Http(&detail),
            FailureKind::Protocol => ProviderFailure::Protocol(&detail),
        };
        failure.message(&label)
    }
}

impl http::Guest for Gateway {
    fn send(request: Request) -> Result<Response, HttpError> {
        let Some(access) = ACCESS.get() else {
            return Err(HttpError::Denied(
                "no origin is allowed: the host did not set this plugin's allow-list".into(),
            ));
        };
        let deadline = Instant::now() + DEFAULT_TIMEOUT;
        let mut exchange = Exchange::start(
            &access.label,
            &access.allow,
            method(request.method),
            &request.url,
            request.headers,
            request.body,
        )
        .map_err(wit_error)?;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(HttpError::Timeout);
            }
            let headers: Vec<(String, String)> = exchange
                .headers
                .iter()
                .map(|(name, value)| {
                    let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                    (name.as_str().to_owned(), value)
                })
                .collect();
            // One byte past the cap tells a body over it from one exactly at it.
            let fetched = fetch::send(
                exchange.method.as_str(),
                exchange.url.as_str(),
                &headers,
                exchange.body.as_deref(),
                DEFAULT_BODY_BYTES + 1,
                exchange.follows_redirects(),
                millis(remaining),
            )
            .map_err(|e| match e {
                FetchError::Timeout => HttpError::Timeout,
                FetchError::Transport(message) => HttpError::Transport(message),
            })?;
            let location = header(&fetched.headers, "location");
            if exchange
                .redirected(fetched.status, location.map(str::as_bytes))
                .map_err(wit_error)?
            {
                continue;
            }
            let mut limit = BodyLimit::new(DEFAULT_BODY_BYTES);
            let declared = header(&fetched.headers, "content-length").map(str::as_bytes);
            limit
                .declared(&exchange.method, fetched.status, declared)
                .map_err(wit_error)?;
            limit.read(fetched.body.len()).map_err(wit_error)?;
            return Ok(Response {
                status: fetched.status,
                headers: fetched.headers,
                body: fetched.body,
            });
        }
    }
}

/// The first value of header `name` (lowercase) among `headers`.
fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Whole milliseconds, at least 1, at most `u32::MAX`.
fn millis(duration: Duration) -> u32 {
    u32::try_from(duration.as_millis())
        .unwrap_or(u32::MAX)
        .max(1)
}

fn method(method: Method) -> qhub_provider_policy::exchange::Method {
    use qhub_provider_policy::exchange::Method as M;
    match method {
        Method::Get => M::GET,
        Method::Post => M::POST,
        Method::Put => M::PUT,
        Method::Patch => M::PATCH,
        Method::Delete => M::DELETE,
        Method::Head => M::HEAD,
    }
}

fn wit_error(err: qhub_provider_policy::HttpError) -> HttpError {
    use qhub_provider_policy::HttpError as E;
    match err {
        E::Denied(m) => HttpError::Denied(m),
        E::InvalidUrl(m) => HttpError::InvalidUrl(m),
        E::Timeout => HttpError::Timeout,
        E::TooLarge(cap) => HttpError::TooLarge(cap),
        E::Transport(m) => HttpError::Transport(m),
    }
}
