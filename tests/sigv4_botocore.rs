//! Cross-check of Coffer's SigV4 signer against botocore's (`SigV4Auth`), the signer of boto3
//! and the aws CLI. Runs `tests/compat/sigv4_botocore.py`; Python 3 with botocore must be
//! installed (`scripts/test` installs boto3). When it is missing this test fails rather than
//! skipping silently.

use std::io::Write;
use std::process::{Command, Stdio};

use coffer::auth::sigv4::{Credentials, Request, SigningParams, sign_request};
use serde_json::{Value, json};

struct Case {
    method: &'static str,
    host: &'static str,
    path: &'static str,
    query: &'static str,
    headers: Vec<(&'static str, &'static str)>,
    body: &'static str,
    token: Option<&'static str>,
    region: &'static str,
    service: &'static str,
    amz_date: &'static str,
}

fn cases() -> Vec<Case> {
    let secretsmanager = |target: &'static str, body: &'static str, token| Case {
        method: "POST",
        host: "127.0.0.1:8566",
        path: "/",
        query: "",
        headers: vec![
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", target),
        ],
        body,
        token,
        region: "us-east-1",
        service: "secretsmanager",
        amz_date: "20260102T030405Z",
    };
    vec![
        secretsmanager(
            "secretsmanager.GetSecretValue",
            r#"{"SecretId":"bench/one"}"#,
            None,
        ),
        secretsmanager(
            "secretsmanager.PutSecretValue",
            r#"{"SecretId":"a b","SecretString":"h\u00e9llo \"quoted\"","ClientRequestToken":"00000000-0000-4000-8000-000000000000"}"#,
            Some("FQoGZXIvYXdzEPT//////////wEXAMPLE+token/with=chars"),
        ),
        Case {
            method: "GET",
            host: "secretsmanager.eu-west-3.amazonaws.com",
            path: "/some%20path/with~unreserved-._/x%2Fy",
            query: "b=2&a=%E1%88%B4&a=1&empty=",
            headers: vec![("My-Header", "  spaced   value  ")],
            body: "",
            token: None,
            region: "eu-west-3",
            service: "secretsmanager",
            amz_date: "20991231T235959Z",
        },
    ]
}

const ACCESS_KEY: &str = "AKIDCOFFERTEST";
const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

#[test]
fn coffer_signs_as_botocore_does() {
    let cases = cases();
    let input: Vec<Value> = cases
        .iter()
        .map(|case| {
            let query = if case.query.is_empty() {
                String::new()
            } else {
                format!("?{}", case.query)
            };
            json!({
                "method": case.method,
                "url": format!("http://{}{}{query}", case.host, case.path),
                "headers": case.headers,
                "body": case.body,
                "access_key": ACCESS_KEY,
                "secret_key": SECRET_KEY,
                "token": case.token,
                "region": case.region,
                "service": case.service,
                "amz_date": case.amz_date,
            })
        })
        .collect();
    let mut child = Command::new("python3")
        .arg("tests/compat/sigv4_botocore.py")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| {
            panic!("cannot run python3: {error}; install Python 3 and `pip install boto3`")
        });
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(Value::Array(input).to_string().as_bytes())
        .expect("write the cases");
    let output = child.wait_with_output().expect("wait for python3");
    assert!(
        output.status.success(),
        "the botocore signer failed ({}); is botocore installed (`pip install boto3`)?\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let expected: Vec<Value> = serde_json::from_slice(&output.stdout).expect("JSON from python");
    assert_eq!(expected.len(), cases.len());

    for (case, botocore) in cases.iter().zip(&expected) {
        let credentials = Credentials::new(ACCESS_KEY, SECRET_KEY, case.token.map(str::to_owned));
        let mut headers = vec![("Host", case.host)];
        headers.extend(case.headers.iter().copied());
        let signed = sign_request(
            &Request {
                method: case.method,
                path: case.path,
                query: case.query,
                headers: &headers,
                payload: case.body.as_bytes(),
            },
            &SigningParams {
                credentials: &credentials,
                region: case.region,
                service: case.service,
                amz_date: case.amz_date,
                cached_key: None,
            },
        );
        assert_eq!(
            signed.canonical_request, botocore["canonical_request"],
            "canonical request of {} {}",
            case.method, case.path
        );
        assert_eq!(signed.authorization, botocore["authorization"]);
        assert_eq!(signed.amz_date, botocore["x_amz_date"]);
        assert_eq!(
            signed.security_token.as_deref(),
            botocore["x_amz_security_token"].as_str()
        );
    }
}
