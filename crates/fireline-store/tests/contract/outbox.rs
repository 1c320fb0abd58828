//! The outbox: messages to deliver, leased to the delivery loop, retried, deferred and
//! finished.

use crate::{outgoing, t};
use fireline_core::oncall::notify::Outgoing;
use fireline_core::oncall::ContactKind;
use fireline_store::testing::TestDatabase;
use fireline_store::{backend_tests, OutboxItem, OutboxState, Store};

backend_tests!(
    messages_are_stored_once_by_key_and_claimed_once_until_the_lease_ends,
    a_retried_message_comes_back_at_its_due_time_and_a_finished_one_never,
    deferred_messages_wait_until_their_new_due_time,
    a_message_reads_back_with_its_contact_secret_and_an_unreadable_one_is_failed,
    the_first_referenced_message_to_a_recipient_is_the_one_to_edit,
);

/// A hand-off message (no incident) to `person`, due at `minute`.
fn handoff(key: &str, person: &str, minute: i64) -> Outgoing {
    outgoing(key, None, person, t(minute))
}

async fn claim(
    store: &dyn Store,
    owner: &str,
    minute: i64,
    until: i64,
    limit: u32,
) -> Vec<OutboxItem> {
    store
        .claim_outbox(t(minute), owner, t(until), limit)
        .await
        .expect("claim")
}

fn keys(items: &[OutboxItem]) -> Vec<&str> {
    items.iter().map(|i| i.key.as_str()).collect()
}

async fn messages_are_stored_once_by_key_and_claimed_once_until_the_lease_ends(db: &TestDatabase) {
    let store = db.store.as_ref();
    assert_eq!(store.next_outbox_due().await.expect("due"), None);
    assert_eq!(store.enqueue_outbox(&[]).await.expect("enqueue"), 0);
    let messages = [
        handoff("h-alice", "alice", 0),
        handoff("h-bob", "bob", 5),
        Outgoing {
            unless_acknowledged: true,
            ..handoff("h-carol", "carol", 2)
        },
    ];
    assert_eq!(store.enqueue_outbox(&messages).await.expect("enqueue"), 3);
    assert_eq!(
        store.enqueue_outbox(&messages[..2]).await.expect("enqueue"),
        0,
        "a replica enqueueing the same messages stores none"
    );
    assert_eq!(store.outbox_depth().await.expect("depth"), 3);
    assert_eq!(store.next_outbox_due().await.expect("due"), Some(t(0)));

    let mine = claim(store, "a", 2, 12, 10).await;
    assert_eq!(
        keys(&mine),
        ["h-alice", "h-carol"],
        "what is due, soonest first"
    );
    let alice = &mine[0];
    assert_eq!(
        (
            alice.incident,
            alice.person.as_str(),
            alice.contact.kind.as_str()
        ),
        (None, "alice", "email")
    );
    assert_eq!((alice.due_at, alice.attempts), (t(0), 0));
    assert_eq!(alice.contact, messages[0].contact);
    assert_eq!(alice.notice, messages[0].notice);
    assert!(!alice.unless_acknowledged);
    assert!(mine[1].unless_acknowledged);

    assert_eq!(
        keys(&claim(store, "b", 6, 16, 10).await),
        ["h-bob"],
        "a holds the others"
    );
    // A restarted worker gives back what its name held.
    assert_eq!(store.release_leases("a").await.expect("release"), 2);
    assert_eq!(
        keys(&claim(store, "c", 7, 30, 1).await),
        ["h-alice"],
        "the limit"
    );
    assert_eq!(keys(&claim(store, "d", 8, 30, 10).await), ["h-carol"]);
    assert!(
        claim(store, "e", 16, 40, 10).await.is_empty(),
        "b's lease runs to 16"
    );
    assert_eq!(
        keys(&claim(store, "e", 17, 40, 10).await),
        ["h-bob"],
        "an expired lease is taken over"
    );
    assert_eq!(
        store.outbox_depth().await.expect("depth"),
        3,
        "none delivered yet"
    );
}

