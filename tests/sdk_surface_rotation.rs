//! RotateSecret and CancelRotateSecret through the official AWS SDK: the rules, the stored
//! configuration (rotation functions are not invoked yet), and a rotation left unfinished.

mod common;

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::types::RotationRulesType;
use common::{TestServer, error_of};

const MARKED: &str =
    "You can't perform this operation on the secret because it was marked for deletion.";
const NOT_FOUND: &str = "Secrets Manager can't find the specified secret.";
const LAMBDA: &str = "arn:aws:lambda:us-east-1:123456789012:function:rotate-me";

fn days(n: i64) -> RotationRulesType {
    RotationRulesType::builder()
        .automatically_after_days(n)
        .build()
}

/// Asserts DescribeSecret shows no rotation configuration at all.
async fn assert_no_rotation(client: &Client, id: &str) {
    let described = common::describe(client, id).await;
    assert_eq!(described.rotation_enabled, None);
    assert_eq!(described.rotation_lambda_arn, None);
    assert_eq!(described.rotation_rules, None);
    assert_eq!(described.next_rotation_date, None);
    assert_eq!(described.last_rotated_date, None);
}

/// The message of the refusal that follows a stored rotation configuration.
fn assert_not_invoked(code: &str, message: &str, lambda: &str) {
    assert_eq!(code, "InvalidRequestException");
    assert!(
        message.contains("cannot invoke rotation functions yet"),
        "{message}"
    );
    assert!(message.contains(lambda), "{message}");
}

#[tokio::test]
async fn rotation_needs_a_lambda_and_stores_nothing_without_one() {
    let server = TestServer::start().await;
    let client = server.client();
    common::create(&client, "s", "v").await;
    let (code, message) = error_of(
        client
            .rotate_secret()
            .secret_id("s")
            .rotation_rules(days(1))
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "InvalidRequestException",
            "No Lambda rotation function ARN is associated with this secret."
        )
    );
    assert_no_rotation(&client, "s").await;

    // Nothing was configured, so there is nothing to cancel.
    let (code, _) = error_of(client.cancel_rotate_secret().secret_id("s").send().await);
    assert_eq!(code, "InvalidRequestException");
    assert_no_rotation(&client, "s").await;

    let (code, message) = error_of(
        client
            .rotate_secret()
            .secret_id("missing")
            .rotation_lambda_arn(LAMBDA)
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("ResourceNotFoundException", NOT_FOUND)
    );
}

#[tokio::test]
async fn rotation_rules_are_checked_before_anything_is_stored() {
    let server = TestServer::start().await;
    let client = server.client();
    common::create(&client, "s", "v").await;
    let both = RotationRulesType::builder()
        .automatically_after_days(7)
        .schedule_expression("rate(7 days)")
        .build();
    let (code, message) = error_of(
        client
            .rotate_secret()
            .secret_id("s")
            .rotation_lambda_arn(LAMBDA)
            .rotation_rules(both)
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "InvalidParameterException",
            "You cannot specify both rotation frequency and schedule expression together."
        )
    );

    for (n, constraint) in [
        (0, "Member must have value greater than or equal to 1"),
        (1001, "Member must have value less than or equal to 1000"),
    ] {
        let (code, message) = error_of(
            client
                .rotate_secret()
                .secret_id("s")
                .rotation_lambda_arn(LAMBDA)
                .rotation_rules(days(n))
                .send()
                .await,
        );
        assert_eq!(code, "ValidationException", "{n}");
        assert!(
            message.contains("'rotationRules.automaticallyAfterDays'"),
            "{message}"
        );
        assert!(message.contains(constraint), "{message}");
    }

    for expression in ["rate(2 hours)", "cron(bad)"] {
        let (code, _) = error_of(
            client
                .rotate_secret()
                .secret_id("s")
                .rotation_lambda_arn(LAMBDA)
                .rotation_rules(
                    RotationRulesType::builder()
                        .schedule_expression(expression)
                        .build(),
                )
                .send()
                .await,
        );
        assert_eq!(code, "InvalidParameterException", "{expression}");
    }
    assert_no_rotation(&client, "s").await;
}

