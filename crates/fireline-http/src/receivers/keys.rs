//! A short-lived in-memory map from integration key hash to integration.
//!
//! Every alert request names its integration by key; looking it up in the database each
//! time costs a query on the hottest path. Entries live a few seconds, so a revocation
//! made by another replica takes effect that quickly; a revocation made through this
//! process forgets the integration at once. Unknown keys are never cached: they stay a
//! database miss, and a flood of made-up keys cannot grow the map.

use fireline_store::{IntegrationRecord, Store, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a looked-up integration is trusted without asking the database again.
pub const KEY_TTL: Duration = Duration::from_secs(3);

/// Most entries kept; beyond it the map starts afresh (integrations are few, so this
/// only bounds memory against pathological use).
const MAX_ENTRIES: usize = 10_000;

/// Integrations by key hash, with a short time to live.
#[derive(Debug, Clone, Default)]
pub struct KeyCache {
    entries: Arc<Mutex<HashMap<String, (IntegrationRecord, Instant)>>>,
}

impl KeyCache {
    /// The live (not revoked) integration whose key has this hash, if any.
    pub async fn lookup(
        &self,
        store: &dyn Store,
        key_hash: &str,
    ) -> Result<Option<IntegrationRecord>, StoreError> {
        if let Some(hit) = self.fresh(key_hash) {
            return Ok(Some(hit));
        }
        let found = store
            .integration_by_key_hash(key_hash)
            .await?
            .filter(|i| i.revoked_at.is_none());
        if let Some(record) = &found {
            if let Ok(mut entries) = self.entries.lock() {
                if entries.len() >= MAX_ENTRIES {
                    entries.clear();
                }
                entries.insert(key_hash.to_owned(), (record.clone(), Instant::now()));
            }
        }
        Ok(found)
    }

    fn fresh(&self, key_hash: &str) -> Option<IntegrationRecord> {
        let entries = self.entries.lock().ok()?;
        let (record, at) = entries.get(key_hash)?;
        (at.elapsed() < KEY_TTL).then(|| record.clone())
    }

    /// Forgets the integration with this id (it was just revoked here).
    pub fn forget(&self, integration_id: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|_, (record, _)| record.id != integration_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fireline_store::testing::TestDatabase;

    #[tokio::test]
    async fn a_revocation_here_takes_effect_at_once_and_unknown_keys_are_not_kept() {
        let db = TestDatabase::sqlite().await;
        let at: jiff::Timestamp = "2026-03-02T14:00:00Z".parse().expect("time");
        let record = IntegrationRecord {
            id: "int_a".to_owned(),
            name: "a".to_owned(),
            service: "api".to_owned(),
            created_at: at,
            revoked_at: None,
        };
        db.store
            .insert_integration(&record, "hash-a")
            .await
            .expect("insert");
        let cache = KeyCache::default();
        let store = db.store.as_ref();
        assert_eq!(
            cache.lookup(store, "hash-a").await.expect("lookup"),
            Some(record.clone())
        );
        assert_eq!(cache.lookup(store, "hash-b").await.expect("lookup"), None);
        assert_eq!(
            cache.entries.lock().expect("lock").len(),
            1,
            "misses are not kept"
        );

        store.revoke_integration("int_a", at).await.expect("revoke");
        // Revoked elsewhere: the entry is trusted until it expires (KEY_TTL)…
        assert!(cache
            .lookup(store, "hash-a")
            .await
            .expect("lookup")
            .is_some());
        // …revoked through this process: gone at once.
        cache.forget("int_a");
        assert_eq!(cache.lookup(store, "hash-a").await.expect("lookup"), None);
        db.drop_database().await;
    }
}
