//! The status page's subscribers: one row per address, confirmation, links, failures.

use crate::t;
use fireline_store::testing::TestDatabase;
use fireline_store::{backend_tests, NewSubscriber, Store, SubscriberKind, SubscriberLink};

backend_tests!(
    subscribing_an_address_twice_keeps_one_row_and_a_confirmed_one_unchanged,
    a_subscriber_is_read_by_id_and_by_each_link,
    confirmation_mails_are_claimed_at_most_once_per_window,
    confirming_keeps_the_first_time_and_needs_a_subscriber,
    the_active_list_holds_confirmed_subscribers_that_are_not_disabled,
    removing_a_subscriber_answers_whether_it_was_there,
    a_permanent_failure_disables_and_a_transient_one_is_only_recorded,
    unconfirmed_subscriptions_older_than_the_cutoff_are_purged,
);

fn new(id: &str, address: &str, components: &[&str], minute: i64) -> NewSubscriber {
    NewSubscriber {
        id: id.into(),
        kind: SubscriberKind::Email,
        address: address.into(),
        contact: None,
        components: components.iter().map(|c| (*c).to_owned()).collect(),
        confirm_hash: format!("confirm-{id}"),
        unsubscribe_hash: format!("unsubscribe-{id}"),
        created_at: t(minute),
    }
}

async fn add(store: &dyn Store, sub: &NewSubscriber) -> fireline_store::Subscriber {
    store.add_subscriber(sub).await.expect("add")
}

async fn subscribing_an_address_twice_keeps_one_row_and_a_confirmed_one_unchanged(
    db: &TestDatabase,
) {
    let store = db.store.as_ref();
    let first = add(store, &new("a1", "ann@example.com", &["api"], 0)).await;
    assert_eq!(first.id, "a1");
    assert_eq!(first.components, vec!["api".to_owned()]);
    assert_eq!(first.confirmed_at, None);
    // Again, unconfirmed: the same row takes the new components.
    let again = add(store, &new("a2", "ann@example.com", &["db"], 1)).await;
    assert_eq!(again.id, "a1", "one row per address");
    assert_eq!(again.components, vec!["db".to_owned()]);
    assert_eq!(again.created_at, t(1));
    // Confirmed, it is not changed by whoever types the address.
    assert!(store.confirm_subscriber("a1", t(2)).await.expect("confirm"));
    let kept = add(store, &new("a3", "ann@example.com", &[], 3)).await;
    assert_eq!(kept.id, "a1");
    assert_eq!(kept.components, vec!["db".to_owned()]);
    assert_eq!(kept.confirmed_at, Some(t(2)));
    // The same text as a webhook URL is another subscriber.
    let hook = add(
        store,
        &NewSubscriber {
            kind: SubscriberKind::Webhook,
            contact: Some("ops@example.com".into()),
            ..new("w1", "ann@example.com", &[], 4)
        },
    )
    .await;
    assert_eq!(hook.id, "w1");
    assert_eq!(hook.kind, SubscriberKind::Webhook);
    assert_eq!(hook.contact.as_deref(), Some("ops@example.com"));
    // Disabled by a bounce, it is requested afresh and must confirm again.
    store
        .subscriber_failed("a1", t(5), "550 no such user", true)
        .await
        .expect("fail");
    let renewed = add(store, &new("a4", "ann@example.com", &["web"], 6)).await;
    assert_eq!(renewed.id, "a1");
    assert_eq!(renewed.components, vec!["web".to_owned()]);
    assert_eq!(renewed.confirmed_at, None);
    assert_eq!(renewed.disabled_at, None);
    assert_eq!(store.subscribers(false).await.expect("list").len(), 2);
}

async fn a_subscriber_is_read_by_id_and_by_each_link(db: &TestDatabase) {
    let store = db.store.as_ref();
    let stored = add(store, &new("b1", "bob@example.com", &[], 0)).await;
    assert_eq!(
        store.subscriber("b1").await.expect("read"),
        Some(stored.clone())
    );
    assert_eq!(store.subscriber("nobody").await.expect("read"), None);
    let by = |link, hash: &'static str| async move {
        store.subscriber_by_link(link, hash).await.expect("read")
    };
    assert_eq!(
        by(SubscriberLink::Confirm, "confirm-b1").await,
        Some(stored.clone())
    );
    assert_eq!(
        by(SubscriberLink::Unsubscribe, "unsubscribe-b1").await,
        Some(stored)
    );
    // Each link finds only through its own kind.
    assert_eq!(by(SubscriberLink::Unsubscribe, "confirm-b1").await, None);
    assert_eq!(by(SubscriberLink::Confirm, "unsubscribe-b1").await, None);
    assert_eq!(by(SubscriberLink::Confirm, "confirm-zz").await, None);
}

