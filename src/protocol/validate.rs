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
pub(crate) struct Checker {
    violations: Vec<String>,
}

impl Checker {
    pub(crate) fn required<T>(&mut self, member: &str, value: Option<&T>) {
        if value.is_none() {
            self.violations.push(format!(
                "Value null at '{member}' failed to satisfy constraint: Member must not be null"
            ));
        }
    }

    /// A string's length in characters, within `min..=max`.
    pub(crate) fn length(&mut self, member: &str, value: Option<&str>, min: usize, max: usize) {
        if let Some(value) = value {
            let length = value.chars().count();
            self.length_violation(member, Some(value), length, min, max);
        }
    }

    /// Like [`Checker::length`], for a value never to be repeated.
    pub(crate) fn sensitive_length(
        &mut self,
        member: &str,
        length: Option<usize>,
        min: usize,
        max: usize,
    ) {
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

    pub(crate) fn range(&mut self, member: &str, value: Option<i64>, min: i64, max: i64) {
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

    pub(crate) fn finish(self) -> Result<(), ApiError> {
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
        check.tags(self.tags.as_ref());
        check.replica_regions(self.add_replica_regions.as_ref());
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

const FILTERS: usize = 10;
const FILTER_VALUES: (usize, usize) = (1, 10);
const FILTER_VALUE: usize = 512;
const FILTER_KEYS: &[&str] = &[
    "description",
    "name",
    "tag-key",
    "tag-value",
    "primary-region",
    "owning-service",
    "all",
];
const SORT_ORDERS: &[&str] = &["asc", "desc"];
const SORT_BY: &[&str] = &[
    "created-date",
    "last-accessed-date",
    "last-changed-date",
    "name",
];
const RESOURCE_POLICY: (usize, usize) = (1, 20480);
const REGION: (usize, usize) = (1, 128);
const SCHEDULE_EXPRESSION: (usize, usize) = (1, 256);
const DURATION: (usize, usize) = (2, 3);

impl Checker {
    pub(crate) fn one_of(&mut self, member: &str, value: Option<&str>, allowed: &[&str]) {
        if let Some(value) = value
            && !allowed.contains(&value)
        {
            self.violations.push(format!(
                "Value '{value}' at '{member}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                allowed.join(", ")
            ));
        }
    }

    pub(crate) fn pattern(
        &mut self,
        member: &str,
        value: Option<&str>,
        pattern: &str,
        ok: fn(&str) -> bool,
    ) {
        if let Some(value) = value
            && !ok(value)
        {
            self.violations.push(format!(
                "Value '{value}' at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}"
            ));
        }
    }

    /// A pattern violation of a value never to be repeated.
    pub(crate) fn sensitive_pattern(&mut self, member: &str, pattern: &str) {
        self.violations.push(format!(
            "Value at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}"
        ));
    }

    pub(crate) fn list_length(
        &mut self,
        member: &str,
        length: Option<usize>,
        min: usize,
        max: usize,
    ) {
        self.sensitive_length(member, length, min, max);
    }

    fn filters(&mut self, filters: Option<&Vec<Filter>>) {
        let Some(filters) = filters else { return };
        self.list_length("filters", Some(filters.len()), 0, FILTERS);
        for (index, filter) in filters.iter().enumerate() {
            let member = |field: &str| format!("filters.{}.member.{field}", index + 1);
            self.one_of(&member("key"), filter.key.as_deref(), FILTER_KEYS);
            let Some(values) = &filter.values else {
                continue;
            };
            self.list_length(
                &member("values"),
                Some(values.len()),
                FILTER_VALUES.0,
                FILTER_VALUES.1,
            );
            for value in values {
                self.length(&member("values"), Some(value), 0, FILTER_VALUE);
                self.pattern(
                    &member("values"),
                    Some(value),
                    r"^\!?[a-zA-Z0-9 :_@\/\+\=\.\-\!]*$",
                    is_filter_value,
                );
            }
        }
    }

    fn tags(&mut self, tags: Option<&Vec<Tag>>) {
        for (index, tag) in tags.into_iter().flatten().enumerate() {
            let member = |field: &str| format!("tags.{}.member.{field}", index + 1);
            self.length(&member("key"), tag.key.as_deref(), TAG_KEY.0, TAG_KEY.1);
            self.length(
                &member("value"),
                tag.value.as_deref(),
                TAG_VALUE.0,
                TAG_VALUE.1,
            );
        }
    }

    /// A region's length. Its pattern is the service's to check: AWS answers a malformed
    /// region as it answers an unknown one, and a replica's refusal comes first.
    fn region(&mut self, member: &str, region: Option<&str>) {
        self.length(member, region, REGION.0, REGION.1);
    }
}

/// `^\!?[a-zA-Z0-9 :_@\/\+\=\.\-\!]*$`
fn is_filter_value(value: &str) -> bool {
    value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || " :_@/+=.-!".contains(c))
}

/// `^([a-z]+-)+\d+$`: groups of lowercase letters each followed by `-`, then digits.
pub fn is_region(value: &str) -> bool {
    let Some(split) = value.rfind('-') else {
        return false;
    };
    let (words, digits) = (&value[..split], &value[split + 1..]);
    !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit())
        && words
            .split('-')
            .all(|word| !word.is_empty() && word.chars().all(|c| c.is_ascii_lowercase()))
}

impl Validate for ListSecretsInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut check = Checker::default();
        check.range("maxResults", self.max_results, 1, 100);
        check.length("nextToken", self.next_token.as_deref(), 1, 4096);
        check.filters(self.filters.as_ref());
        check.one_of("sortOrder", self.sort_order.as_deref(), SORT_ORDERS);
        check.one_of("sortBy", self.sort_by.as_deref(), SORT_BY);
        check.finish()
    }
}

