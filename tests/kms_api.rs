//! The KMS API end to end through the official Rust SDK (`aws-sdk-kms`): keys, aliases,
//! states, rotation, the cryptographic operations and their errors, and the background work
//! on keys (deletion after the waiting period, scheduled rotation).

mod common;

use std::time::Duration;

use aws_sdk_kms::Client;
use aws_sdk_kms::config::timeout::TimeoutConfig;
use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region, retry::RetryConfig};
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{DataKeySpec, KeySpec, KeyState, KeyUsageType, Tag};
use common::{ACCOUNT_ID, REGION, TestServer};

fn kms_client(server: &TestServer, region: &str) -> Client {
    let config = aws_sdk_kms::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(&server.endpoint)
        .region(Region::new(region.to_owned()))
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
                .operation_timeout(Duration::from_secs(30))
                .build(),
        )
        .build();
    Client::from_conf(config)
}

/// The AWS error code and message of a failed call.
fn error_of<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, SdkError<E>>,
) -> (String, String) {
    match result {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(error) => (
            error
                .code()
                .unwrap_or_else(|| panic!("no error code in {error:?}"))
                .to_owned(),
            error.message().unwrap_or_default().to_owned(),
        ),
    }
}

fn arn_of(key_id: &str) -> String {
    format!("arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/{key_id}")
}

async fn create_key(client: &Client, description: &str) -> String {
    client
        .create_key()
        .description(description)
        .send()
        .await
        .expect("create key")
        .key_metadata
        .expect("metadata")
        .key_id
}

async fn encrypt(client: &Client, key_id: &str, plaintext: &[u8]) -> Blob {
    client
        .encrypt()
        .key_id(key_id)
        .plaintext(Blob::new(plaintext))
        .send()
        .await
        .expect("encrypt")
        .ciphertext_blob
        .expect("ciphertext")
}

async fn decrypt(client: &Client, ciphertext: &Blob) -> Vec<u8> {
    client
        .decrypt()
        .ciphertext_blob(ciphertext.clone())
        .send()
        .await
        .expect("decrypt")
        .plaintext
        .expect("plaintext")
        .into_inner()
}

async fn state_of(client: &Client, key_id: &str) -> KeyState {
    client
        .describe_key()
        .key_id(key_id)
        .send()
        .await
        .expect("describe")
        .key_metadata
        .expect("metadata")
        .key_state
        .expect("state")
}

