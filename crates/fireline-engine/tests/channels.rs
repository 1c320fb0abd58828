//! Chat channels: pages that name a channel, updates a channel carries and the notable
//! events of an incident reach the channel's destination through the outbox, each post
//! once and in order; a channel that cannot be posted to is reported, never escalated
//! past.

use fireline_core::oncall::Roster;
use fireline_core::policy::Policy;
use fireline_core::{Channel, Command, Declaration, EventData, IncidentId};
use fireline_engine::paging::local_links;
use fireline_engine::{Commands, Delivery, DeliveryConfig, Engine, LivePolicy, ManualClock, Pager};
use fireline_notify::{Allow, Category, Notifier};
use fireline_store::testing::TestDatabase;
use fireline_store::{backend_tests, Store};
use jiff::{SignedDuration, Timestamp};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn t0() -> Timestamp {
    "2026-03-02T14:00:00Z".parse().expect("timestamp")
}

const POLICY: &str = r##"
name = "channels-test"
[severities.SEV1]
name = "Critical"
rank = 1
page = ["schedule:primary", "channel:#incidents"]
[severities.SEV1.clocks]
acknowledge = "5m"
[severities.SEV3]
name = "Minor"
rank = 3

[[escalation]]
name = "Secondary"
targets = ["person:bob"]
triggers = [{ when = "not_acknowledged", after = "10m", severities = ["SEV1"] }]
"##;

/// Records each request (path, body) and answers with the next status of its script
/// (200 once it runs out).
struct Receiver {
    url: String,
    requests: Arc<Mutex<Vec<(String, String)>>>,
}

impl Receiver {
    fn start(script: Vec<u16>) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let script = Arc::new(Mutex::new(script.into_iter()));
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
                seen.lock()
                    .expect("lock")
                    .push((path, String::from_utf8_lossy(&body).into_owned()));
                let status = script.lock().expect("lock").next().unwrap_or(200);
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                );
                let _ = stream.write_all(reply.as_bytes());
            }
        });
        Receiver { url, requests }
    }

    /// The `text` fallback of each Slack message posted to `path`, in order.
    fn posts(&self, path: &str) -> Vec<String> {
        self.requests
            .lock()
            .expect("lock")
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, body)| {
                let json: serde_json::Value = serde_json::from_str(body).expect("JSON body");
                json["text"].as_str().expect("text fallback").to_owned()
            })
            .collect()
    }
}

/// Alice is on call; `#incidents` follows incidents and carries internal updates;
/// `#exec` carries only customer updates and its webhook is gone (`404`).
fn roster(ok: &Receiver, gone: &Receiver) -> Roster {
    Roster::from_toml_str(&format!(
        r##"
[people.alice]
name = "Alice"
contacts = [{{ kind = "webhook", address = "{ok}/hook/alice" }}]
[people.bob]
name = "Bob"
contacts = [{{ kind = "webhook", address = "{ok}/hook/bob" }}]

[schedules.primary]
name = "Primary"
time_zone = "UTC"
[[schedules.primary.layers]]
name = "always"
participants = ["alice"]
shift = "1w"
start = "2026-03-01"

[channels.incidents]
kind = "slack"
address = "{ok}/slack/incidents"
updates = ["internal"]
events = true

[channels.exec]
name = "#exec-briefing"
kind = "slack"
address = "{gone}/slack/exec"
updates = ["customer"]
"##,
        ok = ok.url,
        gone = gone.url
    ))
    .expect("roster")
}

struct Rig {
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
    engine: Engine,
    delivery: Delivery,
    commands: Commands,
    ok: Receiver,
}

