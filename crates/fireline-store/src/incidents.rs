//! Incidents: their append-only logs, the listing projection and the engine's due-work leases.
//!
//! [`Incidents`] is what the rest of fireline calls; `sql_incidents!` is its one SQL
//! implementation, instantiated for both backends by `crate::sql::impl_sql_store!`.

use crate::{IncidentFilter, IncidentSummary, Result};
use async_trait::async_trait;
use fireline_core::oncall::notify::Outgoing;
use fireline_core::{Incident, IncidentId, NewEvent, RecordedEvent};
use jiff::Timestamp;

/// Incidents: their append-only logs, the listing projection and the engine's due-work leases. Part of [`Store`](crate::Store).
#[async_trait]
pub trait Incidents: Send + Sync {
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
    /// Fails with [`StoreError::Conflict`](crate::StoreError::Conflict) when the stored version is no longer
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

    /// [`Incidents::append`], and in the same transaction the messages the events cause
    /// (pages to deliver): a page is never recorded without its messages, nor sent for
    /// an event that was not recorded. A message whose key is already stored is skipped.
    async fn append_notifying(
        &self,
        current: &Incident,
        events: Vec<NewEvent>,
        next_due: Option<Timestamp>,
        outbox: &[Outgoing],
    ) -> Result<(Incident, Vec<RecordedEvent>)>;

    /// The incident's whole log, in order; [`StoreError::NotFound`](crate::StoreError::NotFound) if there is none.
    async fn events(&self, id: IncidentId) -> Result<Vec<RecordedEvent>>;

    /// The incident's version (the `seq` of its last event), or `None` if there is no such
    /// incident. One indexed read of the projection, for pollers that only need to know
    /// whether the incident changed without loading its log.
    async fn incident_version(&self, id: IncidentId) -> Result<Option<u64>>;

    /// Incidents matching `filter`, open ones first, newest first within each group.
    async fn list_incidents(&self, filter: &IncidentFilter) -> Result<Vec<IncidentSummary>>;

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

    /// Incidents before `incident` (lower numbers) of the same `service` or that any of
    /// `alert_keys` (integration, dedup key) joined, newest first, at most `limit`.
    async fn related_incidents(
        &self,
        incident: IncidentId,
        service: &str,
        alert_keys: &[(String, String)],
        limit: u32,
    ) -> Result<Vec<fireline_core::postmortem::Related>>;
}

