//! PostgreSQL, for several stateless replicas sharing one database.

use crate::backend::Dialect;
use crate::sql::impl_sql_store;
use crate::{Result, StoreError};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Pool, Postgres};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// A store in a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: Pool<Postgres>,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://…`) and migrates the database.
    pub async fn open(url: &str) -> Result<Self> {
        let options =
            PgConnectOptions::from_str(url).map_err(|e| StoreError::InvalidUrl(e.to_string()))?;
        Self::connect(options).await
    }

    /// Connects with explicit options (tests use this to pick a schema) and migrates.
    /// Replicas may start at once: sqlx serialises migrations with an advisory lock.
    pub async fn connect(options: PgConnectOptions) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(PostgresStore { pool })
    }
}

// The inbox is a table of the one database: applying items deletes them in the same
// transaction, so each is applied exactly once.
#[async_trait::async_trait]
impl Dialect for PostgresStore {
    type Db = Postgres;
    const NAME: &'static str = "postgres";

    // SKIP LOCKED: replicas claiming at once each take different rows instead of waiting.
    const CLAIM_DUE: &'static str = "UPDATE incidents SET lease_owner = $2, lease_until_us = $3 \
         WHERE number IN (SELECT number FROM incidents \
            WHERE next_due_at_us <= $1 AND (lease_until_us IS NULL OR lease_until_us < $1) \
            ORDER BY next_due_at_us LIMIT $4 FOR UPDATE SKIP LOCKED) \
         RETURNING number";

    // SKIP LOCKED: replicas delivering at once each take different messages.
    const CLAIM_OUTBOX: &'static str = "UPDATE outbox SET lease_owner = $2, lease_until_us = $3 \
        WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND due_at_us <= $1 \
           AND (lease_until_us IS NULL OR lease_until_us < $1) ORDER BY due_at_us, id LIMIT $4 \
           FOR UPDATE SKIP LOCKED) \
        RETURNING id, key, incident, person, channel, address, secret, message, \
           unless_acknowledged, due_at_us, attempts";

    /// A group commit of accepted alerts: one statement, or several in one transaction.
    async fn insert_inbox(
        &self,
        items: &[(String, jiff::Timestamp, crate::AlertBatch)],
    ) -> Result<()> {
        if items.len() <= crate::sql::INBOX_ROWS {
            return Self::insert_rows(&self.pool, items).await;
        }
        let mut tx = self.pool.begin().await?;
        for chunk in items.chunks(crate::sql::INBOX_ROWS) {
            Self::insert_rows(&mut *tx, chunk).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    // SKIP LOCKED: replicas claiming at once each take different rows instead of waiting.
    async fn claim_inbox_items(
        &self,
        now: jiff::Timestamp,
        owner: &str,
        lease_until: jiff::Timestamp,
        limit: u32,
    ) -> Result<Vec<crate::InboxItem>> {
        let rows: Vec<crate::rows::InboxRow> = sqlx::query_as(
            "UPDATE alert_inbox SET lease_owner = $2, lease_until_us = $3 \
             WHERE id IN (SELECT id FROM alert_inbox \
                WHERE dead_at_us IS NULL AND (lease_until_us IS NULL OR lease_until_us < $1) \
                ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED) \
             RETURNING id, integration, received_at_us, alerts, attempts",
        )
        .bind(crate::rows::micros(now))
        .bind(owner)
        .bind(crate::rows::micros(lease_until))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(crate::rows::InboxRow::into_item)
            .collect()
    }

    async fn release_inbox_items(&self, owner: &str, ids: &[i64]) -> Result<()> {
        sqlx::query(
            "UPDATE alert_inbox SET lease_owner = NULL, lease_until_us = NULL \
             WHERE id = ANY($1) AND lease_owner = $2",
        )
        .bind(ids)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn release_owned_inbox(&self, owner: &str) -> Result<u64> {
        Ok(sqlx::query(crate::sql::RELEASE_OWNED_INBOX_SQL)
            .bind(owner)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    async fn fail_inbox_item(
        &self,
        id: i64,
        error: &str,
        now: jiff::Timestamp,
        retry_at: Option<jiff::Timestamp>,
    ) -> Result<()> {
        sqlx::query(crate::sql::FAIL_INBOX_SQL)
            .bind(id)
            .bind(error)
            .bind(retry_at.map(crate::rows::micros))
            .bind(retry_at.is_none().then(|| crate::rows::micros(now)))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn dead_inbox_items(&self, limit: u32) -> Result<Vec<crate::rows::DeadLetterRow>> {
        Ok(sqlx::query_as(crate::sql::DEAD_LETTERS_SQL)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?)
    }

    async fn count_dead_inbox(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(crate::sql::DEAD_COUNT_SQL)
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn inbox_backlog(&self) -> Result<(i64, Option<i64>)> {
        Ok(sqlx::query_as(crate::sql::BACKLOG_SQL)
            .fetch_one(&self.pool)
            .await?)
    }

    async fn on_dead_item(&self, sql: &str, id: i64) -> Result<bool> {
        Ok(sqlx::query(sql)
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected()
            > 0)
    }

    async fn mark_processed_tx(
        &self,
        tx: &mut sqlx::Transaction<'static, Postgres>,
        ids: &[i64],
    ) -> Result<()> {
        if !ids.is_empty() {
            sqlx::query("DELETE FROM alert_inbox WHERE id = ANY($1)")
                .bind(ids)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Nothing left to do: the items went with the transaction.
    async fn after_processed(&self, _ids: &[i64]) {}

    /// The inbox has no connection of its own.
    async fn close_inbox(&self) {}
}

impl_sql_store!(PostgresStore, Postgres);
