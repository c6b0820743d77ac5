use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

const T0: Timestamp = Timestamp::from_millis(1_700_000_000_000);

fn secret() -> Secret {
    Secret {
        id: 1,
        revision: 1,
        scope: Scope {
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
        },
        name: "db".into(),
        arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf".into(),
        description: None,
        kms_key_id: None,
        secret_type: None,
        tags: None,
        created_at: T0,
        last_changed_at: T0,
        last_accessed_day: None,
        deletion: None,
        resource_policy: None,
        rotation: Default::default(),
        replicas: Vec::new(),
        replica_view: None,
        versions: Vec::new(),
    }
}

fn version(id: &str, created_at: Timestamp) -> Version {
    Version::new(id, created_at, None)
}

fn stages(labels: &[&str]) -> Vec<String> {
    labels.iter().map(|label| (*label).to_owned()).collect()
}

fn holder(secret: &Secret, label: &str) -> Option<String> {
    secret.holder_of(label).map(|version| version.id.clone())
}

fn put(secret: &mut Secret, id: &str, labels: &[&str]) -> Result<(), VersionRuleError> {
    secret.add_version(version(id, T0), &stages(labels), T0)
}

#[test]
fn a_new_current_version_pushes_the_old_one_to_previous() -> Result<(), VersionRuleError> {
    let mut secret = secret();
    put(&mut secret, "v1", &[AWSCURRENT])?;
    assert_eq!(holder(&secret, AWSCURRENT).as_deref(), Some("v1"));
    assert_eq!(holder(&secret, AWSPREVIOUS), None);

    put(&mut secret, "v2", &[AWSCURRENT])?;
    put(&mut secret, "v3", &[AWSCURRENT])?;
    assert_eq!(holder(&secret, AWSCURRENT).as_deref(), Some("v3"));
    assert_eq!(holder(&secret, AWSPREVIOUS).as_deref(), Some("v2"));
    assert_eq!(secret.version("v1").map(|v| v.stages.len()), Some(0));
    let ordinals: Vec<i64> = secret.versions.iter().map(|v| v.ordinal).collect();
    assert_eq!(ordinals, [1, 2, 3]);
    Ok(())
}

#[test]
fn explicit_stages_attach_only_those_labels() -> Result<(), VersionRuleError> {
    let mut secret = secret();
    put(&mut secret, "v1", &[AWSCURRENT])?;
    put(&mut secret, "v2", &[AWSPENDING, "custom"])?;
    assert_eq!(holder(&secret, AWSCURRENT).as_deref(), Some("v1"));
    assert_eq!(holder(&secret, AWSPREVIOUS), None);
    assert_eq!(holder(&secret, AWSPENDING).as_deref(), Some("v2"));
    put(&mut secret, "v3", &["custom"])?;
    assert_eq!(holder(&secret, "custom").as_deref(), Some("v3"));
    assert_eq!(
        secret.version("v2").map(|v| v.stages.clone()),
        Some(stages(&[AWSPENDING]))
    );
    Ok(())
}

#[test]
fn a_new_current_value_ends_a_finished_rotation() -> Result<(), VersionRuleError> {
    let mut secret = secret();
    put(&mut secret, "v1", &[AWSCURRENT])?;
    put(&mut secret, "v2", &[AWSPENDING, "custom"])?;
    // Rotation finishes: AWSCURRENT moves to the pending version, which keeps its labels.
    secret.update_stage(AWSCURRENT, Some("v1"), Some("v2"))?;
    assert_eq!(
        secret.version("v2").map(|v| v.stages.clone()),
        Some(stages(&[AWSPENDING, "custom", AWSCURRENT]))
    );
    put(&mut secret, "v3", &[AWSCURRENT])?;
    assert_eq!(
        secret.version("v2").map(|v| v.stages.clone()),
        Some(stages(&["custom", AWSPREVIOUS]))
    );
    assert_eq!(holder(&secret, AWSPENDING), None);
    // AWSPENDING on a version other than the current one is left alone.
    put(&mut secret, "v4", &[AWSPENDING])?;
    put(&mut secret, "v5", &[AWSCURRENT])?;
    assert_eq!(holder(&secret, AWSPENDING).as_deref(), Some("v4"));
    Ok(())
}

