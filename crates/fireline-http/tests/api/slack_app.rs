//! Acting from Slack: the `/fireline` slash command (`POST /hooks/slack/commands`) and
//! buttons on fireline's messages (`POST /hooks/slack/interactions`), both signed with
//! the app's signing secret. Each acts as the roster person whose `slack_user` clicked
//! or typed, through the one command path, or changes nothing.

use crate::support::{send, start, Reply};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use fireline_core::oncall::Roster;
use fireline_core::policy::Policy;
use fireline_core::AccessRole;
use fireline_engine::{Clock, LivePolicy, ManualClock};
use fireline_http::auth::issue_token;
use fireline_http::{AppState, SlackApp};
use fireline_notify::{
    slack_signature, Allow, Category, SlackResponder, SLACK_SIGNATURE_HEADER,
    SLACK_TIMESTAMP_HEADER,
};
use fireline_store::backend_tests;
use fireline_store::testing::TestDatabase;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

backend_tests!(
    a_slash_command_from_a_linked_member_acts_as_their_person_on_the_timeline,
    forged_stale_or_unsigned_requests_are_refused_and_change_nothing,
    a_member_not_in_the_roster_is_told_so_and_nothing_changes,
    a_malformed_command_says_how_to_write_it_and_changes_nothing,
    a_button_acknowledges_as_whoever_clicked_and_answers_them_alone,
    a_member_is_found_by_the_email_slack_shows_for_them,
    add_note_opens_a_form_whose_note_lands_on_the_timeline,
);

const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const ALICE: &str = "U0ALICE0001";

const ROSTER: &str = r#"
[people.alice]
name = "Alice Ng"
slack_user = "U0ALICE0001"
contacts = [{ kind = "email", address = "alice@example.com" }]

[people.carol]
name = "Carol Diaz"
contacts = [{ kind = "email", address = "Carol@Example.com" }]

[schedules.primary]
name = "SRE primary"
time_zone = "UTC"
[[schedules.primary.layers]]
name = "always"
participants = ["alice"]
shift = "1w"
start = "2026-01-05"
"#;

struct Slack {
    router: Router,
    clock: Arc<ManualClock>,
    pat: String,
    store: Arc<dyn fireline_store::Store>,
}

impl Slack {
    async fn new(db: &TestDatabase, configured: bool) -> Slack {
        Slack::build(db, configured, None).await
    }

    /// The app, finding members by e-mail in the Slack directory at `directory`.
    async fn build(db: &TestDatabase, configured: bool, directory: Option<&str>) -> Slack {
        let clock = Arc::new(ManualClock::new(start()));
        let policy = LivePolicy::new(Policy::builtin());
        let pager =
            fireline_engine::Pager::new(db.store.clone(), fireline_engine::paging::local_links());
        let loopback = Allow::nothing().with(Category::Loopback);
        let state = AppState {
            store: db.store.clone(),
            clock: clock.clone(),
            policy: policy.clone(),
            commands: fireline_engine::Commands::new(
                db.store.clone(),
                policy,
                clock.clone(),
                pager.clone(),
            ),
            inbox: fireline_http::receivers::inbox::InboxWriter::start(
                db.store.clone(),
                Arc::new(tokio::sync::Notify::new()),
            ),
            pager,
            metrics_token: None,
            runbooks: crate::support::runbooks(),
            signin_throttle: Arc::default(),
            outbound: loopback.clone(),
            twilio_auth_token: None,
            web_push_key: None,
            slack: configured.then(|| {
                let app = SlackApp::new(
                    SECRET,
                    SlackResponder::new(Duration::from_secs(5), loopback),
                );
                match directory {
                    Some(url) => app.with_web_api(fireline_notify::SlackWebApi::new(
                        url,
                        "xoxb-directory",
                        Duration::from_secs(5),
                    )),
                    None => app,
                }
            }),
        };
        let roster = Roster::from_toml_str(ROSTER).expect("the roster reads");
        assert!(roster.check().is_empty(), "{:?}", roster.check());
        db.store
            .replace_roster(&roster, start())
            .await
            .expect("store the roster");
        let (pat, _) = issue_token(
            db.store.as_ref(),
            Some("pat"),
            AccessRole::Responder,
            start(),
        )
        .await
        .expect("token");
        Slack {
            router: fireline_http::router(state),
            clock,
            pat,
            store: db.store.clone(),
        }
    }

