//! The key service: KMS keys and aliases, the managed key `aws/secretsmanager`, and the
//! encryption of secret values under them.

pub mod keyring;
pub mod model;

pub use keyring::Keyring;
