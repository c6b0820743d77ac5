//! PutResourcePolicy, GetResourcePolicy, DeleteResourcePolicy and ValidateResourcePolicy through
//! the official AWS SDK.

mod common;

use aws_sdk_secretsmanager::Client;
use common::{TestServer, error_of};
use serde_json::{Value, json};

const MARKED: &str =
    "You can't perform this operation on the secret because it was marked for deletion.";
const NOT_FOUND: &str = "Secrets Manager can't find the specified secret.";

/// A policy that lets one account read the secret.
fn account_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "ReadByAccount",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "*"
        }]
    })
}

/// A policy that lets anyone read the secret.
fn public_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": "*",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "*"
        }]
    })
}

/// The stored policy of a secret, parsed; `None` when GetResourcePolicy has none.
async fn stored_policy(client: &Client, id: &str) -> Option<Value> {
    let output = client
        .get_resource_policy()
        .secret_id(id)
        .send()
        .await
        .unwrap_or_else(|error| panic!("get policy of {id}: {error:?}"));
    output
        .resource_policy()
        .map(|text| serde_json::from_str(text).expect("the stored policy is JSON"))
}

async fn put_policy(client: &Client, id: &str, policy: &Value) {
    client
        .put_resource_policy()
        .secret_id(id)
        .resource_policy(policy.to_string())
        .send()
        .await
        .unwrap_or_else(|error| panic!("put policy on {id}: {error:?}"));
}

// ---------------------------------------------------------------------------------------------
// Resource policies

#[tokio::test]
async fn a_policy_is_put_read_back_and_deleted() {
    let server = TestServer::start().await;
    let client = server.client();
    let created = common::create(&client, "guarded", "v").await;
    let arn = created.arn().expect("arn");

    let none = client
        .get_resource_policy()
        .secret_id("guarded")
        .send()
        .await
        .expect("get policy");
    assert_eq!(none.arn(), Some(arn));
    assert_eq!(none.name(), Some("guarded"));
    assert_eq!(none.resource_policy, None, "no ResourcePolicy member");

    // Pretty-printed on the way in; compared as JSON on the way out.
    let policy = account_policy();
    let put = client
        .put_resource_policy()
        .secret_id("guarded")
        .resource_policy(serde_json::to_string_pretty(&policy).expect("json"))
        .send()
        .await
        .expect("put policy");
    assert_eq!(put.arn(), Some(arn));
    assert_eq!(put.name(), Some("guarded"));
    assert_eq!(stored_policy(&client, "guarded").await, Some(policy));
    let by_arn = client
        .get_resource_policy()
        .secret_id(arn)
        .send()
        .await
        .expect("get policy by ARN");
    assert_eq!(by_arn.arn(), Some(arn));
    assert_eq!(by_arn.name(), Some("guarded"));

    // A second put replaces the first.
    let mut replacement = account_policy();
    replacement["Statement"][0]["Action"] = json!([
        "secretsmanager:GetSecretValue",
        "secretsmanager:DescribeSecret"
    ]);
    put_policy(&client, arn, &replacement).await;
    assert_eq!(stored_policy(&client, "guarded").await, Some(replacement));

    let deleted = client
        .delete_resource_policy()
        .secret_id("guarded")
        .send()
        .await
        .expect("delete policy");
    assert_eq!(deleted.arn(), Some(arn));
    assert_eq!(deleted.name(), Some("guarded"));
    assert_eq!(stored_policy(&client, "guarded").await, None);
    // Deleting when there is none is not an error.
    client
        .delete_resource_policy()
        .secret_id("guarded")
        .send()
        .await
        .expect("delete again");
    // The secret itself is untouched.
    assert_eq!(
        common::get(&client, "guarded").await.secret_string(),
        Some("v")
    );
}

#[tokio::test]
async fn malformed_policies_are_refused_with_the_reason() {
    let server = TestServer::start().await;
    let client = server.client();
    common::create(&client, "s", "v").await;
    put_policy(&client, "s", &account_policy()).await;

    let mut bad_effect = account_policy();
    bad_effect["Statement"][0]["Effect"] = json!("Permit");
    let mut no_principal = account_policy();
    no_principal["Statement"][0]
        .as_object_mut()
        .expect("statement")
        .remove("Principal");
    let cases = [
        ("{not json".to_owned(), "JSON"),
        (json!({"Version": "2012-10-17"}).to_string(), "Statement"),
        (bad_effect.to_string(), "Effect"),
        (no_principal.to_string(), "Principal"),
    ];
    for (document, problem) in cases {
        let (code, message) = error_of(
            client
                .put_resource_policy()
                .secret_id("s")
                .resource_policy(&document)
                .send()
                .await,
        );
        assert_eq!(code, "MalformedPolicyDocumentException", "{document}");
        assert!(
            message.starts_with("This policy has invalid syntax. "),
            "{message}"
        );
        assert!(message.contains(problem), "{problem}: {message}");
    }
    assert_eq!(
        stored_policy(&client, "s").await,
        Some(account_policy()),
        "refused documents leave the policy alone"
    );
}

#[tokio::test]
async fn an_unknown_secret_is_reported_before_a_bad_policy() {
    let server = TestServer::start().await;
    let client = server.client();
    let results = [
        error_of(
            client
                .put_resource_policy()
                .secret_id("missing")
                .resource_policy("p")
                .send()
                .await,
        ),
        error_of(
            client
                .get_resource_policy()
                .secret_id("missing")
                .send()
                .await,
        ),
        error_of(
            client
                .delete_resource_policy()
                .secret_id("missing")
                .send()
                .await,
        ),
        error_of(
            client
                .validate_resource_policy()
                .secret_id("missing")
                .resource_policy(account_policy().to_string())
                .send()
                .await,
        ),
    ];
    for (i, (code, message)) in results.into_iter().enumerate() {
        assert_eq!(
            (code.as_str(), message.as_str()),
            ("ResourceNotFoundException", NOT_FOUND),
            "call {i}"
        );
    }
}

