//! On-call: the roster, confirmed contacts and push devices.

use crate::t;
use fireline_core::oncall::Roster;
use fireline_store::testing::TestDatabase;
use fireline_store::{backend_tests, RosterKind};

backend_tests!(
    a_confirmed_contact_stays_verified_and_the_latest_confirmation_wins,
    a_push_device_is_kept_removed_with_its_reason_and_revived_by_subscribing_again,
    the_roster_is_replaced_whole_and_reads_back_as_imported,
    a_roster_entry_is_put_replaced_and_deleted_once,
);

async fn a_confirmed_contact_stays_verified_and_the_latest_confirmation_wins(db: &TestDatabase) {
    use fireline_core::oncall::verify::VerifiedContact;
    use fireline_core::oncall::ContactKind;
    let store = &db.store;
    assert!(store.verified_contacts().await.expect("read").is_empty());
    let first: jiff::Timestamp = "2026-03-02T14:00:00Z".parse().expect("t");
    let mut check = VerifiedContact {
        person: "alice".into(),
        kind: ContactKind::Sms,
        address_digest: "0123456789abcdef".into(),
        verified_at: first,
    };
    store.verify_contact(&check).await.expect("record");
    check.verified_at = first + jiff::SignedDuration::from_hours(1);
    store.verify_contact(&check).await.expect("record again");
    let other = VerifiedContact {
        kind: ContactKind::Voice,
        ..check.clone()
    };
    store.verify_contact(&other).await.expect("record");
    assert_eq!(
        store.verified_contacts().await.expect("read"),
        vec![check, other],
        "one row per contact, the latest time"
    );
}

async fn a_push_device_is_kept_removed_with_its_reason_and_revived_by_subscribing_again(
    db: &TestDatabase,
) {
    use fireline_store::PushDevice;
    let store = &db.store;
    let at: jiff::Timestamp = "2026-03-02T14:00:00Z".parse().expect("t");
    let phone = PushDevice {
        id: "d1".into(),
        person: "alice".into(),
        subscription: r#"{"endpoint":"https://push.example/1"}"#.into(),
        label: "Phone".into(),
        created_at: at,
        removed: None,
    };
    let laptop = PushDevice {
        id: "d2".into(),
        person: "bob".into(),
        label: "Laptop".into(),
        created_at: at + jiff::SignedDuration::from_mins(1),
        ..phone.clone()
    };
    store.add_push_device(&phone).await.expect("add");
    store.add_push_device(&laptop).await.expect("add");
    assert_eq!(
        store.push_devices(None).await.expect("read"),
        vec![laptop.clone(), phone.clone()],
        "newest first"
    );
    assert_eq!(
        store.push_devices(Some("alice")).await.expect("read"),
        vec![phone.clone()]
    );
    let gone = at + jiff::SignedDuration::from_hours(1);
    assert!(store
        .remove_push_device("d1", gone, "the push service no longer knows it (410)")
        .await
        .expect("remove"));
    assert!(
        !store
            .remove_push_device("d1", gone, "again")
            .await
            .expect("remove"),
        "a removed device is not removed twice"
    );
    let removed = &store.push_devices(Some("alice")).await.expect("read")[0];
    assert_eq!(
        removed.removed,
        Some((gone, "the push service no longer knows it (410)".to_owned()))
    );
    // Subscribing again (same endpoint, same id) puts it back in use.
    store.add_push_device(&phone).await.expect("add again");
    assert_eq!(
        store.push_devices(Some("alice")).await.expect("read"),
        vec![phone]
    );
}

/// A roster as a team keeps it in git: people with rules, secrets and bundling, a team
/// on a schedule, a schedule with a rotation and an override.
const ROSTER: &str = r#"
[people.alice]
name = "Alice Ng"
time_zone = "Europe/Berlin"
contacts = [
  { kind = "slack", address = "https://hooks.example.com/slack/alice" },
  { kind = "email", address = "alice@example.com" },
]
rules = [{ kind = "slack", after = "0m" }, { kind = "email", after = "5m" }]
bundle = "2m"

