//! The store conformance suite: one body of tests that every backend must pass. A backend's
//! tests call [`conformance_tests!`] with a constructor.

use std::sync::Arc;

use uuid::Uuid;

use std::time::Duration;

use super::{
    ListPosition, ListQuery, NewValue, PositionKey, SecretWrite, SortKey, Store, StoreError,
    StoredValue,
};
use crate::clock::Timestamp;
use crate::crypto::{SecretString, SecretValue, ValueKind};
use crate::service::kms::model::{KeyManager, KeyState, KmsAlias, KmsKeyRecord, MaterialRecord};
use crate::service::model::{
    AWSCURRENT, Deletion, Replica, ReplicaStatus, Scope, Secret, Tag, Version, VersionChanges,
};

mod audit;
mod identities;
pub use audit::*;
pub use identities::*;

const T0: Timestamp = Timestamp::from_millis(1_700_000_000_000);

pub(crate) fn scope(region: &str) -> Scope {
    Scope {
        account_id: "123456789012".into(),
        region: region.into(),
    }
}

pub(crate) fn secret(region: &str, name: &str) -> Secret {
    Secret {
        id: 0,
        revision: 0,
        scope: scope(region),
        name: name.into(),
        arn: format!("arn:aws:secretsmanager:{region}:123456789012:secret:{name}-AbCdEf"),
        description: Some("described".into()),
        kms_key_id: Some("alias/custom".into()),
        secret_type: None,
        tags: Some(vec![Tag {
            key: "team".into(),
            value: "core".into(),
        }]),
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

fn value(text: &str) -> StoredValue {
    StoredValue::plain(&SecretValue::String(SecretString::new(text.into())))
}

pub(crate) fn with_version(mut secret: Secret, version_id: &str) -> Secret {
    let version = Version::new(version_id, T0, None);
    secret
        .add_version(version, &[AWSCURRENT.to_owned()], T0)
        .unwrap_or_else(|error| panic!("{error:?}"));
    secret
}

/// Creates `secret` with one value per version, and loads it back.
pub(crate) async fn create(store: &dyn Store, secret: &Secret) -> Secret {
    let values: Vec<(String, StoredValue)> = secret
        .versions
        .iter()
        .map(|version| {
            (
                version.id.clone(),
                value(&format!("value of {}", version.id)),
            )
        })
        .collect();
    let new_values: Vec<NewValue<'_>> = values
        .iter()
        .map(|(version_id, value)| NewValue { version_id, value })
        .collect();
    let id = store
        .create(secret, &new_values, &[])
        .await
        .unwrap_or_else(|error| panic!("create: {error}"));
    let loaded = store.load_by_arn(&secret.arn).await.ok().flatten();
    let loaded = loaded.unwrap_or_else(|| panic!("created secret {} not found", secret.arn));
    assert_eq!(loaded.id, id);
    loaded
}

pub(crate) async fn save(
    store: &dyn Store,
    before: &Secret,
    after: &Secret,
    values: &[NewValue<'_>],
) -> Result<(), StoreError> {
    let changes = VersionChanges::between(before, after);
    store
        .save(SecretWrite {
            secret: after,
            changes: &changes,
            new_values: values,
            rewrapped: &[],
            overwritten: &[],
        })
        .await
}

async fn text_of(store: &dyn Store, secret: &Secret, version_id: &str) -> Option<String> {
    let stored = store
        .load_value(secret.id, version_id)
        .await
        .ok()
        .flatten()?;
    assert_eq!(stored.kind, ValueKind::String);
    Some(String::from_utf8_lossy(&stored.bytes).into_owned())
}

pub async fn created_secrets_load_by_name_and_arn(store: Arc<dyn Store>) {
    let created = create(&*store, &with_version(secret("us-east-1", "db"), "v1")).await;
    let by_name = store
        .load_by_name(&scope("us-east-1"), "db")
        .await
        .ok()
        .flatten();
    assert_eq!(by_name.as_ref(), Some(&created));
    assert_eq!(created.description.as_deref(), Some("described"));
    assert_eq!(created.kms_key_id.as_deref(), Some("alias/custom"));
    assert_eq!(created.tags.as_ref().map(Vec::len), Some(1));
    assert_eq!(created.versions.len(), 1);
    assert_eq!(created.versions[0].stages, [AWSCURRENT]);
    assert_eq!(
        text_of(&*store, &created, "v1").await.as_deref(),
        Some("value of v1")
    );
    assert!(
        store
            .load_by_name(&scope("us-west-2"), "db")
            .await
            .ok()
            .flatten()
            .is_none()
    );
    assert!(
        store
            .load_value(created.id, "v2")
            .await
            .ok()
            .flatten()
            .is_none()
    );
}

pub async fn names_are_unique_per_account_and_region(store: Arc<dyn Store>) {
    create(&*store, &secret("us-east-1", "db")).await;
    let mut same_name = secret("us-east-1", "db");
    same_name.arn.push('X');
    assert!(matches!(
        store.create(&same_name, &[], &[]).await,
        Err(StoreError::NameTaken)
    ));
    let mut same_arn = secret("us-east-1", "other");
    same_arn.arn = secret("us-east-1", "db").arn;
    assert!(matches!(
        store.create(&same_arn, &[], &[]).await,
        Err(StoreError::ArnTaken)
    ));
    create(&*store, &secret("eu-west-1", "db")).await;
}

pub async fn saves_are_compare_and_swap(store: Arc<dyn Store>) {
    let before = create(&*store, &with_version(secret("us-east-1", "db"), "v1")).await;
    let mut after = before.clone();
    after.description = Some("changed".into());
    after = with_version(after, "v2");
    let v2 = value("second");
    save(
        &*store,
        &before,
        &after,
        &[NewValue {
            version_id: "v2",
            value: &v2,
        }],
    )
    .await
    .unwrap_or_else(|error| panic!("save: {error}"));
    // A second save from the same starting revision loses.
    let mut stale = before.clone();
    stale.description = Some("stale".into());
    assert!(matches!(
        save(&*store, &before, &stale, &[]).await,
        Err(StoreError::Conflict)
    ));

    let loaded = store.load_by_arn(&before.arn).await.ok().flatten();
    let loaded = loaded.unwrap_or_else(|| panic!("secret vanished"));
    assert_eq!(loaded.revision, before.revision + 1);
    assert_eq!(loaded.description.as_deref(), Some("changed"));
    let stages: Vec<(String, Vec<String>)> = loaded
        .versions
        .iter()
        .map(|v| (v.id.clone(), v.stages.clone()))
        .collect();
    assert_eq!(
        stages,
        [
            ("v1".to_owned(), vec!["AWSPREVIOUS".to_owned()]),
            ("v2".to_owned(), vec![AWSCURRENT.to_owned()])
        ]
    );
    assert_eq!(
        text_of(&*store, &loaded, "v2").await.as_deref(),
        Some("second")
    );
}

pub async fn removed_versions_lose_their_values(store: Arc<dyn Store>) {
    let before = create(
        &*store,
        &with_version(with_version(secret("us-east-1", "db"), "v1"), "v2"),
    )
    .await;
    let mut after = before.clone();
    after.versions.retain(|version| version.id != "v1");
    save(&*store, &before, &after, &[])
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    assert!(
        store
            .load_value(before.id, "v1")
            .await
            .ok()
            .flatten()
            .is_none()
    );
    assert!(
        store
            .load_value(before.id, "v2")
            .await
            .ok()
            .flatten()
            .is_some()
    );
}

pub async fn deletes_are_compare_and_swap(store: Arc<dyn Store>) {
    let created = create(&*store, &with_version(secret("us-east-1", "db"), "v1")).await;
    assert!(matches!(
        store.delete(created.id, created.revision + 1).await,
        Err(StoreError::Conflict)
    ));
    store
        .delete(created.id, created.revision)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    assert!(
        store
            .load_by_arn(&created.arn)
            .await
            .ok()
            .flatten()
            .is_none()
    );
    assert!(
        store
            .load_value(created.id, "v1")
            .await
            .ok()
            .flatten()
            .is_none()
    );
    // The name is free again.
    create(&*store, &secret("us-east-1", "db")).await;
}

pub async fn access_days_only_move_forward_and_keep_the_revision(store: Arc<dyn Store>) {
    let created = create(&*store, &with_version(secret("us-east-1", "db"), "v1")).await;
    let day = |n: i64| T0.start_of_day().plus_days(n);
    for (recorded, expected) in [(day(2), day(2)), (day(1), day(2)), (day(3), day(3))] {
        store
            .record_access(created.id, "v1", recorded)
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        let loaded = store.load_by_arn(&created.arn).await.ok().flatten();
        let loaded = loaded.unwrap_or_else(|| panic!("secret vanished"));
        assert_eq!(loaded.last_accessed_day, Some(expected));
        assert_eq!(loaded.versions[0].last_accessed_day, Some(expected));
        assert_eq!(loaded.revision, created.revision);
    }
}

pub async fn pending_deletions_come_due(store: Arc<dyn Store>) {
    let mut doomed = secret("us-east-1", "doomed");
    doomed.deletion = Some(Deletion {
        requested_at: T0,
        purge_at: T0.plus_days(7),
    });
    let doomed = create(&*store, &doomed).await;
    create(&*store, &secret("us-east-1", "kept")).await;
    assert_eq!(
        store.due_for_purge(T0.plus_days(6), 10).await.ok(),
        Some(vec![])
    );
    assert_eq!(
        store.due_for_purge(T0.plus_days(7), 10).await.ok(),
        Some(vec![(doomed.id, doomed.revision)])
    );
    assert_eq!(
        store.due_for_purge(T0.plus_days(8), 0).await.ok(),
        Some(vec![])
    );
}

/// Many writers race to save the same revision: exactly one wins, and the others are told.
pub async fn racing_saves_have_one_winner(store: Arc<dyn Store>) {
    let before = create(&*store, &with_version(secret("us-east-1", "db"), "v1")).await;
    let mut tasks = Vec::new();
    for n in 0..16 {
        let store = Arc::clone(&store);
        let before = before.clone();
        tasks.push(tokio::spawn(async move {
            let version_id = format!("racer-{n}");
            let after = with_version(before.clone(), &version_id);
            let racer_value = value(&version_id);
            save(
                &*store,
                &before,
                &after,
                &[NewValue {
                    version_id: &version_id,
                    value: &racer_value,
                }],
            )
            .await
        }));
    }
    let mut winners = 0;
    for task in tasks {
        match task.await {
            Ok(Ok(())) => winners += 1,
            Ok(Err(StoreError::Conflict)) => {}
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!(winners, 1);
    let loaded = store.load_by_arn(&before.arn).await.ok().flatten();
    let loaded = loaded.unwrap_or_else(|| panic!("secret vanished"));
    assert_eq!(loaded.versions.len(), 2, "the losers wrote nothing");
}

/// A lease is held by one holder until it ends; the holder renews it, others wait it out.
pub async fn job_claims_are_exclusive_until_the_lease_ends(store: Arc<dyn Store>) {
    let lease = Duration::from_secs(60);
    let at = |secs: u64| T0.plus(Duration::from_secs(secs));
    let claim = |holder: &'static str, now: Timestamp| {
        let store = Arc::clone(&store);
        async move {
            store
                .claim_job("purge", holder, now, lease)
                .await
                .unwrap_or_else(|error| panic!("claim: {error}"))
        }
    };
    assert!(claim("a", at(0)).await, "an unclaimed job is free");
    assert!(!claim("b", at(0)).await);
    assert!(!claim("b", at(59)).await, "the lease runs until it ends");
    assert!(claim("a", at(30)).await, "the holder renews its lease");
    assert!(!claim("b", at(60)).await, "renewed until 90 s");
    assert!(claim("b", at(90)).await, "an ended lease is free");
    assert!(!claim("a", at(100)).await, "the old holder lost it");
    assert!(
        store
            .claim_job("other", "a", at(100), lease)
            .await
            .unwrap_or_else(|error| panic!("claim: {error}")),
        "jobs are claimed independently"
    );
}

/// Many nodes claim a free job at once: exactly one gets it.
pub async fn racing_job_claims_have_one_winner(store: Arc<dyn Store>) {
    let mut tasks = Vec::new();
    for n in 0..16 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            store
                .claim_job("purge", &format!("node-{n}"), T0, Duration::from_secs(60))
                .await
        }));
    }
    let mut winners = 0;
    for task in tasks {
        match task.await {
            Ok(Ok(true)) => winners += 1,
            Ok(Ok(false)) => {}
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!(winners, 1);
}

/// A setting keeps the first value anyone gave it, even when several set it at once.
pub async fn settings_keep_their_first_value(store: Arc<dyn Store>) {
    let first = store.setting("key", b"first".to_vec()).await.ok();
    assert_eq!(first.as_deref(), Some(&b"first"[..]));
    let again = store.setting("key", b"second".to_vec()).await.ok();
    assert_eq!(again.as_deref(), Some(&b"first"[..]));
    let mut tasks = Vec::new();
    for n in 0..8u8 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            store.setting("raced", vec![n]).await
        }));
    }
    let mut seen = Vec::new();
    for task in tasks {
        match task.await {
            Ok(Ok(value)) => seen.push(value),
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    seen.dedup();
    assert_eq!(seen.len(), 1, "every caller got the same value: {seen:?}");
}

/// Pages through a listing `limit` secrets at a time; returns the names in order.
async fn list_all(store: &dyn Store, mut query: ListQuery) -> Vec<String> {
    let mut names = Vec::new();
    loop {
        let page = store
            .list(&query)
            .await
            .unwrap_or_else(|error| panic!("list: {error}"));
        let full = page.len() == query.limit;
        let last: Option<ListPosition> = page.last().map(|(position, _)| position.clone());
        names.extend(page.into_iter().map(|(_, secret)| secret.name));
        match last {
            Some(position) if full => query.after = Some(position),
            _ => return names,
        }
    }
}

/// Listings come in byte order of names (whatever the database's collation), pages follow each
/// other without gaps or repeats, and equal sort keys are ordered by id.
pub async fn listings_page_in_byte_order(store: Arc<dyn Store>) {
    let names = ["b", "B", "a", "_x", "Z", "a-b", "\u{e4}", "a b", "10", "9"];
    for name in names {
        create(&*store, &secret("us-east-1", name)).await;
    }
    create(&*store, &secret("eu-west-1", "elsewhere")).await;
    let mut doomed = secret("us-east-1", "doomed");
    doomed.deletion = Some(Deletion {
        requested_at: T0,
        purge_at: T0.plus_days(7),
    });
    create(&*store, &doomed).await;

    let query = |sort: SortKey, descending: bool, include_pending_deletion: bool| ListQuery {
        scope: scope("us-east-1"),
        include_pending_deletion,
        sort,
        descending,
        after: None,
        limit: 3,
    };
    let mut expected: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
    expected.sort();
    assert_eq!(
        list_all(&*store, query(SortKey::Name, false, false)).await,
        expected
    );
    expected.reverse();
    assert_eq!(
        list_all(&*store, query(SortKey::Name, true, false)).await,
        expected
    );
    // Every secret has the same creation date: the order is by id, i.e. creation order.
    let mut created: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
    created.push("doomed".to_owned());
    assert_eq!(
        list_all(&*store, query(SortKey::CreatedDate, false, true)).await,
        created
    );
    created.reverse();
    assert_eq!(
        list_all(&*store, query(SortKey::LastAccessedDate, true, true)).await,
        created
    );
    let first = store
        .list(&query(SortKey::Name, false, false))
        .await
        .unwrap_or_else(|error| panic!("list: {error}"));
    assert_eq!(
        first.first().map(|(position, _)| position.key.clone()),
        Some(PositionKey::Name("10".to_owned()))
    );
}

fn replica(region: &str, status: ReplicaStatus) -> Replica {
    Replica {
        region: region.into(),
        kms_key_id: None,
        status,
        status_message: None,
        last_accessed_day: None,
    }
}

/// Replica records live in their region under the primary's name, resolve to the primary, and
/// follow the primary's list of replicas; promotion turns one into a secret of its own.
pub async fn replicas_follow_their_primary(store: Arc<dyn Store>) {
    let mut primary = with_version(secret("us-east-1", "db"), "v1");
    primary.replicas = vec![
        replica("eu-west-1", ReplicaStatus::InSync),
        replica("ap-south-1", ReplicaStatus::Failed),
    ];
    let primary = create(&*store, &primary).await;
    assert_eq!(primary.replica_view, None);

    let seen = store
        .load_by_name(&scope("eu-west-1"), "db")
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("the replica is not found in its region"));
    let view = seen
        .replica_view
        .clone()
        .unwrap_or_else(|| panic!("no replica view"));
    assert_eq!(view.region, "eu-west-1");
    assert_eq!(view.arn, primary.replica_arn("eu-west-1"));
    assert_eq!(seen.id, primary.id);
    assert_eq!(seen.versions, primary.versions);
    let by_arn = store.load_by_arn(&view.arn).await.ok().flatten();
    assert_eq!(by_arn.as_ref(), Some(&seen));
    assert!(
        store
            .load_by_name(&scope("ap-south-1"), "db")
            .await
            .ok()
            .flatten()
            .is_none(),
        "a failed replica has no record"
    );
    let listed = store
        .list(&ListQuery {
            scope: scope("eu-west-1"),
            include_pending_deletion: false,
            sort: SortKey::Name,
            descending: false,
            after: None,
            limit: 10,
        })
        .await
        .unwrap_or_else(|error| panic!("list: {error}"));
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].1.replica_view.as_ref(), Some(&view));

    // A read through the replica is recorded on the replica, not on the primary.
    let day = T0.start_of_day();
    store
        .record_access(view.record, "v1", day)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let reloaded = store.load_by_arn(&primary.arn).await.ok().flatten();
    let reloaded = reloaded.unwrap_or_else(|| panic!("primary vanished"));
    assert_eq!(reloaded.last_accessed_day, None);
    assert_eq!(
        reloaded
            .replica("eu-west-1")
            .and_then(|replica| replica.last_accessed_day),
        Some(day)
    );

    // A replica into a region where the name is taken is refused, and nothing is saved.
    let mut squatter = secret("us-west-2", "db");
    squatter.arn.push('X');
    create(&*store, &squatter).await;
    let mut crowded = reloaded.clone();
    crowded
        .replicas
        .push(replica("us-west-2", ReplicaStatus::InSync));
    assert!(matches!(
        save(&*store, &reloaded, &crowded, &[]).await,
        Err(StoreError::NameTaken)
    ));

    // Promotion: the primary drops the replica, and the replica's region gets its own secret.
    let mut after = reloaded.clone();
    after
        .replicas
        .retain(|replica| replica.region != "eu-west-1");
    let mut promoted = secret("eu-west-1", "db");
    promoted.arn = view.arn.clone();
    promoted = with_version(promoted, "v1");
    let promoted_value = value("promoted");
    let changes = VersionChanges::between(&reloaded, &after);
    let promoted_id = store
        .promote(
            SecretWrite {
                secret: &after,
                changes: &changes,
                new_values: &[],
                rewrapped: &[],
                overwritten: &[],
            },
            &promoted,
            &[NewValue {
                version_id: "v1",
                value: &promoted_value,
            }],
        )
        .await
        .unwrap_or_else(|error| panic!("promote: {error}"));
    let own = store
        .load_by_name(&scope("eu-west-1"), "db")
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("the promoted secret is not found"));
    assert_eq!(own.id, promoted_id);
    assert_eq!(own.replica_view, None);
    assert_eq!(own.arn, view.arn);
    assert_eq!(
        text_of(&*store, &own, "v1").await.as_deref(),
        Some("promoted")
    );
    let primary_now = store.load_by_arn(&primary.arn).await.ok().flatten();
    let primary_now = primary_now.unwrap_or_else(|| panic!("primary vanished"));
    assert!(primary_now.replica("eu-west-1").is_none());
    assert_eq!(primary_now.revision, reloaded.revision + 1);
}

