//! Acknowledging from a phone, without signing in: a key pressed in a page's call
//! (`POST /ack/{token}/voice`) and an SMS reply (`POST /hooks/twilio/sms`), both signed
//! by Twilio, and Pushover's callback (`POST /ack/{token}/pushover`). Each acknowledges
//! as the right person, through the one command path, or changes nothing.

use crate::support::{send, start, Reply};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use fireline_core::oncall::ack::ack_token;
use fireline_core::oncall::Roster;
use fireline_core::policy::Policy;
use fireline_core::{AccessRole, IncidentId};
use fireline_engine::{Clock, LivePolicy, ManualClock};
use fireline_http::auth::issue_token;
use fireline_http::{AppState, TwilioAuthToken};
use fireline_notify::{twilio_signature, TWILIO_SIGNATURE_HEADER};
use fireline_store::backend_tests;
use fireline_store::testing::TestDatabase;
use jiff::SignedDuration;
use serde_json::{json, Value};
use std::sync::Arc;

backend_tests!(
    a_signed_key_press_acknowledges_as_the_person_the_call_was_for,
    a_key_press_with_a_wrong_or_missing_signature_is_refused_and_changes_nothing,
    a_key_other_than_1_does_not_acknowledge,
    a_key_press_on_an_expired_link_says_why_and_changes_nothing,
    an_sms_reply_acknowledges_as_the_roster_person_whose_number_sent_it,
    an_sms_reply_with_a_wrong_signature_is_refused_and_changes_nothing,
    an_sms_reply_from_an_unknown_number_changes_nothing,
    an_sms_reply_for_no_such_incident_or_in_other_words_says_how_to_write_it,
    a_bare_ack_acknowledges_the_senders_latest_unacknowledged_page,
    the_pushover_callback_acknowledges_as_the_links_person,
    a_pushover_callback_that_is_not_an_acknowledgement_or_is_forged_changes_nothing,
    twilio_requests_are_refused_when_twilio_is_not_configured,
    a_test_page_confirmed_by_its_link_marks_the_contact_verified,
    a_test_call_confirmed_by_key_1_marks_the_phone_verified,
    test_pages_are_refused_for_unknown_people_or_kinds_and_for_non_admins,
    a_confirm_link_for_a_number_changed_since_confirms_nothing,
    a_push_test_page_confirmed_by_its_link_marks_the_devices_verified,
    a_test_page_acknowledged_in_pushover_confirms_the_pushover_contact,
);

const ACK_KEY: &[u8] = b"inbound acknowledgement test key";
const TWILIO_TOKEN: &str = "twilio-test-auth-token";
/// The public URL: Twilio signs the URL it was given, not the one this server sees.
const BASE: &str = "https://fireline.example";
const ALICE: &str = "+15551230001";
const BOB: &str = "+15551230002";

const ROSTER: &str = r#"
[people.alice]
name = "Alice"
contacts = [{ kind = "sms", address = "+15551230001" }, { kind = "voice", address = "+15551230001" }]

[people.bob]
name = "Bob"
contacts = [{ kind = "sms", address = "+15551230002" }, { kind = "email", address = "bob@example.com" }]

[teams.engineering-leads]
name = "Engineering leads"
members = ["alice"]
"#;

/// The app with acknowledge links signed under [`ACK_KEY`], public at [`BASE`], Twilio's
/// auth token `twilio` (none: Twilio not configured), and the roster above.
struct Phone {
    router: Router,
    clock: Arc<ManualClock>,
    /// A responder's API token (principal `pat`, not in the roster).
    pat: String,
    /// An admin's API token.
    admin: String,
    store: Arc<dyn fireline_store::Store>,
}

