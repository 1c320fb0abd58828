//! The embedded default: one SQLite file in WAL mode, plus the receivers' alert inbox
//! in a second file beside it (`<database>-inbox`).
//!
//! SQLite admits one writer per file, and this store gives each file one connection
//! (see [`SqliteStore::open`]). With the inbox in the main file, accepting an alert
//! queued behind every transaction of processing, paging and delivery. In a file of its
//! own, with its own connection, receivers commit while processing runs, and the two use
//! both cores.
//!
//! The two files cannot share a transaction, so exactly-once application is kept like
//! this: the transaction that applies inbox items to the main database also records
//! their ids in `inbox_applied`; after it commits the items are deleted from the inbox
//! file, and once that delete is on disk (a checkpoint of the inbox file that began after
//! it has completed) their ids leave `inbox_applied` with the next apply. A crash between
//! the steps leaves an item that is both in the inbox and recorded as applied: every
//! claim skips (and deletes) such items, and opening the store clears them first.
//!
//! Power loss: the main file syncs every commit (`synchronous=FULL`), so an apply is on
//! disk before its items are deleted from the inbox; the inbox file syncs only at its
//! checkpoints, which is why an `inbox_applied` row waits for one before it is dropped.
//! Heartbeat alerts are still written to the main file's `alert_inbox`, in the same
//! transaction as the monitor's state; they are claimed with negative ids.

use crate::backend::Dialect;
use crate::sql::impl_sql_store;
use crate::{Result, StoreError};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Pool, Sqlite, SqliteConnection};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static INBOX_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite-inbox");

/// A store in a SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: Pool<Sqlite>,
    /// The inbox file's one connection, outside any pool: a pool pings a SQLite
    /// connection (a round trip to its thread) on every acquire and release, which
    /// tripled the hops of a group commit. `None` once closed.
    inbox: Arc<tokio::sync::Mutex<Option<SqliteConnection>>>,
    /// Inbox ids deleted from the inbox file whose `inbox_applied` rows are still to be
    /// dropped (with the first apply after the delete is on disk; a crash leaves them to
    /// the next open).
    gone: Arc<Mutex<Gone>>,
    /// The inbox file's checkpoints, counted: when a delete there is on disk.
    generations: Arc<Generations>,
    /// Stops the inbox file's checkpoints (see [`checkpoint`]).
    checkpoints: Arc<tokio::sync::Mutex<Option<Checkpoints>>>,
}

type Checkpoints = (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
);

/// Counts the inbox file's checkpoints. The inbox file syncs only at checkpoints
/// (`synchronous=NORMAL`), so a delete committed there is on disk once a checkpoint that
/// began after the commit has copied the whole WAL into the file.
#[derive(Debug, Default)]
struct Generations {
    /// Checkpoints begun; a delete remembers this count when it has committed.
    started: AtomicU64,
    /// The number (in the `started` count) of the latest checkpoint that copied the
    /// whole WAL: everything committed before it began is on disk.
    completed: AtomicU64,
}

impl Generations {
    /// The generation of a commit that has just returned: it is on disk once
    /// [`Generations::completed`] exceeds it.
    fn now(&self) -> u64 {
        // SeqCst with `begin`: a checkpoint not counted here begins after our commit.
        self.started.load(Ordering::SeqCst)
    }

    /// Counts a checkpoint that is about to begin; returns its number.
    fn begin(&self) -> u64 {
        self.started.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Checkpoint `number` copied the whole WAL into the file (and synced it).
    fn complete(&self, number: u64) {
        self.completed.fetch_max(number, Ordering::SeqCst);
    }

    fn completed(&self) -> u64 {
        self.completed.load(Ordering::SeqCst)
    }
}

/// Inbox ids deleted from the inbox file, each with the [`Generations::now`] of its
/// delete, until their `inbox_applied` rows are dropped.
#[derive(Debug, Default)]
struct Gone(Vec<(u64, i64)>);

impl Gone {
    /// `ids` were deleted from the inbox file in generation `at`.
    fn deleted(&mut self, at: u64, ids: impl IntoIterator<Item = i64>) {
        self.0.extend(ids.into_iter().map(|id| (at, id)));
    }

