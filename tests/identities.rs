//! Identities end to end with the real binary: the root identity's credentials file written on
//! first start (and only then), `coffer admin` on a data directory while a server runs on it,
//! and nodes bootstrapping one PostgreSQL database together.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::process::{CofferProcess, TEST_ROOT_KEY};

fn admin(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_coffer"));
    command
        .env_remove("COFFER_ROOT_KEY")
        .arg("admin")
        .args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("run coffer admin")
}

fn admin_ok(dir: &Path, args: &[&str]) -> String {
    let mut full = vec!["--data-dir", dir.to_str().expect("UTF-8 path")];
    full.extend_from_slice(args);
    let output = admin(&full, &[]);
    assert!(
        output.status.success(),
        "coffer admin {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

fn admin_json(dir: &Path, args: &[&str]) -> serde_json::Value {
    let mut full = args.to_vec();
    full.push("--json");
    serde_json::from_str(&admin_ok(dir, &full)).expect("JSON output")
}

/// The value of `key` in the `[profile]` section of a credentials file.
fn profile_value(text: &str, profile: &str, key: &str) -> Option<String> {
    let mut inside = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            inside = line == format!("[{profile}]");
        } else if inside
            && let Some((name, value)) = line.split_once('=')
            && name.trim() == key
        {
            return Some(value.trim().to_owned());
        }
    }
    None
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn the_first_start_writes_the_root_credentials_once() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let data = dir.path().join("data");
    let path = data.join("credentials");

    let server = CofferProcess::serve_data_dir(&data);
    let text = std::fs::read_to_string(&path).expect("the credentials file");
    #[cfg(unix)]
    assert_eq!(mode(&path), 0o600);
    let id = profile_value(&text, "coffer", "aws_access_key_id").expect("key id");
    let secret = profile_value(&text, "coffer", "aws_secret_access_key").expect("secret");
    assert!(id.starts_with("AKIA") && id.len() == 20, "{id}");
    assert_eq!(secret.len(), 40);
    let printed = server.stdout().join("\n");
    assert!(printed.contains(path.to_str().expect("path")), "{printed}");
    assert!(
        printed.contains("AWS_SHARED_CREDENTIALS_FILE="),
        "{printed}"
    );
    assert!(printed.contains("--profile coffer"), "{printed}");
    assert!(!printed.contains(&secret), "the secret is never printed");
    drop(server);

    let again = CofferProcess::serve_data_dir(&data);
    let printed = again.stdout().join("\n");
    assert!(!printed.contains("root access key"), "{printed}");
    assert!(!printed.contains(&secret));
    assert_eq!(std::fs::read_to_string(&path).expect("file"), text);
    drop(again);

    // The key is the root's, and admin sees it.
    let listed = admin_json(&data, &["access-key", "list", "root"]);
    let keys = listed["AccessKeyMetadata"].as_array().expect("keys");
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["AccessKeyId"], id.as_str());
}

#[test]
fn in_memory_servers_write_no_file_unless_given_a_directory() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = CofferProcess::serve(&["--in-memory"]);
    assert!(
        server
            .stdout()
            .iter()
            .any(|line| line.contains("in-memory store") && line.contains("AKIA"))
    );
    drop(server);
    let given = dir.path().join("given");
    let server = CofferProcess::serve(&["--dev", "--data-dir", given.to_str().expect("path")]);
    let text = std::fs::read_to_string(given.join("credentials")).expect("file");
    assert!(profile_value(&text, "coffer", "aws_access_key_id").is_some());
    assert!(
        !given.join("coffer.db").exists(),
        "the database stays in memory"
    );
    drop(server);
}

