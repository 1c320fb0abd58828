//! API tokens: issuing them, and turning a request's bearer token into a [`Caller`].

use crate::{ApiError, AppState};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use fireline_core::{hash_token, AccessRole};
use fireline_store::{Store, StoreError, TokenRecord};
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use sha2::Sha256;
use std::marker::PhantomData;

/// Prefix of every token, so a leaked one is recognisable in logs and secret scanners.
pub const TOKEN_PREFIX: &str = "fl_";

fn random_hex(bytes: usize) -> Result<String, StoreError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf)
        .map_err(|e| StoreError::Corrupt(format!("no randomness from the OS: {e}")))?;
    Ok(hex::encode(buf))
}

/// Creates a token, stores its hash and returns the secret (shown once) with its record.
pub async fn issue_token(
    store: &dyn Store,
    name: Option<&str>,
    role: AccessRole,
    now: Timestamp,
) -> Result<(String, TokenRecord), IssueError> {
    let id = format!("tok_{}", random_hex(8)?);
    let name = match name {
        Some(n) => fireline_core::command::required_name("name", n)?,
        None => id.clone(),
    };
    let secret = format!("{TOKEN_PREFIX}{}", random_hex(32)?);
    let record = TokenRecord {
        id,
        name,
        role,
        created_at: now,
        revoked_at: None,
    };
    store.insert_token(&record, &hash_token(&secret)).await?;
    Ok((secret, record))
}

/// Why a token could not be issued.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// The name is unacceptable.
    #[error(transparent)]
    Invalid(#[from] fireline_core::DomainError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<IssueError> for ApiError {
    fn from(e: IssueError) -> Self {
        match e {
            IssueError::Invalid(d) => d.into(),
            IssueError::Store(s) => s.into(),
        }
    }
}

/// Who is calling: the principal behind a valid, unrevoked token.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The principal; recorded as the actor of what it does.
    pub name: String,
    /// What it may do.
    pub role: AccessRole,
    /// The token's id (`user:NAME` for a UI user's session).
    pub token_id: String,
}

impl Caller {
    /// The UI user behind the call, when it is a user's session rather than an API token.
    /// Usernames match roster person ids, so this is the person the caller is, if any.
    pub fn user_name(&self) -> Option<&str> {
        self.token_id.strip_prefix("user:")
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header =
            parts
                .headers
                .get(axum::http::header::AUTHORIZATION)
                .ok_or(ApiError::Unauthorized(
                    "missing Authorization: Bearer <token> header",
                ))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| {
                let (scheme, token) = h.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or(ApiError::Unauthorized(
                "malformed Authorization header: expected Bearer <token>",
            ))?;
        caller_for_token(state, token).await
    }
}

/// The caller behind a token however it arrived (header or, for feeds, query string).
pub(crate) async fn caller_for_token(state: &AppState, token: &str) -> Result<Caller, ApiError> {
    let record = state
        .store
        .token_by_hash(&hash_token(token))
        .await?
        .filter(|r| r.revoked_at.is_none())
        // One message for unknown and revoked tokens: no oracle for which exist.
        .ok_or(ApiError::Unauthorized("invalid or revoked token"))?;
    Ok(Caller {
        name: record.name,
        role: record.role,
        token_id: record.id,
    })
}

/// A role a route requires, as a type, so the requirement sits in the handler signature.
pub trait Requirement {
    /// The least role allowed.
    const ROLE: AccessRole;
}

/// Requires [`AccessRole::Viewer`].
#[derive(Debug)]
pub struct ViewerRole;
/// Requires [`AccessRole::Responder`].
#[derive(Debug)]
pub struct ResponderRole;
/// Requires [`AccessRole::Admin`].
#[derive(Debug)]
pub struct AdminRole;

impl Requirement for ViewerRole {
    const ROLE: AccessRole = AccessRole::Viewer;
}
impl Requirement for ResponderRole {
    const ROLE: AccessRole = AccessRole::Responder;
}
impl Requirement for AdminRole {
    const ROLE: AccessRole = AccessRole::Admin;
}

/// A caller whose role meets `R`; extracting it answers 401 or 403 otherwise.
/// Put it first among a handler's arguments so authorization precedes body parsing.
#[derive(Debug)]
pub struct Authorized<R>(pub Caller, PhantomData<R>);

/// Any valid token.
pub type AsViewer = Authorized<ViewerRole>;
/// A responder or admin token.
pub type AsResponder = Authorized<ResponderRole>;
/// An admin token.
pub type AsAdmin = Authorized<AdminRole>;

impl<R: Requirement> Authorized<R> {
    /// A caller authenticated some other way (a UI session), held to the same role
    /// check, so the UI can call the API's handlers and share their code path.
    pub(crate) fn check(caller: Caller) -> Result<Self, ApiError> {
        if !caller.role.allows(R::ROLE) {
            return Err(ApiError::Forbidden {
                required: R::ROLE,
                actual: caller.role,
            });
        }
        Ok(Authorized(caller, PhantomData))
    }
}

impl<R: Requirement + Send + Sync> FromRequestParts<AppState> for Authorized<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Authorized::check(Caller::from_request_parts(parts, state).await?)
    }
}

