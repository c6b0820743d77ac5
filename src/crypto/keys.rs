//! Key material and the root key.
//!
//! [`KeyMaterial`] is 256 bits on the heap that are wiped on drop, compare in constant time
//! and print as `[REDACTED]`. Every key in Coffer (the root key, each KMS key's material, each
//! data key) is one.
//!
//! [`RootKey`] is the key that never enters the database. It does two things:
//!
//! - **Key check value**: [`RootKey::check_value`] is HMAC-SHA-256 under the root key of the
//!   fixed label [`CHECK_VALUE_LABEL`]. The database stores it on first start; later starts
//!   compare it (in constant time) to tell a wrong root key before anything is decrypted.
//!   HMAC is a PRF, so the stored value says nothing about the key.
//! - **Wrapping** KMS key material: [`RootKey::wrap`] seals 32 bytes with AES-256-GCM under the
//!   root key, a random 96-bit nonce and a caller's context (which says what is wrapped, e.g. a
//!   KMS key id and material version, so a wrapped key moved to another row does not unwrap).
//!
//! ## Wrapped key layout (format 1), 61 bytes
//!
//! ```text
//! 0x01 | nonce (12) | encrypted key (32) | tag (16)
//! ```
//!
//! The AES-GCM associated data is `"coffer.root-key-wrap\0" | 0x01 | context`.
//!
//! The root key is used directly both as the HMAC key and as the AES key: the two uses are
//! separated by construction (a MAC of a fixed label reveals nothing usable against AES-GCM).

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::aead::{self, NONCE_LEN, TAG_LEN};
use super::{CryptoError, REDACTED, constant_time_eq};

/// Every key is 256 bits.
pub const KEY_LEN: usize = 32;

/// The message whose HMAC under the root key is the key check value. Never change it: the
/// check values stored in existing databases are computed from it.
pub const CHECK_VALUE_LABEL: &[u8] = b"coffer root key check value v1";

/// The format byte of a wrapped key.
const WRAP_FORMAT: u8 = 1;
const WRAP_LABEL: &[u8] = b"coffer.root-key-wrap\0";
/// `format | nonce | key | tag`.
pub const WRAPPED_KEY_LEN: usize = 1 + NONCE_LEN + KEY_LEN + TAG_LEN;

/// 256 bits of key material: heap-allocated (moves do not leave copies on the stack), zeroized
/// on drop, compared in constant time, printed as `[REDACTED]`.
#[derive(Clone)]
pub struct KeyMaterial(Box<Zeroizing<[u8; KEY_LEN]>>);

impl KeyMaterial {
    /// Fresh key material from the operating system's CSPRNG.
    pub fn generate() -> Result<KeyMaterial, CryptoError> {
        let mut bytes = Box::new(Zeroizing::new([0u8; KEY_LEN]));
        aead::fill_random(&mut bytes[..])?;
        Ok(KeyMaterial(bytes))
    }

    /// Copies exactly 32 bytes. (The caller still owns, and should wipe, its own copy.)
    pub fn from_slice(bytes: &[u8]) -> Result<KeyMaterial, CryptoError> {
        if bytes.len() != KEY_LEN {
            return Err(CryptoError::InvalidKeyLength(bytes.len()));
        }
        let mut key = Box::new(Zeroizing::new([0u8; KEY_LEN]));
        key.copy_from_slice(bytes);
        Ok(KeyMaterial(key))
    }

