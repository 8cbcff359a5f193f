//! The `http` import against real HTTP servers on loopback, driven through a real
//! provider plugin (the `test-http` fixture, which sends whatever request its
//! `fetch-identity` is told to): the allow-list, redirects, the body cap, the timeout,
//! and a provider that traps.

#![expect(clippy::unwrap_used, reason = "a test fails by panicking")]

#[expect(
    dead_code,
    reason = "the shared helpers include some these tests do not need"
)]
mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use common::load;
use qhub_runtime::{
    Allocation, Error, Identity, Limits, ProviderCallError, ProviderError, ProviderService,
    Runtime, RuntimeConfig, Tokens,
};

const PLUGIN: &str = "\"test-http\" 0.1.0";

/// A server on 127.0.0.1:0 that counts the requests it gets.
struct Server {
    origin: String,
    hits: Arc<AtomicUsize>,
}

impl Server {
    async fn start(routes: impl FnOnce(String) -> Router) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let origin = format!("http://{addr}");
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        let router = routes(origin.clone()).layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                counter.fetch_add(1, Ordering::SeqCst);
                next.run(request)
            },
        ));
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Server { origin, hits }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

fn redirect(status: StatusCode, to: String) -> Response {
    (status, [(header::LOCATION, to)]).into_response()
}

/// Echoes the method, the body and the authorization header: `METHOD body auth`.
async fn echo(method: axum::http::Method, headers: HeaderMap, body: Bytes) -> String {
    let auth = headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_else(|| "-".into());
    format!("{method} {} {auth}", String::from_utf8_lossy(&body))
}

/// The main test server. `other` is the origin of a second server for cross-origin
/// redirects.
fn routes(other: String) -> impl FnOnce(String) -> Router {
    move |me| {
        Router::new()
            .route(
                "/hello",
                get(|| async { ([("x-test", "yes")], "hello") }),
            )
            .route("/echo", any(echo))
            .route(
                "/hop",
                get(|| async { redirect(StatusCode::FOUND, "/hello".into()) }),
            )
            .route(
                "/see-other",
                any(|| async { redirect(StatusCode::SEE_OTHER, "/echo".into()) }),
            )
            .route(
                "/keep-method",
                any(|| async { redirect(StatusCode::TEMPORARY_REDIRECT, "/echo".into()) }),
            )
            .route(
                "/away",
                any(move || async move { redirect(StatusCode::FOUND, format!("{other}/echo")) }),
            )
            .route(
                "/loop",
                get(move || async move { redirect(StatusCode::FOUND, format!("{me}/loop")) }),
            )
            .route("/sized/{n}", get(|axum::extract::Path(n): axum::extract::Path<usize>| async move { vec![b'x'; n] }))
            .route(
                "/stream",
                get(|| async {
                    // Chunked, no content-length: the cap must hold while streaming.
                    let chunks = (0..64).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![b'y'; 512])));
                    Body::from_stream(futures_util::stream::iter(chunks))
                }),
            )
            .route("/hang", get(std::future::pending::<String>))
    }
}

fn runtime(limits: Limits) -> Arc<Runtime> {
    Arc::new(
        Runtime::new(RuntimeConfig {
            cache_dir: None,
            limits,
            allocation: Allocation::OnDemand,
        })
        .unwrap(),
    )
}

fn provider(runtime: &Arc<Runtime>, grant: &[&str], config: &[(&str, &str)]) -> ProviderService {
    let grant: Vec<String> = grant.iter().map(|g| g.to_string()).collect();
    let config = config
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect::<BTreeMap<_, _>>();
    ProviderService::new(runtime.clone(), load(runtime, "test-http"), config, &grant).unwrap()
}

/// What the fixture makes of a request: `fetch-identity` with the request in `tokens`.
fn request(method: &str, url: &str, body: Option<&str>, auth: Option<&str>) -> Tokens {
    Tokens {
        access_token: url.into(),
        token_type: method.into(),
        refresh_token: auth.map(Into::into),
        id_token: body.map(Into::into),
        expires_in: None,
        scope: None,
    }
}

/// `(status, body)` of a request that got an answer.
async fn send(provider: &ProviderService, tokens: Tokens) -> (String, String) {
    let Identity { subject, email, .. } = provider.fetch_identity(&tokens).await.unwrap();
    (subject, email.unwrap())
}

