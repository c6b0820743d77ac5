//! Shared helpers of the end-to-end tests: a Coffer server on `127.0.0.1:0` (in-process, on a
//! manual clock) and clients of the official AWS SDK pointed at it.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::config::timeout::TimeoutConfig;
use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region, retry::RetryConfig};
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use coffer::auth::Authenticator;
use coffer::auth::credentials::{CredentialSource, StaticCredentials};
use coffer::clock::{Clock, ManualClock, Timestamp};
use coffer::server::{self, AppState};
use coffer::service::Service;
use coffer::store::Store;
use coffer::store::sqlite::SqliteStore;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub const ACCOUNT_ID: &str = "123456789012";
pub const REGION: &str = "us-east-1";
/// The access key of [`sdk_client`] for in-process servers (any key does in dev mode; verifying
/// ones are given it). Clients of `coffer` processes sign with the root key the process
/// bootstrapped instead.
pub const TEST_ACCESS_KEY_ID: &str = "AKIDCOFFERTEST";
pub const TEST_SECRET_ACCESS_KEY: &str = "coffer-test-secret-key";

pub struct TestServer {
    pub endpoint: String,
    pub clock: Arc<ManualClock>,
    pub service: Arc<Service>,
    /// What the server's handlers share, to drive its application without a socket.
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
    /// The database of a server on PostgreSQL; dropped after the server.
    database: Option<postgres::TestDatabase>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl TestServer {
    /// A server on an in-memory store; on a fresh PostgreSQL database instead when
    /// `COFFER_TEST_STORE=postgres` (to run the end-to-end suites against that backend too).
    pub async fn start() -> TestServer {
        if std::env::var("COFFER_TEST_STORE").is_ok_and(|store| store == "postgres") {
            let database = postgres::TestDatabase::create().await;
            let store = coffer::store::postgres::PostgresStore::connect(&database.url, 4)
                .await
                .expect("PostgreSQL store");
            let mut server = TestServer::start_with(Arc::new(store)).await;
            server.database = Some(database);
            return server;
        }
        let store = SqliteStore::in_memory().expect("in-memory store");
        TestServer::start_with(Arc::new(store)).await
    }

    pub async fn start_with(store: Arc<dyn Store>) -> TestServer {
        TestServer::start_authenticating(store, None).await
    }

    /// A server on an in-memory store that verifies signatures against `credentials` (not
    /// in development mode), on the server's manual clock.
    pub async fn start_verifying(credentials: StaticCredentials) -> TestServer {
        let store = SqliteStore::in_memory().expect("in-memory store");
        TestServer::start_authenticating(Arc::new(store), Some(Arc::new(credentials))).await
    }

    /// Development mode (any well-formed signature) without `credentials`; else verifying.
    async fn start_authenticating(
        store: Arc<dyn Store>,
        credentials: Option<Arc<dyn CredentialSource>>,
    ) -> TestServer {
        let clock = ManualClock::starting_now();
        let service = Arc::new(Service::new(
            store,
            clock.clone(),
            coffer::crypto::keys::RootKey::generate().expect("root key"),
        ));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
        let address = listener.local_addr().expect("local address");
        let authenticator = match credentials {
            None => Authenticator::dev(ACCOUNT_ID, clock.clone()),
            Some(source) => Authenticator::verifying(source, ACCOUNT_ID, clock.clone()),
        };
        let state = AppState {
            service: Arc::clone(&service),
            account_id: ACCOUNT_ID.into(),
            authenticator: Arc::new(authenticator),
        };
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(server::run(
            listener,
            server::app(state.clone()),
            async move {
                let _ = stopped.await;
            },
        ));
        TestServer {
            endpoint: format!("http://{address}"),
            clock,
            service,
            state,
            stop: Some(stop),
            database: None,
        }
    }

    pub fn client(&self) -> Client {
        self.client_in(REGION)
    }

    pub fn client_in(&self, region: &str) -> Client {
        sdk_client(&self.endpoint, region)
    }

    /// Creates a customer managed KMS key in `region` of the test account, with the alias
    /// `alias` (through the service's keyring, as the KMS API does); returns the key id.
    pub async fn kms_key_with_alias(&self, region: &str, alias: &str) -> String {
        use coffer::service::kms::model::{KeyManager, KmsAlias};
        let scope = coffer::service::model::Scope {
            account_id: ACCOUNT_ID.to_owned(),
            region: region.to_owned(),
        };
        let keyring = self.service.keyring();
        let record = keyring
            .new_key(
                &scope,
                format!("test key {alias}"),
                KeyManager::Customer,
                None,
            )
            .expect("new key material");
        let now = self.clock.now();
        let alias = KmsAlias {
            account_id: ACCOUNT_ID.to_owned(),
            region: region.to_owned(),
            name: alias.to_owned(),
            key_id: record.id,
            created_at: now,
            updated_at: now,
        };
        keyring
            .store()
            .create_kms_key(&record, Some(&alias))
            .await
            .expect("store the key and its alias");
        record.id.to_string()
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn advance_days(&self, days: u64) {
        self.clock.advance(Duration::from_secs(days * 24 * 60 * 60));
    }
}

/// A unique 36-character token, as the SDK would make.
pub fn token() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The AWS error code and message of a failed SDK call.
pub fn error_of<T, E>(
    result: Result<T, aws_sdk_secretsmanager::error::SdkError<E>>,
) -> (String, String)
where
    E: ProvideErrorMetadata + std::fmt::Debug,
    T: std::fmt::Debug,
{
    match result {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(error) => {
            let code = error
                .code()
                .unwrap_or_else(|| panic!("no error code in {error:?}"))
                .to_owned();
            let message = error.message().unwrap_or_default().to_owned();
            (code, message)
        }
    }
}
pub mod postgres;
pub mod process;

/// An SDK client for a Coffer at `endpoint`, signing for `region`, with retries off (so a
/// failure shows at once).
pub fn sdk_client(endpoint: &str, region: &str) -> Client {
    match process::credentials_for(endpoint) {
        // A `coffer` process started here: its root's access key.
        Some(credentials) => sdk_client_signing(
            endpoint,
            region,
            &credentials.access_key_id,
            &credentials.secret_access_key,
        ),
        None => sdk_client_signing(endpoint, region, TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY),
    }
}

/// Like [`sdk_client`] in [`REGION`], signing with another access key.
pub fn sdk_client_with(endpoint: &str, access_key_id: &str, secret: &str) -> Client {
    sdk_client_signing(endpoint, REGION, access_key_id, secret)
}

fn sdk_client_signing(endpoint: &str, region: &str, access_key_id: &str, secret: &str) -> Client {
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(region.to_owned()))
        .credentials_provider(Credentials::new(
            access_key_id.to_owned(),
            secret.to_owned(),
            None,
            None,
            "tests",
        ))
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(30))
                .build(),
        )
        .build();
    Client::from_conf(config)
}

/// Creates a secret with a string value; panics on failure.
pub async fn create(
    client: &Client,
    name: &str,
    value: &str,
) -> aws_sdk_secretsmanager::operation::create_secret::CreateSecretOutput {
    client
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .unwrap_or_else(|error| panic!("create {name}: {error:?}"))
}

/// DescribeSecret; panics on failure.
pub async fn describe(
    client: &Client,
    secret_id: &str,
) -> aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput {
    client
        .describe_secret()
        .secret_id(secret_id)
        .send()
        .await
        .unwrap_or_else(|error| panic!("describe {secret_id}: {error:?}"))
}

/// GetSecretValue of the current version; panics on failure.
pub async fn get(
    client: &Client,
    secret_id: &str,
) -> aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueOutput {
    client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .unwrap_or_else(|error| panic!("get {secret_id}: {error:?}"))
}
