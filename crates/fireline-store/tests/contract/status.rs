//! Admins' overrides of components' public status.

use crate::t;
use fireline_store::testing::TestDatabase;
use fireline_store::{backend_tests, StatusOverride};

backend_tests!(a_status_override_is_set_replaced_listed_by_service_and_deleted_once);

async fn a_status_override_is_set_replaced_listed_by_service_and_deleted_once(db: &TestDatabase) {
    let store = db.store.as_ref();
    assert!(store.status_overrides().await.expect("read").is_empty());
    let search = StatusOverride {
        service: "search".into(),
        status: "maintenance".into(),
        until: Some(t(60)),
        note: Some("reindexing".into()),
        set_by: "alice".into(),
        set_at: t(0),
    };
    let api = StatusOverride {
        service: "api".into(),
        status: "degraded".into(),
        until: None,
        note: None,
        set_by: "bob".into(),
        set_at: t(1),
    };
    store.put_status_override(&search).await.expect("put");
    store.put_status_override(&api).await.expect("put");
    assert_eq!(
        store.status_overrides().await.expect("read"),
        vec![api.clone(), search.clone()],
        "by service"
    );
    // Setting it again replaces every field.
    let recovered = StatusOverride {
        status: "operational".into(),
        until: None,
        note: None,
        set_by: "carol".into(),
        set_at: t(2),
        ..search.clone()
    };
    store
        .put_status_override(&recovered)
        .await
        .expect("replace");
    assert_eq!(
        store.status_overrides().await.expect("read"),
        vec![api.clone(), recovered]
    );
    assert!(store
        .delete_status_override("search")
        .await
        .expect("delete"));
    assert!(
        !store
            .delete_status_override("search")
            .await
            .expect("delete"),
        "deleting a missing override answers false"
    );
    assert!(!store.delete_status_override("db").await.expect("delete"));
    assert_eq!(store.status_overrides().await.expect("read"), vec![api]);
}
