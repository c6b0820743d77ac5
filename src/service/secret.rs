//! CreateSecret, UpdateSecret, DescribeSecret, DeleteSecret, RestoreSecret, and the purge of
//! secrets whose recovery window has ended.

use std::collections::BTreeMap;

use super::model::{AWSCURRENT, Deletion, Secret, Tag, Version, VersionChanges};
use super::validate::{check_name, checked_secret_id, new_arn, parse_arn, token_for_value};
use super::value::{incoming_value, same_value, token_in_use};
use super::{Attempt, Service, marked_for_deletion, retry_on_conflict};
use crate::auth::Principal;
use crate::clock::Timestamp;
use crate::crypto::SecretValue;
use crate::protocol::types::{
    self, CreateSecretInput, CreateSecretOutput, DeleteSecretInput, DeleteSecretOutput,
    DescribeSecretInput, DescribeSecretOutput, RestoreSecretInput, RestoreSecretOutput,
    UpdateSecretInput, UpdateSecretOutput,
};
use crate::protocol::{ApiError, ErrorCode};
use crate::store::{NewValue, SecretWrite, StoreError, StoredValue};

/// Secrets purged per store query by the deletion job.
const PURGE_BATCH: usize = 100;

const MIN_RECOVERY_DAYS: i64 = 7;
const MAX_RECOVERY_DAYS: i64 = 30;

/// An empty `KmsKeyId` selects the managed key `aws/secretsmanager`, which is recorded as no key.
fn kms_key_reference(kms_key_id: String) -> Option<String> {
    Some(kms_key_id).filter(|key| !key.is_empty())
}

/// The value of a new version, paired with its id, as the store takes it.
fn new_values<'a>(
    version_id: Option<&'a str>,
    value: Option<&'a StoredValue>,
) -> Vec<NewValue<'a>> {
    version_id
        .zip(value)
        .map(|(version_id, value)| NewValue { version_id, value })
        .into_iter()
        .collect()
}

impl Service {
    pub async fn create_secret(
        &self,
        principal: &Principal,
        input: CreateSecretInput,
    ) -> Result<CreateSecretOutput, ApiError> {
        let name = input.name.unwrap_or_default();
        check_name(&name)?;
        let value = incoming_value(input.secret_string, input.secret_binary)?;
        let token = token_for_value(value.as_ref(), input.client_request_token.as_ref())?;
        for replica in input.add_replica_regions.iter().flatten() {
            let region = replica.region.as_deref().unwrap_or_default();
            if region.is_empty() || region == principal.scope.region {
                return Err(ApiError::new(
                    ErrorCode::InvalidParameterException,
                    "Invalid replica region.",
                ));
            }
        }
        // `ForceOverwriteReplicaSecret` alone (tools send `false` by default) asks for nothing.
        if input
            .add_replica_regions
            .as_ref()
            .is_some_and(|regions| !regions.is_empty())
        {
            return Err(ApiError::new(
                ErrorCode::InvalidRequestException,
                "Replication to other regions is not supported by this version of Coffer.",
            ));
        }
        let tags = input.tags.map(|tags| {
            tags.into_iter()
                .map(|tag| Tag {
                    key: tag.key.unwrap_or_default(),
                    value: tag.value.unwrap_or_default(),
                })
                .collect()
        });
        let now = self.clock.now();
        let scope = &principal.scope;
        let mut secret = Secret {
            id: 0,
            revision: 0,
            scope: scope.clone(),
            name: name.clone(),
            arn: new_arn(&scope.region, &scope.account_id, &name),
            description: input.description,
            kms_key_id: input.kms_key_id.and_then(kms_key_reference),
            secret_type: input.secret_type,
            tags,
            created_at: now,
            last_changed_at: now,
            last_accessed_day: None,
            deletion: None,
            versions: Vec::new(),
        };
        if let Some(token) = &token {
            let version = Version::new(token, now, secret.kms_key_id.clone());
            secret.add_version(version, &[AWSCURRENT.to_owned()], now)?;
        }
        let stored = value.as_ref().map(StoredValue::from_value);
        loop {
            let values = new_values(token.as_deref(), stored.as_ref());
            match self.store.create(&secret, &values).await {
                Ok(_) => break,
                Err(StoreError::ArnTaken) => {
                    secret.arn = new_arn(&scope.region, &scope.account_id, &name)
                }
                Err(StoreError::NameTaken) => {
                    let existing = self
                        .create_over_existing(principal, &name, token.as_deref(), value.as_ref())
                        .await?;
                    // `None`: the other secret was purged meanwhile, so try again.
                    if let Some(output) = existing {
                        return Ok(output);
                    }
                }
                Err(error) => return Err(error.into()),
            }
        }
        Ok(CreateSecretOutput {
            arn: secret.arn,
            name: secret.name,
            version_id: token,
            replication_status: None,
        })
    }

