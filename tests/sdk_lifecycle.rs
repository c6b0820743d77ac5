//! The whole lifecycle of a secret through the official Rust SDK.

mod common;

use aws_sdk_secretsmanager::primitives::Blob;
use aws_sdk_secretsmanager::types::Tag;
use common::{TestServer, error_of, token};

#[tokio::test]
async fn create_update_get_describe_delete_restore() {
    let server = TestServer::start().await;
    let client = server.client();

    let created = client
        .create_secret()
        .name("prod/db/password")
        .description("the database")
        .secret_string("first")
        .tags(Tag::builder().key("team").value("core").build())
        .send()
        .await
        .expect("create");
    let arn = created.arn().expect("ARN").to_owned();
    let v1 = created.version_id().expect("version").to_owned();
    let suffix = arn
        .strip_prefix("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db/password-")
        .expect("ARN shape");
    assert_eq!(suffix.len(), 6);
    assert!(suffix.chars().all(|c| c.is_ascii_alphanumeric()));

    let updated = client
        .update_secret()
        .secret_id("prod/db/password")
        .secret_string("second")
        .send()
        .await
        .expect("update");
    let v2 = updated.version_id().expect("a new version").to_owned();
    assert_ne!(v1, v2);

    let current = common::get(&client, &arn).await;
    assert_eq!(current.secret_string(), Some("second"));
    assert_eq!(current.version_id(), Some(v2.as_str()));
    assert_eq!(current.version_stages(), ["AWSCURRENT"]);
    let previous = client
        .get_secret_value()
        .secret_id("prod/db/password")
        .version_stage("AWSPREVIOUS")
        .send()
        .await
        .expect("get previous");
    assert_eq!(previous.secret_string(), Some("first"));
    assert_eq!(previous.version_id(), Some(v1.as_str()));

    let described = common::describe(&client, &arn).await;
    assert_eq!(described.name(), Some("prod/db/password"));
    assert_eq!(described.description(), Some("the database"));
    assert_eq!(described.kms_key_id(), None, "the managed key is not shown");
    assert_eq!(described.tags().len(), 1);
    let stages = described.version_ids_to_stages().expect("stages");
    assert_eq!(
        stages.get(&v1).map(Vec::as_slice),
        Some(&["AWSPREVIOUS".to_owned()][..])
    );
    assert_eq!(
        stages.get(&v2).map(Vec::as_slice),
        Some(&["AWSCURRENT".to_owned()][..])
    );
    let now = server.now().as_millis() / 1000;
    let created_date = described.created_date().expect("created date").secs();
    assert!((now - created_date).abs() <= 1, "{created_date} vs {now}");
    let midnight = server.now().start_of_day().as_millis() / 1000;
    assert_eq!(
        described.last_accessed_date().map(|d| d.secs()),
        Some(midnight)
    );

    let deleted = client
        .delete_secret()
        .secret_id(&arn)
        .recovery_window_in_days(7)
        .send()
        .await
        .expect("delete");
    let deletion_date = deleted.deletion_date().expect("deletion date").secs();
    assert!((deletion_date - (now + 7 * 86_400)).abs() <= 1);
    let (code, message) = error_of(client.get_secret_value().secret_id(&arn).send().await);
    assert_eq!(code, "InvalidRequestException");
    assert_eq!(
        message,
        "You can't perform this operation on the secret because it was marked for deletion."
    );
    let described = common::describe(&client, &arn).await;
    assert!(described.deleted_date().is_some());

    client
        .restore_secret()
        .secret_id(&arn)
        .send()
        .await
        .expect("restore");
    let described = common::describe(&client, &arn).await;
    assert!(described.deleted_date().is_none());
    let current = common::get(&client, &arn).await;
    assert_eq!(current.secret_string(), Some("second"));

    client
        .delete_secret()
        .secret_id(&arn)
        .force_delete_without_recovery(true)
        .send()
        .await
        .expect("force delete");
    let (code, _) = error_of(client.describe_secret().secret_id(&arn).send().await);
    assert_eq!(code, "ResourceNotFoundException");
    // The name is free again, and a new secret under it gets a new ARN.
    let again = client
        .create_secret()
        .name("prod/db/password")
        .send()
        .await
        .expect("recreate");
    assert_ne!(again.arn(), Some(arn.as_str()));
}

#[tokio::test]
async fn binary_values_round_trip() {
    let server = TestServer::start().await;
    let client = server.client();
    let bytes: Vec<u8> = (0..=255).collect();
    client
        .create_secret()
        .name("binary")
        .secret_binary(Blob::new(bytes.clone()))
        .send()
        .await
        .expect("create");
    let got = common::get(&client, "binary").await;
    assert_eq!(
        got.secret_binary().map(|b| b.as_ref().to_vec()),
        Some(bytes)
    );
    assert_eq!(got.secret_string(), None);
}

#[tokio::test]
async fn secrets_are_found_by_name_full_arn_and_partial_arn() {
    let server = TestServer::start().await;
    let client = server.client();
    let arn = common::create(&client, "app/key", "v")
        .await
        .arn
        .expect("ARN");
    let partial = &arn[..arn.len() - 7];
    for secret_id in ["app/key", arn.as_str(), partial] {
        let got = client.get_secret_value().secret_id(secret_id).send().await;
        assert_eq!(got.expect(secret_id).secret_string(), Some("v"));
    }
    // A wrong suffix, and a name with the suffix, are not found.
    let wrong = format!("{partial}-XXXXXX");
    for secret_id in [
        wrong.as_str(),
        &arn["arn:aws:secretsmanager:us-east-1:123456789012:secret:".len()..],
    ] {
        let (code, message) = error_of(client.get_secret_value().secret_id(secret_id).send().await);
        assert_eq!(code, "ResourceNotFoundException", "{secret_id}");
        assert_eq!(message, "Secrets Manager can't find the specified secret.");
    }
}