impl Phone {
    async fn new(db: &TestDatabase, twilio: Option<&str>) -> Phone {
        let clock = Arc::new(ManualClock::new(start()));
        let mut links = fireline_engine::paging::local_links();
        links.ack_secret = ACK_KEY.to_vec();
        links.base_url = BASE.to_owned();
        let policy = LivePolicy::new(Policy::builtin());
        let pager = fireline_engine::Pager::new(db.store.clone(), links);
        let state = AppState {
            store: db.store.clone(),
            clock: clock.clone(),
            policy: policy.clone(),
            commands: fireline_engine::Commands::new(
                db.store.clone(),
                policy,
                clock.clone(),
                pager.clone(),
            ),
            inbox: fireline_http::receivers::inbox::InboxWriter::start(
                db.store.clone(),
                Arc::new(tokio::sync::Notify::new()),
            ),
            pager,
            metrics_token: None,
            runbooks: crate::support::runbooks(),
            signin_throttle: Arc::default(),
            outbound: fireline_notify::Allow::nothing(),
            twilio_auth_token: twilio.map(TwilioAuthToken::new),
            slack: None,
            web_push_key: None,
        };
        let roster = Roster::from_toml_str(ROSTER).expect("the roster reads");
        db.store
            .replace_roster(&roster, start())
            .await
            .expect("store the roster");
        let (pat, _) = issue_token(
            db.store.as_ref(),
            Some("pat"),
            AccessRole::Responder,
            start(),
        )
        .await
        .expect("token");
        let (admin, _) = issue_token(db.store.as_ref(), Some("root"), AccessRole::Admin, start())
            .await
            .expect("token");
        Phone {
            router: fireline_http::router(state),
            clock,
            pat,
            admin,
            store: db.store.clone(),
        }
    }

    async fn api(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        send(
            self.router.clone(),
            crate::support::request(method, path, Some(&self.pat), body),
        )
        .await
    }

    /// Declares an incident; the first is INC-1.
    async fn declare(&self, title: &str) {
        self.api(
            Method::POST,
            "/api/v1/incidents",
            Some(json!({"title": title, "severity": "SEV1", "service": "checkout"})),
        )
        .await
        .expect(StatusCode::CREATED);
    }

    async fn incident(&self, id: &str) -> Value {
        self.api(Method::GET, &format!("/api/v1/incidents/{id}"), None)
            .await
            .expect(StatusCode::OK)
            .body
    }

    /// Who acknowledged `id` (null if nobody), checked against its timeline.
    async fn acknowledged_by(&self, id: &str) -> Value {
        let detail = self.incident(id).await;
        let acks: Vec<&Value> = detail["timeline"]
            .as_array()
            .expect("timeline")
            .iter()
            .filter(|e| e["kind"] == "acknowledged")
            .collect();
        let by = detail["incident"]["acknowledged_by"].clone();
        match acks.as_slice() {
            [] => assert!(by.is_null(), "{detail}"),
            [event] => assert_eq!(event["actor"], by, "the timeline says who: {detail}"),
            more => panic!("acknowledged {} times: {detail}", more.len()),
        }
        by
    }

    /// An acknowledge link's token for `person`, issued now.
    fn link(&self, incident: u64, person: &str) -> String {
        let now = self.clock.now();
        ack_token(
            ACK_KEY,
            IncidentId(incident),
            person,
            now,
            now + SignedDuration::from_hours(24),
        )
    }

    /// POSTs `form` to `path` as Twilio would, signed with `signing_token` over
    /// `signed_url` (`None`: no signature header).
    async fn twilio_post(
        &self,
        path: &str,
        form: &[(&str, &str)],
        signature: Option<(&str, &str)>,
    ) -> Reply {
        let params: Vec<(String, String)> = form
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form.iter())
            .finish();
        let mut request = Request::builder().method(Method::POST).uri(path).header(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded; charset=UTF-8",
        );
        if let Some((token, url)) = signature {
            request = request.header(
                TWILIO_SIGNATURE_HEADER,
                twilio_signature(token, url, &params),
            );
        }
        send(
            self.router.clone(),
            request.body(Body::from(body)).expect("request"),
        )
        .await
    }

    /// A key pressed in the call made for `token`, signed as Twilio signs it.
    async fn press(&self, token: &str, digits: &str) -> Reply {
        let path = format!("/ack/{token}/voice");
        let url = format!("{BASE}{path}");
        self.twilio_post(
            &path,
            &[
                ("AccountSid", "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"),
                ("CallSid", "CA1234567890ABCDE"),
                ("Digits", digits),
                ("From", "+15005550006"),
                ("To", ALICE),
            ],
            Some((TWILIO_TOKEN, &url)),
        )
        .await
    }

    /// An SMS to the Twilio number, signed as Twilio signs it.
    async fn text(&self, from: &str, body: &str) -> Reply {
        let url = format!("{BASE}/hooks/twilio/sms");
        self.twilio_post(
            "/hooks/twilio/sms",
            &sms_form(from, body),
            Some((TWILIO_TOKEN, &url)),
        )
        .await
    }
}

