//! The IAM policy language: parsing JSON policy documents into a model made for evaluation, and
//! the checks Secrets Manager runs on a secret's resource policy.
//!
//! Pure: no I/O, no clock. The caller enforces the size limit ([`MAX_RESOURCE_POLICY_CHARS`])
//! and maps errors to the API (`MalformedPolicyDocumentException`, `PublicPolicyException`).
//!
//! # Grammar
//!
//! [`parse`] follows the grammar in the IAM User Guide ("Grammar of the IAM JSON policy
//! language") and the rules IAM enforces around it:
//!
//! - The document is a JSON object with `Statement` and optionally `Version` and `Id`. No other
//!   element, and no element twice in one object, anywhere (element names are case-sensitive).
//! - `Version` is `2012-10-17` or `2008-10-17`; absent means `2008-10-17`.
//! - `Statement` is one statement object or a non-empty list of them. Non-empty `Sid`s are
//!   unique within the policy; in an identity policy a `Sid` holds only ASCII letters and
//!   digits (resource policies of other services allow more, so resource policies take any
//!   string).
//! - `Effect` is `Allow` or `Deny`, case-sensitive.
//! - A resource policy statement has exactly one of `Principal`/`NotPrincipal`; an identity
//!   policy statement has neither. A principal is `"*"` or an object with the keys `AWS`,
//!   `Service`, `Federated`, `CanonicalUser`, each a string or non-empty list of strings. An
//!   `AWS` principal is `*`, a 12-digit account id, an ARN, or an IAM unique id (`AIDA...`);
//!   a wildcard inside an account id or ARN is rejected, as IAM does.
//! - Exactly one of `Action`/`NotAction`: a string or non-empty list of `*` or
//!   `service:action` (service prefix without wildcards, one colon).
//! - At most one of `Resource`/`NotResource` (exactly one in identity policies): a string or
//!   non-empty list of `*` or ARNs. A resource policy statement without one applies to the
//!   resource it is attached to.
//! - `Condition` is an object of operator → object of key → value or list of values. Operators
//!   are the IAM operators, case-sensitive, with optional `ForAnyValue:`/`ForAllValues:` and
//!   `IfExists` (not on `Null`). Keys are `prefix:name`. Values are strings, numbers or
//!   booleans (kept as text: `true`, `10`); an empty list is accepted, as IAM does.
//!
//! # Public policies (`BlockPublicPolicy`)
//!
//! AWS decides with Zelkova, an automated reasoner, following the rule Amazon S3 documents for
//! "public": a policy is public unless every grant is limited to things one owner controls.
//! [`Policy::is_public`] approximates it statement by statement; a statement grants public
//! access when all of these hold:
//!
//! 1. `Effect` is `Allow` (a `Deny` never grants anything);
//! 2. it applies to everyone: `Principal` is `"*"` or has a `*` among its values (any key, not
//!    only `AWS`), or it is a `NotPrincipal` (everyone except a few) that does not except `*`;
//! 3. it can allow some `secretsmanager:` action (`Action` has `*` or a `secretsmanager:`
//!    pattern; `NotAction` does not except `*` or `secretsmanager:*`);
//! 4. none of its conditions pins the caller down. A condition pins when it tests one of
//!    `aws:PrincipalAccount`, `aws:PrincipalOrgID`, `aws:PrincipalArn`, `aws:PrincipalOrgPaths`,
//!    `aws:userid`, `aws:SourceAccount`, `aws:SourceOwner`, `aws:SourceOrgID`,
//!    `aws:SourceOrgPaths`, `aws:SourceArn`, `aws:SourceVpc`, `aws:SourceVpce` (key names
//!    case-insensitive) with `StringEquals`, `StringEqualsIgnoreCase` or `StringLike` (and, for
//!    the ARN keys, `ArnEquals`/`ArnLike`), or `aws:SourceIp` with `IpAddress`; without
//!    `IfExists` (requests lacking the key would pass) or `ForAllValues:` (true when the key is
//!    absent); and with only fixed values: no `*`, `?` or `${...}`, except that an ARN may have
//!    wildcards after a fixed account field, `aws:userid` after `UNIQUEID:`, an organization
//!    path after its `o-...` root, and an IP range must be no wider than /8 (IPv4) or /32
//!    (IPv6).
//!
//! Deliberate choices: `aws:username` does not pin (user names are not unique across
//! accounts: anyone can create a user called `alice`); neither do negated operators
//! (`StringNotEquals` grants everyone else) nor wildcard values. `Resource` is not considered:
//! a secret's policy applies to that secret, and when unsure the check errs on the side of
//! "public". Conditions on other keys (`aws:SecureTransport`, tags, dates) never pin.
//!
//! # ValidateResourcePolicy
//!
//! AWS documents three checks (broad access through Zelkova, syntax, and that the policy does
//! not lock out the caller) and returns `PolicyValidationPassed` with `ValidationErrors`, each
//! a `CheckName` and an `ErrorMessage`. AWS does not document its check names, so [`validate`]
//! uses its own ([`Check::name`]): a document that does not parse gives exactly one
//! `SYNTAX_CHECK` finding with the [`PolicyError`] message; a parsed one gives a
//! `BROAD_ACCESS_CHECK` finding per public statement and a `LOCKOUT_CHECK` finding when
//! statements deny both `secretsmanager:PutResourcePolicy` and
//! `secretsmanager:DeleteResourcePolicy` to everyone, on `*` (or the secret itself), without
//! condition. No finding means the policy passed.
//!
//! # Evaluation
//!
//! [`evaluate`] decides a request ([`RequestContext`]) from the caller's identity policies and
//! the resource's policy; [`evaluate_key_policy`] does the same for a KMS key and its key
//! policy. Both read the parsed model (nothing is parsed per request) and give an
//! [`Evaluation`]: the [`Decision`] and the [`PolicyType`] behind it, from which
//! [`Evaluation::denial_message`] renders AWS's access-denied message. The rules and their
//! sources are in the documentation of the `evaluate` and `conditions` modules.

