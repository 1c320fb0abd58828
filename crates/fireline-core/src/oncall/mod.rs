//! On-call: people and how to reach them, teams, and schedules that say who is on call
//! when, read from a roster file ([`Roster::from_toml_str`]) and checked
//! ([`Roster::check`]) before a server trusts them.
//!
//! A policy names targets (`schedule:sre-primary`, `team:sre`, `person:alice`);
//! [`Roster::resolve`] turns one into the people to page at an instant, and
//! [`coverage_gaps`] finds the windows when a schedule a policy relies on has nobody.
//! Everything here is pure: instants are arguments, and the only lookup is the time-zone
//! database, read-only.

pub mod ack;
pub mod chat;
pub mod check;
pub mod coverage;
pub mod ical;
pub mod notify;
pub mod readiness;
mod schedule;
pub mod tell;
pub mod text;
pub mod verify;

pub use chat::ChatChannel;
pub use check::Problem;
pub use coverage::{coverage_gaps, unknown_targets, CoverageGap, UnknownTarget};
pub use schedule::{
    Handoff, Layer, Override, ParseShiftLengthError, Restriction, Schedule, Shift, ShiftLength,
};

use crate::policy::Target;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Everyone who can be paged, the teams they form and the schedules they rotate on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "RosterFile")]
pub struct Roster {
    /// People by id.
    pub people: BTreeMap<String, Person>,
    /// Teams by id.
    pub teams: BTreeMap<String, Team>,
    /// Schedules by id.
    pub schedules: BTreeMap<String, Schedule>,
    /// Chat channels (and other shared destinations) by id: where pages naming
    /// `channel:ID` and updates are posted.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub channels: BTreeMap<String, ChatChannel>,
}

/// The file's shape: the map keys are the ids, so the entries need not repeat them.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RosterFile {
    #[serde(default)]
    people: BTreeMap<String, Person>,
    #[serde(default)]
    teams: BTreeMap<String, Team>,
    #[serde(default)]
    schedules: BTreeMap<String, Schedule>,
    #[serde(default)]
    channels: BTreeMap<String, ChatChannel>,
}

impl From<RosterFile> for Roster {
    fn from(file: RosterFile) -> Roster {
        fn keyed<T>(
            map: BTreeMap<String, T>,
            id: fn(&mut T) -> &mut String,
        ) -> BTreeMap<String, T> {
            map.into_iter()
                .map(|(key, mut value)| {
                    key.clone_into(id(&mut value));
                    (key, value)
                })
                .collect()
        }
        Roster {
            people: keyed(file.people, |p| &mut p.id),
            teams: keyed(file.teams, |t| &mut t.id),
            schedules: keyed(file.schedules, |s| &mut s.id),
            channels: keyed(file.channels, |c| &mut c.id),
        }
    }
}

/// Someone who can be paged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    /// Id, the key under `[people]`.
    #[serde(default)]
    pub id: String,
    /// Full name.
    pub name: String,
    /// IANA time zone the person lives in, for showing them their shifts.
    #[serde(default = "utc")]
    pub time_zone: String,
    /// Ways to reach them.
    #[serde(default)]
    pub contacts: Vec<Contact>,
    /// When each kind of contact is used after a page; empty means every contact at once
    /// (see [`Person::effective_rules`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<NotificationRule>,
    /// How long messages that need no waking up (reminders, updates due, hand-offs,
    /// repeats) wait after the last one on the same contact, to go out together as one:
    /// `0m` sends each at once. Pages are never held. Unset: the server's default (1m).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "text::friendly_opt"
    )]
    pub bundle: Option<SignedDuration>,
    /// Their Slack member id (`U0123ABCDEF`): what they do from Slack (buttons, the
    /// `/fireline` command) is done as them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack_user: Option<String>,
    /// Their Mattermost user id (26 lowercase letters and digits): what they do from
    /// Mattermost (buttons, the `/fireline` command) is done as them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mattermost_user: Option<String>,
}

fn utc() -> String {
    "UTC".to_owned()
}

