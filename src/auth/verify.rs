//! SigV4 verification: the [`Authenticator`] every request goes through.
//!
//! In [`AuthMode::Verify`] a request is accepted only if its `Authorization` header carries
//! the signature AWS would compute for it: the canonical request is rebuilt from what the
//! server received (method, path double-encoded and normalized as for every service but S3,
//! sorted query, the headers named in `SignedHeaders`, and the SHA-256 of the body as received,
//! never the client's `X-Amz-Content-Sha256`), signed with the key derived from the access
//! key's secret, date, region and service, and compared in constant time. The request's time
//! (`X-Amz-Date`, else `Date`) must be within [`MAX_CLOCK_SKEW`] of the server's clock.
//!
//! In [`AuthMode::Dev`] any well-formed signature is accepted and the caller is the account's
//! root, as moto and LocalStack do; `coffer serve --dev` only (see `cli`).
//!
//! Errors are AWS's, in the order AWS reports them: `MissingAuthenticationTokenException`,
//! `IncompleteSignatureException`, `InvalidSignatureException` (clock skew, then signature),
//! `UnrecognizedClientException` (unknown key, wrong or unexpected session token),
//! `ExpiredTokenException`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::credentials::{AccessKeyCredential, CredentialSource, Identity};
use super::sigv4::{self, Authorization};
use super::{Principal, parse_for};
use crate::clock::{Clock, Timestamp};
use crate::crypto::{SecretString, constant_time_eq};
use crate::protocol::{ApiError, ErrorCode};
use crate::service::model::Scope;

/// How far a request's time may be from the server's, either way (AWS's 15 minutes).
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);

/// AWS's message when the signature does not match.
pub const SIGNATURE_MISMATCH: &str = "The request signature we calculated does not match the \
     signature you provided. Check your AWS Secret Access Key and signing method. Consult the \
     service documentation for details.";
/// AWS's message for an unknown access key id or a wrong session token.
pub const INVALID_TOKEN: &str = "The security token included in the request is invalid.";
/// AWS's message for temporary credentials past their expiry.
pub const EXPIRED_TOKEN: &str = "The security token included in the request is expired";

/// A request as the server received it.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    pub method: &'a str,
    /// The path as sent (still percent-encoded).
    pub path: &'a str,
    /// The query as sent, without `?` (empty if none).
    pub query: &'a str,
    /// Every header in the order received; a name may repeat. Names in any case.
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

impl<'a> SignedRequest<'a> {
    fn values(&self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| *value)
    }

    /// The value of a header that must not repeat; `Err` if it does.
    fn single(&self, name: &'static str) -> Result<Option<&'a str>, ApiError> {
        let mut values = self.values(name);
        let first = values.next();
        if values.next().is_some() {
            return Err(ApiError::new(
                ErrorCode::IncompleteSignatureException,
                format!("The request has more than one '{name}' header."),
            ));
        }
        Ok(first)
    }
}

/// Whether signatures are checked.
#[derive(Clone)]
pub enum AuthMode {
    /// Any well-formed signature; the caller is the account's root.
    Dev,
    /// Signatures are verified against the credentials of this source.
    Verify(Arc<dyn CredentialSource>),
}

/// Says who sent a request, or why it is refused.
#[derive(Clone)]
pub struct Authenticator {
    mode: AuthMode,
    clock: Arc<dyn Clock>,
    account_id: String,
    signing_keys: Arc<SigningKeys>,
}

/// Signing keys already derived, per access key, day, region and service: deriving one is
/// four HMACs, and a client signs every request of a day with the same one. An entry is used
/// only with the secret it was derived from (a key whose secret changed derives anew). At
/// most [`SigningKeys::CAPACITY`] entries; when full, the cache starts over. Keys are zeroized
/// when dropped.
#[derive(Default)]
struct SigningKeys {
    entries: std::sync::Mutex<
        HashMap<(String, sigv4::CredentialScope), (SecretString, sigv4::SigningKey)>,
    >,
}

impl SigningKeys {
    const CAPACITY: usize = 4096;

