//! Acting from Mattermost: the `/fireline` custom slash command
//! (`POST /hooks/mattermost/commands`, carrying the command's token) and the buttons on
//! fireline's messages (`POST /hooks/mattermost/actions`, whose context fireline signed).
//! Each acts as the roster person whose `mattermost_user` typed or clicked, through the
//! one command path, or changes nothing. Requests are built as Mattermost's developer
//! documentation shows them.

use crate::support::{send, start, App, Reply};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use fireline_core::oncall::Roster;
use fireline_http::MattermostApp;
use fireline_notify::{mattermost_payload, Item, MattermostButtons, Message};
use fireline_store::backend_tests;
use fireline_store::testing::TestDatabase;
use serde_json::{json, Value};

backend_tests!(
    a_slash_command_from_a_linked_user_acts_as_their_person_on_the_timeline,
    a_missing_or_wrong_token_is_refused_and_changes_nothing,
    a_user_not_in_the_roster_is_told_so_and_nothing_changes,
    a_malformed_command_says_how_to_write_it_and_changes_nothing,
    a_button_acts_as_whoever_clicked_and_a_forged_context_changes_nothing,
);

/// The token Mattermost shows once the slash command is saved (its documented example).
const TOKEN: &str = "nezum4kpu3faiec7r7c5zt6tfy";
const ALICE: &str = "k1x4aqdjy3813c84m771eoc9xo";
const STRANGER: &str = "aoa1agao6t8fmx3ikt1j9w5ybw";
const PUBLIC_URL: &str = "https://fireline.example";

const ROSTER: &str = r#"
[people.alice]
name = "Alice Ng"
mattermost_user = "k1x4aqdjy3813c84m771eoc9xo"
contacts = [{ kind = "email", address = "alice@example.com" }]

[schedules.primary]
name = "SRE primary"
time_zone = "UTC"
[[schedules.primary.layers]]
name = "always"
participants = ["alice"]
shift = "1w"
start = "2026-01-05"
"#;

struct Mattermost {
    app: App,
    /// The router with the slash command configured (`[mattermost] command_token`).
    router: Router,
    buttons: MattermostButtons,
}

impl Mattermost {
    async fn new(db: &TestDatabase) -> Mattermost {
        let app = App::new(db).await;
        let roster = Roster::from_toml_str(ROSTER).expect("the roster reads");
        assert!(roster.check().is_empty(), "{:?}", roster.check());
        app.store
            .replace_roster(&roster, start())
            .await
            .expect("store the roster");
        let configured = MattermostApp::new(TOKEN);
        Mattermost {
            router: fireline_http::with_mattermost(app.router.clone(), Some(configured.clone())),
            buttons: configured.buttons(PUBLIC_URL),
            app,
        }
    }

    /// Declared by an admin token, so that every event by `alice` is her doing here.
    async fn declare(&self, title: &str) {
        self.app
            .post(
                "/api/v1/incidents",
                &self.app.admin,
                json!({"title": title, "severity": "SEV2", "service": "checkout"}),
            )
            .await
            .expect(StatusCode::CREATED);
    }

    async fn events(&self, id: u64) -> usize {
        self.app
            .store
            .events(fireline_core::IncidentId(id))
            .await
            .expect("events")
            .len()
    }

    /// POSTs a form to the slash command's URL through `router`.
    async fn post_form(&self, router: &Router, body: String, authorization: Option<&str>) -> Reply {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri("/hooks/mattermost/commands")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json");
        if let Some(value) = authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        send(
            router.clone(),
            request.body(Body::from(body)).expect("request"),
        )
        .await
    }

    /// `/fireline {text}` typed by Mattermost user `user`, with the command's token.
    async fn command(&self, user: &str, text: &str) -> Reply {
        self.post_form(&self.router, command_form(Some(TOKEN), user, text), None)
            .await
    }

    /// A click as Mattermost sends it: `user` pressed a button whose context is `context`.
    async fn click(&self, router: &Router, user: &str, context: &Value) -> Reply {
        let body = json!({
            "user_id": user,
            "user_name": "someone",
            "channel_id": "i3bb9xfyqt8rtbyshmyhgsj16c",
            "channel_name": "town-square",
            "team_id": "tsb8crrn5tgqtedpkt81b4tcya",
            "team_domain": "rrrr",
            "post_id": "jysnx7byebf49yxx1uynefajiy",
            "trigger_id": "NG1kM3lyN2NqYmQxcGNyc2s0Nmo5em0xb2M6azF4NGFxZGp5MzgxM2M4NG03NzFlb2M5eG86MTU1MTIwODE5NTQyNzpNRVVD",
            "type": "button",
            "data_source": "",
            "context": context,
        });
        let request = Request::builder()
            .method(Method::POST)
            .uri("/hooks/mattermost/actions")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .expect("request");
        send(router.clone(), request).await
    }
}

