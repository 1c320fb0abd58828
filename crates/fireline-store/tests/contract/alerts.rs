//! Alerts: the inbox receivers fill and the processor drains (leases, failures, dead
//! letters), the alert projection, alert groups and dropped alerts.

use crate::{act, append_one, attached, declaration, declare_one, t};
use fireline_core::{Command, EventData, Incident, IncidentId, NewEvent};
use fireline_store::testing::TestDatabase;
use fireline_store::{
    backend_tests, AlertBatch, AlertRecord, AlertWrites, DeadLetter, DroppedAlert, Store,
};
use jiff::Timestamp;

backend_tests!(
    inbox_items_are_applied_once_and_survive_a_restart,
    a_released_inbox_item_is_claimable_at_once_but_only_its_holder_can_release_it,
    a_failing_inbox_item_is_retried_at_its_time_then_parked_until_redriven_or_discarded,
    the_alert_projection_follows_each_identity_through_attach_update_and_resolve,
    open_incidents_are_found_by_alert_group_newest_first_and_since_a_time,
    dropped_alerts_are_counted_per_identity_and_reason_and_pruned_by_age_and_count,
    the_backlog_counts_what_waits_and_dates_the_oldest,
);

fn payload(n: usize) -> (String, Timestamp, AlertBatch) {
    ("int_a".to_owned(), t(0), AlertBatch::raw(&format!("[{n}]")))
}

/// Claims everything claimable at `minute` (leases of 1 minute).
async fn claim_all(store: &dyn Store, minute: i64) -> Vec<fireline_store::InboxItem> {
    store
        .claim_inbox(t(minute), "w", t(minute + 1), 100)
        .await
        .expect("claim")
}

async fn inbox_items_are_applied_once_and_survive_a_restart(db: &TestDatabase) {
    let store = db.store.as_ref();
    store
        .enqueue_alerts_batch(&[payload(1), payload(2), payload(3)])
        .await
        .expect("enqueue");
    let items = claim_all(store, 0).await;
    assert_eq!(
        items
            .iter()
            .map(|i| i.alerts.as_stored())
            .collect::<Vec<_>>(),
        ["[1]", "[2]", "[3]"],
        "oldest first"
    );
    assert!(claim_all(store, 0).await.is_empty(), "leased");
    // The first is applied; the others' leases run out (the worker stopped).
    store
        .apply_alerts(fireline_store::AlertWrites {
            processed: vec![items[0].id],
            ..Default::default()
        })
        .await
        .expect("apply");
    let again = claim_all(store, 2).await;
    assert_eq!(
        again
            .iter()
            .map(|i| i.alerts.as_stored())
            .collect::<Vec<_>>(),
        ["[2]", "[3]"],
        "an applied item is never claimed again"
    );
    // A restart with a non-empty inbox: what was not applied is still there.
    store.close().await;
    let reopened = fireline_store::open(&db.url).await.expect("reopen");
    let after = claim_all(reopened.as_ref(), 4).await;
    assert_eq!(
        after
            .iter()
            .map(|i| i.alerts.as_stored())
            .collect::<Vec<_>>(),
        ["[2]", "[3]"]
    );
    reopened
        .apply_alerts(fireline_store::AlertWrites {
            processed: after.iter().map(|i| i.id).collect(),
            ..Default::default()
        })
        .await
        .expect("apply");
    assert!(claim_all(reopened.as_ref(), 6).await.is_empty());
    reopened.close().await;
}

