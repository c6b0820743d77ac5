//! The keyring: finding KMS keys by any of the names KMS accepts, the managed key
//! `aws/secretsmanager`, new keys and new material, and the unwrapped material of keys.
//!
//! **Caches.** Unwrapping a key's material costs one AES-GCM operation under the root key;
//! loading a key record costs a database read. GetSecretValue needs both on every call, so
//! both are cached here, per node:
//!
//! - unwrapped material ([`KmsKey`], wiped on drop) by key id and material version, with the
//!   wrapped bytes it came from: a hit needs them equal to the stored ones, so a cached entry
//!   can only ever be the unwrap of exactly those bytes; at most [`MATERIAL_CACHE_LIMIT`] entries (the cache is emptied when full);
//! - key records for reads ([`Keyring::record_for_read`]) for [`RECORD_TTL`]. Every change
//!   of a key made through this node replaces its entry at once, so this node never acts on
//!   a state older than its own last change. A change made through another node sharing a
//!   PostgreSQL database is seen here within [`RECORD_TTL`]: a key disabled there may still
//!   decrypt here for that long. Writes (which must encrypt under an enabled key) always load
//!   the record afresh.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use uuid::Uuid;

use super::model::{KeyManager, KeyState, KmsAlias, KmsKeyRecord, MaterialRecord, alias_arn};
use crate::clock::{Clock, Timestamp};
use crate::crypto::CryptoError;
use crate::crypto::envelope::{KeyRef, KmsKey};
use crate::crypto::keys::RootKey;
use crate::crypto::root_key;
use crate::service::model::Scope;
use crate::store::{Store, StoreError};

/// The alias of the key Secrets Manager uses when a secret names none.
pub const MANAGED_ALIAS: &str = "alias/aws/secretsmanager";
/// The description AWS gives that key.
pub const MANAGED_DESCRIPTION: &str =
    "Default key that protects my Secrets Manager data when no other key is defined";
/// The setting that holds the root key's check value.
pub const ROOT_KEY_CHECK_SETTING: &str = "root-key-check-value";
/// How long a key record read for a decryption is trusted without reading it again.
pub const RECORD_TTL: Duration = Duration::from_secs(1);
/// Most unwrapped materials kept at once.
pub const MATERIAL_CACHE_LIMIT: usize = 4096;
/// How often the managed key's creation is retried after losing a race to another node.
const MANAGED_KEY_ATTEMPTS: u32 = 5;

/// A cached unwrap: the wrapped bytes it came from, and the material.
type CachedMaterial = (Vec<u8>, Arc<KmsKey>);

pub struct Keyring {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    root: RootKey,
    materials: Mutex<HashMap<(Uuid, u32), CachedMaterial>>,
    records: Mutex<HashMap<Uuid, (Timestamp, Arc<KmsKeyRecord>)>>,
}

/// How a `KeyId` names a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyName<'a> {
    /// A key id (a UUID) or a key ARN.
    Key(Uuid),
    /// `alias/...` or an alias ARN (the name, `alias/` included).
    Alias(&'a str),
}

/// Reads a `KeyId` as KMS does: a key id, a key ARN, an alias name or an alias ARN. An ARN of
/// another account or region names nothing here (`None`), as does a malformed one.
pub fn parse_key_name<'a>(scope: &Scope, key_id: &'a str) -> Option<KeyName<'a>> {
    if let Some(rest) = key_id.strip_prefix("arn:") {
        // arn:<partition>:kms:<region>:<account>:<resource>
        let mut parts = rest.splitn(5, ':');
        let _partition = parts.next()?;
        let service = parts.next()?;
        let region = parts.next()?;
        let account = parts.next()?;
        let resource = parts.next()?;
        if service != "kms" || region != scope.region || account != scope.account_id {
            return None;
        }
        if let Some(id) = resource.strip_prefix("key/") {
            return Uuid::try_parse(id).ok().map(KeyName::Key);
        }
        return resource
            .starts_with("alias/")
            .then_some(KeyName::Alias(resource));
    }
    if key_id.starts_with("alias/") {
        return Some(KeyName::Alias(key_id));
    }
    Uuid::try_parse(key_id).ok().map(KeyName::Key)
}

