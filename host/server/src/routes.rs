//! The server's router: every request is forwarded to the account core
//! ([`AccountService::handle`]) with no code per route; the host answers only what
//! it alone knows, the plugins it runs (`GET /v1/plugins`).

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use qhub_api::PluginInfo;
use qhub_runtime::{AccountService, ApiRequest, ClientInfo};

use crate::error::ApiError;

pub(crate) fn router(accounts: AccountService) -> Router {
    Router::new()
        // Other methods on the path get the core's JSON 405, as every route does.
        .route("/v1/plugins", get(plugins).fallback(forward))
        .fallback(forward)
        .layer(DefaultBodyLimit::max(qhub_api::MAX_BODY_BYTES))
        .with_state(accounts)
}

/// Hands the request to the core and its response back: routing, parsing,
/// statuses and error bodies are the core's (`plugins/auth/src/api.rs`). Here:
/// the body cap, the client's address, and what the core cannot answer itself
/// (shedding, a plugin fault), as [`ApiError`]s.
async fn forward(
    State(accounts): State<AccountService>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, qhub_api::MAX_BODY_BYTES)
        .await
        .map_err(|err| {
            let over_the_cap = std::error::Error::source(&err)
                .is_some_and(|cause| cause.is::<http_body_util::LengthLimitError>());
            if over_the_cap {
                ApiError::too_large()
            } else {
                ApiError::unreadable_body(&err)
            }
        })?;
    let request = ApiRequest {
        method: parts.method.as_str().to_owned(),
        target: parts
            .uri
            .path_and_query()
            .map_or("/", |target| target.as_str())
            .to_owned(),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_owned(), value)
            })
            .collect(),
        body: body.to_vec(),
        client: client_info(&parts.headers, peer),
    };
    let answered = accounts.handle(request).await?;
    // What the core says for the operator: a failure of the service (500) is an
    // error; a provider that could not be reached (503) or refused, a warning.
    match (&answered.log, answered.status) {
        (Some(log), 500) => tracing::error!("account core: {log}"),
        (Some(log), _) => tracing::warn!("account core: {log}"),
        (None, _) => {}
    }
    let mut response = Response::new(Body::from(answered.body));
    *response.status_mut() =
        StatusCode::from_u16(answered.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in answered.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            response.headers_mut().append(name, value);
        }
    }
    Ok(response)
}

/// What this server runs, so an operator can check that two hosts (this server and
/// the Worker, say) run the very same component files.
async fn plugins(State(accounts): State<AccountService>) -> Json<Vec<PluginInfo>> {
    Json(
        accounts
            .plugins()
            .into_iter()
            .map(qhub_runtime::plugin_info)
            .collect(),
    )
}

/// Who is calling, as the transport sees it; stored with the session.
fn client_info(headers: &HeaderMap, peer: SocketAddr) -> ClientInfo {
    ClientInfo {
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        ip: Some(peer.ip().to_string()),
    }
}