/// SQLite keeps the receivers' inbox in a file of its own: a crash after an apply
/// committed but before its items left the inbox file must not apply them again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_items_applied_before_a_crash_are_not_applied_again() {
    let db = TestDatabase::sqlite().await;
    let store = db.store.as_ref();
    store
        .enqueue_alerts_batch(&[payload(1), payload(2), payload(3)])
        .await
        .expect("enqueue");
    let items = claim_all(store, 0).await;
    let path = db.url.trim_start_matches("sqlite://").to_owned();
    // What a crash right after the apply's commit leaves: the first two recorded as
    // applied in the main file, still present in the inbox file.
    let main = sqlx::SqlitePool::connect(&format!("sqlite://{path}"))
        .await
        .expect("main file");
    for item in &items[..2] {
        sqlx::query("INSERT INTO inbox_applied (id) VALUES ($1)")
            .bind(item.id)
            .execute(&main)
            .await
            .expect("record");
    }
    // A claim skips the first (and deletes it from the inbox file)…
    assert_eq!(
        claim_all(store, 2)
            .await
            .iter()
            .map(|i| i.alerts.as_stored())
            .collect::<Vec<_>>(),
        ["[3]"],
        "items recorded as applied are not claimed"
    );
    // …and a restart clears what is left of the interrupted apply.
    store.close().await;
    let reopened = fireline_store::open(&db.url).await.expect("reopen");
    let inbox = sqlx::SqlitePool::connect(&format!("sqlite://{path}-inbox"))
        .await
        .expect("inbox file");
    let left: Vec<String> = sqlx::query_scalar("SELECT alerts FROM alert_inbox ORDER BY id")
        .fetch_all(&inbox)
        .await
        .expect("inbox");
    assert_eq!(left, ["[3]"], "applied items are gone from the inbox file");
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM inbox_applied")
        .fetch_one(&main)
        .await
        .expect("applied");
    assert_eq!(applied, 0, "records of items gone are dropped");
    // Applying an item twice is refused whole.
    let third = items[2].id;
    reopened
        .apply_alerts(fireline_store::AlertWrites {
            processed: vec![third],
            ..Default::default()
        })
        .await
        .expect("apply");
    assert!(
        reopened
            .apply_alerts(fireline_store::AlertWrites {
                processed: vec![third],
                ..Default::default()
            })
            .await
            .is_err(),
        "an id recorded as applied cannot be applied again"
    );
    main.close().await;
    inbox.close().await;
    reopened.close().await;
    db.drop_database().await;
}

