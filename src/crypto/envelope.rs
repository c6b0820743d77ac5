//! Envelope encryption: KMS keys, data keys and the sealed record of a secret version.
//!
//! Three layers, following AWS Secrets Manager on KMS:
//!
//! 1. The **root key** ([`RootKey`]) wraps each KMS key's material ([`KmsKey::wrap`]).
//! 2. A **KMS key** ([`KmsKey`]: an id, a material version, 256 bits) encrypts small payloads
//!    into a [`KmsBlob`]. This is both KMS `Encrypt`/`Decrypt` and the wrapping of data keys
//!    (`GenerateDataKey`). Rotation adds a material version; blobs name the version they were
//!    made with, so old material keeps decrypting.
//! 3. Every secret version gets a fresh **data key** that seals its value ([`seal`]); the
//!    record ([`SealedValue`]) keeps the data key wrapped by the KMS key next to the sealed
//!    value, and the data key itself is wiped as soon as the value is sealed or opened.
//!
//! The **encryption context** (`{"SecretARN": …, "SecretVersionId": …}`, see
//! [`secret_version_context`]) is bound as associated data in both the data key's blob and the
//! sealed value, so a record copied to another secret or version does not open.
//!
//! # Formats
//!
//! Every format starts with a format byte (1 today) so it can evolve; an unknown one is
//! [`CryptoError::UnsupportedFormat`]. Integers are big-endian. Every AES-GCM call uses a random
//! 96-bit nonce and the full 128-bit tag. The associated data of each layout begins with its own
//! NUL-terminated label, so bytes made for one purpose never authenticate as another.
//!
//! **Encryption context** ([`encryption_context_aad`]), canonical: pairs sorted by key (byte
//! order, as [`BTreeMap`] keeps them), every string length-prefixed, so that no two contexts
//! encode alike (`{"a": "bc"}` ≠ `{"ab": "c"}`):
//!
//! ```text
//! pair count (u64) | { key length (u64) | key (UTF-8) | value length (u64) | value (UTF-8) }*
//! ```
//!
//! **Sealed bytes** ([`seal`]/[`open`]), 29 bytes + plaintext:
//!
//! ```text
//! 0x01 | nonce (12) | ciphertext | tag (16)
//! AAD = "coffer.sealed\0" | 0x01 | caller's aad
//! ```
//!
//! **KMS ciphertext blob** ([`KmsBlob`]), 49 bytes + plaintext:
//!
//! ```text
//! 0x01 | key id (16, UUID bytes) | material version (u32) | nonce (12) | ciphertext | tag (16)
//! AAD = "coffer.kms-blob\0" | 0x01 | key id | material version | encryption_context_aad(context)
//! ```
//!
//! **Sealed secret value** ([`SealedValue`]), 5 + 81 + 29 + plaintext bytes:
//!
//! ```text
//! 0x01 | data key blob length (u32) | data key blob (a KmsBlob of the 32-byte data key)
//!      | sealed value (sealed bytes under the data key, aad = encryption_context_aad(context))
//! ```
//!
//! **KMS key material wrapped by the root key** ([`KmsKey::wrap`]): the root key's wrapped key
//! layout (see [`super::keys`]) with context `"coffer.kms-key-material\0" | key id | material
//! version`, so material cannot be swapped between keys or versions in the database.
//!
//! # Limits
//!
//! Random 96-bit nonces keep AES-GCM's guarantees for up to 2^32 encryptions per key (NIST SP
//! 800-38D §8.3). A data key encrypts once. A KMS key's material version encrypts once per
//! secret version written under it, so it should be rotated (a new material version) well
//! before 2^32 writes; at AWS's 50 writes/s quota that is 2.7 years of writes at the quota.
//!
//! # Choices
//!
//! Opening takes the [`KmsKey`] rather than a lookup callback: the store is asynchronous, so
//! the caller reads [`SealedValue::key_ref`], loads and unwraps that material version, then
//! opens. A key whose id or version differs from the blob's header is refused before any
//! decryption ([`CryptoError::KeyMismatch`]); the header is also authenticated, so material
//! looked up under a forged header does not open the blob either.

use std::collections::BTreeMap;
use std::fmt;

use uuid::Uuid;
use zeroize::Zeroizing;

use super::CryptoError;
use super::aead::{self, NONCE_LEN, TAG_LEN};
use super::keys::{KEY_LEN, KeyMaterial, RootKey, split_nonce};

/// An encryption context: string pairs bound to a ciphertext as associated data.
pub type EncryptionContext = BTreeMap<String, String>;

/// The encryption context keys Secrets Manager uses.
pub const SECRET_ARN: &str = "SecretARN";
pub const SECRET_VERSION_ID: &str = "SecretVersionId";

const SEALED_FORMAT: u8 = 1;
const SEALED_LABEL: &[u8] = b"coffer.sealed\0";
const BLOB_FORMAT: u8 = 1;
const BLOB_LABEL: &[u8] = b"coffer.kms-blob\0";
const RECORD_FORMAT: u8 = 1;
const MATERIAL_WRAP_LABEL: &[u8] = b"coffer.kms-key-material\0";

