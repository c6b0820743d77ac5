//! The secret aggregate and the rules of its versions and staging labels.
//!
//! Everything here is pure: no storage, no clock, no I/O. The service loads a [`Secret`],
//! applies one of these operations, and hands the result to the store, which saves it only if
//! nobody else saved that secret in between (see `store`).
//!
//! The rules (AWS Secrets Manager's):
//! - a staging label is attached to at most one version at a time;
//! - moving `AWSCURRENT` to another version moves `AWSPREVIOUS` to the version it left;
//! - a new version that takes `AWSCURRENT` also takes `AWSPENDING` off the version it replaces;
//! - a secret carries at most [`MAX_LABELS`] labels across its versions;
//! - a version, once written, never changes its value; only its labels move;
//! - a version without labels is deprecated; when a secret would hold more than
//!   [`MAX_VERSIONS`] versions, the oldest deprecated versions older than [`PRUNE_MIN_AGE`] are
//!   removed, and if that is not enough the change is refused.

use std::time::Duration;

use crate::clock::Timestamp;

pub const AWSCURRENT: &str = "AWSCURRENT";
pub const AWSPREVIOUS: &str = "AWSPREVIOUS";
pub const AWSPENDING: &str = "AWSPENDING";

/// Most versions a secret may hold.
pub const MAX_VERSIONS: usize = 100;
/// Most staging labels across all the versions of one secret.
pub const MAX_LABELS: usize = 20;
/// Deprecated versions younger than this are never pruned.
pub const PRUNE_MIN_AGE: Duration = Duration::from_secs(24 * 60 * 60);

/// The store's identifier of a secret. Stable for the secret's life, never reused by the
/// same store, never shown to clients (they see the ARN).
pub type SecretId = i64;

/// The account and region a secret lives in: secrets are namespaced by both.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    pub account_id: String,
    pub region: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// A pending deletion: when it was asked for and when the secret will be purged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deletion {
    pub requested_at: Timestamp,
    pub purge_at: Timestamp,
}

/// One secret with the metadata of all its versions (never their values: a secret may hold
/// 100 versions of 64 KiB, and a read needs at most one of them).
#[derive(Debug, Clone, PartialEq)]
pub struct Secret {
    pub id: SecretId,
    /// Bumped by the store on every save; a save names the revision it started from.
    pub revision: i64,
    pub scope: Scope,
    pub name: String,
    pub arn: String,
    pub description: Option<String>,
    /// The KMS key reference as the client gave it; `None` is the managed key
    /// `aws/secretsmanager`.
    pub kms_key_id: Option<String>,
    pub secret_type: Option<String>,
    /// `None` until the secret is first tagged (AWS then omits `Tags`; once tagged, an empty
    /// list is shown as such).
    pub tags: Option<Vec<Tag>>,
    pub created_at: Timestamp,
    pub last_changed_at: Timestamp,
    /// The day (UTC midnight) of the latest read, if any.
    pub last_accessed_day: Option<Timestamp>,
    pub deletion: Option<Deletion>,
    /// The resource policy document as the client gave it.
    pub resource_policy: Option<String>,
    pub rotation: Rotation,
    /// The regions this secret is replicated to (only on a primary).
    pub replicas: Vec<Replica>,
    /// Set when the secret was loaded through its replica in another region: the aggregate is
    /// the primary's, seen from there.
    pub replica_view: Option<ReplicaView>,
    /// Oldest first.
    pub versions: Vec<Version>,
}

/// The rotation configuration and its dates.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rotation {
    pub enabled: bool,
    pub lambda_arn: Option<String>,
    pub rules: Option<RotationRules>,
    pub last_rotated_at: Option<Timestamp>,
    pub next_rotation_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RotationRules {
    pub automatically_after_days: Option<i64>,
    pub duration: Option<String>,
    pub schedule_expression: Option<String>,
}

/// A region the secret is replicated to, as the primary records it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Replica {
    pub region: String,
    pub kms_key_id: Option<String>,
    pub status: ReplicaStatus,
    pub status_message: Option<String>,
    /// Kept by the store on the replica itself (reads there record it); not serialized with
    /// the primary.
    #[serde(skip)]
    pub last_accessed_day: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ReplicaStatus {
    InSync,
    Failed,
    InProgress,
}

impl ReplicaStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReplicaStatus::InSync => "InSync",
            ReplicaStatus::Failed => "Failed",
            ReplicaStatus::InProgress => "InProgress",
        }
    }
}

