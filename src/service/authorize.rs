//! Authorization: every call is evaluated against the caller's identity policies and the
//! resource's policy (a secret's resource policy, a KMS key's key policy) with AWS's logic
//! ([`crate::policy::evaluate`]): an explicit deny wins, then any allow, else
//! `AccessDeniedException` naming the action and the resource.
//!
//! The facts a policy may test come from two places: the request itself ([`RequestFacts`],
//! read once by the server from the body: tags, version stages, names, key ids...) and the
//! resource (its tags, read from the stored secret when the call looks it up).

use std::collections::{BTreeMap, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use serde::Deserialize;

use super::kms::model::{KeyManager, KmsKeyRecord};
use super::model::Secret;
use crate::auth::Principal;
use crate::auth::credentials::Identity;
use crate::policy::{self, Caller, ContextValue, Policy, PolicyKind, RequestContext};
use crate::protocol::{ApiError, ErrorCode};

/// What a policy may test about one request, besides the caller and the resource.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestFacts {
    /// `secretsmanager:GetSecretValue`, `kms:Decrypt`...
    pub action: String,
    pub source_ip: Option<IpAddr>,
    pub secure_transport: bool,
    /// `aws:RequestTag/<key>` (the tags the request sets).
    pub request_tags: Vec<(String, String)>,
    /// `kms:EncryptionContext:<key>`.
    pub encryption_context: Vec<(String, String)>,
    /// Every other key: `secretsmanager:VersionStage`, `aws:TagKeys`...
    pub keys: Vec<(String, ContextValue)>,
}

/// The members of a request body that condition keys are made of. Every other member (the
/// secret value above all) is skipped by the parser without being copied.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Members {
    secret_id: Option<String>,
    name: Option<String>,
    description: Option<String>,
    kms_key_id: Option<String>,
    version_stage: Option<String>,
    version_id: Option<String>,
    tags: Option<Vec<TagMember>>,
    tag_keys: Option<Vec<String>>,
    block_public_policy: Option<bool>,
    #[serde(rename = "RotationLambdaARN")]
    rotation_lambda_arn: Option<String>,
    add_replica_regions: Option<Vec<RegionMember>>,
    force_overwrite_replica_secret: Option<bool>,
    encryption_context: Option<BTreeMap<String, String>>,
    key_spec: Option<String>,
    key_usage: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TagMember {
    #[serde(rename = "Key", alias = "TagKey")]
    key: Option<String>,
    #[serde(rename = "Value", alias = "TagValue")]
    value: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct RegionMember {
    region: Option<String>,
}

impl RequestFacts {
    /// The facts of a call of `action` (`<service prefix>:<Operation>`) whose body is `body`.
    /// A body that does not parse yields no keys (the operation itself then refuses it).
    pub fn read(action: String, body: &[u8], source_ip: Option<IpAddr>) -> RequestFacts {
        let members: Members = serde_json::from_slice(body).unwrap_or_default();
        let kms = action.starts_with("kms:");
        let mut facts = RequestFacts {
            action,
            source_ip,
            secure_transport: false,
            ..RequestFacts::default()
        };
        let mut key = |name: &str, value: ContextValue| facts.keys.push((name.to_owned(), value));
        let text = |value: &str| ContextValue::String(value.to_owned());
        if !kms {
            if let Some(id) = &members.secret_id {
                key("secretsmanager:SecretId", text(id));
            }
            if let Some(name) = &members.name {
                key("secretsmanager:Name", text(name));
            }
            if let Some(description) = &members.description {
                key("secretsmanager:Description", text(description));
            }
            if let Some(kms_key_id) = &members.kms_key_id {
                key("secretsmanager:KmsKeyId", text(kms_key_id));
            }
            if let Some(stage) = &members.version_stage {
                key("secretsmanager:VersionStage", text(stage));
            }
            if let Some(version) = &members.version_id {
                key("secretsmanager:VersionId", text(version));
            }
            if let Some(block) = members.block_public_policy {
                key(
                    "secretsmanager:BlockPublicPolicy",
                    ContextValue::Bool(block),
                );
            }
            if let Some(arn) = &members.rotation_lambda_arn {
                key("secretsmanager:RotationLambdaARN", text(arn));
            }
            if let Some(regions) = &members.add_replica_regions {
                let regions = regions.iter().filter_map(|r| r.region.clone()).collect();
                key(
                    "secretsmanager:AddReplicaRegions",
                    ContextValue::Strings(regions),
                );
            }
            if let Some(force) = members.force_overwrite_replica_secret {
                key(
                    "secretsmanager:ForceOverwriteReplicaSecret",
                    ContextValue::Bool(force),
                );
            }
        } else {
            if let Some(spec) = &members.key_spec {
                key("kms:KeySpec", text(spec));
            }
            if let Some(usage) = &members.key_usage {
                key("kms:KeyUsage", text(usage));
            }
        }
        let mut tag_keys: Vec<String> = members.tag_keys.unwrap_or_default();
        for tag in members.tags.unwrap_or_default() {
            if let Some(tag_key) = tag.key {
                tag_keys.push(tag_key.clone());
                facts
                    .request_tags
                    .push((tag_key, tag.value.unwrap_or_default()));
            }
        }
        if !tag_keys.is_empty() {
            facts
                .keys
                .push(("aws:TagKeys".to_owned(), ContextValue::Strings(tag_keys)));
        }
        if let Some(context) = members.encryption_context {
            facts.encryption_context = context.into_iter().collect();
        }
        facts
    }
}

/// One call as authorization sees it: its action, where it came from, and (read only when a
/// decision needs them) the condition keys of its body.
///
/// The body is kept (a reference-counted handle, not a copy) so that a caller nothing can deny
/// (the account root, on a secret without a resource policy) never pays for reading it.
pub struct Call {
    action: String,
    source_ip: Option<IpAddr>,
    body: Bytes,
    facts: OnceLock<RequestFacts>,
}

impl std::fmt::Debug for Call {
    // The body holds secret values: it never prints.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("action", &self.action)
            .field("source_ip", &self.source_ip)
            .finish_non_exhaustive()
    }
}

