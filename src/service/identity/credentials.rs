//! [`StoreCredentials`]: the [`CredentialSource`] of the SigV4 verifier, backed by the store.
//!
//! **Nothing is cached.** Every lookup reads the access key, and its user, from the store
//! (two indexed reads) and opens the sealed secret (one AES-GCM operation). So a key or user
//! that is disabled or deleted, on any node sharing the database or with `coffer admin`, stops
//! authenticating with the next request: there is no window at all. If the cost ever shows,
//! a cache must keep entries for at most a second.
//!
//! **Session tokens** are sealed under the root key like secrets (not hashed): the verifier
//! is handed the token in [`AccessKeyCredential::session_token`] and compares it with the
//! request's `X-Amz-Security-Token` in constant time ([`SecretString`]'s `==`).

use std::sync::Arc;

use async_trait::async_trait;

use super::model::{self, AccessKeyRecord};
use crate::auth::credentials::{AccessKeyCredential, CredentialSource, Identity};
use crate::clock::Clock;
use crate::crypto::keys::RootKey;
use crate::crypto::{SecretString, sealed_secret};
use crate::policy::{Policy, PolicyKind};
use crate::store::{Store, StoreError};

/// Credentials kept in a [`Store`], sealed under `root`.
pub struct StoreCredentials {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    root: RootKey,
}

impl StoreCredentials {
    /// Reads credentials from `store`; `root` must be the root key the store was checked
    /// against (`Keyring::check_root_key`), `clock` decides when temporary ones have expired.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, root: RootKey) -> StoreCredentials {
        StoreCredentials { store, clock, root }
    }

    /// The identity policies of a user, parsed: read with its key, so that a policy attached
    /// or detached applies from the next request on. One that no longer parses (each was
    /// checked when attached) fails the request rather than being ignored: it might deny.
    async fn policies_of(&self, user_id: &str) -> Result<Arc<[Policy]>, StoreError> {
        let stored = self.store.list_user_policies(user_id).await?;
        let mut policies = Vec::with_capacity(stored.len());
        for policy in stored {
            policies.push(
                crate::policy::parse(&policy.document, PolicyKind::Identity).map_err(|error| {
                    StoreError::Corrupt(format!(
                        "the policy {} of user {user_id} does not parse: {error}",
                        policy.name
                    ))
                })?,
            );
        }
        Ok(Arc::from(policies))
    }

    fn open(
        &self,
        key: &AccessKeyRecord,
        sealed: &[u8],
        context: &[u8],
    ) -> Result<SecretString, StoreError> {
        sealed_secret::open(&self.root, sealed, context).map_err(|error| {
            StoreError::Corrupt(format!(
                "the sealed secret of access key {} does not open: {error}",
                key.id
            ))
        })
    }
}