#[tokio::test]
async fn keys_are_created_described_and_listed() {
    let server = TestServer::start().await;
    let client = kms_client(&server, REGION);
    let created = client
        .create_key()
        .description("test key 123")
        .key_usage(KeyUsageType::EncryptDecrypt)
        .tags(
            Tag::builder()
                .tag_key("team")
                .tag_value("core")
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect("create key")
        .key_metadata
        .expect("metadata");
    let key_id = created.key_id.clone();
    assert_eq!(created.arn.as_deref(), Some(arn_of(&key_id).as_str()));
    assert_eq!(created.aws_account_id.as_deref(), Some(ACCOUNT_ID));
    assert_eq!(created.description.as_deref(), Some("test key 123"));
    assert!(created.enabled);
    assert_eq!(created.key_state, Some(KeyState::Enabled));
    assert_eq!(created.key_spec, Some(KeySpec::SymmetricDefault));
    assert_eq!(created.key_usage, Some(KeyUsageType::EncryptDecrypt));
    assert_eq!(
        created.key_manager,
        Some(aws_sdk_kms::types::KeyManagerType::Customer)
    );
    assert_eq!(created.origin, Some(aws_sdk_kms::types::OriginType::AwsKms));
    assert_eq!(created.multi_region, Some(false));
    assert!(created.creation_date.is_some());
    let material = created
        .current_key_material_id
        .clone()
        .expect("material id");
    assert_eq!(material.len(), 64);

    // Described by id, ARN, alias and alias ARN alike.
    client
        .create_alias()
        .alias_name("alias/described")
        .target_key_id(&key_id)
        .send()
        .await
        .expect("alias");
    for name in [
        key_id.clone(),
        arn_of(&key_id),
        "alias/described".to_owned(),
        format!("arn:aws:kms:{REGION}:{ACCOUNT_ID}:alias/described"),
    ] {
        let described = client
            .describe_key()
            .key_id(&name)
            .send()
            .await
            .unwrap_or_else(|error| panic!("describe {name}: {error:?}"))
            .key_metadata
            .expect("metadata");
        assert_eq!(described.key_id, key_id, "{name}");
    }

    let listed = client.list_keys().send().await.expect("list");
    let entry = listed
        .keys()
        .iter()
        .find(|entry| entry.key_id.as_deref() == Some(key_id.as_str()))
        .expect("the key is listed");
    assert_eq!(entry.key_arn.as_deref(), Some(arn_of(&key_id).as_str()));
    assert!(!listed.truncated);

    // Another region sees nothing of it.
    let elsewhere = kms_client(&server, "eu-west-1");
    let (code, message) = error_of(elsewhere.describe_key().key_id(&key_id).send().await);
    assert_eq!(code, "NotFoundException");
    assert_eq!(
        message,
        format!("Key 'arn:aws:kms:eu-west-1:{ACCOUNT_ID}:key/{key_id}' does not exist")
    );
    let (code, message) = error_of(
        elsewhere
            .describe_key()
            .key_id(arn_of(&key_id))
            .send()
            .await,
    );
    assert_eq!(code, "NotFoundException");
    assert_eq!(message, format!("Invalid arn {REGION}"));
}

#[tokio::test]
async fn missing_and_malformed_keys_are_not_found() {
    let server = TestServer::start().await;
    let client = kms_client(&server, REGION);
    let missing = "0f0e0d0c-0b0a-4000-8000-000000000000";
    let (code, message) = error_of(client.describe_key().key_id(missing).send().await);
    assert_eq!(code, "NotFoundException");
    assert_eq!(message, format!("Key '{}' does not exist", arn_of(missing)));
    let (code, message) = error_of(client.describe_key().key_id("fake-key-id").send().await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("NotFoundException", "Invalid keyId 'fake-key-id'")
    );
    let (code, message) = error_of(client.describe_key().key_id("alias/nothing").send().await);
    assert_eq!(code, "NotFoundException");
    assert_eq!(
        message,
        format!("Alias arn:aws:kms:{REGION}:{ACCOUNT_ID}:alias/nothing is not found.")
    );
    // A required member missing is the model's validation error.
    let (code, message) = error_of(client.describe_key().send().await);
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: \
         Member must not be null"
    );
}

#[tokio::test]
async fn only_symmetric_encryption_keys_are_made() {
    let server = TestServer::start().await;
    let client = kms_client(&server, REGION);
    let (code, message) = error_of(
        client
            .create_key()
            .key_spec(KeySpec::Rsa2048)
            .key_usage(KeyUsageType::EncryptDecrypt)
            .send()
            .await,
    );
    assert_eq!(code, "UnsupportedOperationException");
    assert!(message.contains("RSA_2048"), "{message}");
    let (code, message) = error_of(
        client
            .create_key()
            .key_usage(KeyUsageType::SignVerify)
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "KeyUsage SIGN_VERIFY is not compatible with KeySpec SYMMETRIC_DEFAULT"
    );
    let (code, _) = error_of(
        client
            .create_key()
            .origin(aws_sdk_kms::types::OriginType::External)
            .send()
            .await,
    );
    assert_eq!(code, "UnsupportedOperationException");
    let (code, message) = error_of(
        client
            .create_key()
            .tags(
                Tag::builder()
                    .tag_key("aws:x")
                    .tag_value("v")
                    .build()
                    .expect("tag"),
            )
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("TagException", "Tags beginning with aws: are reserved")
    );
}

