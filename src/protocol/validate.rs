//! The checks AWS's front end applies before an operation runs: required members and the
//! length and range limits of the botocore model. A violation is a `ValidationException` whose
//! message lists every violation in AWS's words, naming each member in lowerCamelCase; values
//! of sensitive members are never repeated.

use super::types::*;
use super::{ApiError, ErrorCode};

/// Checks an input against its model constraints.
pub trait Validate {
    fn validate(&self) -> Result<(), ApiError>;
}

/// Collects violations, then reports them all at once as AWS does.
#[derive(Default)]
struct Checker {
    violations: Vec<String>,
}

impl Checker {
    fn required<T>(&mut self, member: &str, value: Option<&T>) {
        if value.is_none() {
            self.violations.push(format!(
                "Value null at '{member}' failed to satisfy constraint: Member must not be null"
            ));
        }
    }

    /// A string's length in characters, within `min..=max`.
    fn length(&mut self, member: &str, value: Option<&str>, min: usize, max: usize) {
        if let Some(value) = value {
            let length = value.chars().count();
            self.length_violation(member, Some(value), length, min, max);
        }
    }

    /// Like [`Checker::length`], for a value never to be repeated.
    fn sensitive_length(&mut self, member: &str, length: Option<usize>, min: usize, max: usize) {
        if let Some(length) = length {
            self.length_violation(member, None, length, min, max);
        }
    }

    fn length_violation(
        &mut self,
        member: &str,
        shown: Option<&str>,
        length: usize,
        min: usize,
        max: usize,
    ) {
        let constraint = if length < min {
            format!("Member must have length greater than or equal to {min}")
        } else if length > max {
            format!("Member must have length less than or equal to {max}")
        } else {
            return;
        };
        let value = shown.map(|value| format!(" '{value}'")).unwrap_or_default();
        self.violations.push(format!(
            "Value{value} at '{member}' failed to satisfy constraint: {constraint}"
        ));
    }

    fn range(&mut self, member: &str, value: Option<i64>, min: i64, max: i64) {
        let Some(value) = value else { return };
        let constraint = if value < min {
            format!("Member must have value greater than or equal to {min}")
        } else if value > max {
            format!("Member must have value less than or equal to {max}")
        } else {
            return;
        };
        self.violations.push(format!(
            "Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
        ));
    }

    fn finish(self) -> Result<(), ApiError> {
        let count = self.violations.len();
        if count == 0 {
            return Ok(());
        }
        let plural = if count == 1 { "" } else { "s" };
        Err(ApiError::new(
            ErrorCode::ValidationException,
            format!(
                "{count} validation error{plural} detected: {}",
                self.violations.join("; ")
            ),
        ))
    }
}

// Limits from the botocore model (secretsmanager 2017-10-17).
const SECRET_ID: (usize, usize) = (1, 2048);
const NAME: (usize, usize) = (1, 512);
const TOKEN: (usize, usize) = (32, 64);
const VERSION_ID: (usize, usize) = (32, 64);
const VERSION_STAGE: (usize, usize) = (1, 256);
const VERSION_STAGES: (usize, usize) = (1, 20);
const DESCRIPTION: (usize, usize) = (0, 2048);
const KMS_KEY_ID: (usize, usize) = (0, 2048);
const SECRET_VALUE: (usize, usize) = (1, 65536);
const SECRET_TYPE: (usize, usize) = (0, 256);
const ROTATION_TOKEN: (usize, usize) = (36, 256);
const TAG_KEY: (usize, usize) = (1, 128);
const TAG_VALUE: (usize, usize) = (0, 256);

impl Checker {
    fn secret_id(&mut self, value: Option<&String>) {
        self.required("secretId", value);
        self.length(
            "secretId",
            value.map(String::as_str),
            SECRET_ID.0,
            SECRET_ID.1,
        );
    }

    fn token(&mut self, value: Option<&String>) {
        self.length(
            "clientRequestToken",
            value.map(String::as_str),
            TOKEN.0,
            TOKEN.1,
        );
    }

    fn value(
        &mut self,
        string: Option<&crate::crypto::SecretString>,
        binary: Option<&crate::crypto::SecretBytes>,
    ) {
        let (min, max) = SECRET_VALUE;
        self.sensitive_length(
            "secretString",
            string.map(|s| s.expose().chars().count()),
            min,
            max,
        );
        self.sensitive_length("secretBinary", binary.map(|b| b.expose().len()), min, max);
    }

    fn common_metadata(
        &mut self,
        description: Option<&String>,
        kms_key_id: Option<&String>,
        secret_type: Option<&String>,
    ) {
        self.length(
            "description",
            description.map(String::as_str),
            DESCRIPTION.0,
            DESCRIPTION.1,
        );
        self.length(
            "kmsKeyId",
            kms_key_id.map(String::as_str),
            KMS_KEY_ID.0,
            KMS_KEY_ID.1,
        );
        self.length(
            "type",
            secret_type.map(String::as_str),
            SECRET_TYPE.0,
            SECRET_TYPE.1,
        );
    }
}

impl Validate for CreateSecretInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut check = Checker::default();
        check.required("name", self.name.as_ref());
        check.length("name", self.name.as_deref(), NAME.0, NAME.1);
        check.token(self.client_request_token.as_ref());
        check.common_metadata(
            self.description.as_ref(),
            self.kms_key_id.as_ref(),
            self.secret_type.as_ref(),
        );
        check.value(self.secret_string.as_ref(), self.secret_binary.as_ref());
        for (index, tag) in self.tags.iter().flatten().enumerate() {
            let member = |field: &str| format!("tags.{}.member.{field}", index + 1);
            check.length(&member("key"), tag.key.as_deref(), TAG_KEY.0, TAG_KEY.1);
            check.length(
                &member("value"),
                tag.value.as_deref(),
                TAG_VALUE.0,
                TAG_VALUE.1,
            );
        }
        check.finish()
    }
}

