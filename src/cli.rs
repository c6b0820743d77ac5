//! The command line: `coffer serve`, `coffer admin` and `coffer bench`.

mod admin;
mod audit;
pub mod credentials_file;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::auth::Authenticator;
use crate::auth::credentials::{CachedCredentials, CredentialSource};
use crate::clock::SystemClock;
use crate::config::{
    AuthConfig, CREDENTIALS_PROFILE, Config, DatabaseUrl, ROOT_KEY_ENV, RootKeyConfig, Storage,
    credentials_path, database_path, root_key_path,
};
use crate::crypto::SecretString;
use crate::crypto::keys::RootKey;
use crate::crypto::root_key::{self, RootKeyOrigin, RootKeySource};
use crate::server::{self, AppState};
use crate::service::Service;
use crate::service::identity::StoreCredentials;
use crate::service::identity::{Identities, NewAccessKey};
use crate::store::Store;
use crate::store::postgres::{DEFAULT_POOL_SIZE, PostgresStore};
use crate::store::sqlite::SqliteStore;

/// The address Coffer listens on unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8566";
/// The data directory unless told otherwise (relative to the working directory).
pub const DEFAULT_DATA_DIR: &str = "coffer-data";

#[derive(Debug, Parser)]
#[command(
    name = "coffer",
    version,
    about = "A self-hosted secrets manager that speaks the AWS Secrets Manager API"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the Secrets Manager API and the KMS-compatible key API on one endpoint.
    Serve(ServeArgs),
    /// Manage identities (users, access keys, policies) in a data directory or database.
    Admin(admin::AdminArgs),
    /// Measure a Secrets Manager endpoint (Coffer, moto, AWS) under load.
    Bench(crate::bench::BenchArgs),
    /// Query and export the audit trail (one CloudTrail-shaped event per API call).
    Audit(audit::AuditArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, env = "COFFER_LISTEN", default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// Directory of the embedded database (created if missing) and of the root identity's
    /// credentials file, written on first start [default: coffer-data]. With --in-memory or
    /// --dev the database stays in memory, and the credentials file is written only if this
    /// is given.
    #[arg(long, env = "COFFER_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Keep everything in memory and lose it at exit (for tests and throwaway use).
    #[arg(long)]
    pub in_memory: bool,
    /// Development mode, for test suites: in memory (`--data-dir` only receives the
    /// credentials file), and ANY well-formed signature is accepted, the caller being the
    /// account's root (as moto and LocalStack do). Listens on loopback addresses only, unless
    /// --dev-allow-remote.
    #[arg(long)]
    pub dev: bool,
    /// Let --dev listen on a non-loopback address: anyone who can reach it has full access.
    #[arg(long, requires = "dev")]
    pub dev_allow_remote: bool,
    /// Keep secrets in this PostgreSQL database instead of the embedded SQLite
    /// (postgres://user:password@host:port/database); several Coffer nodes may share it.
    /// Takes precedence over --in-memory and --dev.
    #[arg(long, env = "COFFER_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<DatabaseUrl>,
    /// Most connections to PostgreSQL that this node keeps open.
    #[arg(long, env = "COFFER_DATABASE_POOL_SIZE", default_value_t = DEFAULT_POOL_SIZE)]
    pub database_pool_size: usize,
    /// The root key file (32 random bytes in base64, mode 0600), which wraps every KMS key.
    /// By default `root.key` in the data directory, generated on first start. The root key
    /// may also come from the environment variable COFFER_ROOT_KEY. Required with
    /// --database-url, so that every node has the same one.
    #[arg(long, env = "COFFER_ROOT_KEY_FILE")]
    pub root_key_file: Option<PathBuf>,
    /// The 12-digit AWS account id secrets belong to.
    #[arg(long, env = "COFFER_ACCOUNT_ID", default_value = "123456789012")]
    pub account_id: String,
    /// Seconds between runs of the purge of deleted secrets.
    #[arg(long, env = "COFFER_PURGE_INTERVAL_SECS", default_value_t = 60)]
    pub purge_interval_secs: u64,
}