#[tokio::test]
async fn encrypt_decrypt_and_data_keys_round_trip() {
    let server = TestServer::start().await;
    let client = kms_client(&server, REGION);
    let key_id = create_key(&client, "crypto").await;
    let ciphertext = encrypt(&client, &key_id, b"attack at dawn").await;
    assert!(!ciphertext.as_ref().windows(6).any(|w| w == b"attack"));
    // Decrypt needs no KeyId: the ciphertext names its key.
    let decrypted = client
        .decrypt()
        .ciphertext_blob(ciphertext.clone())
        .send()
        .await
        .expect("decrypt");
    assert_eq!(
        decrypted.plaintext.expect("plaintext").as_ref(),
        b"attack at dawn"
    );
    assert_eq!(decrypted.key_id.as_deref(), Some(arn_of(&key_id).as_str()));
    assert_eq!(
        decrypted.key_material_id.as_ref().map(String::len),
        Some(64)
    );

    // The encryption context is bound to the ciphertext.
    let bound = client
        .encrypt()
        .key_id(&key_id)
        .plaintext(Blob::new("ctx"))
        .encryption_context("purpose", "test")
        .send()
        .await
        .expect("encrypt with context")
        .ciphertext_blob
        .expect("ciphertext");
    let (code, message) = error_of(client.decrypt().ciphertext_blob(bound.clone()).send().await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("InvalidCiphertextException", "")
    );
    let opened = client
        .decrypt()
        .ciphertext_blob(bound)
        .encryption_context("purpose", "test")
        .send()
        .await
        .expect("decrypt with context");
    assert_eq!(opened.plaintext.expect("plaintext").as_ref(), b"ctx");

    // A tampered ciphertext, and bytes that are no ciphertext at all.
    let mut tampered = ciphertext.clone().into_inner();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let (code, _) = error_of(
        client
            .decrypt()
            .ciphertext_blob(Blob::new(tampered))
            .send()
            .await,
    );
    assert_eq!(code, "InvalidCiphertextException");
    let mut extended = ciphertext.clone().into_inner();
    extended.extend_from_slice(b"bad_data");
    let (code, _) = error_of(
        client
            .decrypt()
            .ciphertext_blob(Blob::new(extended))
            .send()
            .await,
    );
    assert_eq!(code, "InvalidCiphertextException");
    let (code, _) = error_of(
        client
            .decrypt()
            .ciphertext_blob(Blob::new("garbage"))
            .send()
            .await,
    );
    assert_eq!(code, "InvalidCiphertextException");

    // Decrypt naming another key.
    let other = create_key(&client, "other").await;
    let (code, message) = error_of(
        client
            .decrypt()
            .key_id(&other)
            .ciphertext_blob(ciphertext.clone())
            .send()
            .await,
    );
    assert_eq!(code, "IncorrectKeyException");
    assert_eq!(
        message,
        "The key ID in the request does not identify a CMK that can perform this operation."
    );

    // Data keys.
    let data_key = client
        .generate_data_key()
        .key_id(&key_id)
        .key_spec(DataKeySpec::Aes256)
        .send()
        .await
        .expect("data key");
    let plaintext = data_key.plaintext.expect("plaintext").into_inner();
    assert_eq!(plaintext.len(), 32);
    assert_eq!(data_key.key_id.as_deref(), Some(arn_of(&key_id).as_str()));
    let blob = data_key.ciphertext_blob.expect("ciphertext");
    assert_eq!(decrypt(&client, &blob).await, plaintext);
    let sized = client
        .generate_data_key()
        .key_id(&key_id)
        .number_of_bytes(100)
        .send()
        .await
        .expect("data key of 100 bytes");
    assert_eq!(sized.plaintext.expect("plaintext").as_ref().len(), 100);
    let without = client
        .generate_data_key_without_plaintext()
        .key_id(&key_id)
        .key_spec(DataKeySpec::Aes128)
        .send()
        .await
        .expect("data key without plaintext");
    let blob = without.ciphertext_blob.expect("ciphertext");
    assert_eq!(decrypt(&client, &blob).await.len(), 16);
    let (code, message) = error_of(client.generate_data_key().key_id(&key_id).send().await);
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "Please specify either number of bytes or key spec."
    );

    // ReEncrypt moves a ciphertext to another key without showing the plaintext.
    let moved = client
        .re_encrypt()
        .ciphertext_blob(ciphertext.clone())
        .destination_key_id(&other)
        .send()
        .await
        .expect("re-encrypt");
    assert_eq!(
        moved.source_key_id.as_deref(),
        Some(arn_of(&key_id).as_str())
    );
    assert_eq!(moved.key_id.as_deref(), Some(arn_of(&other).as_str()));
    let moved = moved.ciphertext_blob.expect("ciphertext");
    let opened = client
        .decrypt()
        .ciphertext_blob(moved.clone())
        .send()
        .await
        .expect("decrypt moved");
    assert_eq!(opened.key_id.as_deref(), Some(arn_of(&other).as_str()));
    assert_eq!(
        opened.plaintext.expect("plaintext").as_ref(),
        b"attack at dawn"
    );
    let (code, message) = error_of(
        client
            .re_encrypt()
            .ciphertext_blob(moved)
            .source_key_id(&key_id)
            .destination_key_id(&key_id)
            .send()
            .await,
    );
    assert_eq!(code, "IncorrectKeyException");
    assert_eq!(
        message,
        "The key ID in the request does not identify a CMK that can perform this operation."
    );

    // Plaintexts are limited to 4 KiB and never echoed.
    let (code, message) = error_of(
        client
            .encrypt()
            .key_id(&key_id)
            .plaintext(Blob::new(vec![b'x'; 4097]))
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: \
         Member must have length less than or equal to 4096"
    );
}

