//! The routes of [`qhub_api::ROUTES`], each a thin translation to the account core.

use std::net::SocketAddr;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRef, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use qhub_api::{
    ApiKey, ChangePassword, CreateApiKey, Job, JobFilter, JobRequest, LoginRequest, NewApiKey,
    PluginInfo, Preference, Profile, RegisterRequest, Revoked, Session, SignedIn, Usage,
};
use qhub_runtime::{AccountService, ClientInfo, ErrorCode, OAuthFlows};

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
        .route("/healthz", get(health))
        .route("/v1/openapi.json", get(openapi))
        .route("/v1/plugins", get(plugins))
        .route("/v1/accounts", post(register))
        .route("/v1/sessions", post(login))
        .route("/v1/sessions/current", delete(logout))
        .route("/v1/sessions", get(list_sessions).delete(logout_all))
        .route("/v1/sessions/{id}", delete(revoke_session))
        .route("/v1/sessions/revoke-others", post(revoke_other_sessions))
        .route("/v1/password", put(change_password))
        .route("/v1/preferences", get(list_preferences))
        .route(
            "/v1/preferences/{key}",
            put(set_preference).delete(unset_preference),
        )
        .route("/v1/usage", get(usage))
        .route("/v1/jobs", post(submit_job).get(list_jobs))
        .route("/v1/jobs/{id}", get(get_job))
        .route("/v1/jobs/{id}/cancel", post(cancel_job))
        .route("/v1/keys", post(create_api_key).get(list_api_keys))
        .route("/v1/keys/{id}", delete(revoke_api_key))
        .route("/v1/account/export", get(export_account))
        .route("/v1/account", delete(delete_account))
        .route("/v1/me", get(whoami))
        .merge(crate::oauth::routes())
        .fallback(no_such_route)
        .layer(DefaultBodyLimit::max(qhub_api::MAX_BODY_BYTES))
        .with_state(AppState { oauth })
}

/// Unknown paths get the same JSON error body as every other failure.
async fn no_such_route() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no such route; see /v1/openapi.json")
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        qhub_api::OPENAPI_JSON,
    )
}

/// What this server runs, so an operator can check that two hosts (this server and
/// the Worker, say) run the very same component files.
async fn plugins(State(oauth): State<OAuthFlows>) -> Json<Vec<PluginInfo>> {
    Json(oauth.plugins().into_iter().map(PluginInfo::from).collect())
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

/// The bearer token of the request.
pub(crate) fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated, "missing bearer token"))
}

async fn register(
    State(accounts): State<AccountService>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<RegisterRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<SignedIn>), ApiError> {
    let Json(body) = body?;
    let request = qhub_runtime::RegisterRequest {
        email: body.email,
        password: body.password,
        display_name: body.display_name,
    };
    let signed_in = accounts
        .register(request, client_info(&headers, peer))
        .await?;
    Ok((StatusCode::CREATED, Json(signed_in.into())))
}

