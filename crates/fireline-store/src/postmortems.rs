//! Post-mortems with their history, and action items.
//!
//! [`Postmortems`] is what the rest of fireline calls; `sql_postmortems!` is its one SQL
//! implementation, instantiated for both backends by `crate::sql::impl_sql_store!`.

use crate::{ActionFilter, PostmortemRecord, PostmortemRevision, Result};
use async_trait::async_trait;
use fireline_core::IncidentId;
use jiff::Timestamp;

/// Post-mortems with their history, and action items. Part of [`Store`](crate::Store).
#[async_trait]
pub trait Postmortems: Send + Sync {
    /// Stores an incident's first post-mortem text as version 1 (and its first revision),
    /// in one transaction. [`StoreError::Conflict`](crate::StoreError::Conflict) if it has one already (with its
    /// version), [`StoreError::NotFound`](crate::StoreError::NotFound) if the incident does not exist.
    async fn create_postmortem(
        &self,
        incident: IncidentId,
        text: &str,
        template: &str,
        at: Timestamp,
        actor: &str,
    ) -> Result<PostmortemRecord>;

    /// An incident's post-mortem, if it has one.
    async fn postmortem(&self, incident: IncidentId) -> Result<Option<PostmortemRecord>>;

    /// Saves a new text over version `expected` and records the revision, in one
    /// transaction. [`StoreError::Conflict`](crate::StoreError::Conflict) when someone saved first (nothing is
    /// written), [`StoreError::NotFound`](crate::StoreError::NotFound) when there is no post-mortem.
    async fn update_postmortem(
        &self,
        incident: IncidentId,
        expected: u64,
        text: &str,
        at: Timestamp,
        actor: &str,
    ) -> Result<PostmortemRecord>;

    /// Every saved version of a post-mortem, oldest first.
    async fn postmortem_history(&self, incident: IncidentId) -> Result<Vec<PostmortemRevision>>;

    /// Stores a new action item (its `id` is ignored) and returns it with its id.
    /// [`StoreError::NotFound`](crate::StoreError::NotFound) if its incident does not exist.
    async fn insert_action_item(
        &self,
        item: &fireline_core::postmortem::ActionItem,
    ) -> Result<fireline_core::postmortem::ActionItem>;

    /// An action item by number.
    async fn action_item(&self, id: u64) -> Result<Option<fireline_core::postmortem::ActionItem>>;

    /// Replaces an action item's fields (all but its id, incident and creation), one
    /// statement; [`StoreError::NotFound`](crate::StoreError::NotFound) for an unknown id.
    async fn update_action_item(
        &self,
        item: &fireline_core::postmortem::ActionItem,
    ) -> Result<fireline_core::postmortem::ActionItem>;

    /// Action items matching `filter`, soonest due first.
    async fn list_action_items(
        &self,
        filter: &ActionFilter,
    ) -> Result<Vec<fireline_core::postmortem::ActionItem>>;
}

