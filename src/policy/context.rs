//! The request context: who calls, what they ask for, on what, and the condition keys of the
//! request, as policy evaluation reads them.
//!
//! Condition key names compare ASCII case-insensitively (`aws:SourceIP` is `aws:SourceIp`); the
//! part after the prefix of a tag key (`aws:ResourceTag/<tag-key>`) and of an encryption context
//! key (`kms:EncryptionContext:<context-key>`) compares exactly, as tag keys and encryption
//! context keys are case-sensitive in AWS.

use std::borrow::Cow;
use std::net::IpAddr;

use super::conditions::format_iso8601;

/// What kind of principal the caller is (`aws:PrincipalType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerKind {
    /// The account's root identity (`aws:PrincipalType` is `Account`).
    Root,
    /// An IAM user.
    User,
    /// A session of an IAM role; the caller's `arn` is the session ARN
    /// (`arn:aws:sts::<account>:assumed-role/<role>/<session>`), this is the role's ARN, which
    /// `aws:PrincipalArn` and principal matching use.
    AssumedRole { role_arn: String },
}

/// Who makes the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The ARN AWS shows in messages: `arn:aws:iam::<account>:user/<name>`,
    /// `arn:aws:iam::<account>:root`, or an assumed-role session ARN.
    pub arn: String,
    /// `aws:PrincipalAccount`.
    pub account_id: String,
    /// `aws:userid`: `AIDA...` for users, the account id for root, `AROA...:<session>` for role
    /// sessions.
    pub user_id: String,
    /// `aws:username`: IAM users only (AWS leaves the key out for other principals).
    pub user_name: Option<String>,
    pub kind: CallerKind,
}

impl Caller {
    /// The root identity of `account_id`.
    pub fn root(account_id: &str) -> Caller {
        Caller {
            arn: format!("arn:aws:iam::{account_id}:root"),
            account_id: account_id.to_owned(),
            user_id: account_id.to_owned(),
            user_name: None,
            kind: CallerKind::Root,
        }
    }

    /// The IAM user `name` of `account_id`, with unique id `user_id`.
    pub fn user(account_id: &str, name: &str, user_id: &str) -> Caller {
        Caller {
            arn: format!("arn:aws:iam::{account_id}:user/{name}"),
            account_id: account_id.to_owned(),
            user_id: user_id.to_owned(),
            user_name: Some(name.to_owned()),
            kind: CallerKind::User,
        }
    }

    /// A session `session` of the role `role` of `account_id`, whose role id is `role_id`.
    pub fn assumed_role(account_id: &str, role: &str, session: &str, role_id: &str) -> Caller {
        Caller {
            arn: format!("arn:aws:sts::{account_id}:assumed-role/{role}/{session}"),
            account_id: account_id.to_owned(),
            user_id: format!("{role_id}:{session}"),
            user_name: None,
            kind: CallerKind::AssumedRole {
                role_arn: format!("arn:aws:iam::{account_id}:role/{role}"),
            },
        }
    }

    pub fn is_root(&self) -> bool {
        self.kind == CallerKind::Root
    }

    /// `aws:PrincipalArn`: the role's ARN for a role session, else [`Caller::arn`].
    pub fn principal_arn(&self) -> &str {
        match &self.kind {
            CallerKind::AssumedRole { role_arn } => role_arn,
            CallerKind::Root | CallerKind::User => &self.arn,
        }
    }

    /// `aws:PrincipalType`.
    pub fn principal_type(&self) -> &'static str {
        match self.kind {
            CallerKind::Root => "Account",
            CallerKind::User => "User",
            CallerKind::AssumedRole { .. } => "AssumedRole",
        }
    }
}

/// The value of a condition key in the request, as the caller supplies it.
#[derive(Debug, Clone, PartialEq)]
pub enum ContextValue {
    String(String),
    /// A multivalued key, such as `aws:TagKeys`. Use `ForAnyValue:`/`ForAllValues:` on it.
    Strings(Vec<String>),
    Bool(bool),
    Number(f64),
    /// Milliseconds since the Unix epoch, UTC.
    Date(i64),
    Ip(IpAddr),
}

