//! What the server needs of the service for the audit trail (see [`crate::audit`]).

use super::Service;
use crate::audit::AuditEvent;
use crate::clock::Timestamp;

impl Service {
    /// The time on the service's clock (an event's time).
    pub fn audit_now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Appends the event of a call that changed nothing; not awaited (see
    /// [`crate::store::Store::append_audit`]).
    pub fn append_audit(&self, event: AuditEvent) {
        self.store.append_audit(event);
    }

    /// Returns once every event appended so far is committed.
    pub async fn flush_audit(&self) -> Result<(), crate::store::StoreError> {
        self.store.flush_audit().await
    }
}

impl Service {
    /// Events of the audit trail (for tests and tools; the API has no call for it).
    pub async fn audit_events(
        &self,
        query: &crate::audit::AuditQuery,
    ) -> Result<Vec<crate::audit::StoredAuditEvent>, crate::store::StoreError> {
        self.store.query_audit(query).await
    }
}
