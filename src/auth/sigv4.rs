//! AWS Signature Version 4: parsing of the `Authorization` header, and signing.
//!
//! `AWS4-HMAC-SHA256 Credential=<key id>/<yyyymmdd>/<region>/<service>/aws4_request,
//! SignedHeaders=<h1;h2>, Signature=<64 hex>` (see "Signature Version 4 signing process" in the
//! AWS General Reference). Pure functions, no clock, no I/O.
//!
//! Signing is split into the steps AWS describes, each its own function, so that verifying an
//! incoming request can recompute the same pieces from what it received:
//!
//! 1. [`canonical_request`] from [`canonical_uri`], [`canonical_query_string`],
//!    [`canonical_headers`] and [`payload_hash`];
//! 2. [`string_to_sign`] from the `X-Amz-Date` value, the [`CredentialScope`] and the canonical
//!    request;
//! 3. [`signing_key`], the HMAC chain from `"AWS4" + secret` (valid for one day, region and
//!    service, so callers may cache it);
//! 4. [`signature`], the hex HMAC of the string to sign.
//!
//! [`sign_request`] runs all four for a client and returns the headers to add.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::clock::Timestamp;
use crate::crypto::SecretString;

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The parts of an `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub access_key_id: String,
    pub scope: CredentialScope,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// `<yyyymmdd>/<region>/<service>/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CredentialScope {
    pub date: String,
    pub region: String,
    pub service: String,
}

/// What is wrong with a header, in the words AWS uses for `IncompleteSignatureException`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("Authorization header requires '{0}' parameter.")]
    MissingParameter(&'static str),
    #[error("Unsupported signature algorithm; only {ALGORITHM} is accepted.")]
    UnsupportedAlgorithm,
    #[error(
        "Credential should be scoped to a valid region, a date and a service: \
         '<access key id>/<yyyymmdd>/<region>/<service>/aws4_request'."
    )]
    MalformedCredential,
    #[error("The request signature is not 64 hexadecimal characters.")]
    MalformedSignature,
}

/// Parses an `Authorization` header value.
pub fn parse_authorization(header: &str) -> Result<Authorization, ParseError> {
    let (algorithm, rest) = header
        .trim()
        .split_once(char::is_whitespace)
        .unwrap_or((header.trim(), ""));
    if algorithm != ALGORITHM {
        return Err(ParseError::UnsupportedAlgorithm);
    }
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for component in rest.split(',') {
        let Some((key, value)) = component.trim().split_once('=') else {
            continue;
        };
        match key.trim() {
            "Credential" => credential = Some(value.trim()),
            "SignedHeaders" => signed_headers = Some(value.trim()),
            "Signature" => signature = Some(value.trim()),
            _ => {}
        }
    }
    let credential = credential.ok_or(ParseError::MissingParameter("Credential"))?;
    let signed_headers = signed_headers.ok_or(ParseError::MissingParameter("SignedHeaders"))?;
    let signature = signature.ok_or(ParseError::MissingParameter("Signature"))?;

    let (access_key_id, scope) = parse_credential(credential)?;
    if signature.len() != 64 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ParseError::MalformedSignature);
    }
    let signed_headers: Vec<String> = signed_headers
        .split(';')
        .filter(|name| !name.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    if signed_headers.is_empty() {
        return Err(ParseError::MissingParameter("SignedHeaders"));
    }
    Ok(Authorization {
        access_key_id,
        scope,
        signed_headers,
        signature: signature.to_ascii_lowercase(),
    })
}

fn parse_credential(credential: &str) -> Result<(String, CredentialScope), ParseError> {
    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = parts[..] else {
        return Err(ParseError::MalformedCredential);
    };
    let valid = !access_key_id.is_empty()
        && date.len() == 8
        && date.bytes().all(|b| b.is_ascii_digit())
        && !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !service.is_empty()
        && terminator == TERMINATOR;
    if !valid {
        return Err(ParseError::MalformedCredential);
    }
    Ok((
        access_key_id.to_owned(),
        CredentialScope {
            date: date.to_owned(),
            region: region.to_owned(),
            service: service.to_owned(),
        },
    ))
}

impl CredentialScope {
    /// The scope for `date` (`yyyymmdd`), `region` and `service`.
    pub fn new(date: &str, region: &str, service: &str) -> CredentialScope {
        CredentialScope {
            date: date.to_owned(),
            region: region.to_owned(),
            service: service.to_owned(),
        }
    }
}

/// `<yyyymmdd>/<region>/<service>/aws4_request`, as it appears in the string to sign and (after
/// the access key id) in the `Credential` parameter.
impl fmt::Display for CredentialScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{TERMINATOR}",
            self.date, self.region, self.service
        )
    }
}

