//! Fireline's persistence: one [`Store`], implemented for SQLite and PostgreSQL.
//!
//! [`Store`] is the sum of one trait per noun — [`Incidents`], [`Alerts`], [`Inbox`],
//! [`Outbox`], [`Rosters`], [`Users`], [`Subscribers`], … — each in a module of its own holding the
//! trait and its one SQL implementation. What differs between the backends is one
//! crate-private trait (`backend::Dialect`). Bring the traits into scope with
//! `use fireline_store::prelude::*`.
//!
//! Every write is one transaction. Incident events are append-only (the schema refuses
//! updates and deletes); appends carry the version the caller decided on, so concurrent
//! writers never lose an event: the later one gets [`StoreError::Conflict`].

mod alerts;
mod backend;
mod contacts;
mod error;
mod heartbeats;
mod inbox;
mod incidents;
mod integrations;
mod outbox;
mod postgres;
mod postmortems;
mod reports;
mod roster;
mod rows;
mod settings;
mod sql;
mod sqlite;
mod status_page;
mod subscribers;
mod tokens;
mod types;
mod users;

pub use alerts::Alerts;
pub use contacts::Contacts;
pub use error::StoreError;
pub use heartbeats::Heartbeats;
pub use inbox::Inbox;
pub use incidents::Incidents;
pub use integrations::Integrations;
pub use outbox::Outbox;
pub use postgres::PostgresStore;
pub use postmortems::Postmortems;
pub use reports::Reports;
pub use roster::Rosters;
pub use settings::Settings;
pub use sqlite::SqliteStore;
pub use status_page::StatusPage;
pub use subscribers::{NewSubscriber, Subscriber, SubscriberKind, SubscriberLink, Subscribers};
pub use tokens::Tokens;
pub use types::{
    ActionFilter, AlertBatch, AlertDrop, AlertRecord, AlertWrites, DeadLetter, DroppedAlert,
    HeartbeatRecord, InboxBacklog, InboxItem, IncidentAppend, IncidentFilter, IncidentOpen,
    IncidentSummary, IntegrationRecord, OutboxItem, OutboxState, PostmortemRecord,
    PostmortemRevision, PushDevice, RosterKind, StatusFilter, StatusOverride, TokenRecord,
    UserRecord,
};
pub use users::Users;

/// The store's traits, for calling their methods on a `dyn Store` (`use
/// fireline_store::prelude::*`); imported unnamed, so they clash with nothing.
pub mod prelude {
    pub use crate::{
        Alerts as _, Contacts as _, Heartbeats as _, Inbox as _, Incidents as _, Integrations as _,
        Outbox as _, Postmortems as _, Reports as _, Rosters as _, Settings as _, StatusPage as _,
        Store as _, Subscribers as _, Tokens as _, Users as _,
    };
}

use async_trait::async_trait;
use std::sync::Arc;

/// Shorthand for store results.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Everything fireline keeps: one trait per noun, and what concerns the whole database.
/// Implementations must behave identically; one contract suite (`tests/contract/`) runs
/// against each.
#[async_trait]
pub trait Store:
    Incidents
    + Users
    + Tokens
    + Integrations
    + Inbox
    + Alerts
    + Heartbeats
    + Outbox
    + Rosters
    + Contacts
    + Settings
    + Reports
    + Postmortems
    + StatusPage
    + Subscribers
    + Send
    + Sync
    + std::fmt::Debug
{
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Checks the database answers.
    async fn ping(&self) -> Result<()>;

    /// Gives back every lease `owner` holds: on the inbox, on due incidents and on the
    /// outbox. A worker calls it as it starts under a name that is stable across
    /// restarts, so what it held when it crashed is taken up at once instead of after
    /// the leases run out. Returns how many leases were given back.
    async fn release_leases(&self, owner: &str) -> Result<u64>;

    /// Waits for in-flight work and closes connections (SQLite checkpoints its WAL).
    async fn close(&self);
}

/// Opens the store a URL names, creating a SQLite file if missing, and runs migrations.
///
/// Accepts `sqlite://PATH` (also `sqlite:PATH`) and `postgres://…` / `postgresql://…`.
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::open(url).await?))
    } else {
        Err(StoreError::InvalidUrl(
            "expected sqlite://PATH or postgres://USER@HOST/DB".to_owned(),
        ))
    }
}

#[cfg(feature = "testing")]
pub mod testing;
