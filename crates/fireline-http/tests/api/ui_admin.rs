//! The UI's admin forms (`/ui/admin/…`) and the on-call page's overrides: admins only
//! (CSRF and role checked, nothing changed otherwise), through the same functions as the
//! API, with bad input named on a 4xx page.

use crate::support::{start, App, Reply};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use fireline_core::AccessRole;
use fireline_store::backend_tests;
use fireline_store::testing::TestDatabase;
use serde_json::{json, Value};

backend_tests!(
    non_admins_and_forged_posts_change_nothing,
    users_are_created_disabled_and_given_new_passwords,
    tokens_are_shown_once_and_revoked,
    an_integration_key_is_shown_once_with_its_receiver_urls,
    roster_entries_are_edited_as_toml,
    overrides_are_added_and_removed_on_the_oncall_page,
    admin_text_is_escaped,
    parked_alerts_are_shown_and_processed_again_from_the_admin_page,
    whoever_cannot_be_woken_is_named_and_sent_a_test_page_from_the_ui,
);

/// A signed-in browser: its session cookie and CSRF token.
pub(crate) struct Browser {
    pub(crate) cookie: String,
    pub(crate) csrf: String,
}

fn form_value(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn post_request(path: &str, cookie: Option<&str>, fields: &[(&str, &str)]) -> Request<Body> {
    let body = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", form_value(v)))
        .collect::<Vec<_>>()
        .join("&");
    let mut builder = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        builder = builder.header(header::COOKIE, cookie);
    }
    builder.body(Body::from(body)).expect("a valid request")
}

pub(crate) fn html(reply: &Reply) -> &str {
    reply.body.as_str().unwrap_or("")
}

fn csrf_in(page: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let at = page.find(marker).expect("a CSRF field") + marker.len();
    page[at..].split('"').next().unwrap_or("").to_owned()
}

pub(crate) fn cookie_of(reply: &Reply) -> String {
    let set = reply.header("set-cookie").expect("a session cookie");
    set.split(';').next().expect("name=value").to_owned()
}

pub(crate) async fn browser(app: &App, cookie: String) -> Browser {
    let page = get(app, "/ui", &cookie).await.expect(StatusCode::OK);
    Browser {
        csrf: csrf_in(html(&page)),
        cookie,
    }
}

pub(crate) async fn token_browser(app: &App, token: &str) -> Browser {
    let reply = app
        .send(post_request("/ui/signin", None, &[("token", token)]))
        .await
        .expect(StatusCode::SEE_OTHER);
    browser(app, cookie_of(&reply)).await
}

pub(crate) async fn password_sign_in(app: &App, name: &str, password: &str) -> Reply {
    app.send(post_request(
        "/ui/signin",
        None,
        &[("name", name), ("password", password)],
    ))
    .await
}

pub(crate) async fn get(app: &App, path: &str, cookie: &str) -> Reply {
    app.send(
        Request::builder()
            .uri(path)
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .expect("a valid request"),
    )
    .await
}

pub(crate) async fn post(app: &App, path: &str, b: &Browser, fields: &[(&str, &str)]) -> Reply {
    let mut all = vec![("csrf", b.csrf.as_str())];
    all.extend_from_slice(fields);
    app.send(post_request(path, Some(&b.cookie), &all)).await
}

/// A small roster: alice and bob, one UTC schedule where alice is always on call.
fn roster() -> Value {
    json!({
        "people": {
            "alice": {"name": "Alice Ng", "contacts": [{"kind": "email", "address": "alice@example.com"}]},
            "bob": {"name": "Bob Li", "contacts": [{"kind": "email", "address": "bob@example.com"}]},
            "carol": {"name": "Carol Diaz", "contacts": [{"kind": "email", "address": "carol@example.com"}]}
        },
        "teams": {"sre": {"name": "SRE", "members": ["alice", "bob"], "schedule": "primary"}},
        "schedules": {"primary": {
            "name": "Primary", "time_zone": "UTC",
            "layers": [{"name": "weekly", "participants": ["alice"], "shift": "1w", "handoff": "00:00", "start": "2026-01-05"}]
        }}
    })
}

async fn import(app: &App) {
    app.call(
        Method::PUT,
        "/api/v1/roster",
        Some(&app.admin),
        Some(roster()),
    )
    .await
    .expect(StatusCode::OK);
}