fn sms_form<'a>(from: &'a str, body: &'a str) -> [(&'a str, &'a str); 5] {
    [
        ("AccountSid", "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"),
        ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
        ("From", from),
        ("To", "+15005550006"),
        ("Body", body),
    ]
}

/// Asserts a TwiML answer and returns its text.
#[track_caller]
fn twiml(reply: &Reply) -> String {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("application/xml; charset=utf-8")
    );
    let text = reply.body.as_str().unwrap_or_default().to_owned();
    assert!(
        text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response"),
        "{text}"
    );
    text
}

async fn a_signed_key_press_acknowledges_as_the_person_the_call_was_for(db: &TestDatabase) {
    let phone = Phone::new(db, Some(TWILIO_TOKEN)).await;
    phone.declare("Checkout 5xx").await;
    let token = phone.link(1, "alice");
    phone.clock.advance(SignedDuration::from_mins(2));
    let reply = phone.press(&token, "1").await;
    assert_eq!(
        twiml(&reply),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Say>Acknowledged INC-1. \
         Goodbye.</Say></Response>"
    );
    assert_eq!(phone.acknowledged_by("INC-1").await, "alice");

    // Pressed again (the call replayed): said, not failed, and nothing more appended.
    let again = twiml(&phone.press(&token, "1").await);
    assert!(again.contains("<Say>Not acknowledged: "), "{again}");
    assert_eq!(phone.acknowledged_by("INC-1").await, "alice");
}

async fn a_key_press_with_a_wrong_or_missing_signature_is_refused_and_changes_nothing(
    db: &TestDatabase,
) {
    let phone = Phone::new(db, Some(TWILIO_TOKEN)).await;
    phone.declare("Checkout 5xx").await;
    let token = phone.link(1, "alice");
    let path = format!("/ack/{token}/voice");
    let form = [("CallSid", "CA1"), ("Digits", "1")];
    let public = format!("{BASE}{path}");
    // The address this server sees is not the one Twilio was given.
    let internal = format!("http://127.0.0.1:8080{path}");
    for signature in [
        None,
        Some(("another-auth-token", public.as_str())),
        Some((TWILIO_TOKEN, internal.as_str())),
    ] {
        let reply = phone.twilio_post(&path, &form, signature).await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{signature:?}: {}",
            reply.body
        );
    }
    // Signed, then tampered with: another key than the one signed.
    let params = vec![
        ("CallSid".to_owned(), "CA1".to_owned()),
        ("Digits".to_owned(), "2".to_owned()),
    ];
    let signed_for_2 = twilio_signature(TWILIO_TOKEN, &public, &params);
    let request = Request::builder()
        .method(Method::POST)
        .uri(&path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(TWILIO_SIGNATURE_HEADER, signed_for_2)
        .body(Body::from("CallSid=CA1&Digits=1"))
        .expect("request");
    let reply = send(phone.router.clone(), request).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert!(phone.acknowledged_by("INC-1").await.is_null());
}

async fn a_key_other_than_1_does_not_acknowledge(db: &TestDatabase) {
    let phone = Phone::new(db, Some(TWILIO_TOKEN)).await;
    phone.declare("Checkout 5xx").await;
    let token = phone.link(1, "alice");
    for digits in ["2", "0", "*", ""] {
        let said = twiml(&phone.press(&token, digits).await);
        assert!(
            said.contains("<Say>Not acknowledged. Goodbye.</Say>"),
            "{digits}: {said}"
        );
    }
    assert!(phone.acknowledged_by("INC-1").await.is_null());
}

