//! Signing in and out: `GET /ui/signin` (username and password, or an API token;
//! `?token=` prefills the token), `POST /ui/signin`, `POST /ui/signout`, and the first
//! admin's one-time set-up page `GET|POST /ui/setup?code=…`.

use super::{
    cookie_header, form, render, session_secret, session_value, user_principal, Message, Principal,
    Session, SESSION_LIFETIME,
};
use crate::users::{self, UserError, MIN_PASSWORD_CHARS};
use crate::AppState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;

/// Most characters of a user-supplied value a log line shows: sign-in is anonymous, so
/// what it logs per request must be bounded.
const MAX_LOGGED_CHARS: usize = 64;

/// A user-supplied value for a log line: at most [`MAX_LOGGED_CHARS`] characters, with
/// a marker saying how much was cut. (Control characters are escaped by the binary's
/// log writer, for every log line.)
fn for_log(value: &str) -> std::borrow::Cow<'_, str> {
    match value.char_indices().nth(MAX_LOGGED_CHARS) {
        Some((at, _)) => std::borrow::Cow::Owned(format!(
            "{}…[{} more bytes]",
            &value[..at],
            value.len() - at
        )),
        None => std::borrow::Cow::Borrowed(value),
    }
}

/// The sign-in forms: password, and API token (first and open when `token` is given).
#[derive(Template)]
#[template(path = "ui/signin.html")]
struct SigninForm<'a> {
    name: &'a str,
    token: &'a str,
    error: Option<&'a str>,
}

fn signin_form<'a>(name: &'a str, token: &'a str, error: Option<&'a str>) -> SigninForm<'a> {
    SigninForm { name, token, error }
}

pub(super) async fn form_page(Query(query): Query<HashMap<String, String>>) -> Response {
    let token = query.get("token").map_or("", |t| t.trim());
    render(
        StatusCode::OK,
        "Sign in",
        None,
        &signin_form("", token, None),
    )
}

/// Signs `principal` in: the session cookie, then the incidents.
fn signed_in(state: &AppState, principal: &Principal) -> Response {
    let expires = state.clock.now() + SESSION_LIFETIME;
    let value = session_value(session_secret(state), principal, expires);
    (
        [(header::SET_COOKIE, cookie_header(state, Some(&value)))],
        Redirect::to("/ui"),
    )
        .into_response()
}

/// A browser says a form was posted from another site (`Sec-Fetch-Site: cross-site`):
/// refused, so no other site can sign someone in as its own user (login CSRF). The
/// other forms carry CSRF tokens; these two come before any session exists.
fn cross_site(headers: &HeaderMap) -> Option<Response> {
    let site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())?;
    (site == "cross-site").then(|| {
        render(
            StatusCode::FORBIDDEN,
            "Sign in",
            None,
            &signin_form(
                "",
                "",
                Some("this form was sent from another site; open fireline directly"),
            ),
        )
    })
}

pub(super) async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = cross_site(&headers) {
        return refused;
    }
    let fields = form(&body);
    if let Some(token) = fields.get("token") {
        // The same lookup as a bearer token: unknown and revoked tokens answer alike.
        return match crate::auth::caller_for_token(&state, token.trim()).await {
            Ok(caller) => {
                tracing::info!(principal = %caller.name, "signed in to the UI with a token");
                signed_in(&state, &Principal::Token(caller.token_id))
            }
            Err(crate::ApiError::Unauthorized(message)) => render(
                StatusCode::UNAUTHORIZED,
                "Sign in",
                None,
                &signin_form("", "", Some(message)),
            ),
            Err(e) => super::error_page(None, e, "/ui/signin"),
        };
    }
    let name = fields.get("name").map_or("", |n| n.trim());
    let password = fields.get("password").map_or("", String::as_str);
    let now = state.clock.now();
    if let Err(wait) = state.signin_throttle.attempt(name, now) {
        tracing::warn!(name = %for_log(name), "UI sign-in refused: too many failures");
        return render(
            StatusCode::TOO_MANY_REQUESTS,
            "Sign in",
            None,
            &signin_form(
                name,
                "",
                Some(&format!(
                    "too many failed sign-ins for this username; try again in {}",
                    fireline_core::comms::human_duration(
                        wait.max(jiff::SignedDuration::from_mins(1))
                    )
                )),
            ),
        );
    }
    match users::authenticate(state.store.as_ref(), name, password).await {
        Ok(Some(user)) => {
            state.signin_throttle.succeeded(name);
            tracing::info!(principal = %user.name, "signed in to the UI");
            signed_in(&state, &user_principal(&user))
        }
        Ok(None) => {
            tracing::info!(name = %for_log(name), "UI sign-in refused");
            render(
                StatusCode::UNAUTHORIZED,
                "Sign in",
                None,
                // One message for unknown users, disabled users and wrong passwords.
                &signin_form(name, "", Some("wrong username or password")),
            )
        }
        Err(e) => super::error_page(None, e.into(), "/ui/signin"),
    }
}

