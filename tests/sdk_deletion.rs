//! DeleteSecret, RestoreSecret, the recovery window and the purge job.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{TestServer, error_of};

#[tokio::test]
async fn the_recovery_window_is_checked() {
    let server = TestServer::start().await;
    let client = server.client();
    common::create(&client, "s", "v").await;
    for days in [0, 6, 31] {
        let (code, message) = error_of(
            client
                .delete_secret()
                .secret_id("s")
                .recovery_window_in_days(days)
                .send()
                .await,
        );
        assert_eq!(code, "InvalidParameterException", "{days}");
        assert_eq!(
            message,
            "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive)."
        );
    }
    let (code, message) = error_of(
        client
            .delete_secret()
            .secret_id("s")
            .recovery_window_in_days(7)
            .force_delete_without_recovery(true)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(
        message,
        "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays."
    );

    // The default window is 30 days.
    let deleted = client
        .delete_secret()
        .secret_id("s")
        .send()
        .await
        .expect("delete");
    let expected = server.now().plus_days(30).as_millis() / 1000;
    assert_eq!(deleted.deletion_date().map(|d| d.secs()), Some(expected));
}

#[tokio::test]
async fn a_secret_pending_deletion_refuses_changes_but_can_be_described_and_restored() {
    let server = TestServer::start().await;
    let client = server.client();
    common::create(&client, "s", "v").await;
    client
        .delete_secret()
        .secret_id("s")
        .recovery_window_in_days(7)
        .send()
        .await
        .expect("delete");

    let marked =
        "You can't perform this operation on the secret because it was marked for deletion.";
    let results = [
        error_of(client.get_secret_value().secret_id("s").send().await),
        error_of(
            client
                .update_secret()
                .secret_id("s")
                .secret_string("w")
                .send()
                .await,
        ),
        error_of(
            client
                .update_secret()
                .secret_id("s")
                .description("d")
                .send()
                .await,
        ),
        error_of(
            client
                .put_secret_value()
                .secret_id("s")
                .secret_string("w")
                .send()
                .await,
        ),
        error_of(
            client
                .update_secret_version_stage()
                .secret_id("s")
                .version_stage("x")
                .move_to_version_id(common::token())
                .send()
                .await,
        ),
        error_of(client.delete_secret().secret_id("s").send().await),
    ];
    for (code, message) in results {
        assert_eq!(
            (code.as_str(), message.as_str()),
            ("InvalidRequestException", marked)
        );
    }
    let (code, message) = error_of(client.create_secret().name("s").send().await);
    assert_eq!(code, "InvalidRequestException");
    assert_eq!(
        message,
        "You can't create this secret because a secret with this name is already scheduled for deletion."
    );
    let described = common::describe(&client, "s").await;
    assert_eq!(
        described.deleted_date().map(|d| d.secs()),
        Some(server.now().as_millis() / 1000)
    );
    let versions = client
        .list_secret_version_ids()
        .secret_id("s")
        .send()
        .await
        .expect("list versions");
    assert_eq!(versions.versions().len(), 1);

    client
        .restore_secret()
        .secret_id("s")
        .send()
        .await
        .expect("restore");
    client
        .update_secret()
        .secret_id("s")
        .secret_string("w")
        .send()
        .await
        .expect("update after restore");
    // Restoring a secret that is not deleted changes nothing.
    client
        .restore_secret()
        .secret_id("s")
        .send()
        .await
        .expect("restore again");
}

#[tokio::test]
async fn force_deletion_is_immediate_even_for_missing_or_pending_secrets() {
    let server = TestServer::start().await;
    let client = server.client();
    let force = |id: &str| {
        client
            .delete_secret()
            .secret_id(id)
            .force_delete_without_recovery(true)
            .send()
    };

    let missing = force("never-existed")
        .await
        .expect("forcing a missing secret is not an error");
    assert_eq!(missing.name(), Some("never-existed"));
    assert!(
        missing
            .arn()
            .is_some_and(|arn| arn.contains(":secret:never-existed-"))
    );
    assert_eq!(
        missing.deletion_date().map(|d| d.secs()),
        Some(server.now().as_millis() / 1000)
    );

    common::create(&client, "pending", "v").await;
    client
        .delete_secret()
        .secret_id("pending")
        .send()
        .await
        .expect("schedule");
    force("pending").await.expect("force a pending deletion");
    let (code, _) = error_of(client.describe_secret().secret_id("pending").send().await);
    assert_eq!(code, "ResourceNotFoundException");

    let (code, _) = error_of(
        client
            .delete_secret()
            .secret_id("never-existed")
            .send()
            .await,
    );
    assert_eq!(
        code, "ResourceNotFoundException",
        "without force, a missing secret is an error"
    );
}

#[tokio::test]
async fn the_purge_removes_secrets_once_their_window_ends() {
    let server = TestServer::start().await;
    let client = server.client();
    for name in ["due", "restored", "later"] {
        client
            .create_secret()
            .name(name)
            .secret_string("v")
            .send()
            .await
            .expect("create");
    }
    client
        .delete_secret()
        .secret_id("due")
        .recovery_window_in_days(7)
        .send()
        .await
        .expect("delete");
    client
        .delete_secret()
        .secret_id("restored")
        .recovery_window_in_days(7)
        .send()
        .await
        .expect("delete");
    client
        .delete_secret()
        .secret_id("later")
        .recovery_window_in_days(30)
        .send()
        .await
        .expect("delete");
    client
        .restore_secret()
        .secret_id("restored")
        .send()
        .await
        .expect("restore");

    server.advance_days(6);
    assert_eq!(
        server.service.purge_due().await.expect("purge"),
        0,
        "nothing is due yet"
    );
    server.advance_days(1);
    assert_eq!(server.service.purge_due().await.expect("purge"), 1);
    let (code, _) = error_of(client.describe_secret().secret_id("due").send().await);
    assert_eq!(code, "ResourceNotFoundException");
    // A restored secret stays, and a longer window is still running.
    common::describe(&client, "restored").await;
    common::describe(&client, "later").await;
    client
        .create_secret()
        .name("due")
        .send()
        .await
        .expect("the purged name is free");
}

#[tokio::test]
async fn the_purge_job_runs_in_the_background() {
    let server = TestServer::start().await;
    let client = server.client();
    common::create(&client, "s", "v").await;
    client
        .delete_secret()
        .secret_id("s")
        .recovery_window_in_days(7)
        .send()
        .await
        .expect("delete");
    server.advance_days(8);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let job = coffer::jobs::spawn(
        Arc::clone(&server.service),
        Duration::from_millis(20),
        stopped,
    );
    let mut purged = false;
    for _ in 0..250 {
        if client
            .describe_secret()
            .secret_id("s")
            .send()
            .await
            .is_err()
        {
            purged = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(purged, "the job purged the secret within 5 s");
    stop.send(true).expect("stop the job");
    tokio::time::timeout(Duration::from_secs(5), job)
        .await
        .expect("the job stops")
        .expect("no panic");
}
