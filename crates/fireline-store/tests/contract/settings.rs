//! Server-wide settings (keys the server makes once and rotates).

use fireline_store::testing::TestDatabase;
use fireline_store::{backend_tests, Store};
use std::sync::Arc;

backend_tests!(
    a_setting_is_initialised_once_and_replicas_racing_agree_on_the_first,
    a_replaced_setting_is_the_one_in_force,
);

async fn a_setting_is_initialised_once_and_replicas_racing_agree_on_the_first(db: &TestDatabase) {
    let store: Arc<dyn Store> = db.store.clone();
    assert_eq!(
        store
            .setting_or_init("ack_secret", "aaaa")
            .await
            .expect("init"),
        "aaaa"
    );
    assert_eq!(
        store
            .setting_or_init("ack_secret", "bbbb")
            .await
            .expect("read"),
        "aaaa",
        "the first value stays"
    );
    assert_eq!(
        store
            .setting_or_init("feed_key", "cccc")
            .await
            .expect("init"),
        "cccc",
        "settings are by name"
    );
    let mut racers = Vec::new();
    for n in 0..8 {
        let store = store.clone();
        racers.push(tokio::spawn(async move {
            store
                .setting_or_init("vapid_key", &format!("key-{n}"))
                .await
        }));
    }
    let mut seen = Vec::new();
    for racer in racers {
        seen.push(racer.await.expect("joined").expect("init"));
    }
    seen.dedup();
    assert_eq!(seen.len(), 1, "every replica got the same key: {seen:?}");
    assert!(seen[0].starts_with("key-"));
    assert_eq!(
        store
            .setting_or_init("vapid_key", "late")
            .await
            .expect("read"),
        seen[0]
    );
}

async fn a_replaced_setting_is_the_one_in_force(db: &TestDatabase) {
    let store = db.store.as_ref();
    store
        .replace_setting("feed_key", "fresh")
        .await
        .expect("set a new name");
    assert_eq!(
        store
            .setting_or_init("feed_key", "other")
            .await
            .expect("read"),
        "fresh"
    );
    store
        .replace_setting("feed_key", "rotated")
        .await
        .expect("rotate");
    assert_eq!(
        store
            .setting_or_init("feed_key", "other")
            .await
            .expect("read"),
        "rotated"
    );
    assert_eq!(
        store
            .setting_or_init("ack_secret", "kept")
            .await
            .expect("init"),
        "kept",
        "other settings are untouched"
    );
    // The first-admin code is a setting too; its own calls see a replacement.
    store
        .replace_setting("first_admin_code", "hash-1")
        .await
        .expect("set");
    assert!(store.first_admin_code_is("hash-1").await.expect("read"));
}
