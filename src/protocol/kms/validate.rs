//! The checks of the KMS model (kms 2014-11-01) that AWS's front end applies before an
//! operation runs: required members, lengths, ranges, enums and patterns, reported as a
//! `ValidationException` in AWS's words. Plaintexts and ciphertexts are never repeated.

use super::types::*;
use crate::protocol::ApiError;
use crate::protocol::validate::{Checker, Validate};

const KEY_ID: (usize, usize) = (1, 2048);
const GRANT_TOKENS: (usize, usize) = (0, 10);
const POLICY: (usize, usize) = (1, 131_072);
const DESCRIPTION: (usize, usize) = (0, 8192);
const CUSTOM_KEY_STORE_ID: (usize, usize) = (1, 64);
const XKS_KEY_ID: (usize, usize) = (1, 128);
const TAG_KEY: (usize, usize) = (1, 128);
const TAG_VALUE: (usize, usize) = (0, 256);
const MARKER: (usize, usize) = (1, 1024);
const ALIAS_NAME: (usize, usize) = (1, 256);
const PLAINTEXT: (usize, usize) = (1, 4096);
const CIPHERTEXT: (usize, usize) = (1, 6144);

pub const KEY_USAGES: &[&str] = &[
    "SIGN_VERIFY",
    "ENCRYPT_DECRYPT",
    "GENERATE_VERIFY_MAC",
    "KEY_AGREEMENT",
];
pub const CUSTOMER_MASTER_KEY_SPECS: &[&str] = &[
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "ECC_NIST_P256",
    "ECC_NIST_P384",
    "ECC_NIST_P521",
    "ECC_SECG_P256K1",
    "SYMMETRIC_DEFAULT",
    "HMAC_224",
    "HMAC_256",
    "HMAC_384",
    "HMAC_512",
    "SM2",
];
pub const KEY_SPECS: &[&str] = &[
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "ECC_NIST_P256",
    "ECC_NIST_P384",
    "ECC_NIST_P521",
    "ECC_SECG_P256K1",
    "SYMMETRIC_DEFAULT",
    "HMAC_224",
    "HMAC_256",
    "HMAC_384",
    "HMAC_512",
    "SM2",
    "ML_DSA_44",
    "ML_DSA_65",
    "ML_DSA_87",
    "ECC_NIST_EDWARDS25519",
];
pub const ORIGINS: &[&str] = &["AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"];
pub const ENCRYPTION_ALGORITHMS: &[&str] = &[
    "SYMMETRIC_DEFAULT",
    "RSAES_OAEP_SHA_1",
    "RSAES_OAEP_SHA_256",
    "SM2PKE",
];
pub const DATA_KEY_SPECS: &[&str] = &["AES_256", "AES_128"];

/// `^[a-zA-Z0-9:/_-]+$`, the model's pattern of an alias name.
pub fn is_alias_name(value: &str) -> bool {
    !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '_' | '-'))
}

/// `[\u0020-\u00FF]*`, the model's pattern of a marker.
fn is_marker(value: &str) -> bool {
    value.chars().all(|c| ('\u{20}'..='\u{FF}').contains(&c))
}

/// `[\u0009\u000A\u000D\u0020-\u00FF]+`, the model's pattern of a key policy.
fn is_policy(value: &str) -> bool {
    !value.is_empty()
        && value
            .chars()
            .all(|c| matches!(c, '\t' | '\n' | '\r') || ('\u{20}'..='\u{FF}').contains(&c))
}

trait KmsChecks {
    fn key_id(&mut self, member: &str, value: Option<&String>, required: bool);
    fn grant_tokens(&mut self, tokens: Option<&Vec<String>>);
    fn marker(&mut self, value: Option<&String>);
    fn alias_name(&mut self, value: Option<&String>);
    fn ciphertext(&mut self, value: Option<&Vec<u8>>);
    fn algorithm(&mut self, member: &str, value: Option<&String>);
}

impl KmsChecks for Checker {
    fn key_id(&mut self, member: &str, value: Option<&String>, required: bool) {
        if required {
            self.required(member, value);
        }
        self.length(member, value.map(String::as_str), KEY_ID.0, KEY_ID.1);
    }

    fn grant_tokens(&mut self, tokens: Option<&Vec<String>>) {
        self.list_length(
            "grantTokens",
            tokens.map(Vec::len),
            GRANT_TOKENS.0,
            GRANT_TOKENS.1,
        );
    }

