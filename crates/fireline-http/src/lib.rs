//! Fireline's HTTP edge: thin axum routes that parse, authorize, call core and store,
//! and render. Wire types live here ([`wire`]); core types never cross the wire as-is.
//!
//! [`router`] builds the whole application so tests can drive it in-process or, through
//! [`serve`], on a real socket.

pub mod auth;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod openapi;
pub mod receivers;
mod routes;
mod ui;
pub mod users;
pub mod wire;

pub use error::ApiError;
pub use routes::router;

use fireline_engine::{Clock, LivePolicy};
use fireline_store::Store;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Largest request body accepted, in bytes. Incident commands are small; this bounds
/// what a client can make the server buffer.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Largest alert payload accepted (an Alertmanager group of thousands of alerts).
pub const MAX_ALERT_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Largest PagerDuty Events API v2 event accepted: PagerDuty's own limit (512 KB). Its
/// integration key (`routing_key`) is inside the body, so the body is read before the
/// key can be checked; this keeps what an anonymous client can make us buffer small.
pub const MAX_PAGERDUTY_BODY_BYTES: usize = 512 * 1024;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Where everything is kept.
    pub store: Arc<dyn Store>,
    /// The time source for new events.
    pub clock: Arc<dyn Clock>,
    /// The policy in force (severities, categories, clocks).
    pub policy: LivePolicy,
    /// The one command path: every change to an incident (declare, commands, stages,
    /// acknowledge links) is decided and appended through it, and it wakes the engine
    /// and delivery when a change gives them work.
    pub commands: fireline_engine::Commands,
    /// Writes accepted alerts with group commit (and wakes the alert processor).
    pub inbox: receivers::inbox::InboxWriter,
    /// The pager `commands` append through, for its links and acknowledge-link key
    /// (pages, UI sessions and feeds read them); changes go through `commands`.
    pub pager: fireline_engine::Pager,
    /// The bearer token `/metrics` requires; `None` leaves it open (bind to a private
    /// address, or set one).
    pub metrics_token: Option<String>,
    /// The runbooks incidents may follow, by id.
    pub runbooks: fireline_engine::Runbooks,
    /// Failed UI password sign-ins per username (slows guessing).
    pub signin_throttle: Arc<users::Throttle>,
    /// Internal addresses webhook and Slack contacts may point at (`[outbound] allow`):
    /// contacts naming others are refused when written, as delivery would refuse them.
    pub outbound: fireline_notify::Allow,
    /// The Twilio account's auth token (`[twilio] auth_token`), with which Twilio signs
    /// the requests it sends: a key pressed during a call, an SMS reply. `None` refuses
    /// them all.
    pub twilio_auth_token: Option<TwilioAuthToken>,
    /// The server's VAPID public key, which browsers subscribe to Web Push with; `None`
    /// where Web Push is not set up (devices cannot subscribe).
    pub web_push_key: Option<String>,
    /// The Slack app whose slash command and buttons this server answers (`[slack]
    /// signing_secret`); `None` refuses them all.
    pub slack: Option<SlackApp>,
}

/// A Slack app's side of this server: the signing secret its requests are checked with,
/// and the client that answers its buttons. Never shows the secret in `Debug` output.
#[derive(Clone)]
pub struct SlackApp {
    signing_secret: String,
    responder: Arc<fireline_notify::SlackResponder>,
    web_api: Option<Arc<fireline_notify::SlackWebApi>>,
}

impl SlackApp {
    /// The app with `signing_secret`, answering through `responder`.
    pub fn new(
        signing_secret: impl Into<String>,
        responder: fireline_notify::SlackResponder,
    ) -> SlackApp {
        SlackApp {
            signing_secret: signing_secret.into(),
            responder: Arc::new(responder),
            web_api: None,
        }
    }

    /// The same app with its bot token's Web API: members the roster does not link by
    /// `slack_user` are found by their e-mail address, and Add note opens a form.
    pub fn with_web_api(mut self, web_api: fireline_notify::SlackWebApi) -> SlackApp {
        self.web_api = Some(Arc::new(web_api));
        self
    }

    pub(crate) fn web_api(&self) -> Option<Arc<fireline_notify::SlackWebApi>> {
        self.web_api.clone()
    }

    pub(crate) fn signing_secret(&self) -> &str {
        &self.signing_secret
    }

    pub(crate) fn responder(&self) -> &fireline_notify::SlackResponder {
        &self.responder
    }
}

impl std::fmt::Debug for SlackApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SlackApp(****)")
    }
}

/// A Mattermost custom slash command's side of this server (`[mattermost]
/// command_token`): the token Mattermost sends with each `/fireline` command, and the key
/// (derived from it) that fireline's buttons sign their context with. Installed on the
/// router by [`with_mattermost`]; without it, `/hooks/mattermost/…` refuses everything.
/// Never shows the token in `Debug` output.
#[derive(Clone)]
pub struct MattermostApp {
    /// A digest of the token: requests' tokens are compared with it in constant time,
    /// and the token itself is not kept.
    token_tag: [u8; 32],
    key: fireline_notify::MattermostActionKey,
}