impl Call {
    /// A call of `action` (`secretsmanager:GetSecretValue`, `kms:Decrypt`) with `body`, from
    /// `source_ip`.
    pub fn new(action: String, body: Bytes, source_ip: Option<IpAddr>) -> Call {
        Call {
            action,
            source_ip,
            body,
            facts: OnceLock::new(),
        }
    }

    /// A call made by the server itself (no action, no body): only the root uses it.
    pub fn internal() -> Call {
        Call::new(String::new(), Bytes::new(), None)
    }

    pub fn action(&self) -> &str {
        &self.action
    }

    pub fn source_ip(&self) -> Option<IpAddr> {
        self.source_ip
    }

    /// The condition keys of the request, read from the body on first use.
    pub fn facts(&self) -> &RequestFacts {
        self.facts
            .get_or_init(|| RequestFacts::read(self.action.clone(), &self.body, self.source_ip))
    }

    /// The same request's facts for another action (BatchGetSecretValue's per-secret
    /// `secretsmanager:GetSecretValue`, Secrets Manager's own use of a KMS key...).
    pub fn facts_for(&self, action: &str) -> RequestFacts {
        if action == self.action {
            return self.facts().clone();
        }
        let mut facts = self.facts().clone();
        facts.action = action.to_owned();
        facts
    }
}

/// Parsed policy documents (secret resource policies, KMS key policies), by their text: a
/// document is parsed once, not on every request. Bounded: emptied when full.
#[derive(Default)]
pub struct PolicyCache {
    entries: Mutex<HashMap<u64, CachedPolicy>>,
}

/// A document and its parsed form.
type CachedPolicy = (Arc<str>, Arc<Policy>);

/// Most documents the cache keeps.
const POLICY_CACHE_ENTRIES: usize = 1024;

impl PolicyCache {
    /// The parsed `document` of `kind`. A stored document that no longer parses (it was
    /// checked when attached) is the server's problem: an internal error, so that a policy
    /// that may deny is never ignored.
    pub fn get(&self, document: &str, kind: PolicyKind) -> Result<Arc<Policy>, ApiError> {
        let mut hasher = DefaultHasher::new();
        document.hash(&mut hasher);
        matches!(kind, PolicyKind::Resource).hash(&mut hasher);
        let hash = hasher.finish();
        if let Ok(entries) = self.entries.lock()
            && let Some((text, policy)) = entries.get(&hash)
            && &**text == document
        {
            return Ok(Arc::clone(policy));
        }
        let policy = Arc::new(policy::parse(document, kind).map_err(|error| {
            ApiError::internal(format!("a stored policy does not parse: {error}"))
        })?);
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= POLICY_CACHE_ENTRIES {
                entries.clear();
            }
            entries.insert(hash, (Arc::from(document), Arc::clone(&policy)));
        }
        Ok(policy)
    }
}

