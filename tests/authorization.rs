//! Authorization end to end: IAM users signing with their own access keys, through the
//! official SDKs, against a verifying server. Identity policies, resource policies, KMS key
//! policies, conditions, and Secrets Manager's use of KMS keys.

mod common;

use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region, retry::RetryConfig};
use aws_sdk_secretsmanager::types::Tag;
use coffer::auth::credentials::{AccessKeyCredential, StaticCredentials};
use coffer::crypto::SecretString;
use coffer::policy::{self, PolicyKind};
use common::{ACCOUNT_ID, REGION, TestServer, error_of};

const ROOT_KEY: &str = "AKIDROOTAUTHZ";
const SECRET_KEY: &str = "authz-test-secret-access-key";
const ARN_PREFIX: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:";

fn user(name: &str, policies: &[String]) -> AccessKeyCredential {
    let parsed = policies
        .iter()
        .map(|document| policy::parse(document, PolicyKind::Identity).expect("identity policy"))
        .collect();
    StaticCredentials::user_key(
        ACCOUNT_ID,
        name,
        &format!("AKID{}", name.to_ascii_uppercase()),
        &SecretString::new(SECRET_KEY.to_owned()),
        parsed,
    )
}

/// An identity policy of one statement.
fn allow(action: &str, resource: &str) -> String {
    statement("Allow", action, resource, "{}")
}

fn statement(effect: &str, action: &str, resource: &str, condition: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"{effect}","Action":"{action}",
            "Resource":"{resource}","Condition":{condition}}}]}}"#
    )
}

/// A server with the root key and these users.
async fn server(users: Vec<AccessKeyCredential>) -> TestServer {
    let secret = SecretString::new(SECRET_KEY.to_owned());
    let mut credentials: Vec<AccessKeyCredential> = vec![StaticCredentials::user_key(
        ACCOUNT_ID,
        "unused",
        ROOT_KEY,
        &secret,
        vec![],
    )];
    // The root's key.
    credentials[0].identity = coffer::auth::credentials::Identity::root(ACCOUNT_ID);
    credentials.extend(users);
    TestServer::start_verifying(StaticCredentials::new(credentials)).await
}

fn secrets(server: &TestServer, key_id: &str) -> aws_sdk_secretsmanager::Client {
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(&server.endpoint)
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(key_id, SECRET_KEY, None, None, "tests"))
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}

