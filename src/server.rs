//! HTTP: one route (`POST /`), the request path, and graceful shutdown.
//!
//! Two AWS APIs share the route: Secrets Manager (`X-Amz-Target: secretsmanager.<Op>`) and KMS
//! (`TrentService.<Op>`, signed for `kms`). `handle` runs the request path in straight-line
//! steps: name the operation from `X-Amz-Target`, check the content type, read the body, verify
//! the signature ([`Authenticator`]), then
//! one `match` per API decodes the body, calls the service and encodes the answer. Every response carries `x-amzn-RequestId`;
//! errors carry their code in `X-Amzn-ErrorType` and the body's `__type`.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::net::TcpListener;
use tracing::Instrument;

use crate::audit::{self, Caller, Outcome, Recorder};
use crate::auth::{self, Authenticator, Principal, SignedRequest};
use crate::protocol::kms::KmsOperation;
use crate::protocol::{Api, ApiError, ErrorCode, Operation, json, validate};
use crate::service::Service;
use crate::service::authorize::Call;

/// Largest request body accepted. A 64 KiB secret, JSON-escaped at worst six bytes per
/// character, plus the other fields, stays well under it.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    pub service: Arc<Service>,
    pub account_id: Arc<str>,
    /// Verifies each request's signature (or, in development mode, only parses it).
    pub authenticator: Arc<Authenticator>,
}

/// The HTTP application: every path and method reaches [`handle`], which answers as AWS does.
pub fn app(state: AppState) -> Router {
    Router::new().fallback(handle).with_state(state)
}

/// Serves `app` on `listener` until `shutdown` completes, then finishes the requests in flight.
pub async fn run(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The peer's address is `aws:SourceIp` and the audit event's `sourceIPAddress`.
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// The operation a request names, in the API that answers it.
#[derive(Debug, Clone, Copy)]
enum Target {
    SecretsManager(Operation),
    Kms(KmsOperation),
}

impl Target {
    /// Reads `X-Amz-Target`; anything that names no operation of either API is
    /// `UnknownOperationException`.
    fn parse(target: Option<&str>) -> Result<Target, ApiError> {
        match KmsOperation::from_target(target) {
            Some(operation) => Ok(Target::Kms(operation)),
            None => Operation::from_target(target).map(Target::SecretsManager),
        }
    }

    fn api(self) -> Api {
        match self {
            Target::SecretsManager(_) => Api::SecretsManager,
            Target::Kms(_) => Api::Kms,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Target::SecretsManager(operation) => operation.name(),
            Target::Kms(operation) => operation.name(),
        }
    }

    fn signing_name(self) -> &'static str {
        match self {
            Target::SecretsManager(_) => auth::SERVICE_NAME,
            Target::Kms(_) => crate::protocol::kms::SIGNING_NAME,
        }
    }
}

