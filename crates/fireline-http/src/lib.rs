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
}

/// How long a client may take to send a request's line and headers before its
/// connection is closed: a half-sent request must not hold a connection open for ever.
pub const DEFAULT_HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Most connections served at once; further clients wait in the listen backlog, so no
/// client can make the server run out of file descriptors.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;

/// Connection limits for [`serve_with`].
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// How long a client may take to send a request's head (and, on a kept-alive
    /// connection, to start the next one).
    pub header_read_timeout: std::time::Duration,
    /// Most connections open at once.
    pub max_connections: usize,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
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
pub async fn serve_with(
    listener: TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    options: ServeOptions,
) -> std::io::Result<()> {
    let permits = Arc::new(tokio::sync::Semaphore::new(options.max_connections.max(1)));
    // `true` once shutting down; every connection holds a receiver, so the sender's
    // `closed()` is "every connection has finished".
    let (stop, stopping) = tokio::sync::watch::channel(false);
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
        let tcp = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
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
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        let mut stopping = stopping.clone();
        let header_read_timeout = options.header_read_timeout;
        tokio::spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_read_timeout);
            let connection = builder.serve_connection(hyper_util::rt::TokioIo::new(tcp), service);
            let mut connection = std::pin::pin!(connection);
            let mut asked_to_stop = false;
            loop {
                tokio::select! {
                    result = connection.as_mut() => {
                        if let Err(e) = result {
                            // Timeouts and clients going away: nothing to act on.
                            tracing::debug!(error = %e, "connection ended with an error");
                        }
                        break;
                    }
                    _ = stopping.wait_for(|stop| *stop), if !asked_to_stop => {
                        // Finish the request in flight, then close.
                        connection.as_mut().graceful_shutdown();
                        asked_to_stop = true;
                    }
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    drop(stopping);
    let _ = stop.send(true);
    stop.closed().await;
    Ok(())
}

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
