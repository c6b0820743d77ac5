//! Encryption at rest, proven on the real executable and its files: no secret value reaches
//! the database, its WAL or the logs in the clear; the root key is checked at start; and a
//! stored record that was tampered with is refused (`DecryptionFailure`), never opened into
//! something else.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::primitives::Blob;
use common::process::CofferProcess;

fn client(endpoint: &str) -> Client {
    common::sdk_client(endpoint, "us-east-1")
}

fn kms_client(endpoint: &str) -> aws_sdk_kms::Client {
    let config = aws_sdk_kms::Config::builder()
        .behavior_version(aws_sdk_kms::config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_sdk_kms::config::Region::new("us-east-1"))
        .credentials_provider({
            let root = common::process::credentials_for(endpoint).expect("the root access key");
            aws_sdk_kms::config::Credentials::new(
                root.access_key_id,
                root.secret_access_key,
                None,
                None,
                "tests",
            )
        })
        .build();
    aws_sdk_kms::Client::from_conf(config)
}

/// Every file of the data directory (database, WAL, shared memory, key file) and the log.
fn files_to_scan(data: &Path, log: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data)
        .expect("read the data directory")
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    files.push(log.to_path_buf());
    files
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// Panics if any file holds any needle.
fn assert_nowhere(files: &[PathBuf], needles: &[(&str, Vec<u8>)]) {
    for file in files {
        let bytes = std::fs::read(file).unwrap_or_default();
        for (name, needle) in needles {
            assert!(
                !contains(&bytes, needle),
                "{name} found in the clear in {}",
                file.display()
            );
        }
    }
}

