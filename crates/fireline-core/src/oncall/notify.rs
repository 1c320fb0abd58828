//! Who hears about a page, when, and through which contact: the pure half of delivery.
//!
//! When the engine fires a page or an escalation, [`address`] resolves its targets to
//! people at that instant (recorded on the event, so the timeline says who was on call),
//! and turns each person's notification rules into outbox messages. The store writes the
//! messages in the same transaction as the event, so a page is never fired without its
//! messages nor sent for an event that was not stored.

use super::{Contact, Person, Roster};
use crate::policy::Target;
use crate::{EventData, Incident, IncidentId, NewEvent, Recipient};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// A message as delivered: the JSON shape `fireline_notify::Message` reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// Idempotency key, shown to receivers so they can drop repeats.
    pub key: String,
    /// One line: the subject of an e-mail, the header of a Slack message.
    pub headline: String,
    /// The incidents it is about (several when flood control bundles a burst).
    pub items: Vec<NoticeItem>,
    /// Free text (a hand-off's list, why escalation ran out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// A page someone must wake up for: sent at once, past flood control, and loudly on
    /// channels that can ring (reminders and notices are not).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub urgent: bool,
    /// For a test page (no incident): the link that confirms it reached the person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm_url: Option<String>,
    /// For the first post to an incident's own channel: open the channel (the contact's
    /// address is its name) and invite these chat member ids before posting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_channel: Option<Vec<String>>,
    /// Not a new post: the incident's first message to this channel, edited to say this
    /// (where the channel can edit messages, a Slack bot's), so it shows the incident as
    /// it is now.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub edit: bool,
}

/// One incident in a message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeItem {
    /// `INC-12`.
    pub incident: String,
    /// Title.
    pub title: String,
    /// Severity id.
    pub severity: String,
    /// Service.
    pub service: String,
    /// Status.
    pub status: String,
    /// Why the person hears of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The incident's page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_url: Option<String>,
    /// Its runbook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runbook_url: Option<String>,
    /// The acknowledge link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack_url: Option<String>,
}

impl NoticeItem {
    /// `incident` as a message shows it, linking to its page; no reason, runbook or
    /// acknowledge link yet (each message says why, and acknowledges, its own way).
    pub fn of(incident: &Incident, links: &Links) -> NoticeItem {
        NoticeItem {
            incident: incident.id.to_string(),
            title: incident.title.clone(),
            severity: incident.severity.clone(),
            service: incident.service.clone(),
            status: incident.status.as_str().to_owned(),
            reason: None,
            incident_url: Some(links.incident_url(incident.id)),
            runbook_url: None,
            ack_url: None,
        }
    }
}

/// One message to deliver to one contact of one person, at or after `due_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// Idempotency key: stored once, so sent once.
    pub key: String,
    /// The incident it is about (none for a hand-off).
    pub incident: Option<IncidentId>,
    /// Person id.
    pub person: String,
    /// Where to.
    pub contact: Contact,
    /// What.
    pub notice: Notice,
    /// Not before.
    pub due_at: Timestamp,
    /// Dropped if the incident is acknowledged (or resolved) by then: a follow-up
    /// ("e-mail after 5 minutes if still unacknowledged").
    pub unless_acknowledged: bool,
}

/// How messages link back to the server.
#[derive(Debug, Clone)]
pub struct Links {
    /// The server's public URL, without a trailing slash.
    pub base_url: String,
    /// The key acknowledge links are signed with.
    pub ack_secret: Vec<u8>,
    /// How long an acknowledge link works.
    pub ack_valid: SignedDuration,
}

impl Links {
    /// The incident's page in the web UI (`/ui/incidents/INC-12`), for a person
    /// opening the link in a browser; the API's URL would answer 401 in JSON there.
    pub fn incident_url(&self, id: IncidentId) -> String {
        format!("{}/ui/incidents/{id}", self.base_url)
    }

