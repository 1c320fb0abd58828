//! The on-call roster: people, schedules and overrides, whole or entry by entry.
//!
//! [`Rosters`] is what the rest of fireline calls; `sql_roster!` is its one SQL
//! implementation, instantiated for both backends by `crate::sql::impl_sql_store!`.

use crate::{Result, RosterKind};
use async_trait::async_trait;
use fireline_core::oncall::Roster;
use jiff::Timestamp;

/// The on-call roster: people, schedules and overrides, whole or entry by entry. Part of [`Store`](crate::Store).
#[async_trait]
pub trait Rosters: Send + Sync {
    /// The on-call roster (people, teams, schedules).
    async fn roster(&self) -> Result<Roster>;

    /// Replaces the whole roster in one transaction (an import from the file a team keeps
    /// in git: the file is the truth).
    async fn replace_roster(&self, roster: &Roster, at: Timestamp) -> Result<()>;

    /// Creates or replaces one roster entry (JSON of a person, team or schedule).
    async fn put_roster_entry(
        &self,
        kind: RosterKind,
        id: &str,
        doc: &str,
        at: Timestamp,
    ) -> Result<()>;

    /// Removes one roster entry; false if there was none.
    async fn delete_roster_entry(&self, kind: RosterKind, id: &str) -> Result<bool>;
}

/// Implements [`Rosters`] for `$store`, a backend whose `pool` is a `sqlx::Pool<$db>`.
macro_rules! sql_roster {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::Rosters for $store {
            async fn roster(&self) -> $crate::Result<fireline_core::oncall::Roster> {
                let rows: Vec<(String, String, String)> =
                    sqlx::query_as("SELECT kind, id, doc FROM roster ORDER BY kind, id")
                        .fetch_all(&self.pool)
                        .await?;
                $crate::rows::roster(rows)
            }

            async fn replace_roster(
                &self,
                roster: &fireline_core::oncall::Roster,
                at: jiff::Timestamp,
            ) -> $crate::Result<()> {
                let entries = $crate::rows::roster_entries(roster)?;
                let mut tx = self.pool.begin().await?;
                sqlx::query("DELETE FROM roster").execute(&mut *tx).await?;
                for (kind, id, doc) in entries {
                    sqlx::query(
                        "INSERT INTO roster (kind, id, doc, updated_at_us) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(kind.as_str())
                    .bind(id)
                    .bind(doc)
                    .bind($crate::rows::micros(at))
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn put_roster_entry(
                &self,
                kind: $crate::RosterKind,
                id: &str,
                doc: &str,
                at: jiff::Timestamp,
            ) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO roster (kind, id, doc, updated_at_us) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (kind, id) DO UPDATE SET doc = excluded.doc, \
                     updated_at_us = excluded.updated_at_us",
                )
                .bind(kind.as_str())
                .bind(id)
                .bind(doc)
                .bind($crate::rows::micros(at))
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn delete_roster_entry(
                &self,
                kind: $crate::RosterKind,
                id: &str,
            ) -> $crate::Result<bool> {
                let n = sqlx::query("DELETE FROM roster WHERE kind = $1 AND id = $2")
                    .bind(kind.as_str())
                    .bind(id)
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
                Ok(n > 0)
            }
        }
    };
}

pub(crate) use sql_roster;
