//! Status page subscribers as a visitor, a subscriber and an admin see them: the form,
//! double opt-in (only a POST confirms), one row per address with the same answer either
//! way, limits per client, bad input, the component filter, one-click unsubscribe, the
//! admin list, and addresses that no public page shows.

use crate::support::{at, App, Reply};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request, StatusCode};
use fireline_engine::subscribers::SubscriberLinks;
use fireline_store::testing::TestDatabase;
use fireline_store::{backend_tests, OutboxItem};
use serde_json::{json, Value};
use std::net::SocketAddr;

backend_tests!(
    subscribing_asks_for_confirmation_and_only_a_post_confirms,
    subscribing_an_address_twice_answers_the_same_and_keeps_one_row,
    too_many_subscribe_requests_from_one_client_answer_429_with_retry_after,
    bad_input_shows_the_form_again_or_the_api_error,
    a_public_update_is_queued_for_confirmed_subscribers_of_its_service_only,
    one_click_unsubscribe_ends_the_subscription,
    only_admins_list_and_remove_subscribers,
    the_public_pages_never_show_subscribers,
);

/// A POST from client `ip` with a form body (and `Accept`, if given).
async fn form_from(app: &App, ip: [u8; 4], path: &str, body: &str, accept: Option<&str>) -> Reply {
    let mut builder = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(accept) = accept {
        builder = builder.header(header::ACCEPT, accept);
    }
    let mut request = builder
        .body(Body::from(body.to_owned()))
        .expect("a valid request");
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((ip, 40000))));
    app.send(request).await
}

async fn form(app: &App, path: &str, body: &str) -> Reply {
    form_from(app, [198, 51, 100, 7], path, body, None).await
}

fn html(reply: &Reply) -> &str {
    reply.body.as_str().unwrap_or_default()
}

/// Outbox messages not seen by an earlier call (they are claimed for good).
async fn new_messages(app: &App) -> Vec<OutboxItem> {
    app.store
        .claim_outbox(at(100_000), "test", at(200_000), 1000)
        .await
        .expect("claim")
}

/// The confirm link's path in a confirmation message.
fn confirm_path(item: &OutboxItem) -> String {
    let text = item.notice.text.as_deref().unwrap_or_default();
    let url = text
        .split_whitespace()
        .find(|w| w.contains("/status/confirm/"))
        .unwrap_or_else(|| panic!("a confirm link in {text}"));
    url[url.find("/status/").expect("path")..].to_owned()
}

/// Subscribes `body` and confirms through the link mailed; returns the subscriber id.
async fn subscribed(app: &App, body: &str) -> String {
    form(app, "/status/subscribe", body)
        .await
        .expect(StatusCode::OK);
    let mails = new_messages(app).await;
    let [mail] = mails.as_slice() else {
        panic!("one confirmation: {mails:?}");
    };
    form(app, &confirm_path(mail), "")
        .await
        .expect(StatusCode::OK);
    mail.person
        .strip_prefix("subscriber:")
        .expect("a subscriber")
        .to_owned()
}

async fn listed(app: &App) -> Vec<Value> {
    app.get("/api/v1/status/subscribers", &app.admin)
        .await
        .expect(StatusCode::OK)
        .body["subscribers"]
        .as_array()
        .expect("a list")
        .clone()
}

