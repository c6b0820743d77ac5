//! The KMS API: the rules of keys, aliases, rotation and the cryptographic operations, as
//! AWS KMS keeps them for symmetric encryption keys. Inputs are typed (never HTTP); keys and
//! aliases are read and written through the [`Keyring`](super::Keyring) and the store.
//!
//! Changes of a key are "load, apply, save if nobody saved in between" like the changes of a
//! secret (see [`retry_on_conflict`]).

use rand::TryRngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::model::{KeyManager, KeyState, KmsAlias, KmsKeyRecord, alias_arn, key_arn};
use crate::auth::Principal;
use crate::clock::Timestamp;
use crate::crypto::SecretBytes;
use crate::crypto::envelope::KmsBlob;
use crate::protocol::kms::types::*;
use crate::protocol::{ApiError, ErrorCode};
use crate::service::model::Scope;
use crate::service::{Attempt, Service, retry_on_conflict};
use crate::store::StoreError;

/// The only key spec, usage, origin and algorithm Coffer's keys have.
pub const SYMMETRIC_DEFAULT: &str = "SYMMETRIC_DEFAULT";
pub const ENCRYPT_DECRYPT: &str = "ENCRYPT_DECRYPT";
pub const AWS_KMS: &str = "AWS_KMS";

/// The waiting period of ScheduleKeyDeletion: 7 to 30 days, 30 when not given.
pub const MIN_PENDING_WINDOW_DAYS: i64 = 7;
pub const MAX_PENDING_WINDOW_DAYS: i64 = 30;
pub const DEFAULT_PENDING_WINDOW_DAYS: i64 = 30;
/// The automatic rotation period when EnableKeyRotation names none.
pub const DEFAULT_ROTATION_PERIOD_DAYS: u32 = 365;
/// How many on-demand rotations a key may have.
pub const MAX_ON_DEMAND_ROTATIONS: usize = 25;
/// Page sizes when a listing names no `Limit`.
const DEFAULT_KEYS_LIMIT: usize = 100;
const DEFAULT_ALIASES_LIMIT: usize = 50;
/// How many tags a key may have.
const MAX_TAGS: usize = 50;
/// How many due keys the background job handles per pass.
const DUE_BATCH: usize = 100;

const ALIAS_PREFIX: &str = "alias/";
const RESERVED_ALIAS_PREFIX: &str = "alias/aws/";

/// What the background job did in one pass.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct KmsDueWork {
    /// Keys deleted because their waiting period ended.
    pub deleted: usize,
    /// Keys that got new material because their rotation date came.
    pub rotated: usize,
}

impl Service {
    pub async fn kms_create_key(
        &self,
        principal: &Principal,
        input: CreateKeyInput,
    ) -> Result<CreateKeyOutput, ApiError> {
        self.authorize_call(principal, "*")?;
        if input.key_spec.is_some() && input.customer_master_key_spec.is_some() {
            return Err(validation(
                "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. \
                 CustomerMasterKeySpec is deprecated.",
            ));
        }
        let spec = input
            .key_spec
            .as_deref()
            .or(input.customer_master_key_spec.as_deref())
            .unwrap_or(SYMMETRIC_DEFAULT);
        if spec != SYMMETRIC_DEFAULT {
            return Err(unsupported(format!(
                "KeySpec {spec} is not supported: this server makes only symmetric encryption \
                 keys (KeySpec {SYMMETRIC_DEFAULT}, KeyUsage {ENCRYPT_DECRYPT})."
            )));
        }
        let usage = input.key_usage.as_deref().unwrap_or(ENCRYPT_DECRYPT);
        if usage != ENCRYPT_DECRYPT {
            return Err(validation(format!(
                "KeyUsage {usage} is not compatible with KeySpec {spec}"
            )));
        }
        if let Some(origin) = input.origin.as_deref().filter(|o| *o != AWS_KMS) {
            return Err(unsupported(format!(
                "Origin {origin} is not supported: this server makes only keys whose material \
                 it generates (Origin {AWS_KMS})."
            )));
        }
        if input.custom_key_store_id.is_some() || input.xks_key_id.is_some() {
            return Err(unsupported("Custom key stores are not supported."));
        }
        if input.multi_region == Some(true) {
            return Err(unsupported("Multi-Region keys are not supported."));
        }
        let tags = key_tags(input.tags.unwrap_or_default())?;
        if let Some(policy) = &input.policy {
            check_policy(policy)?;
        }
        let mut record = self
            .keyring
            .new_key(
                &principal.scope,
                input.description.unwrap_or_default(),
                KeyManager::Customer,
                input.policy,
            )
            .map_err(ApiError::internal)?;
        record.tags = tags;
        self.store.create_kms_key(&record, None).await?;
        tracing::info!(key_id = %record.id, "created a KMS key");
        Ok(KeyMetadataOutput {
            key_metadata: key_metadata(&record),
        })
    }

    pub async fn kms_describe_key(
        &self,
        principal: &Principal,
        input: DescribeKeyInput,
    ) -> Result<DescribeKeyOutput, ApiError> {
        let record = self
            .kms_find(
                &principal.scope,
                input.key_id.as_deref().unwrap_or_default(),
            )
            .await?;
        self.kms_authorize(principal, &record)?;
        Ok(KeyMetadataOutput {
            key_metadata: key_metadata(&record),
        })
    }