    async fn api(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        send(
            self.router.clone(),
            crate::support::request(method, path, Some(&self.pat), body),
        )
        .await
    }

    async fn declare(&self, title: &str) {
        self.api(
            Method::POST,
            "/api/v1/incidents",
            Some(json!({"title": title, "severity": "SEV2", "service": "checkout"})),
        )
        .await
        .expect(StatusCode::CREATED);
    }

    async fn timeline(&self, id: &str) -> Vec<Value> {
        let detail = self
            .api(Method::GET, &format!("/api/v1/incidents/{id}"), None)
            .await
            .expect(StatusCode::OK)
            .body;
        detail["timeline"].as_array().cloned().unwrap_or_default()
    }

    /// POSTs `body` (a form) to `path`, signed as Slack signs: with `secret`, stamped
    /// `age` seconds ago (`None`: no signature headers at all).
    async fn post(&self, path: &str, body: &str, signed: Option<(&str, i64)>) -> Reply {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some((secret, age)) = signed {
            let timestamp = (self.clock.now().as_second() - age).to_string();
            request = request.header(SLACK_TIMESTAMP_HEADER, &timestamp).header(
                SLACK_SIGNATURE_HEADER,
                slack_signature(secret, &timestamp, body.as_bytes()),
            );
        }
        send(
            self.router.clone(),
            request.body(Body::from(body.to_owned())).expect("request"),
        )
        .await
    }

    /// `/fireline {text}` typed by Slack member `user`, signed with the right secret.
    async fn command(&self, user: &str, text: &str) -> Reply {
        self.post(
            "/hooks/slack/commands",
            &command_form(user, text),
            Some((SECRET, 0)),
        )
        .await
    }
}

/// The form Slack posts for a slash command (its documented fields).
fn command_form(user: &str, text: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("token", "gIkuvaNzQIHg97ATvDxqgjtO"),
            ("team_id", "T0001"),
            ("team_domain", "example"),
            ("channel_id", "C2147483705"),
            ("channel_name", "incidents"),
            ("user_id", user),
            ("user_name", "someone"),
            ("command", "/fireline"),
            ("text", text),
            ("api_app_id", "A123456"),
            ("response_url", "https://hooks.slack.com/commands/1234/5678"),
            ("trigger_id", "13345224609.738474920.8088930838d88f008e0"),
        ])
        .finish()
}

/// The answer's text and whether the channel sees it.
fn said(reply: &Reply) -> (String, bool) {
    let body = &reply.body;
    (
        body["text"].as_str().unwrap_or_default().to_owned(),
        body["response_type"] == "in_channel",
    )
}