impl ServeArgs {
    pub fn config(&self) -> Result<Config, crate::config::ConfigError> {
        let data_dir = self
            .data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let storage = if let Some(url) = &self.database_url {
            Storage::Postgres {
                url: url.clone(),
                pool_size: self.database_pool_size,
            }
        } else if self.in_memory || self.dev {
            Storage::InMemory
        } else {
            Storage::DataDir(data_dir.clone())
        };
        let credentials_dir = match storage {
            Storage::InMemory => self.data_dir.clone(),
            _ => Some(data_dir),
        };
        let root_key = if std::env::var_os(ROOT_KEY_ENV).is_some() {
            RootKeyConfig::Env
        } else if let Some(path) = &self.root_key_file {
            RootKeyConfig::File(path.clone())
        } else {
            RootKeyConfig::Default
        };
        let auth = if self.dev {
            AuthConfig::Dev {
                allow_remote: self.dev_allow_remote,
            }
        } else {
            AuthConfig::Verify
        };
        Config {
            listen: self.listen,
            auth,
            storage,
            root_key,
            account_id: self.account_id.clone(),
            purge_interval: Duration::from_secs(self.purge_interval_secs),
            credentials_dir,
        }
        .validate()
    }
}

/// Runs the command; the error is what to print before exiting with a failure status.
pub async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Serve(args) => serve(args.config().map_err(|error| error.to_string())?).await,
        Command::Admin(args) => admin::run(args).await,
        Command::Bench(args) => crate::bench::run(args).await,
        Command::Audit(args) => audit::run(args).await,
    }
}

async fn open_store(storage: &Storage) -> Result<Arc<dyn Store>, String> {
    match storage {
        Storage::InMemory => SqliteStore::in_memory()
            .map(|store| Arc::new(store) as Arc<dyn Store>)
            .map_err(|error| format!("cannot open the in-memory database: {error}")),
        Storage::DataDir(dir) => {
            create_private_dir(dir)?;
            let path = database_path(dir);
            SqliteStore::open(&path)
                .map(|store| Arc::new(store) as Arc<dyn Store>)
                .map_err(|error| format!("cannot open the database {}: {error}", path.display()))
        }
        Storage::Postgres { url, pool_size } => PostgresStore::connect(url.expose(), *pool_size)
            .await
            .map(|store| Arc::new(store) as Arc<dyn Store>)
            .map_err(|error| {
                format!(
                    "cannot open the PostgreSQL database {}: {error}",
                    url.redacted()
                )
            }),
    }
}

/// Makes this server the only one serving `dir`: the embedded store keeps what it read in
/// memory and counts on every change of a secret going through its own writer (see
/// `store::cache`), which a second server on the same file would break. `coffer admin` and
/// `coffer audit` do not take the lock: they change identities and read audit events only.
fn lock_data_dir(dir: &std::path::Path) -> Result<std::fs::File, String> {
    create_private_dir(dir)?;
    let path = dir.join("serve.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|error| format!("cannot open the lock file {}: {error}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(format!(
            "the data directory {} is in use by another coffer server (it holds {}); \
             stop that server first, or give this one another --data-dir",
            dir.display(),
            path.display()
        )),
        Err(std::fs::TryLockError::Error(error)) => {
            Err(format!("cannot lock {}: {error}", path.display()))
        }
    }
}

/// Creates the data directory readable by its owner only.
fn create_private_dir(dir: &std::path::Path) -> Result<(), String> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|error| {
        format!(
            "cannot create the data directory {}: {error}",
            dir.display()
        )
    })
}

