//! What each scenario sends: its setup (how many secrets), and the request each worker sends
//! next.

use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

/// Most writes one secret receives in a run. AWS (and Coffer) keep at most 100 versions and
/// prune an unlabelled version only when it is older than 24 hours, so a secret written more
/// than ~100 times within a day answers `LimitExceededException`. Writers move on to another
/// secret (or create a fresh one) before this.
pub const MAX_WRITES_PER_SECRET: u32 = 90;

/// Page size of the `list` scenario.
pub const LIST_PAGE_SIZE: u32 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum ScenarioArg {
    /// GetSecretValue of one secret, by every connection.
    GetHot,
    /// GetSecretValue of a secret picked at random among --secrets (default 10,000).
    GetSpread,
    /// PutSecretValue (new token each time) across --secrets (default 1,000) secrets.
    Put,
    /// UpdateSecret (new value and token) across --secrets (default 1,000) secrets.
    Update,
    /// CreateSecret of new names.
    Create,
    /// ListSecrets, 100 per page, following NextToken, over --secrets (default 100,000).
    List,
    /// DescribeSecret of a secret picked at random among --secrets (default 1,000).
    Describe,
    /// Every scenario above, in this order.
    All,
}

/// One scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    GetHot,
    GetSpread,
    Put,
    Update,
    Create,
    List,
    Describe,
}

impl Scenario {
    pub const ALL: [Scenario; 7] = [
        Scenario::GetHot,
        Scenario::GetSpread,
        Scenario::Put,
        Scenario::Update,
        Scenario::Create,
        Scenario::List,
        Scenario::Describe,
    ];

    /// The scenarios named on the command line, in the order given, without repeats (`all`
    /// expands to every scenario).
    pub fn selected(args: &[ScenarioArg]) -> Vec<Scenario> {
        let mut out: Vec<Scenario> = Vec::new();
        for arg in args {
            let expanded: &[Scenario] = match arg {
                ScenarioArg::All => &Scenario::ALL,
                ScenarioArg::GetHot => &[Scenario::GetHot],
                ScenarioArg::GetSpread => &[Scenario::GetSpread],
                ScenarioArg::Put => &[Scenario::Put],
                ScenarioArg::Update => &[Scenario::Update],
                ScenarioArg::Create => &[Scenario::Create],
                ScenarioArg::List => &[Scenario::List],
                ScenarioArg::Describe => &[Scenario::Describe],
            };
            for scenario in expanded {
                if !out.contains(scenario) {
                    out.push(*scenario);
                }
            }
        }
        out
    }

    pub fn name(self) -> &'static str {
        match self {
            Scenario::GetHot => "get-hot",
            Scenario::GetSpread => "get-spread",
            Scenario::Put => "put",
            Scenario::Update => "update",
            Scenario::Create => "create",
            Scenario::List => "list",
            Scenario::Describe => "describe",
        }
    }

    /// The operation measured.
    pub fn operation(self) -> &'static str {
        match self {
            Scenario::GetHot | Scenario::GetSpread => "GetSecretValue",
            Scenario::Put => "PutSecretValue",
            Scenario::Update => "UpdateSecret",
            Scenario::Create => "CreateSecret",
            Scenario::List => "ListSecrets",
            Scenario::Describe => "DescribeSecret",
        }
    }

    /// How many secrets the setup creates: `--secrets` where the scenario takes a count.
    pub fn secrets(self, flag: Option<usize>) -> usize {
        match self {
            Scenario::GetHot => 1,
            Scenario::Create => 0,
            Scenario::GetSpread => flag.unwrap_or(10_000),
            Scenario::Put | Scenario::Update | Scenario::Describe => flag.unwrap_or(1_000),
            Scenario::List => flag.unwrap_or(100_000),
        }
    }
}

/// The name of setup secret `index` of a scenario in a run.
pub fn secret_name(run_prefix: &str, scenario: Scenario, index: usize) -> String {
    format!("{run_prefix}/{}/{index:06}", scenario.name())
}

