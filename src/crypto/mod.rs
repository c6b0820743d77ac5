//! Secret material: the types that hold plaintext, and the encryption at rest that protects it.
//!
//! Plaintext lives only here and in the response being encoded. Every type in this module
//! zeroizes its bytes on drop, prints as a placeholder, and compares in constant time.
//!
//! Encryption at rest is built from three layers, each in its own module:
//!
//! - [`keys`]: [`keys::KeyMaterial`] (256 bits that zeroize on drop) and [`keys::RootKey`], the
//!   key that wraps every KMS key's material and proves itself with a key check value.
//! - [`envelope`]: AES-256-GCM sealing with a format byte, the KMS ciphertext blob
//!   ([`envelope::KmsBlob`]) and the record of a secret version ([`envelope::SealedValue`]):
//!   a fresh data key per version, wrapped by a KMS key, the value sealed under the data key.
//! - [`root_key`]: where the root key comes from (a 0600 key file created on first start, or
//!   an environment variable) and the start-up check against the database's check value.
//!
//! The store does not use these yet: until it does, it keeps the value bytes as given.
//! Every failure is a [`CryptoError`], whose messages never contain key material or plaintext.

mod aead;
pub mod envelope;
pub mod keys;
pub mod root_key;
pub mod sealed_secret;

use std::fmt;

use zeroize::{Zeroize, Zeroizing};

const REDACTED: &str = "[REDACTED]";

/// Why a cryptographic operation failed. The messages name what was wrong (a length, a format
/// byte, a key id), never the bytes of a key or a plaintext.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The authentication tag did not verify: the ciphertext, its nonce, the key or the
    /// associated data (encryption context, key id, material version) is not what it was
    /// sealed with. AES-GCM cannot tell these apart, and neither can we.
    #[error(
        "decryption failed: the ciphertext was altered, or the key or encryption context \
         is not the one it was sealed with"
    )]
    DecryptionFailure,
    /// The bytes do not have the layout of the format they claim.
    #[error("malformed {what}: {reason}")]
    Malformed {
        what: &'static str,
        reason: &'static str,
    },
    /// The format byte names a version this build does not know.
    #[error("unsupported {what} format version {format}")]
    UnsupportedFormat { what: &'static str, format: u8 },
    /// A blob was opened with a KMS key other than the one its header names.
    #[error("the ciphertext was sealed under KMS key {sealed_with}, not under {given}")]
    KeyMismatch {
        sealed_with: envelope::KeyRef,
        given: envelope::KeyRef,
    },
    /// Key material must be exactly 256 bits.
    #[error("key material must be 32 bytes, not {0}")]
    InvalidKeyLength(usize),
    /// The operating system could not supply random bytes.
    #[error("the operating system's random number generator failed: {0}")]
    Randomness(String),
    /// AES-GCM refused to encrypt (a message beyond its 64 GiB limit).
    #[error("encryption failed: the message is too long for AES-GCM")]
    EncryptionFailure,
}

impl CryptoError {
    /// Whether this error means "these bytes do not decrypt under this key and context", which
    /// the API reports as `DecryptionFailure`. (The others are `EncryptionFailure` or internal.)
    pub fn is_decryption_failure(&self) -> bool {
        matches!(
            self,
            CryptoError::DecryptionFailure
                | CryptoError::Malformed { .. }
                | CryptoError::UnsupportedFormat { .. }
                | CryptoError::KeyMismatch { .. }
        )
    }
}

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
pub(crate) fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
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
