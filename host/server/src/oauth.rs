//! The OAuth routes: device flow and authorization code flow at a configured
//! provider, ending in a QHub session exactly like a password login. Each is a
//! thin translation to [`OAuthFlows`] (the provider plugin, then the account
//! core). The caller's linked identities are routes of the core's own.

use std::net::SocketAddr;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use qhub_api::{
    AuthorizeRequest, AuthorizeUrl, CodeExchange, DeviceCode, DevicePending, DeviceStart,
    DeviceTokenRequest, OAuthProvider, SignedIn,
};
use qhub_runtime::{DevicePoll, OAuthFlows};

use crate::error::ApiError;
use crate::routes::{AppState, client_info};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/oauth/providers", get(list_providers))
        .route("/v1/oauth/{provider}/device", post(start_device))
        .route("/v1/oauth/{provider}/device/token", post(poll_device))
        .route("/v1/oauth/{provider}/authorize", post(authorize))
        .route("/v1/oauth/{provider}/token", post(exchange_code))
}

async fn list_providers(
    State(oauth): State<OAuthFlows>,
) -> Result<Json<Vec<OAuthProvider>>, ApiError> {
    let mut providers = Vec::new();
    for name in oauth.names() {
        let about = oauth.describe(name).await?;
        providers.push(OAuthProvider {
            name: name.to_owned(),
            display_name: about.display_name,
            device_flow: about.supports_device_flow,
            web_flow: about.supports_web_flow,
        });
    }
    Ok(Json(providers))
}

async fn start_device(
    State(oauth): State<OAuthFlows>,
    Path(provider): Path<String>,
    body: Result<Json<DeviceStart>, JsonRejection>,
) -> Result<Json<DeviceCode>, ApiError> {
    let Json(body) = body?;
    let device = oauth.start_device(&provider, &body.scopes).await?;
    Ok(Json(device.into()))
}

/// 200 with a session once approved; 202 with `pending` or `slow_down` before.
async fn poll_device(
    State(oauth): State<OAuthFlows>,
    Path(provider): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<DeviceTokenRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    let client = client_info(&headers, peer);
    Ok(
        match oauth
            .poll_device(&provider, &body.device_code, client)
            .await?
        {
            DevicePoll::SignedIn(signed_in) => Json(SignedIn::from(signed_in)).into_response(),
            DevicePoll::Pending { slow_down } => {
                (StatusCode::ACCEPTED, Json(DevicePending::new(slow_down))).into_response()
            }
        },
    )
}

async fn authorize(
    State(oauth): State<OAuthFlows>,
    Path(provider): Path<String>,
    body: Result<Json<AuthorizeRequest>, JsonRejection>,
) -> Result<Json<AuthorizeUrl>, ApiError> {
    let Json(body) = body?;
    let url = oauth
        .authorization_url(
            &provider,
            &body.redirect_uri,
            &body.state,
            &body.code_challenge,
            &body.scopes,
        )
        .await?;
    Ok(Json(AuthorizeUrl { url }))
}

async fn exchange_code(
    State(oauth): State<OAuthFlows>,
    Path(provider): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<CodeExchange>, JsonRejection>,
) -> Result<Json<SignedIn>, ApiError> {
    let Json(body) = body?;
    let signed_in = oauth
        .exchange_code(
            &provider,
            &body.code,
            &body.redirect_uri,
            &body.code_verifier,
            client_info(&headers, peer),
        )
        .await?;
    Ok(Json(signed_in.into()))
}
