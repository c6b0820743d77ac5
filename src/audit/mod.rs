//! The audit trail: one CloudTrail-shaped event per API call that reaches the server.
//!
//! The server starts a [`Recorder`] for each request (request id, time, caller, source address,
//! user agent, redacted request parameters) and runs the call inside it (a task-local, so the
//! service's code does not carry it around). When the call's change is written, the store takes
//! the event from the recorder ([`for_change`]) and inserts it in the transaction of that
//! change, so a committed change always has its event and a rolled-back attempt (a lost race,
//! retried) leaves none. Calls that wrote nothing (reads, failures, denials) get their event
//! appended by the server afterwards ([`crate::store::Store::append_audit`], not awaited: it
//! rides the store's next commit).
//!
//! Nothing sensitive is ever written: request parameters keep only members the botocore models
//! know as inputs, and every member they mark `sensitive` (plus ciphertext blobs and
//! credentials) is replaced by [`HIDDEN`]. Response elements are built from what a change
//! produced (ARN, name, version id, key id), never from a response body.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Map, Value, json};

use crate::clock::Timestamp;
use crate::service::kms::model::{KmsAlias, KmsKeyRecord};
use crate::service::model::Secret;

/// What CloudTrail writes in place of a sensitive value.
pub const HIDDEN: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";
pub const EVENT_VERSION: &str = "1.08";
pub const SECRETS_MANAGER_SOURCE: &str = "secretsmanager.amazonaws.com";
pub const KMS_SOURCE: &str = "kms.amazonaws.com";

/// Generated from botocore by `scripts/audit-members.py`: `sensitive <Member>` and
/// `input <Member>` lines.
const MEMBERS: &str = include_str!("botocore-members.txt");

/// Hidden beyond what the models mark sensitive: ciphertext (CloudTrail logs no blobs) and
/// credentials.
const ALSO_HIDDEN: &[&str] = &[
    "CiphertextBlob",
    "CiphertextForRecipient",
    "SecretAccessKey",
    "SessionToken",
    "SecretString",
    "SecretBinary",
    "RotationToken",
    "Plaintext",
];

struct Members {
    /// Lower-cased names of the members whose values are never written.
    hidden: HashSet<String>,
    /// Lower-cased names of every input member of either API.
    inputs: HashSet<String>,
}

fn members() -> &'static Members {
    static MEMBERS_SETS: OnceLock<Members> = OnceLock::new();
    MEMBERS_SETS.get_or_init(|| {
        let mut hidden: HashSet<String> =
            ALSO_HIDDEN.iter().map(|n| n.to_ascii_lowercase()).collect();
        let mut inputs = HashSet::new();
        for line in MEMBERS.lines() {
            match line.split_once(' ') {
                Some(("sensitive", name)) => {
                    hidden.insert(name.trim().to_ascii_lowercase());
                }
                Some(("input", name)) => {
                    inputs.insert(name.trim().to_ascii_lowercase());
                }
                _ => {}
            }
        }
        Members { hidden, inputs }
    })
}

/// The members the audit trail never writes the value of (botocore's `sensitive` members and
/// [`ALSO_HIDDEN`]), as listed in the generated file.
pub fn sensitive_members() -> Vec<&'static str> {
    MEMBERS
        .lines()
        .filter_map(|line| line.strip_prefix("sensitive "))
        .chain(ALSO_HIDDEN.iter().copied())
        .collect()
}

/// Whether the value of a member called `name` (in any case) is never written.
pub fn is_hidden(name: &str) -> bool {
    members().hidden.contains(&name.to_ascii_lowercase())
}

fn is_input_member(name: &str) -> bool {
    members().inputs.contains(&name.to_ascii_lowercase())
}

