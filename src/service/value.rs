//! GetSecretValue, PutSecretValue, ListSecretVersionIds, UpdateSecretVersionStage, and the
//! rules about incoming values and the tokens that name their versions.

use super::model::{AWSCURRENT, Secret, Version};
use super::validate::{checked_secret_id, require_token};
use super::{Attempt, Service, retry_on_conflict};
use crate::auth::Principal;
use crate::crypto::{SecretBytes, SecretString, SecretValue};
use crate::protocol::types::{
    GetSecretValueInput, GetSecretValueOutput, ListSecretVersionIdsInput,
    ListSecretVersionIdsOutput, PutSecretValueInput, PutSecretValueOutput, SecretVersionsListEntry,
    UpdateSecretVersionStageInput, UpdateSecretVersionStageOutput,
};
use crate::protocol::{ApiError, ErrorCode};
use crate::store::NewValue;

/// What ListSecretVersionIds shows as the key of a version under the managed key.
const DEFAULT_KEY_LABEL: &str = "DefaultEncryptionKey";

/// The value a request carries, if any. An empty string (or empty binary) counts as no value,
/// as it does for AWS; both at once is refused.
pub(super) fn incoming_value(
    string: Option<SecretString>,
    binary: Option<SecretBytes>,
) -> Result<Option<SecretValue>, ApiError> {
    let string = string.filter(|s| !s.expose().is_empty());
    let binary = binary.filter(|b| !b.expose().is_empty());
    match (string, binary) {
        (Some(_), Some(_)) => Err(ApiError::new(
            ErrorCode::InvalidParameterException,
            "You can't specify both a binary secret value and a string secret value in the same secret.",
        )),
        (Some(string), None) => Ok(Some(SecretValue::String(string))),
        (None, Some(binary)) => Ok(Some(SecretValue::Binary(binary))),
        (None, None) => Ok(None),
    }
}

/// Whether version `version_id` of `secret` holds exactly `value` (a retry of the write that
/// made it).
pub(super) async fn same_value(
    service: &Service,
    secret: &Secret,
    version_id: &str,
    value: &SecretValue,
) -> Result<bool, ApiError> {
    let Some(stored) = service.store.load_value(secret.id, version_id).await? else {
        return Ok(false);
    };
    // Compared in the clear, as AWS compares: the stored form is sealed under a fresh data
    // key, so equal values never have equal records.
    let existing = service
        .open_value(None, &secret.arn, version_id, stored)
        .await?;
    Ok(existing == *value)
}

/// A token names an existing version whose value differs: versions never change.
pub(super) fn token_in_use(token: &str, secret: &Secret) -> ApiError {
    ApiError::new(
        ErrorCode::ResourceExistsException,
        format!(
            "You can't use ClientRequestToken {token} because that value is already in use for a \
             version of secret {}.",
            secret.arn
        ),
    )
}

impl Service {
    pub async fn get_secret_value(
        &self,
        principal: &Principal,
        input: GetSecretValueInput,
    ) -> Result<GetSecretValueOutput, ApiError> {
        let secret_id = checked_secret_id(input.secret_id)?;
        let secret = self.find_live(principal, &secret_id).await?;
        let version = select_version(
            &secret,
            input.version_id.as_deref(),
            input.version_stage.as_deref(),
        )?;
        self.read_version(principal, &secret, version).await
    }

    /// The value of one version, as GetSecretValue (and each entry of BatchGetSecretValue)
    /// answers it; the read is recorded.
    pub(super) async fn read_version(
        &self,
        principal: &Principal,
        secret: &Secret,
        version: &Version,
    ) -> Result<GetSecretValueOutput, ApiError> {
        let Some(stored) = self.store.load_value(secret.id, &version.id).await? else {
            // Pruned between the two reads.
            return Err(ApiError::new(
                ErrorCode::InvalidRequestException,
                format!(
                    "You can't perform this operation on secret version {} because it was deleted.",
                    version.id
                ),
            ));
        };
        let value = self
            .open_value(Some(principal), &secret.arn, &version.id, stored)
            .await?;
        self.record_access(secret, version).await;
        let (secret_string, secret_binary) = match value {
            SecretValue::String(string) => (Some(string), None),
            SecretValue::Binary(binary) => (None, Some(binary)),
        };
        Ok(GetSecretValueOutput {
            arn: secret.visible_arn().to_owned(),
            name: secret.name.clone(),
            version_id: version.id.clone(),
            secret_binary,
            secret_string,
            version_stages: version.stages.clone(),
            created_date: version.created_at,
        })
    }

