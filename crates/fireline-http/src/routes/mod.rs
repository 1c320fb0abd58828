//! The application: routes, middleware and fallbacks.

mod ack;
pub(crate) mod alerts;
mod chat_command;
mod form;
pub(crate) mod incidents;
mod mattermost;
pub(crate) mod meta;
pub(crate) mod oncall;
pub(crate) mod postmortems;
mod prometheus;
mod pushover;
pub(crate) mod report;
mod slack;
mod status;
mod subscribers;
pub(crate) mod tokens;
mod twilio;

use crate::openapi::ApiDoc;
use crate::{ApiError, AppState, MAX_BODY_BYTES};
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, StatusCode};
use axum::Router;
use std::sync::Arc;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Every documented route, with the document they make.
pub(crate) fn split() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(meta::health))
        .routes(routes!(status::status_html))
        .routes(routes!(status::status_json))
        .routes(routes!(status::status_feed))
        .routes(routes!(status::put_override, status::delete_override))
        .routes(routes!(subscribers::list_subscribers))
        .routes(routes!(subscribers::remove_subscriber))
        .routes(routes!(meta::openapi_json))
        .routes(routes!(meta::whoami))
        .routes(routes!(meta::severities))
        .routes(routes!(incidents::declare, incidents::list))
        .routes(routes!(incidents::show))
        .routes(routes!(incidents::acknowledge))
        .routes(routes!(incidents::status))
        .routes(routes!(incidents::severity))
        .routes(routes!(incidents::note))
        .routes(routes!(incidents::assign))
        .routes(routes!(incidents::resolve))
        .routes(routes!(incidents::reopen))
        .routes(routes!(incidents::update))
        .routes(routes!(incidents::escalate))
        .routes(routes!(incidents::attach_runbook))
        .routes(routes!(incidents::check_step))
        .routes(routes!(meta::policy))
        .routes(routes!(report::report))
        .routes(routes!(prometheus::metrics))
        .routes(routes!(tokens::create, tokens::list))
        .routes(routes!(tokens::revoke))
        .routes(routes!(
            alerts::create_integration,
            alerts::list_integrations
        ))
        .routes(routes!(alerts::revoke_integration))
        .routes(routes!(alerts::create_heartbeat, alerts::list_heartbeats))
        .routes(routes!(alerts::ping_heartbeat))
        .routes(routes!(alerts::list_dropped))
        .routes(routes!(alerts::list_dead_letters))
        .routes(routes!(alerts::redrive_dead_letter))
        .routes(routes!(alerts::discard_dead_letter))
        .routes(routes!(oncall::put_roster, oncall::get_roster))
        .routes(routes!(oncall::list_people))
        .routes(routes!(
            oncall::get_person,
            oncall::put_person,
            oncall::delete_person
        ))
        .routes(routes!(oncall::person_feed))
        .routes(routes!(oncall::test_person))
        .routes(routes!(oncall::list_teams))
        .routes(routes!(
            oncall::get_team,
            oncall::put_team,
            oncall::delete_team
        ))
        .routes(routes!(oncall::list_schedules))
        .routes(routes!(
            oncall::get_schedule,
            oncall::put_schedule,
            oncall::delete_schedule
        ))
        .routes(routes!(oncall::shifts))
        .routes(routes!(oncall::schedule_feed))
        .routes(routes!(oncall::oncall))
        .routes(routes!(oncall::calendar_feeds))
        .routes(routes!(oncall::rotate_calendar_feeds))
        .routes(routes!(
            postmortems::draft,
            postmortems::show,
            postmortems::edit
        ))
        .routes(routes!(postmortems::history))
        .routes(routes!(postmortems::complete_stage))
        .routes(routes!(postmortems::export))
        .routes(routes!(postmortems::related_incidents))
        .routes(routes!(postmortems::add_action))
        .routes(routes!(postmortems::list_actions))
        .routes(routes!(
            postmortems::show_action,
            postmortems::update_action
        ))
        .routes(routes!(postmortems::close_action))
        .merge(
            // Alert payloads are larger than API requests: their own body limit.
            OpenApiRouter::new()
                .routes(routes!(alerts::alertmanager_keyed))
                .routes(routes!(alerts::alertmanager_bearer))
                .routes(routes!(alerts::generic_alert))
                .routes(routes!(alerts::pagerduty_enqueue))
                .layer(DefaultBodyLimit::max(crate::MAX_ALERT_BODY_BYTES)),
        )
        .split_for_parts();
    crate::openapi::complete(&mut document);
    (router, document)
}

/// Longest path a log line shows for an unmatched request.
const MAX_LOGGED_PATH: usize = 200;

/// Path segments at least this long are masked in logs: every key and token fireline
/// issues is longer (256 bits in hex), and no route's own words are.
const SECRET_SEGMENT_LEN: usize = 32;