impl Keyring {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, root: RootKey) -> Keyring {
        Keyring {
            store,
            clock,
            root,
            materials: Mutex::new(HashMap::new()),
            records: Mutex::new(HashMap::new()),
        }
    }

    /// Refuses a root key that is not the database's: the database keeps the check value of
    /// the root key it was first started with (stored atomically on first start, so nodes
    /// starting together on an empty database agree on one), and every later start compares.
    pub async fn check_root_key(&self) -> Result<(), String> {
        let ours = self.root.check_value();
        let stored = self
            .store
            .setting(ROOT_KEY_CHECK_SETTING, ours.to_vec())
            .await
            .map_err(|error| format!("cannot read the root key check value: {error}"))?;
        let stored: [u8; 32] = stored
            .try_into()
            .map_err(|_| "the database's root key check value is corrupt".to_owned())?;
        root_key::verify_check_value(&self.root, Some(stored))
            .map(|_| ())
            .map_err(|error| error.to_string())
    }

    /// The key a `KeyId` names in `scope` (fresh from the store), if any.
    pub async fn find(
        &self,
        scope: &Scope,
        key_id: &str,
    ) -> Result<Option<KmsKeyRecord>, StoreError> {
        let id = match parse_key_name(scope, key_id) {
            None => return Ok(None),
            Some(KeyName::Key(id)) => id,
            Some(KeyName::Alias(name)) => match self.store.load_kms_alias(scope, name).await? {
                Some(alias) => alias.key_id,
                // The managed key's alias exists once something used it; naming it before
                // that is naming a key that will exist, so create it now, as AWS does.
                None if name == MANAGED_ALIAS => {
                    return self.managed_key(scope).await.map(Some);
                }
                None => return Ok(None),
            },
        };
        let record = self.store.load_kms_key(id).await?;
        let record = record.filter(|record| record.in_scope(scope));
        if let Some(record) = &record {
            self.remember(record.clone());
        }
        Ok(record)
    }

    /// The managed key `aws/secretsmanager` of `scope`, created on first use. Nodes that
    /// create it at the same time agree on one: the alias is created with the key, in one
    /// transaction, and the loser reads the winner's.
    pub async fn managed_key(&self, scope: &Scope) -> Result<KmsKeyRecord, StoreError> {
        for _ in 0..MANAGED_KEY_ATTEMPTS {
            if let Some(alias) = self.store.load_kms_alias(scope, MANAGED_ALIAS).await?
                && let Some(record) = self.store.load_kms_key(alias.key_id).await?
            {
                self.remember(record.clone());
                return Ok(record);
            }
            let now = self.clock.now();
            let mut record = self
                .new_key(scope, MANAGED_DESCRIPTION.to_owned(), KeyManager::Aws, None)
                .map_err(|error| StoreError::Backend(error.to_string()))?;
            // AWS rotates its managed keys every year.
            record.rotation_period_days = Some(365);
            record.next_rotation_at = Some(now.plus_days(365));
            let alias = KmsAlias {
                account_id: scope.account_id.clone(),
                region: scope.region.clone(),
                name: MANAGED_ALIAS.to_owned(),
                key_id: record.id,
                created_at: now,
                updated_at: now,
            };
            // Not the change of the call that needed the key: that call's event goes with its
            // own write.
            let created =
                crate::audit::unattributed(self.store.create_kms_key(&record, Some(&alias))).await;
            match created {
                Ok(()) => {
                    tracing::info!(
                        account_id = %scope.account_id,
                        region = %scope.region,
                        key_id = %record.id,
                        "created the managed key aws/secretsmanager"
                    );
                    self.remember(record.clone());
                    return Ok(record);
                }
                // Another request (or node) created it first: read theirs.
                Err(StoreError::AliasConflict) => continue,
                Err(error) => return Err(error),
            }
        }
        Err(StoreError::Backend(
            "the managed key aws/secretsmanager could not be created or read".into(),
        ))
    }

    /// A new key record (not yet stored) with fresh material, version 1. `policy`: the key
    /// policy, or the default one that grants the account's root.
    pub fn new_key(
        &self,
        scope: &Scope,
        description: String,
        manager: KeyManager,
        policy: Option<String>,
    ) -> Result<KmsKeyRecord, CryptoError> {
        let id = Uuid::new_v4();
        let now = self.clock.now();
        let policy = policy.unwrap_or_else(|| match manager {
            KeyManager::Customer => default_key_policy(&scope.account_id),
            KeyManager::Aws => managed_key_policy(&scope.account_id, &scope.region),
        });
        let mut record = KmsKeyRecord {
            id,
            account_id: scope.account_id.clone(),
            region: scope.region.clone(),
            revision: 0,
            created_at: now,
            description,
            state: KeyState::Enabled,
            deletion_at: None,
            pending_window_days: None,
            manager,
            policy,
            rotation_period_days: None,
            next_rotation_at: None,
            on_demand_rotation_at: None,
            materials: Vec::new(),
            tags: Vec::new(),
        };
        self.add_material(&mut record, now, false)?;
        Ok(record)
    }

    /// Adds a new material version to `record` (a rotation): new encryptions use it, and
    /// every older version still decrypts what it encrypted.
    pub fn add_material(
        &self,
        record: &mut KmsKeyRecord,
        now: Timestamp,
        on_demand: bool,
    ) -> Result<(), CryptoError> {
        let version = record.materials.last().map_or(1, |m| m.version + 1);
        let key = KmsKey::generate(KeyRef {
            key_id: record.id,
            material_version: version,
        })?;
        record.materials.push(MaterialRecord {
            version,
            created_at: now,
            wrapped: key.wrap(&self.root)?,
            on_demand,
        });
        Ok(())
    }

    /// The unwrapped material of one version of `record`'s key.
    pub fn material(
        &self,
        record: &KmsKeyRecord,
        version: u32,
    ) -> Result<Arc<KmsKey>, CryptoError> {
        let stored = record.material(version).ok_or(CryptoError::Malformed {
            what: "KMS key",
            reason: "the ciphertext names a material version the key does not have",
        })?;
        // A hit counts only for the very bytes stored now (no copy of them on the read path).
        if let Ok(cache) = self.materials.lock()
            && let Some((wrapped, key)) = cache.get(&(record.id, version))
            && *wrapped == stored.wrapped
        {
            return Ok(Arc::clone(key));
        }
        let key = Arc::new(KmsKey::unwrap(
            &self.root,
            KeyRef {
                key_id: record.id,
                material_version: version,
            },
            &stored.wrapped,
        )?);
        if let Ok(mut cache) = self.materials.lock() {
            if cache.len() >= MATERIAL_CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(
                (record.id, version),
                (stored.wrapped.clone(), Arc::clone(&key)),
            );
        }
        Ok(key)
    }

    /// The material that encrypts now.
    pub fn current_material(&self, record: &KmsKeyRecord) -> Result<Arc<KmsKey>, CryptoError> {
        let version =
            record
                .current_material()
                .map(|m| m.version)
                .ok_or(CryptoError::Malformed {
                    what: "KMS key",
                    reason: "the key has no material",
                })?;
        self.material(record, version)
    }

    /// A key record for a decryption: from the cache if it was read less than
    /// [`RECORD_TTL`] ago (see the module docs), otherwise from the store.
    pub async fn record_for_read(&self, id: Uuid) -> Result<Option<Arc<KmsKeyRecord>>, StoreError> {
        let now = self.clock.now();
        if let Ok(cache) = self.records.lock()
            && let Some((read_at, record)) = cache.get(&id)
            && now.since(*read_at) < RECORD_TTL
            && *read_at <= now
        {
            return Ok(Some(Arc::clone(record)));
        }
        match self.store.load_kms_key(id).await? {
            Some(record) => Ok(Some(self.remember(record))),
            None => {
                self.forget(id);
                Ok(None)
            }
        }
    }

    /// Saves a changed key (compare-and-swap on its revision) and refreshes this node's
    /// cache with the saved state.
    pub async fn save(&self, record: &KmsKeyRecord) -> Result<KmsKeyRecord, StoreError> {
        let result = self.store.save_kms_key(record).await;
        match result {
            Ok(()) => {
                let mut saved = record.clone();
                saved.revision += 1;
                self.remember(saved.clone());
                Ok(saved)
            }
            Err(error) => {
                self.forget(record.id);
                Err(error)
            }
        }
    }

    /// Deletes a key (and its aliases) and forgets it.
    pub async fn delete(&self, id: Uuid, revision: i64) -> Result<(), StoreError> {
        let result = self.store.delete_kms_key(id, revision).await;
        self.forget(id);
        result
    }

    fn remember(&self, record: KmsKeyRecord) -> Arc<KmsKeyRecord> {
        let record = Arc::new(record);
        if let Ok(mut cache) = self.records.lock() {
            if cache.len() >= MATERIAL_CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(record.id, (self.clock.now(), Arc::clone(&record)));
        }
        record
    }

    fn forget(&self, id: Uuid) {
        if let Ok(mut cache) = self.records.lock() {
            cache.remove(&id);
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }
}

