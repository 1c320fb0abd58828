//! Chat channels: the shared places (a Slack or Teams channel, a Matrix room, a
//! mailing list) where pages that name `channel:ID`, updates and an incident's notable
//! events are posted, so the people watching a channel see an incident as it unfolds.
//!
//! A channel is not a person: nobody acknowledges for it and it is not escalated past
//! when it fails. Its messages go through the same outbox as pages to people, keyed
//! `{incident}/{what}/channel:{id}`, so each is posted once.

use super::notify::{Links, Notice, NoticeItem, Outgoing};
use super::{Contact, ContactKind, Roster};
use crate::{describe, Channel, EventData, Incident, NewEvent, RecordedEvent};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The outbox's recipient for messages to channel `id`: `channel:ID`, never a
/// person's id (person ids cannot hold a colon).
pub fn recipient(id: &str) -> String {
    format!("channel:{id}")
}

/// Whether an outbox recipient is a channel rather than a person.
pub fn is_channel(recipient: &str) -> bool {
    recipient.starts_with("channel:")
}

/// A shared destination in the roster's `[channels]`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatChannel {
    /// Id, the key under `[channels]`; a policy names it `channel:ID` or `channel:#ID`.
    #[serde(default)]
    pub id: String,
    /// What people call it (`#incidents`), if it differs from `#ID`; a policy may name
    /// the channel by it too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// How it is reached: `slack`, `slack_bot`, `mattermost`, `rocket_chat`, `teams`,
    /// `discord`, `matrix`, `webhook` or `email`.
    pub kind: ContactKind,
    /// The webhook URL, Slack channel id, Matrix room or e-mail address.
    pub address: String,
    /// A bot or access token, or a webhook's signing key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Updates posted on these channels (`internal`, `customer`, `status_page`) are
    /// posted here too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub updates: Vec<Channel>,
    /// Post the incident's notable events here as they happen: declared, acknowledged,
    /// severity and status changes, roles, escalations, breached clocks, overdue
    /// updates, resolved.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub events: bool,
}

// By hand, so a token never reaches a log line.
impl fmt::Debug for ChatChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatChannel")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .field("updates", &self.updates)
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

impl ChatChannel {
    /// How it is reached, as a contact the outbox and delivery understand.
    pub fn contact(&self) -> Contact {
        Contact {
            kind: self.kind,
            address: self.address.clone(),
            secret: self.secret.clone(),
        }
    }

    /// The name shown to people: `name`, or `#ID`.
    pub fn display_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| format!("#{}", self.id))
    }
}

impl Roster {
    /// The channel a policy target's name (`#incidents`, `incidents`) stands for: by
    /// id with or without the `#`, or by its display name.
    pub fn channel(&self, name: &str) -> Option<&ChatChannel> {
        let name = name.trim();
        self.channels.get(name.trim_start_matches('#')).or_else(|| {
            self.channels
                .values()
                .find(|c| c.name.as_deref().map(str::trim) == Some(name))
        })
    }
}

/// One message to `channel` about `incident`.
pub(crate) fn post(
    channel: &ChatChannel,
    key: String,
    incident: &Incident,
    headline: String,
    item: NoticeItem,
    text: Option<String>,
    at: jiff::Timestamp,
) -> Outgoing {
    Outgoing {
        key: key.clone(),
        incident: Some(incident.id),
        person: recipient(&channel.id),
        contact: channel.contact(),
        notice: Notice {
            key,
            headline,
            items: vec![item],
            text,
            urgent: false,
            confirm_url: None,
            open_channel: None,
            edit: false,
        },
        due_at: at,
        unless_acknowledged: false,
    }
}

