//! The web UI under `/ui`: sign-in sessions, CSRF, roles, escaping, forms that act
//! through the same path as the API, and the live feed.

use crate::support::{kinds, roster_json, start, App, Reply};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use fireline_engine::Clock;
use fireline_store::backend_tests;
use fireline_store::testing::TestDatabase;
use tower::ServiceExt;

backend_tests!(
    anonymous_requests_are_sent_to_sign_in,
    sign_in_checks_the_token_and_sets_a_strict_cookie,
    a_revoked_tokens_session_stops_working,
    users_sign_in_with_a_password_until_disabled_or_changed,
    the_set_up_link_makes_the_first_admin_once,
    posts_without_the_csrf_token_are_refused_and_change_nothing,
    a_responder_acts_through_the_forms,
    a_viewer_reads_but_cannot_act,
    text_is_escaped,
    the_live_feed_is_server_sent_events,
    a_checklist_step_is_checked_from_the_page,
    the_oncall_page_shows_who_is_on_call,
    the_postmortems_page_lists_postmortems_and_open_action_items,
    the_report_page_embeds_the_report_and_its_charts,
    the_admin_page_is_for_admins_and_shows_no_secrets,
);

/// A signed-in browser: its session cookie and the page's CSRF token.
struct Browser {
    cookie: String,
    csrf: String,
}

fn form_request(path: &str, cookie: Option<&str>, body: &str) -> Request<Body> {
    let mut builder = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        builder = builder.header(header::COOKIE, cookie);
    }
    builder
        .body(Body::from(body.to_owned()))
        .expect("a valid request")
}

fn get_request(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder().uri(path);
    if let Some(cookie) = cookie {
        builder = builder.header(header::COOKIE, cookie);
    }
    builder.body(Body::empty()).expect("a valid request")
}

fn html(reply: &Reply) -> &str {
    reply.body.as_str().unwrap_or("")
}

/// The CSRF token in a page's forms.
fn csrf_in(page: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let at = page
        .find(marker)
        .unwrap_or_else(|| panic!("no CSRF field in the page: {page}"))
        + marker.len();
    page[at..].split('"').next().unwrap_or("").to_owned()
}

