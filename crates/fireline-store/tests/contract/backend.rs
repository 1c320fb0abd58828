//! The backend itself: its name, liveness, closing and reopening.

use crate::{act, declare_one, t};
use fireline_core::Command;
use fireline_store::testing::TestDatabase;
use fireline_store::{backend_tests, StoreError};

backend_tests!(
    reopening_the_database_loses_nothing,
    the_backend_names_itself_and_answers_a_ping,
    a_closed_store_refuses_work_and_a_reopened_one_has_it_all,
);

async fn reopening_the_database_loses_nothing(db: &TestDatabase) {
    let inc = declare_one(db.store.as_ref(), "persisted", "SEV2", "api", 0).await;
    act(db.store.as_ref(), inc.id, "bob", 1, Command::Acknowledge)
        .await
        .expect("ack");
    let before = db.store.events(inc.id).await.expect("events");
    let reopened = fireline_store::open(&db.url).await.expect("reopen");
    assert_eq!(
        reopened.events(inc.id).await.expect("events after reopen"),
        before
    );
    let next = declare_one(reopened.as_ref(), "next", "SEV4", "api", 2).await;
    assert!(next.id > inc.id, "the id sequence survives a restart");
    reopened.close().await;
}

#[tokio::test]
async fn unknown_url_scheme_is_refused() {
    let err = fireline_store::open("mysql://x")
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("sqlite://"), "{err}");
}

async fn the_backend_names_itself_and_answers_a_ping(db: &TestDatabase) {
    let expected = if db.url.starts_with("sqlite") {
        "sqlite"
    } else {
        "postgres"
    };
    assert_eq!(db.store.backend(), expected);
    db.store.ping().await.expect("a fresh store answers");
    let reopened = fireline_store::open(&db.url).await.expect("reopen");
    assert_eq!(reopened.backend(), expected, "the URL picks the backend");
    reopened.close().await;
}

async fn a_closed_store_refuses_work_and_a_reopened_one_has_it_all(db: &TestDatabase) {
    let store = fireline_store::open(&db.url).await.expect("open");
    let inc = declare_one(store.as_ref(), "persisted", "SEV2", "api", 0).await;
    store
        .enqueue_alerts_batch(&[("int_a".into(), t(0), fireline_store::AlertBatch::raw("[1]"))])
        .await
        .expect("enqueue");
    store.close().await;
    assert!(
        matches!(store.ping().await, Err(StoreError::Unavailable(_))),
        "a closed store does not answer"
    );
    assert!(matches!(
        store.events(inc.id).await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(
        matches!(
            store.claim_inbox(t(1), "w", t(2), 10).await,
            Err(StoreError::Unavailable(_))
        ),
        "the inbox is closed too"
    );
    // What was written before the close is all there.
    let reopened = fireline_store::open(&db.url).await.expect("reopen");
    reopened.ping().await.expect("ping");
    assert_eq!(reopened.events(inc.id).await.expect("events").len(), 1);
    let items = reopened
        .claim_inbox(t(1), "w", t(2), 10)
        .await
        .expect("claim");
    assert_eq!(
        items
            .iter()
            .map(|i| i.alerts.as_stored())
            .collect::<Vec<_>>(),
        ["[1]"]
    );
    reopened.close().await;
    // The test database's own store still answers: closing one store closes only it.
    db.store.ping().await.expect("the other store");
}
