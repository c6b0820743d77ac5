//! Secrets under KMS keys, end to end through the Rust SDKs of both services: KmsKeyId in all
//! the forms KMS accepts, the managed key, keys that are disabled, pending deletion or
//! unknown, and UpdateSecret moving a secret to another key.

mod common;

use aws_sdk_kms::config::timeout::TimeoutConfig;
use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region, retry::RetryConfig};
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use common::{ACCOUNT_ID, REGION, TestServer, error_of, token};

fn kms_client(endpoint: &str) -> aws_sdk_kms::Client {
    let config = aws_sdk_kms::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(
            "AKIDCOFFERTEST",
            "not-checked-yet",
            None,
            None,
            "tests",
        ))
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(std::time::Duration::from_secs(30))
                .build(),
        )
        .build();
    aws_sdk_kms::Client::from_conf(config)
}

/// A new customer managed key; returns its id.
async fn new_key(kms: &aws_sdk_kms::Client, description: &str) -> String {
    kms.create_key()
        .description(description)
        .send()
        .await
        .expect("create key")
        .key_metadata()
        .expect("key metadata")
        .key_id()
        .to_owned()
}

fn key_arn(key_id: &str) -> String {
    format!("arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/{key_id}")
}

async fn get_stage(
    sm: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
    stage: &str,
) -> Result<String, (String, String)> {
    sm.get_secret_value()
        .secret_id(secret_id)
        .version_stage(stage)
        .send()
        .await
        .map(|out| out.secret_string().unwrap_or_default().to_owned())
        .map_err(|error| {
            (
                error.code().unwrap_or_default().to_owned(),
                error.message().unwrap_or_default().to_owned(),
            )
        })
}

#[tokio::test]
async fn kms_key_ids_are_accepted_in_every_form_kms_accepts() {
    let server = TestServer::start().await;
    let sm = server.client();
    let kms = kms_client(&server.endpoint);
    let key_id = new_key(&kms, "for secrets").await;
    kms.create_alias()
        .alias_name("alias/secrets")
        .target_key_id(&key_id)
        .send()
        .await
        .expect("create alias");
    let forms = [
        key_id.clone(),
        key_arn(&key_id),
        "alias/secrets".to_owned(),
        format!("arn:aws:kms:{REGION}:{ACCOUNT_ID}:alias/secrets"),
    ];
    for (i, form) in forms.iter().enumerate() {
        let name = format!("under-key-{i}");
        sm.create_secret()
            .name(&name)
            .secret_string(format!("value {i}"))
            .kms_key_id(form)
            .send()
            .await
            .unwrap_or_else(|error| panic!("create with {form}: {error:?}"));
        let described = common::describe(&sm, &name).await;
        // Shown as it was given (a key id or an alias ARN, say).
        assert_eq!(described.kms_key_id(), Some(form.as_str()));
        assert_eq!(
            get_stage(&sm, &name, "AWSCURRENT").await,
            Ok(format!("value {i}"))
        );
    }
    // Every value is under the key: disabling it makes every one unreadable.
    kms.disable_key()
        .key_id(&key_id)
        .send()
        .await
        .expect("disable");
    for i in 0..forms.len() {
        let (code, _) = get_stage(&sm, &format!("under-key-{i}"), "AWSCURRENT")
            .await
            .expect_err("disabled key");
        assert_eq!(code, "DecryptionFailure");
    }
}