#[tokio::test]
async fn disabled_and_deleted_keys_refuse_their_use() {
    let server = TestServer::start().await;
    let client = kms_client(&server, REGION);
    let key_id = create_key(&client, "states").await;
    let arn = arn_of(&key_id);
    let ciphertext = encrypt(&client, &key_id, b"kept").await;

    client
        .disable_key()
        .key_id(&key_id)
        .send()
        .await
        .expect("disable");
    assert_eq!(state_of(&client, &key_id).await, KeyState::Disabled);
    let disabled = (
        "DisabledException".to_owned(),
        format!("{arn} is disabled."),
    );
    assert_eq!(
        error_of(
            client
                .encrypt()
                .key_id(&key_id)
                .plaintext(Blob::new("x"))
                .send()
                .await
        ),
        disabled
    );
    assert_eq!(
        error_of(
            client
                .decrypt()
                .ciphertext_blob(ciphertext.clone())
                .send()
                .await
        ),
        disabled
    );
    assert_eq!(
        error_of(
            client
                .generate_data_key()
                .key_id(&key_id)
                .number_of_bytes(8)
                .send()
                .await
        ),
        disabled
    );
    client
        .enable_key()
        .key_id(&key_id)
        .send()
        .await
        .expect("enable");
    assert_eq!(decrypt(&client, &ciphertext).await, b"kept");

    // Scheduling deletion: 7 to 30 days, 30 by default.
    let (code, message) = error_of(
        client
            .schedule_key_deletion()
            .key_id(&key_id)
            .pending_window_in_days(5)
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "1 validation error detected: Value '5' at 'pendingWindowInDays' failed to satisfy \
         constraint: Member must have value greater than or equal to 7"
    );
    let scheduled = client
        .schedule_key_deletion()
        .key_id(&key_id)
        .send()
        .await
        .expect("schedule deletion");
    assert_eq!(scheduled.key_id.as_deref(), Some(arn.as_str()));
    assert_eq!(scheduled.pending_window_in_days, Some(30));
    assert_eq!(scheduled.key_state, Some(KeyState::PendingDeletion));
    let deletion = scheduled.deletion_date.expect("deletion date");
    let expected = server.now().plus_days(30).as_millis() / 1000;
    assert!((deletion.secs() - expected).abs() <= 1, "{deletion:?}");

    let pending = (
        "KMSInvalidStateException".to_owned(),
        format!("{arn} is pending deletion."),
    );
    assert_eq!(
        error_of(
            client
                .encrypt()
                .key_id(&key_id)
                .plaintext(Blob::new("x"))
                .send()
                .await
        ),
        pending
    );
    assert_eq!(
        error_of(
            client
                .decrypt()
                .ciphertext_blob(ciphertext.clone())
                .send()
                .await
        ),
        pending
    );
    assert_eq!(
        error_of(client.schedule_key_deletion().key_id(&key_id).send().await),
        pending
    );
    assert_eq!(
        error_of(client.enable_key().key_id(&key_id).send().await),
        pending
    );
    let described = client
        .describe_key()
        .key_id(&key_id)
        .send()
        .await
        .expect("describe")
        .key_metadata
        .expect("metadata");
    assert!(!described.enabled);
    assert!(described.deletion_date.is_some());

    // Cancelling brings the key back disabled.
    let cancelled = client
        .cancel_key_deletion()
        .key_id(&key_id)
        .send()
        .await
        .expect("cancel");
    assert_eq!(cancelled.key_id.as_deref(), Some(arn.as_str()));
    let described = client
        .describe_key()
        .key_id(&key_id)
        .send()
        .await
        .expect("describe")
        .key_metadata
        .expect("metadata");
    assert_eq!(described.key_state, Some(KeyState::Disabled));
    assert!(described.deletion_date.is_none());
    let (code, message) = error_of(client.cancel_key_deletion().key_id(&key_id).send().await);
    assert_eq!(code, "KMSInvalidStateException");
    assert_eq!(message, format!("{arn} is not pending deletion."));
}