#[tokio::test]
async fn public_policies_are_accepted_unless_blocked() {
    let server = TestServer::start().await;
    let client = server.client();
    common::create(&client, "open", "v").await;
    put_policy(&client, "open", &public_policy()).await;
    assert_eq!(stored_policy(&client, "open").await, Some(public_policy()));

    common::create(&client, "closed", "v").await;
    let (code, _) = error_of(
        client
            .put_resource_policy()
            .secret_id("closed")
            .resource_policy(public_policy().to_string())
            .block_public_policy(true)
            .send()
            .await,
    );
    assert_eq!(code, "PublicPolicyException");
    assert_eq!(stored_policy(&client, "closed").await, None);

    client
        .put_resource_policy()
        .secret_id("closed")
        .resource_policy(account_policy().to_string())
        .block_public_policy(true)
        .send()
        .await
        .expect("an account principal is not public");
    assert_eq!(
        stored_policy(&client, "closed").await,
        Some(account_policy())
    );
    // A refused public policy does not replace the stored one.
    let (code, _) = error_of(
        client
            .put_resource_policy()
            .secret_id("closed")
            .resource_policy(public_policy().to_string())
            .block_public_policy(true)
            .send()
            .await,
    );
    assert_eq!(code, "PublicPolicyException");
    assert_eq!(
        stored_policy(&client, "closed").await,
        Some(account_policy())
    );
}

#[tokio::test]
async fn a_policy_has_at_most_20480_characters() {
    let server = TestServer::start().await;
    let client = server.client();
    common::create(&client, "s", "v").await;
    let compact = account_policy().to_string();
    // Padded with spaces (still the same JSON) to the limit, then one past it.
    let longest = format!("{compact}{}", " ".repeat(20_480 - compact.len()));
    assert_eq!(longest.chars().count(), 20_480);
    client
        .put_resource_policy()
        .secret_id("s")
        .resource_policy(&longest)
        .send()
        .await
        .expect("20,480 characters are allowed");
    let too_long = format!("{longest} ");
    let (code, message) = error_of(
        client
            .put_resource_policy()
            .secret_id("s")
            .resource_policy(&too_long)
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");
    assert!(message.contains("'resourcePolicy'"), "{message}");
    assert!(
        message.contains("Member must have length less than or equal to 20480"),
        "{message}"
    );
    let (code, _) = error_of(
        client
            .validate_resource_policy()
            .resource_policy(too_long)
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");
    assert_eq!(stored_policy(&client, "s").await, Some(account_policy()));
}

#[tokio::test]
async fn validate_resource_policy_reports_syntax_and_broad_access() {
    let server = TestServer::start().await;
    let client = server.client();
    common::create(&client, "s", "v").await;

    for secret_id in [None, Some("s")] {
        let valid = client
            .validate_resource_policy()
            .set_secret_id(secret_id.map(str::to_owned))
            .resource_policy(account_policy().to_string())
            .send()
            .await
            .expect("validate");
        assert!(valid.policy_validation_passed(), "{secret_id:?}");
        assert_eq!(
            valid.validation_errors,
            Some(vec![]),
            "ValidationErrors: []"
        );
    }

    let malformed = client
        .validate_resource_policy()
        .resource_policy(json!({"Version": "2012-10-17"}).to_string())
        .send()
        .await
        .expect("validate");
    assert!(!malformed.policy_validation_passed());
    let errors = malformed.validation_errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].check_name(), Some("SYNTAX_CHECK"));
    assert!(
        errors[0]
            .error_message()
            .is_some_and(|m| m.contains("Statement")),
        "{errors:?}"
    );

    let public = client
        .validate_resource_policy()
        .secret_id("s")
        .resource_policy(public_policy().to_string())
        .send()
        .await
        .expect("validate");
    assert!(!public.policy_validation_passed());
    let checks: Vec<_> = public
        .validation_errors()
        .iter()
        .map(|entry| entry.check_name().unwrap_or_default())
        .collect();
    assert_eq!(checks, ["BROAD_ACCESS_CHECK"]);
    // Validating stores nothing.
    assert_eq!(stored_policy(&client, "s").await, None);
}

#[tokio::test]
async fn a_secret_pending_deletion_refuses_policy_calls() {
    let server = TestServer::start().await;
    let client = server.client();
    common::create(&client, "doomed", "v").await;
    put_policy(&client, "doomed", &account_policy()).await;
    client
        .delete_secret()
        .secret_id("doomed")
        .send()
        .await
        .expect("delete");
    let results = [
        error_of(
            client
                .put_resource_policy()
                .secret_id("doomed")
                .resource_policy(account_policy().to_string())
                .send()
                .await,
        ),
        error_of(
            client
                .get_resource_policy()
                .secret_id("doomed")
                .send()
                .await,
        ),
        error_of(
            client
                .delete_resource_policy()
                .secret_id("doomed")
                .send()
                .await,
        ),
    ];
    for (i, (code, message)) in results.into_iter().enumerate() {
        assert_eq!(
            (code.as_str(), message.as_str()),
            ("InvalidRequestException", MARKED),
            "call {i}"
        );
    }
    client
        .restore_secret()
        .secret_id("doomed")
        .send()
        .await
        .expect("restore");
    assert_eq!(
        stored_policy(&client, "doomed").await,
        Some(account_policy()),
        "the policy survived the refused calls"
    );
}