#[tokio::test]
async fn the_managed_key_is_created_on_first_use_and_not_shown() {
    let server = TestServer::start().await;
    let sm = server.client();
    let kms = kms_client(&server.endpoint);
    let aliases = kms.list_aliases().send().await.expect("list aliases");
    assert!(
        aliases
            .aliases()
            .iter()
            .all(|alias| alias.alias_name() != Some("alias/aws/secretsmanager")),
        "the managed key exists before any secret: {aliases:?}"
    );
    common::create(&sm, "managed", "under the managed key").await;
    sm.create_secret()
        .name("managed-explicit")
        .secret_string("also managed")
        .kms_key_id("")
        .send()
        .await
        .expect("create with an empty KmsKeyId");
    for name in ["managed", "managed-explicit"] {
        assert_eq!(common::describe(&sm, name).await.kms_key_id(), None);
    }
    let versions = sm
        .list_secret_version_ids()
        .secret_id("managed")
        .send()
        .await
        .expect("list versions");
    assert_eq!(
        versions.versions()[0].kms_key_ids(),
        ["DefaultEncryptionKey".to_owned()]
    );
    let managed = kms
        .describe_key()
        .key_id("alias/aws/secretsmanager")
        .send()
        .await
        .expect("describe the managed key");
    let metadata = managed.key_metadata().expect("metadata");
    assert_eq!(
        metadata.key_manager(),
        Some(&aws_sdk_kms::types::KeyManagerType::Aws)
    );
    // Only one was made, whatever the number of secrets.
    let aliases = kms.list_aliases().send().await.expect("list aliases");
    let managed_aliases: Vec<_> = aliases
        .aliases()
        .iter()
        .filter(|alias| alias.alias_name() == Some("alias/aws/secretsmanager"))
        .collect();
    assert_eq!(managed_aliases.len(), 1);
    assert_eq!(managed_aliases[0].target_key_id(), Some(metadata.key_id()));
}

#[tokio::test]
async fn unknown_disabled_and_pending_deletion_keys_are_refused_as_aws_refuses_them() {
    let server = TestServer::start().await;
    let sm = server.client();
    let kms = kms_client(&server.endpoint);
    for unknown in [
        "alias/does-not-exist".to_owned(),
        uuid::Uuid::new_v4().to_string(),
        key_arn(&uuid::Uuid::new_v4().to_string()),
        "not-a-key-at-all".to_owned(),
    ] {
        let (code, message) = error_of(
            sm.create_secret()
                .name("unknown-key")
                .secret_string("v")
                .kms_key_id(&unknown)
                .send()
                .await,
        );
        assert_eq!(
            (code.as_str(), message.as_str()),
            ("AccessDeniedException", "Access to KMS is not allowed"),
            "{unknown}"
        );
    }
    // Nothing was created by the refused calls.
    let (code, _) = error_of(sm.describe_secret().secret_id("unknown-key").send().await);
    assert_eq!(code, "ResourceNotFoundException");

    let key_id = new_key(&kms, "to disable").await;
    sm.create_secret()
        .name("on-a-key")
        .secret_string("first")
        .kms_key_id(&key_id)
        .send()
        .await
        .expect("create");
    kms.disable_key()
        .key_id(&key_id)
        .send()
        .await
        .expect("disable");
    let (code, message) = error_of(
        sm.put_secret_value()
            .secret_id("on-a-key")
            .secret_string("second")
            .send()
            .await,
    );
    assert_eq!(code, "EncryptionFailure", "{message}");
    assert!(message.contains("Check that the KMS key is available, enabled"));
    let (code, message) = get_stage(&sm, "on-a-key", "AWSCURRENT")
        .await
        .expect_err("disabled");
    assert_eq!(code, "DecryptionFailure");
    assert!(!message.contains("first"), "{message}");
    kms.enable_key()
        .key_id(&key_id)
        .send()
        .await
        .expect("enable");
    assert_eq!(
        get_stage(&sm, "on-a-key", "AWSCURRENT").await,
        Ok("first".to_owned())
    );

    kms.schedule_key_deletion()
        .key_id(&key_id)
        .pending_window_in_days(7)
        .send()
        .await
        .expect("schedule deletion");
    let (code, _) = get_stage(&sm, "on-a-key", "AWSCURRENT")
        .await
        .expect_err("pending deletion");
    assert_eq!(code, "DecryptionFailure");
    let (code, _) = error_of(
        sm.update_secret()
            .secret_id("on-a-key")
            .secret_string("third")
            .send()
            .await,
    );
    assert_eq!(code, "EncryptionFailure");
    kms.cancel_key_deletion()
        .key_id(&key_id)
        .send()
        .await
        .expect("cancel deletion");
    kms.enable_key()
        .key_id(&key_id)
        .send()
        .await
        .expect("enable");
    assert_eq!(
        get_stage(&sm, "on-a-key", "AWSCURRENT").await,
        Ok("first".to_owned())
    );
}