#[tokio::test]
async fn keys_are_deleted_when_their_window_ends() {
    let server = TestServer::start().await;
    let client = kms_client(&server, REGION);
    let key_id = create_key(&client, "doomed").await;
    let ciphertext = encrypt(&client, &key_id, b"lost").await;
    client
        .create_alias()
        .alias_name("alias/doomed")
        .target_key_id(&key_id)
        .send()
        .await
        .expect("alias");
    client
        .schedule_key_deletion()
        .key_id(&key_id)
        .pending_window_in_days(7)
        .send()
        .await
        .expect("schedule");

    server.advance_days(6);
    assert_eq!(server.service.kms_due().await.expect("due").deleted, 0);
    assert_eq!(state_of(&client, &key_id).await, KeyState::PendingDeletion);

    server.advance_days(1);
    assert_eq!(server.service.kms_due().await.expect("due").deleted, 1);
    let (code, message) = error_of(client.describe_key().key_id(&key_id).send().await);
    assert_eq!(code, "NotFoundException");
    assert_eq!(message, format!("Key '{}' does not exist", arn_of(&key_id)));
    // Its ciphertexts no longer decrypt, and its aliases went with it.
    let (code, _) = error_of(client.decrypt().ciphertext_blob(ciphertext).send().await);
    assert_eq!(code, "NotFoundException");
    let aliases = client.list_aliases().send().await.expect("aliases");
    assert!(
        aliases
            .aliases()
            .iter()
            .all(|alias| alias.alias_name.as_deref() != Some("alias/doomed"))
    );
    assert_eq!(server.service.kms_due().await.expect("due").deleted, 0);
}