fn kms(server: &TestServer, key_id: &str) -> aws_sdk_kms::Client {
    let config = aws_sdk_kms::Config::builder()
        .behavior_version(aws_sdk_kms::config::BehaviorVersion::latest())
        .endpoint_url(&server.endpoint)
        .region(aws_sdk_kms::config::Region::new(REGION))
        .credentials_provider(aws_sdk_kms::config::Credentials::new(
            key_id, SECRET_KEY, None, None, "tests",
        ))
        .retry_config(aws_sdk_kms::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_kms::Client::from_conf(config)
}

fn kms_error<T: std::fmt::Debug, E>(
    result: Result<T, aws_sdk_kms::error::SdkError<E>>,
) -> (String, String)
where
    E: aws_sdk_kms::error::ProvideErrorMetadata + std::fmt::Debug,
{
    use aws_sdk_kms::error::ProvideErrorMetadata;
    match result {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(error) => (
            error.code().unwrap_or_default().to_owned(),
            error.message().unwrap_or_default().to_owned(),
        ),
    }
}

async fn create(client: &aws_sdk_secretsmanager::Client, name: &str, value: &str) -> String {
    client
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .expect("create secret")
        .arn
        .expect("arn")
}

async fn read(
    client: &aws_sdk_secretsmanager::Client,
    id: &str,
) -> Result<String, (String, String)> {
    match client.get_secret_value().secret_id(id).send().await {
        Ok(output) => Ok(output.secret_string.unwrap_or_default()),
        Err(error) => Err(error_of::<(), _>(Err(error))),
    }
}

fn denied(user: &str, action: &str, resource: &str) -> (String, String) {
    (
        "AccessDeniedException".to_owned(),
        format!(
            "User: arn:aws:iam::{ACCOUNT_ID}:user/{user} is not authorized to perform: \
             {action} on resource: {resource} because no identity-based policy allows the \
             {action} action"
        ),
    )
}

#[tokio::test]
async fn a_user_without_policies_is_denied_with_aws_messages_and_root_is_not() {
    let server = server(vec![user("bob", &[])]).await;
    let root = secrets(&server, ROOT_KEY);
    let bob = secrets(&server, "AKIDBOB");
    let arn = create(&root, "app/db", "s3cr3t").await;
    assert_eq!(read(&root, "app/db").await, Ok("s3cr3t".to_owned()));

    assert_eq!(
        read(&bob, "app/db").await,
        Err(denied("bob", "secretsmanager:GetSecretValue", &arn))
    );
    // A secret that does not exist is not revealed as such.
    assert_eq!(
        read(&bob, "app/missing").await,
        Err(denied(
            "bob",
            "secretsmanager:GetSecretValue",
            &format!("{ARN_PREFIX}app/missing")
        ))
    );
    assert_eq!(
        error_of(bob.list_secrets().send().await),
        denied("bob", "secretsmanager:ListSecrets", "*")
    );
    let (code, message) = error_of(
        bob.create_secret()
            .name("bob/new")
            .secret_string("x")
            .send()
            .await,
    );
    assert_eq!(code, "AccessDeniedException");
    assert!(
        message.contains(&format!(
            "secretsmanager:CreateSecret on resource: {ARN_PREFIX}bob/new-"
        )),
        "{message}"
    );
    let (code, _) = error_of(bob.delete_secret().secret_id(&arn).send().await);
    assert_eq!(code, "AccessDeniedException");
    // The root is unaffected.
    assert_eq!(
        root.list_secrets()
            .send()
            .await
            .expect("list")
            .secret_list()
            .len(),
        1
    );
}

#[tokio::test]
async fn an_arn_pattern_allows_that_secret_only_and_an_explicit_deny_wins() {
    let server = server(vec![
        user(
            "alice",
            &[allow(
                "secretsmanager:GetSecretValue",
                &format!("{ARN_PREFIX}app/db-??????"),
            )],
        ),
        user(
            "carol",
            &[
                allow("secretsmanager:*", "*"),
                statement(
                    "Deny",
                    "secretsmanager:Get*",
                    &format!("{ARN_PREFIX}app/db-*"),
                    "{}",
                ),
            ],
        ),
    ])
    .await;
    let root = secrets(&server, ROOT_KEY);
    let db = create(&root, "app/db", "db-value").await;
    let api = create(&root, "app/api", "api-value").await;
    let alice = secrets(&server, "AKIDALICE");
    assert_eq!(read(&alice, "app/db").await, Ok("db-value".to_owned()));
    assert_eq!(read(&alice, &db).await, Ok("db-value".to_owned()));
    assert_eq!(
        read(&alice, "app/api").await,
        Err(denied("alice", "secretsmanager:GetSecretValue", &api))
    );
    // Allowed GetSecretValue only, not DescribeSecret.
    let (code, _) = error_of(alice.describe_secret().secret_id("app/db").send().await);
    assert_eq!(code, "AccessDeniedException");

    let carol = secrets(&server, "AKIDCAROL");
    assert_eq!(read(&carol, "app/api").await, Ok("api-value".to_owned()));
    assert_eq!(
        read(&carol, "app/db").await,
        Err((
            "AccessDeniedException".to_owned(),
            format!(
                "User: arn:aws:iam::{ACCOUNT_ID}:user/carol is not authorized to perform: \
                 secretsmanager:GetSecretValue on resource: {db} with an explicit deny in an \
                 identity-based policy"
            )
        ))
    );
    carol
        .describe_secret()
        .secret_id("app/db")
        .send()
        .await
        .expect("describe is not denied");
}

#[tokio::test]
async fn a_resource_policy_allows_a_user_without_identity_policies() {
    let server = server(vec![user("dave", &[]), user("erin", &[])]).await;
    let root = secrets(&server, ROOT_KEY);
    let arn = create(&root, "shared", "shared-value").await;
    let document = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow",
            "Principal":{{"AWS":"arn:aws:iam::{ACCOUNT_ID}:user/dave"}},
            "Action":"secretsmanager:GetSecretValue","Resource":"*"}}]}}"#
    );
    root.put_resource_policy()
        .secret_id("shared")
        .resource_policy(document)
        .send()
        .await
        .expect("put resource policy");
    assert_eq!(
        read(&secrets(&server, "AKIDDAVE"), "shared").await,
        Ok("shared-value".to_owned())
    );
    assert_eq!(
        read(&secrets(&server, "AKIDERIN"), "shared").await,
        Err(denied("erin", "secretsmanager:GetSecretValue", &arn))
    );
    // The root still reads it: the policy does not deny it.
    assert_eq!(read(&root, "shared").await, Ok("shared-value".to_owned()));
}