    fn get(
        &self,
        access_key_id: &str,
        secret: &SecretString,
        scope: &sigv4::CredentialScope,
    ) -> sigv4::SigningKey {
        let key = (access_key_id.to_owned(), scope.clone());
        if let Ok(entries) = self.entries.lock()
            && let Some((derived_from, signing_key)) = entries.get(&key)
            && derived_from == secret
        {
            return signing_key.clone();
        }
        let signing_key = sigv4::signing_key(secret, scope);
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= Self::CAPACITY {
                entries.clear();
            }
            entries.insert(key, (secret.clone(), signing_key.clone()));
        }
        signing_key
    }
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("dev", &self.is_dev())
            .field("account_id", &self.account_id)
            .finish()
    }
}

impl Authenticator {
    /// Development mode: any well-formed signature, the caller is `account_id`'s root.
    pub fn dev(account_id: impl Into<String>, clock: Arc<dyn Clock>) -> Authenticator {
        Authenticator {
            mode: AuthMode::Dev,
            clock,
            account_id: account_id.into(),
            signing_keys: Arc::default(),
        }
    }

    /// Verifies every signature against the credentials `source` gives.
    pub fn verifying(
        source: Arc<dyn CredentialSource>,
        account_id: impl Into<String>,
        clock: Arc<dyn Clock>,
    ) -> Authenticator {
        Authenticator {
            mode: AuthMode::Verify(source),
            clock,
            account_id: account_id.into(),
            signing_keys: Arc::default(),
        }
    }

    pub fn is_dev(&self) -> bool {
        matches!(self.mode, AuthMode::Dev)
    }

    /// The caller of `request`, a request to the API whose signing name is `service_name`.
    pub async fn authenticate(
        &self,
        request: &SignedRequest<'_>,
        service_name: &str,
    ) -> Result<Principal, ApiError> {
        let authorization = request.single("authorization")?;
        let parsed = parse_for(authorization, service_name)?;
        match &self.mode {
            AuthMode::Dev => Ok(Principal::root(
                parsed.access_key_id,
                Scope {
                    account_id: self.account_id.clone(),
                    region: parsed.scope.region,
                },
            )),
            AuthMode::Verify(source) => {
                let header = authorization.unwrap_or_default();
                let credential = self
                    .verify(source.as_ref(), request, &parsed, header)
                    .await?;
                Ok(principal(parsed, credential.identity, credential.policies))
            }
        }
    }

    async fn verify(
        &self,
        source: &dyn CredentialSource,
        request: &SignedRequest<'_>,
        parsed: &Authorization,
        header: &str,
    ) -> Result<AccessKeyCredential, ApiError> {
        let signs = |name: &str| parsed.signed_headers.iter().any(|signed| signed == name);
        if !signs("host") {
            return Err(incomplete(
                "'Host' must be a 'SignedHeader' in the AWS Authorization.",
            ));
        }
        let amz_date = request_time(request, header, &signs)?;
        if parsed.scope.date != amz_date[..8] {
            return Err(ApiError::new(
                ErrorCode::InvalidSignatureException,
                format!(
                    "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of \
                     date from HTTP: '{}' != '{}', from '{amz_date}'.",
                    parsed.scope.date,
                    &amz_date[..8]
                ),
            ));
        }
        let now = self.clock.now();
        check_skew(&amz_date, now)?;

        let credential = source
            .credential(&parsed.access_key_id)
            .await
            .map_err(ApiError::internal)?
            .ok_or_else(unrecognized)?;
        let token = request.single("x-amz-security-token")?;
        match (&credential.session_token, token) {
            (None, None) => {}
            (Some(expected), Some(token)) => {
                if *expected != SecretString::new(token.to_owned()) {
                    return Err(unrecognized());
                }
                if credential.expires_at.is_some_and(|expiry| now >= expiry) {
                    return Err(ApiError::new(
                        ErrorCode::ExpiredTokenException,
                        EXPIRED_TOKEN,
                    ));
                }
            }
            (None, Some(_)) | (Some(_), None) => return Err(unrecognized()),
        }

        let signed_headers = request
            .headers
            .iter()
            .filter(|(name, _)| signs(&name.trim().to_ascii_lowercase()))
            .copied();
        let canonical_headers = sigv4::canonical_headers(signed_headers);
        let canonical_request = sigv4::canonical_request(
            request.method,
            &sigv4::canonical_uri(request.path, true),
            &sigv4::canonical_query_string(request.query),
            &canonical_headers,
            &sigv4::payload_hash(request.body),
        );
        let string_to_sign = sigv4::string_to_sign(&amz_date, &parsed.scope, &canonical_request);
        let key = self.signing_keys.get(
            &parsed.access_key_id,
            &credential.secret_access_key,
            &parsed.scope,
        );
        let expected = sigv4::signature(&key, &string_to_sign);
        if canonical_headers
            .signed
            .split(';')
            .ne(parsed.signed_headers.iter().map(String::as_str))
            || !constant_time_eq(expected.as_bytes(), parsed.signature.as_bytes())
        {
            return Err(ApiError::new(
                ErrorCode::InvalidSignatureException,
                SIGNATURE_MISMATCH,
            ));
        }
        Ok(credential)
    }
}

