//! Replication through the official Rust SDK: CreateSecret with AddReplicaRegions,
//! ReplicateSecretToRegions, RemoveRegionsFromReplication, StopReplicationToReplica, and how a
//! replica looks and behaves from its own region.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::types::{
    Filter, FilterNameStringType, ReplicaRegionType, ReplicationStatusType, Tag,
};
use common::{REGION, TestServer, error_of, token};

const EAST2: &str = "us-east-2";
const WEST2: &str = "us-west-2";
const MANAGED_KEY: &str = "alias/aws/secretsmanager";
const ON_REPLICA: &str =
    "Operation not permitted on a replica secret. Call must be made in primary secret's region.";

fn replica(region: &str) -> ReplicaRegionType {
    ReplicaRegionType::builder().region(region).build()
}

/// The same ARN in another region.
fn arn_in(arn: &str, region: &str) -> String {
    let parts: Vec<&str> = arn.splitn(5, ':').collect();
    assert_eq!(parts.len(), 5, "ARN shape: {arn}");
    format!(
        "{}:{}:{}:{region}:{}",
        parts[0], parts[1], parts[2], parts[4]
    )
}

/// Region, KMS key, status and status message of each replica, in order.
fn statuses(list: &[ReplicationStatusType]) -> Vec<(String, String, String, String)> {
    list.iter()
        .map(|status| {
            (
                status.region().unwrap_or_default().to_owned(),
                status.kms_key_id().unwrap_or_default().to_owned(),
                status
                    .status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                status.status_message().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn in_sync(region: &str, key: &str) -> (String, String, String, String) {
    (
        region.to_owned(),
        key.to_owned(),
        "InSync".to_owned(),
        "Replication succeeded".to_owned(),
    )
}

fn failed(region: &str, name: &str) -> (String, String, String, String) {
    (
        region.to_owned(),
        MANAGED_KEY.to_owned(),
        "Failed".to_owned(),
        format!("Replication failed: Secret name {name} already exists in region {region}."),
    )
}

/// Creates `name` in us-east-1 with `value`, replicated to `regions`; returns its ARN.
async fn create_replicated(client: &Client, name: &str, value: &str, regions: &[&str]) -> String {
    let mut request = client.create_secret().name(name).secret_string(value);
    for region in regions {
        request = request.add_replica_regions(replica(region));
    }
    let created = request
        .send()
        .await
        .unwrap_or_else(|error| panic!("create {name}: {error:?}"));
    created.arn().expect("ARN").to_owned()
}

fn secs(date: Option<&aws_sdk_secretsmanager::primitives::DateTime>) -> Option<i64> {
    date.map(|d| d.secs())
}

#[tokio::test]
async fn create_with_replicas_reports_their_status_on_the_primary_only() {
    let server = TestServer::start().await;
    let client = server.client();
    let created = client
        .create_secret()
        .name("db")
        .secret_string("v1")
        .add_replica_regions(replica(EAST2))
        .add_replica_regions(
            ReplicaRegionType::builder()
                .region(WEST2)
                .kms_key_id("alias/custom")
                .build(),
        )
        .send()
        .await
        .expect("create");
    let arn = created.arn().expect("ARN").to_owned();
    assert!(arn.starts_with("arn:aws:secretsmanager:us-east-1:123456789012:secret:db-"));
    let expected = vec![in_sync(EAST2, MANAGED_KEY), in_sync(WEST2, "alias/custom")];
    assert_eq!(statuses(created.replication_status()), expected);

    let primary = common::describe(&client, "db").await;
    assert_eq!(primary.arn(), Some(arn.as_str()));
    assert_eq!(primary.primary_region(), Some(REGION));
    assert_eq!(statuses(primary.replication_status()), expected);
    assert_eq!(primary.kms_key_id(), None);

    // From each replica region: the same name, the ARN with that region, the primary's region,
    // and no replication status of its own.
    for (region, key) in [(EAST2, None), (WEST2, Some("alias/custom"))] {
        let seen = common::describe(&server.client_in(region), "db").await;
        assert_eq!(seen.name(), Some("db"), "{region}");
        assert_eq!(seen.arn(), Some(arn_in(&arn, region).as_str()), "{region}");
        assert_eq!(seen.primary_region(), Some(REGION), "{region}");
        assert!(seen.replication_status().is_empty(), "{region}");
        assert_eq!(seen.kms_key_id(), key, "{region}");
        assert_eq!(
            seen.version_ids_to_stages(),
            primary.version_ids_to_stages(),
            "{region}"
        );
        // The replica's own ARN finds it too, and so does its partial ARN.
        let by_arn = common::describe(&server.client_in(region), &arn_in(&arn, region)).await;
        assert_eq!(by_arn.name(), Some("db"));
        let partial = arn_in(&arn, region);
        let partial = &partial[..partial.len() - 7];
        let by_partial = common::describe(&server.client_in(region), partial).await;
        assert_eq!(by_partial.name(), Some("db"));
    }

    // Not in a region it was not replicated to.
    let (code, _) = error_of(
        server
            .client_in("eu-west-1")
            .describe_secret()
            .secret_id("db")
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");

    // A secret never replicated has no primary region and no replication status.
    let plain = common::create(&client, "plain", "v").await;
    assert!(plain.replication_status().is_empty());
    let plain = common::describe(&client, "plain").await;
    assert_eq!(plain.primary_region(), None);
    assert!(plain.replication_status().is_empty());
}

#[tokio::test]
async fn replicate_secret_to_regions_adds_replicas_to_an_existing_secret() {
    let server = TestServer::start().await;
    let client = server.client();
    let arn = common::create(&client, "s", "v")
        .await
        .arn()
        .expect("ARN")
        .to_owned();
    let (code, _) = error_of(
        server
            .client_in(EAST2)
            .get_secret_value()
            .secret_id("s")
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException", "not replicated yet");

    let replicated = client
        .replicate_secret_to_regions()
        .secret_id(&arn)
        .add_replica_regions(replica(EAST2))
        .send()
        .await
        .expect("replicate");
    assert_eq!(replicated.arn(), Some(arn.as_str()));
    assert_eq!(
        statuses(replicated.replication_status()),
        vec![in_sync(EAST2, MANAGED_KEY)]
    );
    let more = client
        .replicate_secret_to_regions()
        .secret_id("s")
        .add_replica_regions(replica(WEST2))
        .send()
        .await
        .expect("replicate more");
    assert_eq!(
        statuses(more.replication_status()),
        vec![in_sync(EAST2, MANAGED_KEY), in_sync(WEST2, MANAGED_KEY)],
        "the whole status, not only the new region"
    );
    for region in [EAST2, WEST2] {
        let got = common::get(&server.client_in(region), "s").await;
        assert_eq!(got.secret_string(), Some("v"));
        assert_eq!(got.arn(), Some(arn_in(&arn, region).as_str()));
    }
    assert_eq!(
        common::describe(&client, "s").await.primary_region(),
        Some(REGION)
    );
}

#[tokio::test]
async fn a_replica_reads_the_primarys_versions_and_follows_every_change_at_once() {
    let server = TestServer::start().await;
    let client = server.client();
    let remote = server.client_in(EAST2);
    let arn = create_replicated(&client, "app", "one", &[EAST2]).await;
    let replica_arn = arn_in(&arn, EAST2);

    let first = common::get(&client, "app").await;
    let v1 = first.version_id().expect("version").to_owned();
    let seen = common::get(&remote, "app").await;
    assert_eq!(seen.secret_string(), Some("one"));
    assert_eq!(seen.version_id(), Some(v1.as_str()));
    assert_eq!(seen.version_stages(), ["AWSCURRENT"]);
    assert_eq!(seen.arn(), Some(replica_arn.as_str()));
    assert_eq!(seen.name(), Some("app"));

    // A new version on the primary is current on the replica at once.
    let v2 = token();
    client
        .put_secret_value()
        .secret_id("app")
        .secret_string("two")
        .client_request_token(&v2)
        .send()
        .await
        .expect("put");
    let seen = common::get(&remote, &replica_arn).await;
    assert_eq!(
        (seen.version_id(), seen.secret_string()),
        (Some(v2.as_str()), Some("two"))
    );
    let previous = remote
        .get_secret_value()
        .secret_id("app")
        .version_stage("AWSPREVIOUS")
        .send()
        .await
        .expect("previous on the replica");
    assert_eq!(previous.version_id(), Some(v1.as_str()));
    assert_eq!(previous.secret_string(), Some("one"));

    // A label moved on the primary is moved on the replica.
    client
        .update_secret_version_stage()
        .secret_id("app")
        .version_stage("blue")
        .move_to_version_id(&v1)
        .send()
        .await
        .expect("label");
    let blue = remote
        .get_secret_value()
        .secret_id("app")
        .version_stage("blue")
        .send()
        .await
        .expect("blue on the replica");
    assert_eq!(blue.secret_string(), Some("one"));
    let listed = remote
        .list_secret_version_ids()
        .secret_id("app")
        .send()
        .await
        .expect("list versions on the replica");
    assert_eq!(listed.arn(), Some(replica_arn.as_str()));
    let mut versions: Vec<(String, Vec<String>)> = listed
        .versions()
        .iter()
        .map(|v| {
            let mut stages = v.version_stages().to_vec();
            stages.sort();
            (v.version_id().unwrap_or_default().to_owned(), stages)
        })
        .collect();
    versions.sort();
    let mut expected = vec![
        (
            v1.clone(),
            vec!["AWSPREVIOUS".to_owned(), "blue".to_owned()],
        ),
        (v2.clone(), vec!["AWSCURRENT".to_owned()]),
    ];
    expected.sort();
    assert_eq!(versions, expected);

    // Metadata changed on the primary shows on the replica.
    client
        .update_secret()
        .secret_id("app")
        .description("the app")
        .send()
        .await
        .expect("describe it");
    client
        .tag_resource()
        .secret_id("app")
        .tags(Tag::builder().key("team").value("core").build())
        .send()
        .await
        .expect("tag");
    let described = common::describe(&remote, "app").await;
    assert_eq!(described.description(), Some("the app"));
    let tags: Vec<(&str, &str)> = described
        .tags()
        .iter()
        .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))
        .collect();
    assert_eq!(tags, [("team", "core")]);

    // BatchGetSecretValue in the replica region reads the replica.
    let batch = remote
        .batch_get_secret_value()
        .secret_id_list("app")
        .send()
        .await
        .expect("batch get");
    assert!(batch.errors().is_empty(), "{:?}", batch.errors());
    let entries: Vec<(Option<&str>, Option<&str>, Option<&str>)> = batch
        .secret_values()
        .iter()
        .map(|e| (e.arn(), e.secret_string(), e.version_id()))
        .collect();
    assert_eq!(
        entries,
        [(Some(replica_arn.as_str()), Some("two"), Some(v2.as_str()))]
    );

    // The primary's ARN is not the replica's: from the replica region it names nothing.
    let (code, _) = error_of(remote.get_secret_value().secret_id(&arn).send().await);
    assert_eq!(code, "ResourceNotFoundException");
}

#[tokio::test]
async fn the_last_accessed_date_is_kept_per_region() {
    let server = TestServer::start().await;
    let client = server.client();
    let remote = server.client_in(EAST2);
    create_replicated(&client, "s", "v", &[EAST2, WEST2]).await;
    let day0 = server.now().start_of_day().as_millis() / 1000;
    common::get(&client, "s").await;

    server.advance_days(2);
    let day2 = server.now().start_of_day().as_millis() / 1000;
    common::get(&remote, "s").await;

    let primary = common::describe(&client, "s").await;
    assert_eq!(secs(primary.last_accessed_date()), Some(day0));
    let replicas: Vec<(Option<&str>, Option<i64>)> = primary
        .replication_status()
        .iter()
        .map(|s| (s.region(), secs(s.last_accessed_date())))
        .collect();
    assert_eq!(replicas, [(Some(EAST2), Some(day2)), (Some(WEST2), None)]);
    assert_eq!(
        secs(common::describe(&remote, "s").await.last_accessed_date()),
        Some(day2)
    );
    assert_eq!(
        common::describe(&server.client_in(WEST2), "s")
            .await
            .last_accessed_date(),
        None,
        "never read in us-west-2"
    );
}

#[tokio::test]
async fn bad_replica_regions_are_refused_and_nothing_is_created() {
    let server = TestServer::start().await;
    let client = server.client();
    let cases: [&[&str]; 5] = [
        &[REGION],
        &[EAST2, EAST2],
        &[EAST2, "a"],
        &["US-EAST-1"],
        &["us-east-"],
    ];
    for regions in cases {
        let mut request = client.create_secret().name("s").secret_string("v");
        for region in regions {
            request = request.add_replica_regions(replica(region));
        }
        let (code, message) = error_of(request.send().await);
        assert_eq!(
            (code.as_str(), message.as_str()),
            ("InvalidParameterException", "Invalid replica region."),
            "{regions:?}"
        );
        let (code, _) = error_of(client.describe_secret().secret_id("s").send().await);
        assert_eq!(code, "ResourceNotFoundException", "{regions:?}");
        let (code, _) = error_of(
            server
                .client_in(EAST2)
                .describe_secret()
                .secret_id("s")
                .send()
                .await,
        );
        assert_eq!(code, "ResourceNotFoundException", "{regions:?}");
    }

    common::create(&client, "s", "v").await;
    for regions in cases {
        let mut request = client.replicate_secret_to_regions().secret_id("s");
        for region in regions {
            request = request.add_replica_regions(replica(region));
        }
        let (code, message) = error_of(request.send().await);
        assert_eq!(
            (code.as_str(), message.as_str()),
            ("InvalidParameterException", "Invalid replica region."),
            "{regions:?}"
        );
        let described = common::describe(&client, "s").await;
        assert!(described.replication_status().is_empty(), "{regions:?}");
        assert_eq!(described.primary_region(), None, "{regions:?}");
    }

    // A region already replicated to is refused, and the other regions of the request are
    // not added either.
    client
        .replicate_secret_to_regions()
        .secret_id("s")
        .add_replica_regions(replica(EAST2))
        .send()
        .await
        .expect("replicate");
    let (code, message) = error_of(
        client
            .replicate_secret_to_regions()
            .secret_id("s")
            .add_replica_regions(replica(WEST2))
            .add_replica_regions(replica(EAST2))
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(message, "The secret is already replicated to us-east-2.");
    assert_eq!(
        statuses(common::describe(&client, "s").await.replication_status()),
        vec![in_sync(EAST2, MANAGED_KEY)]
    );
    let (code, _) = error_of(
        server
            .client_in(WEST2)
            .describe_secret()
            .secret_id("s")
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
}

#[tokio::test]
async fn every_change_through_a_replica_is_refused() {
    let server = TestServer::start().await;
    let client = server.client();
    let remote = server.client_in(EAST2);
    create_replicated(&client, "s", "v", &[EAST2]).await;
    let current = common::get(&client, "s").await;
    let v1 = current.version_id().expect("version").to_owned();
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#;
    client
        .put_resource_policy()
        .secret_id("s")
        .resource_policy(policy)
        .send()
        .await
        .expect("policy on the primary");
    let before = common::describe(&client, "s").await;

    let results = [
        (
            "UpdateSecret",
            error_of(
                remote
                    .update_secret()
                    .secret_id("s")
                    .secret_string("w")
                    .send()
                    .await,
            ),
        ),
        (
            "UpdateSecret description",
            error_of(
                remote
                    .update_secret()
                    .secret_id("s")
                    .description("d")
                    .send()
                    .await,
            ),
        ),
        (
            "PutSecretValue",
            error_of(
                remote
                    .put_secret_value()
                    .secret_id("s")
                    .secret_string("w")
                    .send()
                    .await,
            ),
        ),
        (
            "UpdateSecretVersionStage",
            error_of(
                remote
                    .update_secret_version_stage()
                    .secret_id("s")
                    .version_stage("x")
                    .move_to_version_id(&v1)
                    .send()
                    .await,
            ),
        ),
        (
            "DeleteSecret",
            error_of(remote.delete_secret().secret_id("s").send().await),
        ),
        (
            "DeleteSecret forced",
            error_of(
                remote
                    .delete_secret()
                    .secret_id("s")
                    .force_delete_without_recovery(true)
                    .send()
                    .await,
            ),
        ),
        (
            "RestoreSecret",
            error_of(remote.restore_secret().secret_id("s").send().await),
        ),
        (
            "TagResource",
            error_of(
                remote
                    .tag_resource()
                    .secret_id("s")
                    .tags(Tag::builder().key("k").value("v").build())
                    .send()
                    .await,
            ),
        ),
        (
            "UntagResource",
            error_of(
                remote
                    .untag_resource()
                    .secret_id("s")
                    .tag_keys("k")
                    .send()
                    .await,
            ),
        ),
        (
            "PutResourcePolicy",
            error_of(
                remote
                    .put_resource_policy()
                    .secret_id("s")
                    .resource_policy(policy)
                    .send()
                    .await,
            ),
        ),
        (
            "GetResourcePolicy",
            error_of(remote.get_resource_policy().secret_id("s").send().await),
        ),
        (
            "DeleteResourcePolicy",
            error_of(remote.delete_resource_policy().secret_id("s").send().await),
        ),
        (
            "RotateSecret",
            error_of(
                remote
                    .rotate_secret()
                    .secret_id("s")
                    .rotation_lambda_arn("arn:aws:lambda:us-east-2:123456789012:function:rotate")
                    .send()
                    .await,
            ),
        ),
        (
            "CancelRotateSecret",
            error_of(remote.cancel_rotate_secret().secret_id("s").send().await),
        ),
        (
            "ReplicateSecretToRegions",
            error_of(
                remote
                    .replicate_secret_to_regions()
                    .secret_id("s")
                    .add_replica_regions(replica(WEST2))
                    .send()
                    .await,
            ),
        ),
        (
            "RemoveRegionsFromReplication",
            error_of(
                remote
                    .remove_regions_from_replication()
                    .secret_id("s")
                    .remove_replica_regions(EAST2)
                    .send()
                    .await,
            ),
        ),
    ];
    for (operation, (code, message)) in results {
        assert_eq!(
            (code.as_str(), message.as_str()),
            ("InvalidParameterException", ON_REPLICA),
            "{operation}"
        );
    }
    // The replica's ARN is refused the same way.
    let replica_arn = common::describe(&remote, "s")
        .await
        .arn()
        .expect("ARN")
        .to_owned();
    let (code, message) = error_of(
        remote
            .put_secret_value()
            .secret_id(&replica_arn)
            .secret_string("w")
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("InvalidParameterException", ON_REPLICA)
    );

    // Nothing changed, on either side.
    let after = common::describe(&client, "s").await;
    assert_eq!(
        after.version_ids_to_stages(),
        before.version_ids_to_stages()
    );
    assert_eq!(after.description(), None);
    assert!(after.tags().is_empty());
    assert_eq!(after.deleted_date(), None);
    assert_eq!(after.rotation_enabled(), None);
    assert_eq!(
        statuses(after.replication_status()),
        vec![in_sync(EAST2, MANAGED_KEY)]
    );
    let policy_now = client
        .get_resource_policy()
        .secret_id("s")
        .send()
        .await
        .expect("policy");
    assert_eq!(policy_now.resource_policy(), Some(policy));
    assert_eq!(common::get(&remote, "s").await.secret_string(), Some("v"));
    let (code, _) = error_of(
        server
            .client_in(WEST2)
            .describe_secret()
            .secret_id("s")
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
}

#[tokio::test]
async fn a_primary_with_replicas_is_deleted_only_after_they_are_removed() {
    let server = TestServer::start().await;
    let client = server.client();
    let arn = create_replicated(&client, "s", "v", &[EAST2, WEST2]).await;
    let expected = format!(
        "You can't delete secret {arn} that still has replica regions [us-east-2, us-west-2]."
    );
    for force in [false, true] {
        let (code, message) = error_of(
            client
                .delete_secret()
                .secret_id("s")
                .force_delete_without_recovery(force)
                .send()
                .await,
        );
        assert_eq!(
            (code.as_str(), message.as_str()),
            ("InvalidParameterException", expected.as_str()),
            "force: {force}"
        );
    }
    // The message names the ARN however the secret was named.
    let (_, message) = error_of(client.delete_secret().secret_id(&arn).send().await);
    assert_eq!(message, expected);
    let described = common::describe(&client, "s").await;
    assert_eq!(described.deleted_date(), None);
    assert_eq!(common::get(&client, "s").await.secret_string(), Some("v"));
    assert_eq!(
        common::get(&server.client_in(EAST2), "s")
            .await
            .secret_string(),
        Some("v")
    );

    // With one replica left, that one is named.
    client
        .remove_regions_from_replication()
        .secret_id("s")
        .remove_replica_regions(EAST2)
        .send()
        .await
        .expect("remove us-east-2");
    let (_, message) = error_of(client.delete_secret().secret_id("s").send().await);
    assert_eq!(
        message,
        format!("You can't delete secret {arn} that still has replica regions [us-west-2].")
    );

    let removed = client
        .remove_regions_from_replication()
        .secret_id("s")
        .remove_replica_regions(WEST2)
        .send()
        .await
        .expect("remove us-west-2");
    assert!(removed.replication_status().is_empty());
    let deleted = client
        .delete_secret()
        .secret_id("s")
        .recovery_window_in_days(7)
        .send()
        .await
        .expect("delete once unreplicated");
    assert_eq!(deleted.arn(), Some(arn.as_str()));
    assert!(
        common::describe(&client, "s")
            .await
            .deleted_date()
            .is_some()
    );
}

#[tokio::test]
async fn removing_regions_is_idempotent_and_frees_the_name_there() {
    let server = TestServer::start().await;
    let client = server.client();
    let east2 = server.client_in(EAST2);
    let arn = create_replicated(&client, "s", "primary", &[EAST2, WEST2]).await;

    let removed = client
        .remove_regions_from_replication()
        .secret_id(&arn)
        .remove_replica_regions(EAST2)
        .send()
        .await
        .expect("remove");
    assert_eq!(removed.arn(), Some(arn.as_str()));
    assert_eq!(
        statuses(removed.replication_status()),
        vec![in_sync(WEST2, MANAGED_KEY)],
        "the replicas that remain"
    );
    let (code, _) = error_of(east2.get_secret_value().secret_id("s").send().await);
    assert_eq!(code, "ResourceNotFoundException");
    let (code, _) = error_of(
        east2
            .describe_secret()
            .secret_id(arn_in(&arn, EAST2))
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");

    // Removing it again, or a region never replicated to, changes nothing.
    for regions in [&[EAST2][..], &["eu-west-1"], &[EAST2, "eu-west-1"]] {
        let mut request = client.remove_regions_from_replication().secret_id("s");
        for region in regions {
            request = request.remove_replica_regions(*region);
        }
        let again = request.send().await.expect("remove again");
        assert_eq!(
            statuses(again.replication_status()),
            vec![in_sync(WEST2, MANAGED_KEY)],
            "{regions:?}"
        );
    }
    assert_eq!(
        statuses(common::describe(&client, "s").await.replication_status()),
        vec![in_sync(WEST2, MANAGED_KEY)]
    );
    assert_eq!(
        common::get(&server.client_in(WEST2), "s")
            .await
            .secret_string(),
        Some("primary")
    );

    // The name is free in us-east-2: a secret of its own can be created there.
    let local = common::create(&east2, "s", "local").await;
    let local_arn = local.arn().expect("ARN");
    assert!(local_arn.starts_with("arn:aws:secretsmanager:us-east-2:123456789012:secret:s-"));
    assert_eq!(
        common::get(&east2, "s").await.secret_string(),
        Some("local")
    );
    assert_eq!(common::describe(&east2, "s").await.primary_region(), None);
    assert_eq!(
        common::get(&client, "s").await.secret_string(),
        Some("primary")
    );

    // Once the last replica is gone, the primary is no longer shown as replicated.
    let last = client
        .remove_regions_from_replication()
        .secret_id("s")
        .remove_replica_regions(WEST2)
        .send()
        .await
        .expect("remove the last");
    assert!(last.replication_status().is_empty());
    let described = common::describe(&client, "s").await;
    assert!(described.replication_status().is_empty());
    assert_eq!(described.primary_region(), None);
}

#[tokio::test]
async fn a_name_taken_in_the_target_region_fails_that_replica_only() {
    let server = TestServer::start().await;
    let client = server.client();
    let east2 = server.client_in(EAST2);
    let theirs = common::create(&east2, "shared", "theirs").await;
    let their_arn = theirs.arn().expect("ARN").to_owned();
    let their_version = theirs.version_id().expect("version").to_owned();

    let created = client
        .create_secret()
        .name("shared")
        .secret_string("ours")
        .add_replica_regions(replica(EAST2))
        .add_replica_regions(replica(WEST2))
        .send()
        .await
        .expect("create: a failed replica is not an error");
    let arn = created.arn().expect("ARN").to_owned();
    let expected = vec![failed(EAST2, "shared"), in_sync(WEST2, MANAGED_KEY)];
    assert_eq!(statuses(created.replication_status()), expected);
    assert_eq!(
        statuses(
            common::describe(&client, "shared")
                .await
                .replication_status()
        ),
        expected
    );

    // The secret already there is untouched, and still its own.
    let there = common::describe(&east2, "shared").await;
    assert_eq!(there.arn(), Some(their_arn.as_str()));
    assert_eq!(there.primary_region(), None);
    let got = common::get(&east2, "shared").await;
    assert_eq!(
        (got.secret_string(), got.version_id()),
        (Some("theirs"), Some(their_version.as_str()))
    );
    east2
        .put_secret_value()
        .secret_id("shared")
        .secret_string("theirs, changed")
        .send()
        .await
        .expect("it stays writable in its region");
    assert_eq!(
        common::get(&client, "shared").await.secret_string(),
        Some("ours")
    );
    assert_eq!(
        common::get(&server.client_in(WEST2), "shared")
            .await
            .secret_string(),
        Some("ours")
    );

    // The failed replica still counts as a replica region for DeleteSecret.
    let (code, message) = error_of(client.delete_secret().secret_id("shared").send().await);
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(
        message,
        format!(
            "You can't delete secret {arn} that still has replica regions [us-east-2, us-west-2]."
        )
    );

    // Removing the failed replica leaves the other secret alone.
    let removed = client
        .remove_regions_from_replication()
        .secret_id("shared")
        .remove_replica_regions(EAST2)
        .send()
        .await
        .expect("remove the failed replica");
    assert_eq!(
        statuses(removed.replication_status()),
        vec![in_sync(WEST2, MANAGED_KEY)]
    );
    assert_eq!(
        common::get(&east2, "shared").await.secret_string(),
        Some("theirs, changed")
    );
    assert_eq!(
        common::describe(&east2, "shared").await.arn(),
        Some(their_arn.as_str())
    );
}

#[tokio::test]
async fn force_overwrite_replaces_a_standalone_secret_in_the_target_region() {
    let server = TestServer::start().await;
    let client = server.client();
    let east2 = server.client_in(EAST2);
    let west2 = server.client_in(WEST2);
    let old_east = common::create(&east2, "s", "old east").await;
    let old_east_arn = old_east.arn().expect("ARN").to_owned();
    let old_west = common::create(&west2, "s", "old west").await;
    let old_west_arn = old_west.arn().expect("ARN").to_owned();

    // On CreateSecret.
    let created = client
        .create_secret()
        .name("s")
        .secret_string("new")
        .add_replica_regions(replica(EAST2))
        .force_overwrite_replica_secret(true)
        .send()
        .await
        .expect("create over it");
    let arn = created.arn().expect("ARN").to_owned();
    assert_eq!(
        statuses(created.replication_status()),
        vec![in_sync(EAST2, MANAGED_KEY)]
    );
    let got = common::get(&east2, "s").await;
    assert_eq!(got.secret_string(), Some("new"));
    assert_eq!(got.arn(), Some(arn_in(&arn, EAST2).as_str()));
    assert_eq!(
        common::describe(&east2, "s").await.primary_region(),
        Some(REGION)
    );
    if old_east_arn != arn_in(&arn, EAST2) {
        let (code, _) = error_of(
            east2
                .describe_secret()
                .secret_id(&old_east_arn)
                .send()
                .await,
        );
        assert_eq!(code, "ResourceNotFoundException", "the old ARN is gone");
    }
    let listed = east2
        .list_secret_version_ids()
        .secret_id("s")
        .send()
        .await
        .expect("versions");
    assert_eq!(
        listed.versions().len(),
        1,
        "none of the old secret's versions"
    );
    assert_eq!(listed.versions()[0].version_id(), created.version_id());

    // On ReplicateSecretToRegions.
    let replicated = client
        .replicate_secret_to_regions()
        .secret_id("s")
        .add_replica_regions(replica(WEST2))
        .force_overwrite_replica_secret(true)
        .send()
        .await
        .expect("replicate over it");
    assert_eq!(
        statuses(replicated.replication_status()),
        vec![in_sync(EAST2, MANAGED_KEY), in_sync(WEST2, MANAGED_KEY)]
    );
    let got = common::get(&west2, "s").await;
    assert_eq!(got.secret_string(), Some("new"));
    assert_eq!(got.arn(), Some(arn_in(&arn, WEST2).as_str()));
    if old_west_arn != arn_in(&arn, WEST2) {
        let (code, _) = error_of(
            west2
                .describe_secret()
                .secret_id(&old_west_arn)
                .send()
                .await,
        );
        assert_eq!(code, "ResourceNotFoundException", "the old ARN is gone");
    }
}

#[tokio::test]
async fn force_overwrite_never_replaces_another_secrets_primary_or_replica() {
    let server = TestServer::start().await;
    let client = server.client();
    let east2 = server.client_in(EAST2);
    let west2 = server.client_in(WEST2);
    // "busy" is a primary in us-west-2 with a replica in us-east-2.
    let other = west2
        .create_secret()
        .name("busy")
        .secret_string("other")
        .add_replica_regions(replica(EAST2))
        .send()
        .await
        .expect("the other primary");
    let other_arn = other.arn().expect("ARN").to_owned();

    let created = client
        .create_secret()
        .name("busy")
        .secret_string("mine")
        .add_replica_regions(replica(EAST2))
        .add_replica_regions(replica(WEST2))
        .force_overwrite_replica_secret(true)
        .send()
        .await
        .expect("create");
    assert_eq!(
        statuses(created.replication_status()),
        vec![failed(EAST2, "busy"), failed(WEST2, "busy")]
    );
    let there = common::describe(&east2, "busy").await;
    assert_eq!(there.arn(), Some(arn_in(&other_arn, EAST2).as_str()));
    assert_eq!(there.primary_region(), Some(WEST2));
    assert_eq!(
        common::get(&east2, "busy").await.secret_string(),
        Some("other")
    );
    let other_now = common::describe(&west2, "busy").await;
    assert_eq!(other_now.arn(), Some(other_arn.as_str()));
    assert_eq!(
        statuses(other_now.replication_status()),
        vec![in_sync(EAST2, MANAGED_KEY)]
    );
}

#[tokio::test]
async fn a_replicas_name_is_taken_in_its_region() {
    let server = TestServer::start().await;
    let client = server.client();
    let east2 = server.client_in(EAST2);
    create_replicated(&client, "s", "v", &[EAST2]).await;
    let (code, message) = error_of(
        east2
            .create_secret()
            .name("s")
            .secret_string("mine")
            .send()
            .await,
    );
    assert_eq!(code, "ResourceExistsException");
    assert_eq!(
        message,
        "The operation failed because the secret s already exists."
    );
    assert_eq!(common::get(&east2, "s").await.secret_string(), Some("v"));
    assert_eq!(
        common::describe(&east2, "s").await.primary_region(),
        Some(REGION)
    );
    // Not even the primary's own token and value make a create there look like a retry.
    let current = common::get(&client, "s").await;
    let token = current.version_id().expect("version id").to_owned();
    let (code, _) = error_of(
        east2
            .create_secret()
            .name("s")
            .client_request_token(token)
            .secret_string("v")
            .send()
            .await,
    );
    assert_eq!(code, "ResourceExistsException");
}

#[tokio::test]
async fn list_secrets_in_a_replica_region_shows_the_replica_and_its_primary_region() {
    let server = TestServer::start().await;
    let client = server.client();
    let east2 = server.client_in(EAST2);
    let arn = create_replicated(&client, "replicated", "v", &[EAST2]).await;
    common::create(&client, "home-only", "v").await;
    common::create(&east2, "local", "v").await;

    let listed = east2.list_secrets().send().await.expect("list");
    let mut entries: Vec<(Option<&str>, Option<&str>, Option<&str>)> = listed
        .secret_list()
        .iter()
        .map(|e| (e.name(), e.arn(), e.primary_region()))
        .collect();
    entries.sort();
    let replica_arn = arn_in(&arn, EAST2);
    let local_arn = common::describe(&east2, "local")
        .await
        .arn()
        .expect("ARN")
        .to_owned();
    assert_eq!(
        entries,
        [
            (Some("local"), Some(local_arn.as_str()), None),
            (Some("replicated"), Some(replica_arn.as_str()), Some(REGION)),
        ]
    );
    let replica_entry = listed
        .secret_list()
        .iter()
        .find(|e| e.name() == Some("replicated"))
        .expect("the replica is listed");
    assert_eq!(
        replica_entry.secret_versions_to_stages().map(|m| m.len()),
        Some(1)
    );

    let by_primary_region = |client: Client, region: &'static str| async move {
        let listed = client
            .list_secrets()
            .filters(
                Filter::builder()
                    .key(FilterNameStringType::PrimaryRegion)
                    .values(region)
                    .build(),
            )
            .send()
            .await
            .expect("list by primary region");
        let mut names: Vec<String> = listed
            .secret_list()
            .iter()
            .filter_map(|e| e.name().map(str::to_owned))
            .collect();
        names.sort();
        names
    };
    // Only replicated secrets have a primary region, in both regions.
    assert_eq!(
        by_primary_region(east2.clone(), REGION).await,
        ["replicated"]
    );
    assert_eq!(
        by_primary_region(client.clone(), REGION).await,
        ["replicated"]
    );
    assert!(by_primary_region(east2.clone(), EAST2).await.is_empty());

    // The primary's own listing is of its region only.
    let home = client.list_secrets().send().await.expect("list at home");
    let mut names: Vec<&str> = home.secret_list().iter().filter_map(|e| e.name()).collect();
    names.sort();
    assert_eq!(names, ["home-only", "replicated"]);
    let primary_entry = home
        .secret_list()
        .iter()
        .find(|e| e.name() == Some("replicated"))
        .expect("primary listed");
    assert_eq!(primary_entry.arn(), Some(arn.as_str()));
    assert_eq!(primary_entry.primary_region(), Some(REGION));
}

#[tokio::test]
async fn stop_replication_promotes_the_replica_to_a_secret_of_its_own() {
    let server = TestServer::start().await;
    let client = server.client();
    let east2 = server.client_in(EAST2);
    let west2 = server.client_in(WEST2);
    server.kms_key_with_alias(WEST2, "alias/west").await;
    let created = client
        .create_secret()
        .name("s")
        .description("shared")
        .secret_string("one")
        .tags(Tag::builder().key("team").value("core").build())
        .add_replica_regions(replica(EAST2))
        .add_replica_regions(
            ReplicaRegionType::builder()
                .region(WEST2)
                .kms_key_id("alias/west")
                .build(),
        )
        .send()
        .await
        .expect("create");
    let arn = created.arn().expect("ARN").to_owned();
    let v1 = created.version_id().expect("version").to_owned();
    let v2 = token();
    client
        .put_secret_value()
        .secret_id("s")
        .secret_string("two")
        .client_request_token(&v2)
        .send()
        .await
        .expect("put");
    client
        .update_secret_version_stage()
        .secret_id("s")
        .version_stage("old")
        .move_to_version_id(&v1)
        .send()
        .await
        .expect("label");
    common::get(&east2, "s").await;
    let read_day = server.now().start_of_day().as_millis() / 1000;
    let before = common::describe(&east2, "s").await;

    server.advance_days(1);
    let stopped = east2
        .stop_replication_to_replica()
        .secret_id("s")
        .send()
        .await
        .expect("stop by name");
    let east_arn = arn_in(&arn, EAST2);
    assert_eq!(stopped.arn(), Some(east_arn.as_str()));

    // A secret of its own: same ARN, versions, labels, values, description and tags.
    let promoted = common::describe(&east2, "s").await;
    assert_eq!(promoted.arn(), Some(east_arn.as_str()));
    assert_eq!(promoted.primary_region(), None);
    assert!(promoted.replication_status().is_empty());
    assert_eq!(promoted.description(), Some("shared"));
    assert_eq!(promoted.tags(), before.tags());
    assert_eq!(
        promoted.version_ids_to_stages(),
        before.version_ids_to_stages()
    );
    assert_eq!(secs(promoted.created_date()), secs(before.created_date()));
    assert_eq!(secs(promoted.last_accessed_date()), Some(read_day));
    for (version, value) in [(&v1, "one"), (&v2, "two")] {
        let got = east2
            .get_secret_value()
            .secret_id(&east_arn)
            .version_id(version)
            .send()
            .await
            .expect("a copied version");
        assert_eq!(got.secret_string(), Some(value));
        assert_eq!(got.arn(), Some(east_arn.as_str()));
    }

    // The primary no longer replicates there.
    let primary = common::describe(&client, "s").await;
    assert_eq!(
        statuses(primary.replication_status()),
        vec![in_sync(WEST2, "alias/west")]
    );

    // From now on the two go their own ways.
    let v3 = token();
    east2
        .put_secret_value()
        .secret_id("s")
        .secret_string("east only")
        .client_request_token(&v3)
        .send()
        .await
        .expect("a write in the promoted region");
    east2
        .tag_resource()
        .secret_id("s")
        .tags(Tag::builder().key("where").value("east").build())
        .send()
        .await
        .expect("tag the promoted secret");
    assert_eq!(common::get(&client, "s").await.secret_string(), Some("two"));
    assert_eq!(common::describe(&client, "s").await.tags().len(), 1);
    let (code, _) = error_of(
        client
            .get_secret_value()
            .secret_id("s")
            .version_id(&v3)
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
    client
        .put_secret_value()
        .secret_id("s")
        .secret_string("home only")
        .send()
        .await
        .expect("a write on the primary");
    assert_eq!(
        common::get(&east2, "s").await.secret_string(),
        Some("east only")
    );
    assert_eq!(
        common::get(&west2, "s").await.secret_string(),
        Some("home only"),
        "the remaining replica still follows"
    );
    // The promoted secret can be deleted on its own, and the primary is unaffected.
    east2
        .delete_secret()
        .secret_id("s")
        .force_delete_without_recovery(true)
        .send()
        .await
        .expect("delete the promoted secret");
    assert_eq!(
        common::get(&client, "s").await.secret_string(),
        Some("home only")
    );

    // By ARN, for the other replica; its key becomes the secret's key.
    let west_arn = arn_in(&arn, WEST2);
    let stopped = west2
        .stop_replication_to_replica()
        .secret_id(&west_arn)
        .send()
        .await
        .expect("stop by ARN");
    assert_eq!(stopped.arn(), Some(west_arn.as_str()));
    let promoted = common::describe(&west2, "s").await;
    assert_eq!(promoted.kms_key_id(), Some("alias/west"));
    assert_eq!(promoted.primary_region(), None);
    let primary = common::describe(&client, "s").await;
    assert!(primary.replication_status().is_empty());
    // With no replica left, the primary can be deleted.
    client
        .delete_secret()
        .secret_id("s")
        .force_delete_without_recovery(true)
        .send()
        .await
        .expect("delete the former primary");
    assert_eq!(
        common::get(&west2, "s").await.secret_string(),
        Some("home only")
    );
}

#[tokio::test]
async fn stop_replication_is_refused_outside_a_replica() {
    let server = TestServer::start().await;
    let client = server.client();
    let east2 = server.client_in(EAST2);
    let arn = create_replicated(&client, "s", "v", &[EAST2]).await;
    common::create(&client, "plain", "v").await;
    common::create(&east2, "local", "v").await;

    for (who, result) in [
        (
            "primary by name",
            error_of(
                client
                    .stop_replication_to_replica()
                    .secret_id("s")
                    .send()
                    .await,
            ),
        ),
        (
            "primary by ARN",
            error_of(
                client
                    .stop_replication_to_replica()
                    .secret_id(&arn)
                    .send()
                    .await,
            ),
        ),
        (
            "never replicated",
            error_of(
                client
                    .stop_replication_to_replica()
                    .secret_id("plain")
                    .send()
                    .await,
            ),
        ),
        (
            "standalone in the replica region",
            error_of(
                east2
                    .stop_replication_to_replica()
                    .secret_id("local")
                    .send()
                    .await,
            ),
        ),
    ] {
        assert_eq!(result.0, "InvalidRequestException", "{who}: {}", result.1);
    }
    // The replica's ARN means nothing outside its region.
    let (code, _) = error_of(
        client
            .stop_replication_to_replica()
            .secret_id(arn_in(&arn, EAST2))
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
    assert_eq!(
        statuses(common::describe(&client, "s").await.replication_status()),
        vec![in_sync(EAST2, MANAGED_KEY)]
    );
    assert_eq!(
        common::describe(&east2, "s").await.primary_region(),
        Some(REGION)
    );
}

#[tokio::test]
async fn a_failed_replica_is_retried_by_replicating_to_its_region_again() {
    let server = TestServer::start().await;
    let client = server.client();
    let east2 = server.client_in(EAST2);
    common::create(&east2, "s", "theirs").await;
    let arn = create_replicated(&client, "s", "ours", &[EAST2]).await;

    // While the name is still taken, a retry without overwrite fails the same way.
    let retried = client
        .replicate_secret_to_regions()
        .secret_id("s")
        .add_replica_regions(replica(EAST2))
        .send()
        .await
        .expect("retry");
    assert_eq!(
        statuses(retried.replication_status()),
        vec![failed(EAST2, "s")],
        "one entry for the region, still failed"
    );
    assert_eq!(
        common::get(&east2, "s").await.secret_string(),
        Some("theirs")
    );

    // With overwrite (the console's "Retry replication", "Overwrite"), it succeeds.
    let retried = client
        .replicate_secret_to_regions()
        .secret_id("s")
        .add_replica_regions(replica(EAST2))
        .force_overwrite_replica_secret(true)
        .send()
        .await
        .expect("retry with overwrite");
    assert_eq!(
        statuses(retried.replication_status()),
        vec![in_sync(EAST2, MANAGED_KEY)]
    );
    let got = common::get(&east2, "s").await;
    assert_eq!(got.secret_string(), Some("ours"));
    assert_eq!(got.arn(), Some(arn_in(&arn, EAST2).as_str()));

    // Without overwrite, once the name is free again.
    let west2 = server.client_in(WEST2);
    common::create(&west2, "s", "theirs").await;
    let failed_too = client
        .replicate_secret_to_regions()
        .secret_id("s")
        .add_replica_regions(replica(WEST2))
        .send()
        .await
        .expect("replicate to a taken name");
    assert_eq!(
        statuses(failed_too.replication_status()),
        vec![in_sync(EAST2, MANAGED_KEY), failed(WEST2, "s")]
    );
    west2
        .delete_secret()
        .secret_id("s")
        .force_delete_without_recovery(true)
        .send()
        .await
        .expect("free the name");
    let retried = client
        .replicate_secret_to_regions()
        .secret_id("s")
        .add_replica_regions(replica(WEST2))
        .send()
        .await
        .expect("retry once free");
    assert_eq!(
        statuses(retried.replication_status()),
        vec![in_sync(EAST2, MANAGED_KEY), in_sync(WEST2, MANAGED_KEY)]
    );
    assert_eq!(common::get(&west2, "s").await.secret_string(), Some("ours"));

    // Once in sync, the region is replicated and cannot be added again.
    let (code, _) = error_of(
        client
            .replicate_secret_to_regions()
            .secret_id("s")
            .add_replica_regions(replica(EAST2))
            .force_overwrite_replica_secret(true)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_on_the_primary_are_seen_whole_by_a_replica_reader_in_memory() {
    a_replica_reader_sees_only_whole_acknowledged_versions(TestServer::start().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_on_the_primary_are_seen_whole_by_a_replica_reader_on_disk() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store =
        coffer::store::sqlite::SqliteStore::open(&dir.path().join("coffer.db")).expect("open");
    a_replica_reader_sees_only_whole_acknowledged_versions(
        TestServer::start_with(Arc::new(store)).await,
    )
    .await;
}

/// 8 writers put versions on the primary while a reader in the replica region reads the
/// current version over and over. Every read is a version some writer wrote, with that
/// writer's value, current, and never older than the one read before it; at the end the
/// replica's current version is the primary's.
async fn a_replica_reader_sees_only_whole_acknowledged_versions(server: TestServer) {
    const WRITERS: usize = 8;
    const PUTS: usize = 6;
    let client = server.client();
    let remote = server.client_in(EAST2);
    create_replicated(&client, "hot", "initial", &[EAST2]).await;
    let v0 = common::get(&client, "hot")
        .await
        .version_id()
        .expect("version")
        .to_owned();

    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let remote = remote.clone();
        let done = Arc::clone(&done);
        tokio::spawn(async move {
            let mut seen: Vec<(String, String, Vec<String>, Vec<String>)> = Vec::new();
            // At least a few reads, even if the writers finish first.
            while !done.load(Ordering::SeqCst) || seen.len() < 5 {
                let got = common::get(&remote, "hot").await;
                let described = common::describe(&remote, "hot").await;
                let current: Vec<String> = described
                    .version_ids_to_stages()
                    .into_iter()
                    .flatten()
                    .filter(|(_, stages)| stages.iter().any(|s| s == "AWSCURRENT"))
                    .map(|(id, _)| id.clone())
                    .collect();
                seen.push((
                    got.version_id().unwrap_or_default().to_owned(),
                    got.secret_string().unwrap_or_default().to_owned(),
                    got.version_stages().to_vec(),
                    current,
                ));
            }
            seen
        })
    };

    let acknowledged = Arc::new(Mutex::new(BTreeMap::new()));
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let client = client.clone();
        let acknowledged = Arc::clone(&acknowledged);
        writers.push(tokio::spawn(async move {
            for put in 0..PUTS {
                let version_id = token();
                let value = format!("writer {writer} put {put}");
                client
                    .put_secret_value()
                    .secret_id("hot")
                    .secret_string(&value)
                    .client_request_token(&version_id)
                    .send()
                    .await
                    .unwrap_or_else(|error| panic!("put {writer}/{put}: {error:?}"));
                acknowledged
                    .lock()
                    .expect("not poisoned")
                    .insert(version_id, value);
            }
        }));
    }
    for writer in writers {
        writer.await.expect("writer");
    }
    done.store(true, Ordering::SeqCst);
    let seen = reader.await.expect("reader");
    let mut acknowledged = acknowledged.lock().expect("not poisoned").clone();
    assert_eq!(acknowledged.len(), WRITERS * PUTS);
    acknowledged.insert(v0.clone(), "initial".to_owned());

    // The order in which the versions were committed: ListSecretVersionIds lists newest first.
    let listed = remote
        .list_secret_version_ids()
        .secret_id("hot")
        .include_deprecated(true)
        .send()
        .await
        .expect("list on the replica");
    let order: Vec<String> = listed
        .versions()
        .iter()
        .rev()
        .filter_map(|v| v.version_id().map(str::to_owned))
        .collect();
    assert_eq!(
        order.iter().cloned().collect::<BTreeSet<_>>(),
        acknowledged.keys().cloned().collect::<BTreeSet<_>>(),
        "the replica lists exactly the versions written"
    );
    let position: BTreeMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(index, id)| (id.as_str(), index))
        .collect();

    let mut last = 0;
    for (version_id, value, stages, current) in &seen {
        assert_eq!(
            acknowledged.get(version_id),
            Some(value),
            "read {version_id} with value {value:?}"
        );
        assert!(stages.iter().any(|s| s == "AWSCURRENT"), "{stages:?}");
        assert_eq!(current.len(), 1, "exactly one current version: {current:?}");
        let at = position[version_id.as_str()];
        assert!(at >= last, "a read went back from #{last} to #{at}");
        last = at;
    }

    let home = common::get(&client, "hot").await;
    let there = common::get(&remote, "hot").await;
    assert_eq!(there.version_id(), home.version_id());
    assert_eq!(there.secret_string(), home.secret_string());
    assert_eq!(home.version_id(), order.last().map(String::as_str));
}
