//! The version model through the SDK: tokens, labels, UpdateSecretVersionStage, limits.

mod common;

use std::collections::BTreeMap;

use aws_sdk_secretsmanager::Client;
use common::{TestServer, error_of, token};

/// Version id -> sorted labels, as DescribeSecret shows them.
async fn stages_of(client: &Client, secret_id: &str) -> BTreeMap<String, Vec<String>> {
    let described = common::describe(client, secret_id).await;
    described
        .version_ids_to_stages()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|(id, mut stages)| {
            stages.sort();
            (id, stages)
        })
        .collect()
}

fn labels(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn update_secret_retries_are_harmless_and_tokens_never_change_a_version() {
    let server = TestServer::start().await;
    let client = server.client();
    common::create(&client, "s", "v0").await;
    let t1 = token();
    let first = client
        .update_secret()
        .secret_id("s")
        .secret_string("v1")
        .client_request_token(&t1)
        .send()
        .await;
    assert_eq!(first.expect("update").version_id(), Some(t1.as_str()));
    let t2 = token();
    client
        .update_secret()
        .secret_id("s")
        .secret_string("v2")
        .client_request_token(&t2)
        .send()
        .await
        .expect("update");

    // A late retry of the first update succeeds and moves nothing back.
    let retry = client
        .update_secret()
        .secret_id("s")
        .secret_string("v1")
        .client_request_token(&t1)
        .send()
        .await;
    assert_eq!(retry.expect("retry").version_id(), Some(t1.as_str()));
    let current = common::get(&client, "s").await;
    assert_eq!(current.version_id(), Some(t2.as_str()));
    assert_eq!(current.secret_string(), Some("v2"));
    let versions = client
        .list_secret_version_ids()
        .secret_id("s")
        .include_deprecated(true)
        .send()
        .await;
    assert_eq!(versions.expect("list").versions().len(), 3);

    // The same token with another value would modify a version: refused.
    let (code, message) = error_of(
        client
            .update_secret()
            .secret_id("s")
            .secret_string("other")
            .client_request_token(&t1)
            .send()
            .await,
    );
    assert_eq!(code, "ResourceExistsException");
    assert!(
        message.starts_with(&format!("You can't use ClientRequestToken {t1} because")),
        "{message}"
    );
    let old = client
        .get_secret_value()
        .secret_id("s")
        .version_id(&t1)
        .send()
        .await
        .expect("get v1");
    assert_eq!(old.secret_string(), Some("v1"));
}

#[tokio::test]
async fn put_secret_value_is_idempotent_per_token() {
    let server = TestServer::start().await;
    let client = server.client();
    common::create(&client, "s", "v0").await;
    let t = token();
    let put = || {
        client
            .put_secret_value()
            .secret_id("s")
            .client_request_token(&t)
    };
    let first = put().secret_string("v1").send().await.expect("put");
    let again = put()
        .secret_string("v1")
        .send()
        .await
        .expect("same token, same value");
    assert_eq!(first.version_id(), again.version_id());
    assert_eq!(again.version_stages(), ["AWSCURRENT"]);
    let (code, _) = error_of(put().secret_string("v2").send().await);
    assert_eq!(code, "ResourceExistsException");
    let (code, _) = error_of(
        put()
            .secret_binary(aws_sdk_secretsmanager::primitives::Blob::new(
                b"v1".to_vec(),
            ))
            .send()
            .await,
    );
    assert_eq!(
        code, "ResourceExistsException",
        "a binary value is not the same value as a string"
    );
    let versions = client
        .list_secret_version_ids()
        .secret_id("s")
        .send()
        .await
        .expect("list");
    assert_eq!(versions.versions().len(), 2);
}

#[tokio::test]
async fn create_secret_retries_are_harmless() {
    let server = TestServer::start().await;
    let client = server.client();
    let t = token();
    let create = || client.create_secret().name("c").client_request_token(&t);
    let first = create().secret_string("v").send().await.expect("create");
    let again = create().secret_string("v").send().await.expect("retry");
    assert_eq!(first.arn(), again.arn());
    assert_eq!(again.version_id(), Some(t.as_str()));
    let (code, message) = error_of(create().secret_string("other").send().await);
    assert_eq!(code, "ResourceExistsException");
    assert!(
        message.contains("already in use for a version of secret arn:"),
        "{message}"
    );
    let (code, message) = error_of(
        client
            .create_secret()
            .name("c")
            .secret_string("v")
            .send()
            .await,
    );
    assert_eq!(code, "ResourceExistsException");
    assert_eq!(
        message,
        "The operation failed because the secret c already exists."
    );
}

#[tokio::test]
async fn put_with_stages_moves_only_those_labels() {
    let server = TestServer::start().await;
    let client = server.client();
    let v1 = common::create(&client, "s", "v1")
        .await
        .version_id
        .expect("v1");
    let pending = client
        .put_secret_value()
        .secret_id("s")
        .secret_string("v2")
        .version_stages("AWSPENDING")
        .send()
        .await
        .expect("put pending");
    let v2 = pending.version_id().expect("v2").to_owned();
    assert_eq!(pending.version_stages(), ["AWSPENDING"]);
    let stages = stages_of(&client, "s").await;
    assert_eq!(stages.get(&v1), Some(&labels(&["AWSCURRENT"])));
    assert_eq!(stages.get(&v2), Some(&labels(&["AWSPENDING"])));
    let got = client
        .get_secret_value()
        .secret_id("s")
        .version_stage("AWSPENDING")
        .send()
        .await
        .expect("get pending");
    assert_eq!(got.secret_string(), Some("v2"));

    // Finish the "rotation": move AWSCURRENT to the pending version; the old one becomes previous.
    client
        .update_secret_version_stage()
        .secret_id("s")
        .version_stage("AWSCURRENT")
        .remove_from_version_id(&v1)
        .move_to_version_id(&v2)
        .send()
        .await
        .expect("move current");
    let stages = stages_of(&client, "s").await;
    assert_eq!(stages.get(&v1), Some(&labels(&["AWSPREVIOUS"])));
    assert_eq!(
        stages.get(&v2),
        Some(&labels(&["AWSCURRENT", "AWSPENDING"]))
    );

    // A new value ends the rotation: AWSPENDING leaves the version it replaces.
    let v3 = client
        .put_secret_value()
        .secret_id("s")
        .secret_string("v3")
        .send()
        .await
        .expect("put")
        .version_id
        .expect("v3");
    let stages = stages_of(&client, "s").await;
    assert_eq!(stages.len(), 2, "v1 is deprecated: {stages:?}");
    assert_eq!(stages.get(&v2), Some(&labels(&["AWSPREVIOUS"])));
    assert_eq!(stages.get(&v3), Some(&labels(&["AWSCURRENT"])));

    // Deprecated versions are listed only when asked for, without labels.
    let listed = client
        .list_secret_version_ids()
        .secret_id("s")
        .send()
        .await
        .expect("list");
    assert_eq!(listed.versions().len(), 2);
    let all = client
        .list_secret_version_ids()
        .secret_id("s")
        .include_deprecated(true)
        .send()
        .await
        .expect("list all");
    let deprecated: Vec<_> = all
        .versions()
        .iter()
        .filter(|v| v.version_stages().is_empty())
        .collect();
    assert_eq!(deprecated.len(), 1);
    assert_eq!(deprecated[0].version_id(), Some(v1.as_str()));
    assert_eq!(deprecated[0].kms_key_ids(), ["DefaultEncryptionKey"]);
    // A deprecated version is still readable by its id, without labels.
    let old = client
        .get_secret_value()
        .secret_id("s")
        .version_id(&v1)
        .send()
        .await
        .expect("get deprecated");
    assert_eq!(old.secret_string(), Some("v1"));
    assert!(old.version_stages().is_empty());
}

#[tokio::test]
async fn update_secret_version_stage_checks_the_holder() {
    let server = TestServer::start().await;
    let client = server.client();
    let v1 = common::create(&client, "s", "v1")
        .await
        .version_id
        .expect("v1");
    let v2 = client
        .put_secret_value()
        .secret_id("s")
        .secret_string("v2")
        .version_stages("blue")
        .send()
        .await
        .expect("put")
        .version_id
        .expect("v2");
    let stage = || client.update_secret_version_stage().secret_id("s");

    let (code, message) = error_of(
        stage()
            .version_stage("AWSCURRENT")
            .move_to_version_id(&v2)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(
        message,
        format!(
            "The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently attached to \
             version {v1}, so you must explicitly reference that version in RemoveFromVersionId."
        )
    );
    let (code, _) = error_of(
        stage()
            .version_stage("AWSCURRENT")
            .remove_from_version_id(&v2)
            .move_to_version_id(&v2)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    let (code, _) = error_of(
        stage()
            .version_stage("AWSCURRENT")
            .remove_from_version_id(&v1)
            .send()
            .await,
    );
    assert_eq!(
        code, "InvalidParameterException",
        "AWSCURRENT can only be moved"
    );
    let missing = token();
    let (code, _) = error_of(
        stage()
            .version_stage("blue")
            .remove_from_version_id(&v2)
            .move_to_version_id(&missing)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");

    // Custom labels move freely once their holder is named, and can be removed.
    stage()
        .version_stage("blue")
        .remove_from_version_id(&v2)
        .move_to_version_id(&v1)
        .send()
        .await
        .expect("move blue");
    assert_eq!(
        stages_of(&client, "s").await.get(&v1),
        Some(&labels(&["AWSCURRENT", "blue"]))
    );
    stage()
        .version_stage("blue")
        .remove_from_version_id(&v1)
        .send()
        .await
        .expect("remove blue");
    let stages = stages_of(&client, "s").await;
    assert_eq!(stages.get(&v1), Some(&labels(&["AWSCURRENT"])));
    assert_eq!(stages.get(&v2), None, "v2 has no label left");
    // A label that is attached nowhere can be attached without RemoveFromVersionId.
    stage()
        .version_stage("green")
        .move_to_version_id(&v2)
        .send()
        .await
        .expect("attach green");
    assert_eq!(
        stages_of(&client, "s").await.get(&v2),
        Some(&labels(&["green"]))
    );
}

#[tokio::test]
async fn get_secret_value_selects_by_id_stage_or_both() {
    let server = TestServer::start().await;
    let client = server.client();
    let v1 = common::create(&client, "s", "v1")
        .await
        .version_id
        .expect("v1");
    let get = || client.get_secret_value().secret_id("s");
    let by_both = get()
        .version_id(&v1)
        .version_stage("AWSCURRENT")
        .send()
        .await
        .expect("agreeing id and stage");
    assert_eq!(by_both.secret_string(), Some("v1"));

    let (code, message) = error_of(
        get()
            .version_id(&v1)
            .version_stage("AWSPREVIOUS")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidRequestException");
    assert_eq!(
        message,
        "You provided a VersionStage that is not associated to the provided VersionId."
    );
    let missing = token();
    let (code, message) = error_of(get().version_id(&missing).send().await);
    assert_eq!(code, "ResourceNotFoundException");
    assert_eq!(
        message,
        format!("Secrets Manager can't find the specified secret value for VersionId: {missing}")
    );
    let (code, message) = error_of(get().version_stage("AWSPENDING").send().await);
    assert_eq!(code, "ResourceNotFoundException");
    assert_eq!(
        message,
        "Secrets Manager can't find the specified secret value for staging label: AWSPENDING"
    );
}

#[tokio::test]
async fn list_secret_version_ids_pages() {
    let server = TestServer::start().await;
    let client = server.client();
    common::create(&client, "s", "v0").await;
    for n in 1..=6 {
        let stage = format!("label{n}");
        client
            .put_secret_value()
            .secret_id("s")
            .secret_string(format!("v{n}"))
            .version_stages(stage)
            .send()
            .await
            .expect("put");
    }
    let mut seen = Vec::new();
    let mut next = None;
    loop {
        let page = client
            .list_secret_version_ids()
            .secret_id("s")
            .max_results(4)
            .set_next_token(next.take())
            .send()
            .await
            .expect("page");
        assert!(page.versions().len() <= 4);
        seen.extend(
            page.versions()
                .iter()
                .filter_map(|v| v.version_id().map(str::to_owned)),
        );
        match page.next_token() {
            Some(token) => next = Some(token.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 7, "no version twice");
    let (code, _) = error_of(
        client
            .list_secret_version_ids()
            .secret_id("s")
            .next_token("forged")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidNextTokenException");
    // A real token works only for its own secret and its own IncludeDeprecated.
    let first = client
        .list_secret_version_ids()
        .secret_id("s")
        .max_results(2)
        .send()
        .await
        .expect("first page");
    let token = first.next_token().expect("more pages").to_owned();
    common::create(&client, "other", "v").await;
    let elsewhere = [
        ("other", false, token.clone()),
        ("s", true, token.clone()),
        ("s", false, format!("{token}x")),
    ];
    for (secret, deprecated, token) in elsewhere {
        let (code, _) = error_of(
            client
                .list_secret_version_ids()
                .secret_id(secret)
                .include_deprecated(deprecated)
                .next_token(token)
                .send()
                .await,
        );
        assert_eq!(code, "InvalidNextTokenException", "{secret} {deprecated}");
    }
}

#[tokio::test]
async fn at_most_twenty_labels() {
    let server = TestServer::start().await;
    let client = server.client();
    common::create(&client, "s", "v").await;
    let stages: Vec<String> = (0..19).map(|n| format!("L{n}")).collect();
    client
        .put_secret_value()
        .secret_id("s")
        .secret_string("w")
        .set_version_stages(Some(stages))
        .send()
        .await
        .expect("19 labels + AWSCURRENT");
    let (code, _) = error_of(
        client
            .put_secret_value()
            .secret_id("s")
            .secret_string("x")
            .version_stages("one-more")
            .send()
            .await,
    );
    assert_eq!(code, "LimitExceededException");
}

#[tokio::test]
async fn versions_are_pruned_above_one_hundred_but_never_younger_than_a_day() {
    let server = TestServer::start().await;
    let client = server.client();
    let created = common::create(&client, "s", "v0").await;
    let oldest = created.version_id().expect("v0").to_owned();
    for n in 1..100 {
        client
            .put_secret_value()
            .secret_id("s")
            .secret_string(format!("v{n}"))
            .send()
            .await
            .expect("put");
    }
    let all = client
        .list_secret_version_ids()
        .secret_id("s")
        .include_deprecated(true)
        .send()
        .await
        .expect("list");
    assert_eq!(all.versions().len(), 100);

    let (code, _) = error_of(
        client
            .put_secret_value()
            .secret_id("s")
            .secret_string("v100")
            .send()
            .await,
    );
    assert_eq!(code, "LimitExceededException");
    let (code, _) = error_of(
        client
            .update_secret()
            .secret_id("s")
            .secret_string("v100")
            .send()
            .await,
    );
    assert_eq!(code, "LimitExceededException");
    let still = client
        .list_secret_version_ids()
        .secret_id("s")
        .include_deprecated(true)
        .send()
        .await
        .expect("list");
    assert_eq!(
        still.versions().len(),
        100,
        "a refused write writes nothing"
    );
    let current = common::get(&client, "s").await;
    assert_eq!(current.secret_string(), Some("v99"));

    server.advance_days(1);
    client
        .update_secret()
        .secret_id("s")
        .secret_string("v100")
        .send()
        .await
        .expect("a day later");
    let after = client
        .list_secret_version_ids()
        .secret_id("s")
        .include_deprecated(true)
        .send()
        .await
        .expect("list");
    assert_eq!(after.versions().len(), 100);
    assert!(
        after
            .versions()
            .iter()
            .all(|v| v.version_id() != Some(oldest.as_str())),
        "the oldest was pruned"
    );
    let (code, _) = error_of(
        client
            .get_secret_value()
            .secret_id("s")
            .version_id(&oldest)
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
}
