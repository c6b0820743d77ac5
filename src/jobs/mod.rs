//! Background work. Each job is a loop: do the work that is due, then sleep until the next
//! tick or until shutdown. Jobs enter the system through the [`Service`], so the business
//! rules live in one place; each step is idempotent and safe to run on several nodes at once.
//!
//! When several nodes share a database, each tick's work is done by one node only: before it
//! works, a node claims the job in the database ([`Service::claim_job`], a lease renewed by its
//! holder every tick). The other nodes skip it until the holder stops renewing (it stopped or
//! lost the database), then one of them takes over. No node is elected in memory.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::service::Service;

/// The name under which the purge of deleted secrets is claimed.
pub const PURGE_JOB: &str = "purge-deleted-secrets";
/// The name under which the work on KMS keys (deletion after the waiting period, scheduled
/// rotation) is claimed.
pub const KMS_KEYS_JOB: &str = "kms-key-lifecycle";

/// Starts the background jobs; they stop when `shutdown` turns true. Both run every
/// `purge_interval`.
pub fn spawn(
    service: Arc<Service>,
    purge_interval: Duration,
    shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    // This process's name as a holder of job leases: unique per start.
    let holder = format!("node-{}", uuid::Uuid::new_v4().simple());
    let kms = tokio::spawn(kms_key_lifecycle(
        Arc::clone(&service),
        holder.clone(),
        purge_interval,
        shutdown.clone(),
    ));
    let purge = tokio::spawn(purge_deleted_secrets(
        service,
        holder,
        purge_interval,
        shutdown,
    ));
    tokio::spawn(async move {
        let (purge, kms) = tokio::join!(purge, kms);
        for result in [purge, kms] {
            if let Err(error) = result {
                tracing::error!(%error, "a background job stopped abnormally");
            }
        }
    })
}

/// Deletes KMS keys whose waiting period has ended and rotates keys whose rotation date has
/// come, every `interval`, when this node holds the job's lease.
async fn kms_key_lifecycle(
    service: Arc<Service>,
    holder: String,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let lease = lease_for(interval);
    let mut holding = false;
    loop {
        match service.claim_job(KMS_KEYS_JOB, &holder, lease).await {
            Ok(true) => {
                if !holding {
                    tracing::info!(%holder, "this node now runs the KMS key lifecycle");
                }
                holding = true;
                match service.kms_due().await {
                    Ok(work) if work.deleted == 0 && work.rotated == 0 => {}
                    Ok(work) => tracing::info!(
                        deleted = work.deleted,
                        rotated = work.rotated,
                        "KMS keys deleted after their waiting period or rotated on schedule"
                    ),
                    Err(error) => {
                        tracing::warn!(%error, cause = ?error.cause(), "the KMS key lifecycle failed; will retry")
                    }
                }
            }
            Ok(false) => {
                if holding {
                    tracing::info!("another node took over the KMS key lifecycle");
                }
                holding = false;
            }
            Err(error) => {
                tracing::warn!(%error, cause = ?error.cause(), "could not claim the KMS key job; will retry")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.wait_for(|stop| *stop) => break,
        }
    }
    if holding
        && let Err(error) = service
            .claim_job(KMS_KEYS_JOB, &holder, Duration::ZERO)
            .await
    {
        tracing::debug!(%error, "could not release the KMS key job");
    }
}

/// How long a claim lasts: the holder renews it every `interval`, so it spans two of them (and
/// at least a minute, for clocks that differ a little between nodes).
fn lease_for(interval: Duration) -> Duration {
    interval.saturating_mul(2).max(Duration::from_secs(60))
}

/// Purges secrets whose recovery window has ended, every `interval`, when this node holds the
/// job's lease.
async fn purge_deleted_secrets(
    service: Arc<Service>,
    holder: String,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let lease = lease_for(interval);
    let mut holding = false;
    loop {
        match service.claim_job(PURGE_JOB, &holder, lease).await {
            Ok(true) => {
                if !holding {
                    tracing::info!(%holder, "this node now runs the purge of deleted secrets");
                }
                holding = true;
                match service.purge_due().await {
                    Ok(0) => {}
                    Ok(purged) => {
                        tracing::info!(purged, "purged secrets whose recovery window ended")
                    }
                    Err(error) => {
                        tracing::warn!(%error, cause = ?error.cause(), "purging deleted secrets failed; will retry")
                    }
                }
            }
            Ok(false) => {
                if holding {
                    tracing::info!("another node took over the purge of deleted secrets");
                }
                holding = false;
            }
            Err(error) => {
                tracing::warn!(%error, cause = ?error.cause(), "could not claim the purge job; will retry")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.wait_for(|stop| *stop) => break,
        }
    }
    // Hand the job over at once instead of when the lease ends: a claim that lasts no time
    // leaves it free for the next node that asks.
    if holding && let Err(error) = service.claim_job(PURGE_JOB, &holder, Duration::ZERO).await {
        tracing::debug!(%error, "could not release the purge job");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_span_two_intervals_and_at_least_a_minute() {
        assert_eq!(lease_for(Duration::from_secs(1)), Duration::from_secs(60));
        assert_eq!(lease_for(Duration::from_secs(60)), Duration::from_secs(120));
        assert_eq!(lease_for(Duration::MAX), Duration::MAX);
    }
}
