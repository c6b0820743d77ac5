//! HTTP: one route (`POST /`), the request path, and graceful shutdown.
//!
//! `handle` runs the request path in straight-line steps: name the operation from
//! `X-Amz-Target`, check the content type, authenticate, then one `match` decodes the body,
//! calls the service and encodes the answer. Every response carries `x-amzn-RequestId`;
//! errors carry their code in `X-Amzn-ErrorType` and the body's `__type`.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::net::TcpListener;
use tracing::Instrument;

use crate::auth::{self, Principal};
use crate::protocol::{ApiError, ErrorCode, Operation, json, validate};
use crate::service::Service;

/// Largest request body accepted. A 64 KiB secret, JSON-escaped at worst six bytes per
/// character, plus the other fields, stays well under it.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    pub service: Arc<Service>,
    pub account_id: Arc<str>,
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
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

async fn handle(State(state): State<AppState>, request: Request) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = request.into_parts();
    let operation = Operation::from_target(header_str(&parts.headers, "x-amz-target"));
    let span = tracing::info_span!(
        "request",
        id = %request_id,
        operation = operation.as_ref().map(|op| op.name()).unwrap_or("unknown"),
    );
    let result = async {
        let operation = operation?;
        if parts.method != Method::POST {
            return Err(ApiError::new(ErrorCode::UnknownOperationException, ""));
        }
        check_content_type(&parts.headers)?;
        let principal = auth::authenticate(
            header_str(&parts.headers, header::AUTHORIZATION.as_str()),
            &state.account_id,
        )?;
        let body = axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
            ApiError::new(
                ErrorCode::SerializationException,
                format!("The request body is larger than {MAX_BODY_BYTES} bytes or could not be read."),
            )
        })?;
        dispatch(&state.service, &principal, operation, &body).await
    }
    .instrument(span.clone())
    .await;
    let _entered = span.enter();
    match result {
        Ok(body) => {
            tracing::debug!("ok");
            respond(StatusCode::OK, body, &request_id, None)
        }
        Err(error) => error_response(&error, &request_id),
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
                    call(body, |input| service.$method(principal, input)).await
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

fn error_response(error: &ApiError, request_id: &str) -> Response {
    if error.code() == ErrorCode::InternalServiceError {
        // The cause goes to the log only; the client sees a generic message.
        tracing::error!(cause = ?error.cause(), "internal error");
    } else {
        tracing::info!(code = error.code().as_str(), "client error");
    }
    let status =
        StatusCode::from_u16(error.code().http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    respond(
        status,
        json::encode_error(error),
        request_id,
        Some(error.code()),
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
