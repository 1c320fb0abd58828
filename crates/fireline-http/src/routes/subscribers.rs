//! The status page's subscribers: the public subscribe form and its confirm and
//! unsubscribe links, and the admins' list.
//!
//! Public, no token: `POST /status/subscribe` stores an unconfirmed subscriber and
//! queues a confirmation e-mail (double opt-in); `GET /status/confirm/{token}` shows a
//! button and only `POST` confirms, so link scanners cannot; `GET`/`POST
//! /status/unsubscribe/{token}` likewise, the `POST` also being RFC 8058's one-click
//! target (any body, no cookie, no CSRF token: the token in the URL is the authority).
//!
//! Subscribing gets the same answer whether the address was new, subscribed already, or
//! sent a confirmation in the last ten minutes (then nothing is sent): the form tells
//! nobody who subscribes. Requests per client address are limited (429 with
//! `Retry-After`). Subscribers' addresses are shown to admins only
//! (`/api/v1/status/subscribers`); no other page or role sees them or their number.

use crate::{ApiError, AppState};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use fireline_engine::subscribers::{
    confirmation, new_id, token_hash, SubscriberLinks, CONFIRMATION_INTERVAL,
};
use fireline_store::{NewSubscriber, Subscriber, SubscriberKind, SubscriberLink};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use utoipa::ToSchema;

/// Subscribe requests one client address may make per [`CLIENT_WINDOW`].
pub(crate) const PER_CLIENT: u32 = 10;

/// The window [`PER_CLIENT`] counts in.
pub(crate) const CLIENT_WINDOW: SignedDuration = SignedDuration::from_hours(1);

/// Subscriptions never confirmed are dropped after this long.
const UNCONFIRMED_KEPT: SignedDuration = SignedDuration::from_hours(7 * 24);

/// Most components one subscription names.
const MAX_COMPONENTS: usize = 50;

/// Longest webhook URL taken.
const MAX_URL: usize = 2000;

/// The public routes (not in the OpenAPI document: they are pages and forms, like the
/// acknowledge links).
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/status/subscribe", post(subscribe))
        .route("/status/confirm/{token}", get(confirm_page).post(confirm))
        .route(
            "/status/unsubscribe/{token}",
            get(unsubscribe_page).post(unsubscribe),
        )
}

/// Subscribe requests per client address, in fixed windows; kept in memory, per
/// process (a limit against abuse, not an account of it).
#[derive(Debug, Default)]
pub(crate) struct SubscribeThrottle {
    seen: Mutex<HashMap<IpAddr, (Timestamp, u32)>>,
}

/// Clients remembered before windows that have ended are forgotten.
const THROTTLE_CLIENTS: usize = 10_000;

impl SubscribeThrottle {
    /// Counts a request from `client` at `now`; `Err(seconds)` until it may ask again
    /// when it is over the limit. IPv6 clients count by their /64, which one host
    /// usually has whole.
    fn check(&self, client: IpAddr, now: Timestamp) -> Result<(), u64> {
        let client = match client {
            IpAddr::V6(v6) => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
            v4 => v4,
        };
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if seen.len() >= THROTTLE_CLIENTS {
            seen.retain(|_, (since, _)| now.duration_since(*since) < CLIENT_WINDOW);
        }
        let entry = seen.entry(client).or_insert((now, 0));
        if now.duration_since(entry.0) >= CLIENT_WINDOW {
            *entry = (now, 0);
        }
        if entry.1 >= PER_CLIENT {
            let left = CLIENT_WINDOW - now.duration_since(entry.0);
            return Err(u64::try_from(left.as_secs()).unwrap_or(0).max(1));
        }
        entry.1 += 1;
        Ok(())
    }
}

/// One component on the form, and whether it is ticked.
pub(crate) struct ComponentChoice {
    pub(crate) name: String,
    pub(crate) ticked: bool,
}

/// The subscribe form's values (`templates/public/subscribe_form.html`).
#[derive(Default)]
pub(crate) struct SubscribeForm {
    pub(crate) email: String,
    pub(crate) webhook_url: String,
    pub(crate) components: Vec<ComponentChoice>,
    pub(crate) error: Option<String>,
}

impl SubscribeForm {
    /// An empty form offering `components`.
    pub(crate) fn offering(components: impl IntoIterator<Item = String>) -> SubscribeForm {
        SubscribeForm {
            components: components
                .into_iter()
                .map(|name| ComponentChoice {
                    name,
                    ticked: false,
                })
                .collect(),
            ..SubscribeForm::default()
        }
    }
}

