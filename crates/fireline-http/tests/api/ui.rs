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
    repeated_wrong_passwords_lock_the_name_out_for_a_while,
    the_set_up_link_makes_the_first_admin_once,
    posts_without_the_csrf_token_are_refused_and_change_nothing,
    a_responder_acts_through_the_forms,
    every_incident_action_has_a_form,
    an_update_is_previewed_as_it_will_be_posted,
    the_postmortem_is_drafted_edited_and_staged_from_the_ui,
    mine_keeps_the_incidents_i_am_on,
    mine_includes_incidents_i_was_escalated_to,
    the_incident_feed_says_when_it_changes,
    a_viewer_reads_but_cannot_act,
    text_is_escaped,
    the_live_feed_is_server_sent_events,
    a_checklist_step_is_checked_from_the_page,
    the_oncall_page_shows_who_is_on_call,
    the_oncall_page_gives_feed_urls_and_no_contact_addresses,
    the_postmortems_page_lists_postmortems_and_open_action_items,
    the_report_page_embeds_the_report_and_its_charts,
    the_admin_page_is_for_admins_and_shows_no_secrets,
    the_timeline_is_worded_for_people_in_the_readers_zone,
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

    /// `INC-1`'s page, which must answer 200.
    async fn incident_page(&self, browser: &Browser) -> Reply {
        self.ui_get("/ui/incidents/INC-1", browser)
            .await
            .expect(StatusCode::OK)
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
/// Open without a session: sign-in and set-up, and the installable app's static files
/// (the browser fetches the manifest, icons and service worker on its own).
const PUBLIC_UI: [&str; 7] = [
    "/ui/signin",
    "/ui/setup",
    "/ui/manifest.webmanifest",
    "/ui/sw.js",
    "/ui/push.js",
    "/ui/icon-192.png",
    "/ui/icon-512.png",
];

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
            .replace("{name}", "alice")
            .replace("{section}", "people")
            .replace("{action}", "redrive");
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
            // Sign-in and set-up show their forms, the app's files are static; a bare
            // POST signs nobody in.
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
    // Enabled again, dana signs in anew; the session from before stays dead.
    app.store
        .set_user_disabled("dana", None)
        .await
        .expect("enable");
    assert_eq!(
        app.send(get_request("/ui", Some(&cookie))).await.status,
        StatusCode::SEE_OTHER,
        "re-enabling does not revive old sessions"
    );
    app.password_sign_in("dana", "another passphrase")
        .await
        .expect(StatusCode::SEE_OTHER);
    // A sign-in posted from another site is refused (login CSRF).
    let mut cross = form_request("/ui/signin", None, "name=dana&password=another+passphrase");
    cross
        .headers_mut()
        .insert("sec-fetch-site", "cross-site".parse().expect("header"));
    let refused = app.send(cross).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.header("set-cookie").is_none());
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
    let page = app.incident_page(&browser).await;
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

    let page = app.incident_page(&browser).await;
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
    let page = app.incident_page(&browser).await;
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
    let page = app.incident_page(&browser).await;
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
    assert!(html(&page).contains("<script src=\"/ui/live.js\"></script>"));
    let script = app
        .ui_get("/ui/live.js", &browser)
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        script.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert!(html(&script).contains("new EventSource("));
    // No inline script may run: the policy allows scripts from this origin only.
    let policy = page.header("content-security-policy").unwrap_or("");
    assert!(
        policy.contains("script-src 'self';")
            && !policy.contains("script-src 'self' 'unsafe-inline'"),
        "{policy}"
    );
    assert!(html(&page).contains("id=\"live\""));
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
    let page = app.incident_page(&browser).await;
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
    let page = app.incident_page(&browser).await;
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