async fn a_released_inbox_item_is_claimable_at_once_but_only_its_holder_can_release_it(
    db: &TestDatabase,
) {
    let store = db.store.as_ref();
    store
        .enqueue_alerts_batch(&[payload(1), payload(2), payload(3)])
        .await
        .expect("enqueue");
    let mine = store.claim_inbox(t(0), "a", t(60), 2).await.expect("claim");
    let theirs = store
        .claim_inbox(t(0), "b", t(60), 10)
        .await
        .expect("claim");
    assert_eq!(
        (mine.len(), theirs.len()),
        (2, 1),
        "each item goes to one worker"
    );
    // a is stopping: it gives back what it will not process. Naming b's item does
    // not free it.
    store
        .release_inbox("a", &[mine[0].id, theirs[0].id])
        .await
        .expect("release");
    let alerts = |items: Vec<fireline_store::InboxItem>| {
        items
            .into_iter()
            .map(|i| i.alerts.as_stored().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        alerts(
            store
                .claim_inbox(t(1), "c", t(60), 10)
                .await
                .expect("claim")
        ),
        ["[1]"],
        "released long before its lease ends; b's and a's other item are still held"
    );
    store
        .release_inbox("a", &[mine[1].id])
        .await
        .expect("release");
    store
        .release_inbox("a", &[])
        .await
        .expect("release nothing");
    assert_eq!(
        alerts(
            store
                .claim_inbox(t(1), "c", t(60), 10)
                .await
                .expect("claim")
        ),
        ["[2]"]
    );
}

async fn a_failing_inbox_item_is_retried_at_its_time_then_parked_until_redriven_or_discarded(
    db: &TestDatabase,
) {
    let store = db.store.as_ref();
    store
        .enqueue_alerts_batch(&[payload(1)])
        .await
        .expect("enqueue");
    let mut item = claim_all(store, 0).await.remove(0);
    // The processor retries an item after a backoff seven times…
    for attempt in 1..8u32 {
        let now = i64::from(attempt) * 10;
        store
            .fail_inbox(item.id, "database said no", t(now), Some(t(now + 5)))
            .await
            .expect("fail");
        assert!(
            claim_all(store, now + 4).await.is_empty(),
            "not before its retry time (attempt {attempt})"
        );
        item = claim_all(store, now + 6).await.remove(0);
        assert_eq!(item.attempts, attempt, "failed attempts are counted");
    }
    // …and parks it at the eighth failure (ingest's MAX_ITEM_ATTEMPTS).
    store
        .fail_inbox(item.id, &"x".repeat(1500), t(80), None)
        .await
        .expect("park");
    assert!(
        claim_all(store, 10_000).await.is_empty(),
        "a parked item is never claimed"
    );
    assert_eq!(store.dead_letter_count().await.expect("count"), 1);
    let first = DeadLetter {
        id: item.id,
        integration: "int_a".into(),
        received_at: t(0),
        dead_at: t(80),
        attempts: 8,
        last_error: "x".repeat(1000),
        alerts: AlertBatch::raw("[1]"),
    };
    assert_eq!(
        store.dead_letters(10).await.expect("read"),
        vec![first.clone()]
    );
    store
        .enqueue_alerts_batch(&[payload(2)])
        .await
        .expect("enqueue");
    let other = claim_all(store, 85).await.remove(0);
    assert_eq!(
        other.alerts.as_stored(),
        "[2]",
        "fresh items pass the parked one"
    );
    store
        .fail_inbox(other.id, "bad JSON", t(90), None)
        .await
        .expect("park");
    let dead = store.dead_letters(10).await.expect("read");
    assert_eq!(
        dead.iter().map(|d| (d.id, d.dead_at)).collect::<Vec<_>>(),
        [(other.id, t(90)), (first.id, t(80))],
        "newest first"
    );
    assert_eq!(store.dead_letters(1).await.expect("read").len(), 1);
    assert_eq!(store.dead_letter_count().await.expect("count"), 2);
    // Re-driven: back in the inbox with no attempts counted.
    assert!(store.redrive_dead_letter(first.id).await.expect("redrive"));
    assert!(
        !store.redrive_dead_letter(first.id).await.expect("redrive"),
        "not parked now"
    );
    let back = claim_all(store, 100).await;
    assert_eq!(
        back.iter().map(|i| (i.id, i.attempts)).collect::<Vec<_>>(),
        [(first.id, 0)]
    );
    assert!(
        !store.discard_dead_letter(first.id).await.expect("discard"),
        "only parked items are discarded"
    );
    // Discarded: gone for good.
    assert!(store.discard_dead_letter(other.id).await.expect("discard"));
    assert!(!store.discard_dead_letter(other.id).await.expect("discard"));
    assert!(!store.redrive_dead_letter(other.id).await.expect("redrive"));
    assert_eq!(store.dead_letter_count().await.expect("count"), 0);
    assert!(store.dead_letters(10).await.expect("read").is_empty());
    assert!(claim_all(store, 200).await.iter().all(|i| i.id != other.id));
}

/// Opens an incident at `minute` with alerts `keys` (integration `prom`) of `group`.
async fn open_with(store: &dyn Store, minute: i64, keys: &[&str], group: &str) -> Incident {
    let event = |data: EventData| NewEvent {
        at: t(minute),
        actor: "fireline".into(),
        data,
    };
    let more = keys.iter().map(|k| event(attached(k, group))).collect();
    store
        .open_incident(event(declaration("alerting", "SEV2", "api")), more, None)
        .await
        .expect("open")
        .0
}

async fn the_alert_projection_follows_each_identity_through_attach_update_and_resolve(
    db: &TestDatabase,
) {
    let store = db.store.as_ref();
    let first = open_with(store, 0, &["k1", "k2"], "g").await;
    let rec = |incident: IncidentId, firing: bool, digest: &str| AlertRecord {
        incident,
        firing,
        digest: digest.into(),
    };
    let alert = |key: &'static str| async move { store.alert("prom", key).await.expect("alert") };
    assert_eq!(alert("k1").await, Some(rec(first.id, true, "d")));
    assert_eq!(alert("nope").await, None);
    assert_eq!(
        store.alert("other", "k1").await.expect("alert"),
        None,
        "identities are per integration"
    );
    assert_eq!(store.firing_alerts(first.id).await.expect("count"), 2);
    let updated = append_one(
        store,
        &first,
        1,
        EventData::AlertUpdated {
            dedup_key: "k1".into(),
            integration: "prom".into(),
            summary: "worse".into(),
            labels: Default::default(),
            annotations: Default::default(),
            digest: "d2".into(),
        },
    )
    .await;
    let resolved = EventData::AlertResolved {
        dedup_key: "k2".into(),
        integration: "prom".into(),
        summary: "fine".into(),
    };
    append_one(store, &updated, 2, resolved).await;
    assert_eq!(alert("k1").await, Some(rec(first.id, true, "d2")));
    assert_eq!(alert("k2").await, Some(rec(first.id, false, "d")));
    assert_eq!(store.firing_alerts(first.id).await.expect("count"), 1);
    // Many keys at once (more than one statement's worth), unknown ones absent.
    let mut keys: Vec<String> = (0..1200).map(|n| format!("unknown-{n}")).collect();
    keys[3] = "k2".into();
    keys[700] = "k1".into();
    let mut found = store.alerts_by_keys("prom", &keys).await.expect("read");
    found.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        found,
        vec![
            ("k1".to_owned(), rec(first.id, true, "d2")),
            ("k2".to_owned(), rec(first.id, false, "d"))
        ]
    );
    assert!(store
        .alerts_by_keys("other", &keys)
        .await
        .expect("read")
        .is_empty());
    assert!(store
        .alerts_by_keys("prom", &[])
        .await
        .expect("read")
        .is_empty());
    // k2 fires again and opens another incident: the identity moves with it.
    let second = open_with(store, 3, &["k2"], "g2").await;
    assert_eq!(alert("k2").await, Some(rec(second.id, true, "d")));
    assert_eq!(store.firing_alerts(first.id).await.expect("count"), 1);
    assert_eq!(store.firing_alerts(second.id).await.expect("count"), 1);
    assert_eq!(
        store.firing_alerts(IncidentId(999)).await.expect("count"),
        0
    );
}

