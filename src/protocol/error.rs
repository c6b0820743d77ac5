//! The one error type that crosses the wire: an AWS error code, a message, and (never sent) the
//! internal cause.
//!
//! AWS JSON 1.1 puts the code in the body's `__type` and in the `X-Amzn-ErrorType` header; the
//! HTTP status is 400 for every client error and 500 only for `InternalServiceError`.

use std::fmt;

/// Every error code Coffer sends, spelled exactly as AWS spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    // Secrets Manager's modelled errors.
    ResourceNotFoundException,
    InvalidParameterException,
    InvalidRequestException,
    ResourceExistsException,
    LimitExceededException,
    EncryptionFailure,
    DecryptionFailure,
    MalformedPolicyDocumentException,
    PreconditionNotMetException,
    InternalServiceError,
    InvalidNextTokenException,
    PublicPolicyException,
    // KMS's modelled errors (its bodies spell the member `message`).
    NotFoundException,
    DisabledException,
    KMSInvalidStateException,
    InvalidCiphertextException,
    IncorrectKeyException,
    AlreadyExistsException,
    InvalidAliasNameException,
    InvalidMarkerException,
    InvalidKeyUsageException,
    UnsupportedOperationException,
    NotAuthorizedException,
    TagException,
    KMSInternalException,
    DryRunOperationException,
    // Errors every AWS JSON 1.1 service can send.
    ValidationException,
    SerializationException,
    UnknownOperationException,
    MissingAuthenticationTokenException,
    IncompleteSignatureException,
    InvalidSignatureException,
    UnrecognizedClientException,
    ExpiredTokenException,
    AccessDeniedException,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ResourceNotFoundException => "ResourceNotFoundException",
            ErrorCode::InvalidParameterException => "InvalidParameterException",
            ErrorCode::InvalidRequestException => "InvalidRequestException",
            ErrorCode::ResourceExistsException => "ResourceExistsException",
            ErrorCode::LimitExceededException => "LimitExceededException",
            ErrorCode::EncryptionFailure => "EncryptionFailure",
            ErrorCode::DecryptionFailure => "DecryptionFailure",
            ErrorCode::MalformedPolicyDocumentException => "MalformedPolicyDocumentException",
            ErrorCode::PreconditionNotMetException => "PreconditionNotMetException",
            ErrorCode::InternalServiceError => "InternalServiceError",
            ErrorCode::InvalidNextTokenException => "InvalidNextTokenException",
            ErrorCode::PublicPolicyException => "PublicPolicyException",
            ErrorCode::NotFoundException => "NotFoundException",
            ErrorCode::DisabledException => "DisabledException",
            ErrorCode::KMSInvalidStateException => "KMSInvalidStateException",
            ErrorCode::InvalidCiphertextException => "InvalidCiphertextException",
            ErrorCode::IncorrectKeyException => "IncorrectKeyException",
            ErrorCode::AlreadyExistsException => "AlreadyExistsException",
            ErrorCode::InvalidAliasNameException => "InvalidAliasNameException",
            ErrorCode::InvalidMarkerException => "InvalidMarkerException",
            ErrorCode::InvalidKeyUsageException => "InvalidKeyUsageException",
            ErrorCode::UnsupportedOperationException => "UnsupportedOperationException",
            ErrorCode::NotAuthorizedException => "NotAuthorizedException",
            ErrorCode::TagException => "TagException",
            ErrorCode::KMSInternalException => "KMSInternalException",
            ErrorCode::DryRunOperationException => "DryRunOperationException",
            ErrorCode::ValidationException => "ValidationException",
            ErrorCode::SerializationException => "SerializationException",
            ErrorCode::UnknownOperationException => "UnknownOperationException",
            ErrorCode::MissingAuthenticationTokenException => "MissingAuthenticationTokenException",
            ErrorCode::IncompleteSignatureException => "IncompleteSignatureException",
            ErrorCode::InvalidSignatureException => "InvalidSignatureException",
            ErrorCode::UnrecognizedClientException => "UnrecognizedClientException",
            ErrorCode::ExpiredTokenException => "ExpiredTokenException",
            ErrorCode::AccessDeniedException => "AccessDeniedException",
        }
    }

    /// Whether the Secrets Manager model declares this error (its body member is `Message`).
    pub fn is_modelled(self) -> bool {
        !matches!(
            self,
            ErrorCode::NotFoundException
                | ErrorCode::DisabledException
                | ErrorCode::KMSInvalidStateException
                | ErrorCode::InvalidCiphertextException
                | ErrorCode::IncorrectKeyException
                | ErrorCode::AlreadyExistsException
                | ErrorCode::InvalidAliasNameException
                | ErrorCode::InvalidMarkerException
                | ErrorCode::InvalidKeyUsageException
                | ErrorCode::UnsupportedOperationException
                | ErrorCode::NotAuthorizedException
                | ErrorCode::TagException
                | ErrorCode::KMSInternalException
                | ErrorCode::DryRunOperationException
                | ErrorCode::ValidationException
                | ErrorCode::SerializationException
                | ErrorCode::UnknownOperationException
                | ErrorCode::MissingAuthenticationTokenException
                | ErrorCode::IncompleteSignatureException
                | ErrorCode::InvalidSignatureException
                | ErrorCode::UnrecognizedClientException
                | ErrorCode::ExpiredTokenException
                | ErrorCode::AccessDeniedException
        )
    }

    /// The HTTP status AWS answers with: 500 only for its internal error, 400 for the rest,
    /// the authentication errors included (Secrets Manager, KMS and DynamoDB answer
    /// `UnrecognizedClientException`, `InvalidSignatureException`,
    /// `MissingAuthenticationTokenException` and `ExpiredTokenException` with 400).
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::InternalServiceError | ErrorCode::KMSInternalException => 500,
            _ => 400,
        }
    }
}

