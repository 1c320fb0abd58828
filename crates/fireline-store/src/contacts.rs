//! How people are reached: contacts proven by a test page, and Web Push devices.
//!
//! [`Contacts`] is what the rest of fireline calls; `sql_contacts!` is its one SQL
//! implementation, instantiated for both backends by `crate::sql::impl_sql_store!`.

use crate::{PushDevice, Result};
use async_trait::async_trait;

/// How people are reached: contacts proven by a test page, and Web Push devices. Part of [`Store`](crate::Store).
#[async_trait]
pub trait Contacts: Send + Sync {
    /// Records that a test page to a contact was confirmed (the latest confirmation
    /// wins).
    async fn verify_contact(
        &self,
        verified: &fireline_core::oncall::verify::VerifiedContact,
    ) -> Result<()>;

    /// Every contact ever confirmed, by person, kind and address digest. Contacts since
    /// changed or removed are among them; [`fireline_core::oncall::verify::is_verified`]
    /// matches them against the roster in force.
    async fn verified_contacts(
        &self,
    ) -> Result<Vec<fireline_core::oncall::verify::VerifiedContact>>;

    /// Subscribes a device, or renews it: a device subscribing again (same endpoint,
    /// same id) takes the new owner, keys and label and is in use again.
    async fn add_push_device(&self, device: &PushDevice) -> Result<()>;

    /// Devices, of one person or of everyone, newest first; removed ones too (with
    /// [`PushDevice::removed`] set), so their owner can see why.
    async fn push_devices(&self, person: Option<&str>) -> Result<Vec<PushDevice>>;

    /// Stops using a device, recording when and why; `false` if it was not in use.
    async fn remove_push_device(&self, id: &str, at: jiff::Timestamp, reason: &str)
        -> Result<bool>;
}

/// Implements [`Contacts`] for `$store`, a backend whose `pool` is a `sqlx::Pool<$db>`.
macro_rules! sql_contacts {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::Contacts for $store {
            async fn verify_contact(
                &self,
                verified: &fireline_core::oncall::verify::VerifiedContact,
            ) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO contact_checks (person, kind, address_digest, verified_at_us) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (person, kind, address_digest) \
                     DO UPDATE SET verified_at_us = excluded.verified_at_us",
                )
                .bind(&verified.person)
                .bind(verified.kind.as_str())
                .bind(&verified.address_digest)
                .bind($crate::rows::micros(verified.verified_at))
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn verified_contacts(
                &self,
            ) -> $crate::Result<Vec<fireline_core::oncall::verify::VerifiedContact>> {
                let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
                    "SELECT person, kind, address_digest, verified_at_us FROM contact_checks \
                     ORDER BY person, kind, address_digest",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|(person, kind, address_digest, at)| {
                        Ok(fireline_core::oncall::verify::VerifiedContact {
                            person,
                            kind: kind.parse().map_err(|e: String| $crate::StoreError::Corrupt(e))?,
                            address_digest,
                            verified_at: $crate::rows::timestamp(at)?,
                        })
                    })
                    .collect()
            }

            async fn add_push_device(&self, device: &$crate::PushDevice) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO push_devices (id, person, subscription, label, created_at_us) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET \
                     person = excluded.person, subscription = excluded.subscription, \
                     label = excluded.label, created_at_us = excluded.created_at_us, \
                     removed_at_us = NULL, removed_reason = NULL",
                )
                .bind(&device.id)
                .bind(&device.person)
                .bind(&device.subscription)
                .bind(&device.label)
                .bind($crate::rows::micros(device.created_at))
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn push_devices(
                &self,
                person: Option<&str>,
            ) -> $crate::Result<Vec<$crate::PushDevice>> {
                use $crate::rows::timestamp;
                type Row = (String, String, String, String, i64, Option<i64>, Option<String>);
                let rows: Vec<Row> = sqlx::query_as(
                    "SELECT id, person, subscription, label, created_at_us, removed_at_us, \
                     removed_reason FROM push_devices WHERE (CAST($1 AS TEXT) IS NULL OR person = $1) \
                     ORDER BY created_at_us DESC, id",
                )
                .bind(person)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|(id, person, subscription, label, created, removed_at, reason)| {
                        Ok($crate::PushDevice {
                            id,
                            person,
                            subscription,
                            label,
                            created_at: timestamp(created)?,
                            removed: match removed_at {
                                Some(at) => Some((timestamp(at)?, reason.unwrap_or_default())),
                                None => None,
                            },
                        })
                    })
                    .collect()
            }

            async fn remove_push_device(
                &self,
                id: &str,
                at: jiff::Timestamp,
                reason: &str,
            ) -> $crate::Result<bool> {
                let done = sqlx::query(
                    "UPDATE push_devices SET removed_at_us = $2, removed_reason = $3 \
                     WHERE id = $1 AND removed_at_us IS NULL",
                )
                .bind(id)
                .bind($crate::rows::micros(at))
                .bind(reason)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() > 0)
            }
        }
    };
}

pub(crate) use sql_contacts;