impl MattermostApp {
    /// The app of the slash command whose token is `command_token`.
    pub fn new(command_token: &str) -> MattermostApp {
        use hmac::Mac;
        MattermostApp {
            token_tag: token_mac(command_token).finalize().into_bytes().into(),
            key: fireline_notify::MattermostActionKey::from_command_token(command_token),
        }
    }

    /// What the notifier needs for buttons whose clicks come back to this server at
    /// `public_url`.
    pub fn buttons(&self, public_url: &str) -> fireline_notify::MattermostButtons {
        fireline_notify::MattermostButtons {
            actions_url: format!(
                "{}/hooks/mattermost/actions",
                public_url.trim_end_matches('/')
            ),
            key: self.key.clone(),
        }
    }

    /// Whether `token` is the command's (compared in constant time, lengths included:
    /// both sides are digested first).
    pub(crate) fn token_matches(&self, token: &str) -> bool {
        use hmac::Mac;
        token_mac(token).verify_slice(&self.token_tag).is_ok()
    }

    pub(crate) fn key(&self) -> &fireline_notify::MattermostActionKey {
        &self.key
    }
}

fn token_mac(token: &str) -> hmac::Hmac<sha2::Sha256> {
    use hmac::Mac;
    let mut mac = match hmac::Hmac::<sha2::Sha256>::new_from_slice(b"fireline mattermost token") {
        Ok(mac) => mac,
        // HMAC hashes or pads keys of any length; the error exists only for other MACs.
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(token.as_bytes());
    mac
}

impl std::fmt::Debug for MattermostApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MattermostApp(****)")
    }
}

/// `router` answering Mattermost's `/fireline` command and buttons as `app` (none: both
/// refused). A request extension rather than an [`AppState`] field, so a router built
/// without it refuses Mattermost's requests without anything else to set.
pub fn with_mattermost(router: axum::Router, app: Option<MattermostApp>) -> axum::Router {
    match app {
        Some(app) => router.layer(axum::Extension(app)),
        None => router,
    }
}

/// Twilio's auth token, the key of `X-Twilio-Signature`; never shown in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct TwilioAuthToken(String);

impl TwilioAuthToken {
    /// Wraps the token.
    pub fn new(token: impl Into<String>) -> TwilioAuthToken {
        TwilioAuthToken(token.into())
    }

    /// The token itself, for checking a signature.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for TwilioAuthToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TwilioAuthToken(****)")
    }
}

/// How long a client may take to send a request's line and headers before its
/// connection is closed: a half-sent request must not hold a connection open for ever.
pub const DEFAULT_HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Most connections served at once; further clients wait in the listen backlog, so no
/// client can make the server run out of file descriptors.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;

/// How long a client may take to send a request's whole body, from the end of its head:
/// a trickled body must not hold a connection (and the memory of what it sent) for ever.
pub const DEFAULT_BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Most bytes of request bodies being read (and held for their request) at once, across
/// all connections; further bodies wait for room, until their read deadline.
pub const DEFAULT_BODY_BUDGET_BYTES: usize = 256 * 1024 * 1024;

/// How long in-flight requests have to finish once shutdown is signalled; connections
/// still open then are closed.
pub const DEFAULT_DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Connection limits for [`serve_with`].
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// How long a client may take to send a request's head (and, on a kept-alive
    /// connection, to start the next one).
    pub header_read_timeout: std::time::Duration,
    /// Most connections open at once.
    pub max_connections: usize,
    /// How long a client may take to send a request's body, counted from when its head
    /// was read (408 after that, and the connection is closed).
    pub body_read_timeout: std::time::Duration,
    /// Most bytes of request bodies read and held at once, across all connections (at
    /// least [`MAX_ALERT_BODY_BYTES`], so every body the routes accept can fit).
    pub body_budget_bytes: usize,
    /// How long in-flight requests may take to finish after shutdown is signalled;
    /// connections still open then are closed, and [`serve_with`] returns.
    pub drain_timeout: std::time::Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            body_budget_bytes: DEFAULT_BODY_BUDGET_BYTES,
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
        }
    }
}

/// "The server is shutting down", for handlers whose responses do not end by
/// themselves (the UI's event stream): they end when it fires, so a graceful shutdown
/// need not wait for the client. Outside [`serve_with`] (a router driven in-process) it
/// never fires.
#[derive(Debug, Clone)]
pub struct Shutdown(tokio::sync::watch::Receiver<bool>);

impl Shutdown {
    /// Resolves once shutdown has been signalled (or the server is gone).
    pub async fn signalled(&mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }

