//! What Secrets Manager checks on a resource policy beyond its grammar: broad (public) access,
//! and whether the policy would lock everyone out of changing it. See the module documentation
//! of [`crate::policy`] for the rules and why.

use std::net::IpAddr;

use super::model::{
    ActionBlock, BaseOperator, Condition, Effect, Policy, PrincipalBlock, Principals,
    ResourceBlock, SetOperator, Statement,
};
use super::wildcard::{Case, wildcard_match};

/// The service whose actions a secret's policy governs.
const SERVICE: &str = "secretsmanager";

/// The two actions that could undo a policy; denying both to everyone is a lockout.
const POLICY_ACTIONS: [&str; 2] = [
    "secretsmanager:PutResourcePolicy",
    "secretsmanager:DeleteResourcePolicy",
];

/// How a condition key can restrict the caller, if tested with fixed values.
#[derive(Debug, Clone, Copy)]
enum Pin {
    /// An account, organization, VPC or VPC endpoint id: the value must be fixed.
    Id,
    /// An ARN: fixed, or with wildcards only after a fixed account field.
    Arn,
    /// `aws:userid`: fixed, or `UNIQUEID:*` (a role's sessions).
    UserId,
    /// An organization path: fixed, or with wildcards only after a fixed `o-...` root.
    OrgPath,
    /// `aws:SourceIp` with `IpAddress`: CIDRs no wider than /8 (IPv4) or /32 (IPv6).
    Ip,
}

/// The condition keys that can limit who the caller is or where the call comes from to
/// something one owner controls. Names compare case-insensitively.
const PINNING_KEYS: &[(&str, Pin)] = &[
    ("aws:PrincipalAccount", Pin::Id),
    ("aws:PrincipalOrgID", Pin::Id),
    ("aws:PrincipalArn", Pin::Arn),
    ("aws:PrincipalOrgPaths", Pin::OrgPath),
    ("aws:userid", Pin::UserId),
    ("aws:SourceAccount", Pin::Id),
    ("aws:SourceOwner", Pin::Id),
    ("aws:SourceOrgID", Pin::Id),
    ("aws:SourceOrgPaths", Pin::OrgPath),
    ("aws:SourceArn", Pin::Arn),
    ("aws:SourceVpc", Pin::Id),
    ("aws:SourceVpce", Pin::Id),
    ("aws:SourceIp", Pin::Ip),
];

impl Policy {
    /// Whether the policy grants broad access to the secret it is attached to: Secrets
    /// Manager's `BlockPublicPolicy` check. True when at least one statement does
    /// ([`Statement::grants_public_access`]).
    pub fn is_public(&self) -> bool {
        self.statements.iter().any(Statement::grants_public_access)
    }

    /// The indices of the statements that grant public access.
    pub fn public_statements(&self) -> impl Iterator<Item = usize> + '_ {
        self.statements
            .iter()
            .enumerate()
            .filter(|(_, statement)| statement.grants_public_access())
            .map(|(i, _)| i)
    }

    /// When the policy denies both `PutResourcePolicy` and `DeleteResourcePolicy` to every
    /// principal on every resource without any condition, the statements that do (one for each
    /// action, possibly the same): once attached, nobody could change or remove it.
    pub fn lockout_statements(&self) -> Option<(usize, usize)> {
        let [put, delete] = POLICY_ACTIONS.map(|action| {
            self.statements
                .iter()
                .position(|statement| statement.denies_everyone_unconditionally(action))
        });
        Some((put?, delete?))
    }
}

impl Statement {
    /// Whether this statement lets anyone at all call Secrets Manager actions: an `Allow`,
    /// for everyone (`"*"`, a `*` among the principals, or `NotPrincipal`), for some
    /// `secretsmanager:` action, with no condition that pins the caller down.
    pub fn grants_public_access(&self) -> bool {
        self.effect == Effect::Allow
            && self.principal.as_ref().is_some_and(applies_to_everyone)
            && may_allow_service(&self.action, SERVICE)
            && !self.conditions.iter().any(pins_caller)
    }

    fn denies_everyone_unconditionally(&self, action: &str) -> bool {
        // `NotPrincipal` excepts someone, who could still fix the policy.
        let everyone = matches!(
            &self.principal,
            Some(PrincipalBlock::Principal(principals)) if includes_everyone(principals)
        );
        self.effect == Effect::Deny
            && everyone
            && self.conditions.is_empty()
            && covers_action(&self.action, action)
            && match &self.resource {
                None => true,
                Some(ResourceBlock::Resource(patterns)) => patterns.iter().any(|p| p == "*"),
                Some(ResourceBlock::NotResource(_)) => false,
            }
    }
}

/// Whether a statement with this principal block applies to any caller whatever.
fn applies_to_everyone(block: &PrincipalBlock) -> bool {
    match block {
        PrincipalBlock::Principal(principals) => includes_everyone(principals),
        // Everyone except a few; unless it excepts everyone.
        PrincipalBlock::NotPrincipal(principals) => !includes_everyone(principals),
    }
}

fn includes_everyone(principals: &Principals) -> bool {
    match principals {
        Principals::Everyone => true,
        Principals::Map(map) => map.values().flatten().any(|value| value == "*"),
    }
}