/// Which AWS API answers a request: the same error is spelled a little differently by each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    SecretsManager,
    Kms,
}

impl Api {
    /// The code this API sends for `code`: KMS names its internal error
    /// `KMSInternalException`.
    pub fn code(self, code: ErrorCode) -> ErrorCode {
        match (self, code) {
            (Api::Kms, ErrorCode::InternalServiceError) => ErrorCode::KMSInternalException,
            (_, code) => code,
        }
    }

    /// The member of an error body that holds the message: Secrets Manager's modelled errors
    /// spell it `Message`; KMS's errors and the errors every AWS JSON service shares spell it
    /// `message`.
    pub fn message_member(self, code: ErrorCode) -> &'static str {
        match self {
            Api::SecretsManager if code.is_modelled() => "Message",
            _ => "message",
        }
    }
}

/// An error as the client will see it.
pub struct ApiError {
    code: ErrorCode,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            source: None,
        }
    }

    /// An internal failure: the client gets a generic message, the cause goes to the log.
    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> ApiError {
        ApiError {
            code: ErrorCode::InternalServiceError,
            message: "An error occurred on the server side.".to_owned(),
            source: Some(cause.into()),
        }
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// The internal cause, for the log only.
    pub fn cause(&self) -> Option<&(dyn std::error::Error + Send + Sync)> {
        self.source.as_deref()
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("code", &self.code.as_str())
            .field("message", &self.message)
            .field(
                "cause",
                &self.source.as_ref().map(|cause| cause.to_string()),
            )
            .finish()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|cause| cause as &(dyn std::error::Error + 'static))
    }
}

/// Builds an [`ApiError`] from a code and a `format!`-style message:
/// `api_error!(ResourceNotFoundException, "Secrets Manager can't find {name}.")`.
#[macro_export]
macro_rules! api_error {
    ($code:ident, $($message:tt)+) => {
        $crate::protocol::ApiError::new($crate::protocol::ErrorCode::$code, format!($($message)+))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_internal_error_is_a_server_error() {
        assert_eq!(ErrorCode::InternalServiceError.http_status(), 500);
        assert_eq!(ErrorCode::ResourceNotFoundException.http_status(), 400);
        assert_eq!(ErrorCode::UnknownOperationException.http_status(), 400);
    }

    #[test]
    fn internal_errors_hide_their_cause_from_the_message() {
        let error = ApiError::internal("disk I/O error on /var/lib/coffer");
        assert_eq!(error.code(), ErrorCode::InternalServiceError);
        assert!(!error.message().contains("disk"));
        assert!(
            error
                .cause()
                .is_some_and(|cause| cause.to_string().contains("disk"))
        );
    }
}
