//! The status page's subscribers: their links, who hears of a public update, and
//! delivering to them.
//!
//! When an update is posted on the `status_page` or `customer` channel, the [`Pager`]
//! asks [`address`] for one outbox message per confirmed, enabled subscriber whose
//! components include the incident's service, written in the same transaction as the
//! update and keyed `{incident}/{seq}/subscriber/{id}`, so each is sent once. What they
//! say is the update's own text, the service and the status word the status page shows,
//! never the incident's title, severity, notes or people.
//!
//! Scheduled maintenance reaches them the same way: when [`crate::Delivery`]'s cycle
//! finds a window's step due (`core::maintenance::steps`), [`address_maintenance`]
//! makes one message per subscriber of the window's components, keyed
//! `maintenance/{window}/{start}/{step}/subscriber/{id}`, saying only the window's
//! public title, description, components and times.
//!
//! Links are `HMAC-SHA256(key, purpose ‖ 0 ‖ id)` in hex, under the `subscriber_link_key`
//! setting (made at first use, shared by replicas): they can be made again whenever a
//! message is sent, so the store keeps only their SHA-256, to find a subscriber by link.
//! A webhook subscriber's signing secret is made the same way.
//!
//! Delivery (`deliver`, called by [`crate::Delivery`]) sends each message on its own
//! (no bundling: each is a public statement), records nothing on the incident's
//! timeline (hundreds of customers would drown the responders' own entries), and
//! disables a subscriber on a permanent failure (a refused address, a gone URL) with
//! the reason, so nothing more is sent to it.
//!
//! [`Pager`]: crate::Pager

use crate::delivery::{destination_of, message_of};
use crate::DeliveryConfig;
use fireline_core::comms::status_word;
use fireline_core::maintenance::{DueStep, Step};
use fireline_core::oncall::notify::{Notice, Outgoing};
use fireline_core::oncall::{Contact, ContactKind};
use fireline_core::{Channel, EventData, Incident, NewEvent, Status};
use fireline_notify::{DeliveryError, Notifier};
use fireline_store::{
    OutboxItem, OutboxState, Store, StoreError, Subscriber, SubscriberKind, SubscriberLink,
};
use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The setting holding the key subscriber links are made with.
pub const LINK_KEY_SETTING: &str = "subscriber_link_key";

/// Outbox messages to subscribers are addressed to the "person" `subscriber:{id}`; roster
/// ids cannot hold a colon, so no person is ever taken for one.
pub const PERSON_PREFIX: &str = "subscriber:";

/// How long a confirmation e-mail holds back another one to the same address.
pub const CONFIRMATION_INTERVAL: SignedDuration = SignedDuration::from_mins(10);

/// The subscriber id an outbox message's person names, if it is one.
pub fn subscriber_of(person: &str) -> Option<&str> {
    person.strip_prefix(PERSON_PREFIX)
}

/// Makes subscribers' links and webhook secrets.
#[derive(Clone)]
pub struct SubscriberLinks {
    base_url: String,
    key: Vec<u8>,
}

// By hand: the key must never reach a log.
impl std::fmt::Debug for SubscriberLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubscriberLinks")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl SubscriberLinks {
    /// Links to `base_url` under `key`.
    pub fn new(base_url: &str, key: &[u8]) -> SubscriberLinks {
        SubscriberLinks {
            base_url: base_url.trim_end_matches('/').to_owned(),
            key: key.to_vec(),
        }
    }

    /// Links to `base_url` under the server's shared key, made on first use.
    pub async fn open(store: &dyn Store, base_url: &str) -> Result<SubscriberLinks, StoreError> {
        let key = store
            .setting_or_init(LINK_KEY_SETTING, &random_hex(32)?)
            .await?;
        Ok(SubscriberLinks::new(base_url, key.as_bytes()))
    }

    fn mac(&self, purpose: &str, id: &str) -> String {
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.key) {
            Ok(mac) => mac,
            // HMAC takes keys of any length; the error exists only for other MACs.
            Err(_) => unreachable!("HMAC accepts keys of any length"),
        };
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(id.as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    /// The token of subscriber `id`'s `link`.
    pub fn token(&self, link: SubscriberLink, id: &str) -> String {
        match link {
            SubscriberLink::Confirm => self.mac("confirm", id),
            SubscriberLink::Unsubscribe => self.mac("unsubscribe", id),
        }
    }

    /// The page that confirms subscriber `id`.
    pub fn confirm_url(&self, id: &str) -> String {
        format!(
            "{}/status/confirm/{}",
            self.base_url,
            self.token(SubscriberLink::Confirm, id)
        )
    }

    /// The page (and RFC 8058 one-click target) that unsubscribes `id`.
    pub fn unsubscribe_url(&self, id: &str) -> String {
        format!(
            "{}/status/unsubscribe/{}",
            self.base_url,
            self.token(SubscriberLink::Unsubscribe, id)
        )
    }

    /// The status page.
    pub fn status_url(&self) -> String {
        format!("{}/status", self.base_url)
    }

    /// The secret webhook subscriber `id`'s messages are signed with (shown once, when
    /// it confirms).
    pub fn webhook_secret(&self, id: &str) -> String {
        self.mac("webhook-secret", id)
    }
}

