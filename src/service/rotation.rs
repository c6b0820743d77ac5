//! RotateSecret and CancelRotateSecret: the rotation configuration and its schedule.
//!
//! Invoking rotation functions is not implemented yet. RotateSecret validates and stores the
//! configuration (so DescribeSecret shows it and the schedule is known), then says in its
//! error that the function was not called.

use super::model::{AWSCURRENT, AWSPENDING, RotationRules};
use super::rotation_rules::{self, RotationRulesInput};
use super::validate::checked_secret_id;
use super::{Attempt, Service, retry_on_conflict};
use crate::auth::Principal;
use crate::protocol::types::{CancelRotateSecretInput, RotateSecretInput, SecretIdentityOutput};
use crate::protocol::{ApiError, ErrorCode};

impl Service {
    pub async fn rotate_secret(
        &self,
        principal: &Principal,
        input: RotateSecretInput,
    ) -> Result<SecretIdentityOutput, ApiError> {
        let secret_id = checked_secret_id(input.secret_id)?;
        if input.client_request_token.is_none() {
            return Err(ApiError::new(
                ErrorCode::InvalidParameterException,
                "You must provide a ClientRequestToken value. We recommend a UUID-type value.",
            ));
        }
        let rules = input.rotation_rules.map(|rules| RotationRules {
            automatically_after_days: rules.automatically_after_days,
            duration: rules.duration,
            schedule_expression: rules.schedule_expression,
        });
        let lambda_arn = input.rotation_lambda_arn.filter(|arn| !arn.is_empty());
        retry_on_conflict!({
            let before = self.find_writable(principal, &secret_id).await?;
            let rules = rules.clone().or_else(|| before.rotation.rules.clone());
            let schedule = rules
                .as_ref()
                .map(|rules| {
                    rotation_rules::parse(&RotationRulesInput {
                        automatically_after_days: rules.automatically_after_days,
                        duration: rules.duration.clone(),
                        schedule_expression: rules.schedule_expression.clone(),
                    })
                })
                .transpose()
                .map_err(|error| ApiError::new(error.code(), error.to_string()))?;
            let Some(lambda_arn) = lambda_arn
                .clone()
                .or_else(|| before.rotation.lambda_arn.clone())
            else {
                return Err(ApiError::new(
                    ErrorCode::InvalidRequestException,
                    "No Lambda rotation function ARN is associated with this secret.",
                ));
            };
            let current = before.holder_of(AWSCURRENT).map(|v| v.id.clone());
            let pending = before.holder_of(AWSPENDING).map(|v| v.id.clone());
            if pending.is_some() && pending != current {
                return Err(ApiError::new(
                    ErrorCode::InvalidRequestException,
                    "A previous rotation isn't complete. That rotation will be reattempted.",
                ));
            }
            let now = self.clock.now();
            let mut secret = before.clone();
            secret.rotation.enabled = true;
            secret.rotation.lambda_arn = Some(lambda_arn.clone());
            secret.rotation.rules = rules;
            secret.rotation.next_rotation_at = schedule.map(|schedule| schedule.next_rotation(now));
            if secret != before && !self.save(&before, &secret, &[]).await? {
                return Ok(Attempt::Lost);
            }
            Err(ApiError::new(
                ErrorCode::InvalidRequestException,
                format!(
                    "The rotation configuration was saved, but this version of Coffer cannot \
                     invoke rotation functions yet, so {lambda_arn} was not called and the \
                     secret was not rotated."
                ),
            ))
        })
    }

    pub async fn cancel_rotate_secret(
        &self,
        principal: &Principal,
        input: CancelRotateSecretInput,
    ) -> Result<SecretIdentityOutput, ApiError> {
        let secret_id = checked_secret_id(input.secret_id)?;
        retry_on_conflict!({
            let before = self.find_writable(principal, &secret_id).await?;
            if before.rotation.lambda_arn.is_none() && !before.rotation.enabled {
                return Err(ApiError::new(
                    ErrorCode::InvalidRequestException,
                    "You can't cancel rotation because rotation isn't configured for this secret.",
                ));
            }
            let mut secret = before.clone();
            secret.rotation.enabled = false;
            secret.rotation.next_rotation_at = None;
            // A rotation in progress is abandoned: its pending version loses AWSPENDING.
            let current = secret.holder_of(AWSCURRENT).map(|v| v.id.clone());
            let pending = secret
                .holder_of(AWSPENDING)
                .map(|v| v.id.clone())
                .filter(|pending| Some(pending) != current.as_ref());
            if let Some(pending) = &pending {
                secret.update_stage(AWSPENDING, Some(pending), None)?;
            }
            if secret != before {
                secret.last_changed_at = self.clock.now();
                if !self.save(&before, &secret, &[]).await? {
                    return Ok(Attempt::Lost);
                }
            }
            Ok(Attempt::Done(SecretIdentityOutput {
                arn: secret.arn,
                name: secret.name,
                version_id: pending,
            }))
        })
    }
}
