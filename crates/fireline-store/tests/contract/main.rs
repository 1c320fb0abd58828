//! The store contract: every backend must pass the same suite.
//!
//! One module per noun of the [`Store`] trait; each runs its tests on SQLite and on
//! PostgreSQL (when `FIRELINE_TEST_DATABASE_URL` names a server) through
//! [`fireline_store::backend_tests`].

mod alerts;
mod backend;
mod heartbeats;
mod incidents;
mod integrations;
mod outbox;
mod postmortems;
mod reports;
mod roster;
mod settings;
mod status;
mod subscribers;
mod tokens;
mod users;

use fireline_core::oncall::notify::{Notice, Outgoing};
use fireline_core::oncall::{Contact, ContactKind};
use fireline_core::policy::Policy;
use fireline_core::{
    decide, declare, Command, Declaration, EventData, Incident, IncidentId, NewEvent,
    SeverityCatalog,
};
use fireline_store::{Store, StoreError};
use jiff::{SignedDuration, Timestamp};

/// A fixed instant, `minute` minutes on.
fn t(minute: i64) -> Timestamp {
    Timestamp::from_second(1_790_000_000).expect("ts") + SignedDuration::from_mins(minute)
}

/// The `Declared` event of a valid declaration.
fn declaration(title: &str, severity: &str, service: &str) -> EventData {
    declare(
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
    .expect("valid")
}

async fn declare_one(
    store: &dyn Store,
    title: &str,
    severity: &str,
    service: &str,
    minute: i64,
) -> Incident {
    store
        .create_incident(
            NewEvent {
                at: t(minute),
                actor: "alice".into(),
                data: declaration(title, severity, service),
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

/// An `AlertAttached` event of integration `prom` for `key`, in alert group `group`.
fn attached(key: &str, group: &str) -> EventData {
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
        group: group.into(),
        targets: vec![],
    }
}

/// Appends one event at `minute`, as the fireline itself would.
async fn append_one(
    store: &dyn Store,
    current: &Incident,
    minute: i64,
    data: EventData,
) -> Incident {
    store
        .append(
            current,
            vec![NewEvent {
                at: t(minute),
                actor: "fireline".into(),
                data,
            }],
            None,
        )
        .await
        .expect("append")
        .0
}

/// A message to `person` by e-mail, due at `due`, as paging and hand-offs make them.
fn outgoing(key: &str, incident: Option<IncidentId>, person: &str, due: Timestamp) -> Outgoing {
    Outgoing {
        key: key.into(),
        incident,
        person: person.into(),
        contact: Contact {
            kind: ContactKind::Email,
            address: format!("{person}@example.com"),
            secret: None,
        },
        notice: Notice {
            key: key.into(),
            headline: format!("for {person}"),
            ..Default::default()
        },
        due_at: due,
        unless_acknowledged: false,
    }
}
