//! Who is calling: the [`Principal`] behind a request.
//!
//! The [`Authenticator`] ([`verify`]) checks each request's SigV4 signature against the
//! secret of the access key it names, found through a [`credentials::CredentialSource`]; in
//! development mode it accepts any well-formed signature and the caller is the account's root.
//! The region comes from the signature's credential scope.

pub mod credentials;
pub mod sigv4;
pub mod verify;

pub use verify::{Authenticator, SignedRequest};

use std::sync::Arc;

use crate::policy::Policy;
use crate::protocol::{ApiError, ErrorCode};
use crate::service::authorize::Call;
use crate::service::model::Scope;
use credentials::Identity;

/// The signing name of the Secrets Manager API.
pub const SERVICE_NAME: &str = "secretsmanager";

/// The caller of one request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub access_key_id: String,
    pub scope: Scope,
    /// Whose access key signed the request (the account's root in development mode).
    pub identity: Identity,
    /// The identity policies of the caller, parsed (none for the root, which has none).
    pub policies: Arc<[Policy]>,
    /// What is asked, as authorization sees it: set by the server once it knows the operation,
    /// the body and the peer ([`Call::internal`] until then).
    pub call: Arc<Call>,
}

impl Principal {
    /// The root of `scope`'s account, calling with `access_key_id`.
    pub fn root(access_key_id: impl Into<String>, scope: Scope) -> Principal {
        let identity = Identity::root(&scope.account_id);
        Principal {
            access_key_id: access_key_id.into(),
            scope,
            identity,
            policies: Arc::from(Vec::new()),
            call: Arc::new(Call::internal()),
        }
    }
}

/// Parses the `Authorization` header's value (`None` if absent) of a request to the API whose
/// signing name is `service_name` (`secretsmanager`, `kms`): a missing header is
/// `MissingAuthenticationTokenException`, a malformed one or one scoped to another service
/// `IncompleteSignatureException`.
pub fn parse_for(
    authorization: Option<&str>,
    service_name: &str,
) -> Result<sigv4::Authorization, ApiError> {
    let Some(header) = authorization else {
        return Err(ApiError::new(
            ErrorCode::MissingAuthenticationTokenException,
            "Missing Authentication Token",
        ));
    };
    let parsed = sigv4::parse_authorization(header).map_err(|error| {
        ApiError::new(ErrorCode::IncompleteSignatureException, error.to_string())
    })?;
    if parsed.scope.service != service_name {
        return Err(ApiError::new(
            ErrorCode::IncompleteSignatureException,
            format!("Credential should be scoped to correct service: '{service_name}'."),
        ));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIGNATURE: &str = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";

    fn header(service: &str) -> String {
        format!(
            "AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-central-1/{service}/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature={SIGNATURE}"
        )
    }

    #[test]
    fn the_region_and_key_come_from_the_credential() {
        let parsed = parse_for(Some(&header("secretsmanager")), SERVICE_NAME).ok();
        assert_eq!(
            parsed.map(|p| (p.access_key_id, p.scope.region)),
            Some(("AKID".into(), "eu-central-1".into()))
        );
    }

    #[test]
    fn missing_malformed_and_misscoped_headers_are_refused() {
        let code = |header: Option<&str>| parse_for(header, SERVICE_NAME).err().map(|e| e.code());
        assert_eq!(
            code(None),
            Some(ErrorCode::MissingAuthenticationTokenException)
        );
        assert_eq!(
            code(Some("AWS4-HMAC-SHA256 nonsense")),
            Some(ErrorCode::IncompleteSignatureException)
        );
        assert_eq!(
            code(Some(&header("kms"))),
            Some(ErrorCode::IncompleteSignatureException)
        );
    }
}
