//! Integrations: the keys monitoring sends alerts with.

use crate::t;
use fireline_store::testing::TestDatabase;
use fireline_store::{backend_tests, IntegrationRecord, StoreError};

backend_tests!(integrations_are_found_by_key_hash_and_id_and_revoked_once);

fn integration(id: &str, service: &str, created: i64) -> IntegrationRecord {
    IntegrationRecord {
        id: id.into(),
        name: format!("{service}-prometheus"),
        service: service.into(),
        created_at: t(created),
        revoked_at: None,
    }
}

async fn integrations_are_found_by_key_hash_and_id_and_revoked_once(db: &TestDatabase) {
    let store = db.store.as_ref();
    assert!(store.list_integrations().await.expect("list").is_empty());
    let api = integration("int_api", "api", 1);
    let db_ = integration("int_db", "db", 0);
    store
        .insert_integration(&api, "hash-api")
        .await
        .expect("insert");
    store
        .insert_integration(&db_, "hash-db")
        .await
        .expect("insert");
    assert!(
        store
            .insert_integration(&integration("int_other", "x", 2), "hash-api")
            .await
            .is_err(),
        "key hashes are unique"
    );
    assert!(
        store
            .insert_integration(&integration("int_api", "x", 2), "hash-new")
            .await
            .is_err(),
        "ids are unique"
    );
    assert_eq!(
        store
            .integration_by_key_hash("hash-api")
            .await
            .expect("read"),
        Some(api.clone())
    );
    assert_eq!(
        store
            .integration_by_key_hash("hash-nope")
            .await
            .expect("read"),
        None
    );
    assert_eq!(
        store.integration("int_db").await.expect("read"),
        Some(db_.clone())
    );
    assert_eq!(store.integration("int_nope").await.expect("read"), None);
    assert_eq!(
        store.list_integrations().await.expect("list"),
        vec![db_.clone(), api.clone()],
        "oldest first"
    );

    let revoked = store
        .revoke_integration("int_api", t(5))
        .await
        .expect("revoke");
    assert_eq!(
        revoked,
        IntegrationRecord {
            revoked_at: Some(t(5)),
            ..api.clone()
        }
    );
    assert_eq!(
        store
            .revoke_integration("int_api", t(9))
            .await
            .expect("revoke again")
            .revoked_at,
        Some(t(5)),
        "the first revocation time stands"
    );
    // The key still names its integration, marked revoked: receivers refuse it.
    assert_eq!(
        store
            .integration_by_key_hash("hash-api")
            .await
            .expect("read"),
        Some(revoked.clone())
    );
    assert_eq!(
        store.integration("int_api").await.expect("read"),
        Some(revoked.clone())
    );
    assert_eq!(
        store.list_integrations().await.expect("list"),
        vec![db_.clone(), revoked]
    );
    assert_eq!(
        store.integration("int_db").await.expect("read"),
        Some(db_),
        "others are untouched"
    );
    assert!(matches!(
        store.revoke_integration("int_nope", t(5)).await,
        Err(StoreError::NotFound)
    ));
}
