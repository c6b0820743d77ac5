//! The embedded default backend: one SQLite file in WAL mode, or a private in-memory database.
//!
//! Writes go to one writer thread that owns the only write connection. It takes every write
//! that is waiting, runs each inside its own savepoint of one transaction, commits once and
//! only then answers them all: a group commit, so many concurrent writers share one fsync
//! while each is still acknowledged only once it is durable (`synchronous = FULL`). Reads run on
//! a small pool of read connections, each read in its own transaction (a consistent snapshot);
//! WAL lets them proceed while the writer commits. The in-memory database has a single
//! connection, so there the writer thread serves reads too.

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};
use tokio::sync::{Semaphore, mpsc, oneshot};
use zeroize::Zeroizing;

use super::{NewValue, SecretWrite, Store, StoreError, StoredValue};
use crate::clock::Timestamp;
use crate::crypto::ValueKind;
use crate::service::model::{Deletion, Scope, Secret, SecretId, Tag, Version};

/// Schema migrations, applied in order at open; each runs once, in one transaction with the
/// bump of `schema_version`. Never edit a migration that has shipped: add a new one.
const MIGRATIONS: &[&str] = &[
    // 1: secrets and their versions.
    "CREATE TABLE secrets (
        id INTEGER PRIMARY KEY,
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        arn TEXT NOT NULL UNIQUE,
        revision INTEGER NOT NULL,
        description TEXT,
        kms_key_id TEXT,
        secret_type TEXT,
        tags TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_changed_at INTEGER NOT NULL,
        last_accessed_day INTEGER,
        deletion_requested_at INTEGER,
        purge_at INTEGER,
        UNIQUE (account_id, region, name)
    ) STRICT;
    CREATE INDEX secrets_purge_at ON secrets (purge_at) WHERE purge_at IS NOT NULL;
    CREATE TABLE versions (
        secret_id INTEGER NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
        version_id TEXT NOT NULL,
        ordinal INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        stages TEXT NOT NULL,
        last_accessed_day INTEGER,
        kms_key_id TEXT,
        value_kind INTEGER NOT NULL,
        value BLOB NOT NULL,
        PRIMARY KEY (secret_id, version_id)
    ) STRICT;",
];

/// Most writes committed together in one transaction.
const MAX_BATCH: usize = 256;
/// Read connections for a file database.
const READERS: usize = 4;

type Completion = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// A unit of work for the writer thread. It runs against the connection (inside a savepoint)
/// and returns whether it succeeded and how to answer its caller once the commit is known.
type Job = Box<dyn FnOnce(&Connection) -> (bool, Completion) + Send>;

pub struct SqliteStore {
    writer: mpsc::UnboundedSender<Job>,
    readers: Option<Arc<ReaderPool>>,
}

