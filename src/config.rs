//! Coffer's configuration, validated once at start. Together with [`crate::cli`] (which reads
//! the command line and `COFFER_*` environment variables) this is the only reader of the
//! environment.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Where secrets are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    /// The embedded SQLite database in this directory (`coffer.db`).
    DataDir(PathBuf),
    /// A private in-memory database, gone when Coffer stops.
    InMemory,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub storage: Storage,
    /// The AWS account id that secrets belong to (it appears in every ARN).
    pub account_id: String,
    /// How often the purge of deleted secrets runs.
    pub purge_interval: Duration,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("the account id must be 12 digits, got {0:?}")]
    AccountId(String),
    #[error("the purge interval must be at least one second")]
    PurgeInterval,
}

impl Config {
    pub fn validate(self) -> Result<Config, ConfigError> {
        if self.account_id.len() != 12 || !self.account_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ConfigError::AccountId(self.account_id));
        }
        if self.purge_interval < Duration::from_secs(1) {
            return Err(ConfigError::PurgeInterval);
        }
        Ok(self)
    }
}

/// The SQLite file inside a data directory.
pub fn database_path(data_dir: &std::path::Path) -> PathBuf {
    data_dir.join("coffer.db")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(account_id: &str, purge_secs: u64) -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            storage: Storage::InMemory,
            account_id: account_id.into(),
            purge_interval: Duration::from_secs(purge_secs),
        }
    }

    #[test]
    fn account_ids_are_twelve_digits() {
        assert!(config("123456789012", 60).validate().is_ok());
        for bad in ["", "12345678901", "1234567890123", "12345678901x"] {
            assert_eq!(
                config(bad, 60).validate().err(),
                Some(ConfigError::AccountId(bad.into()))
            );
        }
        assert_eq!(
            config("123456789012", 0).validate().err(),
            Some(ConfigError::PurgeInterval)
        );
    }
}