    /// CreateSecret found the name taken. A retry of the same create (same token, same value)
    /// succeeds without change; anything else is refused. `None` if the name is free again.
    async fn create_over_existing(
        &self,
        principal: &Principal,
        name: &str,
        token: Option<&str>,
        value: Option<&SecretValue>,
    ) -> Result<Option<CreateSecretOutput>, ApiError> {
        let Some(existing) = self.store.load_by_name(&principal.scope, name).await? else {
            return Ok(None);
        };
        if existing.is_pending_deletion() {
            return Err(ApiError::new(
                ErrorCode::InvalidRequestException,
                "You can't create this secret because a secret with this name is already scheduled for deletion.",
            ));
        }
        if let (Some(token), Some(value)) = (token, value)
            && existing.version(token).is_some()
        {
            if !same_value(self, &existing, token, value).await? {
                return Err(token_in_use(token, &existing));
            }
            return Ok(Some(CreateSecretOutput {
                arn: existing.arn,
                name: existing.name,
                version_id: Some(token.to_owned()),
                replication_status: None,
            }));
        }
        Err(ApiError::new(
            ErrorCode::ResourceExistsException,
            format!("The operation failed because the secret {name} already exists."),
        ))
    }

    pub async fn update_secret(
        &self,
        principal: &Principal,
        input: UpdateSecretInput,
    ) -> Result<UpdateSecretOutput, ApiError> {
        let secret_id = checked_secret_id(input.secret_id)?;
        let value = incoming_value(input.secret_string, input.secret_binary)?;
        let token = token_for_value(value.as_ref(), input.client_request_token.as_ref())?;
        let stored = value.as_ref().map(StoredValue::from_value);
        let kms_key_id = input.kms_key_id.map(kms_key_reference);
        retry_on_conflict!({
            let before = self.find_live(principal, &secret_id).await?;
            let mut secret = before.clone();
            let now = self.clock.now();
            if let (Some(token), Some(value)) = (&token, &value)
                && secret.version(token).is_some()
            {
                // A retry of a change that was made: success, and nothing moves (AWSCURRENT
                // may have moved on since, and must stay where it is).
                if !same_value(self, &secret, token, value).await? {
                    return Err(token_in_use(token, &secret));
                }
                return Ok(Attempt::Done(UpdateSecretOutput {
                    arn: secret.arn,
                    name: secret.name,
                    version_id: Some(token.clone()),
                }));
            }
            if let Some(description) = &input.description {
                secret.description = Some(description.clone());
            }
            if let Some(kms_key_id) = &kms_key_id {
                secret.kms_key_id = kms_key_id.clone();
            }
            if let Some(secret_type) = &input.secret_type {
                secret.secret_type = Some(secret_type.clone());
            }
            if let Some(token) = &token {
                let version = Version::new(token, now, secret.kms_key_id.clone());
                secret.add_version(version, &[AWSCURRENT.to_owned()], now)?;
            }
            if secret != before {
                secret.last_changed_at = now;
                let values = new_values(token.as_deref(), stored.as_ref());
                if !self.save(&before, &secret, &values).await? {
                    return Ok(Attempt::Lost);
                }
            }
            Ok(Attempt::Done(UpdateSecretOutput {
                arn: secret.arn,
                name: secret.name,
                version_id: token.clone(),
            }))
        })
    }

    pub async fn describe_secret(
        &self,
        principal: &Principal,
        input: DescribeSecretInput,
    ) -> Result<DescribeSecretOutput, ApiError> {
        let secret_id = checked_secret_id(input.secret_id)?;
        let secret = self.find(principal, &secret_id).await?;
        let versions_to_stages: BTreeMap<String, Vec<String>> = secret
            .versions
            .iter()
            .filter(|version| !version.stages.is_empty())
            .map(|version| (version.id.clone(), version.stages.clone()))
            .collect();
        let tags = secret.tags.map(|tags| {
            tags.into_iter()
                .map(|tag| types::Tag {
                    key: Some(tag.key),
                    value: Some(tag.value),
                })
                .collect()
        });
        Ok(DescribeSecretOutput {
            arn: secret.arn,
            name: secret.name,
            secret_type: secret.secret_type,
            description: secret
                .description
                .filter(|description| !description.is_empty()),
            kms_key_id: secret.kms_key_id,
            rotation_enabled: None,
            last_changed_date: Some(secret.last_changed_at),
            last_accessed_date: secret.last_accessed_day,
            deleted_date: secret.deletion.map(|deletion| deletion.requested_at),
            tags,
            version_ids_to_stages: (!versions_to_stages.is_empty()).then_some(versions_to_stages),
            created_date: Some(secret.created_at),
        })
    }

