//! The conformance tests of identities: users, access keys, user policies, bootstrap.

use std::sync::Arc;

use crate::clock::Timestamp;
use crate::service::identity::model::{AccessKeyRecord, UserPolicy, UserRecord};
use crate::store::{Store, StoreError};

const ACCOUNT: &str = "123456789012";
const T0: Timestamp = Timestamp::from_millis(1_700_000_000_000);

fn user(account_id: &str, id: &str, name: &str) -> UserRecord {
    UserRecord {
        id: id.into(),
        account_id: account_id.into(),
        name: name.into(),
        arn: format!("arn:aws:iam::{account_id}:user/{name}"),
        enabled: true,
        created_at: T0,
        revision: 1,
    }
}

fn key(id: &str, user_id: Option<&str>) -> AccessKeyRecord {
    AccessKeyRecord {
        id: id.into(),
        account_id: ACCOUNT.into(),
        user_id: user_id.map(str::to_owned),
        enabled: true,
        sealed_secret: format!("sealed secret of {id}").into_bytes(),
        sealed_session_token: None,
        expires_at: None,
        created_at: T0,
    }
}

fn policy(user_id: &str, name: &str, document: &str) -> UserPolicy {
    UserPolicy {
        user_id: user_id.into(),
        name: name.into(),
        document: document.into(),
        updated_at: T0,
    }
}

async fn load(store: &dyn Store, name: &str) -> Option<UserRecord> {
    store
        .load_user(ACCOUNT, name)
        .await
        .unwrap_or_else(|e| panic!("load_user: {e}"))
}

async fn key_ids(store: &dyn Store, user_id: Option<&str>) -> Vec<String> {
    store
        .list_access_keys(ACCOUNT, user_id)
        .await
        .unwrap_or_else(|e| panic!("list_access_keys: {e}"))
        .into_iter()
        .map(|key| key.id)
        .collect()
}

/// Users round trip, load by name regardless of case and by id, and list in name order per
/// account; names are unique per account regardless of case, ids are unique.
pub async fn users_round_trip_with_unique_names_per_account(store: Arc<dyn Store>) {
    let alice = user(ACCOUNT, "AIDAALICE", "alice");
    store
        .create_user(&alice)
        .await
        .unwrap_or_else(|e| panic!("create: {e}"));
    assert_eq!(load(&*store, "alice").await.as_ref(), Some(&alice));
    assert_eq!(load(&*store, "ALICE").await.as_ref(), Some(&alice));
    assert_eq!(
        store
            .load_user_by_id("AIDAALICE")
            .await
            .ok()
            .flatten()
            .as_ref(),
        Some(&alice)
    );
    assert_eq!(load(&*store, "bob").await, None);
    assert_eq!(store.load_user_by_id("AIDANONE").await.ok().flatten(), None);

    for (id, name) in [("AIDAOTHER", "alice"), ("AIDAOTHER", "Alice")] {
        assert!(matches!(
            store.create_user(&user(ACCOUNT, id, name)).await,
            Err(StoreError::NameTaken)
        ));
    }
    assert!(matches!(
        store
            .create_user(&user(ACCOUNT, "AIDAALICE", "carol"))
            .await,
        Err(StoreError::IdTaken)
    ));
    // Another account may have its own alice.
    store
        .create_user(&user("210987654321", "AIDAALICE2", "alice"))
        .await
        .unwrap_or_else(|e| panic!("other account: {e}"));
    store
        .create_user(&user(ACCOUNT, "AIDABOB", "bob"))
        .await
        .unwrap_or_else(|e| panic!("bob: {e}"));
    store
        .create_user(&user(ACCOUNT, "AIDAADAM", "Adam"))
        .await
        .unwrap_or_else(|e| panic!("Adam: {e}"));
    let names: Vec<String> = store
        .list_users(ACCOUNT)
        .await
        .unwrap_or_else(|e| panic!("list: {e}"))
        .into_iter()
        .map(|user| user.name)
        .collect();
    assert_eq!(names, ["Adam", "alice", "bob"]);
}

