//! Incidents: the event log, its projection, the engine's schedule and leases.

use crate::{act, attached, declaration, declare_one, outgoing, t};
use fireline_core::{Command, EventData, Incident, IncidentId, NewEvent, Status};
use fireline_store::testing::TestDatabase;
use fireline_store::{backend_tests, AlertRecord, IncidentFilter, StatusFilter, Store, StoreError};
use std::sync::Arc;

backend_tests!(
    created_incident_reads_back_as_its_fold,
    appends_keep_order_and_projection,
    stale_append_is_refused_and_writes_nothing,
    concurrent_writers_lose_no_event,
    missing_incident_is_not_found,
    incident_version_is_its_last_seq,
    listing_filters_and_orders,
    events_are_append_only_in_the_schema,
    due_incidents_are_claimed_once_until_the_lease_ends,
    a_workers_leases_are_given_back_by_name,
    related_incidents_share_a_service_or_an_alert,
    an_incident_opens_with_the_alert_that_opened_it_in_one_write,
    an_opening_that_fails_stores_no_incident,
    a_page_is_recorded_with_its_messages_and_a_repeated_key_is_sent_once,
    a_refused_page_leaves_no_message_behind,
);

async fn created_incident_reads_back_as_its_fold(db: &TestDatabase) {
    let store = db.store.as_ref();
    let first = declare_one(store, "API down", "sev1", "api", 0).await;
    let second = declare_one(store, "Slow search", "SEV3", "search", 1).await;
    assert!(
        second.id > first.id,
        "ids grow: {:?} then {:?}",
        first.id,
        second.id
    );
    let events = store.events(first.id).await.expect("events");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].seq, 1);
    assert_eq!(events[0].actor, "alice");
    assert_eq!(events[0].at, t(0));
    assert_eq!(Incident::fold(first.id, &events).expect("fold"), first);
    assert_eq!(first.severity, "SEV1");
}

async fn appends_keep_order_and_projection(db: &TestDatabase) {
    let store = db.store.as_ref();
    let inc = declare_one(store, "API down", "SEV1", "api", 0).await;
    act(store, inc.id, "bob", 2, Command::Acknowledge)
        .await
        .expect("ack");
    act(
        store,
        inc.id,
        "bob",
        3,
        Command::ChangeStatus {
            to: Status::Identified,
            message: Some("deploy 42".into()),
        },
    )
    .await
    .expect("status");
    let after = act(store, inc.id, "bob", 9, Command::Resolve { summary: None })
        .await
        .expect("resolve");

    let events = store.events(inc.id).await.expect("events");
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4]);
    assert!(
        events.windows(2).all(|w| w[0].id < w[1].id),
        "event ids grow"
    );
    assert_eq!(
        events[2].data,
        EventData::StatusChanged {
            from: Status::Investigating,
            to: Status::Identified,
            message: Some("deploy 42".into())
        }
    );
    assert_eq!(Incident::fold(inc.id, &events).expect("fold"), after);

    let listed = store
        .list_incidents(&IncidentFilter {
            status: StatusFilter::All,
            ..Default::default()
        })
        .await
        .expect("list");
    let row = listed.iter().find(|s| s.id == inc.id).expect("listed");
    assert_eq!(row.status, Status::Resolved);
    assert_eq!(row.acknowledged_at, Some(t(2)));
    assert_eq!(row.resolved_at, Some(t(9)));
    assert_eq!(row.updated_at, t(9));
    assert_eq!(row.version, 4);
}

async fn stale_append_is_refused_and_writes_nothing(db: &TestDatabase) {
    let store = db.store.as_ref();
    let inc = declare_one(store, "API down", "SEV1", "api", 0).await;
    let note = |text: &str| NewEvent {
        at: t(1),
        actor: "x".into(),
        data: EventData::NoteAdded { text: text.into() },
    };
    store
        .append(&inc, vec![note("first")], None)
        .await
        .expect("first append");
    match store
        .append(&inc, vec![note("stale"), note("stale too")], None)
        .await
    {
        Err(StoreError::Conflict {
            expected: 1,
            actual: 2,
        }) => {}
        other => panic!("expected a conflict, got {other:?}"),
    }
    let events = store.events(inc.id).await.expect("events");
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[1].data,
        EventData::NoteAdded {
            text: "first".into()
        }
    );
}

