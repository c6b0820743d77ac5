//! A `coffer` process started from the built binary, for tests of the real executable
//! (restarts, signals, outside clients).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The root key of test nodes on PostgreSQL (base64 of 32 bytes; for tests only).
pub const TEST_ROOT_KEY: &str = "dGVzdC1vbmx5LXJvb3Qta2V5LW5vdC1hLXNlY3JldCE=";

pub struct CofferProcess {
    child: Child,
    pub endpoint: String,
    /// Every line printed on stdout so far.
    pub output: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
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
        let mut child = command
            .args(["serve", "--listen", "127.0.0.1:0"])
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
            Ok(endpoint) => CofferProcess {
                child,
                endpoint,
                output,
            },
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
