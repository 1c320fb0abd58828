//! Acknowledge links: `GET /ack/{token}` shows the incident and a button;
//! `POST /ack/{token}` acknowledges it. No sign-in: the signed token is the authority,
//! for one incident and one action. GET never acts, so link previews (chat unfurls,
//! mail scanners) cannot acknowledge by visiting the link. A link acts only on the episode
//! it was sent for: once the incident is reopened, older links say so and do nothing.

use crate::{ApiError, AppState};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use fireline_core::html::escape;
use fireline_core::oncall::ack::{check_episode, verify_ack_token, AckLink, AckTokenError};
use fireline_core::{decide, Command, Incident, IncidentId, RecordedEvent};

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/ack/{token}", get(show).post(acknowledge))
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>{title} · fireline</title>\
         <style>body{{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem}}\
         button{{font-size:1.1rem;padding:.8rem 1.4rem;border-radius:.4rem;border:0;background:#b3261e;color:#fff}}\
         dt{{font-weight:600}}</style></head><body><h1>{title}</h1>{body}</body></html>",
        title = escape(title)
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // The token is in the URL: keep it out of caches and other sites' logs.
            (header::CACHE_CONTROL, "no-store"),
        ],
        // The UI's CSP, no framing (a framed button invites clickjacking) and no Referer.
        crate::ui::PAGE_HEADERS,
        html,
    )
        .into_response()
}

fn refused(error: impl std::fmt::Display) -> Response {
    page(
        StatusCode::FORBIDDEN,
        "Link not valid",
        &format!(
            "<p>{}.</p><p>Acknowledge from the incident in fireline, or with \
             <code>fireline incident ack</code>.</p>",
            escape(&error.to_string())
        ),
    )
}

/// The incident's events and its state.
async fn incident(
    state: &AppState,
    id: IncidentId,
) -> Result<(Vec<RecordedEvent>, Incident), ApiError> {
    let events = state.store.events(id).await?;
    let incident = Incident::fold(id, &events)?;
    Ok((events, incident))
}

fn summary(i: &Incident) -> String {
    format!(
        "<dl><dt>Incident</dt><dd>{} — {}</dd><dt>Severity</dt><dd>{}</dd>\
         <dt>Service</dt><dd>{}</dd><dt>Status</dt><dd>{}</dd></dl>",
        i.id,
        escape(&i.title),
        escape(&i.severity),
        escape(&i.service),
        i.status.as_str()
    )
}

/// A link for an earlier episode of the incident: it does nothing, and says why.
fn earlier_episode(error: &AckTokenError, current: &Incident) -> Response {
    page(
        StatusCode::CONFLICT,
        &format!("Link for an earlier episode of {}", current.id),
        &format!(
            "<p>{}. It does not acknowledge the incident as it is now.</p>{}\
             <p>Acknowledge from the incident in fireline, with <code>fireline incident \
             ack</code>, or from the newest page you received.</p>",
            escape(&error.to_string()),
            summary(current)
        ),
    )
}

/// The link's incident, if the link is genuine, unexpired and for the incident's
/// current episode; otherwise the page that says why not.
async fn checked(state: &AppState, token: &str) -> Result<(AckLink, Incident), Response> {
    let secret = &state.pager.links().ack_secret;
    let link = verify_ack_token(secret, token, state.clock.now()).map_err(refused)?;
    let (events, current) = incident(state, link.incident)
        .await
        .map_err(IntoResponse::into_response)?;
    if let Err(e) = check_episode(&link, &events) {
        return Err(earlier_episode(&e, &current));
    }
    Ok((link, current))
}

async fn show(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let (link, current) = match checked(&state, &token).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let id = link.incident;
    let action = if let Some((at, by)) = &current.acknowledged {
        format!("<p>Already acknowledged by {} at {at}.</p>", escape(by))
    } else if !current.status.is_open() {
        "<p>This incident is resolved.</p>".to_owned()
    } else {
        format!(
            "<form method=\"post\"><button type=\"submit\">Acknowledge {id} as {}</button></form>",
            escape(&link.person)
        )
    };
    page(
        StatusCode::OK,
        &format!("Acknowledge {id}?"),
        &format!("{}{action}", summary(&current)),
    )
}

async fn acknowledge(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let (link, _) = match checked(&state, &token).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let (id, person) = (link.incident, link.person.clone());
    // The episode is checked again on the log the acknowledgement is decided on (and
    // appended after, version-checked), so a reopening since the check above counts.
    let decision = |facts: &fireline_engine::Facts<'_>| {
        check_episode(&link, facts.events)
            .map_err(|e| fireline_core::DomainError::Conflict(e.to_string()))?;
        decide(
            facts.incident,
            &Command::Acknowledge,
            facts.policy.catalog(),
        )
    };
    let acknowledged = state
        .commands
        .execute_with(id, &person, None, decision)
        .await
        .map_err(ApiError::from);
    match acknowledged {
        Ok(applied) => {
            tracing::info!(incident = %id, person = %person, "acknowledged by link");
            page(
                StatusCode::OK,
                &format!("{id} acknowledged"),
                &format!(
                    "<p>Thanks, {}: escalation has stopped.</p>{}",
                    escape(&person),
                    summary(&applied.incident)
                ),
            )
        }
        // Acknowledged already (by someone else, or twice): say so, do not fail loudly.
        Err(ApiError::Conflict(message)) => page(
            StatusCode::CONFLICT,
            &format!("{id} not acknowledged"),
            &format!("<p>{}</p>", escape(&message)),
        ),
        Err(e) => e.into_response(),
    }
}