    /// Notes the day of a read, once per day per secret and version. A failure here is logged,
    /// not returned: the read itself succeeded.
    pub(super) async fn record_access(&self, secret: &Secret, version: &Version) {
        let today = self.clock.now().start_of_day();
        // Seen from a replica, the read is recorded on the replica (AWS tracks the date per
        // region).
        let (record, last_day) = match &secret.replica_view {
            Some(view) => (
                view.record,
                secret
                    .replica(&view.region)
                    .and_then(|replica| replica.last_accessed_day),
            ),
            None => (secret.id, secret.last_accessed_day),
        };
        // Seen from a replica only the replica's date is kept (the versions are the primary's).
        let version_day = match &secret.replica_view {
            Some(_) => last_day,
            None => version.last_accessed_day,
        };
        if last_day == Some(today) && version_day == Some(today) {
            return;
        }
        if let Err(error) = self.store.record_access(record, &version.id, today).await {
            tracing::warn!(%error, "could not record the date of a read");
        }
    }

    pub async fn put_secret_value(
        &self,
        principal: &Principal,
        input: PutSecretValueInput,
    ) -> Result<PutSecretValueOutput, ApiError> {
        let secret_id = checked_secret_id(input.secret_id)?;
        let Some(value) = incoming_value(input.secret_string, input.secret_binary)? else {
            return Err(ApiError::new(
                ErrorCode::InvalidRequestException,
                "You must provide either SecretString or SecretBinary.",
            ));
        };
        let token = require_token(input.client_request_token.as_ref())?;
        let stages = input
            .version_stages
            .unwrap_or_else(|| vec![AWSCURRENT.to_owned()]);
        retry_on_conflict!({
            let before = self.find_writable(principal, &secret_id).await?;
            if let Some(existing) = before.version(token) {
                if !same_value(self, &before, token, &value).await? {
                    return Err(token_in_use(token, &before));
                }
                return Ok(Attempt::Done(PutSecretValueOutput {
                    arn: before.arn.clone(),
                    name: before.name.clone(),
                    version_id: token.to_owned(),
                    version_stages: existing.stages.clone(),
                }));
            }
            let mut secret = before.clone();
            let now = self.clock.now();
            let mut labels = stages.clone();
            // The first version of a secret is always current.
            if secret.versions.is_empty() && !labels.iter().any(|label| label == AWSCURRENT) {
                labels.push(AWSCURRENT.to_owned());
            }
            let version = Version::new(token, now, secret.kms_key_id.clone());
            secret.add_version(version, &labels, now)?;
            if labels.iter().any(|label| label == AWSCURRENT) {
                super::secret::reschedule_rotation(&mut secret, now);
            }
            secret.last_changed_at = now;
            let key = self
                .encryption_key(&secret.scope, secret.kms_key_id.as_deref())
                .await?;
            self.authorize_sealing(principal, &key, &secret.arn)?;
            let stored = self.seal_value(&key, &secret.arn, token, &value)?;
            let new_value = [NewValue {
                version_id: token,
                value: &stored,
            }];
            if !self.save(&before, &secret, &new_value).await? {
                return Ok(Attempt::Lost);
            }
            let version_stages = secret
                .version(token)
                .map(|v| v.stages.clone())
                .unwrap_or_default();
            Ok(Attempt::Done(PutSecretValueOutput {
                arn: secret.arn,
                name: secret.name,
                version_id: token.to_owned(),
                version_stages,
            }))
        })
    }