async fn login(
    State(accounts): State<AccountService>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> Result<Json<SignedIn>, ApiError> {
    let Json(body) = body?;
    let signed_in = accounts
        .login(&body.email, &body.password, client_info(&headers, peer))
        .await?;
    Ok(Json(signed_in.into()))
}

async fn logout(
    State(accounts): State<AccountService>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    accounts.logout(bearer(&headers)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn whoami(
    State(accounts): State<AccountService>,
    headers: HeaderMap,
) -> Result<Json<Profile>, ApiError> {
    let profile = accounts.whoami(bearer(&headers)?).await?;
    Ok(Json(profile.into()))
}

async fn list_sessions(
    State(accounts): State<AccountService>,
    headers: HeaderMap,
) -> Result<Json<Vec<Session>>, ApiError> {
    let sessions = accounts.list_sessions(bearer(&headers)?).await?;
    Ok(Json(sessions.into_iter().map(Session::from).collect()))
}

async fn revoke_session(
    State(accounts): State<AccountService>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    accounts.revoke_session(bearer(&headers)?, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn revoke_other_sessions(
    State(accounts): State<AccountService>,
    headers: HeaderMap,
) -> Result<Json<Revoked>, ApiError> {
    let revoked = accounts.revoke_other_sessions(bearer(&headers)?).await?;
    Ok(Json(Revoked { revoked }))
}

async fn logout_all(
    State(accounts): State<AccountService>,
    headers: HeaderMap,
) -> Result<Json<Revoked>, ApiError> {
    let revoked = accounts.logout_all(bearer(&headers)?).await?;
    Ok(Json(Revoked { revoked }))
}

async fn change_password(
    State(accounts): State<AccountService>,
    headers: HeaderMap,
    body: Result<Json<ChangePassword>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let Json(body) = body?;
    accounts
        .change_password(
            bearer(&headers)?,
            &body.current_password,
            &body.new_password,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_preferences(
    State(accounts): State<AccountService>,
    headers: HeaderMap,
) -> Result<Json<Vec<Preference>>, ApiError> {
    let preferences = accounts.list_preferences(bearer(&headers)?).await?;
    Ok(Json(
        preferences.into_iter().map(Preference::from).collect(),
    ))
}

/// The body is handed to the core as text: the core decides what a valid value is.
async fn set_preference(
    State(accounts): State<AccountService>,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Result<StatusCode, ApiError> {
    accounts
        .set_preference(bearer(&headers)?, &key, &body)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn unset_preference(
    State(accounts): State<AccountService>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    accounts.unset_preference(bearer(&headers)?, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn usage(
    State(accounts): State<AccountService>,
    headers: HeaderMap,
) -> Result<Json<Usage>, ApiError> {
    Ok(Json(accounts.get_usage(bearer(&headers)?).await?.into()))
}

async fn submit_job(
    State(accounts): State<AccountService>,
    headers: HeaderMap,
    body: Result<Json<JobRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<Job>), ApiError> {
    let Json(body) = body?;
    let request = qhub_runtime::JobRequest {
        source: body.source,
        shots: body.shots,
        backend: body.backend,
    };
    let job = accounts.submit_job(bearer(&headers)?, request).await?;
    Ok((StatusCode::CREATED, Json(job.into())))
}

async fn list_jobs(
    State(accounts): State<AccountService>,
    Query(filter): Query<JobFilter>,
    headers: HeaderMap,
) -> Result<Json<Vec<Job>>, ApiError> {
    let status = filter
        .status
        .as_deref()
        .map(qhub_api::job_status_from_name)
        .transpose()
        .map_err(|message| ApiError::new(ErrorCode::InvalidInput, message))?;
    let jobs = accounts.list_jobs(bearer(&headers)?, status).await?;
    Ok(Json(jobs.into_iter().map(Job::from).collect()))
}

async fn get_job(
    State(accounts): State<AccountService>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Job>, ApiError> {
    Ok(Json(accounts.get_job(bearer(&headers)?, &id).await?.into()))
}

async fn cancel_job(
    State(accounts): State<AccountService>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Job>, ApiError> {
    Ok(Json(
        accounts.cancel_job(bearer(&headers)?, &id).await?.into(),
    ))
}

async fn export_account(
    State(accounts): State<AccountService>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    let document = accounts.export_account(bearer(&headers)?).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], document))
}

async fn delete_account(
    State(accounts): State<AccountService>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    accounts.delete_account(bearer(&headers)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn create_api_key(
    State(accounts): State<AccountService>,
    headers: HeaderMap,
    body: Result<Json<CreateApiKey>, JsonRejection>,
) -> Result<(StatusCode, Json<NewApiKey>), ApiError> {
    let Json(body) = body?;
    let created = accounts
        .create_api_key(
            bearer(&headers)?,
            &body.name,
            body.scopes.as_deref(),
            body.expires_in,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

async fn list_api_keys(
    State(accounts): State<AccountService>,
    headers: HeaderMap,
) -> Result<Json<Vec<ApiKey>>, ApiError> {
    let keys = accounts.list_api_keys(bearer(&headers)?).await?;
    Ok(Json(keys.into_iter().map(ApiKey::from).collect()))
}

async fn revoke_api_key(
    State(accounts): State<AccountService>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    accounts.revoke_api_key(bearer(&headers)?, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