#[async_trait]
impl CredentialSource for StoreCredentials {
    async fn credential(
        &self,
        access_key_id: &str,
    ) -> Result<Option<AccessKeyCredential>, StoreError> {
        if !model::is_access_key_id(access_key_id) {
            return Ok(None);
        }
        let Some(key) = self.store.load_access_key(access_key_id).await? else {
            return Ok(None);
        };
        if !key.enabled {
            return Ok(None);
        }
        if key
            .expires_at
            .is_some_and(|expires_at| self.clock.now() >= expires_at)
        {
            return Ok(None);
        }
        let (identity, policies) = match &key.user_id {
            None => (Identity::root(&key.account_id), Arc::from(Vec::new())),
            Some(user_id) => match self.store.load_user_by_id(user_id).await? {
                Some(user) if user.enabled => {
                    let policies = self.policies_of(&user.id).await?;
                    let identity = Identity {
                        account_id: user.account_id,
                        user_name: user.name,
                        user_id: user.id,
                        arn: user.arn,
                        is_root: false,
                    };
                    (identity, policies)
                }
                _ => return Ok(None),
            },
        };
        let secret_access_key =
            self.open(&key, &key.sealed_secret, &model::secret_context(&key.id))?;
        let session_token = match &key.sealed_session_token {
            Some(sealed) => {
                Some(self.open(&key, sealed, &model::session_token_context(&key.id))?)
            }
            None => None,
        };
        Ok(Some(AccessKeyCredential {
            access_key_id: key.id,
            secret_access_key,
            session_token,
            expires_at: key.expires_at,
            identity,
            policies,
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::clock::{ManualClock, Timestamp};
    use crate::crypto::keys::KeyMaterial;
    use crate::service::identity::{Identities, ROOT_NAME};
    use crate::store::sqlite::SqliteStore;

    const ACCOUNT: &str = "123456789012";

    fn setup() -> (
        Identities,
        StoreCredentials,
        Arc<ManualClock>,
        Arc<dyn Store>,
    ) {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().expect("store"));
        let clock = ManualClock::new(Timestamp::from_millis(1_700_000_000_000));
        let root = RootKey::new(KeyMaterial::from_slice(&[3; 32]).expect("key"));
        let identities = Identities::new(Arc::clone(&store), clock.clone(), root.clone(), ACCOUNT);
        let credentials = StoreCredentials::new(Arc::clone(&store), clock.clone(), root);
        (identities, credentials, clock, store)
    }

    async fn lookup(credentials: &StoreCredentials, id: &str) -> Option<AccessKeyCredential> {
        credentials.credential(id).await.expect("lookup")
    }

    #[tokio::test]
    async fn user_keys_give_their_secret_and_identity_until_disabled_or_deleted() {
        let (identities, credentials, _, _) = setup();
        let user = identities.create_user("alice").await.expect("user");
        let key = identities.create_access_key("alice").await.expect("key");
        let found = lookup(&credentials, &key.access_key_id)
            .await
            .expect("found");
        assert_eq!(found.secret_access_key, key.secret_access_key);
        assert_eq!(found.session_token, None);
        assert_eq!(
            found.identity,
            Identity {
                account_id: ACCOUNT.into(),
                user_name: "alice".into(),
                user_id: user.id.clone(),
                arn: "arn:aws:iam::123456789012:user/alice".into(),
                is_root: false,
            }
        );

        identities
            .set_access_key_enabled(&key.access_key_id, false)
            .await
            .expect("disable key");
        assert!(lookup(&credentials, &key.access_key_id).await.is_none());
        identities
            .set_access_key_enabled(&key.access_key_id, true)
            .await
            .expect("enable key");
        assert!(lookup(&credentials, &key.access_key_id).await.is_some());

        identities
            .set_user_enabled("alice", false)
            .await
            .expect("disable");
        assert!(lookup(&credentials, &key.access_key_id).await.is_none());
        identities
            .set_user_enabled("alice", true)
            .await
            .expect("enable");
        assert!(lookup(&credentials, &key.access_key_id).await.is_some());

        identities.delete_user("alice").await.expect("delete");
        assert!(lookup(&credentials, &key.access_key_id).await.is_none());
        // A new user of the same name does not inherit the old keys.
        identities.create_user("alice").await.expect("again");
        assert!(lookup(&credentials, &key.access_key_id).await.is_none());
    }

    #[tokio::test]
    async fn unknown_and_deleted_keys_are_none() {
        let (identities, credentials, _, _) = setup();
        assert!(lookup(&credentials, "AKIAAAAAAAAAAAAAAAAA").await.is_none());
        assert!(lookup(&credentials, "not-a-key").await.is_none());
        assert!(lookup(&credentials, "").await.is_none());
        identities.create_user("bob").await.expect("user");
        let key = identities.create_access_key("bob").await.expect("key");
        identities
            .delete_access_key(&key.access_key_id)
            .await
            .expect("delete");
        assert!(lookup(&credentials, &key.access_key_id).await.is_none());
    }

    #[tokio::test]
    async fn root_keys_are_the_root_identity_and_bootstrap_once() {
        let (identities, credentials, _, _) = setup();
        let first = identities.bootstrap_root().await.expect("bootstrap");
        let first = first.expect("the first bootstrap creates a key");
        assert!(identities.bootstrap_root().await.expect("again").is_none());
        let found = lookup(&credentials, &first.access_key_id)
            .await
            .expect("found");
        assert_eq!(found.identity, Identity::root(ACCOUNT));
        assert_eq!(found.secret_access_key, first.secret_access_key);
        let listed = identities.list_access_keys(ROOT_NAME).await.expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].id, first.access_key_id);
    }

    #[tokio::test]
    async fn sessions_carry_their_token_until_they_expire() {
        let (identities, credentials, clock, _) = setup();
        identities.create_user("carol").await.expect("user");
        let session = identities
            .create_session("carol", Duration::from_secs(3600))
            .await
            .expect("session");
        assert!(session.access_key_id.starts_with("ASIA"));
        let found = lookup(&credentials, &session.access_key_id)
            .await
            .expect("found");
        assert_eq!(found.session_token, session.session_token);
        assert!(found.session_token.is_some());
        assert_eq!(found.expires_at, session.expires_at);
        clock.advance(Duration::from_secs(3599));
        assert!(lookup(&credentials, &session.access_key_id).await.is_some());
        clock.advance(Duration::from_secs(1));
        assert!(lookup(&credentials, &session.access_key_id).await.is_none());
        for bad in [Duration::from_secs(60), Duration::from_secs(37 * 3600)] {
            assert!(identities.create_session("carol", bad).await.is_err());
        }
    }

    #[tokio::test]
    async fn a_secret_moved_to_another_key_or_another_root_key_does_not_open() {
        let (identities, credentials, _, store) = setup();
        identities.create_user("dave").await.expect("user");
        let a = identities.create_access_key("dave").await.expect("a");
        let b = identities.create_access_key("dave").await.expect("b");
        let mut record_b = store
            .load_access_key(&b.access_key_id)
            .await
            .expect("load")
            .expect("b");
        let record_a = store
            .load_access_key(&a.access_key_id)
            .await
            .expect("load")
            .expect("a");
        record_b.sealed_secret = record_a.sealed_secret;
        store
            .delete_access_key(&b.access_key_id)
            .await
            .expect("delete");
        store.create_access_key(&record_b).await.expect("reinsert");
        assert!(matches!(
            credentials.credential(&b.access_key_id).await,
            Err(StoreError::Corrupt(_))
        ));
        let other_root = RootKey::new(KeyMaterial::from_slice(&[4; 32]).expect("key"));
        let stranger = StoreCredentials::new(
            Arc::clone(&store),
            ManualClock::new(Timestamp::from_millis(0)),
            other_root,
        );
        assert!(stranger.credential(&a.access_key_id).await.is_err());
    }

    #[tokio::test]
    async fn names_and_policies_follow_the_rules() {
        let (identities, _, _, _) = setup();
        identities.create_user("Erin").await.expect("user");
        assert!(matches!(
            identities.create_user("erin").await,
            Err(crate::service::identity::IdentityError::UserExists(_))
        ));
        for bad in ["root", "ROOT", "", "a b", "x/y"] {
            assert!(identities.create_user(bad).await.is_err(), "{bad}");
        }
        assert_eq!(identities.user("ERIN").await.expect("found").name, "Erin");
        let document = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#;
        identities
            .attach_policy("Erin", "read", document)
            .await
            .expect("attach");
        let resource_policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#;
        assert!(
            identities
                .attach_policy("Erin", "bad", resource_policy)
                .await
                .is_err()
        );
        assert!(identities.attach_policy("Erin", "bad", "{").await.is_err());
        assert!(
            identities
                .attach_policy("nobody", "p", document)
                .await
                .is_err()
        );
        let listed = identities.list_policies("Erin").await.expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].document, document);
        identities
            .detach_policy("Erin", "read")
            .await
            .expect("detach");
        assert!(identities.detach_policy("Erin", "read").await.is_err());
    }
}
