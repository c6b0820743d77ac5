//! The audit trail end to end: one event per call through the SDK (reads, failures,
//! authentication failures included), their CloudTrail shape, `coffer audit` on a data
//! directory, and proof that no secret value reaches the trail.

mod common;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_secretsmanager::primitives::Blob as SmBlob;
use base64::Engine;
use coffer::audit::{AuditQuery, StoredAuditEvent};
use coffer::auth::credentials::StaticCredentials;
use coffer::crypto::SecretString;
use coffer::store::sqlite::SqliteStore;
use common::{ACCOUNT_ID, REGION, TEST_ACCESS_KEY_ID, TestServer, error_of};
use serde_json::Value;

fn kms_client(server: &TestServer) -> aws_sdk_kms::Client {
    use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region, retry::RetryConfig};
    let config = aws_sdk_kms::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(&server.endpoint)
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(
            TEST_ACCESS_KEY_ID,
            "not-checked",
            None,
            None,
            "tests",
        ))
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_kms::Client::from_conf(config)
}

async fn trail(server: &TestServer) -> Vec<StoredAuditEvent> {
    server.service.flush_audit().await.expect("flush");
    server
        .service
        .audit_events(&AuditQuery {
            limit: 10_000,
            ..AuditQuery::default()
        })
        .await
        .expect("query")
}

fn json(event: &StoredAuditEvent) -> Value {
    serde_json::from_str(&event.event.json).expect("event JSON")
}

/// Secret values the scan looks for, and the values the server returned.
struct Distinctive(Vec<String>);

impl Distinctive {
    fn assert_absent_from(&self, text: &str, what: &str) {
        for value in &self.0 {
            assert!(!value.is_empty());
            assert!(!text.contains(value.as_str()), "{what} contains {value:?}");
        }
    }
}

