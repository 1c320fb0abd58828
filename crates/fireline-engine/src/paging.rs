//! Appending events that page people: the one path the engine (policy actions) and the
//! API (manual escalation) share, so every page reaches the outbox the same way.

use fireline_core::oncall::chat::{posts, room_posts, IncidentRoom};
use fireline_core::oncall::notify::{address, test_page, Links};
use fireline_core::oncall::tell::tell;
use fireline_core::oncall::{Contact, ContactKind, Person};
use fireline_core::policy::{NoticeKind, Policy};
use fireline_core::{EventData, Incident, NewEvent, RecordedEvent};
use fireline_store::{Store, StoreError};
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeSet;
use std::sync::Arc;

/// How long an acknowledge link in a page works.
pub const ACK_LINK_VALIDITY: SignedDuration = SignedDuration::from_hours(24);

/// The name of the setting that holds the acknowledge-link key every replica shares.
pub const ACK_SECRET_SETTING: &str = "ack_link_secret";

/// Appends events, resolving any pages among them to people and writing their messages
/// to the outbox in the same transaction; the policy's other decisions a person must
/// act on (breaches, reminders, deadlines) are told to whom its `[notify]` names.
#[derive(Debug, Clone)]
pub struct Pager {
    store: Arc<dyn Store>,
    links: Arc<Links>,
    /// Wakes the delivery worker when messages were written.
    wake: Arc<tokio::sync::Notify>,
    /// The server's Slack bot token, which opens incidents' own channels (`[slack]
    /// bot_token`); without one, no incident gets a channel.
    slack_bot_token: Option<Arc<str>>,
}

impl Pager {
    /// A pager whose messages link to `links.base_url`.
    pub fn new(store: Arc<dyn Store>, links: Links) -> Pager {
        Pager {
            store,
            links: Arc::new(links),
            wake: Arc::new(tokio::sync::Notify::new()),
            slack_bot_token: None,
        }
    }

    /// The same pager, opening incidents' own Slack channels with `token` where the
    /// policy's `[incident_channel]` asks for them.
    pub fn with_slack_bot_token(mut self, token: Option<String>) -> Pager {
        self.slack_bot_token = token.filter(|t| !t.trim().is_empty()).map(Arc::from);
        self
    }

    /// A pager with the server's shared acknowledge-link key (created on first use) and
    /// links to `base_url`.
    pub async fn open(store: Arc<dyn Store>, base_url: &str) -> Result<Pager, StoreError> {
        let mut fresh = [0u8; 32];
        getrandom::fill(&mut fresh)
            .map_err(|e| StoreError::Corrupt(format!("no randomness for the ack key: {e}")))?;
        let secret = store
            .setting_or_init(ACK_SECRET_SETTING, &hex_encode(&fresh))
            .await?;
        let links = Links {
            base_url: base_url.trim_end_matches('/').to_owned(),
            ack_secret: secret.into_bytes(),
            ack_valid: ACK_LINK_VALIDITY,
        };
        Ok(Pager::new(store, links))
    }

    /// What wakes the delivery worker: [`crate::Delivery`] waits on it.
    pub fn delivery_waker(&self) -> Arc<tokio::sync::Notify> {
        self.wake.clone()
    }

    /// How messages link back.
    pub fn links(&self) -> &Links {
        &self.links
    }

    /// Queues a test page to each of `contacts` of `person`, due now, and wakes
    /// delivery: the same outbox, retries and channels as a real page.
    pub async fn send_tests(
        &self,
        person: &Person,
        contacts: &[Contact],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let tests: Vec<_> = contacts
            .iter()
            .map(|c| test_page(person, c, &self.links, now))
            .collect();
        self.store.enqueue_outbox(&tests).await?;
        self.wake.notify_one();
        Ok(())
    }