/// `format | nonce | tag`: what [`seal`] adds to a plaintext.
pub const SEALED_OVERHEAD: usize = 1 + NONCE_LEN + TAG_LEN;
/// `format | key id | material version | nonce | tag`: what a [`KmsBlob`] adds to a plaintext.
pub const BLOB_OVERHEAD: usize = 1 + 16 + 4 + NONCE_LEN + TAG_LEN;

/// `{"SecretARN": arn, "SecretVersionId": version_id}`, the context of a secret version.
pub fn secret_version_context(arn: &str, version_id: &str) -> EncryptionContext {
    BTreeMap::from([
        (SECRET_ARN.to_owned(), arn.to_owned()),
        (SECRET_VERSION_ID.to_owned(), version_id.to_owned()),
    ])
}

/// The canonical encoding of an encryption context (layout in the module docs).
pub fn encryption_context_aad(context: &EncryptionContext) -> Vec<u8> {
    fn put(out: &mut Vec<u8>, bytes: &[u8]) {
        out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
        out.extend_from_slice(bytes);
    }
    let size = 8 + context
        .iter()
        .map(|(key, value)| 16 + key.len() + value.len())
        .sum::<usize>();
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&(context.len() as u64).to_be_bytes());
    for (key, value) in context {
        put(&mut out, key.as_bytes());
        put(&mut out, value.as_bytes());
    }
    out
}

/// Seals `plaintext` under `key` with AES-256-GCM: `0x01 | nonce | ciphertext | tag`, with
/// `aad` authenticated but not stored (the opener must supply the same bytes).
pub fn seal(key: &KeyMaterial, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let nonce = aead::random_nonce()?;
    let mut sealed = Vec::with_capacity(SEALED_OVERHEAD + plaintext.len());
    sealed.push(SEALED_FORMAT);
    sealed.extend_from_slice(&nonce);
    let full_aad = aead::associated_data(SEALED_LABEL, SEALED_FORMAT, &[aad]);
    aead::encrypt_into(key, &nonce, &full_aad, plaintext, &mut sealed)?;
    Ok(sealed)
}

/// Reverses [`seal`]. Any change to `sealed`, `aad` or `key` is an error.
pub fn open(
    key: &KeyMaterial,
    sealed: &[u8],
    aad: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    const WHAT: &str = "sealed value";
    let rest = strip_format(sealed, SEALED_FORMAT, WHAT)?;
    let (nonce, ciphertext) = split_nonce(rest, WHAT)?;
    let full_aad = aead::associated_data(SEALED_LABEL, SEALED_FORMAT, &[aad]);
    aead::decrypt(key, &nonce, &full_aad, ciphertext, WHAT)
}

/// Which KMS key material a blob was made with: the key's id and the material version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyRef {
    pub key_id: Uuid,
    pub material_version: u32,
}

impl fmt::Display for KeyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (material version {})",
            self.key_id, self.material_version
        )
    }
}

/// One material version of a symmetric KMS key. Its material prints as `[REDACTED]` and is
/// wiped on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct KmsKey {
    key_ref: KeyRef,
    material: KeyMaterial,
}

impl KmsKey {
    pub fn new(key_ref: KeyRef, material: KeyMaterial) -> KmsKey {
        KmsKey { key_ref, material }
    }

    /// New material from the OS CSPRNG: a new key (version 1, say) or a rotation (next version).
    pub fn generate(key_ref: KeyRef) -> Result<KmsKey, CryptoError> {
        Ok(KmsKey::new(key_ref, KeyMaterial::generate()?))
    }

    pub fn key_ref(&self) -> KeyRef {
        self.key_ref
    }

    /// The material itself, for tests that look for it where it must not be.
    #[cfg(test)]
    pub(crate) fn material(&self) -> &KeyMaterial {
        &self.material
    }

    fn wrap_context(key_ref: KeyRef) -> Vec<u8> {
        let mut context = Vec::with_capacity(MATERIAL_WRAP_LABEL.len() + 20);
        context.extend_from_slice(MATERIAL_WRAP_LABEL);
        context.extend_from_slice(key_ref.key_id.as_bytes());
        context.extend_from_slice(&key_ref.material_version.to_be_bytes());
        context
    }

    /// The material wrapped by the root key, for storing; bound to this key id and version.
    pub fn wrap(&self, root: &RootKey) -> Result<Vec<u8>, CryptoError> {
        root.wrap(&self.material, &KmsKey::wrap_context(self.key_ref))
    }

    /// Unwraps material stored by [`KmsKey::wrap`] for the key and version `key_ref`.
    pub fn unwrap(root: &RootKey, key_ref: KeyRef, wrapped: &[u8]) -> Result<KmsKey, CryptoError> {
        let material = root.unwrap(wrapped, &KmsKey::wrap_context(key_ref))?;
        Ok(KmsKey::new(key_ref, material))
    }

    /// KMS `Encrypt`: seals `plaintext` into a blob bound to this key, version and `context`.
    pub fn encrypt(
        &self,
        plaintext: &[u8],
        context: &EncryptionContext,
    ) -> Result<KmsBlob, CryptoError> {
        let nonce = aead::random_nonce()?;
        let aad = blob_aad(self.key_ref, context);
        let mut ciphertext = Vec::with_capacity(plaintext.len() + TAG_LEN);
        aead::encrypt_into(&self.material, &nonce, &aad, plaintext, &mut ciphertext)?;
        Ok(KmsBlob {
            key_ref: self.key_ref,
            nonce,
            ciphertext,
        })
    }

