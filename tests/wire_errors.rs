//! The protocol as raw requests see it: targets, content types, bodies, headers, statuses.
//! These drive the HTTP application directly (no socket), as a client that is not an SDK would.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

use coffer::clock::ManualClock;
use coffer::server::{AppState, app};
use coffer::service::Service;
use coffer::store::sqlite::SqliteStore;

const AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261127/us-east-1/secretsmanager/aws4_request, \
     SignedHeaders=content-type;host;x-amz-date;x-amz-target, \
     Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
const JSON: &str = "application/x-amz-json-1.1";
const TOKEN: &str = "00000000-0000-4000-8000-000000000001";

fn router() -> axum::Router {
    let store = SqliteStore::in_memory().expect("store");
    let service = Service::new(
        Arc::new(store),
        ManualClock::starting_now(),
        coffer::crypto::keys::RootKey::generate().expect("root key"),
    );
    app(AppState {
        service: Arc::new(service),
        account_id: "123456789012".into(),
        authenticator: Arc::new(coffer::auth::Authenticator::dev(
            "123456789012",
            ManualClock::starting_now(),
        )),
    })
}

struct Answer {
    status: StatusCode,
    error_type: Option<String>,
    request_id: Option<String>,
    content_type: Option<String>,
    body: serde_json::Value,
}

async fn send(router: &axum::Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.expect("infallible");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let error_type = header("x-amzn-errortype");
    let request_id = header("x-amzn-requestid");
    let content_type = header("content-type");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    Answer {
        status,
        error_type,
        request_id,
        content_type,
        body,
    }
}

fn request(target: Option<&str>, content_type: Option<&str>, body: &str) -> Request<Body> {
    let mut builder = Request::post("/")
        .header("authorization", AUTHORIZATION)
        .header("x-amz-date", "20261127T120000Z");
    if let Some(target) = target {
        builder = builder.header("x-amz-target", target);
    }
    if let Some(content_type) = content_type {
        builder = builder.header("content-type", content_type);
    }
    builder.body(Body::from(body.to_owned())).expect("request")
}

fn call(operation: &str, body: &str) -> Request<Body> {
    request(
        Some(&format!("secretsmanager.{operation}")),
        Some(JSON),
        body,
    )
}

fn assert_error(answer: &Answer, status: StatusCode, code: &str) {
    assert_eq!(answer.status, status, "{:?}", answer.body);
    assert_eq!(answer.error_type.as_deref(), Some(code));
    assert_eq!(answer.body["__type"], code);
    assert!(
        answer
            .request_id
            .as_deref()
            .is_some_and(|id| id.len() == 36)
    );
    assert_eq!(answer.content_type.as_deref(), Some(JSON));
}