async fn concurrent_writers_lose_no_event(db: &TestDatabase) {
    let store: Arc<dyn Store> = db.store.clone();
    let inc = declare_one(store.as_ref(), "Busy", "SEV2", "api", 0).await;
    let writers = 12;
    let mut tasks = Vec::new();
    for w in 0..writers {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            // The retry a server does for commands that commute, such as notes.
            loop {
                match act(
                    store.as_ref(),
                    inc.id,
                    &format!("w{w}"),
                    1,
                    Command::AddNote {
                        text: format!("note {w}"),
                    },
                )
                .await
                {
                    Ok(_) => return,
                    Err(StoreError::Conflict { .. }) => continue,
                    Err(e) => panic!("writer {w}: {e}"),
                }
            }
        }));
    }
    for task in tasks {
        task.await.expect("writer finished");
    }
    let events = store.events(inc.id).await.expect("events");
    assert_eq!(events.len(), writers + 1);
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=writers as u64 + 1).collect::<Vec<_>>());
    let mut notes: Vec<String> = events
        .iter()
        .filter_map(|e| match &e.data {
            EventData::NoteAdded { text } => Some(text.clone()),
            _ => None,
        })
        .collect();
    notes.sort();
    let mut expected: Vec<String> = (0..writers).map(|w| format!("note {w}")).collect();
    expected.sort();
    assert_eq!(notes, expected);
}

async fn missing_incident_is_not_found(db: &TestDatabase) {
    let store = db.store.as_ref();
    assert!(matches!(
        store.events(IncidentId(999)).await,
        Err(StoreError::NotFound)
    ));
    let mut ghost = declare_one(store, "real", "SEV4", "x", 0).await;
    ghost.id = IncidentId(4242);
    let note = NewEvent {
        at: t(1),
        actor: "x".into(),
        data: EventData::NoteAdded { text: "n".into() },
    };
    assert!(matches!(
        store.append(&ghost, vec![note], None).await,
        Err(StoreError::NotFound)
    ));
}

async fn incident_version_is_its_last_seq(db: &TestDatabase) {
    let store = db.store.as_ref();
    assert_eq!(
        store.incident_version(IncidentId(999)).await.expect("read"),
        None
    );
    assert_eq!(
        store
            .incident_version(IncidentId(u64::MAX))
            .await
            .expect("read"),
        None,
        "an id beyond the table's range is simply absent"
    );
    let inc = declare_one(store, "API down", "SEV1", "api", 0).await;
    let last = |events: Vec<fireline_core::RecordedEvent>| events.last().map(|e| e.seq);
    assert_eq!(
        store.incident_version(inc.id).await.expect("read"),
        last(store.events(inc.id).await.expect("events"))
    );
    act(store, inc.id, "bob", 1, Command::Acknowledge)
        .await
        .expect("ack");
    let after = store.incident_version(inc.id).await.expect("read");
    assert_eq!(after, last(store.events(inc.id).await.expect("events")));
    assert_eq!(after, Some(inc.version + 1), "moves with every append");
}