/// Text that clients give is kept exactly, NUL characters and all.
pub async fn free_text_is_kept_as_given(store: Arc<dyn Store>) {
    let odd = |text: &str| Some(format!("{text} \u{0}\u{1} \u{e9}\u{1f511} '\" \\ %"));
    let mut given = with_version(secret("us-east-1", "db"), "v1");
    given.description = odd("description");
    given.kms_key_id = odd("alias/key");
    given.secret_type = odd("type");
    given.resource_policy = odd("{}");
    given.tags = Some(vec![Tag {
        key: "k\u{0}".into(),
        value: "v\u{0}".into(),
    }]);
    given.versions[0].kms_key_id = odd("alias/version");
    let created = create(&*store, &given).await;
    assert_eq!(created.description, given.description);
    assert_eq!(created.kms_key_id, given.kms_key_id);
    assert_eq!(created.secret_type, given.secret_type);
    assert_eq!(created.resource_policy, given.resource_policy);
    assert_eq!(created.tags, given.tags);
    assert_eq!(created.versions[0].kms_key_id, given.versions[0].kms_key_id);

    let mut after = created.clone();
    after.description = odd("changed");
    after.resource_policy = odd("{ }");
    after.versions[0].kms_key_id = odd("alias/other");
    after.versions[0].stages.push("LABEL\u{0}".into());
    save(&*store, &created, &after, &[])
        .await
        .unwrap_or_else(|error| panic!("save: {error}"));
    let loaded = store.load_by_arn(&created.arn).await.ok().flatten();
    let loaded = loaded.unwrap_or_else(|| panic!("secret vanished"));
    assert_eq!(loaded.description, after.description);
    assert_eq!(loaded.resource_policy, after.resource_policy);
    assert_eq!(loaded.versions, after.versions);
}