struct ReaderPool {
    connections: Mutex<Vec<Connection>>,
    permits: Semaphore,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and applies pending migrations.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let writer = Connection::open(path).map_err(backend)?;
        configure(&writer, true)?;
        migrate(&writer)?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let reader = Connection::open(path).map_err(backend)?;
            configure(&reader, true)?;
            readers.push(reader);
        }
        Ok(SqliteStore {
            writer: spawn_writer(writer),
            readers: Some(Arc::new(ReaderPool {
                connections: Mutex::new(readers),
                permits: Semaphore::new(READERS),
            })),
        })
    }

    /// A private database that lives in memory and is gone when the store is dropped.
    pub fn in_memory() -> Result<SqliteStore, StoreError> {
        let connection = Connection::open_in_memory().map_err(backend)?;
        configure(&connection, false)?;
        migrate(&connection)?;
        Ok(SqliteStore {
            writer: spawn_writer(connection),
            readers: None,
        })
    }

    /// Runs `work` on the writer thread inside the current batch's transaction and returns its
    /// result once that transaction has committed.
    async fn write<R: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |connection| {
            let result = work(connection);
            let succeeded = result.is_ok();
            let completion: Completion = Box::new(move |commit| {
                let _ = reply.send(commit.and(result));
            });
            (succeeded, completion)
        });
        self.writer
            .send(job)
            .map_err(|_| StoreError::Backend("the writer thread has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Backend("the writer thread dropped a write".into()))?
    }

    /// Runs `work` in a read transaction on a reader connection (or on the writer thread for an
    /// in-memory database).
    async fn read<R: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let Some(pool) = &self.readers else {
            return self.write(work).await;
        };
        let _permit = pool
            .permits
            .acquire()
            .await
            .map_err(|_| StoreError::Backend("reader pool closed".into()))?;
        let pool = Arc::clone(pool);
        tokio::task::spawn_blocking(move || {
            let connection = pool
                .connections
                .lock()
                .map_err(|_| StoreError::Backend("reader pool poisoned".into()))?
                .pop()
                .ok_or_else(|| StoreError::Backend("no reader connection free".into()))?;
            let result = read_transaction(&connection, work);
            if let Ok(mut connections) = pool.connections.lock() {
                connections.push(connection);
            }
            result
        })
        .await
        .map_err(|error| StoreError::Backend(format!("reader task failed: {error}")))?
    }
}

fn read_transaction<R>(
    connection: &Connection,
    work: impl FnOnce(&Connection) -> Result<R, StoreError>,
) -> Result<R, StoreError> {
    connection.execute_batch("BEGIN").map_err(backend)?;
    let result = work(connection);
    if let Err(error) = connection.execute_batch("COMMIT") {
        // Never hand a connection back to the pool with a transaction still open.
        let _ = connection.execute_batch("ROLLBACK");
        return Err(backend(error));
    }
    result
}

fn configure(connection: &Connection, on_disk: bool) -> Result<(), StoreError> {
    if on_disk {
        // WAL: readers never block the writer nor the other way round. FULL: a commit is
        // fsynced before it returns, so an acknowledged write survives a crash or power loss.
        let mode: String = connection
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .map_err(backend)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(format!(
                "could not enable WAL (got {mode})"
            )));
        }
        connection
            .execute_batch("PRAGMA synchronous = FULL;")
            .map_err(backend)?;
    }
    connection
        .execute_batch("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;")
        .map_err(backend)
}

fn migrate(connection: &Connection) -> Result<(), StoreError> {
    connection
        .execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at INTEGER NOT NULL)",
        )
        .map_err(backend)?;
    let applied: i64 = connection
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_version",
            [],
            |row| row.get(0),
        )
        .map_err(backend)?;
    let known = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
    if applied > known {
        return Err(StoreError::Backend(format!(
            "the database has schema version {applied}, newer than this build of Coffer knows ({known}); \
             use a newer Coffer"
        )));
    }
    for (version, migration) in (1..)
        .zip(MIGRATIONS)
        .skip(usize::try_from(applied).unwrap_or(0))
    {
        connection
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(backend)?;
        let result = connection.execute_batch(migration).and_then(|()| {
            connection.execute(
                "INSERT INTO schema_version (version, applied_at) VALUES (?1, strftime('%s', 'now'))",
                [version],
            )
        });
        match result {
            Ok(_) => connection.execute_batch("COMMIT").map_err(backend)?,
            Err(error) => {
                let _ = connection.execute_batch("ROLLBACK");
                return Err(StoreError::Backend(format!(
                    "migration {version} failed: {error}"
                )));
            }
        }
    }
    Ok(())
}

fn spawn_writer(connection: Connection) -> mpsc::UnboundedSender<Job> {
    let (sender, receiver) = mpsc::unbounded_channel();
    thread::Builder::new()
        .name("coffer-sqlite-writer".into())
        .spawn(move || run_writer(connection, receiver))
        .map(|_| ())
        .unwrap_or_else(
            |error| tracing::error!(%error, "could not start the SQLite writer thread"),
        );
    sender
}

