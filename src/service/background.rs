//! What background jobs need from the service besides their work itself.

use std::time::Duration;

use super::Service;
use crate::protocol::ApiError;

impl Service {
    /// Claims the background job `job` for `holder` for `lease` from now, across every node
    /// that shares the store (see [`crate::store::Store::claim_job`]). `true`: this holder may
    /// run the job now. A zero `lease` held by `holder` releases the job.
    pub async fn claim_job(
        &self,
        job: &str,
        holder: &str,
        lease: Duration,
    ) -> Result<bool, ApiError> {
        Ok(self
            .store
            .claim_job(job, holder, self.clock.now(), lease)
            .await?)
    }
}