impl Validate for UpdateSecretInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut check = Checker::default();
        check.secret_id(self.secret_id.as_ref());
        check.token(self.client_request_token.as_ref());
        check.common_metadata(
            self.description.as_ref(),
            self.kms_key_id.as_ref(),
            self.secret_type.as_ref(),
        );
        check.value(self.secret_string.as_ref(), self.secret_binary.as_ref());
        check.finish()
    }
}

impl Validate for PutSecretValueInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut check = Checker::default();
        check.secret_id(self.secret_id.as_ref());
        check.token(self.client_request_token.as_ref());
        check.value(self.secret_string.as_ref(), self.secret_binary.as_ref());
        if let Some(stages) = &self.version_stages {
            check.sensitive_length(
                "versionStages",
                Some(stages.len()),
                VERSION_STAGES.0,
                VERSION_STAGES.1,
            );
            for (index, stage) in stages.iter().enumerate() {
                let member = format!("versionStages.{}.member", index + 1);
                check.length(&member, Some(stage), VERSION_STAGE.0, VERSION_STAGE.1);
            }
        }
        let (min, max) = ROTATION_TOKEN;
        check.sensitive_length(
            "rotationToken",
            self.rotation_token.as_ref().map(|t| t.expose().len()),
            min,
            max,
        );
        check.finish()
    }
}

impl Validate for GetSecretValueInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut check = Checker::default();
        check.secret_id(self.secret_id.as_ref());
        check.length(
            "versionId",
            self.version_id.as_deref(),
            VERSION_ID.0,
            VERSION_ID.1,
        );
        check.length(
            "versionStage",
            self.version_stage.as_deref(),
            VERSION_STAGE.0,
            VERSION_STAGE.1,
        );
        check.finish()
    }
}

impl Validate for DescribeSecretInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut check = Checker::default();
        check.secret_id(self.secret_id.as_ref());
        check.finish()
    }
}

impl Validate for ListSecretVersionIdsInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut check = Checker::default();
        check.secret_id(self.secret_id.as_ref());
        check.range("maxResults", self.max_results, 1, 100);
        check.length("nextToken", self.next_token.as_deref(), 1, 4096);
        check.finish()
    }
}

impl Validate for UpdateSecretVersionStageInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut check = Checker::default();
        check.secret_id(self.secret_id.as_ref());
        check.required("versionStage", self.version_stage.as_ref());
        check.length(
            "versionStage",
            self.version_stage.as_deref(),
            VERSION_STAGE.0,
            VERSION_STAGE.1,
        );
        check.length(
            "removeFromVersionId",
            self.remove_from_version_id.as_deref(),
            VERSION_ID.0,
            VERSION_ID.1,
        );
        check.length(
            "moveToVersionId",
            self.move_to_version_id.as_deref(),
            VERSION_ID.0,
            VERSION_ID.1,
        );
        check.finish()
    }
}

impl Validate for DeleteSecretInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut check = Checker::default();
        check.secret_id(self.secret_id.as_ref());
        check.finish()
    }
}

impl Validate for RestoreSecretInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut check = Checker::default();
        check.secret_id(self.secret_id.as_ref());
        check.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SecretString;

    fn message(result: Result<(), ApiError>) -> String {
        match result {
            Ok(()) => String::new(),
            Err(error) => {
                assert_eq!(error.code(), ErrorCode::ValidationException);
                error.message().to_owned()
            }
        }
    }

    #[test]
    fn missing_required_members_are_named() {
        let text = message(GetSecretValueInput::default().validate());
        assert_eq!(
            text,
            "1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null"
        );
        let text = message(UpdateSecretVersionStageInput::default().validate());
        assert!(text.starts_with("2 validation errors detected: "), "{text}");
        assert!(text.contains("'versionStage'"), "{text}");
    }

    #[test]
    fn lengths_follow_the_model() {
        let input = CreateSecretInput {
            name: Some("n".repeat(513)),
            client_request_token: Some("short".into()),
            ..Default::default()
        };
        let text = message(input.validate());
        assert!(text.contains("at 'name' failed to satisfy constraint: Member must have length less than or equal to 512"), "{text}");
        assert!(text.contains("'short' at 'clientRequestToken' failed to satisfy constraint: Member must have length greater than or equal to 32"), "{text}");
        let ok = CreateSecretInput {
            name: Some("n".repeat(512)),
            ..Default::default()
        };
        assert!(ok.validate().is_ok());
    }

    #[test]
    fn sensitive_values_are_never_repeated() {
        let input = PutSecretValueInput {
            secret_id: Some("s".into()),
            secret_string: Some(SecretString::new("x".repeat(65537))),
            rotation_token: Some(SecretString::new("tok-distinctive".into())),
            ..Default::default()
        };
        let text = message(input.validate());
        assert!(text.contains("Value at 'secretString' failed"), "{text}");
        assert!(text.contains("Value at 'rotationToken' failed"), "{text}");
        assert!(
            !text.contains("xxxx") && !text.contains("distinctive"),
            "{text}"
        );
    }

    #[test]
    fn ranges_follow_the_model() {
        let input = ListSecretVersionIdsInput {
            secret_id: Some("s".into()),
            max_results: Some(101),
            ..Default::default()
        };
        assert!(
            message(input.validate()).contains("Member must have value less than or equal to 100")
        );
    }
}