/// The form Mattermost posts for a custom slash command (its documented fields and
/// example values).
fn command_form(token: Option<&str>, user: &str, text: &str) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.extend_pairs([
        ("channel_id", "i3bb9xfyqt8rtbyshmyhgsj16c"),
        ("channel_name", "town-square"),
        ("command", "/fireline"),
        (
            "response_url",
            "http://10.0.0.5:8065/hooks/commands/zozc1xwxybdedeyz8djwjpngny",
        ),
        ("team_domain", "rrrr"),
        ("team_id", "tsb8crrn5tgqtedpkt81b4tcya"),
        ("text", text),
        ("trigger_id", "NG1kM3lyN2NqYmQxcGNyc2s0Nmo5em0xb2M6azF4NGFxZGp5MzgxM2M4NG03NzFlb2M5eG86MTU1MTIwODE5NTQyNzpNRVVD"),
        ("user_id", user),
        ("user_name", "tester"),
    ]);
    if let Some(token) = token {
        form.append_pair("token", token);
    }
    form.finish()
}

/// The answer's text and whether the channel sees it.
fn said(reply: &Reply) -> (String, bool) {
    let body = &reply.body;
    (
        body["text"].as_str().unwrap_or_default().to_owned(),
        body["response_type"] == "in_channel",
    )
}