fn query(region: &str, sort: SortKey, descending: bool) -> ListQuery {
    ListQuery {
        scope: scope(region),
        include_pending_deletion: false,
        sort,
        descending,
        after: None,
        limit: 100,
    }
}

async fn names(store: &dyn Store, query: &ListQuery) -> Vec<String> {
    let page = store
        .list(query)
        .await
        .unwrap_or_else(|error| panic!("list: {error}"));
    page.into_iter().map(|(_, secret)| secret.name).collect()
}

/// Listings come in the order of their sort key, then of creation; they resume after a
/// position; they leave out pending deletions unless asked, and other scopes always.
pub async fn listings_are_ordered_and_resume_after_a_position(store: Arc<dyn Store>) {
    for (n, name) in ["b", "c", "a", "d"].iter().enumerate() {
        let mut s = secret("us-east-1", name);
        s.created_at = T0.plus(std::time::Duration::from_secs(
            u64::try_from(n).unwrap_or(0),
        ));
        if *name == "d" {
            s.deletion = Some(Deletion {
                requested_at: T0,
                purge_at: T0.plus_days(7),
            });
        }
        create(&*store, &s).await;
    }
    create(&*store, &secret("eu-west-1", "elsewhere")).await;
    let by_creation = query("us-east-1", SortKey::CreatedDate, false);
    assert_eq!(names(&*store, &by_creation).await, ["b", "c", "a"]);
    let newest_first = query("us-east-1", SortKey::CreatedDate, true);
    assert_eq!(names(&*store, &newest_first).await, ["a", "c", "b"]);
    let by_name = query("us-east-1", SortKey::Name, false);
    assert_eq!(names(&*store, &by_name).await, ["a", "b", "c"]);
    let with_deleted = ListQuery {
        include_pending_deletion: true,
        ..by_name.clone()
    };
    assert_eq!(names(&*store, &with_deleted).await, ["a", "b", "c", "d"]);
    // Pages of one, each resuming after the last position.
    let mut walked = Vec::new();
    let mut page_query = ListQuery {
        limit: 1,
        ..by_creation.clone()
    };
    loop {
        let page = store.list(&page_query).await.unwrap_or_default();
        let Some((position, secret)) = page.into_iter().next() else {
            break;
        };
        walked.push(secret.name);
        page_query.after = Some(position);
    }
    assert_eq!(walked, ["b", "c", "a"]);
}

