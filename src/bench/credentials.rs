//! Where the bench finds its access key and region, in the order the AWS SDKs look:
//! `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`, then the shared
//! credentials file (`AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`) at profile
//! `AWS_PROFILE` (else `default`). The environment is passed in as a lookup function, so tests
//! need not change the process environment.

use std::path::PathBuf;

use crate::auth::sigv4::Credentials;

pub const DEFAULT_REGION: &str = "us-east-1";

/// Resolves the credentials; the error says how to provide them.
pub fn resolve_credentials(env: &dyn Fn(&str) -> Option<String>) -> Result<Credentials, String> {
    let non_empty = |name: &str| env(name).filter(|value| !value.is_empty());
    if let (Some(key), Some(secret)) = (
        non_empty("AWS_ACCESS_KEY_ID"),
        non_empty("AWS_SECRET_ACCESS_KEY"),
    ) {
        return Ok(Credentials::new(
            key,
            secret,
            non_empty("AWS_SESSION_TOKEN"),
        ));
    }
    let profile = non_empty("AWS_PROFILE").unwrap_or_else(|| "default".into());
    let path = non_empty("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .or_else(|| non_empty("HOME").map(|home| PathBuf::from(home).join(".aws/credentials")));
    if let Some(path) = &path
        && let Ok(text) = std::fs::read_to_string(path)
    {
        if let Some(credentials) = profile_credentials(&text, &profile) {
            return Ok(credentials);
        }
        return Err(format!(
            "no AWS credentials: {} has no profile [{profile}] with aws_access_key_id and \
             aws_secret_access_key. {HOW_TO}",
            path.display()
        ));
    }
    Err(format!("no AWS credentials found. {HOW_TO}"))
}

const HOW_TO: &str = "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN \
     for temporary credentials), or put them in the shared credentials file (~/.aws/credentials \
     or AWS_SHARED_CREDENTIALS_FILE, profile AWS_PROFILE or [default]). Coffer in --dev mode \
     and moto accept any values, e.g. AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test.";

/// The region: `--region`, else `AWS_REGION`, else `AWS_DEFAULT_REGION`, else us-east-1.
pub fn resolve_region(flag: Option<&str>, env: &dyn Fn(&str) -> Option<String>) -> String {
    flag.map(str::to_owned)
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .filter(|region| !region.is_empty())
        .unwrap_or_else(|| DEFAULT_REGION.into())
}

/// The keys of `[profile]` in an INI credentials file.
fn profile_credentials(text: &str, profile: &str) -> Option<Credentials> {
    let mut in_profile = false;
    let (mut key, mut secret, mut token) = (None, None, None);
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(section) = line.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            in_profile = section.trim() == profile;
            continue;
        }
        if !in_profile {
            continue;
        }
        if let Some((name, value)) = line.split_once('=') {
            let value = value.trim().to_owned();
            match name.trim().to_ascii_lowercase().as_str() {
                "aws_access_key_id" => key = Some(value),
                "aws_secret_access_key" => secret = Some(value),
                "aws_session_token" => token = Some(value),
                _ => {}
            }
        }
    }
    Some(Credentials::new(key?, secret?, token))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn environment_variables_come_first() {
        let env = env_of(&[
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_SESSION_TOKEN", "token"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"),
        ]);
        let credentials = resolve_credentials(&env).expect("credentials");
        assert_eq!(credentials.access_key_id, "AKID");
        assert_eq!(credentials.secret_access_key.expose(), "secret");
        assert_eq!(credentials.session_token.as_deref(), Some("token"));
    }

    #[test]
    fn the_shared_file_profile_is_read() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("credentials");
        std::fs::write(
            &path,
            "[default]\naws_access_key_id = DEFAULTKEY\naws_secret_access_key = d\n\n\
             # comment\n[bench]\naws_access_key_id=BENCHKEY\naws_secret_access_key=b\n\
             aws_session_token = t\n",
        )
        .expect("write");
        let file = path.to_str().expect("UTF-8");
        let default = resolve_credentials(&env_of(&[("AWS_SHARED_CREDENTIALS_FILE", file)]));
        assert_eq!(
            default.map(|c| c.access_key_id).as_deref(),
            Ok("DEFAULTKEY")
        );
        let bench = resolve_credentials(&env_of(&[
            ("AWS_SHARED_CREDENTIALS_FILE", file),
            ("AWS_PROFILE", "bench"),
        ]))
        .expect("bench profile");
        assert_eq!(bench.access_key_id, "BENCHKEY");
        assert_eq!(bench.session_token.as_deref(), Some("t"));
        let missing = resolve_credentials(&env_of(&[
            ("AWS_SHARED_CREDENTIALS_FILE", file),
            ("AWS_PROFILE", "nope"),
        ]));
        assert!(missing.is_err_and(|e| e.contains("[nope]")));
    }

    #[test]
    fn without_credentials_the_error_says_how_to_give_them() {
        let error = resolve_credentials(&env_of(&[(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/credentials",
        )]))
        .err()
        .unwrap_or_default();
        assert!(error.contains("AWS_ACCESS_KEY_ID"), "{error}");
        assert!(error.contains("~/.aws/credentials"), "{error}");
    }

    #[test]
    fn region_order() {
        let env = env_of(&[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_DEFAULT_REGION", "eu-west-2"),
        ]);
        assert_eq!(resolve_region(Some("ap-south-1"), &env), "ap-south-1");
        assert_eq!(resolve_region(None, &env), "eu-west-1");
        let env = env_of(&[("AWS_DEFAULT_REGION", "eu-west-2")]);
        assert_eq!(resolve_region(None, &env), "eu-west-2");
        assert_eq!(resolve_region(None, &env_of(&[])), "us-east-1");
    }
}
