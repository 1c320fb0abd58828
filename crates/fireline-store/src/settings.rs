//! Named settings the server keeps (its VAPID key, for one).
//!
//! [`Settings`] is what the rest of fireline calls; `sql_settings!` is its one SQL
//! implementation, instantiated for both backends by `crate::sql::impl_sql_store!`.

use crate::Result;
use async_trait::async_trait;

/// Named settings the server keeps (its VAPID key, for one). Part of [`Store`](crate::Store).
#[async_trait]
pub trait Settings: Send + Sync {
    /// A server-wide setting, set to `value` if it has none yet; returns the one in force
    /// (so replicas racing to initialise agree on the first).
    async fn setting_or_init(&self, name: &str, value: &str) -> Result<String>;

    /// Sets a server-wide setting to `value`, replacing any it had (rotating a key).
    async fn replace_setting(&self, name: &str, value: &str) -> Result<()>;
}

/// Implements [`Settings`] for `$store`, a backend whose `pool` is a `sqlx::Pool<$db>`.
macro_rules! sql_settings {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::Settings for $store {
            async fn setting_or_init(&self, name: &str, value: &str) -> $crate::Result<String> {
                sqlx::query("INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
                    .bind(name)
                    .bind(value)
                    .execute(&self.pool)
                    .await?;
                let v: String = sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
                    .bind(name)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(v)
            }

            async fn replace_setting(&self, name: &str, value: &str) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO settings (name, value) VALUES ($1, $2) \
                     ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                )
                .bind(name)
                .bind(value)
                .execute(&self.pool)
                .await?;
                Ok(())
            }
        }
    };
}

pub(crate) use sql_settings;
