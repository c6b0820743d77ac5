//! Parsing of the AWS Signature Version 4 `Authorization` header.
//!
//! `AWS4-HMAC-SHA256 Credential=<key id>/<yyyymmdd>/<region>/<service>/aws4_request,
//! SignedHeaders=<h1;h2>, Signature=<64 hex>` (see "Signature Version 4 signing process" in the
//! AWS General Reference). Pure functions, no clock, no I/O.

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
#[derive(Debug, Clone, PartialEq, Eq)]
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
        && terminator == "aws4_request";
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

#[cfg(test)]
mod tests {
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
}