/// Whether an action block can allow some action of `service`.
fn may_allow_service(block: &ActionBlock, service: &str) -> bool {
    let of_service = |pattern: &str| {
        pattern
            .split_once(':')
            .is_some_and(|(prefix, _)| prefix.eq_ignore_ascii_case(service))
    };
    match block {
        ActionBlock::Action(patterns) => patterns.iter().any(|p| p == "*" || of_service(p)),
        // Unless one of the exceptions is every action of the service.
        ActionBlock::NotAction(patterns) => !patterns.iter().any(|p| {
            p == "*"
                || (of_service(p)
                    && p.split_once(':')
                        .is_some_and(|(_, name)| name.chars().all(|c| c == '*')))
        }),
    }
}

fn covers_action(block: &ActionBlock, action: &str) -> bool {
    let matches = |patterns: &[String]| {
        patterns
            .iter()
            .any(|pattern| wildcard_match(pattern, action, Case::Insensitive))
    };
    match block {
        ActionBlock::Action(patterns) => matches(patterns),
        ActionBlock::NotAction(patterns) => !matches(patterns),
    }
}

/// Whether a condition limits the caller to something one owner controls: a pinning key,
/// tested for a positive match (not `...Not...`), without `IfExists` (which lets requests
/// without the key through) or `ForAllValues:` (true for requests without the key), and with
/// values that are all fixed in the sense of [`Pin`].
fn pins_caller(condition: &Condition) -> bool {
    let operator = condition.operator;
    if operator.if_exists
        || operator.set == Some(SetOperator::ForAllValues)
        || condition.values.is_empty()
    {
        return false;
    }
    let Some(&(_, pin)) = PINNING_KEYS.iter().find(|(key, _)| condition.key_is(key)) else {
        return false;
    };
    let string_match = matches!(
        operator.base,
        BaseOperator::StringEquals
            | BaseOperator::StringEqualsIgnoreCase
            | BaseOperator::StringLike
    );
    let arn_match = matches!(
        operator.base,
        BaseOperator::ArnEquals | BaseOperator::ArnLike
    );
    let values = &condition.values;
    match pin {
        Pin::Id => string_match && values.iter().all(|v| fixed(v)),
        Pin::Arn => {
            (string_match || arn_match) && values.iter().all(|v| fixed(v) || fixed_account(v))
        }
        Pin::UserId => string_match && values.iter().all(|v| fixed_up_to(v, ':')),
        Pin::OrgPath => string_match && values.iter().all(|v| fixed_up_to(v, '/')),
        Pin::Ip => operator.base == BaseOperator::IpAddress && values.iter().all(|v| narrow(v)),
    }
}

/// No wildcard, no policy variable, not empty.
fn fixed(value: &str) -> bool {
    !value.is_empty() && !value.contains(['*', '?']) && !value.contains("${")
}

/// Fixed, or fixed up to the first `separator` (wildcards may follow it).
fn fixed_up_to(value: &str, separator: char) -> bool {
    fixed(value)
        || value
            .split_once(separator)
            .is_some_and(|(head, _)| fixed(head))
}

/// An ARN with a fixed account field, and no wildcard or variable before it (a `*` there could
/// swallow colons and move the account field).
fn fixed_account(value: &str) -> bool {
    let fields: Vec<&str> = value.splitn(6, ':').collect();
    let plain = |field: &&str| !field.contains(['*', '?']) && !field.contains("${");
    fields.len() == 6 && fields[0] == "arn" && fields[1..4].iter().all(plain) && fixed(fields[4])
}

/// An IP address or CIDR block no wider than /8 (IPv4) or /32 (IPv6).
fn narrow(value: &str) -> bool {
    let (address, prefix) = match value.split_once('/') {
        Some((address, prefix)) => (address, prefix.parse::<u8>().ok()),
        None => (value, None),
    };
    match (address.parse::<IpAddr>(), prefix) {
        (Ok(IpAddr::V4(_)), Some(prefix)) => (8..=32).contains(&prefix),
        (Ok(IpAddr::V6(_)), Some(prefix)) => (32..=128).contains(&prefix),
        (Ok(_), None) => !value.contains('/'),
        (Err(_), _) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_cidrs() {
        for value in [
            "203.0.113.7",
            "203.0.113.0/24",
            "10.0.0.0/8",
            "2001:db8::/32",
            "::1",
        ] {
            assert!(narrow(value), "{value}");
        }
        for value in [
            "0.0.0.0/0",
            "0.0.0.0/1",
            "10.0.0.0/7",
            "::/0",
            "2001:db8::/31",
            "10.0.0.0/33",
            "10.0.0.0/",
            "10.0.0.0/x",
            "not an ip",
            "",
        ] {
            assert!(!narrow(value), "{value}");
        }
    }

    #[test]
    fn fixed_values() {
        assert!(fixed("123456789012"));
        assert!(!fixed(""));
        assert!(!fixed("1234*"));
        assert!(!fixed("12345678901?"));
        assert!(!fixed("${aws:PrincipalAccount}"));
        assert!(fixed_up_to("AROAEXAMPLEID:*", ':'));
        assert!(!fixed_up_to("*:session", ':'));
        assert!(fixed_up_to("o-a1b2c3d4e5/r-ab12/*", '/'));
        assert!(!fixed_up_to("o-*/r-ab12", '/'));
        assert!(fixed_account("arn:aws:iam::123456789012:role/app-*"));
        assert!(!fixed_account("arn:aws:iam::*:role/app"));
        assert!(!fixed_account("arn:aws:s3:::bucket-*"));
        assert!(!fixed_account("arn:*:iam::123456789012:role/x"));
        assert!(fixed_account("arn:aws:iam::123456789012:root"));
        assert!(!fixed_account("arn:aws:iam::123456789012"));
    }
}
