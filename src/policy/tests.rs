use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

const ACCOUNT_ROOT: &str = "arn:aws:iam::123456789012:root";

fn resource(document: &str) -> Result<Policy, PolicyError> {
    parse(document, PolicyKind::Resource)
}

fn identity(document: &str) -> Result<Policy, PolicyError> {
    parse(document, PolicyKind::Identity)
}

/// A resource policy with one statement made of `members` (the inside of the object).
fn one_statement(members: &str) -> String {
    format!(r#"{{"Version": "2012-10-17", "Statement": [{{{members}}}]}}"#)
}

/// A valid resource policy statement's members, with `extra` members appended.
fn allow_account(extra: &str) -> String {
    one_statement(&format!(
        r#""Effect": "Allow", "Principal": {{"AWS": "{ACCOUNT_ROOT}"}},
           "Action": "secretsmanager:GetSecretValue", "Resource": "*"{extra}"#
    ))
}

/// An `Allow` for everyone of `GetSecretValue`, with `extra` members appended.
fn allow_everyone(extra: &str) -> String {
    one_statement(&format!(
        r#""Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue",
           "Resource": "*"{extra}"#
    ))
}

/// `allow_everyone` with one condition.
fn everyone_if(operator: &str, key: &str, values: &str) -> String {
    allow_everyone(&format!(
        r#", "Condition": {{"{operator}": {{"{key}": {values}}}}}"#
    ))
}

fn statement(policy: &Policy) -> &Statement {
    policy.statements.first().expect("one statement")
}

/// Asserts that `document` is rejected with a message containing every fragment.
#[track_caller]
fn assert_rejected(document: &str, kind: PolicyKind, fragments: &[&str]) {
    let message = match parse(document, kind) {
        Ok(policy) => panic!("accepted {document}: {policy:?}"),
        Err(error) => error.to_string(),
    };
    for fragment in fragments {
        assert!(
            message.contains(fragment),
            "message {message:?} lacks {fragment:?}"
        );
    }
}

// Accepted forms.

#[test]
fn a_complete_resource_policy_becomes_the_model() {
    let document = r#"{
        "Version": "2012-10-17",
        "Id": "SecretPolicy",
        "Statement": [{
            "Sid": "ReadFromApp",
            "Effect": "Allow",
            "Principal": {"AWS": ["123456789012", "arn:aws:iam::123456789012:role/App"]},
            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:Describe*"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:SourceVpc": "vpc-1", "aws:PrincipalTag/team": ["a", "b"]},
                "Bool": {"aws:SecureTransport": true},
                "NumericLessThan": {"secretsmanager:RecoveryWindowInDays": 10}
            }
        }]
    }"#;
    let policy = resource(document).expect("valid");
    let string_equals = ConditionOperator {
        base: BaseOperator::StringEquals,
        if_exists: false,
        set: None,
    };
    let expected = Policy {
        version: PolicyVersion::V2012_10_17,
        id: Some("SecretPolicy".into()),
        statements: vec![Statement {
            sid: Some("ReadFromApp".into()),
            effect: Effect::Allow,
            principal: Some(PrincipalBlock::Principal(Principals::Map(BTreeMap::from(
                [(
                    PrincipalType::Aws,
                    vec![
                        "123456789012".into(),
                        "arn:aws:iam::123456789012:role/App".into(),
                    ],
                )],
            )))),
            action: ActionBlock::Action(vec![
                "secretsmanager:GetSecretValue".into(),
                "secretsmanager:Describe*".into(),
            ]),
            resource: Some(ResourceBlock::Resource(vec!["*".into()])),
            conditions: vec![
                Condition {
                    operator: string_equals,
                    key: "aws:SourceVpc".into(),
                    values: vec!["vpc-1".into()],
                },
                Condition {
                    operator: string_equals,
                    key: "aws:PrincipalTag/team".into(),
                    values: vec!["a".into(), "b".into()],
                },
                Condition {
                    operator: ConditionOperator {
                        base: BaseOperator::Bool,
                        if_exists: false,
                        set: None,
                    },
                    key: "aws:SecureTransport".into(),
                    values: vec!["true".into()],
                },
                Condition {
                    operator: ConditionOperator {
                        base: BaseOperator::NumericLessThan,
                        if_exists: false,
                        set: None,
                    },
                    key: "secretsmanager:RecoveryWindowInDays".into(),
                    values: vec!["10".into()],
                },
            ],
        }],
    };
    assert_eq!(policy, expected);
}

#[test]
fn a_single_statement_object_is_one_statement() {
    let document =
        r#"{"Statement": {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}}"#;
    let policy = resource(document).expect("valid");
    assert_eq!(policy.statements.len(), 1);
    assert_eq!(statement(&policy).effect, Effect::Deny);
}

