//! The status page (`routes/status.rs`): the component status names its override
//! request documents, and the kinds of subscriber (`routes/subscribers.rs`). The page's own views live with its routes.

use utoipa::ToSchema;

/// A status-page component status (schema only; any case, `-` or a space for `_`).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ComponentStatusName {
    /// Working.
    Operational,
    /// Slow or partly failing.
    Degraded,
    /// Down for some.
    PartialOutage,
    /// Down.
    MajorOutage,
    /// Planned work.
    Maintenance,
}

/// How a status page subscriber is told (schema only).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum SubscriberKindName {
    /// By e-mail.
    Email,
    /// By fireline's signed webhook.
    Webhook,
}

/// Where a scheduled maintenance window stands on the status page (schema only).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum MaintenanceStatusName {
    /// Announced, not started.
    Scheduled,
    /// Under way.
    InProgress,
    /// Over.
    Completed,
}
