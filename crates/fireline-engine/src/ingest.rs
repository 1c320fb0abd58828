//! Turning accepted alerts into incidents.
//!
//! Receivers only write normalised alerts to the durable inbox and answer; this worker
//! claims inbox items (a lease, so replicas share the work), routes each alert with the
//! policy, lets core decide, and appends.
//!
//! Alerts are applied in *units*: a run of inbox items whose alerts are decided one by
//! one against an in-memory view (the alert projection, each incident's fold, its
//! firing count, each group's open incident), read once from the store and kept up to
//! date as decisions are made. A unit is then written in one transaction, together with
//! the deletion of its inbox items, so an item is applied exactly once. A group of 100
//! alerts joining one incident costs one load and one append instead of 100 of each.
//! When another writer got in first (a version conflict) the unit is decided again
//! from fresh state. A unit never touches one alert identity in two incidents (the
//! projection would depend on write order): such an alert closes the unit first.

use crate::{Clock, Commands, LivePolicy};
use fireline_core::alert::{
    decide_alert, route, unrecorded_reason, AlertInput, AlertOutcome, AlertStatus, KnownAlert,
    Routed, Situation,
};
use fireline_core::plan::next_due_after;
use fireline_core::policy::Policy;
use fireline_core::{
    declare, Declaration, EventData, Incident, IncidentId, NewEvent, RecordedEvent,
};
use fireline_store::{
    AlertWrites, DroppedAlert, InboxItem, IncidentAppend, IncidentOpen, IntegrationRecord, Store,
    StoreError,
};
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Processes the alert inbox.
#[derive(Debug, Clone)]
pub struct AlertProcessor {
    store: Arc<dyn Store>,
    policy: LivePolicy,
    clock: Arc<dyn Clock>,
    owner: String,
    wake: Arc<Notify>,
    /// The one command path: fires what the alerts made due now.
    commands: Commands,
    runbooks: crate::Runbooks,
    /// When dropped-alert records were last pruned (Unix seconds).
    pruned_at: Arc<AtomicI64>,
}

const MAX_ATTEMPTS: usize = 8;

/// Failed processing attempts after which an inbox item is parked as a dead letter.
pub const MAX_ITEM_ATTEMPTS: u32 = 8;

/// The wait before retrying an item after its `attempts`-th failure: 1 s doubling, at
/// most 5 minutes (about two minutes in all before the eighth failure parks it).
pub fn item_backoff(attempts: u32) -> SignedDuration {
    let secs = 1_i64 << attempts.saturating_sub(1).min(16);
    SignedDuration::from_secs(secs.min(300))
}

/// Dropped-alert records are kept this long…
const DROPS_KEPT_FOR: SignedDuration = SignedDuration::from_hours(30 * 24);

/// …and at most this many.
const DROPS_KEPT: u32 = 10_000;

/// How often they are pruned.
const PRUNE_EVERY_S: i64 = 600;

/// Inbox items claimed at once.
const CLAIM: u32 = 64;

/// A unit closes once it holds this many alerts (after the item in hand): large enough
/// to amortise reads and the commit, small enough that the write lock is not held long
/// against the receivers.
const UNIT_ALERTS: usize = 256;

/// Under receiver load, the processor pauses this many times as long as each unit took
/// (so it takes about a tenth of the time while alerts keep arriving: accepting them is
/// what must keep up, the inbox holds the backlog durably)…
const GIVE_WAY: u32 = 9;

/// …but never longer than this at once (so processing always progresses; slow units
/// get a larger share).
const MAX_GIVE_WAY: Duration = Duration::from_millis(100);

/// An inbox item, decoded.
struct Decoded {
    id: i64,
    /// `None`: the integration no longer exists; its alerts are recorded as dropped.
    integration: Option<IntegrationRecord>,
    /// The integration's id, as the item names it.
    integration_id: String,
    alerts: Vec<AlertInput>,
    /// Processing attempts that failed before this one.
    attempts: u32,
    /// Why the item cannot be processed at all (it does not decode): parked at once.
    broken: Option<String>,
}

/// An incident as this unit sees it.
struct Work {
    /// The fold of the stored log (`None`: opened in this unit).
    base: Option<Incident>,
    /// The declaration of an incident opened in this unit.
    declared: Option<NewEvent>,
    /// The stored log, for planning what is due.
    stored: Vec<RecordedEvent>,
    /// The state with this unit's events applied.
    state: Incident,
    /// This unit's events, in order.
    new: Vec<NewEvent>,
    /// Firing alerts per the store, once asked.
    firing: Option<usize>,
    /// Change to that count from this unit's events.
    firing_delta: i64,
    /// The alert group it was opened for (the store's `alert_group`).
    group: Option<String>,
}