async fn on_call_now(app: &App) -> String {
    app.get("/api/v1/oncall?schedule=primary", &app.viewer)
        .await
        .expect(StatusCode::OK)
        .body["oncall"][0]["shift"]["person"]
        .as_str()
        .unwrap_or("nobody")
        .to_owned()
}

/// Everything an admin form could change, to compare before and after.
async fn snapshot(app: &App) -> String {
    let users: Vec<String> = app
        .store
        .list_users()
        .await
        .expect("users")
        .iter()
        .map(|u| {
            format!(
                "{}:{}:{:?}:{}",
                u.name, u.role, u.disabled_at, u.password_hash
            )
        })
        .collect();
    let tokens: Vec<String> = app
        .store
        .list_tokens()
        .await
        .expect("tokens")
        .iter()
        .map(|t| format!("{}:{:?}", t.id, t.revoked_at))
        .collect();
    let integrations: Vec<String> = app
        .store
        .list_integrations()
        .await
        .expect("integrations")
        .iter()
        .map(|i| format!("{}:{:?}", i.id, i.revoked_at))
        .collect();
    let roster = serde_json::to_string(&app.store.roster().await.expect("roster")).expect("json");
    format!("{users:?}\n{tokens:?}\n{integrations:?}\n{roster}")
}

async fn non_admins_and_forged_posts_change_nothing(db: &TestDatabase) {
    let app = App::new(db).await;
    import(&app).await;
    fireline_http::users::create_user(
        app.store.as_ref(),
        "dana",
        AccessRole::Responder,
        "a long passphrase",
        start(),
    )
    .await
    .expect("dana");
    let integration =
        fireline_http::auth::issue_integration(app.store.as_ref(), None, "checkout", start())
            .await
            .expect("integration")
            .1;
    let token = app.store.list_tokens().await.expect("tokens")[0].id.clone();
    let before = snapshot(&app).await;
    let schedule_toml = "name = \"Primary\"\ntime_zone = \"UTC\"\n";
    let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            "/ui/admin/users".into(),
            vec![
                ("name", "eve"),
                ("role", "admin"),
                ("password", "a long passphrase"),
                ("confirm", "a long passphrase"),
            ],
        ),
        (
            "/ui/admin/users/dana/disabled".into(),
            vec![("disabled", "true")],
        ),
        (
            "/ui/admin/users/dana/password".into(),
            vec![
                ("password", "another passphrase"),
                ("confirm", "another passphrase"),
            ],
        ),
        (
            "/ui/admin/tokens".into(),
            vec![("name", "sneaky"), ("role", "admin")],
        ),
        (format!("/ui/admin/tokens/{token}/revoke"), vec![]),
        ("/ui/admin/integrations".into(), vec![("service", "sneaky")]),
        (
            format!("/ui/admin/integrations/{}/revoke", integration.id),
            vec![],
        ),
        (
            "/ui/admin/roster/people".into(),
            vec![
                ("id", "mallory"),
                (
                    "toml",
                    "name = \"M\"\ncontacts = [{ kind = \"email\", address = \"m@example.com\" }]",
                ),
            ],
        ),
        (
            "/ui/admin/roster/schedules/primary".into(),
            vec![("toml", schedule_toml)],
        ),
        ("/ui/admin/roster/teams/sre/delete".into(), vec![]),
        (
            "/ui/oncall/overrides".into(),
            vec![
                ("schedule", "primary"),
                ("person", "bob"),
                ("start", "2027-01-15T07:00"),
                ("end", "2027-01-15T09:00"),
            ],
        ),
        (
            "/ui/oncall/overrides/remove".into(),
            vec![
                ("schedule", "primary"),
                ("person", "bob"),
                ("start", "2027-01-15T07:00:00Z"),
                ("end", "2027-01-15T09:00:00Z"),
            ],
        ),
    ];
    for token in [&app.alice, &app.viewer] {
        let b = token_browser(&app, token).await;
        for (path, fields) in &posts {
            let reply = post(&app, path, &b, fields).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}");
            assert!(html(&reply).contains("Only admins"), "{path}");
        }
        // Non-admins see no override form on the on-call page.
        let page = get(&app, "/ui/oncall", &b.cookie)
            .await
            .expect(StatusCode::OK);
        assert!(!html(&page).contains("Add an override"));
        assert!(!html(&page).contains("/ui/oncall/overrides/remove"));
    }
    // An admin without the right CSRF token is refused too.
    let admin = token_browser(&app, &app.admin).await;
    let other = token_browser(&app, &app.alice).await;
    for (path, fields) in &posts {
        for csrf in [None, Some("forged"), Some(other.csrf.as_str())] {
            let mut all: Vec<(&str, &str)> = fields.clone();
            if let Some(c) = csrf {
                all.push(("csrf", c));
            }
            let reply = app
                .send(post_request(path, Some(&admin.cookie), &all))
                .await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path} {csrf:?}");
        }
    }
    // Viewers cannot open the roster editor either.
    let viewer = token_browser(&app, &app.viewer).await;
    get(&app, "/ui/admin/roster/schedules/primary", &viewer.cookie)
        .await
        .expect(StatusCode::FORBIDDEN);
    assert_eq!(snapshot(&app).await, before, "nothing changed");
}

