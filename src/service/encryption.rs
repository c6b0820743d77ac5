//! Encryption at rest of secret values: which KMS key a secret's new versions are sealed
//! under, sealing and opening a version's value, and re-wrapping versions under another key.
//!
//! Every version gets a fresh data key (KMS `GenerateDataKey` semantics) from the secret's
//! KMS key; the value is sealed with AES-256-GCM under it, with the encryption context
//! `{"SecretARN": <the secret's ARN>, "SecretVersionId": <version id>}` bound as associated
//! data. The store keeps the sealed record (the wrapped data key names the KMS key and its
//! material version), so reading a version needs no other metadata: the record says which
//! key opens it, and a record moved to another version or secret does not open.

use std::sync::Arc;

use super::Service;
use super::kms::model::{KeyState, KmsKeyRecord};
use super::model::{AWSCURRENT, AWSPENDING, AWSPREVIOUS, Scope, Secret};
use crate::auth::Principal;
use crate::crypto::envelope::{
    SealedValue, open_secret_value, seal_secret_value, secret_version_context,
};
use crate::crypto::{CryptoError, SecretValue};
use crate::protocol::{ApiError, ErrorCode};
use crate::store::{NewValue, StoredValue};

const GENERATE_DATA_KEY: &str = "kms:GenerateDataKey";
const DECRYPT: &str = "kms:Decrypt";
const ENCRYPT: &str = "kms:Encrypt";

/// The labels whose versions follow the secret to a new KMS key (UpdateSecret's KmsKeyId).
pub const REENCRYPTED_LABELS: [&str; 3] = [AWSCURRENT, AWSPENDING, AWSPREVIOUS];

/// The key a secret's new versions are sealed under, resolved once per change.
pub struct EncryptionKey {
    record: KmsKeyRecord,
}

fn encryption_failure() -> ApiError {
    ApiError::new(
        ErrorCode::EncryptionFailure,
        "Secrets Manager can't encrypt the protected secret text using the provided KMS key. \
         Check that the KMS key is available, enabled, and not in an invalid state.",
    )
}

fn decryption_failure() -> ApiError {
    ApiError::new(
        ErrorCode::DecryptionFailure,
        "Secrets Manager can't decrypt the protected secret text using the provided KMS key.",
    )
}

/// A `KmsKeyId` that names no key Secrets Manager can use in this account and region. AWS
/// does not tell a key that does not exist from one the caller may not use.
fn kms_access_denied() -> ApiError {
    ApiError::new(
        ErrorCode::AccessDeniedException,
        "Access to KMS is not allowed",
    )
}

/// A crypto failure while sealing: the key is fine, so this is the server's fault.
fn sealing_failed(error: CryptoError) -> ApiError {
    tracing::error!(%error, "sealing a secret value failed");
    encryption_failure()
}

/// A crypto failure while opening: the stored record, its key or its context do not match.
fn opening_failed(error: CryptoError) -> ApiError {
    tracing::warn!(%error, "a secret value did not decrypt");
    decryption_failure()
}

impl Service {
    /// The KMS key that `kms_key_id` (a secret's KmsKeyId; `None` for the managed key) names
    /// in `scope`, checked to be usable for encryption now.
    pub(super) async fn encryption_key(
        &self,
        scope: &Scope,
        kms_key_id: Option<&str>,
    ) -> Result<EncryptionKey, ApiError> {
        let record = match kms_key_id {
            None => self.keyring.managed_key(scope).await?,
            // `find` names no key for a malformed id, too.
            Some(key_id) => self
                .keyring
                .find(scope, key_id)
                .await?
                .ok_or_else(kms_access_denied)?,
        };
        if record.state != KeyState::Enabled {
            return Err(encryption_failure());
        }
        Ok(EncryptionKey { record })
    }

