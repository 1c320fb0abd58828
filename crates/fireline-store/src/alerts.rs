//! Alerts: applying processed alerts to incidents, the alert projection and the record of alerts dropped.
//!
//! [`Alerts`] is what the rest of fireline calls; `sql_alerts!` is its one SQL
//! implementation, instantiated for both backends by `crate::sql::impl_sql_store!`.

use crate::{AlertDrop, AlertRecord, AlertWrites, Result};
use async_trait::async_trait;
use fireline_core::IncidentId;
use jiff::Timestamp;

/// Alerts: applying processed alerts to incidents, the alert projection and the record of alerts dropped. Part of [`Store`](crate::Store).
#[async_trait]
pub trait Alerts: Send + Sync {
    /// Writes one step of alert processing in one transaction: opens `writes.opens` (in
    /// order) and appends `writes.appends`, each version-checked as [`Incidents::append`](crate::Incidents::append)
    /// is, keeping the listing and alert projections in step, and deletes the
    /// `writes.processed` inbox items. On [`StoreError::Conflict`](crate::StoreError::Conflict) nothing is written.
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

    /// [`Alerts::open_incident_in_group`] for several groups at once; groups without an
    /// open incident are absent from the answer.
    async fn open_incidents_in_groups(
        &self,
        groups: &[String],
        since: Timestamp,
    ) -> Result<Vec<(String, IncidentId)>>;

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

    /// Accepted alerts that joined no incident, latest first (at most `limit`).
    async fn alert_drops(&self, limit: u32) -> Result<Vec<AlertDrop>>;

    /// Forgets dropped-alert records last seen before `before`, and beyond the newest
    /// `keep`; returns how many went.
    async fn prune_alert_drops(&self, before: Timestamp, keep: u32) -> Result<u64>;
}

