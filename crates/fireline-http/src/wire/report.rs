//! The response report's parameters (`routes/report.rs`).

use serde::Deserialize;
use utoipa::IntoParams;

/// `GET /api/v1/report` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// Start: RFC 3339, or a duration back from now (`30d`, default).
    pub since: Option<String>,
    /// End: RFC 3339, or a duration back from now (default: now).
    pub until: Option<String>,
    /// `json` (default) or `html` (a page with charts).
    pub format: Option<String>,
}