fn principal(
    parsed: Authorization,
    identity: Identity,
    policies: Arc<[crate::policy::Policy]>,
) -> Principal {
    Principal {
        access_key_id: parsed.access_key_id,
        scope: Scope {
            account_id: identity.account_id.clone(),
            region: parsed.scope.region,
        },
        identity,
        policies,
        call: Arc::new(crate::service::authorize::Call::internal()),
    }
}

fn incomplete(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::IncompleteSignatureException, message)
}

fn unrecognized() -> ApiError {
    ApiError::new(ErrorCode::UnrecognizedClientException, INVALID_TOKEN)
}

/// The request's time as `X-Amz-Date` spells it: from `X-Amz-Date`, else from `Date`. The
/// header it comes from must be signed.
fn request_time(
    request: &SignedRequest<'_>,
    authorization: &str,
    signs: &dyn Fn(&str) -> bool,
) -> Result<String, ApiError> {
    if let Some(value) = request.single("x-amz-date")? {
        if sigv4::parse_amz_date(value.trim()).is_none() {
            return Err(incomplete(format!(
                "Date must be in ISO-8601 'basic format'. Got '{value}'. See \
                 http://en.wikipedia.org/wiki/ISO_8601"
            )));
        }
        if !signs("x-amz-date") {
            return Err(incomplete(
                "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.",
            ));
        }
        return Ok(value.trim().to_owned());
    }
    if let Some(value) = request.single("date")? {
        let Some(time) = sigv4::parse_http_date(value) else {
            return Err(incomplete(format!(
                "Date must be in RFC 1123 format. Got '{value}'."
            )));
        };
        if !signs("date") {
            return Err(incomplete(
                "'Date' must be a 'SignedHeader' in the AWS Authorization.",
            ));
        }
        return Ok(sigv4::amz_date(time));
    }
    Err(incomplete(format!(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. \
         Authorization={authorization}"
    )))
}

