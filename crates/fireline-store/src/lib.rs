//! Fireline's persistence: one [`Store`] trait, implemented for SQLite and PostgreSQL.
//!
//! Every write is one transaction. Incident events are append-only (the schema refuses
//! updates and deletes); appends carry the version the caller decided on, so concurrent
//! writers never lose an event: the later one gets [`StoreError::Conflict`].

mod error;
mod postgres;
mod rows;
mod sql_store;
mod sqlite;
mod types;

pub use error::StoreError;
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
pub use types::{
    ActionFilter, AlertDrop, AlertRecord, AlertWrites, DeadLetter, DroppedAlert, HeartbeatRecord,
    InboxItem, IncidentAppend, IncidentFilter, IncidentOpen, IncidentSummary, IntegrationRecord,
    OutboxItem, OutboxState, PostmortemRecord, PostmortemRevision, PushDevice, RosterKind,
    StatusFilter, StatusOverride, TokenRecord, UserRecord,
};

use async_trait::async_trait;
use fireline_core::oncall::notify::Outgoing;
use fireline_core::oncall::Roster;
use fireline_core::{Incident, IncidentId, NewEvent, RecordedEvent};
use jiff::Timestamp;
use std::sync::Arc;

/// Shorthand for store results.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Everything fireline keeps. Implementations must behave identically; one contract test
/// suite (`tests/contract.rs`) runs against each.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Checks the database answers.
    async fn ping(&self) -> Result<()>;

    /// Stores a new incident whose first event is `declared` (a `Declared` event) and
    /// returns its state and the stored event. The id comes from the database.
    /// `next_due` is when its policy next has work for the engine.
    async fn create_incident(
        &self,
        declared: NewEvent,
        next_due: Option<Timestamp>,
    ) -> Result<(Incident, RecordedEvent)> {
        let (incident, mut events) = self.open_incident(declared, Vec::new(), next_due).await?;
        let first = events.remove(0);
        Ok((incident, first))
    }

    /// Stores a new incident from its declaration and the events that come with it (the
    /// alert that opened it), in one transaction; all its recorded events are returned.
    async fn open_incident(
        &self,
        declared: NewEvent,
        more: Vec<NewEvent>,
        next_due: Option<Timestamp>,
    ) -> Result<(Incident, Vec<RecordedEvent>)>;

    /// Appends `events` to the incident whose state the caller folded as `current`.
    ///
    /// Fails with [`StoreError::Conflict`] when the stored version is no longer
    /// `current.version` (someone else appended first): nothing is written then.
    /// `current` must be the fold of the stored log; the store applies `events` to it
    /// to keep the listing projection in step. `next_due` (when the policy next has
    /// work, planned on the log including `events`) is stored in the same transaction,
    /// and any engine lease on the incident is released.
    async fn append(
        &self,
        current: &Incident,
        events: Vec<NewEvent>,
        next_due: Option<Timestamp>,
    ) -> Result<(Incident, Vec<RecordedEvent>)> {
        self.append_notifying(current, events, next_due, &[]).await
    }

    /// [`Store::append`], and in the same transaction the messages the events cause
    /// (pages to deliver): a page is never recorded without its messages, nor sent for
    /// an event that was not recorded. A message whose key is already stored is skipped.
    async fn append_notifying(
        &self,
        current: &Incident,
        events: Vec<NewEvent>,
        next_due: Option<Timestamp>,
        outbox: &[Outgoing],
    ) -> Result<(Incident, Vec<RecordedEvent>)>;

    /// Claims up to `limit` incidents whose work is due at `now` and that no live lease
    /// holds, leasing them to `owner` until `lease_until`. Two engines never claim the
    /// same incident at once (row locks with SKIP LOCKED on PostgreSQL; SQLite has one
    /// writer at a time).
    async fn claim_due(
        &self,
        now: Timestamp,
        owner: &str,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<IncidentId>>;

    /// Sets when the incident next has work and releases `owner`'s lease on it.
    async fn reschedule(
        &self,
        id: IncidentId,
        next_due: Option<Timestamp>,
        owner: &str,
    ) -> Result<()>;

    /// Marks every incident that may have work as due at `at` (after a policy change,
    /// the engine re-plans them all).
    async fn reschedule_all(&self, at: Timestamp) -> Result<u64>;

    /// The earliest scheduled work, for the engine to sleep until.
    async fn next_due(&self) -> Result<Option<Timestamp>>;

    /// The incident's whole log, in order; [`StoreError::NotFound`] if there is none.
    async fn events(&self, id: IncidentId) -> Result<Vec<RecordedEvent>>;

    /// The incident's version (the `seq` of its last event), or `None` if there is no such
    /// incident. One indexed read of the projection, for pollers that only need to know
    /// whether the incident changed without loading its log.
    async fn incident_version(&self, id: IncidentId) -> Result<Option<u64>>;

    /// Incidents matching `filter`, open ones first, newest first within each group.
    async fn list_incidents(&self, filter: &IncidentFilter) -> Result<Vec<IncidentSummary>>;

    /// Stores a new API token by its hash; the token itself is never stored.
    async fn insert_token(&self, token: &TokenRecord, hash: &str) -> Result<()>;

    /// The token with this hash, revoked or not.
    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>>;

    /// The token with this id, revoked or not.
    async fn token(&self, id: &str) -> Result<Option<TokenRecord>>;

    /// Every token, oldest first.
    async fn list_tokens(&self) -> Result<Vec<TokenRecord>>;

    /// Marks a token revoked at `at` (once: revoking again keeps the first time) and
    /// returns it; [`StoreError::NotFound`] for an unknown id.
    async fn revoke_token(&self, id: &str, at: Timestamp) -> Result<TokenRecord>;

    /// Stores a new UI user (and voids any first-admin code); [`StoreError::Exists`]
    /// when the name is taken.
    async fn insert_user(&self, user: &UserRecord) -> Result<()>;

    /// The user with this name, disabled or not.
    async fn user(&self, name: &str) -> Result<Option<UserRecord>>;

    /// Every user, by name.
    async fn list_users(&self) -> Result<Vec<UserRecord>>;

    /// Replaces a user's password hash, sets `password_changed_at` to `at` and moves
    /// `sessions_from` forward to `at` (or by 1 µs), which voids the user's sessions;
    /// [`StoreError::NotFound`] for an unknown name.
    async fn update_user_password(&self, name: &str, hash: &str, at: Timestamp) -> Result<()>;

    /// Disables (`Some(at)`, which also moves `sessions_from` forward) or re-enables
    /// (`None`) a user; [`StoreError::NotFound`] for an unknown name. A disabled user
    /// cannot sign in and their sessions end for good.
    async fn set_user_disabled(&self, name: &str, at: Option<Timestamp>) -> Result<UserRecord>;

    /// Replaces the one-time first-admin code's hash (a server start on an empty
    /// database makes a new one).
    async fn set_first_admin_code(&self, code_hash: &str) -> Result<()>;

    /// Whether `code_hash` is the first-admin code's and no user exists yet (a read:
    /// [`Store::claim_first_admin`] checks again as it consumes it).
    async fn first_admin_code_is(&self, code_hash: &str) -> Result<bool>;

    /// In one transaction: consumes the first-admin code if `code_hash` is it and no
    /// user exists yet, and then stores `user`. `Ok(false)` when the code is not (or no
    /// longer) valid; nothing is written then. [`StoreError::Exists`] when the name is
    /// taken (the code stays).
    async fn claim_first_admin(&self, code_hash: &str, user: &UserRecord) -> Result<bool>;

    /// Stores a new integration by its key's hash.
    async fn insert_integration(
        &self,
        integration: &IntegrationRecord,
        key_hash: &str,
    ) -> Result<()>;

    /// The integration with this key hash, revoked or not.
    async fn integration_by_key_hash(&self, key_hash: &str) -> Result<Option<IntegrationRecord>>;

    /// An integration by id.
    async fn integration(&self, id: &str) -> Result<Option<IntegrationRecord>>;

    /// Every integration, oldest first.
    async fn list_integrations(&self) -> Result<Vec<IntegrationRecord>>;

    /// Revokes an integration (once) and returns it; `NotFound` for an unknown id.
    async fn revoke_integration(&self, id: &str, at: Timestamp) -> Result<IntegrationRecord>;

    /// Durably accepts normalised alerts (JSON) from an integration.
    async fn enqueue_alerts(
        &self,
        integration: &str,
        received_at: Timestamp,
        alerts: &str,
    ) -> Result<()> {
        self.enqueue_alerts_batch(&[(integration.to_owned(), received_at, alerts.to_owned())])
            .await
    }

    /// Durably accepts several payloads in one transaction (group commit): one commit,
    /// one sync, for every request waiting.
    async fn enqueue_alerts_batch(&self, items: &[(String, Timestamp, String)]) -> Result<()>;

    /// Gives back inbox items `owner` claimed but will not process (it is stopping), so
    /// the next worker need not wait for their leases to expire. Items another worker
    /// holds are left alone.
    async fn release_inbox(&self, owner: &str, ids: &[i64]) -> Result<()>;

    /// Writes one step of alert processing in one transaction: opens `writes.opens` (in
    /// order) and appends `writes.appends`, each version-checked as [`Store::append`]
    /// is, keeping the listing and alert projections in step, and deletes the
    /// `writes.processed` inbox items. On [`StoreError::Conflict`] nothing is written.
    /// Returns the ids of the opened incidents, in order. No two writes may concern the
    /// same alert identity (the projection would depend on their order).
    async fn apply_alerts(&self, writes: AlertWrites) -> Result<Vec<IncidentId>>;

    /// The alert projection for several identities of one integration at once; keys
    /// not found are absent from the answer.
    async fn alerts_by_keys(
        &self,
        integration: &str,
        dedup_keys: &[String],
    ) -> Result<Vec<(String, AlertRecord)>>;

    /// [`Store::open_incident_in_group`] for several groups at once; groups without an
    /// open incident are absent from the answer.
    async fn open_incidents_in_groups(
        &self,
        groups: &[String],
        since: Timestamp,
    ) -> Result<Vec<(String, IncidentId)>>;

    /// Stores a new heartbeat monitor by its key's hash.
    async fn insert_heartbeat(&self, heartbeat: &HeartbeatRecord, key_hash: &str) -> Result<()>;

    /// Every heartbeat monitor, oldest first.
    async fn list_heartbeats(&self) -> Result<Vec<HeartbeatRecord>>;

    /// Records a ping at `now` for the monitor with this key hash: it is up until
    /// `now + interval + grace`. If it was down, the alert that ends the outage
    /// ([`fireline_core::alert::heartbeat_alert`], resolved) is enqueued in the same
    /// transaction. `None` for an unknown key.
    async fn ping_heartbeat(
        &self,
        key_hash: &str,
        now: Timestamp,
    ) -> Result<Option<HeartbeatRecord>>;

    /// Marks every monitor whose deadline passed before `now` as down and enqueues its
    /// firing alert in the same transaction, so each outage raises exactly one alert,
    /// whichever replica sees it. Returns the monitors that went down.
    async fn expire_heartbeats(&self, now: Timestamp) -> Result<Vec<HeartbeatRecord>>;

    /// Gives back every lease `owner` holds: on the inbox, on due incidents and on the
    /// outbox. A worker calls it as it starts under a name that is stable across
    /// restarts, so what it held when it crashed is taken up at once instead of after
    /// the leases run out. Returns how many leases were given back.
    async fn release_leases(&self, owner: &str) -> Result<u64>;

    /// Records a failed processing attempt of inbox item `id`: its attempts go up by
    /// one and `error` is kept; with `retry_at` it is claimable again from then (its
    /// lease given back), without, it is parked as a dead letter at `now`.
    async fn fail_inbox(
        &self,
        id: i64,
        error: &str,
        now: Timestamp,
        retry_at: Option<Timestamp>,
    ) -> Result<()>;

    /// Parked inbox items, newest first (at most `limit`).
    async fn dead_letters(&self, limit: u32) -> Result<Vec<DeadLetter>>;

    /// How many inbox items are parked.
    async fn dead_letter_count(&self) -> Result<u64>;

    /// Puts a parked item back in the inbox with no attempts counted; `false` if no
    /// parked item has this id.
    async fn redrive_dead_letter(&self, id: i64) -> Result<bool>;

    /// Deletes a parked item for good; `false` if no parked item has this id.
    async fn discard_dead_letter(&self, id: i64) -> Result<bool>;

    /// Accepted alerts that joined no incident, latest first (at most `limit`).
    async fn alert_drops(&self, limit: u32) -> Result<Vec<AlertDrop>>;

    /// Forgets dropped-alert records last seen before `before`, and beyond the newest
    /// `keep`; returns how many went.
    async fn prune_alert_drops(&self, before: Timestamp, keep: u32) -> Result<u64>;

    /// Claims up to `limit` inbox items, oldest first, that no live lease holds and
    /// that are not parked.
    async fn claim_inbox(
        &self,
        now: Timestamp,
        owner: &str,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<InboxItem>>;

    /// The alert projection for one identity.
    async fn alert(&self, integration: &str, dedup_key: &str) -> Result<Option<AlertRecord>>;

    /// How many of an incident's alerts are firing.
    async fn firing_alerts(&self, incident: IncidentId) -> Result<usize>;

    /// The newest open incident opened for `group` at or after `since`.
    async fn open_incident_in_group(
        &self,
        group: &str,
        since: Timestamp,
    ) -> Result<Option<IncidentId>>;

    /// Stores messages not tied to an incident's events (hand-offs). Keys already stored
    /// are skipped, so replicas enqueueing the same message store it once; returns how
    /// many were new.
    async fn enqueue_outbox(&self, outbox: &[Outgoing]) -> Result<u64>;

    /// Claims up to `limit` pending messages due at `now` that no live lease holds.
    async fn claim_outbox(
        &self,
        now: Timestamp,
        owner: &str,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<OutboxItem>>;

    /// Ends messages (sent, failed or skipped) at `at`, with what happened.
    async fn finish_outbox(
        &self,
        ids: &[i64],
        state: OutboxState,
        detail: &str,
        at: Timestamp,
    ) -> Result<()>;

    /// Schedules another attempt of a message at `due_at`, releasing its lease.
    async fn retry_outbox(
        &self,
        id: i64,
        attempts: u32,
        due_at: Timestamp,
        detail: &str,
    ) -> Result<()>;

    /// Holds messages until `due_at` (flood control), releasing their leases.
    async fn defer_outbox(&self, ids: &[i64], due_at: Timestamp) -> Result<()>;

    /// When a message last reached `person` through `channel`.
    async fn last_sent(&self, person: &str, channel: &str) -> Result<Option<Timestamp>>;

    /// The earliest pending message's due time, for the delivery loop to sleep until.
    async fn next_outbox_due(&self) -> Result<Option<Timestamp>>;

    /// Messages waiting to be delivered.
    async fn outbox_depth(&self) -> Result<u64>;

    /// The on-call roster (people, teams, schedules).
    async fn roster(&self) -> Result<Roster>;

    /// Replaces the whole roster in one transaction (an import from the file a team keeps
    /// in git: the file is the truth).
    async fn replace_roster(&self, roster: &Roster, at: Timestamp) -> Result<()>;

    /// Creates or replaces one roster entry (JSON of a person, team or schedule).
    async fn put_roster_entry(
        &self,
        kind: RosterKind,
        id: &str,
        doc: &str,
        at: Timestamp,
    ) -> Result<()>;

    /// Removes one roster entry; false if there was none.
    async fn delete_roster_entry(&self, kind: RosterKind, id: &str) -> Result<bool>;

    /// A server-wide setting, set to `value` if it has none yet; returns the one in force
    /// (so replicas racing to initialise agree on the first).
    async fn setting_or_init(&self, name: &str, value: &str) -> Result<String>;

    /// Sets a server-wide setting to `value`, replacing any it had (rotating a key).
    async fn replace_setting(&self, name: &str, value: &str) -> Result<()>;

    /// Records that a test page to a contact was confirmed (the latest confirmation
    /// wins).
    async fn verify_contact(
        &self,
        verified: &fireline_core::oncall::verify::VerifiedContact,
    ) -> Result<()>;

    /// Every contact ever confirmed, by person, kind and address digest. Contacts since
    /// changed or removed are among them; [`fireline_core::oncall::verify::is_verified`]
    /// matches them against the roster in force.
    async fn verified_contacts(
        &self,
    ) -> Result<Vec<fireline_core::oncall::verify::VerifiedContact>>;

    /// Subscribes a device, or renews it: a device subscribing again (same endpoint,
    /// same id) takes the new owner, keys and label and is in use again.
    async fn add_push_device(&self, device: &PushDevice) -> Result<()>;

    /// Devices, of one person or of everyone, newest first; removed ones too (with
    /// [`PushDevice::removed`] set), so their owner can see why.
    async fn push_devices(&self, person: Option<&str>) -> Result<Vec<PushDevice>>;

    /// Stops using a device, recording when and why; `false` if it was not in use.
    async fn remove_push_device(&self, id: &str, at: jiff::Timestamp, reason: &str)
        -> Result<bool>;

    /// What the response report needs of each incident declared in `[since, until)`,
    /// gathered with indexed queries (no event log is folded).
    async fn report_facts(
        &self,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<fireline_core::report::IncidentFacts>>;

    /// Open incidents counted by severity.
    async fn open_incidents_by_severity(&self) -> Result<Vec<(String, u64)>>;
    /// Stores an incident's first post-mortem text as version 1 (and its first revision),
    /// in one transaction. [`StoreError::Conflict`] if it has one already (with its
    /// version), [`StoreError::NotFound`] if the incident does not exist.
    async fn create_postmortem(
        &self,
        incident: IncidentId,
        text: &str,
        template: &str,
        at: Timestamp,
        actor: &str,
    ) -> Result<PostmortemRecord>;

    /// An incident's post-mortem, if it has one.
    async fn postmortem(&self, incident: IncidentId) -> Result<Option<PostmortemRecord>>;

    /// Saves a new text over version `expected` and records the revision, in one
    /// transaction. [`StoreError::Conflict`] when someone saved first (nothing is
    /// written), [`StoreError::NotFound`] when there is no post-mortem.
    async fn update_postmortem(
        &self,
        incident: IncidentId,
        expected: u64,
        text: &str,
        at: Timestamp,
        actor: &str,
    ) -> Result<PostmortemRecord>;

    /// Every saved version of a post-mortem, oldest first.
    async fn postmortem_history(&self, incident: IncidentId) -> Result<Vec<PostmortemRevision>>;

    /// Incidents before `incident` (lower numbers) of the same `service` or that any of
    /// `alert_keys` (integration, dedup key) joined, newest first, at most `limit`.
    async fn related_incidents(
        &self,
        incident: IncidentId,
        service: &str,
        alert_keys: &[(String, String)],
        limit: u32,
    ) -> Result<Vec<fireline_core::postmortem::Related>>;

    /// Stores a new action item (its `id` is ignored) and returns it with its id.
    /// [`StoreError::NotFound`] if its incident does not exist.
    async fn insert_action_item(
        &self,
        item: &fireline_core::postmortem::ActionItem,
    ) -> Result<fireline_core::postmortem::ActionItem>;

    /// An action item by number.
    async fn action_item(&self, id: u64) -> Result<Option<fireline_core::postmortem::ActionItem>>;

    /// Replaces an action item's fields (all but its id, incident and creation), one
    /// statement; [`StoreError::NotFound`] for an unknown id.
    async fn update_action_item(
        &self,
        item: &fireline_core::postmortem::ActionItem,
    ) -> Result<fireline_core::postmortem::ActionItem>;

    /// Action items matching `filter`, soonest due first.
    async fn list_action_items(
        &self,
        filter: &ActionFilter,
    ) -> Result<Vec<fireline_core::postmortem::ActionItem>>;

    /// Sets (or replaces) a component's status override.
    async fn put_status_override(&self, value: &StatusOverride) -> Result<()>;

    /// Removes a component's override; false if it had none.
    async fn delete_status_override(&self, service: &str) -> Result<bool>;

    /// Every override, by service.
    async fn status_overrides(&self) -> Result<Vec<StatusOverride>>;

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
