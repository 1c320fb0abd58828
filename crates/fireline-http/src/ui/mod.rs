//! The responder's web UI: server-rendered pages under `/ui`, one small stylesheet and one
//! small script, both compiled into the binary. No JS framework, no CDN.
//!
//! Sign-in (a username and password, or an API token) sets a session cookie that carries
//! the principal (the user and their password generation, or the token's id), an expiry
//! and an HMAC; nothing is stored per session. Every request checks that the user is
//! still enabled with that password, or the token still valid, and takes the current
//! role, so disabling a user, changing a password or revoking a token ends sessions. Every form carries a CSRF token (an HMAC of the session) and every POST
//! checks it. Pages are askama templates (`crates/fireline-http/templates/ui/`), compiled
//! into the binary with the stylesheet and the script; askama escapes every value, and
//! each `|safe` in them says why the HTML it lets through is already escaped.

mod admin;
mod admin_actions;
mod devices;
mod incident;
mod list;
mod oncall;
mod postmortems;
mod report;
mod roster;
mod signin;

use crate::auth::Caller;
use crate::{ApiError, AppState};
use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use fireline_core::comms::human_duration;
use fireline_core::AccessRole;
use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use sha2::Sha256;

/// The session cookie's name.
pub(crate) const COOKIE: &str = "fireline_session";
/// How long a session lasts before signing in again.
const SESSION_LIFETIME: SignedDuration = SignedDuration::from_hours(12);
/// Every `/ui` route (plain axum routes, not part of the OpenAPI document).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/ui/signin", get(signin::form_page).post(signin::submit))
        .route("/ui/signout", post(signin::signout))
        .route("/ui/setup", get(signin::setup_page).post(signin::setup))
        .route("/ui", get(list::show))
        .route("/ui/incidents", get(list::show))
        .route("/ui/fragments/incidents", get(list::fragment))
        .route("/ui/events", get(list::events))
        .route("/ui/live.js", get(live_script))
        .route("/ui/oncall", get(oncall::show))
        .route("/ui/oncall/overrides", post(oncall::add_override))
        .route("/ui/oncall/overrides/remove", post(oncall::remove_override))
        .route("/ui/people/{id}/test", post(oncall::test_person))
        .route("/ui/manifest.webmanifest", get(devices::manifest))
        .route("/ui/sw.js", get(devices::service_worker))
        .route("/ui/push.js", get(devices::push_script))
        .route("/ui/icon-192.png", get(devices::icon_192))
        .route("/ui/icon-512.png", get(devices::icon_512))
        .route("/ui/push/subscribe", post(devices::subscribe))
        .route("/ui/push/devices/{id}/remove", post(devices::remove))
        .route("/ui/postmortems", get(postmortems::show))
        .route("/ui/report", get(report::show))
        .route("/ui/admin", get(admin::show))
        .route("/ui/admin/users", post(admin_actions::create_user))
        .route(
            "/ui/admin/users/{name}/disabled",
            post(admin_actions::set_disabled),
        )
        .route(
            "/ui/admin/users/{name}/password",
            post(admin_actions::set_password),
        )
        .route("/ui/admin/tokens", post(admin_actions::create_token))
        .route(
            "/ui/admin/dead-letters/{id}/{action}",
            post(admin_actions::dead_letter),
        )
        .route(
            "/ui/admin/tokens/{id}/revoke",
            post(admin_actions::revoke_token),
        )
        .route(
            "/ui/admin/integrations",
            post(admin_actions::create_integration),
        )
        .route(
            "/ui/admin/integrations/{id}/revoke",
            post(admin_actions::revoke_integration),
        )
        .route("/ui/admin/roster/{section}", post(roster::add))
        .route(
            "/ui/admin/roster/{section}/{id}",
            get(roster::edit).post(roster::save),
        )
        .route(
            "/ui/admin/roster/{section}/{id}/delete",
            post(roster::delete),
        )
        .route("/ui/incidents/{id}", get(incident::show))
        .route(
            "/ui/incidents/{id}/acknowledge",
            post(incident::acknowledge),
        )
        .route("/ui/incidents/{id}/status", post(incident::status))
        .route("/ui/incidents/{id}/notes", post(incident::note))
        .route("/ui/incidents/{id}/updates", post(incident::update))
        .route("/ui/incidents/{id}/resolve", post(incident::resolve))
        .route("/ui/incidents/{id}/severity", post(incident::severity))
        .route("/ui/incidents/{id}/roles", post(incident::assign))
        .route("/ui/incidents/{id}/reopen", post(incident::reopen))
        .route("/ui/incidents/{id}/escalate", post(incident::escalate))
        .route("/ui/incidents/{id}/runbook", post(incident::runbook))
        .route(
            "/ui/incidents/{id}/postmortem",
            get(postmortems::show_one).post(incident::draft_postmortem),
        )
        .route(
            "/ui/incidents/{id}/postmortem/text",
            post(postmortems::save),
        )
        .route(
            "/ui/incidents/{id}/postmortem/stages",
            post(postmortems::complete_stage),
        )
        .route(
            "/ui/incidents/{id}/checklist/{step}",
            post(incident::check_step),
        )
}

