//! Status page subscribers on a fake clock, on SQLite and PostgreSQL: a public update
//! reaches each confirmed subscriber of its service once, through the outbox, by
//! fireline's signed webhook with the unsubscribe link; nothing about it lands on the
//! responders' timeline; a subscriber whose webhook is gone is disabled and never tried
//! again; one removed before delivery gets nothing. The stand-in receiver listens on
//! loopback, which the workers here allow explicitly.

use fireline_core::policy::Policy;
use fireline_core::{declare, Channel, Declaration, EventData, Incident, IncidentId, NewEvent};
use fireline_engine::paging::local_links;
use fireline_engine::subscribers::{token_hash, SubscriberLinks};
use fireline_engine::{Delivery, DeliveryConfig, LivePolicy, ManualClock, Pager};
use fireline_notify::{Allow, Category, Notifier};
use fireline_store::testing::TestDatabase;
use fireline_store::{backend_tests, NewSubscriber, Store, SubscriberKind, SubscriberLink};
use jiff::{SignedDuration, Timestamp};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn t0() -> Timestamp {
    "2026-03-02T14:00:00Z".parse().expect("timestamp")
}

/// A webhook receiver answering each request with the next status of its script (200
/// once it runs out), recording path, headers and body.
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
                    headers.push_str(&h.to_ascii_lowercase());
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

    fn requests(&self) -> Vec<(String, String, String)> {
        self.requests.lock().expect("lock").clone()
    }
}

struct Rig {
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
    pager: Pager,
    delivery: Delivery,
    receiver: Receiver,
    links: SubscriberLinks,
}

impl Rig {
    async fn new(db: &TestDatabase, script: Vec<u16>) -> Rig {
        let receiver = Receiver::start(script);
        let store = db.store.clone();
        let clock = Arc::new(ManualClock::new(t0()));
        let live = LivePolicy::new(Policy::builtin());
        let pager = Pager::new(store.clone(), local_links());
        let delivery = Delivery::new(
            store.clone(),
            live,
            clock.clone(),
            "delivery",
            Notifier::new(None, Duration::from_secs(5))
                .expect("notifier")
                .with_outbound(Allow::nothing().with(Category::Loopback)),
            pager.clone(),
            DeliveryConfig::default(),
        );
        let links = SubscriberLinks::open(store.as_ref(), &pager.links().base_url)
            .await
            .expect("links");
        Rig {
            store,
            clock,
            pager,
            delivery,
            receiver,
            links,
        }
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

    async fn declare(&self, service: &str) -> IncidentId {
        let data = declare(
            &Declaration {
                title: "Internal title".into(),
                severity: "SEV2".into(),
                service: service.into(),
                summary: Some("internal summary".into()),
                category: None,
                flags: vec![],
            },
            &Policy::builtin(),
        )
        .expect("valid");
        let event = NewEvent {
            at: t0(),
            actor: "zoe".into(),
            data,
        };
        self.store
            .create_incident(event, None)
            .await
            .expect("create")
            .0
            .id
    }

    /// Posts `text` on `channel` through the pager, as `Commands` does.
    async fn post(&self, id: IncidentId, channel: Channel, text: &str) {
        use fireline_engine::Clock;
        let history = self.store.events(id).await.expect("events");
        let current = Incident::fold(id, &history).expect("fold");
        let event = NewEvent {
            at: self.clock.now(),
            actor: "zoe".into(),
            data: EventData::UpdatePosted {
                channel,
                text: text.into(),
            },
        };
        self.pager
            .append(&Policy::builtin(), &current, vec![event], None, &history)
            .await
            .expect("append");
    }

    async fn tick(&self) -> fireline_engine::DeliveryReport {
        self.delivery.tick().await.expect("delivery tick")
    }

    async fn kinds(&self, id: IncidentId) -> Vec<&'static str> {
        self.store
            .events(id)
            .await
            .expect("events")
            .into_iter()
            .map(|e| e.data.kind())
            .collect()
    }
}

