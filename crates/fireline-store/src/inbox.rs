//! The alert inbox: what receivers accepted, claimed and processed exactly once, and the dead letters.
//!
//! [`Inbox`] is what the rest of fireline calls; `sql_inbox!` is its one SQL
//! implementation, instantiated for both backends by `crate::sql::impl_sql_store!`.

use crate::{AlertBatch, DeadLetter, InboxBacklog, InboxItem, Result};
use async_trait::async_trait;
use jiff::Timestamp;

/// The alert inbox: what receivers accepted, claimed and processed exactly once, and the dead letters. Part of [`Store`](crate::Store).
#[async_trait]
pub trait Inbox: Send + Sync {
    /// Durably accepts several payloads in one transaction (group commit): one commit,
    /// one sync, for every request waiting.
    async fn enqueue_alerts_batch(&self, items: &[(String, Timestamp, AlertBatch)]) -> Result<()>;

    /// Claims up to `limit` inbox items, oldest first, that no live lease holds and
    /// that are not parked.
    async fn claim_inbox(
        &self,
        now: Timestamp,
        owner: &str,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<InboxItem>>;

    /// Gives back inbox items `owner` claimed but will not process (it is stopping), so
    /// the next worker need not wait for their leases to expire. Items another worker
    /// holds are left alone.
    async fn release_inbox(&self, owner: &str, ids: &[i64]) -> Result<()>;

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

    /// What waits to be processed: how many accepted payloads (parked ones aside) and
    /// since when the oldest has; how far processing is behind.
    async fn inbox_backlog(&self) -> Result<InboxBacklog>;

    /// Parked inbox items, newest first (at most `limit`).
    async fn dead_letters(&self, limit: u32) -> Result<Vec<DeadLetter>>;

    /// How many inbox items are parked.
    async fn dead_letter_count(&self) -> Result<u64>;

    /// Puts a parked item back in the inbox with no attempts counted; `false` if no
    /// parked item has this id.
    async fn redrive_dead_letter(&self, id: i64) -> Result<bool>;

    /// Deletes a parked item for good; `false` if no parked item has this id.
    async fn discard_dead_letter(&self, id: i64) -> Result<bool>;
}

/// Implements [`Inbox`] for `$store`, a backend whose `pool` is a `sqlx::Pool<$db>`.
macro_rules! sql_inbox {
    ($store:ty, $db:ty) => {
        impl $store {
            /// One multi-row `INSERT` of accepted payloads into the inbox through `on`
            /// (at most [`INBOX_ROWS`](crate::sql::INBOX_ROWS) rows).
            async fn insert_rows<'c, E>(
                on: E,
                rows: &[(String, jiff::Timestamp, $crate::AlertBatch)],
            ) -> $crate::Result<()>
            where
                E: sqlx::Executor<'c, Database = $db>,
            {
                let sql = $crate::sql::inbox_insert_sql(rows.len());
                let mut query = sqlx::query(&sql);
                for (integration, received_at, alerts) in rows {
                    query = query
                        .bind(integration)
                        .bind($crate::rows::micros(*received_at))
                        .bind(alerts.as_stored());
                }
                query.execute(on).await?;
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl $crate::Inbox for $store {
            async fn enqueue_alerts_batch(
                &self,
                items: &[(String, jiff::Timestamp, $crate::AlertBatch)],
            ) -> $crate::Result<()> {
                if items.is_empty() {
                    return Ok(());
                }
                self.insert_inbox(items).await
            }

            async fn claim_inbox(
                &self,
                now: jiff::Timestamp,
                owner: &str,
                lease_until: jiff::Timestamp,
                limit: u32,
            ) -> $crate::Result<Vec<$crate::InboxItem>> {
                let mut items = self
                    .claim_inbox_items(now, owner, lease_until, limit)
                    .await?;
                items.sort_by_key(|i| i.id);
                Ok(items)
            }

            async fn release_inbox(&self, owner: &str, ids: &[i64]) -> $crate::Result<()> {
                self.release_inbox_items(owner, ids).await
            }

            async fn fail_inbox(
                &self,
                id: i64,
                error: &str,
                now: jiff::Timestamp,
                retry_at: Option<jiff::Timestamp>,
            ) -> $crate::Result<()> {
                self.fail_inbox_item(id, &$crate::sql::error_text(error), now, retry_at)
                    .await
            }

            async fn inbox_backlog(&self) -> $crate::Result<$crate::InboxBacklog> {
                let (items, oldest) =
                    <Self as $crate::backend::Dialect>::inbox_backlog(self).await?;
                Ok($crate::InboxBacklog {
                    items: u64::try_from(items).unwrap_or(0),
                    oldest: oldest.map($crate::rows::timestamp).transpose()?,
                })
            }

            async fn dead_letters(&self, limit: u32) -> $crate::Result<Vec<$crate::DeadLetter>> {
                let mut rows = self.dead_inbox_items(limit).await?;
                rows.sort_by(|a, b| b.dead_at_us.cmp(&a.dead_at_us).then(b.id.cmp(&a.id)));
                rows.truncate(limit as usize);
                rows.into_iter()
                    .map($crate::rows::DeadLetterRow::into_record)
                    .collect()
            }

            async fn dead_letter_count(&self) -> $crate::Result<u64> {
                self.count_dead_inbox().await
            }

            async fn redrive_dead_letter(&self, id: i64) -> $crate::Result<bool> {
                self.on_dead_item($crate::sql::REDRIVE_SQL, id).await
            }

            async fn discard_dead_letter(&self, id: i64) -> $crate::Result<bool> {
                self.on_dead_item($crate::sql::DISCARD_SQL, id).await
            }
        }
    };
}

pub(crate) use sql_inbox;
