//! A `coffer` process started from the built binary, for tests of the real executable
//! (restarts, signals, outside clients).

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// The root key of test nodes on PostgreSQL (base64 of 32 bytes; for tests only).
pub const TEST_ROOT_KEY: &str = "dGVzdC1vbmx5LXJvb3Qta2V5LW5vdC1hLXNlY3JldCE=";

/// An access key and its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// The credentials each started process's clients sign with, by endpoint (and by database
/// URL, for nodes joining a database another node bootstrapped). [`super::sdk_client`] looks
/// here first.
fn registry() -> &'static Mutex<HashMap<String, TestCredentials>> {
    static REGISTRY: OnceLock<Mutex<HashMap<String, TestCredentials>>> = OnceLock::new();
    REGISTRY.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The root credentials of the process listening at `endpoint`, if one was started here.
pub fn credentials_for(endpoint: &str) -> Option<TestCredentials> {
    registry()
        .lock()
        .expect("registry lock")
        .get(endpoint)
        .cloned()
}

/// Reads the `coffer` profile of an aws CLI credentials file.
pub fn read_profile(path: &Path) -> Option<TestCredentials> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut in_profile = false;
    let (mut id, mut secret) = (None, None);
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_profile = line == "[coffer]";
            continue;
        }
        if !in_profile {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            match key.trim() {
                "aws_access_key_id" => id = Some(value.trim().to_owned()),
                "aws_secret_access_key" => secret = Some(value.trim().to_owned()),
                _ => {}
            }
        }
    }
    Some(TestCredentials {
        access_key_id: id?,
        secret_access_key: secret?,
    })
}

/// The root key an in-memory store prints when it starts without a data directory.
fn printed_credentials(lines: &[String]) -> Option<TestCredentials> {
    lines.iter().find_map(|line| {
        let rest = line.split("aws_access_key_id = ").nth(1)?;
        let (id, rest) = rest.split_once(' ')?;
        let secret = rest.split("aws_secret_access_key = ").nth(1)?;
        let secret = secret.split_whitespace().next()?;
        Some(TestCredentials {
            access_key_id: id.to_owned(),
            secret_access_key: secret.to_owned(),
        })
    })
}

pub struct CofferProcess {
    child: Child,
    pub endpoint: String,
    /// Every line printed on stdout so far.
    pub output: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// The account root's access key, as the process handed it over (credentials file or
    /// stdout), or as another node of the same database did.
    pub credentials: Option<TestCredentials>,
    /// A data directory made for a node on PostgreSQL that was given none (it receives the
    /// credentials file).
    _data_dir: Option<tempfile::TempDir>,
}

impl CofferProcess {
    /// Starts `coffer serve` on a free loopback port with `extra` arguments and waits until it
    /// prints the address it listens on.
    pub fn serve(extra: &[&str]) -> CofferProcess {
        CofferProcess::spawn(extra, "warn", Stdio::inherit())
    }

    /// Like [`CofferProcess::serve`], with logs at `level` written to the file `log`.
    pub fn serve_logging_to(extra: &[&str], level: &str, log: &Path) -> CofferProcess {
        let file = std::fs::File::create(log).expect("create the log file");
        CofferProcess::spawn(extra, level, Stdio::from(file))
    }

    fn spawn(extra: &[&str], level: &str, stderr: Stdio) -> CofferProcess {
        let mut command = Command::new(env!("CARGO_BIN_EXE_coffer"));
        command.env_remove("COFFER_ROOT_KEY");
        // Nodes sharing a PostgreSQL database share a root key; the tests' is this one.
        if extra.contains(&"--database-url") {
            command.env("COFFER_ROOT_KEY", TEST_ROOT_KEY);
        }
        let option = |name: &str| {
            extra
                .iter()
                .position(|arg| *arg == name)
                .and_then(|at| extra.get(at + 1))
                .map(|value| value.to_string())
        };
        let database_url = option("--database-url");
        let mut data_dir = option("--data-dir").map(PathBuf::from);
        let mut own_dir = None;
        if database_url.is_some() && data_dir.is_none() {
            let dir = tempfile::tempdir().expect("a data directory for the node");
            command.arg("serve").arg("--data-dir").arg(dir.path());
            data_dir = Some(dir.path().to_path_buf());
            own_dir = Some(dir);
        } else {
            command.arg("serve");
        }
        let mut child = command
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .env("RUST_LOG", level)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start the coffer binary");
        let stdout = child.stdout.take().expect("piped stdout");
        let (found, endpoint) = mpsc::channel();
        let output = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let lines = std::sync::Arc::clone(&output);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                lines.lock().expect("output lock").push(line.clone());
                if let Some(endpoint) = line.strip_prefix("coffer listening on ") {
                    let _ = found.send(endpoint.to_owned());
                }
            }
        });
        match endpoint.recv_timeout(Duration::from_secs(15)) {
            Ok(endpoint) => {
                let printed = printed_credentials(&output.lock().expect("output lock"));
                let credentials = printed
                    .or_else(|| {
                        data_dir
                            .as_deref()
                            .and_then(|dir| read_profile(&dir.join("credentials")))
                    })
                    .or_else(|| {
                        let url = database_url.as_deref()?;
                        registry().lock().expect("registry lock").get(url).cloned()
                    });
                if let Some(credentials) = &credentials {
                    let mut registry = registry().lock().expect("registry lock");
                    registry.insert(endpoint.clone(), credentials.clone());
                    if let Some(url) = &database_url {
                        registry.insert(url.clone(), credentials.clone());
                    }
                }
                CofferProcess {
                    child,
                    endpoint,
                    output,
                    credentials,
                    _data_dir: own_dir,
                }
            }
            Err(_) => {
                let _ = child.kill();
                panic!("coffer did not report its address within 15 s");
            }
        }
    }

    /// The lines printed on stdout so far.
    pub fn stdout(&self) -> Vec<String> {
        self.output.lock().expect("output lock").clone()
    }

    /// Starts `coffer serve` on the data directory `dir`.
    pub fn serve_data_dir(dir: &Path) -> CofferProcess {
        CofferProcess::serve(&["--data-dir", dir.to_str().expect("UTF-8 path")])
    }

    /// Starts `coffer serve` on the PostgreSQL database at `url`, with `extra` arguments.
    pub fn serve_database(url: &str, extra: &[&str]) -> CofferProcess {
        let mut arguments = vec!["--database-url", url];
        arguments.extend_from_slice(extra);
        CofferProcess::serve(&arguments)
    }

    /// Sends `signal` (e.g. "TERM", "KILL") and waits for the process to exit.
    pub fn stop_with(mut self, signal: &str) -> ExitStatus {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
        for _ in 0..200 {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("coffer did not exit within 5 s of SIG{signal}");
    }
}

impl Drop for CofferProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