    /// [`Incidents::append`](fireline_store::Incidents::append), with pages addressed, notices told (as `policy` says) and
    /// their messages in the outbox.
    pub async fn append(
        &self,
        policy: &Policy,
        current: &Incident,
        mut events: Vec<NewEvent>,
        next_due: Option<Timestamp>,
        history: &[RecordedEvent],
    ) -> Result<(Incident, Vec<RecordedEvent>), StoreError> {
        let pages = events.iter().any(|e| {
            matches!(
                e.data,
                EventData::Paged { .. }
                    | EventData::Escalated { .. }
                    | EventData::EscalationExhausted { .. }
            )
        });
        let notices = events.iter().any(|e| NoticeKind::of(&e.data).is_some());
        let mut outbox = Vec::new();
        // Any change may concern a channel (an update it carries, an event it follows),
        // so the roster is read on every append; appends come at the pace of people and
        // policy timers, never of alerts.
        let roster = paging_roster(self.store.as_ref()).await?;
        outbox.extend(posts(&roster, current, history, &events, &self.links));
        if pages || notices {
            let addressed = address(
                &roster,
                current,
                &mut events,
                &self.links,
                runbook(history).as_deref(),
                |e| wording(policy, current, e),
            );
            outbox.extend(addressed);
            let told = tell(&roster, policy, current, history, &events, &self.links);
            if notices && told.is_empty() {
                tracing::error!(incident = %current.id, "a breach or reminder reached nobody: no commander, on-call or [notify] audience in the roster");
            }
            outbox.extend(told);
        }
        if let Some(room) = self.room(policy, current, history, &events) {
            outbox.extend(room_posts(
                &roster,
                current,
                history,
                &events,
                &self.links,
                &room,
            ));
        }
        for e in &events {
            if let EventData::Paged { unreached, .. }
            | EventData::Escalated { unreached, .. }
            | EventData::EscalationExhausted { unreached, .. } = &e.data
            {
                if !unreached.is_empty() {
                    tracing::error!(incident = %current.id, targets = ?unreached, "page reached nobody for these targets");
                }
            }
        }
        outbox.extend(
            crate::subscribers::address(
                self.store.as_ref(),
                &self.links.base_url,
                current,
                &events,
            )
            .await?,
        );
        let appended = self
            .store
            .append_notifying(current, events, next_due, &outbox)
            .await?;
        if !outbox.is_empty() {
            self.wake.notify_one();
        }
        // Counted once stored: a lost race is re-decided, not a second page.
        for e in &appended.1 {
            if matches!(
                e.data,
                EventData::Paged { .. }
                    | EventData::Escalated { .. }
                    | EventData::EscalationExhausted { .. }
            ) {
                metrics::counter!("fireline_pages_total", "kind" => e.data.kind()).increment(1);
            }
        }
        Ok(appended)
    }
}

impl Pager {
    /// The incident's own channel, if the policy gives one to a severity the incident has
    /// had (up to and with `events`) and the server has a Slack bot to open it with.
    fn room(
        &self,
        policy: &Policy,
        current: &Incident,
        history: &[RecordedEvent],
        events: &[NewEvent],
    ) -> Option<IncidentRoom> {
        let token = self.slack_bot_token.as_ref()?;
        // Once opened, a channel follows its incident to the end: any severity it has
        // had counts, not only the current one.
        let had = history
            .iter()
            .map(|e| &e.data)
            .chain(events.iter().map(|e| &e.data))
            .filter_map(|data| match data {
                EventData::Declared { severity, .. } => Some(severity.as_str()),
                EventData::SeverityChanged { to, .. } => Some(to.as_str()),
                _ => None,
            });
        let qualifies = std::iter::once(current.severity.as_str())
            .chain(had)
            .any(|s| policy.incident_channel.iter().any(|q| q == s));
        if !qualifies {
            return None;
        }
        let name = match fireline_core::comms::channel_name(policy, current) {
            Ok(name) => name,
            Err(e) => {
                tracing::warn!(incident = %current.id, error = %e, "the incident channel's name did not render; no channel opened");
                return None;
            }
        };
        Some(IncidentRoom {
            contact: Contact {
                kind: ContactKind::SlackBot,
                address: name.clone(),
                secret: Some(token.to_string()),
            },
            name,
        })
    }
}

/// The policy's wording for a page `event` causes, if it has one; a template that fails
/// to render leaves the page its built-in wording (a page is never lost to wording).
fn wording(policy: &Policy, incident: &Incident, event: &NewEvent) -> Option<String> {
    match fireline_core::comms::escalation_text(policy, incident, event)? {
        Ok(text) => Some(text),
        Err(err) => {
            tracing::warn!(incident = %incident.id, error = %err, "escalation template did not render; page sent without it");
            None
        }
    }
}

/// The runbook an alert route attached to the incident, the latest first.
fn runbook(history: &[RecordedEvent]) -> Option<String> {
    history.iter().rev().find_map(|e| match &e.data {
        EventData::AlertAttached {
            runbook: Some(r), ..
        } => Some(r.clone()),
        _ => None,
    })
}

/// Links for an engine nobody configured (tests, benchmarks): a local base URL and a key
/// of this process's own, so its acknowledge links are still unforgeable.
pub fn local_links() -> Links {
    let mut secret = [0u8; 32];
    let ack_secret = if getrandom::fill(&mut secret).is_ok() {
        hex_encode(&secret).into_bytes()
    } else {
        // Without randomness a key would be guessable: an empty key verifies nothing.
        tracing::error!("no randomness: acknowledge links of this engine will not verify");
        Vec::new()
    };
    Links {
        base_url: "http://127.0.0.1:8080".to_owned(),
        ack_secret,
        ack_valid: ACK_LINK_VALIDITY,
    }
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The people with at least one device subscribed to Web Push and still in use.
pub async fn people_with_devices(store: &dyn Store) -> Result<BTreeSet<String>, StoreError> {
    Ok(store
        .push_devices(None)
        .await?
        .into_iter()
        .filter(|d| d.removed.is_none())
        .map(|d| d.person)
        .collect())
}

/// The roster as messages are addressed from it: everyone who subscribed a device has a
/// `push` contact standing for their devices.
pub async fn paging_roster(store: &dyn Store) -> Result<fireline_core::oncall::Roster, StoreError> {
    let people = people_with_devices(store).await?;
    Ok(store.roster().await?.with_push_devices(&people))
}
