//! Concurrent writers on one secret: the version invariants hold and nothing is lost.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{TestServer, token};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_updates_in_memory() {
    concurrent_updates_keep_one_current_and_lose_no_version(TestServer::start().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_updates_on_disk() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store =
        coffer::store::sqlite::SqliteStore::open(&dir.path().join("coffer.db")).expect("open");
    concurrent_updates_keep_one_current_and_lose_no_version(
        TestServer::start_with(std::sync::Arc::new(store)).await,
    )
    .await;
}

async fn concurrent_updates_keep_one_current_and_lose_no_version(server: TestServer) {
    let client = server.client();
    common::create(&client, "hot", "initial").await;

    let writers = 32;
    let mut tasks = Vec::new();
    for n in 0..writers {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let version_id = token();
            let value = format!("value-{n}");
            let result = if n % 2 == 0 {
                client
                    .update_secret()
                    .secret_id("hot")
                    .secret_string(&value)
                    .client_request_token(&version_id)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("{e:?}"))
            } else {
                client
                    .put_secret_value()
                    .secret_id("hot")
                    .secret_string(&value)
                    .client_request_token(&version_id)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("{e:?}"))
            };
            result.map(|()| (version_id, value))
        }));
    }
    let mut acknowledged = BTreeMap::new();
    for task in tasks {
        let (version_id, value) = task
            .await
            .expect("no panic")
            .expect("every write is acknowledged");
        acknowledged.insert(version_id, value);
    }

    let listed = client
        .list_secret_version_ids()
        .secret_id("hot")
        .include_deprecated(true)
        .send()
        .await
        .expect("list");
    let ids: BTreeSet<String> = listed
        .versions()
        .iter()
        .filter_map(|v| v.version_id().map(str::to_owned))
        .collect();
    assert_eq!(
        ids.len(),
        writers + 1,
        "every acknowledged write is a version"
    );
    let holders = |label: &str| -> Vec<String> {
        listed
            .versions()
            .iter()
            .filter(|v| v.version_stages().iter().any(|s| s == label))
            .filter_map(|v| v.version_id().map(str::to_owned))
            .collect()
    };
    assert_eq!(holders("AWSCURRENT").len(), 1, "exactly one AWSCURRENT");
    assert_eq!(holders("AWSPREVIOUS").len(), 1, "exactly one AWSPREVIOUS");
    for (version_id, value) in &acknowledged {
        assert!(ids.contains(version_id));
        let got = client
            .get_secret_value()
            .secret_id("hot")
            .version_id(version_id)
            .send()
            .await
            .expect("read back");
        assert_eq!(got.secret_string(), Some(value.as_str()));
    }
    // Versions are listed newest first: the newest is current, and AWSPREVIOUS is on the one it
    // replaced.
    let newest: Vec<String> = listed
        .versions()
        .iter()
        .take(2)
        .filter_map(|v| v.version_id().map(str::to_owned))
        .collect();
    assert_eq!(holders("AWSCURRENT"), newest[..1]);
    assert_eq!(holders("AWSPREVIOUS"), newest[1..2]);
    assert!(acknowledged.contains_key(&newest[0]));
}