/// Implements [`Incidents`] for `$store`, a backend whose `pool` is a `sqlx::Pool<$db>`.
macro_rules! sql_incidents {
    ($store:ty, $db:ty) => {
        impl $store {
            /// Appends `events` to `current` inside `tx`: the version claim, the listing
            /// projection, the events, and the alert projection of alert events.
            async fn append_tx(
                tx: &mut sqlx::Transaction<'static, $db>,
                current: &fireline_core::Incident,
                events: Vec<fireline_core::NewEvent>,
                next_due: Option<jiff::Timestamp>,
            ) -> $crate::Result<(fireline_core::Incident, Vec<fireline_core::RecordedEvent>)> {
                use $crate::rows::{event_json, incident_number, micros};
                let number = incident_number(current.id)?;
                // Apply first, in memory: the projection written below must be the fold.
                let mut next = current.clone();
                let mut recorded = Vec::with_capacity(events.len());
                for (offset, event) in events.into_iter().enumerate() {
                    let event = fireline_core::RecordedEvent {
                        id: 0,
                        seq: current.version + 1 + offset as u64,
                        at: event.at,
                        actor: event.actor,
                        data: event.data,
                    };
                    next.apply(&event)?;
                    recorded.push(event);
                }
                if recorded.is_empty() {
                    return Ok((next, recorded));
                }
                // The version check and the claim are one statement, and a write, so the
                // transaction holds the row (and SQLite's write lock) from here on.
                let claimed = sqlx::query(
                    "UPDATE incidents SET title = $1, service = $2, severity = $3, status = $4, \
                     acknowledged_at_us = $5, first_acknowledged_at_us = COALESCE(first_acknowledged_at_us, $5), \
                     resolved_at_us = $6, updated_at_us = $7, \
                     version = $8, next_due_at_us = $11, lease_owner = NULL, lease_until_us = NULL \
                     WHERE number = $9 AND version = $10",
                )
                .bind(&next.title)
                .bind(&next.service)
                .bind(&next.severity)
                .bind(next.status.as_str())
                .bind(next.acknowledged.as_ref().map(|(at, _)| micros(*at)))
                .bind(next.resolved_at.map(micros))
                .bind(micros(next.updated_at))
                .bind(next.version as i64)
                .bind(number)
                .bind(current.version as i64)
                .bind(next_due.map(micros))
                .execute(&mut **tx)
                .await?
                .rows_affected();
                if claimed == 0 {
                    let actual: Option<i64> =
                        sqlx::query_scalar("SELECT version FROM incidents WHERE number = $1")
                            .bind(number)
                            .fetch_optional(&mut **tx)
                            .await?;
                    return Err(match actual {
                        None => $crate::StoreError::NotFound,
                        Some(actual) => $crate::StoreError::Conflict {
                            expected: current.version,
                            actual: actual as u64,
                        },
                    });
                }
                for event in &mut recorded {
                    event.id = sqlx::query_scalar(
                        "INSERT INTO incident_events (incident, seq, at_us, actor, kind, data) \
                         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                    )
                    .bind(number)
                    .bind(event.seq as i64)
                    .bind(micros(event.at))
                    .bind(&event.actor)
                    .bind(event.data.kind())
                    .bind(event_json(&event.data)?)
                    .fetch_one(&mut **tx)
                    .await?;
                    Self::project_alert(tx, number, event).await?;
                }
                Ok((next, recorded))
            }

            /// Opens an incident inside `tx` (see `Incidents::open_incident`).
            async fn open_tx(
                tx: &mut sqlx::Transaction<'static, $db>,
                declared: fireline_core::NewEvent,
                more: Vec<fireline_core::NewEvent>,
                next_due: Option<jiff::Timestamp>,
            ) -> $crate::Result<(fireline_core::Incident, Vec<fireline_core::RecordedEvent>)> {
                use $crate::rows::{event_json, micros};
                let fireline_core::EventData::Declared { title, severity, service, .. } =
                    &declared.data
                else {
                    return Err($crate::StoreError::Corrupt(
                        "an incident must start with a declaration".into(),
                    ));
                };
                // The group of the alert that opens it, so later alerts can join it.
                let group = more.iter().find_map(|e| match &e.data {
                    fireline_core::EventData::AlertAttached { group, .. } if !group.is_empty() => Some(group.clone()),
                    _ => None,
                });
                let at = micros(declared.at);
                let number: i64 = sqlx::query_scalar(
                    "INSERT INTO incidents (title, service, severity, status, declared_at_us, \
                     declared_by, updated_at_us, version, next_due_at_us, alert_group) \
                     VALUES ($1, $2, $3, 'investigating', $4, $5, $4, 1, $6, $7) RETURNING number",
                )
                .bind(title)
                .bind(service)
                .bind(severity)
                .bind(at)
                .bind(&declared.actor)
                .bind(next_due.map(micros))
                .bind(group)
                .fetch_one(&mut **tx)
                .await?;
                let event_id: i64 = sqlx::query_scalar(
                    "INSERT INTO incident_events (incident, seq, at_us, actor, kind, data) \
                     VALUES ($1, 1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(number)
                .bind(at)
                .bind(&declared.actor)
                .bind(declared.data.kind())
                .bind(event_json(&declared.data)?)
                .fetch_one(&mut **tx)
                .await?;
                let first = fireline_core::RecordedEvent {
                    id: event_id,
                    seq: 1,
                    at: declared.at,
                    actor: declared.actor,
                    data: declared.data,
                };
                let id = fireline_core::IncidentId(number as u64);
                let incident = fireline_core::Incident::declared(id, &first)?;
                let (incident, mut recorded) = Self::append_tx(tx, &incident, more, next_due).await?;
                recorded.insert(0, first);
                Ok((incident, recorded))
            }

            /// Keeps the `alerts` projection in step with alert events.
            async fn project_alert(
                tx: &mut sqlx::Transaction<'static, $db>,
                number: i64,
                event: &fireline_core::RecordedEvent,
            ) -> $crate::Result<()> {
                use fireline_core::EventData;
                let at = $crate::rows::micros(event.at);
                match &event.data {
                    EventData::AlertAttached { integration, dedup_key, summary, digest, .. } => {
                        // Every incident an alert joined, for related incidents.
                        sqlx::query(
                            "INSERT INTO incident_alert_keys (integration, dedup_key, incident) \
                             VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                        )
                        .bind(integration)
                        .bind(dedup_key)
                        .bind(number)
                        .execute(&mut **tx)
                        .await?;
                        sqlx::query(
                            "INSERT INTO alerts (integration, dedup_key, incident, status, digest, summary, updated_at_us) \
                             VALUES ($1, $2, $3, 'firing', $4, $5, $6) \
                             ON CONFLICT (integration, dedup_key) DO UPDATE SET incident = excluded.incident, \
                             status = 'firing', digest = excluded.digest, summary = excluded.summary, \
                             updated_at_us = excluded.updated_at_us",
                        )
                        .bind(integration)
                        .bind(dedup_key)
                        .bind(number)
                        .bind(digest)
                        .bind(summary)
                        .bind(at)
                        .execute(&mut **tx)
                        .await?;
                    }
                    EventData::AlertUpdated { integration, dedup_key, summary, digest, .. } => {
                        sqlx::query(
                            "UPDATE alerts SET digest = $1, summary = $2, updated_at_us = $3 \
                             WHERE integration = $4 AND dedup_key = $5",
                        )
                        .bind(digest)
                        .bind(summary)
                        .bind(at)
                        .bind(integration)
                        .bind(dedup_key)
                        .execute(&mut **tx)
                        .await?;
                    }
                    EventData::AlertResolved { integration, dedup_key, .. } => {
                        sqlx::query(
                            "UPDATE alerts SET status = 'resolved', updated_at_us = $1 \
                             WHERE integration = $2 AND dedup_key = $3",
                        )
                        .bind(at)
                        .bind(integration)
                        .bind(dedup_key)
                        .execute(&mut **tx)
                        .await?;
                    }
                    _ => {}
                }
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl $crate::Incidents for $store {
            async fn open_incident(
                &self,
                declared: fireline_core::NewEvent,
                more: Vec<fireline_core::NewEvent>,
                next_due: Option<jiff::Timestamp>,
            ) -> $crate::Result<(fireline_core::Incident, Vec<fireline_core::RecordedEvent>)> {
                let mut tx = self.pool.begin().await?;
                let result = Self::open_tx(&mut tx, declared, more, next_due).await?;
                tx.commit().await?;
                Ok(result)
            }

            async fn append_notifying(
                &self,
                current: &fireline_core::Incident,
                events: Vec<fireline_core::NewEvent>,
                next_due: Option<jiff::Timestamp>,
                outbox: &[fireline_core::oncall::notify::Outgoing],
            ) -> $crate::Result<(fireline_core::Incident, Vec<fireline_core::RecordedEvent>)> {
                if events.is_empty() {
                    return Ok((current.clone(), Vec::new()));
                }
                let mut tx = self.pool.begin().await?;
                let result = Self::append_tx(&mut tx, current, events, next_due).await?;
                Self::outbox_tx(&mut tx, outbox, result.0.updated_at).await?;
                tx.commit().await?;
                Ok(result)
            }

            async fn events(
                &self,
                id: fireline_core::IncidentId,
            ) -> $crate::Result<Vec<fireline_core::RecordedEvent>> {
                let number = $crate::rows::incident_number(id)?;
                let rows: Vec<$crate::rows::EventRow> = sqlx::query_as(
                    "SELECT id, seq, at_us, actor, data FROM incident_events \
                     WHERE incident = $1 ORDER BY seq",
                )
                .bind(number)
                .fetch_all(&self.pool)
                .await?;
                if rows.is_empty() {
                    return Err($crate::StoreError::NotFound);
                }
                rows.into_iter()
                    .map($crate::rows::EventRow::into_event)
                    .collect()
            }

            async fn incident_version(
                &self,
                id: fireline_core::IncidentId,
            ) -> $crate::Result<Option<u64>> {
                // An id beyond i64 cannot be in the table: that is "no such incident".
                let Ok(number) = $crate::rows::incident_number(id) else {
                    return Ok(None);
                };
                let version: Option<i64> =
                    sqlx::query_scalar("SELECT version FROM incidents WHERE number = $1")
                        .bind(number)
                        .fetch_optional(&self.pool)
                        .await?;
                version
                    .map(|v| {
                        u64::try_from(v).map_err(|_| {
                            $crate::StoreError::Corrupt(format!("negative incident version {v}"))
                        })
                    })
                    .transpose()
            }

            async fn list_incidents(
                &self,
                filter: &$crate::IncidentFilter,
            ) -> $crate::Result<Vec<$crate::IncidentSummary>> {
                let sql = format!(
                    "SELECT {} FROM incidents \
                     WHERE ($1 = 'all' OR ($1 = 'open' AND status <> 'resolved') \
                            OR ($1 = 'resolved' AND status = 'resolved')) \
                       AND ($2 IS NULL OR severity = $2) \
                       AND ($3 IS NULL OR service = $3) \
                     ORDER BY CASE WHEN status = 'resolved' THEN 1 ELSE 0 END, number DESC \
                     LIMIT $4",
                    $crate::sql::SUMMARY_COLUMNS
                );
                let rows: Vec<$crate::rows::SummaryRow> = sqlx::query_as(&sql)
                    .bind(filter.status.as_str())
                    .bind(filter.severity.as_deref())
                    .bind(filter.service.as_deref())
                    .bind(i64::from(filter.limit))
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter()
                    .map($crate::rows::SummaryRow::into_summary)
                    .collect()
            }

            async fn claim_due(
                &self,
                now: jiff::Timestamp,
                owner: &str,
                lease_until: jiff::Timestamp,
                limit: u32,
            ) -> $crate::Result<Vec<fireline_core::IncidentId>> {
                let numbers: Vec<i64> = sqlx::query_scalar(<Self as $crate::backend::Dialect>::CLAIM_DUE)
                    .bind($crate::rows::micros(now))
                    .bind(owner)
                    .bind($crate::rows::micros(lease_until))
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                Ok(numbers.into_iter().map(|n| fireline_core::IncidentId(n as u64)).collect())
            }

            async fn reschedule(
                &self,
                id: fireline_core::IncidentId,
                next_due: Option<jiff::Timestamp>,
                owner: &str,
            ) -> $crate::Result<()> {
                sqlx::query(
                    "UPDATE incidents SET next_due_at_us = $1, lease_owner = NULL, lease_until_us = NULL \
                     WHERE number = $2 AND (lease_owner IS NULL OR lease_owner = $3)",
                )
                .bind(next_due.map($crate::rows::micros))
                .bind($crate::rows::incident_number(id)?)
                .bind(owner)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn reschedule_all(&self, at: jiff::Timestamp) -> $crate::Result<u64> {
                Ok(sqlx::query(
                    "UPDATE incidents SET next_due_at_us = $1 \
                     WHERE status <> 'resolved' OR next_due_at_us IS NOT NULL",
                )
                .bind($crate::rows::micros(at))
                .execute(&self.pool)
                .await?
                .rows_affected())
            }

            async fn next_due(&self) -> $crate::Result<Option<jiff::Timestamp>> {
                let us: Option<i64> = sqlx::query_scalar(
                    "SELECT MIN(next_due_at_us) FROM incidents WHERE next_due_at_us IS NOT NULL",
                )
                .fetch_one(&self.pool)
                .await?;
                us.map($crate::rows::timestamp).transpose()
            }

            async fn related_incidents(
                &self,
                incident: fireline_core::IncidentId,
                service: &str,
                alert_keys: &[(String, String)],
                limit: u32,
            ) -> $crate::Result<Vec<fireline_core::postmortem::Related>> {
                let number = $crate::rows::incident_number(incident)?;
                let mut found: Vec<fireline_core::postmortem::Related> = Vec::new();
                let mut add = |related: fireline_core::postmortem::Related| {
                    match found.iter_mut().find(|r| r.id == related.id) {
                        Some(known) => known.reasons.extend(related.reasons),
                        None => found.push(related),
                    }
                };
                let same: Vec<$crate::rows::RelatedRow> = sqlx::query_as(
                    "SELECT number, title, service, severity, status, declared_at_us FROM incidents \
                     WHERE service = $1 AND number < $2 ORDER BY number DESC LIMIT $3",
                )
                .bind(service)
                .bind(number)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                for row in same {
                    add(row.into_related("same service".to_owned())?);
                }
                for (integration, key) in alert_keys {
                    let rows: Vec<$crate::rows::RelatedRow> = sqlx::query_as(
                        "SELECT i.number, i.title, i.service, i.severity, i.status, i.declared_at_us \
                         FROM incident_alert_keys k JOIN incidents i ON i.number = k.incident \
                         WHERE k.integration = $1 AND k.dedup_key = $2 AND k.incident < $3 \
                         ORDER BY i.number DESC LIMIT $4",
                    )
                    .bind(integration)
                    .bind(key)
                    .bind(number)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                    for row in rows {
                        add(row.into_related(format!("shared alert {integration}/{key}"))?);
                    }
                }
                found.sort_by(|a, b| b.id.cmp(&a.id));
                found.truncate(limit as usize);
                Ok(found)
            }
        }
    };
}

pub(crate) use sql_incidents;