    /// A link with which `person` confirms a test page reached them through `contact`,
    /// until `now + ack_valid`.
    pub fn confirm_url(&self, person: &Person, contact: &Contact, now: Timestamp) -> String {
        let expires = now.saturating_add(self.ack_valid).unwrap_or(now);
        format!(
            "{}/ack/{}",
            self.base_url,
            super::verify::contact_check_token(&self.ack_secret, person, contact, now, expires)
        )
    }

    /// A link with which `person` acknowledges `id` (and does nothing else) until
    /// `now + ack_valid`.
    pub fn ack_url(&self, id: IncidentId, person: &str, now: Timestamp) -> String {
        let expires = now.saturating_add(self.ack_valid).unwrap_or(now);
        format!(
            "{}/ack/{}",
            self.base_url,
            super::ack::ack_token(&self.ack_secret, id, person, now, expires)
        )
    }
}

/// The paging part of an event: its targets and headline, if it pages anyone.
fn paging(event: &mut EventData) -> Option<Paging<'_>> {
    match event {
        EventData::Paged {
            key,
            severity,
            targets,
            recipients,
            unreached,
        } => Some(Paging {
            key: key.clone(),
            headline: "Paged".to_owned(),
            reason: format!("{severity} paging"),
            targets,
            recipients,
            unreached,
        }),
        EventData::Escalated {
            key,
            level,
            name,
            targets,
            reason,
            recipients,
            unreached,
        } => Some(Paging {
            key: key.clone().unwrap_or_default(),
            headline: format!("Escalated to level {level} ({name})"),
            reason: reason.clone(),
            targets,
            recipients,
            unreached,
        }),
        EventData::EscalationExhausted {
            key,
            level,
            repeats,
            targets,
            recipients,
            unreached,
        } => Some(Paging {
            key: key.clone(),
            headline: "ESCALATION EXHAUSTED".to_owned(),
            reason: format!(
                "level {level} was paged {} times and nobody acknowledged",
                *repeats + 1
            ),
            targets,
            recipients,
            unreached,
        }),
        _ => None,
    }
}

struct Paging<'a> {
    key: String,
    headline: String,
    reason: String,
    targets: &'a [String],
    recipients: &'a mut Vec<Recipient>,
    unreached: &'a mut Vec<String>,
}

/// Resolves the targets of every paging event in `events` to people at the event's
/// time, records them on the event (`recipients`, `unreached`), and returns the
/// messages their notification rules call for. `incident` is the state before
/// `events`; `runbook` the incident's runbook link, if it has one; `wording` the text a
/// page carries beyond its headline (the policy's escalation template, worded by
/// [`crate::comms::escalation_text`]), if any.
pub fn address(
    roster: &Roster,
    incident: &Incident,
    events: &mut [NewEvent],
    links: &Links,
    runbook: Option<&str>,
    wording: impl Fn(&NewEvent) -> Option<String>,
) -> Vec<Outgoing> {
    let mut out = Vec::new();
    for event in events.iter_mut() {
        let at = event.at;
        let text = wording(event);
        let Some(page) = paging(&mut event.data) else {
            continue;
        };
        // Manual escalations carry no key and may repeat: the time tells them apart.
        let action = if page.key.is_empty() {
            format!("manual:{}", at.as_microsecond())
        } else {
            page.key.clone()
        };
        let mut channels = Vec::new();
        for raw in page.targets {
            let target = raw.parse::<Target>().ok();
            if let Some(Target::Channel(name)) = &target {
                match roster.channel(name) {
                    Some(channel) => channels.push(channel),
                    None => page.unreached.push(raw.clone()),
                }
                continue;
            }
            let resolved = target.map_or_else(Vec::new, |t| roster.resolve(&t, at));
            if resolved.is_empty() {
                page.unreached.push(raw.clone());
            }
            for r in resolved {
                if !page.recipients.iter().any(|p| p.person == r.person) {
                    page.recipients.push(Recipient {
                        person: r.person,
                        via: r.via,
                    });
                }
            }
        }
        let item = NoticeItem {
            reason: Some(page.reason.clone()),
            runbook_url: runbook.map(str::to_owned),
            ..NoticeItem::of(incident, links)
        };
        let headline = format!(
            "{}: [{}] {}",
            page.headline, incident.severity, incident.title
        );
        for channel in channels {
            out.push(super::chat::post(
                channel,
                format!(
                    "{}/{action}/{}",
                    incident.id,
                    super::chat::recipient(&channel.id)
                ),
                incident,
                headline.clone(),
                item.clone(),
                text.clone(),
                at,
            ));
        }
        for recipient in page.recipients.iter() {
            let Some(person) = roster.people.get(&recipient.person) else {
                continue;
            };
            for (i, rule) in person.effective_rules().iter().enumerate() {
                for (j, contact) in person.contacts_of(rule.kind).enumerate() {
                    let key = format!(
                        "{}/{action}/{}/{}/{i}.{j}",
                        incident.id, person.id, rule.kind
                    );
                    out.push(Outgoing {
                        key: key.clone(),
                        incident: Some(incident.id),
                        person: person.id.clone(),
                        contact: contact.clone(),
                        notice: Notice {
                            key,
                            headline: headline.clone(),
                            items: vec![NoticeItem {
                                ack_url: Some(links.ack_url(incident.id, &person.id, at)),
                                ..item.clone()
                            }],
                            text: text.clone(),
                            urgent: true,
                            confirm_url: None,
                            open_channel: None,
                            edit: false,
                        },
                        due_at: at.saturating_add(rule.after).unwrap_or(at),
                        unless_acknowledged: !rule.after.is_zero(),
                    });
                }
            }
        }
    }
    out
}