/// The writer loop: one transaction per batch of waiting jobs, each job in its own savepoint
/// so that one failing job (a conflict, say) does not undo the others.
fn run_writer(connection: Connection, mut receiver: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = receiver.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if let Err(error) = connection.execute_batch("BEGIN IMMEDIATE") {
            // Dropping the jobs unanswered tells each caller that its write was not made.
            tracing::error!(%error, "could not begin a SQLite transaction");
            drop(batch);
            continue;
        }
        let completions: Vec<Completion> = batch
            .into_iter()
            .map(|job| run_job(&connection, job).1)
            .collect();
        match connection.execute_batch("COMMIT") {
            Ok(()) => completions
                .into_iter()
                .for_each(|complete| complete(Ok(()))),
            Err(error) => {
                let _ = connection.execute_batch("ROLLBACK");
                tracing::error!(%error, "SQLite commit failed");
                let message = error.to_string();
                for complete in completions {
                    complete(Err(StoreError::Backend(message.clone())));
                }
            }
        }
    }
}

/// Runs one job in a savepoint, rolling the savepoint back if the job failed or panicked.
fn run_job(connection: &Connection, job: Job) -> (bool, Completion) {
    if let Err(error) = connection.execute_batch("SAVEPOINT job") {
        let message = error.to_string();
        return (
            false,
            Box::new(move |_| tracing::error!(%message, "could not open a savepoint")),
        );
    }
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| job(connection)));
    let (succeeded, completion) = match outcome {
        Ok(outcome) => outcome,
        Err(_) => {
            tracing::error!("a storage job panicked; its changes are rolled back");
            (false, Box::new(|_| {}) as Completion)
        }
    };
    let end = if succeeded {
        "RELEASE job"
    } else {
        "ROLLBACK TO job; RELEASE job"
    };
    if let Err(error) = connection.execute_batch(end) {
        tracing::error!(%error, "could not close a savepoint");
    }
    (succeeded, completion)
}

fn backend(error: rusqlite::Error) -> StoreError {
    StoreError::Backend(error.to_string())
}

fn encode_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|error| StoreError::Corrupt(error.to_string()))
}

fn decode_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|error| StoreError::Corrupt(error.to_string()))
}

fn encode_kind(kind: ValueKind) -> i64 {
    match kind {
        ValueKind::String => 0,
        ValueKind::Binary => 1,
    }
}

fn decode_kind(code: i64) -> Result<ValueKind, StoreError> {
    match code {
        0 => Ok(ValueKind::String),
        1 => Ok(ValueKind::Binary),
        other => Err(StoreError::Corrupt(format!("unknown value kind {other}"))),
    }
}

const SECRET_COLUMNS: &str = "id, revision, account_id, region, name, arn, description, kms_key_id, \
     secret_type, tags, created_at, last_changed_at, last_accessed_day, deletion_requested_at, purge_at";

fn secret_from_row(row: &Row<'_>) -> rusqlite::Result<(Secret, String)> {
    let requested: Option<i64> = row.get(13)?;
    let purge: Option<i64> = row.get(14)?;
    let deletion = requested.zip(purge).map(|(requested, purge)| Deletion {
        requested_at: Timestamp::from_millis(requested),
        purge_at: Timestamp::from_millis(purge),
    });
    let secret = Secret {
        id: row.get(0)?,
        revision: row.get(1)?,
        scope: Scope {
            account_id: row.get(2)?,
            region: row.get(3)?,
        },
        name: row.get(4)?,
        arn: row.get(5)?,
        description: row.get(6)?,
        kms_key_id: row.get(7)?,
        secret_type: row.get(8)?,
        tags: None,
        created_at: Timestamp::from_millis(row.get(10)?),
        last_changed_at: Timestamp::from_millis(row.get(11)?),
        last_accessed_day: row.get::<_, Option<i64>>(12)?.map(Timestamp::from_millis),
        deletion,
        versions: Vec::new(),
    };
    Ok((secret, row.get(9)?))
}