async fn subscribing_asks_for_confirmation_and_only_a_post_confirms(db: &TestDatabase) {
    let app = App::new(db).await;
    let reply = form(&app, "/status/subscribe", "email=Ann%40Example.com")
        .await
        .expect(StatusCode::OK);
    assert!(
        html(&reply).contains("Check your inbox"),
        "{}",
        html(&reply)
    );
    assert!(reply.header("content-security-policy").is_some());
    let mails = new_messages(&app).await;
    let [mail] = mails.as_slice() else {
        panic!("one confirmation: {mails:?}");
    };
    assert_eq!(mail.contact.address, "ann@example.com");
    assert_eq!(mail.incident, None);
    let link = confirm_path(mail);
    // Opening the link (a person, or a mail scanner) confirms nothing.
    let page = app
        .call(Method::GET, &link, None, None)
        .await
        .expect(StatusCode::OK);
    assert!(
        html(&page).contains("<form method=\"post\">"),
        "{}",
        html(&page)
    );
    assert!(listed(&app).await[0]["confirmed_at"].is_null());
    app.advance(1);
    let done = form(&app, &link, "").await.expect(StatusCode::OK);
    assert!(
        html(&done).contains("You will receive status updates"),
        "{}",
        html(&done)
    );
    assert_eq!(
        listed(&app).await[0]["confirmed_at"],
        "2027-01-15T08:01:00Z"
    );
    // A forged link finds nothing.
    let last = if link.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", &link[..link.len() - 1]);
    form(&app, &forged, "").await.expect(StatusCode::NOT_FOUND);
}

async fn subscribing_an_address_twice_answers_the_same_and_keeps_one_row(db: &TestDatabase) {
    let app = App::new(db).await;
    let first = form(&app, "/status/subscribe", "email=ann%40example.com")
        .await
        .expect(StatusCode::OK);
    let again = form(&app, "/status/subscribe", "email=ann%40example.com")
        .await
        .expect(StatusCode::OK);
    assert_eq!(first.body, again.body, "the same answer either way");
    assert_eq!(
        new_messages(&app).await.len(),
        1,
        "one mail per ten minutes"
    );
    assert_eq!(listed(&app).await.len(), 1);
    // Confirmed, then asked for again: the same answer, still one row, and the mail
    // says it is subscribed already (no confirm link to a stranger's subscription).
    let id = listed(&app).await[0]["id"].as_str().expect("id").to_owned();
    app.store
        .confirm_subscriber(&id, at(0))
        .await
        .expect("confirm");
    app.advance(11);
    let later = form(&app, "/status/subscribe", "email=ann%40example.com")
        .await
        .expect(StatusCode::OK);
    assert_eq!(later.body, first.body);
    let mails = new_messages(&app).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(
        mails[0].notice.headline,
        "You are already subscribed to status updates"
    );
    let list = listed(&app).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["confirmed_at"], "2027-01-15T08:00:00Z");
}