async fn listing_filters_and_orders(db: &TestDatabase) {
    let store = db.store.as_ref();
    let a = declare_one(store, "a", "SEV1", "api", 0).await;
    let b = declare_one(store, "b", "SEV2", "api", 1).await;
    let c = declare_one(store, "c", "SEV2", "db", 2).await;
    act(store, a.id, "x", 3, Command::Resolve { summary: None })
        .await
        .expect("resolve a");
    let ids = |filter: IncidentFilter| async move {
        store
            .list_incidents(&filter)
            .await
            .expect("list")
            .into_iter()
            .map(|s| s.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(IncidentFilter::default()).await, vec![c.id, b.id]);
    assert_eq!(
        ids(IncidentFilter {
            status: StatusFilter::Resolved,
            ..Default::default()
        })
        .await,
        vec![a.id]
    );
    assert_eq!(
        ids(IncidentFilter {
            status: StatusFilter::All,
            ..Default::default()
        })
        .await,
        vec![c.id, b.id, a.id]
    );
    assert_eq!(
        ids(IncidentFilter {
            status: StatusFilter::All,
            service: Some("api".into()),
            ..Default::default()
        })
        .await,
        vec![b.id, a.id]
    );
    assert_eq!(
        ids(IncidentFilter {
            severity: Some("SEV2".into()),
            ..Default::default()
        })
        .await,
        vec![c.id, b.id]
    );
    assert_eq!(
        ids(IncidentFilter {
            status: StatusFilter::All,
            limit: 1,
            ..Default::default()
        })
        .await,
        vec![c.id]
    );
}

async fn events_are_append_only_in_the_schema(db: &TestDatabase) {
    let store = db.store.as_ref();
    let inc = declare_one(store, "a", "SEV1", "api", 0).await;
    let number = inc.id.0 as i64;
    let (update, delete) = if db.url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(&db.url)
            .await
            .expect("raw sqlite");
        let u = sqlx::query("UPDATE incident_events SET actor = 'mallory' WHERE incident = $1")
            .bind(number)
            .execute(&pool)
            .await;
        let d = sqlx::query("DELETE FROM incident_events WHERE incident = $1")
            .bind(number)
            .execute(&pool)
            .await;
        (u.is_err(), d.is_err())
    } else {
        let pool = sqlx::PgPool::connect(&db.url).await.expect("raw postgres");
        let u = sqlx::query("UPDATE incident_events SET actor = 'mallory' WHERE incident = $1")
            .bind(number)
            .execute(&pool)
            .await;
        let d = sqlx::query("DELETE FROM incident_events WHERE incident = $1")
            .bind(number)
            .execute(&pool)
            .await;
        (u.is_err(), d.is_err())
    };
    assert!(update && delete, "the schema must refuse changing events (update refused: {update}, delete refused: {delete})");
    let events = store.events(inc.id).await.expect("events");
    assert_eq!(events[0].actor, "alice");
}

/// An incident declared at minute 0 whose policy next has work at `next_due`.
async fn create_due(store: &dyn Store, title: &str, next_due: Option<jiff::Timestamp>) -> Incident {
    let declared = NewEvent {
        at: t(0),
        actor: "a".into(),
        data: declaration(title, "SEV2", "api"),
    };
    store
        .create_incident(declared, next_due)
        .await
        .expect("create")
        .0
}

