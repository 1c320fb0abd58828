//! The engine on a fake clock, on SQLite and PostgreSQL: due work fires once, acting
//! resets what it should, two engines never double-fire, and work survives a restart.

use fireline_core::plan::next_due_after;
use fireline_core::policy::Policy;
use fireline_core::{
    decide, declare, Command, Declaration, EventData, Incident, IncidentId, NewEvent,
};
use fireline_engine::{Engine, LivePolicy, ManualClock};
use fireline_store::testing::TestDatabase;
use fireline_store::{backend_tests, Store};
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeMap;
use std::sync::Arc;

fn t0() -> Timestamp {
    "2026-03-02T14:00:00Z".parse().expect("timestamp")
}

/// Declares as the server does: the schedule is written with the declaration.
async fn declare_at(
    store: &dyn Store,
    policy: &Policy,
    severity: &str,
    at: Timestamp,
) -> IncidentId {
    let data = declare(
        &Declaration {
            title: "t".into(),
            severity: severity.into(),
            service: "api".into(),
            summary: None,
            category: None,
            flags: vec![],
        },
        policy,
    )
    .expect("valid");
    let event = NewEvent {
        at,
        actor: "alice".into(),
        data,
    };
    let next = next_due_after(policy, &[], std::slice::from_ref(&event));
    store
        .create_incident(event, next)
        .await
        .expect("create")
        .0
        .id
}

async fn act(store: &dyn Store, policy: &Policy, id: IncidentId, at: Timestamp, command: Command) {
    let events = store.events(id).await.expect("events");
    let current = Incident::fold(id, &events).expect("fold");
    let data = decide(&current, &command, policy.catalog()).expect("valid command");
    let new = vec![NewEvent {
        at,
        actor: "bob".into(),
        data,
    }];
    let next = next_due_after(policy, &events, &new);
    store.append(&current, new, next).await.expect("append");
}

/// The fired actions on an incident: (minutes after t0 of the event, kind, key).
async fn fired(store: &dyn Store, id: IncidentId) -> Vec<(i64, String)> {
    store
        .events(id)
        .await
        .expect("events")
        .iter()
        .filter(|e| e.data.action_key().is_some())
        .map(|e| {
            (
                e.at.duration_since(t0()).as_mins(),
                e.data.action_key().expect("key").to_owned(),
            )
        })
        .collect()
}

fn engine(store: Arc<dyn Store>, clock: Arc<ManualClock>, owner: &str) -> Engine {
    Engine::new(store, LivePolicy::new(Policy::builtin()), clock, owner)
}

async fn fires_due_work_once_as_time_passes(db: &TestDatabase) {
    let policy = Policy::builtin();
    let clock = Arc::new(ManualClock::new(t0()));
    let engine = engine(db.store.clone(), clock.clone(), "a");
    let id = declare_at(db.store.as_ref(), &policy, "SEV1", t0()).await;

    let report = engine.tick().await.expect("tick");
    assert_eq!(report.fired, 1, "the page at declaration");
    assert_eq!(engine.tick().await.expect("tick").fired, 0, "nothing twice");
    assert_eq!(
        db.store.next_due().await.expect("next due"),
        Some(t0() + SignedDuration::from_mins(5))
    );

    for minute in [5, 10, 15] {
        clock.set(t0() + SignedDuration::from_mins(minute));
        engine.tick().await.expect("tick");
    }
    assert_eq!(
        fired(db.store.as_ref(), id).await,
        vec![
            (0, "c0:page:SEV1".to_owned()),
            (5, "c0:sla_breach:acknowledge".to_owned()),
            (10, "c0:escalate:1".to_owned()),
            (15, "c0:sla_breach:initial_update".to_owned()),
            (15, "c0:update_due:internal:1772460900".to_owned()),
        ]
    );
    let escalated = db
        .store
        .events(id)
        .await
        .expect("events")
        .into_iter()
        .find(|e| e.data.kind() == "escalated")
        .expect("escalated");
    match escalated.data {
        EventData::Escalated {
            level,
            reason,
            targets,
            ..
        } => {
            assert_eq!(level, 1);
            assert_eq!(reason, "not acknowledged within 10m");
            assert_eq!(targets, vec!["schedule:secondary".to_owned()]);
        }
        other => panic!("unexpected {other:?}"),
    }
}

