//! A JSON tree that keeps every member of an object, in document order.
//!
//! `serde_json::Value` keeps only the last of two members with the same name, but IAM rejects a
//! policy that names an element twice, so the parser needs to see both. serde_json still does
//! the lexing, including its nesting limit, so a deeply nested document is an error, not a
//! stack overflow.
//!
//! (With serde_json's `arbitrary_precision` feature, numbers would reach the visitor as a map
//! with a private key; that feature is not enabled, and a test pins how numbers come out.)

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Json {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Json>),
    /// Members in document order; duplicates are kept.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// The JSON type, as an error message names it.
    pub(super) fn type_name(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "a list",
            Json::Object(_) => "an object",
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Json, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json, E> {
        serde_json::Number::from_f64(v)
            .map(Json::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut members = Vec::new();
        while let Some(member) = map.next_entry::<String, Json>()? {
            members.push(member);
        }
        Ok(Json::Object(members))
    }
}

/// Parses a whole document; on failure, serde_json's description of the syntax error (which
/// names a line and column but never repeats the document).
pub(super) fn parse(document: &str) -> Result<Json, String> {
    serde_json::from_str(document).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_keep_duplicate_members_in_order() {
        let parsed = parse(r#"{"a": 1, "b": true, "a": "x"}"#);
        assert_eq!(
            parsed,
            Ok(Json::Object(vec![
                ("a".into(), Json::Number(1.into())),
                ("b".into(), Json::Bool(true)),
                ("a".into(), Json::String("x".into())),
            ]))
        );
    }

    #[test]
    fn numbers_keep_their_plain_decimal_form() {
        let Ok(Json::Array(items)) = parse("[10, -3, 1.5, 18446744073709551615]") else {
            panic!("not an array");
        };
        let shown: Vec<String> = items
            .iter()
            .map(|item| match item {
                Json::Number(n) => n.to_string(),
                other => panic!("not a number: {other:?}"),
            })
            .collect();
        assert_eq!(shown, ["10", "-3", "1.5", "18446744073709551615"]);
    }

    #[test]
    fn syntax_errors_name_a_position_without_the_document() {
        let error = parse(r#"{"Secret": "hunter2""#).expect_err("truncated JSON");
        assert!(error.contains("line 1"), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let document = "[".repeat(100_000);
        assert!(parse(&document).is_err());
    }
}
