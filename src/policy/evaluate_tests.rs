//! Tests of policy evaluation: condition operators, policy variables, statement matching and
//! the decisions of [`evaluate`] and [`evaluate_key_policy`].

use std::net::IpAddr;

use proptest::prelude::*;

use super::*;

const ACCOUNT: &str = "111122223333";
const OTHER: &str = "444455556666";
const SECRET: &str = "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf";
const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
/// 2026-01-01T00:00:00Z.
const NOW: i64 = 1_767_225_600_000;

fn alice() -> Caller {
    Caller::user(ACCOUNT, "alice", "AIDAEXAMPLEALICE0001")
}

fn request(action: &str) -> RequestContext {
    RequestContext::new(alice(), action, SECRET, NOW)
}

fn get() -> RequestContext {
    request("secretsmanager:GetSecretValue")
}

fn parsed(document: &str, kind: PolicyKind) -> Policy {
    parse(document, kind).unwrap_or_else(|e| panic!("{e}: {document}"))
}

fn identity_policy(statements: &str) -> Policy {
    parsed(
        &format!(r#"{{"Version": "2012-10-17", "Statement": [{statements}]}}"#),
        PolicyKind::Identity,
    )
}

fn resource_policy(statements: &str) -> Policy {
    parsed(
        &format!(r#"{{"Version": "2012-10-17", "Statement": [{statements}]}}"#),
        PolicyKind::Resource,
    )
}

/// An identity policy allowing GetSecretValue on every resource under `condition` (the inside
/// of a `Condition` object).
fn allow_if(condition: &str) -> Policy {
    identity_policy(&format!(
        r#"{{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*",
            "Condition": {{{condition}}}}}"#
    ))
}

/// Whether the condition (the inside of a `Condition` object) holds for `request`.
#[track_caller]
fn holds(condition: &str, request: &RequestContext) -> bool {
    evaluate(request, &[&allow_if(condition)], None).is_allowed()
}

fn decision(request: &RequestContext, identity: &[&Policy], resource: Option<&Policy>) -> Decision {
    evaluate(request, identity, resource).decision
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn with_tag_keys(keys: &[&str]) -> RequestContext {
    let mut request = get();
    request.request_tags = keys
        .iter()
        .map(|k| (k.to_string(), "v".to_string()))
        .collect();
    request
}

// String operators.

#[test]
fn string_equals_is_exact_and_case_sensitive() {
    let request = get().with_key(
        "secretsmanager:Name",
        ContextValue::String("prod/db".into()),
    );
    assert!(holds(
        r#""StringEquals": {"secretsmanager:Name": "prod/db"}"#,
        &request
    ));
    assert!(!holds(
        r#""StringEquals": {"secretsmanager:Name": "Prod/db"}"#,
        &request
    ));
    assert!(!holds(
        r#""StringEquals": {"secretsmanager:Name": "prod/*"}"#,
        &request
    ));
}

#[test]
fn several_values_are_ored_and_several_keys_anded() {
    let request = get()
        .with_key(
            "secretsmanager:Name",
            ContextValue::String("prod/db".into()),
        )
        .with_key(
            "secretsmanager:VersionStage",
            ContextValue::String("AWSCURRENT".into()),
        );
    assert!(holds(
        r#""StringEquals": {"secretsmanager:Name": ["dev/db", "prod/db"]}"#,
        &request
    ));
    assert!(holds(
        r#""StringEquals": {"secretsmanager:Name": "prod/db",
                            "secretsmanager:VersionStage": "AWSCURRENT"}"#,
        &request
    ));
    assert!(!holds(
        r#""StringEquals": {"secretsmanager:Name": "prod/db",
                            "secretsmanager:VersionStage": "AWSPREVIOUS"}"#,
        &request
    ));
    // Two operators: AND too.
    assert!(!holds(
        r#""StringEquals": {"secretsmanager:Name": "prod/db"},
           "StringLike": {"secretsmanager:VersionStage": "AWSPENDING"}"#,
        &request
    ));
}

#[test]
fn negated_operators_nor_their_values() {
    let request = get().with_key(
        "secretsmanager:Name",
        ContextValue::String("prod/db".into()),
    );
    assert!(holds(
        r#""StringNotEquals": {"secretsmanager:Name": ["a", "b"]}"#,
        &request
    ));
    assert!(!holds(
        r#""StringNotEquals": {"secretsmanager:Name": ["a", "prod/db"]}"#,
        &request
    ));
    assert!(!holds(
        r#""StringNotLike": {"secretsmanager:Name": ["x*", "prod/*"]}"#,
        &request
    ));
    assert!(holds(
        r#""StringNotLike": {"secretsmanager:Name": ["x*", "dev/*"]}"#,
        &request
    ));
}

#[test]
fn ignore_case_operators() {
    let request = get().with_key(
        "secretsmanager:Name",
        ContextValue::String("Prod/DB".into()),
    );
    assert!(holds(
        r#""StringEqualsIgnoreCase": {"secretsmanager:Name": "prod/db"}"#,
        &request
    ));
    assert!(!holds(
        r#""StringNotEqualsIgnoreCase": {"secretsmanager:Name": "PROD/db"}"#,
        &request
    ));
    assert!(holds(
        r#""StringNotEqualsIgnoreCase": {"secretsmanager:Name": "dev/db"}"#,
        &request
    ));
}

#[test]
fn string_like_wildcards_are_case_sensitive() {
    let request = get().with_key(
        "secretsmanager:Name",
        ContextValue::String("prod/db".into()),
    );
    assert!(holds(
        r#""StringLike": {"secretsmanager:Name": "prod/*"}"#,
        &request
    ));
    assert!(holds(
        r#""StringLike": {"secretsmanager:Name": "pro?/d?"}"#,
        &request
    ));
    assert!(!holds(
        r#""StringLike": {"secretsmanager:Name": "PROD/*"}"#,
        &request
    ));
}

#[test]
fn condition_key_names_ignore_case() {
    let request = get().with_key(
        "secretsmanager:Name",
        ContextValue::String("prod/db".into()),
    );
    assert!(holds(
        r#""StringEquals": {"SecretsManager:NAME": "prod/db"}"#,
        &request
    ));
    let mut request = get();
    request.source_ip = Some(ip("203.0.113.7"));
    assert!(holds(
        r#""IpAddress": {"AWS:SourceIP": "203.0.113.0/24"}"#,
        &request
    ));
}

