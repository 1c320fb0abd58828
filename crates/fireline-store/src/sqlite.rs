//! The embedded default: one SQLite file in WAL mode.

use crate::sql_store::impl_sql_store;
use crate::{Result, StoreError};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Pool, Sqlite};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// A store in a SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: Pool<Sqlite>,
}

impl SqliteStore {
    /// Opens (creating if missing, with its parent folder) the database at `url`
    /// (`sqlite://PATH`) and migrates it.
    pub async fn open(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::InvalidUrl(e.to_string()))?;
        let path = options.get_filename();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::InvalidUrl(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        let options = options
            .create_if_missing(true)
            // WAL with NORMAL sync: a commit is durable against a crash of the process
            // (it is in the WAL file before the commit returns), but the WAL is fsynced
            // only at checkpoints, so a power loss or kernel crash can lose the last
            // commits. FULL would sync on every commit (group commit amortises it).
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            // Writers queue on the lock instead of failing at once under concurrency.
            .busy_timeout(Duration::from_secs(10));
        // One connection: SQLite admits one writer at a time anyway, and with several
        // connections the writers that lose the race (the receivers' group commit, the
        // alert processor, the engine) wait in SQLite's busy handler, which sleeps in
        // steps of up to 100 ms: that made tail latency. One connection queues every
        // statement fairly in the pool instead. The cost: readers no longer run beside
        // a writer (WAL would allow it); transactions here are short.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(SqliteStore { pool })
    }
}

impl SqliteStore {
    // One writer at a time: the claim is atomic without row locks.
    const CLAIM_OUTBOX: &'static str = "UPDATE outbox SET lease_owner = $2, lease_until_us = $3 \
        WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND due_at_us <= $1 \
           AND (lease_until_us IS NULL OR lease_until_us < $1) ORDER BY due_at_us, id LIMIT $4) \
        RETURNING id, key, incident, person, channel, destination, message, \
           unless_acknowledged, due_at_us, attempts";
}

// SQLite runs one writer at a time, so this statement is atomic without row locks.
impl_sql_store!(
    SqliteStore,
    Sqlite,
    "sqlite",
    "UPDATE incidents SET lease_owner = $2, lease_until_us = $3 \
     WHERE number IN (SELECT number FROM incidents \
        WHERE next_due_at_us <= $1 AND (lease_until_us IS NULL OR lease_until_us < $1) \
        ORDER BY next_due_at_us LIMIT $4) \
     RETURNING number",
    "UPDATE alert_inbox SET lease_owner = $2, lease_until_us = $3 \
     WHERE id IN (SELECT id FROM alert_inbox \
        WHERE lease_until_us IS NULL OR lease_until_us < $1 ORDER BY id LIMIT $4) \
     RETURNING id, integration, received_at_us, alerts"
);
