//! `fireline serve`: open the store, bind, serve until SIGTERM or SIGINT, close cleanly.

use crate::config::{mask_url, Settings};
use anyhow::Context;
use fireline_engine::SystemClock;
use fireline_http::AppState;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Runs the server until a shutdown signal, then finishes in-flight requests and closes
/// the database (SQLite checkpoints its WAL), so a stop leaves nothing half-written.
pub async fn run(settings: &Settings) -> anyhow::Result<()> {
    let store = fireline_store::open(&settings.db.value)
        .await
        .with_context(|| format!("cannot open database {}", mask_url(&settings.db.value)))?;
    tracing::info!(database = %mask_url(&settings.db.value), backend = store.backend(), "database ready");
    if store.list_tokens().await?.is_empty() {
        tracing::warn!(
            "no API tokens exist yet: create the first with `fireline token create --role admin` \
             (same --db / config as this server)"
        );
    }
    let listener = TcpListener::bind(&settings.listen.value)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen.value))?;
    let address = listener.local_addr().context("listener has no address")?;
    tracing::info!("listening on http://{address}");
    let state = AppState {
        store: store.clone(),
        clock: Arc::new(SystemClock),
        policy: fireline_engine::LivePolicy::new(fireline_core::policy::Policy::builtin()),
    };
    fireline_http::serve(listener, fireline_http::router(state), shutdown_signal())
        .await
        .context("server failed")?;
    tracing::info!("in-flight requests finished; closing the database");
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT received; shutting down"),
        () = terminate => tracing::info!("SIGTERM received; shutting down"),
    }
}