#[tokio::test]
async fn the_background_job_deletes_and_rotates_keys() {
    let server = TestServer::start().await;
    let client = kms_client(&server, REGION);
    let doomed = create_key(&client, "doomed").await;
    client
        .schedule_key_deletion()
        .key_id(&doomed)
        .pending_window_in_days(7)
        .send()
        .await
        .expect("schedule");
    let rotating = create_key(&client, "rotating").await;
    client
        .enable_key_rotation()
        .key_id(&rotating)
        .rotation_period_in_days(90)
        .send()
        .await
        .expect("enable rotation");
    let ciphertext = encrypt(&client, &rotating, b"before").await;
    let material_before = client
        .describe_key()
        .key_id(&rotating)
        .send()
        .await
        .expect("describe")
        .key_metadata
        .expect("metadata")
        .current_key_material_id;
    server.advance_days(91);

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let job = coffer::jobs::spawn(
        std::sync::Arc::clone(&server.service),
        Duration::from_millis(50),
        stopped,
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let gone = client.describe_key().key_id(&doomed).send().await.is_err();
        let rotated = client
            .describe_key()
            .key_id(&rotating)
            .send()
            .await
            .expect("describe")
            .key_metadata
            .expect("metadata")
            .current_key_material_id
            != material_before;
        if gone && rotated {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the job did not delete ({gone}) and rotate ({rotated}) in time"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(true).expect("stop");
    job.await.expect("job");

    // The old material still decrypts; the next rotation is a period away.
    assert_eq!(decrypt(&client, &ciphertext).await, b"before");
    let status = client
        .get_key_rotation_status()
        .key_id(&rotating)
        .send()
        .await
        .expect("status");
    assert!(status.key_rotation_enabled);
    let next = status.next_rotation_date.expect("next rotation");
    assert!(next.secs() > server.now().as_millis() / 1000 + 80 * 86_400);
}

#[tokio::test]
async fn rotation_adds_material_and_old_material_still_decrypts() {
    let server = TestServer::start().await;
    let client = kms_client(&server, REGION);
    let key_id = create_key(&client, "rotation").await;
    let status = client
        .get_key_rotation_status()
        .key_id(&key_id)
        .send()
        .await
        .expect("status");
    assert!(!status.key_rotation_enabled);
    assert!(status.next_rotation_date.is_none());

    client
        .enable_key_rotation()
        .key_id(&key_id)
        .send()
        .await
        .expect("enable rotation");
    let status = client
        .get_key_rotation_status()
        .key_id(&key_id)
        .send()
        .await
        .expect("status");
    assert!(status.key_rotation_enabled);
    assert_eq!(status.rotation_period_in_days, Some(365));
    assert_eq!(status.key_id.as_deref(), Some(arn_of(&key_id).as_str()));
    let next = status.next_rotation_date.expect("next rotation").secs();
    assert!((next - (server.now().plus_days(365).as_millis() / 1000)).abs() <= 1);
    let (code, message) = error_of(
        client
            .enable_key_rotation()
            .key_id(&key_id)
            .rotation_period_in_days(30)
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "1 validation error detected: Value '30' at 'rotationPeriodInDays' failed to satisfy \
         constraint: Member must have value greater than or equal to 90"
    );

    let before = encrypt(&client, &key_id, b"old material").await;
    let material = |client: Client, key_id: String| async move {
        client
            .describe_key()
            .key_id(key_id)
            .send()
            .await
            .expect("describe")
            .key_metadata
            .expect("metadata")
            .current_key_material_id
            .expect("material id")
    };
    let first = material(client.clone(), key_id.clone()).await;
    let rotated = client
        .rotate_key_on_demand()
        .key_id(&key_id)
        .send()
        .await
        .expect("rotate");
    assert_eq!(rotated.key_id.as_deref(), Some(arn_of(&key_id).as_str()));
    let second = material(client.clone(), key_id.clone()).await;
    assert_ne!(first, second);
    let after = encrypt(&client, &key_id, b"new material").await;
    assert_eq!(decrypt(&client, &before).await, b"old material");
    assert_eq!(decrypt(&client, &after).await, b"new material");
    let decrypted = client
        .decrypt()
        .ciphertext_blob(before)
        .send()
        .await
        .expect("decrypt");
    assert_eq!(decrypted.key_material_id.as_deref(), Some(first.as_str()));

    client
        .disable_key_rotation()
        .key_id(&key_id)
        .send()
        .await
        .expect("disable rotation");
    let status = client
        .get_key_rotation_status()
        .key_id(&key_id)
        .send()
        .await
        .expect("status");
    assert!(!status.key_rotation_enabled);

    client
        .disable_key()
        .key_id(&key_id)
        .send()
        .await
        .expect("disable");
    let (code, message) = error_of(client.rotate_key_on_demand().key_id(&key_id).send().await);
    assert_eq!(code, "DisabledException");
    assert_eq!(message, format!("{} is disabled.", arn_of(&key_id)));
}

#[tokio::test]
async fn on_demand_rotations_are_limited() {
    let server = TestServer::start().await;
    let client = kms_client(&server, REGION);
    let key_id = create_key(&client, "limited").await;
    for _ in 0..25 {
        client
            .rotate_key_on_demand()
            .key_id(&key_id)
            .send()
            .await
            .expect("rotate");
    }
    let (code, message) = error_of(client.rotate_key_on_demand().key_id(&key_id).send().await);
    assert_eq!(code, "LimitExceededException");
    assert_eq!(
        message,
        format!(
            "The on-demand rotations limit has been reached for the given keyId. No more \
             on-demand rotations can be performed for this key: {}",
            arn_of(&key_id)
        )
    );
}

#[tokio::test]
async fn aliases_are_created_updated_listed_and_deleted() {
    let server = TestServer::start().await;
    let client = kms_client(&server, REGION);
    let first = create_key(&client, "first").await;
    let second = create_key(&client, "second").await;
    client
        .create_alias()
        .alias_name("alias/app")
        .target_key_id(&first)
        .send()
        .await
        .expect("create alias");
    let (code, message) = error_of(
        client
            .create_alias()
            .alias_name("alias/app")
            .target_key_id(&second)
            .send()
            .await,
    );
    assert_eq!(code, "AlreadyExistsException");
    assert_eq!(
        message,
        format!(
            "An alias with the name arn:aws:kms:{REGION}:{ACCOUNT_ID}:alias/app already exists"
        )
    );
    let (code, message) = error_of(
        client
            .create_alias()
            .alias_name("app")
            .target_key_id(&first)
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "Alias must start with the prefix \"alias/\". Please see \
         https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html"
    );
    let (code, _) = error_of(
        client
            .create_alias()
            .alias_name("alias/aws/mine")
            .target_key_id(&first)
            .send()
            .await,
    );
    assert_eq!(code, "NotAuthorizedException");
    let (code, message) = error_of(
        client
            .create_alias()
            .alias_name("alias/missing-target")
            .target_key_id("0f0e0d0c-0b0a-4000-8000-000000000000")
            .send()
            .await,
    );
    assert_eq!(code, "NotFoundException");
    assert!(message.ends_with("does not exist"), "{message}");

    // The alias names the key in every operation.
    let ciphertext = encrypt(&client, "alias/app", b"via alias").await;
    let decrypted = client
        .decrypt()
        .ciphertext_blob(ciphertext.clone())
        .send()
        .await
        .expect("decrypt");
    assert_eq!(decrypted.key_id.as_deref(), Some(arn_of(&first).as_str()));

    client
        .update_alias()
        .alias_name("alias/app")
        .target_key_id(&second)
        .send()
        .await
        .expect("update alias");
    let listed = client
        .list_aliases()
        .key_id(&second)
        .send()
        .await
        .expect("list by key");
    let entry = listed.aliases().first().expect("the alias of the key");
    assert_eq!(entry.alias_name.as_deref(), Some("alias/app"));
    assert_eq!(entry.target_key_id.as_deref(), Some(second.as_str()));
    assert_eq!(
        entry.alias_arn.as_deref(),
        Some(format!("arn:aws:kms:{REGION}:{ACCOUNT_ID}:alias/app").as_str())
    );
    assert!(entry.creation_date.is_some() && entry.last_updated_date.is_some());
    assert!(
        client
            .list_aliases()
            .key_id(&first)
            .send()
            .await
            .expect("list by key")
            .aliases()
            .is_empty()
    );
    let (code, _) = error_of(
        client
            .update_alias()
            .alias_name("alias/none")
            .target_key_id(&second)
            .send()
            .await,
    );
    assert_eq!(code, "NotFoundException");

    client
        .delete_alias()
        .alias_name("alias/app")
        .send()
        .await
        .expect("delete alias");
    let (code, message) = error_of(client.delete_alias().alias_name("alias/app").send().await);
    assert_eq!(code, "NotFoundException");
    assert_eq!(
        message,
        format!("Alias arn:aws:kms:{REGION}:{ACCOUNT_ID}:alias/app is not found.")
    );
}

#[tokio::test]
async fn listings_page_with_limit_and_marker() {
    let server = TestServer::start().await;
    let client = kms_client(&server, REGION);
    let mut created = Vec::new();
    for index in 0..5 {
        let key_id = create_key(&client, &format!("key {index}")).await;
        client
            .create_alias()
            .alias_name(format!("alias/page-{index}"))
            .target_key_id(&key_id)
            .send()
            .await
            .expect("alias");
        created.push(key_id);
    }

    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = client
            .list_keys()
            .limit(2)
            .set_marker(marker.clone())
            .send()
            .await
            .expect("list keys");
        pages += 1;
        assert!(page.keys().len() <= 2);
        seen.extend(page.keys().iter().filter_map(|k| k.key_id.clone()));
        if !page.truncated {
            assert!(page.next_marker.is_none());
            break;
        }
        marker = Some(
            page.next_marker
                .clone()
                .expect("a truncated page has a marker"),
        );
    }
    assert_eq!(pages, 3);
    let mut expected = created.clone();
    expected.sort();
    assert_eq!(seen, expected);

    let mut names = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = client
            .list_aliases()
            .limit(3)
            .set_marker(marker.clone())
            .send()
            .await
            .expect("list aliases");
        names.extend(page.aliases().iter().filter_map(|a| a.alias_name.clone()));
        if !page.truncated {
            break;
        }
        marker = page.next_marker.clone();
    }
    assert_eq!(
        names,
        (0..5)
            .map(|i| format!("alias/page-{i}"))
            .collect::<Vec<_>>()
    );

    let (code, _) = error_of(client.list_keys().marker("not-a-marker").send().await);
    assert_eq!(code, "InvalidMarkerException");
    let (code, message) = error_of(client.list_keys().limit(0).send().await);
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: \
         Member must have value greater than or equal to 1"
    );
}