async fn a_retried_message_comes_back_at_its_due_time_and_a_finished_one_never(db: &TestDatabase) {
    let store = db.store.as_ref();
    let messages = [handoff("m-alice", "alice", 0), handoff("m-bob", "bob", 0)];
    store.enqueue_outbox(&messages).await.expect("enqueue");
    let claimed = claim(store, "a", 0, 1, 10).await;
    let (alice, bob) = (&claimed[0], &claimed[1]);
    store
        .retry_outbox(alice.id, 1, t(10), "503 from the mail server")
        .await
        .expect("retry");
    store
        .finish_outbox(&[bob.id], OutboxState::Sent, "250 OK", t(1))
        .await
        .expect("finish");
    assert_eq!(store.outbox_depth().await.expect("depth"), 1);
    assert_eq!(store.next_outbox_due().await.expect("due"), Some(t(10)));
    assert_eq!(
        store.last_sent("bob", "email").await.expect("read"),
        Some(t(1))
    );
    assert_eq!(store.last_sent("bob", "slack").await.expect("read"), None);
    assert_eq!(store.last_sent("alice", "email").await.expect("read"), None);

    assert!(
        claim(store, "a", 9, 20, 10).await.is_empty(),
        "not before its time"
    );
    let again = claim(store, "a", 10, 11, 10).await;
    assert_eq!(
        again
            .iter()
            .map(|m| (m.id, m.attempts, m.due_at))
            .collect::<Vec<_>>(),
        [(alice.id, 1, t(10))],
        "at its time, with its attempts"
    );
    store
        .retry_outbox(alice.id, 2, t(20), "503 again")
        .await
        .expect("retry");
    assert_eq!(claim(store, "a", 20, 21, 10).await[0].attempts, 2);
    store
        .finish_outbox(&[alice.id], OutboxState::Failed, "gave up", t(21))
        .await
        .expect("finish");
    assert_eq!(store.outbox_depth().await.expect("depth"), 0);
    assert_eq!(store.next_outbox_due().await.expect("due"), None);
    assert_eq!(
        store.last_sent("alice", "email").await.expect("read"),
        None,
        "a failed message reached nobody"
    );
    assert!(
        claim(store, "a", 1000, 1001, 10).await.is_empty(),
        "finished messages are never claimed again"
    );

    // Only sent messages count, and the latest wins.
    store
        .enqueue_outbox(&[handoff("m-bob-2", "bob", 30), handoff("m-bob-3", "bob", 30)])
        .await
        .expect("enqueue");
    let later = claim(store, "a", 30, 31, 10).await;
    store
        .finish_outbox(&[later[0].id], OutboxState::Skipped, "acknowledged", t(31))
        .await
        .expect("finish");
    assert_eq!(
        store.last_sent("bob", "email").await.expect("read"),
        Some(t(1))
    );
    store
        .finish_outbox(&[later[1].id], OutboxState::Sent, "250 OK", t(40))
        .await
        .expect("finish");
    assert_eq!(
        store.last_sent("bob", "email").await.expect("read"),
        Some(t(40))
    );
    store
        .finish_outbox(&[], OutboxState::Sent, "nothing", t(41))
        .await
        .expect("finish nothing");
}

async fn deferred_messages_wait_until_their_new_due_time(db: &TestDatabase) {
    let store = db.store.as_ref();
    let messages: Vec<Outgoing> = (0..3)
        .map(|n| handoff(&format!("d-{n}"), "alice", 0))
        .collect();
    store.enqueue_outbox(&messages).await.expect("enqueue");
    let claimed = claim(store, "a", 0, 60, 10).await;
    // Flood control holds two; the third goes out.
    store
        .defer_outbox(&[claimed[0].id, claimed[1].id], t(5))
        .await
        .expect("defer");
    store
        .finish_outbox(&[claimed[2].id], OutboxState::Sent, "ok", t(0))
        .await
        .expect("finish");
    assert_eq!(store.next_outbox_due().await.expect("due"), Some(t(5)));
    assert_eq!(store.outbox_depth().await.expect("depth"), 2);
    assert!(
        claim(store, "b", 4, 60, 10).await.is_empty(),
        "held until 5"
    );
    let held = claim(store, "b", 5, 60, 10).await;
    assert_eq!(keys(&held), ["d-0", "d-1"], "the lease was given back");
    assert!(held.iter().all(|m| m.due_at == t(5) && m.attempts == 0));
    store.defer_outbox(&[], t(9)).await.expect("defer nothing");

    // A burst larger than one statement's list of ids.
    let burst: Vec<Outgoing> = (0..600)
        .map(|n| handoff(&format!("burst-{n}"), "bob", 10))
        .collect();
    assert_eq!(store.enqueue_outbox(&burst).await.expect("enqueue"), 600);
    let ids: Vec<i64> = claim(store, "a", 10, 11, 1000)
        .await
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(ids.len(), 600);
    store.defer_outbox(&ids, t(50)).await.expect("defer");
    assert!(claim(store, "a", 49, 60, 1000).await.is_empty());
    store
        .finish_outbox(&ids, OutboxState::Skipped, "resolved", t(50))
        .await
        .expect("finish");
    assert_eq!(
        store.outbox_depth().await.expect("depth"),
        2,
        "the two held ones"
    );
}