impl Replica {
    /// Whether a replica secret exists in the replica's region (a failed replication has
    /// none).
    pub fn exists(&self) -> bool {
        self.status == ReplicaStatus::InSync
    }
}

/// How a secret looks from one of its replicas' regions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaView {
    /// The store's id of the replica's own record.
    pub record: SecretId,
    pub region: String,
    pub arn: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub id: String,
    /// Creation order within the secret; higher is newer.
    pub ordinal: i64,
    pub created_at: Timestamp,
    pub stages: Vec<String>,
    pub last_accessed_day: Option<Timestamp>,
    /// The KMS key the value is stored under (`None`: the managed key).
    pub kms_key_id: Option<String>,
}

impl Version {
    /// A version created at `created_at`, not yet labelled nor placed (see
    /// [`Secret::add_version`]).
    pub fn new(id: &str, created_at: Timestamp, kms_key_id: Option<String>) -> Version {
        Version {
            id: id.to_owned(),
            ordinal: 0,
            created_at,
            stages: Vec::new(),
            last_accessed_day: None,
            kms_key_id,
        }
    }
}

/// Why a change to the versions of a secret is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionRuleError {
    /// The change would leave more than [`MAX_LABELS`] labels on the secret.
    TooManyLabels,
    /// More than [`MAX_VERSIONS`] versions, and none of the extra ones may be pruned yet.
    TooManyVersions,
    /// The version named does not exist.
    NoSuchVersion(String),
    /// The label is attached to another version than the one it should be moved from.
    LabelElsewhere { label: String, holder: String },
    /// The label is not attached to the version it should be removed from.
    LabelNotOnVersion { label: String, version_id: String },
    /// `AWSCURRENT` can only be moved, never removed.
    CurrentCannotBeRemoved,
}

impl Secret {
    pub fn version(&self, version_id: &str) -> Option<&Version> {
        self.versions
            .iter()
            .find(|version| version.id == version_id)
    }

    /// The version a label is attached to.
    pub fn holder_of(&self, label: &str) -> Option<&Version> {
        self.versions
            .iter()
            .find(|version| version.stages.iter().any(|stage| stage == label))
    }

    pub fn label_count(&self) -> usize {
        self.versions
            .iter()
            .map(|version| version.stages.len())
            .sum()
    }

    pub fn is_pending_deletion(&self) -> bool {
        self.deletion.is_some()
    }

    /// The ARN of this secret's replica in `region`: the same name and random suffix.
    pub fn replica_arn(&self, region: &str) -> String {
        replace_arn_region(&self.arn, region)
    }

    /// The ARN the caller sees: the replica's when seen from a replica.
    pub fn visible_arn(&self) -> &str {
        self.replica_view
            .as_ref()
            .map_or(self.arn.as_str(), |view| view.arn.as_str())
    }

    pub fn replica(&self, region: &str) -> Option<&Replica> {
        self.replicas
            .iter()
            .find(|replica| replica.region == region)
    }

    /// Adds a version that carries `stages`, moving each label from wherever it was (and
    /// `AWSPREVIOUS` along with `AWSCURRENT`), then prunes old deprecated versions.
    /// On error the secret is left unchanged.
    pub fn add_version(
        &mut self,
        version: Version,
        stages: &[String],
        now: Timestamp,
    ) -> Result<(), VersionRuleError> {
        let mut next = self.clone();
        let version_id = version.id.clone();
        let ordinal = next.versions.iter().map(|v| v.ordinal).max().unwrap_or(0) + 1;
        next.versions.push(Version {
            ordinal,
            stages: Vec::new(),
            ..version
        });
        let old_current = next.holder_of(AWSCURRENT).map(|v| v.id.clone());
        for stage in stages {
            next.attach(stage, &version_id);
        }
        // A new value that becomes current ends a finished rotation: the version it replaces
        // loses AWSPENDING along with AWSCURRENT (as AWS does on PutSecretValue/UpdateSecret;
        // UpdateSecretVersionStage leaves other labels alone).
        if let Some(old_current) = old_current
            && old_current != version_id
            && next
                .holder_of(AWSCURRENT)
                .is_some_and(|v| v.id == version_id)
            && next
                .holder_of(AWSPENDING)
                .is_some_and(|v| v.id == old_current)
        {
            next.detach(AWSPENDING);
        }
        next.check_label_limit()?;
        next.prune(now)?;
        *self = next;
        Ok(())
    }