/// CloudTrail's spelling of a member name: `SecretId` → `secretId`.
fn lower_camel(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The `requestParameters` of a request body: the members the models know as inputs (others
/// are dropped), in CloudTrail's spelling, with hidden members' values replaced by [`HIDDEN`]
/// at any depth. A body that is not a JSON object gives `null`.
pub fn request_parameters(body: &[u8]) -> Value {
    // Hidden members are skipped by the parser, never copied into a `String`: a secret value
    // must not sit unzeroized in memory for the sake of the audit trail.
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let Ok(Value::Object(input)) =
        serde::de::DeserializeSeed::deserialize(Redacting, &mut deserializer)
    else {
        return Value::Null;
    };
    let parameters: Map<String, Value> = input
        .into_iter()
        .filter(|(name, _)| is_input_member(name))
        .map(|(name, value)| (lower_camel(&name), redact_member(&name, value)))
        .collect();
    Value::Object(parameters)
}

fn redact_member(name: &str, value: Value) -> Value {
    if is_hidden(name) {
        Value::String(HIDDEN.to_owned())
    } else {
        redact(value)
    }
}

/// Hides the hidden members of nested structures; other keys (map keys such as encryption
/// context entries) are kept as given.
fn redact(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(name, value)| {
                    let value = redact_member(&name, value);
                    let name = if is_input_member(&name) {
                        lower_camel(&name)
                    } else {
                        name
                    };
                    (name, value)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(redact).collect()),
        other => other,
    }
}

/// Whether CloudTrail marks a call of this name read-only.
pub fn is_read_only(event_name: &str) -> bool {
    ["Get", "Describe", "List", "BatchGet", "Validate"]
        .iter()
        .any(|prefix| event_name.starts_with(prefix))
        || matches!(
            event_name,
            "Encrypt"
                | "Decrypt"
                | "ReEncrypt"
                | "GenerateDataKey"
                | "GenerateDataKeyWithoutPlaintext"
        )
}

/// `2026-01-02T03:04:05Z`.
pub fn iso_time(time: Timestamp) -> String {
    let compact = crate::auth::sigv4::amz_date(time);
    match (
        compact.get(0..4),
        compact.get(4..6),
        compact.get(6..8),
        compact.get(9..11),
        compact.get(11..13),
        compact.get(13..15),
    ) {
        (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(s)) => {
            format!("{y}-{mo}-{d}T{h}:{mi}:{s}Z")
        }
        _ => compact,
    }
}

/// `userIdentity`: what is known of the caller (only the access key id, or nothing, when
/// authentication failed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    /// `Root` or `IAMUser`; `None` when the caller was not authenticated.
    pub kind: Option<&'static str>,
    pub principal_id: Option<String>,
    pub arn: Option<String>,
    pub account_id: Option<String>,
    pub access_key_id: Option<String>,
    pub user_name: Option<String>,
}

impl Caller {
    pub fn authenticated(principal: &crate::auth::Principal) -> Caller {
        let identity = &principal.identity;
        Caller {
            kind: Some(if identity.is_root { "Root" } else { "IAMUser" }),
            principal_id: Some(identity.user_id.clone()),
            arn: Some(identity.arn.clone()),
            account_id: Some(identity.account_id.clone()),
            access_key_id: Some(principal.access_key_id.clone()),
            user_name: Some(identity.user_name.clone()),
        }
    }
}

/// The resource a call concerned: a secret's or key's ARN and name, as far as known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resource {
    pub arn: Option<String>,
    pub name: Option<String>,
}

impl Resource {
    /// The resource a request names (`SecretId`, `KeyId`...) as given: an ARN or a name.
    fn named(given: &str) -> Resource {
        if given.starts_with("arn:") {
            Resource {
                arn: Some(given.to_owned()),
                name: None,
            }
        } else {
            Resource {
                arn: None,
                name: Some(given.to_owned()),
            }
        }
    }
}

/// Everything known about a call before its outcome.
#[derive(Debug, Clone)]
pub struct Draft {
    pub request_id: String,
    pub event_id: String,
    pub time: Timestamp,
    pub source: &'static str,
    pub event_name: String,
    pub region: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub caller: Caller,
    pub request_parameters: Value,
    pub recipient_account_id: String,
}

