//! Secret values never reach the logs, even at the most verbose level and on error paths.

mod common;

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::primitives::Blob;
use common::process::CofferProcess;

fn client(endpoint: &str) -> Client {
    common::sdk_client(endpoint, "us-east-1")
}

#[tokio::test]
async fn logs_never_contain_secret_values() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let log = dir.path().join("coffer.log");
    let server = CofferProcess::serve_logging_to(
        &[
            "--data-dir",
            dir.path().join("data").to_str().expect("path"),
        ],
        "trace",
        &log,
    );
    let sm = client(&server.endpoint);
    let values = [
        "distinctive-create-7f3a9",
        "distinctive-update-1c2d8",
        "distinctive-put-55e0b",
    ];
    let binary = b"distinctive-binary-0ddba11".to_vec();

    sm.create_secret()
        .name("leaky")
        .secret_string(values[0])
        .send()
        .await
        .expect("create");
    sm.update_secret()
        .secret_id("leaky")
        .secret_string(values[1])
        .send()
        .await
        .expect("update");
    sm.put_secret_value()
        .secret_id("leaky")
        .secret_string(values[2])
        .send()
        .await
        .expect("put");
    sm.put_secret_value()
        .secret_id("leaky")
        .secret_binary(Blob::new(binary.clone()))
        .send()
        .await
        .expect("put binary");
    for stage in ["AWSCURRENT", "AWSPREVIOUS"] {
        sm.get_secret_value()
            .secret_id("leaky")
            .version_stage(stage)
            .send()
            .await
            .expect("get");
    }
    // Error paths that carry a value: a conflicting retry, both kinds at once, a missing secret.
    let token = uuid::Uuid::new_v4().to_string();
    sm.put_secret_value()
        .secret_id("leaky")
        .secret_string(values[0])
        .client_request_token(&token)
        .send()
        .await
        .expect("put");
    assert!(
        sm.put_secret_value()
            .secret_id("leaky")
            .secret_string(values[1])
            .client_request_token(&token)
            .send()
            .await
            .is_err()
    );
    assert!(
        sm.update_secret()
            .secret_id("leaky")
            .secret_string(values[2])
            .secret_binary(Blob::new(binary.clone()))
            .send()
            .await
            .is_err()
    );
    assert!(
        sm.put_secret_value()
            .secret_id("missing")
            .secret_string(values[0])
            .send()
            .await
            .is_err()
    );
    server.stop_with("TERM");

    let logged = std::fs::read(&log).expect("read the log");
    assert!(!logged.is_empty(), "trace logging produced output");
    let text = String::from_utf8_lossy(&logged);
    for value in values {
        assert!(!text.contains(value), "the log contains {value}");
    }
    assert!(
        !text.contains("distinctive-binary"),
        "the log contains the binary value"
    );
    let base64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &binary);
    assert!(
        !text.contains(&base64[..20]),
        "the log contains the base64 of the binary value"
    );
}