#[test]
fn tag_keys_in_condition_key_names_are_case_sensitive() {
    let mut request = get();
    request.resource_tags = vec![("Project".into(), "Alpha".into())];
    assert!(holds(
        r#""StringEquals": {"aws:ResourceTag/Project": "Alpha"}"#,
        &request
    ));
    assert!(holds(
        r#""StringEquals": {"AWS:resourcetag/Project": "Alpha"}"#,
        &request
    ));
    assert!(!holds(
        r#""StringEquals": {"aws:ResourceTag/project": "Alpha"}"#,
        &request
    ));
    let request = get().with_key("aws:PrincipalTag/Team", ContextValue::String("db".into()));
    assert!(holds(
        r#""StringEquals": {"aws:principaltag/Team": "db"}"#,
        &request
    ));
    assert!(!holds(
        r#""StringEquals": {"aws:PrincipalTag/team": "db"}"#,
        &request
    ));
}

// Missing keys, IfExists and Null.

#[test]
fn a_missing_key_fails_positive_operators_and_passes_negated_ones() {
    let request = get();
    for positive in [
        r#""StringEquals": {"secretsmanager:VersionStage": "AWSCURRENT"}"#,
        r#""StringLike": {"secretsmanager:VersionStage": "*"}"#,
        r#""NumericLessThan": {"secretsmanager:RecoveryWindowInDays": "30"}"#,
        r#""DateGreaterThan": {"aws:TokenIssueTime": "2020-01-01"}"#,
        r#""Bool": {"aws:SecureTransport": "true"}"#,
        r#""IpAddress": {"aws:SourceIp": "0.0.0.0/0"}"#,
        r#""ArnLike": {"aws:SourceArn": "arn:*:*:*:*:*"}"#,
    ] {
        assert!(!holds(positive, &request), "{positive}");
    }
    for negated in [
        r#""StringNotEquals": {"secretsmanager:VersionStage": "AWSCURRENT"}"#,
        r#""StringNotLike": {"secretsmanager:VersionStage": "*"}"#,
        r#""NumericNotEquals": {"secretsmanager:RecoveryWindowInDays": "30"}"#,
        r#""DateNotEquals": {"aws:TokenIssueTime": "2020-01-01"}"#,
        r#""NotIpAddress": {"aws:SourceIp": "0.0.0.0/0"}"#,
        r#""ArnNotLike": {"aws:SourceArn": "arn:*:*:*:*:*"}"#,
        r#""StringNotEqualsIgnoreCase": {"secretsmanager:VersionStage": "x"}"#,
    ] {
        assert!(holds(negated, &request), "{negated}");
    }
}

#[test]
fn if_exists_passes_when_the_key_is_missing_and_tests_it_when_present() {
    let absent = get();
    let present = get().with_key(
        "secretsmanager:VersionStage",
        ContextValue::String("AWSPENDING".into()),
    );
    let condition = r#""StringEqualsIfExists": {"secretsmanager:VersionStage": "AWSCURRENT"}"#;
    assert!(holds(condition, &absent));
    assert!(!holds(condition, &present));
    let negated = r#""StringNotEqualsIfExists": {"secretsmanager:VersionStage": "AWSPENDING"}"#;
    assert!(holds(negated, &absent));
    assert!(!holds(negated, &present));
    // BoolIfExists on aws:SecureTransport: requests that say nothing pass.
    assert!(holds(
        r#""BoolIfExists": {"aws:SecureTransport": "true"}"#,
        &absent
    ));
}

