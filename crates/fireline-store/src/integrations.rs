//! Integrations: the keys alert senders use.
//!
//! [`Integrations`] is what the rest of fireline calls; `sql_integrations!` is its one SQL
//! implementation, instantiated for both backends by `crate::sql::impl_sql_store!`.

use crate::{IntegrationRecord, Result};
use async_trait::async_trait;
use jiff::Timestamp;

/// Integrations: the keys alert senders use. Part of [`Store`](crate::Store).
#[async_trait]
pub trait Integrations: Send + Sync {
    /// Stores a new integration by its key's hash.
    async fn insert_integration(
        &self,
        integration: &IntegrationRecord,
        key_hash: &str,
    ) -> Result<()>;

    /// The integration with this key hash, revoked or not.
    async fn integration_by_key_hash(&self, key_hash: &str) -> Result<Option<IntegrationRecord>>;

    /// An integration by id.
    async fn integration(&self, id: &str) -> Result<Option<IntegrationRecord>>;

    /// Every integration, oldest first.
    async fn list_integrations(&self) -> Result<Vec<IntegrationRecord>>;

    /// Revokes an integration (once) and returns it; `NotFound` for an unknown id.
    async fn revoke_integration(&self, id: &str, at: Timestamp) -> Result<IntegrationRecord>;
}

/// Implements [`Integrations`] for `$store`, a backend whose `pool` is a `sqlx::Pool<$db>`.
macro_rules! sql_integrations {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::Integrations for $store {
            async fn insert_integration(
                &self,
                integration: &$crate::IntegrationRecord,
                key_hash: &str,
            ) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO integrations (id, name, service, key_hash, created_at_us, revoked_at_us) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&integration.id)
                .bind(&integration.name)
                .bind(&integration.service)
                .bind(key_hash)
                .bind($crate::rows::micros(integration.created_at))
                .bind(integration.revoked_at.map($crate::rows::micros))
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn integration_by_key_hash(
                &self,
                key_hash: &str,
            ) -> $crate::Result<Option<$crate::IntegrationRecord>> {
                let row: Option<$crate::rows::IntegrationRow> = sqlx::query_as(
                    "SELECT id, name, service, created_at_us, revoked_at_us FROM integrations WHERE key_hash = $1",
                )
                .bind(key_hash)
                .fetch_optional(&self.pool)
                .await?;
                row.map($crate::rows::IntegrationRow::into_record).transpose()
            }

            async fn integration(&self, id: &str) -> $crate::Result<Option<$crate::IntegrationRecord>> {
                let row: Option<$crate::rows::IntegrationRow> = sqlx::query_as(
                    "SELECT id, name, service, created_at_us, revoked_at_us FROM integrations WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                row.map($crate::rows::IntegrationRow::into_record).transpose()
            }

            async fn list_integrations(&self) -> $crate::Result<Vec<$crate::IntegrationRecord>> {
                let rows: Vec<$crate::rows::IntegrationRow> = sqlx::query_as(
                    "SELECT id, name, service, created_at_us, revoked_at_us FROM integrations ORDER BY created_at_us, id",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map($crate::rows::IntegrationRow::into_record).collect()
            }

            async fn revoke_integration(
                &self,
                id: &str,
                at: jiff::Timestamp,
            ) -> $crate::Result<$crate::IntegrationRecord> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("UPDATE integrations SET revoked_at_us = $1 WHERE id = $2 AND revoked_at_us IS NULL")
                    .bind($crate::rows::micros(at))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let row: Option<$crate::rows::IntegrationRow> = sqlx::query_as(
                    "SELECT id, name, service, created_at_us, revoked_at_us FROM integrations WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                tx.commit().await?;
                row.ok_or($crate::StoreError::NotFound)?.into_record()
            }
        }
    };
}

pub(crate) use sql_integrations;
