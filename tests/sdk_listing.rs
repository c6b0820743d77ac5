//! ListSecrets and BatchGetSecretValue through the AWS SDK: order, paging, sealed page tokens,
//! filters, planned deletion, and the 1,000-secret walk with secrets created and deleted
//! between pages.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::config::http::HttpResponse;
use aws_sdk_secretsmanager::error::SdkError;
use aws_sdk_secretsmanager::operation::list_secrets::builders::ListSecretsFluentBuilder;
use aws_sdk_secretsmanager::operation::list_secrets::{ListSecretsError, ListSecretsOutput};
use aws_sdk_secretsmanager::primitives::Blob;
use aws_sdk_secretsmanager::types::{
    Filter, FilterNameStringType, ReplicaRegionType, SortOrderType, Tag,
};
use common::{TestServer, error_of};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn filter(key: FilterNameStringType, values: &[&str]) -> Filter {
    values
        .iter()
        .fold(Filter::builder().key(key), |builder, value| {
            builder.values(*value)
        })
        .build()
}

fn name_filter(values: &[&str]) -> Filter {
    filter(FilterNameStringType::Name, values)
}

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build()
}

fn names(page: &ListSecretsOutput) -> Vec<String> {
    page.secret_list()
        .iter()
        .map(|entry| entry.name().expect("every entry has a name").to_owned())
        .collect()
}

/// The names ListSecrets returns for `filters`, following NextToken to the end.
async fn listed(client: &Client, filters: &[Filter]) -> Vec<String> {
    listed_with(client, filters, false).await
}

async fn listed_with(client: &Client, filters: &[Filter], planned_deletion: bool) -> Vec<String> {
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .list_secrets()
            .set_filters(Some(filters.to_vec()))
            .include_planned_deletion(planned_deletion)
            .set_next_token(token.take())
            .send()
            .await
            .unwrap_or_else(|error| panic!("list {filters:?}: {error:?}"));
        all.extend(names(&page));
        match page.next_token() {
            Some(next) => token = Some(next.to_owned()),
            None => return all,
        }
    }
}

/// Sends a ListSecrets request with `SortBy` added to its body. The SDK this crate tests with
/// predates the member, so it is added before the request is signed, as a newer SDK sends it.
async fn send_sorted_by(
    request: ListSecretsFluentBuilder,
    sort_by: &'static str,
) -> Result<ListSecretsOutput, SdkError<ListSecretsError, HttpResponse>> {
    request
        .customize()
        .mutate_request(move |http| {
            let body = http.body().bytes().expect("a buffered body");
            let mut json: serde_json::Value = serde_json::from_slice(body).expect("a JSON body");
            json["SortBy"] = serde_json::Value::from(sort_by);
            let bytes = serde_json::to_vec(&json).expect("JSON");
            http.headers_mut()
                .insert("content-length", bytes.len().to_string());
            *http.body_mut() = bytes.into();
        })
        .send()
        .await
}

/// Sends a ListSecrets request, with `SortBy` when given.
async fn send_list(
    request: ListSecretsFluentBuilder,
    sort_by: Option<&'static str>,
) -> Result<ListSecretsOutput, SdkError<ListSecretsError, HttpResponse>> {
    match sort_by {
        Some(sort_by) => send_sorted_by(request, sort_by).await,
        None => request.send().await,
    }
}

async fn sorted_names(client: &Client, sort_by: &'static str, order: SortOrderType) -> Vec<String> {
    let page = send_sorted_by(client.list_secrets().sort_order(order), sort_by)
        .await
        .expect("sorted list");
    assert!(page.next_token().is_none());
    names(&page)
}

