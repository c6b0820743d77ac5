//! The embedded default backend: one SQLite file in WAL mode, or a private in-memory database.
//!
//! Writes go to one writer thread that owns the only write connection. It takes every write
//! that is waiting, runs each inside its own savepoint of one transaction, commits once and
//! only then answers them all: a group commit, so many concurrent writers share one fsync
//! while each is still acknowledged only once it is durable (`synchronous = FULL`). Reads run on
//! a small pool of read connections, each read in its own transaction (a consistent snapshot);
//! WAL lets them proceed while the writer commits. The in-memory database has a single
//! connection, so there the writer thread serves reads too.
//!
//! Loaded secrets and sealed values are kept in a [`SecretCache`]: every write goes through
//! the writer's connection, whose triggers note the secrets each transaction touches,
//! and the writer drops those from the cache before it answers (see [`super::cache`]).

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};
use tokio::sync::{Semaphore, mpsc, oneshot};
use zeroize::Zeroizing;

use super::cache::SecretCache;
use super::{
    ListPosition, ListQuery, NewValue, PositionKey, SecretWrite, SortKey, Store, StoreError,
    StoredValue,
};
use crate::audit::{self, AuditEvent, AuditQuery, Change, StoredAuditEvent};
use crate::clock::Timestamp;
use crate::crypto::ValueKind;
use crate::service::identity::model::{AccessKeyRecord, RootBootstrap, UserPolicy, UserRecord};
use crate::service::kms::model::{KmsAlias, KmsKeyRecord};
use crate::service::model::{Deletion, ReplicaView, Scope, Secret, SecretId, Tag, Version};

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
    // 2: resource policies, rotation, replicas (records in their own region pointing at their
    // primary), the indexes of listings, and settings.
    "ALTER TABLE secrets ADD COLUMN primary_id INTEGER REFERENCES secrets (id) ON DELETE CASCADE;
    ALTER TABLE secrets ADD COLUMN resource_policy TEXT;
    ALTER TABLE secrets ADD COLUMN rotation TEXT;
    ALTER TABLE secrets ADD COLUMN replicas TEXT;
    CREATE INDEX secrets_replicas ON secrets (primary_id) WHERE primary_id IS NOT NULL;
    CREATE INDEX secrets_by_created ON secrets (account_id, region, created_at, id);
    CREATE INDEX secrets_by_changed ON secrets (account_id, region, last_changed_at, id);
    CREATE INDEX secrets_by_accessed
        ON secrets (account_id, region, coalesce(last_accessed_day, 0), id);
    CREATE INDEX secrets_by_name ON secrets (account_id, region, name, id);
    CREATE TABLE settings (name TEXT PRIMARY KEY, value BLOB NOT NULL) STRICT;",
    // 3: leases of background jobs, so that one node at a time runs each.
    "CREATE TABLE jobs (name TEXT PRIMARY KEY, holder TEXT NOT NULL, lease_until INTEGER NOT NULL) STRICT;",
    // 4: encryption at rest: whether each stored value is a sealed record (existing values
    // are plaintext), and KMS keys (the record as JSON in `body`, with the columns that are
    // queried) and their aliases.
    "ALTER TABLE versions ADD COLUMN sealed INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX versions_plain ON versions (secret_id) WHERE sealed = 0;
    CREATE TABLE kms_keys (
        id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        revision INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        due_at INTEGER,
        body TEXT NOT NULL
    ) STRICT;
    CREATE INDEX kms_keys_by_scope ON kms_keys (account_id, region, id);
    CREATE INDEX kms_keys_due ON kms_keys (due_at) WHERE due_at IS NOT NULL;
    CREATE TABLE kms_aliases (
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        key_id TEXT NOT NULL REFERENCES kms_keys (id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (account_id, region, name)
    ) STRICT;
    CREATE INDEX kms_aliases_by_key ON kms_aliases (key_id);",
    // 5: identities: IAM users (names unique per account regardless of ASCII case), access
    // keys (of a user, or of the account's root when `user_id` is NULL; secrets sealed under
    // the root key), users' inline policies, and the accounts whose root key was bootstrapped.
    "CREATE TABLE iam_users (
        id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        name TEXT NOT NULL,
        arn TEXT NOT NULL,
        enabled INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        revision INTEGER NOT NULL
    ) STRICT;
    CREATE UNIQUE INDEX iam_users_name_unique ON iam_users (account_id, lower(name));
    CREATE TABLE iam_access_keys (
        id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        user_id TEXT REFERENCES iam_users (id) ON DELETE CASCADE,
        enabled INTEGER NOT NULL,
        secret BLOB NOT NULL,
        session_token BLOB,
        expires_at INTEGER,
        created_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX iam_access_keys_by_user ON iam_access_keys (account_id, user_id, id);
    CREATE TABLE iam_user_policies (
        user_id TEXT NOT NULL REFERENCES iam_users (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        document TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (user_id, name)
    ) STRICT;
    CREATE TABLE iam_root_bootstrap (
        account_id TEXT PRIMARY KEY,
        access_key_id TEXT NOT NULL,
        created_at INTEGER NOT NULL
    ) STRICT;",
    // 6: the audit trail: one row per API call, the CloudTrail event as JSON in `event` with
    // the columns that are queried. Append-only: updates and deletes are refused.
    // `seq` is the rowid: rows are never deleted, so it only grows (no AUTOINCREMENT
    // bookkeeping); event ids are random UUIDs (no unique index to maintain per insert).
    "CREATE TABLE audit_events (
        seq INTEGER PRIMARY KEY,
        event_id TEXT NOT NULL,
        event_time INTEGER NOT NULL,
        event_source TEXT NOT NULL,
        event_name TEXT NOT NULL,
        region TEXT,
        user_arn TEXT,
        user_name TEXT,
        access_key_id TEXT,
        resource_arn TEXT,
        resource_name TEXT,
        error_code TEXT,
        read_only INTEGER NOT NULL,
        event TEXT NOT NULL
    ) STRICT;
    CREATE INDEX audit_events_by_time ON audit_events (event_time);
    CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
    CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;",
    // 7: a covering index of version metadata in load order: loading a secret reads its
    // versions from this index alone, not from the table rows that carry the values (a row
    // per version of about 1.2 KB, so one page per version or two), and needs no sort.
    "CREATE INDEX versions_metadata ON versions
        (secret_id, ordinal, version_id, created_at, stages, last_accessed_day, kms_key_id);",
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
    /// Audit events of calls that changed nothing, waiting for the writer: one writer job
    /// inserts every event waiting when it runs, so a burst of reads costs one job, not one
    /// per read.
    pending_audit: Arc<Mutex<Vec<AuditEvent>>>,
    /// Days of reads not yet written (see [`Store::record_access`] below): written by one
    /// writer job a moment after the first, and shown by this store's loads meanwhile.
    pending_access: Arc<Mutex<PendingAccess>>,
    /// Secrets and sealed values as last loaded, dropped by the writer when it changes them.
    cache: Arc<SecretCache>,
}

/// Read days waiting for the writer.
#[derive(Default)]
struct PendingAccess {
    /// Per secret record: the day, and the day per version read.
    records: HashMap<SecretId, (i64, HashMap<String, i64>)>,
    /// Per primary: the days of its replicas' records in `records`, by region (a primary
    /// shows its replicas' days).
    replicas: HashMap<SecretId, HashMap<String, i64>>,
}

/// How long a read's day waits for others to share its commit. A crash loses at most this
/// much of them: the next read of the day records it again. A second, not less: the first
/// reads of a day are scattered over the secrets, and each dirties a page of `secrets`, one
/// of its listing index and those of its version, so the more a commit gathers, the more
/// of them share a page (get-spread over 10,000 secrets: 25,800 req/s with 50 ms, 27,200
/// with 1 s, 28,100 with no days written at all; docs/benchmarks.md).
const ACCESS_BATCH_DELAY: std::time::Duration = std::time::Duration::from_secs(1);

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
        let cache = Arc::new(SecretCache::new(super::cache::DEFAULT_BUDGET_BYTES));
        let writer = spawn_writer(writer, Arc::clone(&cache))?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let reader = Connection::open(path).map_err(backend)?;
            configure(&reader, true)?;
            readers.push(reader);
        }
        Ok(SqliteStore {
            pending_audit: Arc::new(Mutex::new(Vec::new())),
            pending_access: Arc::default(),
            writer,
            cache,
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
        let cache = Arc::new(SecretCache::new(super::cache::DEFAULT_BUDGET_BYTES));
        Ok(SqliteStore {
            pending_audit: Arc::new(Mutex::new(Vec::new())),
            pending_access: Arc::default(),
            writer: spawn_writer(connection, Arc::clone(&cache))?,
            cache,
            readers: None,
        })
    }

    /// Runs `work` on the writer thread inside the current batch's transaction and returns its
    /// result once that transaction has committed.
    async fn write<R: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        self.run_answered(|reply| {
            Box::new(move |connection| {
                let result = work(connection);
                let succeeded = result.is_ok();
                let completion: Completion = Box::new(move |commit| {
                    let _ = reply.send(commit.and(result));
                });
                (succeeded, completion)
            })
        })
        .await
    }

    /// Hands the writer the job `make` builds around a reply channel, and waits for the
    /// answer the job's completion sends once its transaction is over.
    async fn run_answered<R: Send + 'static>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<R, StoreError>>) -> Job,
    ) -> Result<R, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(make(reply))
            .map_err(|_| StoreError::Backend("the writer thread has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Backend("the writer thread dropped a write".into()))?
    }

    /// [`SqliteStore::write`] for a write that may be a call's change: the call's event, if
    /// no write carried it yet, is inserted in the same savepoint (see [`audit::for_change`]).
    async fn audited_write<R: Send + 'static>(
        &self,
        change: impl FnOnce() -> Change,
        work: impl FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let pending = audit::for_change(change);
        self.write_with_event(pending, |_| true, work).await
    }

    /// Runs `work` and, if it `changed` something, inserts `pending`'s event in the same
    /// savepoint.
    async fn write_with_event<R: Send + 'static>(
        &self,
        pending: Option<audit::PendingWrite>,
        changed: fn(&R) -> bool,
        work: impl FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let event = pending.as_ref().map(|pending| pending.event.clone());
        let result = self
            .write(move |connection| {
                let value = work(connection)?;
                if let Some(event) = &event
                    && changed(&value)
                {
                    insert_audit(connection, event)?;
                }
                Ok(value)
            })
            .await;
        match &result {
            Ok(value) if changed(value) => audit::settle(pending, &result),
            _ => {}
        }
        result
    }

    /// Runs `work` in a read transaction on a reader connection (or on the writer thread for an
    /// in-memory database).
    ///
    /// A read runs inline on the calling task when a reader connection is free: reads are
    /// answered from SQLite's page cache in microseconds, and handing each one to a blocking
    /// thread and back cost more than the read itself (two thread switches per read, a third
    /// of the CPU time of GetSecretValue in profiles). When every reader is busy, the read
    /// waits for one on a blocking thread instead.
    async fn read<R: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        self.read_on_reader(work, true).await
    }

    /// Writes the read days waiting, and returns once they are committed.
    async fn write_days(&self) -> Result<(), StoreError> {
        self.run_answered(|reply| {
            days_job(
                Arc::clone(&self.pending_access),
                Arc::clone(&self.cache),
                move |outcome| {
                    let _ = reply.send(outcome);
                },
            )
        })
        .await
    }

    /// Loads a secret the cache did not have, and offers it to the cache as loaded (before
    /// the read days waiting are shown on it).
    async fn load_and_keep(
        &self,
        load: impl FnOnce(&Connection) -> Result<Option<Secret>, StoreError> + Send + 'static,
    ) -> Result<Option<Secret>, StoreError> {
        let ticket = self.cache.ticket();
        let found = self.read(load).await;
        if let Ok(Some(secret)) = &found {
            self.cache.offer(ticket, secret);
        }
        found
    }

    /// A read of one statement: SQLite's implicit transaction makes it consistent, so the
    /// `BEGIN`/`COMMIT` around it would only cost time.
    async fn read_one_statement<R: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        self.read_on_reader(work, false).await
    }

    async fn read_on_reader<R: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
        transaction: bool,
    ) -> Result<R, StoreError> {
        let Some(pool) = &self.readers else {
            return self.write(work).await;
        };
        let run = move |connection: &Connection| {
            if transaction {
                read_transaction(connection, work)
            } else {
                work(connection)
            }
        };
        if let Ok(_permit) = pool.permits.try_acquire()
            && let Some(connection) = pool.take()
        {
            let result = run(&connection);
            pool.give_back(connection);
            return result;
        }
        let _permit = pool
            .permits
            .acquire()
            .await
            .map_err(|_| StoreError::Backend("reader pool closed".into()))?;
        let pool = Arc::clone(pool);
        tokio::task::spawn_blocking(move || {
            let connection = pool
                .take()
                .ok_or_else(|| StoreError::Backend("no reader connection free".into()))?;
            let result = run(&connection);
            pool.give_back(connection);
            result
        })
        .await
        .map_err(|error| StoreError::Backend(format!("reader task failed: {error}")))?
    }
}

