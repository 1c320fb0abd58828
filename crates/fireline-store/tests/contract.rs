//! The store contract: every backend must pass the same suite.

use fireline_core::policy::Policy;
use fireline_core::postmortem::{ActionItem, ActionStatus, Priority};
use fireline_core::{
    decide, declare, AccessRole, Command, Declaration, EventData, Incident, IncidentId, NewEvent,
    SeverityCatalog, Status,
};
use fireline_store::testing::TestDatabase;
use fireline_store::{
    backend_tests, ActionFilter, IncidentFilter, StatusFilter, Store, StoreError, TokenRecord,
};
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;

fn t(minute: i64) -> Timestamp {
    Timestamp::from_second(1_790_000_000).expect("ts") + SignedDuration::from_mins(minute)
}

async fn declare_one(
    store: &dyn Store,
    title: &str,
    severity: &str,
    service: &str,
    minute: i64,
) -> Incident {
    let data = declare(
        &Declaration {
            title: title.into(),
            severity: severity.into(),
            service: service.into(),
            summary: None,
            category: None,
            flags: vec![],
        },
        &Policy::builtin(),
    )
    .expect("valid");
    store
        .create_incident(
            NewEvent {
                at: t(minute),
                actor: "alice".into(),
                data,
            },
            None,
        )
        .await
        .expect("create")
        .0
}

/// What the server does for one command: load, fold, decide, append.
async fn act(
    store: &dyn Store,
    id: IncidentId,
    actor: &str,
    minute: i64,
    command: Command,
) -> Result<Incident, StoreError> {
    let events = store.events(id).await?;
    let current = Incident::fold(id, &events)?;
    let data = decide(&current, &command, &SeverityCatalog::builtin()).expect("command is valid");
    Ok(store
        .append(
            &current,
            vec![NewEvent {
                at: t(minute),
                actor: actor.into(),
                data,
            }],
            None,
        )
        .await?
        .0)
}

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

async fn tokens_are_found_by_hash_and_revoked_once(db: &TestDatabase) {
    let store = db.store.as_ref();
    let record = TokenRecord {
        id: "tok_a".into(),
        name: "ops-bot".into(),
        role: AccessRole::Responder,
        created_at: t(0),
        revoked_at: None,
    };
    store.insert_token(&record, "hash-a").await.expect("insert");
    let viewer = TokenRecord {
        id: "tok_b".into(),
        name: "dash".into(),
        role: AccessRole::Viewer,
        created_at: t(1),
        revoked_at: None,
    };
    store
        .insert_token(&viewer, "hash-b")
        .await
        .expect("insert b");
    assert!(
        store
            .insert_token(
                &TokenRecord {
                    id: "tok_c".into(),
                    ..viewer.clone()
                },
                "hash-b"
            )
            .await
            .is_err(),
        "hashes are unique"
    );

    assert_eq!(
        store.token_by_hash("hash-a").await.expect("lookup"),
        Some(record.clone())
    );
    assert_eq!(store.token_by_hash("nope").await.expect("lookup"), None);
    assert_eq!(
        store.token(&record.id).await.expect("lookup"),
        Some(record.clone())
    );
    assert_eq!(store.token("tok_nope").await.expect("lookup"), None);
    let ids: Vec<String> = store
        .list_tokens()
        .await
        .expect("list")
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(ids, vec!["tok_a", "tok_b"]);

    let revoked = store.revoke_token("tok_a", t(5)).await.expect("revoke");
    assert_eq!(revoked.revoked_at, Some(t(5)));
    let again = store
        .revoke_token("tok_a", t(9))
        .await
        .expect("revoke again");
    assert_eq!(
        again.revoked_at,
        Some(t(5)),
        "the first revocation time stands"
    );
    assert_eq!(
        store
            .token_by_hash("hash-a")
            .await
            .expect("lookup")
            .and_then(|t| t.revoked_at),
        Some(t(5))
    );
    assert!(matches!(
        store.revoke_token("tok_zzz", t(5)).await,
        Err(StoreError::NotFound)
    ));
}