async fn users_are_created_disabled_and_given_new_passwords(db: &TestDatabase) {
    let app = App::new(db).await;
    let admin = token_browser(&app, &app.admin).await;
    let before = snapshot(&app).await;
    let create = |confirm: &'static str, password: &'static str, role: &'static str| {
        vec![
            ("name", "dana"),
            ("role", role),
            ("password", password),
            ("confirm", confirm),
        ]
    };
    let differ = post(
        &app,
        "/ui/admin/users",
        &admin,
        &create("a long passphrasf", "a long passphrase", "responder"),
    )
    .await
    .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html(&differ).contains("<code>confirm</code>"),
        "{}",
        html(&differ)
    );
    let short = post(
        &app,
        "/ui/admin/users",
        &admin,
        &create("short", "short", "responder"),
    )
    .await
    .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&short).contains("<code>password</code>"));
    assert!(html(&short).contains("at least 10"));
    let role = post(
        &app,
        "/ui/admin/users",
        &admin,
        &create("a long passphrase", "a long passphrase", "boss"),
    )
    .await
    .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&role).contains("<code>role</code>"));
    assert_eq!(snapshot(&app).await, before, "refusals change nothing");

    let made = post(
        &app,
        "/ui/admin/users",
        &admin,
        &create("a long passphrase", "a long passphrase", "responder"),
    )
    .await
    .expect(StatusCode::SEE_OTHER);
    let back = made.header("location").expect("a location").to_owned();
    assert!(back.starts_with("/ui/admin?done=user-created"), "{back}");
    let page = get(&app, &back, &admin.cookie).await.expect(StatusCode::OK);
    assert!(html(&page).contains("User created."));
    assert!(html(&page).contains("<td>dana</td><td>responder</td>"));
    assert!(!html(&page).contains("$argon2"), "no hash on the page");
    // A second one with the same name is a conflict.
    post(
        &app,
        "/ui/admin/users",
        &admin,
        &create("a long passphrase", "a long passphrase", "viewer"),
    )
    .await
    .expect(StatusCode::CONFLICT);
    password_sign_in(&app, "dana", "a long passphrase")
        .await
        .expect(StatusCode::SEE_OTHER);

    // Disabled: no sign-in; enabled again: sign-in works.
    post(
        &app,
        "/ui/admin/users/dana/disabled",
        &admin,
        &[("disabled", "true")],
    )
    .await
    .expect(StatusCode::SEE_OTHER);
    let page = get(&app, "/ui/admin", &admin.cookie)
        .await
        .expect(StatusCode::OK);
    assert!(html(&page).contains("disabled <time"), "{}", html(&page));
    password_sign_in(&app, "dana", "a long passphrase")
        .await
        .expect(StatusCode::UNAUTHORIZED);
    post(
        &app,
        "/ui/admin/users/dana/disabled",
        &admin,
        &[("disabled", "false")],
    )
    .await
    .expect(StatusCode::SEE_OTHER);
    password_sign_in(&app, "dana", "a long passphrase")
        .await
        .expect(StatusCode::SEE_OTHER);

    // A new password replaces the old one.
    app.advance(1);
    post(
        &app,
        "/ui/admin/users/dana/password",
        &admin,
        &[
            ("password", "another passphrase"),
            ("confirm", "another passphrasf"),
        ],
    )
    .await
    .expect(StatusCode::UNPROCESSABLE_ENTITY);
    post(
        &app,
        "/ui/admin/users/dana/password",
        &admin,
        &[
            ("password", "another passphrase"),
            ("confirm", "another passphrase"),
        ],
    )
    .await
    .expect(StatusCode::SEE_OTHER);
    password_sign_in(&app, "dana", "a long passphrase")
        .await
        .expect(StatusCode::UNAUTHORIZED);
    password_sign_in(&app, "dana", "another passphrase")
        .await
        .expect(StatusCode::SEE_OTHER);
    post(
        &app,
        "/ui/admin/users/nobody/password",
        &admin,
        &[
            ("password", "another passphrase"),
            ("confirm", "another passphrase"),
        ],
    )
    .await
    .expect(StatusCode::NOT_FOUND);

    // An admin signed in as a user cannot disable themselves.
    fireline_http::users::create_user(
        app.store.as_ref(),
        "root",
        AccessRole::Admin,
        "a long passphrase",
        start(),
    )
    .await
    .expect("root");
    let root = password_sign_in(&app, "root", "a long passphrase")
        .await
        .expect(StatusCode::SEE_OTHER);
    let root = browser(&app, cookie_of(&root)).await;
    let refused = post(
        &app,
        "/ui/admin/users/root/disabled",
        &root,
        &[("disabled", "true")],
    )
    .await
    .expect(StatusCode::CONFLICT);
    assert!(html(&refused).contains("cannot disable yourself"));
    let user = app.store.user("root").await.expect("user").expect("root");
    assert!(user.disabled_at.is_none());
    get(&app, "/ui/admin", &root.cookie)
        .await
        .expect(StatusCode::OK);
}