    /// The raw bytes, for the AEAD and for writing the root key file.
    pub fn expose(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl PartialEq for KeyMaterial {
    fn eq(&self, other: &KeyMaterial) -> bool {
        constant_time_eq(&self.0[..], &other.0[..])
    }
}

impl Eq for KeyMaterial {}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// The root key: wraps KMS key material, never stored in the database. See the module docs.
#[derive(Clone, PartialEq, Eq)]
pub struct RootKey(KeyMaterial);

impl RootKey {
    pub fn new(material: KeyMaterial) -> RootKey {
        RootKey(material)
    }

    pub fn generate() -> Result<RootKey, CryptoError> {
        KeyMaterial::generate().map(RootKey)
    }

    /// The key itself, for the other layouts sealed under it ([`super::sealed_secret`]).
    pub(super) fn material(&self) -> &KeyMaterial {
        &self.0
    }

    fn check_mac(&self) -> Hmac<Sha256> {
        let mut mac = match Hmac::<Sha256>::new_from_slice(self.0.expose()) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC accepts keys of any length"),
        };
        mac.update(CHECK_VALUE_LABEL);
        mac
    }

    /// HMAC-SHA-256(root key, [`CHECK_VALUE_LABEL`]): proves the key without encrypting
    /// anything. Not secret; stored in the database.
    pub fn check_value(&self) -> [u8; 32] {
        self.check_mac().finalize().into_bytes().into()
    }

    /// Whether `stored` is this key's check value, compared in constant time.
    pub fn matches_check_value(&self, stored: &[u8]) -> bool {
        self.check_mac().verify_slice(stored).is_ok()
    }

    /// Seals `material` under the root key (layout in the module docs). `context` is bound as
    /// associated data: [`RootKey::unwrap`] must be given the same bytes.
    pub fn wrap(&self, material: &KeyMaterial, context: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let nonce = aead::random_nonce()?;
        let mut wrapped = Vec::with_capacity(WRAPPED_KEY_LEN);
        wrapped.push(WRAP_FORMAT);
        wrapped.extend_from_slice(&nonce);
        let aad = aead::associated_data(WRAP_LABEL, WRAP_FORMAT, &[context]);
        aead::encrypt_into(&self.0, &nonce, &aad, material.expose(), &mut wrapped)?;
        Ok(wrapped)
    }

    /// Reverses [`RootKey::wrap`]. Any change to `wrapped` or `context`, or another root key,
    /// is an error ([`CryptoError::is_decryption_failure`]).
    pub fn unwrap(&self, wrapped: &[u8], context: &[u8]) -> Result<KeyMaterial, CryptoError> {
        const WHAT: &str = "wrapped key";
        let Some((&format, rest)) = wrapped.split_first() else {
            return Err(CryptoError::Malformed {
                what: WHAT,
                reason: "empty",
            });
        };
        if format != WRAP_FORMAT {
            return Err(CryptoError::UnsupportedFormat { what: WHAT, format });
        }
        if wrapped.len() != WRAPPED_KEY_LEN {
            return Err(CryptoError::Malformed {
                what: WHAT,
                reason: "wrong length",
            });
        }
        let (nonce, sealed) = split_nonce(rest, WHAT)?;
        let aad = aead::associated_data(WRAP_LABEL, WRAP_FORMAT, &[context]);
        let plaintext = aead::decrypt(&self.0, &nonce, &aad, sealed, WHAT)?;
        KeyMaterial::from_slice(&plaintext).map_err(|_| CryptoError::DecryptionFailure)
    }
}

impl fmt::Debug for RootKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RootKey").field(&self.0).finish()
    }
}