async fn the_oncall_page_gives_feed_urls_and_no_contact_addresses(db: &TestDatabase) {
    let app = App::new(db).await;
    app.import_roster().await;
    let addresses: Vec<String> = crate::support::roster_fixture()
        .people
        .values()
        .flat_map(|p| p.contacts.iter().map(|c| c.address.clone()))
        .collect();
    for token in [&app.viewer, &app.alice] {
        let browser = app.sign_in(token).await;
        let page = app
            .ui_get("/ui/oncall", &browser)
            .await
            .expect(StatusCode::OK);
        let page = html(&page);
        assert!(page.contains("Calendar feeds"), "{page}");
        for address in &addresses {
            assert!(!page.contains(address.as_str()), "{address} on {page}");
        }
        // Each schedule's feed URL carries its own secret and opens that feed alone.
        let at = page
            .find("/api/v1/schedules/sre-primary/calendar.ics?token=flc_")
            .expect("the primary schedule's feed URL");
        let url = &page[at..at + page[at..].find('"').expect("end of the URL")];
        let feed = app.call(Method::GET, url, None, None).await;
        assert_eq!(feed.status, StatusCode::OK, "{url}");
        assert!(feed
            .body
            .as_str()
            .is_some_and(|t| t.contains("BEGIN:VCALENDAR")));
        // The roster editor, which shows addresses, is for admins only.
        let editor = app
            .ui_get("/ui/admin/roster/people/bob", &browser)
            .await
            .expect(StatusCode::FORBIDDEN);
        assert!(!html(&editor).contains("bob@example.com"));
    }
    // Alice's session (her token's name is a person id) also gets her own feed.
    let alice = app.sign_in(&app.alice).await;
    let page = app
        .ui_get("/ui/oncall", &alice)
        .await
        .expect(StatusCode::OK);
    assert!(
        html(&page).contains("/api/v1/people/alice/calendar.ics?token=flc_"),
        "{}",
        html(&page)
    );
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
    // The policy file in force, read-only.
    let source = text
        .split("<pre class=\"source\">")
        .nth(1)
        .and_then(|r| r.split("</pre>").next())
        .expect("the policy's source");
    assert!(source.contains("[severities."), "{source}");
    assert!(!text.contains(&secret) && !text.contains(&key));
    assert!(!text.contains("fl_"), "no token secret on the page: {text}");
}

/// Posts a form with the session's CSRF token and expects a redirect back.
async fn submit(app: &App, browser: &Browser, path: &str, fields: &[(&str, &str)]) -> Reply {
    let mut all = vec![("csrf", browser.csrf.as_str())];
    all.extend_from_slice(fields);
    app.ui_post(path, browser, &all).await
}

async fn every_incident_action_has_a_form(db: &TestDatabase) {
    let app = App::new(db).await;
    app.declare("Agent down", "SEV3", "agents").await;
    let browser = app.sign_in(&app.alice).await;
    let page = app.incident_page(&browser).await;
    for action in ["severity", "roles", "escalate", "runbook", "updates"] {
        assert!(
            html(&page).contains(&format!("action=\"/ui/incidents/INC-1/{action}\"")),
            "no {action} form"
        );
    }
    assert!(html(&page).contains("Clocks"), "{}", html(&page));
    assert!(
        html(&page).contains("Acknowledge: "),
        "the acknowledge clock is shown"
    );

    submit(
        &app,
        &browser,
        "/ui/incidents/INC-1/severity",
        &[("severity", "SEV1"), ("reason", "all regions")],
    )
    .await
    .expect(StatusCode::SEE_OTHER);
    submit(
        &app,
        &browser,
        "/ui/incidents/INC-1/roles",
        &[("role", "commander"), ("assignee", "bob")],
    )
    .await
    .expect(StatusCode::SEE_OTHER);
    submit(
        &app,
        &browser,
        "/ui/incidents/INC-1/escalate",
        &[("level", "2")],
    )
    .await
    .expect(StatusCode::SEE_OTHER);
    submit(
        &app,
        &browser,
        "/ui/incidents/INC-1/runbook",
        &[("runbook", "agent-down")],
    )
    .await
    .expect(StatusCode::SEE_OTHER);
    // Refusals name the field and change nothing.
    let unknown = submit(
        &app,
        &browser,
        "/ui/incidents/INC-1/runbook",
        &[("runbook", "nope")],
    )
    .await;
    assert!(unknown.status.is_client_error(), "{}", unknown.status);
    let bad_level = submit(
        &app,
        &browser,
        "/ui/incidents/INC-1/escalate",
        &[("level", "x")],
    )
    .await
    .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&bad_level).contains("level"), "{}", html(&bad_level));

    let detail = app.incident("INC-1").await;
    assert_eq!(detail["incident"]["severity"], "SEV1");
    assert_eq!(detail["incident"]["roles"]["commander"], "bob");
    let kinds = kinds(&detail);
    for kind in [
        "severity_changed",
        "role_assigned",
        "escalated",
        "runbook_attached",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "no {kind} in {kinds:?}");
    }
    let page = app.incident_page(&browser).await;
    assert!(html(&page).contains("commander: bob"));
    assert!(
        !html(&page).contains("action=\"/ui/incidents/INC-1/runbook\""),
        "one runbook at a time"
    );

    submit(&app, &browser, "/ui/incidents/INC-1/resolve", &[])
        .await
        .expect(StatusCode::SEE_OTHER);
    let page = app.incident_page(&browser).await;
    assert!(html(&page).contains("action=\"/ui/incidents/INC-1/reopen\""));
    submit(
        &app,
        &browser,
        "/ui/incidents/INC-1/reopen",
        &[("reason", "came back")],
    )
    .await
    .expect(StatusCode::SEE_OTHER);
    assert_eq!(
        app.incident("INC-1").await["incident"]["status"],
        "investigating"
    );
}