/// The one `fl_…`/`fli_…` secret in a page.
fn secret_in(page: &str, prefix: &str) -> String {
    let marker = format!("<code class=\"secret\">{prefix}");
    let at = page.find(&marker).expect("a secret on the page") + marker.len() - prefix.len();
    page[at..].split('<').next().unwrap_or("").to_owned()
}

async fn tokens_are_shown_once_and_revoked(db: &TestDatabase) {
    let app = App::new(db).await;
    let admin = token_browser(&app, &app.admin).await;
    let bad = post(
        &app,
        "/ui/admin/tokens",
        &admin,
        &[("name", "bot"), ("role", "root")],
    )
    .await
    .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&bad).contains("<code>role</code>"));
    let created = post(
        &app,
        "/ui/admin/tokens",
        &admin,
        &[("name", "deploy-bot"), ("role", "viewer")],
    )
    .await
    .expect(StatusCode::CREATED);
    let text = html(&created);
    assert!(text.contains("only time it is shown"), "{text}");
    let secret = secret_in(text, "fl_");
    app.get("/api/v1/incidents", &secret)
        .await
        .expect(StatusCode::OK);
    let page = get(&app, "/ui/admin", &admin.cookie)
        .await
        .expect(StatusCode::OK);
    assert!(html(&page).contains("deploy-bot"));
    assert!(!html(&page).contains(&secret), "never shown again");

    let id = app
        .store
        .list_tokens()
        .await
        .expect("tokens")
        .into_iter()
        .find(|t| t.name == "deploy-bot")
        .expect("the new token")
        .id;
    let revoked = post(&app, &format!("/ui/admin/tokens/{id}/revoke"), &admin, &[])
        .await
        .expect(StatusCode::SEE_OTHER);
    assert_eq!(
        revoked.header("location"),
        Some("/ui/admin?done=token-revoked#tokens")
    );
    assert_eq!(
        app.get("/api/v1/incidents", &secret).await.status,
        StatusCode::UNAUTHORIZED
    );
    post(&app, "/ui/admin/tokens/tok_nope/revoke", &admin, &[])
        .await
        .expect(StatusCode::NOT_FOUND);
}

const FIRING: &str = include_str!("../fixtures/alertmanager-webhook-grouped.json");

async fn receive(app: &App, path: &str) -> StatusCode {
    app.send(
        Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(FIRING))
            .expect("request"),
    )
    .await
    .status
}

