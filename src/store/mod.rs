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

use std::time::Duration;

use async_trait::async_trait;

use crate::audit::{AuditEvent, AuditQuery, StoredAuditEvent};
use crate::clock::Timestamp;
use crate::crypto::{SecretValue, ValueKind};
use crate::service::identity::model::{AccessKeyRecord, RootBootstrap, UserPolicy, UserRecord};
use crate::service::kms::model::{KmsAlias, KmsKeyRecord};
use crate::service::model::{Scope, Secret, SecretId, VersionChanges};

pub mod cache;
pub mod postgres;
pub mod sqlite;

#[cfg(test)]
mod conformance;

/// A value as the store keeps it: opaque bytes to the store.
pub struct StoredValue {
    pub kind: ValueKind,
    /// Whether `bytes` is a sealed record ([`crate::crypto::envelope::SealedValue`]). Values
    /// written before encryption at rest existed are plaintext until they are sealed.
    pub sealed: bool,
    pub bytes: zeroize::Zeroizing<Vec<u8>>,
}

impl StoredValue {
    /// A sealed record of a value of kind `kind`.
    pub fn sealed(kind: ValueKind, record: Vec<u8>) -> StoredValue {
        StoredValue {
            kind,
            sealed: true,
            bytes: zeroize::Zeroizing::new(record),
        }
    }

    /// A value kept in the clear (only the store's own tests write these now).
    pub fn plain(value: &SecretValue) -> StoredValue {
        StoredValue {
            kind: value.kind(),
            sealed: false,
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
///
/// The records of the secret's replicas (one per replica that [exists](crate::service::model::Replica::exists), in
/// its region, under the same name) are brought in step with `secret.replicas` in the same
/// transaction.
pub struct SecretWrite<'a> {
    /// The new state. Its `revision` is the revision this change started from.
    pub secret: &'a Secret,
    pub changes: &'a VersionChanges,
    /// The values of the versions in `changes.added`.
    pub new_values: &'a [NewValue<'a>],
    /// New stored forms of existing versions' values (re-encryption under another key: the
    /// value itself never changes). Each replaces the stored bytes of its version.
    pub rewrapped: &'a [NewValue<'a>],
    /// Other secrets (id, revision) deleted in the same transaction, before the replicas are
    /// written: the secrets a replica overwrites.
    pub overwritten: &'a [(SecretId, i64)],
}

/// The order of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    CreatedDate,
    LastChangedDate,
    /// Never-read secrets sort as if read at the epoch.
    LastAccessedDate,
    Name,
}

/// Where a listing stands: the sort key and id of the last secret returned.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ListPosition {
    pub key: PositionKey,
    pub id: SecretId,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PositionKey {
    Time(i64),
    Name(String),
}