/// Splits a leading nonce off `bytes`.
pub(crate) fn split_nonce<'a>(
    bytes: &'a [u8],
    what: &'static str,
) -> Result<([u8; NONCE_LEN], &'a [u8]), CryptoError> {
    match bytes.split_first_chunk::<NONCE_LEN>() {
        Some((nonce, rest)) => Ok((*nonce, rest)),
        None => Err(CryptoError::Malformed {
            what,
            reason: "shorter than a nonce",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> KeyMaterial {
        KeyMaterial::from_slice(&[byte; KEY_LEN]).expect("32 bytes")
    }

    #[test]
    fn generated_keys_differ_and_have_256_bits() {
        let a = KeyMaterial::generate().expect("os rng");
        let b = KeyMaterial::generate().expect("os rng");
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 32);
        assert_eq!(a.clone(), a);
    }

    #[test]
    fn key_material_must_be_exactly_32_bytes() {
        for length in [0, 16, 31, 33, 64] {
            let error = KeyMaterial::from_slice(&vec![7; length]).expect_err("wrong length");
            assert!(matches!(error, CryptoError::InvalidKeyLength(n) if n == length));
        }
        assert!(KeyMaterial::from_slice(&[7; 32]).is_ok());
    }

    #[test]
    fn key_types_print_redacted() {
        let material = key(0xAB);
        let root = RootKey::new(key(0xAB));
        for printed in [
            format!("{material:?}"),
            format!("{material:#?}"),
            format!("{root:?}"),
            format!("{root:#?}"),
        ] {
            assert!(printed.contains(REDACTED), "{printed}");
            assert!(!printed.to_lowercase().contains("ab, "), "{printed}");
            assert!(!printed.contains("171"), "{printed}");
            assert!(!printed.to_lowercase().contains("abab"), "{printed}");
        }
    }

    #[test]
    fn check_value_is_hmac_sha256_of_the_label_and_depends_on_the_key() {
        let root = RootKey::new(key(1));
        let mut mac = Hmac::<Sha256>::new_from_slice(&[1; 32]).expect("hmac");
        mac.update(b"coffer root key check value v1");
        let expected: [u8; 32] = mac.finalize().into_bytes().into();
        assert_eq!(root.check_value(), expected);
        assert_eq!(root.check_value(), RootKey::new(key(1)).check_value());
        assert_ne!(root.check_value(), RootKey::new(key(2)).check_value());
        assert!(root.matches_check_value(&expected));
        assert!(!root.matches_check_value(&RootKey::new(key(2)).check_value()));
        assert!(!root.matches_check_value(&expected[..31]));
        assert!(!root.matches_check_value(&[]));
    }

    #[test]
    fn wrap_round_trips_with_a_fresh_nonce_each_time() {
        let root = RootKey::new(key(1));
        let material = key(9);
        let first = root.wrap(&material, b"ctx").expect("wrap");
        let second = root.wrap(&material, b"ctx").expect("wrap");
        assert_eq!(first.len(), WRAPPED_KEY_LEN);
        assert_eq!(first[0], 1);
        assert_ne!(first, second, "random nonces");
        assert_eq!(root.unwrap(&first, b"ctx").expect("unwrap"), material);
        assert_eq!(root.unwrap(&second, b"ctx").expect("unwrap"), material);
        assert!(!first.windows(32).any(|window| window == material.expose()));
    }

    #[test]
    fn every_tampered_wrapped_key_is_refused() {
        let root = RootKey::new(key(1));
        let wrapped = root.wrap(&key(9), b"ctx").expect("wrap");
        for position in 0..wrapped.len() {
            for mask in [0x01, 0x80, 0xFF] {
                let mut tampered = wrapped.clone();
                tampered[position] ^= mask;
                let error = root.unwrap(&tampered, b"ctx").expect_err("tampered");
                assert!(error.is_decryption_failure(), "{position}: {error}");
            }
        }
        for length in 0..wrapped.len() {
            assert!(root.unwrap(&wrapped[..length], b"ctx").is_err(), "{length}");
        }
        let mut longer = wrapped.clone();
        longer.push(0);
        assert!(root.unwrap(&longer, b"ctx").is_err());
    }

    #[test]
    fn wrapped_key_needs_the_same_root_key_and_context() {
        let root = RootKey::new(key(1));
        let wrapped = root.wrap(&key(9), b"ctx").expect("wrap");
        let other_root = RootKey::new(key(2));
        assert!(matches!(
            other_root.unwrap(&wrapped, b"ctx"),
            Err(CryptoError::DecryptionFailure)
        ));
        for context in [&b""[..], b"ctx\0", b"CTX", b"ct"] {
            assert!(matches!(
                root.unwrap(&wrapped, context),
                Err(CryptoError::DecryptionFailure)
            ));
        }
    }

    #[test]
    fn unknown_wrap_format_is_named() {
        let root = RootKey::new(key(1));
        let mut wrapped = root.wrap(&key(9), b"ctx").expect("wrap");
        wrapped[0] = 2;
        let error = root.unwrap(&wrapped, b"ctx").expect_err("format 2");
        assert!(matches!(
            error,
            CryptoError::UnsupportedFormat { format: 2, .. }
        ));
        assert_eq!(
            error.to_string(),
            "unsupported wrapped key format version 2"
        );
    }
}