    /// Whether `principal` may have Secrets Manager seal a new version under `key` for the
    /// secret `arn`: with a customer managed key, `kms:GenerateDataKey` and `kms:Decrypt`
    /// (the CreateSecret, PutSecretValue and UpdateSecret API references). Refused as AWS
    /// refuses it: `AccessDeniedException`, "Access to KMS is not allowed".
    pub(super) fn authorize_sealing(
        &self,
        principal: &Principal,
        key: &EncryptionKey,
        arn: &str,
    ) -> Result<(), ApiError> {
        for action in [GENERATE_DATA_KEY, DECRYPT] {
            self.authorize_key_use(principal, action, &key.record, arn)
                .map_err(|_| kms_access_denied())?;
        }
        Ok(())
    }

    /// Whether `principal` may have Secrets Manager re-encrypt the secret `arn`'s versions
    /// under `key` (`kms:Encrypt`). Without it, UpdateSecret still changes the KmsKeyId but
    /// leaves the existing versions under their key (the UpdateSecret API reference).
    pub(super) fn may_reencrypt(
        &self,
        principal: &Principal,
        key: &EncryptionKey,
        arn: &str,
    ) -> bool {
        self.authorize_key_use(principal, ENCRYPT, &key.record, arn)
            .is_ok()
    }

    /// Seals `value` as version `version_id` of the secret whose ARN is `arn`.
    pub(super) fn seal_value(
        &self,
        key: &EncryptionKey,
        arn: &str,
        version_id: &str,
        value: &SecretValue,
    ) -> Result<StoredValue, ApiError> {
        let material = self
            .keyring
            .current_material(&key.record)
            .map_err(sealing_failed)?;
        let context = secret_version_context(arn, version_id);
        let sealed =
            seal_secret_value(&material, &context, value.as_bytes()).map_err(sealing_failed)?;
        Ok(StoredValue::sealed(value.kind(), sealed.encode()))
    }

    /// Opens the stored value of version `version_id` of the secret whose ARN is `arn`, for
    /// `principal` (who needs `kms:Decrypt` on a customer managed key), or for the server's own
    /// needs (`None`).
    pub(super) async fn open_value(
        &self,
        principal: Option<&Principal>,
        arn: &str,
        version_id: &str,
        stored: StoredValue,
    ) -> Result<SecretValue, ApiError> {
        let kind = stored.kind;
        if !stored.sealed {
            // Written before encryption at rest; sealed at the next start.
            return SecretValue::from_stored(kind, stored.bytes.to_vec())
                .map_err(ApiError::internal);
        }
        let sealed = SealedValue::decode(&stored.bytes).map_err(opening_failed)?;
        let material = self
            .usable_material(&sealed, principal.map(|principal| (principal, arn)))
            .await?;
        let context = secret_version_context(arn, version_id);
        let plaintext = open_secret_value(&material, &context, &sealed).map_err(opening_failed)?;
        SecretValue::from_stored(kind, plaintext.to_vec()).map_err(|_| decryption_failure())
    }

    /// The material that opens `sealed`, if its key exists and is enabled (and, with `for_`,
    /// if that principal may decrypt with it through Secrets Manager, for that secret ARN).
    async fn usable_material(
        &self,
        sealed: &SealedValue,
        for_: Option<(&Principal, &str)>,
    ) -> Result<Arc<crate::crypto::envelope::KmsKey>, ApiError> {
        let key_ref = sealed.key_ref();
        let Some(record) = self.keyring.record_for_read(key_ref.key_id).await? else {
            tracing::warn!(key_id = %key_ref.key_id, "a secret value's KMS key no longer exists");
            return Err(decryption_failure());
        };
        if record.state != KeyState::Enabled {
            return Err(decryption_failure());
        }
        if let Some((principal, arn)) = for_ {
            self.authorize_key_use(principal, DECRYPT, &record, arn)
                .map_err(|_| kms_access_denied())?;
        }
        self.keyring
            .material(&record, key_ref.material_version)
            .map_err(opening_failed)
    }

