//! From a JSON document to a [`Policy`], enforcing the grammar of the IAM policy language.
//!
//! Checks run in document order, and the first problem found is the error. Paths in messages
//! count statements from 0 (`Statement[0]`), also when `Statement` is a single object.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::error::{PolicyError, quote};
use super::json::{self, Json};
use super::model::{
    ActionBlock, Condition, ConditionOperator, Effect, Policy, PolicyKind, PolicyVersion,
    PrincipalBlock, PrincipalType, Principals, ResourceBlock, Statement,
};

/// The path of the document itself, as messages name it.
const ROOT: &str = "The policy";

const POLICY_ELEMENTS: &[&str] = &["Version", "Id", "Statement"];

const STATEMENT_ELEMENTS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

type Members = [(String, Json)];

pub(super) fn parse(document: &str, kind: PolicyKind) -> Result<Policy, PolicyError> {
    let root = json::parse(document).map_err(PolicyError::NotJson)?;
    let members = object(&root, ROOT, "a JSON object")?;
    check_names(members, ROOT, Some(POLICY_ELEMENTS))?;

    let version = match member(members, "Version") {
        None => PolicyVersion::V2008_10_17,
        Some(value) => parse_version(value)?,
    };
    let id = member(members, "Id")
        .map(|value| string(value, "Id").map(str::to_owned))
        .transpose()?;
    let statement = member(members, "Statement").ok_or_else(|| PolicyError::Missing {
        at: ROOT.to_owned(),
        element: quote("Statement"),
    })?;
    let statements = match statement {
        Json::Object(_) => vec![parse_statement(statement, "Statement[0]", kind)?],
        Json::Array(items) if items.is_empty() => {
            return Err(PolicyError::invalid(
                "Statement",
                "must hold at least one statement",
            ));
        }
        Json::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| parse_statement(item, &format!("Statement[{i}]"), kind))
            .collect::<Result<_, _>>()?,
        other => {
            return Err(PolicyError::WrongType {
                at: "Statement".to_owned(),
                expected: "an object or a list of objects",
                found: other.type_name(),
            });
        }
    };
    check_unique_sids(&statements)?;
    Ok(Policy {
        version,
        id,
        statements,
    })
}

fn parse_version(value: &Json) -> Result<PolicyVersion, PolicyError> {
    match string(value, "Version")? {
        "2012-10-17" => Ok(PolicyVersion::V2012_10_17),
        "2008-10-17" => Ok(PolicyVersion::V2008_10_17),
        other => Err(PolicyError::invalid(
            "Version",
            format!(
                "is {}, but the policy language has only the versions \"2012-10-17\" and \
                 \"2008-10-17\"",
                quote(other)
            ),
        )),
    }
}

fn parse_statement(value: &Json, at: &str, kind: PolicyKind) -> Result<Statement, PolicyError> {
    let members = object(value, at, "an object")?;
    check_names(members, at, Some(STATEMENT_ELEMENTS))?;

    let sid = member(members, "Sid")
        .map(|value| parse_sid(value, &child(at, "Sid"), kind))
        .transpose()?;

    let effect = match member(members, "Effect") {
        None => {
            return Err(PolicyError::Missing {
                at: at.to_owned(),
                element: quote("Effect"),
            });
        }
        Some(value) => parse_effect(value, &child(at, "Effect"))?,
    };

    let principal = match (exclusive(members, at, "Principal", "NotPrincipal")?, kind) {
        (None, PolicyKind::Identity) => None,
        (None, PolicyKind::Resource) => {
            return Err(PolicyError::Missing {
                at: at.to_owned(),
                element: "\"Principal\" or \"NotPrincipal\" (a resource-based policy must say \
                          whom it applies to)"
                    .to_owned(),
            });
        }
        (Some((name, _)), PolicyKind::Identity) => {
            return Err(PolicyError::invalid(
                at,
                format!(
                    "cannot have {}: an identity-based policy applies to the identity it is \
                     attached to and names no principal",
                    quote(name)
                ),
            ));
        }
        (Some((name, value)), PolicyKind::Resource) => {
            let principals = parse_principals(value, &child(at, name))?;
            Some(if name == "Principal" {
                PrincipalBlock::Principal(principals)
            } else {
                PrincipalBlock::NotPrincipal(principals)
            })
        }
    };

    let action = match exclusive(members, at, "Action", "NotAction")? {
        None => {
            return Err(PolicyError::Missing {
                at: at.to_owned(),
                element: "\"Action\" or \"NotAction\"".to_owned(),
            });
        }
        Some((name, value)) => {
            let at = child(at, name);
            let patterns = string_list(value, &at)?;
            for (item_at, pattern) in &patterns {
                check_action(item_at, pattern)?;
            }
            let patterns = owned(patterns);
            if name == "Action" {
                ActionBlock::Action(patterns)
            } else {
                ActionBlock::NotAction(patterns)
            }
        }
    };

    let resource = match exclusive(members, at, "Resource", "NotResource")? {
        None if kind == PolicyKind::Identity => {
            return Err(PolicyError::Missing {
                at: at.to_owned(),
                element: "\"Resource\" or \"NotResource\" (an identity-based policy must say \
                          which resources it applies to)"
                    .to_owned(),
            });
        }
        None => None,
        Some((name, value)) => {
            let at = child(at, name);
            let patterns = string_list(value, &at)?;
            for (item_at, pattern) in &patterns {
                check_resource(item_at, pattern)?;
            }
            let patterns = owned(patterns);
            Some(if name == "Resource" {
                ResourceBlock::Resource(patterns)
            } else {
                ResourceBlock::NotResource(patterns)
            })
        }
    };

    let conditions = match member(members, "Condition") {
        None => Vec::new(),
        Some(value) => parse_conditions(value, &child(at, "Condition"))?,
    };

    Ok(Statement {
        sid,
        effect,
        principal,
        action,
        resource,
        conditions,
    })
}

