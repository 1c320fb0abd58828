//! The policy in force, replaceable while the server runs.

use fireline_core::policy::Policy;
use std::sync::{Arc, RwLock};

/// Shared handle to the current policy. Readers take a cheap `Arc` snapshot, so a
/// reload never changes the policy under a request or an engine cycle half-way.
#[derive(Debug, Clone)]
pub struct LivePolicy {
    // A std RwLock: held only to clone or swap an Arc, never across an await.
    current: Arc<RwLock<Arc<Policy>>>,
}

impl LivePolicy {
    /// Starts with `policy`.
    pub fn new(policy: Policy) -> Self {
        LivePolicy {
            current: Arc::new(RwLock::new(Arc::new(policy))),
        }
    }

    /// The policy now.
    pub fn current(&self) -> Arc<Policy> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Puts `policy` in force for everything that reads it from now on.
    pub fn replace(&self, policy: Policy) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(policy);
    }
}