#[tokio::test]
async fn rotation_configuration_is_stored_reused_and_cancelled() {
    let server = TestServer::start().await;
    let client = server.client();
    let created = common::create(&client, "s", "v").await;

    let (code, message) = error_of(
        client
            .rotate_secret()
            .secret_id("s")
            .rotation_lambda_arn(LAMBDA)
            .rotation_rules(days(30))
            .send()
            .await,
    );
    assert_not_invoked(&code, &message, LAMBDA);
    let described = common::describe(&client, "s").await;
    assert_eq!(described.rotation_enabled, Some(true));
    assert_eq!(described.rotation_lambda_arn(), Some(LAMBDA));
    assert_eq!(
        described
            .rotation_rules()
            .and_then(|r| r.automatically_after_days()),
        Some(30)
    );
    // The end of the window 30 days on, less a second: 23:59:59 UTC of that day.
    let now = server.now().as_millis() / 1000;
    let day = 24 * 60 * 60;
    let expected = (now / day + 31) * day - 1;
    let next = described.next_rotation_date().map(|d| d.secs());
    assert_eq!(next, Some(expected));
    assert!(next.is_some_and(|next| next > now));
    // The value was not rotated: still one version.
    let value = common::get(&client, "s").await;
    assert_eq!(value.version_id(), created.version_id());

    // Without arguments, the stored Lambda and rules are used again.
    let (code, message) = error_of(client.rotate_secret().secret_id("s").send().await);
    assert_not_invoked(&code, &message, LAMBDA);
    let again = common::describe(&client, "s").await;
    assert_eq!(again.rotation_lambda_arn(), Some(LAMBDA));
    assert_eq!(again.rotation_rules(), described.rotation_rules());

    let cancelled = client
        .cancel_rotate_secret()
        .secret_id("s")
        .send()
        .await
        .expect("cancel");
    assert_eq!(cancelled.arn(), created.arn());
    assert_eq!(cancelled.name(), Some("s"));
    assert_eq!(cancelled.version_id(), None, "no rotation was in progress");
    let after = common::describe(&client, "s").await;
    assert_eq!(after.rotation_enabled, Some(false));
    assert_eq!(
        after.rotation_lambda_arn(),
        Some(LAMBDA),
        "the Lambda is kept"
    );
    assert_eq!(
        after.rotation_rules(),
        described.rotation_rules(),
        "the rules are kept"
    );
    assert_eq!(after.next_rotation_date, None);

    // A cancelled configuration can be turned on again without arguments, with a new schedule.
    let other = "arn:aws:lambda:us-east-1:123456789012:function:other";
    let (code, message) = error_of(
        client
            .rotate_secret()
            .secret_id("s")
            .rotation_lambda_arn(other)
            .rotation_rules(
                RotationRulesType::builder()
                    .schedule_expression("rate(10 days)")
                    .build(),
            )
            .send()
            .await,
    );
    assert_not_invoked(&code, &message, other);
    let switched = common::describe(&client, "s").await;
    assert_eq!(switched.rotation_enabled, Some(true));
    assert_eq!(switched.rotation_lambda_arn(), Some(other));
    assert_eq!(
        switched
            .rotation_rules()
            .and_then(|r| r.schedule_expression()),
        Some("rate(10 days)")
    );
    assert!(
        switched
            .next_rotation_date()
            .is_some_and(|next| next.secs() > now)
    );
}

#[tokio::test]
async fn an_unfinished_rotation_blocks_rotation_until_cancelled() {
    let server = TestServer::start().await;
    let client = server.client();
    let created = common::create(&client, "s", "v").await;
    let current = created.version_id().expect("version").to_owned();
    // Configure rotation (the call itself fails, the configuration stays).
    let (code, message) = error_of(
        client
            .rotate_secret()
            .secret_id("s")
            .rotation_lambda_arn(LAMBDA)
            .rotation_rules(days(30))
            .send()
            .await,
    );
    assert_not_invoked(&code, &message, LAMBDA);

    // AWSPENDING on the current version is not a rotation in progress.
    client
        .update_secret_version_stage()
        .secret_id("s")
        .version_stage("AWSPENDING")
        .move_to_version_id(&current)
        .send()
        .await
        .expect("label the current version AWSPENDING");
    let (code, message) = error_of(client.rotate_secret().secret_id("s").send().await);
    assert_not_invoked(&code, &message, LAMBDA);

    // AWSPENDING on another version is.
    let pending = common::token();
    client
        .put_secret_value()
        .secret_id("s")
        .secret_string("next")
        .client_request_token(&pending)
        .version_stages("AWSPENDING")
        .send()
        .await
        .expect("put a pending version");
    let (code, message) = error_of(client.rotate_secret().secret_id("s").send().await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "InvalidRequestException",
            "A previous rotation isn't complete. That rotation will be reattempted."
        )
    );

    let cancelled = client
        .cancel_rotate_secret()
        .secret_id("s")
        .send()
        .await
        .expect("cancel");
    assert_eq!(cancelled.version_id(), Some(pending.as_str()));
    let stages = common::describe(&client, "s")
        .await
        .version_ids_to_stages
        .unwrap_or_default();
    assert_eq!(stages.get(&current), Some(&vec!["AWSCURRENT".to_owned()]));
    assert_eq!(
        stages.get(&pending),
        None,
        "the pending version lost AWSPENDING"
    );
    assert_eq!(common::get(&client, "s").await.secret_string(), Some("v"));

    // The rotation is no longer blocked.
    let (code, message) = error_of(client.rotate_secret().secret_id("s").send().await);
    assert_not_invoked(&code, &message, LAMBDA);
}

#[tokio::test]
async fn a_secret_pending_deletion_refuses_rotation_calls() {
    let server = TestServer::start().await;
    let client = server.client();
    common::create(&client, "doomed", "v").await;
    client
        .delete_secret()
        .secret_id("doomed")
        .send()
        .await
        .expect("delete");
    let results = [
        error_of(
            client
                .rotate_secret()
                .secret_id("doomed")
                .rotation_lambda_arn(LAMBDA)
                .rotation_rules(days(30))
                .send()
                .await,
        ),
        error_of(
            client
                .cancel_rotate_secret()
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
    assert_no_rotation(&client, "doomed").await;
}