#[test]
fn moving_current_back_swaps_current_and_previous() -> Result<(), VersionRuleError> {
    let mut secret = secret();
    put(&mut secret, "v1", &[AWSCURRENT])?;
    put(&mut secret, "v2", &[AWSCURRENT])?;
    secret.update_stage(AWSCURRENT, Some("v2"), Some("v1"))?;
    assert_eq!(holder(&secret, AWSCURRENT).as_deref(), Some("v1"));
    assert_eq!(holder(&secret, AWSPREVIOUS).as_deref(), Some("v2"));
    assert_eq!(secret.label_count(), 2);
    Ok(())
}

#[test]
fn moving_a_held_label_requires_naming_its_holder() -> Result<(), VersionRuleError> {
    let mut secret = secret();
    put(&mut secret, "v1", &[AWSCURRENT])?;
    put(&mut secret, "v2", &[AWSPENDING])?;
    let before = secret.clone();
    assert_eq!(
        secret.update_stage(AWSCURRENT, None, Some("v2")),
        Err(VersionRuleError::LabelElsewhere {
            label: AWSCURRENT.into(),
            holder: "v1".into()
        })
    );
    assert_eq!(
        secret.update_stage(AWSCURRENT, Some("v2"), Some("v2")),
        Err(VersionRuleError::LabelNotOnVersion {
            label: AWSCURRENT.into(),
            version_id: "v2".into()
        })
    );
    assert_eq!(
        secret, before,
        "a refused change leaves the secret as it was"
    );
    secret.update_stage(AWSCURRENT, Some("v1"), Some("v2"))?;
    assert_eq!(
        secret.version("v2").map(|v| v.stages.clone()),
        Some(stages(&[AWSPENDING, AWSCURRENT]))
    );
    Ok(())
}

#[test]
fn labels_can_be_removed_but_current_only_moved() -> Result<(), VersionRuleError> {
    let mut secret = secret();
    put(&mut secret, "v1", &[AWSCURRENT, "blue"])?;
    secret.update_stage("blue", Some("v1"), None)?;
    assert_eq!(holder(&secret, "blue"), None);
    assert_eq!(
        secret.update_stage(AWSCURRENT, Some("v1"), None),
        Err(VersionRuleError::CurrentCannotBeRemoved)
    );
    assert_eq!(
        secret.update_stage("blue", Some("nope"), None),
        Err(VersionRuleError::NoSuchVersion("nope".into()))
    );
    // A label that is nowhere yet can be attached without naming a holder.
    secret.update_stage("green", None, Some("v1"))?;
    assert_eq!(holder(&secret, "green").as_deref(), Some("v1"));
    Ok(())
}

#[test]
fn at_most_twenty_labels() -> Result<(), VersionRuleError> {
    let mut secret = secret();
    let labels: Vec<String> = (0..MAX_LABELS).map(|i| format!("label{i}")).collect();
    secret.add_version(version("v1", T0), &labels, T0)?;
    assert_eq!(secret.label_count(), MAX_LABELS);
    assert_eq!(
        secret.update_stage("one-too-many", None, Some("v1")),
        Err(VersionRuleError::TooManyLabels)
    );
    assert_eq!(
        put(&mut secret, "v2", &["another"]),
        Err(VersionRuleError::TooManyLabels)
    );
    assert_eq!(secret.versions.len(), 1, "nothing written");
    Ok(())
}