/// The posts to channels that `events` (about to be appended to `incident`, whose log
/// so far is `history`) call for: each update on a channel a chat channel carries
/// (`updates`), and each notable event on channels that follow events (`events`),
/// headed by the declaration on the incident's first append. Pages that name a channel
/// are addressed with the page ([`super::notify::address`]).
pub fn posts(
    roster: &Roster,
    incident: &Incident,
    history: &[RecordedEvent],
    events: &[NewEvent],
    links: &Links,
) -> Vec<Outgoing> {
    if roster.channels.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let first_append = first_change(history);
    let following: Vec<&ChatChannel> = roster.channels.values().filter(|c| c.events).collect();
    if first_append {
        if let Some(declared) = history.first() {
            let title = format!("[{}] {}", incident.severity, incident.title);
            for channel in &following {
                out.push(post(
                    channel,
                    format!("{}/declared/{}", incident.id, recipient(&channel.id)),
                    incident,
                    format!("{} declared: {title}", incident.id),
                    item(incident, links),
                    incident.summary.clone(),
                    declared.at,
                ));
            }
        }
    }
    // Each post shows the incident as the event left it (a resolution says resolved).
    let mut state = incident.clone();
    for (n, event) in events.iter().enumerate() {
        advance(&mut state, event);
        let item = item(&state, links);
        let title = format!("[{}] {}", state.severity, state.title);
        // Appends are retried with a new time: the time and place keep keys unique
        // within one append, and the outbox stores each key once.
        let stamp = format!("{}.{n}", event.at.as_microsecond());
        if let EventData::UpdatePosted { channel, text } = &event.data {
            for chat in roster
                .channels
                .values()
                .filter(|c| c.updates.contains(channel))
            {
                out.push(post(
                    chat,
                    format!("{}/update/{stamp}/{}", incident.id, recipient(&chat.id)),
                    incident,
                    format!("Update on {}: {title}", incident.id),
                    item.clone(),
                    Some(text.clone()),
                    event.at,
                ));
            }
            continue;
        }
        if !notable(&event.data) {
            continue;
        }
        let what = describe::event(&event.data, &TimeZone::UTC).one_line();
        out.extend(
            roster
                .channels
                .values()
                .filter_map(|c| edit(c, &state, event, &stamp, links)),
        );
        for channel in &following {
            out.push(post(
                channel,
                format!(
                    "{}/{}/{stamp}/{}",
                    incident.id,
                    event.data.kind(),
                    recipient(&channel.id)
                ),
                incident,
                format!("{}: {} {what}", incident.id, event.actor),
                item.clone(),
                None,
                event.at,
            ));
        }
    }
    out
}

/// An incident's own channel (the policy's `[incident_channel]`): its name, from the
/// policy's `channel_name`, and how fireline posts there (a Slack bot of the server's).
#[derive(Debug, Clone)]
pub struct IncidentRoom {
    /// `#incident-2026-03-02-140000`.
    pub name: String,
    /// The bot that opens it and posts: kind `slack_bot`, the name as the address.
    pub contact: Contact,
}

/// The posts to an incident's own channel that `events` call for: the channel is opened
/// with its first post (the declaration, with everyone paged so far whose
/// `slack_user` the roster knows invited), then every page, escalation, internal update
/// and notable event is posted there as it happens. The opening post is keyed once per
/// incident, so it is stored (and the channel opened) once however often this is asked.
pub fn room_posts(
    roster: &Roster,
    incident: &Incident,
    history: &[RecordedEvent],
    events: &[NewEvent],
    links: &Links,
    room: &IncidentRoom,
) -> Vec<Outgoing> {
    let id = room.name.trim_start_matches('#');
    let channel = ChatChannel {
        id: id.to_owned(),
        name: Some(room.name.clone()),
        kind: room.contact.kind,
        address: room.contact.address.clone(),
        secret: room.contact.secret.clone(),
        updates: vec![Channel::Internal],
        events: true,
    };
    let member = |person: &str| roster.people.get(person).and_then(|p| p.slack_user.clone());
    // Who was in the incident before these events: paged, acknowledging, holding a role.
    let mut before: Vec<String> = Vec::new();
    let people = history
        .iter()
        .flat_map(|e| e.data.recipients().iter().map(|r| r.person.as_str()))
        .chain(incident.acknowledged.iter().map(|(_, by)| by.as_str()))
        .chain(incident.roles.values().map(String::as_str));
    for m in people.filter_map(member) {
        if !before.contains(&m) {
            before.push(m);
        }
    }
    // The opening post invites them and whoever these events page.
    let mut invite = before.clone();
    for m in events
        .iter()
        .flat_map(|e| e.data.recipients().iter().map(|r| r.person.as_str()))
        .filter_map(member)
    {
        if !invite.contains(&m) {
            invite.push(m);
        }
    }
    let at = events.first().map_or(incident.declared_at, |e| e.at);
    let mut opening = post(
        &channel,
        format!("{}/room/open", incident.id),
        incident,
        format!(
            "{} declared: [{}] {}",
            incident.id, incident.severity, incident.title
        ),
        item(incident, links),
        incident.summary.clone(),
        at,
    );
    // On the incident's first change the opening post (stored then) invites everyone so
    // far; later, it is a repeat the outbox ignores, and posts invite who is new.
    let known = if first_change(history) {
        invite.clone()
    } else {
        before
    };
    opening.notice.open_channel = Some(invite);
    let mut out = vec![opening];
    let mut state = incident.clone();
    for (n, event) in events.iter().enumerate() {
        advance(&mut state, event);
        let stamp = format!("{}.{n}", event.at.as_microsecond());
        let key = format!("{}/{}/{stamp}/room", incident.id, event.data.kind());
        let title = format!("[{}] {}", state.severity, state.title);
        let (headline, text) = match &event.data {
            EventData::UpdatePosted {
                channel: Channel::Internal,
                text,
            } => (
                format!("Update on {}: {title}", incident.id),
                Some(text.clone()),
            ),
            EventData::Paged { .. } => (format!("Paged: {title}"), None),
            data if notable(data) => {
                out.extend(edit(&channel, &state, event, &stamp, links));
                let what = describe::event(data, &TimeZone::UTC).one_line();
                (format!("{}: {} {what}", incident.id, event.actor), None)
            }
            _ => continue,
        };
        let mut posted = post(
            &channel,
            key,
            &state,
            headline,
            item(&state, links),
            text,
            event.at,
        );
        // Whoever this brings in (paged, escalated to, given a role, acknowledging) is
        // invited; the opening post invited those before.
        let mut joining: Vec<String> = Vec::new();
        let mut join = |person: &str| {
            if let Some(m) = member(person).filter(|m| !known.contains(m) && !joining.contains(m)) {
                joining.push(m);
            }
        };
        for r in event.data.recipients() {
            join(&r.person);
        }
        match &event.data {
            EventData::RoleAssigned { assignee, .. } => join(assignee),
            EventData::Acknowledged => join(&event.actor),
            _ => {}
        }
        if !joining.is_empty() {
            posted.notice.open_channel = Some(joining);
        }
        out.push(posted);
    }
    out
}

