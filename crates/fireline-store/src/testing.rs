//! Throw-away databases for tests, on either backend.
//!
//! PostgreSQL tests use the server named by `FIRELINE_TEST_DATABASE_URL`, each in a schema
//! of its own that is dropped afterwards. When the variable is set and the server cannot
//! be reached, they fail: a configured backend that silently skips would hide breakage.

use crate::{open, Store};
use std::sync::Arc;

/// The environment variable naming the PostgreSQL server for tests.
pub const POSTGRES_URL_VAR: &str = "FIRELINE_TEST_DATABASE_URL";

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDatabase {
    /// A URL that `fireline serve --db` and [`crate::open`] accept.
    pub url: String,
    /// The open store.
    pub store: Arc<dyn Store>,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { server_url: String, schema: String },
}

fn random_suffix() -> String {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).expect("the OS has randomness");
    hex::encode(bytes)
}

impl TestDatabase {
    /// A fresh SQLite database in a temporary folder.
    pub async fn sqlite() -> TestDatabase {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("fireline.db").display());
        let store = open(&url).await.expect("open test SQLite database");
        TestDatabase {
            url,
            store,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// A fresh schema on the configured PostgreSQL server, or `None` when no server is
    /// configured. Panics when one is configured but unreachable.
    pub async fn postgres() -> Option<TestDatabase> {
        let server_url = match std::env::var(POSTGRES_URL_VAR) {
            Ok(url) if !url.trim().is_empty() => url,
            _ => {
                eprintln!("{POSTGRES_URL_VAR} is not set: skipping the PostgreSQL variant");
                return None;
            }
        };
        let schema = format!("fireline_test_{}", random_suffix());
        let admin = sqlx::PgPool::connect(&server_url)
            .await
            .unwrap_or_else(|e| {
                panic!("{POSTGRES_URL_VAR} is set but PostgreSQL is unreachable: {e}")
            });
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&admin)
            .await
            .expect("create test schema");
        admin.close().await;
        let sep = if server_url.contains('?') { '&' } else { '?' };
        // `options=-c search_path=…` makes every pooled connection use the schema.
        let url = format!("{server_url}{sep}options=-c%20search_path%3D{schema}");
        let store = open(&url).await.expect("open test PostgreSQL schema");
        Some(TestDatabase {
            url,
            store,
            cleanup: Cleanup::Postgres { server_url, schema },
        })
    }

    /// Runs `sql` on the main database behind the store's back, as damage or an old
    /// version would leave it: for tests of how the code copes with what it would
    /// never write itself.
    pub async fn execute_raw(&self, sql: &str) {
        use sqlx::Connection;
        match &self.cleanup {
            Cleanup::Sqlite(_) => {
                let mut conn = sqlx::SqliteConnection::connect(&self.url)
                    .await
                    .expect("open the SQLite file");
                sqlx::raw_sql(sql)
                    .execute(&mut conn)
                    .await
                    .expect("raw SQL");
                conn.close().await.expect("close");
            }
            Cleanup::Postgres { .. } => {
                let mut conn = sqlx::PgConnection::connect(&self.url)
                    .await
                    .expect("connect to PostgreSQL");
                sqlx::raw_sql(sql)
                    .execute(&mut conn)
                    .await
                    .expect("raw SQL");
                conn.close().await.expect("close");
            }
        }
    }

    /// Closes the store and removes the database.
    pub async fn drop_database(self) {
        self.store.close().await;
        if let Cleanup::Postgres { server_url, schema } = &self.cleanup {
            if let Ok(admin) = sqlx::PgPool::connect(server_url).await {
                let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                    .execute(&admin)
                    .await;
                admin.close().await;
            }
        }
    }
}

/// Defines one `#[tokio::test]` per backend for each named async fn taking a
/// `&TestDatabase`: `backend_tests!(creates_incident, appends);` makes
/// `sqlite::creates_incident`, `postgres::creates_incident`, …
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::testing::TestDatabase::sqlite().await;
                    super::$name(&db).await;
                    db.drop_database().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = $crate::testing::TestDatabase::postgres().await else {
                        return;
                    };
                    super::$name(&db).await;
                    db.drop_database().await;
                }
            )*
        }
    };
}