impl ReaderPool {
    fn take(&self) -> Option<Connection> {
        self.connections.lock().ok()?.pop()
    }

    fn give_back(&self, connection: Connection) {
        if let Ok(mut connections) = self.connections.lock() {
            connections.push(connection);
        }
    }
}

fn read_transaction<R>(
    connection: &Connection,
    work: impl FnOnce(&Connection) -> Result<R, StoreError>,
) -> Result<R, StoreError> {
    run_cached(connection, "BEGIN").map_err(backend)?;
    let result = work(connection);
    if let Err(error) = run_cached(connection, "COMMIT") {
        // Never hand a connection back to the pool with a transaction still open.
        let _ = connection.execute_batch("ROLLBACK");
        return Err(backend(error));
    }
    result
}

/// How long an audit event of a call that changed nothing waits for others to share its
/// commit. A crash loses at most this much of such events (never a change's event).
const AUDIT_BATCH_DELAY: std::time::Duration = std::time::Duration::from_millis(50);

/// Inserts every queued audit event (taking them from the queue).
fn insert_pending_audit(
    connection: &Connection,
    pending: &Mutex<Vec<AuditEvent>>,
) -> Result<(), StoreError> {
    let events = pending
        .lock()
        .map(|mut pending| std::mem::take(&mut *pending))
        .unwrap_or_default();
    for event in &events {
        if let Err(error) = insert_audit(connection, event) {
            tracing::error!(%error, events = events.len(), "could not append audit events");
            return Err(error);
        }
    }
    Ok(())
}

/// A writer job nobody waits for (the queued audit events, the queued read days): its
/// changes commit if it succeeds; the work logs its own failure.
fn unanswered_job(
    work: impl FnOnce(&Connection) -> Result<(), StoreError> + Send + 'static,
) -> Job {
    Box::new(move |connection| (work(connection).is_ok(), Box::new(|_| {}) as Completion))
}

/// Writes every read day waiting (taking them from the queue). A day only ever moves
/// forward.
fn write_pending_access(
    connection: &Connection,
    pending: &Mutex<PendingAccess>,
) -> Result<PendingAccess, StoreError> {
    let taken = pending
        .lock()
        .map(|mut pending| std::mem::take(&mut *pending))
        .unwrap_or_default();
    let days = &taken.records;
    let mut secrets = connection
        .prepare_cached(
            "UPDATE secrets SET last_accessed_day = ?2
             WHERE id = ?1 AND (last_accessed_day IS NULL OR last_accessed_day < ?2)",
        )
        .map_err(backend)?;
    let mut versions = connection
        .prepare_cached(
            "UPDATE versions SET last_accessed_day = ?3
             WHERE secret_id = ?1 AND version_id = ?2
               AND (last_accessed_day IS NULL OR last_accessed_day < ?3)",
        )
        .map_err(backend)?;
    for (secret, (day, version_days)) in days {
        secrets.execute(params![secret, day]).map_err(backend)?;
        for (version_id, day) in version_days {
            versions
                .execute(params![secret, version_id, day])
                .map_err(backend)?;
        }
    }
    Ok(taken)
}

/// The writer job that writes the read days waiting and, once they are committed, shows them
/// on the cached secrets (the triggers that note touched secrets ignore `last_accessed_day`,
/// so a read's day does not cost the next read a cache miss), then hands `answer` the outcome.
fn days_job(
    pending: Arc<Mutex<PendingAccess>>,
    cache: Arc<SecretCache>,
    answer: impl FnOnce(Result<(), StoreError>) + Send + 'static,
) -> Job {
    Box::new(move |connection| {
        let written = write_pending_access(connection, &pending);
        let succeeded = written.is_ok();
        let completion: Completion = Box::new(move |commit| {
            let outcome = commit.and(written).map(|days| {
                let families: Vec<SecretId> = days
                    .records
                    .keys()
                    .chain(days.replicas.keys())
                    .copied()
                    .collect();
                cache.update(families, |secret| show_days(&days, secret));
            });
            answer(outcome);
        });
        (succeeded, completion)
    })
}

/// Hands `job` to the writer `delay` from now (at once outside a runtime).
fn send_after(writer: &mpsc::UnboundedSender<Job>, delay: std::time::Duration, job: Job) {
    let writer = writer.clone();
    let send = move || {
        if writer.send(job).is_err() {
            tracing::error!(
                "the writer thread has stopped: queued audit events or read days are lost"
            );
        }
    };
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn(async move {
                tokio::time::sleep(delay).await;
                send();
            });
        }
        Err(_) => send(),
    }
}

/// Shows the read days still waiting for the writer in `secrets` just loaded, so that this
/// store never answers an older day than a read it acknowledged.
fn show_pending_access(pending: &Mutex<PendingAccess>, secrets: &mut [Secret]) {
    let Ok(pending) = pending.lock() else { return };
    if pending.records.is_empty() {
        return;
    }
    for secret in secrets {
        show_days(&pending, secret);
    }
}

