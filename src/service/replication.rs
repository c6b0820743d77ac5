//! Replication of a secret to other regions of the same deployment.
//!
//! A replica is the primary seen from another region: the store keeps one record for it in
//! that region (so the name is taken there and lookups find it) and reads its versions from
//! the primary. Every new version and label move of the primary is therefore in the replica
//! in the same transaction. Changes go through the primary only; StopReplicationToReplica
//! turns a replica into a secret of its own, with copies of the primary's versions.

use super::model::{Replica, ReplicaStatus, Scope, Secret, SecretId, Version};
use super::secret::replication_status;
use super::validate::checked_secret_id;
use super::{Attempt, Service, retry_on_conflict};
use crate::auth::Principal;
use crate::protocol::types::{
    RemoveRegionsFromReplicationInput, ReplicaRegion, ReplicateSecretToRegionsInput,
    ReplicationOutput, StopReplicationToReplicaInput, StopReplicationToReplicaOutput,
};
use crate::protocol::validate::is_region;
use crate::protocol::{ApiError, ErrorCode};
use crate::store::{NewValue, SecretWrite, StoreError, StoredValue};

/// The status message of a replica whose region already has a secret of that name.
fn name_exists(name: &str, region: &str) -> String {
    format!("Replication failed: Secret name {name} already exists in region {region}.")
}

fn invalid_region() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidParameterException,
        "Invalid replica region.",
    )
}

/// Replicas to add to a secret, and the secrets they overwrite.
pub(super) struct ReplicaPlan {
    pub replicas: Vec<Replica>,
    pub overwritten: Vec<(SecretId, i64)>,
}

impl Service {
    /// Works out the replicas a request adds to the secret `name` of `primary`'s account:
    /// each region is checked for a secret of the same name, which either makes the replica
    /// fail or, with `force`, is overwritten.
    pub(super) async fn plan_replicas(
        &self,
        primary: &Scope,
        name: &str,
        existing: &[Replica],
        regions: &[ReplicaRegion],
        force: bool,
    ) -> Result<ReplicaPlan, ApiError> {
        let mut plan = ReplicaPlan {
            replicas: Vec::new(),
            overwritten: Vec::new(),
        };
        for requested in regions {
            let region = requested.region.clone().unwrap_or_default();
            let duplicate = plan.replicas.iter().any(|r| r.region == region);
            if !is_region(&region) || region == primary.region || duplicate {
                return Err(invalid_region());
            }
            // A failed replica is no replica: its region may be asked for again (a retry).
            if existing
                .iter()
                .any(|replica| replica.region == region && replica.status != ReplicaStatus::Failed)
            {
                return Err(ApiError::new(
                    ErrorCode::InvalidParameterException,
                    format!("The secret is already replicated to {region}."),
                ));
            }
            let scope = Scope {
                account_id: primary.account_id.clone(),
                region: region.clone(),
            };
            let mut replica = Replica {
                region,
                kms_key_id: requested.kms_key_id.clone().filter(|key| !key.is_empty()),
                status: ReplicaStatus::InSync,
                status_message: Some("Replication succeeded".to_owned()),
                last_accessed_day: None,
            };
            if let Some(occupant) = self.store.load_by_name(&scope, name).await? {
                // A replica of another secret is never overwritten: that secret owns it.
                if force && occupant.replica_view.is_none() && occupant.replicas.is_empty() {
                    plan.overwritten.push((occupant.id, occupant.revision));
                } else {
                    replica.status = ReplicaStatus::Failed;
                    replica.status_message = Some(name_exists(name, &replica.region));
                }
            }
            plan.replicas.push(replica);
        }
        Ok(plan)
    }

    pub async fn replicate_secret_to_regions(
        &self,
        principal: &Principal,
        input: ReplicateSecretToRegionsInput,
    ) -> Result<ReplicationOutput, ApiError> {
        let secret_id = checked_secret_id(input.secret_id)?;
        let regions = input.add_replica_regions.unwrap_or_default();
        let force = input.force_overwrite_replica_secret.unwrap_or(false);
        retry_on_conflict!({
            let before = self.find_writable(principal, &secret_id).await?;
            let plan = self
                .plan_replicas(
                    &before.scope,
                    &before.name,
                    &before.replicas,
                    &regions,
                    force,
                )
                .await?;
            let mut secret = before.clone();
            // A failed replica is retried by adding its region again: the new attempt takes
            // its place.
            for replica in plan.replicas {
                match secret
                    .replicas
                    .iter_mut()
                    .find(|r| r.region == replica.region)
                {
                    Some(failed) => *failed = replica,
                    None => secret.replicas.push(replica),
                }
            }
            if !self
                .save_replacing(&before, &secret, &[], &[], &plan.overwritten)
                .await?
            {
                return Ok(Attempt::Lost);
            }
            Ok(Attempt::Done(ReplicationOutput {
                arn: secret.arn.clone(),
                replication_status: replication_status(&secret),
            }))
        })
    }