fn in_sync_replica(region: &str) -> Replica {
    Replica {
        region: region.into(),
        kms_key_id: None,
        status: ReplicaStatus::InSync,
        status_message: None,
        last_accessed_day: None,
    }
}

/// A replica is found by name and ARN in its region, as the primary seen from there; it takes
/// the name in that region; it goes when the primary drops it or is deleted.
pub async fn replicas_are_views_of_their_primary(store: Arc<dyn Store>) {
    let before = create(&*store, &with_version(secret("us-east-1", "db"), "v1")).await;
    let mut after = before.clone();
    after.replicas = vec![in_sync_replica("us-west-2")];
    save(&*store, &before, &after, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let seen = store
        .load_by_name(&scope("us-west-2"), "db")
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("replica not found by name"));
    let view = seen
        .replica_view
        .clone()
        .unwrap_or_else(|| panic!("not a view"));
    assert_eq!(seen.id, before.id);
    assert_eq!(view.region, "us-west-2");
    assert_eq!(view.arn, before.replica_arn("us-west-2"));
    let by_arn = store.load_by_arn(&view.arn).await.ok().flatten();
    assert_eq!(by_arn.map(|s| s.id), Some(before.id));
    assert_eq!(
        text_of(&*store, &seen, "v1").await.as_deref(),
        Some("value of v1")
    );
    // The name is taken in the replica's region.
    assert!(matches!(
        store.create(&secret("us-west-2", "db"), &[], &[]).await,
        Err(StoreError::NameTaken | StoreError::ArnTaken)
    ));
    // A read there is recorded on the replica, not on the primary.
    store
        .record_access(view.record, "v1", T0.start_of_day())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let primary = store.load_by_arn(&before.arn).await.ok().flatten();
    let primary = primary.unwrap_or_else(|| panic!("primary vanished"));
    assert_eq!(primary.last_accessed_day, None);
    assert_eq!(
        primary.replicas[0].last_accessed_day,
        Some(T0.start_of_day())
    );
    // A failed replica has no record; dropping the replica frees the name.
    let mut dropped = primary.clone();
    dropped.replicas = vec![Replica {
        status: ReplicaStatus::Failed,
        ..in_sync_replica("us-west-2")
    }];
    save(&*store, &primary, &dropped, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        store
            .load_by_name(&scope("us-west-2"), "db")
            .await
            .ok()
            .flatten()
            .is_none()
    );
    // Deleting a primary removes its replicas' records.
    let current = store.load_by_arn(&before.arn).await.ok().flatten();
    let current = current.unwrap_or_else(|| panic!("primary vanished"));
    let mut again = current.clone();
    again.replicas = vec![in_sync_replica("us-west-2")];
    save(&*store, &current, &again, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let current = store.load_by_arn(&before.arn).await.ok().flatten();
    let current = current.unwrap_or_else(|| panic!("primary vanished"));
    store
        .delete(current.id, current.revision)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(store.load_by_arn(&view.arn).await.ok().flatten().is_none());
}

/// A replica may replace a secret of the same name in its region, in the same transaction,
/// only if that secret is still at the revision that was seen.
pub async fn replicas_overwrite_only_what_was_seen(store: Arc<dyn Store>) {
    let mut occupant = secret("us-west-2", "db");
    occupant.arn = "arn:aws:secretsmanager:us-west-2:123456789012:secret:db-XyZ123".into();
    let occupant = create(&*store, &occupant).await;
    let before = create(&*store, &with_version(secret("us-east-1", "db"), "v1")).await;
    let mut after = before.clone();
    after.replicas = vec![in_sync_replica("us-west-2")];
    let refused = save(&*store, &before, &after, &[]).await;
    assert!(matches!(refused, Err(StoreError::NameTaken)), "{refused:?}");
    let stale = store
        .save(SecretWrite {
            secret: &after,
            changes: &VersionChanges::default(),
            new_values: &[],
            rewrapped: &[],
            overwritten: &[(occupant.id, occupant.revision + 1)],
        })
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict)), "{stale:?}");
    store
        .save(SecretWrite {
            secret: &after,
            changes: &VersionChanges::default(),
            new_values: &[],
            rewrapped: &[],
            overwritten: &[(occupant.id, occupant.revision)],
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        store
            .load_by_arn(&occupant.arn)
            .await
            .ok()
            .flatten()
            .is_none()
    );
    let seen = store
        .load_by_name(&scope("us-west-2"), "db")
        .await
        .ok()
        .flatten();
    assert_eq!(seen.map(|s| s.id), Some(before.id));
}