/// SHA-256 of a link's token, in hex: what the store keeps.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// A new subscriber id: 128 random bits in hex.
pub fn new_id() -> Result<String, StoreError> {
    random_hex(16)
}

fn random_hex(bytes: usize) -> Result<String, StoreError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf)
        .map_err(|e| StoreError::Corrupt(format!("no randomness for a subscriber: {e}")))?;
    Ok(hex(&buf))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where a subscriber's messages go: its e-mail address, or its webhook signed with its
/// own secret.
fn contact(subscriber: &Subscriber, links: &SubscriberLinks) -> Contact {
    match subscriber.kind {
        SubscriberKind::Email => Contact {
            kind: ContactKind::Email,
            address: subscriber.address.clone(),
            secret: None,
        },
        SubscriberKind::Webhook => Contact {
            kind: ContactKind::Webhook,
            address: subscriber.address.clone(),
            secret: Some(links.webhook_secret(&subscriber.id)),
        },
    }
}

/// The confirmation e-mail for `subscriber` (to its address, or a webhook's contact),
/// due `now`. A confirmed subscriber is told it is subscribed already, with its
/// unsubscribe link, so the page that asked can answer the same either way.
pub fn confirmation(subscriber: &Subscriber, links: &SubscriberLinks, now: Timestamp) -> Outgoing {
    let key = format!(
        "subscriber/{}/confirm/{}",
        subscriber.id,
        now.as_microsecond()
    );
    let what = match subscriber.kind {
        SubscriberKind::Email => "this address".to_owned(),
        SubscriberKind::Webhook => format!("the webhook {}", subscriber.address),
    };
    let components = if subscriber.components.is_empty() {
        "all components".to_owned()
    } else {
        subscriber.components.join(", ")
    };
    let (headline, text) = if subscriber.confirmed_at.is_some() {
        (
            "You are already subscribed to status updates".to_owned(),
            format!(
                "Someone asked to subscribe {what} to status updates ({}). It is subscribed \
                 already; nothing has changed.\n\nTo stop the updates, use the unsubscribe \
                 link below.",
                links.status_url()
            ),
        )
    } else {
        (
            "Confirm your subscription to status updates".to_owned(),
            format!(
                "Someone asked to send updates from {} about {components} to {what}.\n\n\
                 To confirm, open this link and press the button:\n{}\n\n\
                 If you did not ask for this, ignore this message: nothing will be sent.",
                links.status_url(),
                links.confirm_url(&subscriber.id)
            ),
        )
    };
    Outgoing {
        key: key.clone(),
        incident: None,
        person: format!("{PERSON_PREFIX}{}", subscriber.id),
        contact: Contact {
            kind: ContactKind::Email,
            address: subscriber
                .contact
                .clone()
                .unwrap_or_else(|| subscriber.address.clone()),
            secret: None,
        },
        notice: Notice {
            key,
            headline,
            text: Some(text),
            ..Notice::default()
        },
        due_at: now,
        unless_acknowledged: false,
    }
}

