//! Access decisions: identity-based policies and a resource-based policy (a secret's policy, a
//! KMS key policy) evaluated against one request.
//!
//! The logic is AWS's, from the IAM User Guide ("Policy evaluation logic", "Policy evaluation
//! for requests within a single account", "Cross-account policy evaluation logic", "AWS JSON
//! policy elements: Principal") and the AWS KMS Developer Guide ("Key policies in AWS KMS",
//! "Default key policy"), without the policy types Coffer does not have (SCPs, RCPs,
//! permissions boundaries, session policies, grants):
//!
//! 1. An explicit `Deny` in any applicable statement of any policy wins.
//! 2. The account root user is not subject to identity-based policies (none can be attached to
//!    it) and has full access to its own account's resources; only a resource-based policy can
//!    deny it.
//! 3. Same account (the resource's ARN names the caller's account): an `Allow` in an identity
//!    policy or in the resource policy allows. A resource policy statement whose principal is
//!    the account (`123456789012` or `arn:aws:iam::123456789012:root`) delegates to the
//!    account: it allows the root user, and other principals of the account only through their
//!    identity policies, so on its own it allows them nothing.
//! 4. Cross-account: both sides must allow, the caller's identity policies and the resource
//!    policy (naming the caller, its account or everyone).
//! 5. Otherwise: implicit deny.
//!
//! KMS key policies ([`evaluate_key_policy`]) differ: the key policy must allow, directly or by
//! granting the key's account (the "Enable IAM policies" statement of the default key policy),
//! in which case the account's identity policies can allow. Without that, identity policies
//! cannot allow anything, not even to the root user; they can still deny.

use std::fmt;

use super::conditions::{self, resolve};
use super::context::RequestContext;
use super::model::{
    ActionBlock, Effect, Policy, PrincipalBlock, PrincipalType, Principals, ResourceBlock,
    Statement,
};
use super::wildcard::{Case, wildcard_match};

/// The outcome of evaluating a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// A `Deny` statement applied.
    ExplicitDeny,
    /// Nothing allowed it.
    ImplicitDeny,
}

/// A kind of policy, as AWS's access-denied messages name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyType {
    /// A policy attached to the caller (user, group, role).
    Identity,
    /// The policy of the resource: a secret's resource policy, a KMS key policy.
    Resource,
}

impl PolicyType {
    /// `identity-based` / `resource-based`, as in AWS's messages.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyType::Identity => "identity-based",
            PolicyType::Resource => "resource-based",
        }
    }
}

/// A decision and the kind of policy behind it: for `Allow`, the policy that allowed (`None`
/// when the account root user's own access did); for `ExplicitDeny`, the policy holding the
/// `Deny`; for `ImplicitDeny`, the policy that would have had to allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evaluation {
    pub decision: Decision,
    pub policy_type: Option<PolicyType>,
}

impl Evaluation {
    fn allow(by: Option<PolicyType>) -> Self {
        Evaluation {
            decision: Decision::Allow,
            policy_type: by,
        }
    }

    fn explicit_deny(by: PolicyType) -> Self {
        Evaluation {
            decision: Decision::ExplicitDeny,
            policy_type: Some(by),
        }
    }

    fn implicit_deny(missing: PolicyType) -> Self {
        Evaluation {
            decision: Decision::ImplicitDeny,
            policy_type: Some(missing),
        }
    }

    pub fn is_allowed(&self) -> bool {
        self.decision == Decision::Allow
    }

    /// The message of the `AccessDeniedException` for this request, or `None` if it is
    /// allowed. See [`access_denied_message`].
    pub fn denial_message(&self, request: &RequestContext) -> Option<String> {
        let policy_type = self.policy_type.unwrap_or(PolicyType::Identity);
        match self.decision {
            Decision::Allow => None,
            decision => Some(
                AccessDenied {
                    caller_arn: &request.caller.arn,
                    action: &request.action,
                    resource: &request.resource,
                    decision,
                    policy_type,
                }
                .to_string(),
            ),
        }
    }
}

/// AWS's access-denied message (the format of 2021 on, in the IAM User Guide's "Troubleshoot
/// access denied error messages"):
///
/// - `User: <arn> is not authorized to perform: <action> on resource: <resource> because no
///   identity-based policy allows the <action> action` (or `resource-based`), for an implicit
///   deny;
/// - `User: <arn> is not authorized to perform: <action> on resource: <resource> with an
///   explicit deny in an identity-based policy` (or `a resource-based policy`).
///
/// For `Decision::Allow` (which has no message) it renders the implicit-deny form.
pub fn access_denied_message(
    caller_arn: &str,
    action: &str,
    resource: &str,
    decision: Decision,
    policy_type: PolicyType,
) -> String {
    AccessDenied {
        caller_arn,
        action,
        resource,
        decision,
        policy_type,
    }
    .to_string()
}

struct AccessDenied<'a> {
    caller_arn: &'a str,
    action: &'a str,
    resource: &'a str,
    decision: Decision,
    policy_type: PolicyType,
}