/// Random printable ASCII (no `"` or `\`, so the JSON text is as long as the value).
pub fn random_value(rng: &mut impl Rng, size: usize) -> String {
    (0..size)
        .map(|_| {
            let c = char::from(rng.random_range(b'!'..=b'~'));
            if c == '"' || c == '\\' { '#' } else { c }
        })
        .collect()
}

/// Distinct values of a fixed size made cheaply: a random template whose first 16 characters
/// are replaced by a counter.
#[derive(Debug)]
pub struct ValueMaker {
    template: String,
    counter: u64,
    salt: u64,
}

impl ValueMaker {
    pub fn new(rng: &mut impl Rng, size: usize) -> ValueMaker {
        ValueMaker {
            template: random_value(rng, size),
            counter: 0,
            salt: rng.random(),
        }
    }

    pub fn next_value(&mut self) -> String {
        self.counter += 1;
        let stamp = format!("{:016x}", self.salt.wrapping_add(self.counter));
        let keep = self.template.len().min(stamp.len());
        let mut value = String::with_capacity(self.template.len());
        value.push_str(&stamp[..keep]);
        value.push_str(&self.template[keep..]);
        value
    }
}

/// A request to send: the operation and its JSON body.
#[derive(Debug)]
pub struct Call {
    pub operation: &'static str,
    pub body: Vec<u8>,
}

impl Call {
    fn new(operation: &'static str, body: serde_json::Value) -> Call {
        Call {
            operation,
            body: body.to_string().into_bytes(),
        }
    }
}

pub fn create_call(name: &str, value: &str) -> Call {
    Call::new(
        "CreateSecret",
        json!({
            "Name": name,
            "SecretString": value,
            "ClientRequestToken": uuid::Uuid::new_v4().to_string(),
        }),
    )
}

pub fn delete_call(name: &str) -> Call {
    Call::new(
        "DeleteSecret",
        json!({ "SecretId": name, "ForceDeleteWithoutRecovery": true }),
    )
}

/// One worker's stream of requests.
#[derive(Debug)]
pub enum Load {
    /// GetSecretValue of one name.
    Hot { name: Arc<str> },
    /// GetSecretValue or DescribeSecret of a random name.
    Spread {
        operation: &'static str,
        names: Arc<Vec<String>>,
        rng: Box<StdRng>,
    },
    /// PutSecretValue or UpdateSecret over the worker's own secrets, each at most
    /// [`MAX_WRITES_PER_SECRET`] times; then over fresh secrets it creates itself.
    Write {
        operation: &'static str,
        targets: Vec<(String, u32)>,
        cursor: usize,
        fresh_prefix: String,
        values: ValueMaker,
    },
    /// CreateSecret of `prefix-N`.
    Create {
        prefix: String,
        next: u64,
        values: ValueMaker,
    },
    /// ListSecrets pages.
    List { next_token: Option<String> },
}

/// Before a write: the worker's secrets are used up, create this one first (untimed).
#[derive(Debug)]
pub struct Replenish {
    pub name: String,
    pub value: String,
}

impl Load {
    /// The load of worker `worker` of `workers` for a scenario whose setup created `names`.
    pub fn new(
        scenario: Scenario,
        names: &Arc<Vec<String>>,
        run_prefix: &str,
        worker: usize,
        workers: usize,
        value_size: usize,
    ) -> Load {
        let mut rng = StdRng::from_os_rng();
        match scenario {
            Scenario::GetHot => Load::Hot {
                name: names.first().map(String::as_str).unwrap_or("").into(),
            },
            Scenario::GetSpread | Scenario::Describe => Load::Spread {
                operation: scenario.operation(),
                names: Arc::clone(names),
                rng: Box::new(rng),
            },
            Scenario::Put | Scenario::Update => Load::Write {
                operation: scenario.operation(),
                targets: names
                    .iter()
                    .skip(worker)
                    .step_by(workers.max(1))
                    .map(|name| (name.clone(), 0))
                    .collect(),
                cursor: 0,
                fresh_prefix: format!("{run_prefix}/{}/fresh-{worker:03}", scenario.name()),
                values: ValueMaker::new(&mut rng, value_size),
            },
            Scenario::Create => Load::Create {
                prefix: format!("{run_prefix}/create/{worker:03}"),
                next: 0,
                values: ValueMaker::new(&mut rng, value_size),
            },
            Scenario::List => Load::List { next_token: None },
        }
    }

