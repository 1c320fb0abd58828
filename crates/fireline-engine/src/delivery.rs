//! Delivery: the outbox worker that sends pages and hand-offs, retries what fails,
//! bundles bursts, and reports on the timeline what reached whom.
//!
//! Messages are written to the outbox with the events that cause them (see
//! [`crate::paging::Pager`]); this worker claims due ones with a lease, so replicas never
//! send one twice at once, and marks each sent, skipped or failed. A message is sent at
//! least once and, barring a crash between sending and marking, at most once; every
//! message carries its idempotency key so receivers can drop a repeat.

use crate::commands::{CommandError, Commands, Facts};
use crate::paging::Pager;
use crate::{Clock, LivePolicy};
use fireline_core::oncall::notify::{handoff_notices, Notice, NoticeItem, OpenIncident};
use fireline_core::oncall::{chat, Contact};
use fireline_core::plan::{escalate_after_failure, SYSTEM_ACTOR};
use fireline_core::{EventData, Incident, IncidentId, NewEvent};
use fireline_notify::{DeliveryError, Destination, Message, Notifier};
use fireline_store::{IncidentFilter, OutboxItem, OutboxState, StatusFilter, Store, StoreError};
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeMap;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// How delivery behaves.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// Attempts before a message is given up on (then reported and escalated).
    pub max_attempts: u32,
    /// The first retry's delay; each later one doubles, up to `max_backoff`.
    pub first_backoff: SignedDuration,
    /// The longest delay between attempts.
    pub max_backoff: SignedDuration,
    /// Flood control: at most one message per person and channel in this window; what
    /// comes in between waits and goes out as one bundle at the window's end. Pages never
    /// wait; a person's own `bundle` in the roster replaces this for them.
    pub flood_window: SignedDuration,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        // Five attempts over about 2.5 minutes: long enough to ride out a blip, short
        // enough that a dead contact escalates while the incident is young.
        DeliveryConfig {
            max_attempts: 5,
            first_backoff: SignedDuration::from_secs(10),
            max_backoff: SignedDuration::from_mins(15),
            flood_window: SignedDuration::from_secs(60),
        }
    }
}

/// What one cycle did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Messages sent (a bundle counts once).
    pub sent: usize,
    /// Outbox entries those messages carried.
    pub delivered: usize,
    /// Follow-ups dropped because the incident was acknowledged first.
    pub skipped: usize,
    /// Attempts that failed and will be retried.
    pub retried: usize,
    /// Messages given up on.
    pub failed: usize,
    /// Entries held back by flood control.
    pub deferred: usize,
    /// Hand-off notices enqueued.
    pub handoffs: usize,
    /// Action item reminders enqueued (due soon or overdue).
    pub action_reminders: usize,
    /// Scheduled maintenance messages to status page subscribers enqueued.
    pub maintenance: usize,
}

impl DeliveryReport {
    /// Adds what another part of the cycle did.
    fn add(&mut self, other: DeliveryReport) {
        self.sent += other.sent;
        self.delivered += other.delivered;
        self.skipped += other.skipped;
        self.retried += other.retried;
        self.failed += other.failed;
        self.deferred += other.deferred;
        self.handoffs += other.handoffs;
        self.action_reminders += other.action_reminders;
        self.maintenance += other.maintenance;
    }

    /// Adds what one destination's task did; a task that panicked sent nothing it
    /// recorded, and its lease runs out so a later cycle tries again.
    fn add_sent(&mut self, done: Result<DeliveryReport, tokio::task::JoinError>) {
        match done {
            Ok(part) => self.add(part),
            Err(e) => {
                tracing::error!(error = %e, "a delivery task failed; its messages are tried again")
            }
        }
    }
}

/// How many destinations one worker sends to at once.
const PARALLEL_DESTINATIONS: usize = 16;

/// The delivery worker. Several may run against one PostgreSQL database.
#[derive(Debug, Clone)]
pub struct Delivery {
    store: Arc<dyn Store>,
    policy: LivePolicy,
    clock: Arc<dyn Clock>,
    owner: String,
    notifier: Arc<Notifier>,
    pager: Pager,
    /// Timeline entries (and escalations past a failing contact) are appended through
    /// these.
    commands: Commands,
    config: DeliveryConfig,
    wake: Arc<Notify>,
    /// Hand-offs up to this instant have been enqueued by this worker.
    handoffs_until: Arc<Mutex<Option<Timestamp>>>,
    /// The next change of hands on any schedule, as of the last cycle: the loop wakes
    /// for it without reading the roster again.
    next_handoff: Arc<Mutex<Option<Timestamp>>>,
    /// When this worker last looked for action items to remind owners of.
    actions_checked: Arc<Mutex<Option<Timestamp>>>,
    /// The policy (by digest) and instant of this worker's last look at maintenance
    /// steps: steps due by then under that policy were enqueued already.
    maintenance_seen: Arc<Mutex<Option<(String, Timestamp)>>>,
}