/// Whether nothing but the declaration and its alerts is in `history`: the change about
/// to be appended is the incident's first (normally its page).
fn first_change(history: &[RecordedEvent]) -> bool {
    history.iter().all(|e| {
        matches!(
            e.data,
            EventData::Declared { .. }
                | EventData::AlertAttached { .. }
                | EventData::AlertUpdated { .. }
                | EventData::AlertResolved { .. }
        )
    })
}

/// The incident as a channel message shows it.
pub(crate) fn item(incident: &Incident, links: &Links) -> NoticeItem {
    NoticeItem {
        // A channel is nobody's to acknowledge for: its Acknowledge (while someone must)
        // opens the incident's page, where one tap does it as whoever taps.
        ack_url: (incident.acknowledged.is_none() && incident.status.is_open())
            .then(|| links.incident_url(incident.id)),
        ..NoticeItem::of(incident, links)
    }
}

/// `state` moved on by `event`, so a post shows the incident as the event left it (a
/// resolution says resolved). One the fold refuses leaves the state as it was: the post
/// still goes out.
fn advance(state: &mut Incident, event: &NewEvent) {
    let _ = state.apply(&RecordedEvent {
        id: 0,
        seq: state.version + 1,
        at: event.at,
        actor: event.actor.clone(),
        data: event.data.clone(),
    });
}

/// The edit that makes the incident's first message in `channel` show it as `state`
/// now, after `event` (only for channels that can edit their messages: Slack bots).
fn edit(
    channel: &ChatChannel,
    state: &Incident,
    event: &NewEvent,
    stamp: &str,
    links: &Links,
) -> Option<Outgoing> {
    if channel.kind != ContactKind::SlackBot {
        return None;
    }
    let what = describe::event(&event.data, &TimeZone::UTC).one_line();
    let mut out = post(
        channel,
        format!("{}/edit/{stamp}/{}", state.id, recipient(&channel.id)),
        state,
        format!("{}: [{}] {}", state.id, state.severity, state.title),
        NoticeItem {
            reason: Some(format!("latest: {} {what}", event.actor)),
            ..item(state, links)
        },
        None,
        event.at,
    );
    out.notice.edit = true;
    Some(out)
}