impl fmt::Display for AccessDenied<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (arn, action, resource) = (self.caller_arn, self.action, self.resource);
        write!(
            f,
            "User: {arn} is not authorized to perform: {action} on resource: {resource} "
        )?;
        match (self.decision, self.policy_type) {
            (Decision::ExplicitDeny, PolicyType::Identity) => {
                f.write_str("with an explicit deny in an identity-based policy")
            }
            (Decision::ExplicitDeny, PolicyType::Resource) => {
                f.write_str("with an explicit deny in a resource-based policy")
            }
            (_, policy_type) => write!(
                f,
                "because no {} policy allows the {action} action",
                policy_type.as_str()
            ),
        }
    }
}

/// How a resource policy statement's principal element relates to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum PrincipalMatch {
    /// The statement is not about the caller.
    No,
    /// It names the caller's account (not the root user itself): a delegation to the account's
    /// identity policies.
    Account,
    /// It names the caller (or everyone): it applies to the caller directly.
    Direct,
}

/// What the statements of one policy say about a request.
#[derive(Debug, Clone, Copy, Default)]
struct Verdict {
    deny: bool,
    /// An `Allow` that applies to the caller directly.
    allow: bool,
    /// An `Allow` that names the caller's account (resource policies only).
    allow_account: bool,
}

/// Decides a request from the caller's identity policies and the resource's policy, if it has
/// one. See the module documentation for the rules.
///
/// `identity_policies` are the policies of kind [`super::PolicyKind::Identity`] attached to
/// the caller (directly or through groups); they are ignored for the account root user.
/// `resource_policy` is of kind [`super::PolicyKind::Resource`]; a statement of it without
/// `Resource` applies to the resource it is attached to, that is, to this request's resource.
pub fn evaluate(
    request: &RequestContext,
    identity_policies: &[&Policy],
    resource_policy: Option<&Policy>,
) -> Evaluation {
    let identity = identity_verdict(request, identity_policies);
    let resource = resource_policy
        .map(|policy| policy_verdict(request, policy))
        .unwrap_or_default();
    if identity.deny {
        return Evaluation::explicit_deny(PolicyType::Identity);
    }
    if resource.deny {
        return Evaluation::explicit_deny(PolicyType::Resource);
    }
    if same_account(request) {
        if request.caller.is_root() {
            Evaluation::allow(None)
        } else if resource.allow {
            Evaluation::allow(Some(PolicyType::Resource))
        } else if identity.allow {
            Evaluation::allow(Some(PolicyType::Identity))
        } else {
            Evaluation::implicit_deny(PolicyType::Identity)
        }
    } else {
        // The root user's side of a cross-account request is its own account: no identity
        // policy limits it.
        let identity_allows = request.caller.is_root() || identity.allow;
        let resource_allows = resource.allow || resource.allow_account;
        match (identity_allows, resource_allows) {
            (true, true) => Evaluation::allow(Some(PolicyType::Resource)),
            (false, _) => Evaluation::implicit_deny(PolicyType::Identity),
            (true, false) => Evaluation::implicit_deny(PolicyType::Resource),
        }
    }
}

/// Decides a request on a KMS key from the caller's identity policies and the key policy.
///
/// As AWS KMS documents: an explicit `Deny` in either wins; the key policy allows on its own
/// when a statement names the caller (or everyone); a statement that names an account
/// (`arn:aws:iam::<account>:root` or the account id; the default key policy's "Enable IAM
/// policies") lets that account's identity policies allow. The root user is a principal like
/// any other here: it is allowed only when the key policy names it or its account. A caller
/// from another account needs its identity policies to allow too.
pub fn evaluate_key_policy(
    request: &RequestContext,
    identity_policies: &[&Policy],
    key_policy: &Policy,
) -> Evaluation {
    let identity = identity_verdict(request, identity_policies);
    let key = policy_verdict(request, key_policy);
    if identity.deny {
        return Evaluation::explicit_deny(PolicyType::Identity);
    }
    if key.deny {
        return Evaluation::explicit_deny(PolicyType::Resource);
    }
    let root = request.caller.is_root();
    let identity_allows = root || identity.allow;
    if same_account(request) {
        if key.allow {
            Evaluation::allow(Some(PolicyType::Resource))
        } else if key.allow_account && identity_allows {
            Evaluation::allow(Some(PolicyType::Identity))
        } else if key.allow_account {
            Evaluation::implicit_deny(PolicyType::Identity)
        } else {
            Evaluation::implicit_deny(PolicyType::Resource)
        }
    } else if !(key.allow || key.allow_account) {
        Evaluation::implicit_deny(PolicyType::Resource)
    } else if identity_allows {
        Evaluation::allow(Some(PolicyType::Resource))
    } else {
        Evaluation::implicit_deny(PolicyType::Identity)
    }
}

/// Whether the resource belongs to the caller's account. A resource without an account in
/// its ARN (`*`) counts as the caller's.
fn same_account(request: &RequestContext) -> bool {
    request
        .resource_account()
        .is_none_or(|account| account == request.caller.account_id)
}

