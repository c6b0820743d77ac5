//! The rotation schedule: NextRotationDate follows the rules from the last rotation, and a
//! value set by hand counts as a rotation (AWS's `RotationRulesType` documentation).

mod common;

use aws_sdk_secretsmanager::types::RotationRulesType;
use common::{TestServer, error_of};

const LAMBDA: &str = "arn:aws:lambda:us-east-1:123456789012:function:rotate";
const DAY: i64 = 24 * 60 * 60;

fn next_rotation_secs(
    output: &aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput,
) -> i64 {
    output
        .next_rotation_date()
        .unwrap_or_else(|| panic!("no NextRotationDate in {output:?}"))
        .secs()
}

#[tokio::test]
async fn a_new_value_moves_the_next_rotation() {
    let server = TestServer::start().await;
    let client = server.client();
    common::create(&client, "s", "v1").await;
    let rules = RotationRulesType::builder()
        .automatically_after_days(10)
        .build();
    // Rotation functions cannot be invoked yet: the call fails after storing the schedule.
    let (code, message) = error_of(
        client
            .rotate_secret()
            .secret_id("s")
            .rotation_lambda_arn(LAMBDA)
            .rotation_rules(rules)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidRequestException");
    assert!(message.contains(LAMBDA), "{message}");
    let configured = common::describe(&client, "s").await;
    assert_eq!(configured.rotation_enabled(), Some(true));
    let first = next_rotation_secs(&configured);
    let now = server.now().as_millis() / 1000;
    assert!(
        (now + 9 * DAY..=now + 11 * DAY).contains(&first),
        "due about 10 days from now: {first} vs {now}"
    );

    server.advance_days(3);
    client
        .put_secret_value()
        .secret_id("s")
        .secret_string("v2")
        .send()
        .await
        .expect("put");
    let after_put = next_rotation_secs(&common::describe(&client, "s").await);
    assert!(
        (first + 2 * DAY..=first + 4 * DAY).contains(&after_put),
        "a manual change three days later moves the date by three days: {first} -> {after_put}"
    );

    // A value that does not become current is not a rotation.
    server.advance_days(2);
    client
        .put_secret_value()
        .secret_id("s")
        .secret_string("staged")
        .version_stages("STAGED")
        .send()
        .await
        .expect("put staged");
    let after_staged = next_rotation_secs(&common::describe(&client, "s").await);
    assert_eq!(after_staged, after_put);

    // Cancelling rotation hides the date; a change while cancelled does not bring it back.
    client
        .cancel_rotate_secret()
        .secret_id("s")
        .send()
        .await
        .expect("cancel");
    client
        .update_secret()
        .secret_id("s")
        .secret_string("v3")
        .send()
        .await
        .expect("update");
    let cancelled = common::describe(&client, "s").await;
    assert_eq!(cancelled.rotation_enabled(), Some(false));
    assert_eq!(cancelled.next_rotation_date(), None);
    assert_eq!(cancelled.rotation_lambda_arn(), Some(LAMBDA));
}
