//! Problems in a roster, each with where it is and how to fix it.

use super::schedule::zone;
use super::{ChatChannel, Contact, ContactKind, Person, Roster, Schedule, Secret, Team};

pub use crate::problem::Problem;
use crate::problem::Problems;

/// Lowercase letters, digits, `-` and `_`, so ids read the same in URLs, targets and
/// file keys.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

const ID_HINT: &str = "ids use lowercase letters, digits, `-` and `_` (e.g. sre-primary)";

fn check_zone(p: &mut Problems, at: String, name: &str) {
    if zone(name).is_none() {
        p.add(
            at,
            format!("unknown time zone `{name}`"),
            "use an IANA name such as UTC, Europe/Berlin or America/New_York (not an offset, which would get daylight saving wrong)",
        );
    }
}

/// `user@host.tld`, roughly: enough to catch a URL or a name in the wrong field.
fn plausible_email(address: &str) -> bool {
    let Some((user, host)) = address.split_once('@') else {
        return false;
    };
    !user.is_empty()
        && !host.is_empty()
        && !host.contains('@')
        && host.contains('.')
        && !host.starts_with('.')
        && !host.ends_with('.')
        && !address.chars().any(char::is_whitespace)
}

/// Pushover user and group keys are 30 characters of `[A-Za-z0-9]`.
fn plausible_pushover_key(address: &str) -> bool {
    address.len() == 30 && address.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// E.164: a `+`, a country code not starting with 0, at most 15 digits in all.
pub(crate) fn plausible_phone(address: &str) -> bool {
    address.strip_prefix('+').is_some_and(|digits| {
        (8..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

fn plausible_url(address: &str) -> bool {
    let rest = address
        .strip_prefix("https://")
        .or_else(|| address.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !r.chars().any(char::is_whitespace)
    })
}

impl Roster {
    /// Every problem in the roster; empty when it can be trusted.
    pub fn check(&self) -> Vec<Problem> {
        let mut p = Problems::default();
        for (key, person) in &self.people {
            check_person(&mut p, key, person);
            self.check_unique_account(&mut p, key, person, |x| x.slack_user.as_ref(), SLACK);
            self.check_unique_account(
                &mut p,
                key,
                person,
                |x| x.mattermost_user.as_ref(),
                MATTERMOST,
            );
        }
        for (key, team) in &self.teams {
            self.check_team(&mut p, key, team);
        }
        for (key, schedule) in &self.schedules {
            self.check_schedule(&mut p, key, schedule);
        }
        for (key, channel) in &self.channels {
            check_channel(&mut p, key, channel);
        }
        p.0
    }

    /// A chat account links one person: two people with the same one would leave it
    /// open which of them acts.
    fn check_unique_account(
        &self,
        p: &mut Problems,
        key: &str,
        person: &Person,
        account: fn(&Person) -> Option<&String>,
        chat: Account,
    ) {
        let twin = account(person).and_then(|id| {
            self.people
                .iter()
                .take_while(|(other, _)| other.as_str() < key)
                .find(|(_, other)| account(other) == Some(id))
        });
        if let Some((other, _)) = twin {
            p.add(
                format!("people.{key}.{}", chat.field),
                format!("`{other}` has the same {}", chat.id),
                format!(
                    "each {} acts as one person: fix one of the two",
                    chat.member
                ),
            );
        }
    }

    fn person_known(&self, p: &mut Problems, at: String, id: &str) {
        if !self.people.contains_key(id) {
            p.add(
                at,
                format!("unknown person `{id}`"),
                "add them under [people] or fix the id",
            );
        }
    }

    fn check_team(&self, p: &mut Problems, key: &str, team: &Team) {
        let base = format!("teams.{key}");
        check_key(p, &base, key, &team.id);
        if team.members.is_empty() && team.schedule.is_none() {
            p.add(
                format!("{base}.members"),
                "the team has no members and no schedule, so paging it reaches nobody",
                "list its members, or give it a schedule",
            );
        }
        for (i, member) in team.members.iter().enumerate() {
            self.person_known(p, format!("{base}.members[{i}]"), member);
        }
        if let Some(schedule) = &team.schedule {
            if !self.schedules.contains_key(schedule) {
                p.add(
                    format!("{base}.schedule"),
                    format!("unknown schedule `{schedule}`"),
                    "define it under [schedules] or fix the id; until then paging the team pages all its members",
                );
            }
        }
    }

    fn check_schedule(&self, p: &mut Problems, key: &str, schedule: &Schedule) {
        let base = format!("schedules.{key}");
        check_key(p, &base, key, &schedule.id);
        check_zone(p, format!("{base}.time_zone"), &schedule.time_zone);
        if schedule.layers.is_empty() && schedule.overrides.is_empty() {
            p.add(
                format!("{base}.layers"),
                "the schedule has no layers, so nobody is ever on call",
                "add a [[schedules.ID.layers]] rotation",
            );
        }
        for (i, layer) in schedule.layers.iter().enumerate() {
            let at = format!("{base}.layers[{i}]");
            if layer.participants.is_empty() {
                p.add(
                    format!("{at}.participants"),
                    "the layer has no participants",
                    "list the people who rotate on it, in order",
                );
            }
            for (j, person) in layer.participants.iter().enumerate() {
                self.person_known(p, format!("{at}.participants[{j}]"), person);
            }
            if layer.shift.is_zero() {
                p.add(
                    format!("{at}.shift"),
                    format!("shift length `{}` is zero", layer.shift),
                    "write e.g. 12h, 1d or 1w",
                );
            }
            if let Some(tz) = &layer.time_zone {
                check_zone(p, format!("{at}.time_zone"), tz);
            }
            for (j, r) in layer.restrictions.iter().enumerate() {
                let mut days = r.days.clone();
                days.sort_by_key(|d| d.to_monday_one_offset());
                let before = days.len();
                days.dedup();
                if days.len() != before {
                    p.add(
                        format!("{at}.restrictions[{j}].days"),
                        "a day is listed twice",
                        "list each day once",
                    );
                }
            }
        }
        for (i, o) in schedule.overrides.iter().enumerate() {
            let at = format!("{base}.overrides[{i}]");
            self.person_known(p, format!("{at}.person"), &o.person);
            if o.end <= o.start {
                p.add(
                    format!("{at}.end"),
                    format!(
                        "the override ends ({}) before it starts ({})",
                        o.end, o.start
                    ),
                    "end must be after start",
                );
            }
        }
    }
}

fn check_channel(p: &mut Problems, key: &str, channel: &ChatChannel) {
    let base = format!("channels.{key}");
    check_key(p, &base, key, &channel.id);
    match channel.kind {
        ContactKind::Sms | ContactKind::Voice | ContactKind::Pushover | ContactKind::Ntfy => {
            p.add(
                format!("{base}.kind"),
                format!("a channel cannot be {}: that reaches one person's phone", channel.kind),
                "page people through their own contacts; give a channel slack, slack_bot, mattermost, rocket_chat, teams, discord, matrix, webhook or email",
            );
        }
        _ => check_contact(p, &base, &channel.contact()),
    }
    if channel.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        p.add(
            format!("{base}.name"),
            "the name is empty",
            "remove it (the channel is then called #ID) or give the name people know",
        );
    }
}

/// One way of reaching a person or a channel: its address fits its kind, and it has a
/// secret exactly where the kind needs one.
fn check_contact(p: &mut Problems, at: &str, c: &Contact) {
    match c.kind {
        ContactKind::Email if !plausible_email(&c.address) => p.add(
            format!("{at}.address"),
            format!("`{}` is not an e-mail address", c.address),
            "write it as name@example.com",
        ),
        ContactKind::Matrix if !plausible_matrix_room(&c.address) => p.add(
            format!("{at}.address"),
            format!("`{}` is not a Matrix room on a homeserver", c.address),
            "write the homeserver's URL, /#/ and the room id, e.g. https://matrix.example.org/#/!abc:example.org",
        ),
        kind if kind.calls_url() && !plausible_url(&c.address) => p.add(
            format!("{at}.address"),
            format!("`{}` is not an http(s) URL", c.address),
            match kind {
                ContactKind::Ntfy => "write the topic's full URL, e.g. https://ntfy.sh/alice-pages",
                ContactKind::Slack => "write the full URL, e.g. https://hooks.slack.com/services/…",
                _ => "write the full webhook URL the service gave you, starting https://",
            },
        ),
        ContactKind::SlackBot if !plausible_slack_conversation(&c.address) => p.add(
            format!("{at}.address"),
            format!("`{}` is not a Slack channel or user id", c.address),
            "copy the channel's id (C0123ABC) from its details in Slack, or a member id (U0123ABC) for a direct message",
        ),
        ContactKind::Pushover if !plausible_pushover_key(&c.address) => p.add(
            format!("{at}.address"),
            "this is not a Pushover user or group key (30 letters and digits)",
            "copy the user key from the top of your Pushover dashboard",
        ),
        ContactKind::Sms | ContactKind::Voice if !plausible_phone(&c.address) => p.add(
            format!("{at}.address"),
            format!("`{}` is not a phone number in international form", c.address),
            "write it in E.164 form: + then country code and number, e.g. +15551234567",
        ),
        ContactKind::Push => p.add(
            format!("{at}.kind"),
            "push contacts are devices that subscribe themselves",
            "open the web UI on the phone and tap \"Get pages on this device\"; keep `push` in rules",
        ),
        _ => {}
    }
    match (c.kind.secret(), &c.secret) {
        (Secret::None, Some(_)) => p.add(
            format!("{at}.secret"),
            format!(
                "a secret is only used by webhooks, ntfy topics, Slack bots and Matrix rooms, not {}",
                c.kind
            ),
            "remove it, or make the contact a webhook",
        ),
        (Secret::Required, None) => p.add(
            format!("{at}.secret"),
            format!("a {} contact needs its token as the secret", c.kind),
            if c.kind == ContactKind::SlackBot {
                "set secret to the app's bot token (xoxb-…)"
            } else {
                "set secret to the access token of the account that posts"
            },
        ),
        (_, Some(secret)) if secret.is_empty() => p.add(
            format!("{at}.secret"),
            "the secret is empty",
            "remove it, or give a random string the receiver also knows",
        ),
        _ => {}
    }
}

/// A Slack conversation id: a channel (`C…`, `G…`), a direct message (`D…`) or a
/// member (`U…`, `W…`), upper-case letters and digits.
/// A chat account field, for the words of a duplicate.
#[derive(Clone, Copy)]
struct Account {
    field: &'static str,
    id: &'static str,
    member: &'static str,
}

const SLACK: Account = Account {
    field: "slack_user",
    id: "Slack member id",
    member: "Slack member",
};

const MATTERMOST: Account = Account {
    field: "mattermost_user",
    id: "Mattermost user id",
    member: "Mattermost user",
};

/// Mattermost's ids: 26 characters of lowercase base32 (letters and digits).
fn plausible_mattermost_id(id: &str) -> bool {
    id.len() == 26
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

fn plausible_slack_conversation(id: &str) -> bool {
    id.len() >= 9
        && id.len() <= 24
        && id.starts_with(['C', 'G', 'D', 'U', 'W'])
        && id
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// `https://matrix.example.org/#/!room:example.org`: a homeserver URL and a room id.
fn plausible_matrix_room(address: &str) -> bool {
    address.split_once("/#/").is_some_and(|(server, room)| {
        plausible_url(server)
            && room.starts_with('!')
            && room.contains(':')
            && !room.contains(char::is_whitespace)
    })
}

fn check_key(p: &mut Problems, base: &str, key: &str, id: &str) {
    if !valid_id(key) {
        p.add(base, format!("`{key}` is not a valid id"), ID_HINT);
    }
    if id != key {
        p.add(
            format!("{base}.id"),
            format!("id `{id}` differs from its key `{key}`"),
            "the key is the id; drop the id field or make them equal",
        );
    }
}

/// The longest a person may have their reminders held to bundle them: longer, and an
/// update that is due would reach them after it mattered.
const MAX_BUNDLE: jiff::SignedDuration = jiff::SignedDuration::from_hours(1);

fn check_person(p: &mut Problems, key: &str, person: &Person) {
    let base = format!("people.{key}");
    check_key(p, &base, key, &person.id);
    check_zone(p, format!("{base}.time_zone"), &person.time_zone);
    if person.contacts.is_empty() {
        p.add(
            format!("{base}.contacts"),
            "the person has no contacts, so pages cannot reach them",
            "add e.g. { kind = \"email\", address = \"name@example.com\" }",
        );
    }
    for (i, c) in person.contacts.iter().enumerate() {
        check_contact(p, &format!("{base}.contacts[{i}]"), c);
    }
    if let Some(id) = &person.slack_user {
        if !(id.starts_with(['U', 'W']) && plausible_slack_conversation(id)) {
            p.add(
                format!("{base}.slack_user"),
                format!("`{id}` is not a Slack member id"),
                "copy it from the person's Slack profile: ⋮ then \"Copy member ID\" (U0123ABCDEF)",
            );
        }
    }
    if let Some(id) = &person.mattermost_user {
        if !plausible_mattermost_id(id) {
            p.add(
                format!("{base}.mattermost_user"),
                format!("`{id}` is not a Mattermost user id"),
                "a user id is 26 lowercase letters and digits: in Mattermost, the person's \
                 profile (View profile, ⋮, Copy user ID), or `mmctl user search NAME`",
            );
        }
    }
    if let Some(bundle) = person.bundle {
        if bundle.is_negative() || bundle > MAX_BUNDLE {
            p.add(
                format!("{base}.bundle"),
                format!("`{bundle:#}` is not between 0m and {MAX_BUNDLE:#}"),
                "write 0m to get each message at once, or up to 1h to get them together",
            );
        }
    }
    for (i, rule) in person.rules.iter().enumerate() {
        let at = format!("{base}.rules[{i}]");
        // Push devices subscribe from the web UI, so a roster names them only in rules.
        if rule.kind != ContactKind::Push && !person.contacts.iter().any(|c| c.kind == rule.kind) {
            p.add(
                format!("{at}.kind"),
                format!(
                    "the rule uses {} but the person has no {} contact",
                    rule.kind, rule.kind
                ),
                format!("add a {} contact, or remove the rule", rule.kind),
            );
        }
        if rule.after.is_negative() {
            p.add(
                format!("{at}.after"),
                format!("`{:#}` is negative", rule.after),
                "rules count from the page: write 0m for at once",
            );
        }
        if person.rules[..i]
            .iter()
            .any(|r| r.kind == rule.kind && r.after == rule.after)
        {
            p.add(
                at,
                format!(
                    "the same rule ({} after {:#}) is listed twice",
                    rule.kind, rule.after
                ),
                "remove one of them",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_told_apart_from_what_they_are_not() {
        assert!(plausible_email("alice@example.com"));
        for bad in [
            "alice",
            "@example.com",
            "alice@",
            "alice@example",
            "a b@example.com",
            "https://x.io",
        ] {
            assert!(!plausible_email(bad), "{bad:?}");
        }
        assert!(plausible_url("https://hooks.slack.com/services/T/B/X"));
        assert!(plausible_url("http://localhost:8080/hook"));
        for bad in ["hooks.slack.com", "ftp://x", "https://", "https:// x"] {
            assert!(!plausible_url(bad), "{bad:?}");
        }
        assert!(valid_id("sre-primary_2"));
        assert!(!valid_id("SRE"));
        assert!(!valid_id(""));
        assert!(!valid_id("a.b"));
    }
}
