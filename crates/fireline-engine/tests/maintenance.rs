//! Scheduled maintenance told to status page subscribers, on a fake clock, on SQLite
//! and PostgreSQL: each step of a public window (announced, started, completed) reaches
//! each confirmed, enabled subscriber of its components once, through the outbox, by
//! fireline's signed webhook with the unsubscribe link; unconfirmed, disabled and other
//! components' subscribers get nothing; a second worker or a restarted one sends
//! nothing twice; a window removed from the policy says nothing more, one added in
//! progress starts at once, and steps gone stale are never sent. The stand-in receiver
//! listens on loopback, which the workers here allow explicitly.

use fireline_core::policy::{Policy, BUILTIN};
use fireline_engine::paging::local_links;
use fireline_engine::subscribers::{token_hash, SubscriberLinks};
use fireline_engine::{Delivery, DeliveryConfig, DeliveryReport, LivePolicy, ManualClock, Pager};
use fireline_notify::{Allow, Category, Notifier};
use fireline_store::testing::TestDatabase;
use fireline_store::{backend_tests, NewSubscriber, Store, SubscriberKind, SubscriberLink};
use jiff::{SignedDuration, Timestamp};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// In every field customers must never see.
const MARKER: &str = "ZZINTERNALZZ";

fn t0() -> Timestamp {
    "2026-03-02T14:00:00Z".parse().expect("timestamp")
}

fn hours(h: i64) -> SignedDuration {
    SignedDuration::from_hours(h)
}

/// The built-in policy with one public window on `checkout` from `start` for two
/// hours, announced a day ahead; its name and matcher hold the marker.
fn policy_with_window(start: Timestamp) -> Policy {
    let end = start + hours(2);
    let text = format!(
        r#"{BUILTIN}
[[maintenance]]
name = "{MARKER} db failover"
start = "{start}"
end = "{end}"
match = [{{ label = "service", equals = "checkout" }}, {{ label = "team", equals = "{MARKER}" }}]
title = "Checkout upgrade"
description = "Card payments may pause for a minute."
components = ["checkout"]
announce = "1d"
"#
    );
    Policy::from_toml(&text).unwrap_or_else(|p| panic!("valid policy: {p:#?}"))
}