#[test]
fn admin_manages_users_and_keys_while_a_server_runs() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let data = dir.path().join("data");

    // Without a database, admin says so and fails.
    let missing = admin(
        &["--data-dir", data.to_str().expect("path"), "user", "list"],
        &[],
    );
    assert!(!missing.status.success());
    let message = String::from_utf8_lossy(&missing.stderr);
    assert!(message.contains("no Coffer database"), "{message}");
    assert_eq!(message.trim().lines().count(), 1, "{message}");

    let server = CofferProcess::serve_data_dir(&data);
    let created = admin_ok(&data, &["user", "create", "alice"]);
    assert!(
        created.contains("alice") && created.contains("AIDA"),
        "{created}"
    );
    let duplicate = admin(
        &[
            "--data-dir",
            data.to_str().expect("path"),
            "user",
            "create",
            "ALICE",
        ],
        &[],
    );
    assert!(!duplicate.status.success());
    assert!(String::from_utf8_lossy(&duplicate.stderr).contains("already exists"));

    let users = admin_json(&data, &["user", "list"]);
    assert_eq!(users["Users"][0]["UserName"], "alice");
    assert_eq!(
        users["Users"][0]["Arn"],
        "arn:aws:iam::123456789012:user/alice"
    );

    let key = admin_json(&data, &["access-key", "create", "alice"]);
    let id = key["AccessKeyId"].as_str().expect("id").to_owned();
    assert!(id.starts_with("AKIA"));
    assert_eq!(key["SecretAccessKey"].as_str().map(str::len), Some(40));

    let table = admin_ok(&data, &["access-key", "list", "alice"]);
    assert!(table.contains(&id) && table.contains("Active"), "{table}");
    assert!(!table.contains(key["SecretAccessKey"].as_str().expect("secret")));

    admin_ok(&data, &["access-key", "disable", &id]);
    let listed = admin_json(&data, &["access-key", "list", "alice"]);
    assert_eq!(listed["AccessKeyMetadata"][0]["Status"], "Inactive");

    // A key written to a profile file.
    let profiles = dir.path().join("aws-credentials");
    std::fs::write(&profiles, "[default]\naws_access_key_id = KEEP\n").expect("write");
    admin_ok(
        &data,
        &[
            "access-key",
            "create",
            "alice",
            "--profile-file",
            profiles.to_str().expect("path"),
            "--profile",
            "alice",
        ],
    );
    let text = std::fs::read_to_string(&profiles).expect("profiles");
    assert_eq!(
        profile_value(&text, "default", "aws_access_key_id").as_deref(),
        Some("KEEP")
    );
    assert!(profile_value(&text, "alice", "aws_secret_access_key").is_some());

    // Policies.
    let document = dir.path().join("policy.json");
    std::fs::write(
        &document,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}]}"#,
    )
    .expect("write");
    admin_ok(
        &data,
        &[
            "policy",
            "attach",
            "alice",
            "all",
            "--document",
            document.to_str().expect("path"),
        ],
    );
    assert!(admin_ok(&data, &["policy", "list", "alice"]).contains("all"));
    std::fs::write(&document, "{not json").expect("write");
    let refused = admin(
        &[
            "--data-dir",
            data.to_str().expect("path"),
            "policy",
            "attach",
            "alice",
            "bad",
            "--document",
            document.to_str().expect("path"),
        ],
        &[],
    );
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("invalid policy document"));
    admin_ok(&data, &["policy", "detach", "alice", "all"]);

    // Temporary credentials.
    let session = admin_json(&data, &["session", "create", "alice", "--duration", "1h"]);
    assert!(
        session["AccessKeyId"]
            .as_str()
            .is_some_and(|id| id.starts_with("ASIA"))
    );
    assert!(session["SessionToken"].as_str().is_some());

    admin_ok(&data, &["user", "disable", "alice"]);
    assert_eq!(
        admin_json(&data, &["user", "list"])["Users"][0]["Status"],
        "Inactive"
    );
    admin_ok(&data, &["user", "enable", "alice"]);
    admin_ok(&data, &["access-key", "delete", &id]);
    let gone = admin(
        &[
            "--data-dir",
            data.to_str().expect("path"),
            "access-key",
            "delete",
            &id,
        ],
        &[],
    );
    assert!(!gone.status.success());
    admin_ok(&data, &["user", "delete", "alice"]);
    assert_eq!(
        admin_json(&data, &["user", "list"])["Users"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );

    // The server still answers after all that.
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_bootstrapping_one_postgres_database_together_create_one_root_key() {
    let database = common::postgres::TestDatabase::create().await;
    let dirs: Vec<_> = (0..2)
        .map(|_| tempfile::tempdir().expect("temporary directory"))
        .collect();
    let starts: Vec<_> = dirs
        .iter()
        .map(|dir| {
            let url = database.url.clone();
            let data = dir.path().to_str().expect("path").to_owned();
            std::thread::spawn(move || CofferProcess::serve_database(&url, &["--data-dir", &data]))
        })
        .collect();
    let nodes: Vec<CofferProcess> = starts
        .into_iter()
        .map(|start| start.join().expect("a node started"))
        .collect();
    let creators = nodes
        .iter()
        .filter(|node| {
            node.stdout()
                .iter()
                .any(|line| line.contains("created the root access key"))
        })
        .count();
    assert_eq!(creators, 1);
    let files = dirs
        .iter()
        .filter(|dir| dir.path().join("credentials").exists())
        .count();
    assert_eq!(files, 1);
    let listed = admin(
        &[
            "--database-url",
            &database.url,
            "access-key",
            "list",
            "root",
            "--json",
        ],
        &[("COFFER_ROOT_KEY", TEST_ROOT_KEY)],
    );
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("JSON");
    assert_eq!(
        listed["AccessKeyMetadata"].as_array().map(Vec::len),
        Some(1)
    );
}
