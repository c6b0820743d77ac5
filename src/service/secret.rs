//! CreateSecret, UpdateSecret, DescribeSecret, DeleteSecret, RestoreSecret, and the purge of
//! secrets whose recovery window has ended.

use super::model::{AWSCURRENT, Deletion, Secret, Tag, Version, VersionChanges};
use super::validate::{check_name, checked_secret_id, new_arn, parse_arn, token_for_value};
use super::value::{incoming_value, same_value, token_in_use};
use super::{Attempt, Service, marked_for_deletion, retry_on_conflict, versions_to_stages};
use crate::auth::Principal;
use crate::clock::Timestamp;
use crate::crypto::SecretValue;
use crate::protocol::types::{
    self, CreateSecretInput, CreateSecretOutput, DeleteSecretInput, DeleteSecretOutput,
    DescribeSecretInput, DescribeSecretOutput, RestoreSecretInput, RestoreSecretOutput,
    SecretMetadata, UpdateSecretInput, UpdateSecretOutput,
};
use crate::protocol::{ApiError, ErrorCode};
use crate::store::{NewValue, SecretWrite, StoreError, StoredValue};

/// What DescribeSecret and ListSecrets show of a secret, as seen from the caller's region.
pub(super) fn metadata_of(secret: &Secret) -> SecretMetadata {
    let tags = secret.tags.as_ref().map(|tags| {
        tags.iter()
            .map(|tag| types::Tag {
                key: Some(tag.key.clone()),
                value: Some(tag.value.clone()),
            })
            .collect()
    });
    let (kms_key_id, last_accessed_day) = match &secret.replica_view {
        Some(view) => secret
            .replica(&view.region)
            .map(|replica| (replica.kms_key_id.clone(), replica.last_accessed_day))
            .unwrap_or_default(),
        None => (secret.kms_key_id.clone(), secret.last_accessed_day),
    };
    let rotation = &secret.rotation;
    let rotation_configured = *rotation != Default::default();
    SecretMetadata {
        arn: secret.visible_arn().to_owned(),
        name: secret.name.clone(),
        secret_type: secret.secret_type.clone(),
        description: secret
            .description
            .clone()
            .filter(|description| !description.is_empty()),
        kms_key_id,
        rotation_enabled: rotation_configured.then_some(rotation.enabled),
        rotation_lambda_arn: rotation.lambda_arn.clone(),
        rotation_rules: rotation.rules.as_ref().map(|rules| types::RotationRules {
            automatically_after_days: rules.automatically_after_days,
            duration: rules.duration.clone(),
            schedule_expression: rules.schedule_expression.clone(),
        }),
        last_rotated_date: rotation
            .enabled
            .then_some(rotation.last_rotated_at)
            .flatten(),
        last_changed_date: Some(secret.last_changed_at),
        last_accessed_date: last_accessed_day,
        deleted_date: secret.deletion.map(|deletion| deletion.requested_at),
        next_rotation_date: rotation
            .enabled
            .then_some(rotation.next_rotation_at)
            .flatten(),
        tags,
        owning_service: super::listing::owning_service(secret).map(str::to_owned),
        created_date: Some(secret.created_at),
        primary_region: super::listing::primary_region(secret).map(str::to_owned),
    }
}

/// The replication status of a primary's replicas.
pub(super) fn replication_status(secret: &Secret) -> Vec<types::ReplicationStatus> {
    secret
        .replicas
        .iter()
        .map(|replica| types::ReplicationStatus {
            region: replica.region.clone(),
            kms_key_id: Some(
                replica
                    .kms_key_id
                    .clone()
                    .unwrap_or_else(|| "alias/aws/secretsmanager".to_owned()),
            ),
            status: replica.status.as_str().to_owned(),
            status_message: replica.status_message.clone(),
            last_accessed_date: replica.last_accessed_day,
        })
        .collect()
}

