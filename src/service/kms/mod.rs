//! The key service: KMS keys and aliases, the managed key `aws/secretsmanager`, the
//! encryption of secret values under them, and the KMS API ([`api`]).

pub mod api;
pub mod keyring;
pub mod model;

pub use keyring::Keyring;
