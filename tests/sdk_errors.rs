//! Client mistakes and the errors AWS answers them with, through the SDK.

mod common;

use aws_sdk_secretsmanager::primitives::Blob;
use common::{TestServer, error_of};

#[tokio::test]
async fn missing_secrets_are_not_found() {
    let server = TestServer::start().await;
    let client = server.client();
    let not_found = "Secrets Manager can't find the specified secret.";
    let results = [
        error_of(client.get_secret_value().secret_id("nope").send().await),
        error_of(client.describe_secret().secret_id("nope").send().await),
        error_of(
            client
                .update_secret()
                .secret_id("nope")
                .description("d")
                .send()
                .await,
        ),
        error_of(
            client
                .put_secret_value()
                .secret_id("nope")
                .secret_string("v")
                .send()
                .await,
        ),
        error_of(
            client
                .list_secret_version_ids()
                .secret_id("nope")
                .send()
                .await,
        ),
        error_of(client.restore_secret().secret_id("nope").send().await),
        error_of(
            client
                .update_secret_version_stage()
                .secret_id("nope")
                .version_stage("AWSCURRENT")
                .move_to_version_id(common::token())
                .send()
                .await,
        ),
    ];
    for (code, message) in results {
        assert_eq!(
            (code.as_str(), message.as_str()),
            ("ResourceNotFoundException", not_found)
        );
    }
}

#[tokio::test]
async fn invalid_names_are_validation_errors() {
    let server = TestServer::start().await;
    let client = server.client();
    let expected = "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!";
    for name in ["Inv Name", "star*", "semi;colon", "ünicode"] {
        let (code, message) = error_of(client.create_secret().name(name).send().await);
        assert_eq!(
            (code.as_str(), message.as_str()),
            ("ValidationException", expected),
            "{name}"
        );
        let (code, _) = error_of(client.get_secret_value().secret_id(name).send().await);
        assert_eq!(code, "ValidationException", "{name}");
        let (code, _) = error_of(
            client
                .delete_secret()
                .secret_id(name)
                .force_delete_without_recovery(true)
                .send()
                .await,
        );
        assert_eq!(
            code, "ValidationException",
            "even a forced delete checks the id first: {name}"
        );
    }
    let (code, message) = error_of(client.create_secret().name("x".repeat(513)).send().await);
    assert_eq!(code, "ValidationException");
    assert!(
        message.contains("Member must have length less than or equal to 512"),
        "{message}"
    );
}

#[tokio::test]
async fn string_and_binary_are_exclusive() {
    let server = TestServer::start().await;
    let client = server.client();
    let both = "You can't specify both a binary secret value and a string secret value in the same secret.";
    let (code, message) = error_of(
        client
            .create_secret()
            .name("s")
            .secret_string("a")
            .secret_binary(Blob::new(b"b".to_vec()))
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("InvalidParameterException", both)
    );
    common::create(&client, "s", "a").await;
    let (code, _) = error_of(
        client
            .update_secret()
            .secret_id("s")
            .secret_string("a")
            .secret_binary(Blob::new(b"b".to_vec()))
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    let (code, _) = error_of(
        client
            .put_secret_value()
            .secret_id("s")
            .secret_string("a")
            .secret_binary(Blob::new(b"b".to_vec()))
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    let (code, message) = error_of(client.put_secret_value().secret_id("s").send().await);
    assert_eq!(code, "InvalidRequestException");
    assert_eq!(
        message,
        "You must provide either SecretString or SecretBinary."
    );
}

#[tokio::test]
async fn model_limits_are_validation_errors() {
    let server = TestServer::start().await;
    let client = server.client();
    common::create(&client, "s", "v").await;
    let (code, message) = error_of(
        client
            .get_secret_value()
            .secret_id("s")
            .version_id("too-short")
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");
    assert!(
        message.contains("'versionId'") && message.contains("greater than or equal to 32"),
        "{message}"
    );
    let (code, _) = error_of(
        client
            .put_secret_value()
            .secret_id("s")
            .secret_string("x".repeat(65_537))
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");
    client
        .put_secret_value()
        .secret_id("s")
        .secret_string("x".repeat(65_536))
        .send()
        .await
        .expect("64 KiB is allowed");
    let (code, _) = error_of(
        client
            .list_secret_version_ids()
            .secret_id("s")
            .max_results(0)
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");
    let (code, _) = error_of(
        client
            .update_secret()
            .secret_id("s")
            .description("d".repeat(2049))
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");
}

#[tokio::test]
async fn replica_regions_must_be_other_valid_regions() {
    use aws_sdk_secretsmanager::types::ReplicaRegionType;
    let server = TestServer::start().await;
    let client = server.client();
    let replica = |region: &str| ReplicaRegionType::builder().region(region).build();
    for region in ["us-east-1", "a", "US-EAST-2", "us-east-"] {
        let (code, message) = error_of(
            client
                .create_secret()
                .name("r")
                .add_replica_regions(replica(region))
                .send()
                .await,
        );
        assert_eq!(
            (code.as_str(), message.as_str()),
            ("InvalidParameterException", "Invalid replica region."),
            "{region}"
        );
    }
    let (code, _) = error_of(client.describe_secret().secret_id("r").send().await);
    assert_eq!(code, "ResourceNotFoundException", "nothing was created");
    // ForceOverwriteReplicaSecret without replicas asks for nothing special.
    client
        .create_secret()
        .name("r")
        .force_overwrite_replica_secret(false)
        .send()
        .await
        .expect("create");
}