pub(super) async fn signout(
    session: Session,
    State(state): State<AppState>,
    body: Bytes,
) -> Response {
    if let Some(refused) = session.refuse_csrf(form(&body).get("csrf").map(String::as_str)) {
        return refused;
    }
    (
        [(header::SET_COOKIE, cookie_header(&state, None))],
        Redirect::to("/ui/signin"),
    )
        .into_response()
}

/// The first admin's form.
#[derive(Template)]
#[template(path = "ui/setup.html")]
struct SetupForm<'a> {
    code: &'a str,
    name: &'a str,
    error: Option<&'a str>,
    min_chars: usize,
}

fn setup_form<'a>(code: &'a str, name: &'a str, error: Option<&'a str>) -> SetupForm<'a> {
    SetupForm {
        code,
        name,
        error,
        min_chars: MIN_PASSWORD_CHARS,
    }
}

pub(super) async fn setup_page(Query(query): Query<HashMap<String, String>>) -> Response {
    let code = query.get("code").map_or("", |c| c.trim());
    render(
        StatusCode::OK,
        "Set up fireline",
        None,
        &setup_form(code, "", None),
    )
}

pub(super) async fn setup(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = cross_site(&headers) {
        return refused;
    }
    let fields = form(&body);
    let code = fields.get("code").map_or("", |c| c.trim());
    let name = fields.get("name").map_or("", |n| n.trim());
    let password = fields.get("password").map_or("", String::as_str);
    let refuse = |status: StatusCode, message: &str| {
        render(
            status,
            "Set up fireline",
            None,
            &setup_form(code, name, Some(message)),
        )
    };
    if fields.get("confirm").map(String::as_str) != Some(password) {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "password: the two passwords differ",
        );
    }
    let now = state.clock.now();
    match users::claim_first_admin(state.store.as_ref(), code, name, password, now).await {
        Ok(Some(user)) => {
            tracing::info!(principal = %user.name, "first admin created");
            signed_in(&state, &user_principal(&user))
        }
        Ok(None) => render(
            StatusCode::FORBIDDEN,
            "Set up fireline",
            None,
            &Message {
                back_label: "Sign in",
                ..Message::alert(
                    "This set-up link was used already or replaced by a newer one. Sign in, \
                     or ask an admin for an account.",
                )
                .back("/ui/signin")
            },
        ),
        Err(e @ UserError::Invalid { .. }) => {
            refuse(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string())
        }
        Err(e) => super::error_page(None, e.into(), "/ui/signin"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_values_are_cut_at_64_characters_with_a_marker() {
        assert_eq!(for_log("alice"), "alice");
        let exact = "é".repeat(MAX_LOGGED_CHARS);
        assert_eq!(for_log(&exact), exact);
        let long = format!("{}{}", "é".repeat(MAX_LOGGED_CHARS), "x".repeat(65_536));
        let shown = for_log(&long);
        assert!(shown.starts_with(&exact));
        assert!(shown.ends_with("…[65536 more bytes]"), "{shown}");
    }
}