async fn too_many_subscribe_requests_from_one_client_answer_429_with_retry_after(
    db: &TestDatabase,
) {
    let app = App::new(db).await;
    let ip = [203, 0, 113, 9];
    for n in 0..10 {
        form_from(
            &app,
            ip,
            "/status/subscribe",
            &format!("email=u{n}%40example.com"),
            None,
        )
        .await
        .expect(StatusCode::OK);
    }
    app.advance(15);
    let page = form_from(&app, ip, "/status/subscribe", "email=x%40example.com", None)
        .await
        .expect(StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(page.header("retry-after"), Some("2700"));
    assert!(
        html(&page).contains("Try again in 45 minutes"),
        "{}",
        html(&page)
    );
    form_from(
        &app,
        ip,
        "/status/subscribe",
        "email=x%40example.com",
        Some("application/json"),
    )
    .await
    .expect_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited", None);
    assert_eq!(listed(&app).await.len(), 10, "nothing stored when refused");
    // Another client is not held back; this one may come back after the hour.
    form_from(
        &app,
        [203, 0, 113, 10],
        "/status/subscribe",
        "email=y%40example.com",
        None,
    )
    .await
    .expect(StatusCode::OK);
    app.advance(45);
    form_from(&app, ip, "/status/subscribe", "email=x%40example.com", None)
        .await
        .expect(StatusCode::OK);
}

async fn bad_input_shows_the_form_again_or_the_api_error(db: &TestDatabase) {
    let app = App::new(db).await;
    app.declare("Checkout down", "SEV2", "checkout").await;
    let page = form(
        &app,
        "/status/subscribe",
        "email=%3Cscript%3E&component=checkout",
    )
    .await
    .expect(StatusCode::BAD_REQUEST);
    let text = html(&page);
    assert!(text.contains("Enter one plain e-mail address"), "{text}");
    assert!(text.contains("value=\"&lt;script&gt;\""), "{text}");
    assert!(!text.contains("<script>"), "{text}");
    assert!(
        text.contains("value=\"checkout\" checked"),
        "the ticked box stays ticked: {text}"
    );
    let json_form = |body: &'static str| {
        form_from(
            &app,
            [198, 51, 100, 8],
            "/status/subscribe",
            body,
            Some("application/json"),
        )
    };
    json_form("email=")
        .await
        .expect_error(StatusCode::BAD_REQUEST, "bad_request", Some("email"));
    json_form("email=a%40example.com&component=nope")
        .await
        .expect_error(StatusCode::BAD_REQUEST, "bad_request", Some("components"));
    json_form("email=a%40example.com&webhook_url=http%3A%2F%2F127.0.0.1%2Fhook")
        .await
        .expect_error(StatusCode::BAD_REQUEST, "bad_request", Some("webhook_url"));
    json_form("email=a%40example.com&webhook_url=ftp%3A%2F%2Fexample.com")
        .await
        .expect_error(StatusCode::BAD_REQUEST, "bad_request", Some("webhook_url"));
    app.call(
        Method::POST,
        "/status/subscribe",
        None,
        Some(json!({"email": "a@example.com", "extra": 1})),
    )
    .await
    .expect_error(StatusCode::BAD_REQUEST, "bad_request", Some("body"));
    assert!(listed(&app).await.is_empty());
    assert!(new_messages(&app).await.is_empty());
    // A JSON request that is fine is accepted as such.
    let ok = app
        .call(
            Method::POST,
            "/status/subscribe",
            None,
            Some(json!({"email": "a@example.com", "components": ["checkout"]})),
        )
        .await
        .expect(StatusCode::ACCEPTED);
    assert_eq!(ok.body["status"], "pending");
}

async fn a_public_update_is_queued_for_confirmed_subscribers_of_its_service_only(
    db: &TestDatabase,
) {
    let app = App::new(db).await;
    let checkout = app.declare("Checkout down", "SEV2", "checkout").await;
    app.declare("Search slow", "SEV3", "search").await;
    let all = subscribed(&app, "email=all%40example.com").await;
    let mine = subscribed(&app, "email=co%40example.com&component=checkout").await;
    subscribed(&app, "email=se%40example.com&component=search").await;
    form(&app, "/status/subscribe", "email=pending%40example.com")
        .await
        .expect(StatusCode::OK);
    new_messages(&app).await;
    let id = checkout["incident"]["id"].as_str().expect("id");
    app.post(
        &format!("/api/v1/incidents/{id}/updates"),
        &app.alice,
        json!({"channel": "internal", "text": "internal only"}),
    )
    .await
    .expect(StatusCode::OK);
    assert!(
        new_messages(&app).await.is_empty(),
        "internal updates are not public"
    );
    app.post(
        &format!("/api/v1/incidents/{id}/updates"),
        &app.alice,
        json!({"channel": "status_page", "text": "Card payments fail; we are on it."}),
    )
    .await
    .expect(StatusCode::OK);
    let mut people: Vec<String> = new_messages(&app)
        .await
        .into_iter()
        .map(|m| m.person)
        .collect();
    people.sort();
    let mut expected = vec![format!("subscriber:{all}"), format!("subscriber:{mine}")];
    expected.sort();
    assert_eq!(people, expected);
}

