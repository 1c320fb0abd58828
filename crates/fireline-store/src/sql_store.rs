//! The one implementation of [`crate::Store`], instantiated per backend by a macro.
//!
//! Both backends take the same SQL: `$N` placeholders (SQLite accepts them too), 64-bit
//! integers for ids and times, and text for event data. Writing the logic once keeps
//! the two from drifting; only connecting and migrating differ (see `sqlite.rs` and
//! `postgres.rs`).

pub(crate) const SUMMARY_COLUMNS: &str = "number, title, service, severity, status, \
     declared_at_us, declared_by, acknowledged_at_us, resolved_at_us, updated_at_us, version";

/// Implements `Store` for `$store`, a struct with a `pool: sqlx::Pool<$db>` field.
/// `$claim` is the statement whose dialect differs: claiming due incidents (returns
/// `number`), with `$1` now, `$2` owner, `$3` lease end and `$4` limit.
///
/// Where the alert inbox lives differs too (SQLite keeps the receivers' inbox in a file
/// of its own, see `sqlite.rs`), so each backend provides these inherent methods:
/// `insert_inbox` (receivers' group commits, at most [`INBOX_ROWS`] rows a statement with
/// [`inbox_insert_sql`]), `claim_inbox_items`, `release_inbox_items`,
/// `release_owned_inbox`, `fail_inbox_item`, `dead_inbox_items`, `count_dead_inbox`,
/// `on_dead_item` (re-drive or discard, with [`REDRIVE_SQL`] or [`DISCARD_SQL`]),
/// `mark_processed_tx` (inside the transaction that applies items: what makes each
/// apply exactly once) and `after_processed` (after its commit).
macro_rules! impl_sql_store {
    ($store:ty, $db:ty, $backend:literal, $claim:expr) => {
        impl $store {
            /// One multi-row `INSERT` of accepted payloads into the inbox through `on`
            /// (at most [`INBOX_ROWS`](crate::sql_store::INBOX_ROWS) rows).
            async fn insert_rows<'c, E>(
                on: E,
                rows: &[(String, jiff::Timestamp, String)],
            ) -> $crate::Result<()>
            where
                E: sqlx::Executor<'c, Database = $db>,
            {
                let sql = $crate::sql_store::inbox_insert_sql(rows.len());
                let mut query = sqlx::query(&sql);
                for (integration, received_at, alerts) in rows {
                    query = query
                        .bind(integration)
                        .bind($crate::rows::micros(*received_at))
                        .bind(alerts);
                }
                query.execute(on).await?;
                Ok(())
            }

            /// Inserts `user` through `executor` (the pool, or a transaction);
            /// [`StoreError::Exists`](crate::StoreError::Exists) when the name is taken.
            async fn insert_user_on<'c, E>(executor: E, user: &$crate::UserRecord) -> $crate::Result<()>
            where
                E: sqlx::Executor<'c, Database = $db>,
            {
                let done = sqlx::query(
                    "INSERT INTO users (name, role, password_hash, created_at_us, \
                     password_changed_at_us, disabled_at_us, sessions_from_us) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO NOTHING",
                )
                .bind(&user.name)
                .bind(user.role.as_str())
                .bind(&user.password_hash)
                .bind($crate::rows::micros(user.created_at))
                .bind($crate::rows::micros(user.password_changed_at))
                .bind(user.disabled_at.map($crate::rows::micros))
                .bind($crate::rows::micros(user.sessions_from))
                .execute(executor)
                .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::Exists(format!("user {}", user.name)));
                }
                Ok(())
            }

            /// Appends `events` to `current` inside `tx`: the version claim, the listing
            /// projection, the events, and the alert projection of alert events.
            async fn append_tx(
                tx: &mut sqlx::Transaction<'static, $db>,
                current: &fireline_core::Incident,
                events: Vec<fireline_core::NewEvent>,
                next_due: Option<jiff::Timestamp>,
            ) -> $crate::Result<(fireline_core::Incident, Vec<fireline_core::RecordedEvent>)> {
                use $crate::rows::{event_json, incident_number, micros};
                let number = incident_number(current.id)?;
                // Apply first, in memory: the projection written below must be the fold.
                let mut next = current.clone();
                let mut recorded = Vec::with_capacity(events.len());
                for (offset, event) in events.into_iter().enumerate() {
                    let event = fireline_core::RecordedEvent {
                        id: 0,
                        seq: current.version + 1 + offset as u64,
                        at: event.at,
                        actor: event.actor,
                        data: event.data,
                    };
                    next.apply(&event)?;
                    recorded.push(event);
                }
                if recorded.is_empty() {
                    return Ok((next, recorded));
                }
                // The version check and the claim are one statement, and a write, so the
                // transaction holds the row (and SQLite's write lock) from here on.
                let claimed = sqlx::query(
                    "UPDATE incidents SET title = $1, service = $2, severity = $3, status = $4, \
                     acknowledged_at_us = $5, resolved_at_us = $6, updated_at_us = $7, \
                     version = $8, next_due_at_us = $11, lease_owner = NULL, lease_until_us = NULL \
                     WHERE number = $9 AND version = $10",
                )
                .bind(&next.title)
                .bind(&next.service)
                .bind(&next.severity)
                .bind(next.status.as_str())
                .bind(next.acknowledged.as_ref().map(|(at, _)| micros(*at)))
                .bind(next.resolved_at.map(micros))
                .bind(micros(next.updated_at))
                .bind(next.version as i64)
                .bind(number)
                .bind(current.version as i64)
                .bind(next_due.map(micros))
                .execute(&mut **tx)
                .await?
                .rows_affected();
                if claimed == 0 {
                    let actual: Option<i64> =
                        sqlx::query_scalar("SELECT version FROM incidents WHERE number = $1")
                            .bind(number)
                            .fetch_optional(&mut **tx)
                            .await?;
                    return Err(match actual {
                        None => $crate::StoreError::NotFound,
                        Some(actual) => $crate::StoreError::Conflict {
                            expected: current.version,
                            actual: actual as u64,
                        },
                    });
                }
                for event in &mut recorded {
                    event.id = sqlx::query_scalar(
                        "INSERT INTO incident_events (incident, seq, at_us, actor, kind, data) \
                         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                    )
                    .bind(number)
                    .bind(event.seq as i64)
                    .bind(micros(event.at))
                    .bind(&event.actor)
                    .bind(event.data.kind())
                    .bind(event_json(&event.data)?)
                    .fetch_one(&mut **tx)
                    .await?;
                    Self::project_alert(tx, number, event).await?;
                }
                Ok((next, recorded))
            }

            /// Inserts outbox messages inside `tx`, skipping keys already stored.
            async fn outbox_tx(
                tx: &mut sqlx::Transaction<'static, $db>,
                outbox: &[fireline_core::oncall::notify::Outgoing],
                at: jiff::Timestamp,
            ) -> $crate::Result<u64> {
                use $crate::rows::{incident_number, micros, outgoing_json};
                let mut inserted = 0;
                for o in outbox {
                    let (destination, message) = outgoing_json(o)?;
                    let incident = o.incident.map(incident_number).transpose()?;
                    inserted += sqlx::query(
                        "INSERT INTO outbox (key, incident, person, channel, destination, message, \
                         unless_acknowledged, created_at_us, due_at_us) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (key) DO NOTHING",
                    )
                    .bind(&o.key)
                    .bind(incident)
                    .bind(&o.person)
                    .bind(o.contact.kind.as_str())
                    .bind(destination)
                    .bind(message)
                    .bind(i64::from(o.unless_acknowledged))
                    .bind(micros(at))
                    .bind(micros(o.due_at))
                    .execute(&mut **tx)
                    .await?
                    .rows_affected();
                }
                Ok(inserted)
            }

            /// Opens an incident inside `tx` (see `Store::open_incident`).
            async fn open_tx(
                tx: &mut sqlx::Transaction<'static, $db>,
                declared: fireline_core::NewEvent,
                more: Vec<fireline_core::NewEvent>,
                next_due: Option<jiff::Timestamp>,
            ) -> $crate::Result<(fireline_core::Incident, Vec<fireline_core::RecordedEvent>)> {
                use $crate::rows::{event_json, micros};
                let fireline_core::EventData::Declared { title, severity, service, .. } =
                    &declared.data
                else {
                    return Err($crate::StoreError::Corrupt(
                        "an incident must start with a declaration".into(),
                    ));
                };
                // The group of the alert that opens it, so later alerts can join it.
                let group = more.iter().find_map(|e| match &e.data {
                    fireline_core::EventData::AlertAttached { group, .. } if !group.is_empty() => Some(group.clone()),
                    _ => None,
                });
                let at = micros(declared.at);
                let number: i64 = sqlx::query_scalar(
                    "INSERT INTO incidents (title, service, severity, status, declared_at_us, \
                     declared_by, updated_at_us, version, next_due_at_us, alert_group) \
                     VALUES ($1, $2, $3, 'investigating', $4, $5, $4, 1, $6, $7) RETURNING number",
                )
                .bind(title)
                .bind(service)
                .bind(severity)
                .bind(at)
                .bind(&declared.actor)
                .bind(next_due.map(micros))
                .bind(group)
                .fetch_one(&mut **tx)
                .await?;
                let event_id: i64 = sqlx::query_scalar(
                    "INSERT INTO incident_events (incident, seq, at_us, actor, kind, data) \
                     VALUES ($1, 1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(number)
                .bind(at)
                .bind(&declared.actor)
                .bind(declared.data.kind())
                .bind(event_json(&declared.data)?)
                .fetch_one(&mut **tx)
                .await?;
                let first = fireline_core::RecordedEvent {
                    id: event_id,
                    seq: 1,
                    at: declared.at,
                    actor: declared.actor,
                    data: declared.data,
                };
                let id = fireline_core::IncidentId(number as u64);
                let incident = fireline_core::Incident::declared(id, &first)?;
                let (incident, mut recorded) = Self::append_tx(tx, &incident, more, next_due).await?;
                recorded.insert(0, first);
                Ok((incident, recorded))
            }

            /// Keeps the `alerts` projection in step with alert events.
            async fn project_alert(
                tx: &mut sqlx::Transaction<'static, $db>,
                number: i64,
                event: &fireline_core::RecordedEvent,
            ) -> $crate::Result<()> {
                use fireline_core::EventData;
                let at = $crate::rows::micros(event.at);
                match &event.data {
                    EventData::AlertAttached { integration, dedup_key, summary, digest, .. } => {
                        // Every incident an alert joined, for related incidents.
                        sqlx::query(
                            "INSERT INTO incident_alert_keys (integration, dedup_key, incident) \
                             VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                        )
                        .bind(integration)
                        .bind(dedup_key)
                        .bind(number)
                        .execute(&mut **tx)
                        .await?;
                        sqlx::query(
                            "INSERT INTO alerts (integration, dedup_key, incident, status, digest, summary, updated_at_us) \
                             VALUES ($1, $2, $3, 'firing', $4, $5, $6) \
                             ON CONFLICT (integration, dedup_key) DO UPDATE SET incident = excluded.incident, \
                             status = 'firing', digest = excluded.digest, summary = excluded.summary, \
                             updated_at_us = excluded.updated_at_us",
                        )
                        .bind(integration)
                        .bind(dedup_key)
                        .bind(number)
                        .bind(digest)
                        .bind(summary)
                        .bind(at)
                        .execute(&mut **tx)
                        .await?;
                    }
                    EventData::AlertUpdated { integration, dedup_key, summary, digest, .. } => {
                        sqlx::query(
                            "UPDATE alerts SET digest = $1, summary = $2, updated_at_us = $3 \
                             WHERE integration = $4 AND dedup_key = $5",
                        )
                        .bind(digest)
                        .bind(summary)
                        .bind(at)
                        .bind(integration)
                        .bind(dedup_key)
                        .execute(&mut **tx)
                        .await?;
                    }
                    EventData::AlertResolved { integration, dedup_key, .. } => {
                        sqlx::query(
                            "UPDATE alerts SET status = 'resolved', updated_at_us = $1 \
                             WHERE integration = $2 AND dedup_key = $3",
                        )
                        .bind(at)
                        .bind(integration)
                        .bind(dedup_key)
                        .execute(&mut **tx)
                        .await?;
                    }
                    _ => {}
                }
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl $crate::Store for $store {
            fn backend(&self) -> &'static str {
                $backend
            }

            async fn ping(&self) -> $crate::Result<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn open_incident(
                &self,
                declared: fireline_core::NewEvent,
                more: Vec<fireline_core::NewEvent>,
                next_due: Option<jiff::Timestamp>,
            ) -> $crate::Result<(fireline_core::Incident, Vec<fireline_core::RecordedEvent>)> {
                let mut tx = self.pool.begin().await?;
                let result = Self::open_tx(&mut tx, declared, more, next_due).await?;
                tx.commit().await?;
                Ok(result)
            }

            async fn append_notifying(
                &self,
                current: &fireline_core::Incident,
                events: Vec<fireline_core::NewEvent>,
                next_due: Option<jiff::Timestamp>,
                outbox: &[fireline_core::oncall::notify::Outgoing],
            ) -> $crate::Result<(fireline_core::Incident, Vec<fireline_core::RecordedEvent>)> {
                if events.is_empty() {
                    return Ok((current.clone(), Vec::new()));
                }
                let mut tx = self.pool.begin().await?;
                let result = Self::append_tx(&mut tx, current, events, next_due).await?;
                Self::outbox_tx(&mut tx, outbox, result.0.updated_at).await?;
                tx.commit().await?;
                Ok(result)
            }

            async fn events(
                &self,
                id: fireline_core::IncidentId,
            ) -> $crate::Result<Vec<fireline_core::RecordedEvent>> {
                let number = $crate::rows::incident_number(id)?;
                let rows: Vec<$crate::rows::EventRow> = sqlx::query_as(
                    "SELECT id, seq, at_us, actor, data FROM incident_events \
                     WHERE incident = $1 ORDER BY seq",
                )
                .bind(number)
                .fetch_all(&self.pool)
                .await?;
                if rows.is_empty() {
                    return Err($crate::StoreError::NotFound);
                }
                rows.into_iter()
                    .map($crate::rows::EventRow::into_event)
                    .collect()
            }

            async fn incident_version(
                &self,
                id: fireline_core::IncidentId,
            ) -> $crate::Result<Option<u64>> {
                // An id beyond i64 cannot be in the table: that is "no such incident".
                let Ok(number) = $crate::rows::incident_number(id) else {
                    return Ok(None);
                };
                let version: Option<i64> =
                    sqlx::query_scalar("SELECT version FROM incidents WHERE number = $1")
                        .bind(number)
                        .fetch_optional(&self.pool)
                        .await?;
                version
                    .map(|v| {
                        u64::try_from(v).map_err(|_| {
                            $crate::StoreError::Corrupt(format!("negative incident version {v}"))
                        })
                    })
                    .transpose()
            }

            async fn list_incidents(
                &self,
                filter: &$crate::IncidentFilter,
            ) -> $crate::Result<Vec<$crate::IncidentSummary>> {
                let sql = format!(
                    "SELECT {} FROM incidents \
                     WHERE ($1 = 'all' OR ($1 = 'open' AND status <> 'resolved') \
                            OR ($1 = 'resolved' AND status = 'resolved')) \
                       AND ($2 IS NULL OR severity = $2) \
                       AND ($3 IS NULL OR service = $3) \
                     ORDER BY CASE WHEN status = 'resolved' THEN 1 ELSE 0 END, number DESC \
                     LIMIT $4",
                    $crate::sql_store::SUMMARY_COLUMNS
                );
                let rows: Vec<$crate::rows::SummaryRow> = sqlx::query_as(&sql)
                    .bind(filter.status.as_str())
                    .bind(filter.severity.as_deref())
                    .bind(filter.service.as_deref())
                    .bind(i64::from(filter.limit))
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter()
                    .map($crate::rows::SummaryRow::into_summary)
                    .collect()
            }

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

            async fn insert_user(&self, user: &$crate::UserRecord) -> $crate::Result<()> {
                let mut tx = self.pool.begin().await?;
                Self::insert_user_on(&mut *tx, user).await?;
                // With a user in, the first-admin code has no more use: it goes.
                sqlx::query("DELETE FROM settings WHERE name = 'first_admin_code'")
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn user(&self, name: &str) -> $crate::Result<Option<$crate::UserRecord>> {
                let row: Option<$crate::rows::UserRow> = sqlx::query_as(
                    "SELECT name, role, password_hash, created_at_us, password_changed_at_us, \
                     disabled_at_us, sessions_from_us FROM users WHERE name = $1",
                )
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
                row.map($crate::rows::UserRow::into_record).transpose()
            }

            async fn list_users(&self) -> $crate::Result<Vec<$crate::UserRecord>> {
                let rows: Vec<$crate::rows::UserRow> = sqlx::query_as(
                    "SELECT name, role, password_hash, created_at_us, password_changed_at_us, \
                     disabled_at_us, sessions_from_us FROM users ORDER BY name",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map($crate::rows::UserRow::into_record)
                    .collect()
            }

            async fn update_user_password(
                &self,
                name: &str,
                hash: &str,
                at: jiff::Timestamp,
            ) -> $crate::Result<()> {
                let done = sqlx::query(
                    "UPDATE users SET password_hash = $1, password_changed_at_us = $2, \
                     sessions_from_us = CASE WHEN $2 > sessions_from_us THEN $2 \
                     ELSE sessions_from_us + 1 END WHERE name = $3",
                )
                .bind(hash)
                .bind($crate::rows::micros(at))
                .bind(name)
                .execute(&self.pool)
                .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound);
                }
                Ok(())
            }

            async fn set_user_disabled(
                &self,
                name: &str,
                at: Option<jiff::Timestamp>,
            ) -> $crate::Result<$crate::UserRecord> {
                let mut tx = self.pool.begin().await?;
                // Disabling moves the sessions' generation forward (always: even within
                // the same microsecond), re-enabling leaves it, so no session signed
                // before a disable works again.
                sqlx::query(
                    "UPDATE users SET disabled_at_us = $1, sessions_from_us = CASE \
                     WHEN $1 IS NULL THEN sessions_from_us WHEN $1 > sessions_from_us THEN $1 \
                     ELSE sessions_from_us + 1 END WHERE name = $2",
                )
                    .bind(at.map($crate::rows::micros))
                    .bind(name)
                    .execute(&mut *tx)
                    .await?;
                let row: Option<$crate::rows::UserRow> = sqlx::query_as(
                    "SELECT name, role, password_hash, created_at_us, password_changed_at_us, \
                     disabled_at_us, sessions_from_us FROM users WHERE name = $1",
                )
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?;
                tx.commit().await?;
                row.ok_or($crate::StoreError::NotFound)?.into_record()
            }

            async fn set_first_admin_code(&self, code_hash: &str) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO settings (name, value) VALUES ('first_admin_code', $1) \
                     ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                )
                .bind(code_hash)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn first_admin_code_is(&self, code_hash: &str) -> $crate::Result<bool> {
                let found: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM settings WHERE name = 'first_admin_code' \
                     AND value = $1 AND NOT EXISTS (SELECT 1 FROM users)",
                )
                .bind(code_hash)
                .fetch_one(&self.pool)
                .await?;
                Ok(found > 0)
            }

            async fn claim_first_admin(
                &self,
                code_hash: &str,
                user: &$crate::UserRecord,
            ) -> $crate::Result<bool> {
                let mut tx = self.pool.begin().await?;
                let taken = sqlx::query(
                    "DELETE FROM settings WHERE name = 'first_admin_code' AND value = $1 \
                     AND NOT EXISTS (SELECT 1 FROM users)",
                )
                .bind(code_hash)
                .execute(&mut *tx)
                .await?;
                if taken.rows_affected() == 0 {
                    return Ok(false);
                }
                // On `Exists`, dropping the transaction rolls back: the code stays valid.
                Self::insert_user_on(&mut *tx, user).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn claim_due(
                &self,
                now: jiff::Timestamp,
                owner: &str,
                lease_until: jiff::Timestamp,
                limit: u32,
            ) -> $crate::Result<Vec<fireline_core::IncidentId>> {
                let numbers: Vec<i64> = sqlx::query_scalar($claim)
                    .bind($crate::rows::micros(now))
                    .bind(owner)
                    .bind($crate::rows::micros(lease_until))
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                Ok(numbers.into_iter().map(|n| fireline_core::IncidentId(n as u64)).collect())
            }

            async fn reschedule(
                &self,
                id: fireline_core::IncidentId,
                next_due: Option<jiff::Timestamp>,
                owner: &str,
            ) -> $crate::Result<()> {
                sqlx::query(
                    "UPDATE incidents SET next_due_at_us = $1, lease_owner = NULL, lease_until_us = NULL \
                     WHERE number = $2 AND (lease_owner IS NULL OR lease_owner = $3)",
                )
                .bind(next_due.map($crate::rows::micros))
                .bind($crate::rows::incident_number(id)?)
                .bind(owner)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn reschedule_all(&self, at: jiff::Timestamp) -> $crate::Result<u64> {
                Ok(sqlx::query(
                    "UPDATE incidents SET next_due_at_us = $1 \
                     WHERE status <> 'resolved' OR next_due_at_us IS NOT NULL",
                )
                .bind($crate::rows::micros(at))
                .execute(&self.pool)
                .await?
                .rows_affected())
            }

            async fn next_due(&self) -> $crate::Result<Option<jiff::Timestamp>> {
                let us: Option<i64> = sqlx::query_scalar(
                    "SELECT MIN(next_due_at_us) FROM incidents WHERE next_due_at_us IS NOT NULL",
                )
                .fetch_one(&self.pool)
                .await?;
                us.map($crate::rows::timestamp).transpose()
            }

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

            async fn enqueue_alerts_batch(
                &self,
                items: &[(String, jiff::Timestamp, String)],
            ) -> $crate::Result<()> {
                if items.is_empty() {
                    return Ok(());
                }
                self.insert_inbox(items).await
            }

            async fn release_inbox(&self, owner: &str, ids: &[i64]) -> $crate::Result<()> {
                self.release_inbox_items(owner, ids).await
            }

            async fn apply_alerts(
                &self,
                writes: $crate::AlertWrites,
            ) -> $crate::Result<Vec<fireline_core::IncidentId>> {
                let mut tx = self.pool.begin().await?;
                let mut opened = Vec::with_capacity(writes.opens.len());
                for open in writes.opens {
                    let (incident, _) =
                        Self::open_tx(&mut tx, open.declared, open.more, open.next_due).await?;
                    opened.push(incident.id);
                }
                for append in writes.appends {
                    Self::append_tx(&mut tx, &append.current, append.events, append.next_due).await?;
                }
                for drop in &writes.dropped {
                    sqlx::query(
                        "INSERT INTO alert_drops (integration, dedup_key, reason, summary, count, \
                         first_at_us, last_at_us) VALUES ($1, $2, $3, $4, 1, $5, $5) \
                         ON CONFLICT (integration, dedup_key, reason) DO UPDATE SET \
                         count = alert_drops.count + 1, summary = excluded.summary, \
                         last_at_us = excluded.last_at_us",
                    )
                    .bind(&drop.integration)
                    .bind(&drop.dedup_key)
                    .bind(&drop.reason)
                    .bind(&drop.summary)
                    .bind($crate::rows::micros(drop.at))
                    .execute(&mut *tx)
                    .await?;
                }
                self.mark_processed_tx(&mut tx, &writes.processed).await?;
                tx.commit().await?;
                self.after_processed(&writes.processed).await;
                Ok(opened)
            }

            async fn alerts_by_keys(
                &self,
                integration: &str,
                dedup_keys: &[String],
            ) -> $crate::Result<Vec<(String, $crate::AlertRecord)>> {
                let mut found = Vec::new();
                // Bounded IN lists: well under either backend's limit on parameters.
                for chunk in dedup_keys.chunks(500) {
                    let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
                    let sql = format!(
                        "SELECT dedup_key, incident, status, digest FROM alerts \
                         WHERE integration = $1 AND dedup_key IN ({})",
                        marks.join(", ")
                    );
                    let mut query = sqlx::query_as::<_, (String, i64, String, String)>(&sql).bind(integration);
                    for key in chunk {
                        query = query.bind(key);
                    }
                    for (key, incident, status, digest) in query.fetch_all(&self.pool).await? {
                        found.push((key, $crate::AlertRecord {
                            incident: fireline_core::IncidentId(incident as u64),
                            firing: status == "firing",
                            digest,
                        }));
                    }
                }
                Ok(found)
            }

            async fn open_incidents_in_groups(
                &self,
                groups: &[String],
                since: jiff::Timestamp,
            ) -> $crate::Result<Vec<(String, fireline_core::IncidentId)>> {
                let mut found = Vec::new();
                for chunk in groups.chunks(500) {
                    let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
                    let sql = format!(
                        "SELECT alert_group, MAX(number) FROM incidents \
                         WHERE alert_group IN ({}) AND status <> 'resolved' AND declared_at_us >= $1 \
                         GROUP BY alert_group",
                        marks.join(", ")
                    );
                    let mut query = sqlx::query_as::<_, (String, i64)>(&sql).bind($crate::rows::micros(since));
                    for group in chunk {
                        query = query.bind(group);
                    }
                    for (group, number) in query.fetch_all(&self.pool).await? {
                        found.push((group, fireline_core::IncidentId(number as u64)));
                    }
                }
                Ok(found)
            }

            async fn insert_heartbeat(
                &self,
                heartbeat: &$crate::HeartbeatRecord,
                key_hash: &str,
            ) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO heartbeats (id, name, integration, key_hash, interval_s, grace_s, state, \
                     last_ping_at_us, deadline_at_us, created_at_us) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(&heartbeat.id)
                .bind(&heartbeat.name)
                .bind(&heartbeat.integration)
                .bind(key_hash)
                .bind(heartbeat.interval_s)
                .bind(heartbeat.grace_s)
                .bind(&heartbeat.state)
                .bind(heartbeat.last_ping_at.map($crate::rows::micros))
                .bind(heartbeat.deadline_at.map($crate::rows::micros))
                .bind($crate::rows::micros(heartbeat.created_at))
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn list_heartbeats(&self) -> $crate::Result<Vec<$crate::HeartbeatRecord>> {
                let rows: Vec<$crate::rows::HeartbeatRow> = sqlx::query_as(&format!(
                    "SELECT {} FROM heartbeats ORDER BY created_at_us, id",
                    $crate::rows::HEARTBEAT_COLUMNS
                ))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map($crate::rows::HeartbeatRow::into_record).collect()
            }

            async fn ping_heartbeat(
                &self,
                key_hash: &str,
                now: jiff::Timestamp,
            ) -> $crate::Result<Option<$crate::HeartbeatRecord>> {
                let now_us = $crate::rows::micros(now);
                let mut tx = self.pool.begin().await?;
                // The write comes first so the transaction holds the row from the start.
                let updated: Option<$crate::rows::HeartbeatRow> = sqlx::query_as(&format!(
                    "UPDATE heartbeats SET last_ping_at_us = $1, \
                     deadline_at_us = $1 + (interval_s + grace_s) * 1000000, \
                     state = CASE WHEN state = 'down' THEN 'recovering' ELSE 'up' END \
                     WHERE key_hash = $2 RETURNING {}",
                    $crate::rows::HEARTBEAT_COLUMNS
                ))
                .bind(now_us)
                .bind(key_hash)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = updated else {
                    return Ok(None);
                };
                let mut record = row.into_record()?;
                if record.state == "recovering" {
                    record.state = "up".to_owned();
                    sqlx::query("UPDATE heartbeats SET state = 'up' WHERE id = $1")
                        .bind(&record.id)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("INSERT INTO alert_inbox (integration, received_at_us, alerts) VALUES ($1, $2, $3)")
                        .bind(&record.integration)
                        .bind(now_us)
                        .bind($crate::rows::heartbeat_alert_json(&record, fireline_core::alert::AlertStatus::Resolved)?)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(Some(record))
            }

            async fn expire_heartbeats(
                &self,
                now: jiff::Timestamp,
            ) -> $crate::Result<Vec<$crate::HeartbeatRecord>> {
                let now_us = $crate::rows::micros(now);
                let mut tx = self.pool.begin().await?;
                let rows: Vec<$crate::rows::HeartbeatRow> = sqlx::query_as(&format!(
                    "UPDATE heartbeats SET state = 'down' \
                     WHERE state = 'up' AND deadline_at_us < $1 RETURNING {}",
                    $crate::rows::HEARTBEAT_COLUMNS
                ))
                .bind(now_us)
                .fetch_all(&mut *tx)
                .await?;
                let records = rows
                    .into_iter()
                    .map($crate::rows::HeartbeatRow::into_record)
                    .collect::<$crate::Result<Vec<_>>>()?;
                for record in &records {
                    sqlx::query("INSERT INTO alert_inbox (integration, received_at_us, alerts) VALUES ($1, $2, $3)")
                        .bind(&record.integration)
                        .bind(now_us)
                        .bind($crate::rows::heartbeat_alert_json(record, fireline_core::alert::AlertStatus::Firing)?)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(records)
            }

            async fn claim_inbox(
                &self,
                now: jiff::Timestamp,
                owner: &str,
                lease_until: jiff::Timestamp,
                limit: u32,
            ) -> $crate::Result<Vec<$crate::InboxItem>> {
                let mut items = self.claim_inbox_items(now, owner, lease_until, limit).await?;
                items.sort_by_key(|i| i.id);
                Ok(items)
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

            async fn fail_inbox(
                &self,
                id: i64,
                error: &str,
                now: jiff::Timestamp,
                retry_at: Option<jiff::Timestamp>,
            ) -> $crate::Result<()> {
                self.fail_inbox_item(id, &$crate::sql_store::error_text(error), now, retry_at)
                    .await
            }

            async fn dead_letters(&self, limit: u32) -> $crate::Result<Vec<$crate::DeadLetter>> {
                let mut rows = self.dead_inbox_items(limit).await?;
                rows.sort_by(|a, b| b.dead_at_us.cmp(&a.dead_at_us).then(b.id.cmp(&a.id)));
                rows.truncate(limit as usize);
                rows.into_iter().map($crate::rows::DeadLetterRow::into_record).collect()
            }

            async fn dead_letter_count(&self) -> $crate::Result<u64> {
                self.count_dead_inbox().await
            }

            async fn redrive_dead_letter(&self, id: i64) -> $crate::Result<bool> {
                self.on_dead_item($crate::sql_store::REDRIVE_SQL, id).await
            }

            async fn discard_dead_letter(&self, id: i64) -> $crate::Result<bool> {
                self.on_dead_item($crate::sql_store::DISCARD_SQL, id).await
            }

            async fn alert_drops(&self, limit: u32) -> $crate::Result<Vec<$crate::AlertDrop>> {
                let rows: Vec<$crate::rows::AlertDropRow> = sqlx::query_as(
                    "SELECT integration, dedup_key, reason, summary, count, first_at_us, last_at_us \
                     FROM alert_drops ORDER BY last_at_us DESC, integration, dedup_key LIMIT $1",
                )
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map($crate::rows::AlertDropRow::into_record).collect()
            }

            async fn prune_alert_drops(
                &self,
                before: jiff::Timestamp,
                keep: u32,
            ) -> $crate::Result<u64> {
                let mut tx = self.pool.begin().await?;
                let mut gone = sqlx::query("DELETE FROM alert_drops WHERE last_at_us < $1")
                    .bind($crate::rows::micros(before))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                // The newest `keep` stay (in a total order, so ties at the cut are
                // settled by key rather than all going).
                gone += sqlx::query(
                    "DELETE FROM alert_drops WHERE (integration, dedup_key, reason) IN \
                     (SELECT integration, dedup_key, reason FROM alert_drops \
                      ORDER BY last_at_us DESC, integration, dedup_key, reason \
                      LIMIT 9223372036854775807 OFFSET $1)",
                )
                .bind(i64::from(keep))
                .execute(&mut *tx)
                .await?
                .rows_affected();
                tx.commit().await?;
                Ok(gone)
            }

            async fn alert(
                &self,
                integration: &str,
                dedup_key: &str,
            ) -> $crate::Result<Option<$crate::AlertRecord>> {
                let row: Option<(i64, String, String)> = sqlx::query_as(
                    "SELECT incident, status, digest FROM alerts WHERE integration = $1 AND dedup_key = $2",
                )
                .bind(integration)
                .bind(dedup_key)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|(incident, status, digest)| $crate::AlertRecord {
                    incident: fireline_core::IncidentId(incident as u64),
                    firing: status == "firing",
                    digest,
                }))
            }

            async fn firing_alerts(&self, incident: fireline_core::IncidentId) -> $crate::Result<usize> {
                let n: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM alerts WHERE incident = $1 AND status = 'firing'",
                )
                .bind($crate::rows::incident_number(incident)?)
                .fetch_one(&self.pool)
                .await?;
                Ok(n as usize)
            }

            async fn open_incident_in_group(
                &self,
                group: &str,
                since: jiff::Timestamp,
            ) -> $crate::Result<Option<fireline_core::IncidentId>> {
                let n: Option<i64> = sqlx::query_scalar(
                    "SELECT number FROM incidents WHERE alert_group = $1 AND status <> 'resolved' \
                     AND declared_at_us >= $2 ORDER BY number DESC LIMIT 1",
                )
                .bind(group)
                .bind($crate::rows::micros(since))
                .fetch_optional(&self.pool)
                .await?;
                Ok(n.map(|n| fireline_core::IncidentId(n as u64)))
            }

            async fn enqueue_outbox(
                &self,
                outbox: &[fireline_core::oncall::notify::Outgoing],
            ) -> $crate::Result<u64> {
                let Some(first) = outbox.first() else { return Ok(0) };
                let mut tx = self.pool.begin().await?;
                let n = Self::outbox_tx(&mut tx, outbox, first.due_at).await?;
                tx.commit().await?;
                Ok(n)
            }

            async fn claim_outbox(
                &self,
                now: jiff::Timestamp,
                owner: &str,
                lease_until: jiff::Timestamp,
                limit: u32,
            ) -> $crate::Result<Vec<$crate::OutboxItem>> {
                let rows: Vec<$crate::rows::OutboxRow> = sqlx::query_as(Self::CLAIM_OUTBOX)
                    .bind($crate::rows::micros(now))
                    .bind(owner)
                    .bind($crate::rows::micros(lease_until))
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                let mut items = rows
                    .into_iter()
                    .map($crate::rows::outbox_item)
                    .collect::<$crate::Result<Vec<_>>>()?;
                items.sort_by_key(|i| (i.due_at, i.id));
                Ok(items)
            }

            async fn finish_outbox(
                &self,
                ids: &[i64],
                state: $crate::OutboxState,
                detail: &str,
                at: jiff::Timestamp,
            ) -> $crate::Result<()> {
                // One statement per chunk of ids (not per id), in one transaction.
                let mut tx = self.pool.begin().await?;
                for chunk in ids.chunks($crate::sql_store::IDS) {
                    let sql = format!(
                        "UPDATE outbox SET state = $1, detail = $2, done_at_us = $3, \
                         lease_owner = NULL, lease_until_us = NULL WHERE id IN ({})",
                        $crate::sql_store::id_list(4, chunk.len())
                    );
                    let mut query = sqlx::query(&sql)
                        .bind(state.as_str())
                        .bind(detail)
                        .bind($crate::rows::micros(at));
                    for id in chunk {
                        query = query.bind(id);
                    }
                    query.execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn retry_outbox(
                &self,
                id: i64,
                attempts: u32,
                due_at: jiff::Timestamp,
                detail: &str,
            ) -> $crate::Result<()> {
                sqlx::query(
                    "UPDATE outbox SET attempts = $1, due_at_us = $2, detail = $3, \
                     lease_owner = NULL, lease_until_us = NULL WHERE id = $4",
                )
                .bind(i64::from(attempts))
                .bind($crate::rows::micros(due_at))
                .bind(detail)
                .bind(id)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn defer_outbox(&self, ids: &[i64], due_at: jiff::Timestamp) -> $crate::Result<()> {
                let mut tx = self.pool.begin().await?;
                for chunk in ids.chunks($crate::sql_store::IDS) {
                    let sql = format!(
                        "UPDATE outbox SET due_at_us = $1, lease_owner = NULL, \
                         lease_until_us = NULL WHERE id IN ({})",
                        $crate::sql_store::id_list(2, chunk.len())
                    );
                    let mut query = sqlx::query(&sql).bind($crate::rows::micros(due_at));
                    for id in chunk {
                        query = query.bind(id);
                    }
                    query.execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn last_sent(
                &self,
                person: &str,
                channel: &str,
            ) -> $crate::Result<Option<jiff::Timestamp>> {
                let at: Option<Option<i64>> = sqlx::query_scalar(
                    "SELECT MAX(done_at_us) FROM outbox WHERE person = $1 AND channel = $2 \
                     AND state = 'sent'",
                )
                .bind(person)
                .bind(channel)
                .fetch_optional(&self.pool)
                .await?;
                at.flatten().map($crate::rows::timestamp).transpose()
            }

            async fn next_outbox_due(&self) -> $crate::Result<Option<jiff::Timestamp>> {
                let at: Option<Option<i64>> = sqlx::query_scalar(
                    "SELECT MIN(due_at_us) FROM outbox WHERE state = 'pending'",
                )
                .fetch_optional(&self.pool)
                .await?;
                at.flatten().map($crate::rows::timestamp).transpose()
            }

            async fn outbox_depth(&self) -> $crate::Result<u64> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE state = 'pending'")
                    .fetch_one(&self.pool)
                    .await?;
                Ok(n as u64)
            }

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

            async fn report_facts(
                &self,
                since: jiff::Timestamp,
                until: jiff::Timestamp,
            ) -> $crate::Result<Vec<fireline_core::report::IncidentFacts>> {
                use $crate::rows::{micros, timestamp};
                let rows: Vec<(i64, String, String, i64, Option<i64>, Option<i64>)> = sqlx::query_as(
                    "SELECT number, severity, service, declared_at_us, acknowledged_at_us, resolved_at_us \
                     FROM incidents WHERE declared_at_us >= $1 AND declared_at_us < $2 ORDER BY number",
                )
                .bind(micros(since))
                .bind(micros(until))
                .fetch_all(&self.pool)
                .await?;
                let mut facts = Vec::with_capacity(rows.len());
                let mut index = std::collections::HashMap::with_capacity(rows.len());
                for (number, severity, service, declared, acked, resolved) in rows {
                    index.insert(number, facts.len());
                    facts.push(fireline_core::report::IncidentFacts {
                        id: fireline_core::IncidentId(number as u64),
                        severity,
                        service,
                        declared_at: timestamp(declared)?,
                        acknowledged_at: acked.map(timestamp).transpose()?,
                        resolved_at: resolved.map(timestamp).transpose()?,
                        first_update_at: None,
                        updates: 0,
                        updates_missed: 0,
                        escalations: 0,
                        breaches: Vec::new(),
                        postmortem_late: 0,
                    });
                }
                // Only the kinds the report counts, through the (kind, incident) index.
                let events: Vec<(i64, String, i64, String)> = sqlx::query_as(
                    "SELECT e.incident, e.kind, e.at_us, \
                     CASE WHEN e.kind = 'sla_breached' THEN e.data ELSE '' END \
                     FROM incident_events e JOIN incidents i ON i.number = e.incident \
                     WHERE e.kind IN ('update_posted', 'update_due', 'escalated', 'sla_breached', 'postmortem_due') \
                     AND i.declared_at_us >= $1 AND i.declared_at_us < $2",
                )
                .bind(micros(since))
                .bind(micros(until))
                .fetch_all(&self.pool)
                .await?;
                for (incident, kind, at, data) in events {
                    let Some(f) = index.get(&incident).and_then(|&i| facts.get_mut(i)) else {
                        continue;
                    };
                    match kind.as_str() {
                        "update_posted" => {
                            f.updates += 1;
                            let at = timestamp(at)?;
                            if f.first_update_at.is_none_or(|first| at < first) {
                                f.first_update_at = Some(at);
                            }
                        }
                        "update_due" => f.updates_missed += 1,
                        "escalated" => f.escalations += 1,
                        "postmortem_due" => f.postmortem_late += 1,
                        _ => {
                            if let Ok(fireline_core::EventData::SlaBreached { clock, .. }) =
                                serde_json::from_str(&data)
                            {
                                if !f.breaches.contains(&clock) {
                                    f.breaches.push(clock);
                                }
                            }
                        }
                    }
                }
                Ok(facts)
            }

            async fn open_incidents_by_severity(&self) -> $crate::Result<Vec<(String, u64)>> {
                let rows: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT severity, COUNT(*) FROM incidents WHERE status <> 'resolved' \
                     GROUP BY severity ORDER BY severity",
                )
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(|(s, n)| (s, n as u64)).collect())
            }

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

            async fn related_incidents(
                &self,
                incident: fireline_core::IncidentId,
                service: &str,
                alert_keys: &[(String, String)],
                limit: u32,
            ) -> $crate::Result<Vec<fireline_core::postmortem::Related>> {
                let number = $crate::rows::incident_number(incident)?;
                let mut found: Vec<fireline_core::postmortem::Related> = Vec::new();
                let mut add = |related: fireline_core::postmortem::Related| {
                    match found.iter_mut().find(|r| r.id == related.id) {
                        Some(known) => known.reasons.extend(related.reasons),
                        None => found.push(related),
                    }
                };
                let same: Vec<$crate::rows::RelatedRow> = sqlx::query_as(
                    "SELECT number, title, service, severity, status, declared_at_us FROM incidents \
                     WHERE service = $1 AND number < $2 ORDER BY number DESC LIMIT $3",
                )
                .bind(service)
                .bind(number)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                for row in same {
                    add(row.into_related("same service".to_owned())?);
                }
                for (integration, key) in alert_keys {
                    let rows: Vec<$crate::rows::RelatedRow> = sqlx::query_as(
                        "SELECT i.number, i.title, i.service, i.severity, i.status, i.declared_at_us \
                         FROM incident_alert_keys k JOIN incidents i ON i.number = k.incident \
                         WHERE k.integration = $1 AND k.dedup_key = $2 AND k.incident < $3 \
                         ORDER BY i.number DESC LIMIT $4",
                    )
                    .bind(integration)
                    .bind(key)
                    .bind(number)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                    for row in rows {
                        add(row.into_related(format!("shared alert {integration}/{key}"))?);
                    }
                }
                found.sort_by(|a, b| b.id.cmp(&a.id));
                found.truncate(limit as usize);
                Ok(found)
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