/// The last component of a credential scope.
pub const TERMINATOR: &str = "aws4_request";

/// The hex SHA-256 of an empty payload.
pub const EMPTY_PAYLOAD_HASH: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// An access key: its id, its secret (zeroized on drop, never printed), and the session token
/// of temporary credentials.
#[derive(Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: SecretString,
    pub session_token: Option<String>,
}

impl Credentials {
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        session_token: Option<String>,
    ) -> Credentials {
        Credentials {
            access_key_id: access_key_id.into(),
            secret_access_key: SecretString::new(secret_access_key.into()),
            session_token,
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key)
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "[REDACTED]"),
            )
            .finish()
    }
}

/// The key derived from a secret access key for one day, region and service. Zeroized on drop;
/// prints as `[REDACTED]`; not comparable (compare signatures, in constant time, instead).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SigningKey([u8; 32]);

impl SigningKey {
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Step 3: `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service),
/// "aws4_request")`. `date` is `yyyymmdd`.
pub fn signing_key(secret_access_key: &SecretString, scope: &CredentialScope) -> SigningKey {
    let mut seed = Zeroizing::new(Vec::with_capacity(4 + secret_access_key.expose().len()));
    seed.extend_from_slice(b"AWS4");
    seed.extend_from_slice(secret_access_key.expose().as_bytes());
    let mut key = hmac_sha256(&seed, scope.date.as_bytes());
    for part in [
        scope.region.as_bytes(),
        scope.service.as_bytes(),
        TERMINATOR.as_bytes(),
    ] {
        let next = hmac_sha256(&key, part);
        key.zeroize();
        key = next;
    }
    SigningKey(key)
}

/// Step 4: the lowercase hex HMAC-SHA256 of the string to sign under the signing key.
pub fn signature(key: &SigningKey, string_to_sign: &str) -> String {
    hex::encode(hmac_sha256(&key.0, string_to_sign.as_bytes()))
}

/// The lowercase hex SHA-256 of a request body (the last line of the canonical request).
pub fn payload_hash(payload: &[u8]) -> String {
    hex::encode(Sha256::digest(payload))
}

/// Step 2: `AWS4-HMAC-SHA256 \n <amz date> \n <scope> \n hex(SHA-256(canonical request))`.
pub fn string_to_sign(amz_date: &str, scope: &CredentialScope, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        payload_hash(canonical_request.as_bytes())
    )
}

/// Step 1: the six lines of the canonical request (the headers block ends with its own empty
/// line). Every argument is already canonical: see the functions named after them.
pub fn canonical_request(
    method: &str,
    canonical_uri: &str,
    canonical_query_string: &str,
    headers: &CanonicalHeaders,
    payload_hash: &str,
) -> String {
    format!(
        "{method}\n{canonical_uri}\n{canonical_query_string}\n{}\n{}\n{payload_hash}",
        headers.canonical, headers.signed
    )
}

/// Whether a byte is left as is by SigV4's URI encoding (RFC 3986's unreserved characters).
fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~')
}

/// SigV4's URI encoding: every byte but the unreserved characters (and `/` when `keep_slash`)
/// becomes `%XX` with uppercase hex digits.
pub fn uri_encode(input: &[u8], keep_slash: bool, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in input {
        if is_unreserved(byte) || (keep_slash && byte == b'/') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
}

/// Decodes `%XX` escapes; a `%` not followed by two hex digits is kept as is. (`+` is not a
/// space here: SigV4 clients encode a space as `%20`.)
pub fn percent_decode(input: &str) -> Vec<u8> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let high = char::from(bytes[i + 1]).to_digit(16);
            let low = char::from(bytes[i + 2]).to_digit(16);
            if let (Some(high), Some(low)) = (high, low) {
                out.push(u8::try_from(high * 16 + low).unwrap_or(b'?'));
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// The canonical URI of a request path *as sent on the wire* (already percent-encoded once).
///
/// With `normalize`, `.` and `..` segments and empty segments are removed first (a trailing `/`
/// stays). The path is then URI-encoded once more, `/` kept: this is the "double encoding" AWS
/// applies for every service but S3 (a space sent as `%20` is signed as `%2520`). An empty path
/// is `/`.
pub fn canonical_uri(path: &str, normalize: bool) -> String {
    let normalized;
    let path = if normalize {
        normalized = normalize_path(path);
        normalized.as_str()
    } else if path.is_empty() {
        "/"
    } else {
        path
    };
    let mut out = String::with_capacity(path.len() + 8);
    uri_encode(path.as_bytes(), true, &mut out);
    out
}

/// Removes `.`, `..` and empty segments (RFC 3986 section 5.2.4, plus `//` collapsed to `/`).
fn normalize_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            _ => segments.push(segment),
        }
    }
    let mut out = String::with_capacity(path.len() + 1);
    for segment in &segments {
        out.push('/');
        out.push_str(segment);
    }
    if out.is_empty() || path.ends_with('/') {
        out.push('/');
    }
    out
}