    pub async fn kms_list_keys(
        &self,
        principal: &Principal,
        input: ListKeysInput,
    ) -> Result<ListKeysOutput, ApiError> {
        self.authorize_call(principal, "*")?;
        let limit = page_limit(input.limit, DEFAULT_KEYS_LIMIT);
        let after = match input.marker.as_deref() {
            None => None,
            Some(marker) => Some(Uuid::try_parse(marker).map_err(|_| invalid_marker())?),
        };
        let mut records = self
            .store
            .list_kms_keys(&principal.scope, after, limit + 1)
            .await?;
        let truncated = records.len() > limit;
        records.truncate(limit);
        let next_marker = truncated
            .then(|| records.last().map(|record| record.id.to_string()))
            .flatten();
        Ok(ListKeysOutput {
            keys: records
                .iter()
                .map(|record| KeyListEntry {
                    key_id: record.id.to_string(),
                    key_arn: record.arn(),
                })
                .collect(),
            next_marker,
            truncated,
        })
    }

    pub async fn kms_enable_key(
        &self,
        principal: &Principal,
        input: EnableKeyInput,
    ) -> Result<Empty, ApiError> {
        self.kms_change(principal, input.key_id, "EnableKey", |record, _| {
            ensure_not_pending_deletion(record)?;
            record.state = KeyState::Enabled;
            Ok(())
        })
        .await?;
        Ok(Empty {})
    }

    pub async fn kms_disable_key(
        &self,
        principal: &Principal,
        input: DisableKeyInput,
    ) -> Result<Empty, ApiError> {
        self.kms_change(principal, input.key_id, "DisableKey", |record, _| {
            ensure_not_pending_deletion(record)?;
            record.state = KeyState::Disabled;
            Ok(())
        })
        .await?;
        Ok(Empty {})
    }

    pub async fn kms_schedule_key_deletion(
        &self,
        principal: &Principal,
        input: ScheduleKeyDeletionInput,
    ) -> Result<ScheduleKeyDeletionOutput, ApiError> {
        let days = input
            .pending_window_in_days
            .unwrap_or(DEFAULT_PENDING_WINDOW_DAYS);
        let constraint = if days < MIN_PENDING_WINDOW_DAYS {
            Some(format!(
                "Member must have value greater than or equal to {MIN_PENDING_WINDOW_DAYS}"
            ))
        } else if days > MAX_PENDING_WINDOW_DAYS {
            Some(format!(
                "Member must have value less than or equal to {MAX_PENDING_WINDOW_DAYS}"
            ))
        } else {
            None
        };
        if let Some(constraint) = constraint {
            return Err(validation(format!(
                "1 validation error detected: Value '{days}' at 'pendingWindowInDays' failed \
                 to satisfy constraint: {constraint}"
            )));
        }
        let days = u32::try_from(days).map_err(ApiError::internal)?;
        let record = self
            .kms_change(
                principal,
                input.key_id,
                "ScheduleKeyDeletion",
                |record, now| {
                    ensure_not_pending_deletion(record)?;
                    record.state = KeyState::PendingDeletion;
                    record.deletion_at = Some(now.plus_days(i64::from(days)));
                    record.pending_window_days = Some(days);
                    Ok(())
                },
            )
            .await?;
        tracing::info!(key_id = %record.id, days, "scheduled the deletion of a KMS key");
        Ok(ScheduleKeyDeletionOutput {
            key_id: record.arn(),
            deletion_date: record.deletion_at.unwrap_or_default(),
            key_state: record.state.as_str().to_owned(),
            pending_window_in_days: days,
        })
    }

    pub async fn kms_cancel_key_deletion(
        &self,
        principal: &Principal,
        input: CancelKeyDeletionInput,
    ) -> Result<KeyIdOutput, ApiError> {
        let record = self
            .kms_change(principal, input.key_id, "CancelKeyDeletion", |record, _| {
                if record.state != KeyState::PendingDeletion {
                    return Err(ApiError::new(
                        ErrorCode::KMSInvalidStateException,
                        format!("{} is not pending deletion.", record.arn()),
                    ));
                }
                // A key whose deletion is cancelled comes back disabled, as in AWS.
                record.state = KeyState::Disabled;
                record.deletion_at = None;
                record.pending_window_days = None;
                Ok(())
            })
            .await?;
        Ok(KeyIdOutput {
            key_id: record.arn(),
        })
    }

    pub async fn kms_create_alias(
        &self,
        principal: &Principal,
        input: CreateAliasInput,
    ) -> Result<Empty, ApiError> {
        self.kms_put_alias(principal, input, true).await
    }

    pub async fn kms_update_alias(
        &self,
        principal: &Principal,
        input: UpdateAliasInput,
    ) -> Result<Empty, ApiError> {
        self.kms_put_alias(principal, input, false).await
    }