fn parse_sid(value: &Json, at: &str, kind: PolicyKind) -> Result<String, PolicyError> {
    let sid = string(value, at)?;
    if kind == PolicyKind::Identity && !sid.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(PolicyError::invalid(
            at,
            format!(
                "is {}, but a Sid in an identity-based policy may hold only ASCII letters and \
                 digits",
                quote(sid)
            ),
        ));
    }
    Ok(sid.to_owned())
}

fn parse_effect(value: &Json, at: &str) -> Result<Effect, PolicyError> {
    match value {
        Json::String(effect) if effect == "Allow" => Ok(Effect::Allow),
        Json::String(effect) if effect == "Deny" => Ok(Effect::Deny),
        Json::String(other) => Err(PolicyError::invalid(
            at,
            format!(
                "must be \"Allow\" or \"Deny\" (case-sensitive), not {}",
                quote(other)
            ),
        )),
        other => Err(PolicyError::WrongType {
            at: at.to_owned(),
            expected: "the string \"Allow\" or \"Deny\"",
            found: other.type_name(),
        }),
    }
}

fn parse_principals(value: &Json, at: &str) -> Result<Principals, PolicyError> {
    let members = match value {
        Json::String(everyone) if everyone == "*" => return Ok(Principals::Everyone),
        Json::String(other) => {
            return Err(PolicyError::invalid(
                at,
                format!(
                    "is {}, but a principal must be \"*\" or an object such as \
                     {{\"AWS\": \"arn:aws:iam::123456789012:root\"}}",
                    quote(other)
                ),
            ));
        }
        Json::Object(members) => members,
        other => {
            return Err(PolicyError::WrongType {
                at: at.to_owned(),
                expected: "\"*\" or an object of principals",
                found: other.type_name(),
            });
        }
    };
    let names = PrincipalType::ALL.map(PrincipalType::as_str);
    check_names(members, at, Some(&names))?;
    if members.is_empty() {
        return Err(PolicyError::invalid(
            at,
            "must name at least one principal, such as {\"AWS\": \"123456789012\"}",
        ));
    }
    let mut map = BTreeMap::new();
    for (name, value) in members {
        let Some(principal_type) = PrincipalType::ALL.into_iter().find(|t| t.as_str() == name)
        else {
            continue; // unreachable: check_names let only these names through
        };
        let entry_at = child(at, name);
        let values = string_list(value, &entry_at)?;
        for (value_at, principal) in &values {
            check_principal(principal_type, value_at, principal)?;
        }
        map.insert(principal_type, owned(values));
    }
    Ok(Principals::Map(map))
}