/// The templates' escaper (`askama.toml`): `& < > " '` as entities, for element content and
/// quoted attribute values (`&lt;` rather than askama's own `&#60;`, as the ack and export
/// pages escape).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct HtmlEscape;

impl askama::filters::Escaper for HtmlEscape {
    fn write_escaped_str<W: std::fmt::Write>(&self, mut dest: W, text: &str) -> std::fmt::Result {
        let mut rest = text;
        while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
            dest.write_str(&rest[..at])?;
            dest.write_str(match rest.as_bytes()[at] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[at + 1..];
        }
        dest.write_str(rest)
    }
}

/// Percent-encodes a query or path component.
pub(crate) fn url(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// One `<option>` of a `<select>` (the `options` macro in `templates/ui/macros.html`).
#[derive(Debug, Clone)]
pub(crate) struct Choice {
    /// What the form sends.
    pub value: String,
    /// What the user reads.
    pub label: String,
    /// Whether it is the one chosen.
    pub selected: bool,
}

/// `<option>`s of (value, label), the one whose value is `selected` marked.
pub(crate) fn choices(
    values: impl IntoIterator<Item = (String, String)>,
    selected: &str,
) -> Vec<Choice> {
    values
        .into_iter()
        .map(|(value, label)| Choice {
            selected: value == selected,
            value,
            label,
        })
        .collect()
}

/// The layout around every page: head with the inlined stylesheet, header with the
/// navigation and the sign-out form, the title as `<h1>`, then the page's own HTML.
#[derive(Template)]
#[template(path = "ui/base.html")]
struct Base<'a> {
    title: &'a str,
    session: Option<&'a Session>,
    admin: bool,
    /// The page's own template, already rendered by askama.
    body: &'a str,
}

/// A page that is one message: an error (naming the field it is about) or a plain
/// paragraph, and a link back (`templates/ui/message.html`).
#[derive(Template, Default)]
#[template(path = "ui/message.html")]
pub(crate) struct Message<'a> {
    /// Shown as an error (`role="alert"`).
    pub alert: bool,
    /// The input field the error is about.
    pub field: Option<&'a str>,
    /// The message.
    pub text: &'a str,
    /// Where the link goes.
    pub back: Option<&'a str>,
    /// The link's text.
    pub back_label: &'a str,
    /// Say "Nothing was changed." before the link.
    pub unchanged: bool,
}

impl<'a> Message<'a> {
    /// An error message.
    pub(crate) fn alert(text: &'a str) -> Self {
        Message {
            alert: true,
            text,
            back_label: "Back",
            ..Message::default()
        }
    }

    /// With a link to `back`.
    pub(crate) fn back(self, back: &'a str) -> Self {
        Message {
            back: Some(back),
            ..self
        }
    }
}

/// A page rendered from its template inside the layout; a template that fails to render
/// is logged and answered with a plain 500.
pub(crate) fn render(
    status: StatusCode,
    title: &str,
    session: Option<&Session>,
    body: &impl Template,
) -> Response {
    match body.render() {
        Ok(html) => page(status, title, session, &html),
        Err(e) => not_rendered(&e),
    }
}

pub(crate) fn not_rendered(error: &askama::Error) -> Response {
    tracing::error!(error = %error, "a UI template failed to render");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        "Something went wrong on the server; try again.",
    )
        .into_response()
}