/// The alert group an incident was opened for: the store takes it from the alert
/// attached with the declaration, which is the event right after it.
fn opened_for(events: &[RecordedEvent]) -> Option<String> {
    match events.get(1).map(|e| &e.data) {
        Some(EventData::AlertAttached { group, .. }) if !group.is_empty() => Some(group.clone()),
        _ => None,
    }
}

/// Whether `a` was opened after `b` (placeholders are newer than stored incidents, and
/// count down).
fn newer(a: IncidentId, b: IncidentId) -> bool {
    let placeholder = |id: IncidentId| id.0 > u64::MAX / 2;
    match (placeholder(a), placeholder(b)) {
        (true, true) => a.0 < b.0,
        (true, false) => true,
        (false, true) => false,
        (false, false) => a.0 > b.0,
    }
}

/// What one unit has read and decided, not yet written.
struct Unit {
    now: Timestamp,
    /// Incidents declared at or after this take their group's new alerts.
    since: Timestamp,
    incidents: HashMap<IncidentId, Work>,
    /// Placeholder ids of incidents to open, in order.
    opened: Vec<IncidentId>,
    /// The alert projection, with this unit's decisions applied (`None`: unknown).
    known: HashMap<(String, String), Option<KnownAlert>>,
    /// Each group's newest open incident (`None`: none).
    groups: HashMap<String, Option<IncidentId>>,
    /// The incident each identity's events went to in this unit.
    touched: HashMap<(String, String), IncidentId>,
    /// Alerts that joined no incident, with the reason.
    dropped: Vec<DroppedAlert>,
}

impl Unit {
    fn new(now: Timestamp, policy: &Policy) -> Unit {
        Unit {
            now,
            since: now
                .saturating_sub(policy.alerts.group_window.approx())
                .unwrap_or(now),
            incidents: HashMap::new(),
            opened: Vec::new(),
            known: HashMap::new(),
            groups: HashMap::new(),
            touched: HashMap::new(),
            dropped: Vec::new(),
        }
    }

    /// Records that `alert` joined no incident, and why.
    fn drop_alert(&mut self, integration: &str, alert: &AlertInput, reason: String) {
        metrics::counter!("fireline_alerts_dropped_total").increment(1);
        tracing::info!(alert = %alert.dedup_key, %reason, "alert joined no incident");
        self.dropped.push(DroppedAlert {
            integration: integration.to_owned(),
            dedup_key: alert.dedup_key.clone(),
            reason,
            summary: alert.summary.clone(),
            at: self.now,
        });
    }

    /// Nothing read or decided.
    fn is_empty(&self) -> bool {
        self.incidents.is_empty() && self.known.is_empty() && self.groups.is_empty()
    }

    fn clear(&mut self) {
        self.incidents.clear();
        self.opened.clear();
        self.known.clear();
        self.groups.clear();
        self.touched.clear();
        self.dropped.clear();
    }

    /// An id for an incident to open; the store gives the real one. Placeholders count
    /// down from the top, far from any real incident number, which the store refuses.
    fn placeholder(&self) -> IncidentId {
        IncidentId(u64::MAX - self.opened.len() as u64)
    }

