//! `POST /ack/{token}/pushover`: Pushover's callback when a person acknowledges an
//! emergency-priority page in the Pushover app
//! (<https://pushover.net/api/receipts>: a form of `receipt`, `acknowledged=1`,
//! `acknowledged_at`, `acknowledged_by`, …). Pushover does not sign its callbacks: the
//! acknowledge link's signed token in the URL is the authority, as for the link itself,
//! and the acknowledgement is the token's person's, through the acknowledge links' own
//! function ([`super::ack::acknowledge_as`]). On a test page (a confirm link), it
//! confirms the contact instead. Not for browsers, and not in the OpenAPI document.

use super::ack::{acknowledge_as, check_confirm, check_link, confirm, LinkRefused};
use crate::{ApiError, AppState};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/ack/{token}/pushover", post(callback))
}

/// Acknowledges the link's incident when Pushover says the page was acknowledged. Every
/// outcome but a forged or expired link (403) or a failure on this side (5xx) is `200`:
/// Pushover can do nothing with a refusal, and the incident's state says the rest.
async fn callback(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let acknowledged =
        form_urlencoded::parse(&body).any(|(name, value)| name == "acknowledged" && value == "1");
    if fireline_core::oncall::verify::is_contact_check(&token) {
        return confirm_test(&state, &token, acknowledged).await;
    }
    let link = match check_link(&state, &token).await {
        Ok(Ok((link, _))) => link,
        Ok(Err(LinkRefused::Invalid(e))) => {
            return (StatusCode::FORBIDDEN, format!("link not valid: {e}")).into_response()
        }
        Ok(Err(refused @ LinkRefused::EarlierEpisode(..))) => {
            tracing::info!(reason = %refused.reason(), "Pushover callback for an earlier episode: nothing done");
            return (
                StatusCode::OK,
                "not acknowledged: the link is for an earlier episode",
            )
                .into_response();
        }
        Err(e) => return e.into_response(),
    };
    if !acknowledged {
        return (StatusCode::OK, "nothing to do: not acknowledged").into_response();
    }
    let (id, person) = (link.incident, link.person.as_str());
    match acknowledge_as(&state, id, person, Some(&link)).await {
        Ok(_) => {
            tracing::info!(incident = %id, person = %person, "acknowledged in Pushover");
            (StatusCode::OK, format!("acknowledged {id}")).into_response()
        }
        Err(ApiError::Conflict(message) | ApiError::Invalid { message, .. }) => {
            tracing::info!(incident = %id, person = %person, %message, "Pushover acknowledgement not applied");
            (StatusCode::OK, format!("not acknowledged: {message}")).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// A test page acknowledged in Pushover: the contact is confirmed, as by the test page's
/// link.
async fn confirm_test(state: &AppState, token: &str, acknowledged: bool) -> Response {
    let check = match check_confirm(state, token).await {
        Ok(Ok((_, check))) => check,
        Ok(Err(why)) => return (StatusCode::FORBIDDEN, why.reason()).into_response(),
        Err(e) => return e.into_response(),
    };
    if !acknowledged {
        return (StatusCode::OK, "nothing to do: not acknowledged").into_response();
    }
    match confirm(state, &check).await {
        Ok(()) => (StatusCode::OK, "test page confirmed").into_response(),
        Err(e) => e.into_response(),
    }
}
