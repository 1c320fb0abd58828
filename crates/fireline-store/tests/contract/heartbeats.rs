//! Heartbeat monitors: pings, missed deadlines and the alerts they raise.

use crate::t;
use fireline_core::alert::AlertStatus;
use fireline_store::testing::TestDatabase;
use fireline_store::{backend_tests, DeadLetter, HeartbeatRecord, InboxItem, Store};
use std::sync::Arc;

backend_tests!(
    heartbeats_are_listed_oldest_first_and_a_ping_keeps_one_up_until_its_deadline,
    a_missed_heartbeat_goes_down_once_with_one_alert_and_a_ping_resolves_it,
    a_heartbeat_alert_is_retried_parked_redriven_and_discarded_like_any_other,
);

/// A monitor never pinged: 60 s between pings and 60 s of grace.
fn monitor(id: &str, created: i64) -> HeartbeatRecord {
    HeartbeatRecord {
        id: id.into(),
        name: format!("{id}-job"),
        integration: "int_hb".into(),
        interval_s: 60,
        grace_s: 60,
        state: "waiting".into(),
        last_ping_at: None,
        deadline_at: None,
        created_at: t(created),
    }
}

/// The alerts of inbox items, as (dedup key, status).
fn alerts(items: &[InboxItem]) -> Vec<(String, AlertStatus)> {
    items
        .iter()
        .flat_map(|i| {
            assert_eq!(
                i.integration, "int_hb",
                "a monitor's alerts go through its integration"
            );
            i.alerts.decode().expect("alert JSON")
        })
        .map(|a| (a.dedup_key, a.status))
        .collect()
}

/// The integration the monitors' alerts go through.
async fn integration(store: &dyn Store) {
    let record = fireline_store::IntegrationRecord {
        id: "int_hb".into(),
        name: "heartbeats".into(),
        service: "backups".into(),
        created_at: t(0),
        revoked_at: None,
    };
    store
        .insert_integration(&record, "hash-int-hb")
        .await
        .expect("integration");
}

async fn claim(store: &dyn Store, minute: i64) -> Vec<InboxItem> {
    store
        .claim_inbox(t(minute), "w", t(minute + 1), 10)
        .await
        .expect("claim")
}

/// What the processor does: claims what is there and marks it applied.
async fn drain(store: &dyn Store, minute: i64) -> Vec<InboxItem> {
    let items = claim(store, minute).await;
    store
        .apply_alerts(fireline_store::AlertWrites {
            processed: items.iter().map(|i| i.id).collect(),
            ..Default::default()
        })
        .await
        .expect("apply");
    items
}

async fn heartbeats_are_listed_oldest_first_and_a_ping_keeps_one_up_until_its_deadline(
    db: &TestDatabase,
) {
    let store = db.store.as_ref();
    integration(store).await;
    let backup = monitor("hb_backup", 1);
    let cron = monitor("hb_cron", 0);
    store
        .insert_heartbeat(&backup, "key-backup")
        .await
        .expect("insert");
    store
        .insert_heartbeat(&cron, "key-cron")
        .await
        .expect("insert");
    assert!(
        store
            .insert_heartbeat(&monitor("hb_other", 2), "key-backup")
            .await
            .is_err(),
        "key hashes are unique"
    );
    let stray = fireline_store::HeartbeatRecord {
        integration: "int_nope".into(),
        ..monitor("hb_stray", 2)
    };
    assert!(
        store.insert_heartbeat(&stray, "key-stray").await.is_err(),
        "a monitor's integration must exist"
    );
    assert_eq!(
        store.list_heartbeats().await.expect("list"),
        vec![cron.clone(), backup.clone()]
    );
    assert_eq!(
        store.ping_heartbeat("key-nope", t(2)).await.expect("ping"),
        None
    );
    let up = HeartbeatRecord {
        state: "up".into(),
        last_ping_at: Some(t(2)),
        deadline_at: Some(t(4)),
        ..backup.clone()
    };
    assert_eq!(
        store
            .ping_heartbeat("key-backup", t(2))
            .await
            .expect("ping"),
        Some(up.clone()),
        "up until the ping plus interval and grace"
    );
    assert_eq!(
        store.list_heartbeats().await.expect("list"),
        vec![cron, up.clone()]
    );
    let again = store
        .ping_heartbeat("key-backup", t(3))
        .await
        .expect("ping")
        .expect("known");
    assert_eq!(
        (again.last_ping_at, again.deadline_at),
        (Some(t(3)), Some(t(5)))
    );
    assert!(
        claim(store, 3).await.is_empty(),
        "pings of a monitor up raise nothing"
    );
}

