use super::*;

/// The sensitive members of botocore's models, read by the generator script, if botocore is
/// importable here.
fn botocore_sensitive_members() -> Option<Vec<String>> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/audit-members.py");
    let output = std::process::Command::new("python3")
        .arg(script)
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    Some(
        text.lines()
            .filter_map(|line| line.strip_prefix("sensitive "))
            .map(str::to_owned)
            .collect(),
    )
}

fn all_sensitive_members() -> Vec<String> {
    let mut names = botocore_sensitive_members().unwrap_or_default();
    names.extend(sensitive_members().into_iter().map(str::to_owned));
    names.sort();
    names.dedup();
    names
}

#[test]
fn the_committed_list_covers_the_models() {
    let Some(from_models) = botocore_sensitive_members() else {
        eprintln!("botocore is not importable: checking the committed list only");
        return;
    };
    assert!(from_models.len() >= 5, "{from_models:?}");
    let committed = sensitive_members();
    for name in from_models {
        assert!(
            committed.contains(&name.as_str()),
            "{name} is sensitive in botocore but not in src/audit/botocore-members.txt; \
             run scripts/audit-members.py"
        );
    }
}

#[test]
fn every_sensitive_member_is_hidden_at_any_depth() {
    let names = all_sensitive_members();
    for required in [
        "SecretString",
        "SecretBinary",
        "RotationToken",
        "Plaintext",
        "SecretAccessKey",
        "CiphertextBlob",
    ] {
        assert!(names.iter().any(|name| name == required), "{required}");
    }
    for name in &names {
        assert!(is_hidden(name), "{name}");
        assert!(is_hidden(&name.to_ascii_lowercase()), "{name}");
        let marker = format!("DISTINCTIVE-{name}-VALUE");
        let body = json!({
            name.as_str(): marker,
            name.to_ascii_lowercase(): marker,
            "SecretId": "s",
            "Filters": [{ name.as_str(): marker, "Key": "name" }],
            "EncryptionContext": { "purpose": "test", name.as_str(): marker },
        });
        let parameters = request_parameters(body.to_string().as_bytes()).to_string();
        assert!(!parameters.contains(&marker), "{name}: {parameters}");
        assert!(parameters.contains(HIDDEN), "{name}: {parameters}");
    }
}

#[test]
fn request_parameters_keep_known_members_in_cloudtrail_spelling() {
    let body = br#"{"SecretId":"app/db","SecretString":"hunter2","Unknown":"x","Tags":[{"Key":"k","Value":"v"}]}"#;
    assert_eq!(
        request_parameters(body),
        json!({
            "secretId": "app/db",
            "secretString": HIDDEN,
            "tags": [{ "key": "k", "value": "v" }],
        })
    );
    assert_eq!(request_parameters(b"not json"), Value::Null);
    assert_eq!(request_parameters(b"[1]"), Value::Null);
}

#[test]
fn events_have_the_cloudtrail_shape() {
    let draft = Draft {
        request_id: "req-1".into(),
        event_id: "evt-1".into(),
        time: Timestamp::from_millis(1_700_000_000_000),
        source: SECRETS_MANAGER_SOURCE,
        event_name: "GetSecretValue".into(),
        region: Some("us-east-1".into()),
        source_ip: Some("127.0.0.1".into()),
        user_agent: Some("test".into()),
        caller: Caller {
            kind: Some("IAMUser"),
            principal_id: Some("AIDAEXAMPLE".into()),
            arn: Some("arn:aws:iam::123456789012:user/alice".into()),
            account_id: Some("123456789012".into()),
            access_key_id: Some("AKIAEXAMPLE".into()),
            user_name: Some("alice".into()),
        },
        request_parameters: request_parameters(br#"{"SecretId":"app/db"}"#),
        recipient_account_id: "123456789012".into(),
    };
    let failed = draft.finish(
        Outcome::Failure {
            code: "AccessDeniedException",
            message: "denied",
        },
        draft.named_resource(),
    );
    assert_eq!(failed.error_code.as_deref(), Some("AccessDeniedException"));
    assert_eq!(failed.resource_name.as_deref(), Some("app/db"));
    assert!(failed.read_only);
    let event: Value = serde_json::from_str(&failed.json).expect("JSON");
    assert_eq!(event["eventTime"], "2023-11-14T22:13:20Z");
    assert_eq!(event["eventSource"], "secretsmanager.amazonaws.com");
    assert_eq!(event["userIdentity"]["type"], "IAMUser");
    assert_eq!(event["userIdentity"]["userName"], "alice");
    assert_eq!(event["userIdentity"]["accessKeyId"], "AKIAEXAMPLE");
    assert_eq!(event["errorCode"], "AccessDeniedException");
    assert_eq!(event["errorMessage"], "denied");
    assert_eq!(event["requestID"], "req-1");
    assert_eq!(event["eventType"], "AwsApiCall");
    assert_eq!(event["responseElements"], Value::Null);
    assert_eq!(event["requestParameters"]["secretId"], "app/db");
    let ok = draft.finish(
        Outcome::Success {
            response: Value::Null,
        },
        Resource::default(),
    );
    let event: Value = serde_json::from_str(&ok.json).expect("JSON");
    assert!(event.get("errorCode").is_none());
}

#[test]
fn read_only_follows_cloudtrail() {
    for name in [
        "GetSecretValue",
        "ListSecrets",
        "BatchGetSecretValue",
        "Decrypt",
        "GenerateDataKey",
        "DescribeKey",
    ] {
        assert!(is_read_only(name), "{name}");
    }
    for name in [
        "CreateSecret",
        "PutSecretValue",
        "CreateKey",
        "ScheduleKeyDeletion",
        "TagResource",
    ] {
        assert!(!is_read_only(name), "{name}");
    }
}

#[tokio::test]
async fn a_change_carries_the_event_once_and_only_if_it_committed() {
    let draft = Draft {
        request_id: "r".into(),
        event_id: "e".into(),
        time: Timestamp::from_millis(0),
        source: KMS_SOURCE,
        event_name: "CreateKey".into(),
        region: None,
        source_ip: None,
        user_agent: None,
        caller: Caller::default(),
        request_parameters: Value::Null,
        recipient_account_id: "123456789012".into(),
    };
    let recorder = Recorder::new(draft);
    assert!(
        for_change(Change::deleted_secret).is_none(),
        "outside a call"
    );
    recorder
        .run(async {
            let lost = for_change(Change::deleted_secret).expect("pending");
            settle(Some(lost), &Err::<(), ()>(()));
            let inside = unattributed(async { for_change(Change::deleted_secret).is_none() }).await;
            assert!(inside, "unattributed writes carry nothing");
            let won = for_change(Change::deleted_secret).expect("pending again after a lost race");
            settle(Some(won), &Ok::<(), ()>(()));
            assert!(
                for_change(Change::deleted_secret).is_none(),
                "one event per call"
            );
        })
        .await;
    assert!(
        recorder
            .unrecorded(Outcome::Success {
                response: Value::Null
            })
            .is_none()
    );
}
