//! Extractors that answer bad input in the API's own error shape, naming the field.

use crate::{ApiError, AppState};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;

/// A JSON body. An empty body reads as `{}`, so actions without arguments need none.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        if let Some(content_type) = req.headers().get(header::CONTENT_TYPE) {
            let is_json = content_type
                .to_str()
                .ok()
                .and_then(|v| v.split(';').next())
                .map(|mime| {
                    let mime = mime.trim();
                    mime.eq_ignore_ascii_case("application/json") || mime.ends_with("+json")
                })
                .unwrap_or(false);
            if !is_json {
                return Err(ApiError::UnsupportedMediaType);
            }
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::BadRequest {
                    field: None,
                    message: format!("could not read the body: {rejection}"),
                }
            }
        })?;
        let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        // Every request body is an object: serde would otherwise read a struct from a
        // positional array, past the field names that make misspellings errors.
        if text.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
            return Err(ApiError::BadRequest {
                field: None,
                message: "expected a JSON object, not an array".to_owned(),
            });
        }
        parse_json(text).map(ApiJson)
    }
}

/// A raw body, with size and read errors in the API's shape (for handlers that must
/// check something, such as an integration key, before parsing).
#[derive(Debug)]
pub struct ApiBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        Bytes::from_request(req, state)
            .await
            .map(ApiBytes)
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge
                } else {
                    ApiError::BadRequest {
                        field: None,
                        message: format!("could not read the body: {rejection}"),
                    }
                }
            })
    }
}

/// Parses JSON, naming the field at fault.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = if inner.is_syntax() || inner.is_eof() {
            format!("malformed JSON: {inner}")
        } else {
            inner.to_string()
        };
        bad_input(&path, message)
    })
}

/// A 400 naming the field at fault: the path to where parsing failed or, for a "missing
/// field" message (reported at the enclosing object), the field named. An "unknown
/// field" is reported at the field itself, so its path already names it. A path of "?"
/// is serde_path_to_error's "no particular place" (a syntax error): no field then.
fn bad_input(path: &str, message: String) -> ApiError {
    let missing = message
        .split('`')
        .nth(1)
        .filter(|_| message.contains("missing field"));
    let unknown = message
        .split('`')
        .nth(1)
        .filter(|_| message.contains("unknown field"));
    let field = match (missing, unknown, path) {
        (_, _, "?") => None,
        (Some(name), _, "." | "") | (_, Some(name), "." | "") => Some(name.to_owned()),
        (Some(name), _, prefix) => Some(format!("{prefix}.{name}")),
        (None, _, "." | "") => None,
        (None, _, p) => Some(p.to_owned()),
    };
    ApiError::BadRequest { field, message }
}

/// A query string, with errors in the API's shape.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|err| {
                let path = err.path().to_string();
                bad_input(&path, format!("query string: {}", err.into_inner()))
            })
    }
}
