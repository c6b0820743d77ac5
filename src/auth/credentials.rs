//! Who may sign requests: the identities behind access keys, as the verifier needs them.
//!
//! The verifier ([`super`]) asks a [`CredentialSource`] for the secret of the access key a
//! request names; where credentials are kept (the store, encrypted under the root key) is the
//! source's business, not the verifier's.

use std::sync::Arc;

use async_trait::async_trait;

use crate::clock::Timestamp;
use crate::crypto::SecretString;
use crate::policy::Policy;
use crate::store::StoreError;

/// An IAM-style identity of one account: a user, or the account's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub account_id: String,
    /// `root` for the account's root identity.
    pub user_name: String,
    /// The unique id AWS calls `principalId` (`AIDA...` for users; the account id for root).
    pub user_id: String,
    /// `arn:aws:iam::<account>:user/<name>`, or `arn:aws:iam::<account>:root`.
    pub arn: String,
    pub is_root: bool,
}

impl Identity {
    /// The root identity of `account_id`.
    pub fn root(account_id: &str) -> Identity {
        Identity {
            account_id: account_id.to_owned(),
            user_name: "root".to_owned(),
            user_id: account_id.to_owned(),
            arn: format!("arn:aws:iam::{account_id}:root"),
            is_root: true,
        }
    }
}

/// What verifying one access key's signatures takes. Its secret never prints.
#[derive(Debug, Clone)]
pub struct AccessKeyCredential {
    pub access_key_id: String,
    pub secret_access_key: SecretString,
    /// Temporary credentials: the `X-Amz-Security-Token` the request must carry, and when
    /// they stop being valid.
    pub session_token: Option<SecretString>,
    pub expires_at: Option<Timestamp>,
    /// Whose key it is.
    pub identity: Identity,
    /// The identity policies of its user, parsed (empty for the root).
    pub policies: Arc<[Policy]>,
}

/// Finds the credential of an access key id.
#[async_trait]
pub trait CredentialSource: Send + Sync + 'static {
    /// The active credential with this access key id; `None` if there is none, or it is
    /// inactive, or its user is disabled or deleted (all of which AWS answers alike).
    async fn credential(
        &self,
        access_key_id: &str,
    ) -> Result<Option<AccessKeyCredential>, StoreError>;
}

/// Credentials held in memory, for tests.
#[derive(Debug, Clone, Default)]
pub struct StaticCredentials {
    by_access_key_id: std::collections::HashMap<String, AccessKeyCredential>,
}

impl StaticCredentials {
    pub fn new(credentials: impl IntoIterator<Item = AccessKeyCredential>) -> StaticCredentials {
        StaticCredentials {
            by_access_key_id: credentials
                .into_iter()
                .map(|credential| (credential.access_key_id.clone(), credential))
                .collect(),
        }
    }

    /// Long-term access keys of the root identity of `account_id`.
    pub fn root_keys<'a>(
        account_id: &str,
        keys: impl IntoIterator<Item = (&'a str, &'a SecretString)>,
    ) -> StaticCredentials {
        StaticCredentials::new(keys.into_iter().map(|(id, secret)| AccessKeyCredential {
            access_key_id: id.to_owned(),
            secret_access_key: secret.clone(),
            session_token: None,
            expires_at: None,
            identity: Identity::root(account_id),
            policies: Arc::from(Vec::new()),
        }))
    }

    /// A long-term access key of the IAM user `user_name` of `account_id`, with these
    /// identity policies (parsed documents).
    pub fn user_key(
        account_id: &str,
        user_name: &str,
        access_key_id: &str,
        secret: &SecretString,
        policies: Vec<Policy>,
    ) -> AccessKeyCredential {
        AccessKeyCredential {
            access_key_id: access_key_id.to_owned(),
            secret_access_key: secret.clone(),
            session_token: None,
            expires_at: None,
            identity: Identity {
                account_id: account_id.to_owned(),
                user_name: user_name.to_owned(),
                user_id: format!("AIDA{}", user_name.to_ascii_uppercase()),
                arn: format!("arn:aws:iam::{account_id}:user/{user_name}"),
                is_root: false,
            },
            policies: Arc::from(policies),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.by_access_key_id.is_empty()
    }
}

