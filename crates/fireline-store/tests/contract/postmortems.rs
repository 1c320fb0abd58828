//! Post-mortems and their action items.

use crate::{declare_one, t};
use fireline_core::postmortem::{ActionItem, ActionStatus, Priority};
use fireline_core::IncidentId;
use fireline_store::testing::TestDatabase;
use fireline_store::{backend_tests, ActionFilter, StoreError};
use jiff::Timestamp;

backend_tests!(
    postmortem_text_is_versioned_with_history,
    action_items_are_stored_filtered_and_updated,
);

async fn postmortem_text_is_versioned_with_history(db: &TestDatabase) {
    let store = db.store.as_ref();
    let inc = declare_one(store, "API down", "SEV1", "api", 0).await;
    assert_eq!(store.postmortem(inc.id).await.expect("read"), None);
    assert!(matches!(
        store
            .create_postmortem(IncidentId(99), "x", "standard", t(1), "alice")
            .await,
        Err(StoreError::NotFound)
    ));
    let first = store
        .create_postmortem(inc.id, "# Draft\nline", "standard", t(1), "alice")
        .await
        .expect("create");
    assert_eq!((first.version, first.created_by.as_str()), (1, "alice"));
    assert!(matches!(
        store
            .create_postmortem(inc.id, "again", "standard", t(2), "bob")
            .await,
        Err(StoreError::Conflict {
            expected: 0,
            actual: 1
        })
    ));

    let saved = store
        .update_postmortem(inc.id, 1, "# Draft\nline\nmore", t(3), "bob")
        .await
        .expect("save");
    assert_eq!(saved.version, 2);
    assert_eq!(saved.updated_by, "bob");
    assert_eq!(saved.updated_at, t(3));
    assert_eq!(saved.created_by, "alice", "creation is kept");
    // A stale save writes nothing.
    assert!(matches!(
        store
            .update_postmortem(inc.id, 1, "stale", t(4), "carol")
            .await,
        Err(StoreError::Conflict {
            expected: 1,
            actual: 2
        })
    ));
    assert!(matches!(
        store
            .update_postmortem(IncidentId(99), 1, "x", t(4), "carol")
            .await,
        Err(StoreError::NotFound)
    ));
    let now = store
        .postmortem(inc.id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(now, saved);
    assert_eq!(now.text, "# Draft\nline\nmore");

    let history = store.postmortem_history(inc.id).await.expect("history");
    let rows: Vec<(u64, &str, &str, Timestamp)> = history
        .iter()
        .map(|r| (r.version, r.actor.as_str(), r.summary.as_str(), r.at))
        .collect();
    assert_eq!(
        rows,
        vec![
            (1, "alice", "drafted", t(1)),
            (2, "bob", "+1 −0 lines", t(3))
        ]
    );
    assert_eq!(history[0].text, "# Draft\nline");
}

fn action(incident: IncidentId, title: &str, owner: &str, due: &str) -> ActionItem {
    ActionItem {
        id: 0,
        incident,
        title: title.into(),
        owner: owner.into(),
        priority: Priority::P1,
        due: due.parse().expect("date"),
        status: ActionStatus::Open,
        note: None,
        created_at: t(10),
        created_by: "alice".into(),
        updated_at: t(10),
        updated_by: "alice".into(),
    }
}

async fn action_items_are_stored_filtered_and_updated(db: &TestDatabase) {
    let store = db.store.as_ref();
    let a = declare_one(store, "API down", "SEV1", "api", 0).await;
    let b = declare_one(store, "DB down", "SEV1", "db", 1).await;
    assert!(matches!(
        store
            .insert_action_item(&action(IncidentId(99), "x", "bob", "2026-01-01"))
            .await,
        Err(StoreError::NotFound)
    ));
    let first = store
        .insert_action_item(&action(a.id, "Add canary", "bob", "2026-03-10"))
        .await
        .expect("insert");
    let second = store
        .insert_action_item(&action(a.id, "Fix runbook", "carol", "2026-03-01"))
        .await
        .expect("insert");
    let third = store
        .insert_action_item(&action(b.id, "Alert on disk", "bob", "2026-04-01"))
        .await
        .expect("insert");
    assert!(first.id > 0 && second.id > first.id && third.id > second.id);
    assert_eq!(
        store.action_item(first.id).await.expect("read"),
        Some(first.clone())
    );
    assert_eq!(store.action_item(9999).await.expect("read"), None);

    let list = |filter: ActionFilter| async move {
        store
            .list_action_items(&ActionFilter {
                limit: 100,
                ..filter
            })
            .await
            .expect("list")
            .iter()
            .map(|i| i.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        list(ActionFilter::default()).await,
        vec![second.id, first.id, third.id],
        "soonest due first"
    );
    assert_eq!(
        list(ActionFilter {
            incident: Some(a.id),
            ..Default::default()
        })
        .await,
        vec![second.id, first.id]
    );
    assert_eq!(
        list(ActionFilter {
            owner: Some("bob".into()),
            ..Default::default()
        })
        .await,
        vec![first.id, third.id]
    );
    let overdue_on = |day: &str| ActionFilter {
        open_only: true,
        due_before: Some(day.parse().expect("date")),
        ..Default::default()
    };
    assert_eq!(
        list(overdue_on("2026-03-11")).await,
        vec![second.id, first.id]
    );

    let closed = ActionItem {
        status: ActionStatus::Done,
        note: Some("shipped".into()),
        updated_at: t(20),
        updated_by: "carol".into(),
        ..second.clone()
    };
    assert_eq!(
        store.update_action_item(&closed).await.expect("update"),
        closed
    );
    assert_eq!(
        list(overdue_on("2026-03-11")).await,
        vec![first.id],
        "done is not overdue"
    );
    assert!(matches!(
        store
            .update_action_item(&ActionItem { id: 9999, ..closed })
            .await,
        Err(StoreError::NotFound)
    ));
}
