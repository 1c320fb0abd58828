//! Extractors that answer bad input in the API's own error shape, naming the field.

use crate::{ApiError, AppState};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// Whether the request says its body is JSON (`application/json`, any `+json` type,
/// parameters such as `charset` allowed); `None` when it says nothing.
fn says_json(req: &Request) -> Option<bool> {
    let content_type = req.headers().get(header::CONTENT_TYPE)?;
    Some(
        content_type
            .to_str()
            .ok()
            .and_then(|v| v.split(';').next())
            .map(|mime| {
                let mime = mime.trim();
                mime.eq_ignore_ascii_case("application/json") || mime.ends_with("+json")
            })
            .unwrap_or(false),
    )
}

/// Reads the whole body, refusing it past `limit` bytes with a message stating that
/// limit. The limit is applied here rather than through axum's `DefaultBodyLimit`, whose
/// rejection cannot say which limit applied.
async fn read_body(req: Request, limit: usize) -> Result<Bytes, ApiError> {
    use http_body_util::BodyExt;
    let limited = http_body_util::Limited::new(req.into_body(), limit);
    match limited.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            Err(ApiError::PayloadTooLarge { limit })
        }
        Err(e) => Err(ApiError::BadRequest {
            field: None,
            message: format!("could not read the body: {e}"),
        }),
    }
}

/// A JSON body of at most [`crate::MAX_BODY_BYTES`]. An empty body reads as `{}`, so
/// actions without arguments need none; a body that is not empty must say it is JSON
/// (415 otherwise: a form or text post is not guessed at).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &AppState) -> Result<Self, ApiError> {
        let declared = says_json(&req);
        if declared == Some(false) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = read_body(req, crate::MAX_BODY_BYTES).await?;
        let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else if declared.is_none() {
            return Err(ApiError::UnsupportedMediaType);
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

/// An alert payload's raw body, at most [`crate::MAX_ALERT_BODY_BYTES`], declared as
/// JSON, with size and read errors in the API's shape (for receivers, which check the
/// integration key before parsing).
///
/// A missing `Content-Type` is refused (415) like any other: Alertmanager's webhook and
/// PagerDuty notifiers send `application/json`, PagerDuty's Events API v2 documents it
/// as required, and `fireline alert send` sends it; no documented sender omits it.
#[derive(Debug)]
pub struct ApiBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        if says_json(&req) != Some(true) {
            return Err(ApiError::UnsupportedMediaType);
        }
        read_body(req, crate::MAX_ALERT_BODY_BYTES)
            .await
            .map(ApiBytes)
    }
}

/// Parses JSON, naming the field at fault. Anything but whitespace after the value is
/// refused (`{"a":1} xyz` is not a JSON document).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = if inner.is_syntax() || inner.is_eof() {
            format!("malformed JSON: {inner}")
        } else {
            inner.to_string()
        };
        bad_input(&path, message)
    })?;
    de.end().map_err(|e| ApiError::BadRequest {
        field: None,
        message: format!("malformed JSON: {e} (only whitespace may follow the value)"),
    })?;
    Ok(value)
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
