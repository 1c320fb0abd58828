//! The on-call roster (`routes/oncall.rs`).
//!
//! Request bodies are the request types at the end of this file (`PersonRequest`, …):
//! they accept exactly the roster file's shape (docs/oncall.md) with the same text forms
//! (`09:00`, `1w`, `5m`) and convert into `fireline_core::oncall` types. The views are
//! what responses carry, built from the core types' own JSON, so both directions use one
//! set of text forms, and every optional field is always present (`null` or `[]`) so
//! clients need no guessing; a view sent back as a request is read as it was shown.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// What a contact's secret reads as in responses: secrets are never sent back. Sending it
/// back in a `PUT` keeps the stored secret of the same contact.
pub const MASKED_SECRET: &str = "****";

/// A contact kind, as the roster writes it (schema only; parsed by the roster).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ContactKindName {
    /// An e-mail address.
    Email,
    /// A Slack incoming-webhook URL.
    Slack,
    /// A generic HTTP(S) webhook.
    Webhook,
    /// An ntfy topic URL.
    Ntfy,
    /// A Pushover user or group key.
    Pushover,
    /// A mobile number (E.164), texted.
    Sms,
    /// A phone number (E.164), called.
    Voice,
    /// The person's devices subscribed to Web Push (rules only).
    Push,
    /// A Slack channel or member id, posted to with a bot token (the secret).
    SlackBot,
    /// A Mattermost incoming-webhook URL.
    Mattermost,
    /// A Rocket.Chat incoming-webhook URL.
    RocketChat,
    /// A Microsoft Teams Workflows webhook URL.
    Teams,
    /// A Discord channel webhook URL.
    Discord,
    /// A Matrix room, `https://homeserver/#/!room:server`, with an access token (the
    /// secret).
    Matrix,
}

/// An update channel, as policies and events name it (schema only).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum UpdateChannelName {
    /// Responders and stakeholders inside.
    Internal,
    /// The public status page.
    StatusPage,
    /// Direct customer communication.
    Customer,
}

/// A chat channel (or mailing list) pages naming `channel:ID`, updates and notable
/// events are posted to.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelView {
    /// Id (lowercase letters, digits, `-`, `_`); a policy names it `channel:#ID`.
    #[serde(default)]
    pub id: String,
    /// What people call it, when not `#ID`.
    #[serde(default)]
    pub name: Option<String>,
    /// How it is reached.
    #[schema(value_type = ContactKindName)]
    pub kind: String,
    /// The webhook URL, Slack channel id, Matrix room or e-mail address; masked (`…`)
    /// for all but admins.
    pub address: String,
    /// The token or signing key: `****` when one is set (never the secret itself).
    #[serde(default)]
    pub secret: Option<String>,
    /// Updates on these channels are posted here too.
    #[serde(default)]
    #[schema(value_type = Vec<UpdateChannelName>)]
    pub updates: Vec<String>,
    /// Whether the incident's notable events are posted here as they happen.
    #[serde(default)]
    pub events: bool,
}

/// A weekday, as the roster writes it (schema only; the full English name is read too).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum WeekdayName {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

/// One way to reach a person.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactView {
    /// `email`, `slack`, `webhook`, `ntfy`, `pushover`, `sms` or `voice`.
    #[schema(value_type = ContactKindName)]
    pub kind: String,
    /// The e-mail address or URL. In full only for admins and for the person themselves
    /// (a web UI session of the user whose name is the person's id); everyone else reads
    /// a masked form with `…` that says how the person is reached but not where:
    /// `a…@example.com`, `https://hooks.slack.com/…`. A masked address is refused in a
    /// `PUT`.
    pub address: String,
    /// A webhook's signing key: `****` when one is set (never the secret itself).
    #[serde(default)]
    pub secret: Option<String>,
}

/// When a person is reached through one kind of contact, counted from the page.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationRuleView {
    /// `email`, `slack`, `webhook`, `ntfy`, `pushover`, `sms`, `voice` or `push`.
    #[schema(value_type = ContactKindName)]
    pub kind: String,
    /// How long after the page: `0m`, `5m`, `1h30m`.
    #[schema(
        pattern = r"^([0-9]{1,5}h([0-9]{1,5}m)?([0-9]{1,5}s)?|[0-9]{1,5}m([0-9]{1,5}s)?|[0-9]{1,5}s)$"
    )]
    pub after: String,
}