impl ContextValue {
    pub(super) fn view(&self) -> Value<'_> {
        match self {
            ContextValue::String(text) => Value::Str(text),
            ContextValue::Strings(items) => Value::Many(Many::List(items)),
            ContextValue::Bool(b) => Value::Bool(*b),
            ContextValue::Number(n) => Value::Number(*n),
            ContextValue::Date(ms) => Value::Date(*ms),
            ContextValue::Ip(ip) => Value::Ip(*ip),
        }
    }
}

/// A borrowed view of a key's value in the request: what a lookup returns, without copying.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Value<'a> {
    Str(&'a str),
    Many(Many<'a>),
    Bool(bool),
    Number(f64),
    Date(i64),
    Ip(IpAddr),
}

/// The values of a multivalued key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Many<'a> {
    List(&'a [String]),
    /// The keys of key-value pairs (`aws:TagKeys`, `kms:EncryptionContextKeys`).
    Keys(&'a [(String, String)]),
}

impl<'a> Many<'a> {
    pub(super) fn is_empty(self) -> bool {
        match self {
            Many::List(items) => items.is_empty(),
            Many::Keys(pairs) => pairs.is_empty(),
        }
    }

    pub(super) fn iter(self) -> impl Iterator<Item = &'a str> {
        let (list, keys) = match self {
            Many::List(items) => (Some(items.iter().map(String::as_str)), None),
            Many::Keys(pairs) => (None, Some(pairs.iter().map(|(k, _)| k.as_str()))),
        };
        list.into_iter().flatten().chain(keys.into_iter().flatten())
    }
}

impl<'a> Value<'a> {
    /// The value as text, for the string operators. Only non-string values allocate.
    pub(super) fn text(self) -> Option<Cow<'a, str>> {
        Some(match self {
            Value::Str(text) => Cow::Borrowed(text),
            Value::Bool(true) => Cow::Borrowed("true"),
            Value::Bool(false) => Cow::Borrowed("false"),
            Value::Number(n) => Cow::Owned(format_number(n)),
            Value::Date(ms) => Cow::Owned(format_iso8601(ms)),
            Value::Ip(ip) => Cow::Owned(ip.to_string()),
            Value::Many(_) => return None,
        })
    }
}

fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// Everything policy evaluation needs to know about one request. The clock is not read: the
/// time of the request comes in [`RequestContext::now_millis`].
#[derive(Debug, Clone, PartialEq)]
pub struct RequestContext {
    pub caller: Caller,
    /// `service:Action`, such as `secretsmanager:GetSecretValue` or `kms:Decrypt`.
    pub action: String,
    /// The ARN of the resource acted on, or `*` for actions on no particular resource
    /// (`secretsmanager:ListSecrets`).
    pub resource: String,
    /// The time of the request, milliseconds since the Unix epoch: `aws:CurrentTime`,
    /// `aws:EpochTime`.
    pub now_millis: i64,
    /// `aws:SourceIp`.
    pub source_ip: Option<IpAddr>,
    /// `aws:SecureTransport`.
    pub secure_transport: Option<bool>,
    /// Tags in the request: `aws:RequestTag/<key>`, and their keys `aws:TagKeys`.
    pub request_tags: Vec<(String, String)>,
    /// Tags of the resource: `aws:ResourceTag/<key>` and `secretsmanager:ResourceTag/<key>`.
    pub resource_tags: Vec<(String, String)>,
    /// `kms:EncryptionContext:<key>`, and the keys `kms:EncryptionContextKeys`.
    pub encryption_context: Vec<(String, String)>,
    /// Any other key by name, such as `secretsmanager:Name`, `secretsmanager:VersionStage`,
    /// `kms:ViaService`, `aws:PrincipalTag/team`.
    pub keys: Vec<(String, ContextValue)>,
}

/// Keys computed from the fixed fields of the context.
const FIXED_KEYS: &[&str] = &[
    "aws:PrincipalArn",
    "aws:PrincipalAccount",
    "aws:PrincipalType",
    "aws:username",
    "aws:userid",
    "aws:SourceIp",
    "aws:CurrentTime",
    "aws:EpochTime",
    "aws:SecureTransport",
    "aws:TagKeys",
    "kms:CallerAccount",
    "kms:EncryptionContextKeys",
];