#[tokio::test]
async fn resource_tag_version_stage_and_source_ip_conditions_are_honoured() {
    let server = server(vec![
        user(
            "tagged",
            &[statement(
                "Allow",
                "secretsmanager:GetSecretValue",
                "*",
                r#"{"StringEquals":{"secretsmanager:ResourceTag/team":"core"}}"#,
            )],
        ),
        user(
            "current",
            &[statement(
                "Allow",
                "secretsmanager:GetSecretValue",
                "*",
                r#"{"StringEquals":{"secretsmanager:VersionStage":"AWSCURRENT"}}"#,
            )],
        ),
        user(
            "office",
            &[statement(
                "Allow",
                "secretsmanager:GetSecretValue",
                "*",
                r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
            )],
        ),
        user(
            "local",
            &[statement(
                "Allow",
                "secretsmanager:GetSecretValue",
                "*",
                r#"{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}"#,
            )],
        ),
    ])
    .await;
    let root = secrets(&server, ROOT_KEY);
    root.create_secret()
        .name("core")
        .secret_string("core-value")
        .tags(Tag::builder().key("team").value("core").build())
        .send()
        .await
        .expect("create");
    create(&root, "other", "other-value").await;
    root.put_secret_value()
        .secret_id("core")
        .secret_string("core-value-2")
        .send()
        .await
        .expect("put");

    let tagged = secrets(&server, "AKIDTAGGED");
    assert_eq!(read(&tagged, "core").await, Ok("core-value-2".to_owned()));
    assert_eq!(
        read(&tagged, "other").await.map_err(|e| e.0),
        Err("AccessDeniedException".to_owned())
    );

    let current = secrets(&server, "AKIDCURRENT");
    let stage = |stage: &str| {
        current
            .get_secret_value()
            .secret_id("core")
            .version_stage(stage)
            .send()
    };
    assert_eq!(
        stage("AWSCURRENT").await.expect("current").secret_string(),
        Some("core-value-2")
    );
    let (code, _) = error_of(stage("AWSPREVIOUS").await);
    assert_eq!(code, "AccessDeniedException");
    // No VersionStage in the request: the condition's key is absent, so it does not hold.
    assert!(read(&current, "core").await.is_err());

    assert!(read(&secrets(&server, "AKIDOFFICE"), "core").await.is_err());
    assert_eq!(
        read(&secrets(&server, "AKIDLOCAL"), "core").await,
        Ok("core-value-2".to_owned())
    );
}

#[tokio::test]
async fn batch_get_secret_value_reports_each_secret_the_caller_may_not_read() {
    let server = server(vec![
        user(
            "batch",
            &[
                allow("secretsmanager:BatchGetSecretValue", "*"),
                allow(
                    "secretsmanager:GetSecretValue",
                    &format!("{ARN_PREFIX}ok-*"),
                ),
            ],
        ),
        user("nobatch", &[allow("secretsmanager:GetSecretValue", "*")]),
    ])
    .await;
    let root = secrets(&server, ROOT_KEY);
    create(&root, "ok-1", "one").await;
    let hidden = create(&root, "hidden", "no").await;
    let batch = secrets(&server, "AKIDBATCH");
    let output = batch
        .batch_get_secret_value()
        .secret_id_list("ok-1")
        .secret_id_list("hidden")
        .send()
        .await
        .expect("batch");
    let values: Vec<_> = output
        .secret_values()
        .iter()
        .filter_map(|v| v.secret_string())
        .collect();
    assert_eq!(values, ["one"]);
    let errors = output.errors();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].secret_id(), Some("hidden"));
    assert_eq!(errors[0].error_code(), Some("AccessDeniedException"));
    assert_eq!(
        errors[0].message(),
        Some(
            denied("batch", "secretsmanager:GetSecretValue", &hidden)
                .1
                .as_str()
        )
    );
    // Filters also need ListSecrets.
    let (code, message) = error_of(
        batch
            .batch_get_secret_value()
            .filters(
                aws_sdk_secretsmanager::types::Filter::builder()
                    .key(aws_sdk_secretsmanager::types::FilterNameStringType::Name)
                    .values("ok")
                    .build(),
            )
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message),
        (
            "AccessDeniedException",
            denied("batch", "secretsmanager:ListSecrets", "*").1
        )
    );
    let (code, _) = error_of(
        secrets(&server, "AKIDNOBATCH")
            .batch_get_secret_value()
            .secret_id_list("ok-1")
            .send()
            .await,
    );
    assert_eq!(code, "AccessDeniedException");
}