/// Implements [`Postmortems`] for `$store`, a backend whose `pool` is a `sqlx::Pool<$db>`.
macro_rules! sql_postmortems {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::Postmortems for $store {
            async fn create_postmortem(
                &self,
                incident: fireline_core::IncidentId,
                text: &str,
                template: &str,
                at: jiff::Timestamp,
                actor: &str,
            ) -> $crate::Result<$crate::PostmortemRecord> {
                use $crate::rows::{incident_number, micros};
                let number = incident_number(incident)?;
                let mut tx = self.pool.begin().await?;
                let exists: Option<i64> =
                    sqlx::query_scalar("SELECT number FROM incidents WHERE number = $1")
                        .bind(number)
                        .fetch_optional(&mut *tx)
                        .await?;
                if exists.is_none() {
                    return Err($crate::StoreError::NotFound);
                }
                let inserted = sqlx::query(
                    "INSERT INTO postmortems (incident, version, text, template, created_at_us, \
                     created_by, updated_at_us, updated_by) VALUES ($1, 1, $2, $3, $4, $5, $4, $5) \
                     ON CONFLICT (incident) DO NOTHING",
                )
                .bind(number)
                .bind(text)
                .bind(template)
                .bind(micros(at))
                .bind(actor)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if inserted == 0 {
                    let actual: i64 =
                        sqlx::query_scalar("SELECT version FROM postmortems WHERE incident = $1")
                            .bind(number)
                            .fetch_one(&mut *tx)
                            .await?;
                    return Err($crate::StoreError::Conflict { expected: 0, actual: actual as u64 });
                }
                sqlx::query(
                    "INSERT INTO postmortem_revisions (incident, version, text, summary, at_us, actor) \
                     VALUES ($1, 1, $2, 'drafted', $3, $4)",
                )
                .bind(number)
                .bind(text)
                .bind(micros(at))
                .bind(actor)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok($crate::PostmortemRecord {
                    incident,
                    version: 1,
                    text: text.to_owned(),
                    template: template.to_owned(),
                    created_at: at,
                    created_by: actor.to_owned(),
                    updated_at: at,
                    updated_by: actor.to_owned(),
                })
            }

            async fn postmortem(
                &self,
                incident: fireline_core::IncidentId,
            ) -> $crate::Result<Option<$crate::PostmortemRecord>> {
                let row: Option<$crate::rows::PostmortemRow> = sqlx::query_as(
                    "SELECT incident, version, text, template, created_at_us, created_by, \
                     updated_at_us, updated_by FROM postmortems WHERE incident = $1",
                )
                .bind($crate::rows::incident_number(incident)?)
                .fetch_optional(&self.pool)
                .await?;
                row.map($crate::rows::PostmortemRow::into_record).transpose()
            }

            async fn update_postmortem(
                &self,
                incident: fireline_core::IncidentId,
                expected: u64,
                text: &str,
                at: jiff::Timestamp,
                actor: &str,
            ) -> $crate::Result<$crate::PostmortemRecord> {
                use $crate::rows::{incident_number, micros};
                let number = incident_number(incident)?;
                let mut tx = self.pool.begin().await?;
                // The conditional update is the version check and takes the row, so the
                // text read next is the one this save replaces.
                let claimed = sqlx::query(
                    "UPDATE postmortems SET version = version + 1, updated_at_us = $1, \
                     updated_by = $2 WHERE incident = $3 AND version = $4",
                )
                .bind(micros(at))
                .bind(actor)
                .bind(number)
                .bind(expected as i64)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if claimed == 0 {
                    let actual: Option<i64> =
                        sqlx::query_scalar("SELECT version FROM postmortems WHERE incident = $1")
                            .bind(number)
                            .fetch_optional(&mut *tx)
                            .await?;
                    return Err(match actual {
                        None => $crate::StoreError::NotFound,
                        Some(actual) => $crate::StoreError::Conflict { expected, actual: actual as u64 },
                    });
                }
                let before: String =
                    sqlx::query_scalar("SELECT text FROM postmortems WHERE incident = $1")
                        .bind(number)
                        .fetch_one(&mut *tx)
                        .await?;
                let summary = fireline_core::postmortem::change_summary(&before, text);
                let row: $crate::rows::PostmortemRow = sqlx::query_as(
                    "UPDATE postmortems SET text = $1 WHERE incident = $2 RETURNING incident, \
                     version, text, template, created_at_us, created_by, updated_at_us, updated_by",
                )
                .bind(text)
                .bind(number)
                .fetch_one(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO postmortem_revisions (incident, version, text, summary, at_us, actor) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(number)
                .bind(row.version)
                .bind(text)
                .bind(&summary)
                .bind(micros(at))
                .bind(actor)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                row.into_record()
            }

            async fn postmortem_history(
                &self,
                incident: fireline_core::IncidentId,
            ) -> $crate::Result<Vec<$crate::PostmortemRevision>> {
                let rows: Vec<$crate::rows::RevisionRow> = sqlx::query_as(
                    "SELECT version, text, summary, at_us, actor FROM postmortem_revisions \
                     WHERE incident = $1 ORDER BY version",
                )
                .bind($crate::rows::incident_number(incident)?)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map($crate::rows::RevisionRow::into_revision).collect()
            }

            async fn insert_action_item(
                &self,
                item: &fireline_core::postmortem::ActionItem,
            ) -> $crate::Result<fireline_core::postmortem::ActionItem> {
                use $crate::rows::{incident_number, micros};
                let number = incident_number(item.incident)?;
                let mut tx = self.pool.begin().await?;
                let exists: Option<i64> =
                    sqlx::query_scalar("SELECT number FROM incidents WHERE number = $1")
                        .bind(number)
                        .fetch_optional(&mut *tx)
                        .await?;
                if exists.is_none() {
                    return Err($crate::StoreError::NotFound);
                }
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO action_items (incident, title, owner, priority, due, status, note, \
                     created_at_us, created_by, updated_at_us, updated_by) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                )
                .bind(number)
                .bind(&item.title)
                .bind(&item.owner)
                .bind(item.priority.as_str())
                .bind(item.due.to_string())
                .bind(item.status.as_str())
                .bind(item.note.as_deref())
                .bind(micros(item.created_at))
                .bind(&item.created_by)
                .bind(micros(item.updated_at))
                .bind(&item.updated_by)
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(fireline_core::postmortem::ActionItem { id: id as u64, ..item.clone() })
            }

            async fn action_item(
                &self,
                id: u64,
            ) -> $crate::Result<Option<fireline_core::postmortem::ActionItem>> {
                let Ok(id) = i64::try_from(id) else { return Ok(None) };
                let row: Option<$crate::rows::ActionRow> = sqlx::query_as(&format!(
                    "SELECT {} FROM action_items WHERE id = $1",
                    $crate::rows::ACTION_COLUMNS
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                row.map($crate::rows::ActionRow::into_item).transpose()
            }

            async fn update_action_item(
                &self,
                item: &fireline_core::postmortem::ActionItem,
            ) -> $crate::Result<fireline_core::postmortem::ActionItem> {
                let id = i64::try_from(item.id).map_err(|_| $crate::StoreError::NotFound)?;
                let row: Option<$crate::rows::ActionRow> = sqlx::query_as(&format!(
                    "UPDATE action_items SET title = $1, owner = $2, priority = $3, due = $4, \
                     status = $5, note = $6, updated_at_us = $7, updated_by = $8 WHERE id = $9 \
                     RETURNING {}",
                    $crate::rows::ACTION_COLUMNS
                ))
                .bind(&item.title)
                .bind(&item.owner)
                .bind(item.priority.as_str())
                .bind(item.due.to_string())
                .bind(item.status.as_str())
                .bind(item.note.as_deref())
                .bind($crate::rows::micros(item.updated_at))
                .bind(&item.updated_by)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                row.ok_or($crate::StoreError::NotFound)?.into_item()
            }

            async fn list_action_items(
                &self,
                filter: &$crate::ActionFilter,
            ) -> $crate::Result<Vec<fireline_core::postmortem::ActionItem>> {
                let incident = filter.incident.map($crate::rows::incident_number).transpose()?;
                let rows: Vec<$crate::rows::ActionRow> = sqlx::query_as(&format!(
                    "SELECT {} FROM action_items \
                     WHERE ($1 IS NULL OR incident = $1) AND ($2 IS NULL OR owner = $2) \
                       AND ($3 = 0 OR status IN ('open', 'in_progress')) \
                       AND ($4 IS NULL OR due < $4) \
                     ORDER BY due, id LIMIT $5",
                    $crate::rows::ACTION_COLUMNS
                ))
                .bind(incident)
                .bind(filter.owner.as_deref())
                .bind(i64::from(filter.open_only))
                .bind(filter.due_before.map(|d| d.to_string()))
                .bind(i64::from(filter.limit))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map($crate::rows::ActionRow::into_item).collect()
            }
        }
    };
}

pub(crate) use sql_postmortems;