/// Saves and deletes of users are compare-and-swap on the revision.
pub async fn user_saves_and_deletes_are_compare_and_swap(store: Arc<dyn Store>) {
    let alice = user(ACCOUNT, "AIDAALICE", "alice");
    store
        .create_user(&alice)
        .await
        .unwrap_or_else(|e| panic!("create: {e}"));
    let mut disabled = alice.clone();
    disabled.enabled = false;
    store
        .save_user(&disabled)
        .await
        .unwrap_or_else(|e| panic!("save: {e}"));
    let loaded = load(&*store, "alice")
        .await
        .unwrap_or_else(|| panic!("alice"));
    assert!(!loaded.enabled);
    assert_eq!(loaded.revision, 2);
    // A save from the old revision loses.
    assert!(matches!(
        store.save_user(&alice).await,
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        store.delete_user(&alice.id, 1).await,
        Err(StoreError::Conflict)
    ));
    assert!(
        load(&*store, "alice")
            .await
            .is_some_and(|user| !user.enabled)
    );
    store
        .delete_user(&alice.id, 2)
        .await
        .unwrap_or_else(|e| panic!("delete: {e}"));
    assert_eq!(load(&*store, "alice").await, None);
    assert!(matches!(
        store.delete_user(&alice.id, 2).await,
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        store.save_user(&loaded).await,
        Err(StoreError::Conflict)
    ));
}