async fn an_update_is_previewed_as_it_will_be_posted(db: &TestDatabase) {
    let app = App::new(db).await;
    app.declare("Checkout 5xx", "SEV2", "checkout").await;
    let browser = app.sign_in(&app.alice).await;
    let before = kinds(&app.incident("INC-1").await);
    let preview = submit(
        &app,
        &browser,
        "/ui/incidents/INC-1/updates",
        &[
            ("channel", "status_page"),
            ("template", "status_page_update"),
            ("text", "We expect a fix in 20 minutes."),
            ("intent", "preview"),
        ],
    )
    .await
    .expect(StatusCode::OK);
    let shown = html(&preview);
    assert!(shown.contains("aria-label=\"Preview\""), "{shown}");
    assert!(shown.contains("We expect a fix in 20 minutes."));
    assert!(
        shown.contains("Warning: "),
        "a public ETA is warned about: {shown}"
    );
    assert!(
        shown.contains("Checkout 5xx"),
        "the template rendered the incident"
    );
    assert_eq!(
        kinds(&app.incident("INC-1").await),
        before,
        "a preview posts nothing"
    );
    let rendered = shown
        .split("<pre>")
        .nth(1)
        .and_then(|r| r.split("</pre>").next())
        .expect("the previewed text")
        .to_owned();

    submit(
        &app,
        &browser,
        "/ui/incidents/INC-1/updates",
        &[
            ("channel", "status_page"),
            ("template", "status_page_update"),
            ("text", "We expect a fix in 20 minutes."),
            ("intent", "post"),
        ],
    )
    .await
    .expect(StatusCode::SEE_OTHER);
    let detail = app.incident("INC-1").await;
    let posted = detail["timeline"]
        .as_array()
        .and_then(|t| t.last())
        .and_then(|e| e["data"]["text"].as_str())
        .expect("the posted text")
        .to_owned();
    // The page escapes what it shows; the posted text is the previewed one.
    assert_eq!(
        rendered
            .replace("&#39;", "'")
            .replace("&quot;", "\"")
            .replace("&amp;", "&"),
        posted
    );
    let bad = submit(
        &app,
        &browser,
        "/ui/incidents/INC-1/updates",
        &[("channel", "pigeon"), ("text", "x"), ("intent", "post")],
    )
    .await
    .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&bad).contains("channel"));
}

async fn the_postmortem_is_drafted_edited_and_staged_from_the_ui(db: &TestDatabase) {
    let app = App::new(db).await;
    app.declare("Disk full", "SEV2", "db").await;
    let browser = app.sign_in(&app.alice).await;
    submit(
        &app,
        &browser,
        "/ui/incidents/INC-1/resolve",
        &[("summary", "grew the disk")],
    )
    .await
    .expect(StatusCode::SEE_OTHER);
    let page = app.incident_page(&browser).await;
    assert!(html(&page).contains("Draft post-mortem"));
    let drafted = submit(&app, &browser, "/ui/incidents/INC-1/postmortem", &[])
        .await
        .expect(StatusCode::SEE_OTHER);
    assert_eq!(
        drafted.header("location"),
        Some("/ui/incidents/INC-1/postmortem")
    );
    let page = app
        .ui_get("/ui/incidents/INC-1/postmortem", &browser)
        .await
        .expect(StatusCode::OK);
    assert!(html(&page).contains("<article class=\"document\">"));
    assert!(html(&page).contains("Disk full"));
    assert!(html(&page).contains("name=\"version\" value=\"1\""));

    submit(
        &app,
        &browser,
        "/ui/incidents/INC-1/postmortem/text",
        &[
            ("version", "1"),
            ("text", "# Disk full\n\nRoot cause: logs <b>grew</b>."),
        ],
    )
    .await
    .expect(StatusCode::SEE_OTHER);
    // A save over an old version is refused with the typed text kept.
    let stale = submit(
        &app,
        &browser,
        "/ui/incidents/INC-1/postmortem/text",
        &[("version", "1"), ("text", "my lost edit")],
    )
    .await
    .expect(StatusCode::CONFLICT);
    assert!(html(&stale).contains("my lost edit"));
    assert!(html(&stale).contains("role=\"alert\""));
    let page = app
        .ui_get("/ui/incidents/INC-1/postmortem", &browser)
        .await
        .expect(StatusCode::OK);
    assert!(
        html(&page).contains("logs &lt;b&gt;grew&lt;/b&gt;"),
        "escaped: {}",
        html(&page)
    );

    submit(
        &app,
        &browser,
        "/ui/incidents/INC-1/postmortem/stages",
        &[("stage", "draft")],
    )
    .await
    .expect(StatusCode::SEE_OTHER);
    let pm = app
        .get("/api/v1/incidents/INC-1/postmortem", &app.viewer)
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(pm["version"], 2);
    assert!(pm["stages"][0]["completed_at"].is_string(), "{pm}");
    // The incident page links to it.
    let page = app.incident_page(&browser).await;
    assert!(html(&page).contains("href=\"/ui/incidents/INC-1/postmortem\""));
}

