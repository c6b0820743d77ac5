//! Request and response shapes of the KMS API, with AWS's field names verbatim (botocore
//! model `kms/2014-11-01`). As for Secrets Manager, every input field is optional here so a
//! missing one becomes AWS's validation error; blobs travel as standard base64; plaintexts are
//! read into and written from zeroizing buffers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::crypto::SecretBytes;
use crate::protocol::types::{epoch_seconds, optional_epoch_seconds};

pub type EncryptionContext = BTreeMap<String, String>;

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct KmsTag {
    pub tag_key: Option<String>,
    pub tag_value: Option<String>,
}

/// The answer of operations that answer nothing: `{}`.
#[derive(Debug, Default, Serialize)]
pub struct Empty {}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateKeyInput {
    pub policy: Option<String>,
    pub description: Option<String>,
    pub key_usage: Option<String>,
    pub customer_master_key_spec: Option<String>,
    pub key_spec: Option<String>,
    pub origin: Option<String>,
    pub custom_key_store_id: Option<String>,
    pub bypass_policy_lockout_safety_check: Option<bool>,
    pub tags: Option<Vec<KmsTag>>,
    pub multi_region: Option<bool>,
    pub xks_key_id: Option<String>,
}

/// What DescribeKey (and CreateKey) show of a key.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyMetadata {
    #[serde(rename = "AWSAccountId")]
    pub aws_account_id: String,
    pub key_id: String,
    pub arn: String,
    #[serde(with = "epoch_seconds")]
    pub creation_date: Timestamp,
    pub enabled: bool,
    pub description: String,
    pub key_usage: String,
    pub key_state: String,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "optional_epoch_seconds"
    )]
    pub deletion_date: Option<Timestamp>,
    pub origin: String,
    pub key_manager: String,
    pub customer_master_key_spec: String,
    pub key_spec: String,
    pub encryption_algorithms: Vec<String>,
    pub multi_region: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_key_material_id: Option<String>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyMetadataOutput {
    pub key_metadata: KeyMetadata,
}

pub type CreateKeyOutput = KeyMetadataOutput;
pub type DescribeKeyOutput = KeyMetadataOutput;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeKeyInput {
    pub key_id: Option<String>,
    pub grant_tokens: Option<Vec<String>>,
}

/// The input of the operations that only name a key.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyIdInput {
    pub key_id: Option<String>,
}

pub type EnableKeyInput = KeyIdInput;
pub type DisableKeyInput = KeyIdInput;
pub type CancelKeyDeletionInput = KeyIdInput;
pub type DisableKeyRotationInput = KeyIdInput;
pub type GetKeyRotationStatusInput = KeyIdInput;
pub type RotateKeyOnDemandInput = KeyIdInput;

