//! The seam between the two backends: everything SQLite and PostgreSQL do differently.
//!
//! The SQL in the noun modules is written once for both; what it cannot share is here,
//! one [`Dialect`] implementation per backend (`sqlite.rs`, `postgres.rs`). Two things
//! differ: claiming rows under concurrency (PostgreSQL skips rows other replicas have
//! locked; SQLite has one writer and needs no locks), and where the alert inbox lives
//! (SQLite keeps it in a file of its own so accepting an alert never waits for the
//! main file's writer; PostgreSQL keeps it as a table of the one database).

use crate::rows::DeadLetterRow;
use crate::{InboxItem, Result};
use async_trait::async_trait;
use jiff::Timestamp;

/// What one backend does its own way. Implemented by [`crate::SqliteStore`] and
/// [`crate::PostgresStore`]; called only by the shared SQL.
#[async_trait]
pub(crate) trait Dialect: Send + Sync {
    /// The sqlx database the backend speaks.
    type Db: sqlx::Database;

    /// `sqlite` or `postgres`.
    const NAME: &'static str;

    /// Claims due incidents, returning `number`: `$1` now, `$2` owner, `$3` lease end,
    /// `$4` limit.
    const CLAIM_DUE: &'static str;

    /// Claims due outbox messages, returning an `OutboxRow`: `$1` now, `$2` owner, `$3`
    /// lease end, `$4` limit.
    const CLAIM_OUTBOX: &'static str;

    /// A group commit of accepted alerts into the inbox: one statement, or several in
    /// one transaction.
    async fn insert_inbox(&self, items: &[(String, Timestamp, crate::AlertBatch)]) -> Result<()>;

    /// Leases up to `limit` claimable inbox items to `owner`.
    async fn claim_inbox_items(
        &self,
        now: Timestamp,
        owner: &str,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<InboxItem>>;

    /// Gives back the items among `ids` that `owner` holds.
    async fn release_inbox_items(&self, owner: &str, ids: &[i64]) -> Result<()>;

    /// Gives back every inbox lease `owner` holds; returns how many.
    async fn release_owned_inbox(&self, owner: &str) -> Result<u64>;

    /// Counts a failed attempt of item `id`: retried from `retry_at`, or parked at `now`.
    async fn fail_inbox_item(
        &self,
        id: i64,
        error: &str,
        now: Timestamp,
        retry_at: Option<Timestamp>,
    ) -> Result<()>;

    /// Parked items, newest first.
    async fn dead_inbox_items(&self, limit: u32) -> Result<Vec<DeadLetterRow>>;

    /// How many items are parked.
    async fn count_dead_inbox(&self) -> Result<u64>;

    /// How many items wait (not parked), and when the oldest was accepted (µs).
    async fn inbox_backlog(&self) -> Result<(i64, Option<i64>)>;

    /// Runs `sql` (re-drive or discard) on parked item `id`; whether it was there.
    async fn on_dead_item(&self, sql: &str, id: i64) -> Result<bool>;

    /// Inside the transaction that applies inbox items: what makes each apply exactly
    /// once.
    async fn mark_processed_tx(
        &self,
        tx: &mut sqlx::Transaction<'static, Self::Db>,
        ids: &[i64],
    ) -> Result<()>;

    /// After that transaction committed.
    async fn after_processed(&self, ids: &[i64]);

    /// Closes what the inbox holds open, if anything.
    async fn close_inbox(&self);
}
