//! Health, identity, severities and the OpenAPI document.

use crate::auth::AsViewer;
use crate::wire::{
    ErrorBody, EscalationLevelView, Health, PolicySummary, SeverityList, SeverityView, WhoAmI,
};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::{Extension, Json};
use std::sync::Arc;

/// Liveness and database reachability; needs no token.
#[utoipa::path(
    get, path = "/health", tag = "meta", security(()),
    responses(
        (status = 200, description = "Serving", body = Health),
        (status = 503, description = "Database unreachable", body = ErrorBody)
    )
)]
pub(super) async fn health(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    state.store.ping().await?;
    Ok(Json(Health {
        status: "ok".to_owned(),
        database: state.store.backend().to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }))
}

/// This document.
#[utoipa::path(
    get, path = "/api/v1/openapi.json", tag = "meta",
    responses(
        (status = 200, description = "OpenAPI 3 document", content_type = "application/json"),
        (status = 401, description = "No valid token", body = ErrorBody)
    )
)]
pub(super) async fn openapi_json(
    _caller: AsViewer,
    Extension(document): Extension<Arc<utoipa::openapi::OpenApi>>,
) -> Json<Arc<utoipa::openapi::OpenApi>> {
    Json(document)
}

/// The caller's principal and role.
#[utoipa::path(
    get, path = "/api/v1/whoami", tag = "meta",
    responses(
        (status = 200, description = "The token's principal", body = WhoAmI),
        (status = 401, description = "No valid token", body = ErrorBody)
    )
)]
pub(super) async fn whoami(caller: AsViewer) -> Json<WhoAmI> {
    let caller = caller.0;
    Json(WhoAmI {
        name: caller.name,
        role: caller.role.to_string(),
        token_id: caller.token_id,
    })
}

/// Severity levels in force.
#[utoipa::path(
    get, path = "/api/v1/severities", tag = "meta",
    responses(
        (status = 200, description = "Most severe first", body = SeverityList),
        (status = 401, description = "No valid token", body = ErrorBody)
    )
)]
pub(super) async fn severities(
    _caller: AsViewer,
    State(state): State<AppState>,
) -> Json<SeverityList> {
    Json(SeverityList {
        severities: state
            .policy
            .current()
            .catalog()
            .levels()
            .iter()
            .map(SeverityView::from)
            .collect(),
    })
}

/// The policy in force.
#[utoipa::path(
    get, path = "/api/v1/policy", tag = "meta",
    responses(
        (status = 200, description = "Name, digest, severities, levels, categories", body = PolicySummary),
        (status = 401, description = "No valid token", body = ErrorBody)
    )
)]
pub(super) async fn policy(
    _caller: AsViewer,
    State(state): State<AppState>,
) -> Json<PolicySummary> {
    Json(policy_summary(&state.policy.current()))
}

/// What `GET /api/v1/policy` and `/ui/admin` show of a policy.
pub(crate) fn policy_summary(policy: &fireline_core::policy::Policy) -> PolicySummary {
    PolicySummary {
        name: policy.name.clone(),
        label: policy.label(),
        description: policy.description.clone(),
        severities: policy
            .severities
            .iter()
            .map(|s| s.severity.id.clone())
            .collect(),
        escalation: policy
            .escalation
            .iter()
            .map(|l| EscalationLevelView {
                level: l.level,
                name: l.name.clone(),
                targets: l.targets.iter().map(ToString::to_string).collect(),
            })
            .collect(),
        categories: policy.categories.iter().map(|c| c.id.clone()).collect(),
    }
}