    async fn kms_put_alias(
        &self,
        principal: &Principal,
        input: AliasInput,
        create: bool,
    ) -> Result<Empty, ApiError> {
        let scope = &principal.scope;
        let name = input.alias_name.unwrap_or_default();
        check_alias_name(&name)?;
        let target = input.target_key_id.unwrap_or_default();
        if is_alias_reference(&target) {
            return Err(validation("Aliases must refer to keys. Not aliases"));
        }
        let action = if create { "CreateAlias" } else { "UpdateAlias" };
        let existing = self.store.load_kms_alias(scope, &name).await?;
        if !create && existing.is_none() {
            return Err(alias_not_found(scope, &name));
        }
        let record = self.kms_find(scope, &target).await?;
        self.kms_authorize(principal, &record)?;
        ensure_customer_managed(&record, principal, action)?;
        ensure_not_pending_deletion(&record)?;
        let now = self.clock.now();
        let alias = KmsAlias {
            account_id: scope.account_id.clone(),
            region: scope.region.clone(),
            created_at: existing.as_ref().map_or(now, |alias| alias.created_at),
            name,
            key_id: record.id,
            updated_at: now,
        };
        match self.store.put_kms_alias(&alias, create).await {
            Ok(()) => Ok(Empty {}),
            Err(StoreError::AliasConflict) if create => Err(ApiError::new(
                ErrorCode::AlreadyExistsException,
                format!("An alias with the name {} already exists", alias.arn()),
            )),
            Err(StoreError::AliasConflict) => Err(alias_not_found(scope, &alias.name)),
            // The target key was deleted in the meantime.
            Err(StoreError::Conflict) => Err(key_does_not_exist(&record.arn())),
            Err(error) => Err(error.into()),
        }
    }

    pub async fn kms_delete_alias(
        &self,
        principal: &Principal,
        input: DeleteAliasInput,
    ) -> Result<Empty, ApiError> {
        let scope = &principal.scope;
        let name = input.alias_name.unwrap_or_default();
        check_alias_name(&name)?;
        self.authorize_call(
            principal,
            &alias_arn(&scope.region, &scope.account_id, &name),
        )?;
        if !self.store.delete_kms_alias(scope, &name).await? {
            return Err(alias_not_found(scope, &name));
        }
        Ok(Empty {})
    }

    pub async fn kms_list_aliases(
        &self,
        principal: &Principal,
        input: ListAliasesInput,
    ) -> Result<ListAliasesOutput, ApiError> {
        self.authorize_call(principal, "*")?;
        let scope = &principal.scope;
        let limit = page_limit(input.limit, DEFAULT_ALIASES_LIMIT);
        let key = match input.key_id.as_deref() {
            None => None,
            Some(key_id) => Some(self.kms_find(scope, key_id).await?.id),
        };
        if let Some(marker) = input.marker.as_deref()
            && !marker.starts_with(ALIAS_PREFIX)
        {
            return Err(invalid_marker());
        }
        let mut aliases = self
            .store
            .list_kms_aliases(scope, key, input.marker.as_deref(), limit + 1)
            .await?;
        let truncated = aliases.len() > limit;
        aliases.truncate(limit);
        let next_marker = truncated
            .then(|| aliases.last().map(|alias| alias.name.clone()))
            .flatten();
        Ok(ListAliasesOutput {
            aliases: aliases
                .iter()
                .map(|alias| AliasListEntry {
                    alias_name: alias.name.clone(),
                    alias_arn: alias.arn(),
                    target_key_id: alias.key_id.to_string(),
                    creation_date: alias.created_at,
                    last_updated_date: alias.updated_at,
                })
                .collect(),
            next_marker,
            truncated,
        })
    }

    pub async fn kms_encrypt(
        &self,
        principal: &Principal,
        input: EncryptInput,
    ) -> Result<EncryptOutput, ApiError> {
        let record = self
            .kms_find(
                &principal.scope,
                input.key_id.as_deref().unwrap_or_default(),
            )
            .await?;
        self.kms_authorize(principal, &record)?;
        ensure_usable(&record)?;
        ensure_algorithm(input.encryption_algorithm.as_deref())?;
        ensure_not_dry_run(input.dry_run)?;
        let plaintext = input.plaintext.unwrap_or_default();
        let context = input.encryption_context.unwrap_or_default();
        let blob = self.kms_encrypt_under(&record, plaintext.expose(), &context)?;
        Ok(EncryptOutput {
            ciphertext_blob: blob.encode(),
            key_id: record.arn(),
            encryption_algorithm: SYMMETRIC_DEFAULT.to_owned(),
        })
    }

    pub async fn kms_decrypt(
        &self,
        principal: &Principal,
        input: DecryptInput,
    ) -> Result<DecryptOutput, ApiError> {
        let blob = decode_blob(input.ciphertext_blob.as_deref().unwrap_or_default())?;
        let record = self
            .kms_blob_key(&principal.scope, &blob, input.key_id.as_deref())
            .await?;
        self.kms_authorize(principal, &record)?;
        ensure_usable(&record)?;
        ensure_algorithm(input.encryption_algorithm.as_deref())?;
        ensure_not_dry_run(input.dry_run)?;
        let context = input.encryption_context.unwrap_or_default();
        let plaintext = self.kms_decrypt_with(&record, &blob, &context)?;
        Ok(DecryptOutput {
            key_id: record.arn(),
            plaintext: SecretBytes::new(plaintext.to_vec()),
            encryption_algorithm: SYMMETRIC_DEFAULT.to_owned(),
            key_material_id: material_id(record.id, blob.key_ref().material_version),
        })
    }

