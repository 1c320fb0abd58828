//! Seed 001's playbook, walked as an on-call team would live it, with the shipped
//! `agentic-flow` preset: a critical Alertmanager alert texts the primary SRE's phone;
//! nobody acknowledges, so at the seed's five minutes the secondary is texted too; the
//! internal update falls due and the commander is told; the primary answers the text
//! with `ACK 1`, and escalation stops. Everything runs in process on a hand-moved clock:
//! the receiver, the alert processor, the engine and delivery, with Twilio played by a
//! local stand-in that records each request (its documented shape is checked in
//! fireline-notify's own tests).

use crate::support::{send, start, Reply};
use axum::body::Body;
use axum::http::{header, Method, StatusCode};
use axum::Router;
use fireline_core::oncall::Roster;
use fireline_core::policy::Policy;
use fireline_core::AccessRole;
use fireline_engine::{
    AlertProcessor, Delivery, DeliveryConfig, Engine, LivePolicy, ManualClock, Pager,
};
use fireline_http::auth::{issue_integration, issue_token};
use fireline_http::{AppState, TwilioAuthToken};
use fireline_notify::{twilio_signature, Notifier, Providers, TwilioConfig};
use fireline_notify::{Allow, Category, TWILIO_SIGNATURE_HEADER};
use fireline_store::backend_tests;
use fireline_store::testing::TestDatabase;
use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

backend_tests!(
    seed_001_a_critical_alert_texts_the_primary_then_the_secondary_until_an_sms_reply_acknowledges
);

const PRESET: &str = include_str!("../../../../policies/agentic-flow.toml");
const TWILIO_TOKEN: &str = "seed-walk-twilio-auth-token";
const BASE: &str = "https://fireline.example";
const ALICE: &str = "+15550100001";
const BOB: &str = "+15550100002";
const LEAD: &str = "+15550100003";

/// The preset's targets, everyone reachable by SMS only: alice is the primary SRE this
/// week, bob the secondary.
const ROSTER: &str = r#"
[people.alice]
name = "Alice Ng"
contacts = [{ kind = "sms", address = "+15550100001" }]
[people.bob]
name = "Bob Okafor"
contacts = [{ kind = "sms", address = "+15550100002" }]
[people.engineering-lead]
name = "Erin Lead"
contacts = [{ kind = "sms", address = "+15550100003" }]
[people.product-manager]
name = "Pat Manager"
contacts = [{ kind = "sms", address = "+15550100004" }]
[people.vp-engineering]
name = "Val President"
contacts = [{ kind = "sms", address = "+15550100005" }]
[people.cto]
name = "Chris Officer"
contacts = [{ kind = "sms", address = "+15550100006" }]

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
"#;

/// Twilio, as far as sending texts goes: records each request's path and form fields
/// and answers 201 with a message resource, as Twilio documents.
struct TwilioStandIn {
    url: String,
    texts: Arc<Mutex<Vec<Request>>>,
}

/// A request to the stand-in: its path and form fields.
type Request = (String, Vec<(String, String)>);

impl TwilioStandIn {
    fn start() -> TwilioStandIn {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let texts = Arc::new(Mutex::new(Vec::new()));
        let seen = texts.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
                let mut length = 0usize;
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                        break;
                    }
                    if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let form: Vec<(String, String)> = form_urlencoded::parse(&body)
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                seen.lock().expect("lock").push((path, form));
                let answer = r#"{"sid":"SM0123456789abcdef0123456789abcdef","status":"queued"}"#;
                let reply = format!(
                    "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                    answer.len()
                );
                let _ = stream.write_all(reply.as_bytes());
            }
        });
        TwilioStandIn { url, texts }
    }

    /// The bodies of the texts sent to `to`, in order.
    fn texts_to(&self, to: &str) -> Vec<String> {
        self.texts
            .lock()
            .expect("lock")
            .iter()
            .filter(|(path, form)| {
                path.ends_with("/Messages.json") && form.iter().any(|(k, v)| k == "To" && v == to)
            })
            .filter_map(|(_, form)| {
                form.iter()
                    .find(|(k, _)| k == "Body")
                    .map(|(_, v)| v.clone())
            })
            .collect()
    }
}

