//! Identities: IAM users, their access keys and inline policies, and the account root's access
//! keys. This is where their rules live (names, ids, how secrets are made and sealed, who may
//! hold which key); the [`Store`] only keeps the records.
//!
//! Secrets (secret access keys, session tokens) are made here from the OS CSPRNG, handed back
//! once in a [`NewAccessKey`], and stored only sealed under the root key
//! ([`crate::crypto::sealed_secret`], bound to the access key id).
//! [`StoreCredentials`] reads them back for the SigV4 verifier.

pub mod credentials;
pub mod model;

use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, Timestamp};
use crate::crypto::keys::RootKey;
use crate::crypto::{CryptoError, SecretString, sealed_secret};
use crate::policy::PolicyKind;
use crate::store::{Store, StoreError};
pub use credentials::StoreCredentials;
use model::{AccessKeyRecord, UserPolicy, UserRecord};

/// The name that stands for the account's root in the commands that name a user (no IAM user
/// may take it here).
pub const ROOT_NAME: &str = "root";
/// The shortest and longest lives of temporary credentials (those of `GetSessionToken`).
pub const MIN_SESSION: Duration = Duration::from_secs(15 * 60);
pub const MAX_SESSION: Duration = Duration::from_secs(36 * 60 * 60);
/// How often a change of a user is re-applied after losing a race.
const ATTEMPTS: u32 = 20;
/// The longest inline policy of a user IAM accepts, in characters.
pub const MAX_POLICY_CHARS: usize = 2_048 * 5;

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("invalid name {0:?}: names are 1 to 64 characters of letters, digits and _+=,.@-")]
    InvalidName(String),
    #[error("the name \"root\" is reserved for the account's root")]
    ReservedName,
    #[error("a user named {0:?} already exists")]
    UserExists(String),
    #[error("no user named {0:?}")]
    NoSuchUser(String),
    #[error("no access key {0:?}")]
    NoSuchAccessKey(String),
    #[error("user {user:?} has no policy named {name:?}")]
    NoSuchPolicy { user: String, name: String },
    #[error("invalid policy document: {0}")]
    InvalidPolicy(String),
    #[error("temporary credentials last from 15 minutes to 36 hours, not {0:?}")]
    InvalidDuration(Duration),
    #[error("{0}")]
    Crypto(#[from] CryptoError),
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// A key just made: the only time its secret is seen outside the store.
#[derive(Debug, Clone)]
pub struct NewAccessKey {
    pub access_key_id: String,
    pub secret_access_key: SecretString,
    pub session_token: Option<SecretString>,
    pub expires_at: Option<Timestamp>,
    /// Whose: the user's name, or [`ROOT_NAME`].
    pub user_name: String,
    pub arn: String,
}

impl NewAccessKey {
    /// The key as a profile of the aws CLI's credentials file.
    pub fn profile(&self, profile: &str) -> String {
        let mut text = format!(
            "[{profile}]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            self.access_key_id,
            self.secret_access_key.expose()
        );
        if let Some(token) = &self.session_token {
            text.push_str(&format!("aws_session_token = {}\n", token.expose()));
        }
        text
    }
}

/// The identities of one account.
pub struct Identities {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    root: RootKey,
    account_id: String,
}

impl Identities {
    /// Identities of `account_id`, whose secrets are sealed under `root` (the root key the
    /// store was checked against).
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        root: RootKey,
        account_id: &str,
    ) -> Identities {
        Identities {
            store,
            clock,
            root,
            account_id: account_id.to_owned(),
        }
    }

    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    pub fn root_arn(&self) -> String {
        format!("arn:aws:iam::{}:root", self.account_id)
    }

    /// Makes the account's first root key if it has never had one: `Some` (with its secret)
    /// only for the caller that made it, on whatever node; `None` on every later call.
    pub async fn bootstrap_root(&self) -> Result<Option<NewAccessKey>, IdentityError> {
        let (record, new) = self.new_key(None, ROOT_NAME, self.root_arn(), None)?;
        let outcome = self.store.bootstrap_root_key(&record).await?;
        Ok(outcome.created.then_some(new))
    }

    /// Builds a key of `user_id` (`None`: the root), sealed, with a session token and expiry
    /// if `expires_at` is given.
    fn new_key(
        &self,
        user_id: Option<String>,
        user_name: &str,
        arn: String,
        expires_at: Option<Timestamp>,
    ) -> Result<(AccessKeyRecord, NewAccessKey), IdentityError> {
        let temporary = expires_at.is_some();
        let id = model::new_access_key_id(temporary)?;
        let secret = model::new_secret()?;
        let token = if temporary {
            Some(model::new_session_token()?)
        } else {
            None
        };
        let sealed_secret = sealed_secret::seal(&self.root, &secret, &model::secret_context(&id))?;
        let sealed_session_token = token
            .as_ref()
            .map(|token| sealed_secret::seal(&self.root, token, &model::session_token_context(&id)))
            .transpose()?;
        let record = AccessKeyRecord {
            id: id.clone(),
            account_id: self.account_id.clone(),
            user_id,
            enabled: true,
            sealed_secret,
            sealed_session_token,
            expires_at,
            created_at: self.clock.now(),
        };
        let new = NewAccessKey {
            access_key_id: id,
            secret_access_key: secret,
            session_token: token,
            expires_at,
            user_name: user_name.to_owned(),
            arn,
        };
        Ok((record, new))
    }

    fn check_user_name(name: &str) -> Result<(), IdentityError> {
        if name.eq_ignore_ascii_case(ROOT_NAME) {
            return Err(IdentityError::ReservedName);
        }
        if !model::is_valid_name(name) {
            return Err(IdentityError::InvalidName(name.to_owned()));
        }
        Ok(())
    }

    pub async fn create_user(&self, name: &str) -> Result<UserRecord, IdentityError> {
        Self::check_user_name(name)?;
        for _ in 0..ATTEMPTS {
            let user = UserRecord {
                id: model::new_user_id()?,
                account_id: self.account_id.clone(),
                name: name.to_owned(),
                arn: model::user_arn(&self.account_id, name),
                enabled: true,
                created_at: self.clock.now(),
                revision: 1,
            };
            match self.store.create_user(&user).await {
                Ok(()) => return Ok(user),
                Err(StoreError::NameTaken) => {
                    return Err(IdentityError::UserExists(name.to_owned()));
                }
                // A random id collided: draw another.
                Err(StoreError::IdTaken) => continue,
                Err(error) => return Err(error.into()),
            }
        }
        Err(StoreError::IdTaken.into())
    }

    pub async fn user(&self, name: &str) -> Result<UserRecord, IdentityError> {
        self.store
            .load_user(&self.account_id, name)
            .await?
            .ok_or_else(|| IdentityError::NoSuchUser(name.to_owned()))
    }

    pub async fn list_users(&self) -> Result<Vec<UserRecord>, IdentityError> {
        Ok(self.store.list_users(&self.account_id).await?)
    }

    /// Enables or disables a user: a disabled user's keys stop authenticating at once.
    pub async fn set_user_enabled(
        &self,
        name: &str,
        enabled: bool,
    ) -> Result<UserRecord, IdentityError> {
        for _ in 0..ATTEMPTS {
            let mut user = self.user(name).await?;
            if user.enabled == enabled {
                return Ok(user);
            }
            user.enabled = enabled;
            match self.store.save_user(&user).await {
                Ok(()) => {
                    user.revision += 1;
                    return Ok(user);
                }
                Err(StoreError::Conflict) => continue,
                Err(error) => return Err(error.into()),
            }
        }
        Err(StoreError::Conflict.into())
    }

    /// Deletes a user with its keys and policies.
    pub async fn delete_user(&self, name: &str) -> Result<UserRecord, IdentityError> {
        for _ in 0..ATTEMPTS {
            let user = self.user(name).await?;
            match self.store.delete_user(&user.id, user.revision).await {
                Ok(()) => return Ok(user),
                Err(StoreError::Conflict) => continue,
                Err(error) => return Err(error.into()),
            }
        }
        Err(StoreError::Conflict.into())
    }

    /// The owner a command names: `None` for [`ROOT_NAME`], else the user.
    async fn owner(&self, user_name: &str) -> Result<Option<UserRecord>, IdentityError> {
        if user_name == ROOT_NAME {
            return Ok(None);
        }
        self.user(user_name).await.map(Some)
    }

    /// A new long-term key (`AKIA...`) of a user, or of the root for [`ROOT_NAME`].
    pub async fn create_access_key(&self, user_name: &str) -> Result<NewAccessKey, IdentityError> {
        self.create_key(user_name, None).await
    }

    /// Temporary credentials (`ASIA...`, a session token) of a user (or the root) that expire
    /// after `duration`.
    pub async fn create_session(
        &self,
        user_name: &str,
        duration: Duration,
    ) -> Result<NewAccessKey, IdentityError> {
        if !(MIN_SESSION..=MAX_SESSION).contains(&duration) {
            return Err(IdentityError::InvalidDuration(duration));
        }
        let expires_at = self.clock.now().plus(duration);
        self.create_key(user_name, Some(expires_at)).await
    }

    async fn create_key(
        &self,
        user_name: &str,
        expires_at: Option<Timestamp>,
    ) -> Result<NewAccessKey, IdentityError> {
        for _ in 0..ATTEMPTS {
            let owner = self.owner(user_name).await?;
            let (user_id, name, arn) = match owner {
                Some(user) => (Some(user.id), user.name, user.arn),
                None => (None, ROOT_NAME.to_owned(), self.root_arn()),
            };
            let (record, new) = self.new_key(user_id, &name, arn, expires_at)?;
            match self.store.create_access_key(&record).await {
                Ok(()) => return Ok(new),
                // The user was deleted meanwhile: the next round says so.
                Err(StoreError::Conflict) | Err(StoreError::IdTaken) => continue,
                Err(error) => return Err(error.into()),
            }
        }
        Err(StoreError::Conflict.into())
    }

    /// The keys of a user (or of the root for [`ROOT_NAME`]).
    pub async fn list_access_keys(
        &self,
        user_name: &str,
    ) -> Result<Vec<AccessKeyRecord>, IdentityError> {
        let owner = self.owner(user_name).await?;
        Ok(self
            .store
            .list_access_keys(
                &self.account_id,
                owner.as_ref().map(|user| user.id.as_str()),
            )
            .await?)
    }

    /// A key of this account by id.
    async fn access_key(&self, id: &str) -> Result<AccessKeyRecord, IdentityError> {
        match self.store.load_access_key(id).await? {
            Some(key) if key.account_id == self.account_id => Ok(key),
            _ => Err(IdentityError::NoSuchAccessKey(id.to_owned())),
        }
    }

    pub async fn set_access_key_enabled(
        &self,
        id: &str,
        enabled: bool,
    ) -> Result<(), IdentityError> {
        self.access_key(id).await?;
        if !self.store.set_access_key_enabled(id, enabled).await? {
            return Err(IdentityError::NoSuchAccessKey(id.to_owned()));
        }
        Ok(())
    }

    pub async fn delete_access_key(&self, id: &str) -> Result<(), IdentityError> {
        self.access_key(id).await?;
        if !self.store.delete_access_key(id).await? {
            return Err(IdentityError::NoSuchAccessKey(id.to_owned()));
        }
        Ok(())
    }

    /// Attaches (or replaces) an inline identity policy of a user, after checking it with the
    /// IAM policy parser.
    pub async fn attach_policy(
        &self,
        user_name: &str,
        name: &str,
        document: &str,
    ) -> Result<UserPolicy, IdentityError> {
        if !model::is_valid_name(name) {
            return Err(IdentityError::InvalidName(name.to_owned()));
        }
        if document.chars().count() > MAX_POLICY_CHARS {
            return Err(IdentityError::InvalidPolicy(format!(
                "longer than {MAX_POLICY_CHARS} characters"
            )));
        }
        crate::policy::parse(document, PolicyKind::Identity)
            .map_err(|error| IdentityError::InvalidPolicy(error.to_string()))?;
        for _ in 0..ATTEMPTS {
            let user = self.user(user_name).await?;
            let policy = UserPolicy {
                user_id: user.id,
                name: name.to_owned(),
                document: document.to_owned(),
                updated_at: self.clock.now(),
            };
            match self.store.put_user_policy(&policy).await {
                Ok(()) => return Ok(policy),
                Err(StoreError::Conflict) => continue,
                Err(error) => return Err(error.into()),
            }
        }
        Err(StoreError::Conflict.into())
    }

    pub async fn detach_policy(&self, user_name: &str, name: &str) -> Result<(), IdentityError> {
        let user = self.user(user_name).await?;
        if !self.store.delete_user_policy(&user.id, name).await? {
            return Err(IdentityError::NoSuchPolicy {
                user: user.name,
                name: name.to_owned(),
            });
        }
        Ok(())
    }

    pub async fn list_policies(&self, user_name: &str) -> Result<Vec<UserPolicy>, IdentityError> {
        let user = self.user(user_name).await?;
        Ok(self.store.list_user_policies(&user.id).await?)
    }
}

/// Reads a duration such as `1h`, `90m`, `3600s`, `1h30m` or `3600` (seconds).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let mut total = 0u64;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return None,
        };
        let value: u64 = number.parse().ok()?;
        total = total.checked_add(value.checked_mul(unit)?)?;
        number.clear();
    }
    if !number.is_empty() || text.is_empty() {
        return None;
    }
    Some(Duration::from_secs(total))
}
