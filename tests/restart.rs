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
    // A read's day waits up to a second for its commit; a graceful stop writes it.
    common::get(&sm, "kept").await;
    let status = server.stop_with("TERM");
    assert!(status.success(), "a graceful stop exits 0, got {status}");

    let server = CofferProcess::serve_data_dir(dir.path());
    let sm = client(&server.endpoint);
    let read = common::describe(&sm, "kept").await;
    assert!(
        read.last_accessed_date().is_some(),
        "the day of the read just before the stop survived"
    );
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

/// The embedded store counts on being the only writer of its file (it keeps what it read in
/// memory), so a second server on the same data directory is refused with a clear message,
/// and starts once the first has stopped, however it stopped.
#[tokio::test]
async fn a_second_server_on_the_same_data_directory_is_refused() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().to_str().expect("UTF-8 path");
    let first = CofferProcess::serve_data_dir(dir.path());
    let second = std::process::Command::new(env!("CARGO_BIN_EXE_coffer"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", path])
        .env_remove("COFFER_ROOT_KEY")
        .output()
        .expect("run a second server");
    assert!(!second.status.success(), "the second server must not start");
    let message = String::from_utf8_lossy(&second.stderr);
    assert!(
        message.contains("is in use by another coffer server"),
        "unexpected message: {message}"
    );
    // The first still serves.
    let sm = client(&first.endpoint);
    common::create(&sm, "still-served", "v1").await;
    first.stop_with("KILL");

    let again = CofferProcess::serve_data_dir(dir.path());
    let sm = client(&again.endpoint);
    let value = common::get(&sm, "still-served").await;
    assert_eq!(value.secret_string(), Some("v1"));
}