/// Promoting a replica drops it from the primary and creates the new secret in one step.
pub async fn promotion_replaces_the_replica_with_a_secret(store: Arc<dyn Store>) {
    let mut first = with_version(secret("us-east-1", "db"), "v1");
    first.replicas = vec![in_sync_replica("us-west-2")];
    let primary = create(&*store, &first).await;
    let mut without = primary.clone();
    without.replicas.clear();
    let mut promoted = with_version(secret("us-west-2", "db"), "v1");
    promoted.arn = primary.replica_arn("us-west-2");
    let copied = value("copied");
    let id = store
        .promote(
            SecretWrite {
                secret: &without,
                changes: &VersionChanges::default(),
                new_values: &[],
                rewrapped: &[],
                overwritten: &[],
            },
            &promoted,
            &[NewValue {
                version_id: "v1",
                value: &copied,
            }],
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let standalone = store.load_by_arn(&promoted.arn).await.ok().flatten();
    let standalone = standalone.unwrap_or_else(|| panic!("promoted secret not found"));
    assert_eq!(standalone.id, id);
    assert!(standalone.replica_view.is_none());
    assert_eq!(
        text_of(&*store, &standalone, "v1").await.as_deref(),
        Some("copied")
    );
    let primary = store.load_by_arn(&primary.arn).await.ok().flatten();
    assert_eq!(primary.map(|p| p.replicas.len()), Some(0));
}

// KMS keys and aliases, and the stored form of values (sealed or not, rewrapped).

fn kms_key(region: &str, id: u128) -> KmsKeyRecord {
    KmsKeyRecord {
        id: Uuid::from_u128(id),
        account_id: "123456789012".into(),
        region: region.into(),
        revision: 0,
        created_at: T0,
        description: format!("key {id:x}"),
        state: KeyState::Enabled,
        deletion_at: None,
        pending_window_days: None,
        manager: KeyManager::Customer,
        policy: r#"{"Version":"2012-10-17"}"#.into(),
        rotation_period_days: Some(90),
        next_rotation_at: None,
        on_demand_rotation_at: Some(T0.plus_days(1)),
        materials: vec![
            MaterialRecord {
                version: 1,
                created_at: T0,
                wrapped: vec![0, 1, 2, 255, 254, 0],
                on_demand: false,
            },
            MaterialRecord {
                version: 2,
                created_at: T0.plus_days(1),
                wrapped: (0..=255).collect(),
                on_demand: true,
            },
        ],
        tags: vec![
            ("team".into(), "core".into()),
            ("empty".into(), String::new()),
        ],
    }
}

fn kms_alias(region: &str, name: &str, key: u128) -> KmsAlias {
    KmsAlias {
        account_id: "123456789012".into(),
        region: region.into(),
        name: name.into(),
        key_id: Uuid::from_u128(key),
        created_at: T0,
        updated_at: T0,
    }
}

async fn load_key(store: &dyn Store, id: u128) -> Option<KmsKeyRecord> {
    store
        .load_kms_key(Uuid::from_u128(id))
        .await
        .unwrap_or_else(|e| panic!("load_kms_key: {e}"))
}

async fn create_key(store: &dyn Store, key: &KmsKeyRecord, alias: Option<&KmsAlias>) {
    store
        .create_kms_key(key, alias)
        .await
        .unwrap_or_else(|e| panic!("create_kms_key: {e}"));
}

/// A key loads back as it was created (revision 1), saves are compare-and-swap on the
/// revision, and a delete takes the key's aliases with it.
pub async fn kms_keys_round_trip_and_are_compare_and_swap(store: Arc<dyn Store>) {
    let key = kms_key("us-east-1", 0xabc);
    let alias = kms_alias("us-east-1", "alias/first", 0xabc);
    create_key(&*store, &key, Some(&alias)).await;
    let loaded = load_key(&*store, 0xabc)
        .await
        .unwrap_or_else(|| panic!("created key not found"));
    let mut expected = key.clone();
    expected.revision = 1;
    assert_eq!(loaded, expected);
    assert_eq!(loaded.materials[1].wrapped, (0..=255).collect::<Vec<u8>>());
    assert!(load_key(&*store, 0xabd).await.is_none());
    assert_eq!(
        store
            .load_kms_alias(&scope("us-east-1"), "alias/first")
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        Some(alias.clone())
    );

    let mut changed = loaded.clone();
    changed.state = KeyState::Disabled;
    changed.description = "changed".into();
    changed.materials.push(MaterialRecord {
        version: 3,
        created_at: T0.plus_days(2),
        wrapped: vec![9; 40],
        on_demand: false,
    });
    store
        .save_kms_key(&changed)
        .await
        .unwrap_or_else(|e| panic!("save_kms_key: {e}"));
    // A second save from the same revision loses.
    let mut stale = loaded.clone();
    stale.description = "stale".into();
    assert!(matches!(
        store.save_kms_key(&stale).await,
        Err(StoreError::Conflict)
    ));
    let reloaded = load_key(&*store, 0xabc)
        .await
        .unwrap_or_else(|| panic!("saved key not found"));
    let mut expected = changed.clone();
    expected.revision = 2;
    assert_eq!(reloaded, expected);
    // Saving a key that does not exist is a conflict too.
    assert!(matches!(
        store.save_kms_key(&kms_key("us-east-1", 0xdef)).await,
        Err(StoreError::Conflict)
    ));
    assert!(load_key(&*store, 0xdef).await.is_none());

    // Deletes are compare-and-swap, and remove the aliases of the key (only those).
    create_key(
        &*store,
        &kms_key("us-east-1", 0x123),
        Some(&kms_alias("us-east-1", "alias/other", 0x123)),
    )
    .await;
    store
        .put_kms_alias(&kms_alias("us-east-1", "alias/second", 0xabc), true)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let id = Uuid::from_u128(0xabc);
    assert!(matches!(
        store.delete_kms_key(id, 1).await,
        Err(StoreError::Conflict)
    ));
    assert!(load_key(&*store, 0xabc).await.is_some());
    store
        .delete_kms_key(id, 2)
        .await
        .unwrap_or_else(|e| panic!("delete_kms_key: {e}"));
    assert!(load_key(&*store, 0xabc).await.is_none());
    assert!(matches!(
        store.delete_kms_key(id, 2).await,
        Err(StoreError::Conflict)
    ));
    let names: Vec<String> = store
        .list_kms_aliases(&scope("us-east-1"), None, None, 100)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|alias| alias.name)
        .collect();
    assert_eq!(names, ["alias/other"]);
    assert!(
        store
            .load_kms_alias(&scope("us-east-1"), "alias/first")
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .is_none()
    );
}

