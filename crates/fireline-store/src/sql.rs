//! The one SQL implementation of [`crate::Store`], instantiated per backend.
//!
//! Both backends take the same SQL: `$N` placeholders (SQLite accepts them too), 64-bit
//! integers for ids and times, and text for event data. Writing the logic once keeps
//! the two from drifting. Each noun module (`incidents.rs`, `outbox.rs`, …) holds its
//! trait and a macro with its SQL; [`impl_sql_store!`] instantiates them all for one
//! backend. What differs between backends is the [`Dialect`](crate::backend::Dialect)
//! each implements.

pub(crate) const SUMMARY_COLUMNS: &str = "number, title, service, severity, status, \
     declared_at_us, declared_by, acknowledged_at_us, resolved_at_us, updated_at_us, version";

/// Implements [`crate::Store`] and every noun trait for `$store`, a backend with a
/// `pool: sqlx::Pool<$db>` field that implements [`Dialect`](crate::backend::Dialect).
macro_rules! impl_sql_store {
    ($store:ty, $db:ty) => {
        $crate::incidents::sql_incidents!($store, $db);
        $crate::users::sql_users!($store, $db);
        $crate::tokens::sql_tokens!($store, $db);
        $crate::integrations::sql_integrations!($store, $db);
        $crate::inbox::sql_inbox!($store, $db);
        $crate::alerts::sql_alerts!($store, $db);
        $crate::heartbeats::sql_heartbeats!($store, $db);
        $crate::outbox::sql_outbox!($store, $db);
        $crate::roster::sql_roster!($store, $db);
        $crate::contacts::sql_contacts!($store, $db);
        $crate::settings::sql_settings!($store, $db);
        $crate::reports::sql_reports!($store, $db);
        $crate::postmortems::sql_postmortems!($store, $db);
        $crate::status_page::sql_status_page!($store, $db);
        $crate::subscribers::sql_subscribers!($store, $db);

        #[async_trait::async_trait]
        impl $crate::Store for $store {
            fn backend(&self) -> &'static str {
                <Self as $crate::backend::Dialect>::NAME
            }

            async fn ping(&self) -> $crate::Result<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn release_leases(&self, owner: &str) -> $crate::Result<u64> {
                let mut released = self.release_owned_inbox(owner).await?;
                let mut tx = self.pool.begin().await?;
                released += sqlx::query(
                    "UPDATE incidents SET lease_owner = NULL, lease_until_us = NULL WHERE lease_owner = $1",
                )
                .bind(owner)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                released += sqlx::query(
                    "UPDATE outbox SET lease_owner = NULL, lease_until_us = NULL WHERE lease_owner = $1",
                )
                .bind(owner)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                tx.commit().await?;
                Ok(released)
            }

            async fn close(&self) {
                self.pool.close().await;
                self.close_inbox().await;
            }
        }
    };
}

pub(crate) use impl_sql_store;

/// Most ids in one `IN (…)` list: well under SQLite's limit on parameters.
pub(crate) const IDS: usize = 500;

/// `$first, $first+1, …`: `count` placeholders for an `IN (…)` list.
pub(crate) fn id_list(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rows one inbox `INSERT` takes: multi-row statements are one round trip to the
/// database for a whole group commit; a larger commit is several in one transaction.
pub(crate) const INBOX_ROWS: usize = 256;

/// `INSERT INTO alert_inbox … VALUES` for `rows` rows of (integration, received at,
/// alerts) parameters.
pub(crate) fn inbox_insert_sql(rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|i| format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3))
        .collect();
    format!(
        "INSERT INTO alert_inbox (integration, received_at_us, alerts) VALUES {}",
        values.join(", ")
    )
}

/// Records a failed attempt of one inbox item: `$1` id, `$2` error, `$3` when it may be
/// claimed again (NULL when parked), `$4` when it was parked (NULL when not).
pub(crate) const FAIL_INBOX_SQL: &str = "UPDATE alert_inbox SET attempts = attempts + 1, \
     last_error = $2, lease_owner = NULL, lease_until_us = $3, dead_at_us = $4 WHERE id = $1";

/// Parked items, newest first: `$1` limit.
pub(crate) const DEAD_LETTERS_SQL: &str = "SELECT id, integration, received_at_us, alerts, \
     attempts, last_error, dead_at_us FROM alert_inbox WHERE dead_at_us IS NOT NULL \
     ORDER BY dead_at_us DESC, id DESC LIMIT $1";

/// How many items wait to be processed (not parked), and since when the oldest has.
pub(crate) const BACKLOG_SQL: &str =
    "SELECT COUNT(*), MIN(received_at_us) FROM alert_inbox WHERE dead_at_us IS NULL";

/// How many items are parked.
pub(crate) const DEAD_COUNT_SQL: &str =
    "SELECT COUNT(*) FROM alert_inbox WHERE dead_at_us IS NOT NULL";

/// Puts parked item `$1` back in the inbox.
pub(crate) const REDRIVE_SQL: &str = "UPDATE alert_inbox SET dead_at_us = NULL, attempts = 0, \
     lease_owner = NULL, lease_until_us = NULL WHERE id = $1 AND dead_at_us IS NOT NULL";

/// Deletes parked item `$1`.
pub(crate) const DISCARD_SQL: &str =
    "DELETE FROM alert_inbox WHERE id = $1 AND dead_at_us IS NOT NULL";

/// Gives back every inbox lease of owner `$1`.
pub(crate) const RELEASE_OWNED_INBOX_SQL: &str =
    "UPDATE alert_inbox SET lease_owner = NULL, lease_until_us = NULL WHERE lease_owner = $1";

/// Longest failure text kept with an inbox item.
pub(crate) const MAX_ERROR: usize = 1000;

/// `error`, cut to [`MAX_ERROR`] characters.
pub(crate) fn error_text(error: &str) -> String {
    error.chars().take(MAX_ERROR).collect()
}
