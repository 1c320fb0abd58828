//! Heartbeat monitors and their deadlines.
//!
//! [`Heartbeats`] is what the rest of fireline calls; `sql_heartbeats!` is its one SQL
//! implementation, instantiated for both backends by `crate::sql::impl_sql_store!`.

use crate::{HeartbeatRecord, Result};
use async_trait::async_trait;
use jiff::Timestamp;

/// Heartbeat monitors and their deadlines. Part of [`Store`](crate::Store).
#[async_trait]
pub trait Heartbeats: Send + Sync {
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
}

/// Implements [`Heartbeats`] for `$store`, a backend whose `pool` is a `sqlx::Pool<$db>`.
macro_rules! sql_heartbeats {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::Heartbeats for $store {
            async fn insert_heartbeat(
                &self,
                heartbeat: &$crate::HeartbeatRecord,
                key_hash: &str,
            ) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO heartbeats (id, name, integration, key_hash, interval_s, grace_s, state, \
                     last_ping_at_us, deadline_at_us, created_at_us) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(&heartbeat.id)
                .bind(&heartbeat.name)
                .bind(&heartbeat.integration)
                .bind(key_hash)
                .bind(heartbeat.interval_s)
                .bind(heartbeat.grace_s)
                .bind(&heartbeat.state)
                .bind(heartbeat.last_ping_at.map($crate::rows::micros))
                .bind(heartbeat.deadline_at.map($crate::rows::micros))
                .bind($crate::rows::micros(heartbeat.created_at))
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn list_heartbeats(&self) -> $crate::Result<Vec<$crate::HeartbeatRecord>> {
                let rows: Vec<$crate::rows::HeartbeatRow> = sqlx::query_as(&format!(
                    "SELECT {} FROM heartbeats ORDER BY created_at_us, id",
                    $crate::rows::HEARTBEAT_COLUMNS
                ))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map($crate::rows::HeartbeatRow::into_record).collect()
            }

            async fn ping_heartbeat(
                &self,
                key_hash: &str,
                now: jiff::Timestamp,
            ) -> $crate::Result<Option<$crate::HeartbeatRecord>> {
                let now_us = $crate::rows::micros(now);
                let mut tx = self.pool.begin().await?;
                // The write comes first so the transaction holds the row from the start.
                let updated: Option<$crate::rows::HeartbeatRow> = sqlx::query_as(&format!(
                    "UPDATE heartbeats SET last_ping_at_us = $1, \
                     deadline_at_us = $1 + (interval_s + grace_s) * 1000000, \
                     state = CASE WHEN state = 'down' THEN 'recovering' ELSE 'up' END \
                     WHERE key_hash = $2 RETURNING {}",
                    $crate::rows::HEARTBEAT_COLUMNS
                ))
                .bind(now_us)
                .bind(key_hash)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = updated else {
                    return Ok(None);
                };
                let mut record = row.into_record()?;
                if record.state == "recovering" {
                    record.state = "up".to_owned();
                    sqlx::query("UPDATE heartbeats SET state = 'up' WHERE id = $1")
                        .bind(&record.id)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("INSERT INTO alert_inbox (integration, received_at_us, alerts) VALUES ($1, $2, $3)")
                        .bind(&record.integration)
                        .bind(now_us)
                        .bind($crate::rows::heartbeat_alert_json(&record, fireline_core::alert::AlertStatus::Resolved)?)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(Some(record))
            }

            async fn expire_heartbeats(
                &self,
                now: jiff::Timestamp,
            ) -> $crate::Result<Vec<$crate::HeartbeatRecord>> {
                let now_us = $crate::rows::micros(now);
                let mut tx = self.pool.begin().await?;
                let rows: Vec<$crate::rows::HeartbeatRow> = sqlx::query_as(&format!(
                    "UPDATE heartbeats SET state = 'down' \
                     WHERE state = 'up' AND deadline_at_us < $1 RETURNING {}",
                    $crate::rows::HEARTBEAT_COLUMNS
                ))
                .bind(now_us)
                .fetch_all(&mut *tx)
                .await?;
                let records = rows
                    .into_iter()
                    .map($crate::rows::HeartbeatRow::into_record)
                    .collect::<$crate::Result<Vec<_>>>()?;
                for record in &records {
                    sqlx::query("INSERT INTO alert_inbox (integration, received_at_us, alerts) VALUES ($1, $2, $3)")
                        .bind(&record.integration)
                        .bind(now_us)
                        .bind($crate::rows::heartbeat_alert_json(record, fireline_core::alert::AlertStatus::Firing)?)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(records)
            }
        }
    };
}

pub(crate) use sql_heartbeats;