fn message(answer: &Answer) -> String {
    let message = answer
        .body
        .get("Message")
        .or_else(|| answer.body.get("message"));
    message
        .and_then(|m| m.as_str())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_successful_call_answers_json_with_a_request_id() {
    let router = router();
    let body = format!(r#"{{"Name":"raw","SecretString":"v","ClientRequestToken":"{TOKEN}"}}"#);
    let answer = send(&router, call("CreateSecret", &body)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.content_type.as_deref(), Some(JSON));
    assert!(answer.request_id.is_some());
    assert!(answer.error_type.is_none());
    assert_eq!(answer.body["Name"], "raw");
    assert_eq!(answer.body["VersionId"], TOKEN);

    let answer = send(&router, call("GetSecretValue", r#"{"SecretId":"raw"}"#)).await;
    assert_eq!(answer.body["SecretString"], "v");
    assert!(
        answer.body["CreatedDate"].is_f64(),
        "timestamps are epoch seconds: {:?}",
        answer.body
    );
    // A charset parameter on the content type is fine.
    let answer = send(
        &router,
        request(
            Some("secretsmanager.DescribeSecret"),
            Some("application/x-amz-json-1.1; charset=utf-8"),
            r#"{"SecretId":"raw"}"#,
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
}

#[tokio::test]
async fn unknown_targets_are_unknown_operations() {
    let router = router();
    for target in [
        None,
        Some("secretsmanager.DropEverything"),
        Some("kms.GetSecretValue"),
        Some("GetSecretValue"),
    ] {
        let answer = send(&router, request(target, Some(JSON), "{}")).await;
        assert_error(
            &answer,
            StatusCode::BAD_REQUEST,
            "UnknownOperationException",
        );
    }
    let get = Request::get("/")
        .header("authorization", AUTHORIZATION)
        .body(Body::empty())
        .expect("request");
    assert_error(
        &send(&router, get).await,
        StatusCode::BAD_REQUEST,
        "UnknownOperationException",
    );
}

#[tokio::test]
async fn a_wrong_content_type_is_refused() {
    let router = router();
    for content_type in [None, Some("application/json"), Some("text/plain")] {
        let answer = send(
            &router,
            request(
                Some("secretsmanager.DescribeSecret"),
                content_type,
                r#"{"SecretId":"x"}"#,
            ),
        )
        .await;
        assert_error(
            &answer,
            StatusCode::BAD_REQUEST,
            "UnknownOperationException",
        );
        assert!(message(&answer).contains(JSON), "{:?}", answer.body);
    }
}

#[tokio::test]
async fn malformed_bodies_are_serialization_errors() {
    let router = router();
    for body in [
        "{",
        "not json",
        "[]",
        r#"{"SecretId": 42}"#,
        r#"{"SecretId":"x","IncludeDeprecated":"yes"}"#,
        r#"{"SecretId":"x"} {}"#,
    ] {
        let answer = send(&router, call("ListSecretVersionIds", body)).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "SerializationException");
    }
    let answer = send(&router, call("ListSecretVersionIds", r#"{"SecretId": 42}"#)).await;
    assert!(
        message(&answer).contains("SecretId"),
        "the field is named: {:?}",
        answer.body
    );
    let answer = send(&router, call("CreateSecret", r#"{"Name":"b","SecretBinary":"***","ClientRequestToken":"00000000-0000-4000-8000-000000000002"}"#)).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "SerializationException");
}

#[tokio::test]
async fn a_wrongly_typed_secret_is_not_echoed() {
    let router = router();
    let answer = send(
        &router,
        call(
            "CreateSecret",
            r#"{"Name":"n","SecretString":987654321123}"#,
        ),
    )
    .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "SerializationException");
    assert!(
        !answer.body.to_string().contains("987654321123"),
        "{:?}",
        answer.body
    );
}

#[tokio::test]
async fn missing_fields_are_validation_errors_naming_them() {
    let router = router();
    let answer = send(&router, call("GetSecretValue", "{}")).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "ValidationException");
    assert_eq!(
        message(&answer),
        "1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null"
    );
    let answer = send(&router, call("CreateSecret", "")).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "ValidationException");
    assert!(message(&answer).contains("'name'"));
    let answer = send(
        &router,
        call("UpdateSecretVersionStage", r#"{"SecretId":"s"}"#),
    )
    .await;
    assert!(
        message(&answer).contains("'versionStage'"),
        "{:?}",
        answer.body
    );
}

#[tokio::test]
async fn a_value_without_a_token_is_refused() {
    let router = router();
    let expected = "You must provide a ClientRequestToken value. We recommend a UUID-type value.";
    let answer = send(
        &router,
        call("CreateSecret", r#"{"Name":"n","SecretString":"v"}"#),
    )
    .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "InvalidRequestException");
    assert_eq!(answer.body["Message"], expected);
    // Checked before the secret is looked up, as AWS does.
    for operation in ["UpdateSecret", "PutSecretValue"] {
        let answer = send(
            &router,
            call(operation, r#"{"SecretId":"missing","SecretString":"v"}"#),
        )
        .await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "InvalidRequestException");
    }
    // Without a value no token is needed.
    let answer = send(&router, call("CreateSecret", r#"{"Name":"empty"}"#)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.body.get("VersionId").is_none());
}

#[tokio::test]
async fn authentication_headers_must_be_well_formed() {
    let router = router();
    let no_auth = Request::post("/")
        .header("x-amz-target", "secretsmanager.DescribeSecret")
        .header("content-type", JSON)
        .body(Body::from(r#"{"SecretId":"x"}"#))
        .expect("request");
    assert_error(
        &send(&router, no_auth).await,
        StatusCode::BAD_REQUEST,
        "MissingAuthenticationTokenException",
    );
    let bad_auth = Request::post("/")
        .header("x-amz-target", "secretsmanager.DescribeSecret")
        .header("content-type", JSON)
        .header("authorization", "AWS4-HMAC-SHA256 Credential=only")
        .body(Body::from(r#"{"SecretId":"x"}"#))
        .expect("request");
    assert_error(
        &send(&router, bad_auth).await,
        StatusCode::BAD_REQUEST,
        "IncompleteSignatureException",
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let router = router();
    let body = format!(
        r#"{{"SecretId":"x","SecretString":"{}"}}"#,
        "a".repeat(coffer::server::MAX_BODY_BYTES)
    );
    let answer = send(&router, call("PutSecretValue", &body)).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.error_type.is_some());
}

/// Whatever the body, a client mistake is a 400, never a 500 and never a dropped connection.
#[test]
fn arbitrary_bodies_never_cause_a_server_error() {
    use proptest::prelude::*;
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let router = router();
    let operations = [
        "CreateSecret",
        "UpdateSecret",
        "PutSecretValue",
        "GetSecretValue",
        "DescribeSecret",
        "ListSecretVersionIds",
        "UpdateSecretVersionStage",
        "DeleteSecret",
        "RestoreSecret",
    ];
    // Bodies built from the operations' own member names and a mix of JSON values, so that most
    // of them get past the JSON parser and reach validation and the service.
    let member = prop::sample::select(vec![
        "Name",
        "SecretId",
        "SecretString",
        "SecretBinary",
        "ClientRequestToken",
        "VersionId",
        "VersionStage",
        "VersionStages",
        "MoveToVersionId",
        "RemoveFromVersionId",
        "RecoveryWindowInDays",
        "ForceDeleteWithoutRecovery",
        "MaxResults",
        "NextToken",
        "IncludeDeprecated",
        "Description",
        "KmsKeyId",
        "Tags",
        "AddReplicaRegions",
    ]);
    let value = prop_oneof![
        Just("null".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        "[a-zA-Z0-9/_+=.@ !:-]{0,70}".prop_map(|s| format!("{s:?}")),
        Just(r#"["AWSCURRENT","x"]"#.to_owned()),
        Just(r#"[{"Key":"k","Value":"v"}]"#.to_owned()),
        Just("{}".to_owned()),
    ];
    let body = prop::collection::vec((member, value), 0..6).prop_map(|members| {
        let fields: Vec<String> = members
            .iter()
            .map(|(name, value)| format!("{name:?}:{value}"))
            .collect();
        format!("{{{}}}", fields.join(","))
    });
    let strategy = (
        prop::sample::select(operations.to_vec()),
        prop_oneof![4 => body, 1 => "\\PC{0,80}"],
    );
    let mut runner =
        proptest::test_runner::TestRunner::new(proptest::test_runner::Config::with_cases(600));
    runner
        .run(&strategy, |(operation, body)| {
            let answer = runtime.block_on(send(&router, call(operation, &body)));
            prop_assert!(
                answer.status == StatusCode::OK || answer.status == StatusCode::BAD_REQUEST,
                "{operation} {body} -> {} {:?}",
                answer.status,
                answer.body
            );
            Ok(())
        })
        .expect("no server errors");
}
