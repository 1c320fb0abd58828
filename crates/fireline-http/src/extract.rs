//! Extractors that answer bad input in the API's own error shape, naming the field.

use crate::{ApiError, AppState};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use std::future::Future as _;
use std::sync::{Arc, OnceLock};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

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

/// The bytes of request bodies being read and held at once, across connections, in KiB
/// permits: a body takes its share before it is read (its declared length, or as it
/// arrives) and gives it back when its request is done with it. Shared by every request
/// [`crate::serve_with`] serves (`body_budget_bytes`).
#[derive(Debug, Clone)]
pub struct BodyBudget(Arc<Semaphore>);

impl BodyBudget {
    /// A budget of `bytes` (rounded up to whole KiB).
    pub fn new(bytes: usize) -> BodyBudget {
        BodyBudget(Arc::new(Semaphore::new(
            kib(bytes).min(Semaphore::MAX_PERMITS as u64) as usize,
        )))
    }

    /// Bytes free now (whole KiB).
    pub fn available_bytes(&self) -> usize {
        self.0.available_permits() * 1024
    }

    /// The budget of requests not served by [`crate::serve_with`] (a router driven
    /// in-process), of the default size.
    fn process_default() -> BodyBudget {
        static DEFAULT: OnceLock<BodyBudget> = OnceLock::new();
        DEFAULT
            .get_or_init(|| BodyBudget::new(crate::DEFAULT_BODY_BUDGET_BYTES))
            .clone()
    }
}

/// Whole KiB covering `bytes`.
fn kib(bytes: usize) -> u64 {
    (bytes as u64).div_ceil(1024)
}

/// What bounds one request's body: the shared [`BodyBudget`] and the instant by which
/// the body must have arrived (none in-process). Put on each request by
/// [`crate::serve_with`].
#[derive(Debug, Clone)]
pub struct BodyLimits {
    budget: BodyBudget,
    deadline: Option<Instant>,
}

impl BodyLimits {
    /// Limits drawing on `budget`, with the body due by `deadline`.
    pub fn new(budget: BodyBudget, deadline: Option<Instant>) -> BodyLimits {
        BodyLimits { budget, deadline }
    }

    fn of(req: &Request) -> BodyLimits {
        req.extensions()
            .get::<BodyLimits>()
            .cloned()
            .unwrap_or_else(|| BodyLimits::new(BodyBudget::process_default(), None))
    }
}

/// A body's share of the [`BodyBudget`], held as long as its bytes are.
#[derive(Debug)]
struct Share {
    limits: BodyLimits,
    permit: Option<OwnedSemaphorePermit>,
}

impl Share {
    fn held_kib(&self) -> u64 {
        self.permit.as_ref().map_or(0, |p| p.num_permits() as u64)
    }

    /// Grows the share to cover `bytes`, waiting for room until the body's deadline
    /// (503 after it: the server is reading too much at once).
    async fn cover(&mut self, bytes: usize) -> Result<(), ApiError> {
        let missing = kib(bytes).saturating_sub(self.held_kib());
        if missing == 0 {
            return Ok(());
        }
        let missing = u32::try_from(missing).map_err(|_| ApiError::Busy)?;
        let acquire = self.limits.budget.0.clone().acquire_many_owned(missing);
        let more = match self.limits.deadline {
            Some(deadline) => tokio::time::timeout_at(deadline, acquire)
                .await
                .map_err(|_| ApiError::Busy)?,
            None => acquire.await,
        }
        .map_err(|_| ApiError::Busy)?;
        match &mut self.permit {
            Some(permit) => permit.merge(more),
            None => self.permit = Some(more),
        }
        Ok(())
    }
}

/// A body read whole, holding its share of the [`BodyBudget`] until it is dropped.
#[derive(Debug)]
pub struct ReadBody {
    bytes: Bytes,
    _share: Share,
}

impl ReadBody {
    /// The bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }
}

impl std::ops::Deref for ReadBody {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

/// A body not sent in time: the error [`TimedBody`] gives once its deadline passes.
#[derive(Debug)]
pub struct BodyTimedOut(pub std::time::Duration);

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the body was not sent within {:?}", self.0)
    }
}

impl std::error::Error for BodyTimedOut {}

