//! Every business rule of Secrets Manager. The service sees typed inputs (never HTTP), keeps
//! the rules of [`model`], and reads and writes through the [`Store`].
//!
//! A change is "load, apply the rules, save if nobody saved in between": when another request
//! saved the same secret first, the store refuses the save and the change is re-applied to the
//! fresh state (see [`retry_on_conflict`]). The rules therefore always run against the latest
//! committed state, whichever process committed it.

mod audit;
pub mod authorize;
mod background;
mod encryption;
pub mod identity;
pub mod kms;
mod listing;
pub mod model;
mod page_token;
pub mod password;
mod random;
mod replication;
mod resource_policy;
mod rotation;
pub mod rotation_rules;
mod secret;
mod tags;
mod validate;
mod value;

use std::sync::Arc;
use std::time::Duration;

use rand::{Rng, TryRngCore};

use crate::auth::Principal;
use crate::clock::Clock;
use crate::crypto::keys::RootKey;
use crate::protocol::{ApiError, ErrorCode};
use crate::store::{Store, StoreError};
use model::{Secret, VersionRuleError};

/// How often a change is re-applied after losing a race before the caller is told to retry.
const MAX_ATTEMPTS: u32 = 100;

pub struct Service {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    /// Seals page tokens; its key is read from the store on first use.
    sealer: tokio::sync::OnceCell<page_token::Sealer>,
    /// KMS keys, and the material that seals secret values.
    keyring: kms::Keyring,
    /// Resource and key policies, parsed once.
    policies: authorize::PolicyCache,
}

/// The result of one attempt at a change.
enum Attempt<T> {
    Done(T),
    /// Someone else saved the secret first: load it again and re-apply.
    Lost,
}

/// Counts the attempts at one change and spaces them out.
#[derive(Default)]
struct Retry {
    round: u32,
}

impl Retry {
    /// Waits a short random time before the next attempt (so that racing writers spread out),
    /// or gives up after [`MAX_ATTEMPTS`].
    async fn pause(&mut self) -> Result<(), ApiError> {
        self.round += 1;
        if self.round >= MAX_ATTEMPTS {
            return Err(ApiError::internal(format!(
                "a change lost {MAX_ATTEMPTS} races in a row to concurrent writers"
            )));
        }
        let ceiling_micros = 200u64 << self.round.min(6);
        let pause = rand::rng().random_range(0..ceiling_micros);
        tokio::time::sleep(Duration::from_micros(pause)).await;
        Ok(())
    }
}

/// Runs an async block that returns `Result<Attempt<T>, ApiError>` until it is done, running it
/// again (against the fresh state it loads) whenever it lost a race to another writer.
macro_rules! retry_on_conflict {
    ($body:block) => {{
        let mut retry = $crate::service::Retry::default();
        loop {
            let attempt: Result<$crate::service::Attempt<_>, $crate::protocol::ApiError> = async $body.await;
            match attempt? {
                $crate::service::Attempt::Done(done) => break Ok(done),
                $crate::service::Attempt::Lost => retry.pause().await?,
            }
        }
    }};
}
use retry_on_conflict;