[people.bob]
name = "Bob Okafor"
contacts = [
  { kind = "webhook", address = "https://pager.example.com/bob", secret = "s3cret" },
]

[teams.sre]
name = "SRE"
members = ["alice", "bob"]
schedule = "sre-primary"
services = ["api"]

[schedules.sre-primary]
name = "SRE primary"
time_zone = "UTC"
[[schedules.sre-primary.layers]]
name = "weekly"
participants = ["alice", "bob"]
shift = "1w"
handoff = "09:00"
start = "2026-01-05"
[[schedules.sre-primary.overrides]]
person = "bob"
start = "2026-03-02T00:00:00Z"
end = "2026-03-03T00:00:00Z"
"#;

fn roster(text: &str) -> Roster {
    let roster = Roster::from_toml_str(text).expect("roster");
    assert!(roster.check().is_empty(), "{:?}", roster.check());
    roster
}

async fn the_roster_is_replaced_whole_and_reads_back_as_imported(db: &TestDatabase) {
    let store = db.store.as_ref();
    assert_eq!(store.roster().await.expect("read"), Roster::default());
    let full = roster(ROSTER);
    store.replace_roster(&full, t(0)).await.expect("import");
    assert_eq!(store.roster().await.expect("read"), full);
    // The file is the truth: what it no longer has is gone.
    let smaller = roster(
        r#"
[people.carol]
name = "Carol Diaz"
contacts = [{ kind = "email", address = "carol@example.com" }]
"#,
    );
    store.replace_roster(&smaller, t(1)).await.expect("import");
    let now = store.roster().await.expect("read");
    assert_eq!(now, smaller);
    assert!(now.teams.is_empty() && now.schedules.is_empty());
    store
        .replace_roster(&Roster::default(), t(2))
        .await
        .expect("import nothing");
    assert_eq!(store.roster().await.expect("read"), Roster::default());
}

async fn a_roster_entry_is_put_replaced_and_deleted_once(db: &TestDatabase) {
    let store = db.store.as_ref();
    let full = roster(ROSTER);
    store.replace_roster(&full, t(0)).await.expect("import");
    // As the API stores an edited entry: its JSON.
    let mut carol = full.people["bob"].clone();
    carol.id = "carol".into();
    carol.name = "Carol Diaz".into();
    let doc = serde_json::to_string(&carol).expect("json");
    store
        .put_roster_entry(RosterKind::Person, "carol", &doc, t(1))
        .await
        .expect("put");
    let mut expected = full.clone();
    expected.people.insert("carol".into(), carol.clone());
    assert_eq!(store.roster().await.expect("read"), expected);
    // Put again: replaced, not doubled.
    carol.name = "Carol D.".into();
    let doc = serde_json::to_string(&carol).expect("json");
    store
        .put_roster_entry(RosterKind::Person, "carol", &doc, t(2))
        .await
        .expect("put");
    expected.people.insert("carol".into(), carol);
    assert_eq!(store.roster().await.expect("read"), expected);
    let mut team = full.teams["sre"].clone();
    team.members.push("carol".into());
    let doc = serde_json::to_string(&team).expect("json");
    store
        .put_roster_entry(RosterKind::Team, "sre", &doc, t(3))
        .await
        .expect("put");
    expected.teams.insert("sre".into(), team);
    assert_eq!(store.roster().await.expect("read"), expected);

    assert!(
        !store
            .delete_roster_entry(RosterKind::Team, "carol")
            .await
            .expect("delete"),
        "an entry is known by its kind and id"
    );
    assert!(store
        .delete_roster_entry(RosterKind::Schedule, "sre-primary")
        .await
        .expect("delete"));
    assert!(
        !store
            .delete_roster_entry(RosterKind::Schedule, "sre-primary")
            .await
            .expect("delete"),
        "deleting a missing entry answers false"
    );
    expected.schedules.clear();
    assert_eq!(store.roster().await.expect("read"), expected);
}
