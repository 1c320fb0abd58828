//! Devices as push contacts through the UI: a person signed in as themselves subscribes
//! a browser (JSON, with the session's CSRF token in a header) and sees it on their "On
//! call" page; bad subscriptions are refused naming the field, with nothing stored; the
//! owner (or an admin) removes a device; the installable app's files are public.

use crate::support::{start, App, Reply};
use crate::ui_admin::{
    browser, cookie_of, get, html, password_sign_in, post, token_browser, Browser,
};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use fireline_core::AccessRole;
use fireline_store::backend_tests;
use fireline_store::testing::TestDatabase;
use serde_json::{json, Value};

backend_tests!(
    a_person_subscribes_a_device_sees_it_and_removes_it,
    bad_subscriptions_are_refused_naming_the_field_and_nothing_is_stored,
    the_app_files_are_public_and_every_page_allows_them,
);

/// RFC 8291's example browser keys.
fn keys() -> Value {
    json!({
        "p256dh": "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
        "auth": "BTBZMqHH6r4Tts7J_aSIgg"
    })
}

const ENDPOINT: &str = "https://push.example.net/wpush/v2/secret-part";

/// Creates the user `name` and signs them in with their password.
async fn person(app: &App, name: &str, role: AccessRole) -> Browser {
    fireline_http::users::create_user(app.store.as_ref(), name, role, "a long passphrase", start())
        .await
        .expect("user");
    let signed_in = password_sign_in(app, name, "a long passphrase")
        .await
        .expect(StatusCode::SEE_OTHER);
    browser(app, cookie_of(&signed_in)).await
}

async fn subscribe(app: &App, browser: &Browser, csrf: Option<&str>, body: &str) -> Reply {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri("/ui/push/subscribe")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::COOKIE, &browser.cookie);
    if let Some(csrf) = csrf {
        request = request.header("X-Fireline-CSRF", csrf);
    }
    app.send(request.body(Body::from(body.to_owned())).expect("request"))
        .await
}

async fn remove(app: &App, browser: &Browser, id: &str) -> Reply {
    post(app, &format!("/ui/push/devices/{id}/remove"), browser, &[]).await
}

async fn a_person_subscribes_a_device_sees_it_and_removes_it(db: &TestDatabase) {
    let app = App::new(db).await;
    app.import_roster().await;
    let alice = person(&app, "alice", AccessRole::Responder).await;
    let page = get(&app, "/ui/oncall", &alice.cookie)
        .await
        .expect(StatusCode::OK);
    let page = html(&page);
    assert!(page.contains("No device gets your pages yet."), "{page}");
    assert!(page.contains("Get pages on this device"), "{page}");
    assert!(
        page.contains("<script src=\"/ui/push.js\" defer>"),
        "{page}"
    );

    let body = json!({
        "subscription": {"endpoint": ENDPOINT, "expirationTime": null, "keys": keys()},
        "label": "Chrome on Android"
    })
    .to_string();
    let added = subscribe(&app, &alice, Some(&alice.csrf), &body)
        .await
        .expect(StatusCode::CREATED);
    let id = added.body["id"].as_str().expect("an id").to_owned();
    assert_eq!(added.body["label"], "Chrome on Android");
    let devices = app.store.push_devices(Some("alice")).await.expect("read");
    assert_eq!(devices.len(), 1);
    // Subscribing the same browser again is the same device, not a second one.
    subscribe(&app, &alice, Some(&alice.csrf), &body)
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(app.store.push_devices(None).await.expect("read").len(), 1);

    let page = get(&app, "/ui/oncall", &alice.cookie)
        .await
        .expect(StatusCode::OK);
    let page = html(&page);
    assert!(page.contains("Chrome on Android, since"), "{page}");
    assert!(page.contains("gets your pages"), "{page}");
    assert!(
        !page.contains("secret-part"),
        "the endpoint is a secret: {page}"
    );
    assert!(
        page.contains(&format!("action=\"/ui/push/devices/{id}/remove\"")),
        "a Remove button for the device: {page}"
    );

    // Someone else may not remove it (an admin may); its owner does.
    let bob = person(&app, "bob", AccessRole::Responder).await;
    remove(&app, &bob, &id).await.expect(StatusCode::FORBIDDEN);
    assert!(app.store.push_devices(None).await.expect("read")[0]
        .removed
        .is_none());
    let removed = remove(&app, &alice, &id)
        .await
        .expect(StatusCode::SEE_OTHER);
    assert_eq!(
        removed.header("location"),
        Some("/ui/oncall?done=device-removed#my-contacts")
    );
    let page = get(&app, "/ui/oncall?done=device-removed", &alice.cookie)
        .await
        .expect(StatusCode::OK);
    let page = html(&page);
    assert!(
        page.contains("Device removed: it gets no more pages."),
        "{page}"
    );
    assert!(
        page.contains("stopped getting pages") && page.contains("removed by alice"),
        "{page}"
    );
}

