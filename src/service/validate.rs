//! Rules about identifiers: secret names, ARNs and their random suffix, request tokens.

use rand::Rng;
use rand::distr::Alphanumeric;

use crate::protocol::{ApiError, ErrorCode};

/// Characters a secret name may contain besides ASCII letters and digits.
const NAME_PUNCTUATION: &str = "/_+=.@-";

/// A secret name: 1-512 ASCII letters, digits and `/_+=.@-`.
pub fn check_name(name: &str) -> Result<(), ApiError> {
    let valid = !name.is_empty()
        && name.len() <= 512
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || NAME_PUNCTUATION.contains(c));
    if valid { Ok(()) } else { Err(invalid_name()) }
}

/// A `SecretId`: a name or an ARN. AWS checks its characters before looking the secret up, so
/// a malformed id is a validation error even where a missing secret would not be an error.
/// Names that AWS services create for their own secrets contain `!` (`rds!cluster-...`), so
/// it is accepted here.
pub fn check_secret_id(secret_id: &str) -> Result<(), ApiError> {
    let allows_colon = secret_id.starts_with("arn:");
    let valid = secret_id.chars().all(|c| {
        c.is_ascii_alphanumeric()
            || NAME_PUNCTUATION.contains(c)
            || c == '!'
            || (allows_colon && c == ':')
    });
    if valid { Ok(()) } else { Err(invalid_name()) }
}

/// The `SecretId` of a request, checked.
pub fn checked_secret_id(secret_id: Option<String>) -> Result<String, ApiError> {
    let secret_id = secret_id.unwrap_or_default();
    check_secret_id(&secret_id)?;
    Ok(secret_id)
}

fn invalid_name() -> ApiError {
    ApiError::new(
        ErrorCode::ValidationException,
        "Invalid name. Must be a valid name containing alphanumeric characters, or any of the \
         following: -/_+=.@!",
    )
}

/// The parts of a Secrets Manager ARN:
/// `arn:<partition>:secretsmanager:<region>:<account>:secret:<resource>`.
#[derive(Debug, PartialEq, Eq)]
pub struct ParsedArn<'a> {
    pub region: &'a str,
    pub account_id: &'a str,
    /// The name, with or without the random suffix.
    pub resource: &'a str,
}

pub fn parse_arn(text: &str) -> Option<ParsedArn<'_>> {
    let mut parts = text.splitn(7, ':');
    let (Some("arn"), Some(_partition), Some("secretsmanager"), Some(region), Some(account_id)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let (Some("secret"), Some(resource)) = (parts.next(), parts.next()) else {
        return None;
    };
    Some(ParsedArn {
        region,
        account_id,
        resource,
    })
}

/// Whether the name part of an ARN ends like a complete ARN: `-` and six characters.
pub fn has_arn_suffix(resource: &str) -> bool {
    resource.len() > 7 && resource.as_bytes()[resource.len() - 7] == b'-'
}

/// A new secret's ARN: its name, a hyphen and six random letters and digits, so that a secret
/// created again under an old name does not inherit grants made to the old one.
pub fn new_arn(region: &str, account_id: &str, name: &str) -> String {
    let suffix: String = rand::rng()
        .sample_iter(Alphanumeric)
        .take(6)
        .map(char::from)
        .collect();
    format!("arn:aws:secretsmanager:{region}:{account_id}:secret:{name}-{suffix}")
}

/// The version id for `value`, when there is a value (see [`require_token`]).
pub fn token_for_value<T>(
    value: Option<&T>,
    token: Option<&String>,
) -> Result<Option<String>, ApiError> {
    value
        .map(|_| require_token(token).map(str::to_owned))
        .transpose()
}

/// The version id of a new value. SDKs and the CLI always send a `ClientRequestToken`; a raw
/// caller that sends a value without one is refused, as AWS refuses it, since a retry could
/// otherwise create a second version.
pub fn require_token(token: Option<&String>) -> Result<&str, ApiError> {
    token.map(String::as_str).ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidRequestException,
            "You must provide a ClientRequestToken value. We recommend a UUID-type value.",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_allow_letters_digits_and_six_punctuation_marks() {
        for name in ["a", "prod/db/password", "A_b+c=d.e@f-1", &"x".repeat(512)] {
            assert!(check_name(name).is_ok(), "{name}");
        }
        for name in [
            "",
            "has space",
            "semi;colon",
            "é",
            "star*",
            &"x".repeat(513),
        ] {
            assert_eq!(
                check_name(name).err().map(|e| e.code()),
                Some(ErrorCode::ValidationException),
                "{name}"
            );
        }
    }

    #[test]
    fn secret_ids_are_names_or_arns() {
        for id in [
            "db",
            "rds!cluster-1",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
        ] {
            assert!(check_secret_id(id).is_ok(), "{id}");
        }
        for id in ["Inv Name", "db:colon", "a*b", "a?b"] {
            assert!(check_secret_id(id).is_err(), "{id}");
        }
    }

    #[test]
    fn arns_are_parsed_and_names_keep_their_colons_out() {
        let arn = "arn:aws:secretsmanager:us-west-2:123456789012:secret:prod/db-AbC123";
        assert_eq!(
            parse_arn(arn),
            Some(ParsedArn {
                region: "us-west-2",
                account_id: "123456789012",
                resource: "prod/db-AbC123"
            })
        );
        assert_eq!(parse_arn("prod/db"), None);
        assert_eq!(
            parse_arn("arn:aws:kms:us-west-2:123456789012:key/abc"),
            None
        );
        assert_eq!(
            parse_arn("arn:aws:secretsmanager:us-west-2:123456789012:other:x"),
            None
        );
    }

    #[test]
    fn complete_arns_end_in_a_hyphen_and_six_characters() {
        assert!(has_arn_suffix("db-AbC123"));
        assert!(has_arn_suffix("prod/db-a1b2c3"));
        assert!(!has_arn_suffix("db"));
        assert!(!has_arn_suffix("-AbC123"));
        assert!(!has_arn_suffix("db-AbC12"));
    }

    #[test]
    fn new_arns_end_in_six_random_alphanumerics() {
        let arn = new_arn("eu-west-1", "123456789012", "db");
        let suffix = arn.strip_prefix("arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-");
        assert!(
            suffix.is_some_and(|s| s.len() == 6 && s.chars().all(|c| c.is_ascii_alphanumeric())),
            "{arn}"
        );
        assert_ne!(new_arn("r", "a", "n"), new_arn("r", "a", "n"));
    }
}