/// The Content-Security-Policy of every HTML page fireline serves (the UI, the
/// acknowledge page, the public status page): no inline scripts, no other origins, no
/// framing; the app's own manifest, icons and service worker. Pages without scripts lose
/// nothing by `script-src 'self'`; one definition keeps them from drifting apart.
pub(crate) const PAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; \
     script-src 'self'; connect-src 'self'; img-src 'self'; manifest-src 'self'; \
     worker-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The headers every HTML page carries besides its content type: the CSP, no framing
/// (clickjacking), and no `Referer` (acknowledge links carry their token in the URL).
pub(crate) const PAGE_HEADERS: [(header::HeaderName, &str); 3] = [
    (header::CONTENT_SECURITY_POLICY, PAGE_CSP),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "no-referrer"),
];

/// A whole page: `title` is text, `body` is HTML already escaped (a rendered template).
pub(crate) fn page(
    status: StatusCode,
    title: &str,
    session: Option<&Session>,
    body: &str,
) -> Response {
    let base = Base {
        title,
        session,
        admin: session.is_some_and(|s| s.caller.role.allows(AccessRole::Admin)),
        body,
    };
    let html = match base.render() {
        Ok(html) => html,
        Err(e) => return not_rendered(&e),
    };
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        PAGE_HEADERS,
        html,
    )
        .into_response()
}