async fn due_incidents_are_claimed_once_until_the_lease_ends(db: &TestDatabase) {
    let store = db.store.as_ref();
    let soon = create_due(store, "soon", Some(t(5))).await;
    let later = create_due(store, "later", Some(t(30))).await;
    let _idle = create_due(store, "idle", None).await;
    assert_eq!(store.next_due().await.expect("next due"), Some(t(5)));

    assert!(
        store
            .claim_due(t(4), "a", t(14), 10)
            .await
            .expect("claim")
            .is_empty(),
        "nothing due yet"
    );
    assert_eq!(
        store.claim_due(t(6), "a", t(16), 10).await.expect("claim"),
        vec![soon.id]
    );
    assert!(
        store
            .claim_due(t(7), "b", t(17), 10)
            .await
            .expect("claim")
            .is_empty(),
        "a holds the lease"
    );
    assert_eq!(
        store.claim_due(t(17), "b", t(27), 10).await.expect("claim"),
        vec![soon.id],
        "an expired lease is taken over"
    );

    // Only the holder's reschedule releases it; a stale owner's is ignored.
    store
        .reschedule(soon.id, Some(t(40)), "a")
        .await
        .expect("reschedule");
    assert_eq!(
        store.next_due().await.expect("next due"),
        Some(t(5)),
        "a's reschedule did not apply: b holds it"
    );
    store
        .reschedule(soon.id, Some(t(40)), "b")
        .await
        .expect("reschedule");
    assert_eq!(store.next_due().await.expect("next due"), Some(t(30)));
    assert_eq!(
        store.claim_due(t(35), "a", t(45), 1).await.expect("claim"),
        vec![later.id],
        "limit and due order"
    );

    // An append writes the next due time and releases any lease.
    let note = NewEvent {
        at: t(36),
        actor: "x".into(),
        data: EventData::NoteAdded { text: "n".into() },
    };
    store
        .append(&later, vec![note], Some(t(50)))
        .await
        .expect("append");
    assert_eq!(
        store.claim_due(t(41), "b", t(51), 10).await.expect("claim"),
        vec![soon.id]
    );
    assert_eq!(
        store.reschedule_all(t(60)).await.expect("reschedule all"),
        3,
        "every open incident is re-planned"
    );
    assert_eq!(store.next_due().await.expect("next due"), Some(t(60)));
}

/// A restarted worker takes up what its name held at once (a crash left the leases),
/// and leaves other workers' leases alone.
async fn a_workers_leases_are_given_back_by_name(db: &TestDatabase) {
    let store = db.store.as_ref();
    let first = declare_one(store, "API down", "SEV1", "api", 0).await;
    store
        .reschedule(first.id, Some(t(1)), "nobody")
        .await
        .expect("reschedule");
    assert_eq!(
        store.claim_due(t(2), "a", t(60), 10).await.expect("claim"),
        vec![first.id]
    );
    store
        .enqueue_alerts_batch(&[
            ("int".into(), t(2), fireline_store::AlertBatch::raw("[]")),
            ("int".into(), t(2), fireline_store::AlertBatch::raw("[]")),
        ])
        .await
        .expect("enqueue");
    assert_eq!(
        store
            .claim_inbox(t(2), "a", t(60), 1)
            .await
            .expect("claim")
            .len(),
        1
    );
    assert_eq!(
        store
            .claim_inbox(t(2), "b", t(60), 1)
            .await
            .expect("claim")
            .len(),
        1
    );
    assert_eq!(store.release_leases("a").await.expect("release"), 2);
    assert_eq!(
        store.claim_due(t(3), "c", t(60), 10).await.expect("claim"),
        vec![first.id],
        "a's incident lease is gone"
    );
    assert_eq!(
        store
            .claim_inbox(t(3), "c", t(60), 10)
            .await
            .expect("claim")
            .len(),
        1,
        "a's inbox item is free again; b's is still held"
    );
    assert_eq!(store.release_leases("a").await.expect("release"), 0);
}

fn alert(key: &str) -> EventData {
    attached(key, "g")
}

async fn related_incidents_share_a_service_or_an_alert(db: &TestDatabase) {
    let store = db.store.as_ref();
    let old_api = declare_one(store, "API slow", "SEV3", "api", 0).await;
    let other = declare_one(store, "Disk full", "SEV2", "db", 1).await;
    let unrelated = declare_one(store, "Search down", "SEV2", "search", 2).await;
    let now = declare_one(store, "API down", "SEV1", "api", 3).await;
    let later_api = declare_one(store, "API again", "SEV2", "api", 4).await;
    for (inc, key) in [
        (&other, "DiskFull"),
        (&now, "DiskFull"),
        (&later_api, "DiskFull"),
    ] {
        store
            .append(
                inc,
                vec![NewEvent {
                    at: t(5),
                    actor: "fireline".into(),
                    data: alert(key),
                }],
                None,
            )
            .await
            .expect("append");
    }
    let keys = vec![("prom".to_owned(), "DiskFull".to_owned())];
    let related = store
        .related_incidents(now.id, "api", &keys, 10)
        .await
        .expect("related");
    let found: Vec<(IncidentId, Vec<String>)> =
        related.iter().map(|r| (r.id, r.reasons.clone())).collect();
    assert_eq!(
        found,
        vec![
            (other.id, vec!["shared alert prom/DiskFull".to_owned()]),
            (old_api.id, vec!["same service".to_owned()]),
        ],
        "earlier incidents only, newest first; {} and {} are not related",
        unrelated.id,
        later_api.id
    );
    assert_eq!(related[1].title, "API slow");
    assert_eq!(related[1].severity, "SEV3");
    assert_eq!(
        store
            .related_incidents(now.id, "api", &keys, 1)
            .await
            .expect("related")
            .len(),
        1
    );
}