async fn a_message_reads_back_with_its_contact_secret_and_an_unreadable_one_is_failed(
    db: &TestDatabase,
) {
    let store = db.store.as_ref();
    let mut signed = handoff("h-hook", "alice", 0);
    signed.contact.kind = ContactKind::Webhook;
    signed.contact.address = "https://hooks.example.com/fireline".into();
    signed.contact.secret = Some("whsec-1".into());
    let broken = handoff("h-broken", "bob", 0);
    store
        .enqueue_outbox(&[signed.clone(), broken])
        .await
        .expect("enqueue");
    // What only a hand edit of the database can leave: a message that is not one.
    db.execute_raw("UPDATE outbox SET message = 'not json' WHERE key = 'h-broken'")
        .await;
    let claimed = claim(store, "a", 1, 5, 10).await;
    assert_eq!(keys(&claimed), ["h-hook"], "the unreadable one is not sent");
    assert_eq!(
        claimed[0].contact, signed.contact,
        "kind, address and secret"
    );
    assert_eq!(claimed[0].notice, signed.notice);
    assert_eq!(
        store.outbox_depth().await.expect("depth"),
        1,
        "the unreadable one is failed, not left pending to block the outbox"
    );
}

async fn the_first_referenced_message_to_a_recipient_is_the_one_to_edit(db: &TestDatabase) {
    let store = db.store.as_ref();
    let id = crate::declare_one(store, "Checkout down", "SEV1", "checkout", 0)
        .await
        .id;
    let other = crate::declare_one(store, "Search slow", "SEV3", "search", 0)
        .await
        .id;
    store
        .enqueue_outbox(&[
            outgoing("a", Some(id), "channel:incidents", t(1)),
            outgoing("b", Some(id), "channel:incidents", t(2)),
            outgoing("c", Some(other), "channel:incidents", t(2)),
            outgoing("d", Some(id), "alice", t(2)),
        ])
        .await
        .expect("enqueue");
    assert_eq!(
        store
            .first_reference(id, "channel:incidents")
            .await
            .expect("read"),
        None,
        "nothing sent yet"
    );
    let items = claim(store, "w", 5, 10, 10).await;
    let by_key = |k: &str| {
        items
            .iter()
            .find(|i| i.key == k)
            .map(|i| i.id)
            .expect("claimed")
    };
    // The second post's answer came first: still, the first message is the one to edit.
    store
        .set_outbox_reference(by_key("b"), "C1/2.0")
        .await
        .expect("set");
    store
        .set_outbox_reference(by_key("a"), "C1/1.0")
        .await
        .expect("set");
    store
        .set_outbox_reference(by_key("c"), "C1/3.0")
        .await
        .expect("set");
    assert_eq!(
        store
            .first_reference(id, "channel:incidents")
            .await
            .expect("read")
            .as_deref(),
        Some("C1/1.0")
    );
    assert_eq!(
        store
            .first_reference(other, "channel:incidents")
            .await
            .expect("read")
            .as_deref(),
        Some("C1/3.0")
    );
    assert_eq!(
        store.first_reference(id, "alice").await.expect("read"),
        None
    );
}