async fn a_slash_command_from_a_linked_member_acts_as_their_person_on_the_timeline(
    db: &TestDatabase,
) {
    let slack = Slack::new(db, true).await;
    slack.declare("Checkout slow").await;

    let reply = slack
        .command(ALICE, "ack INC-1")
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        said(&reply),
        ("Alice Ng acknowledged INC-1.".to_owned(), true)
    );
    let reply = slack
        .command(ALICE, "update inc-1 Rolled back the 14:02 deploy.")
        .await
        .expect(StatusCode::OK);
    assert!(
        said(&reply).0.contains("Posted on internal for INC-1"),
        "{reply:?}"
    );
    slack
        .command(
            ALICE,
            "update INC-1 customer Checkout is slow for some customers.",
        )
        .await
        .expect(StatusCode::OK);
    let reply = slack
        .command(ALICE, "note INC-1 p99 back under 300 ms")
        .await
        .expect(StatusCode::OK);
    assert_eq!(said(&reply), ("Noted on INC-1.".to_owned(), false));

    let timeline = slack.timeline("INC-1").await;
    let by_alice: Vec<(&str, &str)> = timeline
        .iter()
        .filter(|e| e["actor"] == "alice")
        .map(|e| {
            (
                e["kind"].as_str().unwrap_or_default(),
                e["data"]["channel"]
                    .as_str()
                    .or(e["data"]["text"].as_str())
                    .unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        by_alice,
        [
            ("acknowledged", ""),
            ("update_posted", "internal"),
            ("update_posted", "customer"),
            ("note_added", "p99 back under 300 ms"),
        ],
        "{timeline:#?}"
    );

    let (status, public) = said(&slack.command(ALICE, "status INC-1").await);
    assert!(
        !public
            && status.contains("*INC-1* [SEV2] Checkout slow")
            && status.contains("acknowledged by alice"),
        "{status}"
    );
    let (list, _) = said(&slack.command(ALICE, "status").await);
    assert!(
        list.contains("*INC-1* [SEV2] Checkout slow — investigating"),
        "{list}"
    );
    let (oncall, _) = said(&slack.command(ALICE, "oncall").await);
    assert_eq!(oncall, "• SRE primary: Alice Ng");

    let reply = slack
        .command(ALICE, "declare SEV1 search Search returns nothing")
        .await
        .expect(StatusCode::OK);
    assert!(
        said(&reply)
            .0
            .starts_with("alice declared INC-2 [SEV1] Search returns nothing (search)"),
        "{reply:?}"
    );
    let reply = slack.command(ALICE, "resolve INC-1 rolled back").await;
    assert_eq!(said(&reply), ("Alice Ng resolved INC-1.".to_owned(), true));
    let reply = slack.command(ALICE, "escalate INC-2 nobody answers").await;
    assert_eq!(
        said(&reply),
        ("Alice Ng escalated INC-2 to level 1.".to_owned(), true)
    );
    let escalated = slack.timeline("INC-2").await;
    assert!(
        escalated.iter().any(|e| e["kind"] == "escalated"
            && e["actor"] == "alice"
            && e["data"]["reason"]
                .as_str()
                .is_some_and(|r| r.contains("nobody answers"))),
        "{escalated:#?}"
    );
    // Done already: the incident's own refusal, only to the one who asked.
    let (again, public) = said(&slack.command(ALICE, "ack INC-1").await);
    assert!(!public && again.starts_with("Not done: "), "{again}");
}

async fn forged_stale_or_unsigned_requests_are_refused_and_change_nothing(db: &TestDatabase) {
    let slack = Slack::new(db, true).await;
    slack.declare("Checkout slow").await;
    let body = command_form(ALICE, "ack INC-1");
    for signed in [
        None,
        Some(("another-secret", 0)),
        Some((SECRET, 301)),
        Some((SECRET, -301)),
    ] {
        let reply = slack.post("/hooks/slack/commands", &body, signed).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{signed:?}: {reply:?}");
    }
    // Signed, but a different body than the one sent.
    let timestamp = slack.clock.now().as_second().to_string();
    let request = Request::builder()
        .method(Method::POST)
        .uri("/hooks/slack/commands")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(SLACK_TIMESTAMP_HEADER, &timestamp)
        .header(
            SLACK_SIGNATURE_HEADER,
            slack_signature(SECRET, &timestamp, command_form(ALICE, "status").as_bytes()),
        )
        .body(Body::from(body.clone()))
        .expect("request");
    let reply = send(slack.router.clone(), request).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    // Interactions likewise.
    let click = interaction_form(
        ALICE,
        fireline_notify::SLACK_ACKNOWLEDGE,
        "INC-1",
        "http://127.0.0.1:9/",
    );
    let reply = slack
        .post(
            "/hooks/slack/interactions",
            &click,
            Some(("another-secret", 0)),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    // A server without a signing secret refuses even a well-signed request.
    let unconfigured = Slack::new(db, false).await;
    let reply = unconfigured.command(ALICE, "ack INC-1").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(
        !slack
            .timeline("INC-1")
            .await
            .iter()
            .any(|e| e["kind"] == "acknowledged"),
        "nothing changed"
    );
    let events = slack
        .store
        .events(fireline_core::IncidentId(1))
        .await
        .expect("events");
    assert_eq!(events.len(), 1, "only the declaration");
}

async fn a_member_not_in_the_roster_is_told_so_and_nothing_changes(db: &TestDatabase) {
    let slack = Slack::new(db, true).await;
    slack.declare("Checkout slow").await;
    for text in ["ack INC-1", "status", "resolve INC-1"] {
        let reply = slack
            .command("U0STRANGER1", text)
            .await
            .expect(StatusCode::OK);
        let (answer, public) = said(&reply);
        assert!(
            !public
                && answer.contains("not linked to anyone in fireline's roster")
                && answer.contains("slack_user = \"U0STRANGER1\""),
            "{answer}"
        );
    }
    let events = slack
        .store
        .events(fireline_core::IncidentId(1))
        .await
        .expect("events");
    assert_eq!(events.len(), 1, "only the declaration");
}

async fn a_malformed_command_says_how_to_write_it_and_changes_nothing(db: &TestDatabase) {
    let slack = Slack::new(db, true).await;
    slack.declare("Checkout slow").await;
    for (text, expect) in [
        ("", "*/fireline* commands:"),
        ("frobnicate INC-1", "I do not know `frobnicate`"),
        ("resolve", "say which incident"),
        ("note INC-x hello", "`INC-x` is not an incident"),
        ("note INC-1", "say what to note"),
        ("update INC-1 customer", "say what to post"),
        ("ack INC-99", "no incident INC-99"),
        ("declare SEV9 checkout Broken", "Not done: "),
        ("ack", "no open page of yours"),
    ] {
        let reply = slack.command(ALICE, text).await.expect(StatusCode::OK);
        let (answer, public) = said(&reply);
        assert!(!public && answer.contains(expect), "{text:?}: {answer}");
    }
    let events = slack
        .store
        .events(fireline_core::IncidentId(1))
        .await
        .expect("events");
    assert_eq!(events.len(), 1, "only the declaration");
}

/// The form Slack posts for a click (`payload`, its `block_actions` JSON).
fn interaction_form(user: &str, action: &str, value: &str, response_url: &str) -> String {
    let payload = json!({
        "type": "block_actions",
        "user": { "id": user, "username": "someone", "team_id": "T0001" },
        "api_app_id": "A123456",
        "token": "9s8d9as89d8as9d8as989",
        "container": { "type": "message", "message_ts": "1548261231.000200", "channel_id": "C2147483705" },
        "trigger_id": "12321423423.333649436676.d8c1bb837935619ccad0f624c448ffb3",
        "team": { "id": "T0001", "domain": "example" },
        "channel": { "id": "C2147483705", "name": "incidents" },
        "response_url": response_url,
        "actions": [{
            "action_id": action,
            "block_id": "b1",
            "text": { "type": "plain_text", "text": "Acknowledge" },
            "value": value,
            "type": "button",
            "action_ts": "1548426417.840180"
        }]
    });
    form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish()
}

/// A stand-in for Slack's `response_url`: records each JSON body posted to it.
fn response_url() -> (String, Arc<Mutex<Vec<Value>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!(
        "http://{}/actions/T0001/1/xyz",
        listener.local_addr().expect("addr")
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let bodies = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut length = 0usize;
            let mut line = String::new();
            let mut json = false;
            while reader.read_line(&mut line).is_ok() && line != "\r\n" && !line.is_empty() {
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                json |= lower.starts_with("content-type: application/json");
                line.clear();
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            assert!(json, "Slack takes the response as JSON");
            bodies
                .lock()
                .expect("lock")
                .push(serde_json::from_slice(&body).expect("JSON"));
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
        }
    });
    (url, seen)
}

/// Waits (bounded) until `n` answers reached the response URL.
async fn answers(seen: &Arc<Mutex<Vec<Value>>>, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        if seen.lock().expect("lock").len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    seen.lock().expect("lock").clone()
}

async fn a_button_acknowledges_as_whoever_clicked_and_answers_them_alone(db: &TestDatabase) {
    let slack = Slack::new(db, true).await;
    slack.declare("Checkout slow").await;
    let (url, seen) = response_url();
    let click = |user: &str, action: &str| interaction_form(user, action, "INC-1", &url);

    // Someone the roster does not know: told so, nothing done.
    slack
        .post(
            "/hooks/slack/interactions",
            &click("U0STRANGER1", fireline_notify::SLACK_ACKNOWLEDGE),
            Some((SECRET, 0)),
        )
        .await
        .expect(StatusCode::OK);
    let got = answers(&seen, 1).await;
    assert_eq!(got[0]["response_type"], "ephemeral");
    assert!(
        got[0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("not linked")),
        "{got:?}"
    );

    slack
        .post(
            "/hooks/slack/interactions",
            &click(ALICE, fireline_notify::SLACK_ACKNOWLEDGE),
            Some((SECRET, 0)),
        )
        .await
        .expect(StatusCode::OK);
    let got = answers(&seen, 2).await;
    assert_eq!(
        got[1],
        json!({"response_type": "ephemeral", "text": "You acknowledged INC-1."})
    );
    let timeline = slack.timeline("INC-1").await;
    assert!(
        timeline
            .iter()
            .any(|e| e["kind"] == "acknowledged" && e["actor"] == "alice"),
        "{timeline:#?}"
    );

    // A link button (Open) needs nothing from the server.
    slack
        .post(
            "/hooks/slack/interactions",
            &click(ALICE, "link-open"),
            Some((SECRET, 0)),
        )
        .await
        .expect(StatusCode::OK);
    slack
        .post(
            "/hooks/slack/interactions",
            &click(ALICE, fireline_notify::SLACK_RESOLVE),
            Some((SECRET, 0)),
        )
        .await
        .expect(StatusCode::OK);
    let got = answers(&seen, 3).await;
    assert_eq!(got.len(), 3, "the link button is not answered: {got:?}");
    assert_eq!(got[2]["text"], "You resolved INC-1.");
}

/// Slack's `users.info`, as documented: the member's profile with its e-mail address
/// for a bot token with `users:read.email`; `user_not_found` for anyone else.
fn directory() -> String {
    web_api().0
}

/// Slack's Web API as the app's bot token sees it: `users.info` (above) and
/// `views.open`, which records the views it was asked to open.
fn web_api() -> (String, Arc<Mutex<Vec<Value>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/api", listener.local_addr().expect("addr"));
    let views = Arc::new(Mutex::new(Vec::new()));
    let opened = views.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let (mut length, mut line, mut bearer, mut path) =
                (0usize, String::new(), false, String::new());
            while reader.read_line(&mut line).is_ok() && line != "\r\n" && !line.is_empty() {
                let lower = line.to_ascii_lowercase();
                if path.is_empty() {
                    path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
                }
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                bearer |= lower.trim() == "authorization: bearer xoxb-directory";
                line.clear();
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
            let user = form
                .iter()
                .find(|(k, _)| k == "user")
                .map(|(_, v)| v.as_str());
            if path == "/api/views.open" && bearer {
                let request: Value = serde_json::from_slice(&body).unwrap_or_default();
                let ok = request["trigger_id"]
                    .as_str()
                    .is_some_and(|t| !t.is_empty())
                    && request["view"]["type"] == "modal";
                opened.lock().expect("lock").push(request);
                let answer = if ok {
                    json!({"ok": true, "view": {"id": "VMHU10V25"}})
                } else {
                    json!({"ok": false, "error": "invalid_arguments"})
                }
                .to_string();
                let _ = stream.write_all(
                    format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                        answer.len()
                    )
                    .as_bytes(),
                );
                continue;
            }
            let answer = match (path.as_str(), bearer, user) {
                ("/api/users.info", true, Some("U0CAROL0001")) => json!({
                    "ok": true,
                    "user": {"id": "U0CAROL0001", "name": "carol", "profile": {"email": "carol@example.com", "real_name": "Carol Diaz"}}
                }),
                (_, false, _) => json!({"ok": false, "error": "not_authed"}),
                _ => json!({"ok": false, "error": "user_not_found"}),
            }
            .to_string();
            let _ = stream.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                    answer.len()
                )
                .as_bytes(),
            );
        }
    });
    (url, views)
}

