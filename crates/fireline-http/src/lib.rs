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

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Where everything is kept.
    pub store: Arc<dyn Store>,
    /// The time source for new events.
    pub clock: Arc<dyn Clock>,
    /// The policy in force (severities, categories, clocks).
    pub policy: LivePolicy,
    /// Wakes the engine when a change schedules work sooner than it expects.
    pub engine_wake: Arc<tokio::sync::Notify>,
    /// Writes accepted alerts with group commit (and wakes the alert processor).
    pub inbox: receivers::inbox::InboxWriter,
    /// Appends incident events, addressing pages and writing their messages to the
    /// outbox in the same transaction; holds the acknowledge-link key.
    pub pager: fireline_engine::Pager,
    /// The bearer token `/metrics` requires; `None` leaves it open (bind to a private
    /// address, or set one).
    pub metrics_token: Option<String>,
    /// The runbooks incidents may follow, by id.
    pub runbooks: fireline_engine::Runbooks,
    /// Failed UI password sign-ins per username (slows guessing).
    pub signin_throttle: Arc<users::Throttle>,
}

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting and
/// waits for in-flight requests to finish.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    // Answers are one small write each: send them at once rather than let Nagle's
    // algorithm hold one back for the client's delayed acknowledgement.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}