async fn confirmation_mails_are_claimed_at_most_once_per_window(db: &TestDatabase) {
    let store = db.store.as_ref();
    add(store, &new("c1", "cat@example.com", &[], 0)).await;
    assert!(store
        .claim_confirmation("c1", t(0), t(-10))
        .await
        .expect("claim"));
    assert!(
        !store
            .claim_confirmation("c1", t(5), t(-5))
            .await
            .expect("claim"),
        "one within the window"
    );
    assert_eq!(
        store
            .subscriber("c1")
            .await
            .expect("read")
            .and_then(|s| s.confirmation_sent_at),
        Some(t(0))
    );
    assert!(store
        .claim_confirmation("c1", t(10), t(0))
        .await
        .expect("claim"));
    assert!(!store
        .claim_confirmation("none", t(10), t(0))
        .await
        .expect("claim"));
}

async fn confirming_keeps_the_first_time_and_needs_a_subscriber(db: &TestDatabase) {
    let store = db.store.as_ref();
    add(store, &new("d1", "dan@example.com", &[], 0)).await;
    assert!(store.confirm_subscriber("d1", t(1)).await.expect("confirm"));
    assert!(store
        .confirm_subscriber("d1", t(2))
        .await
        .expect("confirm again"));
    let read = store.subscriber("d1").await.expect("read").expect("there");
    assert_eq!(read.confirmed_at, Some(t(1)));
    assert!(read.is_active());
    assert!(!store
        .confirm_subscriber("none", t(1))
        .await
        .expect("confirm"));
}

async fn the_active_list_holds_confirmed_subscribers_that_are_not_disabled(db: &TestDatabase) {
    let store = db.store.as_ref();
    add(store, &new("e1", "e1@example.com", &[], 0)).await;
    add(store, &new("e2", "e2@example.com", &["api"], 1)).await;
    add(store, &new("e3", "e3@example.com", &[], 2)).await;
    for id in ["e2", "e3"] {
        store.confirm_subscriber(id, t(3)).await.expect("confirm");
    }
    store
        .subscriber_failed("e3", t(4), "410 Gone", true)
        .await
        .expect("fail");
    let ids = |list: Vec<fireline_store::Subscriber>| -> Vec<String> {
        list.into_iter().map(|s| s.id).collect()
    };
    assert_eq!(
        ids(store.subscribers(false).await.expect("all")),
        ["e1", "e2", "e3"],
        "oldest first"
    );
    assert_eq!(ids(store.subscribers(true).await.expect("active")), ["e2"]);
}

async fn removing_a_subscriber_answers_whether_it_was_there(db: &TestDatabase) {
    let store = db.store.as_ref();
    add(store, &new("f1", "fay@example.com", &[], 0)).await;
    assert!(store.remove_subscriber("f1").await.expect("remove"));
    assert!(!store.remove_subscriber("f1").await.expect("remove again"));
    assert_eq!(store.subscriber("f1").await.expect("read"), None);
    // The address may subscribe again: a new row, with new links.
    let again = add(store, &new("f2", "fay@example.com", &[], 1)).await;
    assert_eq!(again.id, "f2");
}

async fn a_permanent_failure_disables_and_a_transient_one_is_only_recorded(db: &TestDatabase) {
    let store = db.store.as_ref();
    add(store, &new("g1", "gus@example.com", &[], 0)).await;
    store.confirm_subscriber("g1", t(0)).await.expect("confirm");
    store
        .subscriber_failed("g1", t(1), "timed out", false)
        .await
        .expect("fail");
    let read = store.subscriber("g1").await.expect("read").expect("there");
    assert_eq!(read.last_failure.as_deref(), Some("timed out"));
    assert_eq!(read.last_failure_at, Some(t(1)));
    assert!(read.is_active(), "a transient failure does not disable");
    store
        .subscriber_failed("g1", t(2), "550 mailbox unavailable", true)
        .await
        .expect("fail");
    store
        .subscriber_failed("g1", t(3), "550 again", true)
        .await
        .expect("fail");
    let read = store.subscriber("g1").await.expect("read").expect("there");
    assert_eq!(read.disabled_at, Some(t(2)), "disabled at the first");
    assert_eq!(read.last_failure.as_deref(), Some("550 again"));
    assert!(!read.is_active());
}

async fn unconfirmed_subscriptions_older_than_the_cutoff_are_purged(db: &TestDatabase) {
    let store = db.store.as_ref();
    add(store, &new("h1", "old@example.com", &[], 0)).await;
    add(store, &new("h2", "kept@example.com", &[], 0)).await;
    add(store, &new("h3", "new@example.com", &[], 10)).await;
    store.confirm_subscriber("h2", t(1)).await.expect("confirm");
    assert_eq!(
        store
            .purge_unconfirmed_subscribers(t(5))
            .await
            .expect("purge"),
        1
    );
    let left: Vec<String> = store
        .subscribers(false)
        .await
        .expect("list")
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(left, ["h2", "h3"]);
}