async fn mine_keeps_the_incidents_i_am_on(db: &TestDatabase) {
    let app = App::new(db).await;
    app.declare("Disk full", "SEV2", "db").await;
    app.declare("Checkout 5xx", "SEV2", "checkout").await;
    app.declare("Cert expiry", "SEV3", "edge").await;
    let browser = app.sign_in(&app.alice).await;
    submit(&app, &browser, "/ui/incidents/INC-1/acknowledge", &[])
        .await
        .expect(StatusCode::SEE_OTHER);
    submit(
        &app,
        &browser,
        "/ui/incidents/INC-3/roles",
        &[("role", "commander"), ("assignee", "alice")],
    )
    .await
    .expect(StatusCode::SEE_OTHER);
    let list = app
        .ui_get("/ui/incidents?mine=1", &browser)
        .await
        .expect(StatusCode::OK);
    let shown = html(&list);
    assert!(
        shown.contains("Disk full") && shown.contains("Cert expiry"),
        "{shown}"
    );
    assert!(!shown.contains("Checkout 5xx"), "not alice's: {shown}");
    assert!(shown.contains("name=\"mine\" value=\"1\" checked"));
    let all = app
        .ui_get("/ui/incidents", &browser)
        .await
        .expect(StatusCode::OK);
    assert!(html(&all).contains("Checkout 5xx"));
    // Empty selects ("any") are accepted, as a browser sends them.
    app.ui_get(
        "/ui/incidents?status=open&severity=&service=&mine=1",
        &browser,
    )
    .await
    .expect(StatusCode::OK);
}

/// Regression: "mine" counted only the severity's page, not an escalation that reached
/// the signed-in person (docs/ui.md: "was paged or escalated to").
async fn mine_includes_incidents_i_was_escalated_to(db: &TestDatabase) {
    let app = App::new(db).await;
    // Level 2 reaches alice in person; the page at declaration (schedule:primary) reaches
    // nobody in the fixture roster, so only the escalation can make an incident hers.
    let policy = fireline_core::policy::BUILTIN.replace(
        "targets = [\"team:engineering-leads\"]",
        "targets = [\"person:alice\"]",
    );
    assert_ne!(
        policy,
        fireline_core::policy::BUILTIN,
        "the level was rewritten"
    );
    app.policy.replace(
        fireline_core::policy::Policy::from_toml(&policy).expect("the edited policy reads"),
    );
    app.import_roster().await;
    app.declare("Disk full", "SEV2", "db").await;
    app.declare("Checkout 5xx", "SEV2", "checkout").await;
    // Someone else escalates, so alice is neither the actor nor the acknowledger.
    app.post(
        "/api/v1/incidents/INC-1/escalate",
        &app.admin,
        serde_json::json!({"level": 2}),
    )
    .await
    .expect(StatusCode::OK);
    let detail = app.incident("INC-1").await;
    let escalated = detail["timeline"]
        .as_array()
        .and_then(|t| t.iter().find(|e| e["kind"] == "escalated"))
        .unwrap_or_else(|| panic!("escalated: {detail}"));
    assert_eq!(
        escalated["data"]["recipients"][0]["person"], "alice",
        "{escalated}"
    );

    let browser = app.sign_in(&app.alice).await;
    let list = app
        .ui_get("/ui/incidents?mine=1", &browser)
        .await
        .expect(StatusCode::OK);
    let shown = html(&list);
    assert!(shown.contains("Disk full"), "escalated to alice: {shown}");
    assert!(!shown.contains("Checkout 5xx"), "not alice's: {shown}");
}