/// Moves the days of `secret` (its own, its versions', its replicas') forward to `days`.
fn show_days(days: &PendingAccess, secret: &mut Secret) {
    let later = |current: &mut Option<Timestamp>, day: i64| {
        if current.is_none_or(|current| current.as_millis() < day) {
            *current = Some(Timestamp::from_millis(day));
        }
    };
    if let Some((day, version_days)) = days.records.get(&secret.id) {
        later(&mut secret.last_accessed_day, *day);
        for version in &mut secret.versions {
            if let Some(day) = version_days.get(&version.id) {
                later(&mut version.last_accessed_day, *day);
            }
        }
    }
    if let Some(regions) = days.replicas.get(&secret.id) {
        for replica in &mut secret.replicas {
            if let Some(day) = regions.get(&replica.region) {
                later(&mut replica.last_accessed_day, *day);
            }
        }
    }
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

fn spawn_writer(
    connection: Connection,
    cache: Arc<SecretCache>,
) -> Result<mpsc::UnboundedSender<Job>, StoreError> {
    let touched = note_touched_secrets(&connection)?;
    let (sender, receiver) = mpsc::unbounded_channel();
    thread::Builder::new()
        .name("coffer-sqlite-writer".into())
        .spawn(move || run_writer(connection, receiver, &cache, &touched))
        .map(|_| ())
        .unwrap_or_else(
            |error| tracing::error!(%error, "could not start the SQLite writer thread"),
        );
    Ok(sender)
}

/// The secrets (by family: a primary's id, see [`super::cache`]) whose rows the writer's
/// statements insert, update or delete, noted as they run by temporary triggers of the
/// writer's connection. Every row of `secrets` and `versions` counts, whichever statement or
/// cascade changes it, so no write path can forget to invalidate what it changed. (Triggers,
/// not SQLite's pre-update hook: that one needs bindings generated with libclang at build
/// time.)
fn note_touched_secrets(connection: &Connection) -> Result<Arc<Mutex<Vec<SecretId>>>, StoreError> {
    let touched = Arc::new(Mutex::new(Vec::new()));
    let noted = Arc::clone(&touched);
    connection
        .create_scalar_function(
            "coffer_touched",
            1,
            rusqlite::functions::FunctionFlags::SQLITE_UTF8,
            move |context| {
                if let Ok(family) = context.get::<i64>(0) {
                    noted
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(family);
                }
                Ok(rusqlite::types::Null)
            },
        )
        .map_err(backend)?;
    // A replica's row belongs to its primary's family; a version to its secret's. Updates of
    // `last_accessed_day` alone are not noted: the writer of days updates the cache itself
    // (see `days_job`).
    let changed_columns = |table: &str| -> Result<String, StoreError> {
        let columns: Vec<String> = connection
            .prepare("SELECT name FROM pragma_table_info(?1) WHERE name <> 'last_accessed_day'")
            .and_then(|mut statement| {
                statement
                    .query_map([table], |row| row.get(0))?
                    .collect::<rusqlite::Result<_>>()
            })
            .map_err(backend)?;
        Ok(columns.join(", "))
    };
    let (secret_columns, version_columns) =
        (changed_columns("secrets")?, changed_columns("versions")?);
    connection
        .execute_batch(&format!(
            "CREATE TEMP TRIGGER touched_secret_insert AFTER INSERT ON main.secrets
                 BEGIN SELECT coffer_touched(coalesce(NEW.primary_id, NEW.id)); END;
             CREATE TEMP TRIGGER touched_secret_update AFTER UPDATE OF {secret_columns} ON main.secrets
                 BEGIN SELECT coffer_touched(coalesce(OLD.primary_id, OLD.id)),
                              coffer_touched(coalesce(NEW.primary_id, NEW.id)); END;
             CREATE TEMP TRIGGER touched_secret_delete AFTER DELETE ON main.secrets
                 BEGIN SELECT coffer_touched(coalesce(OLD.primary_id, OLD.id)); END;
             CREATE TEMP TRIGGER touched_version_insert AFTER INSERT ON main.versions
                 BEGIN SELECT coffer_touched(NEW.secret_id); END;
             CREATE TEMP TRIGGER touched_version_update AFTER UPDATE OF {version_columns} ON main.versions
                 BEGIN SELECT coffer_touched(OLD.secret_id), coffer_touched(NEW.secret_id); END;
             CREATE TEMP TRIGGER touched_version_delete AFTER DELETE ON main.versions
                 BEGIN SELECT coffer_touched(OLD.secret_id); END;"
        ))
        .map_err(backend)?;
    Ok(touched)
}

/// The writer loop: one transaction per batch of waiting jobs, each job in its own savepoint
/// so that one failing job (a conflict, say) does not undo the others.
fn run_writer(
    connection: Connection,
    mut receiver: mpsc::UnboundedReceiver<Job>,
    cache: &SecretCache,
    touched: &Mutex<Vec<SecretId>>,
) {
    while let Some(first) = receiver.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if let Err(error) = run_cached(&connection, "BEGIN IMMEDIATE") {
            // Dropping the jobs unanswered tells each caller that its write was not made.
            tracing::error!(%error, "could not begin a SQLite transaction");
            drop(batch);
            continue;
        }
        let completions: Vec<Completion> = batch
            .into_iter()
            .map(|job| run_job(&connection, job).1)
            .collect();
        let committed = run_cached(&connection, "COMMIT");
        if committed.is_err() {
            let _ = connection.execute_batch("ROLLBACK");
        }
        // Committed or not, before anyone hears of it: from now on no read finds in the cache
        // what this transaction may have replaced.
        let families = std::mem::take(
            &mut *touched
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        if !families.is_empty() {
            cache.invalidate(families);
        }
        match committed {
            Ok(()) => completions
                .into_iter()
                .for_each(|complete| complete(Ok(()))),
            Err(error) => {
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
    if let Err(error) = run_cached(connection, "SAVEPOINT job") {
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
    let rollback = if succeeded {
        Ok(())
    } else {
        run_cached(connection, "ROLLBACK TO job")
    };
    if let Err(error) = rollback.and_then(|()| run_cached(connection, "RELEASE job")) {
        tracing::error!(%error, "could not close a savepoint");
    }
    (succeeded, completion)
}

/// Runs a statement without parameters through the statement cache: transaction control runs
/// several times per request, and parsing it each time showed in profiles.
fn run_cached(connection: &Connection, sql: &str) -> rusqlite::Result<()> {
    connection.prepare_cached(sql)?.execute([]).map(|_| ())
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

/// The columns [`secret_from_row`] reads, as a macro so that whole statements can be
/// `concat!`ed at compile time (no formatting per read).
macro_rules! secret_columns {
    () => {
        "id, revision, account_id, region, name, arn, description, kms_key_id, \
         secret_type, tags, created_at, last_changed_at, last_accessed_day, deletion_requested_at, \
         purge_at, primary_id, resource_policy, rotation, replicas"
    };
}
const SECRET_COLUMNS: &str = secret_columns!();

/// A row of `secrets` before its JSON columns are decoded and its versions loaded.
struct SecretRow {
    secret: Secret,
    tags: String,
    primary_id: Option<SecretId>,
    rotation: Option<String>,
    replicas: Option<String>,
}

fn secret_from_row(row: &Row<'_>) -> rusqlite::Result<SecretRow> {
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
        resource_policy: row.get(16)?,
        rotation: Default::default(),
        replicas: Vec::new(),
        replica_view: None,
        versions: Vec::new(),
    };
    Ok(SecretRow {
        secret,
        tags: row.get(9)?,
        primary_id: row.get(15)?,
        rotation: row.get(17)?,
        replicas: row.get(18)?,
    })
}

/// Loads the secret `sql` (a `SELECT` of [`SECRET_COLUMNS`]) finds, with its versions.
/// A replica's record resolves to its primary, seen from the replica.
fn load_secret(
    connection: &Connection,
    sql: &'static str,
    arguments: &[&dyn rusqlite::ToSql],
) -> Result<Option<Secret>, StoreError> {
    let found = connection
        .prepare_cached(sql)
        .map_err(backend)?
        .query_row(arguments, secret_from_row)
        .optional()
        .map_err(backend)?;
    found
        .map(|row| complete_secret(connection, row))
        .transpose()
}

fn complete_secret(connection: &Connection, row: SecretRow) -> Result<Secret, StoreError> {
    let mut secrets = complete_secrets(connection, vec![row])?;
    secrets
        .pop()
        .ok_or_else(|| StoreError::Corrupt("a loaded secret vanished".into()))
}

/// Decodes rows of `secrets` into aggregates: a replica's record becomes its primary seen from
/// there, and the versions of all of them are read with one query (a listing page is one
/// index range plus one version query, not one query per secret).
fn complete_secrets(
    connection: &Connection,
    rows: Vec<SecretRow>,
) -> Result<Vec<Secret>, StoreError> {
    let mut secrets = Vec::with_capacity(rows.len());
    for row in rows {
        let secret = match row.primary_id {
            Some(primary_id) => {
                let primary = connection
                    .prepare_cached(concat!(
                        "SELECT ",
                        secret_columns!(),
                        " FROM secrets WHERE id = ?1 AND primary_id IS NULL"
                    ))
                    .map_err(backend)?
                    .query_row([primary_id], secret_from_row)
                    .optional()
                    .map_err(backend)?
                    .ok_or_else(|| {
                        StoreError::Corrupt(format!("replica {} has no primary", row.secret.arn))
                    })?;
                let mut primary = decode_secret(connection, primary)?;
                primary.replica_view = Some(ReplicaView {
                    record: row.secret.id,
                    region: row.secret.scope.region,
                    arn: row.secret.arn,
                });
                primary
            }
            None => decode_secret(connection, row)?,
        };
        secrets.push(secret);
    }
    attach_versions(connection, &mut secrets)?;
    Ok(secrets)
}

/// A row's JSON columns, decoded, and its replicas' access dates; no versions yet.
fn decode_secret(connection: &Connection, row: SecretRow) -> Result<Secret, StoreError> {
    let SecretRow {
        mut secret,
        tags,
        rotation,
        replicas,
        ..
    } = row;
    let tags: Option<Vec<(String, String)>> = decode_json(&tags)?;
    secret.tags = tags.map(|tags| {
        tags.into_iter()
            .map(|(key, value)| Tag { key, value })
            .collect()
    });
    if let Some(rotation) = rotation {
        secret.rotation = decode_json(&rotation)?;
    }
    if let Some(replicas) = replicas {
        secret.replicas = decode_json(&replicas)?;
    }
    if !secret.replicas.is_empty() {
        let mut statement = connection
            .prepare_cached("SELECT region, last_accessed_day FROM secrets WHERE primary_id = ?1")
            .map_err(backend)?;
        let rows = statement
            .query_map([secret.id], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, Option<i64>>(1)?))
            })
            .map_err(backend)?;
        for row in rows {
            let (region, day) = row.map_err(backend)?;
            if let Some(replica) = secret.replicas.iter_mut().find(|r| r.region == region) {
                replica.last_accessed_day = day.map(Timestamp::from_millis);
            }
        }
    }
    Ok(secret)
}

/// Secret ids per query of [`attach_versions`]: a listing page (100) and a few primaries.
const VERSION_QUERY_IDS: usize = 128;

/// Reads the versions of `secrets` (oldest first) in one query per 128 secrets.
fn attach_versions(connection: &Connection, secrets: &mut [Secret]) -> Result<(), StoreError> {
    if secrets.is_empty() {
        return Ok(());
    }
    let mut ids: Vec<SecretId> = secrets.iter().map(|secret| secret.id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut by_secret: std::collections::HashMap<SecretId, Vec<Version>> =
        std::collections::HashMap::with_capacity(ids.len());
    // One statement with a fixed number of placeholders (unused ones bound to id 0, which no
    // secret has), so that it stays in the statement cache instead of being prepared again
    // for every page size.
    // A single secret (every read and write of one secret) has its own, simpler statement.
    static MANY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let placeholders = vec!["?"; VERSION_QUERY_IDS].join(", ");
        format!(
            "SELECT secret_id, version_id, ordinal, created_at, stages, last_accessed_day,
                 kms_key_id
             FROM versions WHERE secret_id IN ({placeholders}) ORDER BY secret_id, ordinal"
        )
    });
    let (sql, width): (&str, usize) = if ids.len() == 1 {
        (
            "SELECT secret_id, version_id, ordinal, created_at, stages, last_accessed_day,
                 kms_key_id
             FROM versions WHERE secret_id = ? ORDER BY ordinal",
            1,
        )
    } else {
        (MANY.as_str(), VERSION_QUERY_IDS)
    };
    for chunk in ids.chunks(width) {
        let mut bound = chunk.to_vec();
        bound.resize(width, 0);
        let mut statement = connection.prepare_cached(sql).map_err(backend)?;
        let rows = statement
            .query_map(rusqlite::params_from_iter(bound.iter()), |row| {
                Ok((
                    row.get::<_, SecretId>(0)?,
                    Version {
                        id: row.get(1)?,
                        ordinal: row.get(2)?,
                        created_at: Timestamp::from_millis(row.get(3)?),
                        stages: Vec::new(),
                        last_accessed_day: row
                            .get::<_, Option<i64>>(5)?
                            .map(Timestamp::from_millis),
                        kms_key_id: row.get(6)?,
                    },
                    row.get::<_, String>(4)?,
                ))
            })
            .map_err(backend)?;
        for row in rows {
            let (secret_id, mut version, stages) = row.map_err(backend)?;
            version.stages = decode_json(&stages)?;
            by_secret.entry(secret_id).or_default().push(version);
        }
    }
    if let [secret] = secrets {
        // One secret (every read and write of one): its versions move, no copy.
        secret.versions = by_secret.remove(&secret.id).unwrap_or_default();
        return Ok(());
    }
    for secret in secrets.iter_mut() {
        // A primary listed twice (as itself and through a replica) gets its versions twice.
        secret.versions = by_secret.get(&secret.id).cloned().unwrap_or_default();
    }
    Ok(())
}

/// Owned copies of what a write needs, so it can move to the writer thread.
struct OwnedValue {
    version_id: String,
    kind: ValueKind,
    sealed: bool,
    bytes: Zeroizing<Vec<u8>>,
}

fn own_values(values: &[NewValue<'_>]) -> Vec<OwnedValue> {
    values
        .iter()
        .map(|new| OwnedValue {
            version_id: new.version_id.to_owned(),
            kind: new.value.kind,
            sealed: new.value.sealed,
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
                 last_accessed_day, kms_key_id, value_kind, value, sealed)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
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
            value.sealed,
        ])
        .map_err(backend)?;
    Ok(())
}

/// Replaces the stored values of existing versions (re-encrypted under another key).
fn rewrap_versions(
    connection: &Connection,
    secret_id: SecretId,
    values: &[OwnedValue],
) -> Result<(), StoreError> {
    for value in values {
        let updated = connection
            .prepare_cached(
                "UPDATE versions SET value = ?3, value_kind = ?4, sealed = ?5
                 WHERE secret_id = ?1 AND version_id = ?2",
            )
            .map_err(backend)?
            .execute(params![
                secret_id,
                value.version_id,
                &value.bytes[..],
                encode_kind(value.kind),
                value.sealed,
            ])
            .map_err(backend)?;
        if updated == 0 {
            return Err(StoreError::Corrupt(format!(
                "rewrapped version {} does not exist",
                value.version_id
            )));
        }
    }
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

/// JSON of the rotation configuration, `NULL` when there is none.
fn rotation_json(secret: &Secret) -> Result<Option<String>, StoreError> {
    if secret.rotation == Default::default() {
        return Ok(None);
    }
    encode_json(&secret.rotation).map(Some)
}

fn replicas_json(secret: &Secret) -> Result<Option<String>, StoreError> {
    if secret.replicas.is_empty() {
        return Ok(None);
    }
    encode_json(&secret.replicas).map(Some)
}

/// Maps a failed insert into `secrets` to the store's errors.
fn insert_error(error: rusqlite::Error) -> StoreError {
    if is_unique_violation(&error, "secrets.arn") {
        StoreError::ArnTaken
    } else if is_unique_violation(&error, "secrets.name") {
        StoreError::NameTaken
    } else {
        backend(error)
    }
}

fn create_in(
    connection: &Connection,
    secret: &Secret,
    values: &[OwnedValue],
) -> Result<SecretId, StoreError> {
    let id = connection
        .prepare_cached(
            "INSERT INTO secrets (account_id, region, name, arn, revision, description,
                 kms_key_id, secret_type, tags, created_at, last_changed_at,
                 last_accessed_day, deletion_requested_at, purge_at, resource_policy, rotation,
                 replicas)
             VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
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
            tags_json(secret)?,
            secret.created_at.as_millis(),
            secret.last_changed_at.as_millis(),
            secret.last_accessed_day.map(Timestamp::as_millis),
            secret.deletion.map(|d| d.requested_at.as_millis()),
            secret.deletion.map(|d| d.purge_at.as_millis()),
            secret.resource_policy,
            rotation_json(secret)?,
            replicas_json(secret)?,
        ])
        .map_err(insert_error)?;
    let mut secret = secret.clone();
    secret.id = id;
    let added: Vec<String> = secret.versions.iter().map(|v| v.id.clone()).collect();
    insert_versions(connection, &secret, &added, values)?;
    sync_replicas(connection, &secret)?;
    Ok(id)
}

