//! What reports and metrics read: facts per incident, open incidents by severity.

use crate::{act, declare_one, t};
use fireline_core::report::IncidentFacts;
use fireline_core::{Channel, ClockKind, Stage};
use fireline_core::{Command, EventData, Incident, NewEvent};
use fireline_store::testing::TestDatabase;
use fireline_store::{backend_tests, Store};

backend_tests!(
    report_facts_gather_each_incident_declared_in_the_window,
    open_incidents_are_counted_by_their_current_severity,
    a_reopened_incident_still_reports_when_it_was_first_acknowledged,
);

/// What the engine and responders record over an incident's life, one event a minute
/// from `minute`.
async fn record(store: &dyn Store, current: &Incident, minute: i64, events: Vec<EventData>) {
    let events = events
        .into_iter()
        .enumerate()
        .map(|(n, data)| NewEvent {
            at: t(minute + n as i64),
            actor: "fireline".into(),
            data,
        })
        .collect();
    store.append(current, events, None).await.expect("append");
}

fn facts(inc: &Incident, minute: i64) -> IncidentFacts {
    IncidentFacts {
        id: inc.id,
        severity: inc.severity.clone(),
        service: inc.service.clone(),
        declared_at: t(minute),
        acknowledged_at: None,
        resolved_at: None,
        first_update_at: None,
        updates: 0,
        updates_missed: 0,
        escalations: 0,
        breaches: vec![],
        postmortem_late: 0,
    }
}

async fn report_facts_gather_each_incident_declared_in_the_window(db: &TestDatabase) {
    let store = db.store.as_ref();
    let a = declare_one(store, "API down", "SEV1", "api", 0).await;
    let b = declare_one(store, "Slow search", "SEV3", "search", 10).await;
    let c = declare_one(store, "Later", "SEV2", "api", 20).await;
    let acked = act(store, a.id, "bob", 2, Command::Acknowledge)
        .await
        .expect("ack");
    let breach = |clock| EventData::SlaBreached {
        key: format!("sla-{clock:?}"),
        clock,
        target: "15m".into(),
    };
    let update = |text: &str| EventData::UpdatePosted {
        channel: Channel::StatusPage,
        text: text.into(),
    };
    record(
        store,
        &acked,
        3,
        vec![
            update("investigating"),
            EventData::UpdateDue {
                key: "update-1".into(),
                channel: Channel::Internal,
            },
            update("fixed"),
            EventData::Escalated {
                key: Some("esc-1".into()),
                level: 1,
                name: "leads".into(),
                targets: vec!["person:bob".into()],
                reason: "not acknowledged".into(),
                recipients: vec![],
                unreached: vec![],
            },
            breach(ClockKind::Resolve),
            breach(ClockKind::Acknowledge),
            breach(ClockKind::Resolve),
            EventData::PostmortemDue {
                key: "pm-draft".into(),
                stage: Stage::Draft,
            },
            EventData::NoteAdded {
                text: "not counted".into(),
            },
        ],
    )
    .await;
    act(store, a.id, "bob", 15, Command::Resolve { summary: None })
        .await
        .expect("resolve");
    let mut found = store.report_facts(t(0), t(20)).await.expect("facts");
    for f in &mut found {
        f.breaches.sort();
    }
    assert_eq!(
        found,
        vec![
            IncidentFacts {
                acknowledged_at: Some(t(2)),
                resolved_at: Some(t(15)),
                first_update_at: Some(t(3)),
                updates: 2,
                updates_missed: 1,
                escalations: 1,
                breaches: vec![ClockKind::Acknowledge, ClockKind::Resolve],
                postmortem_late: 1,
                ..facts(&a, 0)
            },
            facts(&b, 10),
        ],
        "declared in [since, until), by number; each clock breached once"
    );
    let later = store.report_facts(t(1), t(21)).await.expect("facts");
    assert_eq!(later, vec![facts(&b, 10), facts(&c, 20)]);
    assert!(store
        .report_facts(t(20), t(20))
        .await
        .expect("facts")
        .is_empty());
}

async fn open_incidents_are_counted_by_their_current_severity(db: &TestDatabase) {
    let store = db.store.as_ref();
    assert!(store
        .open_incidents_by_severity()
        .await
        .expect("count")
        .is_empty());
    let one = declare_one(store, "a", "SEV1", "api", 0).await;
    declare_one(store, "b", "SEV1", "api", 1).await;
    let three = declare_one(store, "c", "SEV3", "db", 2).await;
    let done = declare_one(store, "d", "SEV2", "db", 3).await;
    act(store, done.id, "x", 4, Command::Resolve { summary: None })
        .await
        .expect("resolve");
    let counts = |pairs: &[(&str, u64)]| -> Vec<(String, u64)> {
        pairs.iter().map(|&(s, n)| (s.to_owned(), n)).collect()
    };
    assert_eq!(
        store.open_incidents_by_severity().await.expect("count"),
        counts(&[("SEV1", 2), ("SEV3", 1)]),
        "resolved ones are not open"
    );
    act(
        store,
        three.id,
        "x",
        5,
        Command::ChangeSeverity {
            to: "sev1".into(),
            reason: None,
        },
    )
    .await
    .expect("raise");
    act(store, one.id, "x", 6, Command::Resolve { summary: None })
        .await
        .expect("resolve");
    act(store, done.id, "x", 7, Command::Reopen { reason: None })
        .await
        .expect("reopen");
    assert_eq!(
        store.open_incidents_by_severity().await.expect("count"),
        counts(&[("SEV1", 2), ("SEV2", 1)])
    );
}

/// Regression: the report read the listing's acknowledged time, which a reopen clears
/// and a later acknowledgement overwrites.
async fn a_reopened_incident_still_reports_when_it_was_first_acknowledged(db: &TestDatabase) {
    let store = db.store.as_ref();
    let inc = declare_one(store, "API down", "SEV1", "api", 0).await;
    act(store, inc.id, "bob", 2, Command::Acknowledge)
        .await
        .expect("ack");
    act(store, inc.id, "bob", 5, Command::Resolve { summary: None })
        .await
        .expect("resolve");
    act(store, inc.id, "bob", 6, Command::Reopen { reason: None })
        .await
        .expect("reopen");
    let acknowledged = |facts: Vec<IncidentFacts>| facts[0].acknowledged_at;
    // `IncidentFacts::acknowledged_at` is "first acknowledged, if ever": MTTA counts
    // from the declaration to the first acknowledgement.
    assert_eq!(
        acknowledged(store.report_facts(t(0), t(1)).await.expect("facts")),
        Some(t(2)),
        "it was acknowledged before it was reopened"
    );
    act(store, inc.id, "carol", 8, Command::Acknowledge)
        .await
        .expect("ack again");
    assert_eq!(
        acknowledged(store.report_facts(t(0), t(1)).await.expect("facts")),
        Some(t(2)),
        "the first acknowledgement, not the latest"
    );
}