#[test]
fn pruning_spares_labelled_and_young_versions() -> Result<(), VersionRuleError> {
    let day = PRUNE_MIN_AGE;
    let mut secret = secret();
    // 100 versions, the first 60 created two days ago, the rest just now.
    for i in 0..MAX_VERSIONS {
        let created = if i < 60 { T0 } else { T0.plus(day * 2) };
        secret.add_version(
            version(&format!("v{i}"), created),
            &stages(&[AWSCURRENT]),
            created,
        )?;
    }
    let now = T0.plus(day * 2);
    assert_eq!(secret.versions.len(), MAX_VERSIONS);
    // v0 is the oldest deprecated version: the 101st version prunes it.
    secret.add_version(version("v100", now), &stages(&[AWSCURRENT]), now)?;
    assert_eq!(secret.versions.len(), MAX_VERSIONS);
    assert!(secret.version("v0").is_none());
    assert!(secret.version("v1").is_some());
    Ok(())
}

#[test]
fn too_many_young_versions_is_refused_without_change() -> Result<(), VersionRuleError> {
    let mut secret = secret();
    for i in 0..MAX_VERSIONS {
        put(&mut secret, &format!("v{i}"), &[AWSCURRENT])?;
    }
    let before = secret.clone();
    assert_eq!(
        put(&mut secret, "v100", &[AWSCURRENT]),
        Err(VersionRuleError::TooManyVersions)
    );
    assert_eq!(secret, before);
    // A day later the oldest deprecated version can go.
    let later = T0.plus(PRUNE_MIN_AGE);
    secret.add_version(version("v100", later), &stages(&[AWSCURRENT]), later)?;
    assert!(secret.version("v0").is_none());
    assert_eq!(holder(&secret, AWSPREVIOUS).as_deref(), Some("v99"));
    Ok(())
}

#[test]
fn changes_between_two_states() -> Result<(), VersionRuleError> {
    let mut before = secret();
    put(&mut before, "v1", &[AWSCURRENT])?;
    put(&mut before, "v2", &[AWSPENDING])?;
    let mut after = before.clone();
    put(&mut after, "v3", &[AWSCURRENT])?;
    let changes = VersionChanges::between(&before, &after);
    assert_eq!(changes.added, ["v3"]);
    assert_eq!(changes.relabelled, ["v1"]);
    assert!(changes.removed.is_empty());
    Ok(())
}

// ---- Property test: random label moves against a simple reference model ----

/// The reference: a map from label to version, with the rules written as plainly as possible.
#[derive(Debug, Default, Clone)]
struct Reference {
    versions: Vec<String>,
    labels: BTreeMap<String, String>,
}

impl Reference {
    fn attach(&mut self, label: &str, version: &str) {
        let old = self.labels.insert(label.to_owned(), version.to_owned());
        if label == AWSCURRENT
            && let Some(old) = old.filter(|old| old != version)
        {
            self.labels.insert(AWSPREVIOUS.to_owned(), old);
        }
    }
}

#[derive(Debug, Clone)]
enum Step {
    Add(Vec<String>),
    Move {
        label: String,
        to: usize,
        name_holder: bool,
    },
    Remove {
        label: String,
        from: usize,
    },
}

fn label() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just(AWSCURRENT.to_owned()),
        2 => Just(AWSPREVIOUS.to_owned()),
        2 => Just(AWSPENDING.to_owned()),
        2 => (0..25u8).prop_map(|i| format!("L{i}")),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        2 => proptest::collection::vec(label(), 0..3).prop_map(Step::Add),
        3 => (label(), 0..200usize, any::<bool>())
            .prop_map(|(label, to, name_holder)| Step::Move { label, to, name_holder }),
        1 => (label(), 0..200usize).prop_map(|(label, from)| Step::Remove { label, from }),
    ]
}

