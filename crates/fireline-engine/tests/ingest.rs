//! The alert processor on a fake clock, on SQLite and PostgreSQL: it stops promptly when
//! asked, leaving what it has not processed durable in the inbox.

use fireline_core::alert::{AlertInput, AlertStatus};
use fireline_core::policy::Policy;
use fireline_engine::{AlertProcessor, LivePolicy, ManualClock};
use fireline_store::testing::TestDatabase;
use fireline_store::{backend_tests, IntegrationRecord, Store};
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

fn t0() -> Timestamp {
    "2026-03-02T14:00:00Z".parse().expect("timestamp")
}

fn alert(key: &str) -> AlertInput {
    AlertInput {
        dedup_key: key.to_owned(),
        status: AlertStatus::Firing,
        summary: format!("alert {key}"),
        source_severity: Some("critical".to_owned()),
        service: None,
        labels: BTreeMap::from([("alertname".to_owned(), key.to_owned())]),
        annotations: BTreeMap::new(),
        starts_at: None,
        ends_at: None,
        group: Some(key.to_owned()),
        link: None,
    }
}

async fn integration(store: &dyn Store) -> String {
    let record = IntegrationRecord {
        id: "int_test".to_owned(),
        name: "test".to_owned(),
        service: "api".to_owned(),
        created_at: t0(),
        revoked_at: None,
    };
    store
        .insert_integration(&record, "hash")
        .await
        .expect("integration");
    record.id
}

fn processor(store: Arc<dyn Store>, clock: Arc<ManualClock>, owner: &str) -> AlertProcessor {
    AlertProcessor::new(
        store,
        LivePolicy::new(Policy::builtin()),
        clock,
        owner,
        Arc::new(tokio::sync::Notify::new()),
    )
}

/// How many inbox items a fresh worker can claim now.
async fn claimable(store: &dyn Store, now: Timestamp) -> usize {
    store
        .claim_inbox(now, "counter", now + SignedDuration::from_secs(1), 10_000)
        .await
        .expect("claim")
        .len()
}

const ITEMS: usize = 200;

async fn shutdown_stops_between_inbox_items(db: &TestDatabase) {
    let integration = integration(db.store.as_ref()).await;
    let items: Vec<(String, Timestamp, String)> = (0..ITEMS)
        .map(|i| {
            let json = serde_json::to_string(&vec![alert(&format!("a{i}"))]).expect("json");
            (integration.clone(), t0(), json)
        })
        .collect();
    db.store
        .enqueue_alerts_batch(&items)
        .await
        .expect("enqueue");
    let clock = Arc::new(ManualClock::new(t0()));
    let alerts = processor(db.store.clone(), clock.clone(), "a");

    // Shutdown is already requested when `run` starts: it must return without working
    // through the whole inbox (before the fix it drained all of it first).
    alerts
        .run(Duration::from_secs(3600), std::future::ready(()))
        .await;

    let left = claimable(db.store.as_ref(), t0()).await;
    assert!(
        left >= ITEMS - 1,
        "at most the item in hand is processed after shutdown; {left} of {ITEMS} left"
    );
    assert!(
        db.store
            .list_incidents(&fireline_store::IncidentFilter {
                status: fireline_store::StatusFilter::All,
                severity: None,
                service: None,
                limit: 1000,
            })
            .await
            .expect("list")
            .len()
            <= 1
    );
}

async fn what_is_left_is_processed_by_the_next_start(db: &TestDatabase) {
    let integration = integration(db.store.as_ref()).await;
    let items: Vec<(String, Timestamp, String)> = (0..20)
        .map(|i| {
            let json = serde_json::to_string(&vec![alert(&format!("b{i}"))]).expect("json");
            (integration.clone(), t0(), json)
        })
        .collect();
    db.store
        .enqueue_alerts_batch(&items)
        .await
        .expect("enqueue");
    let clock = Arc::new(ManualClock::new(t0()));
    processor(db.store.clone(), clock.clone(), "first")
        .run(Duration::from_secs(3600), std::future::ready(()))
        .await;
    // A new process (another owner) at the same instant: the claimed leases were given
    // back, so it need not wait for them to expire.
    let applied = processor(db.store.clone(), clock.clone(), "second")
        .drain()
        .await
        .expect("drain");
    assert!(applied >= 19, "the rest is processed: {applied}");
    assert_eq!(claimable(db.store.as_ref(), t0()).await, 0);
}