/// The canonical query string of a query *as sent on the wire* (without the `?`): each name and
/// value percent-decoded then SigV4-encoded, the pairs sorted by name then value, joined with
/// `&`. A parameter without `=` has an empty value (`name=`).
pub fn canonical_query_string(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let mut encoded_name = String::new();
            uri_encode(&percent_decode(name), false, &mut encoded_name);
            let mut encoded_value = String::new();
            uri_encode(&percent_decode(value), false, &mut encoded_value);
            (encoded_name, encoded_value)
        })
        .collect();
    pairs.sort();
    let mut out = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// The canonical headers block and the signed-headers list of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalHeaders {
    /// `name:value\n` for each header, names lowercased and sorted.
    pub canonical: String,
    /// The sorted lowercase names joined with `;`.
    pub signed: String,
}

/// Canonicalizes the headers to sign: names lowercased and sorted; values trimmed, with every
/// run of whitespace (including folded lines) made one space; headers that repeat a name are
/// one line whose values are joined with `,` in the order given.
///
/// A verifier passes exactly the headers named in `SignedHeaders`.
pub fn canonical_headers<'a>(
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> CanonicalHeaders {
    let mut lines: Vec<(String, String)> = Vec::new();
    for (name, value) in headers {
        let name = name.trim().to_ascii_lowercase();
        let value = value.split_ascii_whitespace().collect::<Vec<_>>().join(" ");
        match lines.iter_mut().find(|(existing, _)| *existing == name) {
            Some((_, values)) => {
                values.push(',');
                values.push_str(&value);
            }
            None => lines.push((name, value)),
        }
    }
    // Stable, and names are unique by now: the order of values for one name is kept.
    lines.sort_by(|(a, _), (b, _)| a.cmp(b));
    let mut canonical = String::new();
    let mut signed = String::new();
    for (i, (name, value)) in lines.iter().enumerate() {
        canonical.push_str(name);
        canonical.push(':');
        canonical.push_str(value);
        canonical.push('\n');
        if i > 0 {
            signed.push(';');
        }
        signed.push_str(name);
    }
    CanonicalHeaders { canonical, signed }
}

/// `YYYYMMDD'T'HHMMSS'Z'` (the `X-Amz-Date` format) of an instant, in UTC.
pub fn amz_date(time: Timestamp) -> String {
    let seconds = time.as_millis().div_euclid(1000);
    let days = seconds.div_euclid(86_400);
    let second_of_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    )
}

/// The instant of an `X-Amz-Date` value (`YYYYMMDD'T'HHMMSS'Z'`, UTC); `None` unless it is
/// exactly that form with a valid date and time.
pub fn parse_amz_date(value: &str) -> Option<Timestamp> {
    let bytes = value.as_bytes();
    if bytes.len() != 16 || bytes[8] != b'T' || bytes[15] != b'Z' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = value.get(range)?;
        if !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let (year, month, day) = (digits(0..4)?, digits(4..6)?, digits(6..8)?);
    let (hour, minute, second) = (digits(9..11)?, digits(11..13)?, digits(13..15)?);
    timestamp_of(year, month, day, hour, minute, second)
}

/// The instant of an HTTP `Date` header in the IMF-fixdate form
/// (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110 section 5.6.7); `None` for anything else.
pub fn parse_http_date(value: &str) -> Option<Timestamp> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (_weekday, rest) = value.trim().split_once(", ")?;
    let parts: Vec<&str> = rest.split(' ').collect();
    let [day, month, year, time, "GMT"] = parts[..] else {
        return None;
    };
    let number = |part: &str, len: usize| -> Option<i64> {
        (part.len() == len && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse().ok())
            .flatten()
    };
    let month = MONTHS.iter().position(|name| *name == month)?;
    let month = i64::try_from(month).ok()? + 1;
    let clock: Vec<&str> = time.split(':').collect();
    let [hour, minute, second] = clock[..] else {
        return None;
    };
    timestamp_of(
        number(year, 4)?,
        month,
        number(day, 2)?,
        number(hour, 2)?,
        number(minute, 2)?,
        number(second, 2)?,
    )
}