/// The `http-error` a request got, as the fixture reports it (`KIND: detail`).
async fn http_error(provider: &ProviderService, tokens: Tokens) -> String {
    match provider.fetch_identity(&tokens).await {
        Err(ProviderCallError::Provider {
            plugin,
            error: ProviderError::Http(message),
        }) => {
            assert_eq!(plugin, PLUGIN);
            message
        }
        other => panic!("expected an http error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowed_request_round_trips() {
    let server = Server::start(routes(String::new())).await;
    let runtime = runtime(Limits::default());
    let provider = provider(&runtime, &[&server.origin], &[]);

    let identity = provider
        .fetch_identity(&request("GET", &server.url("/hello"), None, None))
        .await
        .unwrap();
    assert_eq!(identity.subject, "200");
    assert_eq!(identity.email.as_deref(), Some("hello"));
    let headers = identity.display_name.unwrap();
    assert!(
        headers.contains("x-test: yes\n"),
        "names are lowercase: {headers}"
    );

    let echoed = send(
        &provider,
        request(
            "POST",
            &server.url("/echo"),
            Some("ping"),
            Some("Bearer t0ken"),
        ),
    )
    .await;
    assert_eq!(echoed, ("200".into(), "POST ping Bearer t0ken".into()));
    let allowed: Vec<String> = provider.allowed().map(|d| d.to_string()).collect();
    assert_eq!(allowed, std::slice::from_ref(&server.origin));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_that_is_not_granted_is_denied_by_name() {
    let granted = Server::start(routes(String::new())).await;
    let other = Server::start(routes(String::new())).await;
    let runtime = runtime(Limits::default());
    let provider = provider(&runtime, &[&granted.origin], &[]);

    let denied = http_error(&provider, request("GET", &other.url("/hello"), None, None)).await;
    assert_eq!(
        denied,
        format!(
            "denied: plugin {PLUGIN} may not reach {}: not granted",
            other.origin
        )
    );
    // Outside the manifest (https, or another host): no grant could allow it.
    let denied = http_error(&provider, request("GET", "https://127.0.0.1/", None, None)).await;
    assert_eq!(
        denied,
        format!(
            "denied: plugin {PLUGIN} may not reach https://127.0.0.1:443: not requested in its manifest"
        )
    );
    let denied = http_error(&provider, request("GET", "http://localhost:1/", None, None)).await;
    assert!(
        denied.contains("http://localhost:1: not requested"),
        "{denied}"
    );
    assert_eq!(other.hits(), 0, "a denied request never leaves the host");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_grant_denies_everything() {
    let server = Server::start(routes(String::new())).await;
    let runtime = runtime(Limits::default());
    let provider = provider(&runtime, &[], &[]);
    let denied = http_error(&provider, request("GET", &server.url("/hello"), None, None)).await;
    assert!(denied.starts_with("denied: "), "{denied}");
    assert_eq!(server.hits(), 0);
    assert_eq!(provider.allowed().count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_urls_and_credentials_in_urls_are_refused() {
    let server = Server::start(routes(String::new())).await;
    let runtime = runtime(Limits::default());
    let provider = provider(&runtime, &[&server.origin], &[]);
    let err = http_error(&provider, request("GET", "not a url", None, None)).await;
    assert!(err.starts_with("invalid-url: "), "{err}");
    let with_credentials = server.url("/hello").replace("http://", "http://me:pw@");
    let err = http_error(&provider, request("GET", &with_credentials, None, None)).await;
    assert!(err.contains("credentials in the URL"), "{err}");
    assert_eq!(server.hits(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_to_a_host_that_is_not_granted_is_denied() {
    let elsewhere = Server::start(routes(String::new())).await;
    let server = Server::start(routes(elsewhere.origin.clone())).await;
    let runtime = runtime(Limits::default());
    let provider = provider(&runtime, &[&server.origin], &[]);

    let denied = http_error(&provider, request("GET", &server.url("/away"), None, None)).await;
    assert_eq!(
        denied,
        format!(
            "denied: plugin {PLUGIN} may not reach {}: not granted (redirected from {})",
            elsewhere.origin, server.origin
        )
    );
    assert_eq!(
        elsewhere.hits(),
        0,
        "the redirect was checked before it was followed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_redirects_are_followed_by_the_rules() {
    let elsewhere = Server::start(routes(String::new())).await;
    let server = Server::start(routes(elsewhere.origin.clone())).await;
    let runtime = runtime(Limits::default());
    let provider = provider(&runtime, &[&server.origin, &elsewhere.origin], &[]);

    assert_eq!(
        send(&provider, request("GET", &server.url("/hop"), None, None)).await,
        ("200".into(), "hello".into())
    );
    // 303 turns a POST into a GET without a body; 307 repeats it as it was.
    assert_eq!(
        send(
            &provider,
            request("POST", &server.url("/see-other"), Some("b"), Some("t"))
        )
        .await,
        ("200".into(), "GET  t".into())
    );
    assert_eq!(
        send(
            &provider,
            request("POST", &server.url("/keep-method"), Some("b"), Some("t"))
        )
        .await,
        ("200".into(), "POST b t".into())
    );
    // Credentials do not follow a redirect to another origin, even an allowed one.
    assert_eq!(
        send(
            &provider,
            request("GET", &server.url("/away"), None, Some("Bearer x"))
        )
        .await,
        ("200".into(), "GET  -".into())
    );

    // A loop ends after five redirects: the sixth answer is returned as it is.
    let before = server.hits();
    let (status, _) = send(&provider, request("GET", &server.url("/loop"), None, None)).await;
    assert_eq!(status, "302");
    assert_eq!(server.hits() - before, 1 + qhub_runtime::MAX_REDIRECTS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_over_the_cap_is_too_large() {
    let server = Server::start(routes(String::new())).await;
    let runtime = runtime(Limits {
        http_body_bytes: 1024,
        ..Limits::default()
    });
    let provider = provider(&runtime, &[&server.origin], &[]);

    let (status, body) = send(
        &provider,
        request("GET", &server.url("/sized/1024"), None, None),
    )
    .await;
    assert_eq!(
        (status.as_str(), body.len()),
        ("200", 1024),
        "the cap itself is allowed"
    );
    let err = http_error(
        &provider,
        request("GET", &server.url("/sized/1025"), None, None),
    )
    .await;
    assert_eq!(err, "too-large: 1024");
    let err = http_error(
        &provider,
        request("GET", &server.url("/stream"), None, None),
    )
    .await;
    assert_eq!(
        err, "too-large: 1024",
        "streamed bodies are capped as they arrive"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_times_out() {
    let server = Server::start(routes(String::new())).await;
    let runtime = runtime(Limits {
        http_timeout: Duration::from_millis(300),
        ..Limits::default()
    });
    let provider = provider(&runtime, &[&server.origin], &[]);
    let err = http_error(&provider, request("GET", &server.url("/hang"), None, None)).await;
    assert_eq!(err, "timeout");
    // The same provider goes on serving.
    let (status, _) = send(&provider, request("GET", &server.url("/hello"), None, None)).await;
    assert_eq!(status, "200");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_traps_is_named_and_the_next_call_works() {
    let server = Server::start(routes(String::new())).await;
    let runtime = runtime(Limits::default());
    let provider = provider(&runtime, &[&server.origin], &[("trap", "true")]);

    let err = provider.describe().await.unwrap_err();
    let ProviderCallError::Runtime(Error::Plugin(fault)) = err else {
        panic!("expected a plugin fault, got {err:?}");
    };
    assert_eq!(fault.plugin, PLUGIN);
    assert!(fault.message.starts_with("trapped"), "{fault}");
    assert!(
        fault.message.contains("asked to trap by its config"),
        "{fault}"
    );
    assert!(fault.to_string().starts_with(&format!("plugin {PLUGIN}: ")));

    // Same service, fresh instance: the next call is served.
    let (status, body) = send(&provider, request("GET", &server.url("/hello"), None, None)).await;
    assert_eq!((status.as_str(), body.as_str()), ("200", "hello"));

    // A provider-error is not a fault, and it names the plugin too.
    let err = provider.start_device_authorization(&[]).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("plugin {PLUGIN}: this provider does not offer that flow")
    );
}

#[test]
fn grants_and_worlds_are_checked_when_the_service_is_built() {
    let runtime = runtime(Limits::default());
    let err = ProviderService::new(
        runtime.clone(),
        load(&runtime, "test-http"),
        BTreeMap::new(),
        &["http://127.0.0.1:*".into()],
    )
    .unwrap_err();
    assert!(err.to_string().contains("only for manifests"), "{err}");

    let err = ProviderService::new(
        runtime.clone(),
        load(&runtime, "store-d1"),
        BTreeMap::new(),
        &[],
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("is a store-backend plugin, not an OAuth provider"),
        "{err}"
    );
    runtime.check_world(&load(&runtime, "test-http")).unwrap();
    runtime.check_world(&load(&runtime, "store-d1")).unwrap();
}