    pub async fn delete_secret(
        &self,
        principal: &Principal,
        input: DeleteSecretInput,
    ) -> Result<DeleteSecretOutput, ApiError> {
        let secret_id = checked_secret_id(input.secret_id)?;
        let force = input.force_delete_without_recovery.unwrap_or(false);
        if let Some(days) = input.recovery_window_in_days
            && !(MIN_RECOVERY_DAYS..=MAX_RECOVERY_DAYS).contains(&days)
        {
            return Err(ApiError::new(
                ErrorCode::InvalidParameterException,
                "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).",
            ));
        }
        if force && input.recovery_window_in_days.is_some() {
            return Err(ApiError::new(
                ErrorCode::InvalidParameterException,
                "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
            ));
        }
        let days = input.recovery_window_in_days.unwrap_or(MAX_RECOVERY_DAYS);
        retry_on_conflict!({
            let now = self.clock.now();
            let before = match self.find(principal, &secret_id).await {
                Ok(secret) => secret,
                // Forcing the deletion of a secret that does not exist is not an error.
                Err(error) if force && error.code() == ErrorCode::ResourceNotFoundException => {
                    return Ok(Attempt::Done(
                        self.deleted_nonexistent(principal, &secret_id, now),
                    ));
                }
                Err(error) => return Err(error),
            };
            if force {
                return match self.store.delete(before.id, before.revision).await {
                    Ok(()) => Ok(Attempt::Done(DeleteSecretOutput {
                        arn: before.arn,
                        name: before.name,
                        deletion_date: now,
                    })),
                    Err(StoreError::Conflict) => Ok(Attempt::Lost),
                    Err(error) => Err(error.into()),
                };
            }
            if before.is_pending_deletion() {
                return Err(marked_for_deletion());
            }
            let mut secret = before.clone();
            let deletion = Deletion {
                requested_at: now,
                purge_at: now.plus_days(days),
            };
            secret.deletion = Some(deletion);
            if !self.save(&before, &secret, &[]).await? {
                return Ok(Attempt::Lost);
            }
            Ok(Attempt::Done(DeleteSecretOutput {
                arn: secret.arn,
                name: secret.name,
                deletion_date: deletion.purge_at,
            }))
        })
    }

    /// The answer to a forced deletion of a secret that does not exist: AWS answers as if it
    /// had deleted it.
    fn deleted_nonexistent(
        &self,
        principal: &Principal,
        secret_id: &str,
        now: Timestamp,
    ) -> DeleteSecretOutput {
        let scope = &principal.scope;
        let (arn, name) = match parse_arn(secret_id) {
            Some(arn) => (secret_id.to_owned(), arn.resource.to_owned()),
            None => (
                new_arn(&scope.region, &scope.account_id, secret_id),
                secret_id.to_owned(),
            ),
        };
        DeleteSecretOutput {
            arn,
            name,
            deletion_date: now,
        }
    }

    pub async fn restore_secret(
        &self,
        principal: &Principal,
        input: RestoreSecretInput,
    ) -> Result<RestoreSecretOutput, ApiError> {
        let secret_id = checked_secret_id(input.secret_id)?;
        retry_on_conflict!({
            let before = self.find(principal, &secret_id).await?;
            let mut secret = before.clone();
            if secret.deletion.take().is_some() && !self.save(&before, &secret, &[]).await? {
                return Ok(Attempt::Lost);
            }
            Ok(Attempt::Done(RestoreSecretOutput {
                arn: secret.arn,
                name: secret.name,
                version_id: None,
            }))
        })
    }

    /// Purges every secret whose recovery window ended by now; returns how many it purged.
    /// A secret restored (or changed) meanwhile is left alone. Safe to run on several nodes at
    /// once: each purge is a delete conditional on the revision that was found due.
    pub async fn purge_due(&self) -> Result<usize, ApiError> {
        let now = self.clock.now();
        let mut purged = 0;
        loop {
            let due = self.store.due_for_purge(now, PURGE_BATCH).await?;
            let found = due.len();
            let mut purged_now = 0;
            for (secret_id, revision) in due {
                match self.store.delete(secret_id, revision).await {
                    Ok(()) => purged_now += 1,
                    Err(StoreError::Conflict) => {}
                    Err(error) => return Err(error.into()),
                }
            }
            purged += purged_now;
            // A short batch was the last; a batch where nothing could be purged would only be
            // found again.
            if found < PURGE_BATCH || purged_now == 0 {
                return Ok(purged);
            }
        }
    }

    /// Saves `after` if the secret is still at `before`'s revision. `false`: someone else
    /// saved first.
    pub(super) async fn save(
        &self,
        before: &Secret,
        after: &Secret,
        new_values: &[NewValue<'_>],
    ) -> Result<bool, ApiError> {
        let changes = VersionChanges::between(before, after);
        let write = SecretWrite {
            secret: after,
            changes: &changes,
            new_values,
        };
        match self.store.save(write).await {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }
}