/// Loads the secret matched by `filter` (a `WHERE` clause over `secrets`) with its versions.
fn load_secret(
    connection: &Connection,
    filter: &str,
    arguments: &[&dyn rusqlite::ToSql],
) -> Result<Option<Secret>, StoreError> {
    let sql = format!("SELECT {SECRET_COLUMNS} FROM secrets WHERE {filter}");
    let found = connection
        .prepare_cached(&sql)
        .map_err(backend)?
        .query_row(arguments, secret_from_row)
        .optional()
        .map_err(backend)?;
    let Some((mut secret, tags)) = found else {
        return Ok(None);
    };
    let tags: Option<Vec<(String, String)>> = decode_json(&tags)?;
    secret.tags = tags.map(|tags| {
        tags.into_iter()
            .map(|(key, value)| Tag { key, value })
            .collect()
    });
    let mut statement = connection
        .prepare_cached(
            "SELECT version_id, ordinal, created_at, stages, last_accessed_day, kms_key_id
             FROM versions WHERE secret_id = ?1 ORDER BY ordinal",
        )
        .map_err(backend)?;
    let rows = statement
        .query_map([secret.id], |row| {
            Ok((
                Version {
                    id: row.get(0)?,
                    ordinal: row.get(1)?,
                    created_at: Timestamp::from_millis(row.get(2)?),
                    stages: Vec::new(),
                    last_accessed_day: row.get::<_, Option<i64>>(4)?.map(Timestamp::from_millis),
                    kms_key_id: row.get(5)?,
                },
                row.get::<_, String>(3)?,
            ))
        })
        .map_err(backend)?;
    for row in rows {
        let (mut version, stages) = row.map_err(backend)?;
        version.stages = decode_json(&stages)?;
        secret.versions.push(version);
    }
    Ok(Some(secret))
}

/// Owned copies of what a write needs, so it can move to the writer thread.
struct OwnedValue {
    version_id: String,
    kind: ValueKind,
    bytes: Zeroizing<Vec<u8>>,
}