    pub async fn kms_generate_data_key(
        &self,
        principal: &Principal,
        input: GenerateDataKeyInput,
    ) -> Result<GenerateDataKeyOutput, ApiError> {
        let (record, plaintext, blob) = self.kms_data_key(principal, input).await?;
        Ok(GenerateDataKeyOutput {
            ciphertext_blob: blob.encode(),
            plaintext: SecretBytes::new(plaintext.to_vec()),
            key_id: record.arn(),
            key_material_id: material_id(record.id, blob.key_ref().material_version),
        })
    }

    pub async fn kms_generate_data_key_without_plaintext(
        &self,
        principal: &Principal,
        input: GenerateDataKeyWithoutPlaintextInput,
    ) -> Result<GenerateDataKeyWithoutPlaintextOutput, ApiError> {
        let (record, _plaintext, blob) = self.kms_data_key(principal, input).await?;
        Ok(GenerateDataKeyWithoutPlaintextOutput {
            ciphertext_blob: blob.encode(),
            key_id: record.arn(),
            key_material_id: material_id(record.id, blob.key_ref().material_version),
        })
    }

    pub async fn kms_re_encrypt(
        &self,
        principal: &Principal,
        input: ReEncryptInput,
    ) -> Result<ReEncryptOutput, ApiError> {
        let scope = &principal.scope;
        let blob = decode_blob(input.ciphertext_blob.as_deref().unwrap_or_default())?;
        let source = self
            .kms_blob_key(scope, &blob, input.source_key_id.as_deref())
            .await?;
        self.authorize_key(principal, "kms:ReEncryptFrom", &source)?;
        ensure_usable(&source)?;
        ensure_algorithm(input.source_encryption_algorithm.as_deref())?;
        let destination = self
            .kms_find(
                scope,
                input.destination_key_id.as_deref().unwrap_or_default(),
            )
            .await?;
        self.authorize_key(principal, "kms:ReEncryptTo", &destination)?;
        ensure_usable(&destination)?;
        ensure_algorithm(input.destination_encryption_algorithm.as_deref())?;
        ensure_not_dry_run(input.dry_run)?;
        let source_context = input.source_encryption_context.unwrap_or_default();
        let plaintext = self.kms_decrypt_with(&source, &blob, &source_context)?;
        let destination_context = input.destination_encryption_context.unwrap_or_default();
        let new_blob = self.kms_encrypt_under(&destination, &plaintext, &destination_context)?;
        Ok(ReEncryptOutput {
            ciphertext_blob: new_blob.encode(),
            source_key_id: source.arn(),
            key_id: destination.arn(),
            source_encryption_algorithm: SYMMETRIC_DEFAULT.to_owned(),
            destination_encryption_algorithm: SYMMETRIC_DEFAULT.to_owned(),
            source_key_material_id: material_id(source.id, blob.key_ref().material_version),
            destination_key_material_id: material_id(
                destination.id,
                new_blob.key_ref().material_version,
            ),
        })
    }

    pub async fn kms_enable_key_rotation(
        &self,
        principal: &Principal,
        input: EnableKeyRotationInput,
    ) -> Result<Empty, ApiError> {
        let period = match input.rotation_period_in_days {
            Some(days) => u32::try_from(days).map_err(ApiError::internal)?,
            None => DEFAULT_ROTATION_PERIOD_DAYS,
        };
        self.kms_change(
            principal,
            input.key_id,
            "EnableKeyRotation",
            |record, now| {
                ensure_usable(record)?;
                if record.rotation_period_days != Some(period) || record.next_rotation_at.is_none()
                {
                    record.rotation_period_days = Some(period);
                    record.next_rotation_at = Some(now.plus_days(i64::from(period)));
                }
                Ok(())
            },
        )
        .await?;
        Ok(Empty {})
    }

    pub async fn kms_disable_key_rotation(
        &self,
        principal: &Principal,
        input: DisableKeyRotationInput,
    ) -> Result<Empty, ApiError> {
        self.kms_change(
            principal,
            input.key_id,
            "DisableKeyRotation",
            |record, _| {
                ensure_usable(record)?;
                record.rotation_period_days = None;
                record.next_rotation_at = None;
                Ok(())
            },
        )
        .await?;
        Ok(Empty {})
    }

    pub async fn kms_get_key_rotation_status(
        &self,
        principal: &Principal,
        input: GetKeyRotationStatusInput,
    ) -> Result<GetKeyRotationStatusOutput, ApiError> {
        let record = self
            .kms_find(
                &principal.scope,
                input.key_id.as_deref().unwrap_or_default(),
            )
            .await?;
        self.kms_authorize(principal, &record)?;
        ensure_not_pending_deletion(&record)?;
        let enabled = record.rotation_period_days.is_some();
        Ok(GetKeyRotationStatusOutput {
            key_rotation_enabled: enabled,
            key_id: record.arn(),
            rotation_period_in_days: record.rotation_period_days,
            next_rotation_date: record.next_rotation_at.filter(|_| enabled),
            // On-demand rotations complete within the request, so none is ever in progress.
            on_demand_rotation_start_date: None,
        })
    }