impl Service {
    /// A service over `store`, whose KMS key material is wrapped by `root_key` (checked
    /// against the store by [`Service::check_root_key`] before anything is served).
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, root_key: RootKey) -> Service {
        Service {
            keyring: kms::Keyring::new(Arc::clone(&store), Arc::clone(&clock), root_key),
            store,
            clock,
            sealer: tokio::sync::OnceCell::new(),
            policies: authorize::PolicyCache::default(),
        }
    }

    pub fn keyring(&self) -> &kms::Keyring {
        &self.keyring
    }

    async fn sealer(&self) -> Result<&page_token::Sealer, ApiError> {
        self.sealer
            .get_or_try_init(|| async {
                let mut candidate = vec![0u8; 32];
                rand::rngs::OsRng
                    .try_fill_bytes(&mut candidate)
                    .map_err(ApiError::internal)?;
                let key = self
                    .store
                    .setting(page_token::KEY_SETTING, candidate)
                    .await?;
                Ok(page_token::Sealer::new(key))
            })
            .await
    }

    /// Finds the secret a `SecretId` names: a name, a full ARN, or an ARN without its random
    /// suffix (a partial ARN), once `principal` is allowed the call's action on it.
    async fn find(&self, principal: &Principal, secret_id: &str) -> Result<Secret, ApiError> {
        self.find_for(principal, principal.call.action(), secret_id)
            .await
    }

    /// Like [`Service::find`], authorizing `action` (BatchGetSecretValue reads each secret as
    /// `secretsmanager:GetSecretValue`).
    ///
    /// Authorization comes first, on the secret found (its ARN, tags and resource policy) or,
    /// when there is none, on the ARN asked for (the `SecretId` if it is an ARN, else the
    /// name's ARN without a random suffix): a caller without permission is told
    /// AccessDeniedException, not whether the secret exists.
    async fn find_for(
        &self,
        principal: &Principal,
        action: &str,
        secret_id: &str,
    ) -> Result<Secret, ApiError> {
        let found = self.lookup(principal, secret_id).await?;
        match &found {
            Some(secret) => self.authorize_secret(principal, action, secret)?,
            None if validate::parse_arn(secret_id).is_some() => {
                self.authorize_resource(principal, action, secret_id)?
            }
            None => {
                let scope = &principal.scope;
                let arn = format!(
                    "arn:aws:secretsmanager:{}:{}:secret:{secret_id}",
                    scope.region, scope.account_id
                );
                self.authorize_resource(principal, action, &arn)?
            }
        }
        found.ok_or_else(not_found)
    }

    async fn lookup(
        &self,
        principal: &Principal,
        secret_id: &str,
    ) -> Result<Option<Secret>, ApiError> {
        let scope = &principal.scope;
        let found = match validate::parse_arn(secret_id) {
            None => self.store.load_by_name(scope, secret_id).await?,
            Some(arn) if arn.region != scope.region || arn.account_id != scope.account_id => None,
            Some(arn) => match self.store.load_by_arn(secret_id).await? {
                Some(secret) => Some(secret),
                // An ARN whose name part ends in `-` and six characters is taken as a complete
                // ARN, as AWS takes it: no partial match for it.
                None if validate::has_arn_suffix(arn.resource) => None,
                None => self
                    .store
                    .load_by_name(scope, arn.resource)
                    .await?
                    .filter(|secret| is_partial_arn_of(secret_id, secret.visible_arn())),
            },
        };
        Ok(found)
    }

    /// Like [`Service::find`], for operations a secret pending deletion does not allow.
    async fn find_live(&self, principal: &Principal, secret_id: &str) -> Result<Secret, ApiError> {
        let secret = self.find(principal, secret_id).await?;
        if secret.is_pending_deletion() {
            return Err(marked_for_deletion());
        }
        Ok(secret)
    }

    /// Like [`Service::find_live`], for changes: a replica is changed only through its
    /// primary.
    async fn find_writable(
        &self,
        principal: &Principal,
        secret_id: &str,
    ) -> Result<Secret, ApiError> {
        let secret = self.find_live(principal, secret_id).await?;
        ensure_primary(&secret)?;
        Ok(secret)
    }
}

/// The labelled versions of a secret and their labels.
fn versions_to_stages(secret: &Secret) -> std::collections::BTreeMap<String, Vec<String>> {
    secret
        .versions
        .iter()
        .filter(|version| !version.stages.is_empty())
        .map(|version| (version.id.clone(), version.stages.clone()))
        .collect()
}

/// Refuses changes made through a replica: a replica is changed only through its primary.
fn ensure_primary(secret: &Secret) -> Result<(), ApiError> {
    if secret.replica_view.is_some() {
        return Err(ApiError::new(
            ErrorCode::InvalidParameterException,
            "Operation not permitted on a replica secret. Call must be made in primary secret's region.",
        ));
    }
    Ok(())
}

/// A partial ARN is the full ARN without its `-` and six random characters.
fn is_partial_arn_of(partial: &str, arn: &str) -> bool {
    arn.strip_prefix(partial)
        .is_some_and(|suffix| suffix.len() == 7 && suffix.starts_with('-'))
}

fn not_found() -> ApiError {
    ApiError::new(
        ErrorCode::ResourceNotFoundException,
        "Secrets Manager can't find the specified secret.",
    )
}

fn marked_for_deletion() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidRequestException,
        "You can't perform this operation on the secret because it was marked for deletion.",
    )
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        ApiError::internal(error)
    }
}

impl From<VersionRuleError> for ApiError {
    fn from(error: VersionRuleError) -> ApiError {
        use VersionRuleError::*;
        match error {
            TooManyLabels => ApiError::new(
                ErrorCode::LimitExceededException,
                format!(
                    "A secret can't have more than {} staging labels.",
                    model::MAX_LABELS
                ),
            ),
            TooManyVersions => ApiError::new(
                ErrorCode::LimitExceededException,
                format!(
                    "You can't create more than {} versions of a secret in 24 hours; \
                     versions without staging labels are removed only once they are a day old.",
                    model::MAX_VERSIONS
                ),
            ),
            NoSuchVersion(version_id) => ApiError::new(
                ErrorCode::InvalidParameterException,
                format!("Secrets Manager can't find the specified secret version: {version_id}"),
            ),
            LabelElsewhere { label, holder } => ApiError::new(
                ErrorCode::InvalidParameterException,
                format!(
                    "The parameter RemoveFromVersionId can't be empty. Staging label {label} is \
                     currently attached to version {holder}, so you must explicitly reference that \
                     version in RemoveFromVersionId."
                ),
            ),
            LabelNotOnVersion { label, version_id } => ApiError::new(
                ErrorCode::InvalidParameterException,
                format!(
                    "Staging label {label} is not attached to version {version_id}. \
                     RemoveFromVersionId must name the version that currently has the label."
                ),
            ),
            CurrentCannotBeRemoved => ApiError::new(
                ErrorCode::InvalidParameterException,
                "You can only move the staging label AWSCURRENT to a different secret version. \
                 It can't be completely removed.",
            ),
        }
    }
}
