//! `qhub serve`: the HTTP/JSON API. The server listens, caps bodies, sheds load,
//! records the client's address and shuts down gracefully; every request is then
//! forwarded to the account core's HTTP API ([`qhub_runtime::AccountService::handle`]),
//! the same component the CLI and the Worker run.

mod error;
mod routes;

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use qhub_runtime::AccountService;
use tokio::net::TcpListener;

pub use error::ApiError;

/// The API's router over the account service (and the OAuth providers it was
/// given, see [`AccountService::with_providers`]).
pub fn router(accounts: AccountService) -> Router {
    routes::router(accounts)
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

/// Installs the Ctrl-C (SIGINT) and SIGTERM handlers now, and returns a
/// future that resolves on the first of them.
///
/// The handlers are registered before this returns, not on the future's first
/// poll: a server that has announced its address must already answer a
/// SIGTERM with a graceful shutdown rather than die of it.
///
/// # Errors
/// When the process cannot install a signal handler.
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}