async fn an_integration_key_is_shown_once_with_its_receiver_urls(db: &TestDatabase) {
    let app = App::new(db).await;
    let admin = token_browser(&app, &app.admin).await;
    let bad = post(&app, "/ui/admin/integrations", &admin, &[("service", "  ")])
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&bad).contains("service"), "{}", html(&bad));
    assert!(app
        .store
        .list_integrations()
        .await
        .expect("list")
        .is_empty());
    let created = post(
        &app,
        "/ui/admin/integrations",
        &admin,
        &[("service", "checkout"), ("name", "prom-main")],
    )
    .await
    .expect(StatusCode::CREATED);
    let text = html(&created);
    let key = secret_in(text, "fli_");
    let alertmanager = format!("/api/v1/integrations/{key}/alertmanager");
    assert!(text.contains(&alertmanager), "{text}");
    assert!(text.contains(&format!("/api/v1/integrations/{key}/alerts")));
    assert!(text.contains("/v2/enqueue"));
    assert_eq!(receive(&app, &alertmanager).await, StatusCode::ACCEPTED);
    let page = get(&app, "/ui/admin", &admin.cookie)
        .await
        .expect(StatusCode::OK);
    assert!(html(&page).contains("prom-main") && !html(&page).contains(&key));

    let id = app.store.list_integrations().await.expect("list")[0]
        .id
        .clone();
    post(
        &app,
        &format!("/ui/admin/integrations/{id}/revoke"),
        &admin,
        &[],
    )
    .await
    .expect(StatusCode::SEE_OTHER);
    assert_eq!(receive(&app, &alertmanager).await, StatusCode::NOT_FOUND);
}

async fn roster_entries_are_edited_as_toml(db: &TestDatabase) {
    let app = App::new(db).await;
    import(&app).await;
    let admin = token_browser(&app, &app.admin).await;
    let editor = get(&app, "/ui/admin/roster/schedules/primary", &admin.cookie)
        .await
        .expect(StatusCode::OK);
    let shown = html(&editor);
    assert!(shown.contains("time_zone = &quot;UTC&quot;"), "{shown}");
    assert!(shown.contains("[[layers]]"), "{shown}");
    get(&app, "/ui/admin/roster/schedules/nope", &admin.cookie)
        .await
        .expect(StatusCode::NOT_FOUND);
    get(&app, "/ui/admin/roster/widgets/x", &admin.cookie)
        .await
        .expect(StatusCode::NOT_FOUND);
    let before = snapshot(&app).await;
    let path = "/ui/admin/roster/schedules/primary";

    // Bad TOML: the location; a misspelt key: its name; a roster problem: its field.
    let broken = post(
        &app,
        path,
        &admin,
        &[("toml", "name = \"Primary\nzone = 1")],
    )
    .await
    .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html(&broken).contains("<code>toml</code>: line 1"),
        "{}",
        html(&broken)
    );
    assert!(
        html(&broken).contains("zone = 1"),
        "the editor keeps what was typed"
    );
    let misspelt = post(
        &app,
        path,
        &admin,
        &[(
            "toml",
            "name = \"Primary\"\ntime_zone = \"UTC\"\nlayerz = []\n",
        )],
    )
    .await
    .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&misspelt).contains("layerz"), "{}", html(&misspelt));
    let unknown = shown_toml(shown).replace("\"alice\"", "\"zed\"");
    let problem = post(&app, path, &admin, &[("toml", &unknown)])
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html(&problem).contains("<code>layers[0].participants[0]</code>"),
        "{}",
        html(&problem)
    );
    assert!(html(&problem).contains("unknown person"));
    assert_eq!(snapshot(&app).await, before, "refusals change nothing");

    // A valid edit changes who is on call.
    assert_eq!(on_call_now(&app).await, "alice");
    let to_bob = shown_toml(shown).replace("\"alice\"", "\"bob\"");
    let saved = post(&app, path, &admin, &[("toml", &to_bob)])
        .await
        .expect(StatusCode::SEE_OTHER);
    assert_eq!(
        saved.header("location"),
        Some("/ui/admin/roster/schedules/primary?done=entry-saved")
    );
    assert_eq!(on_call_now(&app).await, "bob");

    // Add a person; adding the id again is refused; deleting one still used is 409.
    let add = "/ui/admin/roster/people";
    let dave =
        "name = \"Dave Roe\"\ncontacts = [{ kind = \"email\", address = \"dave@example.com\" }]";
    post(&app, add, &admin, &[("id", "dave"), ("toml", dave)])
        .await
        .expect(StatusCode::SEE_OTHER);
    let person = app
        .get("/api/v1/people/dave", &app.viewer)
        .await
        .expect(StatusCode::OK);
    assert_eq!(person.body["name"], "Dave Roe");
    post(&app, add, &admin, &[("id", "dave"), ("toml", dave)])
        .await
        .expect(StatusCode::CONFLICT);
    let bad_id = post(&app, add, &admin, &[("id", "Dave!"), ("toml", dave)])
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html(&bad_id).contains("<code>id</code>"),
        "{}",
        html(&bad_id)
    );
    let used = post(&app, "/ui/admin/roster/people/bob/delete", &admin, &[])
        .await
        .expect(StatusCode::CONFLICT);
    assert!(html(&used).contains("still used"), "{}", html(&used));
    post(&app, "/ui/admin/roster/people/dave/delete", &admin, &[])
        .await
        .expect(StatusCode::SEE_OTHER);
    app.get("/api/v1/people/dave", &app.viewer)
        .await
        .expect(StatusCode::NOT_FOUND);
    // A team edited as TOML.
    post(
        &app,
        "/ui/admin/roster/teams/sre",
        &admin,
        &[(
            "toml",
            "name = \"Site reliability\"\nmembers = [\"carol\"]\n",
        )],
    )
    .await
    .expect(StatusCode::SEE_OTHER);
    let team = app
        .get("/api/v1/teams/sre", &app.viewer)
        .await
        .expect(StatusCode::OK);
    assert_eq!(team.body["members"], json!(["carol"]));
}