    pub async fn kms_rotate_key_on_demand(
        &self,
        principal: &Principal,
        input: RotateKeyOnDemandInput,
    ) -> Result<KeyIdOutput, ApiError> {
        let keyring = &self.keyring;
        let record = self
            .kms_change(principal, input.key_id, "RotateKeyOnDemand", |record, now| {
                ensure_usable(record)?;
                let done = record.materials.iter().filter(|m| m.on_demand).count();
                if done >= MAX_ON_DEMAND_ROTATIONS {
                    return Err(ApiError::new(
                        ErrorCode::LimitExceededException,
                        format!(
                            "The on-demand rotations limit has been reached for the given keyId. \
                             No more on-demand rotations can be performed for this key: {}",
                            record.arn()
                        ),
                    ));
                }
                keyring
                    .add_material(record, now, true)
                    .map_err(ApiError::internal)?;
                record.on_demand_rotation_at = Some(now);
                Ok(())
            })
            .await?;
        tracing::info!(key_id = %record.id, "rotated a KMS key on demand");
        Ok(KeyIdOutput {
            key_id: record.arn(),
        })
    }

    /// The background work of KMS keys: deletes the keys whose waiting period has ended and
    /// adds material to the keys whose rotation date has come. Idempotent; safe on several
    /// nodes (every change is a compare-and-swap; a lost race is left to the next pass).
    pub async fn kms_due(&self) -> Result<KmsDueWork, ApiError> {
        let now = self.clock.now();
        let mut work = KmsDueWork::default();
        for id in self.store.kms_keys_due(now, DUE_BATCH).await? {
            let Some(mut record) = self.store.load_kms_key(id).await? else {
                continue;
            };
            if record.state == KeyState::PendingDeletion {
                if record.deletion_at.is_some_and(|at| at <= now) {
                    match self.keyring.delete(record.id, record.revision).await {
                        Ok(()) => {
                            tracing::info!(key_id = %record.id, "deleted a KMS key whose waiting period ended");
                            work.deleted += 1;
                        }
                        Err(StoreError::Conflict) => {}
                        Err(error) => return Err(error.into()),
                    }
                }
                // A key pending deletion is not rotated.
                continue;
            }
            let (Some(period), Some(next)) = (record.rotation_period_days, record.next_rotation_at)
            else {
                continue;
            };
            // A disabled key is not rotated; it is once enabled again, if its date has passed.
            if next > now || record.state != KeyState::Enabled {
                continue;
            }
            self.keyring
                .add_material(&mut record, now, false)
                .map_err(ApiError::internal)?;
            let mut following = next.plus_days(i64::from(period));
            if following <= now {
                following = now.plus_days(i64::from(period));
            }
            record.next_rotation_at = Some(following);
            match self.keyring.save(&record).await {
                Ok(_) => {
                    tracing::info!(key_id = %record.id, "rotated a KMS key on its schedule");
                    work.rotated += 1;
                }
                Err(StoreError::Conflict) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(work)
    }

    /// Whether `principal` may do the call's action with `record`: its key policy, and the
    /// caller's identity policies if the key policy lets them.
    fn kms_authorize(&self, principal: &Principal, record: &KmsKeyRecord) -> Result<(), ApiError> {
        self.authorize_key(principal, principal.call.action(), record)
    }

    /// The key `key_id` names in `scope`, fresh from the store, or AWS's NotFoundException.
    pub(crate) async fn kms_find(
        &self,
        scope: &Scope,
        key_id: &str,
    ) -> Result<KmsKeyRecord, ApiError> {
        if let Some(error) = malformed_key_id(scope, key_id) {
            return Err(error);
        }
        match self.keyring.find(scope, key_id).await? {
            Some(record) => Ok(record),
            None => Err(not_found(scope, key_id)),
        }
    }

    /// Applies `apply` to the key `key_id` names, against its latest saved state, and saves
    /// it; re-applies it when another writer saved the key first. A key AWS manages is
    /// refused (its key policy grants no such `action`).
    async fn kms_change(
        &self,
        principal: &Principal,
        key_id: Option<String>,
        action: &str,
        mut apply: impl FnMut(&mut KmsKeyRecord, Timestamp) -> Result<(), ApiError>,
    ) -> Result<KmsKeyRecord, ApiError> {
        let scope = &principal.scope;
        let key_id = key_id.unwrap_or_default();
        let found = self.kms_find(scope, &key_id).await?;
        self.kms_authorize(principal, &found)?;
        let id = found.id;
        retry_on_conflict!({
            let Some(mut record) = self
                .store
                .load_kms_key(id)
                .await?
                .filter(|record| record.in_scope(scope))
            else {
                return Err(key_does_not_exist(&key_arn(
                    &scope.region,
                    &scope.account_id,
                    id,
                )));
            };
            ensure_customer_managed(&record, principal, action)?;
            apply(&mut record, self.clock.now())?;
            match self.keyring.save(&record).await {
                Ok(saved) => Ok(Attempt::Done(saved)),
                Err(StoreError::Conflict) => Ok(Attempt::Lost),
                Err(error) => Err(error.into()),
            }
        })
    }

    /// The key that made `blob`, checked against the `KeyId` the caller named (if any).
    async fn kms_blob_key(
        &self,
        scope: &Scope,
        blob: &KmsBlob,
        named: Option<&str>,
    ) -> Result<KmsKeyRecord, ApiError> {
        let id = blob.key_ref().key_id;
        if let Some(named) = named {
            let record = self.kms_find(scope, named).await?;
            if record.id != id {
                return Err(ApiError::new(
                    ErrorCode::IncorrectKeyException,
                    "The key ID in the request does not identify a CMK that can perform this \
                     operation.",
                ));
            }
            return Ok(record);
        }
        match self.keyring.record_for_read(id).await? {
            Some(record) if record.in_scope(scope) => Ok((*record).clone()),
            _ => Err(key_does_not_exist(&key_arn(
                &scope.region,
                &scope.account_id,
                id,
            ))),
        }
    }

    async fn kms_data_key(
        &self,
        principal: &Principal,
        input: GenerateDataKeyInput,
    ) -> Result<(KmsKeyRecord, Zeroizing<Vec<u8>>, KmsBlob), ApiError> {
        let length = match (input.number_of_bytes, input.key_spec.as_deref()) {
            (Some(bytes), None) => usize::try_from(bytes).map_err(ApiError::internal)?,
            (None, Some("AES_128")) => 16,
            (None, Some(_)) => 32,
            _ => {
                return Err(validation(
                    "Please specify either number of bytes or key spec.",
                ));
            }
        };
        let record = self
            .kms_find(
                &principal.scope,
                input.key_id.as_deref().unwrap_or_default(),
            )
            .await?;
        self.kms_authorize(principal, &record)?;
        ensure_usable(&record)?;
        ensure_not_dry_run(input.dry_run)?;
        let mut plaintext = Zeroizing::new(vec![0u8; length]);
        rand::rngs::OsRng
            .try_fill_bytes(&mut plaintext)
            .map_err(ApiError::internal)?;
        let context = input.encryption_context.unwrap_or_default();
        let blob = self.kms_encrypt_under(&record, &plaintext, &context)?;
        Ok((record, plaintext, blob))
    }

    fn kms_encrypt_under(
        &self,
        record: &KmsKeyRecord,
        plaintext: &[u8],
        context: &EncryptionContext,
    ) -> Result<KmsBlob, ApiError> {
        let key = self
            .keyring
            .current_material(record)
            .map_err(ApiError::internal)?;
        key.encrypt(plaintext, context).map_err(ApiError::internal)
    }

    fn kms_decrypt_with(
        &self,
        record: &KmsKeyRecord,
        blob: &KmsBlob,
        context: &EncryptionContext,
    ) -> Result<Zeroizing<Vec<u8>>, ApiError> {
        let version = blob.key_ref().material_version;
        if record.material(version).is_none() {
            return Err(invalid_ciphertext());
        }
        let key = self
            .keyring
            .material(record, version)
            .map_err(ApiError::internal)?;
        key.decrypt(blob, context).map_err(|error| {
            tracing::debug!(%error, "a KMS ciphertext did not decrypt");
            invalid_ciphertext()
        })
    }
}

/// What DescribeKey shows of a key.
pub fn key_metadata(record: &KmsKeyRecord) -> KeyMetadata {
    KeyMetadata {
        aws_account_id: record.account_id.clone(),
        key_id: record.id.to_string(),
        arn: record.arn(),
        creation_date: record.created_at,
        enabled: record.state == KeyState::Enabled,
        description: record.description.clone(),
        key_usage: ENCRYPT_DECRYPT.to_owned(),
        key_state: record.state.as_str().to_owned(),
        deletion_date: record
            .deletion_at
            .filter(|_| record.state == KeyState::PendingDeletion),
        origin: AWS_KMS.to_owned(),
        key_manager: match record.manager {
            KeyManager::Aws => "AWS",
            KeyManager::Customer => "CUSTOMER",
        }
        .to_owned(),
        customer_master_key_spec: SYMMETRIC_DEFAULT.to_owned(),
        key_spec: SYMMETRIC_DEFAULT.to_owned(),
        encryption_algorithms: vec![SYMMETRIC_DEFAULT.to_owned()],
        multi_region: false,
        current_key_material_id: record
            .current_material()
            .map(|material| material_id(record.id, material.version)),
    }
}

/// The id KMS shows for one material version of a key: 64 hex digits, derived from the key
/// id and the version (it names the material without revealing anything of it).
pub fn material_id(key_id: Uuid, version: u32) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"coffer.kms-key-material-id\0");
    hasher.update(key_id.as_bytes());
    hasher.update(version.to_be_bytes());
    hex::encode(hasher.finalize())
}

