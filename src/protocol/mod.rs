//! The AWS contract of Secrets Manager (AWS JSON 1.1): operations, request and response
//! shapes, validation of what the model constrains, and the wire error. No business logic.

mod error;
pub mod json;
mod operation;
pub mod types;
pub mod validate;

pub use error::{ApiError, ErrorCode};
pub use operation::Operation;