/// A kind of contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactKind {
    /// An e-mail address.
    Email,
    /// A Slack incoming-webhook URL.
    Slack,
    /// A generic HTTP(S) webhook.
    Webhook,
    /// An ntfy topic URL (`https://ntfy.sh/alice-pages`, or a self-hosted server); the
    /// secret, if any, is the access token.
    Ntfy,
    /// A Pushover user (or group) key; the application token is the server's.
    Pushover,
    /// A mobile number in E.164 form (`+15551234567`), texted through the SMS provider.
    Sms,
    /// A phone number in E.164 form, called through the voice provider.
    Voice,
    /// A browser or phone subscribed to Web Push from the web UI. Devices subscribe
    /// themselves; roster files name the kind only in notification rules.
    Push,
    /// A Slack channel (`C0123ABC`) or user (`U0123ABC`, a direct message) posted to
    /// through the Web API with a bot token, the secret.
    SlackBot,
    /// A Mattermost incoming-webhook URL.
    Mattermost,
    /// A Rocket.Chat incoming-webhook URL.
    RocketChat,
    /// A Microsoft Teams Workflows webhook URL ("post to a channel when a webhook
    /// request is received").
    Teams,
    /// A Discord channel webhook URL.
    Discord,
    /// A Matrix room on a homeserver, written `https://matrix.example.org/#/!room:example.org`
    /// (the homeserver's URL, `/#/`, the room id); the secret is the access token.
    Matrix,
}

impl ContactKind {
    /// Every kind, in the order people usually list them.
    pub const ALL: [ContactKind; 14] = [
        ContactKind::Email,
        ContactKind::Slack,
        ContactKind::Webhook,
        ContactKind::Ntfy,
        ContactKind::Pushover,
        ContactKind::Sms,
        ContactKind::Voice,
        ContactKind::Push,
        ContactKind::SlackBot,
        ContactKind::Mattermost,
        ContactKind::RocketChat,
        ContactKind::Teams,
        ContactKind::Discord,
        ContactKind::Matrix,
    ];

    /// Whether this kind can wake a person at night: it rings or buzzes a phone.
    pub fn wakes(self) -> bool {
        matches!(
            self,
            ContactKind::Ntfy
                | ContactKind::Pushover
                | ContactKind::Sms
                | ContactKind::Voice
                | ContactKind::Push
        )
    }

    /// Whether the address is a URL fireline calls (so the outbound guard applies to it
    /// when it is written as well as when it is used).
    pub fn calls_url(self) -> bool {
        matches!(
            self,
            ContactKind::Slack
                | ContactKind::Webhook
                | ContactKind::Ntfy
                | ContactKind::Mattermost
                | ContactKind::RocketChat
                | ContactKind::Teams
                | ContactKind::Discord
                | ContactKind::Matrix
        )
    }

    /// Whether a contact of this kind takes a secret, and needs one.
    pub fn secret(self) -> Secret {
        match self {
            ContactKind::Webhook | ContactKind::Ntfy => Secret::Optional,
            ContactKind::SlackBot | ContactKind::Matrix => Secret::Required,
            _ => Secret::None,
        }
    }
}

/// Whether a kind of contact takes a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    /// It has no use for one.
    None,
    /// It may have one (a webhook's signing key, an ntfy topic's token).
    Optional,
    /// It cannot work without one (a bot token, an access token).
    Required,
}

impl ContactKind {
    /// Name in roster files.
    pub fn as_str(self) -> &'static str {
        match self {
            ContactKind::Email => "email",
            ContactKind::Slack => "slack",
            ContactKind::Webhook => "webhook",
            ContactKind::Ntfy => "ntfy",
            ContactKind::Pushover => "pushover",
            ContactKind::Sms => "sms",
            ContactKind::Voice => "voice",
            ContactKind::Push => "push",
            ContactKind::SlackBot => "slack_bot",
            ContactKind::Mattermost => "mattermost",
            ContactKind::RocketChat => "rocket_chat",
            ContactKind::Teams => "teams",
            ContactKind::Discord => "discord",
            ContactKind::Matrix => "matrix",
        }
    }
}

impl std::str::FromStr for ContactKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ContactKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = ContactKind::ALL.iter().map(|k| k.as_str()).collect();
                format!(
                    "unknown contact kind `{s}`: expected one of {}",
                    names.join(", ")
                )
            })
    }
}

impl fmt::Display for ContactKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One way to reach a person.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// What kind.
    pub kind: ContactKind,
    /// The e-mail address, URL, user key or phone number.
    pub address: String,
    /// Key a webhook's body is signed with (HMAC), so the receiver can trust it; an
    /// ntfy topic's access token; a push subscription's keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// The address of the `push` contact [`Roster::with_push_devices`] adds: every device
/// the person subscribed, looked up when a message is sent.
pub const PUSH_DEVICES: &str = "subscribed devices";

// By hand, so a secret never reaches a log line.
impl fmt::Debug for Contact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Contact")
            .field("kind", &self.kind)
            .field("address", &self.address)
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .finish()
    }
}

/// When a person is reached through one kind of contact, counted from the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationRule {
    /// Through which kind of contact (every contact of that kind).
    pub kind: ContactKind,
    /// How long after the page; zero means at once.
    #[serde(with = "text::friendly", default)]
    pub after: SignedDuration,
}