    /// One that never fires: its sender lives as long as the process.
    fn never() -> Shutdown {
        static NEVER: std::sync::OnceLock<tokio::sync::watch::Sender<bool>> =
            std::sync::OnceLock::new();
        Shutdown(
            NEVER
                .get_or_init(|| tokio::sync::watch::channel(false).0)
                .subscribe(),
        )
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Shutdown {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Shutdown>()
            .cloned()
            .unwrap_or_else(Shutdown::never))
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting and
/// waits for in-flight requests to finish; with the default [`ServeOptions`].
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, router, shutdown, ServeOptions::default()).await
}

/// [`serve`] with explicit limits. HTTP/1.1 through hyper directly rather than
/// `axum::serve`, which gives hyper no timer (so no header read timeout) and accepts
/// without bound.
///
/// Each request's body must arrive within `body_read_timeout` of its head, and the
/// bodies being read share `body_budget_bytes` ([`extract::BodyLimits`]). Once
/// `shutdown` completes, no connection is accepted, handlers holding a [`Shutdown`]
/// finish their responses, idle connections close, and requests in flight have
/// `drain_timeout` to finish before their connections are closed.
pub async fn serve_with(
    listener: TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    options: ServeOptions,
) -> std::io::Result<()> {
    use tower::ServiceExt as _;
    let permits = Arc::new(tokio::sync::Semaphore::new(options.max_connections.max(1)));
    // Every connection holds a receiver, so the sender's `closed()` is "every connection
    // has finished". The stage moves from RUNNING to DRAINING (finish the request in
    // flight, then close) to CLOSING (close now).
    let (stop, stopping) = tokio::sync::watch::channel(RUNNING);
    // What handlers see ([`Shutdown`]); not counted as connections.
    let (shutting_down, shutdown_seen) = tokio::sync::watch::channel(false);
    let budget = extract::BodyBudget::new(options.body_budget_bytes.max(MAX_ALERT_BODY_BYTES));
    let body_read_timeout = options.body_read_timeout;
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // A free slot first, then accept: at the cap, clients wait in the backlog.
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                // The semaphore is never closed.
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Answers are one small write each: send them at once rather than let Nagle's
        // algorithm hold one back for the client's delayed acknowledgement.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let (budget, shutdown_seen) = (budget.clone(), shutdown_seen.clone());
        let service = router.clone().map_request(
            move |request: axum::http::Request<hyper::body::Incoming>| {
                // The body's deadline runs from now: the head has been read.
                let deadline = tokio::time::Instant::now() + body_read_timeout;
                let (mut parts, body) = request.into_parts();
                parts
                    .extensions
                    .insert(extract::BodyLimits::new(budget.clone(), Some(deadline)));
                parts.extensions.insert(Shutdown(shutdown_seen.clone()));
                // The peer's address, for limits per client (the public subscribe form).
                parts.extensions.insert(axum::extract::ConnectInfo(peer));
                let body = extract::TimedBody::new(body, deadline, body_read_timeout);
                axum::http::Request::from_parts(parts, axum::body::Body::new(body))
            },
        );
        let service = hyper_util::service::TowerToHyperService::new(service);
        let mut stopping = stopping.clone();
        let header_read_timeout = options.header_read_timeout;
        tokio::spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_read_timeout);
            let connection = builder.serve_connection(hyper_util::rt::TokioIo::new(tcp), service);
            let mut connection = std::pin::pin!(connection);
            let mut draining = false;
            loop {
                tokio::select! {
                    result = connection.as_mut() => {
                        if let Err(e) = result {
                            // Timeouts and clients going away: nothing to act on.
                            tracing::debug!(error = %e, "connection ended with an error");
                        }
                        break;
                    }
                    changed = stopping.changed() => {
                        // The sender gone is as good as "close now".
                        let stage = if changed.is_ok() { *stopping.borrow_and_update() } else { CLOSING };
                        if stage >= CLOSING {
                            // Dropping the connection closes it, and drops the request
                            // in flight with it.
                            break;
                        }
                        if stage >= DRAINING && !draining {
                            // Finish the request in flight, then close.
                            connection.as_mut().graceful_shutdown();
                            draining = true;
                        }
                    }
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    drop(stopping);
    let _ = shutting_down.send(true);
    let _ = stop.send(DRAINING);
    if tokio::time::timeout(options.drain_timeout, stop.closed())
        .await
        .is_err()
    {
        tracing::warn!(
            connections = stop.receiver_count(),
            after = ?options.drain_timeout,
            "closing connections still busy at the shutdown deadline"
        );
        let _ = stop.send(CLOSING);
        // Each connection's task closes at once; a bound all the same, since nothing
        // must keep the process from stopping.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(1), stop.closed()).await;
    }
    Ok(())
}

/// Connection stages in [`serve_with`].
const RUNNING: u8 = 0;
const DRAINING: u8 = 1;
const CLOSING: u8 = 2;

/// An accept that failed: a connection that went away before it was accepted is
/// nothing; anything else (out of file descriptors) is logged and waited out briefly,
/// rather than retried in a hot loop.
async fn accept_failed(error: std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset | ErrorKind::ConnectionRefused
    ) {
        return;
    }
    tracing::warn!(error = %error, "cannot accept a connection; retrying in a second");
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
}
