//! Signature verification end to end: the official SDKs against a server that verifies
//! (not in development mode), and raw signed requests replayed or tampered with.

mod common;

use std::time::Duration;

use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region, retry::RetryConfig};
use coffer::auth::credentials::StaticCredentials;
use coffer::auth::sigv4;
use coffer::crypto::SecretString;
use common::{ACCOUNT_ID, REGION, TestServer, error_of};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const KEY_ID: &str = "AKIDVERIFYTEST";
const SECRET: &str = "verify-test-secret-access-key";
const SIGNATURE_MISMATCH: &str = "The request signature we calculated does not match the \
     signature you provided. Check your AWS Secret Access Key and signing method. Consult the \
     service documentation for details.";

async fn verifying_server() -> TestServer {
    let secret = SecretString::new(SECRET.to_owned());
    TestServer::start_verifying(StaticCredentials::root_keys(
        ACCOUNT_ID,
        [(KEY_ID, &secret)],
    ))
    .await
}

fn secrets_client(
    server: &TestServer,
    key_id: &str,
    secret: &str,
) -> aws_sdk_secretsmanager::Client {
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(&server.endpoint)
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(key_id, secret, None, None, "tests"))
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}

fn kms_client(server: &TestServer, key_id: &str, secret: &str) -> aws_sdk_kms::Client {
    let config = aws_sdk_kms::Config::builder()
        .behavior_version(aws_sdk_kms::config::BehaviorVersion::latest())
        .endpoint_url(&server.endpoint)
        .region(aws_sdk_kms::config::Region::new(REGION))
        .credentials_provider(aws_sdk_kms::config::Credentials::new(
            key_id, secret, None, None, "tests",
        ))
        .retry_config(aws_sdk_kms::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_kms::Client::from_conf(config)
}

#[tokio::test]
async fn the_right_credentials_work_for_both_apis() {
    let server = verifying_server().await;
    let secrets = secrets_client(&server, KEY_ID, SECRET);
    common::create(&secrets, "verified", "value").await;
    assert_eq!(
        common::get(&secrets, "verified").await.secret_string(),
        Some("value")
    );
    let kms = kms_client(&server, KEY_ID, SECRET);
    let key = kms.create_key().send().await.expect("CreateKey");
    let key_id = key
        .key_metadata()
        .map(|m| m.key_id().to_owned())
        .expect("key id");
    let encrypted = kms
        .encrypt()
        .key_id(&key_id)
        .plaintext(aws_sdk_kms::primitives::Blob::new(b"hello".to_vec()))
        .send()
        .await
        .expect("Encrypt");
    assert!(encrypted.ciphertext_blob().is_some());
}

#[tokio::test]
async fn a_wrong_secret_or_an_unknown_key_is_refused() {
    let server = verifying_server().await;
    let wrong = secrets_client(&server, KEY_ID, "not-the-secret");
    assert_eq!(
        error_of(wrong.list_secrets().send().await),
        (
            "InvalidSignatureException".into(),
            SIGNATURE_MISMATCH.into()
        )
    );
    let unknown = secrets_client(&server, "AKIDUNKNOWN", SECRET);
    assert_eq!(
        error_of(unknown.list_secrets().send().await),
        (
            "UnrecognizedClientException".into(),
            "The security token included in the request is invalid.".into()
        )
    );
    let kms = kms_client(&server, KEY_ID, "not-the-secret");
    let error = kms.list_keys().send().await.expect_err("refused");
    assert_eq!(
        aws_sdk_kms::error::ProvideErrorMetadata::code(&error),
        Some("InvalidSignatureException")
    );
}

/// A `ListSecrets` request signed now (by the server's clock) with the project's signer, as
/// raw HTTP/1.1 bytes, with `body` sent in place of the signed body when given.
fn signed_bytes(server: &TestServer, signed_body: &[u8], sent_body: Option<&[u8]>) -> Vec<u8> {
    let host = server.endpoint.trim_start_matches("http://").to_owned();
    let headers = [
        ("host", host.as_str()),
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amz-target", "secretsmanager.ListSecrets"),
    ];
    let credentials = sigv4::Credentials::new(KEY_ID, SECRET, None);
    let amz_date = sigv4::amz_date(server.now());
    let signature = sigv4::sign_request(
        &sigv4::Request {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            payload: signed_body,
        },
        &sigv4::SigningParams {
            credentials: &credentials,
            region: REGION,
            service: "secretsmanager",
            amz_date: &amz_date,
            cached_key: None,
        },
    );
    let body = sent_body.unwrap_or(signed_body);
    let mut bytes = String::from("POST / HTTP/1.1\r\n");
    for (name, value) in headers {
        bytes.push_str(&format!("{name}: {value}\r\n"));
    }
    bytes.push_str(&format!(
        "x-amz-date: {}\r\nauthorization: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        signature.amz_date,
        signature.authorization,
        body.len()
    ));
    let mut bytes = bytes.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Sends raw bytes; returns the status and the JSON body of the answer.
async fn send_raw(server: &TestServer, bytes: &[u8]) -> (u16, serde_json::Value) {
    let address = server.endpoint.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    stream.write_all(bytes).await.expect("send");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("read");
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, body)| body)
        .unwrap_or("");
    (
        status,
        serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
    )
}

#[tokio::test]
async fn a_request_replayed_twenty_minutes_later_is_refused() {
    let server = verifying_server().await;
    let bytes = signed_bytes(&server, b"{}", None);
    let (status, body) = send_raw(&server, &bytes).await;
    assert_eq!(status, 200, "{body}");
    server.clock.advance(Duration::from_secs(20 * 60));
    let (status, body) = send_raw(&server, &bytes).await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "InvalidSignatureException");
    let message = body["message"].as_str().expect("a message");
    assert!(
        message.starts_with("Signature expired: ") && message.ends_with(" - 15 min.)"),
        "{message}"
    );
}

#[tokio::test]
async fn a_tampered_body_or_no_signature_is_refused() {
    let server = verifying_server().await;
    let bytes = signed_bytes(
        &server,
        br#"{"MaxResults":10}"#,
        Some(br#"{"MaxResults":11}"#),
    );
    let (status, body) = send_raw(&server, &bytes).await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "InvalidSignatureException");
    assert_eq!(body["message"], SIGNATURE_MISMATCH);

    let unsigned = b"POST / HTTP/1.1\r\nhost: coffer\r\ncontent-type: application/x-amz-json-1.1\r\n\
        x-amz-target: secretsmanager.ListSecrets\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}";
    let (status, body) = send_raw(&server, unsigned).await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "MissingAuthenticationTokenException");
    assert_eq!(body["message"], "Missing Authentication Token");
}