    /// KMS `Decrypt`: opens a blob made by [`KmsKey::encrypt`] with the same `context`.
    pub fn decrypt(
        &self,
        blob: &KmsBlob,
        context: &EncryptionContext,
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if blob.key_ref != self.key_ref {
            return Err(CryptoError::KeyMismatch {
                sealed_with: blob.key_ref,
                given: self.key_ref,
            });
        }
        let aad = blob_aad(self.key_ref, context);
        aead::decrypt(
            &self.material,
            &blob.nonce,
            &aad,
            &blob.ciphertext,
            "KMS blob",
        )
    }

    /// KMS `GenerateDataKey`: a fresh 256-bit data key, and the same key encrypted under this
    /// KMS key (bound to `context`) for storing.
    pub fn generate_data_key(
        &self,
        context: &EncryptionContext,
    ) -> Result<(KeyMaterial, KmsBlob), CryptoError> {
        let data_key = KeyMaterial::generate()?;
        let blob = self.encrypt(data_key.expose(), context)?;
        Ok((data_key, blob))
    }

    /// Opens a data key made by [`KmsKey::generate_data_key`].
    pub fn decrypt_data_key(
        &self,
        blob: &KmsBlob,
        context: &EncryptionContext,
    ) -> Result<KeyMaterial, CryptoError> {
        let plaintext = self.decrypt(blob, context)?;
        if plaintext.len() != KEY_LEN {
            // It authenticated, so it was made by us, but not as a data key.
            return Err(CryptoError::Malformed {
                what: "data key",
                reason: "the KMS blob does not hold a 256-bit key",
            });
        }
        KeyMaterial::from_slice(&plaintext)
    }
}

impl fmt::Debug for KmsKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KmsKey")
            .field("key_id", &self.key_ref.key_id)
            .field("material_version", &self.key_ref.material_version)
            .field("material", &self.material)
            .finish()
    }
}

fn blob_aad(key_ref: KeyRef, context: &EncryptionContext) -> Vec<u8> {
    aead::associated_data(
        BLOB_LABEL,
        BLOB_FORMAT,
        &[
            key_ref.key_id.as_bytes(),
            &key_ref.material_version.to_be_bytes(),
            &encryption_context_aad(context),
        ],
    )
}

/// A KMS ciphertext blob (layout in the module docs). Holds no plaintext; printing it shows
/// the header and the length of the ciphertext.
#[derive(Clone, PartialEq, Eq)]
pub struct KmsBlob {
    key_ref: KeyRef,
    nonce: [u8; NONCE_LEN],
    /// Ciphertext followed by the 16-byte tag.
    ciphertext: Vec<u8>,
}

impl KmsBlob {
    /// The key and material version that made this blob (unauthenticated until decrypted).
    pub fn key_ref(&self) -> KeyRef {
        self.key_ref
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(BLOB_OVERHEAD - TAG_LEN + self.ciphertext.len());
        out.push(BLOB_FORMAT);
        out.extend_from_slice(self.key_ref.key_id.as_bytes());
        out.extend_from_slice(&self.key_ref.material_version.to_be_bytes());
        out.extend_from_slice(&self.nonce);
        out.extend_from_slice(&self.ciphertext);
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<KmsBlob, CryptoError> {
        const WHAT: &str = "KMS blob";
        let too_short = || CryptoError::Malformed {
            what: WHAT,
            reason: "too short",
        };
        let rest = strip_format(bytes, BLOB_FORMAT, WHAT)?;
        if bytes.len() < BLOB_OVERHEAD {
            return Err(too_short());
        }
        let (key_id, rest) = rest.split_first_chunk::<16>().ok_or_else(too_short)?;
        let (version, rest) = rest.split_first_chunk::<4>().ok_or_else(too_short)?;
        let (nonce, ciphertext) = split_nonce(rest, WHAT)?;
        Ok(KmsBlob {
            key_ref: KeyRef {
                key_id: Uuid::from_bytes(*key_id),
                material_version: u32::from_be_bytes(*version),
            },
            nonce,
            ciphertext: ciphertext.to_vec(),
        })
    }
}

impl fmt::Debug for KmsBlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KmsBlob")
            .field("key_id", &self.key_ref.key_id)
            .field("material_version", &self.key_ref.material_version)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}

/// The stored form of a secret version's value (layout in the module docs): the data key
/// wrapped by a KMS key, and the value sealed under the data key.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedValue {
    data_key: KmsBlob,
    /// [`seal`]'s output under the data key.
    value: Vec<u8>,
}

impl SealedValue {
    /// The KMS key and material version that wrap this value's data key: load that one to open.
    pub fn key_ref(&self) -> KeyRef {
        self.data_key.key_ref
    }

    /// The wrapped data key, for tests that unwrap it to look for it where it must not be.
    #[cfg(test)]
    pub(crate) fn data_key(&self) -> &KmsBlob {
        &self.data_key
    }