    /// Re-wraps the data keys of `secret`'s versions labelled AWSCURRENT, AWSPENDING or
    /// AWSPREVIOUS (except `skip`, a version being added) under `to`, and notes the key on
    /// those versions. The values are not re-encrypted: only their data keys are. Returns the
    /// new stored forms, for [`crate::store::SecretWrite::rewrapped`].
    pub(super) async fn rewrap_labelled(
        &self,
        secret: &mut Secret,
        to: &EncryptionKey,
        skip: Option<&str>,
    ) -> Result<Vec<(String, StoredValue)>, ApiError> {
        let to_material = self
            .keyring
            .current_material(&to.record)
            .map_err(sealing_failed)?;
        let mut rewrapped = Vec::new();
        let labelled: Vec<String> = secret
            .versions
            .iter()
            .filter(|version| Some(version.id.as_str()) != skip)
            .filter(|version| {
                version
                    .stages
                    .iter()
                    .any(|stage| REENCRYPTED_LABELS.contains(&stage.as_str()))
            })
            .map(|version| version.id.clone())
            .collect();
        for version_id in labelled {
            let Some(stored) = self.store.load_value(secret.id, &version_id).await? else {
                continue;
            };
            if let Some(version) = secret.versions.iter_mut().find(|v| v.id == version_id) {
                version.kms_key_id = secret.kms_key_id.clone();
            }
            let context = secret_version_context(&secret.arn, &version_id);
            let record = if stored.sealed {
                let sealed = SealedValue::decode(&stored.bytes).map_err(opening_failed)?;
                if sealed.key_ref().key_id == to.record.id
                    && sealed.key_ref().material_version == to_material.key_ref().material_version
                {
                    // Already under this key: nothing to do.
                    continue;
                }
                let from = self.usable_material(&sealed, None).await?;
                sealed
                    .rewrap(&from, &to_material, &context)
                    .map_err(opening_failed)?
                    .encode()
            } else {
                let value = SecretValue::from_stored(stored.kind, stored.bytes.to_vec())
                    .map_err(ApiError::internal)?;
                seal_secret_value(&to_material, &context, value.as_bytes())
                    .map_err(sealing_failed)?
                    .encode()
            };
            rewrapped.push((version_id, StoredValue::sealed(stored.kind, record)));
        }
        Ok(rewrapped)
    }

    /// Seals the values still stored in the clear (written before encryption at rest), one
    /// secret at a time, each under its own key. Returns how many versions were sealed.
    pub async fn seal_plain_values(&self) -> Result<usize, ApiError> {
        let mut sealed = 0usize;
        loop {
            let arns = self.store.secrets_with_plain_values(100).await?;
            if arns.is_empty() {
                return Ok(sealed);
            }
            for arn in arns {
                sealed += self.seal_plain_values_of(&arn).await?;
            }
            tracing::info!(sealed, "sealing values stored before encryption at rest");
        }
    }