/// A webhook receiver answering 200, recording path and body of each request.
struct Receiver {
    url: String,
    requests: Arc<Mutex<Vec<(String, String)>>>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
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
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                );
            }
        });
        Receiver { url, requests }
    }

    /// What each subscriber (by path) was told, as `(path, headline)`, sorted.
    fn headlines(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .requests
            .lock()
            .expect("lock")
            .iter()
            .map(|(path, body)| {
                let json: serde_json::Value = serde_json::from_str(body).expect("json");
                (
                    path.trim_start_matches('/').to_owned(),
                    json["headline"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        out.sort();
        out
    }

    fn bodies(&self) -> Vec<(String, String)> {
        self.requests.lock().expect("lock").clone()
    }
}

struct Rig {
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
    policy: LivePolicy,
    pager: Pager,
    receiver: Receiver,
    links: SubscriberLinks,
}

impl Rig {
    async fn new(db: &TestDatabase, policy: Policy) -> Rig {
        let store = db.store.clone();
        let pager = Pager::new(store.clone(), local_links());
        let links = SubscriberLinks::open(store.as_ref(), &pager.links().base_url)
            .await
            .expect("links");
        Rig {
            store,
            clock: Arc::new(ManualClock::new(t0())),
            policy: LivePolicy::new(policy),
            pager,
            receiver: Receiver::start(),
            links,
        }
    }

    /// A delivery worker named `owner`, as a replica or a restarted process has.
    fn worker(&self, owner: &str) -> Delivery {
        Delivery::new(
            self.store.clone(),
            self.policy.clone(),
            self.clock.clone(),
            owner,
            Notifier::new(None, Duration::from_secs(5))
                .expect("notifier")
                .with_outbound(Allow::nothing().with(Category::Loopback)),
            self.pager.clone(),
            DeliveryConfig::default(),
        )
    }

    /// A webhook subscriber to the receiver's `/{id}`, confirmed unless `pending`.
    async fn subscribe(&self, id: &str, components: &[&str], pending: bool) {
        let new = NewSubscriber {
            id: id.into(),
            kind: SubscriberKind::Webhook,
            address: format!("{}/{id}", self.receiver.url),
            contact: Some(format!("{id}@example.com")),
            components: components.iter().map(|c| (*c).to_owned()).collect(),
            confirm_hash: token_hash(&self.links.token(SubscriberLink::Confirm, id)),
            unsubscribe_hash: token_hash(&self.links.token(SubscriberLink::Unsubscribe, id)),
            created_at: t0(),
        };
        self.store.add_subscriber(&new).await.expect("subscribe");
        if !pending {
            self.store
                .confirm_subscriber(id, t0())
                .await
                .expect("confirm");
        }
    }

    /// The usual audience: two who should hear of `checkout`, four who should not.
    async fn audience(&self) {
        self.subscribe("all", &[], false).await;
        self.subscribe("checkout", &["checkout", "search"], false)
            .await;
        self.subscribe("search", &["search"], false).await;
        self.subscribe("pending", &[], true).await;
        self.subscribe("disabled", &["checkout"], false).await;
        self.store
            .subscriber_failed("disabled", t0(), "550 no such user", true)
            .await
            .expect("disable");
    }
}

async fn tick(worker: &Delivery) -> DeliveryReport {
    worker.tick().await.expect("delivery tick")
}

fn told(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = pairs
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    out.sort();
    out
}

async fn each_step_reaches_each_confirmed_subscriber_of_its_component_once(db: &TestDatabase) {
    let start = t0() + hours(48);
    let rig = Rig::new(db, policy_with_window(start)).await;
    rig.audience().await;
    let worker = rig.worker("delivery-1");
    // Before the announcement: nothing.
    assert_eq!(tick(&worker).await, DeliveryReport::default());

    // A day ahead: announced, to the two who want checkout.
    rig.clock.set(start - hours(24));
    let report = tick(&worker).await;
    assert_eq!((report.maintenance, report.sent), (2, 2), "{report:?}");
    let announced = "Scheduled maintenance: Checkout upgrade";
    assert_eq!(
        rig.receiver.headlines(),
        told(&[("all", announced), ("checkout", announced)])
    );
    for (path, body) in rig.receiver.bodies() {
        let json: serde_json::Value = serde_json::from_str(&body).expect("json");
        let who = path.trim_start_matches('/');
        assert_eq!(json["unsubscribe_url"], rig.links.unsubscribe_url(who));
        let text = json["text"].as_str().unwrap_or_default();
        assert!(
            text.starts_with("Card payments may pause for a minute.\n"),
            "{text}"
        );
        assert!(
            text.contains("Scheduled: 2026-03-04 14:00 UTC – 2026-03-04 16:00 UTC"),
            "{text}"
        );
        assert!(text.contains("Affects: checkout"), "{text}");
        assert!(!body.contains(MARKER), "internal text in {body}");
    }
    // Again, from this worker, a second replica and a restarted one: nothing more.
    assert_eq!(tick(&worker).await, DeliveryReport::default());
    assert_eq!(
        tick(&rig.worker("delivery-2")).await,
        DeliveryReport::default()
    );
    rig.clock.set(start - hours(1));
    assert_eq!(
        tick(&rig.worker("restarted")).await,
        DeliveryReport::default()
    );

    // The start and the end, each once, whichever worker gets there first.
    rig.clock.set(start);
    assert_eq!(tick(&rig.worker("delivery-2")).await.sent, 2);
    assert_eq!(tick(&worker).await.sent, 0);
    rig.clock
        .set(start + hours(2) + SignedDuration::from_mins(5));
    assert_eq!(tick(&worker).await.sent, 2);
    assert_eq!(tick(&rig.worker("restarted again")).await.sent, 0);
    let (started, completed) = (
        "Maintenance in progress: Checkout upgrade",
        "Maintenance completed: Checkout upgrade",
    );
    assert_eq!(
        rig.receiver.headlines(),
        told(&[
            ("all", announced),
            ("all", started),
            ("all", completed),
            ("checkout", announced),
            ("checkout", started),
            ("checkout", completed),
        ])
    );
    assert!(rig
        .receiver
        .bodies()
        .iter()
        .all(|(_, body)| !body.contains(MARKER)));
}

async fn a_removed_window_says_nothing_more_and_a_late_one_starts_at_once(db: &TestDatabase) {
    let start = t0() + hours(48);
    let rig = Rig::new(db, policy_with_window(start)).await;
    rig.audience().await;
    let worker = rig.worker("delivery");
    rig.clock.set(start - hours(24));
    assert_eq!(tick(&worker).await.sent, 2);

    // Removed before it starts: its start and end are never sent.
    rig.policy.replace(Policy::builtin());
    rig.clock.set(start);
    assert_eq!(tick(&worker).await, DeliveryReport::default());
    rig.clock.set(start + hours(3));
    assert_eq!(tick(&worker).await, DeliveryReport::default());

    // Added an hour into its run: started at once, its announcement skipped.
    let late = t0() + hours(100);
    rig.clock.set(late + hours(1));
    rig.policy.replace(policy_with_window(late));
    let report = tick(&worker).await;
    assert_eq!((report.maintenance, report.sent), (2, 2), "{report:?}");
    let mut late_ones: Vec<(String, String)> = rig
        .receiver
        .headlines()
        .into_iter()
        .filter(|(_, h)| h.starts_with("Maintenance in progress"))
        .collect();
    late_ones.sort();
    assert_eq!(
        late_ones,
        told(&[
            ("all", "Maintenance in progress: Checkout upgrade"),
            ("checkout", "Maintenance in progress: Checkout upgrade"),
        ])
    );
    assert_eq!(rig.receiver.headlines().len(), 4, "no second announcement");
}

async fn steps_gone_stale_while_no_worker_ran_are_never_sent(db: &TestDatabase) {
    let start = t0() + hours(48);
    let rig = Rig::new(db, policy_with_window(start)).await;
    rig.audience().await;
    // Nothing ran from before the announcement until two hours after the end: the
    // window is over, its completion more than an hour old, so nobody hears a backlog.
    rig.clock.set(start + hours(4));
    let worker = rig.worker("back after an outage");
    assert_eq!(tick(&worker).await, DeliveryReport::default());
    assert!(rig.receiver.headlines().is_empty());
    // Back within the hour after another window's end: its completion alone is sent,
    // never the announcement and start it missed.
    let later = start + hours(100);
    rig.policy.replace(policy_with_window(later));
    rig.clock
        .set(later + hours(2) + SignedDuration::from_mins(30));
    let report = tick(&rig.worker("back sooner")).await;
    assert_eq!((report.maintenance, report.sent), (2, 2), "{report:?}");
    assert_eq!(
        rig.receiver.headlines(),
        told(&[
            ("all", "Maintenance completed: Checkout upgrade"),
            ("checkout", "Maintenance completed: Checkout upgrade"),
        ])
    );
}

backend_tests!(
    each_step_reaches_each_confirmed_subscriber_of_its_component_once,
    a_removed_window_says_nothing_more_and_a_late_one_starts_at_once,
    steps_gone_stale_while_no_worker_ran_are_never_sent,
);
