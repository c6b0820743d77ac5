//! Compatibility with the unmodified boto3 and aws CLI.
//!
//! Starts the real binary in memory on a free port and runs `tests/compat/compat_test.py`
//! (standard `unittest` plus boto3, and the aws CLI through `subprocess`) against it. Python 3
//! with boto3 and the aws CLI must be installed (`scripts/test` installs them with pip); when
//! they are missing this test fails rather than skipping silently.

mod common;

use std::process::{Command, Output};

use common::process::CofferProcess;

const INSTALL_HINT: &str =
    "install the Python tools with `pip install boto3 awscli` (scripts/test does)";

fn run(command: &mut Command, what: &str) -> Output {
    command
        .output()
        .unwrap_or_else(|error| panic!("cannot run {what}: {error}; {INSTALL_HINT}"))
}

fn require_tool(command: &mut Command, what: &str) {
    let output = run(command, what);
    assert!(
        output.status.success(),
        "{what} is not available ({}); {INSTALL_HINT}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn boto3_and_aws_cli_compatibility() {
    require_tool(
        Command::new("python3").args(["-c", "import boto3"]),
        "python3 with boto3",
    );
    require_tool(Command::new("aws").arg("--version"), "the aws CLI");

    let server = CofferProcess::serve(&["--in-memory"]);
    let credentials = server.credentials.clone().expect("the root access key");
    let output = run(
        Command::new("python3")
            .arg("tests/compat/compat_test.py")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("COFFER_ENDPOINT", &server.endpoint)
            .env("COFFER_ACCESS_KEY_ID", &credentials.access_key_id)
            .env("COFFER_SECRET_ACCESS_KEY", &credentials.secret_access_key),
        "the compatibility suite",
    );
    drop(server);
    assert!(
        output.status.success(),
        "the boto3/aws CLI compatibility suite failed ({})\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