struct Walk {
    router: Router,
    clock: Arc<ManualClock>,
    store: Arc<dyn fireline_store::Store>,
    policy: LivePolicy,
    engine: Engine,
    commands: fireline_engine::Commands,
    delivery: Delivery,
    twilio: TwilioStandIn,
    token: String,
}

impl Walk {
    async fn new(db: &TestDatabase) -> Walk {
        let twilio = TwilioStandIn::start();
        let clock = Arc::new(ManualClock::new(start()));
        let mut links = fireline_engine::paging::local_links();
        links.base_url = BASE.to_owned();
        let policy = LivePolicy::new(Policy::from_toml(PRESET).expect("the preset reads"));
        let pager = Pager::new(db.store.clone(), links);
        let commands = fireline_engine::Commands::new(
            db.store.clone(),
            policy.clone(),
            clock.clone(),
            pager.clone(),
        );
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
            outbound: Allow::nothing(),
            twilio_auth_token: Some(TwilioAuthToken::new(TWILIO_TOKEN)),
            slack: None,
            web_push_key: None,
        };
        let roster = Roster::from_toml_str(ROSTER).expect("the roster reads");
        db.store
            .replace_roster(&roster, start())
            .await
            .expect("store the roster");
        let notifier = Notifier::new(None, Duration::from_secs(5))
            .expect("notifier")
            .with_outbound(Allow::nothing().with(Category::Loopback))
            .with_providers(Providers {
                pushover: None,
                slack: None,
                mattermost: None,
                twilio: Some(TwilioConfig {
                    account_sid: "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX".into(),
                    auth_token: TWILIO_TOKEN.into(),
                    from: "+15005550006".into(),
                    api_url: twilio.url.clone(),
                }),
            })
            .expect("providers");
        let engine = Engine::new(db.store.clone(), policy.clone(), clock.clone(), "engine")
            .with_pager(pager.clone());
        let delivery = Delivery::new(
            db.store.clone(),
            policy.clone(),
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
            store: db.store.clone(),
            policy,
            engine,
            commands,
            delivery,
            twilio,
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

    /// Alertmanager's webhook, unauthenticated but for the integration key in the path.
    async fn alertmanager(&self, key: &str, body: &Value) -> Reply {
        let request = axum::http::Request::builder()
            .method(Method::POST)
            .uri(format!("/api/v1/integrations/{key}/alertmanager"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .expect("request");
        send(self.router.clone(), request).await
    }

    /// Moves the clock to `minutes` past the start and lets every worker do what is due.
    async fn at(&self, minutes: i64) {
        self.clock.set(start() + SignedDuration::from_mins(minutes));
        AlertProcessor::new(
            self.store.clone(),
            self.policy.clone(),
            self.clock.clone(),
            "ingest",
            self.commands.clone(),
        )
        .drain()
        .await
        .expect("processing succeeds");
        self.engine.tick().await.expect("engine tick");
        self.delivery.tick().await.expect("delivery tick");
    }

    /// An SMS to the Twilio number, signed as Twilio signs it.
    async fn reply_by_text(&self, from: &str, body: &str) -> Reply {
        let form = [
            ("AccountSid", "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"),
            ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
            ("From", from),
            ("To", "+15005550006"),
            ("Body", body),
        ];
        let params: Vec<(String, String)> = form
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let signature =
            twilio_signature(TWILIO_TOKEN, &format!("{BASE}/hooks/twilio/sms"), &params);
        let request = axum::http::Request::builder()
            .method(Method::POST)
            .uri("/hooks/twilio/sms")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(TWILIO_SIGNATURE_HEADER, signature)
            .body(Body::from(
                form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(form.iter())
                    .finish(),
            ))
            .expect("request");
        send(self.router.clone(), request).await
    }

    async fn incident(&self) -> Value {
        self.api(Method::GET, "/api/v1/incidents/INC-1", None)
            .await
            .expect(StatusCode::OK)
            .body
    }

    /// The escalation levels reached so far, in order.
    async fn levels(&self) -> Vec<u64> {
        self.incident().await["timeline"]
            .as_array()
            .expect("timeline")
            .iter()
            .filter(|e| e["kind"] == "escalated")
            .filter_map(|e| e["data"]["level"].as_u64())
            .collect()
    }
}

fn critical_alert(now: Timestamp) -> Value {
    json!({
        "version": "4",
        "groupKey": "{}:{alertname=\"AgentDBDown\"}",
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "fireline",
        "groupLabels": {"alertname": "AgentDBDown"},
        "commonLabels": {"alertname": "AgentDBDown", "severity": "critical"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": [{
            "status": "firing",
            "labels": {"alertname": "AgentDBDown", "severity": "critical", "instance": "agentdb-1"},
            "annotations": {"summary": "AgentDB answers no queries"},
            "startsAt": now.to_string(),
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example:9090/graph",
            "fingerprint": "a1b2c3d4e5f60718"
        }]
    })
}

async fn seed_001_a_critical_alert_texts_the_primary_then_the_secondary_until_an_sms_reply_acknowledges(
    db: &TestDatabase,
) {
    let walk = Walk::new(db).await;
    let (key, _) = issue_integration(db.store.as_ref(), None, "agentdb", start())
        .await
        .expect("integration");
    walk.alertmanager(&key, &critical_alert(start()))
        .await
        .expect(StatusCode::ACCEPTED);
    walk.at(0).await;

    // A critical alert is a SEV1, and the primary's phone gets a text at once.
    let detail = walk.incident().await;
    assert_eq!(detail["incident"]["severity"], "SEV1", "{detail}");
    let to_alice = walk.twilio.texts_to(ALICE);
    assert_eq!(to_alice.len(), 1, "one text to the primary: {to_alice:?}");
    assert!(
        to_alice[0].starts_with("[SEV1] INC-1 ")
            && to_alice[0].contains("reply ACK 1 to acknowledge")
            && to_alice[0].contains(&format!("{BASE}/ui/incidents/INC-1")),
        "{}",
        to_alice[0]
    );
    assert!(
        walk.twilio.texts_to(BOB).is_empty(),
        "not the secondary yet"
    );
    // The engineering lead is paged twice over by the preset (SEV1's page list, and
    // level 2 on declaration): one text, one incident, not "2 notifications".
    let to_lead = walk.twilio.texts_to(LEAD);
    assert_eq!(to_lead.len(), 1, "{to_lead:?}");
    assert!(to_lead[0].starts_with("[SEV1] INC-1 "), "{}", to_lead[0]);

    // The engineering lead takes command (seed 001: the lead is paged on every SEV1).
    walk.api(
        Method::POST,
        "/api/v1/incidents/INC-1/roles",
        Some(json!({"role": "commander", "assignee": "engineering-lead"})),
    )
    .await
    .expect(StatusCode::OK);
    walk.at(4).await;
    assert!(walk.twilio.texts_to(BOB).is_empty(), "4 minutes: still not");

    // Five minutes unacknowledged: the secondary SRE is texted; the commander hears
    // that the acknowledge clock ran out and that the internal update is due.
    walk.at(5).await;
    let to_bob = walk.twilio.texts_to(BOB);
    assert_eq!(to_bob.len(), 1, "{to_bob:?}");
    assert!(to_bob[0].contains("INC-1"), "{}", to_bob[0]);
    assert!(walk.levels().await.contains(&1), "escalated to level 1");
    let to_lead = walk.twilio.texts_to(LEAD).join("\n");
    assert!(
        to_lead.contains("INC-1 internal update due (you are its commander)")
            && to_lead.contains("INC-1 acknowledge clock breached"),
        "the commander is told what is due, in words: {to_lead}"
    );

    // Alice answers the text; the incident is hers and escalation stops.
    let answer = walk.reply_by_text(ALICE, "ACK 1").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let detail = walk.incident().await;
    assert_eq!(detail["incident"]["acknowledged_by"], "alice", "{detail}");
    let levels = walk.levels().await;
    let texts_to_bob = walk.twilio.texts_to(BOB).len();
    for minutes in [10, 20, 30, 60] {
        walk.at(minutes).await;
    }
    assert_eq!(walk.levels().await, levels, "no escalation after the ACK");
    assert_eq!(
        walk.twilio.texts_to(BOB).len(),
        texts_to_bob,
        "the secondary is not texted again"
    );
}