/// A subscription page (`templates/public/subscribe.html`).
#[derive(Template)]
#[template(path = "public/subscribe.html")]
struct SubscribePage<'a> {
    title: &'a str,
    said: Said,
}

/// What the page says besides its title.
enum Said {
    /// The form again, with what was wrong.
    Form { form: SubscribeForm },
    /// Asked: a confirmation is on its way, if the address can have one.
    Pending,
    /// Too many requests from this client.
    Limited { minutes: u64 },
    /// A confirm link, before its button is pressed.
    ConfirmOffer { what: String },
    /// Confirmed (with a webhook's signing secret, shown this once).
    Confirmed {
        what: String,
        secret: Option<String>,
    },
    /// A confirm link of a subscription confirmed already.
    AlreadyConfirmed,
    /// An unsubscribe link, before its button is pressed.
    UnsubscribeOffer { what: String },
    /// Unsubscribed.
    Unsubscribed,
    /// The link names no subscription.
    Gone,
}

fn page(status: StatusCode, title: &str, said: Said) -> Response {
    let html = match (SubscribePage { title, said }).render() {
        Ok(html) => html,
        Err(e) => return crate::ui::not_rendered(&e),
    };
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // Links carry their token in the URL: keep them out of caches.
            (header::CACHE_CONTROL, "no-store"),
        ],
        crate::ui::PAGE_HEADERS,
        html,
    )
        .into_response()
}

/// What a subscriber hears about, in words: "about all components by e-mail".
fn described(subscriber: &Subscriber) -> String {
    let about = if subscriber.components.is_empty() {
        "about all components".to_owned()
    } else {
        format!("about {}", subscriber.components.join(", "))
    };
    match subscriber.kind {
        SubscriberKind::Email => format!("{about} by e-mail"),
        SubscriberKind::Webhook => format!("{about} by webhook"),
    }
}

/// A subscribe request as read from the form or JSON.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SubscribeRequest {
    #[serde(default)]
    email: String,
    #[serde(default)]
    webhook_url: String,
    #[serde(default, alias = "component")]
    components: Vec<String>,
}

impl SubscribeRequest {
    /// The form's fields (`component` repeated, one per ticked box).
    fn from_form(body: &[u8]) -> SubscribeRequest {
        let mut req = SubscribeRequest::default();
        for (name, value) in form_urlencoded::parse(body) {
            match name.as_ref() {
                "email" => req.email = value.into_owned(),
                "webhook_url" => req.webhook_url = value.into_owned(),
                "component" | "components" => req.components.push(value.into_owned()),
                // Unknown fields of a form are ignored, as browsers may add their own.
                _ => {}
            }
        }
        req
    }
}

/// Whether `address` is a plain e-mail address (`local@domain.tld`, ASCII): what
/// subscribers give, never a display name or a list.
fn plain_email(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    let allowed = |c: char| {
        c.is_ascii_graphic()
            && !matches!(
                c,
                '@' | '<' | '>' | ',' | ';' | '"' | '(' | ')' | '[' | ']' | '\\' | ':'
            )
    };
    address.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && local.chars().all(allowed)
        && domain.contains('.')
        && !domain.starts_with(['.', '-'])
        && !domain.ends_with(['.', '-'])
        && !domain.contains("..")
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
}

/// A subscribe request that passed its checks: kind, address, contact, components.
type Checked = (SubscriberKind, String, Option<String>, Vec<String>);

/// The request checked against the components offered: the subscriber to store (less
/// its id and links), or the field at fault and why.
fn checked(
    req: &SubscribeRequest,
    offered: &[String],
    allow: &fireline_notify::Allow,
) -> Result<Checked, (&'static str, String)> {
    let email = req.email.trim().to_ascii_lowercase();
    if email.is_empty() {
        return Err(("email", "Enter an e-mail address.".to_owned()));
    }
    if !plain_email(&email) {
        return Err((
            "email",
            "Enter one plain e-mail address, like name@example.com.".to_owned(),
        ));
    }
    let url = req.webhook_url.trim();
    let (kind, address, contact) = if url.is_empty() {
        (SubscriberKind::Email, email, None)
    } else {
        if url.len() > MAX_URL || url.chars().any(char::is_control) {
            return Err((
                "webhook_url",
                format!("A webhook URL has at most {MAX_URL} characters and no line breaks."),
            ));
        }
        if let Err(refused) = fireline_notify::check_literal(url, allow) {
            return Err((
                "webhook_url",
                format!("This webhook URL cannot be used: {refused}."),
            ));
        }
        (SubscriberKind::Webhook, url.to_owned(), Some(email))
    };
    let mut components: Vec<String> = req.components.iter().map(|c| c.trim().to_owned()).collect();
    components.sort();
    components.dedup();
    if components.len() > MAX_COMPONENTS {
        return Err((
            "components",
            format!("Choose at most {MAX_COMPONENTS} components, or none for all."),
        ));
    }
    if let Some(unknown) = components.iter().find(|c| !offered.contains(c)) {
        return Err((
            "components",
            format!("There is no component {unknown:?} on this status page."),
        ));
    }
    Ok((kind, address, contact, components))
}