async fn a_member_is_found_by_the_email_slack_shows_for_them(db: &TestDatabase) {
    let url = directory();
    let slack = Slack::build(db, true, Some(&url)).await;
    slack.declare("Checkout slow").await;
    let reply = slack
        .command("U0CAROL0001", "ack INC-1")
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        said(&reply),
        ("Carol Diaz acknowledged INC-1.".to_owned(), true)
    );
    assert!(
        slack
            .timeline("INC-1")
            .await
            .iter()
            .any(|e| e["kind"] == "acknowledged" && e["actor"] == "carol"),
        "as carol"
    );
    // Someone Slack knows no e-mail for, or who is in nobody's contacts: not linked.
    let (answer, _) = said(&slack.command("U0STRANGER1", "status").await);
    assert!(answer.contains("not linked"), "{answer}");
}

/// A view submission as Slack posts it: the form's callback, its metadata and what was
/// typed, by `user`.
fn note_submission(user: &str, incident: &str, text: &str) -> String {
    let payload = json!({
        "type": "view_submission",
        "team": {"id": "T0001", "domain": "example"},
        "user": {"id": user, "username": "someone", "team_id": "T0001"},
        "api_app_id": "A123456",
        "trigger_id": "12466734323.1395872398.b3a7d2f2c5f3c2f2d1b6c2e8a1d3f4b5",
        "view": {
            "id": "VMHU10V25",
            "type": "modal",
            "callback_id": "fireline-note",
            "private_metadata": incident,
            "state": {"values": {"note": {"text": {"type": "plain_text_input", "value": text}}}}
        }
    });
    form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish()
}