    fn marker(&mut self, value: Option<&String>) {
        self.length("marker", value.map(String::as_str), MARKER.0, MARKER.1);
        self.pattern(
            "marker",
            value.map(String::as_str),
            "[\\u0020-\\u00FF]*",
            is_marker,
        );
    }

    fn alias_name(&mut self, value: Option<&String>) {
        self.required("aliasName", value);
        self.length(
            "aliasName",
            value.map(String::as_str),
            ALIAS_NAME.0,
            ALIAS_NAME.1,
        );
        if value.is_some_and(|v| !v.is_empty()) {
            self.pattern(
                "aliasName",
                value.map(String::as_str),
                "^[a-zA-Z0-9:/_-]+$",
                is_alias_name,
            );
        }
    }

    fn ciphertext(&mut self, value: Option<&Vec<u8>>) {
        self.required("ciphertextBlob", value);
        self.sensitive_length(
            "ciphertextBlob",
            value.map(Vec::len),
            CIPHERTEXT.0,
            CIPHERTEXT.1,
        );
    }

    fn algorithm(&mut self, member: &str, value: Option<&String>) {
        self.one_of(member, value.map(String::as_str), ENCRYPTION_ALGORITHMS);
    }
}

impl Validate for CreateKeyInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut check = Checker::default();
        check.length("policy", self.policy.as_deref(), POLICY.0, POLICY.1);
        if self.policy.as_ref().is_some_and(|p| !p.is_empty()) {
            // Never repeat a policy of up to 128 KiB in a message.
            if self.policy.as_deref().is_some_and(|p| !is_policy(p)) {
                check.sensitive_pattern("policy", "[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+");
            }
        }
        check.length(
            "description",
            self.description.as_deref(),
            DESCRIPTION.0,
            DESCRIPTION.1,
        );
        check.one_of("keyUsage", self.key_usage.as_deref(), KEY_USAGES);
        check.one_of(
            "customerMasterKeySpec",
            self.customer_master_key_spec.as_deref(),
            CUSTOMER_MASTER_KEY_SPECS,
        );
        check.one_of("keySpec", self.key_spec.as_deref(), KEY_SPECS);
        check.one_of("origin", self.origin.as_deref(), ORIGINS);
        check.length(
            "customKeyStoreId",
            self.custom_key_store_id.as_deref(),
            CUSTOM_KEY_STORE_ID.0,
            CUSTOM_KEY_STORE_ID.1,
        );
        check.length(
            "xksKeyId",
            self.xks_key_id.as_deref(),
            XKS_KEY_ID.0,
            XKS_KEY_ID.1,
        );
        for (index, tag) in self.tags.iter().flatten().enumerate() {
            let member = format!("tags.{}.member", index + 1);
            let key = format!("{member}.tagKey");
            let value = format!("{member}.tagValue");
            check.required(&key, tag.tag_key.as_ref());
            check.length(&key, tag.tag_key.as_deref(), TAG_KEY.0, TAG_KEY.1);
            check.required(&value, tag.tag_value.as_ref());
            check.length(&value, tag.tag_value.as_deref(), TAG_VALUE.0, TAG_VALUE.1);
        }
        check.finish()
    }
}

impl Validate for DescribeKeyInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut check = Checker::default();
        check.key_id("keyId", self.key_id.as_ref(), true);
        check.grant_tokens(self.grant_tokens.as_ref());
        check.finish()
    }
}

impl Validate for KeyIdInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut check = Checker::default();
        check.key_id("keyId", self.key_id.as_ref(), true);
        check.finish()
    }
}

impl Validate for ListKeysInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut check = Checker::default();
        check.range("limit", self.limit, 1, 1000);
        check.marker(self.marker.as_ref());
        check.finish()
    }
}

impl Validate for ScheduleKeyDeletionInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut check = Checker::default();
        check.key_id("keyId", self.key_id.as_ref(), true);
        check.range("pendingWindowInDays", self.pending_window_in_days, 1, 365);
        check.finish()
    }
}

impl Validate for AliasInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut check = Checker::default();
        check.alias_name(self.alias_name.as_ref());
        check.key_id("targetKeyId", self.target_key_id.as_ref(), true);
        check.finish()
    }
}

impl Validate for DeleteAliasInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut check = Checker::default();
        check.alias_name(self.alias_name.as_ref());
        check.finish()
    }
}