fn check_principal(
    principal_type: PrincipalType,
    at: &str,
    principal: &str,
) -> Result<(), PolicyError> {
    if principal.trim().is_empty() {
        return Err(PolicyError::invalid(at, "must not be empty"));
    }
    if principal_type != PrincipalType::Aws || principal == "*" {
        return Ok(());
    }
    if principal.contains(['*', '?']) {
        return Err(PolicyError::invalid(
            at,
            format!(
                "is {}, but a wildcard can only stand alone as \"*\" (everyone), not inside an \
                 account id or ARN",
                quote(principal)
            ),
        ));
    }
    let account_id = principal.len() == 12 && principal.bytes().all(|b| b.is_ascii_digit());
    let arn = principal.starts_with("arn:") && principal.splitn(6, ':').count() == 6;
    // The unique id IAM shows in place of a deleted user or role (AIDA..., AROA...).
    let unique_id = principal.len() >= 16
        && principal.starts_with('A')
        && principal
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if account_id || arn || unique_id {
        Ok(())
    } else {
        Err(PolicyError::invalid(
            at,
            format!(
                "is {}, but an AWS principal must be \"*\", a 12-digit account id or an ARN \
                 such as \"arn:aws:iam::123456789012:role/Name\"",
                quote(principal)
            ),
        ))
    }
}

/// An action pattern: `*`, or `service:action` where the service prefix is letters, digits and
/// hyphens and the action name is letters, digits, `-`, `_` and the wildcards `*` and `?`.
fn check_action(at: &str, action: &str) -> Result<(), PolicyError> {
    if action == "*" {
        return Ok(());
    }
    let Some((service, name)) = action.split_once(':') else {
        return Err(PolicyError::invalid(
            at,
            format!(
                "is {}, but an action must be \"*\" or \"service:action\", such as \
                 \"secretsmanager:GetSecretValue\"",
                quote(action)
            ),
        ));
    };
    if name.contains(':') {
        return Err(PolicyError::invalid(
            at,
            format!(
                "is {}, but an action has exactly one colon, between the service prefix and \
                 the action name",
                quote(action)
            ),
        ));
    }
    if service.is_empty()
        || !service
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(PolicyError::invalid(
            at,
            format!(
                "is {}, but a service prefix is letters, digits and hyphens, without wildcards",
                quote(action)
            ),
        ));
    }
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '*' | '?' | '-' | '_'))
    {
        return Err(PolicyError::invalid(
            at,
            format!(
                "is {}, but an action name is letters and digits, with the wildcards * and ?",
                quote(action)
            ),
        ));
    }
    Ok(())
}

/// A resource pattern: `*`, or an ARN `arn:partition:service:region:account:resource`, which
/// may be cut short by a wildcard (`arn:aws:secretsmanager:*`).
fn check_resource(at: &str, resource: &str) -> Result<(), PolicyError> {
    let arn = resource.starts_with("arn:")
        && (resource.splitn(6, ':').count() == 6 || resource.contains('*'));
    if resource == "*" || arn {
        Ok(())
    } else {
        Err(PolicyError::invalid(
            at,
            format!(
                "is {}, but a resource must be \"*\" or an ARN \
                 (arn:partition:service:region:account:resource)",
                quote(resource)
            ),
        ))
    }
}

fn parse_conditions(value: &Json, at: &str) -> Result<Vec<Condition>, PolicyError> {
    let operators = object(value, at, "an object of condition operators")?;
    check_names(operators, at, None)?;
    let mut conditions = Vec::new();
    for (name, block) in operators {
        let operator: ConditionOperator = name.parse().map_err(|()| unknown_operator(at, name))?;
        let operator_at = format!("{at}[{}]", quote(name));
        let keys = object(block, &operator_at, "an object of condition keys")?;
        check_names(keys, &operator_at, None)?;
        for (key, values) in keys {
            let key_at = format!("{operator_at}[{}]", quote(key));
            let well_formed = key
                .split_once(':')
                .is_some_and(|(prefix, name)| !prefix.is_empty() && !name.is_empty());
            if !well_formed {
                return Err(PolicyError::invalid(
                    &operator_at,
                    format!(
                        "has the condition key {}, but a condition key is \"prefix:name\", such \
                         as \"aws:SourceVpc\"",
                        quote(key)
                    ),
                ));
            }
            conditions.push(Condition {
                operator,
                key: key.clone(),
                values: condition_values(values, &key_at)?,
            });
        }
    }
    Ok(conditions)
}

fn unknown_operator(at: &str, name: &str) -> PolicyError {
    let problem = if name.ends_with("NullIfExists") {
        format!(
            "uses {}, but the Null operator cannot take IfExists",
            quote(name)
        )
    } else {
        format!(
            "uses the unknown condition operator {} (operator names are case-sensitive, such as \
             \"StringEquals\" or \"ForAnyValue:StringLike\")",
            quote(name)
        )
    };
    PolicyError::invalid(at, problem)
}