/// The editor's textarea text, unescaped.
fn shown_toml(page: &str) -> String {
    let start = page.find("name=\"toml\" rows=\"16\">").expect("the editor") + 22;
    let end = start + page[start..].find("</textarea>").expect("its end");
    page[start..end]
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

async fn overrides_are_added_and_removed_on_the_oncall_page(db: &TestDatabase) {
    let app = App::new(db).await;
    import(&app).await;
    let admin = token_browser(&app, &app.admin).await;
    let page = get(&app, "/ui/oncall", &admin.cookie)
        .await
        .expect(StatusCode::OK);
    assert!(html(&page).contains("Add an override"));
    assert!(
        html(&page).contains("read in the schedule's time zone"),
        "{}",
        html(&page)
    );
    assert_eq!(on_call_now(&app).await, "alice");
    // start() is 2027-01-15 08:00 UTC; the schedule's zone is UTC.
    let window = |start: &'static str, end: &'static str, person: &'static str| {
        vec![
            ("schedule", "primary"),
            ("person", person),
            ("start", start),
            ("end", end),
        ]
    };
    let bad = post(
        &app,
        "/ui/oncall/overrides",
        &admin,
        &window("tomorrow", "2027-01-15T09:00", "bob"),
    )
    .await
    .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&bad).contains("<code>start</code>"), "{}", html(&bad));
    let backwards = post(
        &app,
        "/ui/oncall/overrides",
        &admin,
        &window("2027-01-15T09:00", "2027-01-15T07:00", "bob"),
    )
    .await
    .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html(&backwards).contains("overrides[0]"),
        "{}",
        html(&backwards)
    );
    post(
        &app,
        "/ui/oncall/overrides",
        &admin,
        &window("2027-01-15T07:00", "2027-01-15T09:00", "zed"),
    )
    .await
    .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(on_call_now(&app).await, "alice");

    let added = post(
        &app,
        "/ui/oncall/overrides",
        &admin,
        &window("2027-01-15T07:00", "2027-01-15T09:00", "bob"),
    )
    .await
    .expect(StatusCode::SEE_OTHER);
    assert_eq!(
        added.header("location"),
        Some("/ui/oncall?done=override-added#overrides")
    );
    assert_eq!(on_call_now(&app).await, "bob");
    post(
        &app,
        "/ui/oncall/overrides",
        &admin,
        &window("2027-01-20T00:00", "2027-01-21T00:00", "carol"),
    )
    .await
    .expect(StatusCode::SEE_OTHER);

    // Everyone sees current and upcoming overrides; only admins can remove them.
    let viewer = token_browser(&app, &app.viewer).await;
    let page = get(&app, "/ui/oncall", &viewer.cookie)
        .await
        .expect(StatusCode::OK);
    let text = html(&page);
    assert!(
        text.contains("<h2 id=\"overrides\">Overrides</h2>"),
        "{text}"
    );
    assert!(
        text.contains("Bob Li") && text.contains("Carol Diaz"),
        "{text}"
    );
    assert!(text.contains("<td>now</td>") && text.contains("<td>upcoming</td>"));
    assert!(!text.contains("Remove"), "{text}");

    let removed = post(
        &app,
        "/ui/oncall/overrides/remove",
        &admin,
        &[
            ("schedule", "primary"),
            ("person", "bob"),
            ("start", "2027-01-15T07:00:00Z"),
            ("end", "2027-01-15T09:00:00Z"),
        ],
    )
    .await
    .expect(StatusCode::SEE_OTHER);
    assert_eq!(
        removed.header("location"),
        Some("/ui/oncall?done=override-removed#overrides")
    );
    assert_eq!(on_call_now(&app).await, "alice");
    post(
        &app,
        "/ui/oncall/overrides/remove",
        &admin,
        &[
            ("schedule", "primary"),
            ("person", "bob"),
            ("start", "2027-01-15T07:00:00Z"),
            ("end", "2027-01-15T09:00:00Z"),
        ],
    )
    .await
    .expect(StatusCode::NOT_FOUND);
    let schedule = app
        .get("/api/v1/schedules/primary", &app.viewer)
        .await
        .expect(StatusCode::OK);
    assert_eq!(schedule.body["overrides"][0]["person"], "carol");
    assert_eq!(schedule.body["overrides"].as_array().map(Vec::len), Some(1));
}