    /// Takes the ids whose delete is on disk, given the latest completed checkpoint:
    /// only their `inbox_applied` rows may go, or a power loss could bring an item back
    /// without its record, and it would be applied twice.
    fn take_durable(&mut self, completed: u64) -> Vec<i64> {
        let mut durable = Vec::new();
        self.0.retain(|&(at, id)| {
            let on_disk = at < completed;
            if on_disk {
                durable.push(id);
            }
            !on_disk
        });
        durable
    }
}

/// How often the inbox file's WAL is copied into the file. The WAL grows by at most what
/// receivers commit meanwhile; a commit is durable in the WAL either way.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

/// Checkpoints the inbox file on a connection of its own until `stop`. PASSIVE: it never
/// waits for, nor blocks, the receivers' commits. Each checkpoint that copies the whole
/// WAL is counted complete in `generations`.
async fn checkpoint(
    mut conn: SqliteConnection,
    generations: Arc<Generations>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            _ = &mut stop => break,
            () = tokio::time::sleep(CHECKPOINT_EVERY) => {}
        }
        let number = generations.begin();
        // (busy, frames in the WAL, frames copied into the file). A PASSIVE checkpoint
        // may stop short (a reader on an older snapshot); then what is left is not yet
        // known to be synced, and the next one must finish it.
        match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&mut conn)
            .await
        {
            Ok((0, log, copied)) if log == copied => generations.complete(number),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "inbox checkpoint failed; retrying"),
        }
    }
    if let Err(e) = sqlx::Connection::close(conn).await {
        tracing::warn!(error = %e, "closing the inbox checkpointer failed");
    }
}

/// The inbox connection, held.
struct InboxGuard<'a>(tokio::sync::MutexGuard<'a, Option<SqliteConnection>>);

impl InboxGuard<'_> {
    /// The connection, unless the store was closed.
    fn conn(&mut self) -> Result<&mut SqliteConnection> {
        self.0
            .as_mut()
            .ok_or(StoreError::Unavailable(sqlx::Error::PoolClosed))
    }
}

use crate::sql::{id_list, IDS};

impl SqliteStore {
    /// Opens (creating if missing, with its parent folder) the database at `url`
    /// (`sqlite://PATH`) and migrates it.
    pub async fn open(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::InvalidUrl(e.to_string()))?;
        let path = options.get_filename().to_owned();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::InvalidUrl(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        let options = options
            .create_if_missing(true)
            // WAL with FULL sync: every commit is fsynced before it returns, so it
            // survives a power loss or kernel crash too. That costs a sync per commit,
            // acceptable here because the main file commits once per unit of processed
            // alerts or per incident change, not per accepted request; and it is needed
            // for exactly-once across the two files: an apply must be on disk before its
            // items are deleted from the inbox file (a delete there can reach the disk
            // at its next checkpoint, before a NORMAL commit here would).
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // Writers queue on the lock instead of failing at once under concurrency.
            .busy_timeout(Duration::from_secs(10));
        // One connection: SQLite admits one writer at a time anyway, and with several
        // connections the writers that lose the race (the receivers' group commit, the
        // alert processor, the engine) wait in SQLite's busy handler, which sleeps in
        // steps of up to 100 ms: that made tail latency. One connection queues every
        // statement fairly in the pool instead. The cost: readers no longer run beside
        // a writer (WAL would allow it); transactions here are short.
        // The inbox file: same settings but NORMAL sync, its own single connection. A
        // commit is in its WAL before the receiver answers, so it survives a crash of
        // the process; the WAL is fsynced only at checkpoints (every
        // CHECKPOINT_EVERY), so a power loss or kernel crash can lose the alerts
        // accepted since, in exchange for receivers never waiting on a sync.
        let inbox_options = options
            .clone()
            .filename(format!("{}-inbox", path.display()))
            .synchronous(SqliteSynchronous::Normal)
            // A flood grows the WAL while checkpoints cannot catch up; once one does and
            // the WAL restarts, it is cut back to this size instead of keeping its peak.
            .pragma("journal_size_limit", "67108864");
        // Checkpoints (copying the WAL into the file, with an fsync) would run inside
        // whichever receiver commit crosses the threshold, stalling every request
        // waiting on it; a connection of their own runs them beside the commits.
        let checkpoint_options = inbox_options.clone();
        let inbox_options = inbox_options.pragma("wal_autocheckpoint", "0");
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            // A local file does not hang up: no ping before every use.
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        let mut inbox = inbox_options.connect().await?;
        INBOX_MIGRATOR.run(&mut inbox).await?;
        let checkpointer = checkpoint_options.connect().await?;
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let generations = Arc::new(Generations::default());
        let checkpoints = tokio::spawn(checkpoint(checkpointer, generations.clone(), stopped));
        let store = SqliteStore {
            pool,
            inbox: Arc::new(tokio::sync::Mutex::new(Some(inbox))),
            gone: Arc::default(),
            generations,
            checkpoints: Arc::new(tokio::sync::Mutex::new(Some((stop, checkpoints)))),
        };
        store.clear_applied().await?;
        Ok(store)
    }