/// A new current value set by hand counts as a rotation: the next one is due a schedule after
/// it (AWS's `RotationRulesType` documentation).
pub(super) fn reschedule_rotation(secret: &mut Secret, now: Timestamp) {
    let rotation = &mut secret.rotation;
    let Some(rules) = rotation.rules.as_ref().filter(|_| rotation.enabled) else {
        return;
    };
    let input = super::rotation_rules::RotationRulesInput {
        automatically_after_days: rules.automatically_after_days,
        duration: rules.duration.clone(),
        schedule_expression: rules.schedule_expression.clone(),
    };
    if let Ok(schedule) = super::rotation_rules::parse(&input) {
        rotation.next_rotation_at = Some(schedule.next_rotation(now));
    }
}

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
        let tags = input.tags.map(|tags| {
            tags.into_iter()
                .map(|tag| Tag {
                    key: tag.key.unwrap_or_default(),
                    value: tag.value.unwrap_or_default(),
                })
                .collect::<Vec<_>>()
        });
        if let Some(tags) = &tags {
            super::tags::check_new_tags(tags)?;
        }
        let replica_regions = input.add_replica_regions.unwrap_or_default();
        let force_overwrite = input.force_overwrite_replica_secret.unwrap_or(false);
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
            resource_policy: None,
            rotation: Default::default(),
            replicas: Vec::new(),
            replica_view: None,
            versions: Vec::new(),
        };
        // On the new secret's ARN, with its name, tags and key as condition keys.
        self.authorize_call(principal, &secret.arn)?;
        if let Some(token) = &token {
            let version = Version::new(token, now, secret.kms_key_id.clone());
            secret.add_version(version, &[AWSCURRENT.to_owned()], now)?;
        }
        // A key named explicitly must be usable even before there is a value to seal.
        let key = match (&value, &secret.kms_key_id) {
            (None, None) => None,
            _ => Some(
                self.encryption_key(scope, secret.kms_key_id.as_deref())
                    .await?,
            ),
        };
        if let (Some(key), Some(_)) = (&key, &value) {
            self.authorize_sealing(principal, key, &secret.arn)?;
        }
        loop {
            let plan = self
                .plan_replicas(scope, &name, &[], &replica_regions, force_overwrite)
                .await?;
            secret.replicas = plan.replicas;
            // Sealed for this ARN (which changes if its random suffix collided).
            let stored = match (&key, &token, &value) {
                (Some(key), Some(token), Some(value)) => {
                    Some(self.seal_value(key, &secret.arn, token, value)?)
                }
                _ => None,
            };
            let values = new_values(token.as_deref(), stored.as_ref());
            match self.store.create(&secret, &values, &plan.overwritten).await {
                Ok(_) => break,
                Err(StoreError::ArnTaken) => {
                    secret.arn = new_arn(&scope.region, &scope.account_id, &name)
                }
                // A secret took a replica's place meanwhile (or was overwritten by another).
                Err(StoreError::Conflict) => {}
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
        let replication_status = (!secret.replicas.is_empty()).then(|| replication_status(&secret));
        Ok(CreateSecretOutput {
            arn: secret.arn,
            name: secret.name,
            version_id: token,
            replication_status,
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
        // A retry of this very create (never a replica, which no create here made).
        if let (Some(token), Some(value)) = (token, value)
            && existing.replica_view.is_none()
            && existing.version(token).is_some()
        {
            if !same_value(self, &existing, token, value).await? {
                return Err(token_in_use(token, &existing));
            }
            let replication_status =
                (!existing.replicas.is_empty()).then(|| replication_status(&existing));
            return Ok(Some(CreateSecretOutput {
                arn: existing.arn,
                name: existing.name,
                version_id: Some(token.to_owned()),
                replication_status,
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
        let kms_key_id = input.kms_key_id.map(kms_key_reference);
        retry_on_conflict!({
            let before = self.find_writable(principal, &secret_id).await?;
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
                reschedule_rotation(&mut secret, now);
            }
            let key = match (&value, &kms_key_id) {
                (None, None) => None,
                _ => Some(
                    self.encryption_key(&secret.scope, secret.kms_key_id.as_deref())
                        .await?,
                ),
            };
            let stored = match (&key, &token, &value) {
                (Some(key), Some(token), Some(value)) => {
                    self.authorize_sealing(principal, key, &secret.arn)?;
                    Some(self.seal_value(key, &secret.arn, token, value)?)
                }
                _ => None,
            };
            // A new KmsKeyId takes the labelled versions along (their data keys are
            // re-wrapped under it), if the caller may encrypt with it; older versions stay
            // readable under their own keys.
            let rewrapped = match (&key, &kms_key_id) {
                (Some(key), Some(_)) if self.may_reencrypt(principal, key, &secret.arn) => {
                    self.rewrap_labelled(&mut secret, key, token.as_deref())
                        .await?
                }
                _ => Vec::new(),
            };
            if secret != before || !rewrapped.is_empty() {
                secret.last_changed_at = now;
                let values = new_values(token.as_deref(), stored.as_ref());
                let rewrapped: Vec<NewValue<'_>> = rewrapped
                    .iter()
                    .map(|(version_id, value)| NewValue { version_id, value })
                    .collect();
                if !self
                    .save_replacing(&before, &secret, &values, &rewrapped, &[])
                    .await?
                {
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
        let stages = versions_to_stages(&secret);
        let replication_status = (secret.replica_view.is_none() && !secret.replicas.is_empty())
            .then(|| replication_status(&secret));
        Ok(DescribeSecretOutput {
            metadata: metadata_of(&secret),
            version_ids_to_stages: (!stages.is_empty()).then_some(stages),
            replication_status,
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
            super::ensure_primary(&before)?;
            if !before.replicas.is_empty() {
                let regions: Vec<&str> =
                    before.replicas.iter().map(|r| r.region.as_str()).collect();
                return Err(ApiError::new(
                    ErrorCode::InvalidParameterException,
                    format!(
                        "You can't delete secret {} that still has replica regions [{}].",
                        before.arn,
                        regions.join(", ")
                    ),
                ));
            }
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
            super::ensure_primary(&before)?;
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
        self.save_replacing(before, after, new_values, &[], &[])
            .await
    }

    /// Like [`Service::save`], also deleting the secrets that new replicas overwrite (id,
    /// revision). `false` too when a secret took a replica's place meanwhile.
    pub(super) async fn save_replacing(
        &self,
        before: &Secret,
        after: &Secret,
        new_values: &[NewValue<'_>],
        rewrapped: &[NewValue<'_>],
        overwritten: &[(super::model::SecretId, i64)],
    ) -> Result<bool, ApiError> {
        if after.replica_view.is_some() {
            return Err(ApiError::internal(
                "a replica's view of a secret was to be saved",
            ));
        }
        let changes = VersionChanges::between(before, after);
        let write = SecretWrite {
            secret: after,
            changes: &changes,
            new_values,
            rewrapped,
            overwritten,
        };
        match self.store.save(write).await {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict | StoreError::NameTaken) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }
}