    /// `UpdateSecretVersionStage`: moves `label` to `move_to`, or removes it from
    /// `remove_from`, with AWS's checks. On error the secret is left unchanged.
    pub fn update_stage(
        &mut self,
        label: &str,
        remove_from: Option<&str>,
        move_to: Option<&str>,
    ) -> Result<(), VersionRuleError> {
        for version_id in [remove_from, move_to].into_iter().flatten() {
            if self.version(version_id).is_none() {
                return Err(VersionRuleError::NoSuchVersion(version_id.to_owned()));
            }
        }
        let holder = self.holder_of(label).map(|version| version.id.clone());
        if let Some(remove_from) = remove_from
            && holder.as_deref() != Some(remove_from)
        {
            return Err(VersionRuleError::LabelNotOnVersion {
                label: label.to_owned(),
                version_id: remove_from.to_owned(),
            });
        }
        let mut next = self.clone();
        match move_to {
            Some(move_to) => {
                if let Some(holder) = holder.filter(|holder| holder != move_to)
                    && remove_from.is_none()
                {
                    return Err(VersionRuleError::LabelElsewhere {
                        label: label.to_owned(),
                        holder,
                    });
                }
                next.attach(label, move_to);
            }
            None => {
                if label == AWSCURRENT {
                    return Err(VersionRuleError::CurrentCannotBeRemoved);
                }
                next.detach(label);
            }
        }
        next.check_label_limit()?;
        *self = next;
        Ok(())
    }

    /// Attaches `label` to `version_id`, taking it from any other version. Moving
    /// `AWSCURRENT` away from a version gives that version `AWSPREVIOUS`.
    fn attach(&mut self, label: &str, version_id: &str) {
        let holder = self.holder_of(label).map(|version| version.id.clone());
        if holder.as_deref() == Some(version_id) {
            return;
        }
        self.detach(label);
        if let Some(version) = self.versions.iter_mut().find(|v| v.id == version_id) {
            version.stages.push(label.to_owned());
        }
        if label == AWSCURRENT
            && let Some(previous) = holder
        {
            self.attach(AWSPREVIOUS, &previous);
        }
    }

    fn detach(&mut self, label: &str) {
        for version in &mut self.versions {
            version.stages.retain(|stage| stage != label);
        }
    }

    fn check_label_limit(&self) -> Result<(), VersionRuleError> {
        if self.label_count() > MAX_LABELS {
            return Err(VersionRuleError::TooManyLabels);
        }
        Ok(())
    }

    /// Removes the oldest deprecated versions older than [`PRUNE_MIN_AGE`] until at most
    /// [`MAX_VERSIONS`] remain.
    fn prune(&mut self, now: Timestamp) -> Result<(), VersionRuleError> {
        let mut excess = self.versions.len().saturating_sub(MAX_VERSIONS);
        if excess == 0 {
            return Ok(());
        }
        self.versions.sort_by_key(|version| version.ordinal);
        self.versions.retain(|version| {
            let prunable =
                version.stages.is_empty() && now.since(version.created_at) >= PRUNE_MIN_AGE;
            if excess > 0 && prunable {
                excess -= 1;
                return false;
            }
            true
        });
        if excess > 0 {
            return Err(VersionRuleError::TooManyVersions);
        }
        Ok(())
    }
}

/// `arn:partition:service:region:account:resource` with another region.
fn replace_arn_region(arn: &str, region: &str) -> String {
    let parts: Vec<&str> = arn.splitn(5, ':').collect();
    match parts.as_slice() {
        [arn, partition, service, _, rest] => {
            format!("{arn}:{partition}:{service}:{region}:{rest}")
        }
        _ => arn.to_owned(),
    }
}

/// What a save must write: which versions are new, which had their labels changed, which
/// were pruned. Computed by comparing the secret before and after a change, so that the
/// rules above never have to keep their own bookkeeping.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct VersionChanges {
    pub added: Vec<String>,
    pub relabelled: Vec<String>,
    pub removed: Vec<String>,
}

impl VersionChanges {
    pub fn between(before: &Secret, after: &Secret) -> VersionChanges {
        let mut changes = VersionChanges::default();
        for version in &after.versions {
            match before.version(&version.id) {
                None => changes.added.push(version.id.clone()),
                Some(old) if old != version => changes.relabelled.push(version.id.clone()),
                Some(_) => {}
            }
        }
        for version in &before.versions {
            if after.version(&version.id).is_none() {
                changes.removed.push(version.id.clone());
            }
        }
        changes
    }
}

#[cfg(test)]
mod tests;
