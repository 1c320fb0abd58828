//! Post-mortems and their action items (`routes/postmortems.rs`).

use super::integral;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A post-mortem stage (schema only; any case, `-` for `_`).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum StageName {
    /// The first draft.
    Draft,
    /// Reviewed.
    Review,
    /// Published.
    Publish,
    /// The review meeting held.
    ReviewMeeting,
}

/// Draft a post-mortem from the incident's events. The body may be empty.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostmortemDraftRequest {
    /// A built-in template (`standard`, `agentic-flow`, `production-agents`); default:
    /// the policy's `[post_incident] template`.
    #[serde(default)]
    pub template: Option<String>,
}

/// Save a post-mortem's text.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostmortemEditRequest {
    /// The whole new Markdown text.
    pub text: String,
    /// The version the edit was made on (409 if someone saved since).
    #[serde(deserialize_with = "integral::u64")]
    pub expected_version: u64,
}

/// Complete a post-mortem stage. The body may be empty: the next stage in order.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageRequest {
    /// `draft`, `review`, `publish` or `review_meeting`; default: the next of draft,
    /// review, publish.
    #[serde(default)]
    #[schema(value_type = Option<StageName>)]
    pub stage: Option<String>,
}

/// Export format.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `md` (default) or `html` (a self-contained page).
    #[param(pattern = r"^(md|markdown|html)?$")]
    pub format: Option<String>,
}

/// A post-mortem stage: deadline, reminder, completion.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StageView {
    /// `draft`, `review`, `publish` or `review_meeting`.
    pub stage: String,
    /// The policy's deadline, if it sets one.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<Timestamp>,
    /// When the reminder comes, if one does.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub remind_at: Option<Timestamp>,
    /// When it was completed.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_at: Option<Timestamp>,
    /// Past its deadline and not completed by it.
    pub overdue: bool,
}

/// An earlier incident that may share a cause.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RelatedView {
    /// `INC-<n>`.
    pub id: String,
    /// Title.
    pub title: String,
    /// Service.
    pub service: String,
    /// Severity id.
    pub severity: String,
    /// Status.
    pub status: String,
    /// Declared at.
    #[schema(value_type = String, format = DateTime)]
    pub declared_at: Timestamp,
    /// `same service`, `shared alert INTEGRATION/KEY`.
    pub reasons: Vec<String>,
}

impl From<&fireline_core::postmortem::Related> for RelatedView {
    fn from(r: &fireline_core::postmortem::Related) -> Self {
        RelatedView {
            id: r.id.to_string(),
            title: r.title.clone(),
            service: r.service.clone(),
            severity: r.severity.clone(),
            status: r.status.to_string(),
            declared_at: r.declared_at,
            reasons: r.reasons.clone(),
        }
    }
}

/// Related incidents.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RelatedList {
    /// Newest first.
    pub related: Vec<RelatedView>,
}

/// A post-mortem with its stages, related incidents and action items.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PostmortemView {
    /// `INC-<n>`.
    pub incident: String,
    /// Send it back as `expected_version` to save over this text.
    pub version: u64,
    /// `draft`, `review` or `published`.
    pub phase: String,
    /// The template it was drafted from.
    pub template: String,
    /// Markdown.
    pub text: String,
    /// Drafted at.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Drafted by.
    pub created_by: String,
    /// Last saved at.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// Last saved by.
    pub updated_by: String,
    /// Stages with deadlines or completions, in order.
    pub stages: Vec<StageView>,
    /// Earlier incidents of the same service or sharing an alert.
    pub related: Vec<RelatedView>,
    /// The incident's action items.
    pub action_items: Vec<ActionItemView>,
}

/// One saved version.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RevisionView {
    /// Version.
    pub version: u64,
    /// When.
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// Who.
    pub actor: String,
    /// What changed (`drafted`, `+3 −1 lines`).
    pub summary: String,
    /// The whole text at this version.
    pub text: String,
}

/// A post-mortem's history.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PostmortemHistory {
    /// Oldest first.
    pub revisions: Vec<RevisionView>,
}

/// Add an action item to an incident's post-mortem.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionCreateRequest {
    /// What to do, one line.
    pub title: String,
    /// Who: a roster person id gets reminders.
    pub owner: String,
    /// `P0` … `P3`.
    pub priority: String,
    /// `YYYY-MM-DD`.
    pub due: String,
}

/// Change an action item; absent fields stay. Closing is `POST …/close`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionUpdateRequest {
    /// New title.
    #[serde(default)]
    pub title: Option<String>,
    /// New owner.
    #[serde(default)]
    pub owner: Option<String>,
    /// New priority.
    #[serde(default)]
    pub priority: Option<String>,
    /// New due date.
    #[serde(default)]
    pub due: Option<String>,
    /// `open` or `in_progress` (also reopens a closed item).
    #[serde(default)]
    pub status: Option<String>,
}

/// Close an action item: a note is required.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionCloseRequest {
    /// What was done, or why it will not be.
    #[serde(default)]
    pub note: Option<String>,
    /// `done` (default) or `wont_do`.
    #[serde(default)]
    pub status: Option<String>,
}

/// Filters for listing action items.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ActionListQuery {
    /// Only open items past their due day.
    pub overdue: Option<bool>,
    /// Only this owner's.
    pub owner: Option<String>,
    /// Only this incident's.
    pub incident: Option<String>,
    /// `open` (default: open and in progress) or `all`.
    #[param(pattern = r"^(open|all)?$")]
    pub status: Option<String>,
    /// At most this many, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// An action item.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ActionItemView {
    /// `AI-<n>`.
    pub id: String,
    /// The number alone.
    pub number: u64,
    /// `INC-<n>`: the incident and its post-mortem.
    pub incident: String,
    /// What to do.
    pub title: String,
    /// Who.
    pub owner: String,
    /// `P0` … `P3`.
    pub priority: String,
    /// `YYYY-MM-DD`.
    pub due: String,
    /// `open`, `in_progress`, `done` or `wont_do`.
    pub status: String,
    /// Why it was closed.
    pub note: Option<String>,
    /// Open past its due day.
    pub overdue: bool,
    /// Created at.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Created by.
    pub created_by: String,
    /// Last changed at.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// Last changed by.
    pub updated_by: String,
}

impl ActionItemView {
    /// The view of `item` at `now` (which decides `overdue`).
    pub fn of(item: &fireline_core::postmortem::ActionItem, now: Timestamp) -> Self {
        ActionItemView {
            id: item.label(),
            number: item.id,
            incident: item.incident.to_string(),
            title: item.title.clone(),
            owner: item.owner.clone(),
            priority: item.priority.to_string(),
            due: item.due.to_string(),
            status: item.status.to_string(),
            note: item.note.clone(),
            overdue: item.is_overdue(now),
            created_at: item.created_at,
            created_by: item.created_by.clone(),
            updated_at: item.updated_at,
            updated_by: item.updated_by.clone(),
        }
    }
}

/// Action items.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ActionList {
    /// Soonest due first.
    pub action_items: Vec<ActionItemView>,
}