fn validation(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::ValidationException, message)
}

fn unsupported(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::UnsupportedOperationException, message)
}

fn invalid_marker() -> ApiError {
    ApiError::new(ErrorCode::InvalidMarkerException, "Invalid marker")
}

fn invalid_ciphertext() -> ApiError {
    // AWS says nothing more about a ciphertext that does not decrypt.
    ApiError::new(ErrorCode::InvalidCiphertextException, "")
}

fn key_does_not_exist(arn: &str) -> ApiError {
    ApiError::new(
        ErrorCode::NotFoundException,
        format!("Key '{arn}' does not exist"),
    )
}

fn alias_not_found(scope: &Scope, name: &str) -> ApiError {
    ApiError::new(
        ErrorCode::NotFoundException,
        format!(
            "Alias {} is not found.",
            alias_arn(&scope.region, &scope.account_id, name)
        ),
    )
}

/// Whether a `KeyId` names an alias (by name or ARN).
fn is_alias_reference(key_id: &str) -> bool {
    key_id.starts_with(ALIAS_PREFIX) || (key_id.starts_with("arn:") && key_id.contains(":alias/"))
}

/// A key id is a UUID in its hyphenated form, as KMS prints it.
fn is_key_id(value: &str) -> bool {
    value.len() == 36 && Uuid::try_parse(value).is_ok()
}