/// The policy model's view of an identity.
pub fn caller_of(identity: &Identity) -> Caller {
    if identity.is_root {
        Caller::root(&identity.account_id)
    } else {
        Caller::user(&identity.account_id, &identity.user_name, &identity.user_id)
    }
}

/// What one authorization decision is about.
pub struct Check<'a> {
    pub identity: &'a Identity,
    pub identity_policies: &'a [Policy],
    pub facts: &'a RequestFacts,
    /// The ARN of the resource, or `*` for calls on no resource (ListSecrets, CreateKey...).
    pub resource: &'a str,
    pub resource_policy: Option<&'a Policy>,
    /// The resource's tags (`aws:ResourceTag/<k>`, and `<service>:ResourceTag/<k>`).
    pub resource_tags: &'a [(String, String)],
    pub now_millis: i64,
}

impl Check<'_> {
    fn context(&self) -> RequestContext {
        let mut context = RequestContext::new(
            caller_of(self.identity),
            self.facts.action.clone(),
            self.resource.to_owned(),
            self.now_millis,
        );
        context.source_ip = self.facts.source_ip;
        context.secure_transport = Some(self.facts.secure_transport);
        context.request_tags = self.facts.request_tags.clone();
        context.resource_tags = self.resource_tags.to_vec();
        context.encryption_context = self.facts.encryption_context.clone();
        context.keys = self.facts.keys.clone();
        let service = self.facts.action.split(':').next().unwrap_or_default();
        for (tag, value) in self.resource_tags {
            context.keys.push((
                format!("{service}:ResourceTag/{tag}"),
                ContextValue::String(value.clone()),
            ));
        }
        context
    }

    /// Whether the call is allowed: the root identity with no resource policy needs no
    /// evaluation (nothing could deny it).
    pub fn decide(&self) -> Result<(), ApiError> {
        if self.identity.is_root && self.resource_policy.is_none() {
            return Ok(());
        }
        let context = self.context();
        let identity_policies: Vec<&Policy> = self.identity_policies.iter().collect();
        let evaluation = policy::evaluate(&context, &identity_policies, self.resource_policy);
        match evaluation.denial_message(&context) {
            None => Ok(()),
            Some(message) => Err(ApiError::new(ErrorCode::AccessDeniedException, message)),
        }
    }

    /// Like [`Check::decide`] for a KMS key, whose key policy must allow (directly, or by
    /// granting the account so that identity policies can).
    pub fn decide_key(&self, key_policy: &Policy) -> Result<(), ApiError> {
        let context = self.context();
        let identity_policies: Vec<&Policy> = self.identity_policies.iter().collect();
        let evaluation = policy::evaluate_key_policy(&context, &identity_policies, key_policy);
        match evaluation.denial_message(&context) {
            None => Ok(()),
            Some(message) => Err(ApiError::new(ErrorCode::AccessDeniedException, message)),
        }
    }
}

/// The DNS name of Secrets Manager in `region`: `kms:ViaService` of the calls it makes to
/// KMS for its callers.
pub fn secrets_manager_endpoint(region: &str) -> String {
    format!("secretsmanager.{region}.amazonaws.com")
}

/// A call the server makes for itself (no action): only the root does, and is not checked.
fn is_internal(principal: &Principal) -> bool {
    principal.identity.is_root && principal.call.action().is_empty()
}