/// Someone who can be paged.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonView {
    /// Id (lowercase letters, digits, `-`, `_`).
    #[serde(default)]
    pub id: String,
    /// Full name.
    pub name: String,
    /// IANA time zone, e.g. `Europe/Berlin`.
    pub time_zone: String,
    /// Ways to reach them.
    #[serde(default)]
    pub contacts: Vec<ContactView>,
    /// Notification rules as written; empty means every contact at once.
    #[serde(default)]
    pub rules: Vec<NotificationRuleView>,
    /// How long messages that need no waking up wait after the last one on a contact,
    /// to go out together (`0m`: each at once; at most `1h`); absent: the server's
    /// default, 1 minute. Pages are never held.
    #[serde(default)]
    #[schema(
        example = "5m",
        pattern = r"^([0-9]{1,5}h([0-9]{1,5}m)?([0-9]{1,5}s)?|[0-9]{1,5}m([0-9]{1,5}s)?|[0-9]{1,5}s)$"
    )]
    pub bundle: Option<String>,
    /// Their Slack member id: what they do from Slack is done as them.
    #[serde(default)]
    pub slack_user: Option<String>,
    /// Their Mattermost user id: what they do from Mattermost is done as them.
    #[serde(default)]
    pub mattermost_user: Option<String>,
}

/// A group of people, optionally with the schedule that says which of them is on call.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamView {
    /// Id.
    #[serde(default)]
    pub id: String,
    /// Name.
    pub name: String,
    /// Person ids.
    #[serde(default)]
    pub members: Vec<String>,
    /// The team's schedule id, if it has one.
    #[serde(default)]
    pub schedule: Option<String>,
    /// Services the team owns (reports group their incidents under the team).
    #[serde(default)]
    pub services: Vec<String>,
}

/// A daily window a layer is limited to, in the layer's time zone.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestrictionView {
    /// Days the window starts on (`mon` … `sun`); empty means every day.
    #[serde(default)]
    #[schema(value_type = Vec<WeekdayName>)]
    pub days: Vec<String>,
    /// Local start time, `09:00`.
    #[schema(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$")]
    pub from: String,
    /// Local end time; not after `from` means past midnight.
    #[schema(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$")]
    pub to: String,
}

/// A rotation through participants at a fixed shift length.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LayerView {
    /// Name, shown on the shifts it produces.
    pub name: String,
    /// Person ids in rotation order.
    pub participants: Vec<String>,
    /// Shift length: `12h`, `1d`, `1w`, `2w`, `daily`, `weekly`.
    #[schema(pattern = r"^([0-9]{1,9}[hdw]|daily|weekly)$")]
    pub shift: String,
    /// Local time of day the first shift starts, `00:00`.
    #[schema(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$")]
    pub handoff: String,
    /// Local date of the first shift, `2026-01-05`.
    #[schema(format = Date)]
    pub start: String,
    /// The layer's own IANA zone, if not the schedule's.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Windows the layer is limited to; empty means always.
    #[serde(default)]
    pub restrictions: Vec<RestrictionView>,
}

/// Someone on call instead of whoever the layers say.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideView {
    /// Person id.
    pub person: String,
    /// From (inclusive).
    #[schema(value_type = String, format = DateTime)]
    pub start: Timestamp,
    /// Until (exclusive).
    #[schema(value_type = String, format = DateTime)]
    pub end: Timestamp,
}

/// An on-call schedule.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleView {
    /// Id.
    #[serde(default)]
    pub id: String,
    /// Name.
    pub name: String,
    /// IANA zone the layers' dates and hand-off times are read in.
    pub time_zone: String,
    /// Rotation layers, lowest first: a later layer wins wherever it has someone.
    #[serde(default)]
    pub layers: Vec<LayerView>,
    /// Overrides; they beat every layer, the last listed wins where they overlap.
    #[serde(default)]
    pub overrides: Vec<OverrideView>,
}

/// The whole roster, keyed by id as in the roster file (`GET /api/v1/roster`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RosterView {
    /// People by id.
    #[serde(default)]
    pub people: BTreeMap<String, PersonView>,
    /// Teams by id.
    #[serde(default)]
    pub teams: BTreeMap<String, TeamView>,
    /// Schedules by id.
    #[serde(default)]
    pub schedules: BTreeMap<String, ScheduleView>,
    /// Chat channels by id.
    #[serde(default)]
    pub channels: BTreeMap<String, ChannelView>,
}

/// `PUT /api/v1/roster`: what was stored.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RosterImported {
    /// How many people.
    pub people: usize,
    /// How many teams.
    pub teams: usize,
    /// How many schedules.
    pub schedules: usize,
    /// How many chat channels.
    pub channels: usize,
}

/// `GET /api/v1/people`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PersonList {
    /// By id.
    pub people: Vec<PersonView>,
}