    pub async fn remove_regions_from_replication(
        &self,
        principal: &Principal,
        input: RemoveRegionsFromReplicationInput,
    ) -> Result<ReplicationOutput, ApiError> {
        let secret_id = checked_secret_id(input.secret_id)?;
        let regions = input.remove_replica_regions.unwrap_or_default();
        retry_on_conflict!({
            let before = self.find_writable(principal, &secret_id).await?;
            // Regions the secret is not replicated to are ignored: removing is idempotent.
            let mut secret = before.clone();
            secret
                .replicas
                .retain(|replica| !regions.contains(&replica.region));
            if secret != before && !self.save(&before, &secret, &[]).await? {
                return Ok(Attempt::Lost);
            }
            Ok(Attempt::Done(ReplicationOutput {
                arn: secret.arn.clone(),
                replication_status: replication_status(&secret),
            }))
        })
    }

    pub async fn stop_replication_to_replica(
        &self,
        principal: &Principal,
        input: StopReplicationToReplicaInput,
    ) -> Result<StopReplicationToReplicaOutput, ApiError> {
        let secret_id = checked_secret_id(input.secret_id)?;
        retry_on_conflict!({
            let seen = self.find(principal, &secret_id).await?;
            let Some(view) = seen.replica_view.clone() else {
                return Err(ApiError::new(
                    ErrorCode::InvalidRequestException,
                    "Operation not permitted on a primary secret. Call must be made on a replica \
                     secret in a replica region.",
                ));
            };
            let mut primary = seen.clone();
            primary.replica_view = None;
            let before = primary.clone();
            let replica = primary.replica(&view.region).cloned();
            primary.replicas.retain(|r| r.region != view.region);
            // The replica becomes a secret of its own, with copies of every version, sealed
            // for its own ARN under its own region's key.
            let promoted_scope = Scope {
                account_id: before.scope.account_id.clone(),
                region: view.region.clone(),
            };
            let promoted_key_id = replica.as_ref().and_then(|r| r.kms_key_id.clone());
            let key = self
                .encryption_key(&promoted_scope, promoted_key_id.as_deref())
                .await?;
            let mut values: Vec<(String, StoredValue)> = Vec::new();
            for version in &before.versions {
                if let Some(stored) = self.store.load_value(before.id, &version.id).await? {
                    let value = self
                        .open_value(None, &before.arn, &version.id, stored)
                        .await?;
                    let sealed = self.seal_value(&key, &view.arn, &version.id, &value)?;
                    values.push((version.id.clone(), sealed));
                }
            }
            let promoted = Secret {
                id: 0,
                revision: 0,
                scope: promoted_scope,
                name: before.name.clone(),
                arn: view.arn.clone(),
                description: before.description.clone(),
                kms_key_id: promoted_key_id.clone(),
                secret_type: before.secret_type.clone(),
                tags: before.tags.clone(),
                created_at: before.created_at,
                last_changed_at: self.clock.now(),
                last_accessed_day: replica.as_ref().and_then(|r| r.last_accessed_day),
                deletion: None,
                resource_policy: before.resource_policy.clone(),
                rotation: before.rotation.clone(),
                replicas: Vec::new(),
                replica_view: None,
                versions: before
                    .versions
                    .iter()
                    .filter(|version| values.iter().any(|(id, _)| id == &version.id))
                    .map(|version| Version {
                        last_accessed_day: None,
                        kms_key_id: promoted_key_id.clone(),
                        ..version.clone()
                    })
                    .collect(),
            };
            let new_values: Vec<NewValue<'_>> = values
                .iter()
                .map(|(version_id, value)| NewValue { version_id, value })
                .collect();
            let changes = super::model::VersionChanges::between(&before, &primary);
            let write = SecretWrite {
                secret: &primary,
                changes: &changes,
                new_values: &[],
                rewrapped: &[],
                overwritten: &[],
            };
            match self.store.promote(write, &promoted, &new_values).await {
                Ok(_) => Ok(Attempt::Done(StopReplicationToReplicaOutput {
                    arn: view.arn.clone(),
                })),
                Err(StoreError::Conflict) => Ok(Attempt::Lost),
                Err(error) => Err(error.into()),
            }
        })
    }
}