#[tokio::test]
async fn a_new_kms_key_takes_the_labelled_versions_along_and_leaves_older_ones() {
    let server = TestServer::start().await;
    let sm = server.client();
    let kms = kms_client(&server.endpoint);
    let old_key = new_key(&kms, "old").await;
    let new = new_key(&kms, "new").await;
    sm.create_secret()
        .name("moving")
        .secret_string("v1")
        .kms_key_id(&old_key)
        .send()
        .await
        .expect("create");
    for value in ["v2", "v3"] {
        sm.put_secret_value()
            .secret_id("moving")
            .secret_string(value)
            .send()
            .await
            .expect("put");
    }
    let pending_token = token();
    sm.put_secret_value()
        .secret_id("moving")
        .secret_string("v4-pending")
        .client_request_token(&pending_token)
        .version_stages("AWSPENDING")
        .send()
        .await
        .expect("put pending");
    // v1 is now unlabelled; v2 is AWSPREVIOUS, v3 AWSCURRENT, v4 AWSPENDING.
    let v1 = sm
        .list_secret_version_ids()
        .secret_id("moving")
        .include_deprecated(true)
        .send()
        .await
        .expect("list")
        .versions()
        .iter()
        .find(|version| version.version_stages().is_empty())
        .and_then(|version| version.version_id().map(str::to_owned))
        .expect("an unlabelled version");

    sm.update_secret()
        .secret_id("moving")
        .kms_key_id(&new)
        .send()
        .await
        .expect("move to the new key");
    assert_eq!(
        common::describe(&sm, "moving").await.kms_key_id(),
        Some(new.as_str())
    );
    let versions = sm
        .list_secret_version_ids()
        .secret_id("moving")
        .include_deprecated(true)
        .send()
        .await
        .expect("list");
    for version in versions.versions() {
        let expected = if version.version_id() == Some(v1.as_str()) {
            &old_key
        } else {
            &new
        };
        assert_eq!(
            version.kms_key_ids(),
            std::slice::from_ref(expected),
            "{:?}",
            version.version_stages()
        );
    }

    // With the old key disabled, the labelled versions still read (they moved); the
    // unlabelled one does not (it stayed under the old key).
    kms.disable_key()
        .key_id(&old_key)
        .send()
        .await
        .expect("disable the old key");
    for (stage, value) in [
        ("AWSCURRENT", "v3"),
        ("AWSPREVIOUS", "v2"),
        ("AWSPENDING", "v4-pending"),
    ] {
        assert_eq!(get_stage(&sm, "moving", stage).await, Ok(value.to_owned()));
    }
    let (code, _) = error_of(
        sm.get_secret_value()
            .secret_id("moving")
            .version_id(&v1)
            .send()
            .await,
    );
    assert_eq!(code, "DecryptionFailure");
    // New versions go under the new key, and a retry of the pending one still compares equal
    // (by its decrypted value).
    sm.put_secret_value()
        .secret_id("moving")
        .secret_string("v4-pending")
        .client_request_token(&pending_token)
        .version_stages("AWSPENDING")
        .send()
        .await
        .expect("a retry with the same value is harmless");
    let (code, _) = error_of(
        sm.put_secret_value()
            .secret_id("moving")
            .secret_string("another value")
            .client_request_token(&pending_token)
            .send()
            .await,
    );
    assert_eq!(code, "ResourceExistsException");
    sm.update_secret()
        .secret_id("moving")
        .secret_string("v5")
        .send()
        .await
        .expect("update under the new key");
    assert_eq!(
        get_stage(&sm, "moving", "AWSCURRENT").await,
        Ok("v5".into())
    );
}

#[tokio::test]
async fn a_rotated_key_still_opens_what_its_older_material_sealed() {
    let server = TestServer::start().await;
    let sm = server.client();
    let kms = kms_client(&server.endpoint);
    let key_id = new_key(&kms, "rotating").await;
    sm.create_secret()
        .name("across-rotation")
        .secret_string("before rotation")
        .kms_key_id(&key_id)
        .send()
        .await
        .expect("create");
    kms.rotate_key_on_demand()
        .key_id(&key_id)
        .send()
        .await
        .expect("rotate");
    sm.put_secret_value()
        .secret_id("across-rotation")
        .secret_string("after rotation")
        .version_stages("AFTER")
        .send()
        .await
        .expect("put");
    assert_eq!(
        get_stage(&sm, "across-rotation", "AWSCURRENT").await,
        Ok("before rotation".into())
    );
    assert_eq!(
        get_stage(&sm, "across-rotation", "AFTER").await,
        Ok("after rotation".into())
    );
}