async fn admin_text_is_escaped(db: &TestDatabase) {
    let app = App::new(db).await;
    let evil = "<script>alert(1)</script>";
    let mut roster = roster();
    roster["people"]["bob"]["name"] = json!(evil);
    roster["schedules"]["primary"]["name"] = json!(evil);
    app.call(
        Method::PUT,
        "/api/v1/roster",
        Some(&app.admin),
        Some(roster),
    )
    .await
    .expect(StatusCode::OK);
    let admin = token_browser(&app, &app.admin).await;
    post(
        &app,
        "/ui/admin/tokens",
        &admin,
        &[("name", evil), ("role", "viewer")],
    )
    .await;
    post(
        &app,
        "/ui/admin/integrations",
        &admin,
        &[("service", evil), ("name", evil)],
    )
    .await;
    post(
        &app,
        "/ui/oncall/overrides",
        &admin,
        &[
            ("schedule", "primary"),
            ("person", "bob"),
            ("start", "2027-01-15T07:00"),
            ("end", "2027-01-15T09:00"),
        ],
    )
    .await
    .expect(StatusCode::SEE_OTHER);
    let refused = post(
        &app,
        "/ui/admin/roster/people",
        &admin,
        &[("id", evil), ("toml", evil)],
    )
    .await;
    assert!(refused.status.is_client_error());
    for reply in [
        refused,
        get(&app, "/ui/admin", &admin.cookie)
            .await
            .expect(StatusCode::OK),
        get(&app, "/ui/oncall", &admin.cookie)
            .await
            .expect(StatusCode::OK),
        get(&app, "/ui/admin/roster/people/bob", &admin.cookie)
            .await
            .expect(StatusCode::OK),
    ] {
        let text = html(&reply);
        assert!(!text.contains(evil), "unescaped: {text}");
        assert!(text.contains("&lt;script&gt;"), "{text}");
    }
}