/// Implements [`Alerts`] for `$store`, a backend whose `pool` is a `sqlx::Pool<$db>`.
macro_rules! sql_alerts {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::Alerts for $store {
            async fn apply_alerts(
                &self,
                writes: $crate::AlertWrites,
            ) -> $crate::Result<Vec<fireline_core::IncidentId>> {
                let mut tx = self.pool.begin().await?;
                let mut opened = Vec::with_capacity(writes.opens.len());
                for open in writes.opens {
                    let (incident, _) =
                        Self::open_tx(&mut tx, open.declared, open.more, open.next_due).await?;
                    opened.push(incident.id);
                }
                for append in writes.appends {
                    Self::append_tx(&mut tx, &append.current, append.events, append.next_due).await?;
                }
                for drop in &writes.dropped {
                    sqlx::query(
                        "INSERT INTO alert_drops (integration, dedup_key, reason, summary, count, \
                         first_at_us, last_at_us) VALUES ($1, $2, $3, $4, 1, $5, $5) \
                         ON CONFLICT (integration, dedup_key, reason) DO UPDATE SET \
                         count = alert_drops.count + 1, summary = excluded.summary, \
                         last_at_us = excluded.last_at_us",
                    )
                    .bind(&drop.integration)
                    .bind(&drop.dedup_key)
                    .bind(&drop.reason)
                    .bind(&drop.summary)
                    .bind($crate::rows::micros(drop.at))
                    .execute(&mut *tx)
                    .await?;
                }
                self.mark_processed_tx(&mut tx, &writes.processed).await?;
                tx.commit().await?;
                self.after_processed(&writes.processed).await;
                Ok(opened)
            }

            async fn alerts_by_keys(
                &self,
                integration: &str,
                dedup_keys: &[String],
            ) -> $crate::Result<Vec<(String, $crate::AlertRecord)>> {
                let mut found = Vec::new();
                // Bounded IN lists: well under either backend's limit on parameters.
                for chunk in dedup_keys.chunks(500) {
                    let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
                    let sql = format!(
                        "SELECT dedup_key, incident, status, digest FROM alerts \
                         WHERE integration = $1 AND dedup_key IN ({})",
                        marks.join(", ")
                    );
                    let mut query = sqlx::query_as::<_, (String, i64, String, String)>(&sql).bind(integration);
                    for key in chunk {
                        query = query.bind(key);
                    }
                    for (key, incident, status, digest) in query.fetch_all(&self.pool).await? {
                        found.push((key, $crate::AlertRecord {
                            incident: fireline_core::IncidentId(incident as u64),
                            firing: status == "firing",
                            digest,
                        }));
                    }
                }
                Ok(found)
            }

            async fn open_incidents_in_groups(
                &self,
                groups: &[String],
                since: jiff::Timestamp,
            ) -> $crate::Result<Vec<(String, fireline_core::IncidentId)>> {
                let mut found = Vec::new();
                for chunk in groups.chunks(500) {
                    let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
                    let sql = format!(
                        "SELECT alert_group, MAX(number) FROM incidents \
                         WHERE alert_group IN ({}) AND status <> 'resolved' AND declared_at_us >= $1 \
                         GROUP BY alert_group",
                        marks.join(", ")
                    );
                    let mut query = sqlx::query_as::<_, (String, i64)>(&sql).bind($crate::rows::micros(since));
                    for group in chunk {
                        query = query.bind(group);
                    }
                    for (group, number) in query.fetch_all(&self.pool).await? {
                        found.push((group, fireline_core::IncidentId(number as u64)));
                    }
                }
                Ok(found)
            }

            async fn alert(
                &self,
                integration: &str,
                dedup_key: &str,
            ) -> $crate::Result<Option<$crate::AlertRecord>> {
                let row: Option<(i64, String, String)> = sqlx::query_as(
                    "SELECT incident, status, digest FROM alerts WHERE integration = $1 AND dedup_key = $2",
                )
                .bind(integration)
                .bind(dedup_key)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|(incident, status, digest)| $crate::AlertRecord {
                    incident: fireline_core::IncidentId(incident as u64),
                    firing: status == "firing",
                    digest,
                }))
            }

            async fn firing_alerts(&self, incident: fireline_core::IncidentId) -> $crate::Result<usize> {
                let n: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM alerts WHERE incident = $1 AND status = 'firing'",
                )
                .bind($crate::rows::incident_number(incident)?)
                .fetch_one(&self.pool)
                .await?;
                Ok(n as usize)
            }

            async fn open_incident_in_group(
                &self,
                group: &str,
                since: jiff::Timestamp,
            ) -> $crate::Result<Option<fireline_core::IncidentId>> {
                let n: Option<i64> = sqlx::query_scalar(
                    "SELECT number FROM incidents WHERE alert_group = $1 AND status <> 'resolved' \
                     AND declared_at_us >= $2 ORDER BY number DESC LIMIT 1",
                )
                .bind(group)
                .bind($crate::rows::micros(since))
                .fetch_optional(&self.pool)
                .await?;
                Ok(n.map(|n| fireline_core::IncidentId(n as u64)))
            }

            async fn alert_drops(&self, limit: u32) -> $crate::Result<Vec<$crate::AlertDrop>> {
                let rows: Vec<$crate::rows::AlertDropRow> = sqlx::query_as(
                    "SELECT integration, dedup_key, reason, summary, count, first_at_us, last_at_us \
                     FROM alert_drops ORDER BY last_at_us DESC, integration, dedup_key LIMIT $1",
                )
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map($crate::rows::AlertDropRow::into_record).collect()
            }

            async fn prune_alert_drops(
                &self,
                before: jiff::Timestamp,
                keep: u32,
            ) -> $crate::Result<u64> {
                let mut tx = self.pool.begin().await?;
                let mut gone = sqlx::query("DELETE FROM alert_drops WHERE last_at_us < $1")
                    .bind($crate::rows::micros(before))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                // The newest `keep` stay (in a total order, so ties at the cut are
                // settled by key rather than all going).
                gone += sqlx::query(
                    "DELETE FROM alert_drops WHERE (integration, dedup_key, reason) IN \
                     (SELECT integration, dedup_key, reason FROM alert_drops \
                      ORDER BY last_at_us DESC, integration, dedup_key, reason \
                      LIMIT 9223372036854775807 OFFSET $1)",
                )
                .bind(i64::from(keep))
                .execute(&mut *tx)
                .await?
                .rows_affected();
                tx.commit().await?;
                Ok(gone)
            }
        }
    };
}

pub(crate) use sql_alerts;
