//! A fresh PostgreSQL database per test, on the server named by `COFFER_TEST_POSTGRES_URL`
//! (`scripts/test` sets it up; see `scripts/postgres-env`).

use tokio_postgres::NoTls;

pub const URL_VARIABLE: &str = "COFFER_TEST_POSTGRES_URL";

/// A database created for one test, dropped (connections and all) when this is dropped.
pub struct TestDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

/// `url` with its database replaced by `database`.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |at| at + 3);
    let authority_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |at| authority_start + at);
    format!("{}/{database}{query}", &base[..authority_end])
}

pub async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|error| panic!("cannot connect to PostgreSQL: {error:?}"));
    tokio::spawn(connection);
    client
}

impl TestDatabase {
    pub async fn create() -> TestDatabase {
        let admin_url = std::env::var(URL_VARIABLE).unwrap_or_else(|_| {
            panic!(
                "{URL_VARIABLE} is not set. The PostgreSQL tests need a server and a role that \
                 may create databases: run ./scripts/test (it starts the local PostgreSQL and \
                 sets the variable), or `eval \"$(scripts/postgres-env)\"` before cargo test, or \
                 set it yourself, e.g. \
                 {URL_VARIABLE}=postgres://coffer_test:coffer_test@127.0.0.1:5432/postgres"
            )
        });
        let name = format!("coffer_test_{}", uuid::Uuid::new_v4().simple());
        connect(&admin_url)
            .await
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|error| panic!("cannot create a test database: {error:?}"));
        let url = with_database(&admin_url, &name);
        TestDatabase {
            admin_url,
            name,
            url,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop may run inside a runtime: drop the database from a thread of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                connect(&url)
                    .await
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("could not drop the test database {}", self.name);
        }
    }
}