/// `GET /api/v1/teams`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TeamList {
    /// By id.
    pub teams: Vec<TeamView>,
}

/// `GET /api/v1/schedules`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ScheduleList {
    /// By id.
    pub schedules: Vec<ScheduleView>,
}

/// A stretch of time one person is on call.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ShiftView {
    /// Person id.
    pub person: String,
    /// From (inclusive).
    #[schema(value_type = String, format = DateTime)]
    pub start: Timestamp,
    /// Until (exclusive).
    #[schema(value_type = String, format = DateTime)]
    pub end: Timestamp,
    /// The layer it came from; `null` for an override.
    pub layer: Option<String>,
}

/// Who is on call on one schedule at an instant.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OnCallView {
    /// Schedule id.
    pub schedule: String,
    /// Schedule name.
    pub name: String,
    /// The schedule's IANA zone, for showing times locally.
    pub time_zone: String,
    /// The shift covering the instant; `null` when nobody is on call.
    pub shift: Option<ShiftView>,
}

/// `GET /api/v1/oncall`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OnCallList {
    /// The instant asked about.
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// One entry per schedule, by id.
    pub oncall: Vec<OnCallView>,
}

/// `GET /api/v1/schedules/{id}/shifts`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ShiftList {
    /// Schedule id.
    pub schedule: String,
    /// Schedule name.
    pub name: String,
    /// The schedule's IANA zone.
    pub time_zone: String,
    /// Window start (inclusive).
    #[schema(value_type = String, format = DateTime)]
    pub from: Timestamp,
    /// Window end (exclusive).
    #[schema(value_type = String, format = DateTime)]
    pub to: Timestamp,
    /// Consecutive shifts in the window; times with nobody on call are absent.
    pub shifts: Vec<ShiftView>,
}

/// `POST /api/v1/people/{id}/test` query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TestPageQuery {
    /// Only the contacts of this kind [default: every contact].
    #[param(value_type = Option<ContactKindName>)]
    pub kind: Option<String>,
}

/// Test pages queued for a person, one per contact.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestPagesSent {
    /// The person.
    pub person: String,
    /// The contacts a test page is on its way to (addresses masked); each asks its
    /// reader to confirm, which marks the contact verified.
    pub sent: Vec<TestPageView>,
}

/// One test page.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestPageView {
    /// The contact's kind.
    #[schema(value_type = ContactKindName)]
    pub kind: String,
    /// The contact's address, masked.
    pub address: String,
    /// Whether the contact was already verified by an earlier test.
    pub verified: bool,
}

/// `GET /api/v1/oncall` query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OnCallQuery {
    /// The instant, RFC 3339 [default: now].
    #[param(value_type = Option<String>, format = DateTime)]
    pub at: Option<Timestamp>,
    /// Only this schedule.
    pub schedule: Option<String>,
}

/// `PUT /api/v1/roster` query: the guards against replacing a working roster with one
/// that pages nobody, each lifted only when asked for by name.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RosterPutQuery {
    /// Accept a roster with no people, though people are stored now (emptying the
    /// roster on purpose) [default: false].
    pub allow_empty: Option<bool>,
    /// Accept a roster that lacks schedules, teams or people the policy in force pages
    /// and the stored roster has (those pages would reach nobody) [default: false].
    pub allow_unknown_targets: Option<bool>,
}

/// One calendar feed a caller can subscribe to.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CalendarFeedView {
    /// `schedule` or `person`.
    pub kind: String,
    /// The schedule's or person's id.
    pub id: String,
    /// The schedule's or person's name.
    pub name: String,
    /// The URL to subscribe to: the feed's path with its read-only secret as `?token=`
    /// (`flc_…`), which opens this feed and nothing else.
    pub url: String,
}

/// `GET /api/v1/calendar-feeds`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CalendarFeedList {
    /// Every schedule's feed, then every person's, by id.
    pub feeds: Vec<CalendarFeedView>,
}

/// `GET /api/v1/schedules/{id}/shifts` query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ShiftQuery {
    /// Window start, RFC 3339 [default: now].
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<Timestamp>,
    /// Window end, RFC 3339 [default: 14 days after `from`; at most 366 days after it].
    #[param(value_type = Option<String>, format = DateTime)]
    pub to: Option<Timestamp>,
}

impl From<&fireline_core::oncall::Shift> for ShiftView {
    fn from(s: &fireline_core::oncall::Shift) -> Self {
        ShiftView {
            person: s.person.clone(),
            start: s.start,
            end: s.end,
            layer: s.layer.clone(),
        }
    }
}