/// An error as a page: the message for what the user can fix, a generic one otherwise.
pub(crate) fn error_page(session: Option<&Session>, error: ApiError, back: &str) -> Response {
    let message = error.to_string();
    let status = error.into_response().status();
    let message = if status.is_server_error() {
        "Something went wrong on the server; try again.".to_owned()
    } else {
        message
    };
    render(
        status,
        "Not done",
        session,
        &Message::alert(&message).back(back),
    )
}

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8], purpose: &str, text: &str) -> String {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(purpose.as_bytes());
    mac.update(b":");
    mac.update(text.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Compares two strings without leaking where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The key sessions and CSRF tokens are signed with: the server's shared key (created in
/// the database on first start and read once, so every replica agrees), with labels
/// that keep UI signatures apart from acknowledge links.
pub(crate) fn session_secret(state: &AppState) -> &[u8] {
    &state.pager.links().ack_secret
}

/// Who a session is for: an API token (by id) or a UI user at one password generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Principal {
    /// An API token's id (`tok_…`).
    Token(String),
    /// A user, with the `sessions_from` the session was signed for (a new password or
    /// voids older sessions).
    User { name: String, generation: i64 },
}

impl Principal {
    fn encode(&self) -> String {
        match self {
            Principal::Token(id) => id.clone(),
            Principal::User { name, generation } => format!("u:{name}:{generation}"),
        }
    }

    fn decode(text: &str) -> Option<Principal> {
        match text.strip_prefix("u:") {
            Some(rest) => {
                let (name, generation) = rest.rsplit_once(':')?;
                Some(Principal::User {
                    name: name.to_owned(),
                    generation: generation.parse().ok()?,
                })
            }
            None => Some(Principal::Token(text.to_owned())),
        }
    }
}

/// The cookie value for a session of `principal` until `expires`.
pub(crate) fn session_value(secret: &[u8], principal: &Principal, expires: Timestamp) -> String {
    let body = format!("{}.{}", principal.encode(), expires.as_second());
    let signature = mac(secret, "fireline-ui-session", &body);
    format!("{body}.{signature}")
}

/// The `Set-Cookie` header for `value` (`None`: clear it).
pub(crate) fn cookie_header(state: &AppState, value: Option<&str>) -> String {
    let secure = if state.pager.links().base_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    match value {
        Some(v) => format!(
            "{COOKIE}={v}; HttpOnly; SameSite=Strict; Path=/ui; Max-Age={}{secure}",
            SESSION_LIFETIME.as_secs()
        ),
        None => format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/ui; Max-Age=0{secure}"),
    }
}

/// A signed-in user: the caller behind the session's token, as of this request.
#[derive(Debug)]
pub(crate) struct Session {
    /// Who, with the token's current role.
    pub caller: Caller,
    /// This session's CSRF token.
    pub csrf: String,
}

impl Session {
    /// Whether this session is an admin's.
    pub(crate) fn is_admin(&self) -> bool {
        self.caller.role.allows(AccessRole::Admin)
    }

    /// Whether this session may act on incidents.
    pub(crate) fn can_act(&self) -> bool {
        self.caller.role.allows(AccessRole::Responder)
    }

    /// The 403 page unless `csrf` is this session's token (`None`: accepted).
    pub(crate) fn refuse_csrf(&self, csrf: Option<&str>) -> Option<Response> {
        if csrf.is_some_and(|c| same(c, &self.csrf)) {
            return None;
        }
        Some(render(
            StatusCode::FORBIDDEN,
            "Form expired",
            Some(self),
            &Message::alert(
                "This form is missing its security token or belongs to another session. \
                 Reload the page and try again.",
            ),
        ))
    }

    /// The 403 page unless this session may act and `csrf` is its token (`None`: go on).
    pub(crate) fn refuse_post(&self, csrf: Option<&str>) -> Option<Response> {
        if let Some(refused) = self.refuse_csrf(csrf) {
            return Some(refused);
        }
        if !self.can_act() {
            return Some(render(
                StatusCode::FORBIDDEN,
                "Not allowed",
                Some(self),
                &Message::alert("Viewers can read incidents but not change them."),
            ));
        }
        None
    }
}

fn cookie_value(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

/// The session behind a cookie, if it is genuine, unexpired and its token still valid.
async fn session(state: &AppState, headers: &HeaderMap) -> Result<Option<Session>, ApiError> {
    let Some(value) = cookie_value(headers) else {
        return Ok(None);
    };
    let mut parts = value.rsplitn(2, '.');
    let (Some(signature), Some(body)) = (parts.next(), parts.next()) else {
        return Ok(None);
    };
    let Some((principal, expires)) = body.rsplit_once('.') else {
        return Ok(None);
    };
    let secret = session_secret(state);
    // A server without a key (no randomness at start) signs nothing it would accept.
    if secret.is_empty() || !same(signature, &mac(secret, "fireline-ui-session", body)) {
        return Ok(None);
    }
    let Ok(expires) = expires.parse::<i64>() else {
        return Ok(None);
    };
    if expires <= state.clock.now().as_second() {
        return Ok(None);
    }
    let caller = match Principal::decode(principal) {
        Some(Principal::Token(id)) => {
            let Some(record) = state
                .store
                .token(&id)
                .await?
                .filter(|t| t.revoked_at.is_none())
            else {
                return Ok(None);
            };
            Caller {
                name: record.name,
                role: record.role,
                token_id: record.id,
            }
        }
        Some(Principal::User { name, generation }) => {
            let Some(user) = state.store.user(&name).await?.filter(|u| {
                u.disabled_at.is_none() && u.sessions_from.as_microsecond() == generation
            }) else {
                return Ok(None);
            };
            Caller {
                token_id: format!("user:{}", user.name),
                name: user.name,
                role: user.role,
            }
        }
        None => return Ok(None),
    };
    Ok(Some(Session {
        csrf: mac(secret, "fireline-ui-csrf", value),
        caller,
    }))
}

/// The session principal for a signed-in user.
pub(crate) fn user_principal(user: &fireline_store::UserRecord) -> Principal {
    Principal::User {
        name: user.name.clone(),
        generation: user.sessions_from.as_microsecond(),
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match session(state, &parts.headers).await {
            Ok(Some(s)) => Ok(s),
            // Anonymous, expired or revoked: sign in (again). A stale cookie is cleared.
            Ok(None) => Err((
                [(header::SET_COOKIE, cookie_header(state, None))],
                Redirect::to("/ui/signin"),
            )
                .into_response()),
            Err(e) => Err(error_page(None, e, "/ui")),
        }
    }
}

/// A form body's fields (`application/x-www-form-urlencoded`).
pub(crate) fn form(body: &[u8]) -> std::collections::HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// "3m", "2h 5m", "4d 1h": how long since `then`, in the wording messages use.
pub(crate) fn age(then: Timestamp, now: Timestamp) -> String {
    human_duration(now.duration_since(then))
}

/// The live-update script, from `/ui/live.js` rather than inline, so the pages' CSP can
/// refuse every inline script (`script-src 'self'`): an escaping slip cannot run code.
async fn live_script(_session: Session) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        include_str!("../../templates/ui/live.js"),
    )
        .into_response()
}