fn identity_verdict(request: &RequestContext, policies: &[&Policy]) -> Verdict {
    if request.caller.is_root() {
        return Verdict::default();
    }
    let mut verdict = Verdict::default();
    for policy in policies {
        let one = policy_verdict(request, policy);
        verdict.deny |= one.deny;
        verdict.allow |= one.allow;
        if verdict.deny {
            break;
        }
    }
    verdict
}

/// Goes through every statement of `policy` (stopping at the first applicable `Deny`).
fn policy_verdict(request: &RequestContext, policy: &Policy) -> Verdict {
    let variables = policy.version.has_policy_variables();
    let mut verdict = Verdict::default();
    for statement in &policy.statements {
        let principal = match &statement.principal {
            None => PrincipalMatch::Direct,
            Some(block) => principal_match(block, request),
        };
        if principal == PrincipalMatch::No || !statement_applies(statement, request, variables) {
            continue;
        }
        match statement.effect {
            Effect::Deny => {
                verdict.deny = true;
                break;
            }
            Effect::Allow if principal == PrincipalMatch::Direct => verdict.allow = true,
            Effect::Allow => verdict.allow_account = true,
        }
    }
    verdict
}

/// Whether the statement's action, resource and conditions match the request (its principal
/// is checked apart).
fn statement_applies(statement: &Statement, request: &RequestContext, variables: bool) -> bool {
    action_matches(&statement.action, &request.action)
        && resource_matches(statement.resource.as_ref(), request, variables)
        && statement
            .conditions
            .iter()
            .all(|condition| conditions::holds(condition, request, variables))
}

/// Actions compare ASCII case-insensitively, with `*` and `?`.
fn action_matches(block: &ActionBlock, action: &str) -> bool {
    let any = |patterns: &[String]| {
        patterns
            .iter()
            .any(|pattern| wildcard_match(pattern, action, Case::Insensitive))
    };
    match block {
        ActionBlock::Action(patterns) => any(patterns),
        ActionBlock::NotAction(patterns) => !any(patterns),
    }
}

/// Resources compare case-sensitively, with `*` and `?`, after policy variables. A pattern with
/// a variable the request cannot resolve makes the statement not apply (AWS: the statement
/// "may be invalid"), for `Resource` and `NotResource` alike.
fn resource_matches(
    block: Option<&ResourceBlock>,
    request: &RequestContext,
    variables: bool,
) -> bool {
    let (patterns, negated) = match block {
        // A resource policy statement without `Resource`: the resource it is attached to.
        None => return true,
        Some(ResourceBlock::Resource(patterns)) => (patterns, false),
        Some(ResourceBlock::NotResource(patterns)) => (patterns, true),
    };
    let mut any = false;
    for pattern in patterns {
        let Some(resolved) = resolve(pattern, request, variables) else {
            return false;
        };
        if resolved.like(&request.resource, Case::Sensitive) {
            any = true;
            if !negated {
                break;
            }
        }
    }
    any != negated
}

fn principal_match(block: &PrincipalBlock, request: &RequestContext) -> PrincipalMatch {
    match block {
        PrincipalBlock::Principal(principals) => principals_match(principals, request),
        // Everyone except those named: a caller named there (or whose account is) is left out.
        PrincipalBlock::NotPrincipal(principals) => match principals_match(principals, request) {
            PrincipalMatch::No => PrincipalMatch::Direct,
            PrincipalMatch::Account | PrincipalMatch::Direct => PrincipalMatch::No,
        },
    }
}

/// The closest relation between the caller and any of the principals.
fn principals_match(principals: &Principals, request: &RequestContext) -> PrincipalMatch {
    let map = match principals {
        Principals::Everyone => return PrincipalMatch::Direct,
        Principals::Map(map) => map,
    };
    // Only `AWS` principals can be Coffer's callers; services, web identities and S3
    // canonical users never are.
    let Some(values) = map.get(&PrincipalType::Aws) else {
        return PrincipalMatch::No;
    };
    values
        .iter()
        .map(|value| aws_principal_match(value, request))
        .max()
        .unwrap_or(PrincipalMatch::No)
}

fn aws_principal_match(value: &str, request: &RequestContext) -> PrincipalMatch {
    let caller = &request.caller;
    if value == "*" {
        return PrincipalMatch::Direct;
    }
    let account = if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
        Some(value)
    } else {
        account_root_arn(value)
    };
    if let Some(account) = account {
        return match (account == caller.account_id, caller.is_root()) {
            (false, _) => PrincipalMatch::No,
            (true, true) => PrincipalMatch::Direct,
            (true, false) => PrincipalMatch::Account,
        };
    }
    // An ARN of a user or role (naming a role covers its sessions), the session itself, or a
    // unique id (`AIDA...`, `AROA...`).
    let unique_id = caller.user_id.split(':').next().unwrap_or_default();
    if value == caller.arn || value == caller.principal_arn() || value == unique_id {
        PrincipalMatch::Direct
    } else {
        PrincipalMatch::No
    }
}

/// The account of `arn:<partition>:iam::<account>:root`.
fn account_root_arn(value: &str) -> Option<&str> {
    let mut fields = value.splitn(6, ':');
    let (arn, _partition, service, region, account, resource) = (
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
    );
    (arn == "arn" && service == "iam" && region.is_empty() && resource == "root").then_some(account)
}
