//! Turning accepted alerts into incidents.
//!
//! Receivers only write normalised alerts to the durable inbox and answer; this worker
//! claims inbox items (a lease, so replicas share the work), routes each alert with the
//! policy, lets core decide, and appends. An item is deleted once all its alerts are
//! applied. If a worker dies half-way, the item's lease expires and it is processed
//! again: the alert projection makes that idempotent (an alert already attached to an
//! open incident with the same content records nothing).

use crate::{Clock, LivePolicy};
use fireline_core::alert::{
    decide_alert, route, AlertInput, AlertOutcome, AlertStatus, KnownAlert, Situation,
};
use fireline_core::plan::next_due_after;
use fireline_core::{declare, Incident, IncidentId, NewEvent, RecordedEvent};
use fireline_store::{IntegrationRecord, Store, StoreError};
use jiff::SignedDuration;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
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
    engine_wake: Arc<Notify>,
}

const MAX_ATTEMPTS: usize = 8;

impl AlertProcessor {
    /// A processor; `engine_wake` is poked when an alert makes policy work due now.
    pub fn new(
        store: Arc<dyn Store>,
        policy: LivePolicy,
        clock: Arc<dyn Clock>,
        owner: impl Into<String>,
        engine_wake: Arc<Notify>,
    ) -> Self {
        AlertProcessor {
            store,
            policy,
            clock,
            owner: owner.into(),
            wake: Arc::new(Notify::new()),
            engine_wake,
        }
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
                .claim_inbox(now, &self.owner, lease_until, 64)
                .await?;
            if items.is_empty() {
                return Ok(applied);
            }
            let mut items = items.into_iter();
            while let Some(item) = items.next() {
                if stop.load(Ordering::Relaxed) {
                    let left: Vec<i64> = std::iter::once(item.id)
                        .chain(items.map(|i| i.id))
                        .collect();
                    self.store.release_inbox(&self.owner, &left).await?;
                    return Ok(applied);
                }
                let integration = self.store.integration(&item.integration).await?;
                let alerts: Vec<AlertInput> = match serde_json::from_str(&item.alerts) {
                    Ok(alerts) => alerts,
                    Err(e) => {
                        // Receivers wrote it; this cannot happen short of a damaged row,
                        // which retrying would not mend.
                        tracing::error!(inbox = item.id, error = %e, "undecodable inbox item dropped");
                        self.store.delete_inbox(item.id).await?;
                        continue;
                    }
                };
                if let Some(integration) = integration {
                    for alert in &alerts {
                        if let Err(e) = self.apply(&integration, alert).await {
                            // Leave the item: its lease expires and it is tried again.
                            tracing::error!(inbox = item.id, alert = %alert.dedup_key, error = %e, "alert not applied; will retry");
                            return Err(e);
                        }
                        applied += 1;
                    }
                }
                self.store.delete_inbox(item.id).await?;
            }
        }
    }

    async fn load(
        &self,
        id: IncidentId,
    ) -> Result<Option<(Incident, Vec<RecordedEvent>)>, StoreError> {
        match self.store.events(id).await {
            Ok(events) => Ok(Some((Incident::fold(id, &events)?, events))),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Applies one alert, retrying when a concurrent writer got in first.
    async fn apply(
        &self,
        integration: &IntegrationRecord,
        alert: &AlertInput,
    ) -> Result<(), StoreError> {
        let policy = self.policy.current();
        let now = self.clock.now();
        let routed = route(&policy, alert, &integration.id, &integration.service, now);
        if routed.drop {
            tracing::debug!(alert = %alert.dedup_key, route = ?routed.route, "alert dropped by route");
            return Ok(());
        }
        let actor = format!("integration:{}", integration.name);
        for _ in 0..MAX_ATTEMPTS {
            let known = self
                .store
                .alert(&integration.id, &alert.dedup_key)
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
            let known_state = match &known {
                Some(k) => self.load(k.incident).await?,
                None => None,
            };
            let firing = match &known {
                Some(k) => self.store.firing_alerts(k.incident).await?,
                None => 0,
            };
            let since = now
                .saturating_sub(policy.alerts.group_window.approx())
                .unwrap_or(now);
            let group_state = match self
                .store
                .open_incident_in_group(&routed.group, since)
                .await?
            {
                Some(id) => self.load(id).await?,
                None => None,
            };
            let situation = Situation {
                known: known.as_ref(),
                known_incident: known_state.as_ref().map(|(i, _)| (i, firing)),
                group_incident: group_state.as_ref().map(|(i, _)| i),
            };
            let result = match decide_alert(
                &policy,
                alert,
                &integration.id,
                &routed,
                situation,
                now,
            ) {
                AlertOutcome::Nothing => return Ok(()),
                AlertOutcome::Declare(declaration, more) => {
                    let data = match declare(&declaration, &policy) {
                        Ok(data) => data,
                        Err(e) => {
                            tracing::error!(alert = %alert.dedup_key, error = %e, "alert cannot open an incident; dropped");
                            return Ok(());
                        }
                    };
                    let first = NewEvent {
                        at: now,
                        actor: actor.clone(),
                        data,
                    };
                    let more: Vec<NewEvent> = more
                        .into_iter()
                        .map(|data| NewEvent {
                            at: now,
                            actor: actor.clone(),
                            data,
                        })
                        .collect();
                    let mut all = vec![first.clone()];
                    all.extend(more.iter().cloned());
                    let next = next_due_after(&policy, &[], &all);
                    self.store.open_incident(first, more, next).await.map(|(incident, _)| {
                        tracing::info!(incident = %incident.id, alert = %alert.dedup_key, "incident opened by alert");
                        next
                    })
                }
                AlertOutcome::Append(id, datas) => {
                    let Some((current, events)) = [&known_state, &group_state]
                        .into_iter()
                        .flatten()
                        .find(|(i, _)| i.id == id)
                        .cloned()
                    else {
                        continue;
                    };
                    let at = now.max(current.updated_at);
                    let new: Vec<NewEvent> = datas
                        .into_iter()
                        .map(|data| NewEvent {
                            at,
                            actor: actor.clone(),
                            data,
                        })
                        .collect();
                    let next = next_due_after(&policy, &events, &new);
                    self.store.append(&current, new, next).await.map(|_| next)
                }
            };
            match result {
                Ok(next) => {
                    if next.is_some_and(|at| at <= self.clock.now()) {
                        self.engine_wake.notify_one();
                    }
                    return Ok(());
                }
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict {
            expected: 0,
            actual: 0,
        })
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
            let result = tokio::select! {
                result = &mut drained => result,
                () = &mut shutdown => {
                    // Let the item in hand finish (it is not cancelled mid-way), then stop.
                    stop.store(true, Ordering::Relaxed);
                    if let Err(e) = drained.await {
                        tracing::error!(error = %e, "alert processing failed while stopping");
                    }
                    return;
                }
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
