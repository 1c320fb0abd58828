//! API tokens (`routes/tokens.rs`), and UI users as the CLI lists them.

use fireline_store::TokenRecord;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Create a token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenCreateRequest {
    /// `viewer`, `responder` or `admin`.
    #[schema(value_type = AccessRoleName)]
    pub role: String,
    /// The principal it acts as (defaults to its id).
    #[serde(default)]
    pub name: Option<String>,
}

/// A token's record; the secret is shown only once, at creation.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenView {
    /// `tok_…`, for revoking.
    pub id: String,
    /// Principal.
    pub name: String,
    /// Role.
    pub role: String,
    /// RFC 3339.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// RFC 3339, if revoked.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Timestamp>,
}

impl From<&TokenRecord> for TokenView {
    fn from(t: &TokenRecord) -> Self {
        TokenView {
            id: t.id.clone(),
            name: t.name.clone(),
            role: t.role.to_string(),
            created_at: t.created_at,
            revoked_at: t.revoked_at,
        }
    }
}

/// A UI user (never the password hash).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    /// Username, also the principal recorded on the timeline.
    pub name: String,
    /// Role.
    pub role: String,
    /// RFC 3339.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// RFC 3339: when the password was last set.
    #[schema(value_type = String, format = DateTime)]
    pub password_changed_at: Timestamp,
    /// RFC 3339, if disabled.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub disabled_at: Option<Timestamp>,
}

impl From<&fireline_store::UserRecord> for UserView {
    fn from(u: &fireline_store::UserRecord) -> Self {
        UserView {
            name: u.name.clone(),
            role: u.role.to_string(),
            created_at: u.created_at,
            password_changed_at: u.password_changed_at,
            disabled_at: u.disabled_at,
        }
    }
}

/// A new token.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenCreated {
    /// The secret: send as `Authorization: Bearer …`. Shown once.
    pub token: String,
    /// Its record.
    #[serde(flatten)]
    pub record: TokenView,
}

/// `GET /api/v1/tokens`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenList {
    /// Oldest first.
    pub tokens: Vec<TokenView>,
}

/// An access role (schema only; any case is read).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum AccessRoleName {
    /// Reads.
    Viewer,
    /// Acts on incidents.
    Responder,
    /// Everything.
    Admin,
}