impl Rig {
    async fn new(db: &TestDatabase) -> Rig {
        let ok = Receiver::start(vec![]);
        let gone = Receiver::start(vec![404; 20]);
        let store = db.store.clone();
        let roster = roster(&ok, &gone);
        assert!(roster.check().is_empty(), "{:?}", roster.check());
        store.replace_roster(&roster, t0()).await.expect("roster");
        let clock = Arc::new(ManualClock::new(t0()));
        let live = LivePolicy::new(Policy::from_toml(POLICY).expect("policy"));
        let pager = Pager::new(store.clone(), local_links());
        let commands = Commands::new(store.clone(), live.clone(), clock.clone(), pager.clone());
        let engine = Engine::new(store.clone(), live.clone(), clock.clone(), "engine")
            .with_pager(pager.clone())
            .with_commands(commands.clone());
        let delivery = Delivery::new(
            store.clone(),
            live,
            clock.clone(),
            "delivery",
            Notifier::new(None, Duration::from_secs(5))
                .expect("notifier")
                .with_outbound(Allow::nothing().with(Category::Loopback)),
            pager,
            DeliveryConfig::default(),
        );
        Rig {
            store,
            clock,
            engine,
            delivery,
            commands,
            ok,
        }
    }

    async fn at(&self, t: Timestamp) {
        self.clock.set(t);
        self.engine.tick().await.expect("engine tick");
        self.delivery.tick().await.expect("delivery tick");
    }

    async fn run(&self, id: IncidentId, actor: &str, command: Command) {
        self.commands
            .execute(id, actor, None, &command)
            .await
            .expect("command applies");
    }

    async fn timeline(&self, id: IncidentId) -> Vec<EventData> {
        let events = self.store.events(id).await.expect("events");
        events.into_iter().map(|e| e.data).collect()
    }
}

async fn a_sev1_is_followed_in_its_channel_from_declaration_to_resolution(db: &TestDatabase) {
    let rig = Rig::new(db).await;
    let declared = rig
        .commands
        .declare(
            &Declaration {
                title: "Checkout down".into(),
                severity: "SEV1".into(),
                service: "checkout".into(),
                summary: Some("Card payments fail".into()),
                category: None,
                flags: vec![],
            },
            "zoe",
        )
        .await
        .expect("declared");
    let id = declared.incident.id;
    rig.at(t0()).await;
    let posts = rig.ok.posts("/slack/incidents");
    assert_eq!(posts.len(), 2, "declared and paged: {posts:?}");
    assert!(
        posts[0].starts_with(&format!("{id} declared: [SEV1] Checkout down")),
        "{posts:?}"
    );
    assert!(posts[0].contains("Card payments fail"), "{posts:?}");
    assert!(
        posts[1].starts_with("Paged: [SEV1] Checkout down"),
        "{posts:?}"
    );
    let timeline = rig.timeline(id).await;
    let paged = timeline
        .iter()
        .find_map(|e| match e {
            EventData::Paged { unreached, .. } => Some(unreached.clone()),
            _ => None,
        })
        .expect("paged");
    assert!(paged.is_empty(), "the channel was reached: {paged:?}");
    assert!(
        timeline.iter().any(|e| matches!(e,
            EventData::Notified { person, channel, .. } if person == "channel:incidents" && channel == "slack")),
        "the timeline says the channel was posted to: {timeline:?}"
    );

    rig.clock.set(t0() + SignedDuration::from_mins(2));
    rig.run(id, "alice", Command::Acknowledge).await;
    rig.run(
        id,
        "alice",
        Command::PostUpdate {
            channel: Channel::Internal,
            text: "Rolled back the 14:02 deploy; error rate falling.".into(),
        },
    )
    .await;
    rig.run(
        id,
        "alice",
        Command::PostUpdate {
            channel: Channel::Customer,
            text: "Some card payments failed between 14:00 and 14:05.".into(),
        },
    )
    .await;
    rig.run(id, "alice", Command::Resolve { summary: None })
        .await;
    rig.at(t0() + SignedDuration::from_mins(2)).await;
    let posts = rig.ok.posts("/slack/incidents");
    assert_eq!(posts.len(), 5, "{posts:?}");
    assert!(
        posts[2].starts_with(&format!("{id}: alice acknowledged")),
        "{posts:?}"
    );
    assert!(
        posts[3].starts_with(&format!("Update on {id}: [SEV1] Checkout down"))
            && posts[3].contains("Rolled back the 14:02 deploy"),
        "{posts:?}"
    );
    assert!(
        posts[4].starts_with(&format!("{id}: alice resolved")),
        "{posts:?}"
    );
    assert!(
        !posts.iter().any(|p| p.contains("Some card payments")),
        "a customer update is not posted where only internal ones go: {posts:?}"
    );

    // Nothing is posted twice, however often delivery runs.
    rig.at(t0() + SignedDuration::from_mins(30)).await;
    assert_eq!(rig.ok.posts("/slack/incidents").len(), 5);
}

