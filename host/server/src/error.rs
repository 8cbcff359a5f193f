//! Errors as HTTP responses: a status and `{"error": {"code", "message"}}`.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use qhub_api::{ErrorBody, ErrorDetail};
use qhub_runtime::{
    ErrorCode, OAuthError, ProviderCallError, ProviderError, ServiceError, code_name,
};

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: ErrorCode,
    message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            status: status_of(code),
            code,
            message: message.into(),
        }
    }
}

/// The HTTP status for each of the core's error codes.
fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidInput => StatusCode::BAD_REQUEST,
        ErrorCode::WeakPassword => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::EmailTaken | ErrorCode::Conflict => StatusCode::CONFLICT,
        ErrorCode::InvalidCredentials | ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::QuotaExceeded | ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Account(refused) => ApiError::new(refused.code, refused.message),
            ServiceError::Runtime(fault) => {
                // The fault names the plugin and is for the operator's log; the
                // client learns only that the server failed.
                tracing::error!("{fault}");
                ApiError::new(ErrorCode::Internal, "internal error")
            }
        }
    }
}

impl From<OAuthError> for ApiError {
    fn from(err: OAuthError) -> Self {
        match err {
            OAuthError::UnknownProvider { name, known } => ApiError::new(
                ErrorCode::NotFound,
                if known.is_empty() {
                    format!(
                        "unknown provider {name:?}: this server has no OAuth provider configured"
                    )
                } else {
                    format!("unknown provider {name:?}: use one of {}", known.join(", "))
                },
            ),
            OAuthError::Account(err) => err.into(),
            OAuthError::Denied | OAuthError::Expired => {
                let code = if matches!(err, OAuthError::Denied) {
                    ErrorCode::Forbidden
                } else {
                    ErrorCode::InvalidInput
                };
                ApiError::new(code, err.to_string())
            }
            OAuthError::Provider(ProviderCallError::Provider { plugin, error }) => {
                // The provider's answer names the plugin and the destination, never a
                // secret: it tells the operator what to fix.
                let message = ProviderCallError::Provider {
                    plugin,
                    error: error.clone(),
                }
                .to_string();
                tracing::warn!("{message}");
                let code = match error {
                    ProviderError::NotSupported => ErrorCode::InvalidInput,
                    ProviderError::Http(_) => ErrorCode::Unavailable,
                    ProviderError::Misconfigured(_) | ProviderError::Protocol(_) => {
                        ErrorCode::Internal
                    }
                };
                ApiError::new(code, message)
            }
            OAuthError::Provider(ProviderCallError::Runtime(fault)) => {
                ServiceError::Runtime(fault).into()
            }
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = rejection.status();
        let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
            format!("request body exceeds {} bytes", qhub_api::MAX_BODY_BYTES)
        } else {
            format!(
                "malformed JSON body: {}",
                rejection.body_text().to_lowercase()
            )
        };
        ApiError {
            status,
            code: ErrorCode::InvalidInput,
            message,
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
        (self.status, Json(body)).into_response()
    }
}