async fn bad_subscriptions_are_refused_naming_the_field_and_nothing_is_stored(db: &TestDatabase) {
    let app = App::new(db).await;
    app.import_roster().await;
    let alice = person(&app, "alice", AccessRole::Responder).await;
    let with = |subscription: Value| json!({ "subscription": subscription }).to_string();
    // No CSRF token, or another session's: refused before anything is read.
    let good = with(json!({"endpoint": ENDPOINT, "keys": keys()}));
    subscribe(&app, &alice, None, &good)
        .await
        .expect(StatusCode::FORBIDDEN);
    subscribe(&app, &alice, Some("forged"), &good)
        .await
        .expect(StatusCode::FORBIDDEN);
    for (body, status, field) in [
        ("{not json".to_owned(), StatusCode::BAD_REQUEST, None),
        (
            json!({"subscription": {}, "colour": "red"}).to_string(),
            StatusCode::BAD_REQUEST,
            None,
        ),
        (
            with(json!({"endpoint": ENDPOINT})),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("subscription.keys.p256dh"),
        ),
        (
            with(
                json!({"endpoint": ENDPOINT, "keys": {"p256dh": "AAAA", "auth": "BTBZMqHH6r4Tts7J_aSIgg"}}),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("subscription.keys.p256dh"),
        ),
        (
            with(json!({"endpoint": "http://push.example.net/x", "keys": keys()})),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("subscription.endpoint"),
        ),
        (
            with(json!({"endpoint": "https://127.0.0.1/x", "keys": keys()})),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("subscription.endpoint"),
        ),
    ] {
        let reply = subscribe(&app, &alice, Some(&alice.csrf), &body).await;
        assert_eq!(reply.status, status, "{body}: {:?}", reply.body);
        if let Some(field) = field {
            assert_eq!(
                reply.body["error"]["field"], field,
                "{body}: {:?}",
                reply.body
            );
        }
    }
    // A session that is not the person's own (an API token), or a user the roster does
    // not know, has nobody to page.
    let token = token_browser(&app, &app.alice).await;
    let refused = subscribe(&app, &token, Some(&token.csrf), &good)
        .await
        .expect(StatusCode::CONFLICT);
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("not an API token")),
        "{:?}",
        refused.body
    );
    assert!(
        app.store.push_devices(None).await.expect("read").is_empty(),
        "nothing stored for any refused subscription"
    );
    // At most ten devices in use each; the same browser subscribing again always may.
    for n in 0..10 {
        let endpoint = format!("{ENDPOINT}-{n}");
        subscribe(
            &app,
            &alice,
            Some(&alice.csrf),
            &with(json!({"endpoint": endpoint, "keys": keys()})),
        )
        .await
        .expect(StatusCode::CREATED);
    }
    let eleventh = subscribe(&app, &alice, Some(&alice.csrf), &good)
        .await
        .expect(StatusCode::CONFLICT);
    assert!(
        eleventh.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("remove one")),
        "{:?}",
        eleventh.body
    );
    subscribe(
        &app,
        &alice,
        Some(&alice.csrf),
        &with(json!({"endpoint": format!("{ENDPOINT}-3"), "keys": keys()})),
    )
    .await
    .expect(StatusCode::CREATED);
    assert_eq!(app.store.push_devices(None).await.expect("read").len(), 10);
    let dana = person(&app, "dana", AccessRole::Responder).await;
    subscribe(&app, &dana, Some(&dana.csrf), &good)
        .await
        .expect(StatusCode::CONFLICT);
    assert!(
        app.store
            .push_devices(Some("dana"))
            .await
            .expect("read")
            .is_empty(),
        "nothing stored for a refused subscription"
    );
}

async fn the_app_files_are_public_and_every_page_allows_them(db: &TestDatabase) {
    let app = App::new(db).await;
    for (path, kind) in [
        ("/ui/manifest.webmanifest", "application/manifest+json"),
        ("/ui/sw.js", "text/javascript; charset=utf-8"),
        ("/ui/push.js", "text/javascript; charset=utf-8"),
        ("/ui/icon-192.png", "image/png"),
        ("/ui/icon-512.png", "image/png"),
    ] {
        let reply = app.call(Method::GET, path, None, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(reply.header("content-type"), Some(kind), "{path}");
    }
    let manifest = app
        .call(Method::GET, "/ui/manifest.webmanifest", None, None)
        .await;
    let manifest: Value = match &manifest.body {
        Value::String(text) => serde_json::from_str(text).expect("JSON"),
        other => other.clone(),
    };
    assert_eq!(manifest["start_url"], "/ui");
    assert_eq!(manifest["display"], "standalone");
    assert_eq!(manifest["icons"][1]["sizes"], "512x512");
    let alice = person(&app, "alice", AccessRole::Responder).await;
    let page = get(&app, "/ui/oncall", &alice.cookie).await;
    let policy = page.header("content-security-policy").expect("a CSP");
    for wanted in ["worker-src 'self'", "manifest-src 'self'", "img-src 'self'"] {
        assert!(policy.contains(wanted), "{policy}");
    }
    assert!(html(&page).contains("<link rel=\"manifest\" href=\"/ui/manifest.webmanifest\">"));
}