async fn a_channel_that_cannot_be_posted_to_is_reported_not_escalated(db: &TestDatabase) {
    let rig = Rig::new(db).await;
    let declared = rig
        .commands
        .declare(
            &Declaration {
                title: "Search slow".into(),
                severity: "SEV3".into(),
                service: "search".into(),
                summary: None,
                category: None,
                flags: vec![],
            },
            "zoe",
        )
        .await
        .expect("declared");
    let id = declared.incident.id;
    rig.run(
        id,
        "zoe",
        Command::PostUpdate {
            channel: Channel::Customer,
            text: "Searches may be slow.".into(),
        },
    )
    .await;
    rig.at(t0()).await;
    let timeline = rig.timeline(id).await;
    let failed: Vec<&EventData> = timeline
        .iter()
        .filter(|e| matches!(e, EventData::NotificationFailed { .. }))
        .collect();
    assert!(
        matches!(failed.as_slice(), [EventData::NotificationFailed { person, .. }] if person == "channel:exec"),
        "a 404 is permanent and reported once: {timeline:?}"
    );
    assert!(
        !timeline
            .iter()
            .any(|e| matches!(e, EventData::Escalated { .. })),
        "nobody was waiting on the channel to acknowledge: {timeline:?}"
    );
    let line = fireline_core::describe::event(failed[0], &jiff::tz::TimeZone::UTC).one_line();
    assert!(
        line.starts_with("could not post to #exec by slack"),
        "{line}"
    );
}

backend_tests!(
    a_sev1_is_followed_in_its_channel_from_declaration_to_resolution,
    a_channel_that_cannot_be_posted_to_is_reported_not_escalated,
    a_sev1_gets_a_channel_of_its_own_with_its_responders_invited,
    an_incident_channel_follows_its_incident_after_a_downgrade,
);

/// A stand-in for Slack's Web API: checks each call's bearer token and JSON body and
/// answers as Slack documents (`conversations.create` with the new channel, the rest
/// `ok`). Records (method, body).
/// Each Web API call: its method and JSON body.
type Calls = Arc<Mutex<Vec<(String, serde_json::Value)>>>;

fn slack_api() -> (String, Calls) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/api", listener.local_addr().expect("addr"));
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
            let method = line
                .split_whitespace()
                .nth(1)
                .unwrap_or("")
                .trim_start_matches("/api/")
                .to_owned();
            let (mut length, mut authorized) = (0usize, false);
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                    break;
                }
                let lower = h.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                authorized |= h.trim() == "Authorization: Bearer xoxb-server-bot"
                    || h.trim() == "authorization: Bearer xoxb-server-bot";
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let answer = if !authorized {
                serde_json::json!({"ok": false, "error": "not_authed"})
            } else if method == "conversations.create" {
                let name = json["name"].as_str().unwrap_or_default();
                // Slack's rule for names: lowercase, no spaces or periods, at most 80.
                if name.is_empty()
                    || name.len() > 80
                    || name
                        .chars()
                        .any(|c| c.is_uppercase() || c == ' ' || c == '.' || c == '#')
                {
                    serde_json::json!({"ok": false, "error": "invalid_name_specials"})
                } else {
                    serde_json::json!({"ok": true, "channel": {"id": "C0NEW00001", "name": name, "is_channel": true}})
                }
            } else {
                serde_json::json!({"ok": true, "channel": "C0NEW00001", "ts": "1503435956.000247"})
            };
            seen.lock().expect("lock").push((method, json));
            let text = answer.to_string();
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                text.len()
            );
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    (url, calls)
}