#[test]
fn null_tests_presence() {
    let absent = get();
    let mut present = get();
    present.secure_transport = Some(false);
    let is_null = r#""Null": {"aws:SecureTransport": "true"}"#;
    let not_null = r#""Null": {"aws:SecureTransport": "false"}"#;
    assert!(holds(is_null, &absent));
    assert!(!holds(is_null, &present));
    assert!(!holds(not_null, &absent));
    assert!(holds(not_null, &present));
    // The IAM User Guide's example: aws:TokenIssueTime is present only with temporary
    // credentials, so `Null: true` singles out long-term credentials.
    assert!(holds(r#""Null": {"aws:TokenIssueTime": "true"}"#, &absent));
    // A multivalued key with no values counts as absent.
    assert!(holds(
        r#""Null": {"aws:TagKeys": "true"}"#,
        &with_tag_keys(&[])
    ));
    assert!(holds(
        r#""Null": {"aws:TagKeys": "false"}"#,
        &with_tag_keys(&["a"])
    ));
    // Not a boolean: no match.
    assert!(!holds(
        r#""Null": {"aws:SecureTransport": "maybe"}"#,
        &absent
    ));
}

// Set operators.

#[test]
fn for_all_values_requires_every_request_value_to_match() {
    let condition = r#""ForAllValues:StringEquals": {"aws:TagKeys": ["Project", "Owner"]}"#;
    assert!(holds(condition, &with_tag_keys(&["Project"])));
    assert!(holds(condition, &with_tag_keys(&["Project", "Owner"])));
    assert!(!holds(condition, &with_tag_keys(&["Project", "Secret"])));
    // True with no values at all: the IAM User Guide's warning about ForAllValues with Allow.
    assert!(holds(condition, &with_tag_keys(&[])));
}

#[test]
fn for_any_value_requires_one_request_value_to_match() {
    let condition = r#""ForAnyValue:StringLike": {"aws:TagKeys": ["Proj*"]}"#;
    assert!(holds(condition, &with_tag_keys(&["Owner", "Project"])));
    assert!(!holds(condition, &with_tag_keys(&["Owner"])));
    assert!(!holds(condition, &with_tag_keys(&[])));
    let if_exists = r#""ForAnyValue:StringLikeIfExists": {"aws:SourceVpce": ["vpce-1*"]}"#;
    assert!(holds(if_exists, &get()));
}

#[test]
fn set_operators_with_negated_operators() {
    // No tag key may be one of these.
    let condition = r#""ForAllValues:StringNotEquals": {"aws:TagKeys": ["Secret", "Admin"]}"#;
    assert!(holds(condition, &with_tag_keys(&["Project", "Owner"])));
    assert!(!holds(condition, &with_tag_keys(&["Project", "Admin"])));
    // At least one tag key is none of these.
    let condition = r#""ForAnyValue:StringNotEquals": {"aws:TagKeys": ["Project"]}"#;
    assert!(holds(condition, &with_tag_keys(&["Project", "Owner"])));
    assert!(!holds(condition, &with_tag_keys(&["Project"])));
}

#[test]
fn set_operators_on_a_single_value_treat_it_as_a_set_of_one() {
    let request = get().with_key(
        "secretsmanager:Name",
        ContextValue::String("prod/db".into()),
    );
    assert!(holds(
        r#""ForAnyValue:StringLike": {"secretsmanager:Name": "prod/*"}"#,
        &request
    ));
    assert!(holds(
        r#""ForAllValues:StringLike": {"secretsmanager:Name": "prod/*"}"#,
        &request
    ));
    assert!(!holds(
        r#""ForAllValues:StringLike": {"secretsmanager:Name": "dev/*"}"#,
        &request
    ));
}

#[test]
fn a_single_valued_operator_on_a_multivalued_key_matches_any_value() {
    let request = with_tag_keys(&["Project", "Owner"]);
    assert!(holds(
        r#""StringEquals": {"aws:TagKeys": "Owner"}"#,
        &request
    ));
    assert!(!holds(
        r#""StringNotEquals": {"aws:TagKeys": "Owner"}"#,
        &request
    ));
    assert!(holds(
        r#""StringNotEquals": {"aws:TagKeys": "Admin"}"#,
        &request
    ));
}

// Numbers, dates, booleans, addresses, ARNs.

#[test]
fn numeric_operators() {
    let request = get().with_key(
        "secretsmanager:RecoveryWindowInDays",
        ContextValue::Number(7.0),
    );
    let case = |operator: &str, value: &str| {
        holds(
            &format!(r#""{operator}": {{"secretsmanager:RecoveryWindowInDays": "{value}"}}"#),
            &request,
        )
    };
    assert!(case("NumericEquals", "7"));
    assert!(case("NumericEquals", "7.0"));
    assert!(!case("NumericEquals", "8"));
    assert!(case("NumericNotEquals", "8"));
    assert!(!case("NumericNotEquals", "7"));
    assert!(case("NumericLessThan", "8"));
    assert!(!case("NumericLessThan", "7"));
    assert!(case("NumericLessThanEquals", "7"));
    assert!(case("NumericGreaterThan", "6.5"));
    assert!(!case("NumericGreaterThan", "7"));
    assert!(case("NumericGreaterThanEquals", "7"));
    assert!(!case("NumericEquals", "seven"));
    // A JSON number in the policy, and a number given as text in the request.
    let request = get().with_key(
        "secretsmanager:RecoveryWindowInDays",
        ContextValue::String("30".into()),
    );
    assert!(holds(
        r#""NumericGreaterThanEquals": {"secretsmanager:RecoveryWindowInDays": 30}"#,
        &request
    ));
}

#[test]
fn date_operators_take_iso8601_and_epoch_values() {
    let request = get(); // aws:CurrentTime is 2026-01-01T00:00:00Z
    assert!(holds(
        r#""DateGreaterThan": {"aws:CurrentTime": "2025-12-31T23:59:59Z"}"#,
        &request
    ));
    assert!(!holds(
        r#""DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}"#,
        &request
    ));
    assert!(holds(
        r#""DateGreaterThanEquals": {"aws:CurrentTime": "2026-01-01"}"#,
        &request
    ));
    assert!(holds(
        r#""DateLessThan": {"aws:CurrentTime": "2026-06-30T00:00:00Z"}"#,
        &request
    ));
    assert!(holds(
        r#""DateLessThanEquals": {"aws:CurrentTime": "1767225600"}"#,
        &request
    ));
    assert!(holds(
        r#""DateEquals": {"aws:CurrentTime": "2026-01-01T01:00:00+01:00"}"#,
        &request
    ));
    assert!(holds(
        r#""DateNotEquals": {"aws:CurrentTime": "2026-01-02"}"#,
        &request
    ));
    assert!(!holds(
        r#""DateLessThan": {"aws:CurrentTime": "not a date"}"#,
        &request
    ));
    // aws:EpochTime: seconds, comparable as a date or a number.
    assert!(holds(
        r#""DateGreaterThan": {"aws:EpochTime": "2025-01-01T00:00:00Z"}"#,
        &request
    ));
    assert!(holds(
        r#""NumericEquals": {"aws:EpochTime": 1767225600}"#,
        &request
    ));
    // The IAM User Guide's time-window example: allowed between two dates.
    let window = r#""DateGreaterThan": {"aws:CurrentTime": "2020-04-01T00:00:00Z"},
                    "DateLessThan": {"aws:CurrentTime": "2020-06-30T23:59:59Z"}"#;
    assert!(!holds(window, &request));
    let mut in_window = get();
    in_window.now_millis = 1_590_000_000_000; // 2020-05-20
    assert!(holds(window, &in_window));
}

#[test]
fn bool_operator() {
    let mut request = get();
    request.secure_transport = Some(true);
    assert!(holds(
        r#""Bool": {"aws:SecureTransport": "true"}"#,
        &request
    ));
    assert!(holds(r#""Bool": {"aws:SecureTransport": true}"#, &request));
    assert!(holds(
        r#""Bool": {"aws:SecureTransport": "TRUE"}"#,
        &request
    ));
    assert!(!holds(
        r#""Bool": {"aws:SecureTransport": "false"}"#,
        &request
    ));
    assert!(!holds(
        r#""Bool": {"aws:SecureTransport": "yes"}"#,
        &request
    ));
}

#[test]
fn ip_address_operators_with_ipv4_and_ipv6() {
    let mut v4 = get();
    v4.source_ip = Some(ip("192.0.2.44"));
    let mut v6 = get();
    v6.source_ip = Some(ip("2001:db8:1234:5678::1"));
    let ranges = r#"["192.0.2.0/24", "2001:DB8:1234:5678::/64"]"#;
    assert!(holds(
        &format!(r#""IpAddress": {{"aws:SourceIp": {ranges}}}"#),
        &v4
    ));
    assert!(holds(
        &format!(r#""IpAddress": {{"aws:SourceIp": {ranges}}}"#),
        &v6
    ));
    assert!(!holds(
        &format!(r#""NotIpAddress": {{"aws:SourceIp": {ranges}}}"#),
        &v4
    ));
    let mut outside = get();
    outside.source_ip = Some(ip("198.51.100.1"));
    assert!(!holds(
        &format!(r#""IpAddress": {{"aws:SourceIp": {ranges}}}"#),
        &outside
    ));
    assert!(holds(
        &format!(r#""NotIpAddress": {{"aws:SourceIp": {ranges}}}"#),
        &outside
    ));
    assert!(holds(
        r#""IpAddress": {"aws:SourceIp": "198.51.100.1"}"#,
        &outside
    ));
    assert!(!holds(
        r#""IpAddress": {"aws:SourceIp": "not-an-ip/8"}"#,
        &outside
    ));
}

#[test]
fn arn_operators_match_field_by_field() {
    let request = get(); // aws:PrincipalArn is alice's ARN
    assert!(holds(
        r#""ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:user/alice"}"#,
        &request
    ));
    assert!(holds(
        r#""ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/*"}"#,
        &request
    ));
    assert!(holds(
        r#""ArnLike": {"aws:PrincipalArn": "arn:*:iam::111122223333:*"}"#,
        &request
    ));
    // A `*` does not cross a colon: this pattern has too few fields.
    assert!(!holds(
        r#""ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*"}"#,
        &request
    ));
    assert!(!holds(
        r#""ArnLike": {"aws:PrincipalArn": "arn:aws:iam::444455556666:*"}"#,
        &request
    ));
    assert!(holds(
        r#""ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::444455556666:*"}"#,
        &request
    ));
    assert!(!holds(
        r#""ArnNotEquals": {"aws:PrincipalArn": "arn:aws:iam::*:user/alice"}"#,
        &request
    ));
    // Not an ARN: no match.
    let request = get().with_key("aws:SourceArn", ContextValue::String("nonsense".into()));
    assert!(!holds(r#""ArnLike": {"aws:SourceArn": "*"}"#, &request));
}

// Policy variables.

#[test]
fn policy_variables_in_resources() {
    let policy = identity_policy(
        r#"{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
            "Resource": "arn:aws:secretsmanager:*:111122223333:secret:${aws:username}/*"}"#,
    );
    let mut own = get();
    own.resource = "arn:aws:secretsmanager:us-east-1:111122223333:secret:alice/db-AbCdEf".into();
    let mut other = get();
    other.resource = "arn:aws:secretsmanager:us-east-1:111122223333:secret:bob/db-AbCdEf".into();
    assert_eq!(decision(&own, &[&policy], None), Decision::Allow);
    assert_eq!(decision(&other, &[&policy], None), Decision::ImplicitDeny);
}

#[test]
fn policy_variables_are_literal_in_version_2008() {
    let policy = parsed(
        r#"{"Version": "2008-10-17", "Statement": [{"Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "arn:aws:secretsmanager:*:111122223333:secret:${aws:username}/*"}]}"#,
        PolicyKind::Identity,
    );
    let mut own = get();
    own.resource = "arn:aws:secretsmanager:us-east-1:111122223333:secret:alice/db-AbCdEf".into();
    assert_eq!(decision(&own, &[&policy], None), Decision::ImplicitDeny);
    own.resource = "arn:aws:secretsmanager:us-east-1:111122223333:secret:${aws:username}/x".into();
    assert_eq!(decision(&own, &[&policy], None), Decision::Allow);
}

#[test]
fn policy_variables_in_condition_values() {
    // The ABAC pattern of the Secrets Manager user guide: the secret's tag must equal the
    // caller's tag.
    let mut request = get().with_key(
        "aws:PrincipalTag/AccessProject",
        ContextValue::String("alpha".into()),
    );
    request.resource_tags = vec![("AccessProject".into(), "alpha".into())];
    let condition =
        r#""StringEquals": {"aws:ResourceTag/AccessProject": "${aws:PrincipalTag/AccessProject}"}"#;
    assert!(holds(condition, &request));
    request.resource_tags = vec![("AccessProject".into(), "beta".into())];
    assert!(!holds(condition, &request));
}

#[test]
fn a_variable_without_a_value_makes_its_element_fail_unless_it_has_a_default() {
    // aws:username is absent for the root user and for role sessions.
    let session = RequestContext::new(
        Caller::assumed_role(ACCOUNT, "app", "s1", "AROAEXAMPLEAPP000001"),
        "secretsmanager:GetSecretValue",
        SECRET,
        NOW,
    );
    let condition = r#""StringLike": {"secretsmanager:Name": "${aws:username}/*"}"#;
    let session = session.with_key("secretsmanager:Name", ContextValue::String("x/db".into()));
    assert!(!holds(condition, &session));
    // Even a negated operator: the statement is invalid for this request.
    assert!(!holds(
        r#""StringNotLike": {"secretsmanager:Name": "${aws:username}/*"}"#,
        &session
    ));
    let with_default = r#""StringLike": {"secretsmanager:Name": "${aws:username, 'x'}/*"}"#;
    assert!(holds(with_default, &session));
}

#[test]
fn variable_text_is_literal_and_special_variables_escape_wildcards() {
    // A tag value holding `*` does not become a wildcard.
    let mut request = get().with_key(
        "secretsmanager:Name",
        ContextValue::String("team-x/db".into()),
    );
    request.resource_tags = vec![("Team".into(), "*".into())];
    assert!(!holds(
        r#""StringLike": {"secretsmanager:Name": "${aws:ResourceTag/Team}/db"}"#,
        &request
    ));
    request.resource_tags = vec![("Team".into(), "team-x".into())];
    assert!(holds(
        r#""StringLike": {"secretsmanager:Name": "${aws:ResourceTag/Team}/*"}"#,
        &request
    ));
    // ${*} is a literal asterisk.
    let request = get().with_key("secretsmanager:Name", ContextValue::String("a*".into()));
    assert!(holds(
        r#""StringLike": {"secretsmanager:Name": "a${*}"}"#,
        &request
    ));
    let request = get().with_key("secretsmanager:Name", ContextValue::String("ab".into()));
    assert!(!holds(
        r#""StringLike": {"secretsmanager:Name": "a${*}"}"#,
        &request
    ));
    assert!(holds(
        r#""StringLike": {"secretsmanager:Name": "a${?}"}"#,
        &get().with_key("secretsmanager:Name", ContextValue::String("a?".into()))
    ));
    assert!(holds(
        r#""StringEquals": {"secretsmanager:Name": "${$}x"}"#,
        &get().with_key("secretsmanager:Name", ContextValue::String("$x".into()))
    ));
    // A default with a quoted quote.
    assert!(holds(
        r#""StringEquals": {"secretsmanager:Name": "${aws:username2, 'it''s'}"}"#,
        &get().with_key("secretsmanager:Name", ContextValue::String("it's".into()))
    ));
}

// Actions, resources and their negations.

#[test]
fn actions_ignore_case_and_take_wildcards() {
    let policy = identity_policy(
        r#"{"Effect": "Allow", "Action": ["SecretsManager:get*", "kms:Decrypt"], "Resource": "*"}"#,
    );
    assert_eq!(decision(&get(), &[&policy], None), Decision::Allow);
    assert_eq!(
        decision(&request("secretsmanager:DescribeSecret"), &[&policy], None),
        Decision::ImplicitDeny
    );
    assert_eq!(
        decision(&request("kms:decrypt"), &[&policy], None),
        Decision::Allow
    );
}

#[test]
fn not_action_allows_everything_but_its_actions() {
    let policy = identity_policy(
        r#"{"Effect": "Allow", "NotAction": "secretsmanager:Delete*", "Resource": "*"}"#,
    );
    assert_eq!(decision(&get(), &[&policy], None), Decision::Allow);
    assert_eq!(
        decision(&request("secretsmanager:DeleteSecret"), &[&policy], None),
        Decision::ImplicitDeny
    );
}

#[test]
fn resources_are_case_sensitive_and_take_question_marks() {
    // The Secrets Manager user guide recommends `-??????` for the random suffix of an ARN.
    let policy = identity_policy(
        r#"{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
            "Resource": "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-??????"}"#,
    );
    assert_eq!(decision(&get(), &[&policy], None), Decision::Allow);
    let mut longer = get();
    longer.resource =
        "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-admin-AbCdEf".into();
    assert_eq!(decision(&longer, &[&policy], None), Decision::ImplicitDeny);
    let mut upper = get();
    upper.resource = SECRET.replace("prod", "PROD");
    assert_eq!(decision(&upper, &[&policy], None), Decision::ImplicitDeny);
}

#[test]
fn not_resource_applies_to_every_other_resource() {
    let deny_others = identity_policy(
        r#"{"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"},
           {"Effect": "Deny", "Action": "secretsmanager:*",
            "NotResource": "arn:aws:secretsmanager:*:111122223333:secret:prod/*"}"#,
    );
    assert_eq!(decision(&get(), &[&deny_others], None), Decision::Allow);
    let mut dev = get();
    dev.resource = "arn:aws:secretsmanager:us-east-1:111122223333:secret:dev/db-AbCdEf".into();
    assert_eq!(
        decision(&dev, &[&deny_others], None),
        Decision::ExplicitDeny
    );
}

// Decisions.

#[test]
fn nothing_allows_by_default() {
    let evaluation = evaluate(&get(), &[], None);
    assert_eq!(evaluation.decision, Decision::ImplicitDeny);
    assert_eq!(evaluation.policy_type, Some(PolicyType::Identity));
}

#[test]
fn an_explicit_deny_anywhere_wins() {
    let allow = identity_policy(r#"{"Effect": "Allow", "Action": "*", "Resource": "*"}"#);
    let deny = identity_policy(
        r#"{"Effect": "Deny", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}"#,
    );
    let evaluation = evaluate(&get(), &[&allow, &deny], None);
    assert_eq!(evaluation.decision, Decision::ExplicitDeny);
    assert_eq!(evaluation.policy_type, Some(PolicyType::Identity));

    let resource_deny =
        resource_policy(r#"{"Effect": "Deny", "Principal": "*", "Action": "secretsmanager:*"}"#);
    let evaluation = evaluate(&get(), &[&allow], Some(&resource_deny));
    assert_eq!(evaluation.decision, Decision::ExplicitDeny);
    assert_eq!(evaluation.policy_type, Some(PolicyType::Resource));
}

#[test]
fn same_account_either_policy_allows() {
    let identity_allow = identity_policy(
        r#"{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}"#,
    );
    let resource_allow = resource_policy(
        r#"{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"},
            "Action": "secretsmanager:GetSecretValue", "Resource": "*"}"#,
    );
    let by_identity = evaluate(&get(), &[&identity_allow], None);
    assert_eq!(by_identity.decision, Decision::Allow);
    assert_eq!(by_identity.policy_type, Some(PolicyType::Identity));
    let by_resource = evaluate(&get(), &[], Some(&resource_allow));
    assert_eq!(by_resource.decision, Decision::Allow);
    assert_eq!(by_resource.policy_type, Some(PolicyType::Resource));
}

#[test]
fn an_account_principal_delegates_to_identity_policies() {
    for principal in [r#""111122223333""#, r#""arn:aws:iam::111122223333:root""#] {
        let account = resource_policy(&format!(
            r#"{{"Effect": "Allow", "Principal": {{"AWS": {principal}}},
                "Action": "secretsmanager:GetSecretValue"}}"#
        ));
        // On its own it allows no IAM user of the account ...
        assert_eq!(
            decision(&get(), &[], Some(&account)),
            Decision::ImplicitDeny,
            "{principal}"
        );
        // ... but the account's root user, and anyone an identity policy allows.
        let root = RequestContext::new(
            Caller::root(ACCOUNT),
            "secretsmanager:GetSecretValue",
            SECRET,
            NOW,
        );
        assert_eq!(decision(&root, &[], Some(&account)), Decision::Allow);
        let identity = identity_policy(
            r#"{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}"#,
        );
        assert_eq!(
            decision(&get(), &[&identity], Some(&account)),
            Decision::Allow
        );
    }
    // A Deny naming the account applies to everyone in it.
    let deny_account = resource_policy(
        r#"{"Effect": "Deny", "Principal": {"AWS": "111122223333"}, "Action": "*"}"#,
    );
    let identity = identity_policy(r#"{"Effect": "Allow", "Action": "*", "Resource": "*"}"#);
    assert_eq!(
        decision(&get(), &[&identity], Some(&deny_account)),
        Decision::ExplicitDeny
    );
}

#[test]
fn resource_policy_principals() {
    let allow = |principal: &str| {
        resource_policy(&format!(
            r#"{{"Effect": "Allow", "Principal": {principal}, "Action": "secretsmanager:*"}}"#
        ))
    };
    let alice = get();
    for (principal, expected) in [
        (r#""*""#, Decision::Allow),
        (r#"{"AWS": "*"}"#, Decision::Allow),
        (
            r#"{"AWS": "arn:aws:iam::111122223333:user/alice"}"#,
            Decision::Allow,
        ),
        (
            r#"{"AWS": ["arn:aws:iam::111122223333:user/bob", "AIDAEXAMPLEALICE0001"]}"#,
            Decision::Allow,
        ),
        (
            r#"{"AWS": "arn:aws:iam::111122223333:user/bob"}"#,
            Decision::ImplicitDeny,
        ),
        (
            r#"{"AWS": "arn:aws:iam::444455556666:user/alice"}"#,
            Decision::ImplicitDeny,
        ),
        (
            r#"{"Service": "secretsmanager.amazonaws.com"}"#,
            Decision::ImplicitDeny,
        ),
    ] {
        assert_eq!(
            decision(&alice, &[], Some(&allow(principal))),
            expected,
            "{principal}"
        );
    }
    // A role covers its sessions; the session ARN names one session.
    let session = RequestContext::new(
        Caller::assumed_role(ACCOUNT, "app", "s1", "AROAEXAMPLEAPP000001"),
        "secretsmanager:GetSecretValue",
        SECRET,
        NOW,
    );
    for principal in [
        r#"{"AWS": "arn:aws:iam::111122223333:role/app"}"#,
        r#"{"AWS": "arn:aws:sts::111122223333:assumed-role/app/s1"}"#,
    ] {
        assert_eq!(
            decision(&session, &[], Some(&allow(principal))),
            Decision::Allow,
            "{principal}"
        );
    }
    let other_session = r#"{"AWS": "arn:aws:sts::111122223333:assumed-role/app/s2"}"#;
    assert_eq!(
        decision(&session, &[], Some(&allow(other_session))),
        Decision::ImplicitDeny
    );
}

#[test]
fn not_principal_applies_to_everyone_else() {
    let deny_all_but_admin = resource_policy(
        r#"{"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:user/admin"},
            "Action": "secretsmanager:*"}"#,
    );
    let identity = identity_policy(r#"{"Effect": "Allow", "Action": "*", "Resource": "*"}"#);
    assert_eq!(
        decision(&get(), &[&identity], Some(&deny_all_but_admin)),
        Decision::ExplicitDeny
    );
    let mut admin = get();
    admin.caller = Caller::user(ACCOUNT, "admin", "AIDAEXAMPLEADMIN0001");
    assert_eq!(
        decision(&admin, &[&identity], Some(&deny_all_but_admin)),
        Decision::Allow
    );
}

#[test]
fn the_root_user_has_full_access_unless_a_resource_policy_denies() {
    let root = RequestContext::new(
        Caller::root(ACCOUNT),
        "secretsmanager:DeleteSecret",
        SECRET,
        NOW,
    );
    let evaluation = evaluate(&root, &[], None);
    assert_eq!(
        evaluation,
        Evaluation {
            decision: Decision::Allow,
            policy_type: None
        }
    );
    // Identity policies do not apply to root, not even their denies.
    let deny = identity_policy(r#"{"Effect": "Deny", "Action": "*", "Resource": "*"}"#);
    assert_eq!(decision(&root, &[&deny], None), Decision::Allow);
    let resource_deny = resource_policy(
        r#"{"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "secretsmanager:DeleteSecret"}"#,
    );
    assert_eq!(
        decision(&root, &[], Some(&resource_deny)),
        Decision::ExplicitDeny
    );
}

#[test]
fn cross_account_needs_both_sides() {
    let mut outsider = get();
    outsider.caller = Caller::user(OTHER, "carol", "AIDAEXAMPLECAROL0001");
    let identity = identity_policy(
        r#"{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}"#,
    );
    let resource = resource_policy(
        r#"{"Effect": "Allow", "Principal": {"AWS": "444455556666"},
            "Action": "secretsmanager:GetSecretValue"}"#,
    );
    assert_eq!(
        evaluate(&outsider, &[&identity], Some(&resource)).decision,
        Decision::Allow
    );
    let no_resource = evaluate(&outsider, &[&identity], None);
    assert_eq!(no_resource.decision, Decision::ImplicitDeny);
    assert_eq!(no_resource.policy_type, Some(PolicyType::Resource));
    let no_identity = evaluate(&outsider, &[], Some(&resource));
    assert_eq!(no_identity.decision, Decision::ImplicitDeny);
    assert_eq!(no_identity.policy_type, Some(PolicyType::Identity));
    // The other account's root user needs only the resource policy.
    let mut other_root = get();
    other_root.caller = Caller::root(OTHER);
    assert_eq!(decision(&other_root, &[], Some(&resource)), Decision::Allow);
    assert_eq!(decision(&other_root, &[], None), Decision::ImplicitDeny);
}

// Examples modelled on the Secrets Manager user guide's policies.

#[test]
fn guide_example_resource_tag_limits_access_to_tagged_secrets() {
    // "secretsmanager:ResourceTag/<key>": allow reading only secrets tagged for the team.
    let policy = identity_policy(
        r#"{"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            "Resource": "*",
            "Condition": {"StringEquals": {"secretsmanager:ResourceTag/Team": "Database"}}}"#,
    );
    let mut tagged = get();
    tagged.resource_tags = vec![("Team".into(), "Database".into())];
    let mut other = get();
    other.resource_tags = vec![("Team".into(), "Web".into())];
    assert_eq!(decision(&tagged, &[&policy], None), Decision::Allow);
    assert_eq!(decision(&other, &[&policy], None), Decision::ImplicitDeny);
    assert_eq!(
        decision(&get(), &[&policy], None),
        Decision::ImplicitDeny,
        "untagged"
    );
}

#[test]
fn guide_example_version_stage_limits_reads_to_awscurrent() {
    let policy = identity_policy(
        r#"{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*",
            "Condition": {"ForAnyValue:StringEquals": {"secretsmanager:VersionStage": "AWSCURRENT"}}}"#,
    );
    let stage = |s: &str| {
        get().with_key(
            "secretsmanager:VersionStage",
            ContextValue::String(s.into()),
        )
    };
    assert_eq!(
        decision(&stage("AWSCURRENT"), &[&policy], None),
        Decision::Allow
    );
    assert_eq!(
        decision(&stage("AWSPREVIOUS"), &[&policy], None),
        Decision::ImplicitDeny
    );
}

#[test]
fn guide_example_source_ip_denies_calls_from_elsewhere() {
    // A Deny with NotIpAddress on aws:SourceIp, next to an Allow.
    let policy = identity_policy(
        r#"{"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"},
           {"Effect": "Deny", "Action": "secretsmanager:*", "Resource": "*",
            "Condition": {"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24"]}}}"#,
    );
    let mut inside = get();
    inside.source_ip = Some(ip("203.0.113.10"));
    let mut outside = get();
    outside.source_ip = Some(ip("198.51.100.10"));
    assert_eq!(decision(&inside, &[&policy], None), Decision::Allow);
    assert_eq!(decision(&outside, &[&policy], None), Decision::ExplicitDeny);
    // No source address known (NotIpAddress on a missing key is true): denied.
    assert_eq!(decision(&get(), &[&policy], None), Decision::ExplicitDeny);
}

#[test]
fn guide_example_secure_transport_deny() {
    let policy = resource_policy(
        r#"{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"},
            "Action": "secretsmanager:GetSecretValue"},
           {"Effect": "Deny", "Principal": "*", "Action": "secretsmanager:*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}"#,
    );
    let mut tls = get();
    tls.secure_transport = Some(true);
    let mut plain = get();
    plain.secure_transport = Some(false);
    assert_eq!(decision(&tls, &[], Some(&policy)), Decision::Allow);
    assert_eq!(decision(&plain, &[], Some(&policy)), Decision::ExplicitDeny);
}

// KMS key policies.

fn kms(caller: Caller, action: &str) -> RequestContext {
    RequestContext::new(caller, action, KEY, NOW)
}

const ENABLE_IAM: &str = r#"{"Sid": "Enable IAM User Permissions", "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}"#;

#[test]
fn default_key_policy_lets_identity_policies_allow() {
    let key_policy = resource_policy(ENABLE_IAM);
    let identity =
        identity_policy(r#"{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}"#);
    let decrypt = kms(alice(), "kms:Decrypt");
    let allowed = evaluate_key_policy(&decrypt, &[&identity], &key_policy);
    assert_eq!(
        allowed,
        Evaluation {
            decision: Decision::Allow,
            policy_type: Some(PolicyType::Identity)
        }
    );
    let denied = evaluate_key_policy(&decrypt, &[], &key_policy);
    assert_eq!(denied.decision, Decision::ImplicitDeny);
    assert_eq!(denied.policy_type, Some(PolicyType::Identity));
    // The root user is allowed by the statement itself.
    let root = kms(Caller::root(ACCOUNT), "kms:ScheduleKeyDeletion");
    assert_eq!(
        evaluate_key_policy(&root, &[], &key_policy).decision,
        Decision::Allow
    );
}

#[test]
fn without_the_account_statement_identity_policies_cannot_allow() {
    let key_policy = resource_policy(
        r#"{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/bob"},
            "Action": "kms:*", "Resource": "*"}"#,
    );
    let identity = identity_policy(r#"{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}"#);
    let decrypt = kms(alice(), "kms:Decrypt");
    let evaluation = evaluate_key_policy(&decrypt, &[&identity], &key_policy);
    assert_eq!(evaluation.decision, Decision::ImplicitDeny);
    assert_eq!(evaluation.policy_type, Some(PolicyType::Resource));
    // Not even the root user.
    let root = kms(Caller::root(ACCOUNT), "kms:PutKeyPolicy");
    assert_eq!(
        evaluate_key_policy(&root, &[], &key_policy).decision,
        Decision::ImplicitDeny
    );
    // Bob is named: the key policy alone allows.
    let mut bob = kms(alice(), "kms:Decrypt");
    bob.caller = Caller::user(ACCOUNT, "bob", "AIDAEXAMPLEBOB000001");
    assert_eq!(
        evaluate_key_policy(&bob, &[], &key_policy).decision,
        Decision::Allow
    );
}

#[test]
fn identity_policies_can_deny_a_key_without_the_key_policy() {
    let key_policy = resource_policy(
        r#"{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"},
            "Action": "kms:*", "Resource": "*"}"#,
    );
    let deny = identity_policy(r#"{"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}"#);
    let decrypt = kms(alice(), "kms:Decrypt");
    let evaluation = evaluate_key_policy(&decrypt, &[&deny], &key_policy);
    assert_eq!(
        evaluation,
        Evaluation {
            decision: Decision::ExplicitDeny,
            policy_type: Some(PolicyType::Identity)
        }
    );
}

#[test]
fn key_policy_conditions_via_service_and_encryption_context() {
    let key_policy = resource_policy(&format!(
        r#"{ENABLE_IAM},
           {{"Effect": "Allow", "Principal": {{"AWS": "*"}}, "Action": "kms:Decrypt", "Resource": "*",
            "Condition": {{"StringEquals": {{"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com",
                                             "kms:CallerAccount": "111122223333"}},
                           "StringLike": {{"kms:EncryptionContext:SecretARN": "arn:aws:secretsmanager:*"}}}}}}"#
    ));
    let mut via_secrets_manager = kms(alice(), "kms:Decrypt").with_key(
        "kms:ViaService",
        ContextValue::String("secretsmanager.us-east-1.amazonaws.com".into()),
    );
    via_secrets_manager.encryption_context = vec![("SecretARN".into(), SECRET.into())];
    assert_eq!(
        evaluate_key_policy(&via_secrets_manager, &[], &key_policy).decision,
        Decision::Allow
    );
    let direct = kms(alice(), "kms:Decrypt");
    assert_eq!(
        evaluate_key_policy(&direct, &[], &key_policy).decision,
        Decision::ImplicitDeny
    );
    // Encryption context keys are case-sensitive.
    let mut wrong_case = via_secrets_manager.clone();
    wrong_case.encryption_context = vec![("secretarn".into(), SECRET.into())];
    assert_eq!(
        evaluate_key_policy(&wrong_case, &[], &key_policy).decision,
        Decision::ImplicitDeny
    );
}

#[test]
fn cross_account_keys_need_the_key_policy_and_the_callers_identity_policy() {
    let key_policy = resource_policy(&format!(
        r#"{ENABLE_IAM},
           {{"Effect": "Allow", "Principal": {{"AWS": "arn:aws:iam::444455556666:root"}},
            "Action": "kms:Decrypt", "Resource": "*"}}"#
    ));
    let carol = kms(
        Caller::user(OTHER, "carol", "AIDAEXAMPLECAROL0001"),
        "kms:Decrypt",
    );
    let identity =
        identity_policy(r#"{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}"#);
    assert_eq!(
        evaluate_key_policy(&carol, &[&identity], &key_policy).decision,
        Decision::Allow
    );
    assert_eq!(
        evaluate_key_policy(&carol, &[], &key_policy).decision,
        Decision::ImplicitDeny
    );
    let encrypt = kms(
        Caller::user(OTHER, "carol", "AIDAEXAMPLECAROL0001"),
        "kms:Encrypt",
    );
    let any_kms = identity_policy(r#"{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}"#);
    let evaluation = evaluate_key_policy(&encrypt, &[&any_kms], &key_policy);
    assert_eq!(evaluation.decision, Decision::ImplicitDeny);
    assert_eq!(evaluation.policy_type, Some(PolicyType::Resource));
}

// Messages.

#[test]
fn access_denied_messages_in_aws_format() {
    let request = get();
    let arn = "arn:aws:iam::111122223333:user/alice";
    let action = "secretsmanager:GetSecretValue";
    assert_eq!(
        evaluate(&request, &[], None)
            .denial_message(&request)
            .as_deref(),
        Some(
            format!(
                "User: {arn} is not authorized to perform: {action} on resource: {SECRET} \
                 because no identity-based policy allows the {action} action"
            )
            .as_str()
        )
    );
    assert_eq!(
        access_denied_message(
            arn,
            action,
            SECRET,
            Decision::ExplicitDeny,
            PolicyType::Identity
        ),
        format!(
            "User: {arn} is not authorized to perform: {action} on resource: {SECRET} with an \
             explicit deny in an identity-based policy"
        )
    );
    assert_eq!(
        access_denied_message(
            arn,
            action,
            SECRET,
            Decision::ExplicitDeny,
            PolicyType::Resource
        ),
        format!(
            "User: {arn} is not authorized to perform: {action} on resource: {SECRET} with an \
             explicit deny in a resource-based policy"
        )
    );
    assert_eq!(
        access_denied_message(
            arn,
            "kms:Decrypt",
            KEY,
            Decision::ImplicitDeny,
            PolicyType::Resource
        ),
        format!(
            "User: {arn} is not authorized to perform: kms:Decrypt on resource: {KEY} because no \
             resource-based policy allows the kms:Decrypt action"
        )
    );
    let allowed = identity_policy(r#"{"Effect": "Allow", "Action": "*", "Resource": "*"}"#);
    assert_eq!(
        evaluate(&request, &[&allowed], None).denial_message(&request),
        None
    );
}

// Properties.

/// A plain matcher over tokens, obviously right and slow.
fn reference(pattern: &[wildcard::Token], text: &[char]) -> bool {
    use wildcard::Token;
    match pattern.split_first() {
        None => text.is_empty(),
        Some((Token::Star, rest)) => (0..=text.len()).any(|skip| reference(rest, &text[skip..])),
        Some((&token, rest)) => text.split_first().is_some_and(|(&t, text)| {
            (token == Token::One || token == Token::Char(t)) && reference(rest, text)
        }),
    }
}

fn token() -> impl Strategy<Value = wildcard::Token> {
    use wildcard::Token;
    prop_oneof![
        Just(Token::Star),
        Just(Token::One),
        Just(Token::Char('a')),
        Just(Token::Char('b')),
        Just(Token::Char('*')),
        Just(Token::Char('é')),
    ]
}

proptest! {
    #[test]
    fn token_patterns_agree_with_a_reference_matcher(
        pattern in prop::collection::vec(token(), 0..8),
        text in "[ab*é]{0,8}",
    ) {
        let chars: Vec<char> = text.chars().collect();
        prop_assert_eq!(
            wildcard::tokens_match(&pattern, &text, Case::Sensitive),
            reference(&pattern, &chars)
        );
    }

    #[test]
    fn negated_operators_are_the_negation_of_positive_ones_on_present_keys(
        value in "[ab/]{0,6}",
        patterns in prop::collection::vec("[ab/*?]{0,4}", 1..3),
    ) {
        let request = get().with_key("secretsmanager:Name", ContextValue::String(value));
        let list = serde_json::to_string(&patterns).unwrap_or_else(|e| panic!("{e}"));
        for (positive, negated) in [("StringLike", "StringNotLike"), ("StringEquals", "StringNotEquals")] {
            let p = holds(&format!(r#""{positive}": {{"secretsmanager:Name": {list}}}"#), &request);
            let n = holds(&format!(r#""{negated}": {{"secretsmanager:Name": {list}}}"#), &request);
            prop_assert_ne!(p, n);
        }
    }

    #[test]
    fn an_explicit_deny_always_wins(action in "(Get|Put|Delete)[A-Z][a-z]{0,5}") {
        let allow = identity_policy(r#"{"Effect": "Allow", "Action": "*", "Resource": "*"}"#);
        let deny = resource_policy(r#"{"Effect": "Deny", "Principal": "*", "Action": "secretsmanager:*"}"#);
        let request = request(&format!("secretsmanager:{action}"));
        prop_assert_eq!(decision(&request, &[&allow], Some(&deny)), Decision::ExplicitDeny);
    }
}