#[async_trait]
impl CredentialSource for StaticCredentials {
    async fn credential(
        &self,
        access_key_id: &str,
    ) -> Result<Option<AccessKeyCredential>, StoreError> {
        Ok(self.by_access_key_id.get(access_key_id).cloned())
    }
}

/// Remembers the credentials another source found, for at most `ttl` each: the verifier needs
/// one on every request, and reading it from the store (the key, its user, and opening the
/// sealed secret) costs more than the rest of a GetSecretValue. Only found credentials are
/// kept; an unknown key is looked up every time. A key disabled or deleted (on any node, or
/// by `coffer admin` in another process) stops working within `ttl`.
pub struct CachedCredentials {
    inner: std::sync::Arc<dyn CredentialSource>,
    clock: std::sync::Arc<dyn crate::clock::Clock>,
    ttl: std::time::Duration,
    entries: std::sync::Mutex<std::collections::HashMap<String, (Timestamp, AccessKeyCredential)>>,
}

impl CachedCredentials {
    /// Most credentials kept at once (the cache is emptied when full).
    pub const CAPACITY: usize = 4096;

    pub fn new(
        inner: std::sync::Arc<dyn CredentialSource>,
        clock: std::sync::Arc<dyn crate::clock::Clock>,
        ttl: std::time::Duration,
    ) -> CachedCredentials {
        CachedCredentials {
            inner,
            clock,
            ttl,
            entries: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }
}

#[async_trait]
impl CredentialSource for CachedCredentials {
    async fn credential(
        &self,
        access_key_id: &str,
    ) -> Result<Option<AccessKeyCredential>, StoreError> {
        let now = self.clock.now();
        if let Ok(entries) = self.entries.lock()
            && let Some((read_at, credential)) = entries.get(access_key_id)
            && *read_at <= now
            && now.since(*read_at) < self.ttl
        {
            return Ok(Some(credential.clone()));
        }
        let found = self.inner.credential(access_key_id).await?;
        if let Ok(mut entries) = self.entries.lock() {
            match &found {
                Some(credential) => {
                    if entries.len() >= CachedCredentials::CAPACITY {
                        entries.clear();
                    }
                    entries.insert(access_key_id.to_owned(), (now, credential.clone()));
                }
                None => {
                    entries.remove(access_key_id);
                }
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;
    use crate::clock::ManualClock;

    /// Counts lookups, and can forget its one key (as if it were disabled).
    struct Counting {
        lookups: AtomicUsize,
        present: std::sync::atomic::AtomicBool,
    }

    #[async_trait]
    impl CredentialSource for Counting {
        async fn credential(
            &self,
            access_key_id: &str,
        ) -> Result<Option<AccessKeyCredential>, StoreError> {
            self.lookups.fetch_add(1, Ordering::SeqCst);
            Ok(self
                .present
                .load(Ordering::SeqCst)
                .then(|| AccessKeyCredential {
                    access_key_id: access_key_id.to_owned(),
                    secret_access_key: SecretString::new("secret".into()),
                    session_token: None,
                    expires_at: None,
                    identity: Identity::root("123456789012"),
                    policies: Arc::from([]),
                }))
        }
    }

    #[tokio::test]
    async fn found_credentials_are_kept_for_the_ttl_and_no_longer() {
        let inner = Arc::new(Counting {
            lookups: AtomicUsize::new(0),
            present: std::sync::atomic::AtomicBool::new(true),
        });
        let clock = ManualClock::new(Timestamp::from_millis(1_700_000_000_000));
        let cached = CachedCredentials::new(inner.clone(), clock.clone(), Duration::from_secs(1));
        for _ in 0..5 {
            assert!(cached.credential("AKIA1").await.expect("lookup").is_some());
        }
        assert_eq!(inner.lookups.load(Ordering::SeqCst), 1);
        // Disabled meanwhile: still answered from the cache until the TTL ends, then refused.
        inner.present.store(false, Ordering::SeqCst);
        assert!(cached.credential("AKIA1").await.expect("lookup").is_some());
        clock.advance(Duration::from_millis(1_000));
        assert!(cached.credential("AKIA1").await.expect("lookup").is_none());
        assert!(cached.credential("AKIA1").await.expect("lookup").is_none());
        // Unknown keys are never cached.
        assert_eq!(inner.lookups.load(Ordering::SeqCst), 3);
    }
}
