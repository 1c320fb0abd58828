//! The public status page's manual overrides.
//!
//! [`StatusPage`] is what the rest of fireline calls; `sql_status_page!` is its one SQL
//! implementation, instantiated for both backends by `crate::sql::impl_sql_store!`.

use crate::{Result, StatusOverride};
use async_trait::async_trait;

/// The public status page's manual overrides. Part of [`Store`](crate::Store).
#[async_trait]
pub trait StatusPage: Send + Sync {
    /// Sets (or replaces) a component's status override.
    async fn put_status_override(&self, value: &StatusOverride) -> Result<()>;

    /// Removes a component's override; false if it had none.
    async fn delete_status_override(&self, service: &str) -> Result<bool>;

    /// Every override, by service.
    async fn status_overrides(&self) -> Result<Vec<StatusOverride>>;
}

/// Implements [`StatusPage`] for `$store`, a backend whose `pool` is a `sqlx::Pool<$db>`.
macro_rules! sql_status_page {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::StatusPage for $store {
            async fn put_status_override(&self, value: &$crate::StatusOverride) -> $crate::Result<()> {
                use $crate::rows::micros;
                sqlx::query(
                    "INSERT INTO status_overrides (service, status, until_us, note, set_by, set_at_us) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (service) DO UPDATE SET \
                     status = excluded.status, until_us = excluded.until_us, note = excluded.note, \
                     set_by = excluded.set_by, set_at_us = excluded.set_at_us",
                )
                .bind(&value.service)
                .bind(&value.status)
                .bind(value.until.map(micros))
                .bind(&value.note)
                .bind(&value.set_by)
                .bind(micros(value.set_at))
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn delete_status_override(&self, service: &str) -> $crate::Result<bool> {
                let n = sqlx::query("DELETE FROM status_overrides WHERE service = $1")
                    .bind(service)
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
                Ok(n > 0)
            }

            async fn status_overrides(&self) -> $crate::Result<Vec<$crate::StatusOverride>> {
                use $crate::rows::timestamp;
                let rows: Vec<(String, String, Option<i64>, Option<String>, String, i64)> = sqlx::query_as(
                    "SELECT service, status, until_us, note, set_by, set_at_us FROM status_overrides \
                     ORDER BY service",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|(service, status, until, note, set_by, set_at)| {
                        Ok($crate::StatusOverride {
                            service,
                            status,
                            until: until.map(timestamp).transpose()?,
                            note,
                            set_by,
                            set_at: timestamp(set_at)?,
                        })
                    })
                    .collect()
            }
        }
    };
}

pub(crate) use sql_status_page;