/// The events a channel following an incident hears of: what changes who is on it,
/// how bad it is, and where it stands. Pages and notifications are not (the channel is
/// told when a page names it), nor alerts, notes or checklist steps.
fn notable(data: &EventData) -> bool {
    matches!(
        data,
        EventData::Acknowledged
            | EventData::SeverityChanged { .. }
            | EventData::StatusChanged { .. }
            | EventData::RoleAssigned { .. }
            | EventData::Resolved { .. }
            | EventData::Reopened { .. }
            | EventData::Escalated { .. }
            | EventData::EscalationExhausted { .. }
            | EventData::SlaBreached { .. }
            | EventData::NoticeOverdue { .. }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roster(channels: &str) -> Roster {
        Roster::from_toml_str(channels).expect("roster")
    }

    #[test]
    fn a_policy_names_a_channel_by_id_with_or_without_hash_or_by_its_name() {
        let r = roster(
            r##"
[channels.incidents]
kind = "slack"
address = "https://hooks.slack.com/services/T/B/X"
[channels.exec]
name = "#exec-briefing"
kind = "email"
address = "exec@example.com"
"##,
        );
        assert!(r.check().is_empty(), "{:?}", r.check());
        assert_eq!(
            r.channel("#incidents").map(|c| c.id.as_str()),
            Some("incidents")
        );
        assert_eq!(
            r.channel("incidents").map(|c| c.id.as_str()),
            Some("incidents")
        );
        assert_eq!(
            r.channel("#exec-briefing").map(|c| c.id.as_str()),
            Some("exec")
        );
        assert_eq!(r.channel("#exec").map(|c| c.id.as_str()), Some("exec"));
        assert!(r.channel("#random").is_none());
        assert_eq!(r.channels["exec"].display_name(), "#exec-briefing");
        assert_eq!(r.channels["incidents"].display_name(), "#incidents");
    }

    #[test]
    fn channels_that_cannot_work_are_refused_with_where_and_how() {
        let r = roster(
            r##"
[channels.bot]
kind = "slack_bot"
address = "C0123ABCDEF"
[channels.room]
kind = "matrix"
address = "https://matrix.example.org/!room:example.org"
secret = "syt_x"
[channels.phone]
kind = "sms"
address = "+15551234567"
[channels.team]
kind = "teams"
address = "prod-12.westus.logic.azure.com/workflows/x"
[channels.hook]
kind = "discord"
address = "https://discord.com/api/webhooks/1/x"
secret = "nope"
"##,
        );
        let found: Vec<(String, String)> =
            r.check().into_iter().map(|p| (p.at, p.message)).collect();
        let at: Vec<&str> = found.iter().map(|(a, _)| a.as_str()).collect();
        assert_eq!(
            at,
            [
                "channels.bot.secret",
                "channels.hook.secret",
                "channels.phone.kind",
                "channels.room.address",
                "channels.team.address",
            ],
            "{found:#?}"
        );
        // Tokens never reach a log line.
        let bot = format!("{:?}", roster(
            "[channels.b]\nkind = \"slack_bot\"\naddress = \"C0123ABCDEF\"\nsecret = \"xoxb-secret\"\n",
        ).channels["b"]);
        assert!(!bot.contains("xoxb-secret"), "{bot}");
    }

    #[test]
    fn a_slack_member_is_one_person() {
        let r = roster(
            r#"
[people.alice]
name = "Alice"
slack_user = "U0ALICE0001"
contacts = [{ kind = "email", address = "a@example.com" }]
[people.bob]
name = "Bob"
slack_user = "U0ALICE0001"
contacts = [{ kind = "email", address = "b@example.com" }]
[people.carol]
name = "Carol"
slack_user = "carol"
contacts = [{ kind = "email", address = "c@example.com" }]
"#,
        );
        let at: Vec<String> = r.check().into_iter().map(|p| p.at).collect();
        assert_eq!(at, ["people.bob.slack_user", "people.carol.slack_user"]);
    }

    #[test]
    fn a_mattermost_user_is_one_person_with_a_mattermost_id() {
        let r = roster(
            r#"
[people.alice]
name = "Alice"
mattermost_user = "k1x4aqdjy3813c84m771eoc9xo"
contacts = [{ kind = "email", address = "a@example.com" }]
[people.bob]
name = "Bob"
mattermost_user = "k1x4aqdjy3813c84m771eoc9xo"
contacts = [{ kind = "email", address = "b@example.com" }]
[people.carol]
name = "Carol"
mattermost_user = "K1X4AQDJY3813C84M771EOC9XO"
contacts = [{ kind = "email", address = "c@example.com" }]
[people.dave]
name = "Dave"
mattermost_user = "@dave"
slack_user = "U0DAVE00001"
contacts = [{ kind = "email", address = "d@example.com" }]
"#,
        );
        let problems = r.check();
        let at: Vec<&str> = problems.iter().map(|p| p.at.as_str()).collect();
        assert_eq!(
            at,
            [
                "people.bob.mattermost_user",
                "people.carol.mattermost_user",
                "people.dave.mattermost_user",
            ]
        );
        assert!(
            problems[0]
                .message
                .contains("`alice` has the same Mattermost user id"),
            "{problems:?}"
        );
    }
}