fn save_in(
    connection: &Connection,
    secret: &Secret,
    changes: &OwnedChanges,
    values: &[OwnedValue],
    rewrapped: &[OwnedValue],
    overwritten: &[(SecretId, i64)],
) -> Result<(), StoreError> {
    let updated = connection
        .prepare_cached(
            "UPDATE secrets SET revision = revision + 1, description = ?3, kms_key_id = ?4,
                 secret_type = ?5, tags = ?6, last_changed_at = ?7,
                 deletion_requested_at = ?8, purge_at = ?9, resource_policy = ?10,
                 rotation = ?11, replicas = ?12
             WHERE id = ?1 AND revision = ?2 AND primary_id IS NULL",
        )
        .map_err(backend)?
        .execute(params![
            secret.id,
            secret.revision,
            secret.description,
            secret.kms_key_id,
            secret.secret_type,
            tags_json(secret)?,
            secret.last_changed_at.as_millis(),
            secret.deletion.map(|d| d.requested_at.as_millis()),
            secret.deletion.map(|d| d.purge_at.as_millis()),
            secret.resource_policy,
            rotation_json(secret)?,
            replicas_json(secret)?,
        ])
        .map_err(backend)?;
    if updated == 0 {
        return Err(StoreError::Conflict);
    }
    for version_id in &changes.removed {
        connection
            .prepare_cached("DELETE FROM versions WHERE secret_id = ?1 AND version_id = ?2")
            .map_err(backend)?
            .execute(params![secret.id, version_id])
            .map_err(backend)?;
    }
    for version_id in &changes.relabelled {
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
    insert_versions(connection, secret, &changes.added, values)?;
    rewrap_versions(connection, secret.id, rewrapped)?;
    delete_overwritten(connection, overwritten)?;
    sync_replicas(connection, secret)
}

/// Deletes secrets that are replaced, each only if it is still at the revision given.
fn delete_overwritten(
    connection: &Connection,
    overwritten: &[(SecretId, i64)],
) -> Result<(), StoreError> {
    for (id, revision) in overwritten {
        let deleted = connection
            .prepare_cached("DELETE FROM secrets WHERE id = ?1 AND revision = ?2")
            .map_err(backend)?
            .execute(params![id, revision])
            .map_err(backend)?;
        if deleted == 0 {
            return Err(StoreError::Conflict);
        }
    }
    Ok(())
}

/// Makes the replica records of `secret` match the replicas that exist.
fn sync_replicas(connection: &Connection, secret: &Secret) -> Result<(), StoreError> {
    let existing: Vec<String> = connection
        .prepare_cached("SELECT region FROM secrets WHERE primary_id = ?1")
        .map_err(backend)?
        .query_map([secret.id], |row| row.get(0))
        .map_err(backend)?
        .collect::<Result<_, _>>()
        .map_err(backend)?;
    let wanted: Vec<&str> = secret
        .replicas
        .iter()
        .filter(|replica| replica.exists())
        .map(|replica| replica.region.as_str())
        .collect();
    for region in existing.iter().filter(|r| !wanted.contains(&r.as_str())) {
        connection
            .prepare_cached("DELETE FROM secrets WHERE primary_id = ?1 AND region = ?2")
            .map_err(backend)?
            .execute(params![secret.id, region])
            .map_err(backend)?;
    }
    for region in wanted
        .into_iter()
        .filter(|r| !existing.iter().any(|e| e == r))
    {
        connection
            .prepare_cached(
                "INSERT INTO secrets (account_id, region, name, arn, revision, tags, created_at,
                     last_changed_at, primary_id)
                 VALUES (?1, ?2, ?3, ?4, 0, 'null', ?5, ?6, ?7)",
            )
            .map_err(backend)?
            .execute(params![
                secret.scope.account_id,
                region,
                secret.name,
                secret.replica_arn(region),
                secret.created_at.as_millis(),
                secret.last_changed_at.as_millis(),
                secret.id,
            ])
            .map_err(insert_error)?;
    }
    Ok(())
}

/// Owned copies of a write's version changes.
struct OwnedChanges {
    added: Vec<String>,
    relabelled: Vec<String>,
    removed: Vec<String>,
}

fn own_changes(write: &SecretWrite<'_>) -> OwnedChanges {
    OwnedChanges {
        added: write.changes.added.clone(),
        relabelled: write.changes.relabelled.clone(),
        removed: write.changes.removed.clone(),
    }
}

/// The SQL expression a listing sorts by.
fn sort_expression(sort: SortKey) -> &'static str {
    match sort {
        SortKey::CreatedDate => "created_at",
        SortKey::LastChangedDate => "last_changed_at",
        SortKey::LastAccessedDate => "coalesce(last_accessed_day, 0)",
        SortKey::Name => "name",
    }
}

fn list_in(
    connection: &Connection,
    query: &ListQuery,
) -> Result<Vec<(ListPosition, Secret)>, StoreError> {
    let key = sort_expression(query.sort);
    let (direction, comparison) = if query.descending {
        ("DESC", "<")
    } else {
        ("ASC", ">")
    };
    let deleted = if query.include_pending_deletion {
        ""
    } else {
        "AND purge_at IS NULL"
    };
    let after = if query.after.is_some() {
        format!("AND ({key}, id) {comparison} (?3, ?4)")
    } else {
        "AND ?3 IS NULL AND ?4 IS NULL".to_owned()
    };
    let sql = format!(
        "SELECT {SECRET_COLUMNS}, {key} FROM secrets
         WHERE account_id = ?1 AND region = ?2 {deleted} {after}
         ORDER BY {key} {direction}, id {direction} LIMIT ?5"
    );
    let (position_key, position_id): (Option<rusqlite::types::Value>, Option<SecretId>) =
        match &query.after {
            None => (None, None),
            Some(position) => (
                Some(match &position.key {
                    PositionKey::Time(time) => rusqlite::types::Value::Integer(*time),
                    PositionKey::Name(name) => rusqlite::types::Value::Text(name.clone()),
                }),
                Some(position.id),
            ),
        };
    let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
    let mut statement = connection.prepare_cached(&sql).map_err(backend)?;
    let rows = statement
        .query_map(
            params![
                query.scope.account_id,
                query.scope.region,
                position_key,
                position_id,
                limit
            ],
            |row| {
                let key = match row.get::<_, rusqlite::types::Value>(19)? {
                    rusqlite::types::Value::Text(name) => PositionKey::Name(name),
                    rusqlite::types::Value::Integer(time) => PositionKey::Time(time),
                    _ => PositionKey::Time(0),
                };
                Ok((key, secret_from_row(row)?))
            },
        )
        .map_err(backend)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend)?;
    let positions: Vec<ListPosition> = rows
        .iter()
        .map(|(key, row)| ListPosition {
            key: key.clone(),
            id: row.secret.id,
        })
        .collect();
    let secrets = complete_secrets(connection, rows.into_iter().map(|(_, row)| row).collect())?;
    Ok(positions.into_iter().zip(secrets).collect())
}

/// A row of `kms_keys` (id, revision, body) before its body is decoded.
type KmsKeyRow = (String, i64, String);

fn kms_key_row(row: &Row<'_>) -> rusqlite::Result<KmsKeyRow> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
}

/// The stored record, at the revision of its row (the body keeps the one it was saved from).
fn decode_kms_key((id, revision, body): KmsKeyRow) -> Result<KmsKeyRecord, StoreError> {
    let mut key: KmsKeyRecord = decode_json(&body)?;
    if key.id.to_string() != id {
        return Err(StoreError::Corrupt(format!(
            "KMS key {id} holds the record of {}",
            key.id
        )));
    }
    key.revision = revision;
    Ok(key)
}

fn parse_key_id(id: &str) -> Result<uuid::Uuid, StoreError> {
    uuid::Uuid::parse_str(id)
        .map_err(|error| StoreError::Corrupt(format!("KMS key id {id}: {error}")))
}

fn insert_kms_key(connection: &Connection, key: &KmsKeyRecord) -> Result<(), StoreError> {
    connection
        .prepare_cached(
            "INSERT INTO kms_keys (id, account_id, region, revision, created_at, due_at, body)
             VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6)",
        )
        .map_err(backend)?
        .execute(params![
            key.id.to_string(),
            key.account_id,
            key.region,
            key.created_at.as_millis(),
            key.due_at().map(Timestamp::as_millis),
            encode_json(key)?,
        ])
        .map_err(backend)?;
    Ok(())
}