/// A request body that fails with [`BodyTimedOut`] when it is still arriving at its
/// deadline: whoever reads it (every extractor, not only this module's) stops waiting
/// for a client that trickles. What has arrived by then is still read.
#[derive(Debug)]
pub struct TimedBody<B> {
    inner: B,
    deadline: std::pin::Pin<Box<tokio::time::Sleep>>,
    timeout: std::time::Duration,
    timed_out: bool,
}

impl<B> TimedBody<B> {
    /// `inner`, due by `deadline` (`timeout` after its head, which the error states).
    pub fn new(inner: B, deadline: Instant, timeout: std::time::Duration) -> TimedBody<B> {
        TimedBody {
            inner,
            deadline: Box::pin(tokio::time::sleep_until(deadline)),
            timeout,
            timed_out: false,
        }
    }
}

impl<B> hyper::body::Body for TimedBody<B>
where
    B: hyper::body::Body + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = B::Data;
    type Error = axum::BoxError;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        use std::task::Poll;
        let this = self.get_mut();
        if this.timed_out {
            return Poll::Ready(None);
        }
        match std::pin::Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|f| f.map_err(Into::into))),
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    this.timed_out = true;
                    Poll::Ready(Some(Err(Box::new(BodyTimedOut(this.timeout)))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.timed_out || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// Whether `error`, or anything it wraps, is a [`BodyTimedOut`].
fn timed_out<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a BodyTimedOut> {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if let Some(t) = e.downcast_ref::<BodyTimedOut>() {
            return Some(t);
        }
        cause = e.source();
    }
    None
}

/// Reads the whole body, refusing it past `limit` bytes with a message stating that
/// limit (at once when its declared length is past it, without reading it). The limit is
/// applied here rather than through axum's `DefaultBodyLimit`, whose rejection cannot
/// say which limit applied. The body takes its share of the [`BodyBudget`] before it is
/// read — its declared length up front, else as it arrives — and must arrive by its
/// deadline (408 otherwise).
async fn read_body(req: Request, limit: usize) -> Result<ReadBody, ApiError> {
    use http_body_util::BodyExt;
    let limits = BodyLimits::of(&req);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let declared = declared.map_or(0, |len| len as usize);
    let mut share = Share {
        limits,
        permit: None,
    };
    share.cover(declared).await?;
    let mut body = req.into_body();
    let mut buffer = Vec::with_capacity(declared);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| match timed_out(&e) {
            Some(t) => ApiError::RequestTimeout {
                message: t.to_string(),
            },
            None => ApiError::BadRequest {
                field: None,
                message: format!("could not read the body: {e}"),
            },
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let len = buffer.len() + data.len();
        if len > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        if len > declared {
            // Sent without a length (or past it): cover what arrived, a step ahead.
            share
                .cover(len.max(buffer.len() + 64 * 1024).min(limit))
                .await?;
        }
        buffer.extend_from_slice(&data);
    }
    Ok(ReadBody {
        bytes: Bytes::from(buffer),
        _share: share,
    })
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
        let body = read_body(req, crate::MAX_BODY_BYTES).await?;
        let bytes: &[u8] = &body;
        let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else if declared.is_none() {
            return Err(ApiError::UnsupportedMediaType);
        } else {
            bytes
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

/// An alert payload's body, declared as JSON and not yet read: a receiver checks the
/// integration key first, then reads it with [`AlertBody::read`] (at most
/// [`crate::MAX_ALERT_BODY_BYTES`]), so a client with no key cannot make the server
/// receive, let alone hold, a large body. Size, deadline and read errors come in the
/// API's shape.
///
/// A missing `Content-Type` is refused (415) like any other: Alertmanager's webhook and
/// PagerDuty notifiers send `application/json`, PagerDuty's Events API v2 documents it
/// as required, and `fireline alert send` sends it; no documented sender omits it.
#[derive(Debug)]
pub struct AlertBody(Request);

impl AlertBody {
    /// Reads the body, at most [`crate::MAX_ALERT_BODY_BYTES`].
    pub async fn read(self) -> Result<ReadBody, ApiError> {
        self.read_up_to(crate::MAX_ALERT_BODY_BYTES).await
    }

    /// Reads the body, at most `limit` bytes.
    pub async fn read_up_to(self, limit: usize) -> Result<ReadBody, ApiError> {
        read_body(self.0, limit).await
    }
}

impl<S: Send + Sync> FromRequest<S> for AlertBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        if says_json(&req) != Some(true) {
            return Err(ApiError::UnsupportedMediaType);
        }
        Ok(AlertBody(req))
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
