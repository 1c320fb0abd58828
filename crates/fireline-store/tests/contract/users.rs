//! Web UI users and the first-admin code.

use crate::t;
use fireline_core::AccessRole;
use fireline_store::testing::TestDatabase;
use fireline_store::{backend_tests, StoreError};

backend_tests!(
    users_are_unique_disabled_and_rehashed,
    the_first_admin_code_is_taken_once,
);

fn user(name: &str, at: i64) -> fireline_store::UserRecord {
    fireline_store::UserRecord {
        name: name.into(),
        role: AccessRole::Responder,
        password_hash: format!("$argon2id$fake-{name}"),
        created_at: t(at),
        password_changed_at: t(at),
        disabled_at: None,
        sessions_from: t(at),
    }
}

async fn users_are_unique_disabled_and_rehashed(db: &TestDatabase) {
    let store = db.store.as_ref();
    store
        .insert_user(&user("bob", 1))
        .await
        .expect("insert bob");
    store
        .insert_user(&user("alice", 2))
        .await
        .expect("insert alice");
    assert!(matches!(
        store.insert_user(&user("bob", 3)).await,
        Err(StoreError::Exists(_))
    ));
    assert_eq!(
        store.user("bob").await.expect("read"),
        Some(user("bob", 1)),
        "a refused duplicate changes nothing"
    );
    let names: Vec<String> = store
        .list_users()
        .await
        .expect("list")
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, vec!["alice", "bob"]);

    store
        .update_user_password("bob", "$argon2id$new", t(7))
        .await
        .expect("rehash");
    let bob = store.user("bob").await.expect("read").expect("bob");
    assert_eq!(
        (
            bob.password_hash.as_str(),
            bob.password_changed_at,
            bob.sessions_from,
            bob.created_at
        ),
        ("$argon2id$new", t(7), t(7), t(1))
    );
    assert!(matches!(
        store.update_user_password("carol", "x", t(7)).await,
        Err(StoreError::NotFound)
    ));

    let disabled = store
        .set_user_disabled("bob", Some(t(8)))
        .await
        .expect("disable");
    assert_eq!(disabled.disabled_at, Some(t(8)));
    assert_eq!(disabled.sessions_from, t(8), "disabling ends sessions");
    let enabled = store.set_user_disabled("bob", None).await.expect("enable");
    assert_eq!(enabled.disabled_at, None);
    assert_eq!(
        enabled.sessions_from,
        t(8),
        "re-enabling does not bring old sessions back"
    );
    assert!(matches!(
        store.set_user_disabled("carol", Some(t(8))).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.user("carol").await.expect("read"), None);
}

async fn the_first_admin_code_is_taken_once(db: &TestDatabase) {
    let store = db.store.as_ref();
    let admin = fireline_store::UserRecord {
        role: AccessRole::Admin,
        ..user("root", 1)
    };
    assert!(
        !store.claim_first_admin("h1", &admin).await.expect("claim"),
        "no code was made yet"
    );
    store.set_first_admin_code("h1").await.expect("set");
    store.set_first_admin_code("h2").await.expect("replace");
    assert!(!store.first_admin_code_is("h1").await.expect("read"));
    assert!(store.first_admin_code_is("h2").await.expect("read"));
    assert!(
        !store.claim_first_admin("h1", &admin).await.expect("claim"),
        "a replaced code is void"
    );
    assert_eq!(store.user("root").await.expect("read"), None);

    assert!(
        store.claim_first_admin("h2", &admin).await.expect("claim"),
        "the current code makes the first admin"
    );
    assert_eq!(store.user("root").await.expect("read"), Some(admin.clone()));
    assert!(
        !store
            .claim_first_admin("h2", &user("second", 1))
            .await
            .expect("claim"),
        "the code works once"
    );
    assert_eq!(store.user("second").await.expect("read"), None);

    // A code is void once any user exists, and creating a user voids it.
    store.set_first_admin_code("h3").await.expect("set");
    assert!(!store.first_admin_code_is("h3").await.expect("read"));
    assert!(
        !store
            .claim_first_admin("h3", &user("third", 1))
            .await
            .expect("claim"),
        "users exist: no first admin any more"
    );
}
