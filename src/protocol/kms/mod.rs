//! The AWS contract of KMS (AWS JSON 1.1, `X-Amz-Target: TrentService.<Operation>`, signing
//! name `kms`): operations, request and response shapes and their validation. No business
//! logic.

mod operation;
pub mod types;
pub mod validate;

pub use operation::KmsOperation;

/// The SigV4 signing name of KMS.
pub const SIGNING_NAME: &str = "kms";
