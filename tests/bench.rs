//! `coffer bench` end to end: the real binary measures a real Coffer (`serve --dev` on a free
//! port) with a tiny request cap, and its `--json` report is checked; once in plain HTTP, once
//! through a local TLS-terminating proxy (test-only certificates in `tests/fixtures/tls`).

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Arc;

use common::process::CofferProcess;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};

fn bench(endpoint: &str, args: &[&str], env: &[(&'static str, String)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_coffer"))
        .args(["bench", "--endpoint", endpoint])
        .args(args)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/coffer-bench-test",
        )
        .envs(env.iter().map(|(name, value)| (*name, value.as_str())))
        .output()
        .expect("run coffer bench")
}

/// The environment that gives the bench the server's root access key.
fn credentials(server: &CofferProcess) -> Vec<(&'static str, String)> {
    let credentials = server.credentials.clone().expect("the root access key");
    vec![
        ("AWS_ACCESS_KEY_ID", credentials.access_key_id),
        ("AWS_SECRET_ACCESS_KEY", credentials.secret_access_key),
    ]
}

/// Runs get-hot and describe with 200 requests each and checks the JSON report.
fn check_get_hot_and_describe(endpoint: &str, extra: &[&str], env: &[(&'static str, String)]) {
    let mut args = vec![
        "--scenario",
        "get-hot",
        "describe",
        "--connections",
        "4",
        "--duration",
        "3s",
        "--requests",
        "200",
        "--secrets",
        "20",
        "--setup-connections",
        "4",
        "--json",
    ];
    args.extend_from_slice(extra);
    let output = bench(endpoint, &args, env);
    check_report(&output);
}

#[test]
fn bench_measures_get_hot_and_describe_without_errors() {
    let server = CofferProcess::serve(&["--in-memory"]);
    check_get_hot_and_describe(&server.endpoint, &[], &credentials(&server));
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

/// Accepts TLS on a free loopback port and copies the bytes to and from `upstream`.
async fn tls_proxy(upstream: String) -> String {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(fixture("server.pem"))
        .expect("server.pem")
        .collect::<Result<_, _>>()
        .expect("certificates");
    let key = PrivateKeyDer::from_pem_file(fixture("server.key")).expect("server.key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .expect("server certificate");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let (acceptor, upstream) = (acceptor.clone(), upstream.clone());
            tokio::spawn(async move {
                let Ok(mut client) = acceptor.accept(client).await else {
                    return;
                };
                let Ok(mut server) = TcpStream::connect(&upstream).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            });
        }
    });
    format!("https://{address}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_speaks_https_with_a_ca_bundle() {
    let server = CofferProcess::serve(&["--in-memory"]);
    let upstream = server.endpoint.trim_start_matches("http://").to_owned();
    let endpoint = tls_proxy(upstream).await;
    let ca = fixture("ca.pem");
    let ca = ca.to_str().expect("UTF-8 path").to_owned();
    let env = credentials(&server);
    tokio::task::spawn_blocking(move || {
        check_get_hot_and_describe(&endpoint, &["--ca-bundle", &ca], &env);
        // Without the CA the certificate is refused, and the setup says so.
        let output = bench(
            &endpoint,
            &["--scenario", "get-hot", "--duration", "1s", "--json"],
            &env,
        );
        assert!(!output.status.success());
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains("invalid peer certificate"), "{stdout}");
    })
    .await
    .expect("the bench runs");
    drop(server);
}

fn check_report(output: &Output) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "coffer bench failed ({})\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    let report: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|error| panic!("stdout is not one JSON document ({error}):\n{stdout}"));
    let scenarios = report["scenarios"].as_array().expect("scenarios");
    let names: Vec<&str> = scenarios
        .iter()
        .map(|s| s["scenario"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ["get-hot", "describe"]);
    for scenario in scenarios {
        let name = &scenario["scenario"];
        assert!(
            scenario["requests_per_second"].as_f64().unwrap_or(0.0) > 0.0,
            "{name}: no throughput in {scenario}"
        );
        assert_eq!(scenario["ok"], 200, "{name}: the request cap is 200");
        assert_eq!(scenario["non_2xx"], 0, "{name}: {scenario}");
        assert_eq!(scenario["transport_errors"], 0, "{name}: {scenario}");
        assert!(scenario["failed"].is_null(), "{name}: {scenario}");
        assert!(scenario["latency_ms"]["p50"].as_f64().unwrap_or(0.0) > 0.0);
        assert!(scenario["latency_ms"]["max"].as_f64() >= scenario["latency_ms"]["p99"].as_f64());
    }
    assert_eq!(scenarios[1]["secrets"], 20);
}

#[test]
fn bench_without_credentials_says_how_to_give_them() {
    let output = bench("http://127.0.0.1:9", &["--duration", "1s"], &[]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("AWS_ACCESS_KEY_ID"), "{stderr}");
    assert!(stderr.contains("credentials"), "{stderr}");
}
