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
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                StoreError::Unavailable(e)
            }
            other => StoreError::Database(other),
        }
    }
}

impl From<FoldError> for StoreError {
    fn from(e: FoldError) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}