/// Inserts a new alias: [`StoreError::AliasConflict`] if its name is taken,
/// [`StoreError::Conflict`] if its key does not exist.
fn insert_kms_alias(connection: &Connection, alias: &KmsAlias) -> Result<(), StoreError> {
    let inserted = connection
        .prepare_cached(
            "INSERT INTO kms_aliases (account_id, region, name, key_id, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (account_id, region, name) DO NOTHING",
        )
        .map_err(backend)?
        .execute(params![
            alias.account_id,
            alias.region,
            alias.name,
            alias.key_id.to_string(),
            alias.created_at.as_millis(),
            alias.updated_at.as_millis(),
        ])
        .map_err(alias_error)?;
    if inserted == 0 {
        return Err(StoreError::AliasConflict);
    }
    Ok(())
}

/// Maps a failed write of `kms_aliases`: a key that does not exist is a conflict.
fn alias_error(error: rusqlite::Error) -> StoreError {
    match &error {
        rusqlite::Error::SqliteFailure(code, _)
            if code.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY =>
        {
            StoreError::Conflict
        }
        _ => backend(error),
    }
}

const ALIAS_COLUMNS: &str = "account_id, region, name, key_id, created_at, updated_at";

/// A row of `kms_aliases` before its key id is parsed.
struct KmsAliasRow {
    account_id: String,
    region: String,
    name: String,
    key_id: String,
    created_at: i64,
    updated_at: i64,
}

fn kms_alias_row(row: &Row<'_>) -> rusqlite::Result<KmsAliasRow> {
    Ok(KmsAliasRow {
        account_id: row.get(0)?,
        region: row.get(1)?,
        name: row.get(2)?,
        key_id: row.get(3)?,
        created_at: row.get(4)?,
        updated_at: row.get(5)?,
    })
}

fn decode_kms_alias(row: KmsAliasRow) -> Result<KmsAlias, StoreError> {
    Ok(KmsAlias {
        key_id: parse_key_id(&row.key_id)?,
        account_id: row.account_id,
        region: row.region,
        name: row.name,
        created_at: Timestamp::from_millis(row.created_at),
        updated_at: Timestamp::from_millis(row.updated_at),
    })
}

const USER_COLUMNS: &str = "id, account_id, name, arn, enabled, created_at, revision";

fn user_row(row: &Row<'_>) -> rusqlite::Result<UserRecord> {
    Ok(UserRecord {
        id: row.get(0)?,
        account_id: row.get(1)?,
        name: row.get(2)?,
        arn: row.get(3)?,
        enabled: row.get(4)?,
        created_at: Timestamp::from_millis(row.get(5)?),
        revision: row.get(6)?,
    })
}

const ACCESS_KEY_COLUMNS: &str =
    "id, account_id, user_id, enabled, secret, session_token, expires_at, created_at";

fn access_key_row(row: &Row<'_>) -> rusqlite::Result<AccessKeyRecord> {
    Ok(AccessKeyRecord {
        id: row.get(0)?,
        account_id: row.get(1)?,
        user_id: row.get(2)?,
        enabled: row.get(3)?,
        sealed_secret: row.get(4)?,
        sealed_session_token: row.get(5)?,
        expires_at: row.get::<_, Option<i64>>(6)?.map(Timestamp::from_millis),
        created_at: Timestamp::from_millis(row.get(7)?),
    })
}

/// Maps a failed insert of an identity: a taken name, a taken id, a missing user.
fn identity_error(error: rusqlite::Error) -> StoreError {
    match &error {
        rusqlite::Error::SqliteFailure(code, _)
            if code.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY =>
        {
            StoreError::Conflict
        }
        _ if is_unique_violation(&error, "iam_users_name_unique") => StoreError::NameTaken,
        rusqlite::Error::SqliteFailure(code, _)
            if code.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            StoreError::IdTaken
        }
        _ => backend(error),
    }
}

fn insert_access_key(connection: &Connection, key: &AccessKeyRecord) -> Result<(), StoreError> {
    connection
        .prepare_cached(&format!(
            "INSERT INTO iam_access_keys ({ACCESS_KEY_COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
        ))
        .map_err(backend)?
        .execute(params![
            key.id,
            key.account_id,
            key.user_id,
            key.enabled,
            key.sealed_secret,
            key.sealed_session_token,
            key.expires_at.map(Timestamp::as_millis),
            key.created_at.as_millis(),
        ])
        .map_err(identity_error)?;
    Ok(())
}

/// Inserts one audit event (in the caller's transaction).
fn insert_audit(connection: &Connection, event: &AuditEvent) -> Result<(), StoreError> {
    connection
        .prepare_cached(
            "INSERT INTO audit_events (event_id, event_time, event_source, event_name, region,
                 user_arn, user_name, access_key_id, resource_arn, resource_name, error_code,
                 read_only, event)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )
        .map_err(backend)?
        .execute(params![
            event.event_id,
            event.time.as_millis(),
            event.source,
            event.name,
            event.region,
            event.user_arn,
            event.user_name,
            event.access_key_id,
            event.resource_arn,
            event.resource_name,
            event.error_code,
            event.read_only,
            event.json,
        ])
        .map_err(backend)?;
    Ok(())
}

fn query_audit_in(
    connection: &Connection,
    query: &AuditQuery,
) -> Result<Vec<StoredAuditEvent>, StoreError> {
    let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
    let mut statement = connection
        .prepare_cached(
            "SELECT seq, event_id, event_time, event_source, event_name, region, user_arn,
                    user_name, access_key_id, resource_arn, resource_name, error_code,
                    read_only, event
             FROM audit_events
             WHERE (?1 IS NULL OR event_time >= ?1)
               AND (?2 IS NULL OR event_time < ?2)
               AND (?3 IS NULL OR event_name = ?3)
               AND (?4 IS NULL OR user_arn = ?4 OR user_name = ?4 OR access_key_id = ?4)
               AND (?5 IS NULL OR resource_arn = ?5 OR resource_name = ?5)
               AND (?6 IS NULL OR error_code = ?6)
               AND (?7 IS NULL OR seq > ?7)
             ORDER BY seq
             LIMIT ?8",
        )
        .map_err(backend)?;
    let rows = statement
        .query_map(
            params![
                query.since.map(Timestamp::as_millis),
                query.until.map(Timestamp::as_millis),
                query.event_name,
                query.user,
                query.resource,
                query.error_code,
                query.after,
                limit,
            ],
            |row| {
                Ok(StoredAuditEvent {
                    sequence: row.get(0)?,
                    event: AuditEvent {
                        event_id: row.get(1)?,
                        time: Timestamp::from_millis(row.get(2)?),
                        source: row.get(3)?,
                        name: row.get(4)?,
                        region: row.get(5)?,
                        user_arn: row.get(6)?,
                        user_name: row.get(7)?,
                        access_key_id: row.get(8)?,
                        resource_arn: row.get(9)?,
                        resource_name: row.get(10)?,
                        error_code: row.get(11)?,
                        read_only: row.get(12)?,
                        json: row.get(13)?,
                    },
                })
            },
        )
        .map_err(backend)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
}

#[async_trait]
impl Store for SqliteStore {
    fn append_audit(&self, event: AuditEvent) {
        // Only the event that finds the queue empty schedules its insertion, a moment later
        // (so that a burst of reads shares one job and one commit); the job takes whatever
        // is queued when it runs, under the same lock, so no event is left behind.
        let first = match self.pending_audit.lock() {
            Ok(mut pending) => {
                pending.push(event);
                pending.len() == 1
            }
            Err(_) => {
                tracing::error!("the audit queue is poisoned: an audit event is lost");
                return;
            }
        };
        if !first {
            return;
        }
        send_after(
            &self.writer,
            AUDIT_BATCH_DELAY,
            unanswered_job({
                let pending = Arc::clone(&self.pending_audit);
                move |connection| insert_pending_audit(connection, &pending)
            }),
        );
    }

    async fn flush_audit(&self) -> Result<(), StoreError> {
        // Inserts whatever is queued now (events and read days), and waits for its commit
        // (the writer runs jobs in order, so what was already handed to it is committed by
        // then too).
        let pending = Arc::clone(&self.pending_audit);
        // Two jobs, so that days that fail to write do not roll the events back.
        let days = self.write_days().await;
        self.write(move |connection| insert_pending_audit(connection, &pending))
            .await
            .and(days)
    }

    async fn query_audit(&self, query: &AuditQuery) -> Result<Vec<StoredAuditEvent>, StoreError> {
        let query = query.clone();
        self.read(move |connection| query_audit_in(connection, &query))
            .await
    }

