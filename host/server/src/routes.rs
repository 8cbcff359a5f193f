//! The server's router: every route of [`qhub_api::ROUTES`] that the core answers
//! is forwarded to it ([`AccountService::handle`]) with no code per route; the
//! host answers only what it alone knows (the plugins it runs, and the OAuth
//! routes, whose sequence over provider plugins it still drives: see `oauth.rs`).

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRef, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use qhub_api::PluginInfo;
use qhub_runtime::{AccountService, ApiRequest, ClientInfo, OAuthFlows};

use crate::error::ApiError;

/// What every handler may extract: the account service, and the OAuth flows over it.
#[derive(Clone)]
pub(crate) struct AppState {
    oauth: OAuthFlows,
}

impl FromRef<AppState> for AccountService {
    fn from_ref(state: &AppState) -> AccountService {
        state.oauth.accounts().clone()
    }
}

impl FromRef<AppState> for OAuthFlows {
    fn from_ref(state: &AppState) -> OAuthFlows {
        state.oauth.clone()
    }
}

pub(crate) fn router(oauth: OAuthFlows) -> Router {
    Router::new()
        .route("/v1/plugins", get(plugins))
        .merge(crate::oauth::routes())
        .fallback(forward)
        .layer(DefaultBodyLimit::max(qhub_api::MAX_BODY_BYTES))
        .with_state(AppState { oauth })
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
        .map_err(|_| ApiError::too_large())?;
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
    if let Some(log) = &answered.log {
        tracing::error!("account core: internal error: {log}");
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
async fn plugins(State(oauth): State<OAuthFlows>) -> Json<Vec<PluginInfo>> {
    Json(
        oauth
            .plugins()
            .into_iter()
            .map(qhub_runtime::plugin_info)
            .collect(),
    )
}

/// Who is calling, as the transport sees it; stored with the session.
pub(crate) fn client_info(headers: &HeaderMap, peer: SocketAddr) -> ClientInfo {
    ClientInfo {
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        ip: Some(peer.ip().to_string()),
    }
}
