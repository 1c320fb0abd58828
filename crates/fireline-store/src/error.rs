//! The store's error: callers tell apart what they can act on.

use fireline_core::FoldError;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The incident or token does not exist.
    #[error("not found")]
    NotFound,
    /// Someone else appended first; reload and decide again.
    #[error("version conflict: expected version {expected}, found {actual}")]
    Conflict {
        /// The version the caller decided on.
        expected: u64,
        /// The version stored now.
        actual: u64,
    },
    /// A record with this name already exists.
    #[error("{0} already exists")]
    Exists(String),
    /// The database URL is not one we can open.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    /// Stored data does not decode: a bug or a damaged database.
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    /// A schema migration failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database cannot be reached right now (connection refused, pool exhausted).
    #[error("database unavailable: {0}")]
    Unavailable(sqlx::Error),
    /// The database refused or failed the operation.
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e),
            sqlx::Error::Database(ref db) if db.code().as_deref().is_some_and(transient) => {
                StoreError::Unavailable(e)
            }
            other => StoreError::Database(other),
        }
    }
}

/// Whether a database error code says the database cannot do the work *now* (busy,
/// locked, out of space, read-only after a failover, shutting down, a deadlock), not
/// that this request is at fault: work refused so is retried as a whole later, never
/// counted against an alert.
pub(crate) fn transient(code: &str) -> bool {
    // A SQLSTATE is always five characters (and may be all digits); SQLite's extended
    // result codes are at most four digits.
    match code.parse::<i64>().ok().filter(|_| code.len() < 5) {
        // SQLite (extended result codes; the primary code is the low byte): BUSY,
        // LOCKED, IOERR, FULL, CANTOPEN.
        Some(n) => matches!(n & 0xff, 5 | 6 | 10 | 13 | 14),
        // PostgreSQL SQLSTATE: connection exceptions, insufficient resources, operator
        // intervention (admin shutdown, crash shutdown, cannot connect now), system
        // errors, a read-only transaction (a standby after failover), serialization
        // failures and deadlocks.
        None => {
            matches!(code.get(..2), Some("08" | "53" | "57" | "58"))
                || matches!(code, "25006" | "40001" | "40P01")
        }
    }
}

impl From<FoldError> for StoreError {
    fn from(e: FoldError) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::transient;

    #[test]
    fn busy_locked_and_failover_errors_are_transient_constraint_errors_are_not() {
        for code in [
            "5", "517", "6", "262", "13", "08006", "57P01", "25006", "40P01", "53100",
        ] {
            assert!(transient(code), "{code}");
        }
        for code in ["19", "2067", "23505", "22021", "42P01", "1"] {
            assert!(!transient(code), "{code}");
        }
    }
}