async fn acknowledging_stops_the_escalation(db: &TestDatabase) {
    let policy = Policy::builtin();
    let clock = Arc::new(ManualClock::new(t0()));
    let engine = engine(db.store.clone(), clock.clone(), "a");
    let id = declare_at(db.store.as_ref(), &policy, "SEV1", t0()).await;
    engine.tick().await.expect("tick");
    act(
        db.store.as_ref(),
        &policy,
        id,
        t0() + SignedDuration::from_mins(3),
        Command::Acknowledge,
    )
    .await;
    act(
        db.store.as_ref(),
        &policy,
        id,
        t0() + SignedDuration::from_mins(4),
        Command::PostUpdate {
            channel: fireline_core::Channel::Internal,
            text: "looking".into(),
        },
    )
    .await;
    clock.set(t0() + SignedDuration::from_mins(12));
    engine.tick().await.expect("tick");
    let keys: Vec<String> = fired(db.store.as_ref(), id)
        .await
        .into_iter()
        .map(|(_, k)| k)
        .collect();
    assert_eq!(
        keys,
        vec!["c0:page:SEV1"],
        "no ack breach, no escalation, cadence restarted at 4m"
    );
    clock.set(t0() + SignedDuration::from_mins(19));
    engine.tick().await.expect("tick");
    let last = fired(db.store.as_ref(), id)
        .await
        .pop()
        .expect("a reminder");
    assert_eq!(
        last,
        (19, "c0:update_due:internal:1772461140".to_owned()),
        "15m after the 14:04 update"
    );
}

async fn two_engines_never_fire_an_action_twice(db: &TestDatabase) {
    let policy = Policy::builtin();
    let clock = Arc::new(ManualClock::new(t0()));
    // Two replicas: separate connection pools on one database.
    let other_store = fireline_store::open(&db.url)
        .await
        .expect("second connection");
    let a = engine(db.store.clone(), clock.clone(), "a");
    let b = engine(other_store.clone(), clock.clone(), "b");
    let mut ids = Vec::new();
    for i in 0..20 {
        let severity = if i % 2 == 0 { "SEV1" } else { "SEV2" };
        ids.push(declare_at(db.store.as_ref(), &policy, severity, t0()).await);
    }
    for minute in (0..=180).step_by(5) {
        clock.set(t0() + SignedDuration::from_mins(minute));
        let (ra, rb) = tokio::join!(a.tick(), b.tick());
        ra.expect("engine a");
        rb.expect("engine b");
    }
    for id in ids {
        let keys: Vec<String> = fired(db.store.as_ref(), id)
            .await
            .into_iter()
            .map(|(_, k)| k)
            .collect();
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for k in &keys {
            *counts.entry(k.as_str()).or_default() += 1;
        }
        let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "{id}: fired more than once: {twice:?}");
        assert!(
            keys.iter().any(|k| k.starts_with("c0:page:")),
            "{id}: paged"
        );
        assert!(
            keys.iter().any(|k| k.starts_with("c0:escalate:1")),
            "{id}: escalated: {keys:?}"
        );
        assert!(
            keys.iter()
                .filter(|k| k.contains("update_due:internal"))
                .count()
                >= 5,
            "{id}: reminders: {keys:?}"
        );
    }
    other_store.close().await;
}

async fn pending_work_survives_a_restart(db: &TestDatabase) {
    let policy = Policy::builtin();
    let clock = Arc::new(ManualClock::new(t0()));
    let id = declare_at(db.store.as_ref(), &policy, "SEV1", t0()).await;
    // The server stops before its engine ever ran, and comes back 20 minutes later.
    db.store.close().await;
    let reopened = fireline_store::open(&db.url).await.expect("reopen");
    clock.set(t0() + SignedDuration::from_mins(20));
    let report = engine(reopened.clone(), clock.clone(), "after-restart")
        .tick()
        .await
        .expect("tick");
    assert_eq!(
        report.max_lateness,
        SignedDuration::from_mins(20),
        "the page was 20 minutes late"
    );
    let keys: Vec<String> = fired(reopened.as_ref(), id)
        .await
        .into_iter()
        .map(|(_, k)| k)
        .collect();
    assert_eq!(
        keys,
        vec![
            "c0:page:SEV1",
            "c0:sla_breach:acknowledge",
            "c0:escalate:1",
            "c0:sla_breach:initial_update",
            "c0:update_due:internal:1772460900"
        ],
        "everything due while down fires once, in time order"
    );
    reopened.close().await;
}

async fn a_stopping_engine_hands_claimed_work_back_at_once(db: &TestDatabase) {
    let policy = Policy::builtin();
    let clock = Arc::new(ManualClock::new(t0()));
    for _ in 0..20 {
        declare_at(db.store.as_ref(), &policy, "SEV1", t0()).await;
    }
    let stopping = engine(db.store.clone(), clock.clone(), "stopping");
    let report = stopping
        .tick_until(&std::sync::atomic::AtomicBool::new(true))
        .await
        .expect("tick");
    assert_eq!((report.claimed, report.fired), (20, 0), "{report:?}");
    // No lease is left behind: another engine takes all of it now, not after the lease.
    let next = engine(db.store.clone(), clock.clone(), "next");
    let report = next.tick().await.expect("tick");
    assert_eq!(
        report.fired, 20,
        "every page fired by the next engine: {report:?}"
    );
}

backend_tests!(
    a_stopping_engine_hands_claimed_work_back_at_once,
    fires_due_work_once_as_time_passes,
    acknowledging_stops_the_escalation,
    two_engines_never_fire_an_action_twice,
    pending_work_survives_a_restart,
);