async fn a_key_press_on_an_expired_link_says_why_and_changes_nothing(db: &TestDatabase) {
    let phone = Phone::new(db, Some(TWILIO_TOKEN)).await;
    phone.declare("Checkout 5xx").await;
    let token = phone.link(1, "alice");
    phone.clock.advance(SignedDuration::from_hours(25));
    let said = twiml(&phone.press(&token, "1").await);
    assert!(said.contains("<Say>Not acknowledged: "), "{said}");
    assert!(said.contains("expired"), "{said}");
    assert!(phone.acknowledged_by("INC-1").await.is_null());
}

async fn an_sms_reply_acknowledges_as_the_roster_person_whose_number_sent_it(db: &TestDatabase) {
    let phone = Phone::new(db, Some(TWILIO_TOKEN)).await;
    phone.declare("Checkout 5xx").await;
    phone.declare("Payments slow").await;
    let reply = phone.text(BOB, "ack inc-1").await;
    assert_eq!(
        twiml(&reply),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>Acknowledged INC-1\
         </Message></Response>"
    );
    assert_eq!(phone.acknowledged_by("INC-1").await, "bob");
    twiml(&phone.text(ALICE, "Ack INC-2").await);
    assert_eq!(phone.acknowledged_by("INC-2").await, "alice");
    // Acknowledged already: said so, changed nothing.
    let again = twiml(&phone.text(ALICE, "ACK 1").await);
    assert!(
        again.contains("<Message>INC-1 not acknowledged: "),
        "{again}"
    );
    assert_eq!(phone.acknowledged_by("INC-1").await, "bob");
}

async fn an_sms_reply_with_a_wrong_signature_is_refused_and_changes_nothing(db: &TestDatabase) {
    let phone = Phone::new(db, Some(TWILIO_TOKEN)).await;
    phone.declare("Checkout 5xx").await;
    let url = format!("{BASE}/hooks/twilio/sms");
    let form = sms_form(BOB, "ACK 1");
    for signature in [None, Some(("another-auth-token", url.as_str()))] {
        let reply = phone
            .twilio_post("/hooks/twilio/sms", &form, signature)
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    }
    assert!(phone.acknowledged_by("INC-1").await.is_null());
}

async fn an_sms_reply_from_an_unknown_number_changes_nothing(db: &TestDatabase) {
    let phone = Phone::new(db, Some(TWILIO_TOKEN)).await;
    phone.declare("Checkout 5xx").await;
    for body in ["ACK 1", "ACK"] {
        let reply = phone.text("+15559870000", body).await;
        assert_eq!(
            twiml(&reply),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>"
        );
    }
    assert!(phone.acknowledged_by("INC-1").await.is_null());
}

async fn an_sms_reply_for_no_such_incident_or_in_other_words_says_how_to_write_it(
    db: &TestDatabase,
) {
    let phone = Phone::new(db, Some(TWILIO_TOKEN)).await;
    phone.declare("Checkout 5xx").await;
    let missing = twiml(&phone.text(BOB, "ACK 999").await);
    assert!(
        missing.contains("<Message>There is no incident INC-999. Reply ACK and the incident&#39;s number to acknowledge it, e.g. ACK 12"),
        "{missing}"
    );
    for body in ["hello", "ACK twelve", "ack 1 2"] {
        let help = twiml(&phone.text(BOB, body).await);
        assert!(
            help.contains("<Message>Reply ACK and the incident&#39;s number"),
            "{body}: {help}"
        );
    }
    assert!(phone.acknowledged_by("INC-1").await.is_null());
}

