//! The alert processor on a fake clock, on SQLite and PostgreSQL: it stops promptly when
//! asked, leaving what it has not processed durable in the inbox.

use fireline_core::alert::{AlertInput, AlertStatus};
use fireline_core::policy::Policy;
use fireline_engine::paging::local_links;
use fireline_engine::{AlertProcessor, Clock, Commands, LivePolicy, ManualClock, Pager};
use fireline_store::testing::TestDatabase;
use fireline_store::{backend_tests, AlertBatch, IntegrationRecord, Store};
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
    processor_with(store, clock, owner, LivePolicy::new(Policy::builtin()))
}

fn processor_with(
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
    owner: &str,
    policy: LivePolicy,
) -> AlertProcessor {
    let pager = Pager::new(store.clone(), local_links());
    let commands = Commands::new(store.clone(), policy.clone(), clock.clone(), pager);
    AlertProcessor::new(store, policy, clock, owner, commands)
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
    let items: Vec<(String, Timestamp, AlertBatch)> = (0..ITEMS)
        .map(|i| {
            let json = AlertBatch::encode(&[alert(&format!("a{i}"))]).expect("encode");
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
    assert!(incident_count(db.store.as_ref()).await <= 1);
}

async fn what_is_left_is_processed_by_the_next_start(db: &TestDatabase) {
    let integration = integration(db.store.as_ref()).await;
    let items: Vec<(String, Timestamp, AlertBatch)> = (0..20)
        .map(|i| {
            let json = AlertBatch::encode(&[alert(&format!("b{i}"))]).expect("encode");
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
            // Policy actions (pages) fire when a unit commits, so batching moves them.
            Ok(events) => out.push(
                events
                    .iter()
                    .filter(|e| e.data.action_key().is_none())
                    .map(|e| e.data.kind().to_owned())
                    .collect(),
            ),
            Err(_) => break,
        }
    }
    out
}

async fn one_unit_decides_as_item_by_item_does(db: &TestDatabase) {
    let integration = integration(db.store.as_ref()).await;
    let clock = Arc::new(ManualClock::new(t0()));
    let items: Vec<(String, Timestamp, AlertBatch)> = story()
        .iter()
        .map(|alerts| {
            let json = AlertBatch::encode(alerts).expect("encode");
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

/// Every incident, any status (at most 1,000).
async fn incidents(store: &dyn Store) -> Vec<fireline_store::IncidentSummary> {
    store
        .list_incidents(&fireline_store::IncidentFilter {
            status: fireline_store::StatusFilter::All,
            severity: None,
            service: None,
            limit: 1000,
        })
        .await
        .expect("list")
}

async fn incident_count(store: &dyn Store) -> usize {
    incidents(store).await.len()
}

/// A restart with a non-empty inbox (on SQLite, a file beside the database): every item
/// is applied exactly once across the two runs, whatever the first got to.
async fn a_restart_applies_each_item_exactly_once(db: &TestDatabase) {
    let integration = integration(db.store.as_ref()).await;
    let items: Vec<(String, Timestamp, AlertBatch)> = (0..30)
        .map(|i| {
            let json = AlertBatch::encode(&[alert(&format!("r{i}"))]).expect("encode");
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
    a_poison_item_holds_back_no_other_alert,
    an_undecodable_item_is_parked_at_once,
    alerts_that_join_no_incident_are_recorded_with_the_reason,
    a_crash_does_not_delay_alerts_by_the_lease,
    a_restart_applies_each_item_exactly_once,
    shutdown_stops_between_inbox_items,
    what_is_left_is_processed_by_the_next_start,
    one_unit_decides_as_item_by_item_does,
    an_alert_that_opens_an_incident_pages_as_it_is_processed,
);

fn one(alert: &AlertInput) -> AlertBatch {
    AlertBatch::encode(std::slice::from_ref(alert)).expect("encode")
}

async fn incident_titles(store: &dyn Store) -> Vec<String> {
    let mut titles: Vec<String> = incidents(store)
        .await
        .into_iter()
        .map(|i| i.title)
        .collect();
    titles.sort();
    titles
}

/// Regression: an item whose processing fails (here: it touches an incident
/// whose stored log is damaged) was retried with every batch and held back the alerts
/// claimed after it. Now it fails alone, is retried with backoff and then parked as a
/// dead letter that an admin can see and re-drive.
async fn a_poison_item_holds_back_no_other_alert(db: &TestDatabase) {
    let integration = integration(db.store.as_ref()).await;
    let clock = Arc::new(ManualClock::new(t0()));
    let worker = processor(db.store.clone(), clock.clone(), "w");
    db.store
        .enqueue_alerts_batch(&[(integration.clone(), t0(), one(&alert("old")))])
        .await
        .expect("enqueue");
    worker.drain().await.expect("drain");
    assert_eq!(incident_titles(db.store.as_ref()).await, ["alert old"]);
    // The log is append-only; a damaged row is appended behind the store's back.
    db.execute_raw(
        "INSERT INTO incident_events (incident, seq, at_us, actor, kind, data) \
         VALUES (1, 99, 0, 'disk', 'note_added', 'damaged')",
    )
    .await;

    // The poison item first, a new critical alert after it in the same claim.
    let mut again = alert("old");
    again.summary = "alert old, changed".to_owned();
    db.store
        .enqueue_alerts_batch(&[
            (integration.clone(), t0(), one(&again)),
            (integration.clone(), t0(), one(&alert("critical"))),
        ])
        .await
        .expect("enqueue");
    worker
        .drain()
        .await
        .expect("a failing item does not fail the drain");
    assert_eq!(
        incident_titles(db.store.as_ref()).await,
        ["alert critical", "alert old"],
        "the alert behind the poison item opened its incident at once"
    );
    assert_eq!(
        claimable(db.store.as_ref(), clock.now()).await,
        0,
        "backing off"
    );

    // Retried with growing waits, then parked.
    for attempt in 1..fireline_engine::ingest::MAX_ITEM_ATTEMPTS {
        assert_eq!(db.store.dead_letter_count().await.expect("count"), 0);
        clock
            .advance(fireline_engine::ingest::item_backoff(attempt) + SignedDuration::from_secs(1));
        worker.drain().await.expect("drain");
    }
    assert_eq!(db.store.dead_letter_count().await.expect("count"), 1);
    let dead = db.store.dead_letters(10).await.expect("dead letters");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].attempts, fireline_engine::ingest::MAX_ITEM_ATTEMPTS);
    assert!(dead[0].alerts.as_stored().contains("alert old, changed"));
    assert!(!dead[0].last_error.is_empty());
    clock.advance(SignedDuration::from_hours(1));
    assert_eq!(
        claimable(db.store.as_ref(), clock.now()).await,
        0,
        "a dead letter is never claimed"
    );

    // Re-driven, it is claimable again with its attempts reset.
    assert!(db
        .store
        .redrive_dead_letter(dead[0].id)
        .await
        .expect("redrive"));
    assert!(!db
        .store
        .redrive_dead_letter(dead[0].id)
        .await
        .expect("redrive"));
    assert_eq!(db.store.dead_letter_count().await.expect("count"), 0);
    let items = db
        .store
        .claim_inbox(
            clock.now(),
            "x",
            clock.now() + SignedDuration::from_secs(1),
            10,
        )
        .await
        .expect("claim");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].attempts, 0);
}

async fn an_undecodable_item_is_parked_at_once(db: &TestDatabase) {
    let integration = integration(db.store.as_ref()).await;
    let clock = Arc::new(ManualClock::new(t0()));
    db.store
        .enqueue_alerts_batch(&[
            (
                integration.clone(),
                t0(),
                AlertBatch::raw("[{\"not\": \"an alert\"}]"),
            ),
            (integration.clone(), t0(), one(&alert("fine"))),
        ])
        .await
        .expect("enqueue");
    processor(db.store.clone(), clock.clone(), "w")
        .drain()
        .await
        .expect("drain");
    assert_eq!(incident_titles(db.store.as_ref()).await, ["alert fine"]);
    let dead = db.store.dead_letters(10).await.expect("dead letters");
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert!(
        dead[0].last_error.contains("do not decode"),
        "{}",
        dead[0].last_error
    );
    assert!(db
        .store
        .discard_dead_letter(dead[0].id)
        .await
        .expect("discard"));
    assert_eq!(db.store.dead_letter_count().await.expect("count"), 0);
}

/// The invariant: an accepted alert either joins an incident or is recorded
/// with the reason it did not.
async fn alerts_that_join_no_incident_are_recorded_with_the_reason(db: &TestDatabase) {
    let integration = integration(db.store.as_ref()).await;
    let clock = Arc::new(ManualClock::new(t0()));
    let policy = Policy::from_toml(&format!(
        "{}{}",
        include_str!("../../../policies/default.toml"),
        r#"
[[routes]]
name = "ignore-info"
match = [{ label = "severity", equals = "info" }]
drop = true
"#
    ))
    .expect("policy");
    let worker = processor_with(
        db.store.clone(),
        clock.clone(),
        "w",
        LivePolicy::new(policy),
    );
    let mut info = alert("noise");
    info.labels.insert("severity".to_owned(), "info".to_owned());
    let mut resolved = alert("gone");
    resolved.status = AlertStatus::Resolved;
    for _ in 0..3 {
        db.store
            .enqueue_alerts_batch(&[(integration.clone(), t0(), one(&info))])
            .await
            .expect("enqueue");
    }
    db.store
        .enqueue_alerts_batch(&[(integration.clone(), t0(), one(&resolved))])
        .await
        .expect("enqueue");
    db.store
        .enqueue_alerts_batch(&[(integration.clone(), t0(), one(&alert("tab\there")))])
        .await
        .expect("enqueue");
    worker.drain().await.expect("drain");

    assert_eq!(incident_titles(db.store.as_ref()).await, ["alert tab here"]);
    let drops = db.store.alert_drops(100).await.expect("drops");
    let find = |key: &str| {
        drops
            .iter()
            .find(|d| d.dedup_key == key)
            .unwrap_or_else(|| panic!("no record for {key}: {drops:?}"))
    };
    assert_eq!(find("noise").reason, "dropped by route ignore-info");
    assert_eq!(find("noise").count, 3, "repeats are counted, not listed");
    assert!(
        find("gone").reason.contains("resolved"),
        "{:?}",
        find("gone")
    );
    assert_eq!(drops.len(), 2);

    // Alerts naming an integration the store does not know are accounted for too.
    db.store
        .enqueue_alerts_batch(&[("int_gone".to_owned(), t0(), one(&alert("late")))])
        .await
        .expect("enqueue");
    worker.drain().await.expect("drain");
    let drops = db.store.alert_drops(100).await.expect("drops");
    assert!(
        drops
            .iter()
            .any(|d| d.dedup_key == "late" && d.reason.contains("integration")),
        "{drops:?}"
    );

    // Pruned by age and count.
    assert_eq!(
        db.store.prune_alert_drops(t0(), 100).await.expect("prune"),
        0,
        "nothing is older than now"
    );
    // Three records, all seen at one instant: keeping 2 keeps exactly 2 (ties at the
    // cut are settled by key, not all dropped).
    assert_eq!(db.store.prune_alert_drops(t0(), 2).await.expect("prune"), 1);
    assert_eq!(db.store.alert_drops(100).await.expect("drops").len(), 2);
    let later = t0() + SignedDuration::from_secs(1);
    assert_eq!(
        db.store.prune_alert_drops(later, 100).await.expect("prune"),
        2,
        "older than `before` go"
    );
}

/// Regression: items claimed by a process that was killed waited out their
/// 60 s lease, because the restarted process claimed under another name. A worker now
/// has a stable name and takes up its own leases at start.
async fn a_crash_does_not_delay_alerts_by_the_lease(db: &TestDatabase) {
    let integration = integration(db.store.as_ref()).await;
    db.store
        .enqueue_alerts_batch(&[(
            integration.clone(),
            t0(),
            one(&alert("claimed-then-killed")),
        )])
        .await
        .expect("enqueue");
    // The process claims, then dies without releasing anything.
    let held = db
        .store
        .claim_inbox(
            t0(),
            "host-a:8080",
            t0() + SignedDuration::from_secs(60),
            64,
        )
        .await
        .expect("claim");
    assert_eq!(held.len(), 1);

    // Restarted one second later under the same name.
    let clock = Arc::new(ManualClock::new(t0() + SignedDuration::from_secs(1)));
    let restarted = processor(db.store.clone(), clock.clone(), "host-a:8080");
    assert_eq!(restarted.drain().await.expect("drain"), 0, "still leased");
    assert!(restarted.recover().await.expect("recover") >= 1);
    assert_eq!(
        restarted.drain().await.expect("drain"),
        1,
        "taken up at once"
    );
    assert_eq!(
        incident_titles(db.store.as_ref()).await,
        ["alert claimed-then-killed"]
    );
}

/// Regression: the page of an incident an alert opened was decided later, by
/// the engine finding the incident due, after two more wake-ups; now it is fired as the
/// alert is written, so no engine cycle stands between an alert and its page.
async fn an_alert_that_opens_an_incident_pages_as_it_is_processed(db: &TestDatabase) {
    let integration = integration(db.store.as_ref()).await;
    let clock = Arc::new(ManualClock::new(t0()));
    db.store
        .enqueue_alerts_batch(&[(integration, t0(), one(&alert("disk full")))])
        .await
        .expect("enqueue");
    let worker = processor(db.store.clone(), clock.clone(), "w");
    assert_eq!(worker.drain().await.expect("drain"), 1);
    // No engine exists in this test: what was fired, the alert processor fired.
    let id = incidents(db.store.as_ref()).await[0].id;
    let events = db.store.events(id).await.expect("events");
    let kinds: Vec<&str> = events.iter().map(|e| e.data.kind()).collect();
    assert!(
        kinds.contains(&"paged"),
        "paged on the alert's way in: {kinds:?}"
    );
    let next = db.store.next_due().await.expect("next due");
    assert!(
        next.is_none_or(|at| at > clock.now()),
        "nothing left due now for the engine to find ({next:?}, {id})"
    );
}
