//! KMS keys and aliases as they are stored: the records the [`Store`](crate::store::Store)
//! keeps for the key service, with no rules of their own beyond what they derive.

use uuid::Uuid;

use crate::clock::Timestamp;
use crate::service::model::Scope;

/// The state of a KMS key, named as KMS names it (`KeyState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum KeyState {
    Enabled,
    Disabled,
    PendingDeletion,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Enabled => "Enabled",
            KeyState::Disabled => "Disabled",
            KeyState::PendingDeletion => "PendingDeletion",
        }
    }
}

/// Who manages a key: AWS (the managed key `aws/secretsmanager`) or the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum KeyManager {
    Aws,
    Customer,
}

/// One version of a key's material, wrapped by the root key (never stored in the clear).
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MaterialRecord {
    /// 1 for the material the key was created with, then one more per rotation.
    pub version: u32,
    pub created_at: Timestamp,
    /// [`crate::crypto::envelope::KmsKey::wrap`]'s output: ciphertext under the root key.
    #[serde(with = "base64_bytes")]
    pub wrapped: Vec<u8>,
    /// Made by RotateKeyOnDemand rather than by the rotation schedule or at creation.
    pub on_demand: bool,
}

impl std::fmt::Debug for MaterialRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MaterialRecord")
            .field("version", &self.version)
            .field("created_at", &self.created_at)
            .field("wrapped_len", &self.wrapped.len())
            .field("on_demand", &self.on_demand)
            .finish()
    }
}

/// A symmetric KMS key (`SYMMETRIC_DEFAULT`, `ENCRYPT_DECRYPT`, origin `AWS_KMS`: the only
/// kind Coffer makes).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KmsKeyRecord {
    pub id: Uuid,
    pub account_id: String,
    pub region: String,
    /// The revision this record was loaded at; the store bumps it on every save.
    pub revision: i64,
    pub created_at: Timestamp,
    pub description: String,
    pub state: KeyState,
    /// When a key pending deletion is deleted, and the window that was asked for.
    pub deletion_at: Option<Timestamp>,
    pub pending_window_days: Option<u32>,
    pub manager: KeyManager,
    /// The key policy document (JSON text).
    pub policy: String,
    /// The rotation period in days when automatic rotation is on.
    pub rotation_period_days: Option<u32>,
    /// When the rotation schedule next adds material.
    pub next_rotation_at: Option<Timestamp>,
    /// When the last on-demand rotation started.
    pub on_demand_rotation_at: Option<Timestamp>,
    /// Every material version, oldest first; the last one encrypts.
    pub materials: Vec<MaterialRecord>,
    pub tags: Vec<(String, String)>,
}

impl KmsKeyRecord {
    pub fn scope(&self) -> Scope {
        Scope {
            account_id: self.account_id.clone(),
            region: self.region.clone(),
        }
    }

    pub fn in_scope(&self, scope: &Scope) -> bool {
        self.account_id == scope.account_id && self.region == scope.region
    }

    /// `arn:aws:kms:<region>:<account>:key/<id>`.
    pub fn arn(&self) -> String {
        key_arn(&self.region, &self.account_id, self.id)
    }

    /// The material that encrypts now.
    pub fn current_material(&self) -> Option<&MaterialRecord> {
        self.materials.last()
    }

    pub fn material(&self, version: u32) -> Option<&MaterialRecord> {
        self.materials.iter().find(|m| m.version == version)
    }

    /// When a background job must next look at this key: its deletion or its next scheduled
    /// rotation, whichever comes first.
    pub fn due_at(&self) -> Option<Timestamp> {
        match (self.deletion_at, self.next_rotation_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

pub fn key_arn(region: &str, account_id: &str, id: Uuid) -> String {
    format!("arn:aws:kms:{region}:{account_id}:key/{id}")
}

pub fn alias_arn(region: &str, account_id: &str, name: &str) -> String {
    format!("arn:aws:kms:{region}:{account_id}:{name}")
}

/// An alias (`alias/...`) and the key it points at, in one account and region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsAlias {
    pub account_id: String,
    pub region: String,
    /// The full name, `alias/` included.
    pub name: String,
    pub key_id: Uuid,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl KmsAlias {
    pub fn arn(&self) -> String {
        alias_arn(&self.region, &self.account_id, &self.name)
    }
}

mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    pub fn serialize<S: serde::Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<u8>, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(deserializer)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}