    async fn create(
        &self,
        secret: &Secret,
        new_values: &[NewValue<'_>],
        overwritten: &[(SecretId, i64)],
    ) -> Result<SecretId, StoreError> {
        let added: Vec<String> = secret.versions.iter().map(|v| v.id.clone()).collect();
        let change = || Change::secret(secret, &added);
        let secret = secret.clone();
        let values = own_values(new_values);
        let overwritten = overwritten.to_vec();
        self.audited_write(change, move |connection| {
            delete_overwritten(connection, &overwritten)?;
            create_in(connection, &secret, &values)
        })
        .await
    }

    async fn load_by_name(&self, scope: &Scope, name: &str) -> Result<Option<Secret>, StoreError> {
        let mut found = match self.cache.by_name(&scope.account_id, &scope.region, name) {
            Some(secret) => Ok(Some(secret)),
            None => {
                let (account, region, name) = (
                    scope.account_id.clone(),
                    scope.region.clone(),
                    name.to_owned(),
                );
                self.load_and_keep(move |connection| {
                    load_secret(
                        connection,
                        concat!(
                            "SELECT ",
                            secret_columns!(),
                            " FROM secrets WHERE account_id = ?1 AND region = ?2 AND name = ?3"
                        ),
                        &[&account, &region, &name],
                    )
                })
                .await
            }
        };
        if let Ok(Some(secret)) = &mut found {
            show_pending_access(&self.pending_access, std::slice::from_mut(secret));
            audit::note_secret(secret);
        }
        found
    }

    async fn load_by_arn(&self, arn: &str) -> Result<Option<Secret>, StoreError> {
        let mut found = match self.cache.by_arn(arn) {
            Some(secret) => Ok(Some(secret)),
            None => {
                let arn = arn.to_owned();
                self.load_and_keep(move |connection| {
                    load_secret(
                        connection,
                        concat!("SELECT ", secret_columns!(), " FROM secrets WHERE arn = ?1"),
                        &[&arn],
                    )
                })
                .await
            }
        };
        if let Ok(Some(secret)) = &mut found {
            show_pending_access(&self.pending_access, std::slice::from_mut(secret));
            audit::note_secret(secret);
        }
        found
    }

    async fn load_value(
        &self,
        secret: SecretId,
        version_id: &str,
    ) -> Result<Option<StoredValue>, StoreError> {
        if let Some(value) = self.cache.value(secret, version_id) {
            return Ok(Some(value));
        }
        let ticket = self.cache.ticket();
        let version = version_id.to_owned();
        let found = self
            .read_one_statement(move |connection| {
                let row = connection
                    .prepare_cached(
                        "SELECT value_kind, value, sealed FROM versions
                     WHERE secret_id = ?1 AND version_id = ?2",
                    )
                    .map_err(backend)?
                    .query_row(params![secret, version], |row| {
                        Ok((
                            row.get::<_, i64>(0)?,
                            Zeroizing::new(row.get::<_, Vec<u8>>(1)?),
                            row.get::<_, bool>(2)?,
                        ))
                    })
                    .optional()
                    .map_err(backend)?;
                row.map(|(kind, bytes, sealed)| {
                    Ok(StoredValue {
                        kind: decode_kind(kind)?,
                        sealed,
                        bytes,
                    })
                })
                .transpose()
            })
            .await;
        if let Ok(Some(value)) = &found {
            self.cache.offer_value(ticket, secret, version_id, value);
        }
        found
    }

    async fn save(&self, write: SecretWrite<'_>) -> Result<(), StoreError> {
        let secret = write.secret.clone();
        let changes = own_changes(&write);
        let values = own_values(write.new_values);
        let rewrapped = own_values(write.rewrapped);
        let overwritten = write.overwritten.to_vec();
        let change = || Change::secret(write.secret, &write.changes.added);
        self.audited_write(change, move |connection| {
            save_in(
                connection,
                &secret,
                &changes,
                &values,
                &rewrapped,
                &overwritten,
            )
        })
        .await
    }

    async fn promote(
        &self,
        write: SecretWrite<'_>,
        promoted: &Secret,
        values: &[NewValue<'_>],
    ) -> Result<SecretId, StoreError> {
        let secret = write.secret.clone();
        let changes = own_changes(&write);
        let write_values = own_values(write.new_values);
        let rewrapped = own_values(write.rewrapped);
        let overwritten = write.overwritten.to_vec();
        let change = || Change::secret(promoted, &[]);
        let promoted = promoted.clone();
        let promoted_values = own_values(values);
        self.audited_write(change, move |connection| {
            save_in(
                connection,
                &secret,
                &changes,
                &write_values,
                &rewrapped,
                &overwritten,
            )?;
            create_in(connection, &promoted, &promoted_values)
        })
        .await
    }

    async fn list(&self, query: &ListQuery) -> Result<Vec<(ListPosition, Secret)>, StoreError> {
        let days_waiting = self
            .pending_access
            .lock()
            .map(|pending| !pending.records.is_empty())
            .unwrap_or(false);
        if query.sort == crate::store::SortKey::LastAccessedDate && days_waiting {
            // The order comes from the column: the days still waiting are written first.
            self.write_days().await?;
        }
        let query = query.clone();
        let mut page = self
            .read(move |connection| list_in(connection, &query))
            .await?;
        for (_, secret) in &mut page {
            show_pending_access(&self.pending_access, std::slice::from_mut(secret));
        }
        Ok(page)
    }

    async fn setting(&self, name: &str, initial: Vec<u8>) -> Result<Vec<u8>, StoreError> {
        let name = name.to_owned();
        self.write(move |connection| {
            connection
                .prepare_cached("INSERT OR IGNORE INTO settings (name, value) VALUES (?1, ?2)")
                .map_err(backend)?
                .execute(params![name, initial])
                .map_err(backend)?;
            connection
                .prepare_cached("SELECT value FROM settings WHERE name = ?1")
                .map_err(backend)?
                .query_row([&name], |row| row.get(0))
                .map_err(backend)
        })
        .await
    }

    async fn delete(&self, secret: SecretId, revision: i64) -> Result<(), StoreError> {
        self.audited_write(Change::deleted_secret, move |connection| {
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
        // Not awaited: the read answers without waiting for a commit. Days wait a moment to
        // share one writer job (see `append_audit`), and this store's loads show them
        // meanwhile (`show_pending_access`).
        let day = day.as_millis();
        // A replica's record: its primary shows the day under the replica's region. Only the
        // first read of a day per secret gets here, and the lookup is skipped when the cache
        // holds the record as a primary's own.
        let replica_of = if self.cache.is_primary_record(secret) {
            None
        } else {
            self.read_one_statement(move |connection| {
                connection
                    .prepare_cached("SELECT primary_id, region FROM secrets WHERE id = ?1")
                    .map_err(backend)?
                    .query_row([secret], |row| {
                        Ok((row.get::<_, Option<SecretId>>(0)?, row.get::<_, String>(1)?))
                    })
                    .optional()
                    .map_err(backend)
            })
            .await?
            .and_then(|(primary, region)| primary.map(|primary| (primary, region)))
        };
        let first = {
            let mut pending = self
                .pending_access
                .lock()
                .map_err(|_| StoreError::Backend("the read-day queue is poisoned".into()))?;
            let first = pending.records.is_empty();
            let (secret_day, version_days) = pending
                .records
                .entry(secret)
                .or_insert((day, HashMap::new()));
            *secret_day = (*secret_day).max(day);
            let version_day = version_days.entry(version_id.to_owned()).or_insert(day);
            *version_day = (*version_day).max(day);
            if let Some((primary, region)) = replica_of {
                let replica_day = pending
                    .replicas
                    .entry(primary)
                    .or_default()
                    .entry(region)
                    .or_insert(day);
                *replica_day = (*replica_day).max(day);
            }
            first
        };
        if first {
            let job = days_job(
                Arc::clone(&self.pending_access),
                Arc::clone(&self.cache),
                |outcome| {
                    if let Err(error) = outcome {
                        tracing::warn!(%error, "could not record the days of reads");
                    }
                },
            );
            send_after(&self.writer, ACCESS_BATCH_DELAY, job);
        }
        Ok(())
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

    async fn claim_job(
        &self,
        job: &str,
        holder: &str,
        now: Timestamp,
        lease: std::time::Duration,
    ) -> Result<bool, StoreError> {
        let (job, holder) = (job.to_owned(), holder.to_owned());
        self.write(move |connection| {
            let claimed = connection
                .prepare_cached(
                    "INSERT INTO jobs (name, holder, lease_until) VALUES (?1, ?2, ?3)
                     ON CONFLICT (name) DO UPDATE
                         SET holder = excluded.holder, lease_until = excluded.lease_until
                         WHERE jobs.holder = excluded.holder OR jobs.lease_until <= ?4",
                )
                .map_err(backend)?
                .execute(params![
                    job,
                    holder,
                    now.plus(lease).as_millis(),
                    now.as_millis()
                ])
                .map_err(backend)?;
            Ok(claimed > 0)
        })
        .await
    }

    async fn create_kms_key(
        &self,
        key: &KmsKeyRecord,
        alias: Option<&KmsAlias>,
    ) -> Result<(), StoreError> {
        let change = || Change::key(key);
        let key = key.clone();
        let alias = alias.cloned();
        // An error (the alias exists) rolls back the job's savepoint: the key is not kept.
        self.audited_write(change, move |connection| {
            insert_kms_key(connection, &key)?;
            if let Some(alias) = &alias {
                insert_kms_alias(connection, alias)?;
            }
            Ok(())
        })
        .await
    }

    async fn load_kms_key(&self, id: uuid::Uuid) -> Result<Option<KmsKeyRecord>, StoreError> {
        self.read(move |connection| {
            connection
                .prepare_cached("SELECT id, revision, body FROM kms_keys WHERE id = ?1")
                .map_err(backend)?
                .query_row([id.to_string()], kms_key_row)
                .optional()
                .map_err(backend)?
                .map(decode_kms_key)
                .transpose()
        })
        .await
    }

    async fn save_kms_key(&self, key: &KmsKeyRecord) -> Result<(), StoreError> {
        let change = || Change::key(key);
        let key = key.clone();
        self.audited_write(change, move |connection| {
            let updated = connection
                .prepare_cached(
                    "UPDATE kms_keys SET revision = revision + 1, due_at = ?3, body = ?4
                     WHERE id = ?1 AND revision = ?2",
                )
                .map_err(backend)?
                .execute(params![
                    key.id.to_string(),
                    key.revision,
                    key.due_at().map(Timestamp::as_millis),
                    encode_json(&key)?,
                ])
                .map_err(backend)?;
            if updated == 0 {
                return Err(StoreError::Conflict);
            }
            Ok(())
        })
        .await
    }

    async fn delete_kms_key(&self, id: uuid::Uuid, revision: i64) -> Result<(), StoreError> {
        self.audited_write(
            || Change::deleted_key(id),
            move |connection| {
                let id = id.to_string();
                let deleted = connection
                    .prepare_cached("DELETE FROM kms_keys WHERE id = ?1 AND revision = ?2")
                    .map_err(backend)?
                    .execute(params![id, revision])
                    .map_err(backend)?;
                if deleted == 0 {
                    return Err(StoreError::Conflict);
                }
                // The foreign key cascades too; this does not depend on it being enforced.
                connection
                    .prepare_cached("DELETE FROM kms_aliases WHERE key_id = ?1")
                    .map_err(backend)?
                    .execute([id])
                    .map_err(backend)?;
                Ok(())
            },
        )
        .await
    }

    async fn list_kms_keys(
        &self,
        scope: &Scope,
        after: Option<uuid::Uuid>,
        limit: usize,
    ) -> Result<Vec<KmsKeyRecord>, StoreError> {
        let (account, region) = (scope.account_id.clone(), scope.region.clone());
        // Every id sorts after the empty string.
        let after = after.map(|id| id.to_string()).unwrap_or_default();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |connection| {
            let mut statement = connection
                .prepare_cached(
                    "SELECT id, revision, body FROM kms_keys
                     WHERE account_id = ?1 AND region = ?2 AND id > ?3
                     ORDER BY id LIMIT ?4",
                )
                .map_err(backend)?;
            let rows = statement
                .query_map(params![account, region, after, limit], kms_key_row)
                .map_err(backend)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(backend)?;
            rows.into_iter().map(decode_kms_key).collect()
        })
        .await
    }

    async fn kms_keys_due(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<uuid::Uuid>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |connection| {
            let mut statement = connection
                .prepare_cached(
                    "SELECT id FROM kms_keys WHERE due_at IS NOT NULL AND due_at <= ?1
                     ORDER BY due_at, id LIMIT ?2",
                )
                .map_err(backend)?;
            let ids = statement
                .query_map(params![now.as_millis(), limit], |row| {
                    row.get::<_, String>(0)
                })
                .map_err(backend)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(backend)?;
            ids.iter().map(|id| parse_key_id(id)).collect()
        })
        .await
    }

    async fn load_kms_alias(
        &self,
        scope: &Scope,
        name: &str,
    ) -> Result<Option<KmsAlias>, StoreError> {
        let (account, region, name) = (
            scope.account_id.clone(),
            scope.region.clone(),
            name.to_owned(),
        );
        self.read(move |connection| {
            let row = connection
                .prepare_cached(&format!(
                    "SELECT {ALIAS_COLUMNS} FROM kms_aliases
                     WHERE account_id = ?1 AND region = ?2 AND name = ?3"
                ))
                .map_err(backend)?
                .query_row(params![account, region, name], kms_alias_row)
                .optional()
                .map_err(backend)?;
            row.map(decode_kms_alias).transpose()
        })
        .await
    }

    async fn put_kms_alias(&self, alias: &KmsAlias, create: bool) -> Result<(), StoreError> {
        let change = || Change::alias(alias);
        let alias = alias.clone();
        self.audited_write(change, move |connection| {
            let key_exists = connection
                .prepare_cached("SELECT 1 FROM kms_keys WHERE id = ?1")
                .map_err(backend)?
                .exists([alias.key_id.to_string()])
                .map_err(backend)?;
            if !key_exists {
                return Err(StoreError::Conflict);
            }
            if create {
                return insert_kms_alias(connection, &alias);
            }
            let updated = connection
                .prepare_cached(
                    "UPDATE kms_aliases SET key_id = ?4, updated_at = ?5
                     WHERE account_id = ?1 AND region = ?2 AND name = ?3",
                )
                .map_err(backend)?
                .execute(params![
                    alias.account_id,
                    alias.region,
                    alias.name,
                    alias.key_id.to_string(),
                    alias.updated_at.as_millis(),
                ])
                .map_err(alias_error)?;
            if updated == 0 {
                return Err(StoreError::AliasConflict);
            }
            Ok(())
        })
        .await
    }

    async fn delete_kms_alias(&self, scope: &Scope, name: &str) -> Result<bool, StoreError> {
        let pending = audit::for_change(|| Change::deleted_alias(name));
        let (account, region, name) = (
            scope.account_id.clone(),
            scope.region.clone(),
            name.to_owned(),
        );
        self.write_with_event(
            pending,
            |deleted| *deleted,
            move |connection| {
                let deleted = connection
                .prepare_cached(
                    "DELETE FROM kms_aliases WHERE account_id = ?1 AND region = ?2 AND name = ?3",
                )
                .map_err(backend)?
                .execute(params![account, region, name])
                .map_err(backend)?;
                Ok(deleted > 0)
            },
        )
        .await
    }

    async fn list_kms_aliases(
        &self,
        scope: &Scope,
        key: Option<uuid::Uuid>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<KmsAlias>, StoreError> {
        let (account, region) = (scope.account_id.clone(), scope.region.clone());
        let key = key.map(|id| id.to_string());
        // Every name sorts after the empty string.
        let after = after.unwrap_or_default().to_owned();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |connection| {
            let mut statement = connection
                .prepare_cached(&format!(
                    "SELECT {ALIAS_COLUMNS} FROM kms_aliases
                     WHERE account_id = ?1 AND region = ?2 AND name > ?3
                       AND (?4 IS NULL OR key_id = ?4)
                     ORDER BY name LIMIT ?5"
                ))
                .map_err(backend)?;
            let rows = statement
                .query_map(params![account, region, after, key, limit], kms_alias_row)
                .map_err(backend)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(backend)?;
            rows.into_iter().map(decode_kms_alias).collect()
        })
        .await
    }

    async fn secrets_with_plain_values(&self, limit: usize) -> Result<Vec<String>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |connection| {
            let mut statement = connection
                .prepare_cached(
                    "SELECT arn FROM secrets
                     WHERE primary_id IS NULL
                       AND EXISTS (SELECT 1 FROM versions
                                   WHERE versions.secret_id = secrets.id AND sealed = 0)
                     ORDER BY id LIMIT ?1",
                )
                .map_err(backend)?;
            statement
                .query_map([limit], |row| row.get(0))
                .map_err(backend)?
                .collect::<Result<Vec<String>, _>>()
                .map_err(backend)
        })
        .await
    }

    async fn create_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        let user = user.clone();
        self.write(move |connection| {
            connection
                .prepare_cached(&format!(
                    "INSERT INTO iam_users ({USER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1)"
                ))
                .map_err(backend)?
                .execute(params![
                    user.id,
                    user.account_id,
                    user.name,
                    user.arn,
                    user.enabled,
                    user.created_at.as_millis(),
                ])
                .map_err(identity_error)?;
            Ok(())
        })
        .await
    }