/// An open incident, as a hand-off lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenIncident {
    /// Id.
    pub id: IncidentId,
    /// Title.
    pub title: String,
    /// Severity id.
    pub severity: String,
    /// Service.
    pub service: String,
    /// Status.
    pub status: String,
}

/// The hand-off notices for one change of the person on call on `schedule` at `at`:
/// the outgoing and the incoming person each hear who takes over from whom, with the
/// open incidents to hand over (seed 001's hand-off process). Sent through each
/// person's immediate contacts.
pub fn handoff_notices(
    roster: &Roster,
    schedule: &str,
    handoff: &super::Handoff,
    open: &[OpenIncident],
    links: &Links,
) -> Vec<Outgoing> {
    let name = roster
        .schedules
        .get(schedule)
        .map_or(schedule, |s| s.name.as_str());
    let who = |p: &Option<String>| {
        p.as_deref()
            .map(|id| roster.people.get(id).map_or(id, |p| p.name.as_str()))
            .unwrap_or("nobody")
            .to_owned()
    };
    let (from, to) = (who(&handoff.outgoing), who(&handoff.incoming));
    let items: Vec<NoticeItem> = open
        .iter()
        .map(|i| NoticeItem {
            incident: i.id.to_string(),
            title: i.title.clone(),
            severity: i.severity.clone(),
            service: i.service.clone(),
            status: i.status.clone(),
            reason: Some("open at hand-off".to_owned()),
            incident_url: Some(links.incident_url(i.id)),
            runbook_url: None,
            ack_url: None,
        })
        .collect();
    let text = format!(
        "{to} takes over {name} from {from} at {}. {} open incident(s) to hand over. \
         Review them together, share context on recent changes, and update the notes.",
        handoff.at,
        open.len()
    );
    let mut out = Vec::new();
    let sides = [
        (
            &handoff.outgoing,
            format!("Hand-off: {to} takes over {name}"),
        ),
        (
            &handoff.incoming,
            format!("Hand-off: you are now on call for {name}"),
        ),
    ];
    for (side, headline) in sides {
        let Some(person) = side.as_deref().and_then(|id| roster.people.get(id)) else {
            continue;
        };
        out.extend(immediate(
            person,
            &format!("handoff/{schedule}/{}", handoff.at.as_second()),
            &headline,
            &items,
            &text,
            handoff.at,
        ));
    }
    out
}