/// The default key policy of a customer managed key: the account's root (and so, through
/// IAM policies, the account's users) may do everything with it.
pub fn default_key_policy(account_id: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [{
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{account_id}:root")},
            "Action": "kms:*",
            "Resource": "*"
        }]
    })
    .to_string()
}

/// The policy of the managed key: any principal of the account may use it, but only through
/// Secrets Manager, and may read its description.
pub fn managed_key_policy(account_id: &str, region: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Id": "auto-secretsmanager-1",
        "Statement": [
            {
                "Sid": "Allow use of the key through Secrets Manager by principals of the account",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": [
                    "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*",
                    "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey"
                ],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:CallerAccount": account_id,
                        "kms:ViaService": format!("secretsmanager.{region}.amazonaws.com")
                    }
                }
            },
            {
                "Sid": "Allow direct read access to the key metadata",
                "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{account_id}:root")},
                "Action": ["kms:Describe*", "kms:Get*", "kms:List*"],
                "Resource": "*"
            }
        ]
    })
    .to_string()
}

/// The ARN of the managed key's alias in `scope`.
pub fn managed_alias_arn(scope: &Scope) -> String {
    alias_arn(&scope.region, &scope.account_id, MANAGED_ALIAS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope {
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
        }
    }

    #[test]
    fn key_names_are_read_as_kms_reads_them() {
        let id = Uuid::new_v4();
        let scope = scope();
        assert_eq!(
            parse_key_name(&scope, &id.to_string()),
            Some(KeyName::Key(id))
        );
        assert_eq!(
            parse_key_name(
                &scope,
                &format!("arn:aws:kms:us-east-1:123456789012:key/{id}")
            ),
            Some(KeyName::Key(id))
        );
        assert_eq!(
            parse_key_name(&scope, "alias/app"),
            Some(KeyName::Alias("alias/app"))
        );
        assert_eq!(
            parse_key_name(&scope, "arn:aws:kms:us-east-1:123456789012:alias/app"),
            Some(KeyName::Alias("alias/app"))
        );
        // Another region or account, another service, or no key at all.
        for other in [
            format!("arn:aws:kms:eu-west-1:123456789012:key/{id}"),
            format!("arn:aws:kms:us-east-1:210987654321:key/{id}"),
            format!("arn:aws:s3:us-east-1:123456789012:key/{id}"),
            "arn:aws:kms:us-east-1:123456789012:key/not-a-uuid".to_owned(),
            "not-a-key".to_owned(),
            String::new(),
        ] {
            assert_eq!(parse_key_name(&scope, &other), None, "{other}");
        }
    }
}