    pub async fn list_secret_version_ids(
        &self,
        principal: &Principal,
        input: ListSecretVersionIdsInput,
    ) -> Result<ListSecretVersionIdsOutput, ApiError> {
        let secret_id = checked_secret_id(input.secret_id)?;
        let secret = self.find(principal, &secret_id).await?;
        let include_deprecated = input.include_deprecated.unwrap_or(false);
        // A token belongs to one secret and one choice of IncludeDeprecated.
        let query = format!(
            "list-secret-version-ids|{}|{include_deprecated}",
            secret.visible_arn()
        );
        let sealer = self.sealer().await?;
        let start_below: Option<i64> = input
            .next_token
            .as_deref()
            .map(|token| sealer.open(&query, token))
            .transpose()?;
        let page_size = input
            .max_results
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(usize::MAX);
        // Newest first; a page token is the ordinal below which the next page starts.
        let mut listed = secret
            .versions
            .iter()
            .rev()
            .filter(|version| include_deprecated || !version.stages.is_empty())
            .filter(|version| start_below.is_none_or(|below| version.ordinal < below));
        let page: Vec<&Version> = listed.by_ref().take(page_size).collect();
        let next_token = match (listed.next(), page.last()) {
            (Some(_), Some(last)) => Some(sealer.seal(&query, &last.ordinal)?),
            _ => None,
        };
        let versions = page
            .into_iter()
            .map(|version| SecretVersionsListEntry {
                version_id: version.id.clone(),
                version_stages: version.stages.clone(),
                last_accessed_date: version.last_accessed_day,
                created_date: version.created_at,
                kms_key_ids: Some(vec![
                    version
                        .kms_key_id
                        .clone()
                        .unwrap_or_else(|| DEFAULT_KEY_LABEL.to_owned()),
                ]),
            })
            .collect();
        Ok(ListSecretVersionIdsOutput {
            versions,
            next_token,
            arn: secret.visible_arn().to_owned(),
            name: secret.name,
        })
    }

    pub async fn update_secret_version_stage(
        &self,
        principal: &Principal,
        input: UpdateSecretVersionStageInput,
    ) -> Result<UpdateSecretVersionStageOutput, ApiError> {
        let secret_id = checked_secret_id(input.secret_id)?;
        let label = input.version_stage.unwrap_or_default();
        retry_on_conflict!({
            let before = self.find_writable(principal, &secret_id).await?;
            let mut secret = before.clone();
            secret.update_stage(
                &label,
                input.remove_from_version_id.as_deref(),
                input.move_to_version_id.as_deref(),
            )?;
            if secret != before {
                secret.last_changed_at = self.clock.now();
                if !self.save(&before, &secret, &[]).await? {
                    return Ok(Attempt::Lost);
                }
            }
            Ok(Attempt::Done(UpdateSecretVersionStageOutput {
                arn: secret.arn,
                name: secret.name,
                version_id: None,
            }))
        })
    }
}

/// Picks the version a read asks for: by id, by label (AWSCURRENT by default), or by both,
/// which must then agree.
fn select_version<'a>(
    secret: &'a Secret,
    version_id: Option<&str>,
    stage: Option<&str>,
) -> Result<&'a Version, ApiError> {
    if let Some(version_id) = version_id {
        let version = secret.version(version_id).ok_or_else(|| {
            ApiError::new(
                ErrorCode::ResourceNotFoundException,
                format!("Secrets Manager can't find the specified secret value for VersionId: {version_id}"),
            )
        })?;
        if let Some(stage) = stage
            && !version.stages.iter().any(|s| s == stage)
        {
            return Err(ApiError::new(
                ErrorCode::InvalidRequestException,
                "You provided a VersionStage that is not associated to the provided VersionId.",
            ));
        }
        return Ok(version);
    }
    let stage = stage.unwrap_or(AWSCURRENT);
    secret.holder_of(stage).ok_or_else(|| {
        ApiError::new(
            ErrorCode::ResourceNotFoundException,
            format!(
                "Secrets Manager can't find the specified secret value for staging label: {stage}"
            ),
        )
    })
}