/// Creating a key with an alias that exists creates nothing: concurrent first uses of a
/// managed key agree on one key this way.
pub async fn kms_key_creation_with_a_taken_alias_writes_nothing(store: Arc<dyn Store>) {
    let alias = kms_alias("us-east-1", "alias/aws/secretsmanager", 1);
    create_key(&*store, &kms_key("us-east-1", 1), Some(&alias)).await;
    let mut second = alias.clone();
    second.key_id = Uuid::from_u128(2);
    assert!(matches!(
        store
            .create_kms_key(&kms_key("us-east-1", 2), Some(&second))
            .await,
        Err(StoreError::AliasConflict)
    ));
    assert!(load_key(&*store, 2).await.is_none());
    let ids: Vec<Uuid> = store
        .list_kms_keys(&scope("us-east-1"), None, 10)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|key| key.id)
        .collect();
    assert_eq!(ids, [Uuid::from_u128(1)]);
    assert_eq!(
        store
            .load_kms_alias(&scope("us-east-1"), &alias.name)
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        Some(alias.clone())
    );
    // The same name in another region is another alias; a key without an alias is fine.
    create_key(
        &*store,
        &kms_key("eu-west-1", 2),
        Some(&kms_alias("eu-west-1", "alias/aws/secretsmanager", 2)),
    )
    .await;
    create_key(&*store, &kms_key("us-east-1", 3), None).await;
    assert!(load_key(&*store, 3).await.is_some());
}

/// Concurrent creations of keys under one alias (first uses of the managed key) agree: one
/// key is created, the others write nothing.
pub async fn racing_kms_key_creations_agree_on_one_key(store: Arc<dyn Store>) {
    let mut tasks = Vec::new();
    for n in 1..=16u128 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let alias = kms_alias("us-east-1", "alias/aws/secretsmanager", n);
            store
                .create_kms_key(&kms_key("us-east-1", n), Some(&alias))
                .await
                .map(|()| n)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        match task.await {
            Ok(Ok(n)) => winners.push(n),
            Ok(Err(StoreError::AliasConflict)) => {}
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let keys = store
        .list_kms_keys(&scope("us-east-1"), None, 100)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        keys.iter().map(|key| key.id).collect::<Vec<_>>(),
        [Uuid::from_u128(winners[0])],
        "the losers wrote nothing"
    );
    let alias = store
        .load_kms_alias(&scope("us-east-1"), "alias/aws/secretsmanager")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(alias.map(|a| a.key_id), Some(Uuid::from_u128(winners[0])));
}

/// Aliases are created once, repointed only if they exist, only at keys that exist.
pub async fn kms_aliases_are_created_and_repointed(store: Arc<dyn Store>) {
    create_key(&*store, &kms_key("us-east-1", 1), None).await;
    create_key(&*store, &kms_key("us-east-1", 2), None).await;
    let alias = kms_alias("us-east-1", "alias/app", 1);
    store
        .put_kms_alias(&alias, true)
        .await
        .unwrap_or_else(|e| panic!("create alias: {e}"));
    assert!(matches!(
        store
            .put_kms_alias(&kms_alias("us-east-1", "alias/app", 2), true)
            .await,
        Err(StoreError::AliasConflict)
    ));
    assert!(matches!(
        store
            .put_kms_alias(&kms_alias("us-east-1", "alias/missing", 2), false)
            .await,
        Err(StoreError::AliasConflict)
    ));
    assert!(
        store
            .load_kms_alias(&scope("us-east-1"), "alias/missing")
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .is_none()
    );
    // A target key that does not exist.
    assert!(matches!(
        store
            .put_kms_alias(&kms_alias("us-east-1", "alias/nokey", 9), true)
            .await,
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        store
            .put_kms_alias(&kms_alias("us-east-1", "alias/app", 9), false)
            .await,
        Err(StoreError::Conflict)
    ));
    assert!(
        store
            .load_kms_alias(&scope("us-east-1"), "alias/nokey")
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .is_none()
    );
    let mut repointed = alias.clone();
    repointed.key_id = Uuid::from_u128(2);
    repointed.created_at = T0.plus_days(5);
    repointed.updated_at = T0.plus_days(7);
    store
        .put_kms_alias(&repointed, false)
        .await
        .unwrap_or_else(|e| panic!("update alias: {e}"));
    let loaded = store
        .load_kms_alias(&scope("us-east-1"), "alias/app")
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("alias vanished"));
    assert_eq!(loaded.key_id, Uuid::from_u128(2));
    assert_eq!(loaded.updated_at, T0.plus_days(7));
    // Updating keeps the creation date.
    assert_eq!(loaded.created_at, T0);
    // Aliases are per account and region.
    assert!(
        store
            .load_kms_alias(&scope("eu-west-1"), "alias/app")
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .is_none()
    );
    assert!(
        !store
            .delete_kms_alias(&scope("eu-west-1"), "alias/app")
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    );
    assert!(
        store
            .delete_kms_alias(&scope("us-east-1"), "alias/app")
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    );
    assert!(
        !store
            .delete_kms_alias(&scope("us-east-1"), "alias/app")
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    );
    assert!(load_key(&*store, 2).await.is_some());
}

/// Keys list in id order (as text) and aliases in name order, per account and region, page
/// after page.
pub async fn kms_listings_page_in_order(store: Arc<dyn Store>) {
    // Ids whose text order differs from their numeric order.
    let ids: [u128; 5] = [
        0xf000_0000_0000_0000_0000_0000_0000_0001,
        0x1,
        0xa000_0000_0000_0000_0000_0000_0000_0000,
        0x0000_0000_0000_0000_b000_0000_0000_0000,
        0x0000_0000_0000_0000_0000_0000_0000_0fff,
    ];
    for id in ids {
        create_key(&*store, &kms_key("us-east-1", id), None).await;
    }
    create_key(&*store, &kms_key("eu-west-1", 0x77), None).await;
    let mut elsewhere = kms_key("us-east-1", 0x78);
    elsewhere.account_id = "210987654321".into();
    create_key(&*store, &elsewhere, None).await;

    let mut expected: Vec<Uuid> = ids.iter().map(|id| Uuid::from_u128(*id)).collect();
    expected.sort_by_key(|id| id.to_string());
    let mut listed = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_kms_keys(&scope("us-east-1"), after, 2)
            .await
            .unwrap_or_else(|e| panic!("list_kms_keys: {e}"));
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        assert!(page.iter().all(|key| key.revision == 1));
        listed.extend(page.into_iter().map(|key| key.id));
    }
    assert_eq!(listed, expected);
    let other_region = store
        .list_kms_keys(&scope("eu-west-1"), None, 10)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(other_region, {
        let mut key = kms_key("eu-west-1", 0x77);
        key.revision = 1;
        vec![key]
    });

    let names = [
        "alias/b",
        "alias/a",
        "alias/B",
        "alias/c-1",
        "alias/c",
        "alias/é",
    ];
    for (index, name) in names.iter().enumerate() {
        let key = if index % 2 == 0 { ids[0] } else { ids[1] };
        store
            .put_kms_alias(&kms_alias("us-east-1", name, key), true)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    store
        .put_kms_alias(&kms_alias("eu-west-1", "alias/a", 0x77), true)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut elsewhere_alias = kms_alias("us-east-1", "alias/a", 0x78);
    elsewhere_alias.account_id = "210987654321".into();
    store
        .put_kms_alias(&elsewhere_alias, true)
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    async fn all_aliases(store: &dyn Store, key: Option<Uuid>) -> Vec<String> {
        let mut listed = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = store
                .list_kms_aliases(&scope("us-east-1"), key, after.as_deref(), 2)
                .await
                .unwrap_or_else(|e| panic!("list_kms_aliases: {e}"));
            assert!(page.len() <= 2);
            let Some(last) = page.last() else { break };
            after = Some(last.name.clone());
            assert!(
                page.iter()
                    .all(|alias| key.is_none_or(|key| alias.key_id == key))
            );
            listed.extend(page.into_iter().map(|alias| alias.name));
        }
        listed
    }
    let mut by_bytes: Vec<&str> = names.to_vec();
    by_bytes.sort_unstable();
    assert_eq!(all_aliases(&*store, None).await, by_bytes);
    let of_first: Vec<&str> = by_bytes
        .iter()
        .copied()
        .filter(|name| {
            names
                .iter()
                .position(|n| n == name)
                .is_some_and(|i| i % 2 == 0)
        })
        .collect();
    assert_eq!(
        all_aliases(&*store, Some(Uuid::from_u128(ids[0]))).await,
        of_first
    );
    assert!(
        all_aliases(&*store, Some(Uuid::from_u128(0x77)))
            .await
            .is_empty()
    );
}

