//! Persistence of secrets, with no business rules.
//!
//! A [`Store`] loads whole [`Secret`] aggregates (metadata of every version, no values) and
//! saves them back only if nobody saved the same secret since it was loaded: every save names
//! the revision it started from and fails with [`StoreError::Conflict`] otherwise (optimistic
//! concurrency, compare-and-swap). Each call is one transaction in the backend. Consistency
//! therefore comes from the database, never from a lock inside this process, so several Coffer
//! nodes can share one database.
//!
//! Values are read one version at a time ([`Store::load_value`]).

use async_trait::async_trait;

use crate::clock::Timestamp;
use crate::crypto::{SecretValue, ValueKind};
use crate::service::model::{Scope, Secret, SecretId, VersionChanges};

pub mod sqlite;

#[cfg(test)]
mod conformance;

/// A value as the store keeps it.
pub struct StoredValue {
    pub kind: ValueKind,
    pub bytes: zeroize::Zeroizing<Vec<u8>>,
}

impl StoredValue {
    pub fn from_value(value: &SecretValue) -> StoredValue {
        StoredValue {
            kind: value.kind(),
            bytes: zeroize::Zeroizing::new(value.as_bytes().to_vec()),
        }
    }
}

/// A version to insert along with a save: its id (its metadata is in the saved aggregate) and
/// its value.
pub struct NewValue<'a> {
    pub version_id: &'a str,
    pub value: &'a StoredValue,
}

/// What a save writes: the secret's new state, and the changes to its versions.
pub struct SecretWrite<'a> {
    /// The new state. Its `revision` is the revision this change started from.
    pub secret: &'a Secret,
    pub changes: &'a VersionChanges,
    /// The values of the versions in `changes.added`.
    pub new_values: &'a [NewValue<'a>],
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The secret was saved (or deleted) by someone else since it was loaded.
    #[error("the secret changed since it was read")]
    Conflict,
    /// Another secret in the same account and region has this name.
    #[error("a secret with this name already exists")]
    NameTaken,
    /// Another secret has this ARN (the random suffix collided).
    #[error("a secret with this ARN already exists")]
    ArnTaken,
    /// A stored record could not be decoded.
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// The backend failed (I/O, a full disk, a lost connection...).
    #[error("storage backend failure: {0}")]
    Backend(String),
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Inserts a new secret (its versions' values in `new_values`) and returns its id. The
    /// secret's `id` and `revision` fields are ignored.
    async fn create(
        &self,
        secret: &Secret,
        new_values: &[NewValue<'_>],
    ) -> Result<SecretId, StoreError>;

    async fn load_by_name(&self, scope: &Scope, name: &str) -> Result<Option<Secret>, StoreError>;

    async fn load_by_arn(&self, arn: &str) -> Result<Option<Secret>, StoreError>;

    /// The value of one version.
    async fn load_value(
        &self,
        secret: SecretId,
        version_id: &str,
    ) -> Result<Option<StoredValue>, StoreError>;

    /// Saves a changed secret if its revision is still `write.secret.revision`, and bumps it.
    async fn save(&self, write: SecretWrite<'_>) -> Result<(), StoreError>;

    /// Deletes a secret and all its versions if its revision is still `revision`.
    async fn delete(&self, secret: SecretId, revision: i64) -> Result<(), StoreError>;

    /// Records a read on `day` (UTC midnight) for the secret and the version read. Does not
    /// change the revision: it is bookkeeping, not a change of the secret, and must not make
    /// concurrent writers conflict.
    async fn record_access(
        &self,
        secret: SecretId,
        version_id: &str,
        day: Timestamp,
    ) -> Result<(), StoreError>;

    /// Secrets whose pending deletion is due at `now`, with their revisions; at most `limit`.
    async fn due_for_purge(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<(SecretId, i64)>, StoreError>;
}