/// Access keys round trip, belong to a user or the root, are enabled and disabled, deleted,
/// and go with their user; a key of a missing user is refused.
pub async fn access_keys_round_trip_and_go_with_their_user(store: Arc<dyn Store>) {
    store
        .create_user(&user(ACCOUNT, "AIDAALICE", "alice"))
        .await
        .unwrap_or_else(|e| panic!("create: {e}"));
    let mut temporary = key("ASIATEMP", Some("AIDAALICE"));
    temporary.sealed_session_token = Some(b"sealed token".to_vec());
    temporary.expires_at = Some(T0.plus_days(1));
    for record in [
        key("AKIAB", Some("AIDAALICE")),
        key("AKIAA", Some("AIDAALICE")),
        temporary.clone(),
        key("AKIAROOT", None),
    ] {
        store
            .create_access_key(&record)
            .await
            .unwrap_or_else(|e| panic!("create {}: {e}", record.id));
    }
    assert_eq!(
        store.load_access_key("ASIATEMP").await.ok().flatten(),
        Some(temporary)
    );
    assert_eq!(store.load_access_key("AKIANONE").await.ok().flatten(), None);
    assert_eq!(
        key_ids(&*store, Some("AIDAALICE")).await,
        ["AKIAA", "AKIAB", "ASIATEMP"]
    );
    assert_eq!(key_ids(&*store, None).await, ["AKIAROOT"]);

    assert!(matches!(
        store.create_access_key(&key("AKIAA", None)).await,
        Err(StoreError::IdTaken)
    ));
    assert!(matches!(
        store
            .create_access_key(&key("AKIAORPHAN", Some("AIDANOBODY")))
            .await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        store.load_access_key("AKIAORPHAN").await.ok().flatten(),
        None
    );

    assert_eq!(
        store.set_access_key_enabled("AKIAA", false).await.ok(),
        Some(true)
    );
    assert_eq!(
        store
            .load_access_key("AKIAA")
            .await
            .ok()
            .flatten()
            .map(|key| key.enabled),
        Some(false)
    );
    assert_eq!(
        store.set_access_key_enabled("AKIAA", true).await.ok(),
        Some(true)
    );
    assert_eq!(
        store.set_access_key_enabled("AKIANONE", false).await.ok(),
        Some(false)
    );

    assert_eq!(store.delete_access_key("AKIAB").await.ok(), Some(true));
    assert_eq!(store.delete_access_key("AKIAB").await.ok(), Some(false));
    assert_eq!(
        key_ids(&*store, Some("AIDAALICE")).await,
        ["AKIAA", "ASIATEMP"]
    );

    // Deleting the user deletes its keys (not the root's).
    store
        .delete_user("AIDAALICE", 1)
        .await
        .unwrap_or_else(|e| panic!("delete: {e}"));
    assert_eq!(store.load_access_key("AKIAA").await.ok().flatten(), None);
    assert_eq!(store.load_access_key("ASIATEMP").await.ok().flatten(), None);
    assert_eq!(
        key_ids(&*store, Some("AIDAALICE")).await,
        Vec::<String>::new()
    );
    assert_eq!(key_ids(&*store, None).await, ["AKIAROOT"]);
}

/// User policies are put (created or replaced), listed in name order, deleted, and go with
/// their user; a policy of a missing user is refused.
pub async fn user_policies_are_put_listed_and_go_with_their_user(store: Arc<dyn Store>) {
    store
        .create_user(&user(ACCOUNT, "AIDAALICE", "alice"))
        .await
        .unwrap_or_else(|e| panic!("create: {e}"));
    for record in [
        policy("AIDAALICE", "write", "{\"w\":1}"),
        policy("AIDAALICE", "read", "{\"r\":1}"),
        policy("AIDAALICE", "read", "{\"r\":2}"),
    ] {
        store
            .put_user_policy(&record)
            .await
            .unwrap_or_else(|e| panic!("put: {e}"));
    }
    let listed = store
        .list_user_policies("AIDAALICE")
        .await
        .unwrap_or_else(|e| panic!("list: {e}"));
    assert_eq!(
        listed,
        [
            policy("AIDAALICE", "read", "{\"r\":2}"),
            policy("AIDAALICE", "write", "{\"w\":1}")
        ]
    );
    assert!(matches!(
        store
            .put_user_policy(&policy("AIDANOBODY", "p", "{}"))
            .await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        store.delete_user_policy("AIDAALICE", "write").await.ok(),
        Some(true)
    );
    assert_eq!(
        store.delete_user_policy("AIDAALICE", "write").await.ok(),
        Some(false)
    );
    store
        .delete_user("AIDAALICE", 1)
        .await
        .unwrap_or_else(|e| panic!("delete: {e}"));
    // A new user with the old id (which cannot happen with random ids) starts with none.
    store
        .create_user(&user(ACCOUNT, "AIDAALICE", "alice"))
        .await
        .unwrap_or_else(|e| panic!("create again: {e}"));
    assert_eq!(
        store
            .list_user_policies("AIDAALICE")
            .await
            .ok()
            .map(|p| p.len()),
        Some(0)
    );
}

/// The root key of an account is bootstrapped once, ever: later calls write nothing and name
/// the first key, even after it is deleted; other accounts bootstrap on their own.
pub async fn root_bootstrap_happens_once_per_account(store: Arc<dyn Store>) {
    let first = store
        .bootstrap_root_key(&key("AKIAFIRST", None))
        .await
        .unwrap_or_else(|e| panic!("bootstrap: {e}"));
    assert!(first.created);
    assert_eq!(first.access_key_id, "AKIAFIRST");
    let again = store
        .bootstrap_root_key(&key("AKIASECOND", None))
        .await
        .unwrap_or_else(|e| panic!("bootstrap again: {e}"));
    assert!(!again.created);
    assert_eq!(again.access_key_id, "AKIAFIRST");
    assert_eq!(
        store.load_access_key("AKIASECOND").await.ok().flatten(),
        None
    );
    assert_eq!(key_ids(&*store, None).await, ["AKIAFIRST"]);

    assert_eq!(store.delete_access_key("AKIAFIRST").await.ok(), Some(true));
    let after_delete = store
        .bootstrap_root_key(&key("AKIATHIRD", None))
        .await
        .unwrap_or_else(|e| panic!("bootstrap after delete: {e}"));
    assert!(!after_delete.created);
    assert_eq!(key_ids(&*store, None).await, Vec::<String>::new());

    let mut other = key("AKIAOTHER", None);
    other.account_id = "210987654321".into();
    let other = store
        .bootstrap_root_key(&other)
        .await
        .unwrap_or_else(|e| panic!("other account: {e}"));
    assert!(other.created);
}

/// Racing bootstraps (as from nodes starting together) agree on one key, and only it exists.
pub async fn racing_root_bootstraps_agree_on_one_key(store: Arc<dyn Store>) {
    let racers: Vec<_> = (0..8)
        .map(|n| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .bootstrap_root_key(&key(&format!("AKIARACER{n}"), None))
                    .await
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for racer in racers {
        match racer.await {
            Ok(Ok(outcome)) => outcomes.push(outcome),
            other => panic!("a bootstrap failed: {other:?}"),
        }
    }
    assert_eq!(outcomes.iter().filter(|outcome| outcome.created).count(), 1);
    let winner = outcomes[0].access_key_id.clone();
    assert!(
        outcomes
            .iter()
            .all(|outcome| outcome.access_key_id == winner)
    );
    assert_eq!(key_ids(&*store, None).await, [winner]);
}