async fn an_incident_opens_with_the_alert_that_opened_it_in_one_write(db: &TestDatabase) {
    let store = db.store.as_ref();
    let before = declare_one(store, "earlier", "SEV3", "db", 0).await;
    let event = |data: EventData| NewEvent {
        at: t(1),
        actor: "fireline".into(),
        data,
    };
    let declared = event(declaration("Disk full", "SEV2", "db"));
    let alerted = event(attached("DiskFull", "db/disk"));
    let (opened, events) = store
        .open_incident(declared.clone(), vec![alerted.clone()], Some(t(6)))
        .await
        .expect("open");
    assert!(opened.id > before.id, "the id comes from the database");
    assert_eq!(
        events.iter().map(|e| (e.seq, &e.data)).collect::<Vec<_>>(),
        vec![(1, &declared.data), (2, &alerted.data)]
    );
    assert!(events[0].id < events[1].id, "event ids grow");
    let stored = store.events(opened.id).await.expect("events");
    assert_eq!(stored, events, "what was returned is what was stored");
    assert_eq!(Incident::fold(opened.id, &stored).expect("fold"), opened);
    assert_eq!(
        store.incident_version(opened.id).await.expect("version"),
        Some(2)
    );
    // The projections are in step: the alert, its group, the schedule.
    assert_eq!(
        store.alert("prom", "DiskFull").await.expect("alert"),
        Some(AlertRecord {
            incident: opened.id,
            firing: true,
            digest: "d".into()
        })
    );
    assert_eq!(
        store
            .open_incident_in_group("db/disk", t(0))
            .await
            .expect("group"),
        Some(opened.id),
        "later alerts of its group find it"
    );
    assert_eq!(store.next_due().await.expect("next due"), Some(t(6)));
    // With nothing more, it is a plain declaration.
    let (plain, only) = store
        .open_incident(event(declaration("Quiet", "SEV4", "db")), vec![], None)
        .await
        .expect("open");
    assert_eq!((plain.version, only.len()), (1, 1));
    assert_eq!(store.events(plain.id).await.expect("events"), only);
}

async fn an_opening_that_fails_stores_no_incident(db: &TestDatabase) {
    let store = db.store.as_ref();
    let event = |data: EventData| NewEvent {
        at: t(1),
        actor: "fireline".into(),
        data,
    };
    assert!(matches!(
        store
            .open_incident(event(attached("A", "g")), vec![], None)
            .await,
        Err(StoreError::Corrupt(_))
    ));
    // The declaration is written before the alert; the second declaration fails the
    // whole write.
    let failed = store
        .open_incident(
            event(declaration("Disk full", "SEV2", "db")),
            vec![
                event(attached("B", "g")),
                event(declaration("again", "SEV2", "db")),
            ],
            Some(t(5)),
        )
        .await;
    assert!(matches!(failed, Err(StoreError::Corrupt(_))), "{failed:?}");
    let all = IncidentFilter {
        status: StatusFilter::All,
        ..Default::default()
    };
    assert!(store.list_incidents(&all).await.expect("list").is_empty());
    assert_eq!(store.alert("prom", "B").await.expect("alert"), None);
    assert_eq!(
        store
            .open_incident_in_group("g", t(0))
            .await
            .expect("group"),
        None
    );
    assert_eq!(store.next_due().await.expect("next due"), None);
    let next = declare_one(store, "works", "SEV2", "db", 2).await;
    let listed = store.list_incidents(&all).await.expect("list");
    assert_eq!(listed.iter().map(|s| s.id).collect::<Vec<_>>(), [next.id]);
}

