//! Replication through the official Rust SDK: CreateSecret with AddReplicaRegions,
//! ReplicateSecretToRegions, RemoveRegionsFromReplication, StopReplicationToReplica, and how a
//! replica looks and behaves from its own region.

mod common;

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::types::{ReplicaRegionType, ReplicationStatusType, Tag};
use common::{REGION, TestServer, error_of, token};

const EAST2: &str = "us-east-2";
const WEST2: &str = "us-west-2";
const MANAGED_KEY: &str = "alias/aws/secretsmanager";

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
