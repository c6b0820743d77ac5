//! Background work. Each job is a loop: do the work that is due, then sleep until the next
//! tick or until shutdown. Jobs enter the system through the [`Service`], so the business
//! rules live in one place; each step is idempotent and safe to run on several nodes at once.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::service::Service;

/// Starts the background jobs; they stop when `shutdown` turns true.
pub fn spawn(
    service: Arc<Service>,
    purge_interval: Duration,
    shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(purge_deleted_secrets(service, purge_interval, shutdown))
}

/// Purges secrets whose recovery window has ended, every `interval`.
async fn purge_deleted_secrets(
    service: Arc<Service>,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        match service.purge_due().await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "purged secrets whose recovery window ended"),
            Err(error) => {
                tracing::warn!(%error, cause = ?error.cause(), "purging deleted secrets failed; will retry")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
    }
}