async fn the_incident_feed_says_when_it_changes(db: &TestDatabase) {
    use http_body_util::BodyExt;
    let app = App::new(db).await;
    app.declare("Disk full", "SEV2", "db").await;
    let browser = app.sign_in(&app.alice).await;
    let page = app.incident_page(&browser).await;
    assert!(html(&page).contains("data-events=\"/ui/events?incident=INC-1\""));
    assert!(html(&page).contains("id=\"timeline\" data-live"));
    let response = app
        .router
        .clone()
        .oneshot(get_request(
            "/ui/events?incident=INC-1",
            Some(&browser.cookie),
        ))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    // Someone else acts; the open stream says so (bounded wait: the feed polls each second).
    app.post(
        "/api/v1/incidents/INC-1/notes",
        &app.alice,
        serde_json::json!({"text": "x"}),
    )
    .await
    .expect(StatusCode::OK);
    let mut seen = String::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !seen.contains("event: changed") {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let frame = tokio::time::timeout(left, body.frame())
            .await
            .expect("a changed event within 10 s")
            .expect("the stream goes on")
            .expect("a frame");
        if let Ok(data) = frame.into_data() {
            seen.push_str(&String::from_utf8_lossy(&data));
        }
    }
    let unknown = app.ui_get("/ui/events?incident=nope", &browser).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
}

async fn repeated_wrong_passwords_lock_the_name_out_for_a_while(db: &TestDatabase) {
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
    for _ in 0..fireline_http::users::THROTTLE_FAILURES {
        assert_eq!(
            app.password_sign_in("dana", "a wrong guess").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    // Now even the right password waits, and says why.
    let locked = app
        .password_sign_in("dana", "a long passphrase")
        .await
        .expect(StatusCode::TOO_MANY_REQUESTS);
    assert!(
        html(&locked).contains("too many failed sign-ins"),
        "{}",
        html(&locked)
    );
    assert!(locked.header("set-cookie").is_none());
    // Unknown names are counted alike (no hint which names exist).
    for _ in 0..fireline_http::users::THROTTLE_FAILURES {
        app.password_sign_in("nobody", "a wrong guess").await;
    }
    assert_eq!(
        app.password_sign_in("nobody", "a wrong guess").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // The window passes (the test clock): the right password works again.
    app.advance(6);
    app.password_sign_in("dana", "a long passphrase")
        .await
        .expect(StatusCode::SEE_OTHER);
}

/// Regression: the timeline showed ISO timestamps with microseconds, internal keys and
/// JSON. It is now worded by the core's describer, with times to the minute in the
/// reader's zone (a roster person's own; alice is in Europe/Berlin).
async fn the_timeline_is_worded_for_people_in_the_readers_zone(db: &TestDatabase) {
    let app = App::new(db).await;
    app.import_roster().await;
    app.declare("Disk full", "SEV2", "db").await;
    app.post(
        "/api/v1/incidents/INC-1/notes",
        &app.alice,
        serde_json::json!({"text": "rotated the logs\nthen restarted"}),
    )
    .await
    .expect(StatusCode::OK);
    fireline_http::users::create_user(
        app.store.as_ref(),
        "alice",
        fireline_core::AccessRole::Responder,
        "a long passphrase",
        start(),
    )
    .await
    .expect("create alice");
    let reply = app
        .password_sign_in("alice", "a long passphrase")
        .await
        .expect(StatusCode::SEE_OTHER);
    let cookie = session_cookie(&reply);
    let page = app
        .send(get_request("/ui/incidents/INC-1", Some(&cookie)))
        .await
        .expect(StatusCode::OK);
    let text = html(&page);
    let timeline = &text[text.find("<h2>Timeline</h2>").expect("a timeline")..];
    assert!(
        timeline.contains("declared SEV2 on db: Disk full"),
        "{timeline}"
    );
    assert!(
        timeline.contains("rotated the logs\nthen restarted"),
        "{timeline}"
    );
    // 1_800_000_000 is 2027-01-15 08:00 UTC: 09:00 in Berlin.
    assert!(timeline.contains(">2027-01-15 09:00</time>"), "{timeline}");
    for raw in ["{&quot;", "[{", "default@", ".000000", "T08:00:00Z<"] {
        assert!(!timeline.contains(raw), "raw `{raw}` in {timeline}");
    }
}