/// Whether the client wants JSON answers: it sent JSON, or accepts JSON and not HTML.
fn wants_json(headers: &HeaderMap) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase()
    };
    text(header::CONTENT_TYPE).starts_with("application/json")
        || (text(header::ACCEPT).contains("application/json")
            && !text(header::ACCEPT).contains("text/html"))
}

/// The answer to a subscribe request that was taken.
#[derive(Debug, Serialize)]
struct Pending {
    status: &'static str,
    message: &'static str,
}

const PENDING: &str = "If the address can be subscribed, a link to confirm has been sent to \
     it. Nothing is sent until the link is used.";

/// `POST /status/subscribe`: a form (or JSON) with `email`, optionally `webhook_url`,
/// and `component`s (none: all).
async fn subscribe(
    State(state): State<AppState>,
    Extension(throttle): Extension<Arc<SubscribeThrottle>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let json = wants_json(&headers);
    let now = state.clock.now();
    // Without a peer (a router driven in-process) every request counts as one client.
    let client = peer.map_or(IpAddr::from([0, 0, 0, 0]), |Extension(ConnectInfo(a))| {
        a.ip()
    });
    if let Err(seconds) = throttle.check(client, now) {
        tracing::info!("subscribe request refused: too many from this client");
        let limited = ApiError::TooManyRequests {
            retry_after: seconds,
            message: format!(
                "at most {PER_CLIENT} subscribe requests an hour from one address; \
                 retry in {seconds} s"
            ),
        };
        if json {
            return Err(limited);
        }
        let mut response = page(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests",
            Said::Limited {
                minutes: seconds.div_ceil(60),
            },
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, seconds.into());
        return Ok(response);
    }
    let req = if headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("application/json"))
    {
        serde_json::from_slice::<SubscribeRequest>(&body)
            .map_err(|e| ApiError::bad_field("body", format!("not a subscribe request: {e}")))?
    } else {
        SubscribeRequest::from_form(&body)
    };
    let offered: Vec<String> = super::status::build(&state)
        .await?
        .components
        .into_iter()
        .map(|c| c.name)
        .collect();
    let (kind, address, contact, components) = match checked(&req, &offered, &state.outbound) {
        Ok(fine) => fine,
        Err((field, message)) if json => return Err(ApiError::bad_field(field, message)),
        Err((_, message)) => {
            let form = SubscribeForm {
                email: req.email.clone(),
                webhook_url: req.webhook_url.clone(),
                components: offered
                    .iter()
                    .map(|name| ComponentChoice {
                        ticked: req.components.contains(name),
                        name: name.clone(),
                    })
                    .collect(),
                error: Some(message),
            };
            return Ok(page(
                StatusCode::BAD_REQUEST,
                "Subscribe to updates",
                Said::Form { form },
            ));
        }
    };
    store_and_confirm(&state, kind, address, contact, components, now).await?;
    if json {
        return Ok((
            StatusCode::ACCEPTED,
            Json(Pending {
                status: "pending",
                message: PENDING,
            }),
        )
            .into_response());
    }
    Ok(page(StatusCode::OK, "Check your inbox", Said::Pending))
}