/// A condition's values as text: IAM compares the JSON `true` and the string `"true"` alike.
fn condition_values(value: &Json, at: &str) -> Result<Vec<String>, PolicyError> {
    fn scalar(value: &Json) -> Option<String> {
        match value {
            Json::String(text) => Some(text.clone()),
            Json::Number(number) => Some(number.to_string()),
            Json::Bool(boolean) => Some(boolean.to_string()),
            Json::Null | Json::Array(_) | Json::Object(_) => None,
        }
    }
    match value {
        Json::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                scalar(item).ok_or_else(|| PolicyError::WrongType {
                    at: format!("{at}[{i}]"),
                    expected: "a string, number or boolean",
                    found: item.type_name(),
                })
            })
            .collect(),
        other => scalar(other)
            .map(|text| vec![text])
            .ok_or_else(|| PolicyError::WrongType {
                at: at.to_owned(),
                expected: "a string, number or boolean, or a list of them",
                found: other.type_name(),
            }),
    }
}

fn check_unique_sids(statements: &[Statement]) -> Result<(), PolicyError> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, statement) in statements.iter().enumerate() {
        let Some(sid) = statement.sid.as_deref().filter(|sid| !sid.is_empty()) else {
            continue;
        };
        if let Some(&first) = seen.get(sid) {
            return Err(PolicyError::invalid(
                &format!("Statement[{i}].Sid"),
                format!(
                    "is {}, the Sid of Statement[{first}] too; Sids must be unique within a policy",
                    quote(sid)
                ),
            ));
        }
        seen.insert(sid, i);
    }
    Ok(())
}

// Helpers over the JSON tree.

fn child(at: &str, name: &str) -> String {
    if at == ROOT {
        name.to_owned()
    } else {
        format!("{at}.{name}")
    }
}

fn object<'a>(
    value: &'a Json,
    at: &str,
    expected: &'static str,
) -> Result<&'a Members, PolicyError> {
    match value {
        Json::Object(members) => Ok(members),
        other => Err(PolicyError::WrongType {
            at: at.to_owned(),
            expected,
            found: other.type_name(),
        }),
    }
}

/// Rejects a name given twice and, when `allowed` is given, a name not in it.
fn check_names(members: &Members, at: &str, allowed: Option<&[&str]>) -> Result<(), PolicyError> {
    let mut seen = HashSet::new();
    for (name, _) in members {
        if allowed.is_some_and(|allowed| !allowed.contains(&name.as_str())) {
            return Err(PolicyError::UnknownElement {
                at: at.to_owned(),
                element: quote(name),
            });
        }
        if !seen.insert(name.as_str()) {
            return Err(PolicyError::DuplicateElement {
                at: at.to_owned(),
                element: quote(name),
            });
        }
    }
    Ok(())
}

fn member<'a>(members: &'a Members, name: &str) -> Option<&'a Json> {
    members
        .iter()
        .find(|(member, _)| member == name)
        .map(|(_, value)| value)
}

/// At most one of two elements that exclude each other.
fn exclusive<'a>(
    members: &'a Members,
    at: &str,
    first: &'static str,
    second: &'static str,
) -> Result<Option<(&'static str, &'a Json)>, PolicyError> {
    match (member(members, first), member(members, second)) {
        (Some(_), Some(_)) => Err(PolicyError::Conflict {
            at: at.to_owned(),
            first,
            second,
        }),
        (Some(value), None) => Ok(Some((first, value))),
        (None, Some(value)) => Ok(Some((second, value))),
        (None, None) => Ok(None),
    }
}

fn string<'a>(value: &'a Json, at: &str) -> Result<&'a str, PolicyError> {
    match value {
        Json::String(text) => Ok(text),
        other => Err(PolicyError::WrongType {
            at: at.to_owned(),
            expected: "a string",
            found: other.type_name(),
        }),
    }
}

/// A string, or a non-empty list of strings, each with its path.
fn string_list<'a>(value: &'a Json, at: &str) -> Result<Vec<(String, &'a str)>, PolicyError> {
    match value {
        Json::String(text) => Ok(vec![(at.to_owned(), text.as_str())]),
        Json::Array(items) if items.is_empty() => {
            Err(PolicyError::invalid(at, "must not be an empty list"))
        }
        Json::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let item_at = format!("{at}[{i}]");
                string(item, &item_at).map(|text| (item_at, text))
            })
            .collect(),
        other => Err(PolicyError::WrongType {
            at: at.to_owned(),
            expected: "a string or a list of strings",
            found: other.type_name(),
        }),
    }
}

fn owned(items: Vec<(String, &str)>) -> Vec<String> {
    items.into_iter().map(|(_, text)| text.to_owned()).collect()
}