/// A payload parked after repeated failures is shown on the Admin page with
/// its alerts and last error, and "Process again" puts it back; a responder can do
/// neither.
async fn parked_alerts_are_shown_and_processed_again_from_the_admin_page(db: &TestDatabase) {
    let app = App::new(db).await;
    let (_, integration) =
        fireline_http::auth::issue_integration(app.store.as_ref(), None, "checkout", start())
            .await
            .expect("integration");
    app.store
        .enqueue_alerts_batch(&[(
            integration.id.clone(),
            start(),
            fireline_store::AlertBatch::raw("[{\"summary\": \"half"),
        )])
        .await
        .expect("enqueue");
    fireline_engine::AlertProcessor::new(
        app.store.clone(),
        app.policy.clone(),
        app.clock.clone(),
        "test",
        app.commands.clone(),
    )
    .drain()
    .await
    .expect("drain");
    let id = app.store.dead_letters(10).await.expect("dead")[0].id;

    let admin = token_browser(&app, &app.admin).await;
    let page = get(&app, "/ui/admin", &admin.cookie)
        .await
        .expect(StatusCode::OK);
    let text = html(&page);
    assert!(text.contains("Alerts that paged nobody"), "{text}");
    assert!(text.contains("unreadable payload") && text.contains("do not decode"));

    let responder = token_browser(&app, &app.alice).await;
    let refused = post(
        &app,
        &format!("/ui/admin/dead-letters/{id}/redrive"),
        &responder,
        &[],
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(app.store.dead_letter_count().await.expect("count"), 1);

    post(
        &app,
        &format!("/ui/admin/dead-letters/{id}/redrive"),
        &admin,
        &[],
    )
    .await
    .expect(StatusCode::SEE_OTHER);
    assert_eq!(app.store.dead_letter_count().await.expect("count"), 0);
    let page = get(&app, "/ui/admin?done=dead-letter-requeued", &admin.cookie)
        .await
        .expect(StatusCode::OK);
    assert!(html(&page).contains("Payload put back in the inbox"));
}

/// The test pages waiting in the outbox, as (person's address, contact kind).
async fn test_pages(app: &App) -> Vec<(String, String)> {
    let now = start() + jiff::SignedDuration::from_hours(1);
    app.store
        .claim_outbox(now, "test", now + jiff::SignedDuration::from_mins(1), 50)
        .await
        .expect("claim")
        .iter()
        .filter(|item| item.notice.confirm_url.is_some())
        .map(|item| {
            (
                item.contact.address.clone(),
                item.contact.kind.as_str().to_owned(),
            )
        })
        .collect()
}

async fn whoever_cannot_be_woken_is_named_and_sent_a_test_page_from_the_ui(db: &TestDatabase) {
    let app = App::new(db).await;
    import(&app).await;
    // Alice is always on call and has only e-mail: the Admin page names her.
    let admin = token_browser(&app, &app.admin).await;
    let page = get(&app, "/ui/admin", &admin.cookie)
        .await
        .expect(StatusCode::OK);
    let page = html(&page);
    let at = page
        .find("Can the on-call be woken?")
        .expect("the readiness section");
    let section = &page[at..page[at..]
        .find("<h3>Problems")
        .map_or(page.len(), |e| at + e)];
    assert!(
        section.contains("Alice Ng (alice) has no contact that can wake them"),
        "{section}"
    );
    assert!(!section.contains("Bob Li"), "bob is not on call: {section}");
    assert!(
        section.contains("action=\"/ui/people/alice/test\""),
        "{section}"
    );

    // A viewer may not send anyone test pages; a forged post sends nothing.
    let viewer = token_browser(&app, &app.viewer).await;
    post(&app, "/ui/people/alice/test", &viewer, &[])
        .await
        .expect(StatusCode::FORBIDDEN);
    app.send(post_request(
        "/ui/people/alice/test",
        Some(&admin.cookie),
        &[("csrf", "forged")],
    ))
    .await
    .expect(StatusCode::FORBIDDEN);
    assert!(test_pages(&app).await.is_empty());

    let sent = post(&app, "/ui/people/alice/test", &admin, &[])
        .await
        .expect(StatusCode::SEE_OTHER);
    assert_eq!(
        sent.header("location"),
        Some("/ui/admin?done=test-sent#readiness")
    );
    assert_eq!(
        test_pages(&app).await,
        vec![("alice@example.com".to_owned(), "email".to_owned())]
    );

    // Alice, signed in as herself, sees her own contacts and may test them.
    fireline_http::users::create_user(
        app.store.as_ref(),
        "alice",
        AccessRole::Responder,
        "a long passphrase",
        start(),
    )
    .await
    .expect("alice");
    let signed_in = password_sign_in(&app, "alice", "a long passphrase")
        .await
        .expect(StatusCode::SEE_OTHER);
    {
        let alice = browser(&app, cookie_of(&signed_in)).await;
        let mine = get(&app, "/ui/oncall", &alice.cookie)
            .await
            .expect(StatusCode::OK);
        let mine = html(&mine);
        assert!(mine.contains("How fireline reaches me"), "{mine}");
        assert!(
            mine.contains("email: alice@example.com — not confirmed yet"),
            "{mine}"
        );
        assert!(mine.contains("Send me a test page"), "{mine}");
        // Test pages sent at the same instant are one; a minute later is a new test.
        app.advance(1);
        post(&app, "/ui/people/alice/test", &alice, &[])
            .await
            .expect(StatusCode::SEE_OTHER);
        assert_eq!(test_pages(&app).await.len(), 1);
    }
}
