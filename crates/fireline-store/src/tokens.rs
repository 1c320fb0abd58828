//! API tokens, found by the hash of their secret.
//!
//! [`Tokens`] is what the rest of fireline calls; `sql_tokens!` is its one SQL
//! implementation, instantiated for both backends by `crate::sql::impl_sql_store!`.

use crate::{Result, TokenRecord};
use async_trait::async_trait;
use jiff::Timestamp;

/// API tokens, found by the hash of their secret. Part of [`Store`](crate::Store).
#[async_trait]
pub trait Tokens: Send + Sync {
    /// Stores a new API token by its hash; the token itself is never stored.
    async fn insert_token(&self, token: &TokenRecord, hash: &str) -> Result<()>;

    /// The token with this hash, revoked or not.
    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>>;

    /// The token with this id, revoked or not.
    async fn token(&self, id: &str) -> Result<Option<TokenRecord>>;

    /// Every token, oldest first.
    async fn list_tokens(&self) -> Result<Vec<TokenRecord>>;

    /// Marks a token revoked at `at` (once: revoking again keeps the first time) and
    /// returns it; [`StoreError::NotFound`](crate::StoreError::NotFound) for an unknown id.
    async fn revoke_token(&self, id: &str, at: Timestamp) -> Result<TokenRecord>;
}

/// Implements [`Tokens`] for `$store`, a backend whose `pool` is a `sqlx::Pool<$db>`.
macro_rules! sql_tokens {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::Tokens for $store {
            async fn insert_token(
                &self,
                token: &$crate::TokenRecord,
                hash: &str,
            ) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO api_tokens (id, name, role, hash, created_at_us, revoked_at_us) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&token.id)
                .bind(&token.name)
                .bind(token.role.as_str())
                .bind(hash)
                .bind($crate::rows::micros(token.created_at))
                .bind(token.revoked_at.map($crate::rows::micros))
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn token_by_hash(
                &self,
                hash: &str,
            ) -> $crate::Result<Option<$crate::TokenRecord>> {
                let row: Option<$crate::rows::TokenRow> = sqlx::query_as(
                    "SELECT id, name, role, created_at_us, revoked_at_us FROM api_tokens \
                     WHERE hash = $1",
                )
                .bind(hash)
                .fetch_optional(&self.pool)
                .await?;
                row.map($crate::rows::TokenRow::into_record).transpose()
            }

            async fn token(&self, id: &str) -> $crate::Result<Option<$crate::TokenRecord>> {
                let row: Option<$crate::rows::TokenRow> = sqlx::query_as(
                    "SELECT id, name, role, created_at_us, revoked_at_us FROM api_tokens \
                     WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                row.map($crate::rows::TokenRow::into_record).transpose()
            }

            async fn list_tokens(&self) -> $crate::Result<Vec<$crate::TokenRecord>> {
                let rows: Vec<$crate::rows::TokenRow> = sqlx::query_as(
                    "SELECT id, name, role, created_at_us, revoked_at_us FROM api_tokens \
                     ORDER BY created_at_us, id",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map($crate::rows::TokenRow::into_record)
                    .collect()
            }

            async fn revoke_token(
                &self,
                id: &str,
                at: jiff::Timestamp,
            ) -> $crate::Result<$crate::TokenRecord> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "UPDATE api_tokens SET revoked_at_us = $1 \
                     WHERE id = $2 AND revoked_at_us IS NULL",
                )
                .bind($crate::rows::micros(at))
                .bind(id)
                .execute(&mut *tx)
                .await?;
                let row: Option<$crate::rows::TokenRow> = sqlx::query_as(
                    "SELECT id, name, role, created_at_us, revoked_at_us FROM api_tokens \
                     WHERE id = $1",
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

pub(crate) use sql_tokens;
