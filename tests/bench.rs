//! `coffer bench` end to end: the real binary measures a real Coffer (`serve --dev` on a free
//! port) with a tiny request cap, and its `--json` report is checked.

mod common;

use std::process::{Command, Output};

use common::process::CofferProcess;
use serde_json::Value;

fn bench(endpoint: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
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
        .envs(env.iter().copied())
        .output()
        .expect("run coffer bench")
}

#[test]
fn bench_measures_get_hot_and_describe_without_errors() {
    let server = CofferProcess::serve(&["--dev"]);
    let output = bench(
        &server.endpoint,
        &[
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
        ],
        &[
            ("AWS_ACCESS_KEY_ID", "AKIDBENCHTEST"),
            ("AWS_SECRET_ACCESS_KEY", "bench-secret"),
        ],
    );
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
