//! `coffer serve --dev`: loud, loopback-only unless told otherwise; and without it, signatures
//! are verified by the binary.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::process::CofferProcess;
use common::{error_of, sdk_client};

const BANNER: &str = "DEVELOPMENT MODE";

fn coffer() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_coffer"));
    command
        .env_remove("COFFER_ROOT_KEY")
        .env_remove("COFFER_STATIC_CREDENTIALS")
        .env_remove("COFFER_LISTEN")
        .env("RUST_LOG", "warn");
    command
}

#[test]
fn dev_mode_refuses_a_non_loopback_address() {
    let output = coffer()
        .args(["serve", "--dev", "--listen", "0.0.0.0:0"])
        .output()
        .expect("run coffer");
    assert!(!output.status.success(), "coffer --dev started on 0.0.0.0");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--dev-allow-remote"), "{stderr}");
    assert!(stderr.contains("0.0.0.0:0"), "{stderr}");
    // The second flag means nothing without the first.
    let output = coffer()
        .args([
            "serve",
            "--in-memory",
            "--dev-allow-remote",
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .expect("run coffer");
    assert!(!output.status.success());
}

#[test]
fn dev_mode_on_any_address_with_the_second_flag_and_a_banner() {
    let mut child = coffer()
        .args([
            "serve",
            "--dev",
            "--dev-allow-remote",
            "--listen",
            "0.0.0.0:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start coffer");
    let stdout = child.stdout.take().expect("stdout");
    let (found, listening) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("coffer listening on ") {
                let _ = found.send(line);
            }
        }
    });
    let line = listening.recv_timeout(Duration::from_secs(15));
    let _ = child.kill();
    let _ = child.wait();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    assert!(
        line.is_ok(),
        "coffer --dev --dev-allow-remote did not start: {stderr}"
    );
    assert!(stderr.contains(BANNER), "{stderr}");
    assert!(stderr.contains("--dev-allow-remote"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_mode_accepts_any_signature_and_says_so() {
    let log = tempfile::NamedTempFile::new().expect("log file");
    let server = CofferProcess::serve_logging_to(&["--dev"], "warn", log.path());
    let client = common::sdk_client_with(&server.endpoint, "AKIDANYTHING", "any-secret");
    client
        .list_secrets()
        .send()
        .await
        .expect("accepted in dev mode");
    drop(server);
    let printed = std::fs::read_to_string(log.path()).expect("read the log");
    assert!(printed.contains(BANNER), "{printed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_dev_the_binary_verifies_signatures() {
    let server = CofferProcess::serve(&["--in-memory"]);
    let client = sdk_client(&server.endpoint, "us-east-1");
    client
        .list_secrets()
        .send()
        .await
        .expect("the root key the server printed is known");
    let stranger = common::sdk_client_with(&server.endpoint, "AKIDANYTHING", "any-secret");
    assert_eq!(
        error_of(stranger.list_secrets().send().await).0,
        "UnrecognizedClientException"
    );
    let root = server.credentials.clone().expect("the root access key");
    let wrong = common::sdk_client_with(&server.endpoint, &root.access_key_id, "wrong");
    assert_eq!(
        error_of(wrong.list_secrets().send().await).0,
        "InvalidSignatureException"
    );
}