/// Runs one call of every kind that carries a secret value; returns what must never be logged.
async fn calls_with_secret_values(server: &TestServer) -> Distinctive {
    let client = server.client();
    let kms = kms_client(server);
    let mut values = vec![
        "AUDIT-SCAN-create-7f3a9c".to_owned(),
        "AUDIT-SCAN-update-1b2d4e".to_owned(),
        "AUDIT-SCAN-put-9e8d7c".to_owned(),
        "AUDIT-SCAN-binary-5a5a5a".to_owned(),
        "AUDIT-SCAN-plaintext-4c4c4c".to_owned(),
    ];
    let created = client
        .create_secret()
        .name("audit/db")
        .secret_string(&values[0])
        .send()
        .await
        .expect("CreateSecret");
    client
        .update_secret()
        .secret_id("audit/db")
        .secret_string(&values[1])
        .send()
        .await
        .expect("UpdateSecret");
    client
        .put_secret_value()
        .secret_id(created.arn().expect("arn"))
        .secret_string(&values[2])
        .send()
        .await
        .expect("PutSecretValue");
    client
        .create_secret()
        .name("audit/bin")
        .secret_binary(SmBlob::new(values[3].as_bytes()))
        .send()
        .await
        .expect("CreateSecret binary");
    client
        .get_secret_value()
        .secret_id("audit/db")
        .send()
        .await
        .expect("GetSecretValue");
    client
        .batch_get_secret_value()
        .secret_id_list("audit/db")
        .secret_id_list("audit/bin")
        .send()
        .await
        .expect("BatchGetSecretValue");
    let password = client
        .get_random_password()
        .password_length(40)
        .send()
        .await
        .expect("GetRandomPassword");
    values.push(password.random_password().expect("password").to_owned());
    let key = kms.create_key().send().await.expect("CreateKey");
    let key_id = key.key_metadata().expect("metadata").key_id().to_owned();
    let encrypted = kms
        .encrypt()
        .key_id(&key_id)
        .plaintext(Blob::new(values[4].as_bytes()))
        .send()
        .await
        .expect("Encrypt");
    let ciphertext = encrypted
        .ciphertext_blob()
        .expect("ciphertext")
        .as_ref()
        .to_vec();
    let data_key = kms
        .generate_data_key()
        .key_id(&key_id)
        .number_of_bytes(32)
        .send()
        .await
        .expect("GenerateDataKey");
    let engine = base64::engine::general_purpose::STANDARD;
    values.push(engine.encode(values[3].as_bytes()));
    values.push(engine.encode(values[4].as_bytes()));
    values.push(engine.encode(&ciphertext));
    values.push(engine.encode(data_key.plaintext().expect("plaintext").as_ref()));
    values.push(engine.encode(data_key.ciphertext_blob().expect("blob").as_ref()));
    Distinctive(values)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_has_one_event_of_cloudtrail_shape() {
    let server = TestServer::start().await;
    let client = server.client();
    let before = trail(&server).await.len();
    assert_eq!(before, 0);
    let created = client
        .create_secret()
        .name("app/db")
        .secret_string("first")
        .send()
        .await
        .expect("CreateSecret");
    client
        .get_secret_value()
        .secret_id("app/db")
        .send()
        .await
        .expect("GetSecretValue");
    let (code, _) = error_of(
        client
            .describe_secret()
            .secret_id("app/missing")
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
    let (code, _) = error_of(
        client
            .create_secret()
            .name("app/db")
            .secret_string("again")
            .send()
            .await,
    );
    assert_eq!(code, "ResourceExistsException");

    let events = trail(&server).await;
    let names: Vec<&str> = events.iter().map(|e| e.event.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "CreateSecret",
            "GetSecretValue",
            "DescribeSecret",
            "CreateSecret"
        ]
    );
    let create = json(&events[0]);
    for field in [
        "eventVersion",
        "eventTime",
        "eventSource",
        "eventName",
        "awsRegion",
        "sourceIPAddress",
        "userAgent",
        "userIdentity",
        "requestParameters",
        "responseElements",
        "requestID",
        "eventID",
        "readOnly",
        "eventType",
        "recipientAccountId",
    ] {
        assert!(create.get(field).is_some(), "{field} in {create}");
    }
    assert_eq!(create["eventSource"], "secretsmanager.amazonaws.com");
    assert_eq!(create["awsRegion"], REGION);
    assert_eq!(create["sourceIPAddress"], "127.0.0.1");
    assert_eq!(create["eventType"], "AwsApiCall");
    assert_eq!(create["readOnly"], false);
    assert_eq!(create["recipientAccountId"], ACCOUNT_ID);
    assert_eq!(create["userIdentity"]["type"], "Root");
    assert_eq!(create["userIdentity"]["accessKeyId"], TEST_ACCESS_KEY_ID);
    assert_eq!(
        create["userIdentity"]["arn"],
        format!("arn:aws:iam::{ACCOUNT_ID}:root")
    );
    assert_eq!(create["requestParameters"]["name"], "app/db");
    assert_eq!(
        create["requestParameters"]["secretString"],
        "HIDDEN_DUE_TO_SECURITY_REASONS"
    );
    assert_eq!(
        create["responseElements"]["arn"],
        created.arn().expect("arn")
    );
    assert_eq!(
        create["responseElements"]["versionId"],
        created.version_id().expect("version")
    );
    assert!(create.get("errorCode").is_none());
    assert_eq!(
        events[0].event.resource_arn.as_deref(),
        created.arn(),
        "the change's resource"
    );

    let read = json(&events[1]);
    assert_eq!(read["readOnly"], true);
    assert_eq!(read["responseElements"], Value::Null);
    assert_eq!(events[1].event.resource_arn.as_deref(), created.arn());

    let missing = json(&events[2]);
    assert_eq!(missing["errorCode"], "ResourceNotFoundException");
    assert!(missing["errorMessage"].is_string());
    assert_eq!(
        events[2].event.resource_name.as_deref(),
        Some("app/missing")
    );
    let exists = json(&events[3]);
    assert_eq!(exists["errorCode"], "ResourceExistsException");
    assert_eq!(exists["responseElements"], Value::Null);
    // requestID is the x-amzn-RequestId the server sent: unique per call.
    let mut ids: Vec<String> = events
        .iter()
        .map(|e| json(e)["requestID"].as_str().expect("id").to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), events.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_id_is_the_one_sent() {
    let server = TestServer::start().await;
    let response = server
        .client()
        .list_secrets()
        .send()
        .await
        .expect("ListSecrets");
    use aws_sdk_secretsmanager::operation::RequestId;
    let sent = response.request_id().expect("request id").to_owned();
    let events = trail(&server).await;
    assert_eq!(events.len(), 1);
    assert_eq!(json(&events[0])["requestID"], sent.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_failures_and_unknown_operations_are_recorded() {
    let secret = SecretString::new("the-right-secret".to_owned());
    let server = TestServer::start_verifying(StaticCredentials::root_keys(
        ACCOUNT_ID,
        [("AKIAAUDITKEY", &secret)],
    ))
    .await;
    let wrong = common::sdk_client_with(&server.endpoint, "AKIAAUDITKEY", "a-wrong-secret");
    let (code, _) = error_of(wrong.list_secrets().send().await);
    let right = common::sdk_client_with(&server.endpoint, "AKIAAUDITKEY", "the-right-secret");
    right.list_secrets().send().await.expect("ListSecrets");
    let unknown = reqwest_like_post(&server.endpoint, "secretsmanager.NoSuchOperation").await;
    assert_eq!(unknown, 400);
    let events = trail(&server).await;
    assert_eq!(events.len(), 3, "{events:?}");
    let denied = json(&events[0]);
    assert_eq!(denied["errorCode"], code.as_str());
    assert_eq!(denied["userIdentity"]["accessKeyId"], "AKIAAUDITKEY");
    assert_eq!(denied["userIdentity"]["type"], "Unknown");
    assert!(!events[0].event.json.contains("a-wrong-secret"));
    let allowed = json(&events[1]);
    assert_eq!(allowed["userIdentity"]["type"], "Root");
    assert!(allowed.get("errorCode").is_none());
    let unknown = json(&events[2]);
    assert_eq!(unknown["eventName"], "NoSuchOperation");
    assert_eq!(unknown["errorCode"], "UnknownOperationException");
}

/// A bare unsigned POST (status code only).
async fn reqwest_like_post(endpoint: &str, target: &str) -> u16 {
    use http_body_util::{BodyExt, Full};
    use hyper_util::rt::TokioIo;
    let address = endpoint.trim_start_matches("http://");
    let stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    let request = hyper::Request::post("/")
        .header("host", address)
        .header("x-amz-target", target)
        .header("content-type", "application/x-amz-json-1.1")
        .body(Full::new(bytes::Bytes::from_static(b"{}")))
        .expect("request");
    let response = sender.send_request(request).await.expect("send");
    let status = response.status().as_u16();
    let _ = response.into_body().collect().await;
    status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_value_reaches_the_trail() {
    let server = TestServer::start().await;
    let distinctive = calls_with_secret_values(&server).await;
    let events = trail(&server).await;
    // One event per call. (Events of calls that changed nothing are committed a moment after
    // the call, so on this test's frozen clock their order among the others is not the
    // calls' order.)
    let mut names: Vec<&str> = events.iter().map(|e| e.event.name.as_str()).collect();
    names.sort_unstable();
    let mut expected = [
        "CreateSecret",
        "UpdateSecret",
        "PutSecretValue",
        "CreateSecret",
        "GetSecretValue",
        "BatchGetSecretValue",
        "GetRandomPassword",
        "CreateKey",
        "Encrypt",
        "GenerateDataKey",
    ];
    expected.sort_unstable();
    assert_eq!(names, expected);
    for event in &events {
        distinctive.assert_absent_from(&format!("{:?}", event.event), &event.event.name);
    }
    let kms = events
        .iter()
        .map(json)
        .find(|event| event["eventName"] == "Encrypt")
        .expect("the Encrypt event");
    assert_eq!(kms["eventSource"], "kms.amazonaws.com");
    assert_eq!(kms["readOnly"], true);
    assert_eq!(
        kms["requestParameters"]["plaintext"],
        "HIDDEN_DUE_TO_SECURITY_REASONS"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coffer_audit_filters_and_exports_a_data_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("coffer.db")).expect("store");
    let server = TestServer::start_with(Arc::new(store)).await;
    let distinctive = calls_with_secret_values(&server).await;
    let (code, _) = error_of(
        server
            .client()
            .get_secret_value()
            .secret_id("audit/none")
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
    let arn = trail(&server).await[0]
        .event
        .resource_arn
        .clone()
        .expect("arn");
    drop(server);
    tokio::time::sleep(Duration::from_millis(200)).await;

    let audit = |args: &[&str]| -> String {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_coffer"))
            .arg("audit")
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .env_remove("COFFER_DATABASE_URL")
            .output()
            .expect("coffer audit");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("UTF-8")
    };
    let lines = |text: &str| -> Vec<Value> {
        text.lines()
            .map(|line| serde_json::from_str(line).expect("a JSON line"))
            .collect()
    };
    let all = audit(&["--json"]);
    distinctive.assert_absent_from(&all, "coffer audit --json");
    assert_eq!(lines(&all).len(), 11);
    let names = |text: &str| -> Vec<String> {
        lines(text)
            .iter()
            .map(|event| event["eventName"].as_str().expect("name").to_owned())
            .collect()
    };
    assert_eq!(
        names(&audit(&["--json", "--event", "CreateSecret"])),
        ["CreateSecret", "CreateSecret"]
    );
    let by_name = names(&audit(&["--json", "--secret", "audit/db"]));
    assert_eq!(
        by_name,
        [
            "CreateSecret",
            "UpdateSecret",
            "PutSecretValue",
            "GetSecretValue"
        ]
    );
    assert_eq!(names(&audit(&["--json", "--secret", &arn])), by_name);
    assert_eq!(
        names(&audit(&["--json", "--error", "ResourceNotFoundException"])),
        ["GetSecretValue"]
    );
    assert_eq!(lines(&audit(&["--json", "--user", "root"])).len(), 11);
    assert_eq!(
        lines(&audit(&[
            "--json",
            "--user",
            &format!("arn:aws:iam::{ACCOUNT_ID}:root")
        ]))
        .len(),
        11
    );
    assert!(audit(&["--json", "--user", "nobody"]).is_empty());
    assert_eq!(lines(&audit(&["--json", "--limit", "3"])).len(), 3);
    assert!(audit(&["--json", "--until", "2000-01-01"]).is_empty());
    assert_eq!(
        lines(&audit(&["--json", "--since", "2000-01-01"])).len(),
        11
    );
    let export = dir.path().join("export.jsonl");
    audit(&["--json", "--output", export.to_str().expect("path")]);
    let exported = std::fs::read_to_string(&export).expect("export");
    assert_eq!(exported, all);
    let table = audit(&[]);
    assert!(table.starts_with("TIME"), "{table}");
    assert_eq!(table.lines().count(), 12);
    assert!(table.contains("ResourceNotFoundException"));
    distinctive.assert_absent_from(&table, "coffer audit");

    // The table itself, scanned: no value is stored anywhere in audit_events.
    let rows = stored_rows(&dir.path().join("coffer.db")).await;
    distinctive.assert_absent_from(&rows, "the audit_events table");
}

/// Every column of every stored event, read back through the store.
async fn stored_rows(path: &std::path::Path) -> String {
    use coffer::store::Store;
    let store = SqliteStore::open(path).expect("store");
    let events = store
        .query_audit(&AuditQuery {
            limit: 10_000,
            ..AuditQuery::default()
        })
        .await
        .expect("query");
    assert_eq!(events.len(), 11);
    format!("{events:?}")
}