async fn a_bare_ack_acknowledges_the_senders_latest_unacknowledged_page(db: &TestDatabase) {
    let phone = Phone::new(db, Some(TWILIO_TOKEN)).await;
    phone.declare("Checkout 5xx").await;
    phone.declare("Payments slow").await;
    phone.declare("Search stale").await;
    // Alice leads engineering: a manual escalation to that level pages her, on INC-2.
    phone.clock.advance(SignedDuration::from_mins(1));
    phone
        .api(
            Method::POST,
            "/api/v1/incidents/INC-2/escalate",
            Some(json!({"level": 2})),
        )
        .await
        .expect(StatusCode::OK);
    let paged = phone.incident("INC-2").await;
    assert!(
        paged["timeline"].to_string().contains("\"alice\""),
        "the escalation paged alice: {paged}"
    );
    // Bob was paged for nothing: a bare ACK says so.
    let nothing = twiml(&phone.text(BOB, "ACK").await);
    assert!(
        nothing.contains("<Message>You have no unacknowledged page."),
        "{nothing}"
    );
    let reply = twiml(&phone.text(ALICE, "ack").await);
    assert!(
        reply.contains("<Message>Acknowledged INC-2</Message>"),
        "{reply}"
    );
    assert_eq!(phone.acknowledged_by("INC-2").await, "alice");
    for other in ["INC-1", "INC-3"] {
        assert!(phone.acknowledged_by(other).await.is_null(), "{other}");
    }
    // Her only page is acknowledged now.
    let done = twiml(&phone.text(ALICE, "ACK").await);
    assert!(done.contains("You have no unacknowledged page."), "{done}");
}

/// A Pushover receipt callback, as <https://pushover.net/api/receipts> describes it.
async fn pushover(phone: &Phone, token: &str, acknowledged: &str) -> Reply {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("receipt", "rLqVuqTRh62UzxtmqiaLzQmVcPgiCy"),
            ("acknowledged", acknowledged),
            ("acknowledged_at", "1800000060"),
            ("acknowledged_by", "uQiRzpo4DXghDmr9QzzfQu27cmVRsG"),
            ("acknowledged_by_device", "alices-phone"),
        ])
        .finish();
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/ack/{token}/pushover"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .expect("request");
    send(phone.router.clone(), request).await
}

async fn the_pushover_callback_acknowledges_as_the_links_person(db: &TestDatabase) {
    let phone = Phone::new(db, None).await;
    phone.declare("Checkout 5xx").await;
    let token = phone.link(1, "alice");
    let reply = pushover(&phone, &token, "1").await.expect(StatusCode::OK);
    assert_eq!(reply.body, "acknowledged INC-1");
    assert_eq!(phone.acknowledged_by("INC-1").await, "alice");
    // Called back twice: still 200, nothing more appended.
    pushover(&phone, &token, "1").await.expect(StatusCode::OK);
    assert_eq!(phone.acknowledged_by("INC-1").await, "alice");
}

async fn a_pushover_callback_that_is_not_an_acknowledgement_or_is_forged_changes_nothing(
    db: &TestDatabase,
) {
    let phone = Phone::new(db, None).await;
    phone.declare("Checkout 5xx").await;
    let token = phone.link(1, "alice");
    pushover(&phone, &token, "0").await.expect(StatusCode::OK);
    let forged = token.replace(".alice.", ".mallory.");
    pushover(&phone, &forged, "1")
        .await
        .expect(StatusCode::FORBIDDEN);
    let foreign = ack_token(
        b"some other server's key",
        IncidentId(1),
        "alice",
        start(),
        start() + SignedDuration::from_hours(1),
    );
    pushover(&phone, &foreign, "1")
        .await
        .expect(StatusCode::FORBIDDEN);
    assert!(phone.acknowledged_by("INC-1").await.is_null());
}

async fn twilio_requests_are_refused_when_twilio_is_not_configured(db: &TestDatabase) {
    let phone = Phone::new(db, None).await;
    phone.declare("Checkout 5xx").await;
    let token = phone.link(1, "alice");
    // Signed with an empty token: nothing checks against no configuration.
    let path = format!("/ack/{token}/voice");
    let url = format!("{BASE}{path}");
    let reply = phone
        .twilio_post(&path, &[("Digits", "1")], Some(("", &url)))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    let reply = phone.text(BOB, "ACK 1").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert!(phone.acknowledged_by("INC-1").await.is_null());
}

impl Phone {
    /// Asks for test pages to `person` as an admin (`kind`: only those contacts).
    async fn test_page(&self, person: &str, kind: &str) -> Reply {
        send(
            self.router.clone(),
            crate::support::request(
                Method::POST,
                &format!("/api/v1/people/{person}/test?kind={kind}"),
                Some(&self.admin),
                None,
            ),
        )
        .await
    }