/// A rig whose policy gives SEV1 incidents a channel of their own, opened with the
/// server's bot token through a Slack Web API stand-in; alice and bob have Slack ids.
async fn room_rig(db: &TestDatabase) -> (Commands, Engine, Delivery, Arc<ManualClock>, Calls) {
    let policy = format!(
        "{POLICY}\n[incident_channel]\nseverities = [\"SEV1\"]\n[templates]\nchannel_name = \"#incident-{{{{ declared_stamp }}}}\"\n"
    );
    let policy = Policy::from_toml(&policy).unwrap_or_else(|p| panic!("{p:#?}"));
    let (api, calls) = slack_api();
    let ok = Receiver::start(vec![]);
    let mut roster = roster(&ok, &ok);
    roster.people.get_mut("alice").expect("alice").slack_user = Some("U0ALICE0001".into());
    roster.people.get_mut("bob").expect("bob").slack_user = Some("U0BOB000001".into());
    let store = db.store.clone();
    store.replace_roster(&roster, t0()).await.expect("roster");
    let clock = Arc::new(ManualClock::new(t0()));
    let live = LivePolicy::new(policy);
    let pager = Pager::new(store.clone(), local_links())
        .with_slack_bot_token(Some("xoxb-server-bot".into()));
    let commands = Commands::new(store.clone(), live.clone(), clock.clone(), pager.clone());
    let engine = Engine::new(store.clone(), live.clone(), clock.clone(), "engine")
        .with_pager(pager.clone())
        .with_commands(commands.clone());
    let delivery = Delivery::new(
        store.clone(),
        live,
        clock.clone(),
        "delivery",
        Notifier::new(None, Duration::from_secs(5))
            .expect("notifier")
            .with_outbound(Allow::nothing().with(Category::Loopback))
            .with_providers(fireline_notify::Providers {
                slack: Some(fireline_notify::SlackApiConfig {
                    api_url: api,
                    interactive: false,
                }),
                ..Default::default()
            })
            .expect("providers"),
        pager,
        DeliveryConfig::default(),
    );
    (commands, engine, delivery, clock, calls)
}