impl Draft {
    /// The resource the request parameters name.
    fn named_resource(&self) -> Resource {
        let Value::Object(parameters) = &self.request_parameters else {
            return Resource::default();
        };
        ["secretId", "keyId", "aliasName", "name"]
            .iter()
            .find_map(|member| parameters.get(*member).and_then(Value::as_str))
            .map(Resource::named)
            .unwrap_or_default()
    }

    /// The event of this call with its outcome.
    pub fn finish(&self, outcome: Outcome<'_>, resource: Resource) -> AuditEvent {
        let read_only = is_read_only(&self.event_name);
        let (response, error) = match &outcome {
            Outcome::Success { response } => (response, None),
            Outcome::Failure { code, message } => (&Value::Null, Some((*code, *message))),
        };
        // Serialized straight from borrowed fields: this runs for every call, reads included.
        let event = EventJson {
            event_version: EVENT_VERSION,
            user_identity: IdentityJson::of(&self.caller),
            event_time: iso_time(self.time),
            event_source: self.source,
            event_name: &self.event_name,
            aws_region: self.region.as_deref(),
            source_ip_address: self.source_ip.as_deref(),
            user_agent: self.user_agent.as_deref(),
            request_parameters: &self.request_parameters,
            response_elements: response,
            error_code: error.map(|(code, _)| code),
            error_message: error.map(|(_, message)| message),
            request_id: &self.request_id,
            event_id: &self.event_id,
            read_only,
            event_type: "AwsApiCall",
            management_event: true,
            recipient_account_id: &self.recipient_account_id,
            event_category: "Management",
        };
        let json = match serde_json::to_string(&event) {
            Ok(json) => json,
            // Serializing borrowed strings and JSON values cannot fail; were it to, the event
            // still says what happened.
            Err(_) => format!(r#"{{"eventName":"{}"}}"#, self.event_name),
        };
        AuditEvent {
            event_id: self.event_id.clone(),
            time: self.time,
            source: self.source.to_owned(),
            name: self.event_name.clone(),
            region: self.region.clone(),
            user_arn: self.caller.arn.clone(),
            user_name: self.caller.user_name.clone(),
            access_key_id: self.caller.access_key_id.clone(),
            resource_arn: resource.arn,
            resource_name: resource.name,
            error_code: error.map(|(code, _)| code.to_owned()),
            read_only,
            json,
        }
    }
}

/// The CloudTrail event, in CloudTrail's member order.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct EventJson<'a> {
    event_version: &'static str,
    user_identity: IdentityJson<'a>,
    event_time: String,
    event_source: &'a str,
    event_name: &'a str,
    aws_region: Option<&'a str>,
    #[serde(rename = "sourceIPAddress")]
    source_ip_address: Option<&'a str>,
    user_agent: Option<&'a str>,
    request_parameters: &'a Value,
    response_elements: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<&'a str>,
    #[serde(rename = "requestID")]
    request_id: &'a str,
    #[serde(rename = "eventID")]
    event_id: &'a str,
    read_only: bool,
    event_type: &'static str,
    management_event: bool,
    recipient_account_id: &'a str,
    event_category: &'static str,
}

/// `userIdentity`: absent members are left out; `userName` only for an IAM user.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct IdentityJson<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    principal_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    arn: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_key_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_name: Option<&'a str>,
}

impl<'a> IdentityJson<'a> {
    fn of(caller: &'a Caller) -> IdentityJson<'a> {
        IdentityJson {
            kind: caller.kind.unwrap_or("Unknown"),
            principal_id: caller.principal_id.as_deref(),
            arn: caller.arn.as_deref(),
            account_id: caller.account_id.as_deref(),
            access_key_id: caller.access_key_id.as_deref(),
            user_name: caller
                .user_name
                .as_deref()
                .filter(|_| caller.kind == Some("IAMUser")),
        }
    }
}

/// How a call ended.
#[derive(Debug, Clone)]
pub enum Outcome<'a> {
    Success { response: Value },
    Failure { code: &'a str, message: &'a str },
}