fn note(minute: i64, text: &str) -> NewEvent {
    NewEvent {
        at: t(minute),
        actor: "fireline".into(),
        data: EventData::NoteAdded { text: text.into() },
    }
}

async fn a_page_is_recorded_with_its_messages_and_a_repeated_key_is_sent_once(db: &TestDatabase) {
    let store = db.store.as_ref();
    let inc = declare_one(store, "API down", "SEV1", "api", 0).await;
    let pages = [
        outgoing("page-1-alice", Some(inc.id), "alice", t(1)),
        outgoing("page-1-bob", Some(inc.id), "bob", t(1)),
    ];
    let (after, recorded) = store
        .append_notifying(&inc, vec![note(1, "paged")], Some(t(6)), &pages)
        .await
        .expect("append");
    assert_eq!((after.version, recorded.len()), (2, 1));
    assert_eq!(
        store.events(inc.id).await.expect("events")[1..],
        recorded[..]
    );
    assert_eq!(store.next_due().await.expect("next due"), Some(t(6)));
    assert_eq!(store.outbox_depth().await.expect("depth"), 2);
    let claimed = store
        .claim_outbox(t(1), "d", t(10), 10)
        .await
        .expect("claim");
    assert_eq!(
        claimed
            .iter()
            .map(|m| (m.key.as_str(), m.incident, m.person.as_str(), m.due_at))
            .collect::<Vec<_>>(),
        [
            ("page-1-alice", Some(inc.id), "alice", t(1)),
            ("page-1-bob", Some(inc.id), "bob", t(1))
        ]
    );
    // A replayed decision carries a message already stored: the event is recorded,
    // the message is not stored (nor sent) again.
    let repeat = [
        pages[0].clone(),
        outgoing("page-2-alice", Some(inc.id), "alice", t(2)),
    ];
    let (_, again) = store
        .append_notifying(&after, vec![note(2, "escalated")], None, &repeat)
        .await
        .expect("append");
    assert_eq!(again.len(), 1);
    assert_eq!(store.outbox_depth().await.expect("depth"), 3);
    let fresh = store
        .claim_outbox(t(3), "d", t(4), 10)
        .await
        .expect("claim");
    assert_eq!(
        fresh.iter().map(|m| m.key.as_str()).collect::<Vec<_>>(),
        ["page-2-alice"],
        "the first two are still leased; the repeat made no copy"
    );
}

async fn a_refused_page_leaves_no_message_behind(db: &TestDatabase) {
    let store = db.store.as_ref();
    let inc = declare_one(store, "API down", "SEV1", "api", 0).await;
    store
        .append(&inc, vec![note(1, "first")], None)
        .await
        .expect("append");
    let page = [outgoing("page-stale", Some(inc.id), "alice", t(1))];
    assert!(matches!(
        store
            .append_notifying(&inc, vec![note(1, "stale")], None, &page)
            .await,
        Err(StoreError::Conflict {
            expected: 1,
            actual: 2
        })
    ));
    let mut ghost = inc.clone();
    ghost.id = IncidentId(4242);
    assert!(matches!(
        store
            .append_notifying(&ghost, vec![note(1, "ghost")], None, &page)
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.events(inc.id).await.expect("events").len(), 2);
    assert_eq!(store.outbox_depth().await.expect("depth"), 0);
    assert_eq!(store.next_outbox_due().await.expect("due"), None);
    assert!(store
        .claim_outbox(t(9), "d", t(10), 10)
        .await
        .expect("claim")
        .is_empty());
}