pub use request::{
    Contact as ContactRequest, Layer as LayerRequest, NotificationRule as NotificationRuleRequest,
    Override as OverrideRequest, Person as PersonRequest, Restriction as RestrictionRequest,
    RosterFile as RosterRequest, Schedule as ScheduleRequest, Team as TeamRequest,
};

/// Roster request bodies: `PUT /api/v1/roster`, `/people/{id}`, `/teams/{id}` and
/// `/schedules/{id}`. They accept exactly what the roster file's entries accept (the same
/// field names, defaults and text forms, unknown fields refused) and convert field by
/// field into `fireline_core::oncall` types, which `Roster::check` then judges as before.
///
/// Each struct and enum has its core counterpart's Rust name (re-exported as
/// `PersonRequest`, …, and documented under that name), because serde puts the name in
/// some messages (`expected struct Person`); with the same names, field order and
/// leaf parsers, a refused body gets the same 400 as when it was read into the core type.
mod request {
    use super::{ContactKindName, WeekdayName};
    use fireline_core::oncall as core;
    use jiff::civil::{Date, Time, Weekday};
    use jiff::{SignedDuration, Timestamp};
    use serde::Deserialize;
    use std::collections::BTreeMap;
    use utoipa::ToSchema;

    /// A person, as the roster file writes one.
    #[derive(Debug, Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    #[schema(as = PersonRequest)]
    pub struct Person {
        /// Id (lowercase letters, digits, `-`, `_`); absent or empty: the path's (or, in a
        /// roster, the key's).
        #[serde(default)]
        pub id: String,
        /// Full name.
        pub name: String,
        /// IANA time zone, e.g. `Europe/Berlin` [default: `UTC`].
        #[serde(default = "utc")]
        #[schema(default = "UTC")]
        pub time_zone: String,
        /// Ways to reach them.
        #[serde(default)]
        pub contacts: Vec<Contact>,
        /// Notification rules; empty means every contact at once.
        #[serde(default)]
        pub rules: Vec<NotificationRule>,
        /// How long messages that need no waking up wait to go out together (`0m`: each
        /// at once; at most `1h`); absent or `null`: the server's default, 1 minute.
        #[serde(default, deserialize_with = "text::duration_opt")]
        #[schema(
            value_type = Option<String>,
            example = "5m",
            pattern = r"^([0-9]{1,5}h([0-9]{1,5}m)?([0-9]{1,5}s)?|[0-9]{1,5}m([0-9]{1,5}s)?|[0-9]{1,5}s)$"
        )]
        pub bundle: Option<SignedDuration>,
        /// Their Slack member id (`U0123ABCDEF`): what they do from Slack is done as them.
        #[serde(default)]
        #[schema(pattern = r"^[UW][A-Z0-9]{8,20}$")]
        pub slack_user: Option<String>,
        /// Their Mattermost user id (26 lowercase letters and digits): what they do from
        /// Mattermost is done as them.
        #[serde(default)]
        #[schema(pattern = r"^[a-z0-9]{26}$")]
        pub mattermost_user: Option<String>,
    }

    fn utc() -> String {
        "UTC".to_owned()
    }

    /// A contact kind.
    #[derive(Debug, Clone, Copy, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum ContactKind {
        /// An e-mail address.
        Email,
        /// A Slack incoming-webhook URL.
        Slack,
        /// A generic HTTP(S) webhook.
        Webhook,
        /// An ntfy topic URL.
        Ntfy,
        /// A Pushover user or group key.
        Pushover,
        /// A mobile number (E.164), texted.
        Sms,
        /// A phone number (E.164), called.
        Voice,
        /// The person's subscribed devices (rules only).
        Push,
        /// A Slack channel or member id, with a bot token.
        SlackBot,
        /// A Mattermost incoming-webhook URL.
        Mattermost,
        /// A Rocket.Chat incoming-webhook URL.
        RocketChat,
        /// A Microsoft Teams Workflows webhook URL.
        Teams,
        /// A Discord channel webhook URL.
        Discord,
        /// A Matrix room with an access token.
        Matrix,
    }

    impl From<ContactKind> for core::ContactKind {
        fn from(kind: ContactKind) -> core::ContactKind {
            match kind {
                ContactKind::Email => core::ContactKind::Email,
                ContactKind::Slack => core::ContactKind::Slack,
                ContactKind::Webhook => core::ContactKind::Webhook,
                ContactKind::Ntfy => core::ContactKind::Ntfy,
                ContactKind::Pushover => core::ContactKind::Pushover,
                ContactKind::Sms => core::ContactKind::Sms,
                ContactKind::Voice => core::ContactKind::Voice,
                ContactKind::Push => core::ContactKind::Push,
                ContactKind::SlackBot => core::ContactKind::SlackBot,
                ContactKind::Mattermost => core::ContactKind::Mattermost,
                ContactKind::RocketChat => core::ContactKind::RocketChat,
                ContactKind::Teams => core::ContactKind::Teams,
                ContactKind::Discord => core::ContactKind::Discord,
                ContactKind::Matrix => core::ContactKind::Matrix,
            }
        }
    }

    /// One way to reach a person.
    #[derive(Debug, Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    #[schema(as = ContactRequest)]
    pub struct Contact {
        /// `email`, `slack`, `webhook`, `ntfy`, `pushover`, `sms` or `voice`.
        #[schema(value_type = ContactKindName)]
        pub kind: ContactKind,
        /// The e-mail address, URL, user key or phone number, in full (a masked address,
        /// with `…`, is refused).
        pub address: String,
        /// A webhook's signing key, an ntfy access token; `****` keeps the stored one.
        #[serde(default)]
        pub secret: Option<String>,
    }

    /// When a person is reached through one kind of contact, counted from the page.
    #[derive(Debug, Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    #[schema(as = NotificationRuleRequest)]
    pub struct NotificationRule {
        /// `email`, `slack`, `webhook`, `ntfy`, `pushover`, `sms`, `voice` or `push`.
        #[schema(value_type = ContactKindName)]
        pub kind: ContactKind,
        /// How long after the page: `0m`, `5m`, `1h30m` [default: `0m`].
        #[serde(deserialize_with = "text::duration", default)]
        #[schema(
            value_type = String,
            pattern = r"^([0-9]{1,5}h([0-9]{1,5}m)?([0-9]{1,5}s)?|[0-9]{1,5}m([0-9]{1,5}s)?|[0-9]{1,5}s)$"
        )]
        pub after: SignedDuration,
    }

    /// A group of people, optionally with the schedule that says which of them is on call.
    #[derive(Debug, Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    #[schema(as = TeamRequest)]
    pub struct Team {
        /// Id; absent or empty: the path's (or, in a roster, the key's).
        #[serde(default)]
        pub id: String,
        /// Name.
        pub name: String,
        /// Person ids.
        #[serde(default)]
        pub members: Vec<String>,
        /// The team's schedule id, if it has one.
        #[serde(default)]
        pub schedule: Option<String>,
        /// Services the team owns.
        #[serde(default)]
        pub services: Vec<String>,
    }

    /// An on-call schedule.
    #[derive(Debug, Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    #[schema(as = ScheduleRequest)]
    pub struct Schedule {
        /// Id; absent or empty: the path's (or, in a roster, the key's).
        #[serde(default)]
        pub id: String,
        /// Name.
        pub name: String,
        /// IANA zone the layers' dates and hand-off times are read in.
        pub time_zone: String,
        /// Rotation layers, lowest first: a later layer wins wherever it has someone.
        #[serde(default)]
        pub layers: Vec<Layer>,
        /// Overrides; they beat every layer, the last listed wins where they overlap.
        #[serde(default)]
        pub overrides: Vec<Override>,
    }

    /// A rotation through participants at a fixed shift length.
    #[derive(Debug, Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    #[schema(as = LayerRequest)]
    pub struct Layer {
        /// Name, shown on the shifts it produces.
        pub name: String,
        /// Person ids in rotation order.
        pub participants: Vec<String>,
        /// Shift length: `12h`, `1d`, `1w`, `2w`, `daily`, `weekly`.
        #[serde(deserialize_with = "text::shift_length")]
        #[schema(value_type = String, pattern = r"^([0-9]{1,9}[hdw]|daily|weekly)$")]
        pub shift: core::ShiftLength,
        /// Local time of day the first shift starts [default: `00:00`].
        #[serde(deserialize_with = "text::time_of_day", default)]
        #[schema(
            value_type = String,
            pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"
        )]
        pub handoff: Time,
        /// Local date of the first shift, `2026-01-05`.
        #[schema(value_type = String, format = Date)]
        pub start: Date,
        /// The layer's own IANA zone, if not the schedule's.
        #[serde(default)]
        pub time_zone: Option<String>,
        /// Windows the layer is limited to; empty means always.
        #[serde(default)]
        pub restrictions: Vec<Restriction>,
    }

    /// A daily window a layer is limited to, in the layer's time zone.
    #[derive(Debug, Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    #[schema(as = RestrictionRequest)]
    pub struct Restriction {
        /// Days the window starts on (`mon` … `sun`); empty means every day.
        #[serde(deserialize_with = "text::weekdays", default)]
        #[schema(value_type = Vec<WeekdayName>)]
        pub days: Vec<Weekday>,
        /// Local start time, `09:00`.
        #[serde(deserialize_with = "text::time_of_day")]
        #[schema(
            value_type = String,
            pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"
        )]
        pub from: Time,
        /// Local end time; not after `from` means past midnight.
        #[serde(deserialize_with = "text::time_of_day")]
        #[schema(
            value_type = String,
            pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"
        )]
        pub to: Time,
    }

    /// Someone on call instead of whoever the layers say.
    #[derive(Debug, Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    #[schema(as = OverrideRequest)]
    pub struct Override {
        /// Person id.
        pub person: String,
        /// From (inclusive).
        #[schema(value_type = String, format = DateTime)]
        pub start: Timestamp,
        /// Until (exclusive).
        #[schema(value_type = String, format = DateTime)]
        pub end: Timestamp,
    }

    /// The whole roster, keyed by id as in the roster file; an entry's id is its key.
    /// `{}` is refused (it would wipe the roster), hence at least one property (set in
    /// `openapi::complete`: utoipa-gen 5.5 writes `min_properties` as `maxProperties`).
    #[derive(Debug, Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    #[schema(as = RosterRequest)]
    pub struct RosterFile {
        /// People by id.
        #[serde(default)]
        pub people: BTreeMap<String, Person>,
        /// Teams by id.
        #[serde(default)]
        pub teams: BTreeMap<String, Team>,
        /// Schedules by id.
        #[serde(default)]
        pub schedules: BTreeMap<String, Schedule>,
        /// Chat channels by id.
        #[serde(default)]
        pub channels: BTreeMap<String, Channel>,
    }

    /// A chat channel, as the roster file writes one.
    #[derive(Debug, Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    #[schema(as = ChannelRequest)]
    pub struct Channel {
        /// Id; absent or empty: the key's.
        #[serde(default)]
        pub id: String,
        /// What people call it, when not `#ID`.
        #[serde(default)]
        pub name: Option<String>,
        /// How it is reached.
        #[schema(value_type = ContactKindName)]
        pub kind: ContactKind,
        /// The webhook URL, Slack channel id, Matrix room or e-mail address, in full.
        pub address: String,
        /// A bot or access token, or a webhook's signing key; `****` keeps the stored one.
        #[serde(default)]
        pub secret: Option<String>,
        /// Updates on these channels are posted here too.
        #[serde(default)]
        #[schema(value_type = Vec<super::UpdateChannelName>)]
        pub updates: Vec<fireline_core::Channel>,
        /// Whether the incident's notable events are posted here as they happen.
        #[serde(default)]
        pub events: bool,
    }

    impl From<Channel> for core::ChatChannel {
        fn from(c: Channel) -> core::ChatChannel {
            core::ChatChannel {
                id: c.id,
                name: c.name,
                kind: c.kind.into(),
                address: c.address,
                secret: c.secret,
                updates: c.updates,
                events: c.events,
            }
        }
    }

    impl From<Contact> for core::Contact {
        fn from(c: Contact) -> core::Contact {
            core::Contact {
                kind: c.kind.into(),
                address: c.address,
                secret: c.secret,
            }
        }
    }

    impl From<NotificationRule> for core::NotificationRule {
        fn from(r: NotificationRule) -> core::NotificationRule {
            core::NotificationRule {
                kind: r.kind.into(),
                after: r.after,
            }
        }
    }

    impl From<Person> for core::Person {
        fn from(p: Person) -> core::Person {
            core::Person {
                id: p.id,
                name: p.name,
                time_zone: p.time_zone,
                contacts: p.contacts.into_iter().map(Into::into).collect(),
                rules: p.rules.into_iter().map(Into::into).collect(),
                bundle: p.bundle,
                slack_user: p.slack_user,
                mattermost_user: p.mattermost_user,
            }
        }
    }

    impl From<Team> for core::Team {
        fn from(t: Team) -> core::Team {
            core::Team {
                id: t.id,
                name: t.name,
                members: t.members,
                schedule: t.schedule,
                services: t.services,
            }
        }
    }

    impl From<Restriction> for core::Restriction {
        fn from(r: Restriction) -> core::Restriction {
            core::Restriction {
                days: r.days,
                from: r.from,
                to: r.to,
            }
        }
    }

    impl From<Layer> for core::Layer {
        fn from(l: Layer) -> core::Layer {
            core::Layer {
                name: l.name,
                participants: l.participants,
                shift: l.shift,
                handoff: l.handoff,
                start: l.start,
                time_zone: l.time_zone,
                restrictions: l.restrictions.into_iter().map(Into::into).collect(),
            }
        }
    }

    impl From<Override> for core::Override {
        fn from(o: Override) -> core::Override {
            core::Override {
                person: o.person,
                start: o.start,
                end: o.end,
            }
        }
    }

    impl From<Schedule> for core::Schedule {
        fn from(s: Schedule) -> core::Schedule {
            core::Schedule {
                id: s.id,
                name: s.name,
                time_zone: s.time_zone,
                layers: s.layers.into_iter().map(Into::into).collect(),
                overrides: s.overrides.into_iter().map(Into::into).collect(),
            }
        }
    }

    impl From<RosterFile> for core::Roster {
        /// Each entry's id is its key, as in the roster file.
        fn from(file: RosterFile) -> core::Roster {
            fn keyed<W, C: From<W>>(
                map: BTreeMap<String, W>,
                id: fn(&mut C) -> &mut String,
            ) -> BTreeMap<String, C> {
                map.into_iter()
                    .map(|(key, entry)| {
                        let mut entry = C::from(entry);
                        key.clone_into(id(&mut entry));
                        (key, entry)
                    })
                    .collect()
            }
            core::Roster {
                people: keyed(file.people, |p: &mut core::Person| &mut p.id),
                teams: keyed(file.teams, |t: &mut core::Team| &mut t.id),
                schedules: keyed(file.schedules, |s: &mut core::Schedule| &mut s.id),
                channels: keyed(file.channels, |c: &mut core::ChatChannel| &mut c.id),
            }
        }
    }

    /// The roster's text forms (`09:00`, `mon`, `5m`, `1w`), read by the core's own
    /// parsers (`fireline_core::oncall::text`), so what is accepted and every message
    /// are the roster file's.
    mod text {
        use fireline_core::oncall::text::{friendly, friendly_opt, hhmm, weekdays as days};
        use fireline_core::oncall::ShiftLength;
        use jiff::civil::{Time, Weekday};
        use jiff::SignedDuration;
        use serde::de::Error;
        use serde::{Deserialize, Deserializer};

        /// A time of day, `09:00` or `09:00:30`.
        pub fn time_of_day<'de, D: Deserializer<'de>>(d: D) -> Result<Time, D::Error> {
            hhmm::deserialize(d)
        }

        /// Weekdays, `["mon", "tue"]` (full English names in any case too).
        pub fn weekdays<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Weekday>, D::Error> {
            days::deserialize(d)
        }

        /// A duration, `5m`, `1h30m` (ISO 8601 `PT5M` too).
        pub fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<SignedDuration, D::Error> {
            friendly::deserialize(d)
        }

        /// An optional duration; `null` is none.
        pub fn duration_opt<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<SignedDuration>, D::Error> {
            friendly_opt::deserialize(d)
        }

        /// A shift length, `12h`, `1d`, `2w`, `daily`, `weekly`.
        pub fn shift_length<'de, D: Deserializer<'de>>(d: D) -> Result<ShiftLength, D::Error> {
            let text = String::deserialize(d)?;
            text.parse().map_err(D::Error::custom)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::parse_json;
    use fireline_core::oncall::{Person, Roster, Schedule, Team};
    use serde::de::DeserializeOwned;
    use serde_json::json;

    /// Reads each body as the core type `C` did and as the request type `W` converted into
    /// `C`: the same value, or the same error (status, field and message).
    fn reads_alike<C, W>(bodies: &[serde_json::Value])
    where
        C: DeserializeOwned + std::fmt::Debug,
        W: DeserializeOwned + Into<C>,
    {
        for body in bodies {
            // Pretty-printed, so the positions in messages are on several lines.
            let bytes = serde_json::to_vec_pretty(body).expect("JSON");
            let core = format!("{:?}", parse_json::<C>(&bytes));
            let wire = format!("{:?}", parse_json::<W>(&bytes).map(Into::into));
            assert_eq!(wire, core, "{body}");
        }
    }

    #[test]
    fn people_are_read_as_the_core_read_them() {
        let contact = json!({"kind": "email", "address": "a@example.com"});
        reads_alike::<Person, PersonRequest>(&[
            json!({"name": "A"}),
            json!({"id": "a", "name": "A", "time_zone": "Europe/Berlin",
                   "contacts": [contact, {"kind": "webhook", "address": "https://x", "secret": "s"}],
                   "rules": [{"kind": "email", "after": "5m"}, {"kind": "push"}, {"kind": "sms", "after": "PT1H30M"}],
                   "bundle": "1m"}),
            json!({"name": "A", "bundle": null}),
            json!({"name": "A", "bundle": "soon"}),
            json!({"name": "A", "bundle": 5}),
            json!({"name": "A", "rules": [{"kind": "email", "after": "x"}]}),
            json!({"name": "A", "rules": [{"kind": "email", "after": 3}]}),
            json!({"name": "A", "rules": [{"kind": "email", "when": "5m"}]}),
            json!({"name": "A", "contacts": [{"kind": "fax", "address": "1"}]}),
            json!({"name": "A", "contacts": [{"kind": 1, "address": "1"}]}),
            json!({"name": "A", "contacts": [{"kind": "email"}]}),
            json!({"name": "A", "contacts": [{"kind": "email", "address": "a", "x": 1}]}),
            json!({"name": "A", "contacts": [["email", "a@example.com"]]}),
            json!({"name": "A", "contacts": [["email"]]}),
            json!({"name": "A", "contacts": {}}),
            json!({"name": "A", "nick": "a"}),
            json!({"name": 1}),
            json!({}),
            json!("A"),
            json!(null),
        ]);
    }

    #[test]
    fn teams_are_read_as_the_core_read_them() {
        reads_alike::<Team, TeamRequest>(&[
            json!({"name": "T"}),
            json!({"id": "t", "name": "T", "members": ["a"], "schedule": "s", "services": ["api"]}),
            json!({"name": "T", "schedule": null}),
            json!({"name": "T", "members": "a"}),
            json!({"name": "T", "lead": "a"}),
            json!({"members": []}),
            json!(["T"]),
        ]);
    }

    #[test]
    fn schedules_are_read_as_the_core_read_them() {
        let layer = |extra: serde_json::Value| {
            let mut l = json!({"name": "weekly", "participants": ["a", "b"], "shift": "1w",
                               "handoff": "09:00", "start": "2026-01-05"});
            for (k, v) in extra.as_object().expect("object") {
                l[k] = v.clone();
            }
            json!({"name": "S", "time_zone": "UTC", "layers": [l]})
        };
        reads_alike::<Schedule, ScheduleRequest>(&[
            json!({"name": "S", "time_zone": "UTC"}),
            json!({"name": "S"}),
            layer(json!({})),
            layer(json!({"shift": "daily", "handoff": "09:00:30", "time_zone": "Europe/Berlin"})),
            layer(json!({"shift": "bogus"})),
            layer(json!({"shift": 7})),
            layer(json!({"handoff": "9:00"})),
            layer(json!({"handoff": "24:00"})),
            layer(json!({"handoff": null})),
            layer(json!({"start": "2026-13-01"})),
            layer(json!({"start": 5})),
            layer(
                json!({"restrictions": [{"days": ["mon", "Tuesday"], "from": "09:00", "to": "17:00"}]}),
            ),
            layer(
                json!({"restrictions": [{"days": ["mon", "xyz"], "from": "09:00", "to": "17:00"}]}),
            ),
            layer(json!({"restrictions": [{"days": [1], "from": "09:00", "to": "17:00"}]})),
            layer(json!({"restrictions": [{"from": "9", "to": "17:00"}]})),
            layer(json!({"restrictions": [{"from": "09:00"}]})),
            layer(json!({"restrictions": [{"from": "09:00", "to": "17:60"}]})),
            layer(json!({"colour": "red"})),
            json!({"name": "S", "time_zone": "UTC", "overrides": [
                {"person": "a", "start": "2026-01-05T00:00:00Z", "end": "2026-01-06T00:00:00Z"}]}),
            json!({"name": "S", "time_zone": "UTC", "overrides": [
                {"person": "a", "start": "yesterday", "end": "2026-01-06T00:00:00Z"}]}),
            json!({"name": "S", "time_zone": "UTC", "overrides": [{"person": "a"}]}),
        ]);
    }

    #[test]
    fn rosters_are_read_as_the_core_read_them() {
        reads_alike::<Roster, RosterRequest>(&[
            json!({"people": {"a": {"name": "A"}}}),
            json!({"people": {"a": {"id": "other", "name": "A"}},
                   "teams": {"t": {"name": "T", "members": ["a"]}},
                   "schedules": {"s": {"name": "S", "time_zone": "UTC"}}}),
            json!({"people": null}),
            json!({"people": {"a": {"name": "A", "bundle": "x"}}}),
            json!({"schedules": {"s": {"name": "S", "time_zone": "UTC", "layers": [{}]}}}),
            json!({"oncall": {}}),
            json!({}),
        ]);
    }
}