async fn a_slash_command_from_a_linked_user_acts_as_their_person_on_the_timeline(
    db: &TestDatabase,
) {
    let mm = Mattermost::new(db).await;
    mm.declare("Checkout slow").await;

    let reply = mm.command(ALICE, "ack INC-1").await.expect(StatusCode::OK);
    assert_eq!(
        said(&reply),
        ("Alice Ng acknowledged INC-1.".to_owned(), true)
    );
    let reply = mm
        .command(ALICE, "update inc-1 Rolled back the 14:02 deploy.")
        .await
        .expect(StatusCode::OK);
    assert!(
        said(&reply).0.contains("Posted on internal for INC-1"),
        "{reply:?}"
    );
    let reply = mm
        .command(ALICE, "note INC-1 p99 back under 300 ms")
        .await
        .expect(StatusCode::OK);
    assert_eq!(said(&reply), ("Noted on INC-1.".to_owned(), false));

    let timeline = mm.app.incident("INC-1").await["timeline"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let by_alice: Vec<&str> = timeline
        .iter()
        .filter(|e| e["actor"] == "alice")
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(
        by_alice,
        ["acknowledged", "update_posted", "note_added"],
        "{timeline:#?}"
    );

    // Markdown, not Slack's mrkdwn.
    let (status, public) = said(&mm.command(ALICE, "status INC-1").await);
    assert!(
        !public
            && status.contains("**INC-1** [SEV2] Checkout slow")
            && status.contains("acknowledged by alice"),
        "{status}"
    );
    let (oncall, _) = said(&mm.command(ALICE, "oncall").await);
    assert_eq!(oncall, "• SRE primary: Alice Ng");

    // A title cannot mention everyone or make a link in the channel's answer.
    let reply = mm
        .command(
            ALICE,
            "declare SEV1 search @all see [here](https://evil.example) <!channel>",
        )
        .await
        .expect(StatusCode::OK);
    let (declared, public) = said(&reply);
    assert!(
        public && declared.starts_with("alice declared INC-2 [SEV1] "),
        "{declared}"
    );
    for raw in ["@all", "[here](", "<!channel>"] {
        assert!(!declared.contains(raw), "{raw} in {declared}");
    }
    assert!(
        declared.contains("@\u{2060}all see \\[here\\]\\(https://evil.example\\)"),
        "{declared}"
    );
    assert_eq!(reply.body["skip_slack_parsing"], true);

    let reply = mm.command(ALICE, "resolve INC-1 rolled back").await;
    assert_eq!(said(&reply), ("Alice Ng resolved INC-1.".to_owned(), true));
    // Done already: the incident's own refusal, only to the one who asked.
    let (again, public) = said(&mm.command(ALICE, "ack INC-1").await);
    assert!(!public && again.starts_with("Not done: "), "{again}");
}

async fn a_missing_or_wrong_token_is_refused_and_changes_nothing(db: &TestDatabase) {
    let mm = Mattermost::new(db).await;
    mm.declare("Checkout slow").await;
    for (token, authorization) in [
        (None, None),
        (Some("wrongtokenwrongtokenwrongt"), None),
        (Some(""), None),
        (Some(&TOKEN[..25]), None),
        (None, Some("Token wrongtokenwrongtokenwrongt")),
    ] {
        let reply = mm
            .post_form(
                &mm.router,
                command_form(token, ALICE, "ack INC-1"),
                authorization,
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{token:?} {authorization:?}: {reply:?}"
        );
    }
    // A server without a command token refuses even the right one.
    let reply = mm
        .post_form(
            &mm.app.router,
            command_form(Some(TOKEN), ALICE, "ack INC-1"),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{reply:?}");
    assert_eq!(mm.events(1).await, 1, "only the declaration");

    // The token in Mattermost's `Authorization: Token …` header is taken too.
    let reply = mm
        .post_form(
            &mm.router,
            command_form(None, ALICE, "ack INC-1"),
            Some(&format!("Token {TOKEN}")),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(said(&reply).0, "Alice Ng acknowledged INC-1.");
}

async fn a_user_not_in_the_roster_is_told_so_and_nothing_changes(db: &TestDatabase) {
    let mm = Mattermost::new(db).await;
    mm.declare("Checkout slow").await;
    for text in ["ack INC-1", "status", "resolve INC-1"] {
        let reply = mm.command(STRANGER, text).await.expect(StatusCode::OK);
        let (answer, public) = said(&reply);
        assert!(
            !public
                && answer.contains("Your Mattermost account")
                && answer.contains("not linked to anyone in fireline's roster")
                && answer.contains(&format!("mattermost_user = \"{STRANGER}\"")),
            "{answer}"
        );
    }
    // A Slack member id of the same person does not link a Mattermost account.
    let reply = mm.command("U0ALICE0001", "ack INC-1").await;
    assert!(said(&reply).0.contains("not linked"), "{reply:?}");
    assert_eq!(mm.events(1).await, 1, "only the declaration");
}

async fn a_malformed_command_says_how_to_write_it_and_changes_nothing(db: &TestDatabase) {
    let mm = Mattermost::new(db).await;
    mm.declare("Checkout slow").await;
    for (text, expect) in [
        ("", "**/fireline** commands:"),
        ("help", "`ack [INC-7]`"),
        ("frobnicate INC-1", "I do not know `frobnicate`"),
        ("resolve", "say which incident"),
        ("note INC-x hello", "`INC-x` is not an incident"),
        ("note INC-1", "say what to note"),
        ("update INC-1 customer", "say what to post"),
        ("ack INC-99", "no incident INC-99"),
        ("declare SEV9 checkout Broken", "Not done: "),
        ("declare SEV1", "say the severity, the service and a title"),
        ("ack", "no open page of yours"),
    ] {
        let reply = mm.command(ALICE, text).await.expect(StatusCode::OK);
        let (answer, public) = said(&reply);
        assert!(!public && answer.contains(expect), "{text:?}: {answer}");
        assert_eq!(reply.body["response_type"], "ephemeral");
    }
    assert_eq!(mm.events(1).await, 1, "only the declaration");
    assert_eq!(mm.app.incident_count().await, 1, "nothing declared");
}

/// A page for INC-1 as a `mattermost` channel would get it.
fn page(incident: &str) -> Message {
    Message {
        key: format!("{incident}/c0:page"),
        headline: "Paged: [SEV2] Checkout slow".into(),
        items: vec![Item {
            incident: incident.into(),
            title: "Checkout slow".into(),
            severity: "SEV2".into(),
            service: "checkout".into(),
            status: "investigating".into(),
            reason: Some("declared".into()),
            incident_url: Some(format!("{PUBLIC_URL}/ui/incidents/{incident}")),
            runbook_url: None,
            ack_url: Some(format!("{PUBLIC_URL}/ack/abc")),
        }],
        urgent: true,
        ..Message::default()
    }
}

/// The `context` of the button labelled `name` on `message` as fireline posts it.
fn context_of(message: &Message, buttons: &MattermostButtons, name: &str) -> Value {
    let body = mattermost_payload(message, Some(buttons));
    let actions = body["attachments"][0]["actions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let button = actions
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("no {name} button in {body}"));
    assert_eq!(
        button["integration"]["url"],
        "https://fireline.example/hooks/mattermost/actions"
    );
    button["integration"]["context"].clone()
}

async fn a_button_acts_as_whoever_clicked_and_a_forged_context_changes_nothing(db: &TestDatabase) {
    let mm = Mattermost::new(db).await;
    mm.declare("Checkout slow").await;
    mm.declare("Search empty").await;
    let ack = context_of(&page("INC-1"), &mm.buttons, "Acknowledge");

    // Forged: signed with another token, moved to another incident or action, unsigned.
    let other = MattermostApp::new("okwexkjpe7ygb8eq1ww58t483w").buttons(PUBLIC_URL);
    let mut moved = ack.clone();
    moved["incident"] = json!("INC-2");
    let mut resolved = ack.clone();
    resolved["action"] = json!("resolve");
    let mut unsigned = ack.clone();
    unsigned
        .as_object_mut()
        .map(|o| o.remove("mac"))
        .expect("an object");
    for forged in [
        context_of(&page("INC-1"), &other, "Acknowledge"),
        moved,
        resolved,
        unsigned,
        json!({"incident": "INC-1", "action": "acknowledge"}),
        Value::Null,
    ] {
        let reply = mm.click(&mm.router, ALICE, &forged).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{forged}: {reply:?}");
    }
    // A server without a command token refuses even a good context.
    let reply = mm.click(&mm.app.router, ALICE, &ack).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{reply:?}");
    assert_eq!(mm.events(1).await, 1, "INC-1: only the declaration");
    assert_eq!(mm.events(2).await, 1, "INC-2: only the declaration");

    // Someone the roster does not know: told so, nothing done.
    let reply = mm
        .click(&mm.router, STRANGER, &ack)
        .await
        .expect(StatusCode::OK);
    assert!(
        reply.body["ephemeral_text"]
            .as_str()
            .is_some_and(|t| t.contains("not linked") && t.contains("mattermost_user")),
        "{reply:?}"
    );
    assert_eq!(mm.events(1).await, 1, "the stranger changed nothing");

    let reply = mm
        .click(&mm.router, ALICE, &ack)
        .await
        .expect(StatusCode::OK);
    assert_eq!(reply.body["ephemeral_text"], "You acknowledged INC-1.");
    let timeline = mm.app.incident("INC-1").await["timeline"].clone();
    assert!(
        timeline.as_array().is_some_and(|t| t
            .iter()
            .any(|e| e["kind"] == "acknowledged" && e["actor"] == "alice")),
        "{timeline:#}"
    );
    let escalate = context_of(&page("INC-2"), &mm.buttons, "Escalate");
    let reply = mm
        .click(&mm.router, ALICE, &escalate)
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        reply.body["ephemeral_text"],
        "You escalated INC-2 to level 1."
    );
    let resolve = context_of(&page("INC-1"), &mm.buttons, "Resolve");
    let reply = mm
        .click(&mm.router, ALICE, &resolve)
        .await
        .expect(StatusCode::OK);
    assert_eq!(reply.body["ephemeral_text"], "You resolved INC-1.");
    assert_eq!(
        mm.app.incident("INC-1").await["incident"]["status"],
        "resolved"
    );
}

#[test]
fn buttons_appear_only_when_the_server_answers_them() {
    let message = page("INC-1");
    let links_only = mattermost_payload(&message, None);
    let attachment = &links_only["attachments"][0];
    assert!(attachment.get("actions").is_none(), "{links_only}");
    assert!(
        attachment["text"]
            .as_str()
            .is_some_and(|t| t.contains("[Acknowledge](https://fireline.example/ack/abc)")),
        "{links_only}"
    );

    let buttons = MattermostApp::new(TOKEN).buttons(PUBLIC_URL);
    let interactive = mattermost_payload(&message, Some(&buttons));
    let attachment = &interactive["attachments"][0];
    let shown: Vec<(&str, &str)> = attachment["actions"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|b| {
                    (
                        b["name"].as_str().unwrap_or_default(),
                        b["type"].as_str().unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        shown,
        [
            ("Acknowledge", "button"),
            ("Resolve", "button"),
            ("Escalate", "button")
        ]
    );
    // The button acknowledges; the link that did is gone, Open stays.
    let text = attachment["text"].as_str().unwrap_or_default();
    assert!(
        !text.contains("Acknowledge") && text.contains("[Open]("),
        "{text}"
    );
    // Rocket.Chat's look-alike webhook never gets buttons it cannot send back.
    let rocket = fireline_notify::rocketchat_payload(&message);
    assert!(
        rocket["attachments"][0].get("actions").is_none(),
        "{rocket}"
    );
}