async fn a_missed_heartbeat_goes_down_once_with_one_alert_and_a_ping_resolves_it(
    db: &TestDatabase,
) {
    let store: Arc<dyn Store> = db.store.clone();
    integration(store.as_ref()).await;
    store
        .insert_heartbeat(&monitor("hb_backup", 0), "key-backup")
        .await
        .expect("insert");
    store
        .insert_heartbeat(&monitor("hb_never", 0), "key-never")
        .await
        .expect("insert");
    store
        .ping_heartbeat("key-backup", t(0))
        .await
        .expect("ping");
    assert!(
        store
            .expire_heartbeats(t(2))
            .await
            .expect("expire")
            .is_empty(),
        "at its deadline it is not late yet"
    );
    // Replicas notice at once: the outage is one alert all the same.
    let mut checks = Vec::new();
    for _ in 0..4 {
        let store = store.clone();
        checks.push(tokio::spawn(
            async move { store.expire_heartbeats(t(3)).await },
        ));
    }
    let mut down = Vec::new();
    for check in checks {
        down.extend(check.await.expect("joined").expect("expire"));
    }
    assert_eq!(
        down.iter()
            .map(|h| (h.id.as_str(), h.state.as_str()))
            .collect::<Vec<_>>(),
        [("hb_backup", "down")]
    );
    assert!(
        store
            .expire_heartbeats(t(100))
            .await
            .expect("expire")
            .is_empty(),
        "down once; a monitor never pinged is not late"
    );
    let states: Vec<String> = store
        .list_heartbeats()
        .await
        .expect("list")
        .into_iter()
        .map(|h| h.state)
        .collect();
    assert_eq!(states, ["down", "waiting"]);
    let fired = drain(store.as_ref(), 100).await;
    assert_eq!(
        alerts(&fired),
        [("heartbeat:hb_backup".to_owned(), AlertStatus::Firing)]
    );
    assert_eq!(fired[0].received_at, t(3));
    // Pings come back: up again, and the alert that ends the outage.
    let back = store
        .ping_heartbeat("key-backup", t(101))
        .await
        .expect("ping")
        .expect("known");
    assert_eq!(
        (back.state.as_str(), back.deadline_at),
        ("up", Some(t(103)))
    );
    assert_eq!(
        alerts(&drain(store.as_ref(), 101).await),
        [("heartbeat:hb_backup".to_owned(), AlertStatus::Resolved)]
    );
    store
        .ping_heartbeat("key-backup", t(102))
        .await
        .expect("ping");
    assert!(
        claim(store.as_ref(), 102).await.is_empty(),
        "one resolution"
    );
}

/// SQLite writes these alerts beside the monitor's state, in the main file rather than
/// the receivers' inbox file: every inbox operation must find them there.
async fn a_heartbeat_alert_is_retried_parked_redriven_and_discarded_like_any_other(
    db: &TestDatabase,
) {
    let store = db.store.as_ref();
    integration(store).await;
    store
        .insert_heartbeat(&monitor("hb_backup", 0), "key-backup")
        .await
        .expect("insert");
    store
        .ping_heartbeat("key-backup", t(0))
        .await
        .expect("ping");
    store.expire_heartbeats(t(3)).await.expect("expire");
    let item = claim(store, 3).await.remove(0);
    store
        .fail_inbox(item.id, "boom", t(3), Some(t(5)))
        .await
        .expect("fail");
    assert!(
        claim(store, 4).await.is_empty(),
        "not before its retry time"
    );
    let retried = store
        .claim_inbox(t(6), "w2", t(60), 10)
        .await
        .expect("claim");
    assert_eq!((retried[0].id, retried[0].attempts), (item.id, 1));
    assert_eq!(store.release_leases("w2").await.expect("release"), 1);
    let held = store
        .claim_inbox(t(6), "w3", t(60), 10)
        .await
        .expect("claim");
    assert_eq!(held.len(), 1, "given back by name");
    store
        .release_inbox("w3", &[item.id])
        .await
        .expect("release");
    assert_eq!(claim(store, 6).await.len(), 1, "given back by id");
    store
        .fail_inbox(item.id, "bad", t(7), None)
        .await
        .expect("park");
    assert!(claim(store, 100).await.is_empty(), "parked");
    assert_eq!(store.dead_letter_count().await.expect("count"), 1);
    assert_eq!(
        store.dead_letters(10).await.expect("read"),
        vec![DeadLetter {
            id: item.id,
            integration: "int_hb".into(),
            received_at: t(3),
            dead_at: t(7),
            attempts: 2,
            last_error: "bad".into(),
            alerts: item.alerts.clone(),
        }]
    );
    assert!(store.redrive_dead_letter(item.id).await.expect("redrive"));
    let again = claim(store, 101).await;
    assert_eq!((again[0].id, again[0].attempts), (item.id, 0));
    store
        .fail_inbox(item.id, "bad", t(102), None)
        .await
        .expect("park");
    assert!(store.discard_dead_letter(item.id).await.expect("discard"));
    assert_eq!(store.dead_letter_count().await.expect("count"), 0);
    assert!(claim(store, 200).await.is_empty(), "discarded for good");
}
