//! The durable outbox: messages to people, claimed with a lease, retried, finished.
//!
//! [`Outbox`] is what the rest of fireline calls; `sql_outbox!` is its one SQL
//! implementation, instantiated for both backends by `crate::sql::impl_sql_store!`.

use crate::{OutboxItem, OutboxState, Result};
use async_trait::async_trait;
use fireline_core::oncall::notify::Outgoing;
use jiff::Timestamp;

/// The durable outbox: messages to people, claimed with a lease, retried, finished. Part of [`Store`](crate::Store).
#[async_trait]
pub trait Outbox: Send + Sync {
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

    /// Records what the far end calls sent message `id` (Slack's `channel/ts`), so it can
    /// be edited later.
    async fn set_outbox_reference(&self, id: i64, reference: &str) -> Result<()>;

    /// The reference of the first message about `incident` sent to `person` (a person id
    /// or a channel recipient) that has one: the message to edit in place.
    async fn first_reference(
        &self,
        incident: fireline_core::IncidentId,
        person: &str,
    ) -> Result<Option<String>>;
}

/// Implements [`Outbox`] for `$store`, a backend whose `pool` is a `sqlx::Pool<$db>`.
macro_rules! sql_outbox {
    ($store:ty, $db:ty) => {
        impl $store {
            /// Inserts outbox messages inside `tx`, skipping keys already stored.
            async fn outbox_tx(
                tx: &mut sqlx::Transaction<'static, $db>,
                outbox: &[fireline_core::oncall::notify::Outgoing],
                at: jiff::Timestamp,
            ) -> $crate::Result<u64> {
                use $crate::rows::{incident_number, micros, notice_json};
                let mut inserted = 0;
                for o in outbox {
                    let message = notice_json(o)?;
                    let incident = o.incident.map(incident_number).transpose()?;
                    inserted += sqlx::query(
                        "INSERT INTO outbox (key, incident, person, channel, address, secret, message, \
                         unless_acknowledged, created_at_us, due_at_us) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (key) DO NOTHING",
                    )
                    .bind(&o.key)
                    .bind(incident)
                    .bind(&o.person)
                    .bind(o.contact.kind.as_str())
                    .bind(&o.contact.address)
                    .bind(&o.contact.secret)
                    .bind(message)
                    .bind(i64::from(o.unless_acknowledged))
                    .bind(micros(at))
                    .bind(micros(o.due_at))
                    .execute(&mut **tx)
                    .await?
                    .rows_affected();
                }
                Ok(inserted)
            }
        }

        #[async_trait::async_trait]
        impl $crate::Outbox for $store {
            async fn enqueue_outbox(
                &self,
                outbox: &[fireline_core::oncall::notify::Outgoing],
            ) -> $crate::Result<u64> {
                let Some(first) = outbox.first() else { return Ok(0) };
                let mut tx = self.pool.begin().await?;
                let n = Self::outbox_tx(&mut tx, outbox, first.due_at).await?;
                tx.commit().await?;
                Ok(n)
            }

            async fn claim_outbox(
                &self,
                now: jiff::Timestamp,
                owner: &str,
                lease_until: jiff::Timestamp,
                limit: u32,
            ) -> $crate::Result<Vec<$crate::OutboxItem>> {
                let rows: Vec<$crate::rows::OutboxRow> = sqlx::query_as(<Self as $crate::backend::Dialect>::CLAIM_OUTBOX)
                    .bind($crate::rows::micros(now))
                    .bind(owner)
                    .bind($crate::rows::micros(lease_until))
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                let mut items = Vec::with_capacity(rows.len());
                for row in rows {
                    match $crate::rows::outbox_item(row) {
                        Ok(item) => items.push(item),
                        // Only a row written by hand can be unreadable: it is failed, so
                        // it neither blocks the outbox nor is tried forever.
                        Err((id, why)) => {
                            tracing::error!(outbox = id, error = %why, "outbox message unreadable; failed");
                            $crate::Outbox::finish_outbox(self, &[id], $crate::OutboxState::Failed, &why, now)
                                .await?;
                        }
                    }
                }
                items.sort_by_key(|i| (i.due_at, i.id));
                Ok(items)
            }

            async fn finish_outbox(
                &self,
                ids: &[i64],
                state: $crate::OutboxState,
                detail: &str,
                at: jiff::Timestamp,
            ) -> $crate::Result<()> {
                // One statement per chunk of ids (not per id), in one transaction.
                let mut tx = self.pool.begin().await?;
                for chunk in ids.chunks($crate::sql::IDS) {
                    let sql = format!(
                        "UPDATE outbox SET state = $1, detail = $2, done_at_us = $3, \
                         lease_owner = NULL, lease_until_us = NULL WHERE id IN ({})",
                        $crate::sql::id_list(4, chunk.len())
                    );
                    let mut query = sqlx::query(&sql)
                        .bind(state.as_str())
                        .bind(detail)
                        .bind($crate::rows::micros(at));
                    for id in chunk {
                        query = query.bind(id);
                    }
                    query.execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn retry_outbox(
                &self,
                id: i64,
                attempts: u32,
                due_at: jiff::Timestamp,
                detail: &str,
            ) -> $crate::Result<()> {
                sqlx::query(
                    "UPDATE outbox SET attempts = $1, due_at_us = $2, detail = $3, \
                     lease_owner = NULL, lease_until_us = NULL WHERE id = $4",
                )
                .bind(i64::from(attempts))
                .bind($crate::rows::micros(due_at))
                .bind(detail)
                .bind(id)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn defer_outbox(&self, ids: &[i64], due_at: jiff::Timestamp) -> $crate::Result<()> {
                let mut tx = self.pool.begin().await?;
                for chunk in ids.chunks($crate::sql::IDS) {
                    let sql = format!(
                        "UPDATE outbox SET due_at_us = $1, lease_owner = NULL, \
                         lease_until_us = NULL WHERE id IN ({})",
                        $crate::sql::id_list(2, chunk.len())
                    );
                    let mut query = sqlx::query(&sql).bind($crate::rows::micros(due_at));
                    for id in chunk {
                        query = query.bind(id);
                    }
                    query.execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn last_sent(
                &self,
                person: &str,
                channel: &str,
            ) -> $crate::Result<Option<jiff::Timestamp>> {
                let at: Option<Option<i64>> = sqlx::query_scalar(
                    "SELECT MAX(done_at_us) FROM outbox WHERE person = $1 AND channel = $2 \
                     AND state = 'sent'",
                )
                .bind(person)
                .bind(channel)
                .fetch_optional(&self.pool)
                .await?;
                at.flatten().map($crate::rows::timestamp).transpose()
            }

            async fn next_outbox_due(&self) -> $crate::Result<Option<jiff::Timestamp>> {
                let at: Option<Option<i64>> = sqlx::query_scalar(
                    "SELECT MIN(due_at_us) FROM outbox WHERE state = 'pending'",
                )
                .fetch_optional(&self.pool)
                .await?;
                at.flatten().map($crate::rows::timestamp).transpose()
            }

            async fn set_outbox_reference(&self, id: i64, reference: &str) -> $crate::Result<()> {
                sqlx::query("UPDATE outbox SET reference = $1 WHERE id = $2")
                    .bind(reference)
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn first_reference(
                &self,
                incident: fireline_core::IncidentId,
                person: &str,
            ) -> $crate::Result<Option<String>> {
                let reference: Option<String> = sqlx::query_scalar(
                    "SELECT reference FROM outbox WHERE incident = $1 AND person = $2 \
                     AND reference IS NOT NULL ORDER BY id LIMIT 1",
                )
                .bind($crate::rows::incident_number(incident)?)
                .bind(person)
                .fetch_optional(&self.pool)
                .await?;
                Ok(reference)
            }

            async fn outbox_depth(&self) -> $crate::Result<u64> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE state = 'pending'")
                    .fetch_one(&self.pool)
                    .await?;
                Ok(n as u64)
            }
        }
    };
}

pub(crate) use sql_outbox;