/// The root key the configuration names, loaded (or, in a data directory's default place and
/// if `create`, created on first start).
fn load_root_key(config: &Config, create: bool) -> Result<RootKey, String> {
    let source = match &config.root_key {
        RootKeyConfig::Env => {
            let value = std::env::var(ROOT_KEY_ENV).map_err(|_| {
                format!("the environment variable {ROOT_KEY_ENV} is not valid UTF-8")
            })?;
            RootKeySource::Env {
                variable: ROOT_KEY_ENV.to_owned(),
                value: SecretString::new(value),
            }
        }
        RootKeyConfig::File(path) => RootKeySource::File(path.clone()),
        RootKeyConfig::Default => match &config.storage {
            Storage::DataDir(dir) => RootKeySource::File(root_key_path(dir)),
            // Nothing outlives the process, so neither need its key.
            Storage::InMemory => {
                return RootKey::generate().map_err(|error| error.to_string());
            }
            // Refused by `Config::validate`.
            Storage::Postgres { .. } => {
                return Err(crate::config::ConfigError::RootKeyForPostgres.to_string());
            }
        },
    };
    let (key, origin) = match (&config.root_key, &source) {
        (RootKeyConfig::Default, _) if create => root_key::load_or_create(&source),
        _ => root_key::load(&source).map(|key| {
            let origin = match source {
                RootKeySource::Env { .. } => RootKeyOrigin::Environment,
                RootKeySource::File(_) => RootKeyOrigin::ExistingFile,
            };
            (key, origin)
        }),
    }
    .map_err(|error| error.to_string())?;
    match (origin, &source) {
        (RootKeyOrigin::CreatedFile, RootKeySource::File(path)) => {
            // Printed once, when the key is made: without it the database cannot be read.
            println!(
                "coffer created the root key file {}: back it up; without it the secrets \
                 in this data directory cannot be decrypted",
                path.display()
            );
            tracing::warn!(path = %path.display(), "created a new root key file");
        }
        (_, RootKeySource::File(path)) => {
            tracing::info!(path = %path.display(), "root key: file");
        }
        (_, RootKeySource::Env { variable, .. }) => {
            tracing::info!(%variable, "root key: environment variable");
        }
    }
    Ok(key)
}

/// How long a node trusts an access key it read from the store.
const CREDENTIAL_TTL: Duration = Duration::from_secs(1);

/// Where the verifier finds the secrets of access keys: the users and access keys kept in
/// the store, their secrets sealed under the root key, each remembered for
/// [`CREDENTIAL_TTL`] (so a key disabled on any node, or by `coffer admin`, stops working
/// within a second).
fn credential_source(store: &Arc<dyn Store>, root_key: &RootKey) -> Arc<dyn CredentialSource> {
    let stored = Arc::new(StoreCredentials::new(
        Arc::clone(store),
        Arc::new(SystemClock),
        root_key.clone(),
    ));
    Arc::new(CachedCredentials::new(
        stored,
        Arc::new(SystemClock),
        CREDENTIAL_TTL,
    ))
}

/// Printed to stderr when Coffer starts in development mode, so that nobody runs it by
/// accident.
fn dev_banner(address: std::net::SocketAddr) -> String {
    let line = "*".repeat(78);
    let remote = if address.ip().is_loopback() {
        String::new()
    } else {
        format!(
            "\n*  --dev-allow-remote: listening on {address}, reachable from other hosts: \
             anyone who\n*  can connect has full access.\n"
        )
    };
    format!(
        "{line}\n*  WARNING: coffer is running in DEVELOPMENT MODE (--dev).\n\
         *  Signatures are NOT verified: any well-formed signature is accepted and every\n\
         *  caller is the account's root. Storage is in memory. Never use this in production.\n\
         {remote}{line}"
    )
}