/// Keys come due at their deletion or next rotation, whichever is first.
pub async fn kms_keys_come_due(store: Arc<dyn Store>) {
    let mut deleting = kms_key("us-east-1", 1);
    deleting.state = KeyState::PendingDeletion;
    deleting.deletion_at = Some(T0.plus_days(7));
    deleting.pending_window_days = Some(7);
    let mut rotating = kms_key("eu-west-1", 2);
    rotating.next_rotation_at = Some(T0.plus_days(3));
    let mut both = kms_key("us-east-1", 3);
    both.deletion_at = Some(T0.plus_days(30));
    both.next_rotation_at = Some(T0.plus_days(5));
    let idle = kms_key("us-east-1", 4);
    for key in [&deleting, &rotating, &both, &idle] {
        create_key(&*store, key, None).await;
    }
    let due = |days: i64, limit: usize| {
        let store = Arc::clone(&store);
        async move {
            let mut ids = store
                .kms_keys_due(T0.plus_days(days), limit)
                .await
                .unwrap_or_else(|e| panic!("kms_keys_due: {e}"));
            ids.sort();
            ids
        }
    };
    let id = Uuid::from_u128;
    assert!(due(2, 10).await.is_empty());
    assert_eq!(due(3, 10).await, [id(2)]);
    assert_eq!(due(5, 10).await, [id(2), id(3)]);
    assert_eq!(due(7, 10).await, [id(1), id(2), id(3)]);
    assert_eq!(due(1000, 2).await.len(), 2);
    // A save moves the due date.
    let mut loaded = load_key(&*store, 2)
        .await
        .unwrap_or_else(|| panic!("key 2 not found"));
    loaded.next_rotation_at = Some(T0.plus_days(100));
    store
        .save_kms_key(&loaded)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(due(7, 10).await, [id(1), id(3)]);
    let mut loaded = load_key(&*store, 3)
        .await
        .unwrap_or_else(|| panic!("key 3 not found"));
    loaded.deletion_at = None;
    loaded.next_rotation_at = None;
    store
        .save_kms_key(&loaded)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(due(1000, 10).await, [id(1), id(2)]);
}

pub(crate) fn sealed_value(bytes: &[u8]) -> StoredValue {
    StoredValue::sealed(ValueKind::Binary, bytes.to_vec())
}

/// Saves `after` (loaded as `before`) with the value of `version_id` replaced by its
/// rewrapped form `value`.
pub(crate) async fn save_rewrapped(
    store: &dyn Store,
    before: &Secret,
    after: &Secret,
    version_id: &str,
    value: &StoredValue,
) -> Result<(), StoreError> {
    let changes = VersionChanges::between(before, after);
    store
        .save(SecretWrite {
            secret: after,
            changes: &changes,
            new_values: &[],
            rewrapped: &[NewValue { version_id, value }],
            overwritten: &[],
        })
        .await
}

pub(crate) async fn stored(
    store: &dyn Store,
    secret: &Secret,
    version_id: &str,
) -> (ValueKind, bool, Vec<u8>) {
    let value = store
        .load_value(secret.id, version_id)
        .await
        .unwrap_or_else(|e| panic!("load_value: {e}"))
        .unwrap_or_else(|| panic!("no value for {version_id}"));
    (value.kind, value.sealed, value.bytes.to_vec())
}

/// Creates `secret` with the given values.
pub(crate) async fn create_with(
    store: &dyn Store,
    secret: &Secret,
    values: &[(&str, &StoredValue)],
) -> Secret {
    let new_values: Vec<NewValue<'_>> = values
        .iter()
        .map(|(version_id, value)| NewValue { version_id, value })
        .collect();
    store
        .create(secret, &new_values, &[])
        .await
        .unwrap_or_else(|e| panic!("create: {e}"));
    store
        .load_by_arn(&secret.arn)
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("created secret {} not found", secret.arn))
}

/// Whether a value is sealed is stored with it, on create, save and promote.
pub async fn sealed_flags_round_trip(store: Arc<dyn Store>) {
    let sealed = sealed_value(&[0, 1, 2, 3]);
    let plain = value("plain");
    let before = create_with(
        &*store,
        &with_version(with_version(secret("us-east-1", "db"), "v1"), "v2"),
        &[("v1", &sealed), ("v2", &plain)],
    )
    .await;
    assert_eq!(
        stored(&*store, &before, "v1").await,
        (ValueKind::Binary, true, vec![0, 1, 2, 3])
    );
    assert_eq!(
        stored(&*store, &before, "v2").await,
        (ValueKind::String, false, b"plain".to_vec())
    );
    let after = with_version(before.clone(), "v3");
    let third = sealed_value(b"third");
    save(
        &*store,
        &before,
        &after,
        &[NewValue {
            version_id: "v3",
            value: &third,
        }],
    )
    .await
    .unwrap_or_else(|e| panic!("save: {e}"));
    assert_eq!(
        stored(&*store, &before, "v3").await,
        (ValueKind::Binary, true, b"third".to_vec())
    );
}

