//! The parsed policy: what each element means, ready to be evaluated.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// Which side of an access decision a policy sits on. The grammar is the same; the rules about
/// principals differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// Attached to a user, group or role. Names no principal (the holder is the principal),
    /// and every statement names its resources.
    Identity,
    /// Attached to a resource, such as a secret. Every statement names its principals.
    Resource,
}

/// The `Version` element: the version of the policy language, not of the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyVersion {
    /// The original language, and the default when `Version` is absent. Policy variables such
    /// as `${aws:username}` are plain text in it.
    V2008_10_17,
    /// The current language, with policy variables.
    V2012_10_17,
}

impl PolicyVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyVersion::V2008_10_17 => "2008-10-17",
            PolicyVersion::V2012_10_17 => "2012-10-17",
        }
    }

    /// Whether `${...}` in values is a policy variable (true) or literal text (false).
    pub fn has_policy_variables(self) -> bool {
        self == PolicyVersion::V2012_10_17
    }
}

/// A whole policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub version: PolicyVersion,
    pub id: Option<String>,
    /// At least one. A document whose `Statement` is a single object has one statement here.
    pub statements: Vec<Statement>,
}

/// One statement. The elements of a statement are ANDed: it applies to a request when the
/// principal, the action, the resource and every condition match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    /// Always `Some` in a resource policy, always `None` in an identity policy.
    pub principal: Option<PrincipalBlock>,
    pub action: ActionBlock,
    /// Always `Some` in an identity policy. `None` in a resource policy means the resource the
    /// policy is attached to.
    pub resource: Option<ResourceBlock>,
    /// In document order: each operator's keys, one [`Condition`] per key.
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// `Principal` (the statement applies to these) or `NotPrincipal` (to everyone but these).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalBlock {
    Principal(Principals),
    NotPrincipal(Principals),
}

/// The value of `Principal` or `NotPrincipal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principals {
    /// `"*"`: everyone, including anonymous callers.
    Everyone,
    /// `{"AWS": ..., "Service": ...}`: at least one entry, each with at least one value.
    /// Values are kept as written: an account id (`123456789012`), an ARN, or `*` (in `AWS`,
    /// the same as [`Principals::Everyone`]).
    Map(BTreeMap<PrincipalType, Vec<String>>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PrincipalType {
    /// `AWS`: accounts, users, roles, sessions.
    Aws,
    /// `Service`: an AWS service such as `secretsmanager.amazonaws.com`.
    Service,
    /// `Federated`: a web identity or SAML provider.
    Federated,
    /// `CanonicalUser`: an S3 canonical user id.
    CanonicalUser,
}

impl PrincipalType {
    pub const ALL: [PrincipalType; 4] = [
        PrincipalType::Aws,
        PrincipalType::Service,
        PrincipalType::Federated,
        PrincipalType::CanonicalUser,
    ];

    /// The key in a principal map.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::Aws => "AWS",
            PrincipalType::Service => "Service",
            PrincipalType::Federated => "Federated",
            PrincipalType::CanonicalUser => "CanonicalUser",
        }
    }
}

/// `Action` (these actions) or `NotAction` (every action but these). Patterns are `*` or
/// `service:action`, where the action part may hold `*` and `?`; they match case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionBlock {
    Action(Vec<String>),
    NotAction(Vec<String>),
}

impl ActionBlock {
    /// The patterns, whichever way round they apply. Never empty.
    pub fn patterns(&self) -> &[String] {
        match self {
            ActionBlock::Action(patterns) | ActionBlock::NotAction(patterns) => patterns,
        }
    }
}

/// `Resource` (these resources) or `NotResource` (every resource but these). Patterns are `*`
/// or ARNs that may hold `*` and `?`; they match case-sensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceBlock {
    Resource(Vec<String>),
    NotResource(Vec<String>),
}

impl ResourceBlock {
    /// The patterns, whichever way round they apply. Never empty.
    pub fn patterns(&self) -> &[String] {
        match self {
            ResourceBlock::Resource(patterns) | ResourceBlock::NotResource(patterns) => patterns,
        }
    }
}

/// One key under one operator: `"StringEquals": {"aws:SourceVpc": ["vpc-1", "vpc-2"]}` is
/// one condition with two values (ORed). Conditions of a statement are ANDed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub operator: ConditionOperator,
    /// As written. Condition key names are case-insensitive: compare with
    /// [`Condition::key_is`].
    pub key: String,
    /// JSON booleans and numbers are turned into their text (`true`, `10`, `1.5`), as IAM
    /// compares them as strings. May be empty (`[]`), which IAM accepts; such a condition
    /// matches no value.
    pub values: Vec<String>,
}