/// How often a worker looks for action items due soon or overdue: reminders are daily
/// matters, and the query need not run on every cycle.
const ACTION_CHECK_EVERY: SignedDuration = SignedDuration::from_mins(15);

/// How far back a fresh worker looks for hand-offs it may have missed while down
/// (keys make re-enqueueing harmless).
const HANDOFF_CATCH_UP: SignedDuration = SignedDuration::from_mins(10);

impl Delivery {
    /// A worker named `owner` (unique per replica) sending through `notifier`.
    pub fn new(
        store: Arc<dyn Store>,
        policy: LivePolicy,
        clock: Arc<dyn Clock>,
        owner: impl Into<String>,
        notifier: Notifier,
        pager: Pager,
        config: DeliveryConfig,
    ) -> Delivery {
        let commands = Commands::new(store.clone(), policy.clone(), clock.clone(), pager.clone());
        Delivery {
            store,
            policy,
            clock,
            owner: owner.into(),
            notifier: Arc::new(notifier),
            wake: pager.delivery_waker(),
            pager,
            commands,
            config,
            handoffs_until: Arc::new(Mutex::new(None)),
            next_handoff: Arc::new(Mutex::new(None)),
            actions_checked: Arc::new(Mutex::new(None)),
            maintenance_seen: Arc::new(Mutex::new(None)),
        }
    }

    /// Records on the timeline through `commands` (and pages through their pager), so
    /// an escalation it appends wakes the engine that shares them.
    pub fn with_commands(mut self, commands: Commands) -> Self {
        self.pager = commands.pager().clone();
        self.wake = self.pager.delivery_waker();
        self.commands = commands;
        self
    }