    pub fn encode(&self) -> Vec<u8> {
        let blob = self.data_key.encode();
        let mut out = Vec::with_capacity(1 + 4 + blob.len() + self.value.len());
        out.push(RECORD_FORMAT);
        // A data key blob is 81 bytes; its length always fits.
        out.extend_from_slice(&(blob.len() as u32).to_be_bytes());
        out.extend_from_slice(&blob);
        out.extend_from_slice(&self.value);
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<SealedValue, CryptoError> {
        const WHAT: &str = "sealed secret value";
        let too_short = || CryptoError::Malformed {
            what: WHAT,
            reason: "too short",
        };
        let rest = strip_format(bytes, RECORD_FORMAT, WHAT)?;
        let (length, rest) = rest.split_first_chunk::<4>().ok_or_else(too_short)?;
        let length = usize::try_from(u32::from_be_bytes(*length)).map_err(|_| too_short())?;
        let (blob, value) = rest.split_at_checked(length).ok_or_else(too_short)?;
        Ok(SealedValue {
            data_key: KmsBlob::decode(blob)?,
            value: value.to_vec(),
        })
    }

    /// Re-wraps the data key under another KMS key (or material version) without touching the
    /// sealed value: what a change of `KmsKeyId` or a re-encryption after rotation needs.
    pub fn rewrap(
        &self,
        from: &KmsKey,
        to: &KmsKey,
        context: &EncryptionContext,
    ) -> Result<SealedValue, CryptoError> {
        let data_key = from.decrypt_data_key(&self.data_key, context)?;
        // Check the data key opens the value before committing to the new wrapping, so a
        // record that does not open stays an error instead of becoming a new-looking one.
        open(&data_key, &self.value, &encryption_context_aad(context))?;
        Ok(SealedValue {
            data_key: to.encrypt(data_key.expose(), context)?,
            value: self.value.clone(),
        })
    }
}

impl fmt::Debug for SealedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedValue")
            .field("data_key", &self.data_key)
            .field("value_len", &self.value.len())
            .finish()
    }
}

/// Seals a secret version's value: a fresh data key from `kms_key` (`GenerateDataKey`), the
/// value sealed under it with `context` as associated data, the data key wiped on return.
pub fn seal_secret_value(
    kms_key: &KmsKey,
    context: &EncryptionContext,
    plaintext: &[u8],
) -> Result<SealedValue, CryptoError> {
    let (data_key, blob) = kms_key.generate_data_key(context)?;
    let value = seal(&data_key, plaintext, &encryption_context_aad(context))?;
    Ok(SealedValue {
        data_key: blob,
        value,
    })
}

/// Opens a value sealed by [`seal_secret_value`]: `kms_key` must be the material version named
/// by [`SealedValue::key_ref`], and `context` the one it was sealed with.
pub fn open_secret_value(
    kms_key: &KmsKey,
    context: &EncryptionContext,
    sealed: &SealedValue,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let data_key = kms_key.decrypt_data_key(&sealed.data_key, context)?;
    open(&data_key, &sealed.value, &encryption_context_aad(context))
}