    /// A secret to create (untimed) before the next request, when a writer has used up its
    /// secrets.
    pub fn replenish(&mut self) -> Option<Replenish> {
        let Load::Write {
            targets,
            fresh_prefix,
            values,
            ..
        } = self
        else {
            return None;
        };
        if targets
            .iter()
            .any(|(_, writes)| *writes < MAX_WRITES_PER_SECRET)
        {
            return None;
        }
        let name = format!("{fresh_prefix}-{:05}", targets.len());
        Some(Replenish {
            name,
            value: values.next_value(),
        })
    }

    /// Adds a secret created by [`Load::replenish`].
    pub fn add_target(&mut self, name: String) {
        if let Load::Write { targets, .. } = self {
            targets.push((name, 0));
        }
    }

    /// The next request, and the name it creates (for the cleanup), if any.
    pub fn next_call(&mut self) -> (Call, Option<String>) {
        match self {
            Load::Hot { name } => (
                Call::new("GetSecretValue", json!({ "SecretId": &**name })),
                None,
            ),
            Load::Spread {
                operation,
                names,
                rng,
            } => {
                let name = names
                    .get(rng.random_range(0..names.len().max(1)))
                    .map(String::as_str)
                    .unwrap_or("");
                (Call::new(operation, json!({ "SecretId": name })), None)
            }
            Load::Write {
                operation,
                targets,
                cursor,
                values,
                ..
            } => {
                // Round-robin over the secrets that still have writes left.
                let count = targets.len();
                let mut chosen = None;
                for step in 0..count {
                    let index = (*cursor + step) % count;
                    if targets[index].1 < MAX_WRITES_PER_SECRET {
                        chosen = Some(index);
                        break;
                    }
                }
                let index = chosen.unwrap_or(0);
                *cursor = (index + 1) % count.max(1);
                let name = match targets.get_mut(index) {
                    Some((name, writes)) => {
                        *writes += 1;
                        name.as_str()
                    }
                    None => "",
                };
                (
                    Call::new(
                        operation,
                        json!({
                            "SecretId": name,
                            "SecretString": values.next_value(),
                            "ClientRequestToken": uuid::Uuid::new_v4().to_string(),
                        }),
                    ),
                    None,
                )
            }
            Load::Create {
                prefix,
                next,
                values,
            } => {
                *next += 1;
                let name = format!("{prefix}-{next:07}");
                let call = create_call(&name, &values.next_value());
                (call, Some(name))
            }
            Load::List { next_token } => {
                let body = match next_token.take() {
                    Some(token) => json!({ "MaxResults": LIST_PAGE_SIZE, "NextToken": token }),
                    None => json!({ "MaxResults": LIST_PAGE_SIZE }),
                };
                (Call::new("ListSecrets", body), None)
            }
        }
    }