/// A group of people, optionally with a schedule that says which of them is on call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Team {
    /// Id, the key under `[teams]`.
    #[serde(default)]
    pub id: String,
    /// Name.
    pub name: String,
    /// Person ids.
    #[serde(default)]
    pub members: Vec<String>,
    /// The team's schedule: paging the team pages whoever is on call on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// Services the team owns: reports group their incidents under the team.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
}

/// A person a target resolved to, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolved {
    /// Person id.
    pub person: String,
    /// The path from the target: `schedule:sre-primary`, `person:alice`, `team:sre`, or
    /// `team:sre/schedule:sre-primary`.
    pub via: String,
}

/// Why a roster file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RosterError {
    /// Not TOML, or not the roster's shape (a misspelt key, a bad time, …).
    #[error("{location}: {message}")]
    Syntax {
        /// `line 4, column 9`, or `file` when the parser cannot say.
        location: String,
        /// What is wrong.
        message: String,
    },
}

impl Person {
    /// The rules in force: the ones written, or when none are, every kind of contact the
    /// person has, at once.
    pub fn effective_rules(&self) -> Vec<NotificationRule> {
        if !self.rules.is_empty() {
            return self.rules.clone();
        }
        let mut kinds: Vec<ContactKind> = self.contacts.iter().map(|c| c.kind).collect();
        kinds.sort_unstable();
        kinds.dedup();
        kinds
            .into_iter()
            .map(|kind| NotificationRule {
                kind,
                after: SignedDuration::ZERO,
            })
            .collect()
    }

    /// The person's contacts of one kind.
    pub fn contacts_of(&self, kind: ContactKind) -> impl Iterator<Item = &Contact> {
        self.contacts.iter().filter(move |c| c.kind == kind)
    }
}

impl Roster {
    /// The roster as the engine pages from it: each of `people` (those with a device
    /// subscribed to Web Push) gets one `push` contact standing for all their devices,
    /// so their notification rules (or, without rules, the default of every contact at
    /// once) reach their phones. Roster files never list push contacts themselves.
    pub fn with_push_devices(mut self, people: &std::collections::BTreeSet<String>) -> Roster {
        for id in people {
            if let Some(person) = self.people.get_mut(id) {
                if !person.contacts.iter().any(|c| c.kind == ContactKind::Push) {
                    person.contacts.push(Contact {
                        kind: ContactKind::Push,
                        address: PUSH_DEVICES.to_owned(),
                        secret: None,
                    });
                }
            }
        }
        self
    }

    /// Reads a roster file. Only the syntax and shape are checked here; [`Roster::check`]
    /// finds everything else (unknown people, bad zones, …).
    pub fn from_toml_str(text: &str) -> Result<Roster, RosterError> {
        toml::from_str(text).map_err(|e| RosterError::Syntax {
            location: crate::problem::toml_location(text, &e).unwrap_or_else(|| "file".to_owned()),
            message: e.message().to_owned(),
        })
    }

    /// The people a policy target reaches at `at`. A schedule reaches whoever is on call
    /// (possibly nobody); a team reaches its schedule's on-call person, or all its members
    /// when it has no schedule, or one the roster does not know, so a typo never silences
    /// a page; a channel reaches no people. Names the roster does not know, and people
    /// it does not list, resolve to nothing: `check` and [`unknown_targets`] report them.
    pub fn resolve(&self, target: &Target, at: Timestamp) -> Vec<Resolved> {
        let known = |id: &str| self.people.contains_key(id);
        let mut out: Vec<Resolved> = Vec::new();
        let mut push = |person: &str, via: String| {
            if known(person) && !out.iter().any(|r| r.person == person) {
                out.push(Resolved {
                    person: person.to_owned(),
                    via,
                });
            }
        };
        match target {
            Target::Schedule(id) => {
                if let Some(shift) = self.schedules.get(id).and_then(|s| s.on_call_at(at)) {
                    push(&shift.person, format!("schedule:{id}"));
                }
            }
            Target::Person(id) => push(id, format!("person:{id}")),
            Target::Team(id) => {
                if let Some(team) = self.teams.get(id) {
                    match team
                        .schedule
                        .as_ref()
                        .and_then(|s| Some((s, self.schedules.get(s)?)))
                    {
                        Some((sid, schedule)) => {
                            if let Some(shift) = schedule.on_call_at(at) {
                                push(&shift.person, format!("team:{id}/schedule:{sid}"));
                            }
                        }
                        None => {
                            for member in &team.members {
                                push(member, format!("team:{id}"));
                            }
                        }
                    }
                }
            }
            Target::Channel(_) => {}
        }
        out
    }
}
