//! `GET /ui/signin` (a form for an API token; `?token=` prefills it), `POST /ui/signin`
//! (checks the token like every API request does and sets the session cookie) and
//! `POST /ui/signout`.

use super::{
    cookie_header, esc, form, page, session_secret, session_value, Session, SESSION_LIFETIME,
};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;

fn signin_form(token: &str, error: Option<&str>) -> String {
    let error = error.map_or(String::new(), |e| {
        format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e))
    });
    format!(
        "{error}<form method=\"post\" action=\"/ui/signin\" class=\"stack\">\
         <label for=\"token\">API token</label>\
         <input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"current-password\" \
         required value=\"{}\">\
         <button type=\"submit\" autofocus>Sign in</button></form>\
         <p class=\"hint\">Create one with <code>fireline token create --role responder</code>.</p>",
        esc(token)
    )
}

pub(super) async fn form_page(Query(query): Query<HashMap<String, String>>) -> Response {
    let token = query.get("token").map_or("", |t| t.trim());
    page(StatusCode::OK, "Sign in", None, &signin_form(token, None))
}

pub(super) async fn submit(State(state): State<AppState>, body: Bytes) -> Response {
    let fields = form(&body);
    let token = fields.get("token").map_or("", |t| t.trim());
    // The same lookup as a bearer token: unknown and revoked tokens answer alike.
    let caller = match crate::auth::caller_for_token(&state, token).await {
        Ok(c) => c,
        Err(crate::ApiError::Unauthorized(message)) => {
            return page(
                StatusCode::UNAUTHORIZED,
                "Sign in",
                None,
                &signin_form("", Some(message)),
            )
        }
        Err(e) => return super::error_page(None, e, "/ui/signin"),
    };
    let expires = state.clock.now() + SESSION_LIFETIME;
    let value = session_value(session_secret(&state), &caller.token_id, expires);
    tracing::info!(principal = %caller.name, "signed in to the UI");
    (
        [(header::SET_COOKIE, cookie_header(&state, Some(&value)))],
        Redirect::to("/ui"),
    )
        .into_response()
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