async fn handle(State(state): State<AppState>, request: Request) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    // Absent when the application is driven without a socket (tests).
    let source_ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip().to_string());
    let (parts, body) = request.into_parts();
    let target = Target::parse(header_str(&parts.headers, "x-amz-target"));
    let api = target.as_ref().map_or(Api::SecretsManager, |t| t.api());
    let recorder = Recorder::new(audit::Draft {
        request_id: request_id.clone(),
        event_id: uuid::Uuid::new_v4().to_string(),
        time: state.service.audit_now(),
        source: match api {
            Api::Kms => audit::KMS_SOURCE,
            Api::SecretsManager => audit::SECRETS_MANAGER_SOURCE,
        },
        event_name: event_name(target.as_ref().ok().copied(), &parts.headers),
        region: None,
        source_ip,
        user_agent: header_str(&parts.headers, header::USER_AGENT.as_str()).map(str::to_owned),
        caller: Caller::default(),
        request_parameters: serde_json::Value::Null,
        recipient_account_id: state.account_id.to_string(),
    });
    // At debug level: creating a span formats its fields, which costs every request a few
    // microseconds at the default `info`; the request's own log lines carry the id instead.
    let operation = target.as_ref().map(|t| t.name()).unwrap_or("unknown");
    let span = tracing::debug_span!("request", id = %request_id, operation);
    let result = async {
        let target = target?;
        if parts.method != Method::POST {
            return Err(ApiError::new(ErrorCode::UnknownOperationException, ""));
        }
        check_content_type(&parts.headers)?;
        // The body is read (bounded) before authentication: its hash is part of what is signed.
        let body = axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
            ApiError::new(
                ErrorCode::SerializationException,
                format!("The request body is larger than {MAX_BODY_BYTES} bytes or could not be read."),
            )
        })?;
        recorder.update(|draft| draft.request_parameters = audit::request_parameters(&body));
        // What the header says of the caller, for the event of a call that fails authentication.
        if let Some(Ok(claimed)) =
            header_str(&parts.headers, "authorization").map(auth::sigv4::parse_authorization)
        {
            recorder.update(|draft| {
                draft.region = Some(claimed.scope.region);
                draft.caller.access_key_id = Some(claimed.access_key_id);
            });
        }
        let headers: Vec<(&str, &str)> = parts
            .headers
            .iter()
            .filter_map(|(name, value)| {
                std::str::from_utf8(value.as_bytes()).ok().map(|value| (name.as_str(), value))
            })
            .collect();
        let signed = SignedRequest {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query().unwrap_or(""),
            headers: &headers,
            body: &body,
        };
        let mut principal = state
            .authenticator
            .authenticate(&signed, target.signing_name())
            .await?;
        let peer_ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|connected| connected.0.ip());
        principal.call = Arc::new(Call::new(
            format!("{}:{}", target.signing_name(), target.name()),
            body.clone(),
            peer_ip,
        ));
        recorder.update(|draft| {
            draft.caller = Caller::authenticated(&principal);
            draft.region = Some(principal.scope.region.clone());
        });
        recorder
            .run(async {
                match target {
                    Target::SecretsManager(operation) => {
                        dispatch(&state.service, &principal, operation, &body).await
                    }
                    Target::Kms(operation) => {
                        dispatch_kms(&state.service, &principal, operation, &body).await
                    }
                }
            })
            .await
    }
    .instrument(span.clone())
    .await;
    let _entered = span.enter();
    // The event of a call whose change did not carry it (reads, failures, denials).
    let outcome = match &result {
        Ok(_) => Outcome::Success {
            response: serde_json::Value::Null,
        },
        Err(error) => Outcome::Failure {
            code: api.code(error.code()).as_str(),
            message: error.message(),
        },
    };
    if let Some(event) = recorder.unrecorded(outcome) {
        state.service.append_audit(event);
    }
    match result {
        Ok(body) => {
            tracing::debug!("ok");
            respond(StatusCode::OK, body, &request_id, None)
        }
        Err(error) => error_response(&error, api, &request_id, operation),
    }
}

async fn dispatch(
    service: &Service,
    principal: &Principal,
    operation: Operation,
    body: &[u8],
) -> Result<Bytes, ApiError> {
    /// Every operation decodes its input, runs the service method of the same name, and
    /// encodes its output.
    macro_rules! route {
        ($($operation:ident => $method:ident),* $(,)?) => {
            match operation {
                $(Operation::$operation => {
                    // Boxed: the future of one operation is allocated at its own size, instead
                    // of every request's future being as large as the largest operation's
                    // (kilobytes, copied as the request's future moves).
                    Box::pin(call(body, |input| service.$method(principal, input))).await
                })*
            }
        };
    }
    route!(
        BatchGetSecretValue => batch_get_secret_value,
        CancelRotateSecret => cancel_rotate_secret,
        CreateSecret => create_secret,
        DeleteResourcePolicy => delete_resource_policy,
        DeleteSecret => delete_secret,
        DescribeSecret => describe_secret,
        GetRandomPassword => get_random_password,
        GetResourcePolicy => get_resource_policy,
        GetSecretValue => get_secret_value,
        ListSecretVersionIds => list_secret_version_ids,
        ListSecrets => list_secrets,
        PutResourcePolicy => put_resource_policy,
        PutSecretValue => put_secret_value,
        RemoveRegionsFromReplication => remove_regions_from_replication,
        ReplicateSecretToRegions => replicate_secret_to_regions,
        RestoreSecret => restore_secret,
        RotateSecret => rotate_secret,
        StopReplicationToReplica => stop_replication_to_replica,
        TagResource => tag_resource,
        UntagResource => untag_resource,
        UpdateSecret => update_secret,
        UpdateSecretVersionStage => update_secret_version_stage,
        ValidateResourcePolicy => validate_resource_policy,
    )
}