async fn open_incidents_are_found_by_alert_group_newest_first_and_since_a_time(db: &TestDatabase) {
    let store = db.store.as_ref();
    let a = open_with(store, 0, &["a"], "g1").await;
    let c = open_with(store, 5, &["c"], "g2").await;
    let b = open_with(store, 10, &["b"], "g1").await;
    let _plain = declare_one(store, "no group", "SEV2", "api", 12).await;
    let in_group = |group: &'static str, since: i64| async move {
        store
            .open_incident_in_group(group, t(since))
            .await
            .expect("read")
    };
    let groups: Vec<String> = ["g1", "g2", "g3"].map(String::from).to_vec();
    let in_groups = |since: i64| {
        let groups = groups.clone();
        async move {
            let mut found = store
                .open_incidents_in_groups(&groups, t(since))
                .await
                .expect("read");
            found.sort();
            found
        }
    };
    let pair = |g: &str, inc: &Incident| (g.to_owned(), inc.id);
    assert_eq!(in_group("g1", 0).await, Some(b.id), "the newest");
    assert_eq!(
        in_group("g1", 10).await,
        Some(b.id),
        "declared at `since` counts"
    );
    assert_eq!(in_group("g1", 11).await, None, "declared before `since`");
    assert_eq!(in_group("g3", 0).await, None);
    assert_eq!(in_groups(0).await, vec![pair("g1", &b), pair("g2", &c)]);
    assert_eq!(in_groups(6).await, vec![pair("g1", &b)]);
    // A resolved incident takes no more alerts: the older open one is found.
    act(store, b.id, "x", 13, Command::Resolve { summary: None })
        .await
        .expect("resolve");
    assert_eq!(in_group("g1", 0).await, Some(a.id));
    assert_eq!(in_groups(0).await, vec![pair("g1", &a), pair("g2", &c)]);
    assert_eq!(in_groups(1).await, vec![pair("g2", &c)]);
    assert!(store
        .open_incidents_in_groups(&[], t(0))
        .await
        .expect("read")
        .is_empty());
}