#[tokio::test]
async fn no_value_is_written_in_the_clear_to_the_database_its_wal_or_the_logs() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let data = dir.path().join("data");
    let log = dir.path().join("coffer.log");
    let server = CofferProcess::serve_logging_to(
        &["--data-dir", data.to_str().expect("path")],
        "trace",
        &log,
    );
    let sm = client(&server.endpoint);
    let created = "plaintext-canary-create-4b1e7c";
    let updated = "plaintext-canary-update-9d02aa";
    let put = "plaintext-canary-put-61f3c0";
    let binary = b"plaintext-canary-binary-\x00\x01\x02-77ab".to_vec();
    // A large value: a page-sized run of one distinctive pattern.
    let large = "plaintext-canary-large-".repeat(2_000);

    sm.create_secret()
        .name("canary")
        .secret_string(created)
        .send()
        .await
        .expect("create");
    sm.update_secret()
        .secret_id("canary")
        .secret_string(updated)
        .send()
        .await
        .expect("update");
    sm.put_secret_value()
        .secret_id("canary")
        .secret_string(put)
        .version_stages("STAGED")
        .send()
        .await
        .expect("put");
    sm.create_secret()
        .name("canary-binary")
        .secret_binary(Blob::new(binary.clone()))
        .send()
        .await
        .expect("create binary");
    sm.create_secret()
        .name("canary-large")
        .secret_string(&large)
        .send()
        .await
        .expect("create large");
    // Every value reads back.
    let current = common::get(&sm, "canary").await;
    assert_eq!(current.secret_string(), Some(updated));
    let previous = sm
        .get_secret_value()
        .secret_id("canary")
        .version_stage("AWSPREVIOUS")
        .send()
        .await
        .expect("get previous");
    assert_eq!(previous.secret_string(), Some(created));
    let staged = sm
        .get_secret_value()
        .secret_id("canary")
        .version_stage("STAGED")
        .send()
        .await
        .expect("get staged");
    assert_eq!(staged.secret_string(), Some(put));
    let read_binary = common::get(&sm, "canary-binary").await;
    assert_eq!(
        read_binary.secret_binary().map(|b| b.as_ref().to_vec()),
        Some(binary.clone())
    );
    assert_eq!(
        common::get(&sm, "canary-large").await.secret_string(),
        Some(large.as_str())
    );

    // Through the KMS API: a plaintext encrypted, and a data key generated (whose plaintext
    // only the caller may ever see).
    let kms = kms_client(&server.endpoint);
    let key_id = kms
        .create_key()
        .description("scan")
        .send()
        .await
        .expect("create key")
        .key_metadata()
        .expect("metadata")
        .key_id()
        .to_owned();
    let kms_plaintext = b"plaintext-canary-kms-encrypt-3e9d".to_vec();
    kms.encrypt()
        .key_id(&key_id)
        .plaintext(aws_sdk_kms::primitives::Blob::new(kms_plaintext.clone()))
        .send()
        .await
        .expect("encrypt");
    let data_key = kms
        .generate_data_key()
        .key_id(&key_id)
        .key_spec(aws_sdk_kms::types::DataKeySpec::Aes256)
        .send()
        .await
        .expect("generate data key")
        .plaintext()
        .expect("plaintext data key")
        .as_ref()
        .to_vec();
    assert_eq!(data_key.len(), 32);

    let needles = [
        ("the KMS plaintext", kms_plaintext.clone()),
        ("the generated data key", data_key.clone()),
        (
            "the generated data key in base64",
            base64_of(&data_key).into_bytes(),
        ),
        ("the created value", created.as_bytes().to_vec()),
        ("the updated value", updated.as_bytes().to_vec()),
        ("the put value", put.as_bytes().to_vec()),
        ("the binary value", binary.clone()),
        (
            "the binary value in base64",
            base64_of(&binary).into_bytes(),
        ),
        ("the large value", b"plaintext-canary-large-".to_vec()),
    ];
    // While running (the WAL holds the recent writes) and after a clean stop (checkpointed).
    assert_nowhere(&files_to_scan(&data, &log), &needles);
    server.stop_with("TERM");
    assert_nowhere(&files_to_scan(&data, &log), &needles);
    // The scan can see what it looks for: names are not encrypted, and one is found.
    let found = files_to_scan(&data, &log)
        .iter()
        .filter(|file| file.starts_with(&data))
        .any(|file| contains(&std::fs::read(file).unwrap_or_default(), b"canary-binary"));
    assert!(found, "the scan did not find a secret's name either");
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Runs `coffer serve` on `data` expecting it to refuse to start; returns what it printed.
fn refused_start(data: &Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_coffer"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .env_remove("COFFER_ROOT_KEY")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run coffer");
    assert!(
        !output.status.success(),
        "coffer started although it should have refused"
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

async fn create_one_secret(data: &Path) {
    let server = CofferProcess::serve_data_dir(data);
    common::create(&client(&server.endpoint), "kept", "kept-value").await;
    server.stop_with("TERM");
}

#[tokio::test]
async fn the_root_key_file_is_private_and_a_wrong_root_key_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temporary directory");
    let data = dir.path().join("data");
    create_one_secret(&data).await;
    let key_file = data.join("root.key");
    let mode = std::fs::metadata(&key_file)
        .expect("the root key file was created")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "root key file mode {mode:o}");
    let original = std::fs::read(&key_file).expect("read the key");

    // Readable by others: refused, with the fix in the message.
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let printed = refused_start(&data);
    assert!(printed.contains("chmod 600"), "{printed}");
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).expect("chmod");

    // Another key: refused by the check value, before anything is decrypted.
    std::fs::write(&key_file, "bm90LXRoZS1yaWdodC1rZXktZm9yLXRoaXMtZGF0YSE=\n").expect("write");
    let printed = refused_start(&data);
    assert!(
        printed.contains("the root key does not match this database"),
        "{printed}"
    );

    // The right key again: the secret reads back.
    std::fs::write(&key_file, &original).expect("restore the key");
    let server = CofferProcess::serve_data_dir(&data);
    let value = common::get(&client(&server.endpoint), "kept").await;
    assert_eq!(value.secret_string(), Some("kept-value"));
    server.stop_with("TERM");
}

/// The layout of a sealed record (see `crypto::envelope`): format, blob length, the data key
/// blob (format, key id, material version, nonce, wrapped key + tag), then the sealed value
/// (format, nonce, ciphertext + tag).
mod layout {
    pub const BLOB_START: usize = 1 + 4;
    pub const BLOB_KEY_ID: usize = BLOB_START + 1;
    pub const BLOB_NONCE: usize = BLOB_KEY_ID + 16 + 4;
    pub const BLOB_WRAPPED_KEY: usize = BLOB_NONCE + 12;
    pub const VALUE_START: usize = BLOB_WRAPPED_KEY + 32 + 16;
    pub const VALUE_NONCE: usize = VALUE_START + 1;
    pub const VALUE_CIPHERTEXT: usize = VALUE_NONCE + 12;
}