/// A story of one group: fire three, repeat one, change one, resolve all (the incident
/// auto-resolves), fire one again (it reopens), and a second group.
fn story() -> Vec<Vec<AlertInput>> {
    let in_group = |key: &str, group: &str, status: AlertStatus, summary: &str| AlertInput {
        status,
        summary: summary.to_owned(),
        group: Some(group.to_owned()),
        ..alert(key)
    };
    use AlertStatus::{Firing, Resolved};
    vec![
        vec![
            in_group("a", "g", Firing, "a"),
            in_group("b", "g", Firing, "b"),
            in_group("c", "g", Firing, "c"),
        ],
        vec![
            in_group("a", "g", Firing, "a"),
            in_group("b", "g", Firing, "b changed"),
        ],
        vec![in_group("x", "h", Firing, "x")],
        vec![
            in_group("a", "g", Resolved, "a"),
            in_group("b", "g", Resolved, "b"),
        ],
        vec![in_group("c", "g", Resolved, "c")],
        vec![in_group("a", "g", Firing, "a")],
        vec![in_group("d", "g", Firing, "d")],
    ]
}

/// Every incident's event kinds (engine events aside), by incident number.
async fn timelines(store: &dyn Store) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for n in 1.. {
        match store.events(fireline_core::IncidentId(n)).await {
            Ok(events) => out.push(events.iter().map(|e| e.data.kind().to_owned()).collect()),
            Err(_) => break,
        }
    }
    out
}

async fn one_unit_decides_as_item_by_item_does(db: &TestDatabase) {
    let integration = integration(db.store.as_ref()).await;
    let clock = Arc::new(ManualClock::new(t0()));
    let items: Vec<(String, Timestamp, String)> = story()
        .iter()
        .map(|alerts| {
            let json = serde_json::to_string(alerts).expect("json");
            (integration.clone(), t0(), json)
        })
        .collect();
    // All at once: one unit, decided against the in-memory view.
    db.store
        .enqueue_alerts_batch(&items)
        .await
        .expect("enqueue");
    processor(db.store.clone(), clock.clone(), "a")
        .drain()
        .await
        .expect("drain");
    let together = timelines(db.store.as_ref()).await;

    // Item by item on a second database: every decision on state read from the store.
    let other = if db.url.starts_with("sqlite") {
        TestDatabase::sqlite().await
    } else {
        TestDatabase::postgres().await.expect("postgres")
    };
    integration_on(other.store.as_ref()).await;
    for item in &items {
        other
            .store
            .enqueue_alerts_batch(std::slice::from_ref(item))
            .await
            .expect("enqueue");
        processor(other.store.clone(), clock.clone(), "b")
            .drain()
            .await
            .expect("drain");
    }
    let apart = timelines(other.store.as_ref()).await;
    other.drop_database().await;
    assert_eq!(together, apart);
    assert_eq!(
        together,
        vec![
            vec![
                "declared",
                "alert_attached",
                "alert_attached",
                "alert_attached",
                "alert_updated",
                "alert_resolved",
                "alert_resolved",
                "alert_resolved",
                "resolved",
                "reopened",
                "alert_attached",
                "alert_attached",
            ],
            vec!["declared", "alert_attached"],
        ]
    );
}

async fn integration_on(store: &dyn Store) {
    integration(store).await;
}

async fn incident_count(store: &dyn Store) -> usize {
    store
        .list_incidents(&fireline_store::IncidentFilter {
            status: fireline_store::StatusFilter::All,
            severity: None,
            service: None,
            limit: 1000,
        })
        .await
        .expect("list")
        .len()
}

/// A restart with a non-empty inbox (on SQLite, a file beside the database): every item
/// is applied exactly once across the two runs, whatever the first got to.
async fn a_restart_applies_each_item_exactly_once(db: &TestDatabase) {
    let integration = integration(db.store.as_ref()).await;
    let items: Vec<(String, Timestamp, String)> = (0..30)
        .map(|i| {
            let json = serde_json::to_string(&vec![alert(&format!("r{i}"))]).expect("json");
            (integration.clone(), t0(), json)
        })
        .collect();
    db.store
        .enqueue_alerts_batch(&items)
        .await
        .expect("enqueue");
    let clock = Arc::new(ManualClock::new(t0()));
    // The first run stops at once (at most the item in hand is applied)…
    processor(db.store.clone(), clock.clone(), "first")
        .run(Duration::from_secs(3600), std::future::ready(()))
        .await;
    let before = incident_count(db.store.as_ref()).await;
    assert!(before <= 1, "{before}");
    db.store.close().await;
    // …and the next process, on the reopened database, applies the rest.
    let reopened = fireline_store::open(&db.url).await.expect("reopen");
    let next = processor(reopened.clone(), clock.clone(), "second");
    let applied = next.drain().await.expect("drain");
    assert_eq!(before + applied, 30, "each alert applied once");
    assert_eq!(incident_count(reopened.as_ref()).await, 30);
    assert_eq!(claimable(reopened.as_ref(), t0()).await, 0);
    assert_eq!(next.drain().await.expect("drain again"), 0);
    assert_eq!(incident_count(reopened.as_ref()).await, 30);
    reopened.close().await;
}

backend_tests!(
    a_restart_applies_each_item_exactly_once,
    shutdown_stops_between_inbox_items,
    what_is_left_is_processed_by_the_next_start,
    one_unit_decides_as_item_by_item_does,
);