/// Prefix of calendar feed secrets, so a leaked one is recognisable.
pub const FEED_SECRET_PREFIX: &str = "flc_";

/// The setting holding the key feed secrets are derived from; replacing it (see
/// [`rotate_feed_key`]) changes every feed URL at once.
pub const FEED_KEY_SETTING: &str = "calendar_feed_key";

/// What a role token in a feed URL is told: it is refused, and where the feed's own URL is.
const ROLE_TOKEN_IN_FEED: &str = "an API token cannot open a calendar feed from the URL, \
    because anyone holding the URL would get the token's whole access; use the feed's own \
    URL, with its read-only feed secret: GET /api/v1/calendar-feeds, or the On call page \
    of the web UI";

/// What a wrong feed secret is told.
const BAD_FEED_SECRET: &str = "invalid calendar feed secret (feed URLs change when an admin \
    rotates them); get the current URL from GET /api/v1/calendar-feeds or the On call page \
    of the web UI";

/// The key feed secrets are derived from, created on first use. Read from the store on
/// every use, so a rotation on one replica takes effect on all.
async fn feed_key(state: &AppState) -> Result<Vec<u8>, ApiError> {
    let fresh = random_hex(32)?;
    let key = state
        .store
        .setting_or_init(FEED_KEY_SETTING, &fresh)
        .await?;
    Ok(key.into_bytes())
}

/// Replaces the feed key: every feed URL handed out so far stops working.
pub async fn rotate_feed_key(store: &dyn Store) -> Result<(), StoreError> {
    store
        .replace_setting(FEED_KEY_SETTING, &random_hex(32)?)
        .await
}

fn feed_mac(key: &[u8], path: &str) -> Hmac<Sha256> {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(b"fireline calendar feed v1\n");
    mac.update(path.as_bytes());
    mac
}

/// The read-only secrets of calendar feeds: an HMAC of the feed's path, so a secret
/// opens that one feed and nothing else.
#[derive(Clone)]
pub struct FeedSecrets {
    key: Vec<u8>,
}

impl std::fmt::Debug for FeedSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FeedSecrets(****)")
    }
}

impl FeedSecrets {
    /// The secrets under the key in force.
    pub(crate) async fn load(state: &AppState) -> Result<FeedSecrets, ApiError> {
        Ok(FeedSecrets {
            key: feed_key(state).await?,
        })
    }

    /// The secret of the feed at `path` (`/api/v1/schedules/ID/calendar.ics`).
    pub fn secret(&self, path: &str) -> String {
        let tag = feed_mac(&self.key, path).finalize().into_bytes();
        format!("{FEED_SECRET_PREFIX}{}", hex::encode(tag))
    }

    /// Whether `secret` is the feed secret of `path` (compared in constant time).
    pub fn opens(&self, path: &str, secret: &str) -> bool {
        secret
            .strip_prefix(FEED_SECRET_PREFIX)
            .and_then(|h| hex::decode(h).ok())
            .is_some_and(|tag| feed_mac(&self.key, path).verify_slice(&tag).is_ok())
    }
}

/// A reader of a calendar feed: a viewer (or better) by the `Authorization` header like
/// every route or, when there is none, the feed's own read-only secret as `?token=`,
/// because calendar apps subscribe to a URL and cannot send headers. The secret opens
/// the one feed whose path it was made for, nothing else; an API token in `?token=` is
/// refused (a URL is kept in calendar settings and browser history, so it must not carry
/// more than the feed). Request logs never include the query string (see
/// `routes::router`), so the secret does not reach them.
#[derive(Debug)]
pub struct FeedReader;

