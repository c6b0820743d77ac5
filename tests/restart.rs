//! The real binary on a data directory: what was acknowledged survives a restart, a graceful
//! stop and a crash (SIGKILL).

mod common;

use aws_sdk_secretsmanager::Client;
use common::process::CofferProcess;

fn client(endpoint: &str) -> Client {
    common::sdk_client(endpoint, "us-east-1")
}

#[tokio::test]
async fn secrets_survive_a_graceful_restart() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = CofferProcess::serve_data_dir(dir.path());
    let sm = client(&server.endpoint);
    let arn = common::create(&sm, "kept", "v1").await.arn.expect("ARN");
    sm.update_secret()
        .secret_id("kept")
        .secret_string("v2")
        .send()
        .await
        .expect("update");
    common::create(&sm, "to-delete", "x").await;
    sm.delete_secret()
        .secret_id("to-delete")
        .recovery_window_in_days(7)
        .send()
        .await
        .expect("delete");
    let status = server.stop_with("TERM");
    assert!(status.success(), "a graceful stop exits 0, got {status}");

    let server = CofferProcess::serve_data_dir(dir.path());
    let sm = client(&server.endpoint);
    let current = common::get(&sm, &arn).await;
    assert_eq!(current.secret_string(), Some("v2"));
    let previous = sm
        .get_secret_value()
        .secret_id("kept")
        .version_stage("AWSPREVIOUS")
        .send()
        .await;
    assert_eq!(previous.expect("previous").secret_string(), Some("v1"));
    let deleted = common::describe(&sm, "to-delete").await;
    assert!(
        deleted.deleted_date().is_some(),
        "the pending deletion survived"
    );
}

#[tokio::test]
async fn acknowledged_writes_survive_a_crash() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = CofferProcess::serve_data_dir(dir.path());
    let sm = client(&server.endpoint);
    let mut tasks = Vec::new();
    for n in 0..50 {
        let sm = sm.clone();
        tasks.push(tokio::spawn(async move {
            sm.create_secret()
                .name(format!("crash-{n}"))
                .secret_string(format!("value-{n}"))
                .send()
                .await
                .is_ok()
        }));
    }
    let mut acknowledged = Vec::new();
    for (n, task) in tasks.into_iter().enumerate() {
        if task.await.expect("no panic") {
            acknowledged.push(n);
        }
    }
    assert_eq!(acknowledged.len(), 50);
    server.stop_with("KILL");

    let server = CofferProcess::serve_data_dir(dir.path());
    let sm = client(&server.endpoint);
    for n in acknowledged {
        let got = sm
            .get_secret_value()
            .secret_id(format!("crash-{n}"))
            .send()
            .await
            .expect("read back");
        assert_eq!(got.secret_string(), Some(format!("value-{n}").as_str()));
    }
}

#[test]
fn the_data_directory_is_private() {
    let parent = tempfile::tempdir().expect("temporary directory");
    let dir = parent.path().join("data");
    let server = CofferProcess::serve_data_dir(&dir);
    drop(server);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&dir)
            .expect("data dir")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "data directory mode {mode:o}");
    }
    assert!(dir.join("coffer.db").exists());
}
