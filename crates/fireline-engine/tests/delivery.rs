//! Delivery on a fake clock, on SQLite and PostgreSQL: pages reach whoever is on call
//! through a local stand-in for Slack and for a generic webhook, follow-ups lapse on
//! acknowledgement, failures retry with backoff and then escalate, bursts are bundled,
//! hand-offs are announced once, and nothing is sent twice across workers. The stand-in
//! listens on loopback, which delivery refuses by default (`[outbound] allow`), so the
//! workers here allow loopback explicitly, except where that refusal is the point.

use fireline_core::oncall::Roster;
use fireline_core::plan::next_due_after;
use fireline_core::policy::Policy;
use fireline_core::{
    decide, declare, Command, Declaration, EventData, Incident, IncidentId, NewEvent,
};
use fireline_engine::paging::local_links;
use fireline_engine::{Delivery, DeliveryConfig, Engine, LivePolicy, ManualClock, Pager};
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

fn mins(m: i64) -> Timestamp {
    t0() + SignedDuration::from_mins(m)
}

const POLICY: &str = r#"
name = "delivery-test"
[severities.SEV1]
name = "Critical"
rank = 1
page = ["schedule:primary"]
[severities.SEV1.clocks]
acknowledge = "5m"
[severities.SEV3]
name = "Minor"
rank = 3

[[escalation]]
name = "Secondary"
targets = ["person:bob"]
triggers = [{ when = "not_acknowledged", after = "10m", severities = ["SEV1"] }]
repeat = { times = 1, every = "10m" }
"#;

fn policy() -> Policy {
    Policy::from_toml(POLICY).expect("test policy is valid")
}

/// A stand-in for Slack or a webhook receiver: records each request's path, headers and
/// body, and answers with the next status in its script (200 once the script runs out).
struct Receiver {
    url: String,
    requests: Arc<Mutex<Vec<(String, String, String)>>>,
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
                let mut headers = String::new();
                let mut length = 0usize;
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                        break;
                    }
                    if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    headers.push_str(&h);
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                seen.lock().expect("lock").push((
                    path,
                    headers,
                    String::from_utf8_lossy(&body).into_owned(),
                ));
                let status = script.lock().expect("lock").next().unwrap_or(200);
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                );
                let _ = stream.write_all(reply.as_bytes());
            }
        });
        Receiver { url, requests }
    }

    fn bodies(&self) -> Vec<String> {
        self.requests
            .lock()
            .expect("lock")
            .iter()
            .map(|(_, _, b)| b.clone())
            .collect()
    }

    fn paths(&self) -> Vec<String> {
        self.requests
            .lock()
            .expect("lock")
            .iter()
            .map(|(p, _, _)| p.clone())
            .collect()
    }
}

/// Alice is on call on `primary` (a daily rotation handing over at 15:00 UTC to carol);
/// Bob is the secondary. Each reaches them through the receiver: alice by Slack at once
/// and by webhook after 5 minutes; bob and carol by webhook.
fn roster(receiver: &Receiver) -> Roster {
    let url = &receiver.url;
    Roster::from_toml_str(&format!(
        r#"
[people.alice]
name = "Alice"
contacts = [{{ kind = "slack", address = "{url}/slack/alice" }}, {{ kind = "webhook", address = "{url}/hook/alice", secret = "s" }}]
rules = [{{ kind = "slack", after = "0m" }}, {{ kind = "webhook", after = "5m" }}]
[people.bob]
name = "Bob"
contacts = [{{ kind = "webhook", address = "{url}/hook/bob" }}]
[people.carol]
name = "Carol"
contacts = [{{ kind = "webhook", address = "{url}/hook/carol" }}]

[schedules.primary]
name = "Primary"
time_zone = "UTC"
[[schedules.primary.layers]]
name = "daily"
participants = ["alice", "carol"]
shift = "1d"
handoff = "15:00"
start = "2026-03-01"
"#
    ))
    .expect("roster")
}

struct Rig {
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
    engine: Engine,
    delivery: Delivery,
    policy: Policy,
    receiver: Receiver,
}

impl Rig {
    async fn new(db: &TestDatabase, script: Vec<u16>) -> Rig {
        Rig::with_outbound(db, script, loopback()).await
    }

