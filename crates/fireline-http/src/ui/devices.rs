//! Phones and browsers as push contacts: the installable app's manifest, icons and
//! service worker, the "Get pages on this device" script, and subscribing and removing
//! devices (`/ui/push/…`).
//!
//! A device belongs to the person whose own user session subscribed it (the user's name
//! is their roster id); pages to that person then reach it ([`fireline_engine::push`]).

use super::Session;
use crate::{ApiError, AppState};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use fireline_notify::webpush::{Endpoints, Subscription, WebPushError};
use fireline_store::PushDevice;
use sha2::{Digest, Sha256};

/// The header the subscribe request carries the session's CSRF token in (it is JSON,
/// not a form).
pub(crate) const CSRF_HEADER: &str = "x-fireline-csrf";

/// Longest device label kept.
const MAX_LABEL_CHARS: usize = 60;

/// Most devices in use per person: more is a script, not someone's phones, and each
/// page is sent to every one of them.
pub(crate) const MAX_DEVICES: usize = 10;

/// A static file of the app: public, as the browser fetches the service worker and the
/// manifest without asking the user to sign in.
fn asset(content_type: &'static str, body: &'static [u8]) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            // The service worker is checked for updates on each navigation anyway.
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// `GET /ui/manifest.webmanifest`: makes the UI installable on a phone's home screen.
pub(super) async fn manifest() -> Response {
    asset(
        "application/manifest+json",
        include_bytes!("../../templates/ui/manifest.webmanifest"),
    )
}

/// `GET /ui/sw.js`: the service worker that shows pushed pages and acknowledges them.
pub(super) async fn service_worker() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_bytes!("../../templates/ui/sw.js"),
    )
}

/// `GET /ui/push.js`: the "Get pages on this device" button's script.
pub(super) async fn push_script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_bytes!("../../templates/ui/push.js"),
    )
}

/// `GET /ui/icon-192.png`.
pub(super) async fn icon_192() -> Response {
    asset(
        "image/png",
        include_bytes!("../../templates/ui/icon-192.png"),
    )
}

/// `GET /ui/icon-512.png`.
pub(super) async fn icon_512() -> Response {
    asset(
        "image/png",
        include_bytes!("../../templates/ui/icon-512.png"),
    )
}

/// The id a device is known by: a digest of its endpoint, so URLs and pages never show
/// the endpoint (a capability) and the same browser subscribing again is the same device.
pub(crate) fn device_id(endpoint: &str) -> String {
    hex::encode(&Sha256::digest(endpoint.as_bytes())[..12])
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SubscribeBody {
    /// `PushSubscription.toJSON()`.
    subscription: serde_json::Value,
    /// What the owner will see the device as.
    #[serde(default)]
    label: String,
}

/// `POST /ui/push/subscribe` (JSON, CSRF in [`CSRF_HEADER`]): the signed-in person's
/// browser as a push contact. 201 with the device's id and label; 4xx JSON naming the
/// field otherwise, and nothing stored.
pub(super) async fn subscribe(
    session: Session,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let csrf = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    if let Some(refused) = session.refuse_csrf(csrf) {
        return refused;
    }
    match subscribe_device(&session, &state, &body).await {
        Ok(device) => (
            StatusCode::CREATED,
            Json(serde_json::json!({"id": device.id, "label": device.label})),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

async fn subscribe_device(
    session: &Session,
    state: &AppState,
    body: &[u8],
) -> Result<PushDevice, ApiError> {
    let Some(person) = session.caller.user_name() else {
        return Err(ApiError::Conflict(
            "a device gets the pages of the person signed in on it: sign in with your own \
             user name and password, not an API token"
                .to_owned(),
        ));
    };
    if state.web_push_key.is_none() {
        return Err(ApiError::Conflict(
            "Web Push is not set up on this server".to_owned(),
        ));
    }
    let roster = state.store.roster().await?;
    if !roster.people.contains_key(person) {
        return Err(ApiError::Conflict(format!(
            "pages go to roster people, and the roster has no `{person}`: ask an admin to \
             add you with this id"
        )));
    }
    let body: SubscribeBody = serde_json::from_slice(body).map_err(|e| ApiError::BadRequest {
        field: None,
        message: format!("the body is not a subscription request: {e}"),
    })?;
    // Real push services are https; plain http only where the configuration lets
    // delivery reach internal addresses (a test push service on this machine).
    let endpoints = if state.outbound.is_nothing() {
        Endpoints::HttpsOnly
    } else {
        Endpoints::AllowHttp
    };
    let subscription = Subscription::parse(&body.subscription.to_string(), endpoints)
        .map_err(subscription_error)?;
    fireline_notify::check_literal(&subscription.endpoint, &state.outbound).map_err(|e| {
        ApiError::Invalid {
            field: "subscription.endpoint".to_owned(),
            message: e.to_string(),
        }
    })?;
    let label: String = body.label.trim().chars().take(MAX_LABEL_CHARS).collect();
    let device = PushDevice {
        id: device_id(&subscription.endpoint),
        person: person.to_owned(),
        subscription: subscription.to_json(),
        label: if label.is_empty() {
            "A browser".to_owned()
        } else {
            label
        },
        created_at: state.clock.now(),
        removed: None,
    };
    let in_use = state.store.push_devices(Some(person)).await?;
    let renewing = in_use.iter().any(|d| d.id == device.id);
    if !renewing && in_use.iter().filter(|d| d.removed.is_none()).count() >= MAX_DEVICES {
        return Err(ApiError::Conflict(format!(
            "you have {MAX_DEVICES} devices getting pages already: remove one on the On call \
             page first"
        )));
    }
    state.store.add_push_device(&device).await?;
    tracing::info!(person, device = %device.label, host = subscription.host(), "push device subscribed");
    Ok(device)
}

fn subscription_error(e: WebPushError) -> ApiError {
    match e {
        WebPushError::Subscription { field, reason } => ApiError::Invalid {
            field: if field == "subscription" {
                field.to_owned()
            } else {
                format!("subscription.{field}")
            },
            message: format!("this is not a usable push subscription: {field} {reason}"),
        },
        other => ApiError::Invalid {
            field: "subscription".to_owned(),
            message: other.to_string(),
        },
    }
}

/// `POST /ui/push/devices/{id}/remove` (form): the owner (or an admin) stops pages to a
/// device.
pub(super) async fn remove(
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let fields = super::form(&body);
    if let Some(refused) = session.refuse_csrf(fields.get("csrf").map(String::as_str)) {
        return refused;
    }
    let back = "/ui/oncall#my-contacts";
    let owned = match state.store.push_devices(None).await {
        Ok(devices) => devices.into_iter().find(|d| d.id == id),
        Err(e) => return super::error_page(Some(&session), e.into(), back),
    };
    let Some(device) = owned else {
        return super::error_page(
            Some(&session),
            ApiError::NotFound("no such device".to_owned()),
            back,
        );
    };
    if session.caller.user_name() != Some(device.person.as_str()) {
        if let Some(refused) = super::admin::refuse_non_admin(&session) {
            return refused;
        }
    }
    let reason = format!("removed by {}", session.caller.name);
    match state
        .store
        .remove_push_device(&id, state.clock.now(), &reason)
        .await
    {
        Ok(_) => Redirect::to("/ui/oncall?done=device-removed#my-contacts").into_response(),
        Err(e) => super::error_page(Some(&session), e.into(), back),
    }
}
