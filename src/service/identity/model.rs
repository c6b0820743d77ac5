//! The records of identities as the store keeps them, and the formats of their ids, names and
//! secrets.

use rand::TryRngCore;
use rand::rngs::OsRng;

use crate::clock::Timestamp;
use crate::crypto::{CryptoError, SecretString};

/// An IAM user of one account. Its name and id never change; `enabled` does (under CAS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// `AIDA` and 17 characters.
    pub id: String,
    pub account_id: String,
    /// Unique per account regardless of case, as in IAM.
    pub name: String,
    pub arn: String,
    pub enabled: bool,
    pub created_at: Timestamp,
    /// Bumped by every save; a save names the revision it started from.
    pub revision: i64,
}

/// An access key: long-term (`AKIA...`) or temporary (`ASIA...`, with a session token and an
/// expiry). Its secret (and session token) are sealed under the root key
/// ([`crate::crypto::sealed_secret`]), bound to the key's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKeyRecord {
    pub id: String,
    pub account_id: String,
    /// The user it belongs to; `None` for the account's root.
    pub user_id: Option<String>,
    /// `Active` (true) or `Inactive`.
    pub enabled: bool,
    pub sealed_secret: Vec<u8>,
    pub sealed_session_token: Option<Vec<u8>>,
    pub expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

/// An inline identity policy of a user, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPolicy {
    pub user_id: String,
    pub name: String,
    pub document: String,
    pub updated_at: Timestamp,
}

/// The outcome of [`crate::store::Store::bootstrap_root_key`]: the account's first root key
/// (the one given if `created`, another caller's otherwise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootBootstrap {
    pub created: bool,
    pub access_key_id: String,
}

/// The prefix of long-term access key ids.
pub const LONG_TERM_PREFIX: &str = "AKIA";
/// The prefix of temporary access key ids.
pub const TEMPORARY_PREFIX: &str = "ASIA";
/// The prefix of user ids.
pub const USER_ID_PREFIX: &str = "AIDA";
/// The characters of ids after their prefix (AWS's ids are uppercase base32).
const ID_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
/// The characters of secret access keys and session tokens (base64's).
const SECRET_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
pub const SECRET_LEN: usize = 40;
pub const SESSION_TOKEN_LEN: usize = 128;
/// IAM's limit on user and policy names.
pub const MAX_NAME_LEN: usize = 64;

/// `len` characters drawn uniformly from `alphabet` (whose length divides 256, so masking a
/// random byte has no bias) with the operating system's CSPRNG.
fn random_chars(alphabet: &[u8], len: usize) -> Result<String, CryptoError> {
    debug_assert!(alphabet.len().is_power_of_two() && alphabet.len() <= 256);
    let mut bytes = zeroize::Zeroizing::new(vec![0u8; len]);
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|error| CryptoError::Randomness(error.to_string()))?;
    let mask = alphabet.len() - 1;
    Ok(bytes
        .iter()
        .map(|byte| char::from(alphabet[usize::from(*byte) & mask]))
        .collect())
}

/// A new access key id: `AKIA` (or `ASIA` if `temporary`) and 16 characters.
pub fn new_access_key_id(temporary: bool) -> Result<String, CryptoError> {
    let prefix = if temporary {
        TEMPORARY_PREFIX
    } else {
        LONG_TERM_PREFIX
    };
    Ok(format!("{prefix}{}", random_chars(ID_ALPHABET, 16)?))
}

/// A new user id: `AIDA` and 17 characters.
pub fn new_user_id() -> Result<String, CryptoError> {
    Ok(format!(
        "{USER_ID_PREFIX}{}",
        random_chars(ID_ALPHABET, 17)?
    ))
}

/// A new secret access key: 40 characters of base64's alphabet (240 bits).
pub fn new_secret() -> Result<SecretString, CryptoError> {
    random_chars(SECRET_ALPHABET, SECRET_LEN).map(SecretString::new)
}

/// A new session token: 128 characters of base64's alphabet.
pub fn new_session_token() -> Result<SecretString, CryptoError> {
    random_chars(SECRET_ALPHABET, SESSION_TOKEN_LEN).map(SecretString::new)
}

/// Whether `name` is a valid IAM user or policy name: 1 to 64 characters of `[\w+=,.@-]`
/// (ASCII letters, digits and `_+=,.@-`).
pub fn is_valid_name(name: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b))
}

/// Whether `id` has the form of an access key id Coffer makes.
pub fn is_access_key_id(id: &str) -> bool {
    id.len() == 20
        && (id.starts_with(LONG_TERM_PREFIX) || id.starts_with(TEMPORARY_PREFIX))
        && id.bytes().skip(4).all(|b| ID_ALPHABET.contains(&b))
}

/// `arn:aws:iam::<account>:user/<name>`.
pub fn user_arn(account_id: &str, name: &str) -> String {
    format!("arn:aws:iam::{account_id}:user/{name}")
}

/// The sealing context of an access key's secret: what it is and whose.
pub fn secret_context(access_key_id: &str) -> Vec<u8> {
    [b"secret-access-key\0".as_slice(), access_key_id.as_bytes()].concat()
}

/// The sealing context of a temporary key's session token.
pub fn session_token_context(access_key_id: &str) -> Vec<u8> {
    [b"session-token\0".as_slice(), access_key_id.as_bytes()].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_look_like_aws_ids_and_differ() {
        let long = new_access_key_id(false).expect("rng");
        let temporary = new_access_key_id(true).expect("rng");
        let user = new_user_id().expect("rng");
        assert!(long.starts_with("AKIA") && long.len() == 20, "{long}");
        assert!(temporary.starts_with("ASIA") && temporary.len() == 20);
        assert!(user.starts_with("AIDA") && user.len() == 21, "{user}");
        for id in [&long, &temporary, &user] {
            assert!(
                id.bytes()
                    .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
            );
        }
        assert!(is_access_key_id(&long) && is_access_key_id(&temporary));
        assert!(!is_access_key_id(&user));
        assert!(!is_access_key_id("AKIA0000000000000000"));
        assert_ne!(long, new_access_key_id(false).expect("rng"));
        assert_ne!(user, new_user_id().expect("rng"));
    }

    #[test]
    fn secrets_are_40_base64_characters_and_use_the_whole_alphabet() {
        let secret = new_secret().expect("rng");
        assert_eq!(secret.expose().len(), 40);
        assert_ne!(secret, new_secret().expect("rng"));
        let token = new_session_token().expect("rng");
        assert_eq!(token.expose().len(), SESSION_TOKEN_LEN);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            seen.extend(new_secret().expect("rng").expose().bytes());
        }
        assert_eq!(seen.len(), 64, "every character of the alphabet appears");
        assert!(seen.iter().all(|b| SECRET_ALPHABET.contains(b)));
    }

    #[test]
    fn names_follow_iam_rules() {
        for good in [
            "a",
            "alice",
            "Bob_2",
            "ci+deploy=x,y.z@example.com-1",
            &"n".repeat(64),
        ] {
            assert!(is_valid_name(good), "{good}");
        }
        for bad in [
            "",
            "with space",
            "slash/",
            "colon:",
            "é",
            "tab\t",
            &"n".repeat(65),
        ] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn arns_and_contexts() {
        assert_eq!(
            user_arn("123456789012", "alice"),
            "arn:aws:iam::123456789012:user/alice"
        );
        assert_ne!(secret_context("AKIA1"), session_token_context("AKIA1"));
        assert_ne!(secret_context("AKIA1"), secret_context("AKIA2"));
    }
}