fn user(name: &str, at: i64) -> fireline_store::UserRecord {
    fireline_store::UserRecord {
        name: name.into(),
        role: AccessRole::Responder,
        password_hash: format!("$argon2id$fake-{name}"),
        created_at: t(at),
        password_changed_at: t(at),
        disabled_at: None,
        sessions_from: t(at),
    }
}

async fn users_are_unique_disabled_and_rehashed(db: &TestDatabase) {
    let store = db.store.as_ref();
    store
        .insert_user(&user("bob", 1))
        .await
        .expect("insert bob");
    store
        .insert_user(&user("alice", 2))
        .await
        .expect("insert alice");
    assert!(matches!(
        store.insert_user(&user("bob", 3)).await,
        Err(StoreError::Exists(_))
    ));
    assert_eq!(
        store.user("bob").await.expect("read"),
        Some(user("bob", 1)),
        "a refused duplicate changes nothing"
    );
    let names: Vec<String> = store
        .list_users()
        .await
        .expect("list")
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, vec!["alice", "bob"]);

    store
        .update_user_password("bob", "$argon2id$new", t(7))
        .await
        .expect("rehash");
    let bob = store.user("bob").await.expect("read").expect("bob");
    assert_eq!(
        (
            bob.password_hash.as_str(),
            bob.password_changed_at,
            bob.sessions_from,
            bob.created_at
        ),
        ("$argon2id$new", t(7), t(7), t(1))
    );
    assert!(matches!(
        store.update_user_password("carol", "x", t(7)).await,
        Err(StoreError::NotFound)
    ));

    let disabled = store
        .set_user_disabled("bob", Some(t(8)))
        .await
        .expect("disable");
    assert_eq!(disabled.disabled_at, Some(t(8)));
    assert_eq!(disabled.sessions_from, t(8), "disabling ends sessions");
    let enabled = store.set_user_disabled("bob", None).await.expect("enable");
    assert_eq!(enabled.disabled_at, None);
    assert_eq!(
        enabled.sessions_from,
        t(8),
        "re-enabling does not bring old sessions back"
    );
    assert!(matches!(
        store.set_user_disabled("carol", Some(t(8))).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.user("carol").await.expect("read"), None);
}

async fn the_first_admin_code_is_taken_once(db: &TestDatabase) {
    let store = db.store.as_ref();
    let admin = fireline_store::UserRecord {
        role: AccessRole::Admin,
        ..user("root", 1)
    };
    assert!(
        !store.claim_first_admin("h1", &admin).await.expect("claim"),
        "no code was made yet"
    );
    store.set_first_admin_code("h1").await.expect("set");
    store.set_first_admin_code("h2").await.expect("replace");
    assert!(!store.first_admin_code_is("h1").await.expect("read"));
    assert!(store.first_admin_code_is("h2").await.expect("read"));
    assert!(
        !store.claim_first_admin("h1", &admin).await.expect("claim"),
        "a replaced code is void"
    );
    assert_eq!(store.user("root").await.expect("read"), None);

    assert!(
        store.claim_first_admin("h2", &admin).await.expect("claim"),
        "the current code makes the first admin"
    );
    assert_eq!(store.user("root").await.expect("read"), Some(admin.clone()));
    assert!(
        !store
            .claim_first_admin("h2", &user("second", 1))
            .await
            .expect("claim"),
        "the code works once"
    );
    assert_eq!(store.user("second").await.expect("read"), None);

    // A code is void once any user exists, and creating a user voids it.
    store.set_first_admin_code("h3").await.expect("set");
    assert!(!store.first_admin_code_is("h3").await.expect("read"));
    assert!(
        !store
            .claim_first_admin("h3", &user("third", 1))
            .await
            .expect("claim"),
        "users exist: no first admin any more"
    );
}

async fn reopening_the_database_loses_nothing(db: &TestDatabase) {
    let inc = declare_one(db.store.as_ref(), "persisted", "SEV2", "api", 0).await;
    act(db.store.as_ref(), inc.id, "bob", 1, Command::Acknowledge)
        .await
        .expect("ack");
    let before = db.store.events(inc.id).await.expect("events");
    let reopened = fireline_store::open(&db.url).await.expect("reopen");
    assert_eq!(
        reopened.events(inc.id).await.expect("events after reopen"),
        before
    );
    let next = declare_one(reopened.as_ref(), "next", "SEV4", "api", 2).await;
    assert!(next.id > inc.id, "the id sequence survives a restart");
    reopened.close().await;
}

