//! The tokens API: create, use, list without secrets, revoke.

use crate::support::{at, ts, App};
use axum::http::{Method, StatusCode};
use fireline_core::hash_token;
use fireline_store::backend_tests;
use fireline_store::testing::TestDatabase;
use serde_json::json;

backend_tests!(token_lifecycle, refused_token_requests_create_nothing);

async fn token_lifecycle(db: &TestDatabase) {
    let app = App::new(db).await;
    app.advance(30);

    let created = app
        .post(
            "/api/v1/tokens",
            &app.admin,
            json!({"role": "viewer", "name": "dash"}),
        )
        .await
        .expect(StatusCode::CREATED)
        .body;
    let secret = created["token"].as_str().expect("token").to_owned();
    assert!(secret.starts_with("fl_"), "{secret}");
    assert!(secret.len() > 40, "a long secret: {secret}");
    let id = created["id"].as_str().expect("id").to_owned();
    assert!(id.starts_with("tok_"), "{id}");
    assert_eq!(created["name"], "dash");
    assert_eq!(created["role"], "viewer");
    assert_eq!(ts(&created["created_at"]), at(30));
    assert_eq!(created["revoked_at"], serde_json::Value::Null);

    // The token works, as what it was made.
    let me = app
        .get("/api/v1/whoami", &secret)
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(
        me,
        json!({"name": "dash", "role": "viewer", "token_id": id})
    );
    app.get("/api/v1/incidents", &secret)
        .await
        .expect(StatusCode::OK);
    app.post(
        "/api/v1/incidents",
        &secret,
        json!({"title": "t", "severity": "sev2", "service": "s"}),
    )
    .await
    .expect_error(StatusCode::FORBIDDEN, "forbidden", Some("authorization"));
    // The scheme is case-insensitive.
    let mut lower = crate::support::request(Method::GET, "/api/v1/whoami", None, None);
    lower.headers_mut().insert(
        axum::http::header::AUTHORIZATION,
        format!("bearer {secret}").parse().expect("header"),
    );
    app.send(lower).await.expect(StatusCode::OK);

    // Listed, without its secret or hash.
    let listed = app
        .get("/api/v1/tokens", &app.admin)
        .await
        .expect(StatusCode::OK);
    let tokens = listed.body["tokens"].as_array().expect("tokens");
    assert_eq!(
        tokens.len(),
        4,
        "three test tokens and dash: {}",
        listed.body
    );
    let dash = tokens
        .iter()
        .find(|t| t["id"] == id.as_str())
        .expect("dash is listed");
    assert_eq!(dash["name"], "dash");
    assert_eq!(dash["role"], "viewer");
    let text = listed.body.to_string();
    for secret in [&secret, &app.admin, &app.alice, &app.viewer] {
        assert!(
            !text.contains(secret.as_str()),
            "a secret is listed: {text}"
        );
        assert!(
            !text.contains(&hash_token(secret)),
            "a token hash is listed: {text}"
        );
        // Nor any recognisable part of one.
        assert!(!text.contains(&secret[3..19]), "part of a secret: {text}");
    }
    for token in tokens {
        let keys: Vec<&str> = token
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys.len(), 5, "{token}");
        for key in ["id", "name", "role", "created_at", "revoked_at"] {
            assert!(keys.contains(&key), "{token}");
        }
    }

    // Revoked: it stops working at once.
    app.advance(5);
    let revoked = app
        .call(
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            Some(&app.admin),
            None,
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(revoked["id"], id.as_str());
    assert_eq!(ts(&revoked["revoked_at"]), at(35));
    app.get("/api/v1/whoami", &secret).await.expect_error(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        Some("authorization"),
    );
    app.get("/api/v1/incidents", &secret).await.expect_error(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        Some("authorization"),
    );

    // Revoking again keeps the first time.
    app.advance(5);
    let again = app
        .call(
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            Some(&app.admin),
            None,
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(ts(&again["revoked_at"]), at(35));

    // Still listed, as revoked; the others are untouched and still work.
    let listed = app
        .get("/api/v1/tokens", &app.admin)
        .await
        .expect(StatusCode::OK)
        .body;
    let tokens = listed["tokens"].as_array().expect("tokens");
    assert_eq!(tokens.len(), 4);
    for token in tokens {
        if token["id"] == id.as_str() {
            assert_eq!(ts(&token["revoked_at"]), at(35));
        } else {
            assert!(token["revoked_at"].is_null(), "{token}");
        }
    }
    app.get("/api/v1/whoami", &app.viewer)
        .await
        .expect(StatusCode::OK);

    // A token without a name is named after its id.
    let unnamed = app
        .post("/api/v1/tokens", &app.admin, json!({"role": "Responder"}))
        .await
        .expect(StatusCode::CREATED)
        .body;
    assert_eq!(unnamed["name"], unnamed["id"]);
    assert_eq!(unnamed["role"], "responder");
    let secret = unnamed["token"].as_str().expect("token");
    let declared = app
        .post(
            "/api/v1/incidents",
            secret,
            json!({"title": "t", "severity": "sev2", "service": "s"}),
        )
        .await
        .expect(StatusCode::CREATED)
        .body;
    assert_eq!(declared["incident"]["declared_by"], unnamed["id"]);
}

async fn refused_token_requests_create_nothing(db: &TestDatabase) {
    let app = App::new(db).await;
    let count = || async { app.store.list_tokens().await.expect("tokens").len() };
    let before = count().await;

    app.post(
        "/api/v1/tokens",
        &app.admin,
        json!({"role": "root", "name": "x"}),
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("role"));
    app.post(
        "/api/v1/tokens",
        &app.admin,
        json!({"role": "viewer", "name": "  "}),
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("name"));
    app.post("/api/v1/tokens", &app.admin, json!({"name": "x"}))
        .await
        .expect_error(StatusCode::BAD_REQUEST, "bad_request", Some("role"));
    app.post(
        "/api/v1/tokens",
        &app.admin,
        json!({"role": "viewer", "secret": "fl_mine"}),
    )
    .await
    .expect_error(StatusCode::BAD_REQUEST, "bad_request", Some("secret"));
    assert_eq!(count().await, before, "no token was created");

    app.call(
        Method::DELETE,
        "/api/v1/tokens/tok_doesnotexist",
        Some(&app.admin),
        None,
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found", None);
    assert!(app
        .store
        .list_tokens()
        .await
        .expect("tokens")
        .iter()
        .all(|t| t.revoked_at.is_none()));
}
