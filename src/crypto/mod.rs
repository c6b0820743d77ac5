//! Secret material: the types that hold plaintext.
//!
//! Plaintext lives only here and in the response being encoded. Every type in this module
//! zeroizes its bytes on drop, prints as a placeholder, and compares in constant time.
//! Envelope encryption under KMS keys arrives with the encryption-at-rest work; until then the
//! store keeps the value bytes as given.

use std::fmt;

use zeroize::{Zeroize, Zeroizing};

const REDACTED: &str = "[REDACTED]";

/// A secret's value as the client sent it: a string or binary data, never both.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretValue {
    String(SecretString),
    Binary(SecretBytes),
}

impl SecretValue {
    /// The bytes as stored, and which kind they are.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            SecretValue::String(text) => text.expose().as_bytes(),
            SecretValue::Binary(bytes) => bytes.expose(),
        }
    }

    pub fn kind(&self) -> ValueKind {
        match self {
            SecretValue::String(_) => ValueKind::String,
            SecretValue::Binary(_) => ValueKind::Binary,
        }
    }

    /// Rebuilds a value from stored bytes. A string that is not UTF-8 means the stored record
    /// is corrupt.
    pub fn from_stored(kind: ValueKind, bytes: Vec<u8>) -> Result<SecretValue, CorruptValue> {
        match kind {
            ValueKind::Binary => Ok(SecretValue::Binary(SecretBytes::new(bytes))),
            ValueKind::String => match String::from_utf8(bytes) {
                Ok(text) => Ok(SecretValue::String(SecretString::new(text))),
                Err(error) => {
                    let mut bytes = error.into_bytes();
                    bytes.zeroize();
                    Err(CorruptValue)
                }
            },
        }
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Which field a value came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    String,
    Binary,
}

/// A stored value that cannot be turned back into what was written.
#[derive(Debug, thiserror::Error)]
#[error("a stored secret value is corrupt")]
pub struct CorruptValue;

/// A sensitive string (`SecretString`): zeroized on drop, redacted when printed.
#[derive(Clone, Default)]
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    pub fn new(text: String) -> SecretString {
        SecretString(Zeroizing::new(text))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl PartialEq for SecretString {
    fn eq(&self, other: &SecretString) -> bool {
        constant_time_eq(self.0.as_bytes(), other.0.as_bytes())
    }
}

impl Eq for SecretString {}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Sensitive bytes (`SecretBinary`): zeroized on drop, redacted when printed.
#[derive(Clone, Default)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    pub fn new(bytes: Vec<u8>) -> SecretBytes {
        SecretBytes(Zeroizing::new(bytes))
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl PartialEq for SecretBytes {
    fn eq(&self, other: &SecretBytes) -> bool {
        constant_time_eq(&self.0, &other.0)
    }
}

impl Eq for SecretBytes {}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Compares two byte strings without an early exit on the first difference, so the time taken
/// does not tell how much of a guessed value was right. (Lengths are not hidden.)
fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    if left.len() != right.len() {
        return false;
    }
    let difference = left
        .iter()
        .zip(right)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    std::hint::black_box(difference) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_types_never_print_their_contents() {
        let text = SecretString::new("hunter2-distinctive".to_owned());
        let bytes = SecretBytes::new(b"binary-distinctive".to_vec());
        let value = SecretValue::String(text.clone());
        for printed in [
            format!("{text:?}"),
            format!("{bytes:?}"),
            format!("{value:?}"),
            format!("{:#?}", Some(&value)),
        ] {
            assert!(!printed.contains("distinctive"), "{printed}");
            assert!(printed.contains(REDACTED));
        }
    }

    #[test]
    fn values_compare_by_kind_and_content() {
        let string = |s: &str| SecretValue::String(SecretString::new(s.to_owned()));
        let binary = |b: &[u8]| SecretValue::Binary(SecretBytes::new(b.to_vec()));
        assert_eq!(string("a"), string("a"));
        assert_ne!(string("a"), string("b"));
        assert_ne!(string("a"), string("ab"));
        assert_ne!(string("a"), binary(b"a"));
        assert_eq!(binary(b"\x00\x01"), binary(b"\x00\x01"));
    }

    #[test]
    fn stored_strings_must_be_utf8() {
        assert!(SecretValue::from_stored(ValueKind::String, vec![0xff, 0xfe]).is_err());
        let value = SecretValue::from_stored(ValueKind::Binary, vec![0xff]).ok();
        assert_eq!(value.map(|v| v.as_bytes().to_vec()), Some(vec![0xff]));
    }
}
