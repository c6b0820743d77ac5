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
    /// A PostgreSQL database, which several Coffer nodes may share.
    Postgres {
        url: DatabaseUrl,
        /// Most connections this node opens.
        pool_size: usize,
    },
}

/// A database URL. It may hold a password, so it is shown only with the password masked
/// ([`DatabaseUrl::redacted`], also its `Debug`).
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> DatabaseUrl {
        DatabaseUrl(url.into())
    }

    /// The URL itself, password included: for connecting only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with the password (in the user part or a `password` parameter) masked.
    pub fn redacted(&self) -> String {
        let url = &self.0;
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let authority_start = base.find("://").map_or(0, |at| at + 3);
        let authority_end = base[authority_start..]
            .find('/')
            .map_or(base.len(), |at| authority_start + at);
        let authority = &base[authority_start..authority_end];
        let authority = match authority.rsplit_once('@') {
            Some((user_info, host)) => match user_info.split_once(':') {
                Some((user, _password)) => format!("{user}:***@{host}"),
                None => authority.to_owned(),
            },
            None => authority.to_owned(),
        };
        let mut redacted = format!(
            "{}{authority}{}",
            &base[..authority_start],
            &base[authority_end..]
        );
        if url.contains('?') {
            let parameters: Vec<String> = query
                .split('&')
                .map(|parameter| match parameter.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => {
                        format!("{key}=***")
                    }
                    _ => parameter.to_owned(),
                })
                .collect();
            redacted.push('?');
            redacted.push_str(&parameters.join("&"));
        }
        redacted
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({:?})", self.redacted())
    }
}

/// Never fails: the URL is checked by [`Config::validate`], whose error does not repeat it
/// (clap's would, password included).
impl std::str::FromStr for DatabaseUrl {
    type Err = std::convert::Infallible;

    fn from_str(url: &str) -> Result<DatabaseUrl, Self::Err> {
        Ok(DatabaseUrl::new(url))
    }
}

/// Where the root key (which wraps every KMS key) comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootKeyConfig {
    /// The default: `root.key` in the data directory, generated on first start. An in-memory
    /// store gets a key that lives as long as the process.
    Default,
    /// A key file named in the configuration (never created: a missing file is an error).
    File(PathBuf),
    /// The environment variable [`ROOT_KEY_ENV`] holds it.
    Env,
}

/// The environment variable that may hold the root key (base64 of 32 bytes).
pub const ROOT_KEY_ENV: &str = "COFFER_ROOT_KEY";

/// The default root key file inside a data directory.
pub fn root_key_path(data_dir: &std::path::Path) -> PathBuf {
    data_dir.join("root.key")
}

/// How requests are authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthConfig {
    /// Every signature is verified against the access keys kept in the store (the default).
    Verify,
    /// `--dev`: any well-formed signature is accepted and the caller is the account's root.
    /// Refused on a non-loopback address unless `allow_remote` (`--dev-allow-remote`).
    Dev { allow_remote: bool },
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub auth: AuthConfig,
    pub storage: Storage,
    pub root_key: RootKeyConfig,
    /// The AWS account id that secrets belong to (it appears in every ARN).
    pub account_id: String,
    /// How often the purge of deleted secrets runs.
    pub purge_interval: Duration,
    /// Where the first start writes the root identity's credentials file
    /// ([`credentials_path`]): the data directory, given or default (also with PostgreSQL);
    /// in memory, only a data directory given explicitly. `None`: the credentials are
    /// printed instead (an in-memory store, gone with the process).
    pub credentials_dir: Option<PathBuf>,
}

/// The credentials file (aws CLI format, profile [`CREDENTIALS_PROFILE`]) written on first
/// start in a data directory.
pub fn credentials_path(data_dir: &std::path::Path) -> PathBuf {
    data_dir.join("credentials")
}

/// The profile of the root identity in the credentials file.
pub const CREDENTIALS_PROFILE: &str = "coffer";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("the account id must be 12 digits, got {0:?}")]
    AccountId(String),
    #[error("the purge interval must be at least one second")]
    PurgeInterval,
    #[error("the database URL must start with postgres:// or postgresql://")]
    DatabaseUrl,
    #[error("the database pool size must be at least 1")]
    PoolSize,
    #[error(
        "several nodes share a PostgreSQL database, so they need the same root key: give it \
         with --root-key-file or the environment variable {ROOT_KEY_ENV}"
    )]
    RootKeyForPostgres,
    #[error(
        "development mode accepts any signature, so it listens on loopback addresses only; \
         {0} is not one. Add --dev-allow-remote to serve it to other hosts anyway"
    )]
    DevModeRemote(SocketAddr),
}

