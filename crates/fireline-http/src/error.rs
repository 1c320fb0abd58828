//! The API's one error type and its JSON shape:
//! `{"error":{"code":…,"message":…,"field":…}}`.

use crate::wire::{ErrorBody, ErrorDetail};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use fireline_core::{AccessRole, DomainError, FoldError};
use fireline_store::StoreError;

/// Everything a handler can fail with, each mapped to a status and a stable code.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No token, or one that is unknown or revoked (401).
    #[error("{0}")]
    Unauthorized(&'static str),
    /// The token's role is not enough (403).
    #[error("this needs the {required} role; the token has {actual}")]
    Forbidden {
        /// Role needed.
        required: AccessRole,
        /// Role held.
        actual: AccessRole,
    },
    /// No such resource (404).
    #[error("{0}")]
    NotFound(String),
    /// The request cannot be read: malformed JSON, wrong types, bad path or query (400).
    #[error("{message}")]
    BadRequest {
        /// Field at fault, if one is.
        field: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// Well-formed but unacceptable values (422).
    #[error("{message}")]
    Invalid {
        /// Field at fault.
        field: String,
        /// What is wrong and what would be right.
        message: String,
    },
    /// The incident's state does not allow the change, or it changed underneath (409).
    #[error("{0}")]
    Conflict(String),
    /// A record with this key exists already (409), naming the field that is the key.
    #[error("{message}")]
    Exists {
        /// The key field (`id`, `name`).
        field: String,
        /// What exists.
        message: String,
    },
    /// Body larger than the limit that applies to the route (413).
    #[error("request body is larger than {limit} bytes, the most this route accepts")]
    PayloadTooLarge {
        /// The limit in bytes ([`crate::MAX_BODY_BYTES`] or
        /// [`crate::MAX_ALERT_BODY_BYTES`]).
        limit: usize,
    },
    /// Body is not JSON, or is sent without saying it is (415).
    #[error("expected Content-Type: application/json")]
    UnsupportedMediaType,
    /// Unknown route (404) or method (405).
    #[error("{message}")]
    Route {
        /// 404 or 405.
        status: StatusCode,
        /// Which.
        message: String,
    },
    /// The body did not arrive within its deadline (408); the connection is closed.
    #[error("{message}")]
    RequestTimeout {
        /// Which deadline.
        message: String,
    },
    /// The database cannot be reached (503).
    #[error("the database is unavailable")]
    Unavailable,
    /// Too many request bodies are being read at once for this one to wait its turn
    /// within its deadline (503).
    #[error("the server is busy reading other requests; retry shortly")]
    Busy,
    /// The client asked too often (429); `Retry-After` says when it may ask again.
    #[error("{message}")]
    TooManyRequests {
        /// Seconds until it may ask again.
        retry_after: u64,
        /// What was limited.
        message: String,
    },
    /// A bug or damaged data (500); details are logged, never sent.
    #[error("internal error")]
    Internal,
}

impl ApiError {
    /// A 400 naming a field.
    pub fn bad_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// A 422 naming a field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A 409 for a key that is taken, naming the key's field.
    pub fn exists(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Exists {
            field: field.into(),
            message: message.into(),
        }
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden { .. } => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::BadRequest { .. } => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            ApiError::Conflict(_) | ApiError::Exists { .. } => (StatusCode::CONFLICT, "conflict"),
            ApiError::PayloadTooLarge { .. } => {
                (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
            }
            ApiError::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::Route { status, .. } if *status == StatusCode::METHOD_NOT_ALLOWED => {
                (*status, "method_not_allowed")
            }
            ApiError::Route { status, .. } => (*status, "not_found"),
            ApiError::RequestTimeout { .. } => (StatusCode::REQUEST_TIMEOUT, "request_timeout"),
            ApiError::Unavailable | ApiError::Busy => {
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
            }
            ApiError::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    fn field(&self) -> Option<String> {
        match self {
            ApiError::BadRequest { field, .. } => field.clone(),
            ApiError::Invalid { field, .. } | ApiError::Exists { field, .. } => Some(field.clone()),
            ApiError::Unauthorized(_) | ApiError::Forbidden { .. } => {
                Some("authorization".to_owned())
            }
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let retry_after = match &self {
            ApiError::TooManyRequests { retry_after, .. } => Some(*retry_after),
            _ => None,
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.to_owned(),
                message: self.to_string(),
                field: self.field(),
            },
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid { field, message } => ApiError::invalid(field, message),
            DomainError::Conflict(message) => ApiError::Conflict(message),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound("not found".to_owned()),
            StoreError::Conflict { expected, actual } => ApiError::Conflict(format!(
                "the incident changed while this request was handled (version {actual}, \
                 expected {expected}); reload and retry"
            )),
            // Only users are stored by a caller-chosen key, their name.
            StoreError::Exists(what) => ApiError::exists("name", format!("{what} already exists")),
            StoreError::Unavailable(cause) => {
                tracing::error!(error = %cause, "database unavailable");
                ApiError::Unavailable
            }
            other => {
                tracing::error!(error = %other, "store failure");
                ApiError::Internal
            }
        }
    }
}

impl From<FoldError> for ApiError {
    fn from(e: FoldError) -> Self {
        tracing::error!(error = %e, "stored incident does not fold");
        ApiError::Internal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(error: ApiError) -> (StatusCode, serde_json::Value) {
        let response = error.into_response();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("an error body");
        (
            status,
            serde_json::from_slice(&bytes).expect("a JSON error"),
        )
    }

    #[tokio::test]
    async fn duplicate_keys_name_their_field() {
        let (status, body) = body_of(StoreError::Exists("user dana".to_owned()).into()).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(body["error"]["code"], "conflict");
        assert_eq!(body["error"]["field"], "name");
        assert_eq!(body["error"]["message"], "user dana already exists");

        let (status, body) = body_of(ApiError::exists("id", "a person `alice` exists")).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(body["error"]["field"], "id");
    }

    #[tokio::test]
    async fn a_too_large_body_is_told_the_limit_that_applies() {
        let (status, body) = body_of(ApiError::PayloadTooLarge {
            limit: crate::MAX_ALERT_BODY_BYTES,
        })
        .await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            body["error"]["message"],
            "request body is larger than 8388608 bytes, the most this route accepts"
        );
    }
}