/// A public update among events about to be appended: its sequence number, time, the
/// status word the status page shows with it, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUpdate {
    /// The event's sequence number in the incident's log.
    pub seq: u64,
    /// When it was posted.
    pub at: Timestamp,
    /// `Investigating`, `Identified`, `Monitoring` or `Resolved`, as of the update.
    pub status: &'static str,
    /// What was posted.
    pub text: String,
}

/// The updates posted on the `status_page` or `customer` channel among `events`, about
/// to be appended to `current`, each with the status the incident has at that point.
pub fn public_updates(current: &Incident, events: &[NewEvent]) -> Vec<PublicUpdate> {
    let mut status = current.status;
    let mut out = Vec::new();
    for (i, e) in events.iter().enumerate() {
        match &e.data {
            EventData::StatusChanged { to, .. } => status = *to,
            EventData::Resolved { .. } => status = Status::Resolved,
            EventData::Reopened { .. } => status = Status::Investigating,
            EventData::UpdatePosted {
                channel: Channel::StatusPage | Channel::Customer,
                text,
            } => out.push(PublicUpdate {
                seq: current.version + i as u64 + 1,
                at: e.at,
                status: status_word(status),
                text: text.clone(),
            }),
            _ => {}
        }
    }
    out
}

/// One message per update and per subscriber in `subscribers` that is active and wants
/// `incident`'s service.
pub fn messages(
    subscribers: &[Subscriber],
    incident: &Incident,
    updates: &[PublicUpdate],
    links: &SubscriberLinks,
) -> Vec<Outgoing> {
    let mut out = Vec::new();
    for update in updates {
        let headline = format!("{}: {}", incident.service, update.status);
        let text = format!(
            "{}\n\n{}, {}\nStatus page: {}",
            update.text.trim_end(),
            update.status,
            update.at.strftime("%Y-%m-%d %H:%M UTC"),
            links.status_url()
        );
        for s in subscribers
            .iter()
            .filter(|s| s.is_active() && s.wants(&incident.service))
        {
            let key = format!("{}/{}/subscriber/{}", incident.id, update.seq, s.id);
            out.push(Outgoing {
                key: key.clone(),
                incident: Some(incident.id),
                person: format!("{PERSON_PREFIX}{}", s.id),
                contact: contact(s, links),
                notice: Notice {
                    key,
                    headline: headline.clone(),
                    text: Some(text.clone()),
                    ..Notice::default()
                },
                due_at: update.at,
                unless_acknowledged: false,
            });
        }
    }
    out
}

/// The messages to subscribers that `events`, about to be appended to `current`, call
/// for: none unless they post a public update (then the subscribers are read).
pub async fn address(
    store: &dyn Store,
    base_url: &str,
    current: &Incident,
    events: &[NewEvent],
) -> Result<Vec<Outgoing>, StoreError> {
    let updates = public_updates(current, events);
    if updates.is_empty() {
        return Ok(Vec::new());
    }
    let subscribers = store.subscribers(true).await?;
    if subscribers.is_empty() {
        return Ok(Vec::new());
    }
    let links = SubscriberLinks::open(store, base_url).await?;
    Ok(messages(&subscribers, current, &updates, &links))
}

/// The words of one maintenance step: headline and text, public fields only (the
/// window's title, description, components and times, never its name or matchers).
fn maintenance_words(step: &DueStep<'_>, links: &SubscriberLinks) -> (String, String) {
    let notice = step.notice;
    let (headline, when) = match step.step {
        Step::Announced => ("Scheduled maintenance", "Scheduled"),
        Step::Started => ("Maintenance in progress", "In progress"),
        Step::Completed => ("Maintenance completed", "Completed"),
    };
    let components = if notice.components.is_empty() {
        "all components".to_owned()
    } else {
        notice.components.join(", ")
    };
    let mut text = String::new();
    if let Some(description) = &notice.description {
        text.push_str(description.trim_end());
        text.push_str("\n\n");
    }
    text.push_str(&format!(
        "{when}: {} – {}\nAffects: {components}\nStatus page: {}",
        step.window.start.strftime("%Y-%m-%d %H:%M UTC"),
        step.window.end.strftime("%Y-%m-%d %H:%M UTC"),
        links.status_url()
    ));
    (format!("{headline}: {}", notice.title), text)
}