    async fn load_user(
        &self,
        account_id: &str,
        name: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        let (account_id, name) = (account_id.to_owned(), name.to_owned());
        self.read(move |connection| {
            connection
                .prepare_cached(&format!(
                    "SELECT {USER_COLUMNS} FROM iam_users
                     WHERE account_id = ?1 AND lower(name) = lower(?2)"
                ))
                .map_err(backend)?
                .query_row(params![account_id, name], user_row)
                .optional()
                .map_err(backend)
        })
        .await
    }

    async fn load_user_by_id(&self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        let id = id.to_owned();
        self.read(move |connection| {
            connection
                .prepare_cached(&format!(
                    "SELECT {USER_COLUMNS} FROM iam_users WHERE id = ?1"
                ))
                .map_err(backend)?
                .query_row([id], user_row)
                .optional()
                .map_err(backend)
        })
        .await
    }

    async fn list_users(&self, account_id: &str) -> Result<Vec<UserRecord>, StoreError> {
        let account_id = account_id.to_owned();
        self.read(move |connection| {
            let mut statement = connection
                .prepare_cached(&format!(
                    "SELECT {USER_COLUMNS} FROM iam_users WHERE account_id = ?1 ORDER BY name, id"
                ))
                .map_err(backend)?;
            let rows = statement
                .query_map([account_id], user_row)
                .map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(backend)
        })
        .await
    }