impl Condition {
    /// Whether this condition tests the key `name` (ASCII case-insensitive, as IAM compares
    /// condition key names).
    pub fn key_is(&self, name: &str) -> bool {
        self.key.eq_ignore_ascii_case(name)
    }
}

/// A condition operator as written: an optional set operator, a base operator, and an optional
/// `IfExists` suffix, as in `ForAnyValue:StringLikeIfExists`. Operator names are case-sensitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConditionOperator {
    pub base: BaseOperator,
    /// `...IfExists`: the condition also holds when the request has no such key.
    pub if_exists: bool,
    /// `ForAnyValue:` / `ForAllValues:` for keys with several values; `None` for single values.
    pub set: Option<SetOperator>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOperator {
    /// `ForAnyValue:`: at least one value of the request matches.
    ForAnyValue,
    /// `ForAllValues:`: every value of the request matches (also true when it has none).
    ForAllValues,
}

impl SetOperator {
    /// The prefix, colon included.
    pub fn prefix(self) -> &'static str {
        match self {
            SetOperator::ForAnyValue => "ForAnyValue:",
            SetOperator::ForAllValues => "ForAllValues:",
        }
    }
}

macro_rules! base_operators {
    ($($variant:ident),* $(,)?) => {
        /// The condition operators of the IAM policy language.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum BaseOperator {
            $($variant,)*
        }

        impl BaseOperator {
            pub const ALL: &'static [BaseOperator] = &[$(BaseOperator::$variant,)*];

            /// The name, as written in a policy.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(BaseOperator::$variant => stringify!($variant),)*
                }
            }
        }
    };
}

base_operators!(
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
);

impl FromStr for BaseOperator {
    type Err = ();

    fn from_str(name: &str) -> Result<Self, ()> {
        BaseOperator::ALL
            .iter()
            .copied()
            .find(|op| op.as_str() == name)
            .ok_or(())
    }
}

impl FromStr for ConditionOperator {
    type Err = ();

    /// Parses `[ForAnyValue:|ForAllValues:]<base>[IfExists]`. `Null` takes no `IfExists`: it
    /// already asks whether the key exists.
    fn from_str(name: &str) -> Result<Self, ()> {
        let (set, rest) = if let Some(rest) = name.strip_prefix(SetOperator::ForAnyValue.prefix()) {
            (Some(SetOperator::ForAnyValue), rest)
        } else if let Some(rest) = name.strip_prefix(SetOperator::ForAllValues.prefix()) {
            (Some(SetOperator::ForAllValues), rest)
        } else {
            (None, name)
        };
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(base) => (base, true),
            None => (rest, false),
        };
        let base: BaseOperator = base.parse()?;
        if if_exists && base == BaseOperator::Null {
            return Err(());
        }
        Ok(ConditionOperator {
            base,
            if_exists,
            set,
        })
    }
}

impl fmt::Display for ConditionOperator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(set) = self.set {
            f.write_str(set.prefix())?;
        }
        f.write_str(self.base.as_str())?;
        if self.if_exists {
            f.write_str("IfExists")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operator_round_trips_with_every_decoration() {
        for &base in BaseOperator::ALL {
            for set in [
                None,
                Some(SetOperator::ForAnyValue),
                Some(SetOperator::ForAllValues),
            ] {
                for if_exists in [false, true] {
                    if if_exists && base == BaseOperator::Null {
                        continue;
                    }
                    let operator = ConditionOperator {
                        base,
                        if_exists,
                        set,
                    };
                    let name = operator.to_string();
                    assert_eq!(name.parse(), Ok(operator), "{name}");
                }
            }
        }
    }

    #[test]
    fn operator_names_are_case_sensitive_and_exact() {
        for name in [
            "stringEquals",
            "STRINGEQUALS",
            "StringEqual",
            "IfExists",
            "forAnyValue:StringEquals",
            "ForAnyValue:",
            "ForAnyValue:ForAllValues:StringEquals",
            "StringEqualsIfExistsIfExists",
            "NullIfExists",
            "StringEquals ",
            "",
        ] {
            assert_eq!(name.parse::<ConditionOperator>(), Err(()), "{name:?}");
        }
    }

    #[test]
    fn decorations_are_parsed_apart_from_the_base() {
        assert_eq!(
            "ForAllValues:ArnLikeIfExists".parse(),
            Ok(ConditionOperator {
                base: BaseOperator::ArnLike,
                if_exists: true,
                set: Some(SetOperator::ForAllValues),
            })
        );
    }
}