/// A rewrapped value replaces the stored form of its version, and only that.
pub async fn rewrapped_values_replace_their_version_only(store: Arc<dyn Store>) {
    let (one, two) = (value("one"), value("two"));
    let before = create_with(
        &*store,
        &with_version(with_version(secret("us-east-1", "db"), "v1"), "v2"),
        &[("v1", &one), ("v2", &two)],
    )
    .await;
    let mut after = before.clone();
    after.kms_key_id = Some("alias/other".into());
    let rewrapped = sealed_value(b"one, sealed");
    save_rewrapped(&*store, &before, &after, "v1", &rewrapped)
        .await
        .unwrap_or_else(|e| panic!("save: {e}"));
    assert_eq!(
        stored(&*store, &before, "v1").await,
        (ValueKind::Binary, true, b"one, sealed".to_vec())
    );
    assert_eq!(
        stored(&*store, &before, "v2").await,
        (ValueKind::String, false, b"two".to_vec())
    );
    let loaded = store
        .load_by_arn(&before.arn)
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("secret vanished"));
    assert_eq!(loaded.revision, before.revision + 1);
    assert_eq!(loaded.kms_key_id.as_deref(), Some("alias/other"));

    // Rewrapping a version that does not exist fails and writes nothing.
    let mut next = loaded.clone();
    next.description = Some("not saved".into());
    let changes = VersionChanges::between(&loaded, &next);
    let result = store
        .save(SecretWrite {
            secret: &next,
            changes: &changes,
            new_values: &[],
            rewrapped: &[
                NewValue {
                    version_id: "v2",
                    value: &rewrapped,
                },
                NewValue {
                    version_id: "v9",
                    value: &rewrapped,
                },
            ],
            overwritten: &[],
        })
        .await;
    assert!(matches!(result, Err(StoreError::Corrupt(_))), "{result:?}");
    let unchanged = store
        .load_by_arn(&before.arn)
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("secret vanished"));
    assert_eq!(unchanged, loaded);
    assert_eq!(
        stored(&*store, &before, "v2").await,
        (ValueKind::String, false, b"two".to_vec())
    );

    // Promotion rewraps the primary's values too.
    let mut replicated = loaded.clone();
    replicated.replicas = vec![in_sync_replica("us-west-2")];
    save(&*store, &loaded, &replicated, &[])
        .await
        .unwrap_or_else(|e| panic!("save: {e}"));
    let primary = store
        .load_by_arn(&before.arn)
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("secret vanished"));
    let mut without = primary.clone();
    without.replicas.clear();
    let mut promoted = with_version(secret("us-west-2", "db"), "v1");
    promoted.arn = primary.replica_arn("us-west-2");
    let copied = sealed_value(b"copied");
    let two_sealed = sealed_value(b"two, sealed");
    store
        .promote(
            SecretWrite {
                secret: &without,
                changes: &VersionChanges::default(),
                new_values: &[],
                rewrapped: &[NewValue {
                    version_id: "v2",
                    value: &two_sealed,
                }],
                overwritten: &[],
            },
            &promoted,
            &[NewValue {
                version_id: "v1",
                value: &copied,
            }],
        )
        .await
        .unwrap_or_else(|e| panic!("promote: {e}"));
    assert_eq!(
        stored(&*store, &before, "v2").await,
        (ValueKind::Binary, true, b"two, sealed".to_vec())
    );
    let standalone = store
        .load_by_arn(&promoted.arn)
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("promoted secret not found"));
    assert_eq!(
        stored(&*store, &standalone, "v1").await,
        (ValueKind::Binary, true, b"copied".to_vec())
    );
}

/// Primaries with a version still in the clear are found, in any scope; replica records
/// and sealed secrets are not.
pub async fn secrets_with_plain_values_are_found(store: Arc<dyn Store>) {
    let (sealed, plain) = (sealed_value(b"sealed"), value("plain"));
    create_with(
        &*store,
        &with_version(secret("us-east-1", "sealed"), "v1"),
        &[("v1", &sealed)],
    )
    .await;
    let mixed = create_with(
        &*store,
        &with_version(with_version(secret("us-east-1", "mixed"), "v1"), "v2"),
        &[("v1", &sealed), ("v2", &plain)],
    )
    .await;
    let mut replicated = with_version(secret("eu-west-1", "replicated"), "v1");
    replicated.replicas = vec![in_sync_replica("us-west-2")];
    create_with(&*store, &replicated, &[("v1", &plain)]).await;
    create(&*store, &secret("us-east-1", "empty")).await;

    let mut found = store
        .secrets_with_plain_values(10)
        .await
        .unwrap_or_else(|e| panic!("secrets_with_plain_values: {e}"));
    found.sort();
    let mut expected = vec![mixed.arn.clone(), replicated.arn.clone()];
    expected.sort();
    assert_eq!(found, expected);
    assert_eq!(
        store
            .secrets_with_plain_values(1)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .len(),
        1
    );

    // Sealing the last plain value takes the secret off the list.
    let changes = VersionChanges::default();
    store
        .save(SecretWrite {
            secret: &mixed,
            changes: &changes,
            new_values: &[],
            rewrapped: &[NewValue {
                version_id: "v2",
                value: &sealed,
            }],
            overwritten: &[],
        })
        .await
        .unwrap_or_else(|e| panic!("save: {e}"));
    assert_eq!(
        store
            .secrets_with_plain_values(10)
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        [replicated.arn.clone()]
    );
}

/// Generates one `#[tokio::test]` per conformance test for a backend. `$make_store` gives the
/// store and anything that must outlive it.
macro_rules! conformance_tests {
    ($make_store:expr) => {
        $crate::store::conformance::conformance_tests!(@tests $make_store;
            created_secrets_load_by_name_and_arn,
            names_are_unique_per_account_and_region,
            saves_are_compare_and_swap,
            removed_versions_lose_their_values,
            deletes_are_compare_and_swap,
            access_days_only_move_forward_and_keep_the_revision,
            pending_deletions_come_due,
            racing_saves_have_one_winner,
            job_claims_are_exclusive_until_the_lease_ends,
            racing_job_claims_have_one_winner,
            settings_keep_their_first_value,
            listings_page_in_byte_order,
            replicas_follow_their_primary,
            free_text_is_kept_as_given,
            listings_are_ordered_and_resume_after_a_position,
            replicas_are_views_of_their_primary,
            replicas_overwrite_only_what_was_seen,
            promotion_replaces_the_replica_with_a_secret,
            kms_keys_round_trip_and_are_compare_and_swap,
            kms_key_creation_with_a_taken_alias_writes_nothing,
            racing_kms_key_creations_agree_on_one_key,
            kms_aliases_are_created_and_repointed,
            kms_listings_page_in_order,
            kms_keys_come_due,
            sealed_flags_round_trip,
            rewrapped_values_replace_their_version_only,
            secrets_with_plain_values_are_found,
            users_round_trip_with_unique_names_per_account,
            user_saves_and_deletes_are_compare_and_swap,
            access_keys_round_trip_and_go_with_their_user,
            user_policies_are_put_listed_and_go_with_their_user,
            root_bootstrap_happens_once_per_account,
            racing_root_bootstraps_agree_on_one_key,
            audit_events_append_and_filter_in_order,
            a_change_commits_its_event_and_a_conflict_none,
        );
    };
    (@tests $make_store:expr; $($test:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                // The second element (a temporary directory, say) lives until the test ends.
                let (store, _keep): (std::sync::Arc<dyn $crate::store::Store>, _) = $make_store;
                $crate::store::conformance::$test(store).await;
            }
        )+
    };
}
pub(crate) use conformance_tests;