    /// Finishes what a crash interrupted: items recorded as applied but still in the
    /// inbox file are deleted there, the inbox file is checkpointed so that delete is on
    /// disk, then their records are dropped. (Should that checkpoint stop short, the
    /// records go like any others, after a later one: see [`Gone`].)
    async fn clear_applied(&self) -> Result<()> {
        let applied: Vec<i64> = sqlx::query_scalar("SELECT id FROM inbox_applied")
            .fetch_all(&self.pool)
            .await?;
        if applied.is_empty() {
            return Ok(());
        }
        let synced = {
            let mut guard = self.inbox().await?;
            let conn = guard.conn()?;
            for chunk in applied.chunks(IDS) {
                self.delete_ids(&mut *conn, "alert_inbox", chunk).await?;
            }
            // Nothing else writes yet, so a FULL checkpoint has nobody to wait for.
            let (busy, log, copied): (i64, i64, i64) =
                sqlx::query_as("PRAGMA wal_checkpoint(FULL)")
                    .fetch_one(&mut *conn)
                    .await?;
            busy == 0 && log == copied
        };
        if !synced {
            self.forget_applied(applied);
            return Ok(());
        }
        for chunk in applied.chunks(IDS) {
            self.delete_ids(&self.pool, "inbox_applied", chunk).await?;
        }
        Ok(())
    }

    /// The inbox connection, once the statements before ours on it are done.
    async fn inbox(&self) -> Result<InboxGuard<'_>> {
        Ok(InboxGuard(self.inbox.lock().await))
    }

    /// `DELETE FROM table WHERE id IN ids` (at most [`IDS`] ids).
    async fn delete_ids<'c, E>(&self, on: E, table: &str, ids: &[i64]) -> Result<()>
    where
        E: sqlx::Executor<'c, Database = Sqlite>,
    {
        if ids.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "DELETE FROM {table} WHERE id IN ({})",
            id_list(1, ids.len())
        );
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(id);
        }
        query.execute(on).await?;
        Ok(())
    }

    async fn claim_on<'c, E>(
        on: E,
        now: jiff::Timestamp,
        owner: &str,
        lease_until: jiff::Timestamp,
        limit: u32,
    ) -> Result<Vec<crate::InboxItem>>
    where
        E: sqlx::Executor<'c, Database = Sqlite>,
    {
        // One writer at a time: the claim is atomic without row locks.
        let rows: Vec<crate::rows::InboxRow> = sqlx::query_as(
            "UPDATE alert_inbox SET lease_owner = $2, lease_until_us = $3 \
             WHERE id IN (SELECT id FROM alert_inbox \
                WHERE dead_at_us IS NULL AND (lease_until_us IS NULL OR lease_until_us < $1) \
                ORDER BY id LIMIT $4) \
             RETURNING id, integration, received_at_us, alerts, attempts",
        )
        .bind(crate::rows::micros(now))
        .bind(owner)
        .bind(crate::rows::micros(lease_until))
        .bind(i64::from(limit))
        .fetch_all(on)
        .await?;
        rows.into_iter()
            .map(crate::rows::InboxRow::into_item)
            .collect()
    }

    /// Remembers inbox ids whose delete from the inbox file has just committed, so their
    /// `inbox_applied` rows can be dropped once it is on disk.
    fn forget_applied(&self, ids: Vec<i64>) {
        let at = self.generations.now();
        if let Ok(mut gone) = self.gone.lock() {
            gone.deleted(at, ids);
        }
    }
}