async fn due_incidents_are_claimed_once_until_the_lease_ends(db: &TestDatabase) {
    let store = db.store.as_ref();
    let data = |title: &str| {
        declare(
            &Declaration {
                title: title.into(),
                severity: "SEV2".into(),
                service: "api".into(),
                summary: None,
                category: None,
                flags: vec![],
            },
            &Policy::builtin(),
        )
        .expect("valid")
    };
    let soon = store
        .create_incident(
            NewEvent {
                at: t(0),
                actor: "a".into(),
                data: data("soon"),
            },
            Some(t(5)),
        )
        .await
        .expect("create")
        .0;
    let later = store
        .create_incident(
            NewEvent {
                at: t(0),
                actor: "a".into(),
                data: data("later"),
            },
            Some(t(30)),
        )
        .await
        .expect("create")
        .0;
    let _idle = store
        .create_incident(
            NewEvent {
                at: t(0),
                actor: "a".into(),
                data: data("idle"),
            },
            None,
        )
        .await
        .expect("create")
        .0;
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
            ("int".into(), t(2), "[]".into()),
            ("int".into(), t(2), "[]".into()),
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

backend_tests!(
    a_confirmed_contact_stays_verified_and_the_latest_confirmation_wins,
    a_push_device_is_kept_removed_with_its_reason_and_revived_by_subscribing_again,
    inbox_items_are_applied_once_and_survive_a_restart,
    due_incidents_are_claimed_once_until_the_lease_ends,
    a_workers_leases_are_given_back_by_name,
    created_incident_reads_back_as_its_fold,
    appends_keep_order_and_projection,
    stale_append_is_refused_and_writes_nothing,
    concurrent_writers_lose_no_event,
    missing_incident_is_not_found,
    incident_version_is_its_last_seq,
    listing_filters_and_orders,
    events_are_append_only_in_the_schema,
    tokens_are_found_by_hash_and_revoked_once,
    users_are_unique_disabled_and_rehashed,
    the_first_admin_code_is_taken_once,
    reopening_the_database_loses_nothing,
    postmortem_text_is_versioned_with_history,
    related_incidents_share_a_service_or_an_alert,
    action_items_are_stored_filtered_and_updated,
);

async fn postmortem_text_is_versioned_with_history(db: &TestDatabase) {
    let store = db.store.as_ref();
    let inc = declare_one(store, "API down", "SEV1", "api", 0).await;
    assert_eq!(store.postmortem(inc.id).await.expect("read"), None);
    assert!(matches!(
        store
            .create_postmortem(IncidentId(99), "x", "standard", t(1), "alice")
            .await,
        Err(StoreError::NotFound)
    ));
    let first = store
        .create_postmortem(inc.id, "# Draft\nline", "standard", t(1), "alice")
        .await
        .expect("create");
    assert_eq!((first.version, first.created_by.as_str()), (1, "alice"));
    assert!(matches!(
        store
            .create_postmortem(inc.id, "again", "standard", t(2), "bob")
            .await,
        Err(StoreError::Conflict {
            expected: 0,
            actual: 1
        })
    ));

    let saved = store
        .update_postmortem(inc.id, 1, "# Draft\nline\nmore", t(3), "bob")
        .await
        .expect("save");
    assert_eq!(saved.version, 2);
    assert_eq!(saved.updated_by, "bob");
    assert_eq!(saved.updated_at, t(3));
    assert_eq!(saved.created_by, "alice", "creation is kept");
    // A stale save writes nothing.
    assert!(matches!(
        store
            .update_postmortem(inc.id, 1, "stale", t(4), "carol")
            .await,
        Err(StoreError::Conflict {
            expected: 1,
            actual: 2
        })
    ));
    assert!(matches!(
        store
            .update_postmortem(IncidentId(99), 1, "x", t(4), "carol")
            .await,
        Err(StoreError::NotFound)
    ));
    let now = store
        .postmortem(inc.id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(now, saved);
    assert_eq!(now.text, "# Draft\nline\nmore");

    let history = store.postmortem_history(inc.id).await.expect("history");
    let rows: Vec<(u64, &str, &str, Timestamp)> = history
        .iter()
        .map(|r| (r.version, r.actor.as_str(), r.summary.as_str(), r.at))
        .collect();
    assert_eq!(
        rows,
        vec![
            (1, "alice", "drafted", t(1)),
            (2, "bob", "+1 −0 lines", t(3))
        ]
    );
    assert_eq!(history[0].text, "# Draft\nline");
}

fn alert(key: &str) -> EventData {
    EventData::AlertAttached {
        integration: "prom".into(),
        dedup_key: key.into(),
        summary: "s".into(),
        labels: Default::default(),
        annotations: Default::default(),
        starts_at: None,
        link: None,
        route: None,
        runbook: None,
        digest: "d".into(),
        reason: "new alert".into(),
        group: "g".into(),
        targets: vec![],
    }
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

fn action(incident: IncidentId, title: &str, owner: &str, due: &str) -> ActionItem {
    ActionItem {
        id: 0,
        incident,
        title: title.into(),
        owner: owner.into(),
        priority: Priority::P1,
        due: due.parse().expect("date"),
        status: ActionStatus::Open,
        note: None,
        created_at: t(10),
        created_by: "alice".into(),
        updated_at: t(10),
        updated_by: "alice".into(),
    }
}

async fn action_items_are_stored_filtered_and_updated(db: &TestDatabase) {
    let store = db.store.as_ref();
    let a = declare_one(store, "API down", "SEV1", "api", 0).await;
    let b = declare_one(store, "DB down", "SEV1", "db", 1).await;
    assert!(matches!(
        store
            .insert_action_item(&action(IncidentId(99), "x", "bob", "2026-01-01"))
            .await,
        Err(StoreError::NotFound)
    ));
    let first = store
        .insert_action_item(&action(a.id, "Add canary", "bob", "2026-03-10"))
        .await
        .expect("insert");
    let second = store
        .insert_action_item(&action(a.id, "Fix runbook", "carol", "2026-03-01"))
        .await
        .expect("insert");
    let third = store
        .insert_action_item(&action(b.id, "Alert on disk", "bob", "2026-04-01"))
        .await
        .expect("insert");
    assert!(first.id > 0 && second.id > first.id && third.id > second.id);
    assert_eq!(
        store.action_item(first.id).await.expect("read"),
        Some(first.clone())
    );
    assert_eq!(store.action_item(9999).await.expect("read"), None);

    let list = |filter: ActionFilter| async move {
        store
            .list_action_items(&ActionFilter {
                limit: 100,
                ..filter
            })
            .await
            .expect("list")
            .iter()
            .map(|i| i.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        list(ActionFilter::default()).await,
        vec![second.id, first.id, third.id],
        "soonest due first"
    );
    assert_eq!(
        list(ActionFilter {
            incident: Some(a.id),
            ..Default::default()
        })
        .await,
        vec![second.id, first.id]
    );
    assert_eq!(
        list(ActionFilter {
            owner: Some("bob".into()),
            ..Default::default()
        })
        .await,
        vec![first.id, third.id]
    );
    let overdue_on = |day: &str| ActionFilter {
        open_only: true,
        due_before: Some(day.parse().expect("date")),
        ..Default::default()
    };
    assert_eq!(
        list(overdue_on("2026-03-11")).await,
        vec![second.id, first.id]
    );

    let closed = ActionItem {
        status: ActionStatus::Done,
        note: Some("shipped".into()),
        updated_at: t(20),
        updated_by: "carol".into(),
        ..second.clone()
    };
    assert_eq!(
        store.update_action_item(&closed).await.expect("update"),
        closed
    );
    assert_eq!(
        list(overdue_on("2026-03-11")).await,
        vec![first.id],
        "done is not overdue"
    );
    assert!(matches!(
        store
            .update_action_item(&ActionItem { id: 9999, ..closed })
            .await,
        Err(StoreError::NotFound)
    ));
}

#[tokio::test]
async fn unknown_url_scheme_is_refused() {
    let err = fireline_store::open("mysql://x")
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("sqlite://"), "{err}");
}

fn payload(n: usize) -> (String, Timestamp, String) {
    ("int_a".to_owned(), t(0), format!("[{n}]"))
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
        items.iter().map(|i| i.alerts.as_str()).collect::<Vec<_>>(),
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
        again.iter().map(|i| i.alerts.as_str()).collect::<Vec<_>>(),
        ["[2]", "[3]"],
        "an applied item is never claimed again"
    );
    // A restart with a non-empty inbox: what was not applied is still there.
    store.close().await;
    let reopened = fireline_store::open(&db.url).await.expect("reopen");
    let after = claim_all(reopened.as_ref(), 4).await;
    assert_eq!(
        after.iter().map(|i| i.alerts.as_str()).collect::<Vec<_>>(),
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
            .map(|i| i.alerts.as_str())
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

async fn a_confirmed_contact_stays_verified_and_the_latest_confirmation_wins(db: &TestDatabase) {
    use fireline_core::oncall::verify::VerifiedContact;
    use fireline_core::oncall::ContactKind;
    let store = &db.store;
    assert!(store.verified_contacts().await.expect("read").is_empty());
    let first: jiff::Timestamp = "2026-03-02T14:00:00Z".parse().expect("t");
    let mut check = VerifiedContact {
        person: "alice".into(),
        kind: ContactKind::Sms,
        address_digest: "0123456789abcdef".into(),
        verified_at: first,
    };
    store.verify_contact(&check).await.expect("record");
    check.verified_at = first + jiff::SignedDuration::from_hours(1);
    store.verify_contact(&check).await.expect("record again");
    let other = VerifiedContact {
        kind: ContactKind::Voice,
        ..check.clone()
    };
    store.verify_contact(&other).await.expect("record");
    assert_eq!(
        store.verified_contacts().await.expect("read"),
        vec![check, other],
        "one row per contact, the latest time"
    );
}

async fn a_push_device_is_kept_removed_with_its_reason_and_revived_by_subscribing_again(
    db: &TestDatabase,
) {
    use fireline_store::PushDevice;
    let store = &db.store;
    let at: jiff::Timestamp = "2026-03-02T14:00:00Z".parse().expect("t");
    let phone = PushDevice {
        id: "d1".into(),
        person: "alice".into(),
        subscription: r#"{"endpoint":"https://push.example/1"}"#.into(),
        label: "Phone".into(),
        created_at: at,
        removed: None,
    };
    let laptop = PushDevice {
        id: "d2".into(),
        person: "bob".into(),
        label: "Laptop".into(),
        created_at: at + jiff::SignedDuration::from_mins(1),
        ..phone.clone()
    };
    store.add_push_device(&phone).await.expect("add");
    store.add_push_device(&laptop).await.expect("add");
    assert_eq!(
        store.push_devices(None).await.expect("read"),
        vec![laptop.clone(), phone.clone()],
        "newest first"
    );
    assert_eq!(
        store.push_devices(Some("alice")).await.expect("read"),
        vec![phone.clone()]
    );
    let gone = at + jiff::SignedDuration::from_hours(1);
    assert!(store
        .remove_push_device("d1", gone, "the push service no longer knows it (410)")
        .await
        .expect("remove"));
    assert!(
        !store
            .remove_push_device("d1", gone, "again")
            .await
            .expect("remove"),
        "a removed device is not removed twice"
    );
    let removed = &store.push_devices(Some("alice")).await.expect("read")[0];
    assert_eq!(
        removed.removed,
        Some((gone, "the push service no longer knows it (410)".to_owned()))
    );
    // Subscribing again (same endpoint, same id) puts it back in use.
    store.add_push_device(&phone).await.expect("add again");
    assert_eq!(
        store.push_devices(Some("alice")).await.expect("read"),
        vec![phone]
    );
}
