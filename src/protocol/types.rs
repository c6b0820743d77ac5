//! Request and response shapes of the Secrets Manager API, with AWS's field names verbatim
//! (botocore model `secretsmanager/2017-10-17`).
//!
//! Every field of an input is optional here, including the ones the model marks required:
//! a missing field must become AWS's validation error naming it, not a serde message. The
//! checks that AWS's front end applies (lengths, required fields) live in
//! [`super::validate`]; the business rules live in `service`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::crypto::{SecretBytes, SecretString};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicaRegion {
    pub region: Option<String>,
    pub kms_key_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateSecretInput {
    pub name: Option<String>,
    pub client_request_token: Option<String>,
    pub description: Option<String>,
    pub kms_key_id: Option<String>,
    #[serde(default, with = "secret_binary")]
    pub secret_binary: Option<SecretBytes>,
    #[serde(default, with = "secret_string")]
    pub secret_string: Option<SecretString>,
    pub tags: Option<Vec<Tag>>,
    pub add_replica_regions: Option<Vec<ReplicaRegion>>,
    pub force_overwrite_replica_secret: Option<bool>,
    #[serde(rename = "Type")]
    pub secret_type: Option<String>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateSecretOutput {
    #[serde(rename = "ARN")]
    pub arn: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replication_status: Option<Vec<ReplicationStatus>>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicationStatus {
    pub region: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "optional_epoch_seconds"
    )]
    pub last_accessed_date: Option<Timestamp>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateSecretInput {
    pub secret_id: Option<String>,
    pub client_request_token: Option<String>,
    pub description: Option<String>,
    pub kms_key_id: Option<String>,
    #[serde(default, with = "secret_binary")]
    pub secret_binary: Option<SecretBytes>,
    #[serde(default, with = "secret_string")]
    pub secret_string: Option<SecretString>,
    #[serde(rename = "Type")]
    pub secret_type: Option<String>,
}

/// The answer of the calls that only name the secret they changed (and, for some, the new
/// version).
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecretIdentityOutput {
    #[serde(rename = "ARN")]
    pub arn: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
}

pub type UpdateSecretOutput = SecretIdentityOutput;
pub type RestoreSecretOutput = SecretIdentityOutput;
pub type UpdateSecretVersionStageOutput = SecretIdentityOutput;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutSecretValueInput {
    pub secret_id: Option<String>,
    pub client_request_token: Option<String>,
    #[serde(default, with = "secret_binary")]
    pub secret_binary: Option<SecretBytes>,
    #[serde(default, with = "secret_string")]
    pub secret_string: Option<SecretString>,
    pub version_stages: Option<Vec<String>>,
    #[serde(default, with = "secret_string")]
    pub rotation_token: Option<SecretString>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutSecretValueOutput {
    #[serde(rename = "ARN")]
    pub arn: String,
    pub name: String,
    pub version_id: String,
    pub version_stages: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetSecretValueInput {
    pub secret_id: Option<String>,
    pub version_id: Option<String>,
    pub version_stage: Option<String>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetSecretValueOutput {
    #[serde(rename = "ARN")]
    pub arn: String,
    pub name: String,
    pub version_id: String,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "secret_binary::serialize"
    )]
    pub secret_binary: Option<SecretBytes>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "secret_string::serialize"
    )]
    pub secret_string: Option<SecretString>,
    /// Empty (and then omitted) for a deprecated version read by its id.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub version_stages: Vec<String>,
    #[serde(with = "epoch_seconds")]
    pub created_date: Timestamp,
}