    /// Appends event data to an incident of this unit and keeps the view in step (the
    /// fold, the alert projection, firing counts).
    fn record(
        &mut self,
        id: IncidentId,
        actor: &str,
        now: Timestamp,
        datas: Vec<EventData>,
    ) -> Result<(), StoreError> {
        for data in datas {
            let mut deltas: Vec<(IncidentId, i64)> = Vec::new();
            match &data {
                EventData::AlertAttached {
                    integration,
                    dedup_key,
                    digest,
                    ..
                } => {
                    let key = (integration.clone(), dedup_key.clone());
                    if let Some(Some(prev)) = self.known.get(&key) {
                        if prev.status == AlertStatus::Firing {
                            deltas.push((prev.incident, -1));
                        }
                    }
                    deltas.push((id, 1));
                    self.known.insert(
                        key,
                        Some(KnownAlert {
                            incident: id,
                            status: AlertStatus::Firing,
                            digest: digest.clone(),
                        }),
                    );
                }
                EventData::AlertUpdated {
                    integration,
                    dedup_key,
                    digest,
                    ..
                } => {
                    if let Some(Some(prev)) = self
                        .known
                        .get_mut(&(integration.clone(), dedup_key.clone()))
                    {
                        prev.digest = digest.clone();
                    }
                }
                EventData::AlertResolved {
                    integration,
                    dedup_key,
                    ..
                } => {
                    if let Some(Some(prev)) = self
                        .known
                        .get_mut(&(integration.clone(), dedup_key.clone()))
                    {
                        if prev.status == AlertStatus::Firing {
                            deltas.push((prev.incident, -1));
                        }
                        prev.status = AlertStatus::Resolved;
                    }
                }
                _ => {}
            }
            for (incident, delta) in deltas {
                if let Some(work) = self.incidents.get_mut(&incident) {
                    work.firing_delta += delta;
                }
            }
            let Some(work) = self.incidents.get_mut(&id) else {
                continue;
            };
            let at = now.max(work.state.updated_at);
            let event = RecordedEvent {
                id: 0,
                seq: work.state.version + 1,
                at,
                actor: actor.to_owned(),
                data,
            };
            let was_open = work.state.status.is_open();
            work.state.apply(&event)?;
            if !was_open && work.state.status.is_open() && work.state.declared_at >= self.since {
                // Reopened: the store would name it as its group's open incident again.
                if let Some(group) = &work.group {
                    let current = self.groups.get(group).copied().flatten();
                    if current.is_none_or(|c| newer(id, c)) {
                        self.groups.insert(group.clone(), Some(id));
                    }
                }
            }
            work.new.push(NewEvent {
                at,
                actor: event.actor,
                data: event.data,
            });
        }
        Ok(())
    }
}

impl AlertProcessor {
    /// A processor. What an alert makes due at once (the page of the incident it
    /// opens, an escalation a raised severity brings forward) is fired through
    /// `commands` as soon as the alert is written, not left for the engine to find.
    pub fn new(
        store: Arc<dyn Store>,
        policy: LivePolicy,
        clock: Arc<dyn Clock>,
        owner: impl Into<String>,
        commands: Commands,
    ) -> Self {
        AlertProcessor {
            store,
            policy,
            clock,
            owner: owner.into(),
            wake: Arc::new(Notify::new()),
            commands,
            runbooks: Default::default(),
            pruned_at: Arc::new(AtomicI64::new(0)),
        }
    }

    /// Attaches the runbook a route names to the incidents that route opens.
    pub fn with_runbooks(mut self, runbooks: crate::Runbooks) -> Self {
        self.runbooks = runbooks;
        self
    }

    /// Takes up at once what this worker's name held when its process last stopped
    /// (a crash leaves leases that would otherwise hold those items until they run
    /// out): call it once at start, before any worker of this name runs. The name must
    /// be stable across restarts and unique among replicas. Returns how many leases
    /// were given back.
    pub async fn recover(&self) -> Result<u64, StoreError> {
        let released = self.store.release_leases(&self.owner).await?;
        if released > 0 {
            tracing::info!(owner = %self.owner, released, "took up what a previous run held");
        }
        Ok(released)
    }

    /// Receivers poke this after accepting alerts.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Raises an alert for every heartbeat monitor whose ping is overdue.
    async fn expire_heartbeats(&self) -> Result<(), StoreError> {
        for hb in self.store.expire_heartbeats(self.clock.now()).await? {
            tracing::warn!(heartbeat = %hb.name, "heartbeat missed");
        }
        Ok(())
    }

    /// Raises alerts for missed heartbeats, then processes everything in the inbox that
    /// no other worker holds; returns how many alerts were applied.
    pub async fn drain(&self) -> Result<usize, StoreError> {
        self.drain_until(&AtomicBool::new(false)).await
    }

