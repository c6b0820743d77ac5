//! Short secrets sealed directly under the root key: the secret access keys and session tokens
//! of [identities](crate::service::identity), which the server must read back in the clear to
//! verify signatures (a hash would not do: SigV4 is an HMAC keyed by the secret).
//!
//! ## Layout (format 1)
//!
//! ```text
//! 0x01 | nonce (12) | encrypted secret (n) | tag (16)
//! ```
//!
//! The AES-256-GCM associated data is `"coffer.sealed-secret\0" | 0x01 | context`. The caller's
//! context names what the secret is and whose it is (for an access key: its purpose and the
//! access key id), so a sealed secret copied to another row, or a session token passed off as
//! a secret access key, does not open.

use zeroize::Zeroizing;

use super::aead::{self, NONCE_LEN, TAG_LEN};
use super::keys::{RootKey, split_nonce};
use super::{CryptoError, SecretString};

const FORMAT: u8 = 1;
const LABEL: &[u8] = b"coffer.sealed-secret\0";
const WHAT: &str = "sealed secret";

/// Seals `secret` under `root` with `context` bound as associated data (a fresh random nonce
/// each time).
pub fn seal(root: &RootKey, secret: &SecretString, context: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let plaintext = secret.expose().as_bytes();
    let nonce = aead::random_nonce()?;
    let mut sealed = Vec::with_capacity(1 + NONCE_LEN + plaintext.len() + TAG_LEN);
    sealed.push(FORMAT);
    sealed.extend_from_slice(&nonce);
    let aad = aead::associated_data(LABEL, FORMAT, &[context]);
    aead::encrypt_into(root.material(), &nonce, &aad, plaintext, &mut sealed)?;
    Ok(sealed)
}

/// Reverses [`seal`]. Another root key or context, or any change to the bytes, is an error
/// ([`CryptoError::is_decryption_failure`]).
pub fn open(root: &RootKey, sealed: &[u8], context: &[u8]) -> Result<SecretString, CryptoError> {
    let Some((&format, rest)) = sealed.split_first() else {
        return Err(CryptoError::Malformed {
            what: WHAT,
            reason: "empty",
        });
    };
    if format != FORMAT {
        return Err(CryptoError::UnsupportedFormat { what: WHAT, format });
    }
    let (nonce, ciphertext) = split_nonce(rest, WHAT)?;
    let aad = aead::associated_data(LABEL, FORMAT, &[context]);
    let plaintext: Zeroizing<Vec<u8>> =
        aead::decrypt(root.material(), &nonce, &aad, ciphertext, WHAT)?;
    match std::str::from_utf8(&plaintext) {
        Ok(text) => Ok(SecretString::new(text.to_owned())),
        // Authenticated but not UTF-8: it was never sealed by `seal`.
        Err(_) => Err(CryptoError::Malformed {
            what: WHAT,
            reason: "not UTF-8",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keys::KeyMaterial;

    fn root(byte: u8) -> RootKey {
        RootKey::new(KeyMaterial::from_slice(&[byte; 32]).expect("32 bytes"))
    }

    fn secret(text: &str) -> SecretString {
        SecretString::new(text.to_owned())
    }

    #[test]
    fn sealed_secrets_open_with_the_same_key_and_context() {
        let root = root(1);
        let first = seal(&root, &secret("wJalrXUtnFEMI/K7MDENG"), b"ctx").expect("seal");
        let second = seal(&root, &secret("wJalrXUtnFEMI/K7MDENG"), b"ctx").expect("seal");
        assert_ne!(first, second, "a fresh nonce each time");
        assert_eq!(first[0], FORMAT);
        assert_eq!(first.len(), 1 + NONCE_LEN + 21 + TAG_LEN);
        assert!(!first.windows(7).any(|window| window == b"wJalrXU"));
        for sealed in [&first, &second] {
            assert_eq!(
                open(&root, sealed, b"ctx").expect("open").expose(),
                "wJalrXUtnFEMI/K7MDENG"
            );
        }
        let empty = seal(&root, &secret(""), b"ctx").expect("seal");
        assert_eq!(open(&root, &empty, b"ctx").expect("open").expose(), "");
    }

    #[test]
    fn another_key_or_context_does_not_open() {
        let sealed = seal(&root(1), &secret("s3cret"), b"AKIA1").expect("seal");
        assert!(matches!(
            open(&root(2), &sealed, b"AKIA1"),
            Err(CryptoError::DecryptionFailure)
        ));
        for context in [&b""[..], b"AKIA2", b"AKIA1\0", b"akia1"] {
            assert!(matches!(
                open(&root(1), &sealed, context),
                Err(CryptoError::DecryptionFailure)
            ));
        }
    }

    #[test]
    fn every_tampered_byte_and_truncation_is_refused() {
        let root = root(1);
        let sealed = seal(&root, &secret("s3cret"), b"ctx").expect("seal");
        for position in 0..sealed.len() {
            let mut tampered = sealed.clone();
            tampered[position] ^= 0x01;
            let error = open(&root, &tampered, b"ctx").expect_err("tampered");
            assert!(error.is_decryption_failure(), "{position}: {error}");
        }
        for length in 0..sealed.len() {
            let error = open(&root, &sealed[..length], b"ctx").expect_err("truncated");
            assert!(error.is_decryption_failure(), "{length}: {error}");
        }
    }

    #[test]
    fn secrets_sealed_here_are_not_wrapped_keys_and_the_other_way_round() {
        let root = root(1);
        let material = KeyMaterial::from_slice(&[7; 32]).expect("32 bytes");
        let wrapped = root.wrap(&material, b"ctx").expect("wrap");
        assert!(open(&root, &wrapped, b"ctx").is_err());
        let sealed = seal(&root, &secret(&"x".repeat(32)), b"ctx").expect("seal");
        assert!(root.unwrap(&sealed, b"ctx").is_err());
    }
}