/// One message per due maintenance step and per subscriber in `subscribers` that is
/// active and wants one of the window's components (all, for a window that names
/// none), keyed `{step key}/subscriber/{id}` so each is stored once, due `now`.
pub fn maintenance_messages(
    subscribers: &[Subscriber],
    steps: &[DueStep<'_>],
    links: &SubscriberLinks,
    now: Timestamp,
) -> Vec<Outgoing> {
    let mut out = Vec::new();
    for step in steps {
        let (headline, text) = maintenance_words(step, links);
        let step_key = step.key();
        let wanted = |s: &&Subscriber| {
            s.is_active()
                && (step.notice.components.is_empty()
                    || step.notice.components.iter().any(|c| s.wants(c)))
        };
        for s in subscribers.iter().filter(wanted) {
            let key = format!("{step_key}/subscriber/{}", s.id);
            out.push(Outgoing {
                key: key.clone(),
                incident: None,
                person: format!("{PERSON_PREFIX}{}", s.id),
                contact: contact(s, links),
                notice: Notice {
                    key,
                    headline: headline.clone(),
                    text: Some(text.clone()),
                    ..Notice::default()
                },
                due_at: now,
                unless_acknowledged: false,
            });
        }
    }
    out
}

/// The messages to subscribers that maintenance `steps` due `now` call for (the
/// subscribers are read only when some are due).
pub async fn address_maintenance(
    store: &dyn Store,
    base_url: &str,
    steps: &[DueStep<'_>],
    now: Timestamp,
) -> Result<Vec<Outgoing>, StoreError> {
    if steps.is_empty() {
        return Ok(Vec::new());
    }
    let subscribers = store.subscribers(true).await?;
    if subscribers.is_empty() {
        return Ok(Vec::new());
    }
    let links = SubscriberLinks::open(store, base_url).await?;
    Ok(maintenance_messages(&subscribers, steps, &links, now))
}

/// Whether an outbox key is a confirmation e-mail's (`subscriber/{id}/confirm/…`): the
/// one message an unconfirmed subscriber may get.
fn is_confirmation(key: &str) -> bool {
    key.starts_with("subscriber/") && key.contains("/confirm/")
}

/// What sending to a subscriber needs from the delivery worker.
pub(crate) struct Sender<'a> {
    pub(crate) store: &'a Arc<dyn Store>,
    pub(crate) notifier: &'a Arc<Notifier>,
    pub(crate) base_url: &'a str,
    pub(crate) config: &'a DeliveryConfig,
}

/// Sends subscriber `id`'s due messages (all to one destination), one at a time: what
/// was sent is marked sent; a temporary failure is retried with backoff; a permanent
/// one disables the subscriber with the reason and skips the rest. Messages to a
/// subscriber removed (or disabled) since they were queued are skipped, and so is
/// anything but the confirmation itself to a subscriber not confirmed.
pub(crate) async fn deliver(
    sender: &Sender<'_>,
    now: Timestamp,
    id: &str,
    group: Vec<OutboxItem>,
    report: &mut crate::DeliveryReport,
) -> Result<(), StoreError> {
    let store = sender.store;
    let subscriber = store.subscriber(id).await?;
    let Some(subscriber) = subscriber.filter(|s| s.disabled_at.is_none()) else {
        let ids: Vec<i64> = group.iter().map(|i| i.id).collect();
        report.skipped += ids.len();
        return store
            .finish_outbox(&ids, OutboxState::Skipped, "unsubscribed or disabled", now)
            .await;
    };
    let links = SubscriberLinks::open(store.as_ref(), sender.base_url).await?;
    let mut items = group.into_iter();
    while let Some(item) = items.next() {
        let channel = item.contact.kind.as_str();
        if !is_confirmation(&item.key) && subscriber.confirmed_at.is_none() {
            report.skipped += 1;
            store
                .finish_outbox(&[item.id], OutboxState::Skipped, "not confirmed", now)
                .await?;
            continue;
        }
        let mut message = message_of(item.notice.clone());
        message.unsubscribe_url = Some(links.unsubscribe_url(id));
        let sent = match destination_of(&item.contact) {
            Some(target) => {
                let notifier = sender.notifier.clone();
                tokio::task::spawn_blocking(move || notifier.send(&target, &message, now))
                    .await
                    .unwrap_or_else(|e| {
                        Err(DeliveryError::Transient(format!("sender crashed: {e}")))
                    })
            }
            None => Err(DeliveryError::Permanent(
                "a subscriber is reached by e-mail or webhook only".to_owned(),
            )),
        };
        match sent {
            Ok(delivered) => {
                metrics::counter!("fireline_notifications_total", "channel" => channel, "outcome" => "sent").increment(1);
                report.sent += 1;
                report.delivered += 1;
                store
                    .finish_outbox(&[item.id], OutboxState::Sent, &delivered.detail, now)
                    .await?;
            }
            Err(DeliveryError::Transient(e)) if item.attempts + 1 < sender.config.max_attempts => {
                metrics::counter!("fireline_notifications_total", "channel" => channel, "outcome" => "retried").increment(1);
                report.retried += 1;
                let attempts = item.attempts + 1;
                let at = now
                    .saturating_add(backoff(sender.config, attempts))
                    .unwrap_or(now);
                store.retry_outbox(item.id, attempts, at, &e).await?;
            }
            Err(e) => {
                metrics::counter!("fireline_notifications_total", "channel" => channel, "outcome" => "failed").increment(1);
                report.failed += 1;
                let permanent = !e.is_transient();
                store
                    .finish_outbox(&[item.id], OutboxState::Failed, e.detail(), now)
                    .await?;
                store
                    .subscriber_failed(id, now, e.detail(), permanent)
                    .await?;
                if permanent {
                    tracing::warn!(subscriber = id, channel, error = %e.detail(), "subscriber disabled after a permanent failure");
                    let rest: Vec<i64> = items.map(|i| i.id).collect();
                    report.skipped += rest.len();
                    return store
                        .finish_outbox(&rest, OutboxState::Skipped, "subscriber disabled", now)
                        .await;
                }
            }
        }
    }
    Ok(())
}

/// Doubling from the configured first delay, capped: subscribers need no jitter of
/// their own, as each is one destination.
fn backoff(config: &DeliveryConfig, attempts: u32) -> SignedDuration {
    config
        .first_backoff
        .checked_mul(1i32 << attempts.saturating_sub(1).min(20))
        .unwrap_or(config.max_backoff)
        .min(config.max_backoff)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fireline_core::{declare, Declaration, IncidentId, RecordedEvent};

    fn at(minute: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000).expect("ts") + SignedDuration::from_mins(minute)
    }

    fn incident(service: &str) -> Incident {
        let data = declare(
            &Declaration {
                title: "Secret title".into(),
                severity: "SEV1".into(),
                service: service.into(),
                summary: Some("secret summary".into()),
                category: None,
                flags: vec![],
            },
            &fireline_core::policy::Policy::builtin(),
        )
        .expect("valid");
        let id = IncidentId(7);
        let events = vec![RecordedEvent {
            id: 1,
            seq: 1,
            at: at(0),
            actor: "alice".into(),
            data,
        }];
        Incident::fold(id, &events).expect("folds")
    }

    fn subscriber(id: &str, components: &[&str], confirmed: bool) -> Subscriber {
        Subscriber {
            id: id.into(),
            kind: SubscriberKind::Email,
            address: format!("{id}@example.com"),
            contact: None,
            components: components.iter().map(|c| (*c).to_owned()).collect(),
            created_at: at(0),
            confirmed_at: confirmed.then(|| at(0)),
            confirmation_sent_at: None,
            last_failure: None,
            last_failure_at: None,
            disabled_at: None,
        }
    }

    fn posted(channel: Channel, text: &str, minute: i64) -> NewEvent {
        NewEvent {
            at: at(minute),
            actor: "alice".into(),
            data: EventData::UpdatePosted {
                channel,
                text: text.into(),
            },
        }
    }

    #[test]
    fn only_public_channels_are_public_updates_with_the_status_they_follow() {
        let current = incident("checkout");
        let events = vec![
            posted(Channel::Internal, "internal words", 1),
            NewEvent {
                at: at(1),
                actor: "alice".into(),
                data: EventData::StatusChanged {
                    from: current.status,
                    to: Status::Identified,
                    message: Some("internal cause".into()),
                },
            },
            posted(Channel::StatusPage, "We found it.", 1),
            posted(Channel::Customer, "Customers: found it.", 2),
        ];
        let updates = public_updates(&current, &events);
        assert_eq!(
            updates,
            vec![
                PublicUpdate {
                    seq: current.version + 3,
                    at: at(1),
                    status: "Identified",
                    text: "We found it.".into()
                },
                PublicUpdate {
                    seq: current.version + 4,
                    at: at(2),
                    status: "Identified",
                    text: "Customers: found it.".into()
                },
            ]
        );
    }

    #[test]
    fn confirmed_subscribers_of_the_service_or_all_hear_and_nothing_internal_is_said() {
        let links = SubscriberLinks::new("https://status.example/", b"key");
        let current = incident("checkout");
        let subscribers = vec![
            subscriber("all", &[], true),
            subscriber("checkout", &["checkout", "search"], true),
            subscriber("search", &["search"], true),
            subscriber("pending", &[], false),
            Subscriber {
                disabled_at: Some(at(0)),
                ..subscriber("bounced", &[], true)
            },
        ];
        let updates = public_updates(
            &current,
            &[posted(Channel::StatusPage, "Payments fail.", 3)],
        );
        let out = messages(&subscribers, &current, &updates, &links);
        let keys: Vec<&str> = out.iter().map(|o| o.key.as_str()).collect();
        let seq = current.version + 1;
        assert_eq!(
            keys,
            [
                format!("INC-7/{seq}/subscriber/all"),
                format!("INC-7/{seq}/subscriber/checkout")
            ]
        );
        let first = &out[0];
        assert_eq!(first.person, "subscriber:all");
        assert_eq!(first.contact.address, "all@example.com");
        assert_eq!(first.notice.headline, "checkout: Investigating");
        let text = first.notice.text.as_deref().unwrap_or_default();
        assert!(text.starts_with("Payments fail.\n"), "{text}");
        assert!(text.contains("https://status.example/status"), "{text}");
        let said = format!("{:?}", first.notice);
        for secret in ["Secret title", "secret summary", "SEV1", "alice"] {
            assert!(!said.contains(secret), "{secret} in {said}");
        }
    }

    #[test]
    fn links_differ_by_purpose_and_key_and_their_hash_is_what_is_kept() {
        let links = SubscriberLinks::new("https://s.example", b"key");
        let confirm = links.token(SubscriberLink::Confirm, "a");
        let unsubscribe = links.token(SubscriberLink::Unsubscribe, "a");
        assert_ne!(confirm, unsubscribe);
        assert_ne!(confirm, links.token(SubscriberLink::Confirm, "b"));
        assert_ne!(
            confirm,
            SubscriberLinks::new("https://s.example", b"other").token(SubscriberLink::Confirm, "a")
        );
        assert_eq!(confirm.len(), 64);
        assert_eq!(
            links.unsubscribe_url("a"),
            format!("https://s.example/status/unsubscribe/{unsubscribe}")
        );
        assert_ne!(token_hash(&confirm), confirm);
        assert_eq!(token_hash(&confirm).len(), 64);
        assert!(!format!("{links:?}").contains("key"));
    }

    #[test]
    fn a_confirmation_goes_to_the_webhooks_contact_and_links_to_confirm() {
        let links = SubscriberLinks::new("https://s.example", b"key");
        let hook = Subscriber {
            kind: SubscriberKind::Webhook,
            address: "https://hooks.example/in".into(),
            contact: Some("ops@example.com".into()),
            ..subscriber("w", &["api"], false)
        };
        let mail = confirmation(&hook, &links, at(0));
        assert_eq!(mail.contact.kind, ContactKind::Email);
        assert_eq!(mail.contact.address, "ops@example.com");
        assert_eq!(mail.incident, None);
        let text = mail.notice.text.unwrap_or_default();
        assert!(text.contains(&links.confirm_url("w")), "{text}");
        let again = confirmation(
            &Subscriber {
                confirmed_at: Some(at(0)),
                ..hook
            },
            &links,
            at(1),
        );
        assert_eq!(
            again.notice.headline,
            "You are already subscribed to status updates"
        );
        assert!(!again
            .notice
            .text
            .unwrap_or_default()
            .contains("/status/confirm/"));
    }
}