fn own_values(values: &[NewValue<'_>]) -> Vec<OwnedValue> {
    values
        .iter()
        .map(|new| OwnedValue {
            version_id: new.version_id.to_owned(),
            kind: new.value.kind,
            bytes: new.value.bytes.clone(),
        })
        .collect()
}

fn tags_json(secret: &Secret) -> Result<String, StoreError> {
    let tags: Option<Vec<(&str, &str)>> = secret.tags.as_ref().map(|tags| {
        tags.iter()
            .map(|tag| (tag.key.as_str(), tag.value.as_str()))
            .collect()
    });
    encode_json(&tags)
}

fn insert_version(
    connection: &Connection,
    secret_id: SecretId,
    version: &Version,
    value: &OwnedValue,
) -> Result<(), StoreError> {
    connection
        .prepare_cached(
            "INSERT INTO versions (secret_id, version_id, ordinal, created_at, stages,
                 last_accessed_day, kms_key_id, value_kind, value)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .map_err(backend)?
        .execute(params![
            secret_id,
            version.id,
            version.ordinal,
            version.created_at.as_millis(),
            encode_json(&version.stages)?,
            version.last_accessed_day.map(Timestamp::as_millis),
            version.kms_key_id,
            encode_kind(value.kind),
            &value.bytes[..],
        ])
        .map_err(backend)?;
    Ok(())
}

fn insert_versions(
    connection: &Connection,
    secret: &Secret,
    added: &[String],
    values: &[OwnedValue],
) -> Result<(), StoreError> {
    for version_id in added {
        let version = secret.version(version_id).ok_or_else(|| {
            StoreError::Corrupt(format!("added version {version_id} is not in the secret"))
        })?;
        let value = values
            .iter()
            .find(|value| &value.version_id == version_id)
            .ok_or_else(|| {
                StoreError::Corrupt(format!("no value for added version {version_id}"))
            })?;
        insert_version(connection, secret.id, version, value)?;
    }
    Ok(())
}

fn is_unique_violation(error: &rusqlite::Error, column: &str) -> bool {
    matches!(error, rusqlite::Error::SqliteFailure(code, Some(message))
        if code.code == rusqlite::ErrorCode::ConstraintViolation && message.contains(column))
}

#[async_trait]
impl Store for SqliteStore {
    async fn create(
        &self,
        secret: &Secret,
        new_values: &[NewValue<'_>],
    ) -> Result<SecretId, StoreError> {
        let mut secret = secret.clone();
        let values = own_values(new_values);
        self.write(move |connection| {
            let tags = tags_json(&secret)?;
            let inserted = connection
                .prepare_cached(
                    "INSERT INTO secrets (account_id, region, name, arn, revision, description,
                         kms_key_id, secret_type, tags, created_at, last_changed_at,
                         last_accessed_day, deletion_requested_at, purge_at)
                     VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                )
                .map_err(backend)?
                .insert(params![
                    secret.scope.account_id,
                    secret.scope.region,
                    secret.name,
                    secret.arn,
                    secret.description,
                    secret.kms_key_id,
                    secret.secret_type,
                    tags,
                    secret.created_at.as_millis(),
                    secret.last_changed_at.as_millis(),
                    secret.last_accessed_day.map(Timestamp::as_millis),
                    secret.deletion.map(|d| d.requested_at.as_millis()),
                    secret.deletion.map(|d| d.purge_at.as_millis()),
                ]);
            secret.id = match inserted {
                Ok(id) => id,
                Err(error) if is_unique_violation(&error, "secrets.arn") => {
                    return Err(StoreError::ArnTaken);
                }
                Err(error) if is_unique_violation(&error, "secrets.name") => {
                    return Err(StoreError::NameTaken);
                }
                Err(error) => return Err(backend(error)),
            };
            let added: Vec<String> = secret.versions.iter().map(|v| v.id.clone()).collect();
            insert_versions(connection, &secret, &added, &values)?;
            Ok(secret.id)
        })
        .await
    }

    async fn load_by_name(&self, scope: &Scope, name: &str) -> Result<Option<Secret>, StoreError> {
        let (account, region, name) = (
            scope.account_id.clone(),
            scope.region.clone(),
            name.to_owned(),
        );
        self.read(move |connection| {
            load_secret(
                connection,
                "account_id = ?1 AND region = ?2 AND name = ?3",
                &[&account, &region, &name],
            )
        })
        .await
    }

    async fn load_by_arn(&self, arn: &str) -> Result<Option<Secret>, StoreError> {
        let arn = arn.to_owned();
        self.read(move |connection| load_secret(connection, "arn = ?1", &[&arn]))
            .await
    }

    async fn load_value(
        &self,
        secret: SecretId,
        version_id: &str,
    ) -> Result<Option<StoredValue>, StoreError> {
        let version_id = version_id.to_owned();
        self.read(move |connection| {
            let row = connection
                .prepare_cached("SELECT value_kind, value FROM versions WHERE secret_id = ?1 AND version_id = ?2")
                .map_err(backend)?
                .query_row(params![secret, version_id], |row| {
                    Ok((row.get::<_, i64>(0)?, Zeroizing::new(row.get::<_, Vec<u8>>(1)?)))
                })
                .optional()
                .map_err(backend)?;
            row.map(|(kind, bytes)| Ok(StoredValue { kind: decode_kind(kind)?, bytes }))
                .transpose()
        })
        .await
    }

    async fn save(&self, write: SecretWrite<'_>) -> Result<(), StoreError> {
        let secret = write.secret.clone();
        let added = write.changes.added.clone();
        let relabelled = write.changes.relabelled.clone();
        let removed = write.changes.removed.clone();
        let values = own_values(write.new_values);
        self.write(move |connection| {
            let updated = connection
                .prepare_cached(
                    "UPDATE secrets SET revision = revision + 1, description = ?3, kms_key_id = ?4,
                         secret_type = ?5, tags = ?6, last_changed_at = ?7,
                         deletion_requested_at = ?8, purge_at = ?9
                     WHERE id = ?1 AND revision = ?2",
                )
                .map_err(backend)?
                .execute(params![
                    secret.id,
                    secret.revision,
                    secret.description,
                    secret.kms_key_id,
                    secret.secret_type,
                    tags_json(&secret)?,
                    secret.last_changed_at.as_millis(),
                    secret.deletion.map(|d| d.requested_at.as_millis()),
                    secret.deletion.map(|d| d.purge_at.as_millis()),
                ])
                .map_err(backend)?;
            if updated == 0 {
                return Err(StoreError::Conflict);
            }
            for version_id in &removed {
                connection
                    .prepare_cached("DELETE FROM versions WHERE secret_id = ?1 AND version_id = ?2")
                    .map_err(backend)?
                    .execute(params![secret.id, version_id])
                    .map_err(backend)?;
            }
            for version_id in &relabelled {
                let Some(version) = secret.version(version_id) else {
                    continue;
                };
                connection
                    .prepare_cached(
                        "UPDATE versions SET stages = ?3, kms_key_id = ?4 WHERE secret_id = ?1 AND version_id = ?2",
                    )
                    .map_err(backend)?
                    .execute(params![
                        secret.id,
                        version_id,
                        encode_json(&version.stages)?,
                        version.kms_key_id
                    ])
                    .map_err(backend)?;
            }
            insert_versions(connection, &secret, &added, &values)
        })
        .await
    }

    async fn delete(&self, secret: SecretId, revision: i64) -> Result<(), StoreError> {
        self.write(move |connection| {
            let deleted = connection
                .prepare_cached("DELETE FROM secrets WHERE id = ?1 AND revision = ?2")
                .map_err(backend)?
                .execute(params![secret, revision])
                .map_err(backend)?;
            if deleted == 0 {
                return Err(StoreError::Conflict);
            }
            Ok(())
        })
        .await
    }

    async fn record_access(
        &self,
        secret: SecretId,
        version_id: &str,
        day: Timestamp,
    ) -> Result<(), StoreError> {
        let version_id = version_id.to_owned();
        self.write(move |connection| {
            let day = day.as_millis();
            connection
                .prepare_cached(
                    "UPDATE secrets SET last_accessed_day = ?2
                     WHERE id = ?1 AND (last_accessed_day IS NULL OR last_accessed_day < ?2)",
                )
                .map_err(backend)?
                .execute(params![secret, day])
                .map_err(backend)?;
            connection
                .prepare_cached(
                    "UPDATE versions SET last_accessed_day = ?3
                     WHERE secret_id = ?1 AND version_id = ?2
                       AND (last_accessed_day IS NULL OR last_accessed_day < ?3)",
                )
                .map_err(backend)?
                .execute(params![secret, version_id, day])
                .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn due_for_purge(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<(SecretId, i64)>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |connection| {
            let mut statement = connection
                .prepare_cached(
                    "SELECT id, revision FROM secrets WHERE purge_at IS NOT NULL AND purge_at <= ?1
                     ORDER BY purge_at LIMIT ?2",
                )
                .map_err(backend)?;
            let rows = statement
                .query_map(params![now.as_millis(), limit], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(backend)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    mod in_memory {
        crate::store::conformance::conformance_tests!((
            std::sync::Arc::new(
                crate::store::sqlite::SqliteStore::in_memory()
                    .unwrap_or_else(|error| panic!("{error}"))
            ),
            ()
        ));
    }

    mod on_disk {
        crate::store::conformance::conformance_tests!({
            let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
            let store = crate::store::sqlite::SqliteStore::open(&dir.path().join("coffer.db"))
                .unwrap_or_else(|error| panic!("{error}"));
            (std::sync::Arc::new(store), dir)
        });
    }
}
