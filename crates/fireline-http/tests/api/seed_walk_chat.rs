//! Seed 001's SEV1 where the team talks, with the shipped `agentic-flow` preset: the page
//! reaches the primary SRE's Slack and `#incidents`, the incident gets a channel of its
//! own, the primary acknowledges with the page's button, the five-minute internal update
//! falls due and is answered with `/fireline update`, and the customer update owed
//! within 30 minutes reaches the status page's confirmed subscribers only. Everything
//! runs in process on a hand-moved clock; Slack's Web API, its `response_url` and the
//! subscribers' webhooks are one local stand-in (the Web API's documented shapes are
//! checked in fireline-notify's own tests).

use crate::support::{send, start, Reply};
use axum::body::Body;
use axum::http::{header, Method, StatusCode};
use axum::Router;
use fireline_core::oncall::Roster;
use fireline_core::policy::Policy;
use fireline_core::AccessRole;
use fireline_engine::{Clock, Delivery, DeliveryConfig, Engine, LivePolicy, ManualClock, Pager};
use fireline_http::auth::issue_token;
use fireline_http::{AppState, SlackApp};
use fireline_notify::{
    slack_signature, Allow, Category, Notifier, Providers, SlackApiConfig, SlackResponder,
    SLACK_ACKNOWLEDGE, SLACK_SIGNATURE_HEADER, SLACK_TIMESTAMP_HEADER,
};
use fireline_store::testing::TestDatabase;
use fireline_store::{backend_tests, NewSubscriber, SubscriberKind};
use jiff::SignedDuration;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

backend_tests!(seed_001_a_sev1_runs_in_slack_from_page_to_customer_update);

const PRESET: &str = include_str!("../../../../policies/agentic-flow.toml");
const SIGNING_SECRET: &str = "seed-walk-slack-signing-secret";
const BOT: &str = "xoxb-seed-walk-bot";
const ALICE: &str = "U0ALICE0001";

/// The preset's targets, each reached by a direct message from the team's Slack app;
/// `#incidents` follows every incident and carries internal updates.
const ROSTER: &str = r##"
[people.alice]
name = "Alice Ng"
slack_user = "U0ALICE0001"
contacts = [{ kind = "slack_bot", address = "U0ALICE0001", secret = "xoxb-seed-walk-bot" }]
[people.bob]
name = "Bob Okafor"
slack_user = "U0BOB00001"
contacts = [{ kind = "slack_bot", address = "U0BOB00001", secret = "xoxb-seed-walk-bot" }]
[people.engineering-lead]
name = "Erin Lead"
contacts = [{ kind = "slack_bot", address = "U0ERIN00001", secret = "xoxb-seed-walk-bot" }]
[people.product-manager]
name = "Pat Manager"
contacts = [{ kind = "slack_bot", address = "U0PAT000001", secret = "xoxb-seed-walk-bot" }]
[people.vp-engineering]
name = "Val President"
contacts = [{ kind = "slack_bot", address = "U0VAL000001", secret = "xoxb-seed-walk-bot" }]
[people.cto]
name = "Chris Officer"
contacts = [{ kind = "slack_bot", address = "U0CHRIS0001", secret = "xoxb-seed-walk-bot" }]

[schedules.sre-primary]
name = "SRE primary"
time_zone = "UTC"
[[schedules.sre-primary.layers]]
name = "weekly"
participants = ["alice"]
shift = "1w"
start = "2026-01-05"

[schedules.sre-secondary]
name = "SRE secondary"
time_zone = "UTC"
[[schedules.sre-secondary.layers]]
name = "weekly"
participants = ["bob"]
shift = "1w"
start = "2026-01-05"

[channels.incidents]
kind = "slack_bot"
address = "C0INCIDENT1"
secret = "xoxb-seed-walk-bot"
updates = ["internal"]
events = true

[channels.sre-oncall]
kind = "slack_bot"
address = "C0SREONCALL"
secret = "xoxb-seed-walk-bot"
"##;

/// One request to the stand-in: path and JSON body.
type Call = (String, Value);

/// Slack's Web API (`/api/…`, answered as Slack documents, refusing a wrong bot
/// token), Slack's `response_url` (`/respond`) and subscribers' webhooks (`/hooks/…`).
struct StandIn {
    url: String,
    calls: Arc<Mutex<Vec<Call>>>,
}