#[tokio::test]
async fn a_name_ending_like_an_arn_suffix_has_no_partial_arn() {
    let server = TestServer::start().await;
    let client = server.client();
    let arn = common::create(&client, "looks-a1b2c3", "v")
        .await
        .arn
        .expect("ARN");
    let partial = &arn[..arn.len() - 7];
    let (code, _) = error_of(client.get_secret_value().secret_id(partial).send().await);
    assert_eq!(code, "ResourceNotFoundException");
    assert!(
        client
            .get_secret_value()
            .secret_id(&arn)
            .send()
            .await
            .is_ok()
    );
    assert!(
        client
            .get_secret_value()
            .secret_id("looks-a1b2c3")
            .send()
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn secrets_are_namespaced_per_region() {
    let server = TestServer::start().await;
    let east = server.client_in("us-east-1");
    let west = server.client_in("eu-west-1");
    let east_arn = common::create(&east, "shared-name", "east")
        .await
        .arn
        .expect("ARN");
    let west_arn = common::create(&west, "shared-name", "west")
        .await
        .arn
        .expect("ARN");
    assert!(
        west_arn.starts_with("arn:aws:secretsmanager:eu-west-1:123456789012:secret:shared-name-")
    );
    let value = |client: aws_sdk_secretsmanager::Client| async move {
        common::get(&client, "shared-name")
            .await
            .secret_string
            .expect("string")
    };
    assert_eq!(value(east.clone()).await, "east");
    assert_eq!(value(west.clone()).await, "west");
    // An ARN of another region is not found here.
    let (code, _) = error_of(west.describe_secret().secret_id(&east_arn).send().await);
    assert_eq!(code, "ResourceNotFoundException");
}

#[tokio::test]
async fn update_without_a_value_changes_metadata_only() {
    let server = TestServer::start().await;
    let client = server.client();
    server
        .kms_key_with_alias(common::REGION, "alias/team-key")
        .await;
    common::create(&client, "meta", "v").await;
    let updated = client
        .update_secret()
        .secret_id("meta")
        .description("new description")
        .kms_key_id("alias/team-key")
        .send()
        .await
        .expect("update");
    assert_eq!(updated.version_id(), None, "no version was created");
    assert_eq!(updated.name(), Some("meta"));
    let described = common::describe(&client, "meta").await;
    assert_eq!(described.description(), Some("new description"));
    assert_eq!(described.kms_key_id(), Some("alias/team-key"));
    assert_eq!(described.version_ids_to_stages().map(|m| m.len()), Some(1));
    let versions = client
        .list_secret_version_ids()
        .secret_id("meta")
        .include_deprecated(true)
        .send()
        .await;
    assert_eq!(versions.expect("list").versions().len(), 1);

    // An update that changes nothing leaves the secret as it was.
    let changed = described.last_changed_date().map(|d| d.secs());
    server.advance_days(1);
    client
        .update_secret()
        .secret_id("meta")
        .description("new description")
        .send()
        .await
        .expect("no-op update");
    let described = common::describe(&client, "meta").await;
    assert_eq!(described.last_changed_date().map(|d| d.secs()), changed);

    // An empty KmsKeyId goes back to the managed key, which DescribeSecret does not show.
    client
        .update_secret()
        .secret_id("meta")
        .kms_key_id("")
        .send()
        .await
        .expect("update key");
    let described = common::describe(&client, "meta").await;
    assert_eq!(described.kms_key_id(), None);
}

#[tokio::test]
async fn a_secret_without_a_value_has_no_version() {
    let server = TestServer::start().await;
    let client = server.client();
    let created = client
        .create_secret()
        .name("empty")
        .client_request_token(token())
        .description("")
        .send()
        .await
        .expect("create");
    assert_eq!(created.version_id(), None);
    let described = common::describe(&client, "empty").await;
    assert!(described.version_ids_to_stages().is_none());
    assert_eq!(
        described.description(),
        None,
        "an empty description is not shown"
    );
    assert!(described.tags().is_empty());
    let (code, message) = error_of(client.get_secret_value().secret_id("empty").send().await);
    assert_eq!(code, "ResourceNotFoundException");
    assert_eq!(
        message,
        "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT"
    );
    // The first value put becomes current whatever stages it asks for.
    let put = client
        .put_secret_value()
        .secret_id("empty")
        .secret_string("now")
        .version_stages("custom")
        .send()
        .await
        .expect("put");
    let mut stages = put.version_stages().to_vec();
    stages.sort();
    assert_eq!(stages, ["AWSCURRENT", "custom"]);
    let got = common::get(&client, "empty").await;
    assert_eq!(got.secret_string(), Some("now"));
}

#[tokio::test]
async fn reads_record_the_day_of_access() {
    let server = TestServer::start().await;
    let client = server.client();
    common::create(&client, "read-me", "v").await;
    let described = common::describe(&client, "read-me").await;
    assert!(described.last_accessed_date().is_none(), "never read yet");
    common::get(&client, "read-me").await;
    server.advance_days(3);
    common::get(&client, "read-me").await;
    let described = common::describe(&client, "read-me").await;
    let midnight = server.now().start_of_day().as_millis() / 1000;
    assert_eq!(
        described.last_accessed_date().map(|d| d.secs()),
        Some(midnight)
    );
    let versions = client
        .list_secret_version_ids()
        .secret_id("read-me")
        .send()
        .await
        .expect("list");
    assert_eq!(
        versions.versions()[0]
            .last_accessed_date()
            .map(|d| d.secs()),
        Some(midnight)
    );
}