    async fn with_outbound(db: &TestDatabase, script: Vec<u16>, allow: Allow) -> Rig {
        let receiver = Receiver::start(script);
        let store = db.store.clone();
        store
            .replace_roster(&roster(&receiver), t0())
            .await
            .expect("roster");
        let clock = Arc::new(ManualClock::new(t0()));
        let live = LivePolicy::new(policy());
        let pager = Pager::new(store.clone(), local_links());
        let engine = Engine::new(store.clone(), live.clone(), clock.clone(), "engine")
            .with_pager(pager.clone());
        let delivery = Delivery::new(
            store.clone(),
            live.clone(),
            clock.clone(),
            "delivery",
            Notifier::new(None, Duration::from_secs(5))
                .expect("notifier")
                .with_outbound(allow)
                .with_web_push(fireline_notify::WebPushConfig {
                    key: fireline_notify::webpush::VapidKey::generate().expect("key"),
                    subject: "mailto:oncall@example.com".into(),
                })
                .expect("web push"),
            pager.clone(),
            DeliveryConfig::default(),
        );
        Rig {
            store,
            clock,
            engine,
            delivery,
            policy: policy(),
            receiver,
        }
    }

    async fn declare(&self, severity: &str, title: &str) -> IncidentId {
        let data = declare(
            &Declaration {
                title: title.into(),
                severity: severity.into(),
                service: "api".into(),
                summary: None,
                category: None,
                flags: vec![],
            },
            &self.policy,
        )
        .expect("valid");
        let event = NewEvent {
            at: self.clock_now(),
            actor: "zoe".into(),
            data,
        };
        let next = next_due_after(&self.policy, &[], std::slice::from_ref(&event));
        self.store
            .create_incident(event, next)
            .await
            .expect("create")
            .0
            .id
    }

    fn clock_now(&self) -> Timestamp {
        use fireline_engine::Clock;
        self.clock.now()
    }

    async fn command(&self, id: IncidentId, command: Command) {
        let events = self.store.events(id).await.expect("events");
        let current = Incident::fold(id, &events).expect("fold");
        let data = decide(&current, &command, self.policy.catalog()).expect("valid");
        let new = vec![NewEvent {
            at: self.clock_now(),
            actor: "zoe".into(),
            data,
        }];
        let next = next_due_after(&self.policy, &events, &new);
        self.store
            .append(&current, new, next)
            .await
            .expect("append");
    }

    async fn acknowledge(&self, id: IncidentId) {
        let events = self.store.events(id).await.expect("events");
        let current = Incident::fold(id, &events).expect("fold");
        let data = decide(&current, &Command::Acknowledge, self.policy.catalog()).expect("ack");
        let new = vec![NewEvent {
            at: self.clock_now(),
            actor: "alice".into(),
            data,
        }];
        let next = next_due_after(&self.policy, &events, &new);
        self.store
            .append(&current, new, next)
            .await
            .expect("append");
    }

    /// Moves the clock and runs the engine, then delivery.
    async fn at(&self, t: Timestamp) -> fireline_engine::DeliveryReport {
        self.clock.set(t);
        self.engine.tick().await.expect("engine tick");
        self.delivery.tick().await.expect("delivery tick")
    }

    async fn timeline(&self, id: IncidentId) -> Vec<EventData> {
        self.store
            .events(id)
            .await
            .expect("events")
            .into_iter()
            .map(|e| e.data)
            .collect()
    }
}

/// What every worker here allows: the stand-in receiver on 127.0.0.1.
fn loopback() -> Allow {
    Allow::nothing().with(Category::Loopback)
}

fn worker(
    store: &Arc<dyn Store>,
    live: &LivePolicy,
    clock: &Arc<ManualClock>,
    pager: &Pager,
    owner: &str,
) -> Delivery {
    Delivery::new(
        store.clone(),
        live.clone(),
        clock.clone(),
        owner,
        Notifier::new(None, Duration::from_secs(5))
            .expect("notifier")
            .with_outbound(loopback()),
        pager.clone(),
        DeliveryConfig::default(),
    )
}