#[tokio::test]
async fn the_managed_key_is_used_but_not_changed() {
    let server = TestServer::start().await;
    let client = kms_client(&server, REGION);
    let managed = client
        .describe_key()
        .key_id("alias/aws/secretsmanager")
        .send()
        .await
        .expect("describe the managed key")
        .key_metadata
        .expect("metadata");
    assert_eq!(
        managed.key_manager,
        Some(aws_sdk_kms::types::KeyManagerType::Aws)
    );
    let key_id = managed.key_id.clone();
    // Its key policy allows its use only through Secrets Manager (`kms:ViaService`), as
    // AWS's managed keys do: not directly, not even to the root.
    let (code, message) = error_of(
        client
            .encrypt()
            .key_id("alias/aws/secretsmanager")
            .plaintext(Blob::new(b"managed".as_slice()))
            .send()
            .await,
    );
    assert_eq!(code, "AccessDeniedException");
    assert_eq!(
        message,
        format!(
            "User: arn:aws:iam::{ACCOUNT_ID}:root is not authorized to perform: kms:Encrypt on \
             resource: {} because no resource-based policy allows the kms:Encrypt action",
            arn_of(&key_id)
        )
    );
    let status = client
        .get_key_rotation_status()
        .key_id(&key_id)
        .send()
        .await
        .expect("status");
    assert!(status.key_rotation_enabled);

    for (code, action) in [
        (
            error_of(client.disable_key().key_id(&key_id).send().await).0,
            "DisableKey",
        ),
        (
            error_of(client.schedule_key_deletion().key_id(&key_id).send().await).0,
            "ScheduleKeyDeletion",
        ),
        (
            error_of(client.disable_key_rotation().key_id(&key_id).send().await).0,
            "DisableKeyRotation",
        ),
    ] {
        assert_eq!(code, "AccessDeniedException", "{action}");
    }
    let (_, message) = error_of(client.disable_key().key_id(&key_id).send().await);
    assert!(
        message.contains(&format!("kms:DisableKey on resource: {}", arn_of(&key_id))),
        "{message}"
    );
    let (code, _) = error_of(
        client
            .delete_alias()
            .alias_name("alias/aws/secretsmanager")
            .send()
            .await,
    );
    assert_eq!(code, "NotAuthorizedException");
    assert_eq!(state_of(&client, &key_id).await, KeyState::Enabled);
}

#[tokio::test]
async fn requests_signed_for_another_service_are_refused() {
    let server = TestServer::start().await;
    // A Secrets Manager client signs for `secretsmanager`; a KMS target needs `kms`, and the
    // other way round.
    let http = reqwest_like_post(&server.endpoint, "TrentService.ListKeys", "secretsmanager").await;
    assert_eq!(http.0, 400);
    assert!(
        http.1.contains("IncompleteSignatureException"),
        "{}",
        http.1
    );
    let http = reqwest_like_post(&server.endpoint, "TrentService.Sign", "kms").await;
    assert_eq!(http.0, 400);
    assert!(http.1.contains("UnknownOperationException"), "{}", http.1);
}

/// A raw POST with a SigV4-shaped header scoped to `service` (signatures are not verified
/// yet; only their scope is read).
async fn reqwest_like_post(endpoint: &str, target: &str, service: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = endpoint.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let body = "{}";
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/x-amz-json-1.1\r\n\
         X-Amz-Target: {target}\r\nAuthorization: AWS4-HMAC-SHA256 \
         Credential=AKID/20260101/{REGION}/{service}/aws4_request, SignedHeaders=host, \
         Signature=00\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("status");
    (status, response)
}
