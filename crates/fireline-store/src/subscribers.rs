//! The status page's subscribers: who is told when a public update is posted.
//!
//! [`Subscribers`] is what the rest of fireline calls; `sql_subscribers!` is its one SQL
//! implementation, instantiated for both backends by `crate::sql::impl_sql_store!`.
//!
//! A subscriber's confirm and unsubscribe links are made by the caller (the engine's
//! `subscribers` module: HMACs of the id under a server key); the store keeps only their
//! SHA-256, to find the subscriber a link names, never the links themselves.

use crate::{Result, StoreError};
use async_trait::async_trait;
use jiff::Timestamp;

/// How a subscriber is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SubscriberKind {
    /// By e-mail to `address`.
    Email,
    /// By fireline's signed webhook JSON, posted to the URL in `address`.
    Webhook,
}

impl SubscriberKind {
    /// `email` or `webhook`, as stored and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriberKind::Email => "email",
            SubscriberKind::Webhook => "webhook",
        }
    }

    /// The kind `text` names, if any.
    pub fn parse(text: &str) -> Option<SubscriberKind> {
        match text {
            "email" => Some(SubscriberKind::Email),
            "webhook" => Some(SubscriberKind::Webhook),
            _ => None,
        }
    }
}

/// Which of a subscriber's links a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriberLink {
    /// The link in the confirmation e-mail.
    Confirm,
    /// The link in every message, and the `List-Unsubscribe` header.
    Unsubscribe,
}

/// A subscription as requested, before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSubscriber {
    /// Random, unique; the links are derived from it.
    pub id: String,
    /// E-mail or webhook.
    pub kind: SubscriberKind,
    /// The e-mail address or the webhook URL (normalised by the caller).
    pub address: String,
    /// For a webhook: the e-mail address its confirmation goes to.
    pub contact: Option<String>,
    /// The services it wants to hear about; empty for all.
    pub components: Vec<String>,
    /// SHA-256 (hex) of the confirm link's token.
    pub confirm_hash: String,
    /// SHA-256 (hex) of the unsubscribe link's token.
    pub unsubscribe_hash: String,
    /// When it was requested.
    pub created_at: Timestamp,
}

/// A subscriber as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscriber {
    /// Its id.
    pub id: String,
    /// E-mail or webhook.
    pub kind: SubscriberKind,
    /// The e-mail address or the webhook URL.
    pub address: String,
    /// For a webhook: the e-mail address its confirmation went to.
    pub contact: Option<String>,
    /// The services it hears about; empty for all.
    pub components: Vec<String>,
    /// When it was (last) requested.
    pub created_at: Timestamp,
    /// When its confirm link was used; nothing is sent to it before.
    pub confirmed_at: Option<Timestamp>,
    /// When the last confirmation e-mail was queued (limits them per address).
    pub confirmation_sent_at: Option<Timestamp>,
    /// The last delivery failure, if any.
    pub last_failure: Option<String>,
    /// When it happened.
    pub last_failure_at: Option<Timestamp>,
    /// When it was disabled by a permanent failure (`last_failure` says which).
    pub disabled_at: Option<Timestamp>,
}

impl Subscriber {
    /// Confirmed and not disabled: what updates are sent to.
    pub fn is_active(&self) -> bool {
        self.confirmed_at.is_some() && self.disabled_at.is_none()
    }

    /// Whether it hears about `service`.
    pub fn wants(&self, service: &str) -> bool {
        self.components.is_empty() || self.components.iter().any(|c| c == service)
    }
}

/// The status page's subscribers. Part of [`Store`](crate::Store).
#[async_trait]
pub trait Subscribers: Send + Sync {
    /// Stores `new`, unconfirmed; or, when its kind and address are stored already,
    /// keeps that one (one row per address). A kept subscriber that is unconfirmed or
    /// disabled takes `new`'s components and contact and must confirm again; a
    /// confirmed one is left as it is, so nobody can change another's subscription by
    /// subscribing their address. Returns the subscriber as stored.
    async fn add_subscriber(&self, new: &NewSubscriber) -> Result<Subscriber>;

    /// The subscriber with this id.
    async fn subscriber(&self, id: &str) -> Result<Option<Subscriber>>;

    /// The subscriber whose `link` token hashes to `hash`.
    async fn subscriber_by_link(
        &self,
        link: SubscriberLink,
        hash: &str,
    ) -> Result<Option<Subscriber>>;

    /// Notes that a confirmation e-mail is being queued for `id` at `at`, unless one
    /// was after `since`: true when the caller may send it. One statement, so two
    /// replicas cannot both send.
    async fn claim_confirmation(&self, id: &str, at: Timestamp, since: Timestamp) -> Result<bool>;

