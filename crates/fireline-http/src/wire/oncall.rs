//! The on-call roster (`routes/oncall.rs`).
//!
//! Request bodies are read straight into `fireline_core::oncall` types, so the API accepts
//! exactly the roster file's shape (docs/oncall.md) with the same text forms (`09:00`,
//! `1w`, `5m`); these views document that shape and are what responses carry. Responses
//! are built from the core types' own JSON, so both directions use one set of text forms,
//! and every optional field is always present (`null` or `[]`) so clients need no guessing.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// What a contact's secret reads as in responses: secrets are never sent back. Sending it
/// back in a `PUT` keeps the stored secret of the same contact.
pub const MASKED_SECRET: &str = "****";

/// A contact kind, as the roster writes it (schema only; parsed by the roster).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
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

/// The whole roster, keyed by id as in the roster file. `PUT /api/v1/roster` refuses an
/// empty object (it would wipe the roster), hence at least one property (set in
/// `openapi::complete`: utoipa-gen 5.5 writes `min_properties` as `maxProperties`).
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