fn check_invariants(secret: &Secret, reference: &Reference) -> Result<(), TestCaseError> {
    // Every label has at most one holder, and the model agrees with the reference.
    let mut seen = BTreeMap::new();
    for version in &secret.versions {
        for stage in &version.stages {
            prop_assert!(
                seen.insert(stage.clone(), version.id.clone()).is_none(),
                "{stage} twice"
            );
        }
    }
    prop_assert_eq!(&seen, &reference.labels);
    prop_assert!(secret.label_count() <= MAX_LABELS);
    // Once a current version exists, there is exactly one. (AWSPREVIOUS may share it only when a
    // caller puts it there explicitly; the automatic move is checked step by step.)
    if secret
        .versions
        .iter()
        .any(|v| v.stages.iter().any(|s| s == AWSCURRENT))
    {
        prop_assert_eq!(
            secret
                .versions
                .iter()
                .filter(|v| v.stages.iter().any(|s| s == AWSCURRENT))
                .count(),
            1
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn label_moves_match_the_reference_model(steps in proptest::collection::vec(step(), 1..60)) {
        let mut secret = secret();
        put(&mut secret, "v0", &[AWSCURRENT]).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        let mut reference = Reference::default();
        reference.versions.push("v0".into());
        reference.attach(AWSCURRENT, "v0");

        for (n, step) in steps.into_iter().enumerate() {
            let current_before = holder(&secret, AWSCURRENT);
            let before = secret.clone();
            match step {
                Step::Add(labels) => {
                    let id = format!("v{}", n + 1);
                    let mut next = reference.clone();
                    next.versions.push(id.clone());
                    let old_current = next.labels.get(AWSCURRENT).cloned();
                    for label in &labels {
                        next.attach(label, &id);
                    }
                    if let Some(old_current) = old_current
                        && next.labels.get(AWSCURRENT) == Some(&id)
                        && next.labels.get(AWSPENDING) == Some(&old_current)
                    {
                        next.labels.remove(AWSPENDING);
                    }
                    let result = secret.add_version(version(&id, T0), &labels, T0);
                    if next.labels.len() > MAX_LABELS {
                        prop_assert_eq!(result, Err(VersionRuleError::TooManyLabels));
                        prop_assert_eq!(&secret, &before);
                    } else {
                        prop_assert!(result.is_ok(), "{:?}", result);
                        reference = next;
                        let explicit_previous = labels.iter().any(|l| l == AWSPREVIOUS);
                        if labels.iter().any(|l| l == AWSCURRENT) && current_before.is_some() && !explicit_previous {
                            prop_assert_eq!(holder(&secret, AWSPREVIOUS), current_before);
                        }
                    }
                }
                Step::Move { label, to, name_holder } => {
                    let to = reference.versions[to % reference.versions.len()].clone();
                    let held_by = reference.labels.get(&label).cloned();
                    let remove_from = if name_holder { held_by.clone() } else { None };
                    let result = secret.update_stage(&label, remove_from.as_deref(), Some(&to));
                    let mut next = reference.clone();
                    next.attach(&label, &to);
                    let must_name_holder = held_by.as_ref().is_some_and(|h| *h != to) && !name_holder;
                    if must_name_holder {
                        let is_label_elsewhere = matches!(result, Err(VersionRuleError::LabelElsewhere { .. }));
                        prop_assert!(is_label_elsewhere, "{:?}", result);
                    } else if next.labels.len() > MAX_LABELS {
                        prop_assert_eq!(result.clone(), Err(VersionRuleError::TooManyLabels));
                    } else {
                        prop_assert!(result.is_ok(), "{:?}", result);
                        reference = next;
                        if label == AWSCURRENT && current_before.as_deref() != Some(to.as_str()) {
                            prop_assert_eq!(holder(&secret, AWSPREVIOUS), current_before);
                        }
                    }
                    if result.is_err() {
                        prop_assert_eq!(&secret, &before);
                    }
                }
                Step::Remove { label, from } => {
                    let from = reference.versions[from % reference.versions.len()].clone();
                    let result = secret.update_stage(&label, Some(&from), None);
                    let held_here = reference.labels.get(&label) == Some(&from);
                    if !held_here {
                        let is_not_on_version = matches!(result, Err(VersionRuleError::LabelNotOnVersion { .. }));
                        prop_assert!(is_not_on_version, "{:?}", result);
                    } else if label == AWSCURRENT {
                        prop_assert_eq!(result, Err(VersionRuleError::CurrentCannotBeRemoved));
                    } else {
                        prop_assert!(result.is_ok(), "{:?}", result);
                        reference.labels.remove(&label);
                    }
                }
            }
            check_invariants(&secret, &reference)?;
        }
    }
}