async fn a_public_update_reaches_each_confirmed_subscriber_of_its_service_once(db: &TestDatabase) {
    let rig = Rig::new(db, vec![]).await;
    rig.subscribe("all", &[], false).await;
    rig.subscribe("checkout", &["checkout"], false).await;
    rig.subscribe("search", &["search"], false).await;
    rig.subscribe("pending", &[], true).await;
    let id = rig.declare("checkout").await;
    rig.post(id, Channel::Internal, "internal words").await;
    rig.post(id, Channel::StatusPage, "Card payments are failing.")
        .await;
    let report = rig.tick().await;
    assert_eq!(report.sent, 2, "{report:?}");
    let mut requests = rig.receiver.requests();
    requests.sort();
    let paths: Vec<&str> = requests.iter().map(|(p, _, _)| p.as_str()).collect();
    assert_eq!(paths, ["/all", "/checkout"]);
    for (path, headers, body) in &requests {
        let json: serde_json::Value = serde_json::from_str(body).expect("json");
        assert_eq!(json["headline"], "checkout: Investigating", "{json}");
        let text = json["text"].as_str().unwrap_or_default();
        assert!(text.starts_with("Card payments are failing."), "{text}");
        let who = path.trim_start_matches('/');
        assert_eq!(json["unsubscribe_url"], rig.links.unsubscribe_url(who));
        assert!(headers.contains("x-fireline-signature: v1="), "{headers}");
        for internal in [
            "Internal title",
            "internal summary",
            "internal words",
            "SEV2",
            "zoe",
        ] {
            assert!(!body.contains(internal), "{internal} in {body}");
        }
    }
    // Each is sent once, and the responders' timeline holds no entry per subscriber.
    assert_eq!(rig.tick().await.sent, 0);
    assert_eq!(rig.receiver.requests().len(), 2);
    let kinds = rig.kinds(id).await;
    assert!(
        !kinds.contains(&"notified") && !kinds.contains(&"notification_failed"),
        "{kinds:?}"
    );
    // The customer channel reaches them too.
    rig.post(id, Channel::Customer, "Fixed for most customers.")
        .await;
    assert_eq!(rig.tick().await.sent, 2);
}

async fn a_subscriber_whose_webhook_is_gone_is_disabled_and_never_tried_again(db: &TestDatabase) {
    let rig = Rig::new(db, vec![410]).await;
    rig.subscribe("gone", &[], false).await;
    let id = rig.declare("api").await;
    rig.post(id, Channel::StatusPage, "Investigating errors.")
        .await;
    let report = rig.tick().await;
    assert_eq!(report.failed, 1, "{report:?}");
    let gone = rig
        .store
        .subscriber("gone")
        .await
        .expect("read")
        .expect("kept, disabled");
    assert_eq!(gone.disabled_at, Some(t0()));
    assert!(
        gone.last_failure
            .as_deref()
            .unwrap_or_default()
            .contains("410"),
        "{gone:?}"
    );
    // Not retried, not addressed again, and no escalation of the incident for it.
    rig.clock.set(t0() + SignedDuration::from_hours(1));
    rig.post(id, Channel::StatusPage, "Fixed.").await;
    assert_eq!(rig.tick().await, fireline_engine::DeliveryReport::default());
    assert_eq!(rig.receiver.requests().len(), 1);
    let kinds = rig.kinds(id).await;
    assert!(
        !kinds.contains(&"notification_failed") && !kinds.contains(&"escalated"),
        "{kinds:?}"
    );
}

async fn a_message_queued_for_a_subscriber_removed_since_is_not_sent(db: &TestDatabase) {
    let rig = Rig::new(db, vec![]).await;
    rig.subscribe("leaver", &[], false).await;
    let id = rig.declare("api").await;
    rig.post(id, Channel::StatusPage, "Investigating.").await;
    assert!(rig.store.remove_subscriber("leaver").await.expect("remove"));
    let report = rig.tick().await;
    assert_eq!((report.sent, report.skipped), (0, 1), "{report:?}");
    assert!(rig.receiver.requests().is_empty());
}

backend_tests!(
    a_public_update_reaches_each_confirmed_subscriber_of_its_service_once,
    a_subscriber_whose_webhook_is_gone_is_disabled_and_never_tried_again,
    a_message_queued_for_a_subscriber_removed_since_is_not_sent,
);
