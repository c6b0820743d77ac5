//! Who is calling: the [`Principal`] behind a request.
//!
//! Today the SigV4 `Authorization` header is parsed and its credential scope gives the access
//! key id and the region; any well-formed signature is accepted (its verification against
//! stored credentials comes with the authentication work). The account is Coffer's configured
//! account id.

pub mod credentials;
pub mod sigv4;

use crate::protocol::{ApiError, ErrorCode};
use crate::service::model::Scope;

/// The signing name of the Secrets Manager API.
pub const SERVICE_NAME: &str = "secretsmanager";

/// The caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub access_key_id: String,
    pub scope: Scope,
}

/// Identifies the caller of a Secrets Manager request from the `Authorization` header's value
/// (`None` if absent).
pub fn authenticate(authorization: Option<&str>, account_id: &str) -> Result<Principal, ApiError> {
    authenticate_for(authorization, account_id, SERVICE_NAME)
}

/// Like [`authenticate`], for a request to the API whose signing name is `service_name`
/// (`secretsmanager`, `kms`): a signature scoped to another service is refused.
pub fn authenticate_for(
    authorization: Option<&str>,
    account_id: &str,
    service_name: &str,
) -> Result<Principal, ApiError> {
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
    Ok(Principal {
        access_key_id: parsed.access_key_id,
        scope: Scope {
            account_id: account_id.to_owned(),
            region: parsed.scope.region,
        },
    })
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
    fn the_region_comes_from_the_credential_scope() {
        let principal = authenticate(Some(&header("secretsmanager")), "111122223333").ok();
        assert_eq!(
            principal,
            Some(Principal {
                access_key_id: "AKID".into(),
                scope: Scope {
                    account_id: "111122223333".into(),
                    region: "eu-central-1".into()
                },
            })
        );
    }

    #[test]
    fn missing_malformed_and_misscoped_headers_are_refused() {
        let code = |header: Option<&str>| authenticate(header, "1").err().map(|e| e.code());
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
