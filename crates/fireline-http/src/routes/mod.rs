//! The application: routes, middleware and fallbacks.

mod ack;
pub(crate) mod alerts;
pub(crate) mod incidents;
pub(crate) mod meta;
pub(crate) mod oncall;
pub(crate) mod postmortems;
mod prometheus;
pub(crate) mod report;
mod status;
pub(crate) mod tokens;

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
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(meta::health))
        .routes(routes!(status::status_html))
        .routes(routes!(status::status_json))
        .routes(routes!(status::status_feed))
        .routes(routes!(status::put_override, status::delete_override))
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
        .routes(routes!(oncall::put_roster, oncall::get_roster))
        .routes(routes!(oncall::list_people))
        .routes(routes!(
            oncall::get_person,
            oncall::put_person,
            oncall::delete_person
        ))
        .routes(routes!(oncall::person_feed))
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
        .split_for_parts()
}

/// The path for logs: integration keys in receiver URLs are secrets, so they are masked.
fn redacted_path(path: &str) -> String {
    let mut previous = "";
    path.split('/')
        .map(|segment| {
            let shown = if segment.starts_with(crate::auth::INTEGRATION_PREFIX) {
                "fli_****"
            } else if previous == "ack" {
                // An acknowledge link's token is a credential for its incident.
                "****"
            } else {
                segment
            };
            previous = segment;
            shown
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Records each request's latency by route template (never the raw path: ids and keys
/// would explode the label set, and keys are secrets).
async fn time_request(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_owned();
    let begun = std::time::Instant::now();
    let response = next.run(request).await;
    crate::metrics::record_request(
        &method,
        &route,
        response.status().as_u16(),
        begun.elapsed().as_secs_f64(),
    );
    response
}

/// The whole application over `state`.
pub fn router(state: AppState) -> Router {
    // Installed before the first request, so every request and alert is counted.
    let _ = crate::metrics::handle();
    let (routes, document) = split();
    let document = Arc::new(document);
    routes
        .merge(ack::routes())
        .merge(crate::ui::routes())
        .layer(axum::Extension(document))
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
        // Outermost last: the request id is set before tracing opens the span that shows
        // it, and copied onto the response. Headers are not logged, so tokens never are.
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    let request_id = req
                        .headers()
                        .get(REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    // The path only, never the query string: calendar feeds take a
                    // viewer token as `?token=`, a credential logs must not keep.
                    tracing::info_span!(
                        "request",
                        method = %req.method(),
                        path = %redacted_path(req.uri().path()),
                        request_id = %request_id,
                    )
                })
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}