/// Stores the subscriber (or keeps the one stored for the address) and queues its
/// confirmation e-mail, at most one per address per [`CONFIRMATION_INTERVAL`].
async fn store_and_confirm(
    state: &AppState,
    kind: SubscriberKind,
    address: String,
    contact: Option<String>,
    components: Vec<String>,
    now: Timestamp,
) -> Result<(), ApiError> {
    let store = state.store.as_ref();
    let purged = store
        .purge_unconfirmed_subscribers(now.saturating_sub(UNCONFIRMED_KEPT).unwrap_or(now))
        .await?;
    if purged > 0 {
        tracing::info!(purged, "unconfirmed subscriptions expired");
    }
    let links = SubscriberLinks::open(store, &state.pager.links().base_url).await?;
    let id = new_id()?;
    let new = NewSubscriber {
        confirm_hash: token_hash(&links.token(SubscriberLink::Confirm, &id)),
        unsubscribe_hash: token_hash(&links.token(SubscriberLink::Unsubscribe, &id)),
        id,
        kind,
        address,
        contact,
        components,
        created_at: now,
    };
    let stored = store.add_subscriber(&new).await?;
    let since = now.saturating_sub(CONFIRMATION_INTERVAL).unwrap_or(now);
    if store.claim_confirmation(&stored.id, now, since).await? {
        store
            .enqueue_outbox(&[confirmation(&stored, &links, now)])
            .await?;
        state.pager.delivery_waker().notify_one();
        tracing::info!(
            kind = stored.kind.as_str(),
            "subscription confirmation queued"
        );
    } else {
        tracing::info!(
            kind = stored.kind.as_str(),
            "subscription confirmation held back: one was sent lately"
        );
    }
    Ok(())
}

/// The subscriber a link's token names, if the token has a token's shape and names one.
async fn by_link(
    state: &AppState,
    link: SubscriberLink,
    token: &str,
) -> Result<Option<Subscriber>, ApiError> {
    if token.len() != 64
        || !token
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Ok(None);
    }
    Ok(state
        .store
        .subscriber_by_link(link, &token_hash(token))
        .await?)
}

fn gone() -> Response {
    page(StatusCode::NOT_FOUND, "Link not valid", Said::Gone)
}

/// `GET /status/confirm/{token}`: the subscription and a button; confirms nothing.
async fn confirm_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    Ok(
        match by_link(&state, SubscriberLink::Confirm, &token).await? {
            None => gone(),
            Some(s) if s.confirmed_at.is_some() => {
                page(StatusCode::OK, "Already confirmed", Said::AlreadyConfirmed)
            }
            Some(s) => page(
                StatusCode::OK,
                "Confirm your subscription",
                Said::ConfirmOffer {
                    what: described(&s),
                },
            ),
        },
    )
}

/// `POST /status/confirm/{token}`: confirms the subscription.
async fn confirm(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let Some(s) = by_link(&state, SubscriberLink::Confirm, &token).await? else {
        return Ok(gone());
    };
    if s.confirmed_at.is_some() {
        return Ok(page(
            StatusCode::OK,
            "Already confirmed",
            Said::AlreadyConfirmed,
        ));
    }
    if !state
        .store
        .confirm_subscriber(&s.id, state.clock.now())
        .await?
    {
        return Ok(gone());
    }
    tracing::info!(kind = s.kind.as_str(), "subscription confirmed");
    let secret = match s.kind {
        SubscriberKind::Webhook => Some(
            SubscriberLinks::open(state.store.as_ref(), &state.pager.links().base_url)
                .await?
                .webhook_secret(&s.id),
        ),
        SubscriberKind::Email => None,
    };
    Ok(page(
        StatusCode::OK,
        "Subscribed",
        Said::Confirmed {
            what: described(&s),
            secret,
        },
    ))
}

/// `GET /status/unsubscribe/{token}`: a button; unsubscribes nothing.
async fn unsubscribe_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    Ok(
        match by_link(&state, SubscriberLink::Unsubscribe, &token).await? {
            None => gone(),
            Some(s) => page(
                StatusCode::OK,
                "Unsubscribe",
                Said::UnsubscribeOffer {
                    what: described(&s),
                },
            ),
        },
    )
}

/// `POST /status/unsubscribe/{token}`: unsubscribes. The button posts here, and so do
/// mail clients for RFC 8058 one-click (`List-Unsubscribe=One-Click`): whatever the body,
/// the token alone decides.
async fn unsubscribe(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let Some(s) = by_link(&state, SubscriberLink::Unsubscribe, &token).await? else {
        return Ok(gone());
    };
    if !state.store.remove_subscriber(&s.id).await? {
        return Ok(gone());
    }
    tracing::info!(kind = s.kind.as_str(), "unsubscribed");
    Ok(page(StatusCode::OK, "Unsubscribed", Said::Unsubscribed))
}

