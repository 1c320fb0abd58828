//! People who sign in, and the one-time code that makes the first admin.
//!
//! [`Users`] is what the rest of fireline calls; `sql_users!` is its one SQL
//! implementation, instantiated for both backends by `crate::sql::impl_sql_store!`.

use crate::{Result, UserRecord};
use async_trait::async_trait;
use jiff::Timestamp;

/// People who sign in, and the one-time code that makes the first admin. Part of [`Store`](crate::Store).
#[async_trait]
pub trait Users: Send + Sync {
    /// Stores a new UI user (and voids any first-admin code); [`StoreError::Exists`](crate::StoreError::Exists)
    /// when the name is taken.
    async fn insert_user(&self, user: &UserRecord) -> Result<()>;

    /// The user with this name, disabled or not.
    async fn user(&self, name: &str) -> Result<Option<UserRecord>>;

    /// Every user, by name.
    async fn list_users(&self) -> Result<Vec<UserRecord>>;

    /// Replaces a user's password hash, sets `password_changed_at` to `at` and moves
    /// `sessions_from` forward to `at` (or by 1 µs), which voids the user's sessions;
    /// [`StoreError::NotFound`](crate::StoreError::NotFound) for an unknown name.
    async fn update_user_password(&self, name: &str, hash: &str, at: Timestamp) -> Result<()>;

    /// Disables (`Some(at)`, which also moves `sessions_from` forward) or re-enables
    /// (`None`) a user; [`StoreError::NotFound`](crate::StoreError::NotFound) for an unknown name. A disabled user
    /// cannot sign in and their sessions end for good.
    async fn set_user_disabled(&self, name: &str, at: Option<Timestamp>) -> Result<UserRecord>;

    /// Replaces the one-time first-admin code's hash (a server start on an empty
    /// database makes a new one).
    async fn set_first_admin_code(&self, code_hash: &str) -> Result<()>;

    /// Whether `code_hash` is the first-admin code's and no user exists yet (a read:
    /// [`Users::claim_first_admin`] checks again as it consumes it).
    async fn first_admin_code_is(&self, code_hash: &str) -> Result<bool>;

    /// In one transaction: consumes the first-admin code if `code_hash` is it and no
    /// user exists yet, and then stores `user`. `Ok(false)` when the code is not (or no
    /// longer) valid; nothing is written then. [`StoreError::Exists`](crate::StoreError::Exists) when the name is
    /// taken (the code stays).
    async fn claim_first_admin(&self, code_hash: &str, user: &UserRecord) -> Result<bool>;
}

/// Implements [`Users`] for `$store`, a backend whose `pool` is a `sqlx::Pool<$db>`.
macro_rules! sql_users {
    ($store:ty, $db:ty) => {
        impl $store {
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
        }

        #[async_trait::async_trait]
        impl $crate::Users for $store {
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
        }
    };
}

pub(crate) use sql_users;