#[test]
fn version_defaults_to_2008_and_accepts_both_versions() {
    let body = r#""Statement": {"Effect": "Allow", "Principal": "*", "Action": "*"}"#;
    let version = |document: String| resource(&document).map(|policy| policy.version);
    assert_eq!(
        version(format!("{{{body}}}")),
        Ok(PolicyVersion::V2008_10_17)
    );
    assert_eq!(
        version(format!(r#"{{"Version": "2008-10-17", {body}}}"#)),
        Ok(PolicyVersion::V2008_10_17)
    );
    assert_eq!(
        version(format!(r#"{{{body}, "Version": "2012-10-17"}}"#)),
        Ok(PolicyVersion::V2012_10_17)
    );
    assert!(PolicyVersion::V2012_10_17.has_policy_variables());
    assert!(!PolicyVersion::V2008_10_17.has_policy_variables());
}

#[test]
fn principals_in_every_accepted_form() {
    let principal = |value: &str| {
        let document = one_statement(&format!(
            r#""Effect": "Allow", "Principal": {value}, "Action": "secretsmanager:*""#
        ));
        resource(&document).map(|policy| statement(&policy).principal.clone())
    };
    assert_eq!(
        principal(r#""*""#),
        Ok(Some(PrincipalBlock::Principal(Principals::Everyone)))
    );
    let map = |entries: &[(PrincipalType, &[&str])]| {
        Ok(Some(PrincipalBlock::Principal(Principals::Map(
            entries
                .iter()
                .map(|(t, values)| (*t, values.iter().map(|v| v.to_string()).collect()))
                .collect(),
        ))))
    };
    assert_eq!(
        principal(r#"{"AWS": "*"}"#),
        map(&[(PrincipalType::Aws, &["*"])])
    );
    assert_eq!(
        principal(r#"{"AWS": ["123456789012", "AIDAJQABLZS4A3QDU576Q"]}"#),
        map(&[(
            PrincipalType::Aws,
            &["123456789012", "AIDAJQABLZS4A3QDU576Q"]
        )])
    );
    assert_eq!(
        principal(
            r#"{"Service": "secretsmanager.amazonaws.com",
                "Federated": "cognito-identity.amazonaws.com",
                "CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",
                "AWS": "arn:aws:sts::123456789012:assumed-role/App/session"}"#
        ),
        map(&[
            (
                PrincipalType::Aws,
                &["arn:aws:sts::123456789012:assumed-role/App/session"]
            ),
            (PrincipalType::Service, &["secretsmanager.amazonaws.com"]),
            (
                PrincipalType::Federated,
                &["cognito-identity.amazonaws.com"]
            ),
            (
                PrincipalType::CanonicalUser,
                &["79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"]
            ),
        ])
    );

    let document = one_statement(&format!(
        r#""Effect": "Deny", "NotPrincipal": {{"AWS": "{ACCOUNT_ROOT}"}}, "Action": "*""#
    ));
    let policy = resource(&document).expect("valid");
    assert!(matches!(
        statement(&policy).principal,
        Some(PrincipalBlock::NotPrincipal(Principals::Map(_)))
    ));
}

#[test]
fn actions_and_resources_as_strings_lists_and_negations() {
    let policy = resource(&one_statement(
        r#""Effect": "Allow", "Principal": "*", "NotAction": ["s3:*", "iam:Get?ser"],
           "NotResource": ["arn:aws:s3:::bucket/*", "arn:aws:secretsmanager:*"]"#,
    ))
    .expect("valid");
    let negated = statement(&policy);
    assert_eq!(
        negated.action,
        ActionBlock::NotAction(vec!["s3:*".into(), "iam:Get?ser".into()])
    );
    assert_eq!(negated.action.patterns().len(), 2);
    assert_eq!(
        negated.resource,
        Some(ResourceBlock::NotResource(vec![
            "arn:aws:s3:::bucket/*".into(),
            "arn:aws:secretsmanager:*".into()
        ]))
    );

    let policy = resource(&one_statement(
        r#""Effect": "Allow", "Principal": "*", "Action": "*""#,
    ))
    .expect("valid");
    assert_eq!(
        statement(&policy).action,
        ActionBlock::Action(vec!["*".into()])
    );
    assert_eq!(statement(&policy).resource, None, "the secret itself");

    for action in [
        "execute-api:Invoke",
        "secretsmanager:*",
        "SecretsManager:getsecretvalue",
        "kafka-cluster:Describe*",
    ] {
        let document = one_statement(&format!(
            r#""Effect": "Allow", "Principal": "*", "Action": "{action}""#
        ));
        assert!(resource(&document).is_ok(), "{action}");
    }
}

#[test]
fn condition_operators_with_set_operators_and_if_exists() {
    let document = allow_everyone(
        r#", "Condition": {
            "ForAnyValue:StringLike": {"aws:TagKeys": ["env*", "team"]},
            "ForAllValues:StringEquals": {"aws:TagKeys": []},
            "IpAddressIfExists": {"aws:SourceIp": "203.0.113.0/24"},
            "Null": {"aws:TokenIssueTime": "true"},
            "DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"},
            "NumericEquals": {"s3:max-keys": 1.5}
        }"#,
    );
    let policy = resource(&document).expect("valid");
    let shown: Vec<(String, &str, Vec<String>)> = statement(&policy)
        .conditions
        .iter()
        .map(|c| (c.operator.to_string(), c.key.as_str(), c.values.clone()))
        .collect();
    let expected: Vec<(String, &str, Vec<String>)> = vec![
        (
            "ForAnyValue:StringLike".into(),
            "aws:TagKeys",
            vec!["env*".into(), "team".into()],
        ),
        ("ForAllValues:StringEquals".into(), "aws:TagKeys", vec![]),
        (
            "IpAddressIfExists".into(),
            "aws:SourceIp",
            vec!["203.0.113.0/24".into()],
        ),
        ("Null".into(), "aws:TokenIssueTime", vec!["true".into()]),
        (
            "DateGreaterThan".into(),
            "aws:CurrentTime",
            vec!["2026-01-01T00:00:00Z".into()],
        ),
        ("NumericEquals".into(), "s3:max-keys", vec!["1.5".into()]),
    ];
    assert_eq!(shown, expected);
    let first = &statement(&policy).conditions[0];
    assert_eq!(first.operator.set, Some(SetOperator::ForAnyValue));
    assert!(first.key_is("AWS:TAGKEYS"));
    assert!(statement(&policy).conditions[2].operator.if_exists);
}

#[test]
fn an_empty_condition_block_means_no_condition() {
    let policy = resource(&allow_account(r#", "Condition": {}"#)).expect("valid");
    assert!(statement(&policy).conditions.is_empty());
}

#[test]
fn identity_policies_name_resources_not_principals() {
    let document = r#"{
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Read1", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
             "Resource": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-*"},
            {"Sid": "", "Effect": "Deny", "NotAction": "secretsmanager:*", "Resource": "*"},
            {"Sid": "", "Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::b"}
        ]
    }"#;
    let policy = identity(document).expect("valid");
    assert_eq!(policy.statements.len(), 3);
    assert!(policy.statements.iter().all(|s| s.principal.is_none()));
    assert!(!policy.is_public());
}

#[test]
fn resource_policy_sids_may_hold_any_text() {
    let document = allow_account(r#", "Sid": "Read access for the app""#);
    assert!(resource(&document).is_ok());
}

// Rejections.

#[test]
fn not_json() {
    for document in [
        "",
        "{",
        "Version: 2012-10-17",
        r#"{"Statement": [}"#,
        "{} {}",
    ] {
        assert_rejected(
            document,
            PolicyKind::Resource,
            &["not valid JSON", "line 1"],
        );
    }
    let error = resource("nope").expect_err("not JSON");
    assert!(matches!(error, PolicyError::NotJson(_)));
}

#[test]
fn not_an_object() {
    for (document, found) in [
        ("[]", "a list"),
        (r#""policy""#, "a string"),
        ("null", "null"),
        ("12", "a number"),
        ("true", "a boolean"),
    ] {
        assert_rejected(
            document,
            PolicyKind::Resource,
            &["The policy must be a JSON object", found],
        );
    }
}

#[test]
fn missing_empty_or_malformed_statement() {
    assert_rejected(
        r#"{"Version": "2012-10-17"}"#,
        PolicyKind::Resource,
        &["The policy is missing the required element \"Statement\""],
    );
    assert_rejected(
        r#"{"Statement": []}"#,
        PolicyKind::Resource,
        &["Statement must hold at least one statement"],
    );
    assert_rejected(
        r#"{"Statement": "Allow everything"}"#,
        PolicyKind::Resource,
        &["Statement must be an object or a list of objects, not a string"],
    );
    let document = r#"{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*"}, 7]}"#;
    assert_rejected(
        document,
        PolicyKind::Resource,
        &["Statement[1] must be an object, not a number"],
    );
}

#[test]
fn unknown_elements() {
    assert_rejected(
        r#"{"Statement": [], "Comment": "x"}"#,
        PolicyKind::Resource,
        &["The policy has an unknown element \"Comment\""],
    );
    assert_rejected(
        &allow_account(r#", "Effects": "Allow""#),
        PolicyKind::Resource,
        &["Statement[0] has an unknown element \"Effects\""],
    );
    // Element names are case-sensitive.
    assert_rejected(
        &one_statement(r#""effect": "Allow", "Principal": "*", "Action": "*""#),
        PolicyKind::Resource,
        &["Statement[0] has an unknown element \"effect\""],
    );
    assert_rejected(
        r#"{"version": "2012-10-17", "Statement": []}"#,
        PolicyKind::Resource,
        &["unknown element \"version\""],
    );
}

#[test]
fn duplicate_elements() {
    assert_rejected(
        &allow_account(r#", "Effect": "Deny""#),
        PolicyKind::Resource,
        &["Statement[0] has the element \"Effect\" more than once"],
    );
    assert_rejected(
        r#"{"Version": "2012-10-17", "Version": "2012-10-17", "Statement": []}"#,
        PolicyKind::Resource,
        &["The policy has the element \"Version\" more than once"],
    );
    assert_rejected(
        &everyone_if(
            "StringEquals",
            "aws:SourceVpc",
            r#""vpc-1", "aws:SourceVpc": "vpc-2""#,
        ),
        PolicyKind::Resource,
        &[
            "Statement[0].Condition[\"StringEquals\"] has the element \"aws:SourceVpc\" more than once",
        ],
    );
    assert_rejected(
        &allow_everyone(
            r#", "Condition": {"Bool": {"aws:SecureTransport": "true"},
                               "Bool": {"aws:MultiFactorAuthPresent": "true"}}"#,
        ),
        PolicyKind::Resource,
        &["Statement[0].Condition has the element \"Bool\" more than once"],
    );
    assert_rejected(
        &one_statement(
            r#""Effect": "Allow", "Principal": {"AWS": "*", "AWS": "123456789012"}, "Action": "*""#,
        ),
        PolicyKind::Resource,
        &["Statement[0].Principal has the element \"AWS\" more than once"],
    );
}

#[test]
fn effect_must_be_allow_or_deny_exactly() {
    for effect in ["allow", "DENY", "Permit", ""] {
        let document = one_statement(&format!(
            r#""Effect": "{effect}", "Principal": "*", "Action": "*""#
        ));
        assert_rejected(
            &document,
            PolicyKind::Resource,
            &[
                "Statement[0].Effect must be \"Allow\" or \"Deny\" (case-sensitive), not",
                &format!("\"{effect}\""),
            ],
        );
    }
    assert_rejected(
        &one_statement(r#""Effect": true, "Principal": "*", "Action": "*""#),
        PolicyKind::Resource,
        &["Statement[0].Effect must be the string \"Allow\" or \"Deny\", not a boolean"],
    );
    assert_rejected(
        &one_statement(r#""Principal": "*", "Action": "*""#),
        PolicyKind::Resource,
        &["Statement[0] is missing the required element \"Effect\""],
    );
}

#[test]
fn action_xor_not_action() {
    assert_rejected(
        &allow_account(r#", "NotAction": "s3:*""#),
        PolicyKind::Resource,
        &["Statement[0] cannot have both \"Action\" and \"NotAction\""],
    );
    assert_rejected(
        &one_statement(r#""Effect": "Allow", "Principal": "*", "Resource": "*""#),
        PolicyKind::Resource,
        &["Statement[0] is missing the required element \"Action\" or \"NotAction\""],
    );
}

#[test]
fn principal_rules_depend_on_the_kind_of_policy() {
    assert_rejected(
        &one_statement(
            r#""Effect": "Deny", "Principal": "*", "NotPrincipal": {"AWS": "123456789012"},
               "Action": "*""#,
        ),
        PolicyKind::Resource,
        &["Statement[0] cannot have both \"Principal\" and \"NotPrincipal\""],
    );
    assert_rejected(
        &one_statement(r#""Effect": "Allow", "Action": "*", "Resource": "*""#),
        PolicyKind::Resource,
        &[
            "Statement[0] is missing the required element \"Principal\" or \"NotPrincipal\"",
            "resource-based policy",
        ],
    );
    for element in ["Principal", "NotPrincipal"] {
        let document = one_statement(&format!(
            r#""Effect": "Allow", "{element}": "*", "Action": "*", "Resource": "*""#
        ));
        assert_rejected(
            &document,
            PolicyKind::Identity,
            &[
                &format!("Statement[0] cannot have \"{element}\""),
                "identity-based policy",
            ],
        );
    }
}

#[test]
fn resource_rules() {
    assert_rejected(
        &allow_account(r#", "NotResource": "arn:aws:s3:::b""#),
        PolicyKind::Resource,
        &["Statement[0] cannot have both \"Resource\" and \"NotResource\""],
    );
    assert_rejected(
        &one_statement(r#""Effect": "Allow", "Action": "secretsmanager:*""#),
        PolicyKind::Identity,
        &["Statement[0] is missing the required element \"Resource\" or \"NotResource\""],
    );
    for bad in ["my-secret", "arn:aws:iam::root", "ARN:aws:s3:::b:c:d"] {
        let document = one_statement(&format!(
            r#""Effect": "Allow", "Principal": "*", "Action": "*", "Resource": ["*", "{bad}"]"#
        ));
        assert_rejected(
            &document,
            PolicyKind::Resource,
            &[
                &format!("Statement[0].Resource[1] is \"{bad}\""),
                "must be \"*\" or an ARN",
            ],
        );
    }
}

#[test]
fn actions_must_be_service_colon_action() {
    let cases = [
        ("secretsmanager", "must be \"*\" or \"service:action\""),
        ("GetSecretValue", "must be \"*\" or \"service:action\""),
        ("secretsmanager:Get:Secret", "exactly one colon"),
        (":GetSecretValue", "service prefix"),
        ("secrets*:GetSecretValue", "service prefix"),
        ("*:GetSecretValue", "service prefix"),
        ("secretsmanager:", "action name"),
        ("secretsmanager:Get Secret", "action name"),
        ("", "must be \"*\" or \"service:action\""),
    ];
    for (action, problem) in cases {
        let document = one_statement(&format!(
            r#""Effect": "Allow", "Principal": "*", "Action": "{action}""#
        ));
        assert_rejected(
            &document,
            PolicyKind::Resource,
            &[&format!("Statement[0].Action is \"{action}\""), problem],
        );
    }
    assert_rejected(
        &one_statement(r#""Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", 7]"#),
        PolicyKind::Resource,
        &["Statement[0].Action[1] must be a string, not a number"],
    );
    assert_rejected(
        &one_statement(r#""Effect": "Allow", "Principal": "*", "Action": {"s3": "*"}"#),
        PolicyKind::Resource,
        &["Statement[0].Action must be a string or a list of strings, not an object"],
    );
}

#[test]
fn empty_lists_are_rejected_where_iam_rejects_them() {
    let cases = [
        (
            r#""Effect": "Allow", "Principal": "*", "Action": []"#,
            "Statement[0].Action must not be an empty list",
        ),
        (
            r#""Effect": "Allow", "Principal": "*", "Action": "*", "Resource": []"#,
            "Statement[0].Resource must not be an empty list",
        ),
        (
            r#""Effect": "Allow", "Principal": "*", "NotAction": []"#,
            "Statement[0].NotAction must not be an empty list",
        ),
        (
            r#""Effect": "Allow", "Principal": {"AWS": []}, "Action": "*""#,
            "Statement[0].Principal.AWS must not be an empty list",
        ),
        (
            r#""Effect": "Allow", "Principal": {}, "Action": "*""#,
            "Statement[0].Principal must name at least one principal",
        ),
    ];
    for (members, message) in cases {
        assert_rejected(&one_statement(members), PolicyKind::Resource, &[message]);
    }
}

#[test]
fn malformed_principals() {
    let cases = [
        (
            r#""arn:aws:iam::123456789012:root""#,
            "Statement[0].Principal is",
            "must be \"*\" or an object",
        ),
        (
            r#"["*"]"#,
            "Statement[0].Principal must be \"*\" or an object of principals, not a list",
            "",
        ),
        (
            r#"{"aws": "*"}"#,
            "Statement[0].Principal has an unknown element \"aws\"",
            "",
        ),
        (
            r#"{"AWS": "arn:aws:iam::*:root"}"#,
            "Statement[0].Principal.AWS is \"arn:aws:iam::*:root\"",
            "wildcard",
        ),
        (
            r#"{"AWS": ["*", "12345678901*"]}"#,
            "Statement[0].Principal.AWS[1]",
            "wildcard",
        ),
        (
            r#"{"AWS": "bob"}"#,
            "Statement[0].Principal.AWS is \"bob\"",
            "12-digit account id",
        ),
        (
            r#"{"AWS": "12345"}"#,
            "Statement[0].Principal.AWS is \"12345\"",
            "12-digit account id",
        ),
        (
            r#"{"Service": ""}"#,
            "Statement[0].Principal.Service must not be empty",
            "",
        ),
        (
            r#"{"AWS": 123456789012}"#,
            "Statement[0].Principal.AWS must be a string or a list of strings, not a number",
            "",
        ),
    ];
    for (principal, location, problem) in cases {
        let document = one_statement(&format!(
            r#""Effect": "Allow", "Principal": {principal}, "Action": "*""#
        ));
        assert_rejected(&document, PolicyKind::Resource, &[location, problem]);
    }
}

#[test]
fn unsupported_versions() {
    assert_rejected(
        r#"{"Version": "2019-10-19", "Statement": []}"#,
        PolicyKind::Resource,
        &[
            "Version is \"2019-10-19\"",
            "\"2012-10-17\" and \"2008-10-17\"",
        ],
    );
    assert_rejected(
        r#"{"Version": 2012, "Statement": []}"#,
        PolicyKind::Resource,
        &["Version must be a string, not a number"],
    );
    assert_rejected(
        r#"{"Id": ["x"], "Statement": []}"#,
        PolicyKind::Resource,
        &["Id must be a string, not a list"],
    );
}

#[test]
fn sids() {
    let document = r#"{"Statement": [
        {"Sid": "Same", "Effect": "Allow", "Principal": "*", "Action": "*"},
        {"Sid": "Other", "Effect": "Allow", "Principal": "*", "Action": "*"},
        {"Sid": "Same", "Effect": "Deny", "Principal": "*", "Action": "*"}
    ]}"#;
    assert_rejected(
        document,
        PolicyKind::Resource,
        &[
            "Statement[2].Sid is \"Same\", the Sid of Statement[0] too",
            "unique",
        ],
    );
    let document = r#"{"Statement": [
        {"Sid": "Read secrets", "Effect": "Allow", "Action": "*", "Resource": "*"}
    ]}"#;
    assert_rejected(
        document,
        PolicyKind::Identity,
        &[
            "Statement[0].Sid is \"Read secrets\"",
            "only ASCII letters and digits",
        ],
    );
    assert_rejected(
        &allow_account(r#", "Sid": 1"#),
        PolicyKind::Resource,
        &["Statement[0].Sid must be a string, not a number"],
    );
}

#[test]
fn malformed_conditions() {
    let cases = [
        (
            r#""aws:SecureTransport""#,
            "Statement[0].Condition must be an object of condition operators, not a string",
        ),
        (
            r#"{"StringEquals": ["aws:SourceVpc", "vpc-1"]}"#,
            "Statement[0].Condition[\"StringEquals\"] must be an object of condition keys, not a list",
        ),
        (
            r#"{"StringEqual": {"aws:SourceVpc": "vpc-1"}}"#,
            "Statement[0].Condition uses the unknown condition operator \"StringEqual\"",
        ),
        (
            r#"{"stringEquals": {"aws:SourceVpc": "vpc-1"}}"#,
            "unknown condition operator \"stringEquals\" (operator names are case-sensitive",
        ),
        (
            r#"{"ForSomeValues:StringEquals": {"aws:TagKeys": "a"}}"#,
            "unknown condition operator \"ForSomeValues:StringEquals\"",
        ),
        (
            r#"{"NullIfExists": {"aws:TokenIssueTime": "true"}}"#,
            "uses \"NullIfExists\", but the Null operator cannot take IfExists",
        ),
        (
            r#"{"StringEquals": {"aws:SourceVpc": null}}"#,
            "Statement[0].Condition[\"StringEquals\"][\"aws:SourceVpc\"] must be a string, number or boolean, or a list of them, not null",
        ),
        (
            r#"{"StringEquals": {"aws:SourceVpc": {"vpc": "1"}}}"#,
            "must be a string, number or boolean, or a list of them, not an object",
        ),
        (
            r#"{"StringEquals": {"aws:SourceVpc": ["vpc-1", ["vpc-2"]]}}"#,
            "Statement[0].Condition[\"StringEquals\"][\"aws:SourceVpc\"][1] must be a string, number or boolean, not a list",
        ),
        (
            r#"{"StringEquals": {"SourceVpc": "vpc-1"}}"#,
            "has the condition key \"SourceVpc\", but a condition key is \"prefix:name\"",
        ),
        (
            r#"{"StringEquals": {"": "vpc-1"}}"#,
            "has the condition key \"\"",
        ),
    ];
    for (condition, message) in cases {
        let document = allow_everyone(&format!(r#", "Condition": {condition}"#));
        assert_rejected(&document, PolicyKind::Resource, &[message]);
    }
}

#[test]
fn messages_quote_little_of_the_document() {
    let huge = "x".repeat(10_000);
    let documents = [
        format!(r#"{{"{huge}": 1, "Statement": []}}"#),
        allow_account(&format!(r#", "Effect": "{huge}""#)),
        one_statement(&format!(
            r#""Effect": "{huge}", "Principal": "*", "Action": "*""#
        )),
        everyone_if(&huge, &huge, "1"),
        everyone_if("StringEquals", &huge, "1"),
        format!(r#"{{"Version": "{huge}", "Statement": []}}"#),
        format!(r#"{{"Statement": [], "garbage": "{huge}""#),
    ];
    for document in documents {
        let message = resource(&document).expect_err("invalid").to_string();
        assert!(
            message.len() < 400,
            "{} characters: {message}",
            message.len()
        );
        assert!(!message.contains(&"x".repeat(100)), "{message}");
    }
}

// Public access.

#[track_caller]
fn assert_public(document: &str, expected: bool) {
    let policy = resource(document).expect("valid");
    assert_eq!(policy.is_public(), expected, "{document}");
}

#[test]
fn a_wildcard_principal_is_public() {
    assert_public(&allow_everyone(""), true);
    for principal in [r#"{"AWS": "*"}"#, r#"{"AWS": ["123456789012", "*"]}"#] {
        let document = one_statement(&format!(
            r#""Effect": "Allow", "Principal": {principal}, "Action": "secretsmanager:*",
               "Resource": "*""#
        ));
        assert_public(&document, true);
    }
}

#[test]
fn named_principals_are_not_public() {
    assert_public(&allow_account(""), false);
    let document = one_statement(
        r#""Effect": "Allow",
           "Principal": {"AWS": ["123456789012", "arn:aws:iam::210987654321:role/App"],
                         "Service": "lambda.amazonaws.com"},
           "Action": "secretsmanager:*", "Resource": "*""#,
    );
    assert_public(&document, false);
}

#[test]
fn a_deny_is_never_public() {
    let document =
        one_statement(r#""Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*""#);
    assert_public(&document, false);
}

#[test]
fn not_principal_with_allow_is_public() {
    let document = one_statement(&format!(
        r#""Effect": "Allow", "NotPrincipal": {{"AWS": "{ACCOUNT_ROOT}"}},
           "Action": "secretsmanager:GetSecretValue", "Resource": "*""#
    ));
    assert_public(&document, true);
    // Everyone except everyone is nobody.
    let document = one_statement(
        r#""Effect": "Allow", "NotPrincipal": {"AWS": "*"}, "Action": "*", "Resource": "*""#,
    );
    assert_public(&document, false);
}

#[test]
fn conditions_that_pin_the_caller_make_it_private() {
    let pinned = [
        ("StringEquals", "aws:SourceAccount", r#""123456789012""#),
        (
            "StringEquals",
            "aws:PrincipalAccount",
            r#"["123456789012", "210987654321"]"#,
        ),
        ("StringEquals", "aws:PrincipalOrgID", r#""o-a1b2c3d4e5""#),
        (
            "StringLike",
            "aws:PrincipalOrgPaths",
            r#""o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*""#,
        ),
        (
            "ArnEquals",
            "aws:PrincipalArn",
            r#""arn:aws:iam::123456789012:role/App""#,
        ),
        (
            "ArnLike",
            "aws:PrincipalArn",
            r#""arn:aws:iam::123456789012:role/app-*""#,
        ),
        (
            "StringLike",
            "aws:SourceArn",
            r#""arn:aws:lambda:us-east-1:123456789012:function:*""#,
        ),
        ("StringEquals", "aws:SourceVpc", r#""vpc-1a2b3c4d""#),
        (
            "StringEqualsIgnoreCase",
            "aws:SourceVpce",
            r#""vpce-1a2b3c4d""#,
        ),
        ("StringLike", "aws:userid", r#""AROAEXAMPLEID:*""#),
        (
            "IpAddress",
            "aws:SourceIp",
            r#"["203.0.113.0/24", "2001:db8::/48"]"#,
        ),
        (
            "ForAnyValue:StringEquals",
            "aws:PrincipalOrgID",
            r#""o-a1b2c3d4e5""#,
        ),
        // Condition key names are case-insensitive.
        ("StringEquals", "AWS:SOURCEVPC", r#""vpc-1a2b3c4d""#),
    ];
    for (operator, key, values) in pinned {
        assert_public(&everyone_if(operator, key, values), false);
    }
}

#[test]
fn conditions_that_do_not_pin_leave_it_public() {
    let open = [
        // Wildcards and policy variables are not fixed values.
        ("StringLike", "aws:SourceAccount", r#""*""#),
        (
            "StringLike",
            "aws:SourceAccount",
            r#"["123456789012", "1234*"]"#,
        ),
        (
            "StringEquals",
            "aws:SourceAccount",
            r#""${aws:PrincipalAccount}""#,
        ),
        (
            "ArnLike",
            "aws:PrincipalArn",
            r#""arn:aws:iam::*:role/App""#,
        ),
        ("StringLike", "aws:SourceVpc", r#""vpc-*""#),
        ("StringLike", "aws:userid", r#""*:alice""#),
        // Negations grant everyone else.
        ("StringNotEquals", "aws:SourceAccount", r#""123456789012""#),
        ("NotIpAddress", "aws:SourceIp", r#""203.0.113.0/24""#),
        // IfExists lets requests without the key through; ForAllValues holds without it.
        ("StringEqualsIfExists", "aws:SourceVpc", r#""vpc-1a2b3c4d""#),
        (
            "ForAllValues:StringEquals",
            "aws:PrincipalOrgID",
            r#""o-a1b2c3d4e5""#,
        ),
        // Too wide, or not an address.
        ("IpAddress", "aws:SourceIp", r#""0.0.0.0/0""#),
        ("IpAddress", "aws:SourceIp", r#"["203.0.113.0/24", "::/0"]"#),
        ("IpAddress", "aws:SourceIp", r#""localhost""#),
        // Keys that say nothing about who calls.
        ("StringEquals", "aws:username", r#""alice""#),
        ("Bool", "aws:SecureTransport", "true"),
        ("StringEquals", "aws:PrincipalTag/team", r#""admins""#),
        // Operators that do not fit the key.
        ("Null", "aws:SourceVpc", r#""false""#),
        ("StringEquals", "aws:SourceVpc", "[]"),
    ];
    for (operator, key, values) in open {
        assert_public(&everyone_if(operator, key, values), true);
    }
}

#[test]
fn one_pinning_condition_is_enough() {
    let document = allow_everyone(
        r#", "Condition": {
            "Bool": {"aws:SecureTransport": "true"},
            "StringEquals": {"aws:username": "alice", "aws:SourceAccount": "123456789012"}
        }"#,
    );
    assert_public(&document, false);
}

#[test]
fn only_secrets_manager_actions_count() {
    let action = |members: &str| {
        one_statement(&format!(
            r#""Effect": "Allow", "Principal": "*", {members}, "Resource": "*""#
        ))
    };
    assert_public(&action(r#""Action": "s3:GetObject""#), false);
    assert_public(
        &action(r#""Action": ["s3:GetObject", "SecretsManager:Get*"]"#),
        true,
    );
    assert_public(&action(r#""Action": "*""#), true);
    assert_public(&action(r#""NotAction": "s3:*""#), true);
    assert_public(&action(r#""NotAction": "secretsmanager:*""#), false);
    assert_public(&action(r#""NotAction": "*""#), false);
}

#[test]
fn one_public_statement_makes_the_policy_public() {
    let document = format!(
        r#"{{"Version": "2012-10-17", "Statement": [
            {{"Effect": "Allow", "Principal": {{"AWS": "{ACCOUNT_ROOT}"}}, "Action": "*"}},
            {{"Effect": "Deny", "Principal": "*", "Action": "secretsmanager:DeleteSecret"}},
            {{"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue"}}
        ]}}"#
    );
    let policy = resource(&document).expect("valid");
    assert!(policy.is_public());
    assert_eq!(policy.public_statements().collect::<Vec<_>>(), [2]);
}

// ValidateResourcePolicy.

#[test]
fn a_private_policy_passes_validation() {
    assert_eq!(validate(&allow_account(""), PolicyKind::Resource), []);
}

#[test]
fn a_malformed_policy_is_one_syntax_finding() {
    for document in [
        "not json",
        r#"{"Version": "2012-10-17"}"#,
        &allow_account(r#", "Foo": 1"#),
    ] {
        let findings = validate(document, PolicyKind::Resource);
        let error = resource(document).expect_err("malformed");
        assert_eq!(
            findings,
            [Finding {
                check: Check::Syntax,
                message: error.to_string()
            }]
        );
        assert_eq!(findings[0].check.name(), "SYNTAX_CHECK");
    }
}

#[test]
fn a_public_policy_is_a_broad_access_finding() {
    let findings = validate(&allow_everyone(""), PolicyKind::Resource);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].check, Check::BroadAccess);
    assert_eq!(findings[0].check.name(), "BROAD_ACCESS_CHECK");
    assert!(
        findings[0]
            .message
            .starts_with("Statement[0] allows everyone")
    );
}

#[test]
fn a_policy_nobody_could_change_is_a_lockout_finding() {
    let deny_all =
        one_statement(r#""Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*""#);
    let findings = validate(&deny_all, PolicyKind::Resource);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].check, Check::Lockout);
    assert_eq!(findings[0].check.name(), "LOCKOUT_CHECK");
    assert!(findings[0].message.starts_with("Statement[0] denies"));

    let split = r#"{"Statement": [
        {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "secretsmanager:PutResource*"},
        {"Effect": "Allow", "Principal": {"AWS": "123456789012"}, "Action": "*"},
        {"Effect": "Deny", "Principal": "*", "NotAction": "secretsmanager:Get*"}
    ]}"#;
    let findings = validate(split, PolicyKind::Resource);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert!(
        findings[0]
            .message
            .starts_with("Statement[0] and Statement[2] deny")
    );

    let not_locked = [
        // A condition leaves a way in.
        one_statement(
            r#""Effect": "Deny", "Principal": "*", "Action": "*",
               "Condition": {"StringNotEquals": {"aws:PrincipalAccount": "123456789012"}}"#,
        ),
        // The policy can still be deleted, then replaced.
        one_statement(
            r#""Effect": "Deny", "Principal": "*", "Action": "secretsmanager:PutResourcePolicy""#,
        ),
        // Someone is excepted.
        one_statement(&format!(
            r#""Effect": "Deny", "NotPrincipal": {{"AWS": "{ACCOUNT_ROOT}"}}, "Action": "*""#
        )),
        // Only some other resource.
        one_statement(
            r#""Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "arn:aws:s3:::b""#,
        ),
    ];
    for document in not_locked {
        assert_eq!(validate(&document, PolicyKind::Resource), [], "{document}");
    }
}

#[test]
fn the_size_limit_is_secrets_managers() {
    assert_eq!(MAX_RESOURCE_POLICY_CHARS, 20_480);
}

// Robustness.

/// Words that steer random documents into the grammar's corners.
const WORDS: &[&str] = &[
    "Version",
    "Id",
    "Statement",
    "Sid",
    "Effect",
    "Allow",
    "Deny",
    "Principal",
    "NotPrincipal",
    "AWS",
    "Service",
    "Federated",
    "CanonicalUser",
    "*",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
    "StringEquals",
    "ForAnyValue:StringLike",
    "NullIfExists",
    "IpAddress",
    "ArnLike",
    "aws:SourceIp",
    "aws:SourceAccount",
    "aws:PrincipalArn",
    "2012-10-17",
    "2008-10-17",
    "secretsmanager:*",
    "secretsmanager:PutResourcePolicy",
    "arn:aws:iam::123456789012:root",
    "123456789012",
    "0.0.0.0/0",
    "10.0.0.0/8",
    "",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(WORDS).prop_map(str::to_owned),
        1 => "\\PC{0,12}",
    ]
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        word().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((word(), inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// Parses with both kinds and validates, checking what must hold whatever the input.
fn exercise(document: &str) -> Result<(), TestCaseError> {
    for kind in [PolicyKind::Resource, PolicyKind::Identity] {
        let parsed = parse(document, kind);
        let findings = validate(document, kind);
        match parsed {
            Ok(policy) => {
                prop_assert!(!policy.statements.is_empty());
                prop_assert!(findings.iter().all(|f| f.check != Check::Syntax));
                if kind == PolicyKind::Identity {
                    prop_assert!(!policy.is_public());
                }
            }
            Err(error) => {
                let message = error.to_string();
                prop_assert!(message.len() < 600, "{}", message);
                prop_assert_eq!(
                    findings,
                    vec![Finding {
                        check: Check::Syntax,
                        message
                    }]
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn arbitrary_strings_never_panic(document in "\\PC{0,300}") {
        exercise(&document)?;
    }

    #[test]
    fn arbitrary_json_never_panics(value in json_value()) {
        exercise(&value.to_string())?;
    }

    #[test]
    fn arbitrary_statements_never_panic(
        version in prop::option::of(word()),
        statements in prop::collection::vec(
            prop::collection::vec((word(), json_value()), 0..8),
            1..3,
        ),
    ) {
        let statements: Vec<serde_json::Value> = statements
            .into_iter()
            .map(|members| serde_json::Value::Object(members.into_iter().collect()))
            .collect();
        let mut document = serde_json::json!({ "Statement": statements });
        if let (Some(version), Some(object)) = (version, document.as_object_mut()) {
            object.insert("Version".into(), version.into());
        }
        exercise(&document.to_string())?;
    }
}

/// A statement that is valid in a resource policy, from a small menu of each element.
fn valid_statement() -> impl Strategy<Value = serde_json::Map<String, serde_json::Value>> {
    use serde_json::{Value, json};
    let principal = prop::sample::select(vec![
        ("Principal", json!("*")),
        ("Principal", json!({"AWS": "*"})),
        ("Principal", json!({"AWS": ["123456789012", "*"]})),
        ("Principal", json!({"AWS": ACCOUNT_ROOT})),
        ("Principal", json!({"Service": "lambda.amazonaws.com"})),
        ("NotPrincipal", json!({"AWS": ACCOUNT_ROOT})),
    ]);
    let action = prop::sample::select(vec![
        ("Action", json!("*")),
        ("Action", json!("secretsmanager:*")),
        ("Action", json!(["s3:GetObject", "secretsmanager:Get*"])),
        ("Action", json!("s3:GetObject")),
        ("NotAction", json!("s3:*")),
        ("NotAction", json!("secretsmanager:*")),
    ]);
    let condition = (
        prop::sample::select(vec![
            "StringEquals",
            "StringLike",
            "StringNotEquals",
            "StringEqualsIfExists",
            "ForAnyValue:StringEquals",
            "ForAllValues:StringLike",
            "ArnLike",
            "IpAddress",
            "Bool",
        ]),
        prop::sample::select(vec![
            "aws:SourceAccount",
            "aws:PrincipalArn",
            "aws:SourceIp",
            "aws:username",
            "aws:SecureTransport",
        ]),
        prop::sample::select(vec![
            json!("123456789012"),
            json!("*"),
            json!(["arn:aws:iam::123456789012:role/*", "10.0.0.0/8"]),
            json!(true),
            json!([]),
        ]),
    );
    (
        prop::sample::select(vec!["Allow", "Deny"]),
        principal,
        action,
        prop::option::of(prop::sample::select(vec![
            json!("*"),
            json!(["arn:aws:s3:::b"]),
        ])),
        prop::collection::vec(condition, 0..3),
    )
        .prop_map(|(effect, principal, action, resource, conditions)| {
            let mut statement = serde_json::Map::new();
            statement.insert("Effect".into(), effect.into());
            statement.insert(principal.0.into(), principal.1);
            statement.insert(action.0.into(), action.1);
            if let Some(resource) = resource {
                statement.insert("Resource".into(), resource);
            }
            let mut block = serde_json::Map::new();
            for (operator, key, values) in conditions {
                let keys = block
                    .entry(operator)
                    .or_insert_with(|| Value::Object(serde_json::Map::new()));
                if let Value::Object(keys) = keys {
                    keys.insert(key.into(), values);
                }
            }
            if !block.is_empty() {
                statement.insert("Condition".into(), Value::Object(block));
            }
            statement
        })
}

fn document(statements: &[serde_json::Map<String, serde_json::Value>]) -> String {
    serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

proptest! {
    #[test]
    fn valid_statements_parse(statements in prop::collection::vec(valid_statement(), 1..4)) {
        let policy = resource(&document(&statements));
        prop_assert!(policy.is_ok(), "{:?}", policy);
    }

    #[test]
    fn pinning_every_statement_to_an_account_makes_it_private(
        mut statements in prop::collection::vec(valid_statement(), 1..4),
    ) {
        for statement in &mut statements {
            let condition = statement
                .entry("Condition")
                .or_insert_with(|| serde_json::json!({}));
            condition["StringEquals"]["aws:SourceAccount"] = "123456789012".into();
        }
        let policy = resource(&document(&statements)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(!policy.is_public());
    }

    #[test]
    fn denying_everything_is_never_public(
        mut statements in prop::collection::vec(valid_statement(), 1..4),
    ) {
        for statement in &mut statements {
            statement.insert("Effect".into(), "Deny".into());
        }
        let policy = resource(&document(&statements)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(!policy.is_public());
    }
}