    /// Confirms `id` at `at` (a confirmed one keeps its first time); false if there is
    /// no such subscriber.
    async fn confirm_subscriber(&self, id: &str, at: Timestamp) -> Result<bool>;

    /// Every subscriber, oldest first; with `active_only`, the confirmed ones that are
    /// not disabled.
    async fn subscribers(&self, active_only: bool) -> Result<Vec<Subscriber>>;

    /// Removes `id` (unsubscribed, or removed by an admin); false if it was not there.
    async fn remove_subscriber(&self, id: &str) -> Result<bool>;

    /// Records a delivery failure of `id` at `at`; `disable` (a permanent failure: a
    /// refused address, a gone URL) stops all further messages to it.
    async fn subscriber_failed(
        &self,
        id: &str,
        at: Timestamp,
        reason: &str,
        disable: bool,
    ) -> Result<()>;

    /// Removes subscriptions never confirmed and requested before `before`; returns how
    /// many.
    async fn purge_unconfirmed_subscribers(&self, before: Timestamp) -> Result<u64>;
}

/// The columns every read selects, in [`SubscriberRow`]'s order.
pub(crate) const SUBSCRIBER_COLUMNS: &str = "id, kind, address, contact, components, \
     created_at_us, confirmed_at_us, confirmation_sent_at_us, last_failure, \
     last_failure_at_us, disabled_at_us";

/// One row of `status_subscribers`, as read.
pub(crate) type SubscriberRow = (
    String,
    String,
    String,
    Option<String>,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<i64>,
);

/// A stored row as a [`Subscriber`].
pub(crate) fn subscriber_of(row: SubscriberRow) -> Result<Subscriber> {
    use crate::rows::timestamp;
    let (
        id,
        kind,
        address,
        contact,
        components,
        created,
        confirmed,
        sent,
        failure,
        failed,
        disabled,
    ) = row;
    let kind = SubscriberKind::parse(&kind)
        .ok_or_else(|| StoreError::Corrupt(format!("subscriber {id}: unknown kind {kind:?}")))?;
    let components: Vec<String> = serde_json::from_str(&components)
        .map_err(|e| StoreError::Corrupt(format!("subscriber {id}: components: {e}")))?;
    Ok(Subscriber {
        kind,
        address,
        contact,
        components,
        created_at: timestamp(created)?,
        confirmed_at: confirmed.map(timestamp).transpose()?,
        confirmation_sent_at: sent.map(timestamp).transpose()?,
        last_failure: failure,
        last_failure_at: failed.map(timestamp).transpose()?,
        disabled_at: disabled.map(timestamp).transpose()?,
        id,
    })
}