    /// The confirm links of the test pages waiting in the outbox, by contact kind.
    async fn confirm_links(&self) -> Vec<(String, String)> {
        let now = self.clock.now();
        let items = self
            .store
            .claim_outbox(now, "test", now + SignedDuration::from_mins(1), 50)
            .await
            .expect("claim");
        items
            .iter()
            .map(|item| {
                let message = &item.notice;
                let url = message.confirm_url.as_deref().expect("a confirm link");
                let text = message.text.as_deref().unwrap_or_default();
                assert!(text.contains(url), "the text carries the link: {text}");
                assert!(message.urgent, "as loud as a page");
                let path = url.strip_prefix(BASE).expect("public URL").to_owned();
                (item.contact.kind.as_str().to_owned(), path)
            })
            .collect()
    }

    async fn verified(&self) -> Vec<(String, String)> {
        self.store
            .verified_contacts()
            .await
            .expect("read")
            .into_iter()
            .map(|v| (v.person, v.kind.to_string()))
            .collect()
    }
}

async fn a_test_page_confirmed_by_its_link_marks_the_contact_verified(db: &TestDatabase) {
    let phone = Phone::new(db, Some(TWILIO_TOKEN)).await;
    let sent = phone
        .test_page("alice", "sms")
        .await
        .expect(StatusCode::ACCEPTED);
    assert_eq!(
        sent.body,
        json!({"person": "alice", "sent": [{"kind": "sms", "address": "…", "verified": false}]})
    );
    let links = phone.confirm_links().await;
    let [(kind, path)] = links.as_slice() else {
        panic!("one test page: {links:?}")
    };
    assert_eq!(kind, "sms");
    let shown = send(
        phone.router.clone(),
        crate::support::request(Method::GET, path, None, None),
    )
    .await;
    assert_eq!(shown.status, StatusCode::OK);
    let html = shown.body.as_str().unwrap_or_default().to_owned();
    assert!(
        html.contains("Did this reach you?") && html.contains("by sms"),
        "{html}"
    );
    assert!(phone.verified().await.is_empty(), "a GET confirms nothing");
    let confirmed = send(
        phone.router.clone(),
        crate::support::request(Method::POST, path, None, None),
    )
    .await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    assert!(
        confirmed
            .body
            .as_str()
            .unwrap_or_default()
            .contains("Thanks, Alice"),
        "{}",
        confirmed.body
    );
    assert_eq!(
        phone.verified().await,
        [("alice".to_owned(), "sms".to_owned())]
    );
    let again = phone
        .test_page("alice", "sms")
        .await
        .expect(StatusCode::ACCEPTED);
    assert_eq!(again.body["sent"][0]["verified"], true);
}

async fn a_test_call_confirmed_by_key_1_marks_the_phone_verified(db: &TestDatabase) {
    let phone = Phone::new(db, Some(TWILIO_TOKEN)).await;
    phone
        .test_page("alice", "voice")
        .await
        .expect(StatusCode::ACCEPTED);
    let links = phone.confirm_links().await;
    let [(_, path)] = links.as_slice() else {
        panic!("one test call: {links:?}")
    };
    let token = path.strip_prefix("/ack/").expect("an /ack/ link");
    let said = twiml(&phone.press(token, "2").await);
    assert!(said.contains("Not confirmed"), "{said}");
    assert!(phone.verified().await.is_empty());
    let said = twiml(&phone.press(token, "1").await);
    assert!(
        said.contains("Confirmed: this phone can wake you."),
        "{said}"
    );
    assert_eq!(
        phone.verified().await,
        [("alice".to_owned(), "voice".to_owned())]
    );
}

async fn test_pages_are_refused_for_unknown_people_or_kinds_and_for_non_admins(db: &TestDatabase) {
    let phone = Phone::new(db, Some(TWILIO_TOKEN)).await;
    phone
        .test_page("mallory", "sms")
        .await
        .expect(StatusCode::NOT_FOUND);
    let none = phone
        .test_page("alice", "email")
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(none.body["error"]["field"], "kind", "{}", none.body);
    assert!(
        none.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("Alice has no email contact")),
        "{}",
        none.body
    );
    let bogus = phone
        .test_page("alice", "pigeon")
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bogus.body["error"]["field"], "kind");
    phone
        .api(Method::POST, "/api/v1/people/alice/test", None)
        .await
        .expect(StatusCode::FORBIDDEN);
    assert!(phone.confirm_links().await.is_empty(), "nothing queued");
}