impl Validate for BatchGetSecretValueInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut check = Checker::default();
        if let Some(ids) = &self.secret_id_list {
            check.list_length("secretIdList", Some(ids.len()), 1, 20);
            for (index, id) in ids.iter().enumerate() {
                let member = format!("secretIdList.{}.member", index + 1);
                check.length(&member, Some(id), SECRET_ID.0, SECRET_ID.1);
            }
        }
        check.filters(self.filters.as_ref());
        check.range("maxResults", self.max_results, 1, 20);
        check.length("nextToken", self.next_token.as_deref(), 1, 4096);
        check.finish()
    }
}

impl Validate for TagResourceInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut check = Checker::default();
        check.secret_id(self.secret_id.as_ref());
        check.required("tags", self.tags.as_ref());
        check.tags(self.tags.as_ref());
        check.finish()
    }
}

impl Validate for UntagResourceInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut check = Checker::default();
        check.secret_id(self.secret_id.as_ref());
        check.required("tagKeys", self.tag_keys.as_ref());
        for (index, key) in self.tag_keys.iter().flatten().enumerate() {
            let member = format!("tagKeys.{}.member", index + 1);
            check.length(&member, Some(key), TAG_KEY.0, TAG_KEY.1);
        }
        check.finish()
    }
}

impl Validate for GetRandomPasswordInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut check = Checker::default();
        check.range("passwordLength", self.password_length, 1, 4096);
        check.length(
            "excludeCharacters",
            self.exclude_characters.as_deref(),
            0,
            4096,
        );
        check.finish()
    }
}

impl Checker {
    /// A required policy document, 1-20,480 characters, never repeated in the message.
    fn resource_policy(&mut self, policy: Option<&String>) {
        self.required("resourcePolicy", policy);
        self.sensitive_length(
            "resourcePolicy",
            policy.map(|p| p.chars().count()),
            RESOURCE_POLICY.0,
            RESOURCE_POLICY.1,
        );
    }
}

impl Validate for PutResourcePolicyInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut check = Checker::default();
        check.secret_id(self.secret_id.as_ref());
        check.resource_policy(self.resource_policy.as_ref());
        check.finish()
    }
}

impl Validate for ValidateResourcePolicyInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut check = Checker::default();
        check.length(
            "secretId",
            self.secret_id.as_deref(),
            SECRET_ID.0,
            SECRET_ID.1,
        );
        check.resource_policy(self.resource_policy.as_ref());
        check.finish()
    }
}

impl Validate for SecretIdInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut check = Checker::default();
        check.secret_id(self.secret_id.as_ref());
        check.finish()
    }
}

impl Validate for ReplicateSecretToRegionsInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut check = Checker::default();
        check.secret_id(self.secret_id.as_ref());
        check.required("addReplicaRegions", self.add_replica_regions.as_ref());
        check.replica_regions(self.add_replica_regions.as_ref());
        check.finish()
    }
}

impl Checker {
    fn replica_regions(&mut self, regions: Option<&Vec<ReplicaRegion>>) {
        let Some(regions) = regions else { return };
        self.list_length("addReplicaRegions", Some(regions.len()), 1, usize::MAX);
        for (index, replica) in regions.iter().enumerate() {
            let member = |field: &str| format!("addReplicaRegions.{}.member.{field}", index + 1);
            self.region(&member("region"), replica.region.as_deref());
            self.length(
                &member("kmsKeyId"),
                replica.kms_key_id.as_deref(),
                KMS_KEY_ID.0,
                KMS_KEY_ID.1,
            );
        }
    }
}

impl Validate for RemoveRegionsFromReplicationInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut check = Checker::default();
        check.secret_id(self.secret_id.as_ref());
        check.required("removeReplicaRegions", self.remove_replica_regions.as_ref());
        if let Some(regions) = &self.remove_replica_regions {
            check.list_length("removeReplicaRegions", Some(regions.len()), 1, usize::MAX);
            for (index, region) in regions.iter().enumerate() {
                check.region(
                    &format!("removeReplicaRegions.{}.member", index + 1),
                    Some(region),
                );
            }
        }
        check.finish()
    }
}

impl Validate for RotateSecretInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut check = Checker::default();
        check.secret_id(self.secret_id.as_ref());
        check.token(self.client_request_token.as_ref());
        check.length(
            "rotationLambdaARN",
            self.rotation_lambda_arn.as_deref(),
            0,
            2048,
        );
        if let Some(rules) = &self.rotation_rules {
            check.range(
                "rotationRules.automaticallyAfterDays",
                rules.automatically_after_days,
                1,
                1000,
            );
            check.length(
                "rotationRules.duration",
                rules.duration.as_deref(),
                DURATION.0,
                DURATION.1,
            );
            check.length(
                "rotationRules.scheduleExpression",
                rules.schedule_expression.as_deref(),
                SCHEDULE_EXPRESSION.0,
                SCHEDULE_EXPRESSION.1,
            );
        }
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
