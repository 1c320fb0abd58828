//! Group commit for accepted alerts.
//!
//! Every receiver must answer only once its alerts are durable. Committing each request
//! on its own would cost one sync per request; instead one writer task takes every
//! payload waiting, writes them in one transaction, and then answers them all. Under
//! load, batches grow by themselves; idle, a lone request is committed at once.

use super::keys::KeyCache;
use fireline_store::{AlertBatch, Store, StoreError};
use jiff::Timestamp;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Notify};

/// Most payloads one transaction takes.
const MAX_BATCH: usize = 512;

type Job = (
    (String, Timestamp, AlertBatch),
    oneshot::Sender<Result<(), String>>,
);

/// A handle to the writer task.
#[derive(Debug, Clone)]
pub struct InboxWriter {
    jobs: mpsc::Sender<Job>,
    wake: Arc<Notify>,
    keys: KeyCache,
}

/// Why alerts could not be accepted.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    /// The write failed; nothing of this request was stored.
    #[error("could not store alerts: {0}")]
    Store(String),
    /// The writer has stopped (the server is shutting down).
    #[error("the alert writer has stopped")]
    Stopped,
}

impl InboxWriter {
    /// Starts the writer task; `wake` is poked after each commit so processing starts.
    pub fn start(store: Arc<dyn Store>, wake: Arc<Notify>) -> InboxWriter {
        let (jobs, mut queue) = mpsc::channel::<Job>(4 * MAX_BATCH);
        let handle = InboxWriter {
            jobs,
            wake: wake.clone(),
            keys: KeyCache::default(),
        };
        tokio::spawn(async move {
            while let Some(first) = queue.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match queue.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                let (items, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
                let result = store
                    .enqueue_alerts_batch(&items)
                    .await
                    .map_err(|e: StoreError| e.to_string());
                if result.is_ok() {
                    wake.notify_one();
                }
                for reply in replies {
                    // A receiver that gave up waiting is no reason to stop.
                    let _ = reply.send(result.clone());
                }
            }
        });
        handle
    }

    /// The receivers' integration lookup (key hash to integration, briefly cached).
    pub fn keys(&self) -> &KeyCache {
        &self.keys
    }

    /// Wakes the alert processor (after something else wrote to the inbox).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Stores a payload; returns once it is committed.
    pub async fn write(
        &self,
        integration: &str,
        received_at: Timestamp,
        alerts: AlertBatch,
    ) -> Result<(), InboxError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(((integration.to_owned(), received_at, alerts), reply))
            .await
            .map_err(|_| InboxError::Stopped)?;
        answer
            .await
            .map_err(|_| InboxError::Stopped)?
            .map_err(InboxError::Store)
    }
}