async fn serve(config: Config) -> Result<(), String> {
    // Held until the process exits (the kernel releases it on a crash too).
    let _data_dir_lock = match &config.storage {
        Storage::DataDir(dir) => Some(lock_data_dir(dir)?),
        _ => None,
    };
    let store = open_store(&config.storage).await?;
    let root_key = load_root_key(&config, true)?;
    let service = Arc::new(Service::new(
        Arc::clone(&store),
        Arc::new(SystemClock),
        root_key.clone(),
    ));
    service
        .keyring()
        .check_root_key()
        .await
        .map_err(|error| error.to_string())?;
    // The account's root identity, on the first start only (whichever node gets there).
    let identities = Identities::new(
        Arc::clone(&store),
        Arc::new(SystemClock),
        root_key.clone(),
        &config.account_id,
    );
    let bootstrapped = identities
        .bootstrap_root()
        .await
        .map_err(|error| format!("cannot create the root identity: {error}"))?;
    // Values written before encryption at rest existed are sealed before anything is served.
    let sealed = service
        .seal_plain_values()
        .await
        .map_err(|error| format!("cannot seal the values stored in the clear: {error:?}"))?;
    if sealed > 0 {
        tracing::info!(sealed, "sealed the values stored before encryption at rest");
    }
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|error| format!("cannot listen on {}: {error}", config.listen))?;
    let address = listener.local_addr().map_err(|error| error.to_string())?;
    let (stop, stopped) = watch::channel(false);
    let jobs = crate::jobs::spawn(Arc::clone(&service), config.purge_interval, stopped.clone());
    let authenticator = match &config.auth {
        AuthConfig::Dev { .. } => {
            eprintln!("{}", dev_banner(address));
            tracing::warn!(%address, "development mode: signatures are not verified");
            Authenticator::dev(config.account_id.clone(), Arc::new(SystemClock))
        }
        AuthConfig::Verify => Authenticator::verifying(
            credential_source(&store, &root_key),
            config.account_id.clone(),
            Arc::new(SystemClock),
        ),
    };
    let state = AppState {
        service,
        account_id: config.account_id.clone().into(),
        authenticator: Arc::new(authenticator),
    };
    match &config.storage {
        Storage::InMemory => {
            tracing::warn!("storage is in memory: everything is lost when Coffer stops")
        }
        Storage::DataDir(dir) => {
            tracing::info!(data_dir = %dir.display(), "storage: embedded SQLite")
        }
        Storage::Postgres { url, pool_size } => {
            tracing::info!(database = %url.redacted(), pool_size, "storage: PostgreSQL")
        }
    }
    if let Some(root) = bootstrapped {
        announce_root_key(&root, config.credentials_dir.as_deref(), address)?;
    }
    // Tests and scripts read this line to learn the port when listening on port 0.
    println!("coffer listening on http://{address}");
    tracing::info!(%address, account_id = %config.account_id, "listening");
    let mut shutdown = stopped;
    let audited = Arc::clone(&state.service);
    let result = server::run(listener, server::app(state), async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
    });
    let signals = tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        let _ = stop.send(true);
    });
    result
        .await
        .map_err(|error| format!("server failed: {error}"))?;
    signals.abort();
    let _ = jobs.await;
    // The events of the last reads are appended without waiting; commit them before exiting.
    if let Err(error) = audited.flush_audit().await {
        tracing::error!(%error, "could not commit the last audit events");
    }
    Ok(())
}

/// Hands over the root identity's first access key, once: as the `coffer` profile of the
/// credentials file in `dir` (0600), or, for an in-memory store given no directory, on
/// stdout (the key dies with the process).
fn announce_root_key(
    root: &NewAccessKey,
    dir: Option<&std::path::Path>,
    address: SocketAddr,
) -> Result<(), String> {
    let Some(dir) = dir else {
        println!(
            "coffer created the root access key of this in-memory store: \
             aws_access_key_id = {} aws_secret_access_key = {} (valid until Coffer stops)",
            root.access_key_id,
            root.secret_access_key.expose()
        );
        return Ok(());
    };
    create_private_dir(dir)?;
    let path = credentials_path(dir);
    credentials_file::write_profile(&path, CREDENTIALS_PROFILE, root)?;
    // Printed once, when the key is made; later starts print nothing about it.
    println!(
        "coffer created the root access key {} and wrote it to {} (profile \"{CREDENTIALS_PROFILE}\"); \
         use it with AWS_SHARED_CREDENTIALS_FILE={} aws --profile {CREDENTIALS_PROFILE} \
         --endpoint-url http://{address} ..., or copy the profile into ~/.aws/credentials",
        root.access_key_id,
        path.display(),
        path.display(),
    );
    tracing::warn!(path = %path.display(), access_key_id = %root.access_key_id, "created the root access key");
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