    /// As [`AlertProcessor::drain`], but stops between inbox items once `stop` is set:
    /// the item in hand is finished, the rest stays durable in the inbox (its leases
    /// given back) for the next start or another replica.
    pub async fn drain_until(&self, stop: &AtomicBool) -> Result<usize, StoreError> {
        self.expire_heartbeats().await?;
        let mut applied = 0;
        let mut integrations: HashMap<String, Option<IntegrationRecord>> = HashMap::new();
        loop {
            if stop.load(Ordering::Relaxed) {
                return Ok(applied);
            }
            let now = self.clock.now();
            let lease_until = now
                .saturating_add(SignedDuration::from_secs(60))
                .unwrap_or(now);
            let items = self
                .store
                .claim_inbox(now, &self.owner, lease_until, CLAIM)
                .await?;
            if items.is_empty() {
                return Ok(applied);
            }
            let mut decoded = Vec::with_capacity(items.len());
            for item in items {
                let integration = match integrations.get(&item.integration) {
                    Some(known) => known.clone(),
                    None => {
                        let found = self.store.integration(&item.integration).await?;
                        integrations.insert(item.integration.clone(), found.clone());
                        found
                    }
                };
                decoded.push(self.decode(item, integration));
            }
            let mut start = 0;
            // After a unit fails, the rest of this claim goes one item a unit, so a
            // bad item fails alone and holds back no other.
            let mut isolate = false;
            while start < decoded.len() {
                if start > 0 && stop.load(Ordering::Relaxed) {
                    let left: Vec<i64> = decoded[start..].iter().map(|d| d.id).collect();
                    self.store.release_inbox(&self.owner, &left).await?;
                    return Ok(applied);
                }
                if let Some(why) = &decoded[start].broken {
                    self.park(&decoded[start], why).await?;
                    start += 1;
                    continue;
                }
                let started = std::time::Instant::now();
                let limit = if isolate { 1 } else { usize::MAX };
                match self.unit_with_retries(&decoded[start..], stop, limit).await {
                    Ok((items, alerts)) => {
                        start += items;
                        applied += alerts;
                    }
                    // The database itself is away: every item would fail alike, and
                    // none is to blame. Their leases run out and they are tried again.
                    Err(e @ StoreError::Unavailable(_)) => return Err(e),
                    Err(e) if isolate => {
                        self.failed(&decoded[start], &e).await?;
                        start += 1;
                    }
                    Err(_) => isolate = true,
                }
                self.give_way(started.elapsed()).await;
            }
            self.prune_drops().await;
        }
    }

    /// Records a failed attempt of `item`: retried after a backoff, or parked as a
    /// dead letter after [`MAX_ITEM_ATTEMPTS`].
    async fn failed(&self, item: &Decoded, error: &StoreError) -> Result<(), StoreError> {
        let attempts = item.attempts + 1;
        let now = self.clock.now();
        if attempts >= MAX_ITEM_ATTEMPTS {
            return self.park(item, &error.to_string()).await;
        }
        let retry_at = now.saturating_add(item_backoff(attempts)).unwrap_or(now);
        metrics::counter!("fireline_inbox_failures_total").increment(1);
        tracing::warn!(inbox = item.id, attempts, error = %error, "alerts not applied; retrying later");
        self.store
            .fail_inbox(item.id, &error.to_string(), now, Some(retry_at))
            .await
    }

    /// Parks `item` as a dead letter: kept, visible to admins, never claimed again
    /// until re-driven.
    async fn park(&self, item: &Decoded, why: &str) -> Result<(), StoreError> {
        metrics::counter!("fireline_inbox_failures_total").increment(1);
        tracing::error!(inbox = item.id, error = %why, "alerts parked as a dead letter");
        self.store
            .fail_inbox(item.id, why, self.clock.now(), None)
            .await
    }

    /// Forgets old dropped-alert records, at most every [`PRUNE_EVERY_S`].
    async fn prune_drops(&self) {
        let now = self.clock.now();
        let last = self.pruned_at.load(Ordering::Relaxed);
        if now.as_second() - last < PRUNE_EVERY_S {
            return;
        }
        self.pruned_at.store(now.as_second(), Ordering::Relaxed);
        let before = now.saturating_sub(DROPS_KEPT_FOR).unwrap_or(now);
        if let Err(e) = self.store.prune_alert_drops(before, DROPS_KEPT).await {
            tracing::warn!(error = %e, "dropped-alert records not pruned");
        }
    }

    /// The receivers come first: while they keep committing (each commit wakes this
    /// processor, leaving a permit), pause for [`GIVE_WAY`] times as long as the unit
    /// took, so processing takes a bounded share of the machine and the database
    /// under load and still always progresses. Idle, or for a lone alert, no pause.
    async fn give_way(&self, unit_took: Duration) {
        let busy = tokio::time::timeout(Duration::ZERO, self.wake.notified())
            .await
            .is_ok();
        if busy {
            tokio::time::sleep((unit_took * GIVE_WAY).min(MAX_GIVE_WAY)).await;
            // Anything committed meanwhile is seen by the next claim anyway.
        } else {
            tokio::task::yield_now().await;
        }
    }