/// AWS's answer to a `KeyId` that cannot name a key at all, before any lookup.
fn malformed_key_id(scope: &Scope, key_id: &str) -> Option<ApiError> {
    if let Some(rest) = key_id.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let [_partition, service, region, _account, resource] = parts.as_slice() else {
            return Some(ApiError::new(
                ErrorCode::NotFoundException,
                format!("Invalid arn {key_id}"),
            ));
        };
        if *service != "kms" {
            return Some(ApiError::new(
                ErrorCode::NotFoundException,
                format!("Invalid arn {key_id}"),
            ));
        }
        if *region != scope.region {
            return Some(ApiError::new(
                ErrorCode::NotFoundException,
                format!("Invalid arn {region}"),
            ));
        }
        if let Some(id) = resource.strip_prefix("key/")
            && !is_key_id(id)
        {
            return Some(ApiError::new(
                ErrorCode::NotFoundException,
                format!("Invalid keyId '{id}'"),
            ));
        }
        if !resource.starts_with("key/") && !resource.starts_with(ALIAS_PREFIX) {
            return Some(ApiError::new(
                ErrorCode::NotFoundException,
                format!("Invalid arn {key_id}"),
            ));
        }
        return None;
    }
    if key_id.starts_with(ALIAS_PREFIX) || is_key_id(key_id) {
        return None;
    }
    Some(ApiError::new(
        ErrorCode::NotFoundException,
        format!("Invalid keyId '{key_id}'"),
    ))
}

/// AWS's answer to a well-formed `KeyId` that names no key here.
fn not_found(scope: &Scope, key_id: &str) -> ApiError {
    if key_id.starts_with("arn:") {
        if key_id.contains(":alias/") {
            return ApiError::new(
                ErrorCode::NotFoundException,
                format!("Alias {key_id} is not found."),
            );
        }
        return key_does_not_exist(key_id);
    }
    if key_id.starts_with(ALIAS_PREFIX) {
        return alias_not_found(scope, key_id);
    }
    key_does_not_exist(&format!(
        "arn:aws:kms:{}:{}:key/{key_id}",
        scope.region, scope.account_id
    ))
}

/// Encrypt, Decrypt, GenerateDataKey*, ReEncrypt and rotation need an enabled key.
fn ensure_usable(record: &KmsKeyRecord) -> Result<(), ApiError> {
    match record.state {
        KeyState::Enabled => Ok(()),
        KeyState::Disabled => Err(ApiError::new(
            ErrorCode::DisabledException,
            format!("{} is disabled.", record.arn()),
        )),
        KeyState::PendingDeletion => Err(pending_deletion(record)),
    }
}

fn ensure_not_pending_deletion(record: &KmsKeyRecord) -> Result<(), ApiError> {
    if record.state == KeyState::PendingDeletion {
        return Err(pending_deletion(record));
    }
    Ok(())
}

fn pending_deletion(record: &KmsKeyRecord) -> ApiError {
    ApiError::new(
        ErrorCode::KMSInvalidStateException,
        format!("{} is pending deletion.", record.arn()),
    )
}

/// A key AWS manages cannot be changed by its account: its key policy grants only its use
/// and reading its metadata, so AWS answers AccessDeniedException.
fn ensure_customer_managed(
    record: &KmsKeyRecord,
    principal: &Principal,
    action: &str,
) -> Result<(), ApiError> {
    if record.manager == KeyManager::Customer {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::AccessDeniedException,
        format!(
            "User: {} is not authorized to perform: kms:{action} on resource: {} because no \
             resource-based policy allows the kms:{action} action",
            principal.access_key_id,
            record.arn()
        ),
    ))
}

/// Symmetric keys encrypt with `SYMMETRIC_DEFAULT` only.
fn ensure_algorithm(algorithm: Option<&str>) -> Result<(), ApiError> {
    match algorithm {
        None | Some(SYMMETRIC_DEFAULT) => Ok(()),
        Some(other) => Err(ApiError::new(
            ErrorCode::InvalidKeyUsageException,
            format!("Algorithm {other} is incompatible with key spec {SYMMETRIC_DEFAULT}."),
        )),
    }
}

fn ensure_not_dry_run(dry_run: Option<bool>) -> Result<(), ApiError> {
    if dry_run == Some(true) {
        return Err(ApiError::new(
            ErrorCode::DryRunOperationException,
            "The request would have succeeded, but the DryRun option is set.",
        ));
    }
    Ok(())
}

fn decode_blob(bytes: &[u8]) -> Result<KmsBlob, ApiError> {
    KmsBlob::decode(bytes).map_err(|_| invalid_ciphertext())
}