impl FromRequestParts<AppState> for FeedReader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if parts
            .headers
            .contains_key(axum::http::header::AUTHORIZATION)
        {
            AsViewer::from_request_parts(parts, state).await?;
            return Ok(FeedReader);
        }
        let secret = parts
            .uri
            .query()
            .and_then(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .find(|(k, _)| k == "token")
                    .map(|(_, v)| v.trim().to_owned())
            })
            .ok_or(ApiError::Unauthorized(
                "missing Authorization: Bearer <token> header or ?token= feed secret; get \
                 the feed's URL from GET /api/v1/calendar-feeds or the On call page of the \
                 web UI",
            ))?;
        if secret.is_empty() {
            return Err(ApiError::Unauthorized("empty ?token= query parameter"));
        }
        if secret.starts_with(TOKEN_PREFIX) {
            return Err(ApiError::Unauthorized(ROLE_TOKEN_IN_FEED));
        }
        if !FeedSecrets::load(state)
            .await?
            .opens(parts.uri.path(), &secret)
        {
            return Err(ApiError::Unauthorized(BAD_FEED_SECRET));
        }
        Ok(FeedReader)
    }
}

/// Prefix of integration keys.
pub const INTEGRATION_PREFIX: &str = "fli_";

/// Creates an integration for `service`, stores its key's hash and returns the key (shown
/// once) with its record.
pub async fn issue_integration(
    store: &dyn Store,
    name: Option<&str>,
    service: &str,
    now: Timestamp,
) -> Result<(String, fireline_store::IntegrationRecord), IssueError> {
    let id = format!("int_{}", random_hex(8)?);
    let service = fireline_core::command::required_name("service", service)?;
    let name = match name {
        Some(n) => fireline_core::command::required_name("name", n)?,
        None => service.clone(),
    };
    let key = format!("{INTEGRATION_PREFIX}{}", random_hex(32)?);
    let record = fireline_store::IntegrationRecord {
        id,
        name,
        service,
        created_at: now,
        revoked_at: None,
    };
    store.insert_integration(&record, &hash_token(&key)).await?;
    Ok((key, record))
}

/// Prefix of heartbeat keys.
pub const HEARTBEAT_PREFIX: &str = "flh_";

/// Why a heartbeat monitor could not be created.
#[derive(Debug, thiserror::Error)]
pub enum HeartbeatError {
    /// A field is unacceptable.
    #[error("{field}: {message}")]
    Invalid {
        /// Which.
        field: &'static str,
        /// Why.
        message: String,
    },
    /// Issuing failed.
    #[error(transparent)]
    Issue(#[from] IssueError),
}

/// Creates a heartbeat monitor on `integration` expecting a ping every `interval_s`
/// (plus `grace_s`); returns its key (shown once) and record.
pub async fn issue_heartbeat(
    store: &dyn Store,
    integration: &str,
    name: &str,
    interval_s: i64,
    grace_s: i64,
    now: Timestamp,
) -> Result<(String, fireline_store::HeartbeatRecord), HeartbeatError> {
    let name = fireline_core::command::required_name("name", name).map_err(IssueError::from)?;
    if interval_s < 10 {
        return Err(HeartbeatError::Invalid {
            field: "interval",
            message: "at least 10 seconds".into(),
        });
    }
    if grace_s < 0 {
        return Err(HeartbeatError::Invalid {
            field: "grace",
            message: "cannot be negative".into(),
        });
    }
    let known = store
        .integration(integration)
        .await
        .map_err(IssueError::from)?;
    if known.is_none_or(|i| i.revoked_at.is_some()) {
        return Err(HeartbeatError::Invalid {
            field: "integration",
            message: format!("no active integration {integration}"),
        });
    }
    let id = format!("hb_{}", random_hex(8).map_err(IssueError::from)?);
    let key = format!(
        "{HEARTBEAT_PREFIX}{}",
        random_hex(32).map_err(IssueError::from)?
    );
    let record = fireline_store::HeartbeatRecord {
        id,
        name,
        integration: integration.to_owned(),
        interval_s,
        grace_s,
        state: "waiting".to_owned(),
        last_ping_at: None,
        deadline_at: None,
        created_at: now,
    };
    store
        .insert_heartbeat(&record, &hash_token(&key))
        .await
        .map_err(IssueError::from)?;
    Ok((key, record))
}