#[tokio::test]
async fn a_key_policy_without_the_account_delegation_denies_despite_an_identity_allow() {
    let server = server(vec![user("kmsuser", &[allow("kms:*", "*")])]).await;
    let root = kms(&server, ROOT_KEY);
    let user = kms(&server, "AKIDKMSUSER");
    let default_key = root
        .create_key()
        .send()
        .await
        .expect("key")
        .key_metadata
        .expect("meta")
        .key_id;
    user.encrypt()
        .key_id(&default_key)
        .plaintext(aws_sdk_kms::primitives::Blob::new(b"x".to_vec()))
        .send()
        .await
        .expect("the default key policy delegates to IAM");

    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow",
            "Principal":{{"AWS":"arn:aws:iam::{ACCOUNT_ID}:root"}},
            "Action":"kms:DescribeKey","Resource":"*"}}]}}"#
    );
    let locked = root
        .create_key()
        .policy(policy)
        .send()
        .await
        .expect("key")
        .key_metadata
        .expect("meta");
    let arn = locked.arn.expect("arn");
    user.describe_key()
        .key_id(&locked.key_id)
        .send()
        .await
        .expect("delegated");
    assert_eq!(
        kms_error(
            user.encrypt()
                .key_id(&locked.key_id)
                .plaintext(aws_sdk_kms::primitives::Blob::new(b"x".to_vec()))
                .send()
                .await
        ),
        (
            "AccessDeniedException".to_owned(),
            format!(
                "User: arn:aws:iam::{ACCOUNT_ID}:user/kmsuser is not authorized to perform: \
                 kms:Encrypt on resource: {arn} because no resource-based policy allows the \
                 kms:Encrypt action"
            )
        )
    );
    // Nor may the root itself: the key policy is the only way in.
    let (code, _) = kms_error(root.disable_key().key_id(&locked.key_id).send().await);
    assert_eq!(code, "AccessDeniedException");
    // Without an identity policy, a user may not even list.
    let server2 = self::server(vec![self::user("none", &[])]).await;
    let (code, _) = kms_error(kms(&server2, "AKIDNONE").list_keys().send().await);
    assert_eq!(code, "AccessDeniedException");
}