impl Validate for ListAliasesInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut check = Checker::default();
        check.key_id("keyId", self.key_id.as_ref(), false);
        check.range("limit", self.limit, 1, 1000);
        check.marker(self.marker.as_ref());
        check.finish()
    }
}

impl Validate for EncryptInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut check = Checker::default();
        check.key_id("keyId", self.key_id.as_ref(), true);
        check.required("plaintext", self.plaintext.as_ref());
        check.sensitive_length(
            "plaintext",
            self.plaintext.as_ref().map(|p| p.expose().len()),
            PLAINTEXT.0,
            PLAINTEXT.1,
        );
        check.grant_tokens(self.grant_tokens.as_ref());
        check.algorithm("encryptionAlgorithm", self.encryption_algorithm.as_ref());
        check.finish()
    }
}

impl Validate for DecryptInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut check = Checker::default();
        check.ciphertext(self.ciphertext_blob.as_ref());
        check.key_id("keyId", self.key_id.as_ref(), false);
        check.grant_tokens(self.grant_tokens.as_ref());
        check.algorithm("encryptionAlgorithm", self.encryption_algorithm.as_ref());
        check.finish()
    }
}

impl Validate for GenerateDataKeyInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut check = Checker::default();
        check.key_id("keyId", self.key_id.as_ref(), true);
        check.range("numberOfBytes", self.number_of_bytes, 1, 1024);
        check.one_of("keySpec", self.key_spec.as_deref(), DATA_KEY_SPECS);
        check.grant_tokens(self.grant_tokens.as_ref());
        check.finish()
    }
}

impl Validate for ReEncryptInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut check = Checker::default();
        check.ciphertext(self.ciphertext_blob.as_ref());
        check.key_id("sourceKeyId", self.source_key_id.as_ref(), false);
        check.key_id("destinationKeyId", self.destination_key_id.as_ref(), true);
        check.algorithm(
            "sourceEncryptionAlgorithm",
            self.source_encryption_algorithm.as_ref(),
        );
        check.algorithm(
            "destinationEncryptionAlgorithm",
            self.destination_encryption_algorithm.as_ref(),
        );
        check.grant_tokens(self.grant_tokens.as_ref());
        check.finish()
    }
}

impl Validate for EnableKeyRotationInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut check = Checker::default();
        check.key_id("keyId", self.key_id.as_ref(), true);
        check.range(
            "rotationPeriodInDays",
            self.rotation_period_in_days,
            90,
            2560,
        );
        check.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SecretBytes;
    use crate::protocol::ErrorCode;

    fn message(result: Result<(), ApiError>) -> String {
        match result {
            Ok(()) => panic!("expected a validation error"),
            Err(error) => {
                assert_eq!(error.code(), ErrorCode::ValidationException);
                error.message().to_owned()
            }
        }
    }

    #[test]
    fn plaintexts_are_limited_and_never_repeated() {
        let input = EncryptInput {
            key_id: Some("alias/app".into()),
            plaintext: Some(SecretBytes::new(vec![b'x'; 4097])),
            ..Default::default()
        };
        assert_eq!(
            message(input.validate()),
            "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: \
             Member must have length less than or equal to 4096"
        );
    }

    #[test]
    fn required_members_enums_and_ranges_follow_the_model() {
        let input = EncryptInput::default();
        assert_eq!(
            message(input.validate()),
            "2 validation errors detected: Value null at 'keyId' failed to satisfy constraint: \
             Member must not be null; Value null at 'plaintext' failed to satisfy constraint: \
             Member must not be null"
        );
        let input = CreateKeyInput {
            key_usage: Some("RANDOM".into()),
            ..Default::default()
        };
        assert_eq!(
            message(input.validate()),
            "1 validation error detected: Value 'RANDOM' at 'keyUsage' failed to satisfy \
             constraint: Member must satisfy enum value set: [SIGN_VERIFY, ENCRYPT_DECRYPT, \
             GENERATE_VERIFY_MAC, KEY_AGREEMENT]"
        );
        let input = GenerateDataKeyInput {
            key_id: Some("k".into()),
            number_of_bytes: Some(1025),
            ..Default::default()
        };
        assert_eq!(
            message(input.validate()),
            "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy \
             constraint: Member must have value less than or equal to 1024"
        );
        let input = AliasInput {
            alias_name: Some("alias/bad name".into()),
            target_key_id: Some("k".into()),
        };
        assert!(
            message(input.validate()).contains("Member must satisfy regular expression pattern")
        );
    }
}