    /// Takes what a successful answer says for the next request (the list's `NextToken`).
    pub fn on_success(&mut self, body: &[u8]) {
        if let Load::List { next_token } = self {
            *next_token = serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|value| value.get("NextToken")?.as_str().map(str::to_owned));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_expands_and_repeats_are_dropped() {
        assert_eq!(
            Scenario::selected(&[ScenarioArg::Describe, ScenarioArg::All]),
            vec![
                Scenario::Describe,
                Scenario::GetHot,
                Scenario::GetSpread,
                Scenario::Put,
                Scenario::Update,
                Scenario::Create,
                Scenario::List,
            ]
        );
        assert_eq!(
            Scenario::selected(&[ScenarioArg::Put, ScenarioArg::Put]),
            vec![Scenario::Put]
        );
    }

    #[test]
    fn secret_counts() {
        assert_eq!(Scenario::GetHot.secrets(Some(50)), 1);
        assert_eq!(Scenario::GetSpread.secrets(None), 10_000);
        assert_eq!(Scenario::List.secrets(None), 100_000);
        assert_eq!(Scenario::Put.secrets(None), 1_000);
        assert_eq!(Scenario::Put.secrets(Some(7)), 7);
        assert_eq!(Scenario::Create.secrets(Some(7)), 0);
    }

    #[test]
    fn values_are_printable_distinct_and_of_the_size_asked() {
        let mut rng = StdRng::seed_from_u64(7);
        let value = random_value(&mut rng, 1024);
        assert_eq!(value.len(), 1024);
        assert!(
            value
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
        );
        let mut maker = ValueMaker::new(&mut rng, 1024);
        let (a, b) = (maker.next_value(), maker.next_value());
        assert_ne!(a, b);
        assert_eq!((a.len(), b.len()), (1024, 1024));
        let mut small = ValueMaker::new(&mut rng, 4);
        assert_eq!(small.next_value().len(), 4);
    }

    #[test]
    fn writers_spread_over_their_secrets_and_never_pass_the_version_budget() {
        let names: Arc<Vec<String>> = Arc::new((0..10).map(|i| format!("s{i}")).collect());
        // Worker 1 of 4 owns s1, s5, s9.
        let mut load = Load::new(Scenario::Put, &names, "run", 1, 4, 16);
        let mut per_secret = std::collections::BTreeMap::<String, u32>::new();
        let mut fresh = 0;
        for _ in 0..(3 * MAX_WRITES_PER_SECRET + 5) {
            if let Some(replenish) = load.replenish() {
                fresh += 1;
                load.add_target(replenish.name);
            }
            let (call, created) = load.next_call();
            assert_eq!(call.operation, "PutSecretValue");
            assert!(created.is_none());
            let body: serde_json::Value = serde_json::from_slice(&call.body).expect("JSON");
            let id = body["SecretId"].as_str().expect("SecretId").to_owned();
            *per_secret.entry(id).or_default() += 1;
        }
        assert_eq!(fresh, 1);
        assert_eq!(per_secret["s1"], MAX_WRITES_PER_SECRET);
        assert_eq!(per_secret["s5"], MAX_WRITES_PER_SECRET);
        assert_eq!(per_secret["s9"], MAX_WRITES_PER_SECRET);
        assert_eq!(per_secret["run/put/fresh-001-00003"], 5);
    }

    #[test]
    fn list_follows_next_token() {
        let names = Arc::new(Vec::new());
        let mut load = Load::new(Scenario::List, &names, "run", 0, 1, 16);
        let (first, _) = load.next_call();
        assert_eq!(first.body, br#"{"MaxResults":100}"#);
        load.on_success(br#"{"SecretList":[],"NextToken":"abc"}"#);
        let (second, _) = load.next_call();
        assert_eq!(second.body, br#"{"MaxResults":100,"NextToken":"abc"}"#);
        load.on_success(br#"{"SecretList":[]}"#);
        let (third, _) = load.next_call();
        assert_eq!(third.body, br#"{"MaxResults":100}"#);
    }

    #[test]
    fn creates_make_new_names() {
        let names = Arc::new(Vec::new());
        let mut load = Load::new(Scenario::Create, &names, "run", 2, 4, 16);
        let (_, a) = load.next_call();
        let (_, b) = load.next_call();
        assert_eq!(a.as_deref(), Some("run/create/002-0000001"));
        assert_eq!(b.as_deref(), Some("run/create/002-0000002"));
    }
}
