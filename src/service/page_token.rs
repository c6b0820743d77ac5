//! Page tokens that clients cannot forge.
//!
//! A token carries where a listing stands and a fingerprint of the query it belongs to, sealed
//! with an HMAC-SHA-256 under a key kept in the store (so every node of a deployment, and the
//! same node after a restart, accepts the tokens of the others). A token that was altered, or
//! that belongs to another query, is refused as `InvalidNextTokenException`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::protocol::{ApiError, ErrorCode};

/// The name of the setting that holds the sealing key.
pub const KEY_SETTING: &str = "page-token-key";
/// Bytes of the MAC kept in a token.
const MAC_BYTES: usize = 16;

#[derive(Clone)]
pub struct Sealer {
    key: zeroize::Zeroizing<Vec<u8>>,
}

#[derive(Serialize, serde::Deserialize)]
struct Envelope<P> {
    /// Fingerprint of the query.
    q: String,
    /// Where the listing stands.
    p: P,
}

impl Sealer {
    pub fn new(key: Vec<u8>) -> Sealer {
        Sealer {
            key: zeroize::Zeroizing::new(key),
        }
    }

    fn mac(&self, payload: &[u8]) -> Result<Vec<u8>, ApiError> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).map_err(ApiError::internal)?;
        mac.update(payload);
        Ok(mac.finalize().into_bytes()[..MAC_BYTES].to_vec())
    }

    pub fn seal<P: Serialize>(&self, query: &str, position: &P) -> Result<String, ApiError> {
        let payload = serde_json::to_vec(&Envelope {
            q: fingerprint(query),
            p: position,
        })
        .map_err(ApiError::internal)?;
        let mac = self.mac(&payload)?;
        Ok(format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(mac)
        ))
    }

    pub fn open<P: DeserializeOwned>(&self, query: &str, token: &str) -> Result<P, ApiError> {
        let invalid = || {
            ApiError::new(
                ErrorCode::InvalidNextTokenException,
                "The NextToken value is invalid.",
            )
        };
        let (payload, mac) = token.split_once('.').ok_or_else(invalid)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| invalid())?;
        let mac = URL_SAFE_NO_PAD.decode(mac).map_err(|_| invalid())?;
        let mut check = Hmac::<Sha256>::new_from_slice(&self.key).map_err(ApiError::internal)?;
        check.update(&payload);
        check.verify_truncated_left(&mac).map_err(|_| invalid())?;
        if mac.len() != MAC_BYTES {
            return Err(invalid());
        }
        let envelope: Envelope<P> = serde_json::from_slice(&payload).map_err(|_| invalid())?;
        if envelope.q != fingerprint(query) {
            return Err(invalid());
        }
        Ok(envelope.p)
    }
}

fn fingerprint(query: &str) -> String {
    let digest = Sha256::digest(query.as_bytes());
    digest[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer() -> Sealer {
        Sealer::new(vec![7; 32])
    }

    #[test]
    fn a_sealed_position_opens_for_the_same_query() {
        let token = sealer().seal("q1", &(42_i64, "x")).expect("seal");
        let opened: (i64, String) = sealer().open("q1", &token).expect("open");
        assert_eq!(opened, (42, "x".to_owned()));
    }

    #[test]
    fn tokens_of_another_query_or_key_are_refused() {
        let token = sealer().seal("q1", &1_i64).expect("seal");
        let other_query = sealer().open::<i64>("q2", &token);
        assert!(other_query.is_err());
        let other_key = Sealer::new(vec![8; 32]).open::<i64>("q1", &token);
        assert!(other_key.is_err());
    }

    #[test]
    fn any_altered_character_is_refused() {
        let token = sealer().seal("q", &123_456_i64).expect("seal");
        for index in 0..token.len() {
            let mut bytes = token.clone().into_bytes();
            bytes[index] = if bytes[index] == b'A' { b'B' } else { b'A' };
            let forged = String::from_utf8(bytes).expect("ascii");
            if forged == token {
                continue;
            }
            let opened = sealer().open::<i64>("q", &forged);
            assert!(
                opened.is_err_and(|e| e.code() == ErrorCode::InvalidNextTokenException),
                "{forged}"
            );
        }
        for garbage in ["", ".", "abc", "a.b", "versions-below:3"] {
            assert!(sealer().open::<i64>("q", garbage).is_err());
        }
    }
}