/// One page of the secrets of a scope, in a stable order (sort key, then id), starting after
/// a position: secrets created or deleted between pages never make others skipped or repeated.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub scope: Scope,
    pub include_pending_deletion: bool,
    pub sort: SortKey,
    pub descending: bool,
    pub after: Option<ListPosition>,
    pub limit: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The secret was saved (or deleted) by someone else since it was loaded.
    #[error("the secret changed since it was read")]
    Conflict,
    /// Another secret in the same account and region has this name.
    #[error("a secret with this name already exists")]
    NameTaken,
    /// A KMS alias of this name already exists (creating one), or none does (updating one).
    /// Creating a key with an alias that exists fails with this too, and creates nothing.
    #[error("KMS alias conflict")]
    AliasConflict,
    /// Another secret has this ARN (the random suffix collided).
    #[error("a secret with this ARN already exists")]
    ArnTaken,
    /// Another user or access key has this id (the random id collided).
    #[error("an identity with this id already exists")]
    IdTaken,
    /// A stored record could not be decoded.
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// The backend failed (I/O, a full disk, a lost connection...).
    #[error("storage backend failure: {0}")]
    Backend(String),
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Inserts a new secret (its versions' values in `new_values`, its replicas' records) and
    /// returns its id, deleting the `overwritten` secrets (id, revision) first in the same
    /// transaction. The secret's `id` and `revision` fields are ignored.
    async fn create(
        &self,
        secret: &Secret,
        new_values: &[NewValue<'_>],
        overwritten: &[(SecretId, i64)],
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

    /// Saves `write` (the primary, which no longer lists the replica) and creates `promoted`
    /// (the replica become a secret of its own, with the values of its versions) in one
    /// transaction. Returns the new secret's id.
    async fn promote(
        &self,
        write: SecretWrite<'_>,
        promoted: &Secret,
        values: &[NewValue<'_>],
    ) -> Result<SecretId, StoreError>;

    /// A page of secrets with each one's position. A secret seen through a replica comes with
    /// its `replica_view` set.
    async fn list(&self, query: &ListQuery) -> Result<Vec<(ListPosition, Secret)>, StoreError>;

    /// The value of a setting, set to `initial` if it has none yet (atomically: every caller,
    /// on any node, gets the same value).
    async fn setting(&self, name: &str, initial: Vec<u8>) -> Result<Vec<u8>, StoreError>;

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

    /// Claims the background job `job` for `holder` until `now + lease`, atomically across
    /// every node that shares the database. `true` if the job was unclaimed, its lease had
    /// ended by `now`, or `holder` already held it (then the lease is renewed); `false` if
    /// another holder's lease is still running.
    async fn claim_job(
        &self,
        job: &str,
        holder: &str,
        now: Timestamp,
        lease: Duration,
    ) -> Result<bool, StoreError>;

    // KMS keys and aliases.

    /// Inserts a new key, and `alias` pointing at it in the same transaction. If the alias
    /// exists already, nothing is written and the answer is [`StoreError::AliasConflict`]
    /// (this is how concurrent first uses of the managed key agree on one key).
    async fn create_kms_key(
        &self,
        key: &KmsKeyRecord,
        alias: Option<&KmsAlias>,
    ) -> Result<(), StoreError>;

    /// A key by id, in any account and region (the caller checks the scope).
    async fn load_kms_key(&self, id: uuid::Uuid) -> Result<Option<KmsKeyRecord>, StoreError>;

    /// Saves a changed key if its revision is still `key.revision`, and bumps it; otherwise
    /// [`StoreError::Conflict`].
    async fn save_kms_key(&self, key: &KmsKeyRecord) -> Result<(), StoreError>;

    /// Deletes a key and every alias pointing at it, if its revision is still `revision`.
    async fn delete_kms_key(&self, id: uuid::Uuid, revision: i64) -> Result<(), StoreError>;

    /// The keys of a scope in id order, after `after`, at most `limit`.
    async fn list_kms_keys(
        &self,
        scope: &Scope,
        after: Option<uuid::Uuid>,
        limit: usize,
    ) -> Result<Vec<KmsKeyRecord>, StoreError>;

    /// Keys whose [`KmsKeyRecord::due_at`] is at or before `now` (any scope), at most `limit`.
    async fn kms_keys_due(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<uuid::Uuid>, StoreError>;

    async fn load_kms_alias(
        &self,
        scope: &Scope,
        name: &str,
    ) -> Result<Option<KmsAlias>, StoreError>;

    /// Creates `alias` (`create`: [`StoreError::AliasConflict`] if the name exists) or points
    /// an existing one at another key (`!create`: [`StoreError::AliasConflict`] if it does not
    /// exist). A target key that no longer exists is [`StoreError::Conflict`].
    async fn put_kms_alias(&self, alias: &KmsAlias, create: bool) -> Result<(), StoreError>;

    /// Deletes an alias; `false` if there was none.
    async fn delete_kms_alias(&self, scope: &Scope, name: &str) -> Result<bool, StoreError>;

    /// The aliases of a scope in name order (only those of `key` if given), after `after`,
    /// at most `limit`.
    async fn list_kms_aliases(
        &self,
        scope: &Scope,
        key: Option<uuid::Uuid>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<KmsAlias>, StoreError>;

    /// ARNs of secrets (primaries, any scope) that still have versions stored in the clear,
    /// from before encryption at rest; at most `limit`.
    async fn secrets_with_plain_values(&self, limit: usize) -> Result<Vec<String>, StoreError>;

    // Identities: IAM users, their access keys and inline policies, and the account root's
    // access keys.

    /// Inserts a new user (its `revision` is ignored: a new user is at revision 1).
    /// [`StoreError::NameTaken`] if the account has a user of this name in any case.
    async fn create_user(&self, user: &UserRecord) -> Result<(), StoreError>;

    /// The user of `account_id` called `name` (compared regardless of ASCII case).
    async fn load_user(
        &self,
        account_id: &str,
        name: &str,
    ) -> Result<Option<UserRecord>, StoreError>;

    async fn load_user_by_id(&self, id: &str) -> Result<Option<UserRecord>, StoreError>;

    /// The users of an account in name order.
    async fn list_users(&self, account_id: &str) -> Result<Vec<UserRecord>, StoreError>;

    /// Saves a changed user (its `enabled` flag: names and ids never change) if its revision
    /// is still `user.revision`, and bumps it; otherwise [`StoreError::Conflict`].
    async fn save_user(&self, user: &UserRecord) -> Result<(), StoreError>;

    /// Deletes a user with its access keys and policies, if its revision is still `revision`;
    /// otherwise (or if it does not exist) [`StoreError::Conflict`].
    async fn delete_user(&self, id: &str, revision: i64) -> Result<(), StoreError>;

    /// Inserts a new access key. A key of a user that does not exist is
    /// [`StoreError::Conflict`] and writes nothing.
    async fn create_access_key(&self, key: &AccessKeyRecord) -> Result<(), StoreError>;

    /// Inserts `key` (a root key: `user_id` is `None`) as the account's first root key if the
    /// account was never bootstrapped, atomically across every node: of racing callers exactly
    /// one creates its key and all are told that key's id. Once an account is bootstrapped,
    /// this never writes again, even if that key was deleted since.
    async fn bootstrap_root_key(&self, key: &AccessKeyRecord) -> Result<RootBootstrap, StoreError>;

    async fn load_access_key(&self, id: &str) -> Result<Option<AccessKeyRecord>, StoreError>;

    /// The access keys of a user (`Some(user id)`) or of the account's root (`None`), in id
    /// order.
    async fn list_access_keys(
        &self,
        account_id: &str,
        user_id: Option<&str>,
    ) -> Result<Vec<AccessKeyRecord>, StoreError>;

    /// Sets whether a key is active; `false` if there is no such key.
    async fn set_access_key_enabled(&self, id: &str, enabled: bool) -> Result<bool, StoreError>;

    /// Deletes a key; `false` if there was none.
    async fn delete_access_key(&self, id: &str) -> Result<bool, StoreError>;

    /// Creates or replaces the user's policy of this name. A user that does not exist is
    /// [`StoreError::Conflict`].
    async fn put_user_policy(&self, policy: &UserPolicy) -> Result<(), StoreError>;

    /// Deletes a user's policy; `false` if there was none.
    async fn delete_user_policy(&self, user_id: &str, name: &str) -> Result<bool, StoreError>;

    /// A user's policies in name order.
    async fn list_user_policies(&self, user_id: &str) -> Result<Vec<UserPolicy>, StoreError>;

    // The audit trail (see `crate::audit`). The event of a call that changed something is
    // inserted by the write that made the change, in its transaction (`audit::for_change`);
    // these are for the others.

    /// Appends the event of a call that changed nothing (a read, a failure, a denial). Not
    /// awaited: the event is committed with the backend's next batch, so a crash may lose the
    /// last few of these events (never the event of a change).
    fn append_audit(&self, event: AuditEvent);

    /// Returns once every event appended before the call is committed.
    async fn flush_audit(&self) -> Result<(), StoreError>;

    /// Events matching `query`, in sequence order, at most `query.limit`.
    async fn query_audit(&self, query: &AuditQuery) -> Result<Vec<StoredAuditEvent>, StoreError>;
}