async fn one_click_unsubscribe_ends_the_subscription(db: &TestDatabase) {
    let app = App::new(db).await;
    let id = subscribed(&app, "email=ann%40example.com").await;
    let links = SubscriberLinks::open(app.store.as_ref(), "http://127.0.0.1:8080")
        .await
        .expect("links");
    let url = links.unsubscribe_url(&id);
    let path = &url[url.find("/status/").expect("path")..];
    let page = app
        .call(Method::GET, path, None, None)
        .await
        .expect(StatusCode::OK);
    assert!(
        html(&page).contains("Unsubscribe</button>"),
        "{}",
        html(&page)
    );
    assert_eq!(listed(&app).await.len(), 1, "GET unsubscribes nothing");
    // What a mail client sends for RFC 8058: no cookie, no CSRF token.
    let done = form(&app, path, "List-Unsubscribe=One-Click")
        .await
        .expect(StatusCode::OK);
    assert!(
        html(&done).contains("You are unsubscribed"),
        "{}",
        html(&done)
    );
    assert!(listed(&app).await.is_empty());
    form(&app, path, "List-Unsubscribe=One-Click")
        .await
        .expect(StatusCode::NOT_FOUND);
}

async fn only_admins_list_and_remove_subscribers(db: &TestDatabase) {
    let app = App::new(db).await;
    let id = subscribed(&app, "email=ann%40example.com").await;
    for token in [&app.viewer, &app.alice] {
        app.get("/api/v1/status/subscribers", token)
            .await
            .expect_error(StatusCode::FORBIDDEN, "forbidden", Some("authorization"));
        app.call(
            Method::DELETE,
            &format!("/api/v1/status/subscribers/{id}"),
            Some(token),
            None,
        )
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden", Some("authorization"));
    }
    app.call(Method::GET, "/api/v1/status/subscribers", None, None)
        .await
        .expect(StatusCode::UNAUTHORIZED);
    let list = listed(&app).await;
    assert_eq!(list[0]["address"], "ann@example.com");
    assert_eq!(list[0]["kind"], "email");
    assert_eq!(list[0]["components"], json!([]));
    let app = &app;
    let delete = |path: String| async move {
        app.call(Method::DELETE, &path, Some(&app.admin), None)
            .await
    };
    delete("/api/v1/status/subscribers/not-an-id".into())
        .await
        .expect_error(StatusCode::BAD_REQUEST, "bad_request", Some("id"));
    delete(format!("/api/v1/status/subscribers/{}", "0".repeat(32)))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found", None);
    delete(format!("/api/v1/status/subscribers/{id}"))
        .await
        .expect(StatusCode::NO_CONTENT);
    assert!(listed(app).await.is_empty());
}

async fn the_public_pages_never_show_subscribers(db: &TestDatabase) {
    let app = App::new(db).await;
    let checkout = app.declare("Checkout down", "SEV2", "checkout").await;
    let id = checkout["incident"]["id"].as_str().expect("id");
    subscribed(&app, "email=marker-7731%40example.com&component=checkout").await;
    subscribed(
        &app,
        "email=ops%40example.com&webhook_url=https%3A%2F%2Fhooks.example.com%2Fmarker-8842",
    )
    .await;
    app.post(
        &format!("/api/v1/incidents/{id}/updates"),
        &app.alice,
        json!({"channel": "status_page", "text": "Investigating."}),
    )
    .await
    .expect(StatusCode::OK);
    let page = app
        .call(Method::GET, "/status", None, None)
        .await
        .expect(StatusCode::OK);
    let text = html(&page);
    assert!(text.contains("action=\"/status/subscribe\""), "{text}");
    assert!(
        text.contains("name=\"component\" value=\"checkout\""),
        "{text}"
    );
    for path in ["/status", "/status.json", "/status/feed.atom"] {
        let reply = app
            .call(Method::GET, path, None, None)
            .await
            .expect(StatusCode::OK);
        let shown = reply.body.to_string();
        for secret in ["marker-7731", "marker-8842", "ops@example.com"] {
            assert!(!shown.contains(secret), "{path} shows {secret}: {shown}");
        }
    }
}
