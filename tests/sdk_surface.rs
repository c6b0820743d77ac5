//! TagResource and UntagResource through the official AWS SDK, and the operations of this
//! surface that a replica refuses. GetRandomPassword is in `sdk_surface_password.rs`, resource
//! policies in `sdk_surface_policy.rs` and rotation in `sdk_surface_rotation.rs`.

mod common;

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType, Tag};
use common::{TestServer, error_of};

const MARKED: &str =
    "You can't perform this operation on the secret because it was marked for deletion.";
const NOT_FOUND: &str = "Secrets Manager can't find the specified secret.";

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build()
}

/// The tags as (key, value) pairs, in order; `None` when the field is absent.
fn pairs(tags: Option<&Vec<Tag>>) -> Option<Vec<(String, String)>> {
    tags.map(|tags| {
        tags.iter()
            .map(|tag| {
                (
                    tag.key().unwrap_or_default().to_owned(),
                    tag.value().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    })
}

fn owned(expected: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
    Some(
        expected
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect(),
    )
}

async fn described_tags(client: &Client, id: &str) -> Option<Vec<(String, String)>> {
    pairs(common::describe(client, id).await.tags.as_ref())
}

/// The tags ListSecrets shows for the one secret called `name`.
async fn listed_tags(client: &Client, name: &str) -> Option<Vec<(String, String)>> {
    let listed = client
        .list_secrets()
        .filters(
            Filter::builder()
                .key(FilterNameStringType::Name)
                .values(name)
                .build(),
        )
        .send()
        .await
        .expect("list secrets");
    let entries: Vec<_> = listed
        .secret_list()
        .iter()
        .filter(|entry| entry.name() == Some(name))
        .collect();
    assert_eq!(entries.len(), 1, "{name} is listed once");
    pairs(entries[0].tags.as_ref())
}

async fn tag_resource(client: &Client, id: &str, tags: Vec<Tag>) {
    client
        .tag_resource()
        .secret_id(id)
        .set_tags(Some(tags))
        .send()
        .await
        .unwrap_or_else(|error| panic!("tag {id}: {error:?}"));
}

async fn untag_resource(client: &Client, id: &str, keys: &[&str]) {
    client
        .untag_resource()
        .secret_id(id)
        .set_tag_keys(Some(keys.iter().map(|key| (*key).to_owned()).collect()))
        .send()
        .await
        .unwrap_or_else(|error| panic!("untag {id}: {error:?}"));
}

// ---------------------------------------------------------------------------------------------
// TagResource / UntagResource

#[tokio::test]
async fn tags_append_in_order_overwrite_in_place_and_show_in_describe_and_list() {
    let server = TestServer::start().await;
    let client = server.client();
    let created = common::create(&client, "tagged", "v").await;
    let arn = created.arn().expect("arn").to_owned();
    assert_eq!(described_tags(&client, "tagged").await, None, "no Tags yet");
    assert_eq!(listed_tags(&client, "tagged").await, None);

    tag_resource(&client, "tagged", vec![tag("b", "1"), tag("a", "2")]).await;
    // By ARN too; `b` keeps its first position and takes the new value.
    tag_resource(&client, &arn, vec![tag("c", "3"), tag("b", "changed")]).await;
    let expected = owned(&[("b", "changed"), ("a", "2"), ("c", "3")]);
    assert_eq!(described_tags(&client, "tagged").await, expected);
    assert_eq!(listed_tags(&client, "tagged").await, expected);

    // An empty value is a value.
    tag_resource(&client, "tagged", vec![tag("a", "")]).await;
    assert_eq!(
        described_tags(&client, "tagged").await,
        owned(&[("b", "changed"), ("a", ""), ("c", "3")])
    );

    // Untagging keys that are not there is fine and changes nothing.
    untag_resource(&client, "tagged", &["nope", "B"]).await;
    assert_eq!(
        described_tags(&client, "tagged").await,
        owned(&[("b", "changed"), ("a", ""), ("c", "3")]),
        "keys are case-sensitive"
    );
    untag_resource(&client, "tagged", &["a", "nope"]).await;
    assert_eq!(
        described_tags(&client, "tagged").await,
        owned(&[("b", "changed"), ("c", "3")])
    );

    // Removing the last tag leaves an empty list, not an absent field.
    untag_resource(&client, &arn, &["b", "c"]).await;
    assert_eq!(described_tags(&client, "tagged").await, Some(vec![]));
    assert_eq!(listed_tags(&client, "tagged").await, Some(vec![]));

    // Tagging does not touch the value.
    assert_eq!(
        common::get(&client, "tagged").await.secret_string(),
        Some("v")
    );
}

#[tokio::test]
async fn system_tags_are_refused_by_tag_and_untag_but_accepted_at_creation() {
    let server = TestServer::start().await;
    let client = server.client();
    client
        .create_secret()
        .name("owned")
        .secret_string("v")
        .tags(tag("aws:secretsmanager:owningService", "rds"))
        .tags(tag("team", "db"))
        .send()
        .await
        .expect("CreateSecret accepts aws: tags");
    let before = owned(&[("aws:secretsmanager:owningService", "rds"), ("team", "db")]);
    assert_eq!(described_tags(&client, "owned").await, before);

    let key = "aws:cloudformation:stack-name";
    let (code, message) = error_of(
        client
            .tag_resource()
            .secret_id("owned")
            .tags(tag("fine", "1"))
            .tags(tag(key, "x"))
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(
        message,
        format!("You can't modify system tags. Tag key: '{key}'.")
    );

    let existing = "aws:secretsmanager:owningService";
    let (code, message) = error_of(
        client
            .untag_resource()
            .secret_id("owned")
            .tag_keys("team")
            .tag_keys(existing)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(
        message,
        format!("You can't modify system tags. Tag key: '{existing}'.")
    );
    // Neither call changed anything, not even the allowed parts.
    assert_eq!(described_tags(&client, "owned").await, before);
}

#[tokio::test]
async fn a_secret_has_at_most_50_tags_not_counting_system_tags() {
    let server = TestServer::start().await;
    let client = server.client();
    let fifty: Vec<Tag> = (0..50).map(|i| tag(&format!("k{i}"), "v")).collect();
    let mut with_system = fifty.clone();
    with_system.insert(0, tag("aws:secretsmanager:owningService", "rds"));
    client
        .create_secret()
        .name("full")
        .secret_string("v")
        .set_tags(Some(with_system))
        .send()
        .await
        .expect("50 user tags and a system tag");
    assert_eq!(
        described_tags(&client, "full").await.map(|tags| tags.len()),
        Some(51)
    );

    // A 51st user tag is refused; overwriting one of the 50 is not a new tag.
    let (code, _) = error_of(
        client
            .tag_resource()
            .secret_id("full")
            .tags(tag("one-more", "v"))
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    tag_resource(&client, "full", vec![tag("k0", "new")]).await;
    let tags = described_tags(&client, "full").await.expect("tags");
    assert_eq!(tags.len(), 51);
    assert_eq!(tags[1], ("k0".to_owned(), "new".to_owned()));
    assert!(!tags.iter().any(|(key, _)| key == "one-more"));

    // 51 in one call, on an untagged secret.
    common::create(&client, "empty", "v").await;
    let mut fifty_one = fifty.clone();
    fifty_one.push(tag("k50", "v"));
    let (code, _) = error_of(
        client
            .tag_resource()
            .secret_id("empty")
            .set_tags(Some(fifty_one))
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(described_tags(&client, "empty").await, None);
    tag_resource(&client, "empty", fifty).await;
    assert_eq!(
        described_tags(&client, "empty")
            .await
            .map(|tags| tags.len()),
        Some(50)
    );

    // CreateSecret applies the same limit.
    let too_many: Vec<Tag> = (0..51).map(|i| tag(&format!("k{i}"), "v")).collect();
    let (code, _) = error_of(
        client
            .create_secret()
            .name("crowded")
            .secret_string("v")
            .set_tags(Some(too_many))
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    let (code, _) = error_of(client.describe_secret().secret_id("crowded").send().await);
    assert_eq!(code, "ResourceNotFoundException");
}

#[tokio::test]
async fn tag_keys_and_values_have_model_length_limits() {
    let server = TestServer::start().await;
    let client = server.client();
    common::create(&client, "s", "v").await;

    let longest_key = "k".repeat(128);
    let longest_value = "v".repeat(256);
    tag_resource(&client, "s", vec![tag(&longest_key, &longest_value)]).await;

    let (code, message) = error_of(
        client
            .tag_resource()
            .secret_id("s")
            .tags(tag(&"k".repeat(129), "v"))
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");
    assert!(message.contains("'tags.1.member.key'"), "{message}");
    assert!(
        message.contains("Member must have length less than or equal to 128"),
        "{message}"
    );

    let (code, message) = error_of(
        client
            .tag_resource()
            .secret_id("s")
            .tags(tag("ok", "v"))
            .tags(tag("long", &"v".repeat(257)))
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");
    assert!(message.contains("'tags.2.member.value'"), "{message}");
    assert!(
        message.contains("Member must have length less than or equal to 256"),
        "{message}"
    );
    assert_eq!(
        described_tags(&client, "s").await,
        Some(vec![(longest_key, longest_value)]),
        "refused calls change nothing"
    );
}

#[tokio::test]
async fn tagging_a_missing_or_deleted_secret_is_refused() {
    let server = TestServer::start().await;
    let client = server.client();
    let (code, message) = error_of(
        client
            .tag_resource()
            .secret_id("missing")
            .tags(tag("k", "v"))
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("ResourceNotFoundException", NOT_FOUND)
    );
    let (code, message) = error_of(
        client
            .untag_resource()
            .secret_id("missing")
            .tag_keys("k")
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("ResourceNotFoundException", NOT_FOUND)
    );

    common::create(&client, "doomed", "v").await;
    tag_resource(&client, "doomed", vec![tag("k", "v")]).await;
    client
        .delete_secret()
        .secret_id("doomed")
        .send()
        .await
        .expect("delete");
    let (code, message) = error_of(
        client
            .tag_resource()
            .secret_id("doomed")
            .tags(tag("k2", "v"))
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("InvalidRequestException", MARKED)
    );
    let (code, message) = error_of(
        client
            .untag_resource()
            .secret_id("doomed")
            .tag_keys("k")
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("InvalidRequestException", MARKED)
    );
    assert_eq!(
        described_tags(&client, "doomed").await,
        owned(&[("k", "v")])
    );
}

// ---------------------------------------------------------------------------------------------
// Replicas

#[tokio::test]
async fn a_replica_refuses_tags_policies_and_rotation() {
    let server = TestServer::start().await;
    let primary = server.client();
    let created = primary
        .create_secret()
        .name("replicated")
        .secret_string("v")
        .add_replica_regions(
            aws_sdk_secretsmanager::types::ReplicaRegionType::builder()
                .region("us-west-2")
                .build(),
        )
        .send()
        .await
        .expect("create with a replica");
    let primary_arn = created.arn().expect("arn");
    let replica_arn = primary_arn.replacen(":us-east-1:", ":us-west-2:", 1);
    assert_ne!(replica_arn, primary_arn);
    let replica = server.client_in("us-west-2");
    // The replica exists and reads work there: the refusals below are about writing.
    assert_eq!(
        common::describe(&replica, &replica_arn).await.arn(),
        Some(replica_arn.as_str())
    );

    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#;
    let results = [
        error_of(
            replica
                .tag_resource()
                .secret_id(&replica_arn)
                .tags(tag("k", "v"))
                .send()
                .await,
        ),
        error_of(
            replica
                .put_resource_policy()
                .secret_id(&replica_arn)
                .resource_policy(policy)
                .send()
                .await,
        ),
        error_of(
            replica
                .get_resource_policy()
                .secret_id(&replica_arn)
                .send()
                .await,
        ),
        error_of(
            replica
                .rotate_secret()
                .secret_id(&replica_arn)
                .rotation_lambda_arn("arn:aws:lambda:us-west-2:123456789012:function:rotate")
                .rotation_rules(
                    aws_sdk_secretsmanager::types::RotationRulesType::builder()
                        .automatically_after_days(30)
                        .build(),
                )
                .send()
                .await,
        ),
    ];
    for (i, (code, message)) in results.into_iter().enumerate() {
        assert_eq!(
            (code.as_str(), message.as_str()),
            (
                "InvalidParameterException",
                "Operation not permitted on a replica secret. Call must be made in primary secret's region."
            ),
            "call {i}"
        );
    }

    // Nothing reached the primary.
    let described = common::describe(&primary, "replicated").await;
    assert_eq!(described.tags, None);
    assert_eq!(described.rotation_enabled, None);
    assert_eq!(described.rotation_lambda_arn, None);
    let policy = primary
        .get_resource_policy()
        .secret_id("replicated")
        .send()
        .await
        .expect("policy of the primary");
    assert_eq!(policy.resource_policy, None);
}

#[tokio::test]
async fn untagging_or_tagging_nothing_leaves_a_secret_untagged() {
    let server = TestServer::start().await;
    let client = server.client();
    common::create(&client, "plain", "v").await;
    client
        .untag_resource()
        .secret_id("plain")
        .tag_keys("absent")
        .send()
        .await
        .expect("untag");
    client
        .tag_resource()
        .secret_id("plain")
        .set_tags(Some(Vec::new()))
        .send()
        .await
        .expect("tag nothing");
    let described = common::describe(&client, "plain").await;
    assert_eq!(described.tags, None, "no change, so still no Tags member");
}