fn timestamp_of(
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
) -> Option<Timestamp> {
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second;
    Some(Timestamp::from_millis(seconds * 1000))
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`, the
/// inverse of [`civil_from_days`]).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let shifted_month = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The proleptic Gregorian date of a count of days since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A request to sign, as it will be sent.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The path as sent (percent-encoded), e.g. `/`.
    pub path: &'a str,
    /// The query as sent, without `?` (empty if none).
    pub query: &'a str,
    /// The headers to sign; must include `host`. `x-amz-date` (and `x-amz-security-token` with
    /// a session token) are added by [`sign_request`].
    pub headers: &'a [(&'a str, &'a str)],
    pub payload: &'a [u8],
}

/// What to sign for, and when.
#[derive(Debug, Clone, Copy)]
pub struct SigningParams<'a> {
    pub credentials: &'a Credentials,
    pub region: &'a str,
    pub service: &'a str,
    /// `YYYYMMDDTHHMMSSZ` (see [`amz_date`]).
    pub amz_date: &'a str,
    /// A signing key already derived for this day, region and service (see [`signing_key`]);
    /// derived afresh when `None`.
    pub cached_key: Option<&'a SigningKey>,
}

/// The headers [`sign_request`] asks to add to the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeaders {
    pub authorization: String,
    pub amz_date: String,
    pub security_token: Option<String>,
    /// The intermediate results, for tests and debugging.
    pub canonical_request: String,
    pub string_to_sign: String,
    pub signature: String,
}

/// Signs `request`: builds the canonical request (path normalized and double-encoded, as for
/// every service but S3), the string to sign and the signature, and returns the `Authorization`,
/// `X-Amz-Date` and, with a session token, `X-Amz-Security-Token` values. The signed headers are
/// `request.headers` plus `x-amz-date` and `x-amz-security-token`.
pub fn sign_request(request: &Request<'_>, params: &SigningParams<'_>) -> SignatureHeaders {
    let credentials = params.credentials;
    let date = params.amz_date.get(..8).unwrap_or(params.amz_date);
    let scope = CredentialScope::new(date, params.region, params.service);
    let mut headers: Vec<(&str, &str)> = request.headers.to_vec();
    headers.push(("x-amz-date", params.amz_date));
    if let Some(token) = &credentials.session_token {
        headers.push(("x-amz-security-token", token));
    }
    let canonical_headers = canonical_headers(headers);
    let canonical_request = canonical_request(
        request.method,
        &canonical_uri(request.path, true),
        &canonical_query_string(request.query),
        &canonical_headers,
        &payload_hash(request.payload),
    );
    let string_to_sign = string_to_sign(params.amz_date, &scope, &canonical_request);
    let signature = match params.cached_key {
        Some(key) => signature(key, &string_to_sign),
        None => signature(
            &signing_key(&credentials.secret_access_key, &scope),
            &string_to_sign,
        ),
    };
    let authorization = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={signature}",
        credentials.access_key_id, canonical_headers.signed
    );
    SignatureHeaders {
        authorization,
        amz_date: params.amz_date.to_owned(),
        security_token: credentials.session_token.clone(),
        canonical_request,
        string_to_sign,
        signature,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The header of AWS's documented example request ("get-vanilla" in the SigV4 test suite).
    const EXAMPLE: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
        SignedHeaders=host;x-amz-date, \
        Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";

    #[test]
    fn example_get_vanilla() {
        let parsed = parse_authorization(EXAMPLE);
        assert_eq!(
            parsed,
            Ok(Authorization {
                access_key_id: "AKIDEXAMPLE".into(),
                scope: CredentialScope {
                    date: "20150830".into(),
                    region: "us-east-1".into(),
                    service: "service".into(),
                },
                signed_headers: vec!["host".into(), "x-amz-date".into()],
                signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
                    .into(),
            })
        );
    }

    #[test]
    fn components_may_come_in_any_order_without_spaces() {
        let header = "AWS4-HMAC-SHA256 Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31,SignedHeaders=host,Credential=K/20260101/eu-west-3/secretsmanager/aws4_request";
        let parsed = parse_authorization(header).map(|a| (a.access_key_id, a.scope.region));
        assert_eq!(parsed, Ok(("K".into(), "eu-west-3".into())));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_headers_never_panic(header in "\\PC{0,200}") {
            let _ = parse_authorization(&header);
        }

        #[test]
        fn near_miss_headers_never_panic(
            credential in "[A-Za-z0-9/_=-]{0,60}",
            signed in "[a-z;-]{0,30}",
            signature in "[0-9a-fA-F]{0,70}",
        ) {
            let header = format!("{ALGORITHM} Credential={credential}, SignedHeaders={signed}, Signature={signature}");
            let _ = parse_authorization(&header);
        }
    }

    #[test]
    fn malformed_headers_say_what_is_missing() {
        let cases = [
            ("Bearer abc", ParseError::UnsupportedAlgorithm),
            (
                "AWS4-HMAC-SHA256",
                ParseError::MissingParameter("Credential"),
            ),
            (
                "AWS4-HMAC-SHA256 Credential=K/20150830/us-east-1/sm/aws4_request, Signature=00",
                ParseError::MissingParameter("SignedHeaders"),
            ),
            (
                "AWS4-HMAC-SHA256 Credential=K/20150830/us-east-1/sm/aws4_request, SignedHeaders=host",
                ParseError::MissingParameter("Signature"),
            ),
            (
                "AWS4-HMAC-SHA256 Credential=K/2015/us-east-1/sm/aws4_request, SignedHeaders=host, Signature=00",
                ParseError::MalformedCredential,
            ),
            (
                "AWS4-HMAC-SHA256 Credential=K/20150830/us-east-1/sm/aws5_request, SignedHeaders=host, Signature=00",
                ParseError::MalformedCredential,
            ),
            (
                "AWS4-HMAC-SHA256 Credential=K/20150830/US EAST/sm/aws4_request, SignedHeaders=host, Signature=00",
                ParseError::MalformedCredential,
            ),
            (
                "AWS4-HMAC-SHA256 Credential=K/20150830/us-east-1/sm/aws4_request, SignedHeaders=host, Signature=xyz",
                ParseError::MalformedSignature,
            ),
        ];
        for (header, expected) in cases {
            assert_eq!(parse_authorization(header), Err(expected), "{header}");
        }
    }

    // ---- Signing: the AWS SigV4 test suite (service "service", region us-east-1,
    // 2015-08-30T12:36:00Z, key AKIDEXAMPLE). Requests, canonical requests and signatures are
    // the suite's published ones.

    pub(crate) const SUITE_DATE: &str = "20150830T123600Z";
    pub(crate) const SUITE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const HOST: (&str, &str) = ("Host", "example.amazonaws.com");
    const VANILLA_HEADERS: &str =
        "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date";
    const FORM_HASH: &str = "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e";
    const STS_TOKEN: &str = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

    pub(crate) struct Vector {
        pub(crate) name: &'static str,
        pub(crate) method: &'static str,
        pub(crate) path: &'static str,
        pub(crate) query: &'static str,
        pub(crate) headers: &'static [(&'static str, &'static str)],
        pub(crate) payload: &'static [u8],
        pub(crate) token: Option<&'static str>,
        pub(crate) normalize: bool,
        /// The canonical request, without its first line (the method).
        canonical: String,
        pub(crate) signature: &'static str,
    }

    /// A request with only `Host` and `X-Amz-Date`, an empty body, and this path and query.
    fn plain(
        name: &'static str,
        method: &'static str,
        path: &'static str,
        query: &'static str,
        normalize: bool,
        canonical_path_and_query: &str,
        signature: &'static str,
    ) -> Vector {
        Vector {
            name,
            method,
            path,
            query,
            headers: &[HOST],
            payload: b"",
            token: None,
            normalize,
            canonical: format!(
                "{canonical_path_and_query}\n{VANILLA_HEADERS}\n{EMPTY_PAYLOAD_HASH}"
            ),
            signature,
        }
    }

    fn with_header(
        name: &'static str,
        method: &'static str,
        headers: &'static [(&'static str, &'static str)],
        canonical_lines: &str,
        signed: &str,
        signature: &'static str,
    ) -> Vector {
        Vector {
            name,
            method,
            path: "/",
            query: "",
            headers,
            payload: b"",
            token: None,
            normalize: true,
            canonical: format!(
                "/\n\nhost:example.amazonaws.com\n{canonical_lines}\nx-amz-date:20150830T123600Z\n\nhost;{signed};x-amz-date\n{EMPTY_PAYLOAD_HASH}"
            ),
            signature,
        }
    }

    pub(crate) fn suite() -> Vec<Vector> {
        let unreserved = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut vectors = vec![
            plain(
                "get-vanilla",
                "GET",
                "/",
                "",
                true,
                "/\n",
                "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            ),
            plain(
                "post-vanilla",
                "POST",
                "/",
                "",
                true,
                "/\n",
                "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
            ),
            plain(
                "get-vanilla-query-order-key-case",
                "GET",
                "/",
                "Param2=value2&Param1=value1",
                true,
                "/\nParam1=value1&Param2=value2",
                "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
            ),
            plain(
                "get-vanilla-query-order-encoded",
                "GET",
                "/",
                "Param-3=Value3&Param=Value2&%E1%88%B4=Value1",
                true,
                "/\n%E1%88%B4=Value1&Param=Value2&Param-3=Value3",
                "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac",
            ),
            plain(
                "get-vanilla-utf8-query",
                "GET",
                "/",
                "ሴ=bar",
                true,
                "/\n%E1%88%B4=bar",
                "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
            ),
            plain(
                "get-vanilla-empty-query-key",
                "GET",
                "/",
                "Param1=value1",
                true,
                "/\nParam1=value1",
                "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb",
            ),
            plain(
                "post-vanilla-query",
                "POST",
                "/",
                "Param1=value1",
                true,
                "/\nParam1=value1",
                "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11",
            ),
            plain(
                "get-utf8",
                "GET",
                "/ሴ",
                "",
                true,
                "/%E1%88%B4\n",
                "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
            ),
            plain(
                "get-space-normalized",
                "GET",
                "/example space/",
                "",
                true,
                "/example%20space/\n",
                "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741",
            ),
            plain(
                "get-space-unnormalized",
                "GET",
                "/example space/",
                "",
                false,
                "/example%20space/\n",
                "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741",
            ),
            plain(
                "get-slash-normalized",
                "GET",
                "//",
                "",
                true,
                "/\n",
                "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            ),
            plain(
                "get-slash-unnormalized",
                "GET",
                "//",
                "",
                false,
                "//\n",
                "c88bcd3d312d75078c0cd961d6deae3f4c754924b01669efcfcb439fd5e5b76e",
            ),
            plain(
                "get-slashes-normalized",
                "GET",
                "//example//",
                "",
                true,
                "/example/\n",
                "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84",
            ),
            plain(
                "get-slashes-unnormalized",
                "GET",
                "//example//",
                "",
                false,
                "//example//\n",
                "87cca117541a147f6df867677d98a7d80dff226d2bfca9e4ffa899665623c7e5",
            ),
            plain(
                "get-slash-dot-slash-normalized",
                "GET",
                "/./",
                "",
                true,
                "/\n",
                "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            ),
            plain(
                "get-slash-dot-slash-unnormalized",
                "GET",
                "/./",
                "",
                false,
                "/./\n",
                "68714168e6557f8f2de0ef956fc24dc2593a4bd2961f8df51898d8a134695145",
            ),
            plain(
                "get-slash-pointless-dot-normalized",
                "GET",
                "/./example",
                "",
                true,
                "/example\n",
                "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5",
            ),
            plain(
                "get-slash-pointless-dot-unnormalized",
                "GET",
                "/./example",
                "",
                false,
                "/./example\n",
                "beb03f223f7deae4146464f06e29eebbee9c8afbe15c290cf07aa8b119e14cff",
            ),
            plain(
                "get-relative-normalized",
                "GET",
                "/example/..",
                "",
                true,
                "/\n",
                "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            ),
            plain(
                "get-relative-unnormalized",
                "GET",
                "/example/..",
                "",
                false,
                "/example/..\n",
                "eca7ead57bb5aa5c8e28007acd4ff04e1ff9a0ff3b237ec1554a184887ff9282",
            ),
            plain(
                "get-relative-relative-normalized",
                "GET",
                "/example1/example2/../..",
                "",
                true,
                "/\n",
                "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            ),
            plain(
                "get-relative-relative-unnormalized",
                "GET",
                "/example1/example2/../..",
                "",
                false,
                "/example1/example2/../..\n",
                "dc33e0856fd4baca4d7aa2146c38958283844764f38c74252a333df5e613003b",
            ),
            with_header(
                "get-header-key-duplicate",
                "GET",
                &[
                    HOST,
                    ("My-Header1", "value2"),
                    ("My-Header1", "value2"),
                    ("My-Header1", "value1"),
                ],
                "my-header1:value2,value2,value1",
                "my-header1",
                "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
            ),
            with_header(
                "get-header-value-multiline",
                "GET",
                &[HOST, ("My-Header1", "value1\n  value2\n     value3")],
                "my-header1:value1 value2 value3",
                "my-header1",
                "cfd34249e4b1c8d6b91ef74165d41a32e5fab3306300901bb65a51a73575eefd",
            ),
            with_header(
                "get-header-value-order",
                "GET",
                &[
                    HOST,
                    ("My-Header1", "value4"),
                    ("My-Header1", "value1"),
                    ("My-Header1", "value3"),
                    ("My-Header1", "value2"),
                ],
                "my-header1:value4,value1,value3,value2",
                "my-header1",
                "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01",
            ),
            with_header(
                "get-header-value-trim",
                "GET",
                &[
                    HOST,
                    ("My-Header1", " value1"),
                    ("My-Header2", "\"a   b   c\""),
                ],
                "my-header1:value1\nmy-header2:\"a b c\"",
                "my-header1;my-header2",
                "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
            ),
            with_header(
                "post-header-key-sort",
                "POST",
                &[HOST, ("My-Header1", "value1")],
                "my-header1:value1",
                "my-header1",
                "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c",
            ),
            with_header(
                "post-header-value-case",
                "POST",
                &[HOST, ("My-Header1", "VALUE1")],
                "my-header1:VALUE1",
                "my-header1",
                "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d",
            ),
        ];
        let mut unreserved_vector = plain(
            "get-unreserved",
            "GET",
            "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            "",
            true,
            "",
            "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f",
        );
        unreserved_vector.canonical =
            format!("/{unreserved}\n\n{VANILLA_HEADERS}\n{EMPTY_PAYLOAD_HASH}");
        vectors.push(unreserved_vector);
        let query = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut query_unreserved = plain(
            "get-vanilla-query-unreserved",
            "GET",
            "/",
            query,
            true,
            "",
            "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
        );
        query_unreserved.canonical =
            format!("/\n{unreserved}={unreserved}\n{VANILLA_HEADERS}\n{EMPTY_PAYLOAD_HASH}");
        vectors.push(query_unreserved);
        let mut session = plain(
            "get-vanilla-with-session-token",
            "GET",
            "/",
            "",
            true,
            "",
            "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8",
        );
        session.token = Some("6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267");
        session.canonical = format!(
            "/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\nx-amz-security-token:6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267\n\nhost;x-amz-date;x-amz-security-token\n{EMPTY_PAYLOAD_HASH}"
        );
        vectors.push(session);
        let mut sts = plain(
            "post-sts-header-before",
            "POST",
            "/",
            "",
            true,
            "",
            "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
        );
        sts.token = Some(STS_TOKEN);
        sts.canonical = format!(
            "/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\nx-amz-security-token:{STS_TOKEN}\n\nhost;x-amz-date;x-amz-security-token\n{EMPTY_PAYLOAD_HASH}"
        );
        vectors.push(sts);
        for (name, content_type, signature) in [
            (
                "post-x-www-form-urlencoded",
                "application/x-www-form-urlencoded",
                "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b",
            ),
            (
                "post-x-www-form-urlencoded-parameters",
                "application/x-www-form-urlencoded; charset=utf-8",
                "328d1b9eaadca9f5818ef05e8392801e091653bafec24fcab71e7344e7f51422",
            ),
        ] {
            let headers: &'static [(&'static str, &'static str)] = Box::leak(Box::new([
                ("Content-Type", content_type),
                HOST,
                ("Content-Length", "13"),
                ("X-Amz-Content-Sha256", FORM_HASH),
            ]));
            vectors.push(Vector {
                name,
                method: "POST",
                path: "/",
                query: "",
                headers,
                payload: b"Param1=value1",
                token: None,
                normalize: true,
                canonical: format!("/\n\ncontent-length:13\ncontent-type:{content_type}\nhost:example.amazonaws.com\nx-amz-content-sha256:{FORM_HASH}\nx-amz-date:20150830T123600Z\n\ncontent-length;content-type;host;x-amz-content-sha256;x-amz-date\n{FORM_HASH}"),
                signature,
            });
        }
        vectors
    }

    #[test]
    fn aws_sigv4_test_suite_step_by_step() {
        let credentials = Credentials::new("AKIDEXAMPLE", SUITE_SECRET, None);
        let scope = CredentialScope::new("20150830", "us-east-1", "service");
        let key = signing_key(&credentials.secret_access_key, &scope);
        for vector in suite() {
            let mut headers = vector.headers.to_vec();
            headers.push(("X-Amz-Date", SUITE_DATE));
            if let Some(token) = vector.token {
                headers.push(("X-Amz-Security-Token", token));
            }
            let creq = canonical_request(
                vector.method,
                &canonical_uri(vector.path, vector.normalize),
                &canonical_query_string(vector.query),
                &canonical_headers(headers),
                &payload_hash(vector.payload),
            );
            assert_eq!(
                creq,
                format!("{}\n{}", vector.method, vector.canonical),
                "{}: canonical request",
                vector.name
            );
            let sts = string_to_sign(SUITE_DATE, &scope, &creq);
            assert_eq!(
                signature(&key, &sts),
                vector.signature,
                "{}: signature",
                vector.name
            );
        }
    }

    #[test]
    fn aws_sigv4_test_suite_with_sign_request() {
        for vector in suite().into_iter().filter(|vector| vector.normalize) {
            let credentials =
                Credentials::new("AKIDEXAMPLE", SUITE_SECRET, vector.token.map(str::to_owned));
            let signed = sign_request(
                &Request {
                    method: vector.method,
                    path: vector.path,
                    query: vector.query,
                    headers: vector.headers,
                    payload: vector.payload,
                },
                &SigningParams {
                    credentials: &credentials,
                    region: "us-east-1",
                    service: "service",
                    amz_date: SUITE_DATE,
                    cached_key: None,
                },
            );
            let signed_headers = signed
                .canonical_request
                .lines()
                .rev()
                .nth(1)
                .unwrap_or_default()
                .to_owned();
            assert_eq!(
                signed.authorization,
                format!(
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders={signed_headers}, Signature={}",
                    vector.signature
                ),
                "{}",
                vector.name
            );
            assert_eq!(signed.amz_date, SUITE_DATE);
            assert_eq!(signed.security_token.as_deref(), vector.token);
            // What we sign, we can parse back.
            let parsed = parse_authorization(&signed.authorization).map(|a| a.signature);
            assert_eq!(parsed.as_deref(), Ok(vector.signature));
        }
    }

    #[test]
    fn get_vanilla_string_to_sign() {
        let creq = format!("GET\n/\n\n{VANILLA_HEADERS}\n{EMPTY_PAYLOAD_HASH}");
        let scope = CredentialScope::new("20150830", "us-east-1", "service");
        assert_eq!(
            string_to_sign(SUITE_DATE, &scope, &creq),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\
             bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
        );
    }

    #[test]
    fn signing_key_of_the_documented_example() {
        // "Derive a signing key" in the AWS General Reference: 20120215, us-east-1, iam.
        let key = signing_key(
            &SecretString::new(SUITE_SECRET.into()),
            &CredentialScope::new("20120215", "us-east-1", "iam"),
        );
        assert_eq!(
            hex::encode(key.as_bytes()),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
        assert_eq!(format!("{key:?}"), "[REDACTED]");
    }

    #[test]
    fn a_cached_key_gives_the_same_signature() {
        let credentials = Credentials::new("AKIDEXAMPLE", SUITE_SECRET, None);
        let key = signing_key(
            &credentials.secret_access_key,
            &CredentialScope::new("20150830", "us-east-1", "service"),
        );
        let request = Request {
            method: "GET",
            path: "/",
            query: "",
            headers: &[HOST],
            payload: b"",
        };
        let mut params = SigningParams {
            credentials: &credentials,
            region: "us-east-1",
            service: "service",
            amz_date: SUITE_DATE,
            cached_key: None,
        };
        let fresh = sign_request(&request, &params);
        params.cached_key = Some(&key);
        assert_eq!(sign_request(&request, &params), fresh);
    }

    #[test]
    fn credentials_never_print_their_secrets() {
        let credentials = Credentials::new("AKID", "very-secret-key", Some("session-tok".into()));
        let printed = format!("{credentials:?}");
        assert!(printed.contains("AKID"));
        assert!(!printed.contains("very-secret-key"));
        assert!(!printed.contains("session-tok"));
    }

    #[test]
    fn paths_are_encoded_twice_once_on_the_wire_and_once_for_signing() {
        assert_eq!(canonical_uri("/a%20b", true), "/a%2520b");
        assert_eq!(canonical_uri("", true), "/");
        assert_eq!(canonical_uri("", false), "/");
        assert_eq!(canonical_uri("/a/b/../c/./d/", true), "/a/c/d/");
        assert_eq!(canonical_uri("/a:b$c", true), "/a%3Ab%24c");
    }

    #[test]
    fn query_strings_are_decoded_then_encoded_and_sorted() {
        assert_eq!(canonical_query_string(""), "");
        assert_eq!(canonical_query_string("b&a=1"), "a=1&b=");
        assert_eq!(canonical_query_string("k=a%20b&k=a"), "k=a&k=a%20b");
        assert_eq!(canonical_query_string("k=a b%2Fc%zz"), "k=a%20b%2Fc%25zz");
    }

    #[test]
    fn dates_parse_back_to_the_instant_they_name() {
        for millis in [0, 1_440_938_160_000, 1_709_251_199_000, 4_102_444_799_000] {
            let time = Timestamp::from_millis(millis);
            assert_eq!(parse_amz_date(&amz_date(time)), Some(time));
        }
        assert_eq!(
            parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT"),
            parse_amz_date(SUITE_DATE)
        );
        for bad in [
            "",
            "20150830T123600",
            "20150830 123600Z",
            "20151330T123600Z",
            "20150230T123600Z",
            "20150830T246000Z",
            "2015083OT123600Z",
            "+0150830T123600Z",
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
        for bad in [
            "Sun, 30 Aug 2015 12:36:00 UTC",
            "Sunday, 30-Aug-15 12:36:00 GMT",
            "Sun, 30 Foo 2015 12:36:00 GMT",
            "Sun, 31 Sep 2015 12:36:00 GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn amz_dates_are_utc_basic_format() {
        // 2015-08-30T12:36:00Z
        assert_eq!(
            amz_date(Timestamp::from_millis(1_440_938_160_000)),
            SUITE_DATE
        );
        assert_eq!(amz_date(Timestamp::from_millis(0)), "19700101T000000Z");
        // 2024-02-29T23:59:59.999Z (leap day).
        assert_eq!(
            amz_date(Timestamp::from_millis(1_709_251_199_999)),
            "20240229T235959Z"
        );
    }
}