/// The bytes after the format byte, if it is `expected`.
fn strip_format<'a>(
    bytes: &'a [u8],
    expected: u8,
    what: &'static str,
) -> Result<&'a [u8], CryptoError> {
    match bytes.split_first() {
        None => Err(CryptoError::Malformed {
            what,
            reason: "empty",
        }),
        Some((&format, rest)) if format == expected => Ok(rest),
        Some((&format, _)) => Err(CryptoError::UnsupportedFormat { what, format }),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn material(byte: u8) -> KeyMaterial {
        KeyMaterial::from_slice(&[byte; KEY_LEN]).expect("32 bytes")
    }

    fn key_ref(version: u32) -> KeyRef {
        KeyRef {
            key_id: Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef),
            material_version: version,
        }
    }

    fn kms_key(version: u32, byte: u8) -> KmsKey {
        KmsKey::new(key_ref(version), material(byte))
    }

    fn context() -> EncryptionContext {
        secret_version_context(
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
            "EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE",
        )
    }

    /// Every way `sealed` can be corrupted in place: each byte flipped in three ways, every
    /// truncation, and one byte too many.
    fn corruptions(sealed: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        for position in 0..sealed.len() {
            for mask in [0x01u8, 0x80, 0xFF] {
                let mut bytes = sealed.to_vec();
                bytes[position] ^= mask;
                out.push((format!("byte {position} ^ {mask:#04x}"), bytes));
            }
        }
        for length in 0..sealed.len() {
            out.push((format!("truncated to {length}"), sealed[..length].to_vec()));
        }
        let mut longer = sealed.to_vec();
        longer.push(0);
        out.push(("one byte appended".to_owned(), longer));
        out
    }

    /// Opens stored bytes the way the service will: decode, then look up the material the
    /// header names. `any_material` plays an attacker whose forged header still finds material
    /// (the real one): the header is authenticated, so it must fail anyway.
    fn open_stored(
        bytes: &[u8],
        real: &KmsKey,
        any_material: bool,
        context: &EncryptionContext,
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let sealed = SealedValue::decode(bytes)?;
        if any_material {
            let looked_up = KmsKey::new(sealed.key_ref(), real.material.clone());
            open_secret_value(&looked_up, context, &sealed)
        } else {
            open_secret_value(real, context, &sealed)
        }
    }

    #[test]
    fn the_context_encoding_is_canonical_and_unambiguous() {
        let pair = |k: &str, v: &str| BTreeMap::from([(k.to_owned(), v.to_owned())]);
        assert_eq!(
            hex::encode(encryption_context_aad(&pair("a", "bc"))),
            "0000000000000001\
             0000000000000001 61\
             0000000000000002 6263"
                .replace(' ', "")
        );
        assert_eq!(
            hex::encode(encryption_context_aad(&BTreeMap::new())),
            "0000000000000000"
        );
        // Shifting a boundary, or splitting one pair into two, changes the encoding.
        let distinct = [
            encryption_context_aad(&pair("a", "bc")),
            encryption_context_aad(&pair("ab", "c")),
            encryption_context_aad(&pair("abc", "")),
            encryption_context_aad(&pair("", "abc")),
            encryption_context_aad(&BTreeMap::from([
                ("a".to_owned(), "b".to_owned()),
                ("c".to_owned(), String::new()),
            ])),
            encryption_context_aad(&BTreeMap::new()),
        ];
        for (i, left) in distinct.iter().enumerate() {
            for right in &distinct[i + 1..] {
                assert_ne!(left, right);
            }
        }
        // Insertion order does not matter: the map is sorted.
        let mut forward = BTreeMap::new();
        forward.insert(SECRET_ARN.to_owned(), "x".to_owned());
        forward.insert(SECRET_VERSION_ID.to_owned(), "y".to_owned());
        let mut backward = BTreeMap::new();
        backward.insert(SECRET_VERSION_ID.to_owned(), "y".to_owned());
        backward.insert(SECRET_ARN.to_owned(), "x".to_owned());
        assert_eq!(
            encryption_context_aad(&forward),
            encryption_context_aad(&backward)
        );
        assert_eq!(secret_version_context("x", "y"), forward);
    }

    #[test]
    fn seal_round_trips_and_needs_the_same_key_and_aad() {
        let key = material(3);
        let sealed = seal(&key, b"attack at dawn", b"aad").expect("seal");
        assert_eq!(sealed.len(), SEALED_OVERHEAD + 14);
        assert_eq!(sealed[0], 1);
        assert_eq!(
            &**open(&key, &sealed, b"aad").expect("open"),
            b"attack at dawn"
        );
        assert_ne!(sealed, seal(&key, b"attack at dawn", b"aad").expect("seal"));
        assert!(matches!(
            open(&material(4), &sealed, b"aad"),
            Err(CryptoError::DecryptionFailure)
        ));
        assert!(matches!(
            open(&key, &sealed, b"aae"),
            Err(CryptoError::DecryptionFailure)
        ));
        let empty = seal(&key, b"", b"").expect("seal");
        assert!(open(&key, &empty, b"").expect("open").is_empty());
    }

    #[test]
    fn every_corruption_of_sealed_bytes_is_refused() {
        let key = material(3);
        let sealed = seal(&key, b"hi", b"aad").expect("seal");
        for (case, bytes) in corruptions(&sealed) {
            let error = open(&key, &bytes, b"aad").expect_err(&case);
            assert!(error.is_decryption_failure(), "{case}: {error}");
        }
    }

    #[test]
    fn kms_blobs_round_trip_and_bind_key_version_and_context() {
        let key = kms_key(1, 5);
        let blob = key.encrypt(b"payload", &context()).expect("encrypt");
        let encoded = blob.encode();
        assert_eq!(encoded.len(), BLOB_OVERHEAD + 7);
        assert_eq!(encoded[0], 1);
        assert_eq!(&encoded[1..17], key_ref(1).key_id.as_bytes());
        assert_eq!(&encoded[17..21], &[0, 0, 0, 1]);
        let decoded = KmsBlob::decode(&encoded).expect("decode");
        assert_eq!(decoded, blob);
        assert_eq!(decoded.key_ref(), key_ref(1));
        assert_eq!(
            &**key.decrypt(&decoded, &context()).expect("decrypt"),
            b"payload"
        );

        // The same material under another id or version: the header is in the AAD.
        for other in [
            KeyRef {
                material_version: 2,
                ..key_ref(1)
            },
            KeyRef {
                key_id: Uuid::from_u128(7),
                ..key_ref(1)
            },
        ] {
            let mut moved = encoded.clone();
            moved[1..17].copy_from_slice(other.key_id.as_bytes());
            moved[17..21].copy_from_slice(&other.material_version.to_be_bytes());
            let moved = KmsBlob::decode(&moved).expect("decode");
            let same_material = KmsKey::new(other, material(5));
            assert!(matches!(
                same_material.decrypt(&moved, &context()),
                Err(CryptoError::DecryptionFailure)
            ));
            assert!(matches!(
                key.decrypt(&moved, &context()),
                Err(CryptoError::KeyMismatch { .. })
            ));
        }

        // Any change to the context.
        let mut contexts = Vec::new();
        let mut changed = context();
        changed.insert(SECRET_VERSION_ID.to_owned(), "other".to_owned());
        contexts.push(changed);
        let mut added = context();
        added.insert("Extra".to_owned(), String::new());
        contexts.push(added);
        let mut removed = context();
        removed.remove(SECRET_ARN);
        contexts.push(removed);
        contexts.push(BTreeMap::new());
        for other in contexts {
            assert!(matches!(
                key.decrypt(&blob, &other),
                Err(CryptoError::DecryptionFailure)
            ));
        }
        // Other material under the same id and version.
        assert!(matches!(
            kms_key(1, 6).decrypt(&blob, &context()),
            Err(CryptoError::DecryptionFailure)
        ));
    }

    #[test]
    fn every_corruption_of_a_kms_blob_is_refused() {
        let key = kms_key(1, 5);
        let encoded = key.encrypt(b"hi", &context()).expect("encrypt").encode();
        for (case, bytes) in corruptions(&encoded) {
            let result = KmsBlob::decode(&bytes).and_then(|blob| {
                let looked_up = KmsKey::new(blob.key_ref(), material(5));
                looked_up.decrypt(&blob, &context())
            });
            let error = result.expect_err(&case);
            assert!(error.is_decryption_failure(), "{case}: {error}");
        }
    }

    #[test]
    fn data_keys_are_fresh_and_unwrap_only_as_keys() {
        let key = kms_key(1, 5);
        let (first, blob) = key.generate_data_key(&context()).expect("generate");
        let (second, _) = key.generate_data_key(&context()).expect("generate");
        assert_ne!(first, second);
        assert_eq!(blob.encode().len(), BLOB_OVERHEAD + KEY_LEN);
        assert_eq!(
            key.decrypt_data_key(&blob, &context()).expect("open"),
            first
        );
        let not_a_key = key.encrypt(b"short", &context()).expect("encrypt");
        assert!(matches!(
            key.decrypt_data_key(&not_a_key, &context()),
            Err(CryptoError::Malformed { .. })
        ));
    }

    #[test]
    fn kms_key_material_is_wrapped_for_its_own_id_and_version() {
        let root = RootKey::new(material(1));
        let key = kms_key(3, 5);
        let wrapped = key.wrap(&root).expect("wrap");
        let unwrapped = KmsKey::unwrap(&root, key_ref(3), &wrapped).expect("unwrap");
        assert!(unwrapped == key);
        assert!(KmsKey::unwrap(&root, key_ref(4), &wrapped).is_err());
        let other_id = KeyRef {
            key_id: Uuid::from_u128(9),
            ..key_ref(3)
        };
        assert!(KmsKey::unwrap(&root, other_id, &wrapped).is_err());
        assert!(KmsKey::unwrap(&RootKey::new(material(2)), key_ref(3), &wrapped).is_err());
    }

    #[test]
    fn secret_values_round_trip_with_a_fresh_data_key_each_time() {
        let key = kms_key(1, 5);
        let first = seal_secret_value(&key, &context(), b"s3cr3t").expect("seal");
        let second = seal_secret_value(&key, &context(), b"s3cr3t").expect("seal");
        assert_ne!(first.data_key, second.data_key);
        assert_ne!(first.value, second.value);
        assert_eq!(first.key_ref(), key_ref(1));

        let encoded = first.encode();
        assert_eq!(
            encoded.len(),
            5 + BLOB_OVERHEAD + KEY_LEN + SEALED_OVERHEAD + 6
        );
        assert_eq!(encoded[0], 1);
        assert_eq!(
            &encoded[1..5],
            &(BLOB_OVERHEAD + KEY_LEN).to_be_bytes()[4..]
        );
        assert!(!encoded.windows(6).any(|window| window == b"s3cr3t"));
        let decoded = SealedValue::decode(&encoded).expect("decode");
        assert_eq!(decoded, first);
        let opened = open_secret_value(&key, &context(), &decoded).expect("open");
        assert_eq!(&**opened, b"s3cr3t");
        let empty = seal_secret_value(&key, &context(), b"").expect("seal");
        assert!(
            open_secret_value(&key, &context(), &empty)
                .expect("open")
                .is_empty()
        );
    }

    #[test]
    fn every_corruption_of_a_stored_secret_value_is_refused() {
        let key = kms_key(1, 5);
        let encoded = seal_secret_value(&key, &context(), b"hi")
            .expect("seal")
            .encode();
        assert_eq!(encoded.len(), 117);
        for (case, bytes) in corruptions(&encoded) {
            for any_material in [false, true] {
                let error = open_stored(&bytes, &key, any_material, &context()).expect_err(&case);
                assert!(error.is_decryption_failure(), "{case}: {error}");
            }
        }
        let mut unknown = encoded.clone();
        unknown[0] = 2;
        assert!(matches!(
            SealedValue::decode(&unknown),
            Err(CryptoError::UnsupportedFormat { format: 2, .. })
        ));
    }

    #[test]
    fn a_stored_value_does_not_open_elsewhere() {
        let key = kms_key(1, 5);
        let sealed = seal_secret_value(&key, &context(), b"one").expect("seal");
        let other = seal_secret_value(&key, &context(), b"two").expect("seal");
        // Another version's context, another secret's context, the wrong key.
        let arn = context()[SECRET_ARN].clone();
        for moved in [
            secret_version_context(&arn, "another-version-id-0000000000000000"),
            secret_version_context(&format!("{arn}x"), &context()[SECRET_VERSION_ID]),
        ] {
            let error = open_secret_value(&key, &moved, &sealed).expect_err("moved");
            assert!(matches!(error, CryptoError::DecryptionFailure));
        }
        assert!(open_secret_value(&kms_key(1, 6), &context(), &sealed).is_err());
        assert!(matches!(
            open_secret_value(&kms_key(2, 5), &context(), &sealed),
            Err(CryptoError::KeyMismatch { .. })
        ));
        // Swapping the data key blobs of two records.
        let swapped = SealedValue {
            data_key: other.data_key.clone(),
            value: sealed.value.clone(),
        };
        assert!(matches!(
            open_secret_value(&key, &context(), &swapped),
            Err(CryptoError::DecryptionFailure)
        ));
    }

    #[test]
    fn rotation_keeps_old_material_decrypting_and_rewrap_moves_data_keys() {
        let v1 = kms_key(1, 5);
        let v2 = kms_key(2, 6);
        let old = seal_secret_value(&v1, &context(), b"old").expect("seal");
        let new = seal_secret_value(&v2, &context(), b"new").expect("seal");
        assert_eq!(old.key_ref(), key_ref(1));
        assert_eq!(new.key_ref(), key_ref(2));
        assert_eq!(
            &**open_secret_value(&v1, &context(), &old).expect("v1"),
            b"old"
        );
        assert_eq!(
            &**open_secret_value(&v2, &context(), &new).expect("v2"),
            b"new"
        );

        let other_key = KmsKey::new(
            KeyRef {
                key_id: Uuid::from_u128(42),
                material_version: 1,
            },
            material(8),
        );
        let rewrapped = old.rewrap(&v1, &other_key, &context()).expect("rewrap");
        assert_eq!(rewrapped.key_ref(), other_key.key_ref());
        assert_eq!(rewrapped.value, old.value, "the sealed value is untouched");
        assert_eq!(
            &**open_secret_value(&other_key, &context(), &rewrapped).expect("open"),
            b"old"
        );
        assert!(open_secret_value(&v1, &context(), &rewrapped).is_err());
        let mut moved = context();
        moved.insert(SECRET_VERSION_ID.to_owned(), "elsewhere".to_owned());
        assert!(old.rewrap(&v1, &other_key, &moved).is_err());
    }

    #[test]
    fn keys_and_records_print_without_their_bytes() {
        let key = kms_key(1, 0xAB);
        let sealed = seal_secret_value(&key, &context(), b"distinctive").expect("seal");
        let (data_key, blob) = key.generate_data_key(&context()).expect("generate");
        let printed = [
            format!("{key:?}"),
            format!("{key:#?}"),
            format!("{data_key:?}"),
            format!("{blob:?}"),
            format!("{sealed:?}"),
        ];
        for text in &printed[..3] {
            assert!(text.contains("[REDACTED]"), "{text}");
        }
        for text in &printed {
            assert!(!text.contains("171"), "{text}");
            assert!(!text.to_lowercase().contains("abab"), "{text}");
            assert!(!text.contains("distinctive"), "{text}");
            assert!(!text.contains(&hex::encode(data_key.expose())), "{text}");
        }
        assert!(printed[0].contains(&key_ref(1).key_id.to_string()));
    }

    #[test]
    fn error_messages_carry_no_key_or_plaintext() {
        let key = kms_key(1, 0xAB);
        let sealed = seal_secret_value(&key, &context(), b"distinctive").expect("seal");
        let errors = [
            open_secret_value(&kms_key(1, 0xCD), &context(), &sealed).expect_err("wrong key"),
            open_secret_value(&kms_key(2, 0xAB), &context(), &sealed).expect_err("mismatch"),
            SealedValue::decode(&[9]).expect_err("format"),
            SealedValue::decode(&[]).expect_err("empty"),
            SealedValue::decode(&[1, 0, 0, 0]).expect_err("short"),
            KeyMaterial::from_slice(&[0xAB; 7]).expect_err("length"),
        ];
        for error in errors {
            let message = error.to_string();
            assert!(!message.contains("distinctive"), "{message}");
            assert!(!message.to_lowercase().contains("abab"), "{message}");
            assert!(!message.contains("171"), "{message}");
        }
    }

    // A record written by format 1, which every later build must keep opening. Generated once
    // by `print_a_new_fixture` below (at the commit that introduced format 1) and pasted here;
    // never regenerate it: if this test fails, stored data would stop decrypting.
    const FIXTURE_ROOT_KEY: &str =
        "dc3e8c590c4ac3733a3d73be2871649a309eefa485e0975e9cfbf022eb9fbd4e";
    const FIXTURE_CHECK_VALUE: &str =
        "b68ae6169d840ab7ddd3670335aed17fbe0da345a107c9d6f5a1d6b2cee8f98e";
    const FIXTURE_KMS_KEY_ID: &str = "0de0e636-8e67-4900-9a0d-e193668b6ed0";
    const FIXTURE_KMS_MATERIAL_VERSION: u32 = 3;
    const FIXTURE_KMS_MATERIAL: &str =
        "bf5b7905a30386941bee7e55994cc9123bdfa723292d38ef46de48a924987c61";
    const FIXTURE_WRAPPED_KMS_MATERIAL: &str = concat!(
        "01da8b0e5841ebb5908fa4aea826b7119835dc55f2757b020ffa040aba45f2cc",
        "0ea55cc7278621a4784c0c0c357a7d7f2d7c795b8c2ad106259fc4362c",
    );
    const FIXTURE_ARN: &str = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:fixture-Ab12Cd";
    const FIXTURE_VERSION_ID: &str = "7a1d2c3b-5e6f-4a0b-8c9d-0e1f2a3b4c5d";
    const FIXTURE_PLAINTEXT: &str = "{\"username\":\"coffer\",\"password\":\"format-1 fixture\"}";
    const FIXTURE_SEALED_VALUE: &str = concat!(
        "0100000051010de0e6368e6749009a0de193668b6ed000000003f6c330f612e8",
        "b729e17bbe44973b44286b4e04920f58f0251e2e2168ab6da00f098ca166f29b",
        "303092d0aec3a27b0a28ee788325e0c9e5c3a0f5431101f4a844b99ab2779041",
        "86d7f8b5ddfa41f29d7a2abcf842de8ebbb6deee7256c8691a79d430022f6c77",
        "44a427ecc33297f601046e7ffa12c053b4ee7fff7777aef4d289aa234f462579",
        "b9bac357b0cd",
    );

    fn fixture_context() -> EncryptionContext {
        secret_version_context(FIXTURE_ARN, FIXTURE_VERSION_ID)
    }

    fn fixture_key_ref(key_id: &str) -> KeyRef {
        KeyRef {
            key_id: Uuid::parse_str(key_id).expect("uuid"),
            material_version: FIXTURE_KMS_MATERIAL_VERSION,
        }
    }

    #[test]
    #[ignore = "prints a new fixture; run by hand when a new format version needs one"]
    fn print_a_new_fixture() {
        let root_material = KeyMaterial::generate().expect("rng");
        let root_hex = hex::encode(root_material.expose());
        let root = RootKey::new(root_material);
        let key_id = Uuid::new_v4().to_string();
        let kms = KmsKey::generate(fixture_key_ref(&key_id)).expect("rng");
        let wrapped = kms.wrap(&root).expect("wrap");
        let sealed = seal_secret_value(&kms, &fixture_context(), FIXTURE_PLAINTEXT.as_bytes())
            .expect("seal");
        println!("const FIXTURE_ROOT_KEY: &str = \"{root_hex}\";");
        println!(
            "const FIXTURE_CHECK_VALUE: &str = \"{}\";",
            hex::encode(root.check_value())
        );
        println!("const FIXTURE_KMS_KEY_ID: &str = \"{key_id}\";");
        println!(
            "const FIXTURE_KMS_MATERIAL: &str = \"{}\";",
            hex::encode(kms.material.expose())
        );
        println!(
            "const FIXTURE_WRAPPED_KMS_MATERIAL: &str = \"{}\";",
            hex::encode(wrapped)
        );
        println!(
            "const FIXTURE_SEALED_VALUE: &str = \"{}\";",
            hex::encode(sealed.encode())
        );
    }

    #[test]
    fn the_format_1_fixture_still_opens() {
        let bytes = |text: &str| hex::decode(text).expect("hex");
        let root = RootKey::new(KeyMaterial::from_slice(&bytes(FIXTURE_ROOT_KEY)).expect("key"));
        assert_eq!(hex::encode(root.check_value()), FIXTURE_CHECK_VALUE);

        let key_ref = fixture_key_ref(FIXTURE_KMS_KEY_ID);
        let wrapped = bytes(FIXTURE_WRAPPED_KMS_MATERIAL);
        let kms = KmsKey::unwrap(&root, key_ref, &wrapped).expect("unwrap KMS material");
        assert_eq!(hex::encode(kms.material.expose()), FIXTURE_KMS_MATERIAL);

        let sealed = SealedValue::decode(&bytes(FIXTURE_SEALED_VALUE)).expect("decode");
        assert_eq!(sealed.key_ref(), key_ref);
        let opened = open_secret_value(&kms, &fixture_context(), &sealed).expect("open");
        assert_eq!(&**opened, FIXTURE_PLAINTEXT.as_bytes());
    }

    proptest! {
        #[test]
        fn random_values_round_trip_and_random_corruptions_never_open(
            plaintext in prop::collection::vec(any::<u8>(), 0..600),
            context in prop::collection::btree_map(".{0,12}", ".{0,40}", 0..4),
            position in any::<prop::sample::Index>(),
            mask in 1u8..=255,
            cut in any::<prop::sample::Index>(),
        ) {
            let key = kms_key(1, 5);
            let encoded = seal_secret_value(&key, &context, &plaintext).expect("seal").encode();
            let decoded = SealedValue::decode(&encoded).expect("decode");
            let opened = open_secret_value(&key, &context, &decoded).expect("open");
            prop_assert_eq!(&**opened, &plaintext[..]);

            let mut flipped = encoded.clone();
            flipped[position.index(encoded.len())] ^= mask;
            for any_material in [false, true] {
                prop_assert!(open_stored(&flipped, &key, any_material, &context).is_err());
            }
            let truncated = &encoded[..cut.index(encoded.len())];
            prop_assert!(open_stored(truncated, &key, true, &context).is_err());
        }

        #[test]
        fn another_context_never_opens(
            context in prop::collection::btree_map(".{0,12}", ".{0,20}", 0..4),
            other in prop::collection::btree_map(".{0,12}", ".{0,20}", 0..4),
        ) {
            prop_assume!(context != other);
            let key = kms_key(1, 5);
            let sealed = seal_secret_value(&key, &context, b"value").expect("seal");
            prop_assert!(open_secret_value(&key, &other, &sealed).is_err());
        }
    }
}
