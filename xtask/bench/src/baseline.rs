//! The native baseline of an authenticated request: a minimal axum server whose
//! `GET /v1/me` does what `qhub serve`'s does, with no plugin in between. It
//! verifies the same HS256 token with `jsonwebtoken` (issuer `qhub`, expiry),
//! reads the token's session from the same SQLite file with sqlx and checks that
//! it is live (not revoked, not expired, the token's user), reads the user and
//! answers the profile as JSON. It runs as its own process (`qhub-bench
//! baseline-serve`) so that its CPU time is read apart from the load's.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

/// The issuer `qhub serve` writes into its tokens.
const ISSUER: &str = "qhub";

/// The claims of a QHub token that the check reads.
#[derive(Debug, serde::Deserialize)]
struct Claims {
    sub: String,
    sid: String,
}

#[derive(Debug)]
struct Baseline {
    pool: SqlitePool,
    key: DecodingKey,
    validation: Validation,
}

/// Serves the baseline on a loopback port over the SQLite database at `database`,
/// verifying tokens with `secret`; prints `listening on http://ADDR` on stdout.
pub async fn serve(database: &Path, secret: &str) -> anyhow::Result<()> {
    let options = SqliteConnectOptions::new().filename(database);
    let pool = SqlitePoolOptions::new()
        .connect_with(options)
        .await
        .with_context(|| format!("cannot open {}", database.display()))?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[ISSUER]);
    let state = Arc::new(Baseline {
        pool,
        key: DecodingKey::from_secret(secret.as_bytes()),
        validation,
    });
    let router = axum::Router::new()
        .route("/v1/me", get(me))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, router).await?;
    Ok(())
}

async fn me(State(baseline): State<Arc<Baseline>>, headers: HeaderMap) -> Response {
    match profile(&baseline, &headers).await {
        Ok(profile) => Json(profile).into_response(),
        Err(status) => status.into_response(),
    }
}

async fn profile(
    baseline: &Baseline,
    headers: &HeaderMap,
) -> Result<serde_json::Value, StatusCode> {
    let token = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or(StatusCode::UNAUTHORIZED)?;
    let claims = jsonwebtoken::decode::<Claims>(token, &baseline.key, &baseline.validation)
        .map_err(|_| StatusCode::UNAUTHORIZED)?
        .claims;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
        .as_millis() as i64;
    let session: Option<(String, i64, Option<i64>)> =
        sqlx::query_as("SELECT user_id, expires_at, revoked_at FROM user_sessions WHERE id = ?1")
            .bind(&claims.sid)
            .fetch_optional(&baseline.pool)
            .await
            .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    match session {
        Some((user_id, expires_at, None)) if expires_at > now && user_id == claims.sub => {}
        _ => return Err(StatusCode::UNAUTHORIZED),
    }
    let user: Option<(String, String, Option<String>, i64)> =
        sqlx::query_as("SELECT id, email, display_name, created_at FROM users WHERE id = ?1")
            .bind(&claims.sub)
            .fetch_optional(&baseline.pool)
            .await
            .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    let (id, email, display_name, created_at) = user.ok_or(StatusCode::NOT_FOUND)?;
    Ok(serde_json::json!({
        "id": id,
        "email": email,
        "display_name": display_name,
        "created_at": created_at,
    }))
}