impl Config {
    pub fn validate(self) -> Result<Config, ConfigError> {
        if self.account_id.len() != 12 || !self.account_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ConfigError::AccountId(self.account_id));
        }
        if self.auth
            == (AuthConfig::Dev {
                allow_remote: false,
            })
            && !self.listen.ip().is_loopback()
        {
            return Err(ConfigError::DevModeRemote(self.listen));
        }
        if self.purge_interval < Duration::from_secs(1) {
            return Err(ConfigError::PurgeInterval);
        }
        if let Storage::Postgres { url, pool_size } = &self.storage {
            let url = url.expose();
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(ConfigError::DatabaseUrl);
            }
            if *pool_size == 0 {
                return Err(ConfigError::PoolSize);
            }
            if self.root_key == RootKeyConfig::Default {
                return Err(ConfigError::RootKeyForPostgres);
            }
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
            auth: AuthConfig::Verify,
            storage: Storage::InMemory,
            root_key: RootKeyConfig::Default,
            account_id: account_id.into(),
            purge_interval: Duration::from_secs(purge_secs),
            credentials_dir: None,
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

    #[test]
    fn dev_mode_stays_on_loopback_unless_told_otherwise() {
        let dev = |listen: [u8; 4], allow_remote: bool| {
            Config {
                listen: SocketAddr::from((listen, 8566)),
                auth: AuthConfig::Dev { allow_remote },
                ..config("123456789012", 60)
            }
            .validate()
            .err()
        };
        assert_eq!(dev([127, 0, 0, 1], false), None);
        assert_eq!(dev([127, 1, 2, 3], false), None);
        assert_eq!(
            dev([0, 0, 0, 0], false),
            Some(ConfigError::DevModeRemote(SocketAddr::from((
                [0, 0, 0, 0],
                8566
            ))))
        );
        assert!(dev([10, 0, 0, 1], false).is_some());
        assert_eq!(dev([0, 0, 0, 0], true), None);
        let loopback_v6 = Config {
            listen: "[::1]:8566".parse().expect("address"),
            auth: AuthConfig::Dev {
                allow_remote: false,
            },
            ..config("123456789012", 60)
        };
        assert!(loopback_v6.validate().is_ok());
    }

    fn postgres(url: &str, pool_size: usize) -> Result<Config, ConfigError> {
        Config {
            storage: Storage::Postgres {
                url: DatabaseUrl::new(url),
                pool_size,
            },
            root_key: RootKeyConfig::Env,
            ..config("123456789012", 60)
        }
        .validate()
    }

    #[test]
    fn nodes_on_postgres_are_given_their_root_key() {
        let config = Config {
            storage: Storage::Postgres {
                url: DatabaseUrl::new("postgres://coffer@db/coffer"),
                pool_size: 4,
            },
            ..config("123456789012", 60)
        };
        assert_eq!(
            config.clone().validate().err(),
            Some(ConfigError::RootKeyForPostgres)
        );
        for root_key in [
            RootKeyConfig::Env,
            RootKeyConfig::File("/keys/root.key".into()),
        ] {
            assert!(
                Config {
                    root_key,
                    ..config.clone()
                }
                .validate()
                .is_ok()
            );
        }
    }

    #[test]
    fn database_urls_are_postgres_urls_with_a_pool() {
        assert!(postgres("postgres://coffer@db.internal/coffer", 16).is_ok());
        assert!(postgres("postgresql://coffer:pw@db:5432/coffer", 1).is_ok());
        assert_eq!(
            postgres("mysql://db/coffer", 16).err(),
            Some(ConfigError::DatabaseUrl)
        );
        assert_eq!(
            postgres("postgres://db/coffer", 0).err(),
            Some(ConfigError::PoolSize)
        );
    }

    #[test]
    fn database_passwords_are_never_shown() {
        let cases = [
            (
                "postgres://coffer:hunter2@db:5432/coffer",
                "postgres://coffer:***@db:5432/coffer",
            ),
            (
                "postgres://coffer:p@ss@db/coffer?sslmode=disable",
                "postgres://coffer:***@db/coffer?sslmode=disable",
            ),
            (
                "postgres://db/coffer?user=coffer&password=hunter2",
                "postgres://db/coffer?user=coffer&password=***",
            ),
            ("postgres://coffer@db", "postgres://coffer@db"),
        ];
        for (url, shown) in cases {
            let url = DatabaseUrl::new(url);
            assert_eq!(url.redacted(), shown);
            assert!(!format!("{url:?}").contains("hunter2"));
            assert!(!format!("{url:?}").contains("p@ss"));
        }
    }
}