impl super::Service {
    /// The facts of `principal`'s call for `action` (the call's own action, or another one
    /// the call implies).
    fn facts_of<'a>(
        principal: &'a Principal,
        action: &str,
        owned: &'a mut Option<RequestFacts>,
    ) -> &'a RequestFacts {
        if action == principal.call.action() {
            principal.call.facts()
        } else {
            owned.insert(principal.call.facts_for(action))
        }
    }

    /// Whether `principal` may do `action` on `secret` (found): its identity policies, the
    /// secret's resource policy and tags. The root on a secret without a resource policy is
    /// allowed at once: nothing is read or parsed.
    pub(super) fn authorize_secret(
        &self,
        principal: &Principal,
        action: &str,
        secret: &Secret,
    ) -> Result<(), ApiError> {
        if principal.identity.is_root
            && (secret.resource_policy.is_none() || is_internal(principal))
        {
            return Ok(());
        }
        let resource_policy = match &secret.resource_policy {
            Some(document) => Some(self.policies.get(document, PolicyKind::Resource)?),
            None => None,
        };
        let tags: Vec<(String, String)> = secret
            .tags
            .iter()
            .flatten()
            .map(|tag| (tag.key.clone(), tag.value.clone()))
            .collect();
        let mut owned = None;
        Check {
            identity: &principal.identity,
            identity_policies: &principal.policies,
            facts: Self::facts_of(principal, action, &mut owned),
            resource: secret.visible_arn(),
            resource_policy: resource_policy.as_deref(),
            resource_tags: &tags,
            now_millis: self.clock.now().as_millis(),
        }
        .decide()
    }

    /// Whether `principal` may do `action` on `resource` (an ARN, or `*` for actions on no
    /// particular resource), which has no policy and no tags: a secret that does not exist,
    /// ListSecrets, CreateSecret's new secret...
    pub(super) fn authorize_resource(
        &self,
        principal: &Principal,
        action: &str,
        resource: &str,
    ) -> Result<(), ApiError> {
        if principal.identity.is_root {
            return Ok(());
        }
        let mut owned = None;
        Check {
            identity: &principal.identity,
            identity_policies: &principal.policies,
            facts: Self::facts_of(principal, action, &mut owned),
            resource,
            resource_policy: None,
            resource_tags: &[],
            now_millis: self.clock.now().as_millis(),
        }
        .decide()
    }

    /// Like [`Service::authorize_resource`] for the call's own action.
    pub(super) fn authorize_call(
        &self,
        principal: &Principal,
        resource: &str,
    ) -> Result<(), ApiError> {
        self.authorize_resource(principal, principal.call.action(), resource)
    }

    /// Whether `principal` may do `action` on the KMS key `record` directly (the KMS API):
    /// the key policy, and the identity policies if the key policy lets them.
    pub(super) fn authorize_key(
        &self,
        principal: &Principal,
        action: &str,
        record: &KmsKeyRecord,
    ) -> Result<(), ApiError> {
        if is_internal(principal) {
            return Ok(());
        }
        let mut owned = None;
        let facts = Self::facts_of(principal, action, &mut owned);
        self.decide_key(principal, facts, record)
    }

    /// Whether Secrets Manager may do `action` (`kms:Decrypt`, `kms:GenerateDataKey`,
    /// `kms:Encrypt`) with the KMS key `record` for `principal`, on the secret `secret_arn`:
    /// `kms:ViaService` is Secrets Manager's endpoint and the encryption context names the
    /// secret. The managed key `aws/secretsmanager` is usable by every principal of its
    /// account through Secrets Manager (its key policy says so): no evaluation.
    pub(super) fn authorize_key_use(
        &self,
        principal: &Principal,
        action: &str,
        record: &KmsKeyRecord,
        secret_arn: &str,
    ) -> Result<(), ApiError> {
        if record.manager == KeyManager::Aws && record.account_id == principal.identity.account_id {
            return Ok(());
        }
        let facts = RequestFacts {
            action: action.to_owned(),
            source_ip: principal.call.source_ip(),
            secure_transport: false,
            request_tags: Vec::new(),
            encryption_context: vec![("SecretARN".to_owned(), secret_arn.to_owned())],
            keys: vec![(
                "kms:ViaService".to_owned(),
                ContextValue::String(secrets_manager_endpoint(&record.region)),
            )],
        };
        self.decide_key(principal, &facts, record)
    }

    fn decide_key(
        &self,
        principal: &Principal,
        facts: &RequestFacts,
        record: &KmsKeyRecord,
    ) -> Result<(), ApiError> {
        let key_policy = self.policies.get(&record.policy, PolicyKind::Resource)?;
        Check {
            identity: &principal.identity,
            identity_policies: &principal.policies,
            facts,
            resource: &record.arn(),
            resource_policy: None,
            resource_tags: &record.tags,
            now_millis: self.clock.now().as_millis(),
        }
        .decide_key(&key_policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicyKind;

    const SECRET: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbCdEf";

    fn alice() -> Identity {
        Identity {
            account_id: "123456789012".into(),
            user_name: "alice".into(),
            user_id: "AIDAALICEALICEALICE1".into(),
            arn: "arn:aws:iam::123456789012:user/alice".into(),
            is_root: false,
        }
    }

    fn identity_policy(document: &str) -> Policy {
        policy::parse(document, PolicyKind::Identity).unwrap_or_else(|error| panic!("{error}"))
    }

    fn check<'a>(
        identity: &'a Identity,
        policies: &'a [Policy],
        facts: &'a RequestFacts,
        tags: &'a [(String, String)],
    ) -> Check<'a> {
        Check {
            identity,
            identity_policies: policies,
            facts,
            resource: SECRET,
            resource_policy: None,
            resource_tags: tags,
            now_millis: 1_700_000_000_000,
        }
    }

    #[test]
    fn request_members_become_condition_keys_and_values_are_never_read() {
        let body = br#"{"SecretId":"app/db","VersionStage":"AWSCURRENT","SecretString":"s3cr3t",
            "Tags":[{"Key":"team","Value":"core"}],"AddReplicaRegions":[{"Region":"eu-west-1"}]}"#;
        let facts = RequestFacts::read("secretsmanager:GetSecretValue".into(), body, None);
        assert!(facts.keys.contains(&(
            "secretsmanager:VersionStage".into(),
            ContextValue::String("AWSCURRENT".into())
        )));
        assert!(facts.keys.contains(&(
            "aws:TagKeys".into(),
            ContextValue::Strings(vec!["team".into()])
        )));
        assert_eq!(facts.request_tags, vec![("team".into(), "core".into())]);
        assert!(!format!("{facts:?}").contains("s3cr3t"));
        // Garbage yields no keys, not an error.
        let none = RequestFacts::read("secretsmanager:GetSecretValue".into(), b"{", None);
        assert!(none.keys.is_empty());
    }

    #[test]
    fn a_user_needs_a_policy_and_a_condition_on_the_stage_is_honoured() {
        let user = alice();
        let facts = |stage: &str| {
            RequestFacts::read(
                "secretsmanager:GetSecretValue".into(),
                format!(r#"{{"SecretId":"app/db","VersionStage":"{stage}"}}"#).as_bytes(),
                None,
            )
        };
        let current = facts("AWSCURRENT");
        let error = check(&user, &[], &current, &[])
            .decide()
            .expect_err("no policy, no access");
        assert_eq!(error.code(), ErrorCode::AccessDeniedException);
        assert_eq!(
            error.message(),
            format!(
                "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: \
                 secretsmanager:GetSecretValue on resource: {SECRET} because no identity-based \
                 policy allows the secretsmanager:GetSecretValue action"
            )
        );
        let policies = [identity_policy(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
                "Action":"secretsmanager:GetSecretValue",
                "Resource":"arn:aws:secretsmanager:us-east-1:123456789012:secret:app/*",
                "Condition":{"StringEquals":{"secretsmanager:VersionStage":"AWSCURRENT"}}}]}"#,
        )];
        assert!(check(&user, &policies, &current, &[]).decide().is_ok());
        let previous = facts("AWSPREVIOUS");
        assert!(check(&user, &policies, &previous, &[]).decide().is_err());
    }

    #[test]
    fn resource_tags_are_seen_under_both_prefixes() {
        let user = alice();
        let facts = RequestFacts::read(
            "secretsmanager:DescribeSecret".into(),
            br#"{"SecretId":"app/db"}"#,
            None,
        );
        let tags = [("team".to_owned(), "core".to_owned())];
        for key in ["aws:ResourceTag/team", "secretsmanager:ResourceTag/team"] {
            let policies = [identity_policy(&format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow",
                    "Action":"secretsmanager:Describe*","Resource":"*",
                    "Condition":{{"StringEquals":{{"{key}":"core"}}}}}}]}}"#
            ))];
            assert!(
                check(&user, &policies, &facts, &tags).decide().is_ok(),
                "{key}"
            );
            assert!(
                check(&user, &policies, &facts, &[]).decide().is_err(),
                "{key}"
            );
        }
    }

    #[test]
    fn root_is_allowed_unless_a_resource_policy_denies() {
        let root = Identity::root("123456789012");
        let facts = RequestFacts::read("secretsmanager:DeleteSecret".into(), b"{}", None);
        assert!(check(&root, &[], &facts, &[]).decide().is_ok());
        let deny = policy::parse(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*",
                "Action":"secretsmanager:DeleteSecret","Resource":"*"}]}"#,
            PolicyKind::Resource,
        )
        .unwrap_or_else(|error| panic!("{error}"));
        let mut denied = check(&root, &[], &facts, &[]);
        denied.resource_policy = Some(&deny);
        assert!(denied.decide().is_err());
    }
}
