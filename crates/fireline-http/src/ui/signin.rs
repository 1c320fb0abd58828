//! Signing in and out: `GET /ui/signin` (username and password, or an API token;
//! `?token=` prefills the token), `POST /ui/signin`, `POST /ui/signout`, and the first
//! admin's one-time set-up page `GET|POST /ui/setup?code=…`.

use super::{
    cookie_header, esc, form, page, session_secret, session_value, user_principal, Principal,
    Session, SESSION_LIFETIME,
};
use crate::users::{self, UserError, MIN_PASSWORD_CHARS};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;

fn error_line(error: Option<&str>) -> String {
    error.map_or(String::new(), |e| {
        format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e))
    })
}

fn signin_form(name: &str, token: &str, error: Option<&str>) -> String {
    // With a token in the link, its form comes first and open; otherwise the password.
    let token_first = !token.is_empty();
    let password = format!(
        "<form method=\"post\" action=\"/ui/signin\" class=\"stack\">\
         <label for=\"name\">Username</label>\
         <input id=\"name\" name=\"name\" autocomplete=\"username\" autocapitalize=\"none\" \
         spellcheck=\"false\" required value=\"{}\"{}>\
         <label for=\"password\">Password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" \
         autocomplete=\"current-password\" required>\
         <button type=\"submit\">Sign in</button></form>",
        esc(name),
        if token_first { "" } else { " autofocus" }
    );
    let token = format!(
        "<details{}><summary>Sign in with an API token</summary>\
         <form method=\"post\" action=\"/ui/signin\" class=\"stack\">\
         <label for=\"token\">API token</label>\
         <input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"off\" \
         required value=\"{}\">\
         <button type=\"submit\"{}>Sign in with token</button></form>\
         <p class=\"hint\">Create one with <code>fireline token create --role responder</code>.</p>\
         </details>",
        if token_first { " open" } else { "" },
        esc(token),
        if token_first { " autofocus" } else { "" }
    );
    format!(
        "{}{password}{token}<p class=\"hint\">An admin adds users with \
         <code>fireline user create NAME --role responder</code> or on the Admin page.</p>",
        error_line(error)
    )
}

pub(super) async fn form_page(Query(query): Query<HashMap<String, String>>) -> Response {
    let token = query.get("token").map_or("", |t| t.trim());
    page(
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

pub(super) async fn submit(State(state): State<AppState>, body: Bytes) -> Response {
    let fields = form(&body);
    if let Some(token) = fields.get("token") {
        // The same lookup as a bearer token: unknown and revoked tokens answer alike.
        return match crate::auth::caller_for_token(&state, token.trim()).await {
            Ok(caller) => {
                tracing::info!(principal = %caller.name, "signed in to the UI with a token");
                signed_in(&state, &Principal::Token(caller.token_id))
            }
            Err(crate::ApiError::Unauthorized(message)) => page(
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
    match users::authenticate(state.store.as_ref(), name, password).await {
        Ok(Some(user)) => {
            tracing::info!(principal = %user.name, "signed in to the UI");
            signed_in(&state, &user_principal(&user))
        }
        Ok(None) => {
            tracing::info!(name = %name, "UI sign-in refused");
            page(
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

fn setup_form(code: &str, name: &str, error: Option<&str>) -> String {
    format!(
        "{}<p>This database has no users yet. Choose the first admin's username and \
         password; this link works once.</p>\
         <form method=\"post\" action=\"/ui/setup\" class=\"stack\">\
         <input type=\"hidden\" name=\"code\" value=\"{}\">\
         <label for=\"name\">Username</label>\
         <input id=\"name\" name=\"name\" autocomplete=\"username\" autocapitalize=\"none\" \
         spellcheck=\"false\" required autofocus value=\"{}\">\
         <label for=\"password\">Password (at least {MIN_PASSWORD_CHARS} characters)</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" \
         minlength=\"{MIN_PASSWORD_CHARS}\" required>\
         <label for=\"confirm\">Password again</label>\
         <input id=\"confirm\" name=\"confirm\" type=\"password\" autocomplete=\"new-password\" \
         required>\
         <button type=\"submit\">Create admin and sign in</button></form>",
        error_line(error),
        esc(code),
        esc(name)
    )
}

pub(super) async fn setup_page(Query(query): Query<HashMap<String, String>>) -> Response {
    let code = query.get("code").map_or("", |c| c.trim());
    page(
        StatusCode::OK,
        "Set up fireline",
        None,
        &setup_form(code, "", None),
    )
}

pub(super) async fn setup(State(state): State<AppState>, body: Bytes) -> Response {
    let fields = form(&body);
    let code = fields.get("code").map_or("", |c| c.trim());
    let name = fields.get("name").map_or("", |n| n.trim());
    let password = fields.get("password").map_or("", String::as_str);
    let refuse = |status: StatusCode, message: &str| {
        page(
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
        Ok(None) => page(
            StatusCode::FORBIDDEN,
            "Set up fireline",
            None,
            "<p class=\"error\" role=\"alert\">This set-up link was used already or \
             replaced by a newer one. Sign in, or ask an admin for an account.</p>\
             <p><a href=\"/ui/signin\">Sign in</a></p>",
        ),
        Err(e @ UserError::Invalid { .. }) => {
            refuse(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string())
        }
        Err(e) => super::error_page(None, e.into(), "/ui/signin"),
    }
}
