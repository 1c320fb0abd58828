//! The application under test, driven in-process, and what every test needs to talk to it.

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use fireline_core::policy::Policy;
use fireline_core::AccessRole;
use fireline_engine::{LivePolicy, ManualClock};
use fireline_http::auth::issue_token;
use fireline_http::AppState;
use fireline_store::testing::TestDatabase;
use fireline_store::Store;
use http_body_util::BodyExt;
use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;

/// Where every test's clock starts.
pub fn start() -> Timestamp {
    Timestamp::from_second(1_800_000_000).expect("a valid timestamp")
}

/// `start()` plus `minutes`.
pub fn at(minutes: i64) -> Timestamp {
    start() + SignedDuration::from_mins(minutes)
}

/// Parses an RFC 3339 field of a response.
pub fn ts(value: &Value) -> Timestamp {
    value
        .as_str()
        .unwrap_or_else(|| panic!("expected an RFC 3339 string, got {value}"))
        .parse()
        .unwrap_or_else(|e| panic!("`{value}` is not RFC 3339: {e}"))
}

/// A router over a test database, a hand-moved clock, and one token per role.
pub struct App {
    pub router: Router,
    pub policy: LivePolicy,
    pub clock: Arc<ManualClock>,
    pub store: Arc<dyn Store>,
    /// The app's one command path (alert processors in tests fire through it).
    pub commands: fireline_engine::Commands,
    /// Admin token, principal `root-admin`.
    pub admin: String,
    /// Responder token, principal `alice`.
    pub alice: String,
    /// Viewer token, principal `victor`.
    pub viewer: String,
}

/// The roster of examples/oncall/agentic-flow.toml (copied into the fixtures, so tests
/// do not depend on files outside the crate).
pub fn roster_fixture() -> fireline_core::oncall::Roster {
    let text = include_str!("../fixtures/oncall/agentic-flow.toml");
    fireline_core::oncall::Roster::from_toml_str(text).expect("the fixture roster reads")
}

/// The fixture roster as the JSON body `PUT /api/v1/roster` takes.
pub fn roster_json() -> Value {
    serde_json::to_value(roster_fixture()).expect("the roster is JSON")
}