mod checks;
mod conditions;
mod context;
mod error;
mod evaluate;
#[cfg(test)]
mod evaluate_tests;
mod json;
mod model;
mod parse;
#[cfg(test)]
mod tests;
mod wildcard;

pub use context::{Caller, CallerKind, ContextValue, RequestContext};
pub use error::PolicyError;
pub use evaluate::{
    Decision, Evaluation, PolicyType, access_denied_message, evaluate, evaluate_key_policy,
};
pub use model::{
    ActionBlock, BaseOperator, Condition, ConditionOperator, Effect, Policy, PolicyKind,
    PolicyVersion, PrincipalBlock, PrincipalType, Principals, ResourceBlock, SetOperator,
    Statement,
};
pub use wildcard::{Case, wildcard_match};

/// The longest resource policy Secrets Manager accepts, in characters (the caller checks it).
pub const MAX_RESOURCE_POLICY_CHARS: usize = 20_480;

/// Parses a policy document of the given kind. See the module documentation for the rules.
pub fn parse(document: &str, kind: PolicyKind) -> Result<Policy, PolicyError> {
    parse::parse(document, kind)
}

/// A check of `ValidateResourcePolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// The document follows the policy grammar.
    Syntax,
    /// The policy does not grant access to everyone.
    BroadAccess,
    /// The policy does not stop everyone from changing or deleting it.
    Lockout,
}

impl Check {
    /// The `CheckName` of a validation error.
    pub fn name(self) -> &'static str {
        match self {
            Check::Syntax => "SYNTAX_CHECK",
            Check::BroadAccess => "BROAD_ACCESS_CHECK",
            Check::Lockout => "LOCKOUT_CHECK",
        }
    }
}

/// A failed check: a `ValidationErrorsEntry`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub check: Check,
    /// The `ErrorMessage`.
    pub message: String,
}

/// Runs the `ValidateResourcePolicy` checks. An empty list means the policy passed.
pub fn validate(document: &str, kind: PolicyKind) -> Vec<Finding> {
    let policy = match parse(document, kind) {
        Ok(policy) => policy,
        Err(error) => {
            return vec![Finding {
                check: Check::Syntax,
                message: error.to_string(),
            }];
        }
    };
    let mut findings: Vec<Finding> = policy
        .public_statements()
        .map(|i| Finding {
            check: Check::BroadAccess,
            message: format!(
                "Statement[{i}] allows everyone to call Secrets Manager actions on this secret: \
                 its principal is \"*\" (or NotPrincipal) and no condition limits the caller to \
                 specific accounts, organizations, ARNs, VPCs or IP ranges."
            ),
        })
        .collect();
    if let Some((put, delete)) = policy.lockout_statements() {
        let by = if put == delete {
            format!("Statement[{put}] denies")
        } else {
            format!("Statement[{put}] and Statement[{delete}] deny")
        };
        findings.push(Finding {
            check: Check::Lockout,
            message: format!(
                "{by} secretsmanager:PutResourcePolicy and secretsmanager:DeleteResourcePolicy to \
                 every principal without a condition: once attached, nobody, you included, could \
                 change or remove this policy."
            ),
        });
    }
    findings
}