/// Implements [`Subscribers`] for `$store`, a backend whose `pool` is a `sqlx::Pool<$db>`.
macro_rules! sql_subscribers {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::Subscribers for $store {
            async fn add_subscriber(
                &self,
                new: &$crate::NewSubscriber,
            ) -> $crate::Result<$crate::Subscriber> {
                use $crate::rows::micros;
                use $crate::subscribers::{subscriber_of, SubscriberRow, SUBSCRIBER_COLUMNS};
                let components = serde_json::to_string(&new.components)
                    .map_err(|e| $crate::StoreError::Corrupt(format!("components: {e}")))?;
                let mut tx = self.pool.begin().await?;
                // A racing insert of the same address loses quietly; the update below
                // then treats the winner's row as the one kept.
                sqlx::query(
                    "INSERT INTO status_subscribers (id, kind, address, contact, components, \
                     confirm_hash, unsubscribe_hash, created_at_us) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
                )
                .bind(&new.id)
                .bind(new.kind.as_str())
                .bind(&new.address)
                .bind(&new.contact)
                .bind(&components)
                .bind(&new.confirm_hash)
                .bind(&new.unsubscribe_hash)
                .bind(micros(new.created_at))
                .execute(&mut *tx)
                .await?;
                // An unconfirmed or disabled subscription is requested afresh; a
                // confirmed one is not changed by whoever types its address.
                sqlx::query(
                    "UPDATE status_subscribers SET components = $3, contact = $4, \
                     created_at_us = $5, confirmed_at_us = NULL, disabled_at_us = NULL \
                     WHERE kind = $1 AND address = $2 AND id <> $6 \
                     AND (confirmed_at_us IS NULL OR disabled_at_us IS NOT NULL)",
                )
                .bind(new.kind.as_str())
                .bind(&new.address)
                .bind(&components)
                .bind(&new.contact)
                .bind(micros(new.created_at))
                .bind(&new.id)
                .execute(&mut *tx)
                .await?;
                let row: SubscriberRow = sqlx::query_as(&format!(
                    "SELECT {SUBSCRIBER_COLUMNS} FROM status_subscribers WHERE kind = $1 AND address = $2"
                ))
                .bind(new.kind.as_str())
                .bind(&new.address)
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                subscriber_of(row)
            }

            async fn subscriber(&self, id: &str) -> $crate::Result<Option<$crate::Subscriber>> {
                use $crate::subscribers::{subscriber_of, SubscriberRow, SUBSCRIBER_COLUMNS};
                let row: Option<SubscriberRow> = sqlx::query_as(&format!(
                    "SELECT {SUBSCRIBER_COLUMNS} FROM status_subscribers WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                row.map(subscriber_of).transpose()
            }

            async fn subscriber_by_link(
                &self,
                link: $crate::SubscriberLink,
                hash: &str,
            ) -> $crate::Result<Option<$crate::Subscriber>> {
                use $crate::subscribers::{subscriber_of, SubscriberRow, SUBSCRIBER_COLUMNS};
                let column = match link {
                    $crate::SubscriberLink::Confirm => "confirm_hash",
                    $crate::SubscriberLink::Unsubscribe => "unsubscribe_hash",
                };
                let row: Option<SubscriberRow> = sqlx::query_as(&format!(
                    "SELECT {SUBSCRIBER_COLUMNS} FROM status_subscribers WHERE {column} = $1"
                ))
                .bind(hash)
                .fetch_optional(&self.pool)
                .await?;
                row.map(subscriber_of).transpose()
            }

            async fn claim_confirmation(
                &self,
                id: &str,
                at: jiff::Timestamp,
                since: jiff::Timestamp,
            ) -> $crate::Result<bool> {
                use $crate::rows::micros;
                let n = sqlx::query(
                    "UPDATE status_subscribers SET confirmation_sent_at_us = $2 WHERE id = $1 \
                     AND (confirmation_sent_at_us IS NULL OR confirmation_sent_at_us <= $3)",
                )
                .bind(id)
                .bind(micros(at))
                .bind(micros(since))
                .execute(&self.pool)
                .await?
                .rows_affected();
                Ok(n > 0)
            }

            async fn confirm_subscriber(&self, id: &str, at: jiff::Timestamp) -> $crate::Result<bool> {
                let n = sqlx::query(
                    "UPDATE status_subscribers SET confirmed_at_us = COALESCE(confirmed_at_us, $2) \
                     WHERE id = $1",
                )
                .bind(id)
                .bind($crate::rows::micros(at))
                .execute(&self.pool)
                .await?
                .rows_affected();
                Ok(n > 0)
            }

            async fn subscribers(&self, active_only: bool) -> $crate::Result<Vec<$crate::Subscriber>> {
                use $crate::subscribers::{subscriber_of, SubscriberRow, SUBSCRIBER_COLUMNS};
                let filter = if active_only {
                    "WHERE confirmed_at_us IS NOT NULL AND disabled_at_us IS NULL"
                } else {
                    ""
                };
                let rows: Vec<SubscriberRow> = sqlx::query_as(&format!(
                    "SELECT {SUBSCRIBER_COLUMNS} FROM status_subscribers {filter} \
                     ORDER BY created_at_us, id"
                ))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(subscriber_of).collect()
            }

            async fn remove_subscriber(&self, id: &str) -> $crate::Result<bool> {
                let n = sqlx::query("DELETE FROM status_subscribers WHERE id = $1")
                    .bind(id)
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
                Ok(n > 0)
            }

            async fn subscriber_failed(
                &self,
                id: &str,
                at: jiff::Timestamp,
                reason: &str,
                disable: bool,
            ) -> $crate::Result<()> {
                use $crate::rows::micros;
                sqlx::query(
                    "UPDATE status_subscribers SET last_failure = $2, last_failure_at_us = $3, \
                     disabled_at_us = CASE WHEN $4 THEN COALESCE(disabled_at_us, $3) \
                     ELSE disabled_at_us END WHERE id = $1",
                )
                .bind(id)
                .bind($crate::sql::error_text(reason))
                .bind(micros(at))
                .bind(disable)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn purge_unconfirmed_subscribers(&self, before: jiff::Timestamp) -> $crate::Result<u64> {
                Ok(sqlx::query(
                    "DELETE FROM status_subscribers WHERE confirmed_at_us IS NULL AND created_at_us < $1",
                )
                .bind($crate::rows::micros(before))
                .execute(&self.pool)
                .await?
                .rows_affected())
            }
        }
    };
}

pub(crate) use sql_subscribers;