/// A test page to `contact` of `person`, sent at `at` as loudly as a real page, with a
/// link (and, on a call, a key) that confirms it arrived.
pub fn test_page(person: &Person, contact: &Contact, links: &Links, at: Timestamp) -> Outgoing {
    let url = links.confirm_url(person, contact, at);
    let key = format!(
        "test/{}/{}/{}/{}",
        person.id,
        contact.kind,
        super::verify::address_digest(&contact.address),
        at.as_second()
    );
    Outgoing {
        key: key.clone(),
        incident: None,
        person: person.id.clone(),
        contact: contact.clone(),
        notice: Notice {
            key,
            headline: format!("Test page for {}", person.name),
            items: vec![],
            text: Some(format!(
                "This is how fireline will reach you when you are paged. Confirm it reached you: {url}"
            )),
            urgent: true,
            confirm_url: Some(url),
            open_channel: None,
            edit: false,
        },
        due_at: at,
        unless_acknowledged: false,
    }
}

/// A notice that is not an incident page (nothing to acknowledge, nothing on a
/// timeline), for every contact `person`'s rules reach at once (rules with no delay):
/// one [`Outgoing`] each, keyed `{prefix}/{person}/{kind}/{rule}.{contact}` so a retry
/// or a second replica sends it once.
pub fn immediate(
    person: &Person,
    prefix: &str,
    headline: &str,
    items: &[NoticeItem],
    text: &str,
    due_at: Timestamp,
) -> Vec<Outgoing> {
    let mut out = Vec::new();
    for (i, rule) in person
        .effective_rules()
        .iter()
        .enumerate()
        .filter(|(_, r)| r.after.is_zero())
    {
        for (j, contact) in person.contacts_of(rule.kind).enumerate() {
            let key = format!("{prefix}/{}/{}/{i}.{j}", person.id, rule.kind);
            out.push(Outgoing {
                key: key.clone(),
                incident: None,
                person: person.id.clone(),
                contact: contact.clone(),
                notice: Notice {
                    key,
                    headline: headline.to_owned(),
                    items: items.to_vec(),
                    text: Some(text.to_owned()),
                    urgent: false,
                    confirm_url: None,
                    open_channel: None,
                    edit: false,
                },
                due_at,
                unless_acknowledged: false,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oncall::{ContactKind, NotificationRule};

    #[test]
    fn immediate_notices_reach_every_undelayed_contact_under_stable_keys() {
        let contact = |kind, address: &str| Contact {
            kind,
            address: address.to_owned(),
            secret: None,
        };
        let person = Person {
            id: "alice".to_owned(),
            name: "Alice".to_owned(),
            time_zone: "UTC".to_owned(),
            contacts: vec![
                contact(ContactKind::Email, "a@example.com"),
                contact(ContactKind::Email, "a2@example.com"),
                contact(ContactKind::Slack, "https://hooks.example/x"),
            ],
            rules: vec![
                NotificationRule {
                    kind: ContactKind::Email,
                    after: SignedDuration::ZERO,
                },
                NotificationRule {
                    kind: ContactKind::Slack,
                    after: SignedDuration::from_mins(5),
                },
            ],
            bundle: None,
            slack_user: None,
            mattermost_user: None,
        };
        let at = Timestamp::from_second(1_800_000_000).expect("valid");
        let out = immediate(
            &person,
            "handoff/sre/1800000000",
            "Hand-off",
            &[],
            "text",
            at,
        );
        let keys: Vec<&str> = out.iter().map(|o| o.key.as_str()).collect();
        // Idempotency keys are stored: their shape must not drift.
        assert_eq!(
            keys,
            [
                "handoff/sre/1800000000/alice/email/0.0",
                "handoff/sre/1800000000/alice/email/0.1"
            ]
        );
        assert!(out
            .iter()
            .all(|o| o.incident.is_none() && !o.unless_acknowledged && o.due_at == at));
    }
}