impl StandIn {
    fn start() -> StandIn {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let calls = Arc::new(Mutex::new(Vec::new()));
        let seen = calls.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
                let (mut length, mut bearer) = (0usize, String::new());
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                        break;
                    }
                    let lower = h.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    if lower.starts_with("authorization:") {
                        bearer = h["authorization:".len()..].trim().to_owned();
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let json: Value = serde_json::from_slice(&body).unwrap_or_default();
                let answer = if !path.starts_with("/api/") {
                    json!({"ok": true})
                } else if bearer != format!("Bearer {BOT}") {
                    json!({"ok": false, "error": "invalid_auth"})
                } else if path == "/api/conversations.create" {
                    json!({"ok": true, "channel": {"id": "C0INC000001", "name": json["name"]}})
                } else {
                    let channel = json["channel"].as_str().unwrap_or("C0INC000001");
                    json!({"ok": true, "channel": channel, "ts": "1800000000.000100"})
                };
                seen.lock().expect("lock").push((path, json));
                let text = answer.to_string();
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                    text.len()
                );
                let _ = stream.write_all(reply.as_bytes());
            }
        });
        StandIn { url, calls }
    }

    /// Every call to `path` so far.
    fn to(&self, path: &str) -> Vec<Value> {
        let calls = self.calls.lock().expect("lock");
        calls
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, b)| b.clone())
            .collect()
    }

    /// The `text` of every message posted to Slack conversation `channel`.
    fn posted_to(&self, channel: &str) -> Vec<String> {
        self.to("/api/chat.postMessage")
            .iter()
            .filter(|b| b["channel"] == channel)
            .map(|b| b["text"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

struct Walk {
    router: Router,
    clock: Arc<ManualClock>,
    engine: Engine,
    delivery: Delivery,
    slack: StandIn,
    token: String,
}

impl Walk {
    async fn new(db: &TestDatabase) -> Walk {
        let slack = StandIn::start();
        let clock = Arc::new(ManualClock::new(start()));
        let policy = LivePolicy::new(Policy::from_toml(PRESET).expect("the preset reads"));
        let pager = Pager::new(db.store.clone(), fireline_engine::paging::local_links())
            .with_slack_bot_token(Some(BOT.into()));
        let commands = fireline_engine::Commands::new(
            db.store.clone(),
            policy.clone(),
            clock.clone(),
            pager.clone(),
        );
        let loopback = Allow::nothing().with(Category::Loopback);
        let state = AppState {
            store: db.store.clone(),
            clock: clock.clone(),
            policy: policy.clone(),
            commands: commands.clone(),
            inbox: fireline_http::receivers::inbox::InboxWriter::start(
                db.store.clone(),
                Arc::new(tokio::sync::Notify::new()),
            ),
            pager: pager.clone(),
            metrics_token: None,
            runbooks: crate::support::runbooks(),
            signin_throttle: Arc::default(),
            outbound: loopback.clone(),
            twilio_auth_token: None,
            web_push_key: None,
            slack: Some(SlackApp::new(
                SIGNING_SECRET,
                SlackResponder::new(Duration::from_secs(5), loopback.clone()),
            )),
        };
        let roster = Roster::from_toml_str(ROSTER).expect("the roster reads");
        assert!(roster.check().is_empty(), "{:?}", roster.check());
        db.store
            .replace_roster(&roster, start())
            .await
            .expect("store the roster");
        let notifier = Notifier::new(None, Duration::from_secs(5))
            .expect("notifier")
            .with_outbound(loopback)
            .with_providers(Providers {
                slack: Some(SlackApiConfig {
                    api_url: format!("{}/api", slack.url),
                    interactive: true,
                }),
                ..Providers::default()
            })
            .expect("providers");
        let engine = Engine::new(db.store.clone(), policy.clone(), clock.clone(), "engine")
            .with_pager(pager.clone())
            .with_commands(commands);
        let delivery = Delivery::new(
            db.store.clone(),
            policy,
            clock.clone(),
            "delivery",
            notifier,
            pager,
            DeliveryConfig::default(),
        );
        let (token, _) = issue_token(
            db.store.as_ref(),
            Some("zoe"),
            AccessRole::Responder,
            start(),
        )
        .await
        .expect("token");
        Walk {
            router: fireline_http::router(state),
            clock,
            engine,
            delivery,
            slack,
            token,
        }
    }

    async fn api(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        send(
            self.router.clone(),
            crate::support::request(method, path, Some(&self.token), body),
        )
        .await
    }

    /// Moves the clock to `minutes` past the start and lets the engine and delivery do
    /// what is due.
    async fn at(&self, minutes: i64) {
        self.clock.set(start() + SignedDuration::from_mins(minutes));
        self.engine.tick().await.expect("engine tick");
        self.delivery.tick().await.expect("delivery tick");
    }

    /// A request from Slack, signed with the app's signing secret now.
    async fn signed_by_slack(&self, path: &str, form: String) -> Reply {
        let timestamp = self.clock.now().as_second().to_string();
        let request = axum::http::Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(SLACK_TIMESTAMP_HEADER, &timestamp)
            .header(
                SLACK_SIGNATURE_HEADER,
                slack_signature(SIGNING_SECRET, &timestamp, form.as_bytes()),
            )
            .body(Body::from(form))
            .expect("request");
        send(self.router.clone(), request).await
    }

    /// `/fireline {text}` typed by alice.
    async fn slash(&self, text: &str) -> Reply {
        let form = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("team_id", "T0001"),
                ("channel_id", "C0INC000001"),
                ("user_id", ALICE),
                ("command", "/fireline"),
                ("text", text),
                ("response_url", &format!("{}/respond", self.slack.url)),
            ])
            .finish();
        self.signed_by_slack("/hooks/slack/commands", form).await
    }

    async fn timeline(&self) -> Vec<Value> {
        let detail = self
            .api(Method::GET, "/api/v1/incidents/INC-1", None)
            .await
            .expect(StatusCode::OK)
            .body;
        detail["timeline"].as_array().cloned().unwrap_or_default()
    }
}

/// The primary's own page carries an Acknowledge button for the incident.
fn check_the_page_button(posted: &[Value]) {
    let page = posted
        .iter()
        .find(|b| b["channel"] == ALICE)
        .expect("the primary gets the page directly");
    let button = page["blocks"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
        .find(|e| e["action_id"] == SLACK_ACKNOWLEDGE)
        .expect("the page carries an Acknowledge button");
    assert_eq!(button["value"], "INC-1");
}

/// Waits (bounded) until the stand-in has `n` calls to `path`.
async fn calls_to(slack: &StandIn, path: &str, n: usize) -> Vec<Value> {
    for _ in 0..300 {
        if slack.to(path).len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    slack.to(path)
}

/// A customer subscribed with a webhook to the stand-in; confirmed or not.
async fn subscriber(db: &TestDatabase, slack: &StandIn, id: &str, confirmed: bool) {
    let added = db
        .store
        .add_subscriber(&NewSubscriber {
            id: id.to_owned(),
            kind: SubscriberKind::Webhook,
            address: format!("{}/hooks/{id}", slack.url),
            contact: Some(format!("{id}@example.com")),
            components: vec![],
            confirm_hash: format!("{id:0<64}"),
            unsubscribe_hash: format!("{id:1<64}"),
            created_at: start(),
        })
        .await
        .expect("subscribe");
    if confirmed {
        assert!(db
            .store
            .confirm_subscriber(&added.id, start())
            .await
            .expect("confirm"));
    }
}

async fn seed_001_a_sev1_runs_in_slack_from_page_to_customer_update(db: &TestDatabase) {
    let walk = Walk::new(db).await;
    let confirmed = "c0ffee00000000000000000000000001";
    let pending = "c0ffee00000000000000000000000002";
    subscriber(db, &walk.slack, confirmed, true).await;
    subscriber(db, &walk.slack, pending, false).await;

    // 14:00 — the SEV1 is declared; its page goes out.
    walk.api(
        Method::POST,
        "/api/v1/incidents",
        Some(
            json!({"title": "Agent Booster down", "severity": "SEV1", "service": "agent-booster"}),
        ),
    )
    .await
    .expect(StatusCode::CREATED);
    walk.at(0).await;
    let incidents = walk.slack.posted_to("C0INCIDENT1");
    assert!(
        incidents
            .iter()
            .any(|t| t.starts_with("Paged: [SEV1] Agent Booster down")),
        "the page is posted to #incidents: {incidents:?}"
    );
    let created = walk.slack.to("/api/conversations.create");
    assert_eq!(created.len(), 1, "one channel of its own");
    assert_eq!(
        created[0]["name"], "inc-1",
        "named as seed 001 says: #<incident-id>"
    );
    let invited = walk.slack.to("/api/conversations.invite");
    assert!(
        invited[0]["users"]
            .as_str()
            .is_some_and(|u| u.contains(ALICE)),
        "the primary is invited: {invited:?}"
    );
    assert!(
        walk.slack.posted_to("C0INC000001")[0].starts_with("INC-1 declared: [SEV1]"),
        "the incident's channel opens with its declaration"
    );
    let dm = walk.slack.to("/api/chat.postMessage");
    check_the_page_button(&dm);

    acknowledge_with_the_button(&walk).await;
    answer_updates_signed_by_slack(&walk, confirmed, pending).await;
}

/// 14:02 — alice taps Acknowledge on her phone's Slack; the timeline says so, and the
/// message in `#incidents` shows it.
async fn acknowledge_with_the_button(walk: &Walk) {
    walk.clock.set(start() + SignedDuration::from_mins(2));
    let payload = json!({
        "type": "block_actions",
        "user": {"id": ALICE},
        "response_url": format!("{}/respond", walk.slack.url),
        "actions": [{"action_id": SLACK_ACKNOWLEDGE, "value": "INC-1", "type": "button"}],
    });
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish();
    walk.signed_by_slack("/hooks/slack/interactions", form)
        .await
        .expect(StatusCode::OK);
    let answered = calls_to(&walk.slack, "/respond", 1).await;
    assert_eq!(answered[0]["text"], "You acknowledged INC-1.");
    walk.at(2).await;
    assert!(
        walk.timeline()
            .await
            .iter()
            .any(|e| e["kind"] == "acknowledged" && e["actor"] == "alice"),
        "the timeline says who"
    );
    let updated = walk.slack.to("/api/chat.update");
    assert!(
        updated.iter().any(|b| b["channel"] == "C0INCIDENT1"),
        "#incidents' message now shows it acknowledged: {updated:?}"
    );
}

/// 14:05 and 14:20: the updates the policy asks for, answered from Slack.
async fn answer_updates_signed_by_slack(walk: &Walk, confirmed: &str, pending: &str) {
    // 14:05 — the internal update is due (every 5 minutes for a SEV1); alice answers
    // from Slack, and it is posted where internal updates go.
    walk.at(5).await;
    let told = walk.slack.posted_to(ALICE);
    assert!(
        told.iter()
            .any(|t| t.to_lowercase().contains("internal update due")),
        "the on-call is told the update is due: {told:?}"
    );
    let reply = walk
        .slash("update INC-1 Rolled back agent-booster to 2.3.1; error rate falling.")
        .await
        .expect(StatusCode::OK);
    assert_eq!(reply.body["response_type"], "in_channel");
    walk.at(5).await;
    assert!(
        walk.slack
            .posted_to("C0INCIDENT1")
            .iter()
            .any(|t| t.contains("Rolled back agent-booster to 2.3.1")),
        "#incidents carries internal updates"
    );

    // 14:20 — the customer update owed within 30 minutes is reminded; alice posts it,
    // and it reaches the confirmed subscriber only.
    walk.at(20).await;
    let told = walk.slack.posted_to(ALICE);
    assert!(
        told.iter().any(|t| t.to_lowercase().contains("customer")),
        "the customer update is reminded before it falls due: {told:?}"
    );
    walk.slash("update INC-1 customer Some agent requests failed between 14:00 and 14:20; service is recovering.")
        .await
        .expect(StatusCode::OK);
    walk.at(20).await;
    let hooks = calls_to(&walk.slack, &format!("/hooks/{confirmed}"), 1).await;
    assert!(
        hooks[0].to_string().contains("Some agent requests failed"),
        "{hooks:?}"
    );
    assert!(
        walk.slack.to(&format!("/hooks/{pending}")).is_empty(),
        "an unconfirmed address hears nothing"
    );

    // 14:30 — met in time: nothing is overdue for customers.
    walk.at(30).await;
    let timeline = walk.timeline().await;
    assert!(
        !timeline
            .iter()
            .any(|e| e["kind"] == "notice_overdue" && e["data"]["channel"] == "customer"),
        "{timeline:#?}"
    );
}