async fn add_note_opens_a_form_whose_note_lands_on_the_timeline(db: &TestDatabase) {
    let (url, views) = web_api();
    let slack = Slack::build(db, true, Some(&url)).await;
    slack.declare("Checkout slow").await;
    let (respond_to, seen) = response_url();
    let mut click: Value = serde_json::from_str(
        &form_urlencoded::parse(
            interaction_form(ALICE, fireline_notify::SLACK_NOTE, "INC-1", &respond_to).as_bytes(),
        )
        .next()
        .expect("payload")
        .1,
    )
    .expect("JSON");
    click["trigger_id"] = json!("13345224609.738474920.8088930838d88f008e0");
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &click.to_string())
        .finish();
    slack
        .post("/hooks/slack/interactions", &form, Some((SECRET, 0)))
        .await
        .expect(StatusCode::OK);
    let opened = views.lock().expect("lock").clone();
    assert_eq!(opened.len(), 1, "one form opened");
    assert_eq!(
        opened[0]["trigger_id"],
        "13345224609.738474920.8088930838d88f008e0"
    );
    assert_eq!(opened[0]["view"]["private_metadata"], "INC-1");

    // Sent empty: refused on the form. Sent by a stranger: refused, told why.
    let reply = slack
        .post(
            "/hooks/slack/interactions",
            &note_submission(ALICE, "INC-1", "  "),
            Some((SECRET, 0)),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(reply.body["response_action"], "errors");
    let reply = slack
        .post(
            "/hooks/slack/interactions",
            &note_submission("U0STRANGER1", "INC-1", "hello"),
            Some((SECRET, 0)),
        )
        .await
        .expect(StatusCode::OK);
    assert!(
        reply.body["errors"]["note"]
            .as_str()
            .is_some_and(|e| e.contains("not linked")),
        "{:?}",
        reply.body
    );
    let reply = slack
        .post(
            "/hooks/slack/interactions",
            &note_submission(ALICE, "INC-1", "DB failover finished at 14:12"),
            Some((SECRET, 0)),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(reply.body, json!({}), "an empty answer closes the form");
    let timeline = slack.timeline("INC-1").await;
    let notes: Vec<(&Value, &Value)> = timeline
        .iter()
        .filter(|e| e["kind"] == "note_added")
        .map(|e| (&e["actor"], &e["data"]["text"]))
        .collect();
    assert_eq!(
        notes,
        [(&json!("alice"), &json!("DB failover finished at 14:12"))]
    );
    assert!(
        seen.lock().expect("lock").is_empty(),
        "the form was the answer"
    );

    // Without a bot token there is no form: the clicker is told how instead.
    let plain = Slack::new(db, true).await;
    plain
        .post(
            "/hooks/slack/interactions",
            &interaction_form(ALICE, fireline_notify::SLACK_NOTE, "INC-1", &respond_to),
            Some((SECRET, 0)),
        )
        .await
        .expect(StatusCode::OK);
    let got = answers(&seen, 1).await;
    assert!(
        got[0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("/fireline note INC-1")),
        "{got:?}"
    );
}