async fn a_page_reaches_whoever_is_on_call_and_the_timeline_says_who(db: &TestDatabase) {
    let rig = Rig::new(db, vec![]).await;
    let id = rig.declare("SEV1", "Checkout down").await;
    let report = rig.at(t0()).await;
    assert_eq!((report.sent, report.delivered), (1, 1), "{report:?}");
    assert_eq!(rig.receiver.paths(), ["/slack/alice"]);
    let body: serde_json::Value =
        serde_json::from_str(&rig.receiver.bodies()[0]).expect("Slack body is JSON");
    let text = body.to_string();
    for want in ["Checkout down", "SEV1", "api", "/ack/"] {
        assert!(text.contains(want), "Slack message lacks {want}: {text}");
    }
    assert!(body["blocks"].is_array(), "Slack blocks: {body}");

    let timeline = rig.timeline(id).await;
    let paged = timeline
        .iter()
        .find_map(|e| match e {
            EventData::Paged { recipients, .. } => Some(recipients.clone()),
            _ => None,
        })
        .expect("paged");
    assert_eq!(paged.len(), 1);
    assert_eq!(
        (paged[0].person.as_str(), paged[0].via.as_str()),
        ("alice", "schedule:primary")
    );
    assert!(
        timeline.iter().any(|e| matches!(e,
            EventData::Notified { person, channel, bundled: 1, .. } if person == "alice" && channel == "slack")),
        "the delivery is on the timeline: {timeline:?}"
    );
    // Nothing is sent twice, by this worker or another one on the same database.
    assert_eq!(rig.delivery.tick().await.expect("tick").sent, 0);
    let other = worker(
        &rig.store,
        &LivePolicy::new(policy()),
        &rig.clock,
        &Pager::new(rig.store.clone(), local_links()),
        "other",
    );
    assert_eq!(other.tick().await.expect("tick").sent, 0);
    assert_eq!(rig.receiver.paths().len(), 1);
}

async fn a_follow_up_lapses_once_someone_acknowledges(db: &TestDatabase) {
    let rig = Rig::new(db, vec![]).await;
    let acked = rig.declare("SEV1", "acknowledged in time").await;
    rig.at(t0()).await;
    rig.clock.set(mins(2));
    rig.acknowledge(acked).await;
    let report = rig.at(mins(5)).await;
    assert_eq!(report.skipped, 1, "the 5-minute webhook lapsed: {report:?}");
    assert_eq!(rig.receiver.paths(), ["/slack/alice"]);

    // Unacknowledged, the follow-up goes out at +5m, signed.
    let ignored = rig.declare("SEV1", "nobody answers").await;
    rig.at(mins(5)).await; // its Slack page
    let report = rig.at(mins(10)).await;
    assert!(report.sent >= 1, "{report:?}");
    let requests = rig.receiver.requests.lock().expect("lock").clone();
    let hook = requests
        .iter()
        .find(|(p, _, b)| p == "/hook/alice" && b.contains("nobody answers"))
        .expect("the webhook follow-up");
    let headers = hook.1.to_ascii_lowercase();
    assert!(headers.contains("x-fireline-signature: v1="), "{headers}");
    let ts = headers
        .lines()
        .find_map(|l| l.strip_prefix("x-fireline-timestamp:"))
        .expect("timestamp header")
        .trim()
        .to_owned();
    let sig = headers
        .lines()
        .find_map(|l| l.strip_prefix("x-fireline-signature:"))
        .expect("signature header")
        .trim()
        .to_owned();
    fireline_notify::verify(
        "s",
        &ts,
        &sig,
        hook.2.as_bytes(),
        mins(10),
        SignedDuration::from_mins(5),
    )
    .expect("the signature verifies");
    let _ = ignored;
}