#[async_trait::async_trait]
impl Dialect for SqliteStore {
    type Db = Sqlite;
    const NAME: &'static str = "sqlite";

    // SQLite runs one writer at a time, so this statement is atomic without row locks.
    const CLAIM_DUE: &'static str = "UPDATE incidents SET lease_owner = $2, lease_until_us = $3 \
         WHERE number IN (SELECT number FROM incidents \
            WHERE next_due_at_us <= $1 AND (lease_until_us IS NULL OR lease_until_us < $1) \
            ORDER BY next_due_at_us LIMIT $4) \
         RETURNING number";

    // One writer at a time: the claim is atomic without row locks.
    const CLAIM_OUTBOX: &'static str = "UPDATE outbox SET lease_owner = $2, lease_until_us = $3 \
        WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND due_at_us <= $1 \
           AND (lease_until_us IS NULL OR lease_until_us < $1) ORDER BY due_at_us, id LIMIT $4) \
        RETURNING id, key, incident, person, channel, address, secret, message, \
           unless_acknowledged, due_at_us, attempts";

    /// A group commit of accepted alerts into the inbox file: one statement, or
    /// several in one transaction.
    async fn insert_inbox(
        &self,
        items: &[(String, jiff::Timestamp, crate::AlertBatch)],
    ) -> Result<()> {
        let mut guard = self.inbox().await?;
        let conn = guard.conn()?;
        if items.len() <= crate::sql::INBOX_ROWS {
            return Self::insert_rows(conn, items).await;
        }
        let mut tx = sqlx::Connection::begin(conn).await?;
        for chunk in items.chunks(crate::sql::INBOX_ROWS) {
            Self::insert_rows(&mut *tx, chunk).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Claims heartbeat items from the main file (negative ids) first, then receivers'
    /// items from the inbox file, skipping (and deleting) any already applied.
    async fn claim_inbox_items(
        &self,
        now: jiff::Timestamp,
        owner: &str,
        lease_until: jiff::Timestamp,
        limit: u32,
    ) -> Result<Vec<crate::InboxItem>> {
        let mut items = Self::claim_on(&self.pool, now, owner, lease_until, limit).await?;
        for item in &mut items {
            item.id = -item.id;
        }
        let left = limit.saturating_sub(items.len() as u32);
        if left == 0 {
            return Ok(items);
        }
        let mut fresh =
            Self::claim_on(self.inbox().await?.conn()?, now, owner, lease_until, left).await?;
        let ids: Vec<i64> = fresh.iter().map(|i| i.id).collect();
        let mut applied = Vec::new();
        for chunk in ids.chunks(IDS) {
            let sql = format!(
                "SELECT id FROM inbox_applied WHERE id IN ({})",
                id_list(1, chunk.len())
            );
            let mut query = sqlx::query_scalar::<_, i64>(&sql);
            for id in chunk {
                query = query.bind(id);
            }
            applied.extend(query.fetch_all(&self.pool).await?);
        }
        if !applied.is_empty() {
            tracing::warn!(
                items = applied.len(),
                "inbox items applied before a crash were still in the inbox; deleting them"
            );
            for chunk in applied.chunks(IDS) {
                self.delete_ids(self.inbox().await?.conn()?, "alert_inbox", chunk)
                    .await?;
            }
            fresh.retain(|i| !applied.contains(&i.id));
            self.forget_applied(applied);
        }
        items.extend(fresh);
        Ok(items)
    }

    async fn release_inbox_items(&self, owner: &str, ids: &[i64]) -> Result<()> {
        const RELEASE: &str = "UPDATE alert_inbox SET lease_owner = NULL, lease_until_us = NULL \
             WHERE id = $1 AND lease_owner = $2";
        for &id in ids {
            if id < 0 {
                let query = sqlx::query(RELEASE).bind(-id).bind(owner);
                query.execute(&self.pool).await?;
            } else {
                let query = sqlx::query(RELEASE).bind(id).bind(owner);
                query.execute(self.inbox().await?.conn()?).await?;
            }
        }
        Ok(())
    }

    async fn release_owned_inbox(&self, owner: &str) -> Result<u64> {
        let sql = crate::sql::RELEASE_OWNED_INBOX_SQL;
        let main = sqlx::query(sql).bind(owner).execute(&self.pool).await?;
        let inbox = sqlx::query(sql)
            .bind(owner)
            .execute(self.inbox().await?.conn()?)
            .await?;
        Ok(main.rows_affected() + inbox.rows_affected())
    }

    /// Heartbeat items (negative ids) live in the main file, the rest in the inbox file.
    async fn fail_inbox_item(
        &self,
        id: i64,
        error: &str,
        now: jiff::Timestamp,
        retry_at: Option<jiff::Timestamp>,
    ) -> Result<()> {
        let query = sqlx::query(crate::sql::FAIL_INBOX_SQL)
            .bind(id.checked_abs().unwrap_or(0))
            .bind(error)
            .bind(retry_at.map(crate::rows::micros))
            .bind(retry_at.is_none().then(|| crate::rows::micros(now)));
        if id < 0 {
            query.execute(&self.pool).await?;
        } else {
            query.execute(self.inbox().await?.conn()?).await?;
        }
        Ok(())
    }

    /// Both files' parked items (heartbeat items with negative ids), up to `limit` each.
    async fn dead_inbox_items(&self, limit: u32) -> Result<Vec<crate::rows::DeadLetterRow>> {
        let sql = crate::sql::DEAD_LETTERS_SQL;
        let mut rows: Vec<crate::rows::DeadLetterRow> = sqlx::query_as(sql)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        for row in &mut rows {
            row.id = -row.id;
        }
        let inbox: Vec<crate::rows::DeadLetterRow> = sqlx::query_as(sql)
            .bind(i64::from(limit))
            .fetch_all(self.inbox().await?.conn()?)
            .await?;
        rows.extend(inbox);
        Ok(rows)
    }

    async fn count_dead_inbox(&self) -> Result<u64> {
        let sql = crate::sql::DEAD_COUNT_SQL;
        let main: i64 = sqlx::query_scalar(sql).fetch_one(&self.pool).await?;
        let inbox: i64 = sqlx::query_scalar(sql)
            .fetch_one(self.inbox().await?.conn()?)
            .await?;
        Ok(u64::try_from(main + inbox).unwrap_or(0))
    }

    /// Heartbeat items in the main file and accepted alerts in the inbox file, together.
    async fn inbox_backlog(&self) -> Result<(i64, Option<i64>)> {
        let sql = crate::sql::BACKLOG_SQL;
        let (main, main_oldest): (i64, Option<i64>) =
            sqlx::query_as(sql).fetch_one(&self.pool).await?;
        let (inbox, inbox_oldest): (i64, Option<i64>) = sqlx::query_as(sql)
            .fetch_one(self.inbox().await?.conn()?)
            .await?;
        let oldest = match (main_oldest, inbox_oldest) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Ok((main + inbox, oldest))
    }

    async fn on_dead_item(&self, sql: &str, id: i64) -> Result<bool> {
        // No item has the id `i64::MIN` stands for (it has no positive twin).
        let Some(abs) = id.checked_abs() else {
            return Ok(false);
        };
        let query = sqlx::query(sql).bind(abs);
        let done = if id < 0 {
            query.execute(&self.pool).await?
        } else {
            query.execute(self.inbox().await?.conn()?).await?
        };
        Ok(done.rows_affected() > 0)
    }

    /// Inside the apply's transaction: heartbeat items are deleted (same file), inbox
    /// file items are recorded as applied; records of items already gone are dropped.
    async fn mark_processed_tx(
        &self,
        tx: &mut sqlx::Transaction<'static, Sqlite>,
        ids: &[i64],
    ) -> Result<()> {
        let main: Vec<i64> = ids.iter().filter(|&&id| id < 0).map(|id| -id).collect();
        for chunk in main.chunks(IDS) {
            self.delete_ids(&mut **tx, "alert_inbox", chunk).await?;
        }
        let inbox: Vec<i64> = ids.iter().copied().filter(|&id| id > 0).collect();
        for chunk in inbox.chunks(IDS) {
            let values: Vec<String> = (1..=chunk.len()).map(|i| format!("(${i})")).collect();
            // The primary key refuses an id applied twice: the transaction fails whole.
            let sql = format!(
                "INSERT INTO inbox_applied (id) VALUES {}",
                values.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(id);
            }
            query.execute(&mut **tx).await?;
        }
        let completed = self.generations.completed();
        let gone = self
            .gone
            .lock()
            .map(|mut gone| gone.take_durable(completed))
            .unwrap_or_default();
        // Taken last: conflicts are found before this point. Lost only if the commit
        // itself fails: harmless (ids are never reused), and the next open clears them.
        for chunk in gone.chunks(IDS) {
            if let Err(e) = self.delete_ids(&mut **tx, "inbox_applied", chunk).await {
                // Already on disk: generation 0 keeps them eligible.
                if let Ok(mut all) = self.gone.lock() {
                    all.deleted(0, gone);
                }
                return Err(e);
            }
        }
        Ok(())
    }

    /// After the apply committed: the items leave the inbox file. If that fails they
    /// stay there, recorded as applied, and the next claim or open deletes them.
    async fn after_processed(&self, ids: &[i64]) {
        let inbox: Vec<i64> = ids.iter().copied().filter(|&id| id > 0).collect();
        for chunk in inbox.chunks(IDS) {
            let deleted = match self.inbox().await {
                Ok(mut guard) => match guard.conn() {
                    Ok(conn) => self.delete_ids(conn, "alert_inbox", chunk).await,
                    Err(e) => Err(e),
                },
                Err(e) => Err(e),
            };
            match deleted {
                Ok(()) => self.forget_applied(chunk.to_vec()),
                Err(e) => {
                    tracing::warn!(error = %e, "applied inbox items not yet deleted; the next claim will")
                }
            }
        }
    }

    async fn close_inbox(&self) {
        // The checkpointer first, so the inbox connection is the file's last and its
        // close checkpoints what is left.
        if let Some((stop, done)) = self.checkpoints.lock().await.take() {
            let _ = stop.send(());
            let _ = done.await;
        }
        if let Some(conn) = self.inbox.lock().await.take() {
            if let Err(e) = sqlx::Connection::close(conn).await {
                tracing::warn!(error = %e, "closing the inbox file failed");
            }
        }
    }
}

impl_sql_store!(SqliteStore, Sqlite);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delete_is_durable_only_after_a_checkpoint_that_began_after_it() {
        let generations = Generations::default();
        let mut gone = Gone::default();
        // Checkpoint 1 is running when ids 1 and 2 are deleted: it may have missed them.
        let first = generations.begin();
        gone.deleted(generations.now(), [1, 2]);
        generations.complete(first);
        assert_eq!(
            gone.take_durable(generations.completed()),
            Vec::<i64>::new()
        );
        // Checkpoint 2 begins after the delete, but stops short: still not on disk.
        let second = generations.begin();
        gone.deleted(generations.now(), [3]);
        assert_eq!(
            gone.take_durable(generations.completed()),
            Vec::<i64>::new()
        );
        // Checkpoint 3 copies the whole WAL: 1 and 2 are on disk, 3 (deleted while 2
        // ran) too, since 3 began after it.
        let third = generations.begin();
        generations.complete(third);
        assert_eq!(gone.take_durable(generations.completed()), vec![1, 2, 3]);
        assert_eq!(
            gone.take_durable(generations.completed()),
            Vec::<i64>::new()
        );
        // A late report of an older checkpoint does not move the count back.
        generations.complete(second);
        assert_eq!(generations.completed(), third);
    }

    #[tokio::test]
    async fn the_checkpointer_completes_checkpoints() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
        let store = SqliteStore::open(&url).await.expect("open");
        let before = store.generations.completed();
        // A bounded wait for the background checkpointer, not a fixed sleep.
        let moved = tokio::time::timeout(Duration::from_secs(10), async {
            while store.generations.completed() <= before {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        assert!(moved.is_ok(), "no checkpoint completed within 10 s");
        store.close_inbox().await;
    }
}