async fn a_confirm_link_for_a_number_changed_since_confirms_nothing(db: &TestDatabase) {
    let phone = Phone::new(db, Some(TWILIO_TOKEN)).await;
    phone
        .test_page("alice", "sms")
        .await
        .expect(StatusCode::ACCEPTED);
    let links = phone.confirm_links().await;
    let changed = ROSTER.replace(
        "{ kind = \"sms\", address = \"+15551230001\" }",
        "{ kind = \"sms\", address = \"+15551239999\" }",
    );
    assert_ne!(changed, ROSTER);
    phone
        .store
        .replace_roster(&Roster::from_toml_str(&changed).expect("roster"), start())
        .await
        .expect("roster");
    let reply = send(
        phone.router.clone(),
        crate::support::request(Method::POST, &links[0].1, None, None),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(
        reply
            .body
            .as_str()
            .unwrap_or_default()
            .contains("has changed since the test"),
        "{}",
        reply.body
    );
    assert!(phone.verified().await.is_empty());
}

async fn a_push_test_page_confirmed_by_its_link_marks_the_devices_verified(db: &TestDatabase) {
    let phone = Phone::new(db, Some(TWILIO_TOKEN)).await;
    phone
        .store
        .add_push_device(&fireline_store::PushDevice {
            id: "d1".into(),
            person: "alice".into(),
            subscription: "{}".into(),
            label: "Pixel".into(),
            created_at: start(),
            removed: None,
        })
        .await
        .expect("subscribe");
    let sent = phone
        .test_page("alice", "push")
        .await
        .expect(StatusCode::ACCEPTED);
    assert_eq!(sent.body["sent"][0]["kind"], "push", "{}", sent.body);
    let links = phone.confirm_links().await;
    let [(kind, path)] = links.as_slice() else {
        panic!("one test page: {links:?}")
    };
    assert_eq!(kind, "push");
    send(
        phone.router.clone(),
        crate::support::request(Method::POST, path, None, None),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(
        phone.verified().await,
        [("alice".to_owned(), "push".to_owned())],
        "the confirm link of a push test page is valid for the devices' contact"
    );
}

async fn a_test_page_acknowledged_in_pushover_confirms_the_pushover_contact(db: &TestDatabase) {
    let phone = Phone::new(db, Some(TWILIO_TOKEN)).await;
    let roster = ROSTER.replace(
        "{ kind = \"voice\", address = \"+15551230001\" }]",
        "{ kind = \"voice\", address = \"+15551230001\" }, \
         { kind = \"pushover\", address = \"uQiRzpo4DXghDmr9QzzfQu27cmVRsG\" }]",
    );
    assert_ne!(roster, ROSTER);
    phone
        .store
        .replace_roster(&Roster::from_toml_str(&roster).expect("reads"), start())
        .await
        .expect("roster");
    phone
        .test_page("alice", "pushover")
        .await
        .expect(StatusCode::ACCEPTED);
    let links = phone.confirm_links().await;
    let [(_, path)] = links.as_slice() else {
        panic!("one test page: {links:?}")
    };
    let callback = |form: &'static str| {
        let router = phone.router.clone();
        let url = format!("{path}/pushover");
        async move {
            send(
                router,
                Request::builder()
                    .method(Method::POST)
                    .uri(url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(Body::from(form))
                    .expect("request"),
            )
            .await
        }
    };
    callback("receipt=r1&acknowledged=0")
        .await
        .expect(StatusCode::OK);
    assert!(phone.verified().await.is_empty(), "not acknowledged yet");
    callback("receipt=r1&acknowledged=1&acknowledged_by=uQiRzpo4DXghDmr9QzzfQu27cmVRsG")
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        phone.verified().await,
        [("alice".to_owned(), "pushover".to_owned())]
    );
}