async fn failures_retry_with_backoff_then_report_and_escalate(db: &TestDatabase) {
    // Alice's Slack answers 500 five times: every attempt fails.
    let rig = Rig::new(db, vec![500, 500, 500, 500, 500]).await;
    let id = rig.declare("SEV1", "Slack is down too").await;
    let first = rig.at(t0()).await;
    assert_eq!(first.retried, 1, "{first:?}");
    // The next attempt waits about 10 s (± a fifth): not yet at 7 s.
    let early = rig.at(t0() + SignedDuration::from_secs(7)).await;
    assert_eq!(early.retried + early.sent + early.failed, 0, "{early:?}");
    let mut t = t0();
    let mut failed = 0;
    for _ in 0..12 {
        t += SignedDuration::from_secs(40);
        failed += rig.at(t).await.failed;
        if failed > 0 {
            break;
        }
    }
    assert_eq!(failed, 1, "given up after the attempts run out");
    assert_eq!(
        rig.receiver
            .paths()
            .iter()
            .filter(|p| *p == "/slack/alice")
            .count(),
        5,
        "five attempts"
    );
    let timeline = rig.timeline(id).await;
    assert!(
        timeline.iter().any(|e| matches!(e,
            EventData::NotificationFailed { person, attempts: 5, .. } if person == "alice")),
        "{timeline:?}"
    );
    let escalated = timeline
        .iter()
        .find_map(|e| match e {
            EventData::Escalated {
                level,
                reason,
                recipients,
                ..
            } => Some((*level, reason.clone(), recipients.clone())),
            _ => None,
        })
        .expect("escalated past alice");
    assert_eq!(escalated.0, 1);
    assert!(
        escalated.1.contains("could not reach alice"),
        "{}",
        escalated.1
    );
    assert_eq!(escalated.2[0].person, "bob");
    rig.at(t + SignedDuration::from_secs(1)).await;
    assert!(
        rig.receiver.paths().contains(&"/hook/bob".to_owned()),
        "bob was paged: {:?}",
        rig.receiver.paths()
    );
}