async fn dispatch_kms(
    service: &Service,
    principal: &Principal,
    operation: KmsOperation,
    body: &[u8],
) -> Result<Bytes, ApiError> {
    /// Every KMS operation decodes its input, runs the service method `kms_<operation>`, and
    /// encodes its output.
    macro_rules! route {
        ($($operation:ident => $method:ident),* $(,)?) => {
            match operation {
                $(KmsOperation::$operation => {
                    // Boxed: the future of one operation is allocated at its own size, instead
                    // of every request's future being as large as the largest operation's
                    // (kilobytes, copied as the request's future moves).
                    Box::pin(call(body, |input| service.$method(principal, input))).await
                })*
            }
        };
    }
    route!(
        CancelKeyDeletion => kms_cancel_key_deletion,
        CreateAlias => kms_create_alias,
        CreateKey => kms_create_key,
        Decrypt => kms_decrypt,
        DeleteAlias => kms_delete_alias,
        DescribeKey => kms_describe_key,
        DisableKey => kms_disable_key,
        DisableKeyRotation => kms_disable_key_rotation,
        EnableKey => kms_enable_key,
        EnableKeyRotation => kms_enable_key_rotation,
        Encrypt => kms_encrypt,
        GenerateDataKey => kms_generate_data_key,
        GenerateDataKeyWithoutPlaintext => kms_generate_data_key_without_plaintext,
        GetKeyRotationStatus => kms_get_key_rotation_status,
        ListAliases => kms_list_aliases,
        ListKeys => kms_list_keys,
        ReEncrypt => kms_re_encrypt,
        RotateKeyOnDemand => kms_rotate_key_on_demand,
        ScheduleKeyDeletion => kms_schedule_key_deletion,
        UpdateAlias => kms_update_alias,
    )
}

/// Decodes and validates the input, runs the operation, encodes its output.
async fn call<I, O, F>(body: &[u8], operation: impl FnOnce(I) -> F) -> Result<Bytes, ApiError>
where
    I: DeserializeOwned + validate::Validate,
    O: Serialize,
    F: Future<Output = Result<O, ApiError>>,
{
    let input: I = json::decode(body)?;
    input.validate()?;
    let output = operation(input).await?;
    json::encode(&output)
}

/// The event name of a request: its operation, or what its `X-Amz-Target` names (bounded) when
/// that is no operation.
fn event_name(target: Option<Target>, headers: &HeaderMap) -> String {
    if let Some(target) = target {
        return target.name().to_owned();
    }
    let named = header_str(headers, "x-amz-target")
        .and_then(|target| target.rsplit('.').next())
        .unwrap_or("");
    let named: String = named
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(64)
        .collect();
    if named.is_empty() {
        "Unknown".to_owned()
    } else {
        named
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// AWS JSON 1.1 requests declare `application/x-amz-json-1.1` (a `charset` parameter is
/// tolerated).
fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let content_type = header_str(headers, header::CONTENT_TYPE.as_str()).unwrap_or("");
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if media_type.eq_ignore_ascii_case(json::CONTENT_TYPE) {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::UnknownOperationException,
        format!("Requests must have Content-Type {}.", json::CONTENT_TYPE),
    ))
}

fn error_response(error: &ApiError, api: Api, request_id: &str, operation: &str) -> Response {
    if error.code() == ErrorCode::InternalServiceError {
        // The cause goes to the log only; the client sees a generic message.
        tracing::error!(request_id, operation, cause = ?error.cause(), "internal error");
    } else {
        tracing::info!(
            request_id,
            operation,
            code = error.code().as_str(),
            "client error"
        );
    }
    let code = api.code(error.code());
    let status = StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    respond(
        status,
        json::encode_error(error, api),
        request_id,
        Some(code),
    )
}

fn respond(
    status: StatusCode,
    body: Bytes,
    request_id: &str,
    error: Option<ErrorCode>,
) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(json::CONTENT_TYPE),
    );
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", value);
    }
    if let Some(code) = error {
        headers.insert("x-amzn-errortype", HeaderValue::from_static(code.as_str()));
    }
    response
}