/// The answer of the operations that only name the key they changed (its ARN).
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyIdOutput {
    pub key_id: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeysInput {
    pub limit: Option<i64>,
    pub marker: Option<String>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyListEntry {
    pub key_id: String,
    pub key_arn: String,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeysOutput {
    pub keys: Vec<KeyListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub truncated: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScheduleKeyDeletionInput {
    pub key_id: Option<String>,
    pub pending_window_in_days: Option<i64>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScheduleKeyDeletionOutput {
    pub key_id: String,
    #[serde(with = "epoch_seconds")]
    pub deletion_date: Timestamp,
    pub key_state: String,
    pub pending_window_in_days: u32,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasInput {
    pub alias_name: Option<String>,
    pub target_key_id: Option<String>,
}

pub type CreateAliasInput = AliasInput;
pub type UpdateAliasInput = AliasInput;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteAliasInput {
    pub alias_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListAliasesInput {
    pub key_id: Option<String>,
    pub limit: Option<i64>,
    pub marker: Option<String>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasListEntry {
    pub alias_name: String,
    pub alias_arn: String,
    pub target_key_id: String,
    #[serde(with = "epoch_seconds")]
    pub creation_date: Timestamp,
    #[serde(with = "epoch_seconds")]
    pub last_updated_date: Timestamp,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListAliasesOutput {
    pub aliases: Vec<AliasListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub truncated: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptInput {
    pub key_id: Option<String>,
    #[serde(default, with = "secret_blob")]
    pub plaintext: Option<SecretBytes>,
    pub encryption_context: Option<EncryptionContext>,
    pub grant_tokens: Option<Vec<String>>,
    pub encryption_algorithm: Option<String>,
    pub dry_run: Option<bool>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptOutput {
    #[serde(with = "blob")]
    pub ciphertext_blob: Vec<u8>,
    pub key_id: String,
    pub encryption_algorithm: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DecryptInput {
    #[serde(default, with = "optional_blob")]
    pub ciphertext_blob: Option<Vec<u8>>,
    pub encryption_context: Option<EncryptionContext>,
    pub grant_tokens: Option<Vec<String>>,
    pub key_id: Option<String>,
    pub encryption_algorithm: Option<String>,
    pub recipient: Option<serde_json::Value>,
    pub dry_run: Option<bool>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DecryptOutput {
    pub key_id: String,
    #[serde(serialize_with = "secret_blob::serialize")]
    pub plaintext: SecretBytes,
    pub encryption_algorithm: String,
    pub key_material_id: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyInput {
    pub key_id: Option<String>,
    pub encryption_context: Option<EncryptionContext>,
    pub number_of_bytes: Option<i64>,
    pub key_spec: Option<String>,
    pub grant_tokens: Option<Vec<String>>,
    pub recipient: Option<serde_json::Value>,
    pub dry_run: Option<bool>,
}

pub type GenerateDataKeyWithoutPlaintextInput = GenerateDataKeyInput;

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyOutput {
    #[serde(with = "blob")]
    pub ciphertext_blob: Vec<u8>,
    #[serde(serialize_with = "secret_blob::serialize")]
    pub plaintext: SecretBytes,
    pub key_id: String,
    pub key_material_id: String,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyWithoutPlaintextOutput {
    #[serde(with = "blob")]
    pub ciphertext_blob: Vec<u8>,
    pub key_id: String,
    pub key_material_id: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReEncryptInput {
    #[serde(default, with = "optional_blob")]
    pub ciphertext_blob: Option<Vec<u8>>,
    pub source_encryption_context: Option<EncryptionContext>,
    pub source_key_id: Option<String>,
    pub destination_key_id: Option<String>,
    pub destination_encryption_context: Option<EncryptionContext>,
    pub source_encryption_algorithm: Option<String>,
    pub destination_encryption_algorithm: Option<String>,
    pub grant_tokens: Option<Vec<String>>,
    pub dry_run: Option<bool>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReEncryptOutput {
    #[serde(with = "blob")]
    pub ciphertext_blob: Vec<u8>,
    pub source_key_id: String,
    pub key_id: String,
    pub source_encryption_algorithm: String,
    pub destination_encryption_algorithm: String,
    pub source_key_material_id: String,
    pub destination_key_material_id: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EnableKeyRotationInput {
    pub key_id: Option<String>,
    pub rotation_period_in_days: Option<i64>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetKeyRotationStatusOutput {
    pub key_rotation_enabled: bool,
    pub key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_period_in_days: Option<u32>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "optional_epoch_seconds"
    )]
    pub next_rotation_date: Option<Timestamp>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "optional_epoch_seconds"
    )]
    pub on_demand_rotation_start_date: Option<Timestamp>,
}

/// A blob that is not secret (a ciphertext): standard base64 on the wire.
mod blob {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::Serializer;

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }
}

mod optional_blob {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::de::Error;
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        let Some(encoded) = Option::<String>::deserialize(deserializer)? else {
            return Ok(None);
        };
        STANDARD
            .decode(encoded.as_bytes())
            .map(Some)
            .map_err(|_| D::Error::custom("the blob is not valid base64"))
    }
}

/// A plaintext blob: decoded into, and encoded from, zeroizing buffers (the same helpers as
/// `SecretBinary`).
mod secret_blob {
    use serde::{Deserializer, Serializer};

    use crate::crypto::SecretBytes;
    use crate::protocol::types::secret_binary;

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<SecretBytes>, D::Error> {
        secret_binary::deserialize_named(deserializer, "the plaintext")
    }

    pub fn serialize<S: Serializer>(value: &SecretBytes, serializer: S) -> Result<S::Ok, S::Error> {
        secret_binary::serialize_one(value, serializer)
    }
}
