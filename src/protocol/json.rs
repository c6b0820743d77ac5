//! AWS JSON 1.1 bodies: decoding requests (`SerializationException` on malformed JSON or a
//! wrong type) and encoding responses and errors.

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use super::{Api, ApiError, ErrorCode};

pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// Decodes a request body. An empty body counts as `{}`. The message names the field whose
/// value has the wrong type but never repeats the value (it may be a secret).
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        &b"{}"[..]
    } else {
        body
    };
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let decoded: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let message = match inner.classify() {
            serde_json::error::Category::Data if path != "." => {
                format!(
                    "Unexpected value for field {path}: {}",
                    describe_data_error(&inner)
                )
            }
            serde_json::error::Category::Data => {
                "The request body must be a JSON object.".to_owned()
            }
            _ => format!(
                "The request body is not valid JSON (line {}, column {}).",
                inner.line(),
                inner.column()
            ),
        };
        ApiError::new(ErrorCode::SerializationException, message)
    })?;
    deserializer.end().map_err(|_| {
        ApiError::new(
            ErrorCode::SerializationException,
            "The request body has data after its JSON object.",
        )
    })?;
    Ok(decoded)
}

/// What kind of value was expected, without the value itself.
fn describe_data_error(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.split_once(", expected ") {
        Some((_, expected)) => {
            let expected = expected.split(" at line ").next().unwrap_or(expected);
            format!("expected {expected}.")
        }
        None if text.contains("base64") => "expected base64-encoded data.".to_owned(),
        None => "the value has the wrong type.".to_owned(),
    }
}

/// Encodes a response body. The buffer is zeroized when the response is dropped, since it may
/// hold a secret value.
pub fn encode<T: Serialize>(output: &T) -> Result<Bytes, ApiError> {
    let body = serde_json::to_vec(output).map_err(ApiError::internal)?;
    Ok(Bytes::from_owner(Zeroizing::new(body)))
}

/// The body of an error response as `api` spells it (see [`Api::message_member`]). SDKs
/// read either spelling.
pub fn encode_error(error: &ApiError, api: Api) -> Bytes {
    let code = api.code(error.code());
    let key = api.message_member(code);
    let mut body = serde_json::Map::new();
    body.insert("__type".to_owned(), code.as_str().into());
    body.insert(key.to_owned(), error.message().into());
    serde_json::to_vec(&body)
        .map(Bytes::from)
        .unwrap_or_else(|_| Bytes::from_static(br#"{"__type":"InternalServiceError"}"#))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize, Default)]
    #[serde(rename_all = "PascalCase")]
    struct Input {
        name: Option<String>,
        flag: Option<bool>,
    }

    fn error_message(body: &[u8]) -> (ErrorCode, String) {
        match decode::<Input>(body) {
            Ok(input) => panic!("decoded {input:?}"),
            Err(error) => (error.code(), error.message().to_owned()),
        }
    }

    #[test]
    fn empty_bodies_are_empty_objects() -> Result<(), ApiError> {
        let input: Input = decode(b"")?;
        assert!(input.name.is_none());
        let input: Input = decode(b"{\"Name\":\"x\",\"Flag\":true,\"Unknown\":[1,2]}")?;
        assert_eq!(input.name.as_deref(), Some("x"));
        assert_eq!(input.flag, Some(true));
        Ok(())
    }

    #[test]
    fn malformed_json_is_a_serialization_exception() {
        for body in [
            &b"{"[..],
            b"not json",
            b"{\"Name\":\"x\"} trailing",
            b"[1]",
            b"\"text\"",
        ] {
            let (code, _) = error_message(body);
            assert_eq!(code, ErrorCode::SerializationException, "{body:?}");
        }
    }

    #[test]
    fn wrong_types_name_the_field_but_not_the_value() {
        let (code, message) = error_message(br#"{"Name": 12345678}"#);
        assert_eq!(code, ErrorCode::SerializationException);
        assert!(message.contains("Name"), "{message}");
        assert!(!message.contains("12345678"), "{message}");
        let (_, message) = error_message(br#"{"Flag": "hunter2"}"#);
        assert!(
            message.contains("Flag") && !message.contains("hunter2"),
            "{message}"
        );
    }

    #[test]
    fn error_bodies_carry_type_and_message() {
        let body = encode_error(
            &ApiError::new(ErrorCode::ResourceNotFoundException, "say \"hi\""),
            Api::SecretsManager,
        );
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        assert_eq!(value["__type"], "ResourceNotFoundException");
        assert_eq!(value["Message"], "say \"hi\"");
        let body = encode_error(
            &ApiError::new(ErrorCode::ValidationException, "bad"),
            Api::SecretsManager,
        );
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        assert_eq!(value["__type"], "ValidationException");
        assert_eq!(value["message"], "bad");
        // KMS spells every message `message`, and names its internal error its own way.
        let body = encode_error(
            &ApiError::new(ErrorCode::NotFoundException, "gone"),
            Api::Kms,
        );
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        assert_eq!(value["__type"], "NotFoundException");
        assert_eq!(value["message"], "gone");
        let body = encode_error(&ApiError::internal("disk"), Api::Kms);
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        assert_eq!(value["__type"], "KMSInternalException");
        assert!(value.get("Message").is_none());
    }
}