fn form_value(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

impl App {
    async fn sign_in(&self, token: &str) -> Browser {
        let reply = self
            .send(form_request(
                "/ui/signin",
                None,
                &format!("token={}", form_value(token)),
            ))
            .await
            .expect(StatusCode::SEE_OTHER);
        assert_eq!(reply.header("location"), Some("/ui"));
        let set = reply.header("set-cookie").expect("a session cookie");
        let cookie = set.split(';').next().expect("name=value").to_owned();
        let page = self.send(get_request("/ui", Some(&cookie))).await;
        let page = page.expect(StatusCode::OK);
        Browser {
            csrf: csrf_in(html(&page)),
            cookie,
        }
    }

    async fn ui_get(&self, path: &str, browser: &Browser) -> Reply {
        self.send(get_request(path, Some(&browser.cookie))).await
    }

    async fn ui_post(&self, path: &str, browser: &Browser, fields: &[(&str, &str)]) -> Reply {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{k}={}", form_value(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.send(form_request(path, Some(&browser.cookie), &body))
            .await
    }
}

/// The UI routes anyone may open: sign-in and the first admin's set-up page.
const PUBLIC_UI: [&str; 2] = ["/ui/signin", "/ui/setup"];

/// Every (method, path) the UI router declares, read from its source, so that a route
/// added later is checked here without anyone remembering to list it.
fn ui_routes() -> Vec<(Method, String)> {
    let source = include_str!("../../src/ui/mod.rs");
    let body = source
        .split("pub(crate) fn routes() -> Router<AppState> {")
        .nth(1)
        .and_then(|rest| rest.split("\n}\n").next())
        .expect("ui::routes() in ui/mod.rs");
    let mut routes = Vec::new();
    // Each chunk is one `.route("path", handlers)`, up to the next one.
    for declaration in body.split(".route(").skip(1) {
        let path = declaration
            .split('"')
            .nth(1)
            .expect("a route's path is a string literal");
        for (name, method) in [("get(", Method::GET), ("post(", Method::POST)] {
            if declaration.contains(name) {
                routes.push((method, path.to_owned()));
            }
        }
    }
    assert!(routes.len() >= 20, "too few UI routes found: {routes:?}");
    routes
}

async fn anonymous_requests_are_sent_to_sign_in(db: &TestDatabase) {
    let app = App::new(db).await;
    app.declare("Disk full", "SEV2", "db").await;
    let routes = ui_routes();
    for (method, path) in &routes {
        let url = path
            .replace("{id}", "INC-1")
            .replace("{step}", "some-step")
            .replace("{name}", "alice");
        assert!(
            !url.contains('{'),
            "a new path parameter in {path}: add it above"
        );
        let reply = if *method == Method::GET {
            app.send(get_request(&url, None)).await
        } else {
            app.send(form_request(&url, None, "text=x")).await
        };
        if PUBLIC_UI.contains(&path.as_str()) {
            // Sign-in and set-up show their forms; a bare POST signs nobody in.
            assert!(reply.header("set-cookie").is_none(), "{method} {path}");
            continue;
        }
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{method} {path}");
        assert_eq!(
            reply.header("location"),
            Some("/ui/signin"),
            "{method} {path}"
        );
    }
    // A bearer token is not a session: the UI wants its cookie.
    let reply = app
        .send(
            Request::builder()
                .uri("/ui")
                .header(header::AUTHORIZATION, format!("Bearer {}", app.alice))
                .body(Body::empty())
                .expect("a valid request"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    // A forged cookie is anonymous too.
    let reply = app
        .send(get_request(
            "/ui",
            Some("fireline_session=tok_1.9999999999.00"),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    // The sign-in page itself is open, and `?token=` prefills it.
    let page = app
        .send(get_request("/ui/signin?token=fl_abc", None))
        .await
        .expect(StatusCode::OK);
    assert!(html(&page).contains("value=\"fl_abc\""), "{}", html(&page));
}

async fn sign_in_checks_the_token_and_sets_a_strict_cookie(db: &TestDatabase) {
    let app = App::new(db).await;
    let wrong = app
        .send(form_request("/ui/signin", None, "token=fl_nope"))
        .await
        .expect(StatusCode::UNAUTHORIZED);
    assert!(wrong.header("set-cookie").is_none());
    assert!(html(&wrong).contains("invalid or revoked token"));

    let good = app
        .send(form_request(
            "/ui/signin",
            None,
            &format!("token={}", app.alice),
        ))
        .await
        .expect(StatusCode::SEE_OTHER);
    let cookie = good.header("set-cookie").expect("a cookie").to_owned();
    assert!(cookie.starts_with("fireline_session=tok_"), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/ui", "Max-Age="] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
    // The test app's links point at http://, so the cookie is not Secure.
    assert!(!cookie.contains("Secure"), "{cookie}");
    assert!(
        !cookie.contains(&app.alice),
        "the cookie never carries the token"
    );

    let browser = app.sign_in(&app.alice).await;
    let page = app.ui_get("/ui", &browser).await.expect(StatusCode::OK);
    assert!(html(&page).contains("alice (responder)"), "{}", html(&page));

    // Signing out needs the CSRF token too, then clears the cookie.
    app.ui_post("/ui/signout", &browser, &[])
        .await
        .expect(StatusCode::FORBIDDEN);
    let out = app
        .ui_post("/ui/signout", &browser, &[("csrf", &browser.csrf)])
        .await
        .expect(StatusCode::SEE_OTHER);
    assert!(out
        .header("set-cookie")
        .is_some_and(|c| c.contains("Max-Age=0")));

    // A session expires.
    app.advance(13 * 60);
    let reply = app.ui_get("/ui", &browser).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
}

async fn a_revoked_tokens_session_stops_working(db: &TestDatabase) {
    let app = App::new(db).await;
    let browser = app.sign_in(&app.alice).await;
    app.ui_get("/ui", &browser).await.expect(StatusCode::OK);
    let alice = app
        .store
        .list_tokens()
        .await
        .expect("list tokens")
        .into_iter()
        .find(|t| t.name == "alice")
        .expect("alice's token");
    app.store
        .revoke_token(&alice.id, start())
        .await
        .expect("revoke");
    let reply = app.ui_get("/ui", &browser).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.header("location"), Some("/ui/signin"));
}

impl App {
    async fn password_sign_in(&self, name: &str, password: &str) -> Reply {
        self.send(form_request(
            "/ui/signin",
            None,
            &format!(
                "name={}&password={}",
                form_value(name),
                form_value(password)
            ),
        ))
        .await
    }
}

fn session_cookie(reply: &Reply) -> String {
    let set = reply.header("set-cookie").expect("a session cookie");
    set.split(';').next().expect("name=value").to_owned()
}

async fn users_sign_in_with_a_password_until_disabled_or_changed(db: &TestDatabase) {
    let app = App::new(db).await;
    fireline_http::users::create_user(
        app.store.as_ref(),
        "dana",
        fireline_core::AccessRole::Responder,
        "a long passphrase",
        start(),
    )
    .await
    .expect("create dana");
    for (name, password) in [("dana", "wrong password!"), ("nobody", "a long passphrase")] {
        let refused = app.password_sign_in(name, password).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{name}");
        assert!(html(&refused).contains("wrong username or password"));
        assert!(refused.header("set-cookie").is_none());
    }
    let reply = app
        .password_sign_in("dana", "a long passphrase")
        .await
        .expect(StatusCode::SEE_OTHER);
    let cookie = session_cookie(&reply);
    let page = app.send(get_request("/ui", Some(&cookie))).await;
    let page = page.expect(StatusCode::OK);
    assert!(html(&page).contains("dana (responder)"), "{}", html(&page));
    let browser = Browser {
        csrf: csrf_in(html(&page)),
        cookie: cookie.clone(),
    };
    // What a user does is recorded under their name.
    app.declare("Disk full", "SEV2", "db").await;
    app.ui_post(
        "/ui/incidents/INC-1/notes",
        &browser,
        &[("csrf", &browser.csrf), ("text", "looking")],
    )
    .await
    .expect(StatusCode::SEE_OTHER);
    let log = app.incident("INC-1").await;
    assert!(
        log.to_string().contains("\"actor\":\"dana\""),
        "the note is dana's: {log}"
    );

    // A new password ends the sessions signed before it.
    app.advance(1);
    fireline_http::users::change_password(
        app.store.as_ref(),
        "dana",
        "another passphrase",
        app.clock.now(),
    )
    .await
    .expect("change");
    let reply = app.send(get_request("/ui", Some(&cookie))).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.password_sign_in("dana", "a long passphrase")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let cookie = session_cookie(
        &app.password_sign_in("dana", "another passphrase")
            .await
            .expect(StatusCode::SEE_OTHER),
    );
    app.send(get_request("/ui", Some(&cookie)))
        .await
        .expect(StatusCode::OK);
    // Disabling ends them too, and refuses sign-in.
    app.store
        .set_user_disabled("dana", Some(app.clock.now()))
        .await
        .expect("disable");
    assert_eq!(
        app.send(get_request("/ui", Some(&cookie))).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.password_sign_in("dana", "another passphrase")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

async fn the_set_up_link_makes_the_first_admin_once(db: &TestDatabase) {
    let app = App::new(db).await;
    let code = fireline_http::users::issue_first_admin_code(app.store.as_ref())
        .await
        .expect("code");
    let form = app
        .send(get_request(&format!("/ui/setup?code={code}"), None))
        .await
        .expect(StatusCode::OK);
    assert!(html(&form).contains(&code), "the form carries the code");
    let post = |code: String, name: &'static str, password: &'static str, confirm: &'static str| {
        form_request(
            "/ui/setup",
            None,
            &format!(
                "code={code}&name={name}&password={}&confirm={}",
                form_value(password),
                form_value(confirm)
            ),
        )
    };
    let differ = app
        .send(post(
            code.clone(),
            "root",
            "a long passphrase",
            "a long passphrasf",
        ))
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&differ).contains("differ"));
    let short = app
        .send(post(code.clone(), "root", "short", "short"))
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&short).contains("at least 10"), "{}", html(&short));
    assert!(app.store.list_users().await.expect("users").is_empty());

    let made = app
        .send(post(
            code.clone(),
            "root",
            "a long passphrase",
            "a long passphrase",
        ))
        .await
        .expect(StatusCode::SEE_OTHER);
    let cookie = session_cookie(&made);
    let admin = app
        .send(get_request("/ui/admin", Some(&cookie)))
        .await
        .expect(StatusCode::OK);
    assert!(html(&admin).contains("root (admin)"));
    app.send(post(code, "eve", "a long passphrase", "a long passphrase"))
        .await
        .expect(StatusCode::FORBIDDEN);
    let names: Vec<String> = app
        .store
        .list_users()
        .await
        .expect("users")
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, vec!["root"]);
}

async fn posts_without_the_csrf_token_are_refused_and_change_nothing(db: &TestDatabase) {
    let app = App::new(db).await;
    app.declare("Disk full", "SEV2", "db").await;
    let browser = app.sign_in(&app.alice).await;
    let other = app.sign_in(&app.admin).await;
    let before = kinds(&app.incident("INC-1").await);
    for csrf in [None, Some("forged"), Some(other.csrf.as_str())] {
        let mut fields = vec![("text", "sneaky")];
        if let Some(c) = csrf {
            fields.push(("csrf", c));
        }
        app.ui_post("/ui/incidents/INC-1/notes", &browser, &fields)
            .await
            .expect(StatusCode::FORBIDDEN);
        let mut fields = Vec::new();
        if let Some(c) = csrf {
            fields.push(("csrf", c));
        }
        app.ui_post("/ui/incidents/INC-1/acknowledge", &browser, &fields)
            .await
            .expect(StatusCode::FORBIDDEN);
    }
    assert_eq!(kinds(&app.incident("INC-1").await), before);
}

async fn a_responder_acts_through_the_forms(db: &TestDatabase) {
    let app = App::new(db).await;
    app.declare("Disk full", "SEV2", "db").await;
    let browser = app.sign_in(&app.alice).await;
    let page = app
        .ui_get("/ui/incidents/INC-1", &browser)
        .await
        .expect(StatusCode::OK);
    for action in ["acknowledge", "status", "notes", "updates", "resolve"] {
        assert!(
            html(&page).contains(&format!("action=\"/ui/incidents/INC-1/{action}\"")),
            "no {action} form"
        );
    }
    let csrf = csrf_in(html(&page));
    let ack = app
        .ui_post(
            "/ui/incidents/INC-1/acknowledge",
            &browser,
            &[("csrf", &csrf)],
        )
        .await
        .expect(StatusCode::SEE_OTHER);
    assert_eq!(ack.header("location"), Some("/ui/incidents/INC-1"));
    app.ui_post(
        "/ui/incidents/INC-1/notes",
        &browser,
        &[("csrf", &csrf), ("text", "rotated the logs")],
    )
    .await
    .expect(StatusCode::SEE_OTHER);
    app.ui_post(
        "/ui/incidents/INC-1/status",
        &browser,
        &[("csrf", &csrf), ("status", "identified")],
    )
    .await
    .expect(StatusCode::SEE_OTHER);
    // A refusal from the core is shown as a page with its status, not a redirect.
    let again = app
        .ui_post(
            "/ui/incidents/INC-1/acknowledge",
            &browser,
            &[("csrf", &csrf)],
        )
        .await
        .expect(StatusCode::CONFLICT);
    assert!(html(&again).contains("role=\"alert\""));

    let detail = app.incident("INC-1").await;
    assert_eq!(
        kinds(&detail),
        ["declared", "acknowledged", "note_added", "status_changed"]
    );
    let timeline = detail["timeline"].as_array().expect("timeline");
    assert_eq!(timeline[1]["actor"], "alice");
    assert_eq!(timeline[2]["data"]["text"], "rotated the logs");

    let page = app
        .ui_get("/ui/incidents/INC-1", &browser)
        .await
        .expect(StatusCode::OK);
    let page = html(&page);
    assert!(page.contains("rotated the logs"));
    assert!(page.contains("identified"));
    assert!(
        !page.contains("action=\"/ui/incidents/INC-1/acknowledge\""),
        "no acknowledge button once acknowledged"
    );

    app.ui_post(
        "/ui/incidents/INC-1/resolve",
        &browser,
        &[("csrf", &csrf), ("summary", "disk grown")],
    )
    .await
    .expect(StatusCode::SEE_OTHER);
    assert_eq!(
        app.incident("INC-1").await["incident"]["status"],
        "resolved"
    );
}

async fn a_viewer_reads_but_cannot_act(db: &TestDatabase) {
    let app = App::new(db).await;
    app.declare("Disk full", "SEV2", "db").await;
    let browser = app.sign_in(&app.viewer).await;
    let list = app.ui_get("/ui", &browser).await.expect(StatusCode::OK);
    assert!(html(&list).contains("INC-1"));
    let page = app
        .ui_get("/ui/incidents/INC-1", &browser)
        .await
        .expect(StatusCode::OK);
    assert!(!html(&page).contains("/ui/incidents/INC-1/acknowledge"));
    assert!(!html(&page).contains("/ui/incidents/INC-1/notes"));
    let before = kinds(&app.incident("INC-1").await);
    app.ui_post(
        "/ui/incidents/INC-1/acknowledge",
        &browser,
        &[("csrf", &browser.csrf)],
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    app.ui_post(
        "/ui/incidents/INC-1/notes",
        &browser,
        &[("csrf", &browser.csrf), ("text", "hi")],
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    assert_eq!(kinds(&app.incident("INC-1").await), before);
}

async fn text_is_escaped(db: &TestDatabase) {
    let app = App::new(db).await;
    let evil = "<script>alert(1)</script>";
    app.declare(evil, "SEV2", "<b>svc</b>").await;
    let browser = app.sign_in(&app.alice).await;
    app.ui_post(
        "/ui/incidents/INC-1/notes",
        &browser,
        &[
            ("csrf", &browser.csrf),
            ("text", "\"><img src=x onerror=alert(2)>"),
        ],
    )
    .await
    .expect(StatusCode::SEE_OTHER);
    app.advance(1); // so the report counts the incident
    for path in [
        "/ui",
        "/ui/fragments/incidents",
        "/ui/incidents/INC-1",
        "/ui/incidents?service=%22%3E%3Cscript%3E",
        "/ui/postmortems",
        "/ui/report",
    ] {
        let page = app.ui_get(path, &browser).await.expect(StatusCode::OK);
        let page = html(&page);
        assert!(!page.contains(evil), "{path} shows the title raw");
        assert!(!page.contains("<b>svc"), "{path} shows the service raw");
        assert!(!page.contains("<img"), "{path} shows the note raw");
        assert!(!page.contains("\"><script>"), "{path} shows the query raw");
    }
    let page = app
        .ui_get("/ui/incidents/INC-1", &browser)
        .await
        .expect(StatusCode::OK);
    assert!(html(&page).contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

async fn the_live_feed_is_server_sent_events(db: &TestDatabase) {
    let app = App::new(db).await;
    let browser = app.sign_in(&app.viewer).await;
    // The stream never ends: read the head only.
    let response = app
        .router
        .clone()
        .oneshot(get_request("/ui/events", Some(&browser.cookie)))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    // The list page carries the script that subscribes to it.
    let page = app.ui_get("/ui", &browser).await.expect(StatusCode::OK);
    assert!(html(&page).contains("new EventSource(\"/ui/events\")"));
}

async fn a_checklist_step_is_checked_from_the_page(db: &TestDatabase) {
    let app = App::new(db).await;
    app.declare("Agent down", "SEV2", "agents").await;
    app.post(
        "/api/v1/incidents/INC-1/runbook",
        &app.alice,
        serde_json::json!({"runbook": "agent-down"}),
    )
    .await
    .expect(StatusCode::OK);
    let step = app.incident("INC-1").await["checklist"]["steps"][0]["id"]
        .as_str()
        .expect("a step id")
        .to_owned();
    let browser = app.sign_in(&app.alice).await;
    let page = app
        .ui_get("/ui/incidents/INC-1", &browser)
        .await
        .expect(StatusCode::OK);
    let action = format!("/ui/incidents/INC-1/checklist/{step}");
    assert!(
        html(&page).contains(&format!("action=\"{action}\"")),
        "no check button"
    );
    assert!(html(&page).contains("0 of "), "progress shown");
    app.ui_post(
        &action,
        &browser,
        &[("csrf", &browser.csrf), ("done", "true")],
    )
    .await
    .expect(StatusCode::SEE_OTHER);
    let detail = app.incident("INC-1").await;
    assert_eq!(detail["checklist"]["done"], 1);
    assert_eq!(detail["checklist"]["steps"][0]["done"], true);
    let page = app
        .ui_get("/ui/incidents/INC-1", &browser)
        .await
        .expect(StatusCode::OK);
    assert!(html(&page).contains("1 of "), "progress moved");
}

async fn the_oncall_page_shows_who_is_on_call(db: &TestDatabase) {
    let app = App::new(db).await;
    let browser = app.sign_in(&app.viewer).await;
    let empty = app
        .ui_get("/ui/oncall", &browser)
        .await
        .expect(StatusCode::OK);
    assert!(
        html(&empty).contains("No schedules yet"),
        "{}",
        html(&empty)
    );
    app.call(
        Method::PUT,
        "/api/v1/roster",
        Some(&app.admin),
        Some(roster_json()),
    )
    .await
    .expect(StatusCode::OK);
    let now = app
        .get("/api/v1/oncall?schedule=sre-primary", &app.viewer)
        .await
        .expect(StatusCode::OK)
        .body;
    let person = now["oncall"][0]["shift"]["person"]
        .as_str()
        .expect("someone on call")
        .to_owned();
    let name = app
        .get(&format!("/api/v1/people/{person}"), &app.viewer)
        .await
        .expect(StatusCode::OK)
        .body["name"]
        .as_str()
        .expect("a name")
        .to_owned();
    let page = app
        .ui_get("/ui/oncall", &browser)
        .await
        .expect(StatusCode::OK);
    let page = html(&page);
    assert!(page.contains("On call now"), "{page}");
    assert!(page.contains(&name), "{name} not in {page}");
    assert!(page.contains("Next 7 days"), "{page}");
    assert!(
        page.contains("href=\"/ui/oncall\""),
        "linked from the navigation"
    );
    // Alice's token name is a person id in the roster: she sees her own shifts.
    let alice = app.sign_in(&app.alice).await;
    let page = app
        .ui_get("/ui/oncall", &alice)
        .await
        .expect(StatusCode::OK);
    assert!(html(&page).contains("My shifts"), "{}", html(&page));
}

async fn the_postmortems_page_lists_postmortems_and_open_action_items(db: &TestDatabase) {
    let app = App::new(db).await;
    let browser = app.sign_in(&app.viewer).await;
    let empty = app
        .ui_get("/ui/postmortems", &browser)
        .await
        .expect(StatusCode::OK);
    assert!(
        html(&empty).contains("No post-mortems yet"),
        "{}",
        html(&empty)
    );
    app.declare("Checkout 5xx", "SEV1", "checkout").await;
    app.advance(3);
    app.post(
        "/api/v1/incidents/INC-1/acknowledge",
        &app.alice,
        serde_json::json!({}),
    )
    .await
    .expect(StatusCode::OK);
    app.advance(30);
    app.post(
        "/api/v1/incidents/INC-1/resolve",
        &app.alice,
        serde_json::json!({"summary": "rolled back"}),
    )
    .await
    .expect(StatusCode::OK);
    app.post(
        "/api/v1/incidents/INC-1/postmortem",
        &app.alice,
        serde_json::json!({}),
    )
    .await
    .expect(StatusCode::CREATED);
    app.post(
        "/api/v1/incidents/INC-1/actions",
        &app.alice,
        serde_json::json!({"title": "Add canary deploys", "owner": "bob", "priority": "p1", "due": "2027-01-16"}),
    )
    .await
    .expect(StatusCode::CREATED);
    let page = app
        .ui_get("/ui/postmortems", &browser)
        .await
        .expect(StatusCode::OK);
    let text = html(&page);
    assert!(text.contains("href=\"/ui/incidents/INC-1\""), "{text}");
    assert!(text.contains("Checkout 5xx"), "{text}");
    assert!(text.contains("Add canary deploys"), "{text}");
    assert!(text.contains("bob") && text.contains("P1") && text.contains("2027-01-16"));
    assert!(
        !text.contains(">overdue<"),
        "nothing is overdue yet: {text}"
    );
    // Three days on, the item is past its due day: the page says so in words.
    app.advance(3 * 24 * 60);
    let browser = app.sign_in(&app.viewer).await; // sessions last 12 hours
    let page = app
        .ui_get("/ui/postmortems", &browser)
        .await
        .expect(StatusCode::OK);
    assert!(html(&page).contains(">overdue<"), "{}", html(&page));
}

async fn the_report_page_embeds_the_report_and_its_charts(db: &TestDatabase) {
    let app = App::new(db).await;
    app.declare("Disk full", "SEV2", "db").await;
    app.advance(5);
    let browser = app.sign_in(&app.viewer).await;
    let page = app
        .ui_get("/ui/report", &browser)
        .await
        .expect(StatusCode::OK);
    let text = html(&page);
    assert!(text.contains("<svg"), "{text}");
    assert!(text.contains("Incidents per week"), "{text}");
    assert!(
        text.contains("service db"),
        "the incident is counted: {text}"
    );
    assert!(text.contains("<option value=\"30d\" selected>"), "{text}");
    assert!(
        text.contains("href=\"/ui/report\""),
        "linked from the navigation"
    );
    assert_eq!(
        text.matches("<html").count(),
        1,
        "one page, not a page in a page"
    );
    let week = app
        .ui_get("/ui/report?since=7d", &browser)
        .await
        .expect(StatusCode::OK);
    assert!(html(&week).contains("<option value=\"7d\" selected>"));
    // A bad period is the API's refusal, as a page.
    let bad = app.ui_get("/ui/report?since=soon", &browser).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&bad).contains("`soon`"), "{}", html(&bad));
}

async fn the_admin_page_is_for_admins_and_shows_no_secrets(db: &TestDatabase) {
    let app = App::new(db).await;
    let created = app
        .post(
            "/api/v1/tokens",
            &app.admin,
            serde_json::json!({"name": "deploy-bot", "role": "responder"}),
        )
        .await
        .expect(StatusCode::CREATED)
        .body;
    let secret = created["token"].as_str().expect("a secret").to_owned();
    let integration = app
        .post(
            "/api/v1/integrations",
            &app.admin,
            serde_json::json!({"name": "prom-main", "service": "checkout"}),
        )
        .await
        .expect(StatusCode::CREATED)
        .body;
    let key = integration["key"].as_str().expect("a key").to_owned();
    app.call(
        Method::PUT,
        "/api/v1/roster",
        Some(&app.admin),
        Some(roster_json()),
    )
    .await
    .expect(StatusCode::OK);
    let label = app
        .get("/api/v1/policy", &app.viewer)
        .await
        .expect(StatusCode::OK)
        .body["label"]
        .as_str()
        .expect("a label")
        .to_owned();
    for token in [&app.alice, &app.viewer] {
        let browser = app.sign_in(token).await;
        let refused = app.ui_get("/ui/admin", &browser).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert!(!html(&refused).contains("deploy-bot"));
        let list = app.ui_get("/ui", &browser).await.expect(StatusCode::OK);
        assert!(
            !html(&list).contains("href=\"/ui/admin\""),
            "no link for non-admins"
        );
    }
    let browser = app.sign_in(&app.admin).await;
    let page = app
        .ui_get("/ui/admin", &browser)
        .await
        .expect(StatusCode::OK);
    let text = html(&page);
    assert!(text.contains("href=\"/ui/admin\""), "linked for admins");
    for shown in [
        "deploy-bot",
        "responder",
        "root-admin",
        "prom-main",
        "checkout",
    ] {
        assert!(text.contains(shown), "{shown} not in {text}");
    }
    assert!(text.contains(&format!("<code>{label}</code>")), "{text}");
    let roster = roster_json();
    let person = roster["people"]
        .as_object()
        .and_then(|p| p.values().next())
        .and_then(|p| p["name"].as_str())
        .expect("a person's name")
        .to_owned();
    assert!(text.contains(&person), "{person} not in {text}");
    assert!(text.contains("Escalation levels"), "{text}");
    assert!(!text.contains(&secret) && !text.contains(&key));
    assert!(!text.contains("fl_"), "no token secret on the page: {text}");
}