/// Creates secrets named `names` (value "v"), up to 50 at a time.
async fn create_all(client: &Client, names: &[String]) {
    for batch in names.chunks(50) {
        let tasks: Vec<_> = batch
            .iter()
            .map(|name| {
                let client = client.clone();
                let name = name.clone();
                tokio::spawn(async move {
                    common::create(&client, &name, "v").await;
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("a create task panicked");
        }
    }
}

async fn force_delete(client: &Client, name: &str) {
    client
        .delete_secret()
        .secret_id(name)
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap_or_else(|error| panic!("force delete {name}: {error:?}"));
}

async fn schedule_deletion(client: &Client, name: &str) {
    client
        .delete_secret()
        .secret_id(name)
        .recovery_window_in_days(7)
        .send()
        .await
        .unwrap_or_else(|error| panic!("delete {name}: {error:?}"));
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

// ---------------------------------------------------------------------------------------------
// ListSecrets: order and paging
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn secrets_are_listed_by_creation_date_ascending_by_default() {
    let server = TestServer::start().await;
    let client = server.client();
    // Created on three different days, and then three on the same instant: those keep the
    // order they were created in.
    common::create(&client, "b-first", "v").await;
    server.advance_days(1);
    common::create(&client, "a-second", "v").await;
    server.advance_days(1);
    for name in ["z-third", "c-fourth", "m-fifth"] {
        common::create(&client, name, "v").await;
    }
    let ascending = strings(&["b-first", "a-second", "z-third", "c-fourth", "m-fifth"]);

    let default = client.list_secrets().send().await.expect("list");
    assert_eq!(names(&default), ascending);
    assert!(default.next_token().is_none());
    let created: Vec<i64> = default
        .secret_list()
        .iter()
        .map(|entry| entry.created_date().expect("CreatedDate").secs())
        .collect();
    assert!(
        created.windows(2).all(|pair| pair[0] <= pair[1]),
        "{created:?}"
    );
    assert!(created[0] < created[1] && created[1] < created[2]);

    let asc = client
        .list_secrets()
        .sort_order(SortOrderType::Asc)
        .send()
        .await
        .expect("asc");
    assert_eq!(names(&asc), ascending);

    let desc = client
        .list_secrets()
        .sort_order(SortOrderType::Desc)
        .send()
        .await
        .expect("desc");
    let mut descending = ascending.clone();
    descending.reverse();
    assert_eq!(names(&desc), descending);

    // SortBy created-date is the default order.
    assert_eq!(
        sorted_names(&client, "created-date", SortOrderType::Asc).await,
        ascending
    );
    assert_eq!(
        sorted_names(&client, "created-date", SortOrderType::Desc).await,
        descending
    );
}

#[tokio::test]
async fn sort_by_name_last_changed_date_and_last_accessed_date() {
    let server = TestServer::start().await;
    let client = server.client();
    // Created in this order at the same instant.
    for name in ["m", "z", "a"] {
        common::create(&client, name, "v").await;
    }

    // Day 1: "m" changes. Then "a" is read on day 1 and "z" on day 2.
    server.advance_days(1);
    client
        .update_secret()
        .secret_id("m")
        .description("changed")
        .send()
        .await
        .expect("update");
    common::get(&client, "a").await;
    server.advance_days(1);
    common::get(&client, "z").await;

    assert_eq!(
        sorted_names(&client, "name", SortOrderType::Asc).await,
        ["a", "m", "z"]
    );
    assert_eq!(
        sorted_names(&client, "name", SortOrderType::Desc).await,
        ["z", "m", "a"]
    );
    // "z" and "a" last changed when created (ties in creation order), "m" a day later.
    assert_eq!(
        sorted_names(&client, "last-changed-date", SortOrderType::Asc).await,
        ["z", "a", "m"]
    );
    assert_eq!(
        sorted_names(&client, "last-changed-date", SortOrderType::Desc).await,
        ["m", "a", "z"]
    );
    // "m" was never read, "a" on day 1, "z" on day 2.
    assert_eq!(
        sorted_names(&client, "last-accessed-date", SortOrderType::Asc).await,
        ["m", "a", "z"]
    );
    assert_eq!(
        sorted_names(&client, "last-accessed-date", SortOrderType::Desc).await,
        ["z", "a", "m"]
    );

    // A sort key that is not in the model is refused.
    let (code, message) = error_of(send_sorted_by(client.list_secrets(), "size").await);
    assert_eq!(code, "ValidationException");
    assert!(message.contains("sortBy"), "{message}");

    // Paging a sorted listing: pages of one, in name order.
    let mut walked = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = send_sorted_by(
            client
                .list_secrets()
                .max_results(1)
                .set_next_token(token.take()),
            "name",
        )
        .await
        .expect("page by name");
        walked.extend(names(&page));
        match page.next_token() {
            Some(next) => token = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(walked, ["a", "m", "z"]);
}

#[tokio::test]
async fn max_results_must_be_between_1_and_100() {
    let server = TestServer::start().await;
    let client = server.client();
    common::create(&client, "s", "v").await;
    for max in [0, 101, -1] {
        let (code, message) = error_of(client.list_secrets().max_results(max).send().await);
        assert_eq!(code, "ValidationException", "{max}");
        assert!(message.contains("maxResults"), "{max}: {message}");
    }
    for max in [1, 100] {
        let page = client
            .list_secrets()
            .max_results(max)
            .send()
            .await
            .expect("in range");
        assert_eq!(names(&page), ["s"]);
        assert!(page.next_token().is_none());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_hold_100_secrets_by_default_and_max_results_pages_exactly() {
    let server = TestServer::start().await;
    let client = server.client();
    let all: Vec<String> = (0..101).map(|i| format!("s-{i:03}")).collect();
    create_all(&client, &all).await;

    let first = client.list_secrets().send().await.expect("first page");
    assert_eq!(first.secret_list().len(), 100);
    let token = first.next_token().expect("a second page").to_owned();
    let second = client
        .list_secrets()
        .next_token(&token)
        .send()
        .await
        .expect("second page");
    assert_eq!(second.secret_list().len(), 1);
    assert!(second.next_token().is_none(), "the last page has no token");
    let mut seen: Vec<String> = names(&first);
    seen.extend(names(&second));
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), 101, "nothing repeated");
    assert_eq!(unique, all.iter().collect());

    // A token can be used again, and answers the same page.
    let again = client
        .list_secrets()
        .next_token(&token)
        .send()
        .await
        .expect("second page again");
    assert_eq!(names(&again), names(&second));

    // Pages of exactly MaxResults while more remain: 101 = 10 × 10 + 1.
    let mut sizes = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .list_secrets()
            .max_results(10)
            .set_next_token(token.take())
            .send()
            .await
            .expect("page");
        sizes.push(page.secret_list().len());
        match page.next_token() {
            Some(next) => token = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(sizes, [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 1]);
}

#[tokio::test]
async fn the_sdk_paginator_walks_every_page() {
    let server = TestServer::start().await;
    let client = server.client();
    let all: Vec<String> = (0..23).map(|i| format!("p-{i:02}")).collect();
    for name in &all {
        common::create(&client, name, "v").await;
    }
    let pages = client
        .list_secrets()
        .into_paginator()
        .page_size(5)
        .send()
        .try_collect()
        .await
        .expect("paginate");
    let sizes: Vec<usize> = pages.iter().map(|page| page.secret_list().len()).collect();
    assert_eq!(sizes, [5, 5, 5, 5, 3]);
    let walked: Vec<String> = pages.iter().flat_map(names).collect();
    assert_eq!(walked, all, "creation order across pages");
}

#[tokio::test]
async fn page_tokens_are_sealed_and_bound_to_their_query() {
    let server = TestServer::start().await;
    let client = server.client();
    for name in ["t-1", "t-2", "t-3", "u-1"] {
        client
            .create_secret()
            .name(name)
            .secret_string("v")
            .description("token test")
            .send()
            .await
            .expect("create");
    }
    let prefix = name_filter(&["t-"]);
    let first = client
        .list_secrets()
        .filters(prefix.clone())
        .max_results(1)
        .send()
        .await
        .expect("first page");
    assert_eq!(names(&first), ["t-1"]);
    let token = first.next_token().expect("a next page").to_owned();

    let invalid = |result: Result<ListSecretsOutput, SdkError<ListSecretsError, HttpResponse>>,
                   what: &str| {
        let (code, _) = error_of(result);
        assert_eq!(code, "InvalidNextTokenException", "{what}");
    };

    // The token works for the query it came from, with any page size.
    let second = client
        .list_secrets()
        .filters(prefix.clone())
        .max_results(1)
        .next_token(&token)
        .send()
        .await
        .expect("second page");
    assert_eq!(names(&second), ["t-2"]);
    let rest = client
        .list_secrets()
        .filters(prefix.clone())
        .max_results(100)
        .next_token(&token)
        .send()
        .await
        .expect("rest");
    assert_eq!(names(&rest), ["t-2", "t-3"]);

    // Any one character changed, a character more or less: refused.
    let alphabet = ['A', 'b', '0', '-', '_', '.'];
    for index in 0..token.len() {
        let original = token.as_bytes()[index] as char;
        let replacement = alphabet
            .iter()
            .copied()
            .find(|c| *c != original)
            .expect("another character");
        let mut forged = token.clone();
        forged.replace_range(index..=index, &replacement.to_string());
        invalid(
            client
                .list_secrets()
                .filters(prefix.clone())
                .next_token(&forged)
                .send()
                .await,
            &format!("character {index} changed: {forged}"),
        );
    }
    for forged in [
        format!("{token}A"),
        token[..token.len() - 1].to_owned(),
        token[1..].to_owned(),
    ] {
        invalid(
            client
                .list_secrets()
                .filters(prefix.clone())
                .next_token(&forged)
                .send()
                .await,
            &forged,
        );
    }
    // Made-up tokens.
    for made_up in [
        "1".to_owned(),
        "abc".to_owned(),
        "eyJxIjoiMCIsInAiOnt9fQ.AAAAAAAAAAAAAAAAAAAAAA".to_owned(),
        common::token(),
    ] {
        invalid(
            client
                .list_secrets()
                .filters(prefix.clone())
                .next_token(&made_up)
                .send()
                .await,
            &made_up,
        );
    }

    // The same token for another query.
    invalid(
        client.list_secrets().next_token(&token).send().await,
        "no filters",
    );
    invalid(
        client
            .list_secrets()
            .filters(name_filter(&["t"]))
            .next_token(&token)
            .send()
            .await,
        "another filter value",
    );
    invalid(
        client
            .list_secrets()
            .filters(filter(FilterNameStringType::TagKey, &["t-"]))
            .next_token(&token)
            .send()
            .await,
        "another filter key",
    );
    invalid(
        client
            .list_secrets()
            .filters(prefix.clone())
            .filters(filter(FilterNameStringType::Description, &["token"]))
            .next_token(&token)
            .send()
            .await,
        "one more filter",
    );
    invalid(
        client
            .list_secrets()
            .filters(prefix.clone())
            .sort_order(SortOrderType::Desc)
            .next_token(&token)
            .send()
            .await,
        "descending",
    );
    invalid(
        client
            .list_secrets()
            .filters(prefix.clone())
            .include_planned_deletion(true)
            .next_token(&token)
            .send()
            .await,
        "with planned deletion",
    );
    invalid(
        send_sorted_by(
            client
                .list_secrets()
                .filters(prefix.clone())
                .next_token(&token),
            "name",
        )
        .await,
        "sorted by name",
    );
    invalid(
        server
            .client_in("eu-west-1")
            .list_secrets()
            .filters(prefix.clone())
            .next_token(&token)
            .send()
            .await,
        "another region",
    );
    let (code, _) = error_of(
        client
            .batch_get_secret_value()
            .filters(prefix.clone())
            .next_token(&token)
            .send()
            .await,
    );
    assert_eq!(
        code, "InvalidNextTokenException",
        "a ListSecrets token in BatchGetSecretValue"
    );

    // An explicit `asc` is the default order, so the same query: the token carries over.
    let explicit = client
        .list_secrets()
        .filters(prefix.clone())
        .sort_order(SortOrderType::Asc)
        .next_token(&token)
        .send()
        .await
        .expect("asc is the default order");
    assert_eq!(names(&explicit), ["t-2", "t-3"]);
}

// ---------------------------------------------------------------------------------------------
// ListSecrets: planned deletion and the entries
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn secrets_pending_deletion_show_only_when_planned_deletion_is_included() {
    let server = TestServer::start().await;
    let client = server.client();
    for name in ["kept", "pending", "forced", "restored"] {
        common::create(&client, name, "v").await;
    }
    server.advance_days(1);
    schedule_deletion(&client, "pending").await;
    schedule_deletion(&client, "restored").await;
    force_delete(&client, "forced").await;
    client
        .restore_secret()
        .secret_id("restored")
        .send()
        .await
        .expect("restore");

    assert_eq!(listed(&client, &[]).await, ["kept", "restored"]);
    let with_pending = client
        .list_secrets()
        .include_planned_deletion(true)
        .send()
        .await
        .expect("list");
    assert_eq!(names(&with_pending), ["kept", "pending", "restored"]);
    let deleted_dates: BTreeMap<String, Option<i64>> = with_pending
        .secret_list()
        .iter()
        .map(|entry| {
            (
                entry.name().expect("name").to_owned(),
                entry.deleted_date().map(|d| d.secs()),
            )
        })
        .collect();
    let deleted_at = server.now().as_millis() / 1000;
    assert_eq!(deleted_dates["pending"], Some(deleted_at));
    assert_eq!(deleted_dates["kept"], None);
    assert_eq!(deleted_dates["restored"], None);

    // Planned deletion combines with filters.
    assert_eq!(
        listed_with(&client, &[name_filter(&["p", "k"])], true).await,
        ["kept", "pending"]
    );
    assert_eq!(listed(&client, &[name_filter(&["p", "k"])]).await, ["kept"]);
}

#[tokio::test]
async fn entries_carry_versions_tags_and_only_a_given_kms_key() {
    let server = TestServer::start().await;
    let client = server.client();
    server
        .kms_key_with_alias(common::REGION, "alias/my-key")
        .await;
    let plain = common::create(&client, "plain", "v1").await;
    let v2 = client
        .put_secret_value()
        .secret_id("plain")
        .secret_string("v2")
        .send()
        .await
        .expect("put")
        .version_id()
        .expect("version id")
        .to_owned();
    let v1 = plain.version_id().expect("version id").to_owned();
    let tagged = client
        .create_secret()
        .name("tagged")
        .secret_string("v")
        .description("with tags")
        .kms_key_id("alias/my-key")
        .tags(tag("team", "core"))
        .tags(tag("env", "prod"))
        .send()
        .await
        .expect("create tagged");
    client
        .create_secret()
        .name("no-value")
        .send()
        .await
        .expect("create without value");

    let page = client.list_secrets().send().await.expect("list");
    let entries: BTreeMap<&str, _> = page
        .secret_list()
        .iter()
        .map(|entry| (entry.name().expect("name"), entry))
        .collect();

    let plain_entry = entries["plain"];
    assert_eq!(plain_entry.arn(), plain.arn());
    assert_eq!(
        plain_entry.kms_key_id(),
        None,
        "the default key is not named"
    );
    assert!(plain_entry.tags().is_empty());
    assert_eq!(plain_entry.description(), None);
    assert_eq!(plain_entry.primary_region(), None);
    assert_eq!(plain_entry.owning_service(), None);
    let stages = plain_entry
        .secret_versions_to_stages()
        .expect("SecretVersionsToStages");
    assert_eq!(stages.len(), 2);
    assert_eq!(stages[&v1], ["AWSPREVIOUS"]);
    assert_eq!(stages[&v2], ["AWSCURRENT"]);
    assert!(plain_entry.last_changed_date().is_some());
    assert!(plain_entry.created_date().is_some());

    let tagged_entry = entries["tagged"];
    assert_eq!(tagged_entry.arn(), tagged.arn());
    assert_eq!(tagged_entry.kms_key_id(), Some("alias/my-key"));
    assert_eq!(tagged_entry.description(), Some("with tags"));
    let tags: Vec<(&str, &str)> = tagged_entry
        .tags()
        .iter()
        .map(|t| (t.key().expect("key"), t.value().expect("value")))
        .collect();
    assert_eq!(tags, [("team", "core"), ("env", "prod")]);
    assert_eq!(
        tagged_entry
            .secret_versions_to_stages()
            .map(|stages| stages.len()),
        Some(1)
    );

    let empty = entries["no-value"];
    assert!(
        empty
            .secret_versions_to_stages()
            .is_none_or(|stages| stages.is_empty()),
        "a secret without versions has no stages"
    );

    // On the wire: no ReplicationStatus and no VersionIdsToStages (DescribeSecret's members).
    let body = raw_call(&server, "ListSecrets", "{}").await;
    let list = body["SecretList"].as_array().expect("SecretList");
    assert_eq!(list.len(), 3);
    for entry in list {
        let entry = entry.as_object().expect("an object");
        assert!(!entry.contains_key("ReplicationStatus"), "{entry:?}");
        assert!(!entry.contains_key("VersionIdsToStages"), "{entry:?}");
        assert!(!entry.contains_key("PrimaryRegion"), "{entry:?}");
    }
    assert!(body.get("NextToken").is_none());
}

/// Calls an operation with a raw JSON body on the server's application (as a client that is
/// not an SDK would) and returns the parsed JSON answer.
async fn raw_call(server: &TestServer, operation: &str, body: &str) -> serde_json::Value {
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    let app = coffer::server::app(server.state.clone());
    let request = Request::post("/")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261127/us-east-1/secretsmanager/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date;x-amz-target, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        )
        .header("x-amz-date", "20261127T120000Z")
        .header("x-amz-target", format!("secretsmanager.{operation}"))
        .header("content-type", "application/x-amz-json-1.1")
        .body(Body::from(body.to_owned()))
        .expect("request");
    let response = app.oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), 200, "{operation}");
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    serde_json::from_slice(&bytes).expect("a JSON answer")
}

// ---------------------------------------------------------------------------------------------
// ListSecrets: filters
// ---------------------------------------------------------------------------------------------

async fn create_described(client: &Client, name: &str, description: &str, tags: &[(&str, &str)]) {
    let mut request = client
        .create_secret()
        .name(name)
        .secret_string("v")
        .description(description);
    for (key, value) in tags {
        request = request.tags(tag(key, value));
    }
    request
        .send()
        .await
        .unwrap_or_else(|error| panic!("create {name}: {error:?}"));
}

#[tokio::test]
async fn name_and_tag_filters_are_case_sensitive_prefixes_of_the_whole_string() {
    let server = TestServer::start().await;
    let client = server.client();
    create_described(&client, "/testing2/two", "x", &[("Production", "Blue")]).await;
    create_described(&client, "testing1/one", "x", &[("Prod1", "blue")]).await;
    create_described(&client, "DatabaseSecret", "x", &[("prod", "Bluebird")]).await;
    create_described(&client, "databaseSecret", "x", &[("1 Prod", "light Blue")]).await;
    create_described(&client, "MyData", "x", &[]).await;

    let name = |values: &[&str]| [name_filter(values)];
    assert_eq!(listed(&client, &name(&["Data"])).await, ["DatabaseSecret"]);
    assert_eq!(listed(&client, &name(&["data"])).await, ["databaseSecret"]);
    assert_eq!(listed(&client, &name(&["/"])).await, ["/testing2/two"]);
    assert_eq!(
        listed(&client, &name(&["!/"])).await,
        ["testing1/one", "DatabaseSecret", "databaseSecret", "MyData"]
    );
    // No word splitting: not a prefix of the whole name.
    assert!(listed(&client, &name(&["one"])).await.is_empty());
    assert!(listed(&client, &name(&["Secret"])).await.is_empty());
    assert!(listed(&client, &name(&["testing1 one"])).await.is_empty());
    assert_eq!(
        listed(&client, &name(&["testing1/one"])).await,
        ["testing1/one"]
    );

    let tag_key = |values: &[&str]| [filter(FilterNameStringType::TagKey, values)];
    assert_eq!(
        listed(&client, &tag_key(&["Prod"])).await,
        ["/testing2/two", "testing1/one"]
    );
    assert_eq!(
        listed(&client, &tag_key(&["prod"])).await,
        ["DatabaseSecret"]
    );
    assert_eq!(listed(&client, &tag_key(&["1"])).await, ["databaseSecret"]);
    assert!(listed(&client, &tag_key(&["duction"])).await.is_empty());
    // A secret without tags has no tag key: only a negation matches it.
    assert_eq!(
        listed(&client, &tag_key(&["!Prod"])).await,
        ["DatabaseSecret", "databaseSecret", "MyData"]
    );

    let tag_value = |values: &[&str]| [filter(FilterNameStringType::TagValue, values)];
    // "Bluebird" begins with "Blue"; "light Blue" does not.
    assert_eq!(
        listed(&client, &tag_value(&["Blue"])).await,
        ["/testing2/two", "DatabaseSecret"]
    );
    assert_eq!(
        listed(&client, &tag_value(&["blue"])).await,
        ["testing1/one"]
    );
    assert_eq!(
        listed(&client, &tag_value(&["Blue", "blue"])).await,
        ["/testing2/two", "testing1/one", "DatabaseSecret"]
    );
    assert!(listed(&client, &tag_value(&["bird"])).await.is_empty());
    assert_eq!(
        listed(&client, &tag_value(&["Bluebird"])).await,
        ["DatabaseSecret"]
    );
}

#[tokio::test]
async fn description_filters_match_word_prefixes_ignoring_case() {
    let server = TestServer::start().await;
    let client = server.client();
    // The descriptions AWS was recorded with.
    for (name, description) in [
        ("s1", "a secret"),
        ("s2", "an secret"),
        ("s3", "asecret"),
        ("s4", "thesecret"),
        ("s5", "one two"),
        ("s6", "one and two"),
        ("s7", "MyTestPhrase"),
    ] {
        create_described(&client, name, description, &[]).await;
    }
    let description = |values: &[&str]| [filter(FilterNameStringType::Description, values)];
    assert_eq!(
        listed(&client, &description(&["a"])).await,
        ["s1", "s2", "s3", "s6"]
    );
    assert_eq!(
        listed(&client, &description(&["A"])).await,
        ["s1", "s2", "s3", "s6"]
    );
    assert_eq!(
        listed(&client, &description(&["a secret"])).await,
        ["s1", "s2"]
    );
    assert_eq!(
        listed(&client, &description(&["!a"])).await,
        ["s4", "s5", "s7"]
    );
    assert_eq!(
        listed(&client, &description(&["one two"])).await,
        ["s5", "s6"]
    );
    assert_eq!(listed(&client, &description(&["O T"])).await, ["s5", "s6"]);
    assert_eq!(
        listed(&client, &description(&["t"])).await,
        ["s4", "s5", "s6", "s7"]
    );
    assert_eq!(
        listed(&client, &description(&["secret"])).await,
        ["s1", "s2"]
    );
    // Words split before a capital that starts a lowercase run.
    assert_eq!(listed(&client, &description(&["test"])).await, ["s7"]);
    assert_eq!(listed(&client, &description(&["phrase my"])).await, ["s7"]);
    assert!(listed(&client, &description(&["estP"])).await.is_empty());
    assert!(listed(&client, &description(&["hrase"])).await.is_empty());
    // No word of the description begins with "c".
    assert!(listed(&client, &description(&["c"])).await.is_empty());
    assert_eq!(listed(&client, &description(&["!c"])).await.len(), 7);
}

#[tokio::test]
async fn the_all_filter_matches_words_of_one_attribute() {
    let server = TestServer::start().await;
    let client = server.client();
    // Names with each separator, as AWS was recorded with.
    let separators = ["/", "_", "+", "=", ".", "@", "-"];
    for (index, separator) in separators.iter().enumerate() {
        create_described(
            &client,
            &format!("prod{separator}AppBeta{separator}x{index}"),
            "plain",
            &[],
        )
        .await;
    }
    create_described(&client, "uat/COMPANY/y1", "plain", &[]).await;
    create_described(&client, "uat/COMPANYthings/y2", "plain", &[]).await;
    create_described(&client, "SecretOne", "plain", &[]).await;
    create_described(&client, "Thirdsecret", "DescTwo", &[]).await;
    create_described(&client, "SecretFTag", "plain", &[("foo", "bar")]).await;
    create_described(&client, "SecretFValue", "plain", &[("1", "foo")]).await;
    create_described(&client, "mixed/one-two", "plain", &[]).await;

    let all = |values: &[&str]| [filter(FilterNameStringType::All, values)];
    let separated: Vec<String> = separators
        .iter()
        .enumerate()
        .map(|(index, separator)| format!("prod{separator}AppBeta{separator}x{index}"))
        .collect();
    assert_eq!(listed(&client, &all(&["AppBeta"])).await, separated);
    assert_eq!(listed(&client, &all(&["beta"])).await, separated);
    assert_eq!(listed(&client, &all(&["PROD beta"])).await, separated);
    assert!(listed(&client, &all(&["+"])).await.is_empty());
    assert_eq!(
        listed(&client, &all(&["company"])).await,
        ["uat/COMPANY/y1"]
    );
    assert!(listed(&client, &all(&["things"])).await.is_empty());
    assert_eq!(
        listed(&client, &all(&["Ythings"])).await,
        ["uat/COMPANYthings/y2"]
    );
    assert!(listed(&client, &all(&["pany"])).await.is_empty());
    assert_eq!(
        listed(&client, &all(&["sec"])).await,
        ["SecretOne", "SecretFTag", "SecretFValue"]
    );
    assert!(listed(&client, &all(&["ret"])).await.is_empty());
    // Tag keys and values are searched; descriptions too.
    assert_eq!(
        listed(&client, &all(&["foo"])).await,
        ["SecretFTag", "SecretFValue"]
    );
    assert_eq!(listed(&client, &all(&["bar"])).await, ["SecretFTag"]);
    assert_eq!(listed(&client, &all(&["two desc"])).await, ["Thirdsecret"]);
    // Every word of a value must match within the same attribute: "Thirdsecret" is in the
    // name and "desc" in the description.
    assert!(listed(&client, &all(&["third desc"])).await.is_empty());
    assert!(listed(&client, &all(&["foo bar"])).await.is_empty());
    // A name with two kinds of separators is not split at them.
    assert!(
        listed(&client, &all(&["two"]))
            .await
            .contains(&"Thirdsecret".to_owned())
    );
    assert!(
        !listed(&client, &all(&["two"]))
            .await
            .contains(&"mixed/one-two".to_owned())
    );
    assert_eq!(listed(&client, &all(&["mixed"])).await, ["mixed/one-two"]);
}

#[tokio::test]
async fn values_of_one_filter_are_ored_and_filters_are_anded() {
    let server = TestServer::start().await;
    let client = server.client();
    create_described(&client, "alpha", "one two", &[("env", "prod")]).await;
    create_described(&client, "beta", "one", &[("env", "dev")]).await;
    create_described(&client, "gamma", "two", &[("team", "core")]).await;
    create_described(&client, "delta", "three", &[]).await;

    let description = |values: &[&str]| filter(FilterNameStringType::Description, values);
    // OR within one filter.
    assert_eq!(
        listed(&client, &[name_filter(&["alpha", "gamma", "nothing"])]).await,
        ["alpha", "gamma"]
    );
    assert_eq!(
        listed(&client, &[description(&["one", "two"])]).await,
        ["alpha", "beta", "gamma"]
    );
    // AND across filters, the same key twice included.
    assert_eq!(
        listed(&client, &[description(&["one"]), description(&["two"])]).await,
        ["alpha"]
    );
    assert_eq!(
        listed(
            &client,
            &[
                description(&["one"]),
                filter(FilterNameStringType::TagValue, &["dev"])
            ]
        )
        .await,
        ["beta"]
    );
    assert!(
        listed(&client, &[description(&["one"]), name_filter(&["gamma"])])
            .await
            .is_empty()
    );
    // Negations combine like any other value.
    assert_eq!(
        listed(&client, &[description(&["!one"])]).await,
        ["gamma", "delta"]
    );
    assert_eq!(
        listed(&client, &[description(&["one"]), name_filter(&["!alpha"])]).await,
        ["beta"]
    );
    assert_eq!(
        listed(
            &client,
            &[
                filter(FilterNameStringType::TagKey, &["!env"]),
                name_filter(&["!delta"])
            ]
        )
        .await,
        ["gamma"]
    );
    // Paging over a filtered listing keeps the filters.
    let mut walked = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .list_secrets()
            .filters(name_filter(&["!delta"]))
            .max_results(1)
            .set_next_token(token.take())
            .send()
            .await
            .expect("page");
        walked.extend(names(&page));
        match page.next_token() {
            Some(next) => token = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(walked, ["alpha", "beta", "gamma"]);
}

#[tokio::test]
async fn malformed_filters_are_refused() {
    let server = TestServer::start().await;
    let client = server.client();
    common::create(&client, "s", "v").await;

    let no_key = Filter::builder().values("s").build();
    let (code, message) = error_of(client.list_secrets().filters(no_key).send().await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("InvalidParameterException", "Invalid filter key")
    );

    let no_values = Filter::builder().key(FilterNameStringType::Name).build();
    let (code, message) = error_of(client.list_secrets().filters(no_values).send().await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "InvalidParameterException",
            "Invalid filter values for key: name"
        )
    );
    let no_values = Filter::builder()
        .key(FilterNameStringType::Description)
        .build();
    let (_, message) = error_of(client.list_secrets().filters(no_values).send().await);
    assert_eq!(message, "Invalid filter values for key: description");

    let unknown = filter(FilterNameStringType::from("invalid"), &["s"]);
    let (code, message) = error_of(client.list_secrets().filters(unknown).send().await);
    assert_eq!(code, "ValidationException");
    assert!(
        message.contains("'invalid'")
            && message.contains("filters.1.member.key")
            && message.contains("enum value set"),
        "{message}"
    );

    for bad in ["a#b", "s*", "(s)", "s,t", "é"] {
        let (code, message) = error_of(
            client
                .list_secrets()
                .filters(name_filter(&[bad]))
                .send()
                .await,
        );
        assert_eq!(code, "ValidationException", "{bad}");
        assert!(
            message.contains("filters.1.member.values"),
            "{bad}: {message}"
        );
    }
    // Every allowed character passes.
    assert!(
        listed(&client, &[name_filter(&["!aZ09 :_@/+=.-!"])])
            .await
            .contains(&"s".to_owned())
    );

    let eleven: Vec<String> = (0..11).map(|i| format!("v{i}")).collect();
    let eleven: Vec<&str> = eleven.iter().map(String::as_str).collect();
    let (code, message) = error_of(
        client
            .list_secrets()
            .filters(name_filter(&eleven))
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");
    assert!(message.contains("filters.1.member.values"), "{message}");
    let (code, _) = error_of(
        client
            .list_secrets()
            .set_filters(Some(vec![name_filter(&["s"]); 11]))
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException", "eleven filters");
    // Ten of each are fine.
    let ten = &eleven[..10];
    client
        .list_secrets()
        .set_filters(Some(vec![name_filter(ten); 10]))
        .send()
        .await
        .expect("ten filters of ten values");
}

#[tokio::test]
async fn primary_region_filter_matches_only_replicated_secrets() {
    let server = TestServer::start().await;
    let east = server.client();
    let west = server.client_in("eu-west-1");
    common::create(&east, "plain", "v").await;
    east.create_secret()
        .name("replicated")
        .secret_string("v")
        .add_replica_regions(ReplicaRegionType::builder().region("eu-west-1").build())
        .send()
        .await
        .expect("create with a replica");
    common::create(&west, "local", "v").await;

    let region = |values: &[&str]| [filter(FilterNameStringType::PrimaryRegion, values)];
    assert_eq!(listed(&east, &region(&["us-east-1"])).await, ["replicated"]);
    assert_eq!(listed(&east, &region(&["us-"])).await, ["replicated"]);
    assert!(listed(&east, &region(&["eu-west-1"])).await.is_empty());
    assert!(listed(&east, &region(&["US-EAST-1"])).await.is_empty());
    assert_eq!(listed(&east, &region(&["!us-east-1"])).await, ["plain"]);

    // The replica, seen from its region, has the primary's region; a secret of that region
    // that is not replicated has none.
    assert_eq!(listed(&west, &[]).await, ["replicated", "local"]);
    assert_eq!(listed(&west, &region(&["us-east-1"])).await, ["replicated"]);
    assert!(listed(&west, &region(&["eu-west-1"])).await.is_empty());
    let page = west.list_secrets().send().await.expect("list");
    let primary_regions: Vec<Option<&str>> = page
        .secret_list()
        .iter()
        .map(|entry| entry.primary_region())
        .collect();
    assert_eq!(primary_regions, [Some("us-east-1"), None]);
    let page = east.list_secrets().send().await.expect("list");
    let primary_regions: Vec<Option<&str>> = page
        .secret_list()
        .iter()
        .map(|entry| entry.primary_region())
        .collect();
    assert_eq!(primary_regions, [None, Some("us-east-1")]);
}

#[tokio::test]
async fn owning_service_filter_reads_the_owning_service_tag() {
    let server = TestServer::start().await;
    let client = server.client();
    create_described(
        &client,
        "rds-db-1234",
        "managed",
        &[
            ("aws:secretsmanager:owningService", "rds"),
            ("aws:rds:primaryDBInstanceArn", "x"),
        ],
    )
    .await;
    create_described(&client, "mine", "managed", &[("owningService", "rds")]).await;
    create_described(&client, "other", "managed", &[]).await;

    let owning = |values: &[&str]| [filter(FilterNameStringType::OwningService, values)];
    assert_eq!(listed(&client, &owning(&["rds"])).await, ["rds-db-1234"]);
    assert!(listed(&client, &owning(&["lambda"])).await.is_empty());
    assert_eq!(listed(&client, &owning(&["!rds"])).await, ["mine", "other"]);
    let page = client.list_secrets().send().await.expect("list");
    let services: Vec<Option<&str>> = page
        .secret_list()
        .iter()
        .map(|entry| entry.owning_service())
        .collect();
    assert_eq!(services, [Some("rds"), None, None]);
    assert_eq!(
        listed(&client, &[filter(FilterNameStringType::TagKey, &["aws:"])]).await,
        ["rds-db-1234"]
    );
}

// ---------------------------------------------------------------------------------------------
// ListSecrets: 1,000 secrets, created and deleted between pages
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_walk_over_1000_changing_secrets_ascending_skips_and_repeats_nothing() {
    let server = TestServer::start().await;
    walk_with_churn(&server, SortOrderType::Asc, None).await;

    // A filtered walk that matches only secrets created after more than a thousand others
    // still reaches them, page after page.
    let client = server.client();
    for name in ["needle-1", "needle-2", "needle-3"] {
        common::create(&client, name, "v").await;
    }
    let mut found = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = client
            .list_secrets()
            .filters(name_filter(&["needle-"]))
            .max_results(7)
            .set_next_token(token.take())
            .send()
            .await
            .expect("filtered page");
        pages += 1;
        assert!(pages < 100, "the filtered walk does not end");
        found.extend(names(&page));
        match page.next_token() {
            Some(next) => token = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(found, ["needle-1", "needle-2", "needle-3"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_walk_over_1000_changing_secrets_descending_skips_and_repeats_nothing() {
    let server = TestServer::start().await;
    walk_with_churn(&server, SortOrderType::Desc, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_walk_over_1000_changing_secrets_by_name_skips_and_repeats_nothing() {
    // Sorted by name, new secrets land both before and after where the walk stands.
    let server = TestServer::start().await;
    walk_with_churn(&server, SortOrderType::Asc, Some("name")).await;
}

/// Lists 1,000 secrets in pages of 7 while, between pages, secrets are force-deleted (among
/// them the last one listed, which the page token points at), others scheduled for deletion,
/// and new ones created. Every secret that exists throughout is listed exactly once, in the
/// order an undisturbed listing has; deleted secrets not yet listed never are; nothing is
/// listed twice.
async fn walk_with_churn(server: &TestServer, order: SortOrderType, sort_by: Option<&'static str>) {
    let client = server.client();
    // Every third secret may be deleted during the walk; the others stay throughout.
    let initial: Vec<String> = (0..1000)
        .map(|i| {
            if i % 3 == 2 {
                format!("s-{i:04}-churn")
            } else {
                format!("s-{i:04}-stable")
            }
        })
        .collect();
    create_all(&client, &initial).await;
    let stable: BTreeSet<String> = initial
        .iter()
        .filter(|name| name.ends_with("-stable"))
        .cloned()
        .collect();
    let mut alive_churn: BTreeSet<String> = initial
        .iter()
        .filter(|name| name.ends_with("-churn"))
        .cloned()
        .collect();
    let mut created_during = BTreeSet::new();
    let mut deleted_unseen = BTreeSet::new();

    let mut seen: Vec<String> = Vec::new();
    let mut seen_set = BTreeSet::new();
    let mut token: Option<String> = None;
    let mut page_number = 0_usize;
    loop {
        let request = client
            .list_secrets()
            .max_results(7)
            .sort_order(order.clone())
            .set_next_token(token.take());
        let page = send_list(request, sort_by).await.expect("a page");
        let page_names = names(&page);
        assert!(page_names.len() <= 7, "{page_names:?}");
        for name in &page_names {
            assert!(
                seen_set.insert(name.clone()),
                "{name} listed twice (page {page_number})"
            );
            assert!(
                !deleted_unseen.contains(name),
                "{name} was listed after it was deleted"
            );
        }
        seen.extend(page_names.iter().cloned());
        let Some(next) = page.next_token() else {
            break;
        };
        token = Some(next.to_owned());
        page_number += 1;
        assert!(page_number < 1000, "the walk does not end");

        // 1. The last secret listed, which the token points at, goes when it may.
        if let Some(last) = page_names.last()
            && alive_churn.remove(last)
        {
            force_delete(&client, last).await;
        }
        // 2. One not yet listed (ahead of the walk) and one already listed (behind it).
        let unseen: Vec<String> = alive_churn
            .iter()
            .filter(|name| !seen_set.contains(*name))
            .cloned()
            .collect();
        if !unseen.is_empty() {
            let victim = unseen[(page_number * 7) % unseen.len()].clone();
            alive_churn.remove(&victim);
            if page_number.is_multiple_of(4) {
                schedule_deletion(&client, &victim).await;
            } else {
                force_delete(&client, &victim).await;
            }
            deleted_unseen.insert(victim);
        }
        if let Some(behind) = alive_churn
            .iter()
            .find(|name| seen_set.contains(*name))
            .cloned()
        {
            alive_churn.remove(&behind);
            force_delete(&client, &behind).await;
        }
        // 3. Two new secrets. Sorted by name, the first comes right after the last one
        //    listed and the second anywhere; by date, both come last.
        let anchor = page_names.last().cloned().unwrap_or_default();
        for new in [
            format!("{anchor}-new{page_number}-a"),
            format!("s-{:04}-new{page_number}-b", (page_number * 13) % 1000),
        ] {
            common::create(&client, &new, "v").await;
            created_during.insert(new);
        }
        // And a new secret that is deleted again before the next page.
        let brief = format!("s-brief-{page_number}");
        common::create(&client, &brief, "v").await;
        force_delete(&client, &brief).await;
        deleted_unseen.insert(brief);
    }

    assert!(
        page_number > 100,
        "about 1,000 secrets in pages of 7: {page_number}"
    );
    let missing: Vec<&String> = stable.difference(&seen_set).collect();
    assert!(missing.is_empty(), "stable secrets skipped: {missing:?}");
    for name in &seen {
        assert!(
            stable.contains(name) || name.ends_with("-churn") || created_during.contains(name),
            "{name} is not a secret of this test"
        );
    }
    assert!(!deleted_unseen.is_empty());

    // The stable secrets came in the order an undisturbed listing has.
    let mut undisturbed = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let request = client
            .list_secrets()
            .sort_order(order.clone())
            .set_next_token(token.take());
        let page = send_list(request, sort_by).await.expect("a page");
        undisturbed.extend(names(&page));
        match page.next_token() {
            Some(next) => token = Some(next.to_owned()),
            None => break,
        }
    }
    let stable_in = |list: &[String]| -> Vec<String> {
        list.iter()
            .filter(|name| stable.contains(*name))
            .cloned()
            .collect()
    };
    assert_eq!(stable_in(&seen), stable_in(&undisturbed));
    assert_eq!(stable_in(&undisturbed).len(), stable.len());
    if sort_by == Some("name") {
        let mut expected = stable_in(&undisturbed);
        expected.sort();
        if order == SortOrderType::Desc {
            expected.reverse();
        }
        assert_eq!(stable_in(&seen), expected);
    }
}

// ---------------------------------------------------------------------------------------------
// BatchGetSecretValue
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn batch_get_by_ids_answers_in_request_order_with_errors_for_the_rest() {
    let server = TestServer::start().await;
    let client = server.client();
    let a = common::create(&client, "a", "value-a").await;
    let b = common::create(&client, "b", "value-b").await;
    let c = common::create(&client, "c", "value-c").await;
    common::create(&client, "gone", "v").await;
    schedule_deletion(&client, "gone").await;
    let a_arn = a.arn().expect("arn").to_owned();

    let answer = client
        .batch_get_secret_value()
        .secret_id_list("c")
        .secret_id_list(&a_arn)
        .secret_id_list("missing")
        .secret_id_list("b")
        .secret_id_list("gone")
        .send()
        .await
        .expect("batch get");
    assert!(answer.next_token().is_none());
    let values: Vec<(&str, &str, &str)> = answer
        .secret_values()
        .iter()
        .map(|entry| {
            (
                entry.name().expect("name"),
                entry.arn().expect("arn"),
                entry.secret_string().expect("string"),
            )
        })
        .collect();
    assert_eq!(
        values,
        [
            ("c", c.arn().expect("arn"), "value-c"),
            ("a", a_arn.as_str(), "value-a"),
            ("b", b.arn().expect("arn"), "value-b"),
        ]
    );
    let first = &answer.secret_values()[0];
    assert_eq!(first.version_id(), c.version_id());
    assert_eq!(first.version_stages(), ["AWSCURRENT"]);
    assert!(first.secret_binary().is_none());
    assert!(first.created_date().is_some());

    let errors: Vec<(&str, &str)> = answer
        .errors()
        .iter()
        .map(|error| {
            (
                error.secret_id().expect("SecretId"),
                error.error_code().expect("ErrorCode"),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            ("missing", "ResourceNotFoundException"),
            ("gone", "InvalidRequestException")
        ]
    );
    assert_eq!(
        answer.errors()[0].message(),
        Some("Secrets Manager can't find the specified secret.")
    );
    assert!(answer.errors()[1].message().is_some_and(|m| !m.is_empty()));

    // Only errors is still an answer, not a failure.
    let only_missing = client
        .batch_get_secret_value()
        .secret_id_list("missing")
        .send()
        .await
        .expect("batch get");
    assert!(only_missing.secret_values().is_empty());
    assert_eq!(only_missing.errors().len(), 1);
}

#[tokio::test]
async fn batch_get_refuses_bad_argument_combinations() {
    let server = TestServer::start().await;
    let client = server.client();
    common::create(&client, "s", "v").await;
    let by_name = name_filter(&["s"]);

    let (code, message) = error_of(
        client
            .batch_get_secret_value()
            .secret_id_list("s")
            .filters(by_name.clone())
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException", "{message}");
    let (code, message) = error_of(client.batch_get_secret_value().send().await);
    assert_eq!(code, "InvalidParameterException", "{message}");
    let (code, message) = error_of(
        client
            .batch_get_secret_value()
            .secret_id_list("s")
            .max_results(5)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException", "{message}");

    // More than ten filter values in all, however they are spread over filters.
    let ten: Vec<String> = (0..10).map(|i| format!("v{i}")).collect();
    let ten: Vec<&str> = ten.iter().map(String::as_str).collect();
    let too_many = [
        vec![
            name_filter(&ten),
            filter(FilterNameStringType::TagKey, &["k"]),
        ],
        vec![name_filter(&ten[..6]), name_filter(&ten[..5])],
    ];
    for filters in too_many {
        let (code, message) = error_of(
            client
                .batch_get_secret_value()
                .set_filters(Some(filters))
                .send()
                .await,
        );
        assert_eq!(
            (code.as_str(), message.as_str()),
            (
                "InvalidParameterException",
                "The filter list has too many filters. You can include up to 10 filters."
            )
        );
    }
    client
        .batch_get_secret_value()
        .filters(name_filter(&ten[..5]))
        .filters(name_filter(&ten[5..]))
        .send()
        .await
        .expect("ten values in all are fine");

    // The model's bounds: 1 to 20 ids, MaxResults 1 to 20.
    let (code, _) = error_of(
        client
            .batch_get_secret_value()
            .set_secret_id_list(Some(vec!["s".to_owned(); 21]))
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException", "21 ids");
    client
        .batch_get_secret_value()
        .set_secret_id_list(Some(vec!["s".to_owned(); 20]))
        .send()
        .await
        .expect("20 ids");
    for max in [0, 21] {
        let (code, message) = error_of(
            client
                .batch_get_secret_value()
                .filters(by_name.clone())
                .max_results(max)
                .send()
                .await,
        );
        assert_eq!(code, "ValidationException", "{max}");
        assert!(message.contains("maxResults"), "{message}");
    }
    // The filters of BatchGetSecretValue are checked as ListSecrets checks them.
    let no_key = Filter::builder().values("s").build();
    let (code, message) = error_of(client.batch_get_secret_value().filters(no_key).send().await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("InvalidParameterException", "Invalid filter key")
    );
}

#[tokio::test]
async fn batch_get_by_filters_pages_in_creation_order() {
    let server = TestServer::start().await;
    let client = server.client();
    for i in 1..=5 {
        common::create(&client, &format!("app/{i}"), &format!("value-{i}")).await;
        common::create(&client, &format!("other/{i}"), "x").await;
    }
    common::create(&client, "app/pending", "v").await;
    schedule_deletion(&client, "app/pending").await;
    let app = name_filter(&["app/"]);

    let mut pages = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .batch_get_secret_value()
            .filters(app.clone())
            .max_results(2)
            .set_next_token(token.take())
            .send()
            .await
            .expect("page");
        assert!(page.errors().is_empty(), "{:?}", page.errors());
        pages.push(
            page.secret_values()
                .iter()
                .map(|entry| {
                    (
                        entry.name().expect("name").to_owned(),
                        entry.secret_string().expect("string").to_owned(),
                    )
                })
                .collect::<Vec<_>>(),
        );
        match page.next_token() {
            Some(next) => token = Some(next.to_owned()),
            None => break,
        }
    }
    let expected: Vec<Vec<(String, String)>> = vec![
        vec![
            ("app/1".into(), "value-1".into()),
            ("app/2".into(), "value-2".into()),
        ],
        vec![
            ("app/3".into(), "value-3".into()),
            ("app/4".into(), "value-4".into()),
        ],
        vec![("app/5".into(), "value-5".into())],
    ];
    assert_eq!(pages, expected, "a secret pending deletion is not selected");

    // Tokens are sealed and belong to their filters.
    let first = client
        .batch_get_secret_value()
        .filters(app.clone())
        .max_results(2)
        .send()
        .await
        .expect("first page");
    let token = first.next_token().expect("a token").to_owned();
    let mut forged = token.clone();
    let last = forged.pop().expect("a character");
    forged.push(if last == 'A' { 'B' } else { 'A' });
    for (filters, next, what) in [
        (app.clone(), forged.as_str(), "forged"),
        (name_filter(&["app"]), token.as_str(), "other filters"),
        (app.clone(), "made-up", "made up"),
    ] {
        let (code, _) = error_of(
            client
                .batch_get_secret_value()
                .filters(filters)
                .next_token(next)
                .send()
                .await,
        );
        assert_eq!(code, "InvalidNextTokenException", "{what}");
    }
    // A BatchGetSecretValue token is not a ListSecrets token.
    let (code, _) = error_of(
        client
            .list_secrets()
            .filters(app.clone())
            .next_token(&token)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidNextTokenException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_get_by_filters_pages_20_by_default() {
    let server = TestServer::start().await;
    let client = server.client();
    let all: Vec<String> = (0..21).map(|i| format!("b-{i:02}")).collect();
    for name in &all {
        common::create(&client, name, "v").await;
    }
    let first = client
        .batch_get_secret_value()
        .filters(name_filter(&["b-"]))
        .send()
        .await
        .expect("first page");
    assert_eq!(first.secret_values().len(), 20);
    let token = first.next_token().expect("a second page");
    let second = client
        .batch_get_secret_value()
        .filters(name_filter(&["b-"]))
        .next_token(token)
        .send()
        .await
        .expect("second page");
    assert!(second.next_token().is_none());
    let walked: Vec<&str> = first
        .secret_values()
        .iter()
        .chain(second.secret_values())
        .map(|entry| entry.name().expect("name"))
        .collect();
    assert_eq!(walked, all);
}

#[tokio::test]
async fn batch_get_returns_binary_values_unchanged() {
    let server = TestServer::start().await;
    let client = server.client();
    let payload: Vec<u8> = (0..=255).chain([0, 0xff, 0]).collect();
    client
        .create_secret()
        .name("bin")
        .secret_binary(Blob::new(payload.clone()))
        .send()
        .await
        .expect("create binary");
    for answer in [
        client
            .batch_get_secret_value()
            .secret_id_list("bin")
            .send()
            .await
            .expect("by id"),
        client
            .batch_get_secret_value()
            .filters(name_filter(&["bin"]))
            .send()
            .await
            .expect("by filter"),
    ] {
        let entry = &answer.secret_values()[0];
        assert_eq!(
            entry.secret_binary().map(|blob| blob.as_ref()),
            Some(payload.as_slice())
        );
        assert!(entry.secret_string().is_none());
    }
}

#[tokio::test]
async fn batch_get_reports_a_secret_without_a_current_value_as_an_error() {
    let server = TestServer::start().await;
    let client = server.client();
    common::create(&client, "e/with", "v").await;
    let empty = client
        .create_secret()
        .name("e/without")
        .send()
        .await
        .expect("create without value");
    common::create(&client, "e/later", "w").await;

    let answer = client
        .batch_get_secret_value()
        .filters(name_filter(&["e/"]))
        .send()
        .await
        .expect("a secret without a value does not fail the call");
    let names: Vec<&str> = answer
        .secret_values()
        .iter()
        .map(|entry| entry.name().expect("name"))
        .collect();
    assert_eq!(names, ["e/with", "e/later"]);
    assert_eq!(answer.errors().len(), 1);
    let error = &answer.errors()[0];
    assert_eq!(error.secret_id(), empty.arn());
    assert_eq!(error.error_code(), Some("ResourceNotFoundException"));
    assert!(
        error.message().is_some_and(|m| m.contains("AWSCURRENT")),
        "{error:?}"
    );

    let by_id = client
        .batch_get_secret_value()
        .secret_id_list("e/without")
        .secret_id_list("e/with")
        .send()
        .await
        .expect("by id");
    assert_eq!(by_id.secret_values().len(), 1);
    assert_eq!(by_id.errors()[0].secret_id(), Some("e/without"));
    assert_eq!(
        by_id.errors()[0].error_code(),
        Some("ResourceNotFoundException")
    );
}

#[tokio::test]
async fn batch_reads_record_the_day_of_access() {
    let server = TestServer::start().await;
    let client = server.client();
    common::create(&client, "by-id", "v").await;
    common::create(&client, "by-filter", "v").await;
    common::create(&client, "unread", "v").await;
    server.advance_days(2);
    client
        .batch_get_secret_value()
        .secret_id_list("by-id")
        .send()
        .await
        .expect("by id");
    client
        .batch_get_secret_value()
        .filters(name_filter(&["by-filter"]))
        .send()
        .await
        .expect("by filter");
    let midnight = server.now().start_of_day().as_millis() / 1000;
    for name in ["by-id", "by-filter"] {
        let described = common::describe(&client, name).await;
        assert_eq!(
            described.last_accessed_date().map(|d| d.secs()),
            Some(midnight),
            "{name}"
        );
    }
    assert!(
        common::describe(&client, "unread")
            .await
            .last_accessed_date()
            .is_none()
    );
    let versions = client
        .list_secret_version_ids()
        .secret_id("by-id")
        .send()
        .await
        .expect("versions");
    assert_eq!(
        versions.versions()[0]
            .last_accessed_date()
            .map(|d| d.secs()),
        Some(midnight)
    );
    assert_eq!(
        sorted_names(&client, "last-accessed-date", SortOrderType::Desc).await[2],
        "unread"
    );
}