async fn webhook_to_a_refused_address_fails_at_once_and_escalates(db: &TestDatabase) {
    // Default outbound settings: the receiver on 127.0.0.1 is not to be reached.
    let rig = Rig::with_outbound(db, vec![], Allow::nothing()).await;
    let id = rig.declare("SEV1", "Checkout down").await;
    let report = rig.at(t0()).await;
    // Permanent: no retry, given up on the first attempt (bob, whom the escalation
    // pages, is on the same receiver and may be refused in the same tick).
    assert_eq!(report.retried, 0, "{report:?}");
    assert!(report.failed >= 1, "{report:?}");
    assert!(rig.receiver.paths().is_empty(), "nothing was sent");
    let timeline = rig.timeline(id).await;
    let failure = timeline
        .iter()
        .find_map(|e| match e {
            EventData::NotificationFailed {
                person,
                attempts: 1,
                error,
                ..
            } if person == "alice" => Some(error.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("alice's failure on the timeline: {timeline:?}"));
    assert!(failure.contains("127.0.0.1"), "{failure}");
    assert!(failure.contains("loopback"), "{failure}");
    assert!(
        !failure.contains("/slack/alice"),
        "the URL stays out: {failure}"
    );
    assert!(
        timeline.iter().any(|e| matches!(e,
            EventData::Escalated { level: 1, reason, .. } if reason.contains("could not reach alice"))),
        "escalated past alice at once: {timeline:?}"
    );
}

fn slack_to_alice(rig: &Rig) -> Vec<String> {
    rig.receiver
        .requests
        .lock()
        .expect("lock")
        .iter()
        .filter(|(p, _, _)| p == "/slack/alice")
        .map(|(_, _, b)| b.clone())
        .collect()
}

/// Regression: flood control held back every page after the first for a minute, so a
/// burst of new SEV1 incidents reached the on-call as one bundle 60 s late.
async fn a_burst_of_new_sev1_incidents_pages_each_at_once(db: &TestDatabase) {
    let rig = Rig::new(db, vec![]).await;
    rig.declare("SEV1", "first").await;
    rig.at(t0()).await;
    for (i, title) in [(10, "second"), (20, "third")] {
        rig.clock.set(t0() + SignedDuration::from_secs(i));
        rig.declare("SEV1", title).await;
        let report = rig.at(t0() + SignedDuration::from_secs(i)).await;
        assert_eq!(
            (report.sent, report.deferred),
            (1, 0),
            "{title}: {report:?}"
        );
    }
    let slack = slack_to_alice(&rig);
    assert_eq!(slack.len(), 3, "each page on its own, at once");
    assert!(slack[2].contains("third"), "{}", slack[2]);
}

/// A breached clock is not left on the timeline: the commander hears of it.
async fn a_breached_clock_reaches_the_commander(db: &TestDatabase) {
    let rig = Rig::new(db, vec![]).await;
    let id = rig.declare("SEV1", "Checkout down").await;
    rig.command(
        id,
        Command::AssignRole {
            role: fireline_core::IncidentRole::Commander,
            assignee: "bob".into(),
        },
    )
    .await;
    rig.at(t0()).await;
    assert!(!rig.receiver.paths().contains(&"/hook/bob".to_owned()));
    // The acknowledge clock (5m) runs out.
    rig.at(mins(5)).await;
    let to_bob: Vec<String> = rig
        .receiver
        .requests
        .lock()
        .expect("lock")
        .iter()
        .filter(|(p, _, _)| p == "/hook/bob")
        .map(|(_, _, b)| b.clone())
        .collect();
    assert_eq!(to_bob.len(), 1, "told once");
    let body: serde_json::Value = serde_json::from_str(&to_bob[0]).expect("JSON");
    let text = body.to_string();
    assert!(
        text.contains("Checkout down") && text.contains("commander"),
        "{text}"
    );
    assert!(
        text.contains("/ui/incidents/INC-"),
        "links to the web page: {text}"
    );
    assert!(
        rig.timeline(id).await.iter().any(|e| matches!(e,
            EventData::Notified { person, .. } if person == "bob")),
        "the notice is on the timeline"
    );
    // Engine and delivery ticking again send nothing more.
    rig.at(mins(7)).await;
    let again = rig
        .receiver
        .paths()
        .iter()
        .filter(|p| *p == "/hook/bob")
        .count();
    assert_eq!(again, 1);
}

/// What nobody must wake for (here: acknowledge clocks breached, told to the on-call as
/// no one is commander) waits out the flood window and then goes as one message.
async fn reminders_within_the_flood_window_go_out_as_one_bundle(db: &TestDatabase) {
    let rig = Rig::new(db, vec![]).await;
    let mut ids = Vec::new();
    for (i, title) in [(0, "first"), (10, "second"), (20, "third")] {
        rig.clock.set(t0() + SignedDuration::from_secs(i));
        ids.push(rig.declare("SEV1", title).await);
        rig.at(t0() + SignedDuration::from_secs(i)).await;
    }
    // The acknowledge clocks (5m) run out at 5:00, 5:10 and 5:20 (alice's webhook
    // follow-ups to the pages fall due then too, on their own channel).
    rig.at(mins(5)).await;
    assert_eq!(
        slack_to_alice(&rig).len(),
        4,
        "the first reminder goes at once"
    );
    for i in [10, 20] {
        let held = rig.at(mins(5) + SignedDuration::from_secs(i)).await;
        assert_eq!(held.deferred, 1, "{held:?}");
        assert_eq!(slack_to_alice(&rig).len(), 4, "held at 5:{i}");
    }
    let released = rig.at(mins(6) + SignedDuration::from_secs(1)).await;
    assert_eq!((released.sent, released.delivered), (1, 2), "{released:?}");
    let slack = slack_to_alice(&rig);
    let bundle = slack.last().expect("the bundle");
    assert!(
        bundle.contains("second") && bundle.contains("third"),
        "{bundle}"
    );
    for id in &ids[1..] {
        assert!(
            rig.timeline(*id)
                .await
                .iter()
                .any(|e| matches!(e, EventData::Notified { bundled: 2, .. })),
            "the bundle is recorded on {id}"
        );
    }
}

async fn hand_offs_are_announced_once_to_both_people(db: &TestDatabase) {
    let rig = Rig::new(db, vec![]).await;
    rig.clock.set("2026-03-02T14:58:00Z".parse().expect("t"));
    rig.declare("SEV3", "still open at hand-off").await;
    rig.delivery.tick().await.expect("tick");
    let second = worker(
        &rig.store,
        &LivePolicy::new(policy()),
        &rig.clock,
        &Pager::new(rig.store.clone(), local_links()),
        "second",
    );
    second.tick().await.expect("tick");
    let at = "2026-03-02T15:00:30Z".parse().expect("t");
    let report = rig.at(at).await;
    second.tick().await.expect("tick");
    assert_eq!(report.handoffs, 2, "{report:?}");
    let mut paths = rig.receiver.paths();
    paths.sort();
    // Through each one's immediate contact: alice's Slack, carol's webhook.
    assert_eq!(paths, ["/hook/carol", "/slack/alice"], "each told once");
    for body in rig.receiver.bodies() {
        assert!(body.contains("Hand-off"), "{body}");
        assert!(
            body.contains("still open at hand-off"),
            "open incidents listed: {body}"
        );
        // In the policy's hand-off wording, from the outgoing to the incoming person.
        assert!(
            body.contains("Hand-off for INC-1")
                && body.contains("From: Alice")
                && body.contains("To: Carol"),
            "{body}"
        );
    }
}

async fn action_item_owners_are_reminded_once_before_due_and_once_overdue(db: &TestDatabase) {
    use fireline_core::postmortem::{ActionItem, ActionStatus, Priority};
    let rig = Rig::new(db, vec![]).await;
    let id = rig.declare("SEV3", "had a post-mortem").await;
    let item = |owner: &str, due: &str| ActionItem {
        id: 0,
        incident: id,
        title: format!("{owner}'s fix"),
        owner: owner.into(),
        priority: Priority::P1,
        due: due.parse().expect("date"),
        status: ActionStatus::Open,
        note: None,
        created_at: t0(),
        created_by: "zoe".into(),
        updated_at: t0(),
        updated_by: "zoe".into(),
    };
    // Today is 2026-03-02: alice's is due tomorrow, carol's next week, and the third
    // owner is not in the roster (nobody to tell).
    let alices = rig
        .store
        .insert_action_item(&item("alice", "2026-03-03"))
        .await
        .expect("insert");
    rig.store
        .insert_action_item(&item("carol", "2026-03-09"))
        .await
        .expect("insert");
    rig.store
        .insert_action_item(&item("outsider", "2026-03-01"))
        .await
        .expect("insert");
    let report = rig.at(mins(1)).await;
    assert_eq!(report.action_reminders, 1, "{report:?}");
    assert_eq!(rig.receiver.paths(), ["/slack/alice"]);
    assert!(rig.receiver.bodies()[0].contains(&format!("AI-{} is due 2026-03-03", alices.id)));
    // Later cycles the same day and the next: no repeat.
    assert_eq!(rig.at(mins(30)).await.action_reminders, 0);
    assert_eq!(rig.at(mins(24 * 60)).await.action_reminders, 0);
    // The day after it was due: overdue, once.
    assert_eq!(rig.at(mins(2 * 24 * 60)).await.action_reminders, 1);
    assert_eq!(rig.at(mins(2 * 24 * 60 + 30)).await.action_reminders, 0);
    // The roster's daily hand-offs are delivered too (and may bundle with a reminder).
    let bodies: Vec<String> = rig
        .receiver
        .bodies()
        .into_iter()
        .filter(|b| b.contains(&format!("AI-{}", alices.id)))
        .collect();
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    assert!(
        bodies[1].contains(&format!("AI-{} is overdue (due 2026-03-03)", alices.id)),
        "{}",
        bodies[1]
    );
    // Closed items are not chased.
    let mut closed = alices.clone();
    closed.status = ActionStatus::Done;
    closed.note = Some("done".into());
    rig.store.update_action_item(&closed).await.expect("close");
    assert_eq!(
        rig.at(mins(9 * 24 * 60)).await.action_reminders,
        1,
        "carol's, overdue now"
    );
    assert!(rig.receiver.paths().iter().all(|p| p != "/slack/outsider"));
}

async fn the_last_level_repeats_then_escalation_is_exhausted_loudly(db: &TestDatabase) {
    let rig = Rig::new(db, vec![]).await;
    let id = rig.declare("SEV1", "nobody home").await;
    for m in [0, 10, 20, 30] {
        rig.at(mins(m)).await;
    }
    let kinds: Vec<&'static str> = rig
        .timeline(id)
        .await
        .iter()
        .filter(|e| e.action_key().is_some())
        .map(|e| e.kind())
        .collect();
    assert_eq!(
        kinds,
        [
            "paged",
            "sla_breached",
            "escalated",
            "escalated",
            "escalation_exhausted"
        ]
    );
    let bob = rig
        .receiver
        .bodies()
        .into_iter()
        .filter(|b| b.contains("ESCALATION EXHAUSTED"))
        .count();
    assert_eq!(bob, 1, "bob hears that escalation ran out");
    // Escalation pages carry the policy's escalation wording, with level and reason.
    let worded = rig
        .receiver
        .bodies()
        .into_iter()
        .filter(|b| b.contains("Escalating INC-1") && b.contains("Level: 1 (Secondary)"))
        .count();
    assert!(worded >= 1, "{:?}", rig.receiver.bodies());
}

backend_tests!(
    a_page_reaches_whoever_is_on_call_and_the_timeline_says_who,
    a_follow_up_lapses_once_someone_acknowledges,
    failures_retry_with_backoff_then_report_and_escalate,
    webhook_to_a_refused_address_fails_at_once_and_escalates,
    a_burst_of_new_sev1_incidents_pages_each_at_once,
    reminders_within_the_flood_window_go_out_as_one_bundle,
    a_breached_clock_reaches_the_commander,
    hand_offs_are_announced_once_to_both_people,
    the_last_level_repeats_then_escalation_is_exhausted_loudly,
    action_item_owners_are_reminded_once_before_due_and_once_overdue,
    a_page_rings_each_subscribed_device_and_a_gone_one_is_dropped_with_the_reason,
    a_person_who_chose_bundle_0m_gets_each_reminder_at_once,
    a_person_who_chose_a_longer_bundle_gets_reminders_later_together,
    a_slow_provider_never_holds_back_the_page_to_another_contact,
);

/// A browser's subscription at `url` (the keys are RFC 8291's example browser's).
fn device(id: &str, person: &str, url: &str, at: Timestamp) -> fireline_store::PushDevice {
    fireline_store::PushDevice {
        id: id.into(),
        person: person.into(),
        subscription: serde_json::json!({
            "endpoint": url,
            "keys": {
                "p256dh": "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
                "auth": "BTBZMqHH6r4Tts7J_aSIgg"
            }
        })
        .to_string(),
        label: id.into(),
        created_at: at,
        removed: None,
    }
}

async fn a_page_rings_each_subscribed_device_and_a_gone_one_is_dropped_with_the_reason(
    db: &TestDatabase,
) {
    let rig = Rig::new(db, vec![]).await;
    // Alice's rules now say push at once too; she subscribed a phone and a laptop. The
    // push service knows the phone (201) but no longer the laptop (410).
    let service = Receiver::start(vec![410, 201, 201]);
    let toml = {
        let r = roster(&rig.receiver);
        let mut alice = r.people["alice"].clone();
        alice.rules.push(fireline_core::oncall::NotificationRule {
            kind: fireline_core::oncall::ContactKind::Push,
            after: SignedDuration::ZERO,
        });
        let mut r = r;
        r.people.insert("alice".into(), alice);
        r
    };
    rig.store.replace_roster(&toml, t0()).await.expect("roster");
    for (id, minutes) in [("Laptop", 1), ("Phone", 2)] {
        rig.store
            .add_push_device(&device(
                id,
                "alice",
                &format!("{}/push/{id}", service.url),
                t0() - SignedDuration::from_mins(minutes),
            ))
            .await
            .expect("subscribe");
    }
    let first = rig.declare("SEV1", "Checkout 5xx").await;
    rig.at(t0()).await;
    // Newest device first: the laptop (410), then the phone (201).
    assert_eq!(service.paths(), ["/push/Laptop", "/push/Phone"]);
    let headers = service.requests.lock().expect("lock")[1]
        .1
        .to_ascii_lowercase();
    for wanted in [
        "urgency: high",
        "content-encoding: aes128gcm",
        "authorization: vapid t=",
        "topic: inc-1",
    ] {
        assert!(headers.contains(wanted), "{wanted} in {headers}");
    }
    let pushed = rig
        .timeline(first)
        .await
        .into_iter()
        .find_map(|e| match e {
            EventData::Notified {
                channel, detail, ..
            } if channel == "push" => Some(detail),
            _ => None,
        })
        .expect("the push is on the timeline");
    assert_eq!(pushed, "pushed to Phone (not to Laptop: gone)");
    // The laptop is out of use, with why, for alice to see; the phone still rings.
    let devices = rig
        .store
        .push_devices(Some("alice"))
        .await
        .expect("devices");
    let laptop = devices.iter().find(|d| d.id == "Laptop").expect("kept");
    let (at, why) = laptop.removed.clone().expect("removed");
    assert_eq!(at, t0());
    assert!(
        why.contains("no longer knows it") && why.contains("410"),
        "{why}"
    );
    assert!(devices
        .iter()
        .any(|d| d.id == "Phone" && d.removed.is_none()));
    rig.declare("SEV1", "Search down").await;
    rig.at(t0() + SignedDuration::from_secs(1)).await;
    assert_eq!(
        service.paths(),
        ["/push/Laptop", "/push/Phone", "/push/Phone"],
        "a gone device is never tried again"
    );
}

/// Alice's roster entry with her own `bundle` window.
async fn alice_bundles(rig: &Rig, window: SignedDuration) {
    let mut r = roster(&rig.receiver);
    if let Some(alice) = r.people.get_mut("alice") {
        alice.bundle = Some(window);
    }
    rig.store.replace_roster(&r, t0()).await.expect("roster");
}

/// Three SEV1s whose acknowledge clocks run out at 5:00, 5:10 and 5:20, each breach told
/// to alice on Slack; returns how many Slack messages she had by 5:20.
async fn three_breaches(rig: &Rig) -> usize {
    for (i, title) in [(0, "first"), (10, "second"), (20, "third")] {
        rig.clock.set(t0() + SignedDuration::from_secs(i));
        rig.declare("SEV1", title).await;
        rig.at(t0() + SignedDuration::from_secs(i)).await;
    }
    for i in [0, 10, 20] {
        rig.at(mins(5) + SignedDuration::from_secs(i)).await;
    }
    slack_to_alice(rig).len()
}

async fn a_person_who_chose_bundle_0m_gets_each_reminder_at_once(db: &TestDatabase) {
    let rig = Rig::new(db, vec![]).await;
    alice_bundles(&rig, SignedDuration::ZERO).await;
    assert_eq!(
        three_breaches(&rig).await,
        6,
        "three pages and each reminder at once"
    );
}

async fn a_person_who_chose_a_longer_bundle_gets_reminders_later_together(db: &TestDatabase) {
    // `bundle = "3m"`: held past the server's 1 minute, out together at 8:00.
    let rig = Rig::new(db, vec![]).await;
    alice_bundles(&rig, SignedDuration::from_mins(3)).await;
    assert_eq!(
        three_breaches(&rig).await,
        4,
        "the first reminder goes at once"
    );
    let held = rig.at(mins(6) + SignedDuration::from_secs(1)).await;
    assert_eq!(held.sent, 0, "still within her 3 minutes: {held:?}");
    let released = rig.at(mins(8)).await;
    assert_eq!((released.sent, released.delivered), (1, 2), "{released:?}");
    assert_eq!(slack_to_alice(&rig).len(), 5);
}

/// Reads one HTTP request from `stream` (head and body) and answers 200 after `before`.
fn answer_one(mut stream: std::net::TcpStream, before: impl FnOnce()) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    before();
    let _ =
        stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
}

async fn a_slow_provider_never_holds_back_the_page_to_another_contact(db: &TestDatabase) {
    let rig = Rig::new(db, vec![]).await;
    // Alice's Slack answers only once her webhook has been called (or gives up after
    // 4 s): sent one after the other, Slack first, the webhook would wait for it.
    let (called, webhook_called) = std::sync::mpsc::channel::<()>();
    let slow = TcpListener::bind("127.0.0.1:0").expect("bind");
    let fast = TcpListener::bind("127.0.0.1:0").expect("bind");
    let (slow_url, fast_url) = (
        format!("http://{}", slow.local_addr().expect("addr")),
        format!("http://{}", fast.local_addr().expect("addr")),
    );
    let waited = std::thread::spawn(move || {
        let (stream, _) = slow.accept().expect("slack request");
        let mut saw_webhook_first = false;
        answer_one(stream, || {
            saw_webhook_first = webhook_called.recv_timeout(Duration::from_secs(4)).is_ok();
        });
        saw_webhook_first
    });
    std::thread::spawn(move || {
        let (stream, _) = fast.accept().expect("webhook request");
        answer_one(stream, || {
            let _ = called.send(());
        });
    });
    let mut r = roster(&rig.receiver);
    if let Some(alice) = r.people.get_mut("alice") {
        alice.contacts[0].address = format!("{slow_url}/slack/alice");
        alice.contacts[1].address = format!("{fast_url}/hook/alice");
        alice.rules.clear();
    }
    rig.store.replace_roster(&r, t0()).await.expect("roster");
    rig.declare("SEV1", "Checkout 5xx").await;
    let report = rig.at(t0()).await;
    assert_eq!(report.sent, 2, "{report:?}");
    assert!(
        waited.join().expect("slow receiver"),
        "the webhook was called while Slack was still answering"
    );
}