async fn a_sev1_gets_a_channel_of_its_own_with_its_responders_invited(db: &TestDatabase) {
    let (commands, engine, delivery, clock, calls) = room_rig(db).await;
    let declare = |title: &str, severity: &str| Declaration {
        title: title.into(),
        severity: severity.into(),
        service: "checkout".into(),
        summary: None,
        category: None,
        flags: vec![],
    };
    let id = commands
        .declare(&declare("Checkout down", "SEV1"), "zoe")
        .await
        .expect("declared")
        .incident
        .id;
    let minor = commands
        .declare(&declare("Search slow", "SEV3"), "zoe")
        .await
        .expect("declared")
        .incident
        .id;
    engine.tick().await.expect("tick");
    delivery.tick().await.expect("delivery");
    // Nobody answers: at 10 minutes the secondary is paged, and invited.
    clock.set(t0() + SignedDuration::from_mins(10));
    engine.tick().await.expect("tick");
    delivery.tick().await.expect("delivery");
    clock.set(t0() + SignedDuration::from_mins(11));
    commands
        .execute(id, "alice", None, &Command::Acknowledge)
        .await
        .expect("ack");
    commands
        .execute(minor, "alice", None, &Command::Acknowledge)
        .await
        .expect("ack");
    delivery.tick().await.expect("delivery");

    let calls = calls.lock().expect("lock").clone();
    let methods: Vec<&str> = calls.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(
        methods,
        [
            // 14:00: opened once, alice (paged) invited, the declaration and the page.
            "conversations.create",
            "conversations.invite",
            "chat.postMessage",
            "chat.postMessage",
            // 14:10: the breached clock, then the escalation, which invites bob; each
            // keeps the first message current.
            "chat.update",
            "chat.postMessage",
            "chat.update",
            "conversations.invite",
            "chat.postMessage",
            // 14:11: acknowledged.
            "chat.update",
            "chat.postMessage",
        ],
        "the SEV3 got none: {calls:#?}"
    );
    assert_eq!(calls[0].1["name"], "incident-2026-03-02-140000");
    let invited = |i: usize| calls[i].1.clone();
    assert_eq!(
        invited(1),
        serde_json::json!({"channel": "C0NEW00001", "users": "U0ALICE0001"})
    );
    assert_eq!(
        invited(7),
        serde_json::json!({"channel": "C0NEW00001", "users": "U0BOB000001"}),
        "who is new to the incident is invited, not everyone again"
    );
    assert_eq!(calls[2].1["channel"], "C0NEW00001");
    let text = |i: usize| calls[i].1["text"].as_str().unwrap_or_default().to_owned();
    assert!(
        text(2).starts_with(&format!("{id} declared: [SEV1] Checkout down")),
        "{}",
        text(2)
    );
    assert!(
        text(3).starts_with("Paged: [SEV1] Checkout down"),
        "{}",
        text(3)
    );
    assert!(
        text(8).starts_with(&format!("{id}: fireline escalated to level 1")),
        "{}",
        text(8)
    );
    // The declaration's message shows the incident as it is now.
    for i in [4, 6, 9] {
        assert_eq!(calls[i].1["channel"], "C0NEW00001");
        assert_eq!(calls[i].1["ts"], "1503435956.000247");
    }
    let edited = calls[9].1.to_string();
    assert!(
        edited.contains("acknowledged") && !edited.contains("\"Acknowledge\""),
        "nothing left to acknowledge: {edited}"
    );
    assert!(
        text(10).starts_with(&format!("{id}: alice acknowledged")),
        "{}",
        text(10)
    );
    assert_eq!(calls[10].1["channel"], "#incident-2026-03-02-140000");
}

async fn an_incident_channel_follows_its_incident_after_a_downgrade(db: &TestDatabase) {
    let (commands, engine, delivery, clock, calls) = room_rig(db).await;
    let id = commands
        .declare(
            &Declaration {
                title: "Checkout down".into(),
                severity: "SEV1".into(),
                service: "checkout".into(),
                summary: None,
                category: None,
                flags: vec![],
            },
            "zoe",
        )
        .await
        .expect("declared")
        .incident
        .id;
    engine.tick().await.expect("tick");
    delivery.tick().await.expect("delivery");
    clock.set(t0() + SignedDuration::from_mins(2));
    commands
        .execute(
            id,
            "alice",
            None,
            &Command::ChangeSeverity {
                to: "SEV3".into(),
                reason: Some("only one region".into()),
            },
        )
        .await
        .expect("downgraded");
    commands
        .execute(id, "alice", None, &Command::Resolve { summary: None })
        .await
        .expect("resolved");
    delivery.tick().await.expect("delivery");
    let posts: Vec<String> = calls
        .lock()
        .expect("lock")
        .iter()
        .filter(|(m, b)| m == "chat.postMessage" && b["channel"] == "#incident-2026-03-02-140000")
        .map(|(_, b)| b["text"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(
        posts.iter().any(|t| t.contains("SEV1 → SEV3"))
            && posts.iter().any(|t| t.contains("resolved")),
        "the channel hears the incident to its end: {posts:?}"
    );
}
