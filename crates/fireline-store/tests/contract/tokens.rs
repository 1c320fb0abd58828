//! API tokens.

use crate::t;
use fireline_core::AccessRole;
use fireline_store::testing::TestDatabase;
use fireline_store::{backend_tests, StoreError, TokenRecord};

backend_tests!(tokens_are_found_by_hash_and_revoked_once);

async fn tokens_are_found_by_hash_and_revoked_once(db: &TestDatabase) {
    let store = db.store.as_ref();
    let record = TokenRecord {
        id: "tok_a".into(),
        name: "ops-bot".into(),
        role: AccessRole::Responder,
        created_at: t(0),
        revoked_at: None,
    };
    store.insert_token(&record, "hash-a").await.expect("insert");
    let viewer = TokenRecord {
        id: "tok_b".into(),
        name: "dash".into(),
        role: AccessRole::Viewer,
        created_at: t(1),
        revoked_at: None,
    };
    store
        .insert_token(&viewer, "hash-b")
        .await
        .expect("insert b");
    assert!(
        store
            .insert_token(
                &TokenRecord {
                    id: "tok_c".into(),
                    ..viewer.clone()
                },
                "hash-b"
            )
            .await
            .is_err(),
        "hashes are unique"
    );

    assert_eq!(
        store.token_by_hash("hash-a").await.expect("lookup"),
        Some(record.clone())
    );
    assert_eq!(store.token_by_hash("nope").await.expect("lookup"), None);
    assert_eq!(
        store.token(&record.id).await.expect("lookup"),
        Some(record.clone())
    );
    assert_eq!(store.token("tok_nope").await.expect("lookup"), None);
    let ids: Vec<String> = store
        .list_tokens()
        .await
        .expect("list")
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(ids, vec!["tok_a", "tok_b"]);

    let revoked = store.revoke_token("tok_a", t(5)).await.expect("revoke");
    assert_eq!(revoked.revoked_at, Some(t(5)));
    let again = store
        .revoke_token("tok_a", t(9))
        .await
        .expect("revoke again");
    assert_eq!(
        again.revoked_at,
        Some(t(5)),
        "the first revocation time stands"
    );
    assert_eq!(
        store
            .token_by_hash("hash-a")
            .await
            .expect("lookup")
            .and_then(|t| t.revoked_at),
        Some(t(5))
    );
    assert!(matches!(
        store.revoke_token("tok_zzz", t(5)).await,
        Err(StoreError::NotFound)
    ));
}