/// The rules of an alias name beyond the model's pattern.
fn check_alias_name(name: &str) -> Result<(), ApiError> {
    if !name.starts_with(ALIAS_PREFIX) {
        return Err(validation(
            "Alias must start with the prefix \"alias/\". Please see \
             https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html",
        ));
    }
    if name.starts_with(RESERVED_ALIAS_PREFIX) {
        return Err(ApiError::new(
            ErrorCode::NotAuthorizedException,
            "Aliases that begin with alias/aws/ are reserved for AWS managed keys.",
        ));
    }
    if name.contains(':') {
        return Err(validation(format!(
            "{name} contains invalid characters for an alias"
        )));
    }
    if name.len() == ALIAS_PREFIX.len() {
        return Err(ApiError::new(
            ErrorCode::InvalidAliasNameException,
            "Alias name must have at least one character after the prefix alias/.",
        ));
    }
    Ok(())
}

/// A key's tags, checked as KMS checks them.
fn key_tags(tags: Vec<KmsTag>) -> Result<Vec<(String, String)>, ApiError> {
    if tags.len() > MAX_TAGS {
        return Err(ApiError::new(ErrorCode::TagException, "Too many tags"));
    }
    let mut out: Vec<(String, String)> = Vec::with_capacity(tags.len());
    for tag in tags {
        let key = tag.tag_key.unwrap_or_default();
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(ApiError::new(
                ErrorCode::TagException,
                "Tags beginning with aws: are reserved",
            ));
        }
        if out.iter().any(|(existing, _)| *existing == key) {
            return Err(ApiError::new(ErrorCode::TagException, "Duplicate tag keys"));
        }
        out.push((key, tag.tag_value.unwrap_or_default()));
    }
    Ok(out)
}

/// A key policy must be a JSON object, and a policy document.
fn check_policy(policy: &str) -> Result<(), ApiError> {
    // Every call on the key evaluates it: it must be a policy, not only JSON.
    match serde_json::from_str::<serde_json::Value>(policy) {
        Ok(serde_json::Value::Object(_))
            if crate::policy::parse(policy, crate::policy::PolicyKind::Resource).is_ok() =>
        {
            Ok(())
        }
        _ => Err(ApiError::new(
            ErrorCode::MalformedPolicyDocumentException,
            "The key policy is not a valid JSON policy document.",
        )),
    }
}

fn page_limit(limit: Option<i64>, default: usize) -> usize {
    limit
        .and_then(|limit| usize::try_from(limit).ok())
        .unwrap_or(default)
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope {
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
        }
    }

    fn not_found_message(key_id: &str) -> String {
        let scope = scope();
        let error = malformed_key_id(&scope, key_id).unwrap_or_else(|| not_found(&scope, key_id));
        assert_eq!(error.code(), ErrorCode::NotFoundException);
        error.message().to_owned()
    }

    #[test]
    fn missing_keys_are_named_as_kms_names_them() {
        let id = "0a1b2c3d-0000-4000-8000-000000000001";
        assert_eq!(
            not_found_message(id),
            format!("Key 'arn:aws:kms:us-east-1:123456789012:key/{id}' does not exist")
        );
        assert_eq!(
            not_found_message("fake-key-id"),
            "Invalid keyId 'fake-key-id'"
        );
        assert_eq!(
            not_found_message("134f2428cec14b25a1ae9048164dba47"),
            "Invalid keyId '134f2428cec14b25a1ae9048164dba47'"
        );
        assert_eq!(
            not_found_message(&format!("arn:aws:kms:eu-west-1:123456789012:key/{id}")),
            "Invalid arn eu-west-1"
        );
        assert_eq!(
            not_found_message("alias/nothing"),
            "Alias arn:aws:kms:us-east-1:123456789012:alias/nothing is not found."
        );
    }

    #[test]
    fn alias_names_follow_kms_rules() {
        let code = |name: &str| check_alias_name(name).err().map(|e| e.code());
        assert_eq!(code("alias/app"), None);
        assert_eq!(code("app"), Some(ErrorCode::ValidationException));
        assert_eq!(
            code("alias/aws/mine"),
            Some(ErrorCode::NotAuthorizedException)
        );
        assert_eq!(code("alias/a:b"), Some(ErrorCode::ValidationException));
        assert_eq!(code("alias/"), Some(ErrorCode::InvalidAliasNameException));
    }

    #[test]
    fn tags_follow_kms_rules() {
        let tag = |key: &str| KmsTag {
            tag_key: Some(key.into()),
            tag_value: Some("v".into()),
        };
        assert!(key_tags(vec![tag("a"), tag("b")]).is_ok());
        let message = |tags| key_tags(tags).err().map(|e| e.message().to_owned());
        assert_eq!(
            message(vec![tag("AWS:x")]).as_deref(),
            Some("Tags beginning with aws: are reserved")
        );
        assert_eq!(
            message(vec![tag("a"), tag("a")]).as_deref(),
            Some("Duplicate tag keys")
        );
        assert_eq!(
            message((0..51).map(|i| tag(&i.to_string())).collect()).as_deref(),
            Some("Too many tags")
        );
    }

    #[test]
    fn material_ids_are_64_hex_digits_per_version() {
        let id = Uuid::new_v4();
        let first = material_id(id, 1);
        assert_eq!(first.len(), 64);
        assert!(first.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(first, material_id(id, 2));
    }
}