fn open_database(data: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(data.join("coffer.db")).expect("open the database")
}

/// The stored record of the current version of `name`.
fn stored_record(data: &Path, name: &str) -> (String, Vec<u8>) {
    open_database(data)
        .query_row(
            "SELECT v.version_id, v.value FROM versions v JOIN secrets s ON s.id = v.secret_id
             WHERE s.name = ?1 AND v.stages LIKE '%AWSCURRENT%'",
            [name],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .expect("read the stored record")
}

fn replace_record(data: &Path, version_id: &str, record: &[u8]) {
    let changed = open_database(data)
        .execute(
            "UPDATE versions SET value = ?2 WHERE version_id = ?1",
            rusqlite::params![version_id, record],
        )
        .expect("write the record");
    assert_eq!(changed, 1);
}

#[tokio::test]
async fn a_tampered_record_is_a_decryption_failure_never_another_value() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let data = dir.path().join("data");
    let server = CofferProcess::serve_data_dir(&data);
    let sm = client(&server.endpoint);
    common::create(&sm, "first", "first-value-0123456789").await;
    common::create(&sm, "second", "second-value-9876543210").await;
    server.stop_with("TERM");

    let (first_version, first_record) = stored_record(&data, "first");
    let (_, second_record) = stored_record(&data, "second");
    assert!(first_record.len() > layout::VALUE_CIPHERTEXT + 16);

    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    for (what, at) in [
        ("the data key's nonce", layout::BLOB_NONCE),
        ("the wrapped data key", layout::BLOB_WRAPPED_KEY + 3),
        ("the wrapped data key's tag", layout::VALUE_START - 1),
        ("the KMS key id", layout::BLOB_KEY_ID + 2),
        ("the value's nonce", layout::VALUE_NONCE + 5),
        ("the value's ciphertext", layout::VALUE_CIPHERTEXT),
        ("the value's tag", first_record.len() - 1),
        ("the record's format byte", 0),
    ] {
        let mut tampered = first_record.clone();
        tampered[at] ^= 0x01;
        cases.push((what, tampered));
    }
    cases.push(("a truncated record", first_record[..40].to_vec()));
    // Another secret's record, intact: its encryption context (ARN, version id) differs.
    cases.push(("another version's record", second_record.clone()));

    for (what, record) in cases {
        replace_record(&data, &first_version, &record);
        let server = CofferProcess::serve_data_dir(&data);
        let sm = client(&server.endpoint);
        let (code, message) =
            common::error_of(sm.get_secret_value().secret_id("first").send().await);
        assert_eq!(code, "DecryptionFailure", "{what}: {message}");
        assert!(!message.contains("first-value"), "{what}: {message}");
        // The other secret is untouched.
        assert_eq!(
            common::get(&sm, "second").await.secret_string(),
            Some("second-value-9876543210")
        );
        server.stop_with("TERM");
    }

    // The intact record opens again.
    replace_record(&data, &first_version, &first_record);
    let server = CofferProcess::serve_data_dir(&data);
    let sm = client(&server.endpoint);
    assert_eq!(
        common::get(&sm, "first").await.secret_string(),
        Some("first-value-0123456789")
    );
    server.stop_with("TERM");
}

#[tokio::test]
async fn values_stored_in_the_clear_before_encryption_are_sealed_at_start() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let data = dir.path().join("data");
    create_one_secret(&data).await;
    // Make the row look like one written before encryption at rest existed.
    let legacy = "legacy-plaintext-value-5a5a";
    let changed = open_database(&data)
        .execute(
            "UPDATE versions SET value = ?1, sealed = 0",
            [legacy.as_bytes()],
        )
        .expect("write a plaintext row");
    assert_eq!(changed, 1);

    let server = CofferProcess::serve_data_dir(&data);
    let sm = client(&server.endpoint);
    assert_eq!(common::get(&sm, "kept").await.secret_string(), Some(legacy));
    server.stop_with("TERM");
    let (sealed, record): (i64, Vec<u8>) = open_database(&data)
        .query_row("SELECT sealed, value FROM versions", [], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .expect("read the row");
    assert_eq!(sealed, 1);
    assert!(!contains(&record, legacy.as_bytes()));
}