async fn dropped_alerts_are_counted_per_identity_and_reason_and_pruned_by_age_and_count(
    db: &TestDatabase,
) {
    let store = db.store.as_ref();
    let drop = |key: &str, reason: &str, summary: &str, minute: i64| DroppedAlert {
        integration: "prom".into(),
        dedup_key: key.into(),
        reason: reason.into(),
        summary: summary.into(),
        at: t(minute),
    };
    for dropped in [
        vec![
            drop("k1", "no route", "first", 1),
            drop("k2", "no route", "other", 2),
        ],
        vec![drop("k1", "no route", "again", 3)],
        vec![drop("k1", "silenced", "muted", 4)],
    ] {
        store
            .apply_alerts(AlertWrites {
                dropped,
                ..Default::default()
            })
            .await
            .expect("apply");
    }
    type Row = (String, String, String, u64, Timestamp, Timestamp);
    let drops = |limit: u32| async move {
        store
            .alert_drops(limit)
            .await
            .expect("read")
            .into_iter()
            .map(|d| {
                (
                    d.dedup_key,
                    d.reason,
                    d.summary,
                    d.count,
                    d.first_at,
                    d.last_at,
                )
            })
            .collect::<Vec<Row>>()
    };
    let row = |key: &str, reason: &str, summary: &str, count: u64, first: i64, last: i64| {
        (
            key.into(),
            reason.into(),
            summary.into(),
            count,
            t(first),
            t(last),
        )
    };
    let all = vec![
        row("k1", "silenced", "muted", 1, 4, 4),
        row("k1", "no route", "again", 2, 1, 3),
        row("k2", "no route", "other", 1, 2, 2),
    ];
    assert_eq!(drops(10).await, all, "latest first, repeats counted");
    assert_eq!(drops(2).await, all[..2]);
    assert_eq!(
        store.alert_drops(10).await.expect("read")[0].integration,
        "prom"
    );
    // By age: what was last seen before the cut goes.
    assert_eq!(store.prune_alert_drops(t(3), 10).await.expect("prune"), 1);
    assert_eq!(drops(10).await, all[..2]);
    // By count: only the newest `keep` stay.
    assert_eq!(store.prune_alert_drops(t(0), 1).await.expect("prune"), 1);
    assert_eq!(drops(10).await, all[..1]);
    assert_eq!(store.prune_alert_drops(t(0), 1).await.expect("prune"), 0);
}

async fn the_backlog_counts_what_waits_and_dates_the_oldest(db: &TestDatabase) {
    let store = db.store.as_ref();
    let empty = store.inbox_backlog().await.expect("backlog");
    assert_eq!((empty.items, empty.oldest), (0, None));
    let at = |minute: i64, n: usize| {
        (
            "int_a".to_owned(),
            t(minute),
            AlertBatch::raw(&format!("[{n}]")),
        )
    };
    store
        .enqueue_alerts_batch(&[at(3, 1), at(5, 2), at(4, 3)])
        .await
        .expect("enqueue");
    let backlog = store.inbox_backlog().await.expect("backlog");
    assert_eq!((backlog.items, backlog.oldest), (3, Some(t(3))));
    // A claimed item still waits; a parked one no longer does (it is a dead letter).
    let first = &claim_all(store, 6).await[0];
    store
        .fail_inbox(first.id, "broken", t(6), None)
        .await
        .expect("park");
    let backlog = store.inbox_backlog().await.expect("backlog");
    assert_eq!((backlog.items, backlog.oldest), (2, Some(t(4))));
}