/// One event as stored: the columns queries filter on, and the CloudTrail JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub event_id: String,
    pub time: Timestamp,
    pub source: String,
    pub name: String,
    pub region: Option<String>,
    pub user_arn: Option<String>,
    pub user_name: Option<String>,
    pub access_key_id: Option<String>,
    pub resource_arn: Option<String>,
    pub resource_name: Option<String>,
    pub error_code: Option<String>,
    pub read_only: bool,
    /// The CloudTrail event.
    pub json: String,
}

/// An event read back, with its place in the trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAuditEvent {
    pub sequence: i64,
    pub event: AuditEvent,
}

/// A query of the trail: every filter given must match; results in sequence order.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Events at or after this time.
    pub since: Option<Timestamp>,
    /// Events before this time.
    pub until: Option<Timestamp>,
    pub event_name: Option<String>,
    /// A user's ARN, user name (`root` for the root) or access key id.
    pub user: Option<String>,
    /// A resource's ARN or name.
    pub resource: Option<String>,
    pub error_code: Option<String>,
    /// Events after this sequence number (paging).
    pub after: Option<i64>,
    pub limit: usize,
}

#[derive(Default)]
struct State {
    /// A write carried the event: nothing is left to append.
    recorded: bool,
    /// The secrets the call loaded (by name or ARN), or `None` once it loaded several.
    secret: Option<Resource>,
    several_secrets: bool,
}

/// The audit state of one call (see the module docs).
pub struct Recorder {
    draft: Mutex<Draft>,
    state: Mutex<State>,
}

tokio::task_local! {
    static CURRENT: Option<Arc<Recorder>>;
}

fn current() -> Option<Arc<Recorder>> {
    CURRENT.try_with(Clone::clone).ok().flatten()
}

impl Recorder {
    pub fn new(draft: Draft) -> Arc<Recorder> {
        Arc::new(Recorder {
            draft: Mutex::new(draft),
            state: Mutex::new(State::default()),
        })
    }

    /// Changes the draft (as more of the request becomes known).
    pub fn update(&self, change: impl FnOnce(&mut Draft)) {
        if let Ok(mut draft) = self.draft.lock() {
            change(&mut draft);
        }
    }

    /// Runs `call` with this recorder as the current one.
    pub async fn run<F: Future>(self: &Arc<Self>, call: F) -> F::Output {
        CURRENT.scope(Some(Arc::clone(self)), call).await
    }

    /// The resource the call concerned: the one secret it loaded, or what the request names.
    fn resource(&self, draft: &Draft) -> Resource {
        match self.state.lock() {
            Ok(state) if !state.several_secrets && state.secret.is_some() => {
                state.secret.clone().unwrap_or_default()
            }
            Ok(state) if state.several_secrets => Resource::default(),
            _ => draft.named_resource(),
        }
    }

    /// The event of the call if no write carried it (to append), `None` if one did.
    pub fn unrecorded(&self, outcome: Outcome<'_>) -> Option<AuditEvent> {
        if self
            .state
            .lock()
            .map(|state| state.recorded)
            .unwrap_or(false)
        {
            return None;
        }
        let draft = self.draft.lock().ok()?;
        let resource = self.resource(&draft);
        Some(draft.finish(outcome, resource))
    }
}

/// Runs `work` outside the current call's audit: writes it makes carry no event (the managed
/// key created on a call's first use is not that call's change).
pub async fn unattributed<F: Future>(work: F) -> F::Output {
    CURRENT.scope(None, work).await
}

/// Notes a secret the current call loaded: the event's resource, if it is the only one.
pub fn note_secret(secret: &Secret) {
    let Some(recorder) = current() else { return };
    if let Ok(mut state) = recorder.state.lock() {
        let resource = Resource {
            arn: Some(secret.visible_arn().to_owned()),
            name: Some(secret.name.clone()),
        };
        match &state.secret {
            Some(noted) if *noted != resource => state.several_secrets = true,
            _ => state.secret = Some(resource),
        }
    }
}

