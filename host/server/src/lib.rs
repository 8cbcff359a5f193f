//! `qhub serve`: the HTTP/JSON API. It translates HTTP into calls on the same
//! [`qhub_runtime::AccountService`] (and [`OAuthFlows`]) the CLI uses and back; every rule (passwords, tokens,
//! sessions) lives in the plugins behind it.

mod error;
mod oauth;
mod routes;

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use qhub_runtime::OAuthFlows;
use tokio::net::TcpListener;

pub use error::ApiError;

/// The API's router over the account service behind `oauth` and its providers.
pub fn router(oauth: OAuthFlows) -> Router {
    routes::router(oauth)
}

/// Serves `router` on `listener` until `shutdown` resolves, then finishes the
/// requests in flight (graceful shutdown).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