#[tokio::test]
async fn secrets_manager_needs_the_callers_kms_permissions_on_a_customer_key() {
    let via = r#"{"StringEquals":{"kms:ViaService":"secretsmanager.us-east-1.amazonaws.com"}}"#;
    let server = server(vec![
        user("nokms", &[allow("secretsmanager:*", "*")]),
        user(
            "withkms",
            &[
                allow("secretsmanager:*", "*"),
                statement("Allow", "kms:GenerateDataKey", "*", via),
                statement("Allow", "kms:Decrypt", "*", via),
            ],
        ),
        user(
            "encrypter",
            &[
                allow("secretsmanager:*", "*"),
                statement("Allow", "kms:*", "*", via),
            ],
        ),
    ])
    .await;
    let root_kms = kms(&server, ROOT_KEY);
    let new_key = || async {
        root_kms
            .create_key()
            .send()
            .await
            .expect("key")
            .key_metadata
            .expect("meta")
            .key_id
    };
    let key = new_key().await;
    let nokms = secrets(&server, "AKIDNOKMS");
    let withkms = secrets(&server, "AKIDWITHKMS");
    // The managed key: no KMS permission needed.
    create(&nokms, "managed", "m").await;
    assert_eq!(read(&nokms, "managed").await, Ok("m".to_owned()));

    let result = nokms
        .create_secret()
        .name("cmk")
        .kms_key_id(&key)
        .secret_string("v")
        .send()
        .await;
    assert_eq!(
        error_of(result),
        (
            "AccessDeniedException".to_owned(),
            "Access to KMS is not allowed".to_owned()
        )
    );
    withkms
        .create_secret()
        .name("cmk")
        .kms_key_id(&key)
        .secret_string("v")
        .send()
        .await
        .expect("with kms:GenerateDataKey and kms:Decrypt");
    assert_eq!(read(&withkms, "cmk").await, Ok("v".to_owned()));
    assert_eq!(
        read(&nokms, "cmk").await,
        Err((
            "AccessDeniedException".to_owned(),
            "Access to KMS is not allowed".to_owned()
        ))
    );
    // Only through Secrets Manager: direct use of the key is not allowed.
    let (code, _) = kms_error(
        kms(&server, "AKIDWITHKMS")
            .encrypt()
            .key_id(&key)
            .plaintext(aws_sdk_kms::primitives::Blob::new(b"x".to_vec()))
            .send()
            .await,
    );
    assert_eq!(code, "AccessDeniedException");

    // UpdateSecret to another key without kms:Encrypt on it: KmsKeyId changes, the versions
    // stay under the old key (disabling the old key makes them unreadable).
    let second = new_key().await;
    withkms
        .update_secret()
        .secret_id("cmk")
        .kms_key_id(&second)
        .send()
        .await
        .expect("update");
    let described = withkms
        .describe_secret()
        .secret_id("cmk")
        .send()
        .await
        .expect("describe");
    assert_eq!(described.kms_key_id(), Some(second.as_str()));
    root_kms
        .disable_key()
        .key_id(&key)
        .send()
        .await
        .expect("disable");
    let (code, _) = error_of::<(), _>(Err(withkms
        .get_secret_value()
        .secret_id("cmk")
        .send()
        .await
        .expect_err("still under the disabled key")));
    assert_eq!(code, "DecryptionFailure");
    root_kms
        .enable_key()
        .key_id(&key)
        .send()
        .await
        .expect("enable");

    // With kms:Encrypt, they follow the new key.
    let encrypter = secrets(&server, "AKIDENCRYPTER");
    let third = new_key().await;
    encrypter
        .update_secret()
        .secret_id("cmk")
        .kms_key_id(&third)
        .send()
        .await
        .expect("update");
    root_kms
        .disable_key()
        .key_id(&key)
        .send()
        .await
        .expect("disable");
    assert_eq!(read(&encrypter, "cmk").await, Ok("v".to_owned()));
}

#[tokio::test]
async fn a_denied_call_leaves_an_audit_event_naming_the_user_and_the_error() {
    let server = server(vec![user("eve", &[])]).await;
    let root = secrets(&server, ROOT_KEY);
    let eve = secrets(&server, "AKIDEVE");
    let arn = create(&root, "audited", "top-secret-audited-value").await;
    assert!(read(&eve, "audited").await.is_err());
    server.service.flush_audit().await.expect("flush the trail");
    let events = server
        .service
        .audit_events(&coffer::audit::AuditQuery {
            limit: 100,
            ..coffer::audit::AuditQuery::default()
        })
        .await
        .expect("query the trail");
    let denied: Vec<serde_json::Value> = events
        .iter()
        .map(|event| serde_json::from_str(&event.event.json).expect("event JSON"))
        .filter(|event: &serde_json::Value| event["errorCode"] == "AccessDeniedException")
        .collect();
    assert_eq!(denied.len(), 1, "{denied:?}");
    let event = &denied[0];
    assert_eq!(event["eventName"], "GetSecretValue");
    assert_eq!(event["userIdentity"]["type"], "IAMUser");
    assert_eq!(
        event["userIdentity"]["arn"],
        format!("arn:aws:iam::{ACCOUNT_ID}:user/eve")
    );
    assert_eq!(event["userIdentity"]["accessKeyId"], "AKIDEVE");
    assert!(
        event["errorMessage"]
            .as_str()
            .is_some_and(|message| message.contains(&arn)),
        "{event}"
    );
    assert!(!event.to_string().contains("top-secret-audited-value"));
}