/// What a call's change produced: its resource and the response elements.
pub struct Change {
    resource: Option<Resource>,
    response: Value,
}

impl Change {
    /// A secret written, with the versions the write added.
    pub fn secret(secret: &Secret, added: &[String]) -> Change {
        let mut response = json!({ "arn": secret.visible_arn(), "name": secret.name });
        if let ([version_id], Value::Object(fields)) = (added, &mut response) {
            fields.insert("versionId".into(), Value::String(version_id.clone()));
        }
        Change {
            resource: Some(Resource {
                arn: Some(secret.visible_arn().to_owned()),
                name: Some(secret.name.clone()),
            }),
            response,
        }
    }

    /// A secret deleted by id: the resource is the one the call loaded.
    pub fn deleted_secret() -> Change {
        Change {
            resource: None,
            response: Value::Null,
        }
    }

    pub fn key(key: &KmsKeyRecord) -> Change {
        let arn = key.arn();
        Change {
            resource: Some(Resource {
                arn: Some(arn.clone()),
                name: Some(key.id.to_string()),
            }),
            response: json!({ "keyId": key.id.to_string(), "arn": arn }),
        }
    }

    /// A key deleted by id.
    pub fn deleted_key(id: uuid::Uuid) -> Change {
        Change {
            resource: Some(Resource {
                arn: None,
                name: Some(id.to_string()),
            }),
            response: Value::Null,
        }
    }

    pub fn alias(alias: &KmsAlias) -> Change {
        Change {
            resource: Some(Resource {
                arn: Some(alias.arn()),
                name: Some(alias.name.clone()),
            }),
            response: Value::Null,
        }
    }

    /// An alias deleted by name.
    pub fn deleted_alias(name: &str) -> Change {
        Change {
            resource: Some(Resource {
                arn: None,
                name: Some(name.to_owned()),
            }),
            response: Value::Null,
        }
    }
}

/// A call's event to insert with the write that is its change.
pub struct PendingWrite {
    recorder: Arc<Recorder>,
    pub event: AuditEvent,
}

/// The event a write must insert in its transaction: `Some` when the write runs inside a call
/// whose event no write carried yet. `change` is only evaluated then.
pub fn for_change(change: impl FnOnce() -> Change) -> Option<PendingWrite> {
    let recorder = current()?;
    if recorder.state.lock().ok()?.recorded {
        return None;
    }
    let event = {
        let draft = recorder.draft.lock().ok()?;
        let Change { resource, response } = change();
        let resource = resource.unwrap_or_else(|| recorder.resource(&draft));
        draft.finish(Outcome::Success { response }, resource)
    };
    Some(PendingWrite { recorder, event })
}

/// Tells the call whether its write (carrying `pending`) committed.
pub fn settle<T, E>(pending: Option<PendingWrite>, result: &Result<T, E>) {
    if let (Some(pending), Ok(_)) = (pending, result)
        && let Ok(mut state) = pending.recorder.state.lock()
    {
        state.recorded = true;
    }
}

#[cfg(test)]
mod tests;

/// Parses JSON into a [`Value`], skipping (without copying) the value of every member whose
/// name is hidden, which becomes [`HIDDEN`].
struct Redacting;

impl<'de> serde::de::DeserializeSeed<'de> for Redacting {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(Redacting)
    }
}

impl<'de> serde::de::Visitor<'de> for Redacting {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Redacting)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            if is_hidden(&name) {
                map.next_value::<serde::de::IgnoredAny>()?;
                out.insert(name, Value::String(HIDDEN.to_owned()));
            } else {
                let value = map.next_value_seed(Redacting)?;
                out.insert(name, value);
            }
        }
        Ok(Value::Object(out))
    }
}
