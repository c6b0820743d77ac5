//! PutResourcePolicy, GetResourcePolicy, DeleteResourcePolicy and ValidateResourcePolicy.
//! The policy language itself lives in [`crate::policy`]; here are the rules of attaching a
//! policy to a secret.

use super::validate::checked_secret_id;
use super::{Attempt, Service, retry_on_conflict};
use crate::auth::Principal;
use crate::policy::{self, PolicyKind};
use crate::protocol::types::{
    DeleteResourcePolicyInput, GetResourcePolicyInput, GetResourcePolicyOutput,
    PutResourcePolicyInput, SecretIdentityOutput, ValidateResourcePolicyInput,
    ValidateResourcePolicyOutput, ValidationErrorsEntry,
};
use crate::protocol::{ApiError, ErrorCode};

fn malformed(error: policy::PolicyError) -> ApiError {
    ApiError::new(
        ErrorCode::MalformedPolicyDocumentException,
        format!("This policy has invalid syntax. {error}"),
    )
}

impl Service {
    pub async fn put_resource_policy(
        &self,
        principal: &Principal,
        input: PutResourcePolicyInput,
    ) -> Result<SecretIdentityOutput, ApiError> {
        let secret_id = checked_secret_id(input.secret_id)?;
        let document = input.resource_policy.unwrap_or_default();
        let block_public = input.block_public_policy.unwrap_or(false);
        retry_on_conflict!({
            // The secret is looked up first: an unknown secret or a replica is reported before
            // a bad document.
            let before = self.find_writable(principal, &secret_id).await?;
            let parsed = policy::parse(&document, PolicyKind::Resource).map_err(malformed)?;
            if block_public && parsed.is_public() {
                return Err(ApiError::new(
                    ErrorCode::PublicPolicyException,
                    "This resource policy contains a policy that grants public access to the \
                     secret, and BlockPublicPolicy is set.",
                ));
            }
            let mut secret = before.clone();
            secret.resource_policy = Some(document.clone());
            if secret != before && !self.save(&before, &secret, &[]).await? {
                return Ok(Attempt::Lost);
            }
            Ok(Attempt::Done(SecretIdentityOutput {
                arn: secret.arn,
                name: secret.name,
                version_id: None,
            }))
        })
    }

    pub async fn get_resource_policy(
        &self,
        principal: &Principal,
        input: GetResourcePolicyInput,
    ) -> Result<GetResourcePolicyOutput, ApiError> {
        let secret_id = checked_secret_id(input.secret_id)?;
        let secret = self.find_writable(principal, &secret_id).await?;
        Ok(GetResourcePolicyOutput {
            arn: secret.visible_arn().to_owned(),
            name: secret.name,
            resource_policy: secret.resource_policy,
        })
    }

    pub async fn delete_resource_policy(
        &self,
        principal: &Principal,
        input: DeleteResourcePolicyInput,
    ) -> Result<SecretIdentityOutput, ApiError> {
        let secret_id = checked_secret_id(input.secret_id)?;
        retry_on_conflict!({
            let before = self.find_writable(principal, &secret_id).await?;
            let mut secret = before.clone();
            secret.resource_policy = None;
            if secret != before && !self.save(&before, &secret, &[]).await? {
                return Ok(Attempt::Lost);
            }
            Ok(Attempt::Done(SecretIdentityOutput {
                arn: secret.arn,
                name: secret.name,
                version_id: None,
            }))
        })
    }

    pub async fn validate_resource_policy(
        &self,
        principal: &Principal,
        input: ValidateResourcePolicyInput,
    ) -> Result<ValidateResourcePolicyOutput, ApiError> {
        if let Some(secret_id) = input.secret_id {
            let secret_id = checked_secret_id(Some(secret_id))?;
            self.find(principal, &secret_id).await?;
        } else {
            self.authorize_call(principal, "*")?;
        }
        let document = input.resource_policy.unwrap_or_default();
        let validation_errors: Vec<ValidationErrorsEntry> =
            policy::validate(&document, PolicyKind::Resource)
                .into_iter()
                .map(|finding| ValidationErrorsEntry {
                    check_name: finding.check.name().to_owned(),
                    error_message: finding.message,
                })
                .collect();
        Ok(ValidateResourcePolicyOutput {
            policy_validation_passed: validation_errors.is_empty(),
            validation_errors,
        })
    }
}