    fn decode(&self, item: InboxItem, integration: Option<IntegrationRecord>) -> Decoded {
        let (mut alerts, broken) = match item.alerts.decode() {
            Ok(alerts) => (alerts, None),
            // Receivers wrote it; short of a damaged row this cannot happen, and
            // retrying would not mend it: parked at once, for an admin to look at.
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
        for alert in &mut alerts {
            alert.normalise();
        }
        Decoded {
            id: item.id,
            integration,
            integration_id: item.integration,
            alerts,
            attempts: item.attempts,
            broken,
        }
    }

    /// Applies a unit taken from the front of `items`, deciding again on conflicts;
    /// returns how many items and alerts it applied.
    async fn unit_with_retries(
        &self,
        items: &[Decoded],
        stop: &AtomicBool,
        limit: usize,
    ) -> Result<(usize, usize), StoreError> {
        let mut attempt = 0;
        loop {
            match self.unit(items, stop, limit).await {
                Err(StoreError::Conflict { .. }) if attempt + 1 < MAX_ATTEMPTS => attempt += 1,
                Err(e) => {
                    tracing::warn!(inbox = items.first().map(|i| i.id), error = %e, "alerts not applied");
                    return Err(e);
                }
                Ok(done) => return Ok(done),
            }
        }
    }

    /// Decides the alerts of items from the front of `items` (at least one item, at
    /// most `limit` items and about [`UNIT_ALERTS`] alerts) and writes them. A broken
    /// item ends the unit before it.
    async fn unit(
        &self,
        items: &[Decoded],
        stop: &AtomicBool,
        limit: usize,
    ) -> Result<(usize, usize), StoreError> {
        let mut committed = (0, 0);
        match self.unit_from(items, stop, limit, &mut committed).await {
            Ok(done) => Ok(done),
            // Part of the unit is written already: report that part, so a retry starts
            // after it instead of deciding (and recording) those items a second time.
            Err(e) if committed.0 > 0 => {
                tracing::debug!(error = %e, items = committed.0, "unit cut short after a partial write");
                Ok(committed)
            }
            Err(e) => Err(e),
        }
    }

    /// [`AlertProcessor::unit`]'s work; `committed` tracks the items (and their alerts)
    /// already written by a commit in the middle of the unit.
    async fn unit_from(
        &self,
        items: &[Decoded],
        stop: &AtomicBool,
        limit: usize,
        committed: &mut (usize, usize),
    ) -> Result<(usize, usize), StoreError> {
        let policy = self.policy.current();
        let now = self.clock.now();
        let mut unit = Unit::new(now, &policy);
        let mut taken = 0;
        let mut alerts = 0;
        let mut processed = Vec::new();
        for item in items {
            if taken > 0
                && (alerts >= UNIT_ALERTS
                    || taken >= limit
                    || item.broken.is_some()
                    || stop.load(Ordering::Relaxed))
            {
                break;
            }
            if taken == 0 || unit.is_empty() {
                self.prefetch(&mut unit, &policy, &items[taken..]).await?;
            }
            if item.integration.is_none() {
                for alert in &item.alerts {
                    unit.drop_alert(
                        &item.integration_id,
                        alert,
                        "its integration no longer exists".to_owned(),
                    );
                }
            }
            if let Some(integration) = &item.integration {
                for alert in &item.alerts {
                    if !self.decide(&mut unit, &policy, integration, alert).await? {
                        // It would touch an alert already written to another incident in
                        // this unit: write what we have, then decide it on fresh state.
                        self.commit(&mut unit, &policy, std::mem::take(&mut processed))
                            .await?;
                        *committed = (taken, alerts);
                        if !self.decide(&mut unit, &policy, integration, alert).await? {
                            return Err(StoreError::Corrupt(
                                "an alert touched two incidents in an empty unit".into(),
                            ));
                        }
                    }
                }
            }
            alerts += item.alerts.len();
            processed.push(item.id);
            taken += 1;
        }
        self.commit(&mut unit, &policy, processed).await?;
        Ok((taken, alerts))
    }

    /// Reads in a few queries what the next items' alerts will ask about.
    async fn prefetch(
        &self,
        unit: &mut Unit,
        policy: &Policy,
        items: &[Decoded],
    ) -> Result<(), StoreError> {
        let mut keys: HashMap<&str, Vec<String>> = HashMap::new();
        let mut groups = Vec::new();
        let mut count = 0;
        for item in items {
            if count >= UNIT_ALERTS {
                break;
            }
            count += item.alerts.len();
            let Some(integration) = &item.integration else {
                continue;
            };
            for alert in &item.alerts {
                let id = (integration.id.clone(), alert.dedup_key.clone());
                if !unit.known.contains_key(&id) {
                    keys.entry(integration.id.as_str())
                        .or_default()
                        .push(alert.dedup_key.clone());
                }
                let routed = route(
                    policy,
                    alert,
                    &integration.id,
                    &integration.service,
                    unit.now,
                );
                if !routed.drop && !unit.groups.contains_key(&routed.group) {
                    groups.push(routed.group);
                }
            }
        }
        for (integration, keys) in keys {
            let found = self.store.alerts_by_keys(integration, &keys).await?;
            for key in keys {
                unit.known
                    .entry((integration.to_owned(), key))
                    .or_insert(None);
            }
            for (key, a) in found {
                unit.known.insert(
                    (integration.to_owned(), key),
                    Some(KnownAlert {
                        incident: a.incident,
                        status: if a.firing {
                            AlertStatus::Firing
                        } else {
                            AlertStatus::Resolved
                        },
                        digest: a.digest,
                    }),
                );
            }
        }
        if !groups.is_empty() {
            groups.sort();
            groups.dedup();
            let found = self
                .store
                .open_incidents_in_groups(&groups, unit.since)
                .await?;
            for group in groups {
                unit.groups.entry(group).or_insert(None);
            }
            for (group, id) in found {
                unit.groups.insert(group, Some(id));
            }
        }
        Ok(())
    }

    /// Loads the incident into the unit if it has not yet; `false` if it does not exist.
    async fn work(&self, unit: &mut Unit, id: IncidentId) -> Result<bool, StoreError> {
        if let std::collections::hash_map::Entry::Vacant(slot) = unit.incidents.entry(id) {
            let events = match self.store.events(id).await {
                Ok(events) => events,
                Err(StoreError::NotFound) => return Ok(false),
                Err(e) => return Err(e),
            };
            let state = Incident::fold(id, &events)?;
            let group = opened_for(&events);
            slot.insert(Work {
                group,
                base: Some(state.clone()),
                declared: None,
                stored: events,
                state,
                new: Vec::new(),
                firing: None,
                firing_delta: 0,
            });
        }
        Ok(true)
    }

    /// How many of the incident's alerts fire, counting this unit's decisions.
    async fn firing(&self, unit: &mut Unit, id: IncidentId) -> Result<usize, StoreError> {
        let Some(work) = unit.incidents.get(&id) else {
            return Ok(0);
        };
        let stored = match work.firing {
            Some(n) => n,
            None if work.base.is_none() => 0,
            None => {
                let n = self.store.firing_alerts(id).await?;
                if let Some(work) = unit.incidents.get_mut(&id) {
                    work.firing = Some(n);
                }
                n
            }
        };
        let delta = unit.incidents.get(&id).map_or(0, |w| w.firing_delta);
        Ok(usize::try_from(stored as i64 + delta).unwrap_or(0))
    }

    /// Decides one alert against the unit's view and records the outcome in it. Returns
    /// `false`, changing nothing, when the alert would touch an identity this unit has
    /// already written to another incident.
    async fn decide(
        &self,
        unit: &mut Unit,
        policy: &Policy,
        integration: &IntegrationRecord,
        alert: &AlertInput,
    ) -> Result<bool, StoreError> {
        let now = unit.now;
        let routed = route(policy, alert, &integration.id, &integration.service, now);
        if routed.drop {
            if let Some(reason) = unrecorded_reason(&routed, alert, None) {
                unit.drop_alert(&integration.id, alert, reason);
            }
            return Ok(true);
        }
        let identity = (integration.id.clone(), alert.dedup_key.clone());
        let known = self.known(unit, &identity).await?;
        let known_loaded = match &known {
            Some(k) => self.work(unit, k.incident).await?,
            None => false,
        };
        let firing = match (&known, alert.status) {
            (Some(k), AlertStatus::Resolved) if known_loaded => {
                self.firing(unit, k.incident).await?
            }
            _ => 0,
        };
        let group_id = self.group_incident(unit, &routed.group).await?;
        let group_loaded = match group_id {
            Some(id) => self.work(unit, id).await?,
            None => false,
        };
        if let Some(id) = group_id.filter(|_| group_loaded) {
            if unit
                .incidents
                .get(&id)
                .is_some_and(|w| !w.state.status.is_open())
            {
                // Resolved in this unit: the store would now name an older open incident
                // of the group, if any. Decide on fresh state instead.
                return Ok(false);
            }
        }
        let situation = Situation {
            known: known.as_ref(),
            known_incident: known
                .as_ref()
                .filter(|_| known_loaded)
                .and_then(|k| unit.incidents.get(&k.incident))
                .map(|w| (&w.state, firing)),
            group_incident: group_id
                .filter(|_| group_loaded)
                .and_then(|id| unit.incidents.get(&id))
                .map(|w| &w.state),
        };
        let actor = format!("integration:{}", integration.name);
        match decide_alert(policy, alert, &integration.id, &routed, situation, now) {
            AlertOutcome::Nothing => {
                match unrecorded_reason(&routed, alert, known.as_ref()) {
                    Some(reason) => unit.drop_alert(&integration.id, alert, reason),
                    // A repeat of what is known: folded into the existing record.
                    None => metrics::counter!("fireline_alerts_deduplicated_total").increment(1),
                }
                Ok(true)
            }
            AlertOutcome::Declare(declaration, more) => {
                if unit.touched.contains_key(&identity) {
                    return Ok(false);
                }
                self.open_for_alert(
                    unit,
                    policy,
                    (integration, alert),
                    &routed,
                    &declaration,
                    more,
                )?;
                Ok(true)
            }
            AlertOutcome::Append(id, datas) => {
                if unit.touched.get(&identity).is_some_and(|t| *t != id) {
                    return Ok(false);
                }
                if !unit.incidents.contains_key(&id) {
                    // Only a damaged projection names an incident that does not exist.
                    unit.drop_alert(
                        &integration.id,
                        alert,
                        format!("its alert record names {id}, which does not exist"),
                    );
                    return Ok(true);
                }
                unit.record(id, &actor, now, datas)?;
                unit.touched.insert(identity, id);
                Ok(true)
            }
        }
    }

    /// What is known of an alert identity (its projection), read once per unit.
    async fn known(
        &self,
        unit: &mut Unit,
        identity: &(String, String),
    ) -> Result<Option<KnownAlert>, StoreError> {
        if let Some(known) = unit.known.get(identity) {
            return Ok(known.clone());
        }
        let known = self
            .store
            .alert(&identity.0, &identity.1)
            .await?
            .map(|a| KnownAlert {
                incident: a.incident,
                status: if a.firing {
                    AlertStatus::Firing
                } else {
                    AlertStatus::Resolved
                },
                digest: a.digest,
            });
        unit.known.insert(identity.clone(), known.clone());
        Ok(known)
    }

    /// The open incident of an alert group, read once per unit.
    async fn group_incident(
        &self,
        unit: &mut Unit,
        group: &str,
    ) -> Result<Option<IncidentId>, StoreError> {
        if let Some(id) = unit.groups.get(group) {
            return Ok(*id);
        }
        let id = self.store.open_incident_in_group(group, unit.since).await?;
        unit.groups.insert(group.to_owned(), id);
        Ok(id)
    }

    /// Records in `unit` the incident an alert opens, with the route's runbook attached;
    /// an alert that cannot open one is recorded as dropped, with why.
    fn open_for_alert(
        &self,
        unit: &mut Unit,
        policy: &Policy,
        (integration, alert): (&IntegrationRecord, &AlertInput),
        routed: &Routed,
        declaration: &Declaration,
        mut more: Vec<EventData>,
    ) -> Result<(), StoreError> {
        let now = unit.now;
        let actor = format!("integration:{}", integration.name);
        let data = match declare(declaration, policy) {
            Ok(data) => data,
            Err(e) => {
                // Normalisation makes this unreachable for what receivers accept;
                // should a policy change make it so, the alert is still accounted for.
                unit.drop_alert(
                    &integration.id,
                    alert,
                    format!("it could not open an incident: {e}"),
                );
                return Ok(());
            }
        };
        let id = unit.placeholder();
        let declared = NewEvent {
            at: now,
            actor: actor.clone(),
            data,
        };
        let first = RecordedEvent {
            id: 0,
            seq: 1,
            at: now,
            actor: actor.clone(),
            data: declared.data.clone(),
        };
        let state = Incident::declared(id, &first)?;
        unit.incidents.insert(
            id,
            Work {
                group: Some(routed.group.clone()),
                base: None,
                declared: Some(declared),
                stored: Vec::new(),
                state,
                new: Vec::new(),
                firing: None,
                firing_delta: 0,
            },
        );
        unit.opened.push(id);
        unit.groups.insert(routed.group.clone(), Some(id));
        if let Some(name) = &routed.runbook {
            match self.runbooks.get(name) {
                // Snapshotted like a manual attach, in the same append as the
                // declaration, so the first responder already sees the steps.
                Some(book) => more.push(EventData::RunbookAttached {
                    runbook: book.id.clone(),
                    title: book.title.clone(),
                    steps: book.steps.clone(),
                    phases: book.phases.clone(),
                }),
                None => {
                    tracing::warn!(alert = %alert.dedup_key, runbook = %name, "route names a runbook the server does not have")
                }
            }
        }
        unit.record(id, &actor, now, more)?;
        unit.touched
            .insert((integration.id.clone(), alert.dedup_key.clone()), id);
        tracing::debug!(alert = %alert.dedup_key, "incident to open for alert");
        Ok(())
    }

    /// Writes the unit's decisions and the processed items in one transaction, then
    /// empties the unit for what follows.
    async fn commit(
        &self,
        unit: &mut Unit,
        policy: &Policy,
        processed: Vec<i64>,
    ) -> Result<(), StoreError> {
        let mut writes = AlertWrites {
            processed,
            dropped: std::mem::take(&mut unit.dropped),
            ..AlertWrites::default()
        };
        // When each written incident next has policy work: opened ones in order, then
        // the appended ones by id.
        let mut opened_due = Vec::new();
        let mut appended_due = Vec::new();
        let opened = std::mem::take(&mut unit.opened);
        let mut incidents = std::mem::take(&mut unit.incidents);
        for id in &opened {
            let Some(work) = incidents.remove(id) else {
                continue;
            };
            let Some(declared) = work.declared else {
                continue;
            };
            let mut all = vec![declared.clone()];
            all.extend(work.new.iter().cloned());
            let next = next_due_after(policy, &[], &all);
            opened_due.push(next);
            writes.opens.push(IncidentOpen {
                declared,
                more: work.new,
                next_due: next,
            });
        }
        // One order for every writer, so two replicas cannot deadlock on row locks.
        let mut incidents: Vec<(IncidentId, Work)> = incidents.into_iter().collect();
        incidents.sort_by_key(|(id, _)| *id);
        for (_, work) in incidents {
            let Some(base) = work.base else {
                continue;
            };
            if work.new.is_empty() {
                continue;
            }
            let next = next_due_after(policy, &work.stored, &work.new);
            appended_due.push((base.id, next));
            writes.appends.push(IncidentAppend {
                current: base,
                events: work.new,
                next_due: next,
            });
        }
        unit.clear();
        if writes.opens.is_empty()
            && writes.appends.is_empty()
            && writes.processed.is_empty()
            && writes.dropped.is_empty()
        {
            return Ok(());
        }
        let ids = self.store.apply_alerts(writes).await?;
        for id in &ids {
            tracing::info!(incident = %id, "incident opened by alert");
        }
        let now = self.clock.now();
        let due_now: Vec<IncidentId> = ids
            .into_iter()
            .zip(opened_due)
            .chain(appended_due)
            .filter(|(_, next)| next.is_some_and(|at| at <= now))
            .map(|(id, _)| id)
            .collect();
        self.fire_now(&due_now).await;
        Ok(())
    }

    /// Fires what is due now on incidents alerts just opened or changed — the page
    /// first of all — through the one command path, so an alert's way to a page is one
    /// straight line instead of a wait for the engine. The incidents stay scheduled:
    /// whatever fails here, the engine (woken) takes up.
    async fn fire_now(&self, ids: &[IncidentId]) {
        for &id in ids {
            match self.commands.fire_due(id).await {
                Ok(applied) => {
                    if applied.appended > 0 {
                        tracing::info!(incident = %id, fired = applied.appended, "policy actions fired on alert");
                    }
                }
                Err(e) => {
                    tracing::warn!(incident = %id, error = %e, "firing on alert failed; the engine takes it up");
                    self.commands.engine_waker().notify_one();
                }
            }
        }
    }

    /// Drains the inbox whenever woken (or every `max_idle`) until `shutdown`. Shutdown
    /// is honoured between inbox items, so a deep inbox does not hold up a stop; what is
    /// left stays in the inbox.
    pub async fn run(&self, max_idle: Duration, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let stop = AtomicBool::new(false);
        loop {
            let drained = self.drain_until(&stop);
            tokio::pin!(drained);
            // Shutdown first: a stop already asked for is honoured before a unit starts
            // (tokio would otherwise pick a branch at random, and a whole unit could run).
            let result = tokio::select! {
                biased;
                () = &mut shutdown => {
                    // Let the item in hand finish (it is not cancelled mid-way), then stop.
                    stop.store(true, Ordering::Relaxed);
                    if let Err(e) = drained.await {
                        tracing::error!(error = %e, "alert processing failed while stopping");
                    }
                    return;
                }
                result = &mut drained => result,
            };
            if let Err(e) = result {
                tracing::error!(error = %e, "alert processing failed; retrying");
            }
            tokio::select! {
                () = tokio::time::sleep(max_idle) => {}
                () = self.wake.notified() => {}
                () = &mut shutdown => return,
            }
        }
    }
}