/// An unmatched request's path, for logs: segments that may be credentials (anything
/// with a key or token prefix, an acknowledge link's token, any long segment) are
/// masked, and the whole is bounded. Matched requests log their route template instead,
/// which holds no values at all.
fn redacted_path(path: &str) -> String {
    use crate::auth::{HEARTBEAT_PREFIX, INTEGRATION_PREFIX, TOKEN_PREFIX};
    let mut previous = "";
    let shown = path
        .split('/')
        .map(|segment| {
            let shown = if [INTEGRATION_PREFIX, HEARTBEAT_PREFIX, TOKEN_PREFIX]
                .iter()
                .any(|prefix| segment.starts_with(prefix))
                || previous == "ack"
                || segment.len() >= SECRET_SEGMENT_LEN
            {
                "****"
            } else {
                segment
            };
            previous = segment;
            shown
        })
        .collect::<Vec<_>>()
        .join("/");
    match shown.char_indices().nth(MAX_LOGGED_PATH) {
        Some((at, _)) => format!("{}…", &shown[..at]),
        None => shown,
    }
}

/// The matched route's template (`/api/v1/heartbeats/{key}`), if a route matched.
fn route_template<B>(request: &Request<B>) -> Option<&str> {
    request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(axum::extract::MatchedPath::as_str)
}

/// Records each request's latency by method and route template (never the raw method or
/// path: invented methods, ids and keys would grow the label set without bound, and
/// keys are secrets).
async fn time_request(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let method = crate::metrics::method_label(request.method());
    let route = route_template(&request)
        .unwrap_or(crate::metrics::UNMATCHED_ROUTE)
        .to_owned();
    let begun = std::time::Instant::now();
    let response = next.run(request).await;
    crate::metrics::record_request(
        method,
        &route,
        response.status().as_u16(),
        begun.elapsed().as_secs_f64(),
    );
    response
}

/// `X-Content-Type-Options: nosniff` on every response, so no browser reads a JSON
/// error or a text body as HTML or script.
async fn no_sniff(mut response: axum::response::Response) -> axum::response::Response {
    response.headers_mut().insert(
        axum::http::header::X_CONTENT_TYPE_OPTIONS,
        axum::http::HeaderValue::from_static("nosniff"),
    );
    response
}

/// The request's log span: method (standard or `OTHER`), the matched route's template
/// and the request id. Never the raw path of a matched request (heartbeat keys, ack
/// tokens and integration keys are in paths) and never the query string (calendar feeds
/// take a viewer token as `?token=`); an unmatched request's path is logged redacted.
fn request_span<B>(request: &Request<B>) -> tracing::Span {
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    let method = crate::metrics::method_label(request.method());
    match route_template(request) {
        Some(route) => tracing::info_span!(
            "request",
            method = %method,
            route = %route,
            request_id = %request_id,
        ),
        None => tracing::info_span!(
            "request",
            method = %method,
            route = %crate::metrics::UNMATCHED_ROUTE,
            path = %redacted_path(request.uri().path()),
            request_id = %request_id,
        ),
    }
}

/// Longest request id taken from a client.
const MAX_REQUEST_ID_LEN: usize = 64;

/// Whether a client's `x-request-id` may be kept: at most [`MAX_REQUEST_ID_LEN`]
/// characters of `[A-Za-z0-9._-]`, so it can neither bloat a log line nor, with spaces
/// or `=`, pass for other fields in it.
fn usable_request_id(value: &axum::http::HeaderValue) -> bool {
    let id = value.as_bytes();
    !id.is_empty()
        && id.len() <= MAX_REQUEST_ID_LEN
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Drops a client's `x-request-id` that is not [`usable_request_id`] (every one, if it
/// sent several), so a fresh one is made for the request in its place.
async fn drop_unusable_request_id(mut request: axum::extract::Request) -> axum::extract::Request {
    let headers = request.headers();
    let values = headers.get_all(REQUEST_ID).iter().count();
    if values > 1
        || headers
            .get(REQUEST_ID)
            .is_some_and(|v| !usable_request_id(v))
    {
        request.headers_mut().remove(REQUEST_ID);
    }
    request
}

/// The whole application over `state`.
pub fn router(state: AppState) -> Router {
    // Installed before the first request, so every request and alert is counted.
    let _ = crate::metrics::handle();
    let (routes, document) = split();
    let document = Arc::new(document);
    routes
        .merge(ack::routes())
        // The subscribe form and its links: pages, like the acknowledge links.
        .merge(subscribers::routes())
        // What Twilio and Pushover send back; like the acknowledge links, not for the
        // OpenAPI document.
        .merge(twilio::routes())
        .merge(slack::routes())
        .merge(mattermost::routes())
        .merge(pushover::routes())
        .merge(crate::ui::routes())
        .layer(axum::Extension(document))
        .layer(axum::Extension(Arc::new(
            subscribers::SubscribeThrottle::default(),
        )))
        .fallback(|| async {
            ApiError::Route {
                status: StatusCode::NOT_FOUND,
                message: "no such route".to_owned(),
            }
        })
        .method_not_allowed_fallback(|| async {
            ApiError::Route {
                status: StatusCode::METHOD_NOT_ALLOWED,
                message: "method not allowed on this route".to_owned(),
            }
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(time_request))
        .layer(axum::middleware::map_response(no_sniff))
        // Outermost last: the request id is checked, then set, before tracing opens the
        // span that shows it, and copied onto the response. Headers are not logged, so
        // tokens never are.
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| request_span(req))
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        // Before anything reads it: a client's id is kept only if it is short and plain.
        .layer(axum::middleware::map_request(drop_unusable_request_id))
        .with_state(state)
}