/// Refuses a request time (`amz_date`, already valid) more than [`MAX_CLOCK_SKEW`] from `now`,
/// with AWS's messages.
fn check_skew(amz_date: &str, now: Timestamp) -> Result<(), ApiError> {
    let Some(time) = sigv4::parse_amz_date(amz_date) else {
        return Err(incomplete(format!("Invalid date '{amz_date}'.")));
    };
    let earliest = Timestamp::from_millis(
        now.as_millis() - i64::try_from(MAX_CLOCK_SKEW.as_millis()).unwrap_or(i64::MAX),
    );
    let latest = now.plus(MAX_CLOCK_SKEW);
    let now_text = sigv4::amz_date(now);
    let message = if time < earliest {
        format!(
            "Signature expired: {amz_date} is now earlier than {} ({now_text} - 15 min.)",
            sigv4::amz_date(earliest)
        )
    } else if time > latest {
        format!(
            "Signature not yet current: {amz_date} is still later than {} ({now_text} + 15 min.)",
            sigv4::amz_date(latest)
        )
    } else {
        return Ok(());
    };
    Err(ApiError::new(ErrorCode::InvalidSignatureException, message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::credentials::StaticCredentials;
    use crate::auth::sigv4::tests::{SUITE_DATE, SUITE_SECRET, Vector, suite};
    use crate::clock::ManualClock;

    const KEY_ID: &str = "AKIDEXAMPLE";
    const ACCOUNT: &str = "111122223333";

    fn suite_time() -> Timestamp {
        sigv4::parse_amz_date(SUITE_DATE).expect("the suite's date")
    }

    fn credential(token: Option<&str>, expires_at: Option<Timestamp>) -> AccessKeyCredential {
        AccessKeyCredential {
            access_key_id: KEY_ID.into(),
            secret_access_key: SecretString::new(SUITE_SECRET.into()),
            session_token: token.map(|token| SecretString::new(token.into())),
            expires_at,
            identity: Identity::root(ACCOUNT),
            policies: Arc::from(Vec::new()),
        }
    }

    fn verifier(credential: AccessKeyCredential, clock: Arc<ManualClock>) -> Authenticator {
        Authenticator::verifying(
            Arc::new(StaticCredentials::new([credential])),
            ACCOUNT,
            clock,
        )
    }

    /// A request as a client would send it: its headers, `X-Amz-Date`, the token if any,
    /// and an `Authorization` header signing them all with `signature`.
    struct Sent {
        method: String,
        path: String,
        query: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    }

    impl Sent {
        fn of(vector: &Vector) -> Sent {
            let mut headers: Vec<(String, String)> = vector
                .headers
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect();
            headers.push(("X-Amz-Date".into(), SUITE_DATE.into()));
            if let Some(token) = vector.token {
                headers.push(("X-Amz-Security-Token".into(), token.into()));
            }
            let signed =
                sigv4::canonical_headers(headers.iter().map(|(n, v)| (n.as_str(), v.as_str())))
                    .signed;
            headers.push((
                "Authorization".into(),
                format!(
                    "AWS4-HMAC-SHA256 Credential={KEY_ID}/20150830/us-east-1/service/aws4_request, \
                     SignedHeaders={signed}, Signature={}",
                    vector.signature
                ),
            ));
            Sent {
                method: vector.method.into(),
                path: vector.path.into(),
                query: vector.query.into(),
                headers,
                body: vector.payload.to_vec(),
            }
        }

        /// A `POST /` signed with `secret` (by the project's signer) with these extra headers.
        fn signed(secret: &str, token: Option<&str>, extra: &[(&str, &str)]) -> Sent {
            let mut headers = vec![("Host", "example.amazonaws.com")];
            headers.extend_from_slice(extra);
            let credentials = sigv4::Credentials::new(KEY_ID, secret, token.map(str::to_owned));
            let body = b"{}";
            let signature = sigv4::sign_request(
                &sigv4::Request {
                    method: "POST",
                    path: "/",
                    query: "",
                    headers: &headers,
                    payload: body,
                },
                &sigv4::SigningParams {
                    credentials: &credentials,
                    region: "us-east-1",
                    service: "service",
                    amz_date: SUITE_DATE,
                    cached_key: None,
                },
            );
            let mut all: Vec<(String, String)> = headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect();
            all.push(("X-Amz-Date".into(), signature.amz_date));
            if let Some(token) = signature.security_token {
                all.push(("X-Amz-Security-Token".into(), token));
            }
            all.push(("Authorization".into(), signature.authorization));
            Sent {
                method: "POST".into(),
                path: "/".into(),
                query: String::new(),
                headers: all,
                body: body.to_vec(),
            }
        }

        fn set(&mut self, name: &str, value: &str) {
            self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            self.headers.push((name.into(), value.into()));
        }

        fn authorization(&self) -> String {
            self.headers
                .iter()
                .find(|(n, _)| n == "Authorization")
                .map(|(_, v)| v.clone())
                .expect("an Authorization header")
        }

        async fn to(&self, authenticator: &Authenticator) -> Result<Principal, ApiError> {
            let headers: Vec<(&str, &str)> = self
                .headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            let request = SignedRequest {
                method: &self.method,
                path: &self.path,
                query: &self.query,
                headers: &headers,
                body: &self.body,
            };
            authenticator.authenticate(&request, "service").await
        }
    }

    fn code_of(result: &Result<Principal, ApiError>) -> Option<(ErrorCode, String)> {
        result
            .as_ref()
            .err()
            .map(|error| (error.code(), error.message().to_owned()))
    }

    fn mismatch() -> Option<(ErrorCode, String)> {
        Some((
            ErrorCode::InvalidSignatureException,
            SIGNATURE_MISMATCH.into(),
        ))
    }

    #[tokio::test]
    async fn every_aws_test_vector_verifies_and_no_tampered_one_does() {
        let clock = ManualClock::new(suite_time());
        for vector in suite().into_iter().filter(|vector| vector.normalize) {
            let authenticator = verifier(credential(vector.token, None), clock.clone());
            let sent = Sent::of(&vector);
            let principal = sent.to(&authenticator).await;
            assert_eq!(code_of(&principal), None, "{}", vector.name);
            let principal = principal.expect("verified");
            assert_eq!(principal.identity, Identity::root(ACCOUNT));
            assert_eq!(principal.scope.region, "us-east-1");
            assert_eq!(principal.access_key_id, KEY_ID);

            let mut body = Sent::of(&vector);
            match body.body.first_mut() {
                Some(byte) => *byte ^= 1,
                None => body.body.push(b' '),
            }
            let mut host = Sent::of(&vector);
            host.set("Host", "example.amazonaws.con");
            let mut path = Sent::of(&vector);
            path.path.push('a');
            let mut query = Sent::of(&vector);
            query.query = match query.query.as_str() {
                "" => "a=b".into(),
                q => format!("{q}x"),
            };
            let mut method = Sent::of(&vector);
            method.method = if vector.method == "GET" {
                "POST"
            } else {
                "GET"
            }
            .into();
            for (what, tampered) in [
                ("body", body),
                ("host", host),
                ("path", path),
                ("query", query),
                ("method", method),
            ] {
                assert_eq!(
                    code_of(&tampered.to(&authenticator).await),
                    mismatch(),
                    "{}: {what}",
                    vector.name
                );
            }
            let mut wrong_secret = credential(vector.token, None);
            wrong_secret.secret_access_key = SecretString::new(SUITE_SECRET.replace('w', "W"));
            assert_eq!(
                code_of(&sent.to(&verifier(wrong_secret, clock.clone())).await),
                mismatch(),
                "{}: secret",
                vector.name
            );
        }
    }

    #[tokio::test]
    async fn the_body_is_hashed_by_the_server_whatever_the_client_claims() {
        let clock = ManualClock::new(suite_time());
        let authenticator = verifier(credential(None, None), clock);
        let claimed = sigv4::payload_hash(b"{}");
        let sent = Sent::signed(SUITE_SECRET, None, &[("X-Amz-Content-Sha256", &claimed)]);
        assert_eq!(code_of(&sent.to(&authenticator).await), None);
        let mut tampered = sent;
        tampered.body = b"{ }".to_vec();
        assert_eq!(code_of(&tampered.to(&authenticator).await), mismatch());
        // A client that signs `UNSIGNED-PAYLOAD` instead of the body's hash (S3 only) is refused.
        let mut unsigned = Sent::signed(SUITE_SECRET, None, &[]);
        let headers = [
            ("Host", "example.amazonaws.com"),
            ("X-Amz-Date", SUITE_DATE),
        ];
        let scope = sigv4::CredentialScope::new("20150830", "us-east-1", "service");
        let creq = sigv4::canonical_request(
            "POST",
            "/",
            "",
            &sigv4::canonical_headers(headers),
            "UNSIGNED-PAYLOAD",
        );
        let signature = sigv4::signature(
            &sigv4::signing_key(&SecretString::new(SUITE_SECRET.into()), &scope),
            &sigv4::string_to_sign(SUITE_DATE, &scope, &creq),
        );
        unsigned.set(
            "Authorization",
            &format!(
                "AWS4-HMAC-SHA256 Credential={KEY_ID}/{scope}, SignedHeaders=host;x-amz-date, \
                 Signature={signature}"
            ),
        );
        assert_eq!(code_of(&unsigned.to(&authenticator).await), mismatch());
    }

    #[tokio::test]
    async fn duplicate_headers_and_folded_whitespace_are_canonicalized_as_sigv4_says() {
        let clock = ManualClock::new(suite_time());
        let authenticator = verifier(credential(None, None), clock);
        let vectors = suite();
        let by_name = |name: &str| {
            vectors
                .iter()
                .find(|vector| vector.name == name)
                .map(Sent::of)
                .expect("the vector")
        };
        // Repeated names are one line, values in the order sent: another order is another
        // signature.
        let duplicate = by_name("get-header-value-order");
        assert_eq!(code_of(&duplicate.to(&authenticator).await), None);
        let mut reordered = by_name("get-header-value-order");
        let first = reordered
            .headers
            .iter()
            .position(|(n, _)| n == "My-Header1")
            .expect("the header");
        reordered.headers.swap(first, first + 1);
        assert_eq!(code_of(&reordered.to(&authenticator).await), mismatch());
        // Runs of whitespace are one space, leading and trailing whitespace goes.
        let mut folded = by_name("get-header-value-multiline");
        folded.set("My-Header1", "  value1   value2\tvalue3 ");
        let auth = by_name("get-header-value-multiline").authorization();
        folded.set("Authorization", &auth);
        assert_eq!(code_of(&folded.to(&authenticator).await), None);
        folded.set("My-Header1", "value1 value2value3");
        folded.set("Authorization", &auth);
        assert_eq!(code_of(&folded.to(&authenticator).await), mismatch());
        // An unsigned header may change; a signed one that goes missing may not.
        let mut extra = by_name("get-vanilla");
        extra.headers.push(("User-Agent".into(), "anything".into()));
        assert_eq!(code_of(&extra.to(&authenticator).await), None);
        let mut missing = by_name("post-header-key-sort");
        missing.headers.retain(|(n, _)| n != "My-Header1");
        assert_eq!(code_of(&missing.to(&authenticator).await), mismatch());
    }

    #[tokio::test]
    async fn requests_more_than_fifteen_minutes_off_are_refused_with_aws_messages() {
        let clock = ManualClock::new(suite_time());
        let authenticator = verifier(credential(None, None), clock.clone());
        let sent = Sent::signed(SUITE_SECRET, None, &[]);
        let minute = Duration::from_secs(60);
        let at = |offset_secs: i64| {
            clock.set(Timestamp::from_millis(
                suite_time().as_millis() + offset_secs * 1000,
            ))
        };
        for inside in [-15 * 60, -14 * 60, 0, 15 * 60] {
            at(inside);
            assert_eq!(code_of(&sent.to(&authenticator).await), None, "{inside}");
        }
        at(15 * 60 + 1);
        assert_eq!(
            code_of(&sent.to(&authenticator).await),
            Some((
                ErrorCode::InvalidSignatureException,
                "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z \
                 (20150830T125101Z - 15 min.)"
                    .into()
            ))
        );
        at(-15 * 60 - 1);
        assert_eq!(
            code_of(&sent.to(&authenticator).await),
            Some((
                ErrorCode::InvalidSignatureException,
                "Signature not yet current: 20150830T123600Z is still later than \
                 20150830T123559Z (20150830T122059Z + 15 min.)"
                    .into()
            ))
        );
        // A replay after 20 minutes.
        at(0);
        clock.advance(20 * minute);
        assert_eq!(
            code_of(&sent.to(&authenticator).await).map(|(code, _)| code),
            Some(ErrorCode::InvalidSignatureException)
        );
    }

    /// A source whose one credential can be replaced (a key's secret changing under a
    /// running server).
    struct Replaceable(std::sync::Mutex<AccessKeyCredential>);

    #[async_trait::async_trait]
    impl CredentialSource for Replaceable {
        async fn credential(
            &self,
            access_key_id: &str,
        ) -> Result<Option<AccessKeyCredential>, crate::store::StoreError> {
            let credential = self.0.lock().expect("the test's credential").clone();
            Ok((credential.access_key_id == access_key_id).then_some(credential))
        }
    }

    #[tokio::test]
    async fn a_cached_signing_key_serves_only_the_secret_it_was_derived_from() {
        let clock = ManualClock::new(suite_time());
        let source = Arc::new(Replaceable(std::sync::Mutex::new(credential(None, None))));
        let authenticator = Authenticator::verifying(source.clone(), ACCOUNT, clock);
        let old = Sent::signed(SUITE_SECRET, None, &[]);
        // Twice: the second verification uses the key the first one derived.
        assert_eq!(code_of(&old.to(&authenticator).await), None);
        assert_eq!(code_of(&old.to(&authenticator).await), None);

        const NEW_SECRET: &str = "a-different-secret-for-the-same-key-id";
        source
            .0
            .lock()
            .expect("the test's credential")
            .secret_access_key = SecretString::new(NEW_SECRET.into());
        assert_eq!(code_of(&old.to(&authenticator).await), mismatch());
        let new = Sent::signed(NEW_SECRET, None, &[]);
        assert_eq!(code_of(&new.to(&authenticator).await), None);
    }

    #[tokio::test]
    async fn session_tokens_must_be_exactly_the_credentials_and_unexpired() {
        const TOKEN: &str = "session-token-of-the-credential";
        let clock = ManualClock::new(suite_time());
        let expiry = suite_time().plus(Duration::from_secs(3600));
        let temporary = verifier(credential(Some(TOKEN), Some(expiry)), clock.clone());
        let long_term = verifier(credential(None, None), clock.clone());
        let invalid = Some((ErrorCode::UnrecognizedClientException, INVALID_TOKEN.into()));

        let with_token = Sent::signed(SUITE_SECRET, Some(TOKEN), &[]);
        assert_eq!(code_of(&with_token.to(&temporary).await), None);
        let without = Sent::signed(SUITE_SECRET, None, &[]);
        assert_eq!(code_of(&without.to(&temporary).await), invalid);
        let wrong = Sent::signed(SUITE_SECRET, Some("session-token-of-the-credentiaL"), &[]);
        assert_eq!(code_of(&wrong.to(&temporary).await), invalid);
        assert_eq!(code_of(&with_token.to(&long_term).await), invalid);

        // Credentials that expire a minute after the request was signed: the request is still
        // within the 15 minutes of skew, but the token has expired.
        let short = verifier(
            credential(
                Some(TOKEN),
                Some(suite_time().plus(Duration::from_secs(60))),
            ),
            clock.clone(),
        );
        clock.set(suite_time().plus(Duration::from_secs(59)));
        assert_eq!(code_of(&with_token.to(&short).await), None);
        clock.set(suite_time().plus(Duration::from_secs(60)));
        assert_eq!(
            code_of(&with_token.to(&short).await),
            Some((ErrorCode::ExpiredTokenException, EXPIRED_TOKEN.into()))
        );
    }

    #[tokio::test]
    async fn unknown_keys_unsigned_host_and_missing_dates_are_refused() {
        let clock = ManualClock::new(suite_time());
        let authenticator = verifier(credential(None, None), clock.clone());
        let nobody = Authenticator::verifying(
            Arc::new(StaticCredentials::default()),
            ACCOUNT,
            clock.clone(),
        );
        let sent = Sent::signed(SUITE_SECRET, None, &[]);
        assert_eq!(
            code_of(&sent.to(&nobody).await),
            Some((ErrorCode::UnrecognizedClientException, INVALID_TOKEN.into()))
        );

        let authorization = sent.authorization();
        let mut unsigned_host = Sent::signed(SUITE_SECRET, None, &[]);
        unsigned_host.set(
            "Authorization",
            &authorization.replace("SignedHeaders=host;x-amz-date", "SignedHeaders=x-amz-date"),
        );
        assert_eq!(
            code_of(&unsigned_host.to(&authenticator).await),
            Some((
                ErrorCode::IncompleteSignatureException,
                "'Host' must be a 'SignedHeader' in the AWS Authorization.".into()
            ))
        );
        let mut unsigned_date = Sent::signed(SUITE_SECRET, None, &[]);
        unsigned_date.set(
            "Authorization",
            &authorization.replace("SignedHeaders=host;x-amz-date", "SignedHeaders=host"),
        );
        assert_eq!(
            code_of(&unsigned_date.to(&authenticator).await).map(|(code, _)| code),
            Some(ErrorCode::IncompleteSignatureException)
        );
        let mut no_date = Sent::signed(SUITE_SECRET, None, &[]);
        no_date.headers.retain(|(n, _)| n != "X-Amz-Date");
        let refused = code_of(&no_date.to(&authenticator).await).expect("refused");
        assert_eq!(refused.0, ErrorCode::IncompleteSignatureException);
        assert!(
            refused.1.starts_with(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
            ),
            "{}",
            refused.1
        );
        let mut bad_date = Sent::signed(SUITE_SECRET, None, &[]);
        bad_date.set("X-Amz-Date", "2015-08-30T12:36:00Z");
        assert_eq!(
            code_of(&bad_date.to(&authenticator).await).map(|(code, _)| code),
            Some(ErrorCode::IncompleteSignatureException)
        );
        let mut twice = Sent::signed(SUITE_SECRET, None, &[]);
        twice
            .headers
            .push(("authorization".into(), authorization.clone()));
        assert_eq!(
            code_of(&twice.to(&authenticator).await).map(|(code, _)| code),
            Some(ErrorCode::IncompleteSignatureException)
        );
        let mut no_authorization = Sent::signed(SUITE_SECRET, None, &[]);
        no_authorization
            .headers
            .retain(|(n, _)| n != "Authorization");
        assert_eq!(
            code_of(&no_authorization.to(&authenticator).await),
            Some((
                ErrorCode::MissingAuthenticationTokenException,
                "Missing Authentication Token".into()
            ))
        );
        let mut other_day = Sent::signed(SUITE_SECRET, None, &[]);
        other_day.set(
            "Authorization",
            &authorization.replace("/20150830/", "/20150831/"),
        );
        assert_eq!(
            code_of(&other_day.to(&authenticator).await),
            Some((
                ErrorCode::InvalidSignatureException,
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
                 from HTTP: '20150831' != '20150830', from '20150830T123600Z'."
                    .into()
            ))
        );
    }

    #[tokio::test]
    async fn a_signed_date_header_may_stand_for_x_amz_date() {
        let clock = ManualClock::new(suite_time());
        let authenticator = verifier(credential(None, None), clock);
        let headers = [
            ("Host", "example.amazonaws.com"),
            ("Date", "Sun, 30 Aug 2015 12:36:00 GMT"),
        ];
        let canonical = sigv4::canonical_headers(headers);
        let scope = sigv4::CredentialScope::new("20150830", "us-east-1", "service");
        let creq = sigv4::canonical_request("POST", "/", "", &canonical, &sigv4::payload_hash(b""));
        let signature = sigv4::signature(
            &sigv4::signing_key(&SecretString::new(SUITE_SECRET.into()), &scope),
            &sigv4::string_to_sign(SUITE_DATE, &scope, &creq),
        );
        let mut sent = Sent {
            method: "POST".into(),
            path: "/".into(),
            query: String::new(),
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: Vec::new(),
        };
        sent.set(
            "Authorization",
            &format!(
                "AWS4-HMAC-SHA256 Credential={KEY_ID}/{scope}, SignedHeaders=date;host, \
                 Signature={signature}"
            ),
        );
        assert_eq!(code_of(&sent.to(&authenticator).await), None);
    }

    #[tokio::test]
    async fn dev_mode_accepts_any_well_formed_signature_as_the_root() {
        let authenticator = Authenticator::dev(ACCOUNT, ManualClock::new(suite_time()));
        let mut sent = Sent::signed("not the secret", None, &[]);
        sent.headers.retain(|(n, _)| n != "X-Amz-Date");
        let principal = sent.to(&authenticator).await.expect("accepted");
        assert_eq!(principal.identity, Identity::root(ACCOUNT));
        assert_eq!(principal.scope.account_id, ACCOUNT);
        let mut malformed = sent;
        malformed.set("Authorization", "AWS4-HMAC-SHA256 Credential=nonsense");
        assert_eq!(
            code_of(&malformed.to(&authenticator).await).map(|(code, _)| code),
            Some(ErrorCode::IncompleteSignatureException)
        );
    }
}
