//! The one place that calls AES-256-GCM (RustCrypto `aes-gcm`) and the OS random generator.
//!
//! Callers build their own byte layouts around these two calls; every layout starts its
//! associated data with a NUL-terminated label of its own (see [`associated_data`]) so that a
//! ciphertext made for one purpose never authenticates as another, even under the same key.

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use rand::TryRngCore;
use rand::rngs::OsRng;
use zeroize::Zeroizing;

use super::CryptoError;
use super::keys::KeyMaterial;

/// AES-GCM's 96-bit nonce, drawn at random for every encryption.
pub(crate) const NONCE_LEN: usize = 12;
/// AES-GCM's full 128-bit tag (never truncated).
pub(crate) const TAG_LEN: usize = 16;

/// Fills `buffer` from the operating system's CSPRNG (`getrandom`), not a user-space generator.
pub(crate) fn fill_random(buffer: &mut [u8]) -> Result<(), CryptoError> {
    OsRng
        .try_fill_bytes(buffer)
        .map_err(|error| CryptoError::Randomness(error.to_string()))
}

pub(crate) fn random_nonce() -> Result<[u8; NONCE_LEN], CryptoError> {
    let mut nonce = [0u8; NONCE_LEN];
    fill_random(&mut nonce)?;
    Ok(nonce)
}

/// `label ‖ format ‖ rest`. Labels are constants that end in NUL and contain no other NUL, so
/// no label is a prefix of another and the result is unambiguous for a fixed label and format.
pub(crate) fn associated_data(label: &[u8], format: u8, parts: &[&[u8]]) -> Vec<u8> {
    let length = label.len() + 1 + parts.iter().map(|part| part.len()).sum::<usize>();
    let mut aad = Vec::with_capacity(length);
    aad.extend_from_slice(label);
    aad.push(format);
    for part in parts {
        aad.extend_from_slice(part);
    }
    aad
}

fn cipher(key: &KeyMaterial) -> Aes256Gcm {
    // The cipher holds the AES round keys and the GHASH key; the `zeroize` features of `aes`
    // and `polyval` (Cargo.toml) wipe them when it is dropped at the end of the call.
    Aes256Gcm::new(GenericArray::from_slice(key.expose()))
}

/// Appends `ciphertext ‖ tag` of `plaintext` to `out`.
///
/// The plaintext is copied into `out` and encrypted in place; the capacity is reserved first
/// so that no reallocation leaves a copy of the plaintext behind in freed memory.
pub(crate) fn encrypt_into(
    key: &KeyMaterial,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), CryptoError> {
    out.reserve(plaintext.len() + TAG_LEN);
    let start = out.len();
    out.extend_from_slice(plaintext);
    let tag = cipher(key)
        .encrypt_in_place_detached(GenericArray::from_slice(nonce), aad, &mut out[start..])
        .map_err(|_| {
            out[start..].fill(0);
            CryptoError::EncryptionFailure
        })?;
    out.extend_from_slice(&tag);
    Ok(())
}

/// Verifies and decrypts `ciphertext ‖ tag`. The plaintext is only ever written to the
/// zeroizing buffer returned, and only once the tag has verified (aes-gcm ≥ 0.10.3 checks the
/// tag before applying the key stream).
pub(crate) fn decrypt(
    key: &KeyMaterial,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    ciphertext_and_tag: &[u8],
    what: &'static str,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let Some(split) = ciphertext_and_tag.len().checked_sub(TAG_LEN) else {
        return Err(CryptoError::Malformed {
            what,
            reason: "shorter than an authentication tag",
        });
    };
    let (ciphertext, tag) = ciphertext_and_tag.split_at(split);
    let mut buffer = Zeroizing::new(Vec::with_capacity(ciphertext.len()));
    buffer.extend_from_slice(ciphertext);
    cipher(key)
        .decrypt_in_place_detached(
            GenericArray::from_slice(nonce),
            aad,
            &mut buffer,
            GenericArray::from_slice(tag),
        )
        .map_err(|_| CryptoError::DecryptionFailure)?;
    Ok(buffer)
}
