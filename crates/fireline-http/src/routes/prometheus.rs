//! `GET /metrics`: the Prometheus exposition.

use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::fmt::Write as _;

/// Prometheus metrics (text exposition format). Needs the metrics token as a bearer
/// token when the server has one configured (`metrics_token`), and no token otherwise.
#[utoipa::path(
    get, path = "/metrics", tag = "meta", security(()),
    responses(
        (status = 200, description = "Prometheus text exposition", content_type = "text/plain"),
        (status = 401, description = "A metrics token is configured and was not given", body = crate::wire::ErrorBody)
    )
)]
pub(super) async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(expected) = &state.metrics_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        // Constant-time enough: both sides are hashed to equal-length digests first.
        let ok = given
            .is_some_and(|g| fireline_core::hash_token(g) == fireline_core::hash_token(expected));
        if !ok {
            return Err(ApiError::Unauthorized(
                "this server's /metrics needs its metrics token",
            ));
        }
    }
    let Some(handle) = crate::metrics::handle() else {
        return Err(ApiError::Unavailable);
    };
    handle.run_upkeep();
    let mut out = handle.render();
    let open = state.store.open_incidents_by_severity().await?;
    out.push_str("# HELP fireline_open_incidents Incidents not resolved, by severity.\n");
    out.push_str("# TYPE fireline_open_incidents gauge\n");
    let policy = state.policy.current();
    for severity in policy.catalog().levels() {
        let n = open
            .iter()
            .find(|(s, _)| s == &severity.id)
            .map_or(0, |(_, n)| *n);
        let _ = writeln!(
            out,
            "fireline_open_incidents{{severity=\"{}\"}} {n}",
            severity.id
        );
    }
    for (s, n) in open
        .iter()
        .filter(|(s, _)| policy.catalog().get(s).is_none())
    {
        let _ = writeln!(out, "fireline_open_incidents{{severity=\"{s}\"}} {n}");
    }
    let depth = state.store.outbox_depth().await?;
    out.push_str("# HELP fireline_outbox_pending Notifications waiting to be delivered.\n");
    out.push_str("# TYPE fireline_outbox_pending gauge\n");
    let _ = writeln!(out, "fireline_outbox_pending {depth}");
    let backlog = state.store.inbox_backlog().await?;
    let age = backlog.oldest.map_or(0.0, |at| {
        state.clock.now().duration_since(at).as_secs_f64().max(0.0)
    });
    out.push_str(
        "# HELP fireline_inbox_backlog Accepted alert payloads waiting to be processed.\n",
    );
    out.push_str("# TYPE fireline_inbox_backlog gauge\n");
    let _ = writeln!(out, "fireline_inbox_backlog {}", backlog.items);
    out.push_str(
        "# HELP fireline_inbox_backlog_age_seconds How long the oldest payload waiting has waited (0 when none): how far alert processing is behind.\n",
    );
    out.push_str("# TYPE fireline_inbox_backlog_age_seconds gauge\n");
    let _ = writeln!(out, "fireline_inbox_backlog_age_seconds {age:.3}");
    let dead = state.store.dead_letter_count().await?;
    out.push_str(
        "# HELP fireline_inbox_dead_letters Accepted alert payloads parked after repeated processing failures (re-drive them from the Admin page or the API).\n",
    );
    out.push_str("# TYPE fireline_inbox_dead_letters gauge\n");
    let _ = writeln!(out, "fireline_inbox_dead_letters {dead}");
    let unready = super::oncall::not_ready_now(&state).await?;
    out.push_str(
        "# HELP fireline_oncall_unready_people People on call in the next 7 days whom no confirmed contact can wake (fireline person test).\n",
    );
    out.push_str("# TYPE fireline_oncall_unready_people gauge\n");
    let _ = writeln!(out, "fireline_oncall_unready_people {}", unready.len());
    out.push_str(
        "# HELP fireline_oncall_unready_shifts Shifts in the next 7 days taken by someone no confirmed contact can wake.\n",
    );
    out.push_str("# TYPE fireline_oncall_unready_shifts gauge\n");
    let shifts: usize = unready.iter().map(|p| p.shifts.len()).sum();
    let _ = writeln!(out, "fireline_oncall_unready_shifts {shifts}");
    Ok((
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response())
}
