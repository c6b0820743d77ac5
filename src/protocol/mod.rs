//! The AWS contracts of Secrets Manager and KMS (AWS JSON 1.1): operations, request and response
//! shapes, validation of what the model constrains, and the wire error. No business logic.

mod error;
pub mod json;
pub mod kms;
mod operation;
pub mod types;
pub mod validate;

pub use error::{Api, ApiError, ErrorCode};
pub use operation::Operation;
