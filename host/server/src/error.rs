//! Errors as HTTP responses: a status and `{"error": {"code", "message"}}`, with
//! `Retry-After` when the server shed the request.

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use qhub_api::{ErrorBody, ErrorDetail};
use qhub_runtime::{ErrorCode, ServiceError, code_name};

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: ErrorCode,
    message: String,
    /// Sent as `Retry-After` (RFC 9110 section 10.2.3), in whole seconds.
    retry_after: Option<Duration>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            status: status_of(code),
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 413: the body is over [`qhub_api::MAX_BODY_BYTES`] (the host's cap, checked
    /// before the core runs).
    pub fn too_large() -> Self {
        ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            ..ApiError::new(
                ErrorCode::InvalidInput,
                format!("request body exceeds {} bytes", qhub_api::MAX_BODY_BYTES),
            )
        }
    }

    /// 400: the body could not be read (the client broke off, a malformed chunk).
    pub fn unreadable_body(err: &dyn std::fmt::Display) -> Self {
        ApiError::new(
            ErrorCode::InvalidInput,
            format!("cannot read the request body: {err}"),
        )
    }

    /// 503 `unavailable` with `Retry-After`: the server is at its load bounds
    /// (see `qhub_runtime::LoadLimits`) and no plugin ran.
    pub fn overloaded(reason: &str, retry_after: Duration) -> Self {
        ApiError {
            retry_after: Some(retry_after),
            ..ApiError::new(
                ErrorCode::Unavailable,
                format!(
                    "server busy: {reason}; retry after {} s",
                    retry_after.as_secs().max(1)
                ),
            )
        }
    }
}

/// The HTTP status for each of the core's error codes (the API's one table).
fn status_of(code: ErrorCode) -> StatusCode {
    StatusCode::from_u16(qhub_api::status_of(code_name(code)))
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        match err {
            // An `internal` refusal is a bug or a misconfiguration, and its text may
            // be a database's message (a rejected query, a schema name): it goes to
            // the operator's log, at the default level, and never to the client.
            // The core's messages carry no secrets (see plugins/auth/src/error.rs).
            ServiceError::Account(refused) if matches!(refused.code, ErrorCode::Internal) => {
                tracing::error!("account core: internal error: {}", refused.message);
                ApiError::new(ErrorCode::Internal, "internal error")
            }
            ServiceError::Account(refused) => ApiError::new(refused.code, refused.message),
            ServiceError::Runtime(qhub_runtime::Error::Overloaded {
                reason,
                retry_after,
            }) => {
                // Shedding is the server working as configured: worth a trace, not
                // a warning per refused request during a flood.
                tracing::debug!("shed a request: {reason}");
                ApiError::overloaded(&reason, retry_after)
            }
            ServiceError::Runtime(fault) => {
                // The fault names the plugin and is for the operator's log; the
                // client learns only that the server failed.
                tracing::error!("{fault}");
                ApiError::new(ErrorCode::Internal, "internal error")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: code_name(self.code).to_owned(),
                message: self.message,
            },
        };
        // Every 503 says when to come back: the shedding delay when the server shed
        // the request, else a moment (the database or a provider was unreachable).
        let retry_after = self
            .retry_after
            .or((self.status == StatusCode::SERVICE_UNAVAILABLE).then_some(Duration::from_secs(1)));
        let mut response = (self.status, Json(body)).into_response();
        if let Some(retry_after) = retry_after {
            let seconds = HeaderValue::from(retry_after.as_secs().max(1));
            response.headers_mut().insert(header::RETRY_AFTER, seconds);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qhub_runtime::AccountError;

    fn refused(code: ErrorCode, message: &str) -> ApiError {
        ServiceError::Account(AccountError {
            code,
            message: message.to_owned(),
        })
        .into()
    }

    #[test]
    fn an_internal_refusal_never_reaches_the_client() {
        let database = "store: query rejected: invalid byte sequence for encoding \"UTF8\": 0x00";
        let error = refused(ErrorCode::Internal, database);
        assert_eq!(error.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(error.message, "internal error");
    }

    #[test]
    fn other_refusals_keep_their_message() {
        let error = refused(ErrorCode::InvalidInput, "job source must not contain NUL");
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        assert_eq!(error.message, "job source must not contain NUL");
    }
}
