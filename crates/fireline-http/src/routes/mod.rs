//! The application: routes, middleware and fallbacks.

mod ack;
mod alerts;
mod incidents;
mod meta;
mod postmortems;
mod tokens;

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
        .routes(routes!(meta::policy))
        .routes(routes!(tokens::create, tokens::list))
        .routes(routes!(tokens::revoke))
        .routes(routes!(
            alerts::create_integration,
            alerts::list_integrations
        ))
        .routes(routes!(alerts::revoke_integration))
        .routes(routes!(alerts::create_heartbeat, alerts::list_heartbeats))
        .routes(routes!(alerts::ping_heartbeat))
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

/// The whole application over `state`.
pub fn router(state: AppState) -> Router {
    let (routes, document) = split();
    let document = Arc::new(document);
    routes
        .merge(ack::routes())
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