    /// A handle that wakes the loop (the pager's: it pokes it after writing messages).
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// One cycle at the clock's `now`: enqueue due hand-offs, reminders and
    /// maintenance messages, then deliver every due message.
    pub async fn tick(&self) -> Result<DeliveryReport, StoreError> {
        let now = self.clock.now();
        let mut report = DeliveryReport {
            handoffs: self.enqueue_handoffs(now).await?,
            action_reminders: self.enqueue_action_reminders(now).await?,
            maintenance: self.enqueue_maintenance(now).await?,
            ..DeliveryReport::default()
        };
        loop {
            let lease_until = now
                .saturating_add(SignedDuration::from_secs(120))
                .unwrap_or(now);
            let items = self
                .store
                .claim_outbox(now, &self.owner, lease_until, 200)
                .await?;
            if items.is_empty() {
                return Ok(report);
            }
            // One message per destination: a burst to one person's channel is a bundle.
            let mut groups: BTreeMap<(String, &'static str, String), Vec<OutboxItem>> =
                BTreeMap::new();
            for item in items {
                groups
                    .entry((
                        item.person.clone(),
                        item.contact.kind.as_str(),
                        item.contact.address.clone(),
                    ))
                    .or_default()
                    .push(item);
            }
            // People who chose their own bundling window (`bundle` in the roster).
            let bundles: BTreeMap<String, SignedDuration> = self
                .store
                .roster()
                .await?
                .people
                .into_iter()
                .filter_map(|(id, p)| p.bundle.map(|b| (id, b)))
                .collect();
            // Each destination on its own task: a slow or failing provider (a timeout
            // takes seconds) never holds back the page to another phone.
            let mut sending = tokio::task::JoinSet::new();
            for ((person, channel, _), group) in groups {
                let window = if chat::is_channel(&person) {
                    SignedDuration::ZERO
                } else {
                    bundles
                        .get(&person)
                        .copied()
                        .unwrap_or(self.config.flood_window)
                };
                if sending.len() >= PARALLEL_DESTINATIONS {
                    if let Some(done) = sending.join_next().await {
                        report.add_sent(done);
                    }
                }
                let this = self.clone();
                sending.spawn(async move {
                    let mut part = DeliveryReport::default();
                    if let Err(e) = this
                        .deliver(now, &person, window, group, &mut part)
                        .await
                    {
                        // The lease runs out and a later cycle tries again.
                        tracing::error!(person = %person, channel = %channel, error = %e, "delivery failed to record");
                    }
                    part
                });
            }
            while let Some(done) = sending.join_next().await {
                report.add_sent(done);
            }
        }
    }

    /// Splits a group into what is still due and what has lapsed: follow-ups ("e-mail
    /// after 5 minutes if still unacknowledged") lapse once someone has acknowledged,
    /// or the incident is resolved.
    async fn settle(
        &self,
        group: Vec<OutboxItem>,
    ) -> Result<(Vec<OutboxItem>, Vec<i64>), StoreError> {
        let mut keep = Vec::new();
        let mut lapsed = Vec::new();
        let mut states: BTreeMap<IncidentId, Option<Incident>> = BTreeMap::new();
        for item in group {
            let settled = match (item.unless_acknowledged, item.incident) {
                (true, Some(id)) => {
                    let state = match states.entry(id) {
                        std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                        std::collections::btree_map::Entry::Vacant(e) => {
                            e.insert(self.incident(id).await?)
                        }
                    };
                    state
                        .as_ref()
                        .is_none_or(|i| i.acknowledged.is_some() || !i.status.is_open())
                }
                _ => false,
            };
            if settled {
                lapsed.push(item.id);
            } else {
                keep.push(item);
            }
        }
        Ok((keep, lapsed))
    }

    /// Sends a destination's due entries (all to one contact of `person`): `window` is
    /// how long after the last message on it what is not urgent waits, to go out as one.
    async fn deliver(
        &self,
        now: Timestamp,
        person: &str,
        window: SignedDuration,
        group: Vec<OutboxItem>,
        report: &mut DeliveryReport,
    ) -> Result<(), StoreError> {
        // Status page subscribers: sent one by one, never on the timeline.
        if let Some(id) = crate::subscribers::subscriber_of(person) {
            let sender = crate::subscribers::Sender {
                store: &self.store,
                notifier: &self.notifier,
                base_url: &self.pager.links().base_url,
                config: &self.config,
            };
            return crate::subscribers::deliver(&sender, now, id, group, report).await;
        }
        let Some(contact) = group.first().map(|i| i.contact.clone()) else {
            return Ok(());
        };
        let keep = self
            .due_now(now, person, &contact, window, group, report)
            .await?;
        if keep.is_empty() {
            return Ok(());
        }
        if chat::is_channel(person) {
            return self.post(now, person, &contact, keep, report).await;
        }
        let sent = self.send(now, person, &contact, bundle(&keep)).await;
        self.record_outcome(now, person, contact.kind.as_str(), &keep, sent, report)
            .await
    }

    /// What of a destination's entries goes out now: lapsed follow-ups are skipped, and
    /// within `window` of the last message what is not urgent is deferred.
    async fn due_now(
        &self,
        now: Timestamp,
        person: &str,
        contact: &Contact,
        window: SignedDuration,
        group: Vec<OutboxItem>,
        report: &mut DeliveryReport,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        let channel = contact.kind.as_str();
        let (keep, lapsed) = self.settle(group).await?;
        if !lapsed.is_empty() {
            report.skipped += lapsed.len();
            metrics::counter!("fireline_notifications_total", "channel" => channel, "outcome" => "skipped").increment(lapsed.len() as u64);
            self.store
                .finish_outbox(
                    &lapsed,
                    OutboxState::Skipped,
                    "acknowledged before it was due",
                    now,
                )
                .await?;
        }
        if keep.is_empty() {
            return Ok(keep);
        }
        // Flood control: hold what is not urgent within the window of the last message,
        // then send it all as one. A page someone must wake for never waits: a burst of
        // new incidents pages each at once.
        let Some(last) = self.store.last_sent(person, channel).await? else {
            return Ok(keep);
        };
        let opens = last.saturating_add(window).unwrap_or(last);
        if opens <= now {
            return Ok(keep);
        }
        let (urgent, later): (Vec<OutboxItem>, Vec<OutboxItem>) =
            keep.into_iter().partition(|i| i.notice.urgent);
        if !later.is_empty() {
            report.deferred += later.len();
            let ids: Vec<i64> = later.iter().map(|i| i.id).collect();
            self.store.defer_outbox(&ids, opens).await?;
        }
        Ok(urgent)
    }

    /// Records what a send did: sent (on each incident's timeline), retried later, or
    /// given up on.
    async fn record_outcome(
        &self,
        now: Timestamp,
        person: &str,
        channel: &'static str,
        keep: &[OutboxItem],
        sent: Result<fireline_notify::Delivered, DeliveryError>,
        report: &mut DeliveryReport,
    ) -> Result<(), StoreError> {
        let ids: Vec<i64> = keep.iter().map(|i| i.id).collect();
        match sent {
            Ok(delivered) => {
                metrics::counter!("fireline_notifications_total", "channel" => channel, "outcome" => "sent").increment(1);
                report.sent += 1;
                report.delivered += keep.len();
                self.store
                    .finish_outbox(&ids, OutboxState::Sent, &delivered.detail, now)
                    .await?;
                // What the far end calls it, so it can be edited as the incident moves on.
                if let (Some(reference), [item]) = (&delivered.reference, keep) {
                    self.store.set_outbox_reference(item.id, reference).await?;
                }
                tracing::info!(person, channel, messages = keep.len(), detail = %delivered.detail, "notification sent");
                let bundled = u32::try_from(keep.len()).unwrap_or(u32::MAX);
                for item in keep {
                    if let Some(id) = item.incident {
                        self.record(id, |_| {
                            vec![EventData::Notified {
                                key: item.key.clone(),
                                person: person.to_owned(),
                                channel: channel.to_owned(),
                                detail: delivered.detail.clone(),
                                bundled,
                            }]
                        })
                        .await?;
                    }
                }
                Ok(())
            }
            Err(DeliveryError::Transient(e))
                if keep
                    .iter()
                    .all(|i| i.attempts + 1 < self.config.max_attempts) =>
            {
                report.retried += keep.len();
                metrics::counter!("fireline_notifications_total", "channel" => channel, "outcome" => "retried").increment(1);
                tracing::warn!(person, channel, error = %e, "notification failed; will retry");
                for item in keep {
                    let attempts = item.attempts + 1;
                    let at = now
                        .saturating_add(self.backoff(&item.key, attempts))
                        .unwrap_or(now);
                    self.store.retry_outbox(item.id, attempts, at, &e).await?;
                }
                Ok(())
            }
            Err(e) => {
                self.give_up(now, person, channel, keep, e.detail(), report)
                    .await
            }
        }
    }

    /// Posts a channel's due entries. A channel reads like a log: each post on its own,
    /// in order, never a bundle ("3 pages for you" means nothing to a room). An
    /// incident's own channel is opened by its first post; until it is, the posts after
    /// it wait (retried later, not counted as attempts).
    async fn post(
        &self,
        now: Timestamp,
        person: &str,
        contact: &Contact,
        keep: Vec<OutboxItem>,
        report: &mut DeliveryReport,
    ) -> Result<(), StoreError> {
        let mut waiting: Option<String> = None;
        for item in keep {
            if let Some(why) = &waiting {
                let at = now
                    .saturating_add(self.backoff(&item.key, item.attempts + 1))
                    .unwrap_or(now);
                self.store
                    .retry_outbox(item.id, item.attempts, at, why)
                    .await?;
                continue;
            }
            if item.notice.edit {
                self.edit(now, person, contact, item, report).await?;
                continue;
            }
            let mut to = contact.clone();
            let opened = match (&item.notice.open_channel, item.incident) {
                (Some(invite), Some(id)) => match self.store.first_reference(id, person).await? {
                    // Open already: whoever is new to the incident is invited.
                    Some(reference) => {
                        let channel = reference.split('/').next().unwrap_or_default().to_owned();
                        self.invite(contact, channel, invite.clone()).await;
                        Ok(None)
                    }
                    None => self.open_channel(contact, invite.clone()).await,
                },
                (Some(invite), None) => self.open_channel(contact, invite.clone()).await,
                _ => Ok(None),
            };
            let sent = match opened {
                Ok(id) => {
                    // Newly made: its id is surer than its name.
                    if let Some(id) = id {
                        to.address = id;
                    }
                    self.send(now, person, &to, bundle(std::slice::from_ref(&item)))
                        .await
                }
                Err(e) => {
                    if e.is_transient() {
                        waiting = Some(format!("waiting for the channel to open: {}", e.detail()));
                    }
                    Err(e)
                }
            };
            self.record_outcome(now, person, contact.kind.as_str(), &[item], sent, report)
                .await?;
        }
        Ok(())
    }

    /// Edits the incident's first message to a channel to say what `item` says. Nothing
    /// posted yet (or the far end cannot edit): skipped. Edits are not news, so they stay
    /// off the timeline; one that keeps failing is logged and dropped (the channel's own
    /// posts still tell the story).
    async fn edit(
        &self,
        now: Timestamp,
        person: &str,
        contact: &Contact,
        item: OutboxItem,
        report: &mut DeliveryReport,
    ) -> Result<(), StoreError> {
        let reference = match item.incident {
            Some(id) => self.store.first_reference(id, person).await?,
            None => None,
        };
        let Some(reference) = reference else {
            report.skipped += 1;
            return self
                .store
                .finish_outbox(&[item.id], OutboxState::Skipped, "no message to edit", now)
                .await;
        };
        let notifier = self.notifier.clone();
        let token = contact.secret.clone().unwrap_or_default();
        let message = bundle(std::slice::from_ref(&item));
        let edited = tokio::task::spawn_blocking(move || {
            notifier.update_slack_message(&reference, &token, &message)
        })
        .await
        .unwrap_or_else(|e| Err(DeliveryError::Transient(format!("editor crashed: {e}"))));
        match edited {
            Ok(done) => {
                report.sent += 1;
                self.store
                    .finish_outbox(&[item.id], OutboxState::Sent, &done.detail, now)
                    .await
            }
            Err(DeliveryError::Transient(e)) if item.attempts + 1 < self.config.max_attempts => {
                let attempts = item.attempts + 1;
                let at = now
                    .saturating_add(self.backoff(&item.key, attempts))
                    .unwrap_or(now);
                self.store.retry_outbox(item.id, attempts, at, &e).await
            }
            Err(e) => {
                tracing::warn!(person, error = %e, "could not edit a channel's message; its posts still tell the story");
                report.failed += 1;
                self.store
                    .finish_outbox(&[item.id], OutboxState::Failed, e.detail(), now)
                    .await
            }
        }
    }

    /// Opens an incident's own channel (its name is `contact`'s address) and invites
    /// `invite`, on a blocking thread: the new channel's id, if it was made now.
    async fn open_channel(
        &self,
        contact: &Contact,
        invite: Vec<String>,
    ) -> Result<Option<String>, DeliveryError> {
        let notifier = self.notifier.clone();
        let (name, token) = (
            contact.address.clone(),
            contact.secret.clone().unwrap_or_default(),
        );
        tokio::task::spawn_blocking(move || notifier.open_slack_channel(&name, &token, &invite))
            .await
            .unwrap_or_else(|e| Err(DeliveryError::Transient(format!("opener crashed: {e}"))))
    }

    /// Invites `members` into the open channel `id` (best effort), on a blocking thread.
    async fn invite(&self, contact: &Contact, id: String, members: Vec<String>) {
        let notifier = self.notifier.clone();
        let token = contact.secret.clone().unwrap_or_default();
        let _ = tokio::task::spawn_blocking(move || {
            notifier.invite_to_slack_channel(&id, &token, &members);
        })
        .await;
    }

    /// Sends one message to one contact, on a blocking thread.
    async fn send(
        &self,
        now: Timestamp,
        person: &str,
        contact: &Contact,
        message: Message,
    ) -> Result<fireline_notify::Delivered, DeliveryError> {
        // Web Push has no one destination: the person's subscribed devices.
        let Some(target) = destination_of(contact) else {
            return crate::push::send(&self.store, &self.notifier, now, person, &message).await;
        };
        let notifier = self.notifier.clone();
        tokio::task::spawn_blocking(move || notifier.send(&target, &message, now))
            .await
            .unwrap_or_else(|e| Err(DeliveryError::Transient(format!("sender crashed: {e}"))))
    }

    /// Marks messages failed, records it on each incident and escalates past the
    /// person who cannot be reached.
    async fn give_up(
        &self,
        now: Timestamp,
        person: &str,
        channel: &str,
        items: &[OutboxItem],
        error: &str,
        report: &mut DeliveryReport,
    ) -> Result<(), StoreError> {
        report.failed += items.len();
        metrics::counter!("fireline_notifications_total", "channel" => channel.to_owned(), "outcome" => "failed").increment(1);
        let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
        self.store
            .finish_outbox(&ids, OutboxState::Failed, error, now)
            .await?;
        tracing::error!(person, channel, error, "notification given up on");
        for item in items {
            let Some(id) = item.incident else { continue };
            let reason = format!("could not reach {person} by {channel}: {error}");
            self.record(id, |facts| {
                let mut out = vec![EventData::NotificationFailed {
                    key: item.key.clone(),
                    person: person.to_owned(),
                    channel: channel.to_owned(),
                    error: error.to_owned(),
                    attempts: item.attempts + 1,
                }];
                // A channel that cannot be posted to is reported, not escalated past:
                // nobody was waiting on it to acknowledge.
                if !chat::is_channel(person) {
                    out.extend(escalate_after_failure(facts.policy, facts.events, &reason));
                }
                out
            })
            .await?;
        }
        Ok(())
    }

    /// The delay before attempt `attempts + 1`: doubling, capped, with a jitter of up to
    /// a fifth either way taken from the key, so retries of many messages spread out
    /// while each one's schedule stays reproducible.
    fn backoff(&self, key: &str, attempts: u32) -> SignedDuration {
        let doubled = self
            .config
            .first_backoff
            .checked_mul(1i32 << attempts.saturating_sub(1).min(20))
            .unwrap_or(self.config.max_backoff)
            .min(self.config.max_backoff);
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (key, attempts).hash(&mut hasher);
        let jitter = (hasher.finish() % 401) as f64 / 1000.0 - 0.2;
        doubled.mul_f64(1.0 + jitter)
    }

    async fn incident(&self, id: IncidentId) -> Result<Option<Incident>, StoreError> {
        match self.store.events(id).await {
            Ok(events) => Ok(Some(Incident::fold(id, &events)?)),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Appends what `make` returns (given the facts) to an incident as the system,
    /// through the one command path: an escalation among them pages, and a lost race is
    /// decided again on the fresh log. An incident that is gone has nothing to record.
    async fn record(
        &self,
        id: IncidentId,
        make: impl Fn(&Facts<'_>) -> Vec<EventData>,
    ) -> Result<(), StoreError> {
        let recorded = self
            .commands
            .apply(id, None, |facts| {
                Ok(make(facts)
                    .into_iter()
                    .map(|data| NewEvent {
                        at: facts.now,
                        actor: SYSTEM_ACTOR.to_owned(),
                        data,
                    })
                    .collect())
            })
            .await;
        match recorded {
            Ok(_) | Err(CommandError::NotFound(_)) => Ok(()),
            Err(e) => Err(e.into_store_error()),
        }
    }

    /// Enqueues hand-off notices for every change of the person on call since the last
    /// cycle; returns how many notices were new.
    async fn enqueue_handoffs(&self, now: Timestamp) -> Result<usize, StoreError> {
        let since = {
            let guard = self
                .handoffs_until
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            guard.unwrap_or_else(|| now.saturating_sub(HANDOFF_CATCH_UP).unwrap_or(now))
        };
        if now <= since {
            return Ok(0);
        }
        let roster = crate::paging::paging_roster(self.store.as_ref()).await?;
        self.remember_next_handoff(&roster, now);
        let mut notices = Vec::new();
        // Read once per cycle, however many schedules change hands at this instant.
        let mut open: Option<(Vec<OpenIncident>, Vec<Incident>)> = None;
        for (id, schedule) in &roster.schedules {
            for handoff in schedule.handoffs(since, now) {
                if open.is_none() {
                    let listed = self.open_incidents().await?;
                    let mut folded = Vec::with_capacity(listed.len());
                    for o in &listed {
                        folded.extend(self.incident(o.id).await?);
                    }
                    open = Some((listed, folded));
                }
                let (listed, folded) = open
                    .as_ref()
                    .map_or((&[][..], &[][..]), |(l, f)| (l.as_slice(), f.as_slice()));
                let mut these = handoff_notices(&roster, id, &handoff, listed, self.pager.links());
                let words = self.handoff_words(&roster, &handoff, folded, now);
                if !words.is_empty() {
                    for notice in &mut these {
                        let intro = notice.notice.text.take().unwrap_or_default();
                        notice.notice.text = Some(format!("{intro}\n\n{words}"));
                    }
                }
                notices.extend(these);
            }
        }
        let new = self.store.enqueue_outbox(&notices).await?;
        *self
            .handoffs_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(now);
        Ok(usize::try_from(new).unwrap_or(usize::MAX))
    }

    /// Enqueues reminders to the owners of open action items due by tomorrow or overdue,
    /// at most every [`ACTION_CHECK_EVERY`]; keys make each reminder once, whichever
    /// replica enqueues it. Returns how many were new.
    async fn enqueue_action_reminders(&self, now: Timestamp) -> Result<usize, StoreError> {
        {
            let mut last = self
                .actions_checked
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if last.is_some_and(|at| now < at.saturating_add(ACTION_CHECK_EVERY).unwrap_or(at)) {
                return Ok(0);
            }
            *last = Some(now);
        }
        let today = fireline_core::postmortem::utc_date(now);
        let items = self
            .store
            .list_action_items(&fireline_store::ActionFilter {
                open_only: true,
                // Strictly before the day after tomorrow: due today, tomorrow, or earlier.
                due_before: today.tomorrow().and_then(|d| d.tomorrow()).ok(),
                limit: 1000,
                ..fireline_store::ActionFilter::default()
            })
            .await?;
        if items.is_empty() {
            return Ok(0);
        }
        let roster = crate::paging::paging_roster(self.store.as_ref()).await?;
        let notices =
            fireline_core::postmortem::action_reminders(&roster, &items, now, self.pager.links());
        let new = self.store.enqueue_outbox(&notices).await?;
        Ok(usize::try_from(new).unwrap_or(usize::MAX))
    }

    /// Enqueues the messages to status page subscribers that the policy's maintenance
    /// windows have due since this worker last looked under the same policy (every step
    /// still news, the first time or after the policy changed); keys make each message
    /// once, whichever replica enqueues it. Steps no longer news are logged, never sent.
    /// Returns how many messages were new.
    async fn enqueue_maintenance(&self, now: Timestamp) -> Result<usize, StoreError> {
        let policy = self.policy.current();
        let since = self
            .maintenance_seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .as_ref()
            .filter(|(digest, _)| *digest == policy.digest)
            .map(|(_, at)| *at);
        if since.is_some_and(|s| now <= s) {
            return Ok(0);
        }
        let steps = fireline_core::maintenance::steps(&policy.maintenance, since, now);
        for stale in &steps.stale {
            tracing::warn!(
                window = %stale.window.name,
                step = stale.step.as_str(),
                due_at = %stale.at,
                "maintenance message not sent: no longer news (fell due while no delivery worker ran, unless one sent it before this one started)"
            );
        }
        let messages = crate::subscribers::address_maintenance(
            self.store.as_ref(),
            &self.pager.links().base_url,
            &steps.due,
            now,
        )
        .await?;
        let new = self.store.enqueue_outbox(&messages).await?;
        if new > 0 {
            tracing::info!(
                messages = new,
                "maintenance messages to subscribers enqueued"
            );
        }
        *self
            .maintenance_seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some((policy.digest.clone(), now));
        Ok(usize::try_from(new).unwrap_or(usize::MAX))
    }

    /// Each open incident in the policy's `handoff` wording (from, to, status, next
    /// update), for the notice's text. A template that fails to render is skipped: the
    /// notice still lists the incidents.
    fn handoff_words(
        &self,
        roster: &fireline_core::oncall::Roster,
        handoff: &fireline_core::oncall::Handoff,
        open: &[Incident],
        now: Timestamp,
    ) -> String {
        use fireline_core::comms::{render, RenderInput};
        use fireline_core::policy::templates::TemplateKind;
        let policy = self.policy.current();
        let name = |p: &Option<String>| {
            p.as_deref()
                .map(|id| {
                    roster
                        .people
                        .get(id)
                        .map_or(id, |p| p.name.as_str())
                        .to_owned()
                })
                .unwrap_or_else(|| "nobody".to_owned())
        };
        let vars = std::collections::BTreeMap::from([
            ("from".to_owned(), name(&handoff.outgoing)),
            ("to".to_owned(), name(&handoff.incoming)),
        ]);
        let mut blocks = Vec::new();
        for incident in open {
            let input = RenderInput {
                channel: None,
                now,
                next_update: None,
                vars: &vars,
            };
            match render(&policy, TemplateKind::Handoff, incident, &input) {
                Ok(text) => blocks.push(text),
                Err(e) => {
                    tracing::warn!(incident = %incident.id, error = %e, "hand-off template did not render")
                }
            }
        }
        blocks.join("\n\n")
    }

    /// Notes the first change of hands after `now` (within a day) for [`Self::next_wake`].
    fn remember_next_handoff(&self, roster: &fireline_core::oncall::Roster, now: Timestamp) {
        let horizon = now
            .saturating_add(SignedDuration::from_hours(24))
            .unwrap_or(now);
        let next = roster
            .schedules
            .values()
            .filter_map(|s| s.handoffs(now, horizon).first().map(|h| h.at))
            .min();
        *self
            .next_handoff
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = next;
    }

    async fn open_incidents(&self) -> Result<Vec<OpenIncident>, StoreError> {
        let list = self
            .store
            .list_incidents(&IncidentFilter {
                status: StatusFilter::Open,
                severity: None,
                service: None,
                limit: 100,
            })
            .await?;
        Ok(list
            .into_iter()
            .map(|i| OpenIncident {
                id: i.id,
                title: i.title,
                severity: i.severity,
                service: i.service,
                status: i.status.as_str().to_owned(),
            })
            .collect())
    }

    /// When this worker next has something to do: the earliest pending message,
    /// hand-off or maintenance step, at most `max_idle` away.
    async fn next_wake(&self, max_idle: Duration) -> Duration {
        let now = self.clock.now();
        let horizon = now
            .saturating_add(SignedDuration::try_from(max_idle).unwrap_or(SignedDuration::ZERO))
            .unwrap_or(now);
        let mut next = horizon;
        if let Ok(Some(at)) = self.store.next_outbox_due().await {
            next = next.min(at);
        }
        // A roster changed since the last cycle is seen at most `max_idle` later.
        let handoff = *self
            .next_handoff
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(at) = handoff.filter(|at| *at > now) {
            next = next.min(at);
        }
        let policy = self.policy.current();
        if let Some(at) = fireline_core::maintenance::next_step_after(&policy.maintenance, now) {
            next = next.min(at);
        }
        Duration::try_from(next.duration_since(now)).unwrap_or(Duration::ZERO)
    }

    /// Runs cycles until `shutdown` completes, sleeping until the next message or
    /// hand-off is due (at most `max_idle`) or until woken.
    pub async fn run(&self, max_idle: Duration, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            match self.tick().await {
                Ok(r) if r != DeliveryReport::default() => {
                    tracing::debug!(report = ?r, "delivery cycle")
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "delivery cycle failed; retrying"),
            }
            let wait = self.next_wake(max_idle).await;
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.wake.notified() => {}
                () = &mut shutdown => return,
            }
        }
    }
}

/// Where a roster contact is reached, or `None` for Web Push, whose destinations are
/// the person's subscribed devices ([`crate::push`]).
pub(crate) fn destination_of(contact: &Contact) -> Option<Destination> {
    use fireline_core::oncall::ContactKind;
    let address = contact.address.clone();
    Some(match contact.kind {
        ContactKind::Email => Destination::Email { to: address },
        ContactKind::Slack => Destination::Slack { url: address },
        ContactKind::Webhook => Destination::Webhook {
            url: address,
            secret: contact.secret.clone(),
        },
        ContactKind::Ntfy => Destination::Ntfy {
            url: address,
            token: contact.secret.clone(),
        },
        ContactKind::Pushover => Destination::Pushover { user: address },
        ContactKind::Sms => Destination::Sms { to: address },
        ContactKind::Voice => Destination::Voice { to: address },
        ContactKind::Push => return None,
        ContactKind::SlackBot => Destination::SlackBot {
            channel: address,
            token: contact.secret.clone().unwrap_or_default(),
        },
        ContactKind::Mattermost => Destination::Mattermost { url: address },
        ContactKind::RocketChat => Destination::RocketChat { url: address },
        ContactKind::Teams => Destination::Teams { url: address },
        ContactKind::Discord => Destination::Discord { url: address },
        ContactKind::Matrix => {
            // The roster writes a room as `https://homeserver/#/!room:server`.
            let (homeserver, room) = address.split_once("/#/").unwrap_or((&address, ""));
            Destination::Matrix {
                homeserver: homeserver.to_owned(),
                room: room.to_owned(),
                token: contact.secret.clone().unwrap_or_default(),
            }
        }
    })
}

/// One message for a destination's due entries: the entry itself, or a bundle.
fn bundle(items: &[OutboxItem]) -> Message {
    let notices: Vec<&Notice> = items.iter().map(|i| &i.notice).collect();
    let notice = if let [only] = notices.as_slice() {
        (*only).clone()
    } else {
        let mut items: Vec<NoticeItem> = Vec::new();
        let mut headlines: Vec<String> = Vec::new();
        for n in &notices {
            for item in &n.items {
                // Two pages for one incident at once (its severity's page and an
                // escalation level that fires on declaration) are one thing to answer.
                let paged_already = n.urgent && items.iter().any(|i| i.incident == item.incident);
                if !paged_already && !items.contains(item) {
                    items.push(item.clone());
                    if !headlines.contains(&n.headline) {
                        headlines.push(n.headline.clone());
                    }
                }
            }
        }
        Notice {
            key: format!("bundle:{}", notices.first().map_or("", |n| n.key.as_str())),
            headline: match headlines.as_slice() {
                [only] if items.len() == 1 => only.clone(),
                _ => format!("{} notifications for you", items.len().max(headlines.len())),
            },
            text: Some(
                headlines
                    .iter()
                    .map(|h| format!("• {h}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            items,
            // One urgent page makes the bundle urgent: it must ring.
            urgent: notices.iter().any(|n| n.urgent),
            confirm_url: notices.iter().find_map(|n| n.confirm_url.clone()),
            open_channel: None,
            edit: false,
        }
    };
    message_of(notice)
}

/// The notifier's message for a notice the core worded: the same fields, field by field.
pub(crate) fn message_of(notice: Notice) -> Message {
    Message {
        key: notice.key,
        headline: notice.headline,
        items: notice
            .items
            .into_iter()
            .map(|i| fireline_notify::Item {
                incident: i.incident,
                title: i.title,
                severity: i.severity,
                service: i.service,
                status: i.status,
                reason: i.reason,
                incident_url: i.incident_url,
                runbook_url: i.runbook_url,
                ack_url: i.ack_url,
            })
            .collect(),
        text: notice.text,
        urgent: notice.urgent,
        confirm_url: notice.confirm_url,
        unsubscribe_url: None,
    }
}