    async fn save_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        let user = user.clone();
        self.write(move |connection| {
            let updated = connection
                .prepare_cached(
                    "UPDATE iam_users SET revision = revision + 1, enabled = ?3
                     WHERE id = ?1 AND revision = ?2",
                )
                .map_err(backend)?
                .execute(params![user.id, user.revision, user.enabled])
                .map_err(backend)?;
            if updated == 0 {
                return Err(StoreError::Conflict);
            }
            Ok(())
        })
        .await
    }

    async fn delete_user(&self, id: &str, revision: i64) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.write(move |connection| {
            let deleted = connection
                .prepare_cached("DELETE FROM iam_users WHERE id = ?1 AND revision = ?2")
                .map_err(backend)?
                .execute(params![id, revision])
                .map_err(backend)?;
            if deleted == 0 {
                return Err(StoreError::Conflict);
            }
            // The foreign keys cascade too; this does not depend on them being enforced.
            for sql in [
                "DELETE FROM iam_access_keys WHERE user_id = ?1",
                "DELETE FROM iam_user_policies WHERE user_id = ?1",
            ] {
                connection
                    .prepare_cached(sql)
                    .map_err(backend)?
                    .execute([&id])
                    .map_err(backend)?;
            }
            Ok(())
        })
        .await
    }

    async fn create_access_key(&self, key: &AccessKeyRecord) -> Result<(), StoreError> {
        let key = key.clone();
        self.write(move |connection| insert_access_key(connection, &key))
            .await
    }

    async fn bootstrap_root_key(&self, key: &AccessKeyRecord) -> Result<RootBootstrap, StoreError> {
        let key = key.clone();
        self.write(move |connection| {
            let inserted = connection
                .prepare_cached(
                    "INSERT INTO iam_root_bootstrap (account_id, access_key_id, created_at)
                     VALUES (?1, ?2, ?3) ON CONFLICT (account_id) DO NOTHING",
                )
                .map_err(backend)?
                .execute(params![key.account_id, key.id, key.created_at.as_millis()])
                .map_err(backend)?;
            if inserted > 0 {
                insert_access_key(connection, &key)?;
                return Ok(RootBootstrap {
                    created: true,
                    access_key_id: key.id.clone(),
                });
            }
            let access_key_id = connection
                .prepare_cached(
                    "SELECT access_key_id FROM iam_root_bootstrap WHERE account_id = ?1",
                )
                .map_err(backend)?
                .query_row([&key.account_id], |row| row.get(0))
                .map_err(backend)?;
            Ok(RootBootstrap {
                created: false,
                access_key_id,
            })
        })
        .await
    }

    async fn load_access_key(&self, id: &str) -> Result<Option<AccessKeyRecord>, StoreError> {
        let id = id.to_owned();
        self.read(move |connection| {
            connection
                .prepare_cached(&format!(
                    "SELECT {ACCESS_KEY_COLUMNS} FROM iam_access_keys WHERE id = ?1"
                ))
                .map_err(backend)?
                .query_row([id], access_key_row)
                .optional()
                .map_err(backend)
        })
        .await
    }

    async fn list_access_keys(
        &self,
        account_id: &str,
        user_id: Option<&str>,
    ) -> Result<Vec<AccessKeyRecord>, StoreError> {
        let (account_id, user_id) = (account_id.to_owned(), user_id.map(str::to_owned));
        self.read(move |connection| {
            let mut statement = connection
                .prepare_cached(&format!(
                    "SELECT {ACCESS_KEY_COLUMNS} FROM iam_access_keys
                     WHERE account_id = ?1 AND user_id IS ?2 ORDER BY id"
                ))
                .map_err(backend)?;
            let rows = statement
                .query_map(params![account_id, user_id], access_key_row)
                .map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(backend)
        })
        .await
    }

    async fn set_access_key_enabled(&self, id: &str, enabled: bool) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.write(move |connection| {
            let updated = connection
                .prepare_cached("UPDATE iam_access_keys SET enabled = ?2 WHERE id = ?1")
                .map_err(backend)?
                .execute(params![id, enabled])
                .map_err(backend)?;
            Ok(updated > 0)
        })
        .await
    }

    async fn delete_access_key(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.write(move |connection| {
            let deleted = connection
                .prepare_cached("DELETE FROM iam_access_keys WHERE id = ?1")
                .map_err(backend)?
                .execute([id])
                .map_err(backend)?;
            Ok(deleted > 0)
        })
        .await
    }

    async fn put_user_policy(&self, policy: &UserPolicy) -> Result<(), StoreError> {
        let policy = policy.clone();
        self.write(move |connection| {
            connection
                .prepare_cached(
                    "INSERT INTO iam_user_policies (user_id, name, document, updated_at)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (user_id, name) DO UPDATE
                         SET document = excluded.document, updated_at = excluded.updated_at",
                )
                .map_err(backend)?
                .execute(params![
                    policy.user_id,
                    policy.name,
                    policy.document,
                    policy.updated_at.as_millis()
                ])
                .map_err(identity_error)?;
            Ok(())
        })
        .await
    }

    async fn delete_user_policy(&self, user_id: &str, name: &str) -> Result<bool, StoreError> {
        let (user_id, name) = (user_id.to_owned(), name.to_owned());
        self.write(move |connection| {
            let deleted = connection
                .prepare_cached("DELETE FROM iam_user_policies WHERE user_id = ?1 AND name = ?2")
                .map_err(backend)?
                .execute([user_id, name])
                .map_err(backend)?;
            Ok(deleted > 0)
        })
        .await
    }

    async fn list_user_policies(&self, user_id: &str) -> Result<Vec<UserPolicy>, StoreError> {
        let user_id = user_id.to_owned();
        self.read(move |connection| {
            let mut statement = connection
                .prepare_cached(
                    "SELECT user_id, name, document, updated_at FROM iam_user_policies
                     WHERE user_id = ?1 ORDER BY name",
                )
                .map_err(backend)?;
            let rows = statement
                .query_map([user_id], |row| {
                    Ok(UserPolicy {
                        user_id: row.get(0)?,
                        name: row.get(1)?,
                        document: row.get(2)?,
                        updated_at: Timestamp::from_millis(row.get(3)?),
                    })
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

    /// The cache answers loads, and every kind of write is seen by the next load: saves
    /// (metadata, new versions, rewrapped values) and deletes, by name, by ARN and by value.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_cache_never_answers_what_a_write_replaced() {
        use crate::store::conformance::{
            create_with, save, save_rewrapped, scope, sealed_value, secret, stored, with_version,
        };
        use crate::store::{NewValue, Store};
        let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
        let store = super::SqliteStore::open(&dir.path().join("coffer.db"))
            .unwrap_or_else(|error| panic!("{error}"));
        let first = sealed_value(b"first");
        let created = create_with(
            &store,
            &with_version(secret("us-east-1", "db"), "v1"),
            &[("v1", &first)],
        )
        .await;
        let by_name = || async {
            store
                .load_by_name(&scope("us-east-1"), "db")
                .await
                .unwrap_or_else(|error| panic!("{error}"))
        };
        let by_arn = || async {
            store
                .load_by_arn(&created.arn)
                .await
                .unwrap_or_else(|error| panic!("{error}"))
        };
        assert_eq!(by_name().await.as_ref(), Some(&created));
        assert_eq!(stored(&store, &created, "v1").await.2, b"first");
        let cached = store
            .cache
            .by_name(&created.scope.account_id, "us-east-1", "db");
        assert_eq!(cached.as_ref(), Some(&created), "the load was kept");
        assert!(
            store.cache.value(created.id, "v1").is_some(),
            "the sealed value was kept"
        );

        // A new version and a new description.
        let mut changed = with_version(created.clone(), "v2");
        changed.description = Some("changed".into());
        let second = sealed_value(b"second");
        save(
            &store,
            &created,
            &changed,
            &[NewValue {
                version_id: "v2",
                value: &second,
            }],
        )
        .await
        .unwrap_or_else(|error| panic!("{error}"));
        for loaded in [by_name().await, by_arn().await] {
            let loaded = loaded.unwrap_or_else(|| panic!("the secret is gone"));
            assert_eq!(loaded.description.as_deref(), Some("changed"));
            assert_eq!(loaded.revision, created.revision + 1);
            assert_eq!(loaded.versions.len(), 2);
        }
        assert_eq!(stored(&store, &created, "v2").await.2, b"second");

        // The value of v1, cached, is replaced by its rewrapped form.
        let before = by_arn()
            .await
            .unwrap_or_else(|| panic!("the secret is gone"));
        assert_eq!(stored(&store, &before, "v1").await.2, b"first");
        let mut rekeyed = before.clone();
        rekeyed.kms_key_id = Some("alias/other".into());
        let rewrapped = sealed_value(b"first, rewrapped");
        save_rewrapped(&store, &before, &rekeyed, "v1", &rewrapped)
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(stored(&store, &before, "v1").await.2, b"first, rewrapped");

        // Deleted: gone by name, by ARN and by value.
        let last = by_name()
            .await
            .unwrap_or_else(|| panic!("the secret is gone"));
        store
            .delete(last.id, last.revision)
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        assert!(by_name().await.is_none());
        assert!(by_arn().await.is_none());
        let value = store
            .load_value(last.id, "v2")
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        assert!(value.is_none());
    }

    /// A read day is written without dropping the secret from the cache: the cached secret
    /// shows it, as a load from the database would.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn read_days_update_the_cache_instead_of_dropping_it() {
        use crate::store::Store;
        use crate::store::conformance::{create, scope, secret, with_version};
        let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
        let store = super::SqliteStore::open(&dir.path().join("coffer.db"))
            .unwrap_or_else(|error| panic!("{error}"));
        let created = create(&store, &with_version(secret("us-east-1", "read"), "v1")).await;
        let day = crate::clock::Timestamp::from_millis(86_400_000 * 20_000);
        store
            .record_access(created.id, "v1", day)
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        store
            .flush_audit()
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        let cached = store
            .cache
            .by_name(&created.scope.account_id, "us-east-1", "read")
            .unwrap_or_else(|| panic!("the day dropped the secret from the cache"));
        assert_eq!(cached.last_accessed_day, Some(day));
        assert_eq!(cached.versions[0].last_accessed_day, Some(day));
        let fresh = super::SqliteStore::open(&dir.path().join("coffer.db"))
            .unwrap_or_else(|error| panic!("{error}"))
            .load_by_name(&scope("us-east-1"), "read")
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(fresh, Some(cached), "the cache matches the database");
    }

    /// Readers that keep loading (and offering what they load to the cache) while a writer
    /// saves: a load that starts after a save was acknowledged always sees that save.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn loads_racing_saves_never_see_an_acknowledged_save_undone() {
        use crate::store::Store;
        use crate::store::conformance::{create, save, scope, secret, with_version};
        use std::sync::atomic::{AtomicBool, Ordering};
        let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
        let store = std::sync::Arc::new(
            super::SqliteStore::open(&dir.path().join("coffer.db"))
                .unwrap_or_else(|error| panic!("{error}")),
        );
        let mut current = create(&*store, &with_version(secret("us-east-1", "raced"), "v1")).await;
        let done = std::sync::Arc::new(AtomicBool::new(false));
        let readers: Vec<_> = (0..3)
            .map(|_| {
                let (store, done) = (std::sync::Arc::clone(&store), std::sync::Arc::clone(&done));
                tokio::spawn(async move {
                    let mut loads = 0_u64;
                    while !done.load(Ordering::Relaxed) {
                        let _ = store.load_by_name(&scope("us-east-1"), "raced").await;
                        loads += 1;
                        tokio::task::yield_now().await;
                    }
                    loads
                })
            })
            .collect();
        for round in 0..300 {
            let mut next = current.clone();
            next.description = Some(format!("round {round}"));
            save(&*store, &current, &next, &[])
                .await
                .unwrap_or_else(|error| panic!("round {round}: {error}"));
            let loaded = store
                .load_by_name(&scope("us-east-1"), "raced")
                .await
                .unwrap_or_else(|error| panic!("{error}"))
                .unwrap_or_else(|| panic!("the secret is gone"));
            assert_eq!(
                loaded.description.as_deref(),
                Some(format!("round {round}").as_str()),
                "a load after save {round} was acknowledged"
            );
            current = loaded;
        }
        done.store(true, Ordering::Relaxed);
        let mut loads = 0;
        for reader in readers {
            loads += reader.await.unwrap_or_else(|error| panic!("{error}"));
        }
        assert!(loads > 300, "the readers raced the writer ({loads} loads)");
    }

    /// Values stored before migration 4 read as not sealed, and are found as plain.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn values_from_before_migration_4_read_as_plain() {
        use crate::store::Store;
        let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
        let path = dir.path().join("coffer.db");
        {
            let connection =
                rusqlite::Connection::open(&path).unwrap_or_else(|error| panic!("{error}"));
            connection
                .execute_batch(
                    "CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at INTEGER NOT NULL)",
                )
                .unwrap_or_else(|error| panic!("{error}"));
            for (version, migration) in (1..=3).zip(&super::MIGRATIONS[..3]) {
                connection
                    .execute_batch(migration)
                    .unwrap_or_else(|error| panic!("{error}"));
                connection
                    .execute(
                        "INSERT INTO schema_version (version, applied_at) VALUES (?1, 0)",
                        [version],
                    )
                    .unwrap_or_else(|error| panic!("{error}"));
            }
            connection
                .execute_batch(
                    "INSERT INTO secrets (id, account_id, region, name, arn, revision, tags,
                         created_at, last_changed_at)
                     VALUES (7, '123456789012', 'us-east-1', 'old', 'arn:old', 1, 'null', 0, 0);
                     INSERT INTO versions (secret_id, version_id, ordinal, created_at, stages,
                         value_kind, value)
                     VALUES (7, 'v1', 1, 0, '[\"AWSCURRENT\"]', 0, x'6f6c64');",
                )
                .unwrap_or_else(|error| panic!("{error}"));
        }
        let store = super::SqliteStore::open(&path).unwrap_or_else(|error| panic!("{error}"));
        let value = store
            .load_value(7, "v1")
            .await
            .unwrap_or_else(|error| panic!("{error}"))
            .unwrap_or_else(|| panic!("the old value is gone"));
        assert!(!value.sealed);
        assert_eq!(&value.bytes[..], b"old");
        assert_eq!(
            store
                .secrets_with_plain_values(10)
                .await
                .unwrap_or_else(|error| panic!("{error}")),
            ["arn:old"]
        );
    }

    /// A read's day is shown by the store at once, and written to the file by the next
    /// flush (or the writer job a moment later), never before the read answers.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn read_days_are_shown_at_once_and_written_by_the_flush() {
        use crate::service::model::Scope;
        use crate::store::Store;
        let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
        let path = dir.path().join("coffer.db");
        let store = super::SqliteStore::open(&path).unwrap_or_else(|error| panic!("{error}"));
        use crate::store::conformance::{create, secret, with_version};
        let secret = create(&store, &with_version(secret("us-east-1", "read"), "v1")).await;
        let day = crate::clock::Timestamp::from_millis(86_400_000 * 20_000);
        let stored_days = || {
            let connection =
                rusqlite::Connection::open(&path).unwrap_or_else(|error| panic!("{error}"));
            connection
                .query_row(
                    "SELECT s.last_accessed_day, v.last_accessed_day
                     FROM secrets s JOIN versions v ON v.secret_id = s.id WHERE s.name = 'read'",
                    [],
                    |row| Ok((row.get::<_, Option<i64>>(0)?, row.get::<_, Option<i64>>(1)?)),
                )
                .unwrap_or_else(|error| panic!("{error}"))
        };
        store
            .record_access(secret.id, "v1", day)
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        let scope = Scope {
            account_id: secret.scope.account_id.clone(),
            region: "us-east-1".into(),
        };
        let loaded = store
            .load_by_name(&scope, "read")
            .await
            .unwrap_or_else(|error| panic!("{error}"))
            .unwrap_or_else(|| panic!("the secret is gone"));
        assert_eq!(loaded.last_accessed_day, Some(day));
        assert_eq!(loaded.versions[0].last_accessed_day, Some(day));
        store
            .flush_audit()
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(
            stored_days(),
            (Some(day.as_millis()), Some(day.as_millis()))
        );
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