/// What DescribeSecret and ListSecrets show of a secret, apart from its versions.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecretMetadata {
    #[serde(rename = "ARN")]
    pub arn: String,
    pub name: String,
    #[serde(rename = "Type", skip_serializing_if = "Option::is_none")]
    pub secret_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_enabled: Option<bool>,
    #[serde(rename = "RotationLambdaARN", skip_serializing_if = "Option::is_none")]
    pub rotation_lambda_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_rules: Option<RotationRules>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "optional_epoch_seconds"
    )]
    pub last_rotated_date: Option<Timestamp>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "optional_epoch_seconds"
    )]
    pub last_changed_date: Option<Timestamp>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "optional_epoch_seconds"
    )]
    pub last_accessed_date: Option<Timestamp>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "optional_epoch_seconds"
    )]
    pub deleted_date: Option<Timestamp>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "optional_epoch_seconds"
    )]
    pub next_rotation_date: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owning_service: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "optional_epoch_seconds"
    )]
    pub created_date: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_region: Option<String>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeSecretOutput {
    #[serde(flatten)]
    pub metadata: SecretMetadata,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_ids_to_stages: Option<BTreeMap<String, Vec<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replication_status: Option<Vec<ReplicationStatus>>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecretListEntry {
    #[serde(flatten)]
    pub metadata: SecretMetadata,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_versions_to_stages: Option<BTreeMap<String, Vec<String>>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct RotationRules {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub automatically_after_days: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule_expression: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Filter {
    pub key: Option<String>,
    pub values: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListSecretsInput {
    pub include_planned_deletion: Option<bool>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
    pub filters: Option<Vec<Filter>>,
    pub sort_order: Option<String>,
    pub sort_by: Option<String>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListSecretsOutput {
    pub secret_list: Vec<SecretListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchGetSecretValueInput {
    pub secret_id_list: Option<Vec<String>>,
    pub filters: Option<Vec<Filter>>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchGetSecretValueOutput {
    pub secret_values: Vec<SecretValueEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    pub errors: Vec<ApiErrorEntry>,
}

/// An entry of BatchGetSecretValue: what GetSecretValue answers for one secret.
pub type SecretValueEntry = GetSecretValueOutput;

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApiErrorEntry {
    pub secret_id: String,
    pub error_code: String,
    pub message: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagResourceInput {
    pub secret_id: Option<String>,
    pub tags: Option<Vec<Tag>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UntagResourceInput {
    pub secret_id: Option<String>,
    pub tag_keys: Option<Vec<String>>,
}

/// The empty answer of TagResource and UntagResource.
#[derive(Debug, Default, Serialize)]
pub struct EmptyOutput {}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetRandomPasswordInput {
    pub password_length: Option<i64>,
    pub exclude_characters: Option<String>,
    pub exclude_numbers: Option<bool>,
    pub exclude_punctuation: Option<bool>,
    pub exclude_uppercase: Option<bool>,
    pub exclude_lowercase: Option<bool>,
    pub include_space: Option<bool>,
    pub require_each_included_type: Option<bool>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetRandomPasswordOutput {
    #[serde(serialize_with = "secret_string::serialize_plain")]
    pub random_password: SecretString,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutResourcePolicyInput {
    pub secret_id: Option<String>,
    pub resource_policy: Option<String>,
    pub block_public_policy: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecretIdInput {
    pub secret_id: Option<String>,
}

pub type DescribeSecretInput = SecretIdInput;
pub type RestoreSecretInput = SecretIdInput;
pub type GetResourcePolicyInput = SecretIdInput;
pub type DeleteResourcePolicyInput = SecretIdInput;
pub type StopReplicationToReplicaInput = SecretIdInput;
pub type CancelRotateSecretInput = SecretIdInput;

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetResourcePolicyOutput {
    #[serde(rename = "ARN")]
    pub arn: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_policy: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ValidateResourcePolicyInput {
    pub secret_id: Option<String>,
    pub resource_policy: Option<String>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ValidateResourcePolicyOutput {
    pub policy_validation_passed: bool,
    pub validation_errors: Vec<ValidationErrorsEntry>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ValidationErrorsEntry {
    pub check_name: String,
    pub error_message: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicateSecretToRegionsInput {
    pub secret_id: Option<String>,
    pub add_replica_regions: Option<Vec<ReplicaRegion>>,
    pub force_overwrite_replica_secret: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RemoveRegionsFromReplicationInput {
    pub secret_id: Option<String>,
    pub remove_replica_regions: Option<Vec<String>>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicationOutput {
    #[serde(rename = "ARN")]
    pub arn: String,
    pub replication_status: Vec<ReplicationStatus>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StopReplicationToReplicaOutput {
    #[serde(rename = "ARN")]
    pub arn: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RotateSecretInput {
    pub secret_id: Option<String>,
    pub client_request_token: Option<String>,
    #[serde(rename = "RotationLambdaARN")]
    pub rotation_lambda_arn: Option<String>,
    pub rotation_rules: Option<RotationRules>,
    pub external_secret_rotation_metadata: Option<Vec<serde_json::Value>>,
    pub external_secret_rotation_role_arn: Option<String>,
    pub rotate_immediately: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListSecretVersionIdsInput {
    pub secret_id: Option<String>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
    pub include_deprecated: Option<bool>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListSecretVersionIdsOutput {
    pub versions: Vec<SecretVersionsListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    #[serde(rename = "ARN")]
    pub arn: String,
    pub name: String,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecretVersionsListEntry {
    pub version_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub version_stages: Vec<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "optional_epoch_seconds"
    )]
    pub last_accessed_date: Option<Timestamp>,
    #[serde(with = "epoch_seconds")]
    pub created_date: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_ids: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateSecretVersionStageInput {
    pub secret_id: Option<String>,
    pub version_stage: Option<String>,
    pub remove_from_version_id: Option<String>,
    pub move_to_version_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteSecretInput {
    pub secret_id: Option<String>,
    pub recovery_window_in_days: Option<i64>,
    pub force_delete_without_recovery: Option<bool>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteSecretOutput {
    #[serde(rename = "ARN")]
    pub arn: String,
    pub name: String,
    #[serde(with = "epoch_seconds")]
    pub deletion_date: Timestamp,
}

/// Timestamps travel as seconds since the epoch, with a fractional part.
pub(crate) mod epoch_seconds {
    use serde::Serializer;

    use crate::clock::Timestamp;

    pub fn serialize<S: Serializer>(time: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(time.as_epoch_seconds())
    }
}

pub(crate) mod optional_epoch_seconds {
    use serde::Serializer;

    use crate::clock::Timestamp;

    pub fn serialize<S: Serializer>(
        time: &Option<Timestamp>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match time {
            Some(time) => serializer.serialize_f64(time.as_epoch_seconds()),
            None => serializer.serialize_none(),
        }
    }
}

/// `SecretString` and other sensitive strings: read into a zeroizing buffer.
mod secret_string {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::crypto::SecretString;

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<SecretString>, D::Error> {
        Ok(Option::<String>::deserialize(deserializer)?.map(SecretString::new))
    }

    pub fn serialize<S: Serializer>(
        value: &Option<SecretString>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => serializer.serialize_str(value.expose()),
            None => serializer.serialize_none(),
        }
    }

    pub fn serialize_plain<S: Serializer>(
        value: &SecretString,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(value.expose())
    }
}

/// `SecretBinary` is a blob, which AWS JSON 1.1 carries as standard base64. The helpers here
/// serve every secret blob (KMS plaintexts too): decoded into, and encoded from, zeroizing
/// buffers.
pub(crate) mod secret_binary {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serializer};
    use zeroize::Zeroizing;

    use crate::crypto::SecretBytes;

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<SecretBytes>, D::Error> {
        deserialize_named(deserializer, "SecretBinary")
    }

    /// An optional base64 member holding a secret; `what` names it in the error, which never
    /// repeats the value.
    pub(crate) fn deserialize_named<'de, D: Deserializer<'de>>(
        deserializer: D,
        what: &'static str,
    ) -> Result<Option<SecretBytes>, D::Error> {
        let Some(encoded) = Option::<String>::deserialize(deserializer)?.map(Zeroizing::new) else {
            return Ok(None);
        };
        let bytes = STANDARD
            .decode(encoded.as_bytes())
            .map_err(|_| D::Error::custom(format!("{what} is not valid base64")))?;
        Ok(Some(SecretBytes::new(bytes)))
    }

    pub fn serialize<S: Serializer>(
        value: &Option<SecretBytes>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => serialize_one(value, serializer),
            None => serializer.serialize_none(),
        }
    }

    /// Writes a secret as base64 from a buffer that is wiped afterwards.
    pub(crate) fn serialize_one<S: Serializer>(
        value: &SecretBytes,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let encoded = Zeroizing::new(STANDARD.encode(value.expose()));
        serializer.serialize_str(&encoded)
    }
}