/// A subscriber as admins see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriberView {
    /// Its id (32 hex digits).
    pub id: String,
    /// `email` or `webhook`.
    #[schema(value_type = crate::wire::SubscriberKindName)]
    pub kind: String,
    /// The e-mail address or webhook URL.
    pub address: String,
    /// For a webhook: the e-mail address its confirmation went to.
    pub contact: Option<String>,
    /// The components it hears about; empty for all.
    pub components: Vec<String>,
    /// When it subscribed (last asked to).
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// When it confirmed; null: nothing is sent to it.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub confirmed_at: Option<Timestamp>,
    /// When a permanent delivery failure disabled it; null while enabled.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub disabled_at: Option<Timestamp>,
    /// The last delivery failure.
    pub last_failure: Option<String>,
    /// When it happened.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_failure_at: Option<Timestamp>,
}

/// Every subscriber.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriberList {
    /// Oldest first.
    pub subscribers: Vec<SubscriberView>,
}

impl From<Subscriber> for SubscriberView {
    fn from(s: Subscriber) -> Self {
        SubscriberView {
            id: s.id,
            kind: s.kind.as_str().to_owned(),
            address: s.address,
            contact: s.contact,
            components: s.components,
            created_at: s.created_at,
            confirmed_at: s.confirmed_at,
            disabled_at: s.disabled_at,
            last_failure: s.last_failure,
            last_failure_at: s.last_failure_at,
        }
    }
}

/// The status page's subscribers, confirmed or not, with their addresses (admin).
#[utoipa::path(
    get, path = "/api/v1/status/subscribers", tag = "status",
    responses(
        (status = 200, description = "Oldest first", body = SubscriberList),
        (status = 401, description = "No valid token", body = crate::wire::ErrorBody),
        (status = 403, description = "Needs admin", body = crate::wire::ErrorBody)
    )
)]
pub(super) async fn list_subscribers(
    _caller: crate::auth::AsAdmin,
    State(state): State<AppState>,
) -> Result<Json<SubscriberList>, ApiError> {
    let subscribers = state.store.subscribers(false).await?;
    Ok(Json(SubscriberList {
        subscribers: subscribers.into_iter().map(SubscriberView::from).collect(),
    }))
}

/// Removes a subscriber (admin): nothing more is sent to it, queued messages included.
#[utoipa::path(
    delete, path = "/api/v1/status/subscribers/{id}", tag = "status",
    params(("id" = String, Path, pattern = "^[0-9a-f]{32}$", description = "The subscriber's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "Not a subscriber id", body = crate::wire::ErrorBody),
        (status = 401, description = "No valid token", body = crate::wire::ErrorBody),
        (status = 403, description = "Needs admin", body = crate::wire::ErrorBody),
        (status = 404, description = "No such subscriber", body = crate::wire::ErrorBody)
    )
)]
pub(super) async fn remove_subscriber(
    caller: crate::auth::AsAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if id.len() != 32 || !id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(ApiError::bad_field(
            "id",
            "a subscriber id is 32 hex digits",
        ));
    }
    if state.store.remove_subscriber(&id).await? {
        tracing::info!(subscriber = %id, by = %caller.0.name, "subscriber removed");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("no subscriber {id}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_addresses_only() {
        for good in [
            "ann@example.com",
            "a.b+c@sub.example.co.uk",
            "x_y-z@ex-ample.org",
        ] {
            assert!(plain_email(good), "{good}");
        }
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "Ann <ann@example.com>",
            "a@b.com,c@d.com",
            "ann@exa mple.com",
            "ann@.example.com",
            "ann@example..com",
            "anné@example.com",
            "a@b@example.com",
        ] {
            assert!(!plain_email(bad), "{bad}");
        }
    }

    #[test]
    fn a_client_gets_ten_a_window_and_is_told_when_to_come_back() {
        let throttle = SubscribeThrottle::default();
        let t0: Timestamp = "2027-01-01T00:00:00Z".parse().expect("ts");
        let client = IpAddr::from([192, 0, 2, 1]);
        for _ in 0..PER_CLIENT {
            assert_eq!(throttle.check(client, t0), Ok(()));
        }
        let later = t0 + SignedDuration::from_mins(15);
        assert_eq!(throttle.check(client, later), Err(45 * 60));
        assert_eq!(throttle.check(IpAddr::from([192, 0, 2, 2]), later), Ok(()));
        // IPv6 counts by /64.
        let a: IpAddr = "2001:db8::1".parse().expect("v6");
        let b: IpAddr = "2001:db8::ffff:2".parse().expect("v6");
        for _ in 0..PER_CLIENT {
            assert_eq!(throttle.check(a, t0), Ok(()));
        }
        assert!(throttle.check(b, t0).is_err());
        assert_eq!(throttle.check(client, t0 + CLIENT_WINDOW), Ok(()));
    }
}