impl RequestContext {
    /// A context with no optional key: add them with the fields or [`RequestContext::with_key`].
    pub fn new(
        caller: Caller,
        action: impl Into<String>,
        resource: impl Into<String>,
        now_millis: i64,
    ) -> RequestContext {
        RequestContext {
            caller,
            action: action.into(),
            resource: resource.into(),
            now_millis,
            source_ip: None,
            secure_transport: None,
            request_tags: Vec::new(),
            resource_tags: Vec::new(),
            encryption_context: Vec::new(),
            keys: Vec::new(),
        }
    }

    /// Adds a key by name, such as `secretsmanager:VersionStage`.
    pub fn with_key(mut self, name: impl Into<String>, value: ContextValue) -> RequestContext {
        self.keys.push((name.into(), value));
        self
    }

    /// The account that owns the resource: the account field of its ARN, or `None` for `*` or
    /// an ARN without one.
    pub fn resource_account(&self) -> Option<&str> {
        let account = self.resource.split(':').nth(4)?;
        (!account.is_empty()).then_some(account)
    }

    /// The value of condition key `name` in this request, if it has one.
    pub(super) fn lookup(&self, name: &str) -> Option<Value<'_>> {
        if let Some(index) = FIXED_KEYS.iter().position(|k| k.eq_ignore_ascii_case(name)) {
            return self.fixed(index);
        }
        if let Some(tag) = strip_prefix_ci(name, "aws:RequestTag/") {
            return find_pair(&self.request_tags, tag);
        }
        if let Some(tag) = strip_prefix_ci(name, "aws:ResourceTag/")
            .or_else(|| strip_prefix_ci(name, "secretsmanager:ResourceTag/"))
        {
            return find_pair(&self.resource_tags, tag);
        }
        if let Some(key) = strip_prefix_ci(name, "kms:EncryptionContext:") {
            return find_pair(&self.encryption_context, key);
        }
        self.keys
            .iter()
            .find(|(key, _)| key_names_equal(key, name))
            .map(|(_, value)| value.view())
    }

    fn fixed(&self, index: usize) -> Option<Value<'_>> {
        let caller = &self.caller;
        Some(match FIXED_KEYS[index] {
            "aws:PrincipalArn" => Value::Str(caller.principal_arn()),
            "aws:PrincipalAccount" | "kms:CallerAccount" => Value::Str(&caller.account_id),
            "aws:PrincipalType" => Value::Str(caller.principal_type()),
            "aws:username" => Value::Str(caller.user_name.as_deref()?),
            "aws:userid" => Value::Str(&caller.user_id),
            "aws:SourceIp" => Value::Ip(self.source_ip?),
            "aws:CurrentTime" => Value::Date(self.now_millis),
            "aws:EpochTime" => Value::Number(self.now_millis.div_euclid(1000) as f64),
            "aws:SecureTransport" => Value::Bool(self.secure_transport?),
            "aws:TagKeys" => Value::Many(Many::Keys(&self.request_tags)),
            "kms:EncryptionContextKeys" => Value::Many(Many::Keys(&self.encryption_context)),
            _ => return None,
        })
    }
}

/// `name` without `prefix`, if it starts with it ignoring ASCII case.
fn strip_prefix_ci<'a>(name: &'a str, prefix: &str) -> Option<&'a str> {
    let head = name.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &name[prefix.len()..])
}

fn find_pair<'a>(pairs: &'a [(String, String)], key: &str) -> Option<Value<'a>> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| Value::Str(v))
}

/// Condition key names: the part up to the first `/` ignores ASCII case, the rest (a tag key)
/// is exact.
fn key_names_equal(a: &str, b: &str) -> bool {
    let (a_name, a_tag) = a.split_once('/').unwrap_or((a, ""));
    let (b_name, b_tag) = b.split_once('/').unwrap_or((b, ""));
    a_name.eq_ignore_ascii_case(b_name) && a_tag == b_tag && a.contains('/') == b.contains('/')
}