    async fn seal_plain_values_of(&self, arn: &str) -> Result<usize, ApiError> {
        super::retry_on_conflict!({
            let Some(before) = self.store.load_by_arn(arn).await? else {
                return Ok(super::Attempt::Done(0));
            };
            let key = self
                .encryption_key(&before.scope, before.kms_key_id.as_deref())
                .await?;
            let mut rewrapped = Vec::new();
            for version in &before.versions {
                let Some(stored) = self.store.load_value(before.id, &version.id).await? else {
                    continue;
                };
                if stored.sealed {
                    continue;
                }
                let value = SecretValue::from_stored(stored.kind, stored.bytes.to_vec())
                    .map_err(ApiError::internal)?;
                rewrapped.push((
                    version.id.clone(),
                    self.seal_value(&key, &before.arn, &version.id, &value)?,
                ));
            }
            let entries: Vec<NewValue<'_>> = rewrapped
                .iter()
                .map(|(version_id, value)| NewValue { version_id, value })
                .collect();
            if !self
                .save_replacing(&before, &before, &[], &entries, &[])
                .await?
            {
                return Ok(super::Attempt::Lost);
            }
            Ok(super::Attempt::Done(entries.len()))
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::auth::Principal;
    use crate::clock::{ManualClock, Timestamp};
    use crate::crypto::keys::{KeyMaterial, RootKey};
    use crate::crypto::{SecretBytes, SecretString};
    use crate::protocol::types::CreateSecretInput;
    use crate::store::Store;
    use crate::store::sqlite::SqliteStore;

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack
            .windows(needle.len())
            .any(|window| window == needle)
    }

    /// Writes secrets through the service onto an on-disk database, recovers every data key
    /// and every KMS key's material through the keyring, and looks for them (and for the root
    /// key) in the database, its WAL and its shared memory file.
    #[tokio::test]
    async fn no_key_in_the_clear_reaches_the_database_files() {
        let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
        let store = Arc::new(
            SqliteStore::open(&dir.path().join("coffer.db"))
                .unwrap_or_else(|error| panic!("{error}")),
        );
        let root_material = KeyMaterial::generate().unwrap_or_else(|error| panic!("{error}"));
        let service = Service::new(
            store.clone(),
            ManualClock::new(Timestamp::from_millis(1_700_000_000_000)),
            RootKey::new(root_material.clone()),
        );
        service
            .keyring()
            .check_root_key()
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        let principal = Principal::root(
            "AKIDTEST",
            Scope {
                account_id: "123456789012".into(),
                region: "eu-west-1".into(),
            },
        );
        let names: Vec<String> = (0..8).map(|i| format!("keys-{i}")).collect();
        for (i, name) in names.iter().enumerate() {
            let input = CreateSecretInput {
                name: Some(name.clone()),
                client_request_token: Some(uuid::Uuid::new_v4().to_string()),
                secret_string: (i % 2 == 0).then(|| SecretString::new(format!("value {i}"))),
                secret_binary: (i % 2 == 1).then(|| SecretBytes::new(vec![i as u8; 64])),
                ..Default::default()
            };
            service
                .create_secret(&principal, input)
                .await
                .unwrap_or_else(|error| panic!("{error}"));
        }

        let mut needles: Vec<(String, Vec<u8>)> =
            vec![("the root key".into(), root_material.expose().to_vec())];
        for name in &names {
            let secret = store
                .load_by_name(&principal.scope, name)
                .await
                .unwrap_or_else(|error| panic!("{error}"))
                .unwrap_or_else(|| panic!("{name} is stored"));
            let version = &secret.versions[0];
            let stored = store
                .load_value(secret.id, &version.id)
                .await
                .unwrap_or_else(|error| panic!("{error}"))
                .unwrap_or_else(|| panic!("{name} has a value"));
            assert!(stored.sealed);
            let sealed =
                SealedValue::decode(&stored.bytes).unwrap_or_else(|error| panic!("{error}"));
            let record = service
                .keyring()
                .record_for_read(sealed.key_ref().key_id)
                .await
                .unwrap_or_else(|error| panic!("{error}"))
                .unwrap_or_else(|| panic!("the key of {name} exists"));
            let material = service
                .keyring()
                .material(&record, sealed.key_ref().material_version)
                .unwrap_or_else(|error| panic!("{error}"));
            let data_key = material
                .decrypt_data_key(
                    sealed.data_key(),
                    &secret_version_context(&secret.arn, &version.id),
                )
                .unwrap_or_else(|error| panic!("{error}"));
            needles.push((
                format!("the data key of {name}"),
                data_key.expose().to_vec(),
            ));
            needles.push((
                format!("the material of {}", record.id),
                material.material().expose().to_vec(),
            ));
        }
        let mut scanned = 0;
        for entry in std::fs::read_dir(dir.path()).unwrap_or_else(|error| panic!("{error}")) {
            let path = entry.unwrap_or_else(|error| panic!("{error}")).path();
            let bytes = std::fs::read(&path).unwrap_or_else(|error| panic!("{error}"));
            scanned += bytes.len();
            for (what, needle) in &needles {
                assert!(!contains(&bytes, needle), "{what} is in {}", path.display());
            }
        }
        assert!(scanned > 0);
    }
}