/// A response, its body read as JSON (`Null` when empty) or, for `text/*`, as a string.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: StatusCode) -> Reply {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        self
    }

    /// Asserts an error response: status, `error.code` and `error.field` (`None` = null).
    #[track_caller]
    pub fn expect_error(self, status: StatusCode, code: &str, field: Option<&str>) -> Reply {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        assert_eq!(self.body["error"]["code"], code, "body: {}", self.body);
        let expected_field = field.map_or(Value::Null, |f| Value::String(f.to_owned()));
        assert_eq!(
            self.body["error"]["field"], expected_field,
            "body: {}",
            self.body
        );
        assert!(
            self.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "an error says what is wrong: {}",
            self.body
        );
        self
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The runbooks every test app serves: copies of two shipped examples.
pub fn runbooks() -> fireline_engine::Runbooks {
    let books = [
        include_str!("fixtures/agent-down.md"),
        include_str!("fixtures/general-incident-response-checklist.md"),
    ]
    .into_iter()
    .map(|text| {
        let book = fireline_core::runbook::parse(text).expect("fixture runbook parses");
        (book.id.clone(), book)
    })
    .collect();
    Arc::new(books)
}

impl App {
    pub async fn new(db: &TestDatabase) -> App {
        App::build(db, None).await
    }

    /// An app whose `/metrics` needs `token`.
    pub async fn with_metrics_token(db: &TestDatabase, token: &str) -> App {
        App::build(db, Some(token.to_owned())).await
    }

    async fn build(db: &TestDatabase, metrics_token: Option<String>) -> App {
        let clock = Arc::new(ManualClock::new(start()));
        let policy = LivePolicy::new(Policy::builtin());
        let pager =
            fireline_engine::Pager::new(db.store.clone(), fireline_engine::paging::local_links());
        let state = AppState {
            store: db.store.clone(),
            clock: clock.clone(),
            policy: policy.clone(),
            commands: fireline_engine::Commands::new(
                db.store.clone(),
                policy.clone(),
                clock.clone(),
                pager.clone(),
            ),
            inbox: fireline_http::receivers::inbox::InboxWriter::start(
                db.store.clone(),
                Arc::new(tokio::sync::Notify::new()),
            ),
            pager,
            metrics_token,
            runbooks: runbooks(),
            signin_throttle: Arc::default(),
            outbound: fireline_notify::Allow::nothing(),
            twilio_auth_token: None,
            slack: None,
            web_push_key: Some(
                fireline_notify::webpush::VapidKey::generate()
                    .expect("a VAPID key")
                    .public_key(),
            ),
        };
        let store = db.store.clone();
        let token = |name: &'static str, role: AccessRole| {
            let store = store.clone();
            async move {
                issue_token(store.as_ref(), Some(name), role, start())
                    .await
                    .expect("issue a test token")
                    .0
            }
        };
        let commands = state.commands.clone();
        App {
            router: fireline_http::router(state),
            commands,
            policy,
            admin: token("root-admin", AccessRole::Admin).await,
            alice: token("alice", AccessRole::Responder).await,
            viewer: token("victor", AccessRole::Viewer).await,
            clock,
            store,
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, minutes: i64) {
        self.clock.advance(SignedDuration::from_mins(minutes));
    }

    /// Sends `request` through a clone of the router.
    pub async fn send(&self, request: Request<Body>) -> Reply {
        send(self.router.clone(), request).await
    }

    /// A request with an optional bearer token and an optional JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        self.send(request(method, path, token, body)).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    /// A POST with a raw body and the given Content-Type (none if `None`).
    pub async fn post_raw(
        &self,
        path: &str,
        token: &str,
        content_type: Option<&str>,
        body: impl Into<Body>,
    ) -> Reply {
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        if let Some(ct) = content_type {
            builder = builder.header(header::CONTENT_TYPE, ct);
        }
        self.send(builder.body(body.into()).expect("a valid request"))
            .await
    }

    /// Stores the fixture roster directly, as an import would.
    pub async fn import_roster(&self) {
        self.store
            .replace_roster(&roster_fixture(), start())
            .await
            .expect("store the roster");
    }

    /// Declares an incident as alice and returns the detail.
    pub async fn declare(&self, title: &str, severity: &str, service: &str) -> Value {
        self.post(
            "/api/v1/incidents",
            &self.alice,
            json!({"title": title, "severity": severity, "service": service}),
        )
        .await
        .expect(StatusCode::CREATED)
        .body
    }

    /// An incident's detail, which must exist.
    pub async fn incident(&self, id: &str) -> Value {
        self.get(&format!("/api/v1/incidents/{id}"), &self.viewer)
            .await
            .expect(StatusCode::OK)
            .body
    }

    /// How many incidents exist, open or resolved.
    pub async fn incident_count(&self) -> usize {
        self.get("/api/v1/incidents?status=all", &self.viewer)
            .await
            .expect(StatusCode::OK)
            .body["incidents"]
            .as_array()
            .expect("incidents is an array")
            .len()
    }

    /// The ids listed for `query`, in order.
    pub async fn listed(&self, query: &str) -> Vec<String> {
        ids(&self
            .get(&format!("/api/v1/incidents{query}"), &self.viewer)
            .await
            .expect(StatusCode::OK)
            .body)
    }
}

/// The `id`s of an incident list, in order.
pub fn ids(list: &Value) -> Vec<String> {
    list["incidents"]
        .as_array()
        .expect("incidents is an array")
        .iter()
        .map(|i| i["id"].as_str().expect("id is a string").to_owned())
        .collect()
}

/// The `kind`s of a detail's timeline, in order.
pub fn kinds(detail: &Value) -> Vec<String> {
    detail["timeline"]
        .as_array()
        .expect("timeline is an array")
        .iter()
        .map(|e| e["kind"].as_str().expect("kind is a string").to_owned())
        .collect()
}

/// A request with an optional bearer token and JSON body.
pub fn request(
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let body = match body {
        Some(json) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            Body::from(json.to_string())
        }
        None => Body::empty(),
    };
    builder.body(body).expect("a valid request")
}

/// Sends `request` through `router` and reads the whole response.
pub async fn send(router: Router, request: Request<Body>) -> Reply {
    let response = router
        .oneshot(request)
        .await
        .expect("the router's error type is Infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("read the response body")
        .to_bytes();
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|ct| ct.starts_with("application/json"));
    let body = if bytes.is_empty() {
        Value::Null
    } else if !json {
        // Exports (Markdown, HTML) come back as a string to inspect.
        Value::String(String::from_utf8_lossy(&bytes).into_owned())
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!(
                "{status}: body is not JSON ({e}): {}",
                String::from_utf8_lossy(&bytes)
            )
        })
    };
    Reply {
        status,
        headers,
        body,
    }
}
